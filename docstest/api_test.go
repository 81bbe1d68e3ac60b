package docstest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// apiCampaign is the running campaign docs/API.md's examples launch.
const apiCampaign = "hanoi-2021-api"

func testAPI(t *testing.T, s *stack, blocks []block) {
	r := &runner{t: t, s: s, sh: s.newShell("api"), used: map[string]bool{},
		rewrites: map[string]rewrite{
			`sed -e 's/^id: hanoi-2021$/id: hanoi-2021-api/' -e 's/^  scale: 262800$/  scale: 8760/' -e 's/terminate_after: 2$/terminate_after: 1/' -e 's/terminate_below: 0.3$/terminate_below: 0.5/' -e 's/approval_wait: 14d$/approval_wait: 60d/' plans/hanoi-2021/plan.yaml > plans/hanoi-2021/plan-api.yaml`: {
				why: "a year in four minutes, not an hour, so that the test waits less for the first review",
				run: []string{`sed -e 's/^id: hanoi-2021$/id: hanoi-2021-api/' -e 's/^  scale: 262800$/  scale: ` + apiScale + `/' -e 's/terminate_after: 2$/terminate_after: 1/' -e 's/terminate_below: 0.3$/terminate_below: 0.5/' -e 's/approval_wait: 14d$/approval_wait: 60d/' plans/hanoi-2021/plan.yaml > plans/hanoi-2021/plan-api.yaml`},
			},
		},
		before: map[string]func(*testing.T){
			// "its lines as README's Imports say — … dates in the period and not after the
			// campaign's date": the README's sample file, once the campaign is past its dates.
			`curl -s -H "Authorization: Bearer $TOKEN" -H 'Accept: application/json' -H 'Content-Type: text/csv' --data-binary @enrolments.csv "http://127.0.0.1:8080/api/campaigns/$C/imports?name=enrolments.csv"`: func(t *testing.T) {
				b, err := os.ReadFile(filepath.Join(s.repo, "samples/enrolments.csv"))
				if err != nil {
					t.Fatal(err)
				}
				s.write("enrolments.csv", string(b), 0o644)
				s.waitDate(t, apiCampaign, "2021-02-17")
			},
			// "a running campaign with a termination pending: the first review, once its quarter
			// has ended … proposes to terminate the agents far behind their quota".
			`read PERIOD AGENT < <(curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/campaigns/$C/reviews | jq -r '.pending[0] | "\(.period) \(.agent)"')`: func(t *testing.T) {
				c := s.client(s.vars["WEB_COORDINATOR_TOKEN"])
				deadline := time.Now().Add(4 * time.Minute)
				for time.Now().Before(deadline) {
					var v struct {
						Pending []any `json:"pending"`
					}
					if code, _ := c.getJSON(t, "/api/campaigns/"+apiCampaign+"/reviews", &v); code == 200 && len(v.Pending) > 0 {
						return
					}
					time.Sleep(300 * time.Millisecond)
				}
				t.Fatal("no termination came to be pending in " + apiCampaign)
			},
		},
		check: map[string]func(*testing.T, result){
			`curl -s -H "Authorization: Bearer $TOKEN" -o report.xlsx http://127.0.0.1:8080/campaigns/hanoi-2021/report.xlsx`: func(t *testing.T, _ result) {
				if b, _ := os.ReadFile(filepath.Join(s.dir, "report.xlsx")); !bytes.HasPrefix(b, []byte("PK")) {
					t.Errorf("report.xlsx is not a workbook: %.200q", b)
				}
			},
			`curl -s -H "Authorization: Bearer $TOKEN" -o terminated.csv 'http://127.0.0.1:8080/campaigns/hanoi-2021/agents.csv?status=terminated'`: func(t *testing.T, _ result) {
				if b, _ := os.ReadFile(filepath.Join(s.dir, "terminated.csv")); !bytes.HasPrefix(b, []byte("\ufeff")) {
					t.Errorf("terminated.csv is not the CSV download (a byte-order mark first): %.200q", b)
				}
			},
			`curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/campaigns/$C | jq .report.enrolled`:  shows(`^\d+\n$`),
			`curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/campaigns/$C/reviews | jq '.totals'`: shows(`^\[`),
		},
	}
	// The README: ". .dev/web-passwords; TOKEN=$WEB_COORDINATOR_TOKEN gives docs/API.md's
	// examples their token".
	if res := r.sh.run(t, ". .dev/env; . .dev/web-passwords; TOKEN=$WEB_COORDINATOR_TOKEN", time.Minute); res.code != 0 {
		t.Fatal(res)
	}
	// The answers of the examples that act, against the Acting table's shapes.
	acting := routeTable(t, s, "POST /api/campaigns/{id}/imports")
	r.check[`curl -s -H "Authorization: Bearer $TOKEN" -H 'Accept: application/json' -H 'Content-Type: text/csv' --data-binary @enrolments.csv "http://127.0.0.1:8080/api/campaigns/$C/imports?name=enrolments.csv"`] =
		jsonShape(acting.answer, "the import's answer")
	decision := routeTable(t, s, "POST /api/campaigns/{id}/reviews/{period}/decisions")
	r.check[`curl -s -H "Authorization: Bearer $TOKEN" -H 'Accept: application/json' -H 'Content-Type: application/json' -d "{\"agent\":\"$AGENT\",\"decision\":\"reject\",\"reason\":\"new in the job\"}" http://127.0.0.1:8080/api/campaigns/$C/reviews/$PERIOD/decisions`] =
		jsonShape(decision.answer, "the decision's answer", "already") // "`already` (`true`) only when the agent had been decided on before"
	r.runBlocks(blocks)
	if t.Failed() {
		return
	}
	testRoutes(t, s)
}

// jsonShape checks a command's stdout against the first {…} span of a doc's cell.
func jsonShape(cell string, what string, optional ...string) func(*testing.T, result) {
	return func(t *testing.T, res result) {
		t.Helper()
		sh := mustShape(t, firstSpan(cell, "{"))
		var v any
		if err := json.Unmarshal([]byte(res.stdout), &v); err != nil {
			t.Errorf("%s is not JSON: %v\n%s", what, err, res)
			return
		}
		opt := map[string]bool{}
		for _, k := range optional {
			opt[k] = true
		}
		for _, e := range sh.check(v, "", opt) {
			t.Errorf("%s: %s\n%s", what, e, clip(res.stdout))
		}
	}
}

// A route is a row of one of docs/API.md's route tables.
type route struct {
	key    string // the first cell as the doc writes it
	cells  []string
	answer string // the last cell
	line   int
}

var tableRoute = regexp.MustCompile("^`(GET|POST) /")

// routes reads every row of docs/API.md's tables whose first cell is a route.
func routes(t *testing.T, s *stack) []route {
	b, err := os.ReadFile(filepath.Join(s.repo, "docs/API.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []route
	for i, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, "| ") {
			continue
		}
		cells := splitCells(l)
		if len(cells) < 2 || !tableRoute.MatchString(cells[0]) {
			continue
		}
		out = append(out, route{key: cells[0], cells: cells, answer: cells[len(cells)-1], line: i + 1})
	}
	return out
}

func routeTable(t *testing.T, s *stack, method string) route {
	for _, r := range routes(t, s) {
		if strings.HasPrefix(r.key, "`"+method+"`") || strings.HasPrefix(r.key, "`"+method+"[") {
			return r
		}
	}
	t.Fatalf("docs/API.md has no route %s", method)
	return route{}
}

// splitCells splits a Markdown table row at its unescaped bars.
func splitCells(l string) []string {
	l = strings.TrimSpace(l)
	l = strings.TrimSuffix(strings.TrimPrefix(l, "|"), "|")
	var cells []string
	var cur strings.Builder
	inCode := false
	for i := 0; i < len(l); i++ {
		switch {
		case l[i] == '\\' && i+1 < len(l) && l[i+1] == '|':
			cur.WriteString(`\|`)
			i++
		case l[i] == '`':
			inCode = !inCode
			cur.WriteByte('`')
		case l[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(l[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// firstSpan is the first code span of a cell that starts with prefix.
func firstSpan(cell, prefix string) string {
	for _, m := range codeSpan.FindAllStringSubmatch(cell, -1) {
		if strings.HasPrefix(m[1], prefix) {
			return m[1]
		}
	}
	return ""
}

func mustShape(t *testing.T, text string) *shape {
	t.Helper()
	if text == "" {
		t.Fatal("no shape in the doc's cell")
	}
	sh, err := parseShape(text)
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// A client asks the web page with a bearer token.
type client struct {
	s     *stack
	token string
}

func (s *stack) client(token string) *client { return &client{s: s, token: token} }

type answer struct {
	code   int
	header http.Header
	body   []byte
}

func (c *client) do(t *testing.T, method, path, contentType string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(method, c.s.web+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	hc := &http.Client{Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{code: res.StatusCode, header: res.Header, body: b}
}

func (c *client) getJSON(t *testing.T, path string, v any) (int, []byte) {
	t.Helper()
	a := c.do(t, "GET", path, "", nil)
	if a.code == 200 {
		if err := json.Unmarshal(a.body, v); err != nil {
			t.Errorf("GET %s: not JSON: %v", path, err)
		}
	}
	return a.code, a.body
}

// A request is what the test asks of a route of the doc's tables, and what it expects.
type request struct {
	role   string // coordinator, auditor, agent
	method string
	path   string
	ctype  string
	body   []byte
	status int
	shape  string // the doc's shape for this answer ("" = the row's answer cell, first {…} span)
	// optional keys the doc says are there only sometimes, with the doc's words
	optional map[string]bool
	// sub gives arrays' elements the shape of another span of the row ("pending[]" → "{period, agent")
	sub   map[string]string
	check func(*testing.T, answer)
}

func testRoutes(t *testing.T, s *stack) {
	c := "/api/campaigns/" + apiCampaign
	tok := map[string]string{"coordinator": s.vars["WEB_COORDINATOR_TOKEN"], "auditor": s.vars["WEB_AUDITOR_TOKEN"]}
	tok["agent"] = s.agentToken(t, "docs-test-agent", "DL-00001-1")

	// Values the docs' bodies name, for the bodies the test sends: each key the doc gives a
	// body must be here, so a renamed field fails the test.
	bodyValues := map[string]any{
		"id": "docs-test-dialogue", "kind": "dialogue", "unit": "00001", "date": "2021-11-15",
		"groups": []string{"student"}, "expected_attendance": 41, "title": "Đối thoại thử (docs test)",
		"reason": "docs test",
	}
	decisions := "{period, agent"
	reviewsSub := map[string]string{"pending[]": decisions, "escalated[]": decisions, "decisions[]": decisions}
	// "the last two only for a reward, decided_by and reason once decided"; "district, commune,
	// status and decision are the filters as given, absent when not given"
	reviewsOpt := filters("reward_kind", "reward", "decided_by", "reason", "district", "commune", "status", "decision")
	xlsx := "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	download := func(ctype, file string) func(*testing.T, answer) {
		return func(t *testing.T, a answer) {
			if got := a.header.Get("Content-Type"); !strings.HasPrefix(got, ctype) {
				t.Errorf("Content-Type %q, want %q", got, ctype)
			}
			if got := a.header.Get("Content-Disposition"); !strings.Contains(got, "attachment") || !strings.Contains(got, file) {
				t.Errorf("Content-Disposition %q, want an attachment %s", got, file)
			}
			if got := a.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
			if strings.HasPrefix(ctype, "text/csv") && !bytes.HasPrefix(a.body, []byte("\ufeff")) {
				t.Errorf("a CSV download begins with a byte-order mark: %.100q", a.body)
			}
			if ctype == xlsx && !bytes.HasPrefix(a.body, []byte("PK")) {
				t.Errorf("not a workbook: %.100q", a.body)
			}
		}
	}
	d := "/campaigns/" + apiCampaign

	specs := map[string][]request{
		"`GET /api/campaigns`": {{path: "/api/campaigns"}},
		"`GET /api/campaigns/{id}`": {
			{path: c, optional: map[string]bool{"progress_error": true}},                                             // "progress_error": only when the Query failed
			{path: "/api/campaigns/hanoi-2021", optional: map[string]bool{"progress": true, "progress_error": true}}, // "while it runs"
			{path: "/api/campaigns/nowhere", status: 404, shape: `{"error"}`},
		},
		"`GET /api/campaigns/{id}/units/{code}`": {
			// "a district has no parent (the unit's nor the answer's …), and only a commune has agents"
			{path: c + "/units/001", optional: map[string]bool{"parent": true, "unit.parent": true, "agents": true}},
			{path: c + "/units/00001"}},
		"`GET /api/campaigns/{id}/agents`": {
			{path: c + "/agents", optional: filters("district", "commune", "status", "kind")},
			{path: c + "/agents?district=001&status=active&kind=agent&sort=quota&order=desc&offset=2&limit=5", optional: filters("commune")},
			{path: c + "/agents?limit=0", status: 400, shape: `{"error"}`}, // "an unreadable parameter is answered 400"
		},
		"`GET /api/campaigns/{id}/events`": {{path: c + "/events"}},
		"`GET /api/campaigns/{id}/reviews`": {
			{path: c + "/reviews", sub: reviewsSub, optional: reviewsOpt},
			{path: c + "/reviews?period=2021-Q1&district=001&commune=00001&status=pending&decision=terminate&limit=3", sub: reviewsSub, optional: filters("reward_kind", "reward", "decided_by", "reason")},
			{path: c + "/reviews?period=2020-Q4", status: 404, shape: `{"error"}`}, // "A period the campaign never reviewed answers 404"
		},
		"`GET /api/campaigns/{id}/imports`":                       {{path: c + "/imports"}},
		"`GET /api/campaigns/{id}/trace/agent/{code}[?period=P]`": {{path: c + "/trace/agent/DL-00001-1?period=2021-Q1"}, {path: c + "/trace/agent/DL-00001-1"}},
		"`GET /api/campaigns/{id}/trace/unit/{code}[?period=P]`": {
			// "the same for a district, commune or village"
			{path: c + "/trace/unit/001", shape: "trace/agent"}, {path: c + "/trace/unit/00001?period=2021-Q1", shape: "trace/agent"}},
		"`GET /healthz`": {{role: "none", path: "/healthz", shape: "-", check: func(t *testing.T, a answer) {
			if strings.TrimSpace(string(a.body)) != "ok" {
				t.Errorf("/healthz answered %q", a.body)
			}
		}}},
		"`GET /campaigns/{id}/report.xlsx`": {{path: d + "/report.xlsx", shape: "-", check: download(xlsx, apiCampaign+"-report.xlsx")}},
		"`GET /campaigns/{id}/report.csv`":  {{path: d + "/report.csv", shape: "-", check: download("text/csv; charset=utf-8", apiCampaign+"-report.csv")}},
		"`GET /campaigns/{id}/agents.xlsx`, `.csv`": {
			{path: d + "/agents.xlsx?district=001&sort=quota&order=desc", shape: "-", check: download(xlsx, apiCampaign+"-agents.xlsx")},
			{path: d + "/agents.csv?status=active&kind=staff", shape: "-", check: download("text/csv; charset=utf-8", apiCampaign+"-agents.csv")}},
		"`GET /campaigns/{id}/reviews.xlsx`, `.csv`": {
			{path: d + "/reviews.xlsx?period=2021-Q1", shape: "-", check: download(xlsx, apiCampaign+"-reviews-2021-Q1.xlsx")},
			{path: d + "/reviews.csv?period=2021-Q1&decision=terminate", shape: "-", check: download("text/csv; charset=utf-8", apiCampaign+"-reviews-2021-Q1.csv")}},
		"`POST /api/campaigns/{id}/events`": {{method: "POST", path: c + "/events", ctype: "application/json", body: docBody(t, s, "`POST /api/campaigns/{id}/events`", 1, bodyValues),
			check: func(t *testing.T, a answer) {
				// The fields sent were read by their names: the event holds them.
				var ev struct {
					Upcoming []struct {
						ID       string `json:"id"`
						Title    string `json:"title"`
						Expected int    `json:"expected_attendance"`
					} `json:"upcoming"`
				}
				s.client(tok["coordinator"]).getJSON(t, c+"/events", &ev)
				for _, e := range ev.Upcoming {
					if e.ID == bodyValues["id"] {
						if e.Title != bodyValues["title"] || e.Expected != bodyValues["expected_attendance"] {
							t.Errorf("the event added holds %+v, not the body's title and expected_attendance", e)
						}
						return
					}
				}
				t.Errorf("the event added is not among the upcoming events")
			}}},
		"`POST /api/campaigns/{id}/events/{event}/cancel`": {{method: "POST", path: c + "/events/docs-test-dialogue/cancel", ctype: "application/json",
			body: docBody(t, s, "`POST /api/campaigns/{id}/events/{event}/cancel`", 1, bodyValues)}},
		"`POST /api/campaigns/{id}/reviews/{period}/decisions`": {s.pendingDecision(t, tok["coordinator"], c)},
		"`POST /api/campaigns/{id}/imports`": {
			multipartFile(t, s, c+"/imports", "samples/enrolments.csv", 200, ""),
			// "a refused file: 422 with "error" … and "rejected": {file, rows, errors: [{line, field, msg}]}"
			refused(t, s, c+"/imports"),
		},
		// "csrf comes with a session cookie only …; event and event_title only for a lead of an event"
		"`GET /api/field/today[?campaign=ID]`": {{role: "agent", path: "/api/field/today", optional: filters("csrf", "event", "event_title")},
			{role: "agent", path: "/api/field/today?campaign=" + apiCampaign, optional: filters("csrf", "event", "event_title")}},
		"`POST /api/field/entries`": {s.fieldEntry(t, tok)},
	}

	// The answers table: each status the test can bring about.
	answers := []struct {
		why string
		req request
	}{
		{"401: no credentials", request{role: "none", path: c, status: 401, shape: `{"error"}`}},
		{"401: a bearer token that is not valid, on a download too", request{role: "bad", path: d + "/report.csv", status: 401, shape: "-", check: func(t *testing.T, a answer) {
			if !strings.Contains(string(a.body), "the bearer token is not valid") {
				t.Errorf("want `the bearer token is not valid`: %s", a.body)
			}
		}}},
		{"403: an auditor's POST", request{role: "auditor", method: "POST", path: c + "/events/001-conference/cancel", ctype: "application/json", body: []byte(`{"reason":"x"}`), status: 403, shape: `{"error"}`}},
		{"404: an unknown unit", request{path: c + "/units/99999", status: 404, shape: `{"error"}`}},
		{"405: a GET of an action route", request{path: c + "/events/001-conference/cancel", status: 405, shape: "-"}},
		// "after make demo, hanoi-2021 has closed, so a decision on it answers 422 `no
		// termination pending` … and an import 422 `not running`"
		{"422: a decision on the closed hanoi-2021", request{method: "POST", path: "/api/campaigns/hanoi-2021/reviews/2021-Q1/decisions", ctype: "application/json",
			body: []byte(`{"agent":"DL-00001-1","decision":"reject","reason":"new in the job"}`), status: 422, shape: `{"error"}`, check: says("no termination pending")}},
		{"422: an import into the closed hanoi-2021", request{method: "POST", path: "/api/campaigns/hanoi-2021/imports?name=enrolments.csv", ctype: "text/csv",
			body: mustRead(t, s, "samples/enrolments.csv"), status: 422, shape: `{"error"}`, check: says("not running")}},
		{"422: an action refused (an event in the past)", request{method: "POST", path: c + "/events", ctype: "application/json",
			body: []byte(`{"id":"docs-test-past","kind":"dialogue","unit":"00001","date":"2021-01-02","groups":["student"]}`), status: 422, shape: `{"error"}`}},
	}
	// "413: an upload over the limit (64 MiB by default); nothing was imported"
	big := bytes.Repeat([]byte("x"), 64<<20+1)
	answers = append(answers, struct {
		why string
		req request
	}{"413: an upload over 64 MiB", request{method: "POST", path: c + "/imports?name=big.csv", ctype: "text/csv", body: big, status: 413, shape: `{"error"}`}})
	notProvoked := map[string]string{
		"503": "a password check waited 5 s (the web package's tests)",
		"500": "a failure of the server's own",
	}

	run := func(t *testing.T, key string, rq request, row route) {
		t.Helper()
		if rq.method == "" {
			rq.method = "GET"
		}
		if rq.role == "" {
			rq.role = "coordinator"
		}
		if rq.status == 0 {
			rq.status = 200
		}
		token := tok[rq.role]
		if rq.role == "bad" {
			token = "not-a-token"
		}
		a := s.client(token).do(t, rq.method, rq.path, rq.ctype, rq.body)
		where := fmt.Sprintf("docs/API.md:%d %s: %s %s", row.line, key, rq.method, rq.path)
		if a.code != rq.status {
			t.Errorf("%s: status %d, want %d: %.600s", where, a.code, rq.status, a.body)
			return
		}
		if rq.check != nil {
			rq.check(t, a)
		}
		text := rq.shape
		switch text {
		case "-":
			return
		case "":
			text = firstSpan(row.answer, "{")
		case `{"results"`:
			text = firstSpan(row.answer, text)
		case "trace/agent":
			text = firstSpan(routeTable(t, s, "GET /api/campaigns/{id}/trace/agent/{code}").answer, "{")
		}
		sh := mustShape(t, text)
		for p, prefix := range rq.sub {
			if !sh.set(p, mustShape(t, firstSpan(row.answer, prefix))) {
				t.Errorf("%s: the doc's shape has no array %s", where, p)
			}
		}
		var v any
		if err := json.Unmarshal(a.body, &v); err != nil {
			t.Errorf("%s: not JSON: %v: %.300s", where, err, a.body)
			return
		}
		for _, e := range sh.check(v, "", rq.optional) {
			t.Errorf("%s: %s", where, e)
		}
	}

	seen := map[string]bool{}
	n := 0
	for _, row := range routes(t, s) {
		rqs, ok := specs[row.key]
		if !ok {
			t.Errorf("docs/API.md:%d: the route %s is not asked by this test: add it to testRoutes", row.line, row.key)
			continue
		}
		seen[row.key] = true
		for _, rq := range rqs {
			run(t, row.key, rq, row)
			n++
		}
	}
	for k := range specs {
		if !seen[k] {
			t.Errorf("the test asks %s, which docs/API.md no longer has", k)
		}
	}
	for _, a := range answers {
		run(t, a.why, a.req, route{line: 0})
		n++
	}
	// "429: too many sign-in attempts for that user name (Retry-After)": five wrong passwords
	// for one name take its attempts; the sixth is answered 429 without a check.
	for i := 1; ; i++ {
		res, err := http.PostForm(s.web+"/login", url.Values{"user": {"docs-test-nobody"}, "password": {"wrong"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests {
			if res.Header.Get("Retry-After") == "" || i != 6 {
				t.Errorf("429 at sign-in attempt %d (want the sixth), Retry-After %q", i, res.Header.Get("Retry-After"))
			}
			break
		}
		if i == 6 {
			t.Errorf("the sixth wrong sign-in for one name answered %d, want 429", res.StatusCode)
			break
		}
	}
	n++
	keys := make([]string, 0, len(notProvoked))
	for k := range notProvoked {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("docs/API.md's answer %s not provoked: %s", k, notProvoked[k])
	}
	t.Logf("%d requests of docs/API.md's tables asked (%d routes), %d answers of its answers table", n, len(seen), len(answers))
}

func says(text string) func(*testing.T, answer) {
	return func(t *testing.T, a answer) {
		t.Helper()
		if !strings.Contains(string(a.body), text) {
			t.Errorf("the answer does not say %q: %s", text, a.body)
		}
	}
}

func mustRead(t *testing.T, s *stack, name string) []byte {
	b, err := os.ReadFile(filepath.Join(s.repo, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func filters(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// docBody is a JSON body with the keys of the doc's body cell (the cell's first {…} span), each
// given its value from values.
func docBody(t *testing.T, s *stack, key string, cell int, values map[string]any) []byte {
	t.Helper()
	var row route
	for _, r := range routes(t, s) {
		if r.key == key {
			row = r
		}
	}
	if row.key == "" || len(row.cells) <= cell {
		t.Fatalf("docs/API.md has no route %s with a body", key)
	}
	sh := mustShape(t, firstSpan(row.cells[cell], "{"))
	body := map[string]any{}
	for _, k := range sh.keys {
		v, ok := values[k]
		if !ok {
			t.Fatalf("docs/API.md gives %s a body field %q the test has no value for: add it", key, k)
		}
		body[k] = v
	}
	b, _ := json.Marshal(body)
	return b
}

// refused uploads a file with bad lines under the doc's example name, and checks the 422's
// "error" against the doc's example (numbers aside) and "rejected" against its shape.
func refused(t *testing.T, s *stack, path string) request {
	row := routeTable(t, s, "POST /api/campaigns/{id}/imports")
	rq := multipartFile(t, s, path, "samples/enrolments-invalid.csv", 422, `{"error", `+firstSpan(row.answer, `"rejected"`)+`}`)
	rq.body = bytes.ReplaceAll(rq.body, []byte(`filename="enrolments-invalid.csv"`), []byte(`filename="enrolments.csv"`))
	example := firstSpan(row.answer, "enrolments.csv: refused")
	if example == "" {
		t.Fatal("docs/API.md no longer shows a refusal's error (`enrolments.csv: refused, …`)")
	}
	rq.check = func(t *testing.T, a answer) {
		var v struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(a.body, &v)
		first := strings.SplitN(v.Error, "\n", 2)[0]
		if !outputPattern(example).MatchString(first) {
			t.Errorf("the refusal says %q, not in the shape of the doc's %q", first, example)
		}
	}
	return rq
}

func multipartFile(t *testing.T, s *stack, path, file string, status int, shape string) request {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile("file", filepath.Base(file))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(s.repo, file))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(b)
	_ = w.Close()
	return request{method: "POST", path: path, ctype: w.FormDataContentType(), body: buf.Bytes(), status: status, shape: shape}
}

// pendingDecision approves a proposed termination (the doc's example rejects the first
// pending one): another pending one, or an escalated one if the wait has ended meanwhile
// (README: those are decided the same way).
func (s *stack) pendingDecision(t *testing.T, token, c string) request {
	type proposal struct {
		Period string `json:"period"`
		Agent  string `json:"agent"`
	}
	var v struct {
		Pending   []proposal `json:"pending"`
		Escalated []proposal `json:"escalated"`
	}
	code, body := s.client(token).getJSON(t, c+"/reviews", &v)
	open := append(v.Pending, v.Escalated...)
	if code != 200 || len(open) == 0 {
		t.Fatalf("want a proposed termination: %d: %.500s", code, body)
	}
	p := open[0]
	send, _ := json.Marshal(map[string]string{"agent": p.Agent, "decision": "approve", "reason": "docs test"})
	return request{method: "POST", path: c + "/reviews/" + url.PathEscape(p.Period) + "/decisions", ctype: "application/json", body: send,
		optional: map[string]bool{"already": true}} // "`already` (`true`) only when the agent had been decided on before"
}

// agentToken gives an agent of the roster an account with a token and a chosen password, as
// `starter users add --role agent --with-token` and the password form do.
func (s *stack) agentToken(t *testing.T, name, code string) string {
	sh := s.newShell("agent")
	res := sh.run(t, ". .dev/env; starter users add --name "+name+" --role agent --agent "+code+" --campaign "+apiCampaign+" --with-token", time.Minute)
	otp := regexp.MustCompile(`one-time password: (\S+)`).FindStringSubmatch(res.stdout)
	token := regexp.MustCompile(`API token: (\S+)`).FindStringSubmatch(res.stdout)
	if res.code != 0 || otp == nil || token == nil {
		t.Fatalf("starter users add (agent): %s", res)
	}
	// A session signed in with the one-time password is held to /password ("until then every
	// other route answers 403"); the API token is not ("a bearer token is not held back").
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res2, err := hc.PostForm(s.web+"/login", url.Values{"user": {name}, "password": {otp[1]}})
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if loc := res2.Header.Get("Location"); res2.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/password") {
		t.Errorf("POST /login with a one-time password: %d to %q, want a redirect to /password", res2.StatusCode, loc)
	}
	req, _ := http.NewRequest("GET", s.web+"/api/field/today", nil)
	req.Header.Set("Accept", "application/json")
	if res3, err := hc.Do(req); err != nil {
		t.Fatal(err)
	} else if res3.Body.Close(); res3.StatusCode != http.StatusForbidden {
		t.Errorf("a session of a one-time password: GET /api/field/today answered %d, want 403", res3.StatusCode)
	}
	return token[1]
}

// fieldEntry is a send of one lead met in the field, with the keys the doc gives a lead entry.
func (s *stack) fieldEntry(t *testing.T, tok map[string]string) request {
	b, err := os.ReadFile(filepath.Join(s.repo, "docs/API.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("`(\\{\"id\", \"kind\": \"lead\"[^`]*)`").FindSubmatch(b)
	if m == nil {
		t.Fatal(`docs/API.md has no lead entry ({"id", "kind": "lead", …})`)
	}
	sh := mustShape(t, string(m[1]))
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	id[6], id[8] = id[6]&0x0f|0x40, id[8]&0x3f|0x80
	values := map[string]any{
		"id":   fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:]),
		"kind": "lead", "citizen_id": "001199000401", "full_name": "Ngô Thị Mẫu", "phone": "0900000401",
		"village": "00001-01", "group": "student", "on": "2021-02-01",
	}
	entry := map[string]any{}
	for _, k := range sh.keys {
		v, ok := values[k]
		if !ok {
			t.Fatalf("docs/API.md gives a lead entry a field %q the test has no value for: add it", k)
		}
		entry[k] = v
	}
	body, _ := json.Marshal(map[string]any{"campaign": apiCampaign, "entries": []any{entry}})
	return request{role: "agent", method: "POST", path: "/api/field/entries", ctype: "application/json", body: body, shape: `{"results"`,
		optional: map[string]bool{"again": true, "later": true, "field": true, "error": true}, // "only when they say something"
		check: func(t *testing.T, a answer) {
			var v struct {
				Results []struct{ Status string } `json:"results"`
			}
			if json.Unmarshal(a.body, &v) != nil || len(v.Results) != 1 || v.Results[0].Status != "recorded" {
				t.Errorf("the lead was not recorded: %s", a.body)
			}
		}}
}
