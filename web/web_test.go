package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"drives/campaign"
	"drives/plan"
	"drives/report"
)

// One campaign serves every check, in order: each step leaves what the next one reads.
func TestWeb(t *testing.T) {
	s := newSite(t)
	coord := s.login("lan", "coordinator-password")
	aud := s.login("minh", "auditor-password")

	t.Run("every route answers each role as its access rule says", func(t *testing.T) { routeRoleTable(t, s) })
	t.Run("a part of another city's campaign sees nothing of this one", func(t *testing.T) { partOfAnotherCity(t, s) })

	t.Run("unauthenticated requests are refused", func(t *testing.T) {
		anon := s.browser()
		res := anon.get("/campaigns/" + campaignID)
		assert.Equal(t, http.StatusSeeOther, res.StatusCode)
		assert.Equal(t, "/login?next=%2Fcampaigns%2F"+campaignID, res.Header.Get("Location"))
		assert.NotContains(t, res.Body, "DL-00001-1")

		res = anon.get("/api/campaigns/" + campaignID + "/agents")
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		assert.NotContains(t, res.Body, "DL-00001-1")
		res = s.api("GET", "/api/campaigns", "not-a-token", "", nil)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		assert.Contains(t, res.Body, "the bearer token is not valid", "a wrong token is named as such, not answered 'sign in first'")

		before := s.fingerprint()
		res = anon.postForm("/api/campaigns/"+campaignID+"/events/ba-dinh-conference/cancel", url.Values{"reason": {"x"}})
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		assert.Equal(t, before, s.fingerprint())

		// A wrong password signs no one in, and says so.
		res = anon.postForm("/login", url.Values{"user": {"lan"}, "password": {"wrong-password"}})
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		assert.Equal(t, "Sai tài khoản hoặc mật khẩu.", parse(t, res.Body).one("error").text())
		assert.Equal(t, http.StatusSeeOther, anon.get("/").StatusCode)

		// The login page and health check need no sign-in.
		login := anon.page("/login")
		login.one("login-submit")
		assert.Contains(t, login.text, `name="user"`)
		assert.Contains(t, login.text, `name="password"`)
		assert.Equal(t, http.StatusOK, anon.get("/healthz").StatusCode)
	})

	t.Run("an upload shows new and duplicate lines", func(t *testing.T) {
		csrf := coord.page("/campaigns/" + campaignID + "/imports").csrf()
		res := coord.upload("/api/campaigns/"+campaignID+"/imports", csrf, "first.csv", enrolmentFile(t, 10, "1"))
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		d := parse(t, res.Body)
		assert.Equal(t, "10", d.value("import-new"))
		assert.Equal(t, "0", d.value("import-duplicate"))
		assert.Equal(t, "2, 3, 4, 5, 6, 7, 8, 9, 10, 11", d.one("new-lines").text())

		// The same people again and five more: lines 2–11 are duplicates, 12–16 new.
		data := enrolmentFile(t, 10, "1")
		more := enrolmentFile(t, 15, "1")
		data = append(data, bytes.SplitN(more, []byte("\n"), 12)[11]...)
		res = coord.upload("/api/campaigns/"+campaignID+"/imports", csrf, "second.csv", data)
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		d = parse(t, res.Body)
		assert.Equal(t, "5", d.value("import-new"))
		assert.Equal(t, "10", d.value("import-duplicate"))
		assert.Equal(t, "12, 13, 14, 15, 16", d.one("new-lines").text())
		assert.Equal(t, "2, 3, 4, 5, 6, 7, 8, 9, 10, 11", d.one("duplicate-lines").text())
		assert.Equal(t, 15, s.count(`select count(*) from enrolments where campaign_id = $1`, campaignID))
		assert.Len(t, d.all("batch-row"), 2)
	})

	t.Run("a bad upload lists its lines and writes nothing", func(t *testing.T) {
		csrf := coord.page("/campaigns/" + campaignID + "/imports").csrf()
		good := enrolmentFile(t, 4, "2")
		lines := strings.Split(strings.TrimSpace(string(good)), "\n")
		lines[2] = strings.Replace(lines[2], "1500000", "15OOOOO", 1)    // line 3: not a number
		lines[4] = strings.Replace(lines[4], ",monthly,", ",weekly,", 1) // line 5: no such payment mode
		lines = append(lines, `"unterminated,quote`)                     // line 6: malformed CSV
		before := s.fingerprint()
		res := coord.upload("/api/campaigns/"+campaignID+"/imports", csrf, "bad.csv", []byte(strings.Join(lines, "\n")+"\n"))
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		d := parse(t, res.Body)
		assert.Contains(t, d.one("error").text(), "Tệp bị từ chối: không có dữ liệu nào được ghi.")
		var got []string
		for _, r := range d.all("rejected-row") {
			got = append(got, r.attr("data-line")+":"+r.attr("data-field"))
		}
		t.Logf("rejected: %v", got)
		require.NotEmpty(t, got)
		assert.Contains(t, got, "3:monthly_income")
		assert.Contains(t, got, "5:payment_mode")
		assert.Contains(t, got, "6:", "the malformed line, by its number")
		for _, r := range d.all("rejected-row") {
			if r.attr("data-line") == "3" { // each problem in the page's language, the English after it
				assert.Contains(t, r.text(), "phải là số nguyên (đồng) (must be a whole number of VND)")
			}
		}
		assert.Equal(t, before, s.fingerprint(), "a refused file writes nothing")
		assert.NotContains(t, res.Body, "Người Tham Gia", "the page never quotes the file's personal data")

		// The API says the same in JSON.
		res = s.api("POST", "/api/campaigns/"+campaignID+"/imports?name=bad.csv", coordToken, "text/csv",
			strings.NewReader("citizen_id,full_name\n1,x\n"))
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		var out struct {
			Error    string `json:"error"`
			Rejected struct {
				Errors []struct {
					Line int `json:"line"`
				} `json:"errors"`
			} `json:"rejected"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.Body), &out), res.Body)
		require.NotEmpty(t, out.Rejected.Errors, res.Body)
		assert.Equal(t, 1, out.Rejected.Errors[0].Line, "a wrong header is line 1")
		assert.Equal(t, before, s.fingerprint())
	})

	t.Run("the campaign page shows the report's figures", func(t *testing.T) {
		r, err := report.Load(context.Background(), s.db, campaignID)
		require.NoError(t, err)
		require.Equal(t, 15, r.Enrolled)
		d := coord.page("/campaigns/" + campaignID)
		assert.Equal(t, strconv.Itoa(r.Enrolled), d.value("city-enrolled"))
		assert.Equal(t, strconv.Itoa(r.Target), d.value("city-target"))
		att, err := strconv.ParseFloat(d.value("city-attainment"), 64)
		require.NoError(t, err)
		assert.InDelta(t, r.AttainmentPct/100, att, 0.00005)
		assert.Equal(t, "đang chạy", d.one("campaign-status").text())

		districts := 0
		for _, u := range r.Units {
			if u.Level != "district" {
				continue
			}
			districts++
			row := d.row("district-row", "data-unit", u.Code)
			assert.Equal(t, strconv.Itoa(u.Enrolled), row.one(t, "enrolled").attr("data-value"), u.Code)
			assert.Equal(t, strconv.Itoa(u.Target), row.one(t, "target").attr("data-value"), u.Code)
		}
		assert.Equal(t, 2, districts)
		assert.Len(t, d.all("district-row"), districts)
		assert.Len(t, d.all("group-row"), len(r.Groups))
		assert.Equal(t, "15", d.row("group-row", "data-group", "farmer").one(t, "enrolled").attr("data-value"))
		chart := d.one("chart-enrolments")
		assert.Equal(t, "svg", chart.n.Data)
		assert.Equal(t, temporalUI+"/namespaces/enrolment-drives/workflows/campaign:"+campaignID, d.one("temporal-link").attr("href"))
		// Vietnamese formats by default: the enrolments as a count, the attainment with a comma.
		assert.Equal(t, "15", d.one("city-enrolled").text())
		assert.Regexp(t, `^\d+,\d %$`, d.one("city-attainment").text())

		// The list of campaigns links here.
		list := coord.page("/")
		row := list.row("campaign-row", "data-campaign", campaignID)
		assert.Equal(t, "15", row.one(t, "enrolled").attr("data-value"))

		// Drill down: district 001 → its communes → commune 00001's villages and agents.
		dist := coord.page("/campaigns/" + campaignID + "/units/001")
		assert.Equal(t, "6", dist.value("unit-enrolled"), "Ba Đình: lines 1, 2, 6, 7, 11, 12 of 15 in its two communes")
		commune := dist.row("unit-row", "data-unit", "00001")
		assert.Equal(t, "3", commune.one(t, "enrolled").attr("data-value"))
		vil := coord.page("/campaigns/" + campaignID + "/units/00001")
		assert.Equal(t, "3", vil.row("unit-row", "data-unit", "00001-01").one(t, "enrolled").attr("data-value"))
		assert.Equal(t, "3", vil.row("agent-row", "data-agent", "DL-00001-1").one(t, "enrolled").attr("data-value"))
		assert.Equal(t, http.StatusNotFound, coord.get("/campaigns/"+campaignID+"/units/99999").StatusCode)
		assert.Equal(t, http.StatusNotFound, coord.get("/campaigns/no-such-campaign").StatusCode)

		// English by the switch; the same figures.
		res := coord.get("/lang/en?next=/campaigns/" + campaignID)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		en := coord.page(res.Header.Get("Location"))
		assert.Equal(t, "running", en.one("campaign-status").text())
		assert.Regexp(t, `^\d+\.\d%$`, en.one("city-attainment").text())
		assert.Equal(t, "15", en.value("city-enrolled"))
		coord.get("/lang/vi")
	})

	t.Run("the agents' list is paged, sorted and filtered, with exact totals", func(t *testing.T) {
		testListsPaged(t, s, coord)
	})

	t.Run("the agents table and traces", func(t *testing.T) {
		d := coord.page("/campaigns/" + campaignID + "/agents")
		row := d.row("agent-row", "data-agent", "DL-00001-1")
		assert.Equal(t, "active", row.one(t, "agent-status").attr("data-value"))
		assert.Equal(t, "Trần Thị Bình", row.one(t, "agent-name").text(), "signed-in users see agents' names")
		assert.Equal(t, "3", row.one(t, "enrolled").attr("data-value"))
		assert.Equal(t, "0", row.one(t, "followups-open").attr("data-value"))
		assert.Equal(t, "0", row.one(t, "followups-overdue").attr("data-value"))
		q := s.count(`select target from quotas where campaign_id = $1 and level = 'agent' and code = 'DL-00001-1'`, campaignID)
		assert.Equal(t, strconv.Itoa(q), row.one(t, "quota").attr("data-value"))
		assert.Equal(t, "/campaigns/"+campaignID+"/trace/agent/DL-00001-1", row.one(t, "trace-link").attr("href"))
		assert.Len(t, d.all("agent-row"), s.count(`select count(*) from agents where campaign_id = $1`, campaignID))

		tr := aud.page("/campaigns/" + campaignID + "/trace/agent/DL-00001-1")
		merges := 0
		for _, r := range tr.all("audit-row") {
			if r.attr("data-action") == "import.merge" {
				merges++
			}
		}
		assert.Equal(t, 2, merges, "both imports enrolled this agent's people")
		link := tr.all("history-link")
		require.NotEmpty(t, link)
		assert.True(t, strings.HasPrefix(link[0].attr("href"), temporalUI+"/namespaces/enrolment-drives/workflows/campaign:"+campaignID+"/"), link[0].attr("href"))
		ut := aud.page("/campaigns/" + campaignID + "/trace/unit/001")
		var actions []string
		for _, r := range ut.all("audit-row") {
			actions = append(actions, r.attr("data-action"))
		}
		assert.Contains(t, actions, "quotas.allocate")
		assert.Contains(t, actions, "import.merge")
		assert.Equal(t, http.StatusNotFound, aud.get("/campaigns/"+campaignID+"/trace/agent/NO-SUCH").StatusCode)
	})

	t.Run("events: refused Updates show the validator's words and write nothing", func(t *testing.T) {
		page := coord.page("/campaigns/" + campaignID + "/events")
		csrf := page.csrf()
		page.one("event-add-submit")
		before := s.fingerprint()

		d := coord.follow("/api/campaigns/"+campaignID+"/events/no-such-event/cancel", url.Values{"csrf": {csrf}, "reason": {"rain"}})
		assert.Contains(t, d.one("error").text(), `event_id: unknown event "no-such-event"`)
		assert.Empty(t, d.all("flash"))

		d = coord.follow("/api/campaigns/"+campaignID+"/events/ba-dinh-conference/cancel", url.Values{"csrf": {csrf}})
		assert.Contains(t, d.one("error").text(), "reason: say why the event is cancelled")

		d = coord.follow("/api/campaigns/"+campaignID+"/events", url.Values{"csrf": {csrf}, "id": {"tay-ho-dialogue"},
			"kind": {"dialogue"}, "unit": {"003"}, "date": {"2021-06-01"}, "groups": {"no_such_group"}})
		assert.Contains(t, d.one("error").text(), "event.groups")
		d = coord.follow("/api/campaigns/"+campaignID+"/events", url.Values{"csrf": {csrf}, "id": {"tay-ho-dialogue"},
			"kind": {"dialogue"}, "unit": {"003"}, "date": {"2021-13-01"}, "groups": {"farmer"}})
		assert.Contains(t, d.one("error").text(), "date:")
		assert.Equal(t, before, s.fingerprint(), "refused Updates write nothing")

		// Accepted: the event is added, then cancelled, each once.
		d = coord.follow("/api/campaigns/"+campaignID+"/events", url.Values{"csrf": {csrf}, "id": {"tay-ho-dialogue"},
			"kind": {"dialogue"}, "unit": {"003"}, "date": {"2021-06-01"}, "groups": {"farmer", "student"}, "expected": {"25"}, "title": {"Đối thoại"}})
		assert.Contains(t, d.one("flash").text(), "tay-ho-dialogue")
		row := d.row("event-row", "data-event", "tay-ho-dialogue")
		assert.Equal(t, "planned", row.attr("data-status"))
		assert.Contains(t, row.text(), "01/06/2021")
		d = coord.follow("/api/campaigns/"+campaignID+"/events/tay-ho-dialogue/cancel", url.Values{"csrf": {csrf}, "reason": {"trùng lịch"}})
		assert.Contains(t, d.one("flash").text(), "tay-ho-dialogue")
		assert.Equal(t, "cancelled", d.row("event-row", "data-event", "tay-ho-dialogue").attr("data-status"))
		assert.Equal(t, 1, s.count(`select count(*) from audit_log where campaign_id = $1 and action = 'event.cancel' and entity_key = 'tay-ho-dialogue' and actor = 'lan'`, campaignID),
			"the cancellation is audited once, as the signed-in coordinator's")
	})

	t.Run("auditors read and cannot act; CSRF is required", func(t *testing.T) {
		d := aud.page("/campaigns/" + campaignID + "/events")
		d.one("read-only")
		assert.Empty(t, d.all("event-add-submit"), "no forms for an auditor")
		assert.NotContains(t, d.text, `method="post" action="/api`)
		before := s.fingerprint()
		audCSRF := csrfInput.FindStringSubmatch(aud.page("/").text) // the sign-out form's
		require.NotNil(t, audCSRF)
		res := aud.postForm("/api/campaigns/"+campaignID+"/events/ba-dinh-conference/cancel", url.Values{"csrf": {audCSRF[1]}, "reason": {"x"}})
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		res = s.api("POST", "/api/campaigns/"+campaignID+"/events/ba-dinh-conference/cancel", "auditor-api-token-0123456789",
			"application/json", strings.NewReader(`{"reason":"x"}`))
		assert.Equal(t, http.StatusForbidden, res.StatusCode)

		// A coordinator's form without its token, or with another session's, is refused.
		res = coord.postForm("/api/campaigns/"+campaignID+"/events/ba-dinh-conference/cancel", url.Values{"reason": {"x"}})
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		res = coord.postForm("/api/campaigns/"+campaignID+"/events/ba-dinh-conference/cancel", url.Values{"csrf": {audCSRF[1]}, "reason": {"x"}})
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		res = coord.postForm("/api/campaigns/"+campaignID+"/events/ba-dinh-conference/cancel", url.Values{"csrf": {"forged"}, "reason": {"x"}})
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		assert.Equal(t, before, s.fingerprint())

		// No state changes on GET: the action routes answer GET with 405, and every page leaves
		// the database as it was.
		assert.Equal(t, http.StatusMethodNotAllowed, coord.get("/api/campaigns/"+campaignID+"/events/ba-dinh-conference/cancel?reason=x").StatusCode)
		for _, p := range []string{"/", "/campaigns/" + campaignID, "/campaigns/" + campaignID + "/units/003", "/campaigns/" + campaignID + "/agents",
			"/campaigns/" + campaignID + "/events", "/campaigns/" + campaignID + "/reviews", "/campaigns/" + campaignID + "/imports",
			"/campaigns/" + campaignID + "/trace/unit/00091", "/api/campaigns/" + campaignID, "/api/campaigns/" + campaignID + "/reviews"} {
			coord.get(p)
		}
		assert.Equal(t, before, s.fingerprint(), "GET changed nothing")
	})

	t.Run("the API takes a bearer token", func(t *testing.T) {
		res := s.api("GET", "/api/campaigns/"+campaignID, coordToken, "", nil)
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		var v struct {
			Report report.Report `json:"report"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.Body), &v))
		assert.Equal(t, 15, v.Report.Enrolled)
		// The campaign's answer goes down to its districts; agents come a page at a time.
		var raw struct {
			Report map[string]json.RawMessage `json:"report"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.Body), &raw))
		assert.NotContains(t, raw.Report, "agents")
		require.NotEmpty(t, v.Report.Units)
		for _, u := range v.Report.Units {
			assert.Equal(t, "district", u.Level, u.Code)
		}
		assert.Equal(t, s.count(`select count(*) from units where campaign_id = $1 and level = 'district'`, campaignID), len(v.Report.Units))
		res = s.api("POST", "/api/campaigns/"+campaignID+"/events/no-such-event/cancel", coordToken, "application/json", strings.NewReader(`{"reason":"x"}`))
		assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		assert.Contains(t, res.Body, `event_id: unknown event \"no-such-event\"`)
	})

	t.Run("reviews: approve needs a reason; an approval terminates the agent", func(t *testing.T) {
		startReview(t, s, "2021-Q1")
		testDecisionsPaged(t, s, "2021-Q1")
		d := coord.page("/campaigns/" + campaignID + "/reviews")
		row := d.row("pending-row", "data-agent", "DL-00001-1")
		assert.Equal(t, "2021-Q1", row.attr("data-period"))
		row.one(t, "reason")
		row.one(t, "approve")
		row.one(t, "reject")
		csrf := d.csrf()
		path := "/api/campaigns/" + campaignID + "/reviews/2021-Q1/decisions"

		before := s.fingerprint()
		d = coord.follow(path, url.Values{"csrf": {csrf}, "agent": {"DL-00001-1"}, "decision": {"approve"}, "reason": {"  "}})
		assert.Contains(t, d.one("error").text(), "reason: say why")
		d = coord.follow(path, url.Values{"csrf": {csrf}, "agent": {"NO-SUCH"}, "decision": {"approve"}, "reason": {"x"}})
		assert.Contains(t, d.one("error").text(), `agent: "NO-SUCH" has no termination pending in review 2021-Q1`)
		assert.Equal(t, before, s.fingerprint(), "refused decisions write nothing")
		d.row("pending-row", "data-agent", "DL-00001-1")

		// The lists' totals are kept between changes of the campaign: read them now, so that the
		// decisions below must change them.
		pendingBefore := pendingTotal(t, s)
		terminatedBefore := agentsTotal(t, s, "?status=terminated")
		d = coord.follow(path, url.Values{"csrf": {csrf}, "agent": {"DL-00001-1"}, "decision": {"approve"}, "reason": {"không hoạt động"}})
		assert.Contains(t, d.one("flash").text(), "DL-00001-1")
		for _, r := range d.all("pending-row") {
			assert.NotEqual(t, "DL-00001-1", r.attr("data-agent"))
		}
		d = coord.follow(path, url.Values{"csrf": {csrf}, "agent": {"DL-00004-1"}, "decision": {"reject"}, "reason": {"mới vào nghề"}})
		assert.Contains(t, d.one("flash").text(), "DL-00004-1")

		assert.Equal(t, pendingBefore-2, pendingTotal(t, s), "two terminations decided")
		assert.Equal(t, terminatedBefore+1, agentsTotal(t, s, "?status=terminated"), "one agent terminated")
		checkQuotas(t, s) // the terminated agent's quota went to others of its commune
		agents := aud.page("/campaigns/" + campaignID + "/agents")
		assert.Equal(t, "terminated", agents.row("agent-row", "data-agent", "DL-00001-1").one(t, "agent-status").attr("data-value"))
		assert.Equal(t, "terminate", agents.row("agent-row", "data-agent", "DL-00001-1").one(t, "last-decision").attr("data-value"))
		assert.Equal(t, "active", agents.row("agent-row", "data-agent", "DL-00004-1").one(t, "agent-status").attr("data-value"))
		tr := aud.page("/campaigns/" + campaignID + "/trace/agent/DL-00001-1")
		var actions []string
		for _, r := range tr.all("audit-row") {
			actions = append(actions, r.attr("data-action"))
		}
		assert.Contains(t, actions, "review.terminate")
		assert.Contains(t, actions, "review.evaluate")

		// The trace's quota lines say the quota, not "1 quota as assigned": the quota assigned
		// is the quota now plus what was handed on, and each transfer says what it moved.
		var traced struct {
			Trace struct {
				Figures []struct {
					Name   string `json:"name"`
					Value  int    `json:"value"`
					Writes []struct {
						Rows int    `json:"rows"`
						What string `json:"what"`
					} `json:"writes"`
				} `json:"figures"`
			} `json:"trace"`
		}
		res := s.api("GET", "/api/campaigns/"+campaignID+"/trace/agent/DL-00001-1", coordToken, "", nil)
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		require.NoError(t, json.Unmarshal([]byte(res.Body), &traced))
		quota := traced.Trace.Figures[0]
		now := s.count(`select target from quotas where campaign_id = $1 and level = 'agent' and code = 'DL-00001-1'`, campaignID)
		moved := s.count(`select coalesce(sum(amount), 0)::int from quota_transfers where campaign_id = $1 and from_agent = 'DL-00001-1'`, campaignID)
		require.NotZero(t, moved, "the terminated agent's quota was handed on")
		assert.Equal(t, "quota", quota.Name)
		assert.Equal(t, now, quota.Value)
		require.NotEmpty(t, quota.Writes)
		assert.Equal(t, fmt.Sprintf("quota row: %d as assigned", now+moved), quota.Writes[0].What)
		for _, w := range quota.Writes[1:] {
			assert.Equal(t, 1, w.Rows, "a transfer is one row: %s", w.What)
			assert.Contains(t, w.What, "moved from DL-00001-1")
		}
		assert.Len(t, quota.Writes, 1+s.count(`select count(*)::int from quota_transfers where campaign_id = $1 and from_agent = 'DL-00001-1'`, campaignID))

		// Review totals' keys are the JSON's lower snake case; a period never reviewed is not found.
		res = s.api("GET", "/api/campaigns/"+campaignID+"/reviews", coordToken, "", nil)
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		var totals struct {
			Totals []map[string]any `json:"totals"`
		}
		require.NoError(t, json.Unmarshal([]byte(res.Body), &totals))
		require.NotEmpty(t, totals.Totals)
		assert.Equal(t, "2021-Q1", totals.Totals[0]["period"])
		for _, k := range []string{"agents", "rewarded", "commended", "retained", "warned", "proposed", "approved", "rejected", "escalated"} {
			assert.Contains(t, totals.Totals[0], k)
		}
		res = s.api("GET", "/api/campaigns/"+campaignID+"/reviews?period=2099-Q9", coordToken, "", nil)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, res.Body)
		assert.Equal(t, http.StatusOK, s.api("GET", "/api/campaigns/"+campaignID+"/reviews?period=2021-Q1", coordToken, "", nil).StatusCode)
	})

	t.Run("downloads hold the page's figures and lines, of the viewer's part", func(t *testing.T) { testDownloads(t, s, coord) })

	// After the checks of the campaign's figures: the field's enrolments change them.
	t.Run("an agent's phone sends entries, counted by the workflow in batches", func(t *testing.T) { fieldEntries(t, s) })
	// Last: the revision changes the campaign's targets.
	t.Run("the campaign page shows the plan's revisions", func(t *testing.T) { planRevisions(t, s) })
	t.Run("the log holds no personal data", func(t *testing.T) { checkLog(t, s) })
}

// The server's log names routes, never the codes, names or phones in a request or a page.
func checkLog(t *testing.T, s *site) {
	log := s.log.String()
	assert.Contains(t, log, `"route":"GET /campaigns/{id}/agents"`)
	assert.Contains(t, log, `"route":"POST /api/campaigns/{id}/reviews/{period}/decisions"`)
	for _, personal := range []string{"DL-00001-1", "Trần Thị Bình", "0912000002", "Người Tham Gia", "0019010"} {
		assert.NotContains(t, log, personal)
	}
}

// startReview starts a review of the campaign so far whose policy proposes every agent for
// termination, and waits until it has evaluated them.
func startReview(t *testing.T, s *site, period string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	clock, _, err := s.co.Clock(ctx, campaignID)
	require.NoError(t, err)
	start := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	in := campaign.ReviewInput{CampaignID: campaignID, Clock: clock,
		Period: plan.ReviewPeriod{Label: period, Start: start, End: clock.CampaignTime(time.Now())},
		Policy: plan.ReviewPolicy{RewardAt: 5, WarnBelow: 3, TerminateBelow: 2.5, TerminateAfter: 1,
			ApprovalWait: plan.Duration(60 * 24 * time.Hour)}}
	_, err = s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: campaign.ReviewWorkflowID(campaignID, period),
		TaskQueue: campaign.TaskQueue}, campaign.ReviewWorkflowName, in)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = s.tc.TerminateWorkflow(context.Background(), campaign.ReviewWorkflowID(campaignID, period), "", "test over")
	})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var n int
		assert.NoError(c, s.db.QueryRow(ctx, `select count(*) from review_decisions where campaign_id = $1 and period = $2 and status = 'pending'`,
			campaignID, period).Scan(&n))
		assert.Positive(c, n)
	}, 30*time.Second, 100*time.Millisecond)
	// The workflow has evaluated once its Query says so (the validator refuses until then).
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		v, err := s.tc.QueryWorkflow(ctx, campaign.ReviewWorkflowID(campaignID, period), "", campaign.QueryReview)
		if assert.NoError(c, err) {
			var p campaign.ReviewProgress
			assert.NoError(c, v.Get(&p))
			assert.NotEmpty(c, p.Pending)
		}
	}, 30*time.Second, 100*time.Millisecond)
}
