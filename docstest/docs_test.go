// Package docstest runs the docs: every command block of README.md and every request of
// docs/API.md, against a stack the test starts itself as `make demo` would (PostgreSQL, a
// Temporal dev server, the worker, the web page, the codec server; payloads encrypted), and
// checks each answer's status and the shape the docs show. A block that cannot run in a test
// says so with a marker right before it (see markerLine); any other block that does not run
// as written fails the test, so the docs cannot drift from the code.
package docstest

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The clocks the test runs the docs' campaigns on, by the docs' own sed edit of the plan:
// the demo's closed hanoi-2021 a year in 12 s (the demo takes two minutes), the README's
// hanoi-try a year in two minutes (the README: 20), docs/API.md's hanoi-2021-api a year in
// four minutes (API.md: an hour).
const (
	closedScale = "2628000"
	tryScale    = "262800"
	apiScale    = "131400"
)

func TestDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole stack")
	}
	start := time.Now()
	readme := readBlocks(t, filepath.Join(repoRoot(t), "README.md"), "README.md")
	api := readBlocks(t, filepath.Join(repoRoot(t), "docs/API.md"), "docs/API.md")

	s := startStack(t)
	t.Logf("stack started in %s", time.Since(start).Round(time.Millisecond))

	// What make demo leaves: hanoi-2021 run to its close (here without the simulated field,
	// on a faster clock).
	sh := s.newShell("demo")
	for _, l := range []string{
		". .dev/env && sed -e 's/^  scale: 262800$/  scale: " + closedScale + "/' plans/hanoi-2021/plan.yaml > plans/hanoi-2021/demo.yaml",
		". .dev/env && starter launch plans/hanoi-2021/demo.yaml --wait",
	} {
		if r := sh.run(t, l, 3*time.Minute); r.code != 0 {
			t.Fatalf("%s: %s", l, r)
		}
	}
	s.waitStatus(t, "hanoi-2021", func(line string) bool { return strings.Contains(line, " closed ") })
	s.addOfficer(t)
	t.Logf("hanoi-2021 closed %s after the start", time.Since(start).Round(time.Millisecond))

	t.Run("README", func(t *testing.T) {
		t.Parallel()
		testReadme(t, s, readme)
	})
	t.Run("API", func(t *testing.T) {
		t.Parallel()
		testAPI(t, s, api)
	})
}

func repoRoot(t *testing.T) string {
	r, err := testenv.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var statusLine = regexp.MustCompile(`^(\S+)\s+(\S+)\s+campaign date (\d{4}-\d{2}-\d{2})`)

// waitStatus waits until `starter status <campaign>`'s first line satisfies ok.
func (s *stack) waitStatus(t *testing.T, campaign string, ok func(string) bool) {
	t.Helper()
	sh := s.newShell("status-" + campaign)
	deadline := time.Now().Add(4 * time.Minute)
	var last result
	for time.Now().Before(deadline) {
		last = sh.run(t, ". .dev/env && starter status "+campaign, time.Minute)
		if last.code == 0 {
			if first := strings.SplitN(last.stdout, "\n", 2)[0]; ok(first) {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("starter status %s did not come to what the test waits for: %s", campaign, last)
}

// waitDate waits until the campaign's date (as `starter status` prints it) is after day.
func (s *stack) waitDate(t *testing.T, campaign, day string) {
	t.Helper()
	s.waitStatus(t, campaign, func(line string) bool {
		m := statusLine.FindStringSubmatch(line)
		return m != nil && m[3] > day
	})
}

func testReadme(t *testing.T, s *stack, blocks []block) {
	const campaignDay = "thành phố giao thêm chỉ tiêu"
	tamperAddr := freeAddr(t)
	r := &runner{t: t, s: s, sh: s.newShell("readme"), used: map[string]bool{},
		rewrites: map[string]rewrite{
			`sed -e 's/^id: hanoi-2021$/id: hanoi-try/' -e 's/^  scale: 262800$/  scale: 26280/' plans/hanoi-2021/plan.yaml > plans/hanoi-2021/try.yaml`: {
				why: "the demo's clock (a year in two minutes), not the README's slower one, so that the test waits less",
				run: []string{`sed -e 's/^id: hanoi-2021$/id: hanoi-try/' -e 's/^  scale: 262800$/  scale: ` + tryScale + `/' plans/hanoi-2021/plan.yaml > plans/hanoi-2021/try.yaml`},
			},
			// The README: give hanoi-try wherever an example says hanoi-2021 and the example
			// needs a running campaign (hanoi-2021 has closed).
			`starter plan diff hanoi-2021 plans/hanoi-2021/revised.yaml`: {why: "a running campaign",
				run: []string{`starter plan diff hanoi-try plans/hanoi-2021/revised.yaml`}},
			`starter plan revise hanoi-2021 plans/hanoi-2021/revised.yaml --from 2021-06-01 --reason "` + campaignDay + `" --check`: {why: "a running campaign",
				run: []string{`starter plan revise hanoi-try plans/hanoi-2021/revised.yaml --from 2021-06-01 --reason "` + campaignDay + `" --check`}},
			`starter plan revise hanoi-2021 plans/hanoi-2021/revised.yaml --from 2021-06-01 --reason "` + campaignDay + `"`: {why: "a running campaign",
				run: []string{`starter plan revise hanoi-try plans/hanoi-2021/revised.yaml --from 2021-06-01 --reason "` + campaignDay + `"`}},
			`starter audit verify hanoi-2021          # after someone disabled the triggers and edited row 3`: {
				why: "a campaign whose row the test has edited (hanoi-try: hanoi-2021 is read by the API's examples meanwhile)",
				run: []string{`starter audit verify hanoi-try`}, output: [2]string{"hanoi-2021", "hanoi-try"}},
			`starter users import hanoi-2022 --out accounts.csv`: {why: "a campaign that exists",
				run: []string{`starter users import hanoi-2021 --out accounts.csv`}},
			`starter users list [--role district] [--json]`: {why: "each form",
				run: []string{`starter users list`, `starter users list --role district --json`}},
			`starter users disable ba-vi | enable ba-vi | reset-password ba-vi`: {why: "each form",
				run: []string{`starter users disable ba-vi`, `starter users enable ba-vi`, `starter users reset-password ba-vi`}},
			`starter serve --addr 127.0.0.1:8080 [--users users.yaml] [--temporal-ui URL]`: {
				why: "a server of its own on a free port, stopped once it answers /healthz",
				run: []string{`starter serve --addr ` + tamperAddr + ` --users .dev/web-users.yaml --temporal-ui http://127.0.0.1:8233 & pid=$!; ` +
					`curl -sf --retry 100 --retry-connrefused --retry-delay 0 --retry-max-time 60 http://` + tamperAddr + `/healthz; rc=$?; kill $pid; wait $pid; [ $rc = 0 ]`}},
		},
		before: map[string]func(*testing.T){
			// A coordinator edits a copy of the plan: here the city's share goes up a tenth.
			`starter plan diff hanoi-2021 plans/hanoi-2021/revised.yaml`: func(t *testing.T) {
				b, err := os.ReadFile(filepath.Join(s.dir, "plans/hanoi-2021/try.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				revised := strings.Replace(string(b), "\n  share: 0.01\n", "\n  share: 0.011\n", 1)
				if revised == string(b) {
					t.Fatal("the sample plan has no `  share: 0.01` line to revise")
				}
				s.write("plans/hanoi-2021/revised.yaml", revised, 0o644)
			},
			// The README: the samples "once status shows a campaign date after 26 March" (their
			// last line's date; the leads' conference is held on 22 March).
			`go run ./starter import hanoi-try samples/enrolments.csv`: func(t *testing.T) {
				s.waitDate(t, "hanoi-try", "2021-03-26")
			},
			`starter audit verify hanoi-2021          # after someone disabled the triggers and edited row 3`: func(t *testing.T) {
				s.tamper(t, "hanoi-try", 3)
			},
		},
		// What the README says of a command's output (in its comment or around it).
		check: map[string]func(*testing.T, result){
			`go run ./starter status hanoi-2021 --unit 271`: shows(`(?m)^district 271 Huyện Ba Vì: target \d+, enrolled \d+ \(`, `level\s+code\s+name\s+target\s+enrolled\s+%`, `commune\s+\d{5}\s`),
			`go run ./starter report hanoi-2021 --format csv > report.csv`: func(t *testing.T, _ result) {
				b, err := os.ReadFile(filepath.Join(s.dir, "report.csv"))
				if err != nil || !strings.Contains(string(b), "hanoi-2021") || strings.Count(string(b), "\n") < 30 {
					t.Errorf("report.csv is not the report: %v\n%.500s", err, b)
				}
			},
			`go run ./starter status hanoi-try`: shows(`(?m)^hanoi-try\s+\S+\s+campaign date 2021-\d\d-\d\d\s+enrolled \d+ of \d+`),
			`go run ./starter agents move hanoi-try DL-00001-4 --to 00004 --as DL-00004-9 --reason "điều chuyển sang phường Trúc Bạch"`: shows(
				`(?m)^DL-00001-4 moved from commune 00001 to 00004 as DL-00004-9 on 2021-\d\d-\d\d: \d+ open follow-ups, \d+ of its quota and \d+ participants handed to the commune's agents; a quota of [1-9]\d* taken from \d+ others? in 00004 \(the communes' targets unchanged\)`),
			`go run ./starter agents contracts hanoi-try DL-00004-9`: shows(
				`(?m)^hanoi-try\s+DL-00001-4\s+00001\s+agent\s+2021-01-01\s+2021-\d\d-\d\d\s+left\s+moved to commune 00004 as DL-00004-9: điều chuyển sang phường Trúc Bạch$`,
				`(?m)^hanoi-try\s+DL-00004-9\s+00004\s+agent\s+2021-\d\d-\d\d\s+runs\s+active\s*$`),
			`go run ./starter agents roster hanoi-2021 --out roster-2022.csv`: func(t *testing.T, res result) {
				shows(`(?m)^\d+ agents and \d+ staff members of campaign hanoi-2021 \(closed\) written to roster-2022.csv$`)(t, res)
				b, err := os.ReadFile(filepath.Join(s.dir, "roster-2022.csv"))
				if err != nil || !strings.HasPrefix(string(b), "code,commune_code,kind,post_office,full_name,phone,weight\n") || strings.Count(string(b), "\n") < 2000 {
					t.Errorf("roster-2022.csv is not the roster: %v\n%.300s", err, b)
				}
			},
			`go run ./starter import hanoi-try samples/enrolments.csv`:                                   shows(`enrolments.csv: 3 rows: 3 new, 0 duplicate, 0 rejected`),
			`go run ./starter participants hanoi-try samples/participants.csv`:                           shows(`participants.csv: 2 people: 2 joined the register`),
			`go run ./starter payments hanoi-try samples/payments.csv`:                                   shows(`payments.csv: 2 receipts: 2 new, 0 recorded before; 0 flagged`),
			`go run ./starter event results hanoi-try 001-conference --attendance 180 samples/leads.csv`: shows(`001-conference: 3 leads: 3 new`),
			`go run ./starter outcomes hanoi-try samples/outcomes.csv`:                                   shows(`outcomes.csv: 2 rows: 2 new, 0 duplicate, 0 rejected; 2 follow-ups closed`),
			// "--detailed … shows each event with its payloads, decrypted"; without the codec
			// server they are ciphertext.
			`.tools/bin/temporal workflow show -w campaign:hanoi-2021 --detailed --codec-endpoint http://127.0.0.1:8081 --codec-auth "Bearer $(cat .dev/codec-token)"`: func(t *testing.T, res result) {
				shows(`input\[0\]\.campaign_id: hanoi-2021`)(t, res)
				if strings.Contains(res.stdout, "binary/encrypted") {
					t.Errorf("the codec server left payloads encrypted:\n%s", clip(res.stdout))
				}
				raw := s.newShell("raw").run(t, ". .dev/env; .tools/bin/temporal workflow show -w campaign:hanoi-2021 --detailed", time.Minute)
				if raw.code != 0 || !strings.Contains(raw.stdout, "binary/encrypted") {
					t.Errorf("without the codec server the payloads should be encrypted: %s", raw)
				}
			},
			`starter users add --name lan --role coordinator --with-token`: shows(`(?m)^one-time password: \S+`, `(?m)^API token: \S+`),
			`starter users import hanoi-2022 --out accounts.csv`: func(t *testing.T, res result) {
				shows(`added \d+ accounts`)(t, res)
				if b, err := os.ReadFile(filepath.Join(s.dir, "accounts.csv")); err != nil || strings.Count(string(b), "\n") < 100 {
					t.Errorf("accounts.csv: %v", err)
				}
			},
			`starter users list [--role district] [--json]`: shows(`(?m)^\[\{"name":"ba-vi","role":"district","districts":\["271"\]`),
			`starter audit verify --accounts`:               shows(`^audit log of the accounts: intact, \d+ rows`),
		},
	}
	r.runBlocks(blocks)
}

// shows checks that a command's output (stdout and stderr) matches every pattern.
func shows(patterns ...string) func(*testing.T, result) {
	return func(t *testing.T, res result) {
		t.Helper()
		for _, p := range patterns {
			if !regexp.MustCompile(p).MatchString(res.stdout + res.stderr) {
				t.Errorf("the output does not show /%s/:\n%s", p, res)
			}
		}
	}
}

// tamper edits the n-th audit row of a campaign as its owner, past the triggers, as the
// README's example of a broken chain says someone did.
func (s *stack) tamper(t *testing.T, campaign string, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	for _, q := range []string{
		`alter table audit_log disable trigger user`,
		`update audit_log set actor = actor || ' (edited)' where id = (select id from audit_log where campaign_id = $1 order by id offset $2 limit 1)`,
		`alter table audit_log enable trigger user`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{campaign, n - 1}
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
