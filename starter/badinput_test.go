package main

// Every bad input a coordinator can give — a plan (its YAML and its CSV files), an import file,
// a command line, an Update the campaign's validators refuse — listed with the error it must
// give, and checked to write nothing: every table of the schema is the same before and after
// (row counts and a checksum of the rows), and the histories of the campaign and of its review
// have no new event (a refused Update leaves no trace). The commands run in-process against a
// real PostgreSQL and a real Temporal dev server, with the worker in this process.

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"drives/activities"
	"drives/campaign"
	"drives/coordinator"
	"drives/imports"
	"drives/internal/fixture"
	"drives/internal/testenv"
	driveplan "drives/plan"
	"drives/workflows"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// badID is the campaign of the bad-input test: the fixture plan on a clock of half a campaign
// day per second, with an event on its second day (held within seconds), its other events
// moved to the autumn, and one review on 5 January that proposes every agent without an
// enrolment for termination and waits long for a decision. For the minutes the table takes,
// nothing is due: whatever changes, a bad input changed it.
const badID = "badinput-2021"

// badPeriod is the label of that review.
const badPeriod = "2021-01-05"

func badInputPlan(t *testing.T) string {
	t.Helper()
	dir := fixture.PlanDir(t)
	path := filepath.Join(dir, "plan.yaml")
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	plan := string(raw)
	for _, r := range [][2]string{
		{"id: " + fixture.CampaignID, "id: " + badID},
		{"scale: 1\n", "scale: 43200\n"},
		{"2021-03-01", "2021-10-01"}, {"2021-03-22", "2021-10-22"}, {"2021-04-01", "2021-11-01"}, {"2021-06-01", "2021-12-01"},
		{"events:\n", "events:\n  - id: early-d2d\n    kind: door_to_door\n    unit: \"00001\"\n    date: 2021-01-02\n    groups: [trader]\n"},
		{"sweep_every: 7d\n", "sweep_every: 200d\n"},
	} {
		require.Equal(t, 1, strings.Count(plan, r[0]), "fixture plan: %q", r[0])
		plan = strings.Replace(plan, r[0], r[1], 1)
	}
	plan += "review:\n  cron: \"0 0 5 1 *\"\n  policy:\n    terminate_after: 1\n    approval_wait: 300d\n"
	require.NoError(t, os.WriteFile(path, []byte(plan), 0o644))
	return path
}

// variant copies the plan's folder with one file changed (old → new, exactly once).
func variant(t *testing.T, planPath, file, old, new string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(filepath.Dir(planPath))
	require.NoError(t, err)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(planPath), e.Name()))
		require.NoError(t, err)
		if e.Name() == file {
			require.Equal(t, 1, strings.Count(string(b), old), "%s: %q", file, old)
			b = []byte(strings.Replace(string(b), old, new, 1))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644))
	}
	return filepath.Join(dir, "plan.yaml")
}

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	return p
}

// starter runs a command line of the CLI in this process, as `starter args…` would.
func starter(ctx context.Context, args ...string) (string, error) {
	root := rootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), err
}

// snapshot is every table of the schema: its row count and a checksum of its rows.
func snapshot(t *testing.T, _ context.Context, db *pgxpool.Pool) map[string]string {
	t.Helper()
	fp := testenv.Fingerprint(t, db)
	require.Contains(t, fp, "audit_log")
	return fp
}

// historyLength is the number of events in a workflow's history (its latest run).
func historyLength(t *testing.T, ctx context.Context, tc client.Client, workflowID string) int {
	t.Helper()
	n := 0
	it := tc.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		_, err := it.Next()
		require.NoError(t, err, workflowID)
		n++
	}
	return n
}

type badInput struct {
	name string
	args []string                        // a command line of starter
	send func(ctx context.Context) error // or a request as another client sends it
	want string                          // in the error: what is wrong and where
}

func TestBadInputsAreRefusedAndWriteNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// The services, and the worker in this process.
	srv := testenv.SharedDevServer(t)
	dbURL := testenv.NewDB(t)
	db, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	tc := srv.Client()
	w := worker.New(tc, campaign.TaskQueue, worker.Options{})
	workflows.Register(w, &activities.Activities{Pool: db, Temporal: tc})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	co := &coordinator.Coordinator{DB: db, Temporal: tc}
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("TEMPORAL_ADDRESS", srv.FrontendHostPort())
	t.Setenv("TEMPORAL_NAMESPACE", testenv.Namespace)
	t.Setenv("DRIVES_CODEC_KEYS", "")
	t.Setenv("DRIVES_USER", "tester")

	// The campaign, launched by the CLI; then an import recorded, and the review waiting for
	// decisions on its proposed terminations.
	plan := badInputPlan(t)
	_, err = starter(ctx, "launch", plan)
	require.NoError(t, err)
	enrolHeader := strings.Join(imports.Headers[imports.Enrolments], ",") + "\n"
	// Paid a year ahead (12m): the register's first renewal falls due in December, minutes away
	// on this clock, so no sweep of the register writes while the bad inputs are tried (paid
	// monthly, its sweep came on 17 January, half a minute after the launch, which a slow setup
	// reaches, and its audit row would land between a row's two snapshots).
	goodLine := "001000000001,Nguyễn Thị Một,0910000001,00001,00001-01,DL-00001-1,trader,1500000,other,12m,2021-01-01\n"
	goodFile := writeFile(t, "good.csv", enrolHeader+goodLine)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := co.Progress(ctx, badID)
		if assert.NoError(c, err) {
			assert.Equal(c, campaign.StatusRunning, p.Status)
		}
	}, time.Minute, 100*time.Millisecond)
	_, err = starter(ctx, "import", badID, goodFile)
	require.NoError(t, err)
	var batch string
	require.NoError(t, db.QueryRow(ctx, `select id from import_batches where campaign_id = $1`, badID).Scan(&batch))
	var pending []coordinator.Decision
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		pending, _, err = co.Attention(ctx, badID)
		if assert.NoError(c, err) {
			assert.NotEmpty(c, pending)
		}
	}, 2*time.Minute, 200*time.Millisecond, "the review of %s proposes terminations", badPeriod)
	require.Equal(t, badPeriod, pending[0].Period)
	agent := pending[0].Agent

	histories := []string{campaign.CampaignWorkflowID(badID), campaign.ReviewWorkflowID(badID, badPeriod)}
	decide := func(approve bool, d campaign.TerminationDecision) func(context.Context) error {
		return func(ctx context.Context) error { _, err := co.Decide(ctx, badID, badPeriod, approve, d); return err }
	}
	update := func(name string, arg any) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := coordinator.Update[any](ctx, co, badID, name, arg)
			return err
		}
	}
	leadsHeader := strings.Join(imports.Headers[imports.Leads], ",") + "\n"
	outcomesHeader := strings.Join(imports.Headers[imports.Outcomes], ",") + "\n"
	event := []string{"event", "add", badID, "--id", "new-conf", "--kind", "conference", "--unit", "001", "--groups", "trader"}

	rows := []badInput{
		// Plans: the YAML, its CSV files, and launching twice.
		{name: "plan: unknown field", args: []string{"launch", variant(t, plan, "plan.yaml", "name: Test drive", "name: Test drive\ncolour: blue")},
			want: "plan.yaml: line 3: unknown field colour (not part of a plan)"},
		{name: "plan: end before start", args: []string{"launch", variant(t, plan, "plan.yaml", "end: 2021-12-31", "end: 2020-12-31")},
			want: "plan.yaml: period.end: 2020-12-31 is not after period.start 2021-01-01"},
		{name: "plan: bad review cron", args: []string{"launch", variant(t, plan, "plan.yaml", `cron: "0 0 5 1 *"`, `cron: "0 0 5 13 *"`)},
			want: `plan.yaml: review.cron: "0 0 5 13 *": month field "13"`},
		{name: "plan: event in an unknown unit", args: []string{"launch", variant(t, plan, "plan.yaml", `unit: "00010"`, `unit: "99999"`)},
			want: `plan.yaml: events[2].unit: unknown unit "99999"`},
		// Revisions of the running campaign's plan: refused whole, before anything is staged.
		{name: "revise: a fixed setting", args: []string{"plan", "revise", badID, variant(t, plan, "plan.yaml", "sweep_every: 200d\n", "sweep_every: 100d\n"), "--reason", "x"},
			want: "follow_up.sweep_every: cannot change while the campaign runs"},
		{name: "revise: a held event removed", args: []string{"plan", "revise", badID,
			variant(t, plan, "plan.yaml", "  - id: early-d2d\n    kind: door_to_door\n    unit: \"00001\"\n    date: 2021-01-02\n    groups: [trader]\n", ""), "--reason", "x"},
			want: "events.early-d2d: was held; a held event stays in the plan"},
		{name: "revise: from a day past", args: []string{"plan", "revise", badID, variant(t, plan, "plan.yaml", "share: 0.01", "share: 0.02"), "--reason", "x", "--from", "2021-01-01"},
			want: "from: 2021-01-01 is before the campaign's day"},
		{name: "revise: a bad day", args: []string{"plan", "revise", badID, variant(t, plan, "plan.yaml", "share: 0.01", "share: 0.02"), "--reason", "x", "--from", "soon"},
			want: `--from "soon": a day as YYYY-MM-DD`},
		{name: "revise: without a reason", args: []string{"plan", "revise", badID, variant(t, plan, "plan.yaml", "share: 0.01", "share: 0.02")},
			want: "reason: say why the plan is revised (--reason)"},
		{name: "revise: another campaign's plan", args: []string{"plan", "revise", badID, variant(t, plan, "plan.yaml", "id: "+badID, "id: other-2021"), "--reason", "x"},
			want: `id: "other-2021" is not campaign ` + badID + `: a revision keeps its campaign's id`},
		{name: "plan: two documents", args: []string{"launch", variant(t, plan, "plan.yaml", "name: Test drive", "name: Test drive\n---\nid: other")},
			want: "plan.yaml: more than one YAML document"},
		{name: "plan CSV: roster names an unknown commune", args: []string{"launch", variant(t, plan, "roster.csv", "DL-00011-1,00011,", "DL-00011-1,00012,")},
			want: `roster.csv: line 12: commune_code: unknown commune "00012"`},
		{name: "plan CSV: roster with a phone number in the commune column",
			args: []string{"launch", variant(t, plan, "roster.csv", "DL-00011-1,00011,agent,no,Dương Văn Minh,0900000011,", "DL-00011-1,0900000011,agent,no,Dương Văn Minh,00011,")},
			want: "roster.csv: line 12: commune_code: unknown commune\n"}, // the phone number not repeated
		{name: "plan CSV: village labour force not a number", args: []string{"launch", variant(t, plan, "villages.csv", "00001,00001-02,Tổ dân phố 2,500,", "00001,00001-02,Tổ dân phố 2,five hundred,")},
			want: "villages.csv: line 3: labour_force: must be a whole number, 0 or more"},
		{name: "plan CSV: units with a wrong header", args: []string{"launch", variant(t, plan, "units.csv", "district_code,", "district,")},
			want: "plan rejected (1 problem):\n  units.csv: line 1: header: want"},
		{name: "plan: missing file", args: []string{"launch", variant(t, plan, "plan.yaml", "file: roster.csv", "file: staff.csv")},
			want: "/staff.csv: no such file or directory"}, // the path tried, beside the plan
		{name: "plan: launched again", args: []string{"launch", plan},
			want: "campaign " + badID + " is already running"},
		{name: "plan: changed under a launched id", args: []string{"launch", variant(t, plan, "plan.yaml", "prior_year_enrolled: 80", "prior_year_enrolled: 81")},
			want: "campaign " + badID + " already exists with a different plan"},

		// Import files.
		{name: "import: income below the minimum", args: []string{"import", badID, writeFile(t, "low.csv", enrolHeader+strings.Replace(goodLine, "1500000", "650000", 1))},
			want: "low.csv: line 2: monthly_income: 650000 VND is outside 700000–29800000 VND"},
		{name: "import: agent of another commune", args: []string{"import", badID, writeFile(t, "agent.csv", enrolHeader+strings.Replace(goodLine, "DL-00001-1", "DL-00010-1", 1))},
			want: `agent.csv: line 2: agent_code: agent "DL-00010-1" works in commune 00010, not 00001`},
		{name: "import: wrong header", args: []string{"import", badID, writeFile(t, "header.csv", strings.Replace(enrolHeader, "phone", "mobile", 1)+goodLine)},
			want: `header.csv: line 1: header: want "citizen_id,full_name,phone,commune_code,village_code,agent_code,target_group,monthly_income,subsidy_class,payment_mode,enrolled_on"`},
		{name: "import: date outside the period", args: []string{"import", badID, writeFile(t, "date.csv", enrolHeader+strings.Replace(goodLine, "2021-01-01", "2022-01-01", 1))},
			want: "date.csv: line 2: enrolled_on: 2022-01-01 is outside the campaign period"},
		{name: "import: unknown campaign", args: []string{"import", "no-such-campaign", goodFile},
			want: `unknown campaign "no-such-campaign"`},
		{name: "outcomes: not a lead", args: []string{"outcomes", badID, writeFile(t, "outcomes.csv", outcomesHeader+"001000000009,declined,2021-01-02\n")},
			want: "outcomes.csv: line 2: citizen_id: no lead of this campaign has this citizen ID"},
		{name: "outcomes: bad outcome", args: []string{"outcomes", badID, writeFile(t, "outcome.csv", outcomesHeader+"001000000001,enrolled,2021-01-02\n")},
			want: "outcome.csv: line 2: outcome: must be declined or unreachable"},
		{name: "event results: leads of another district", args: []string{"event", "results", badID, "early-d2d", "--attendance", "3",
			writeFile(t, "leads.csv", leadsHeader+"001000000002,Trần Văn Hai,0910000002,00010,00010-01,trader\n")},
			want: "leads.csv: line 2: commune_code: commune \"00010\" is in district 002, not the event's district 001"},
		{name: "event results: event not held yet", args: []string{"event", "results", badID, "conf-001", "--attendance", "3",
			writeFile(t, "early.csv", leadsHeader+"001000000002,Trần Văn Hai,0910000002,00001,00001-01,trader\n")},
			want: `event_id: event "conf-001" is not held yet`},
		{name: "event results: unknown event", args: []string{"event", "results", badID, "no-such-event", "--attendance", "3",
			writeFile(t, "none.csv", leadsHeader+"001000000002,Trần Văn Hai,0910000002,00001,00001-01,trader\n")},
			want: "campaign " + badID + ` has no event "no-such-event"`},

		// Command lines.
		{name: "CLI: not a campaign id", args: []string{"status", "Hanoi 2021"}, want: `campaign "Hanoi 2021": not a campaign id`},
		{name: "CLI: missing argument", args: []string{"import", badID}, want: "accepts 2 arg(s), received 1"},
		{name: "CLI: unknown flag", args: []string{"pause", badID, "--force"}, want: "unknown flag: --force"},
		{name: "CLI: bad date", args: append(slices.Clone(event), "--date", "2021-13-01"), want: `--date: "2021-13-01" is not a date`},
		{name: "CLI: missing required flag", args: []string{"event", "cancel", badID, "conf-001"}, want: `required flag(s) "reason" not set`},
		{name: "CLI: negative attendance", args: []string{"event", "results", badID, "early-d2d", "--attendance", "-3", goodFile},
			want: "--attendance: must not be negative"},
		{name: "CLI: blank reason", args: []string{"review", "reject", badID, badPeriod, agent, "--reason", " "}, want: "--reason: say why"},
		{name: "CLI: missing file", args: []string{"import", badID, "no-such-file.csv"}, want: "no-such-file.csv: no such file or directory"},
		{name: "CLI: bad report format", args: []string{"report", badID, "--format", "xml"}, want: `--format: "xml" is not table, csv, json or xlsx`},

		// Updates the campaign's validators refuse.
		{name: "Update: event in the past", args: append(slices.Clone(event), "--date", "2021-01-02"),
			want: "event.date: 2021-01-02 is already past in campaign time"},
		{name: "Update: event in an unknown district", args: append(slices.Clone(event), "--date", "2021-11-20", "--unit", "999"),
			want: `event.unit: unknown unit "999"`},
		{name: "Update: event outside the period", args: append(slices.Clone(event), "--date", "2022-02-01"),
			want: "event.date: 2022-02-01 is outside the period 2021-01-01..2021-12-31"},
		{name: "Update: event for an unknown group", args: append(slices.Clone(event[:len(event)-1]), "farmer", "--date", "2021-11-20"),
			want: `event.groups[0]: unknown target group "farmer"`},
		{name: "Update: event id taken", args: []string{"event", "add", badID, "--id", "conf-001", "--kind", "conference", "--unit", "001", "--groups", "trader", "--date", "2021-11-20"},
			want: `event.id: event "conf-001" already exists`},
		// Nobody named: the command refuses before sending (starter/main.go); the workflow's
		// validator refuses an Update without a name too.
		{name: "event without who", args: append(slices.Clone(event), "--date", "2021-11-20", "--by", ""),
			want: "who is acting? It is recorded in the audit log: give --by NAME"},
		{name: "Update: event without who", send: update(campaign.UpdateAddEvent, campaign.AddEventRequest{By: " ", Event: driveplan.EventSpec{
			ID: "new-conf", Kind: "conference", Unit: "001", Date: driveplan.Date{Y: 2021, M: 11, D: 20}, Groups: []string{"trader"}}}),
			want: "by: say who adds the event"},
		{name: "Update: cancel an unknown event", args: []string{"event", "cancel", badID, "no-such-event", "--reason", "x"},
			want: `event_id: unknown event "no-such-event"`},
		{name: "Update: cancel a held event", args: []string{"event", "cancel", badID, "early-d2d", "--reason", "rain"},
			want: `event_id: event "early-d2d" was due at 2021-01-02 09:00 and is held already`},
		{name: "Update: cancel without a reason", send: update(campaign.UpdateCancelEvent, campaign.CancelEventRequest{EventID: "conf-001", By: "tester"}),
			want: "reason: say why the event is cancelled"},
		{name: "Update: resume a running campaign", args: []string{"resume", badID}, want: "campaign is not paused"},
		{name: "Update: cancel the campaign without a reason", send: update(campaign.UpdateCancel, campaign.SteerRequest{By: "tester"}),
			want: "reason: say why the campaign is cancelled"},
		{name: "Update: pause without who", send: update(campaign.UpdatePause, campaign.SteerRequest{By: " "}), want: "by: say who steers the campaign"},
		{name: "Update: import recorded twice", send: update(campaign.UpdateRecordImport, campaign.ImportRequest{BatchID: batch, By: "tester"}),
			want: "batch_id: batch " + batch + " was recorded already"},
		{name: "Update: import with a bad batch ID", send: update(campaign.UpdateRecordImport, campaign.ImportRequest{BatchID: "../etc", By: "tester"}),
			want: `batch_id: "../etc" is not a batch ID`},
		{name: "Update: event results with a bad batch ID", send: update(campaign.UpdateRecordEventResult, campaign.EventResultRequest{EventID: "early-d2d", BatchID: "x", By: "tester"}),
			want: `batch_id: "x" is not a batch ID`},
		{name: "Update: approve an agent that is not pending", args: []string{"review", "approve", badID, badPeriod, "CB-00001", "--reason", "weak"},
			want: `agent: "CB-00001" has no termination pending in review ` + badPeriod},
		{name: "Update: reject an unknown agent", args: []string{"review", "reject", badID, badPeriod, "NO-SUCH", "--reason", "x"},
			want: `agent: "NO-SUCH" has no termination pending in review ` + badPeriod},
		{name: "Update: approve without a reason", send: decide(true, campaign.TerminationDecision{Agent: agent, By: "tester"}),
			want: "reason: say why"},
		{name: "Update: reject without who", send: decide(false, campaign.TerminationDecision{Agent: agent, Reason: "doing fine"}),
			want: "by: say who decides"},
	}

	// auditSince names the audit rows written after the one numbered last: what changed the
	// database when a refusal should have written nothing (a writer on the campaign's clock).
	auditSince := func(t *testing.T, ctx context.Context, last int64) []string {
		rows, err := db.Query(ctx, `select action || ' ' || entity || ' ' || entity_key from audit_log where id > $1 order by id`, last)
		require.NoError(t, err)
		added, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return added
	}
	check := func(t *testing.T, r badInput) {
		before := snapshot(t, ctx, db)
		var lastAudit int64
		require.NoError(t, db.QueryRow(ctx, `select coalesce(max(id), 0) from audit_log`).Scan(&lastAudit))
		lengths := map[string]int{}
		for _, id := range histories {
			lengths[id] = historyLength(t, ctx, tc, id)
		}
		var err error
		if r.send != nil {
			err = r.send(ctx)
		} else {
			_, err = starter(ctx, r.args...)
		}
		require.Error(t, err, "accepted")
		require.Contains(t, err.Error(), r.want)
		require.Equal(t, before, snapshot(t, ctx, db), "the database changed; audit rows added: %v", auditSince(t, ctx, lastAudit))
		for _, id := range histories {
			require.Equal(t, lengths[id], historyLength(t, ctx, tc, id), "%s: new history events", id)
		}
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) { check(t, r) })
	}

	// A batch ID of the right form that was never staged passes the validator, which cannot
	// read the database: the merge refuses it and writes nothing, but the Update and its
	// failed activity stay in the campaign's history.
	t.Run("Update: import of a batch never staged", func(t *testing.T) {
		before := snapshot(t, ctx, db)
		err := update(campaign.UpdateRecordImport, campaign.ImportRequest{BatchID: "00000000-0000-4000-8000-000000000000", By: "tester"})(ctx)
		require.ErrorContains(t, err, "import batch 00000000-0000-4000-8000-000000000000 is not staged")
		require.Equal(t, before, snapshot(t, ctx, db), "the database changed")
	})

	// Pausing a paused campaign, on a campaign paused for it.
	steered := `select count(*) from audit_log where campaign_id = $1 and action like 'campaign.%'`
	steers := countRows(t, ctx, db, steered, badID)
	_, err = starter(ctx, "pause", badID)
	require.NoError(t, err)
	t.Run("Update: pause a paused campaign", func(t *testing.T) {
		check(t, badInput{args: []string{"pause", badID}, want: "campaign is paused already"})
	})
	_, err = starter(ctx, "resume", badID)
	require.NoError(t, err)

	// The same checks see a good input: it writes, and the campaign's history grows.
	before, length := snapshot(t, ctx, db), historyLength(t, ctx, tc, histories[0])
	_, err = starter(ctx, append(slices.Clone(event), "--date", "2021-11-20")...)
	require.NoError(t, err)
	require.NotEqual(t, before["events"], snapshot(t, ctx, db)["events"])
	require.NotEqual(t, before["audit_log"], snapshot(t, ctx, db)["audit_log"])
	require.Greater(t, historyLength(t, ctx, tc, histories[0]), length)

	// The table checked something: the good inputs it was built on were taken.
	require.Equal(t, 1, countRows(t, ctx, db, `select count(*) from enrolments where campaign_id = $1`, badID))
	require.Equal(t, steers+2, countRows(t, ctx, db, steered, badID), "the pause and the resume are audited")
}

func countRows(t *testing.T, ctx context.Context, db *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(ctx, sql, args...).Scan(&n), sql)
	return n
}
