package e2e_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"drives/accounts"
	"drives/campaign"
	"drives/coordinator"
	"drives/internal/browser"
	"drives/internal/testenv"
	"drives/plan"
	"drives/report"
)

// fieldInput is what field.mjs is given.
type fieldInput struct {
	BaseURL  string `json:"baseURL"`
	Campaign string `json:"campaign"`
	Agent    login  `json:"agent"`
	// AgentToken is the agent's API token: another client of theirs, which closes Conflict
	// while the phone, offline, enrols that lead.
	AgentToken string `json:"agentToken"`
	Conflict   int64  `json:"conflict"`
	// The follow-ups the agent records an outcome of, offline.
	Declined          int64  `json:"declined"`
	DeclinedReason    string `json:"declinedReason"`
	Unreachable       int64  `json:"unreachable"`
	UnreachableReason string `json:"unreachableReason"`
	Enrolled          int64  `json:"enrolled"`
	Enrolment         terms  `json:"enrolment"`
	WalkIn            walkIn `json:"walkIn"`
}

type terms struct {
	Income  string `json:"income"` // as typed: with the dots of Vietnamese thousands
	Subsidy string `json:"subsidy"`
	Payment string `json:"payment"`
}

type walkIn struct {
	CitizenID string `json:"citizenID"`
	FullName  string `json:"fullName"`
	Phone     string `json:"phone"`
	Village   string `json:"village"`
	Group     string `json:"group"`
	terms
}

type agentFigures struct {
	Quota, Enrolled, LastDecision, LastDecisionText string
}

// fieldSeen is what field.mjs saw.
type fieldSeen struct {
	Steps      []string
	Lang       string
	Controlled bool
	SwScope    string
	RowsOnline []int64
	Before     agentFigures
	NetOnline  string
	NetOffline string
	FirstRow   struct{ Name, PhoneHref, Village, Event string }
	Layout     struct {
		ScrollWidth, InnerWidth int
		Small                   []string
	}
	QueueOnline           int
	ReasonRequired        string
	QueueAfterRefusedForm int
	QueueOffline          int
	QueueText             string
	// Queued are the entries as the phone queued them: their bodies are what it sent.
	Queued []struct {
		State string
		Body  json.RawMessage
	}
	AfterReload struct {
		Net         string
		Queue       int
		Rows        []int64
		WaitingRows int
		Entries     int
	}
	SentMs  int
	Results []struct {
		ID, Kind, Status, Again, Refused string
	}
	RowsAfter []int64
	After     agentFigures
	Other     struct {
		ID     string
		Status int
		Body   struct{ Results []fieldResult }
	}
	Conflict struct {
		ID, Status, Field, Refused string
		Rows                       []int64
	}
	English   struct{ Lang, Net, Today string }
	LangBack  string
	SignedOut struct {
		Databases, Caches []string
		Workers           int
		ReopenedPath      string
		ReopenedStatus    int
		OfflineOpened     bool
		OfflineError      string
		OfflineRows       int
	}
	PageErrors, CspErrors []string
	Shots                 map[string]string
}

// fieldLead is a lead of the test's event, and the follow-up the agent holds for them.
type fieldLead struct {
	citizen, name, phone, village, group string
	followUp                             int64
}

// A collection agent works a day on the field page (/m/) in Chromium with a phone's screen.
// The scenario's agents hold no follow-up (it imports enrolments only), so the test holds a
// dialogue in the commune of DL-00003-1 (its one agent) and records its five leads there
// (imports.EventResults, as `starter event results` does): the agent holds their follow-ups.
// Signed in, the agent finds them on the page, traders (the likelier group) first, with the
// phone to call; the service worker takes over the page. Offline, the agent records a refusal,
// an unreachable lead (a reason is required), a lead's enrolment and the enrolment of a person
// met there: the page says 4 waiting to send, and a reload offline opens the page from the
// service worker with the list and the queue. Online again, the queue empties by itself and
// every entry is recorded. The database holds each entry once with its effect (the follow-ups
// closed as declined, unreachable and enrolled; the two people enrolled once, by the agent,
// on the terms given) and an audit row without personal data; the office's campaign page
// (GET /api/campaigns/{id}) counts two more in the agent's district. The entries sent again,
// as a phone that lost the answer would, are answered "again" and write nothing. A conflict:
// offline, the agent enrols the last student; meanwhile another client of theirs (the API,
// with their token) records that lead as declined; sent, the phone's entry is refused and the
// page shows the API's words on it. The page switches to English and back. Signing out leaves
// nothing on the phone: no database, no cache, no service worker; /m/ asks to sign in.
//
// The page, in Chromium, must also raise no script error and nothing its Content-Security-
// Policy blocks, fit a 360-pixel screen, and give touch targets of at least 40 × 40 pixels.
func TestFieldAgentWorksOffline(t *testing.T) {
	r := browser.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := newScenario(t, ctx, "web-e2e-field-2021")

	const agent, commune, district = "DL-00003-1", "00003", "001"
	byAgent := map[string]int{}
	rows, err := s.db.Query(ctx, `select agent_code, count(*)::int from follow_ups where campaign_id = $1 and status = 'open' group by 1`, s.id)
	require.NoError(t, err)
	for rows.Next() {
		var a string
		var n int
		require.NoError(t, rows.Scan(&a, &n))
		byAgent[a] = n
	}
	require.NoError(t, rows.Err())
	t.Logf("open follow-ups by agent before the test's event: %v", byAgent)
	require.Equal(t, 1, s.count(t, `select count(*) from agents where campaign_id = $1 and commune_code = $2 and kind = 'agent' and status = 'active'`,
		s.id, commune), "the commune's one agent holds all its leads")

	leads := []fieldLead{
		{citizen: "001930000001", name: "Nguyễn Thị Mai", phone: "0912000001", village: "00003-01", group: "trader"},
		{citizen: "001930000002", name: "Trần Văn Phúc", phone: "0912000002", village: "00003-01", group: "trader"},
		{citizen: "001930000003", name: "Lê Thị Quỳnh", phone: "0912000003", village: "00003-02", group: "trader"},
		{citizen: "001930000004", name: "Phạm Văn Sơn", phone: "0912000004", village: "00003-02", group: "student"},
		{citizen: "001930000005", name: "Hoàng Thị Tâm", phone: "0912000005", village: "00003-01", group: "student"},
	}
	const eventID = "field-dialogue-00003"
	addFieldLeads(t, ctx, s, eventID, commune, leads)
	for i := range leads {
		require.NoError(t, s.db.QueryRow(ctx, `select f.id from follow_ups f join prospects p on p.id = f.prospect_id
			where f.campaign_id = $1 and p.citizen_id = $2 and f.agent_code = $3 and f.status = 'open'`,
			s.id, leads[i].citizen, agent).Scan(&leads[i].followUp), "the follow-up of %s", leads[i].citizen)
	}
	require.Equal(t, len(leads), s.count(t, `select count(*) from follow_ups where campaign_id = $1 and agent_code = $2 and status = 'open'`, s.id, agent))
	declined, unreachable, enrolled := leads[0], leads[1], leads[2]

	// The agent's account, as `starter users add` makes it, with a password of their own and
	// an API token (to send the phone's entries again); a coordinator's, to read the office's
	// page.
	accts := &accounts.Store{DB: s.db}
	agentName := strings.ToLower(agent)
	const chosen = "mat-khau-cua-dai-ly-3"
	agentToken := "field-agent-token-" + strings.Repeat("7", 24)
	oneTime, err := accts.Add(ctx, "tester", accounts.Spec{Name: agentName, Role: accounts.RoleAgent, Agent: agent, Campaign: s.id, Token: agentToken})
	require.NoError(t, err)
	require.NoError(t, accts.ChangePassword(ctx, agentName, oneTime, chosen))
	coordToken := "field-coordinator-token-" + strings.Repeat("3", 24)
	coordOneTime, err := accts.Add(ctx, "tester", accounts.Spec{Name: "dieu-phoi-field", Role: accounts.RoleCoordinator, Campaign: s.id, Token: coordToken})
	require.NoError(t, err)
	require.NoError(t, accts.ChangePassword(ctx, "dieu-phoi-field", coordOneTime, "mat-khau-dieu-phoi-field"))

	srv := httptest.NewServer(newAccountsWeb(t, s))
	defer srv.Close()
	districtBefore := officeDistrictEnrolled(t, ctx, srv.URL, coordToken, s.id, district)
	rep, err := report.Build(ctx, s.db, s.id)
	require.NoError(t, err)
	reportBefore := districtOf(t, rep, district)
	var agentEnrolledBefore int
	require.NoError(t, s.db.QueryRow(ctx, `select count(*)::int from enrolments where campaign_id = $1 and agent_code = $2`, s.id, agent).
		Scan(&agentEnrolledBefore))

	in := fieldInput{
		BaseURL: srv.URL, Campaign: s.id, Agent: login{agentName, chosen}, AgentToken: agentToken, Conflict: leads[4].followUp,
		Declined: declined.followUp, DeclinedReason: "Đã có bảo hiểm ở nơi khác",
		Unreachable: unreachable.followUp, UnreachableReason: "Gọi ba lần không nghe máy, đến nhà không gặp",
		Enrolled: enrolled.followUp, Enrolment: terms{Income: "2.500.000", Subsidy: "near_poor", Payment: "3m"},
		WalkIn: walkIn{CitizenID: "001930000099", FullName: "Vũ Văn Thành", Phone: "0912000099", Village: "00003-02", Group: "trader",
			terms: terms{Income: "1500000", Subsidy: "other", Payment: "12m"}},
	}
	res, err := r.Run(ctx, t, "field.mjs", in)
	require.NoError(t, err)
	var seen fieldSeen
	require.NoError(t, res.Decode(&seen))
	b, _ := json.MarshalIndent(seen, "", "  ")
	t.Logf("the browser saw:\n%s", b)

	// Online: the agent's list, in Vietnamese, traders (likelihood 0.45) before students
	// (0.15), each group by its follow-up's number (opened together, due together); the
	// service worker holds the page.
	assert.Empty(t, seen.PageErrors, "script errors on the page")
	assert.Empty(t, seen.CspErrors, "what the field page's Content-Security-Policy blocked")
	assert.Equal(t, "vi", seen.Lang)
	assert.True(t, seen.Controlled, "the service worker controls the page after a reload")
	assert.Equal(t, srv.URL+"/m/", seen.SwScope)
	want := []int64{}
	for _, g := range []string{"trader", "student"} {
		var ids []int64
		for _, l := range leads {
			if l.group == g {
				ids = append(ids, l.followUp)
			}
		}
		slices.Sort(ids)
		want = append(want, ids...)
	}
	assert.Equal(t, want, seen.RowsOnline, "the list: traders first, then students")
	first := leads[slices.IndexFunc(leads, func(l fieldLead) bool { return l.followUp == want[0] })]
	assert.Equal(t, first.name, seen.FirstRow.Name)
	assert.Equal(t, "tel:"+first.phone, seen.FirstRow.PhoneHref, "tap to call")
	assert.Contains(t, seen.FirstRow.Village, "Tổ dân phố", "the village by its name")
	assert.Equal(t, eventID, seen.FirstRow.Event, "the event the lead came from")
	assert.Equal(t, "online", seen.NetOnline)
	assert.Zero(t, seen.QueueOnline)
	assert.Equal(t, fmt.Sprint(agentEnrolledBefore), seen.Before.Enrolled, "enrolled so far")
	var quota int
	require.NoError(t, s.db.QueryRow(ctx, `select target from quotas where campaign_id = $1 and level = 'agent' and code = $2`, s.id, agent).Scan(&quota))
	assert.Equal(t, fmt.Sprint(quota), seen.Before.Quota)
	var lastDecision string
	require.NoError(t, s.db.QueryRow(ctx, `select coalesce((select decision from review_decisions where campaign_id = $1 and agent_code = $2
		order by window_end desc limit 1), '')`, s.id, agent).Scan(&lastDecision))
	assert.Equal(t, lastDecision, seen.Before.LastDecision, "the review's last word")
	assert.Equal(t, seen.Layout.InnerWidth, seen.Layout.ScrollWidth, "nothing wider than a 360-pixel screen")
	assert.Equal(t, 360, seen.Layout.InnerWidth)
	assert.Empty(t, seen.Layout.Small, "touch targets of at least 40×40 pixels")

	// Offline: four entries wait; the reload opens from the service worker with all of it.
	assert.Equal(t, "offline", seen.NetOffline)
	assert.NotEmpty(t, seen.ReasonRequired, "unreachable without a reason is not recorded")
	assert.Equal(t, 1, seen.QueueAfterRefusedForm)
	assert.Equal(t, 4, seen.QueueOffline)
	assert.Equal(t, "4 đang chờ gửi", seen.QueueText)
	require.Len(t, seen.Queued, 4)
	assert.Equal(t, "offline", seen.AfterReload.Net)
	assert.Equal(t, 4, seen.AfterReload.Queue)
	assert.Equal(t, seen.RowsOnline, seen.AfterReload.Rows, "the list, kept on the phone")
	assert.Equal(t, 3, seen.AfterReload.WaitingRows, "three follow-ups wait to be sent")
	assert.Equal(t, 4, seen.AfterReload.Entries)

	// What was queued: each entry with a UUID of the phone, the campaign's day.
	type sentEntry struct {
		ID            string `json:"id"`
		Kind          string `json:"kind"`
		FollowUp      int64  `json:"follow_up"`
		Outcome       string `json:"outcome"`
		Reason        string `json:"reason"`
		CitizenID     string `json:"citizen_id"`
		MonthlyIncome int64  `json:"monthly_income"`
		SubsidyClass  string `json:"subsidy_class"`
		PaymentMode   string `json:"payment_mode"`
		On            string `json:"on"`
	}
	var queued []sentEntry
	var bodies []json.RawMessage
	for _, q := range seen.Queued {
		assert.Equal(t, "waiting", q.State)
		var e sentEntry
		require.NoError(t, json.Unmarshal(q.Body, &e))
		queued = append(queued, e)
		bodies = append(bodies, q.Body)
	}
	ids := make([]string, len(queued))
	for i, e := range queued {
		ids[i] = e.ID
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, e.ID, "crypto.randomUUID")
		assert.Regexp(t, `^2021-01-\d\d$`, e.On, "the day in campaign time")
	}
	assert.Equal(t, sentEntry{ID: ids[0], Kind: "outcome", FollowUp: declined.followUp, Outcome: "declined", Reason: in.DeclinedReason, On: queued[0].On}, queued[0])
	assert.Equal(t, sentEntry{ID: ids[1], Kind: "outcome", FollowUp: unreachable.followUp, Outcome: "unreachable", Reason: in.UnreachableReason, On: queued[1].On}, queued[1])
	assert.Equal(t, sentEntry{ID: ids[2], Kind: "enrolment", FollowUp: enrolled.followUp, MonthlyIncome: 2_500_000, SubsidyClass: "near_poor",
		PaymentMode: "3m", On: queued[2].On}, queued[2])
	assert.Equal(t, sentEntry{ID: ids[3], Kind: "enrolment", CitizenID: in.WalkIn.CitizenID, MonthlyIncome: 1_500_000, SubsidyClass: "other",
		PaymentMode: "12m", On: queued[3].On}, queued[3])

	// Online again: sent by itself, each recorded the first time.
	got := map[string]string{}
	for _, r := range seen.Results {
		got[r.ID] = fmt.Sprintf("%s %s again=%s %s", r.Kind, r.Status, r.Again, r.Refused)
	}
	assert.Equal(t, map[string]string{
		ids[0]: "outcome recorded again=false ", ids[1]: "outcome recorded again=false ",
		ids[2]: "enrolment recorded again=false ", ids[3]: "enrolment recorded again=false ",
	}, got)
	assert.Equal(t, []int64{leads[3].followUp, leads[4].followUp}, seen.RowsAfter, "the closed follow-ups left the list")
	assert.Equal(t, fmt.Sprint(agentEnrolledBefore+2), seen.After.Enrolled, "the page counts the two enrolments")

	// The conflict: the other client's outcome was recorded first; the phone's enrolment of the
	// same lead is refused, and the page shows the API's words on the entry.
	conflict := leads[4]
	assert.Equal(t, http.StatusOK, seen.Other.Status)
	if assert.Len(t, seen.Other.Body.Results, 1) {
		assert.Equal(t, fieldResult{ID: seen.Other.ID, Status: "recorded"}, seen.Other.Body.Results[0])
	}
	assert.Equal(t, "refused", seen.Conflict.Status)
	var refusal, refusedField string
	require.NoError(t, s.db.QueryRow(ctx, `select coalesce(error, ''), coalesce(field, '') from field_entries
		where id = $1 and status = 'refused' and kind = 'enrolment' and follow_up_id = $2 and not enrolled`,
		seen.Conflict.ID, conflict.followUp).Scan(&refusal, &refusedField), "the phone's entry, refused")
	assert.Contains(t, refusal, "closed already")
	assert.Equal(t, refusal, seen.Conflict.Refused, "the refusal, in the API's words")
	assert.Equal(t, refusedField, seen.Conflict.Field)
	assert.Equal(t, []int64{leads[3].followUp}, seen.Conflict.Rows, "the closed lead left the list")

	assert.Equal(t, struct{ Lang, Net, Today string }{"en", "Online", "Today"}, seen.English, "the English switch")
	assert.Equal(t, "vi", seen.LangBack)

	// The database: each entry once, with its effect.
	for i, kind := range []string{"outcome", "outcome", "enrolment", "enrolment"} {
		assert.Equal(t, 1, s.count(t, `select count(*) from field_entries where id = $1 and campaign_id = $2 and agent_code = $3
			and kind = $4 and status = 'recorded' and by_account = $5`, ids[i], s.id, agent, kind, agentName), "entry %d (%s)", i, kind)
	}
	assert.Equal(t, 6, s.count(t, `select count(*) from field_entries where campaign_id = $1`, s.id), "the four, the other client's, the refused")
	assert.Equal(t, 1, s.count(t, `select count(*) from field_entries where id = $1 and reason = $2`, ids[1], in.UnreachableReason))
	for _, c := range []struct {
		l      fieldLead
		status string
	}{{declined, "declined"}, {unreachable, "unreachable"}, {enrolled, "enrolled"}, {leads[3], "open"}, {conflict, "declined"}} {
		var st string
		require.NoError(t, s.db.QueryRow(ctx, `select status from follow_ups where id = $1`, c.l.followUp).Scan(&st))
		assert.Equal(t, c.status, st, "follow-up of %s", c.l.citizen)
	}
	assert.Equal(t, 1, s.count(t, `select count(*) from enrolments where campaign_id = $1 and citizen_id = $2 and agent_code = $3
		and monthly_income = 2500000 and subsidy_class = 'near_poor' and payment_months = 3 and full_name = $4`,
		s.id, enrolled.citizen, agent, enrolled.name), "the lead enrolled once, on the terms given")
	assert.Equal(t, 1, s.count(t, `select count(*) from enrolments where campaign_id = $1 and citizen_id = $2 and agent_code = $3
		and monthly_income = 1500000 and subsidy_class = 'other' and payment_months = 12 and full_name = $4 and village_code = $5`,
		s.id, in.WalkIn.CitizenID, agent, in.WalkIn.FullName, in.WalkIn.Village), "the walk-in enrolled once")
	for _, c := range []string{declined.citizen, unreachable.citizen, conflict.citizen} {
		assert.Zero(t, s.count(t, `select count(*) from enrolments where campaign_id = $1 and citizen_id = $2`, s.id, c))
	}
	// Each recorded entry is named by one audit row of the agent's (field.*: a row per entry, or
	// per send, naming its entries).
	for _, id := range append(slices.Clone(ids), seen.Other.ID) {
		assert.Equal(t, 1, s.count(t, `select count(*) from audit_log where campaign_id = $1 and action like 'field.%' and entity_key = $2
			and actor = $3 and detail::text like '%' || $4 || '%'`, s.id, agent, agentName, id), "the audit row of entry %s", id)
	}
	for _, pd := range []string{enrolled.citizen, enrolled.name, in.WalkIn.CitizenID, in.WalkIn.FullName, in.WalkIn.Phone, in.UnreachableReason} {
		assert.Zero(t, s.count(t, `select count(*) from audit_log where campaign_id = $1 and action like 'field.%' and detail::text like '%' || $2 || '%'`,
			s.id, pd), "no personal data in the audit rows: %s", pd)
	}

	// The office sees it on its next load.
	assert.Equal(t, districtBefore+2, officeDistrictEnrolled(t, ctx, srv.URL, coordToken, s.id, district), "GET /api/campaigns/{id}: the district")
	rep, err = report.Build(ctx, s.db, s.id)
	require.NoError(t, err)
	assert.Equal(t, reportBefore+2, districtOf(t, rep, district), "report.Build: the district")

	// Sent again (an answer lost on the way): the first receipt's answers, nothing written.
	// The workflow's count of the enrolments (record-field, in batches) is let finish first.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Zero(c, s.count(t, `select count(*) from field_entries where campaign_id = $1 and enrolled and folded_at is null`, s.id))
	}, 60*time.Second, 250*time.Millisecond, "the workflow counts the field's enrolments")
	again := sendFieldEntries(t, ctx, s, srv.URL, agentToken, bodies)
	require.Len(t, again.Results, 4)
	for i, r := range again.Results {
		assert.Equal(t, fieldResult{ID: ids[i], Status: "recorded", Again: true}, r, "entry %d sent again", i)
	}

	// Signed out: nothing left on the phone, and /m/ asks to sign in.
	assert.NotContains(t, seen.SignedOut.Databases, "drives-field")
	assert.Empty(t, seen.SignedOut.Caches)
	assert.Zero(t, seen.SignedOut.Workers)
	assert.Equal(t, "/login", seen.SignedOut.ReopenedPath)
	assert.False(t, seen.SignedOut.OfflineOpened, "offline, the page is gone with its service worker")
	assert.Zero(t, seen.SignedOut.OfflineRows)

	for _, name := range []string{"online", "offline"} {
		assert.FileExists(t, seen.Shots[name])
	}
	t.Logf("field page: the queue went out in %d ms once online; browser run: %v", seen.SentMs, res.Elapsed.Round(time.Millisecond))
}

// addFieldLeads adds a dialogue in a commune for the next campaign day, waits for it to be
// held, and records its leads file: the commune's agents get their follow-ups.
func addFieldLeads(t *testing.T, ctx context.Context, s *scenario, eventID, commune string, leads []fieldLead) {
	t.Helper()
	clock, loc, err := s.co.Clock(ctx, s.id)
	require.NoError(t, err)
	day := clock.CampaignTime(time.Now()).In(loc).AddDate(0, 0, 1)
	ids, err := coordinator.Update[[]string](ctx, s.co, s.id, campaign.UpdateAddEvent, campaign.AddEventRequest{
		Event: plan.EventSpec{ID: eventID, Kind: plan.KindDialogue, Title: "Đối thoại với hộ kinh doanh Phường Cầu", Unit: commune,
			Date: plan.Date{Y: day.Year(), M: int(day.Month()), D: day.Day()}, Groups: []string{"trader", "student"}, ExpectedAttendance: 30},
		By: "tester"})
	require.NoError(t, err)
	require.Equal(t, []string{eventID}, ids)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, 1, s.count(t, `select count(*) from events where campaign_id = $1 and id = $2 and status = 'held'`, s.id, eventID))
	}, 60*time.Second, 200*time.Millisecond, "the dialogue is held")

	var file bytes.Buffer
	w := csv.NewWriter(&file)
	require.NoError(t, w.Write([]string{"citizen_id", "full_name", "phone", "commune_code", "village_code", "target_group"}))
	for _, l := range leads {
		require.NoError(t, w.Write([]string{l.citizen, l.name, l.phone, commune, l.village, l.group}))
	}
	w.Flush()
	res, err := s.im.EventResults(ctx, s.id, eventID, 30, "leads.csv", file.Bytes(), "tester")
	require.NoError(t, err)
	require.Equal(t, len(leads), res.New)
	require.Equal(t, len(leads), res.FollowUps)
}

// officeDistrictEnrolled is a district's enrolled count on the office's campaign page (its
// JSON twin, GET /api/campaigns/{id}).
func officeDistrictEnrolled(t *testing.T, ctx context.Context, base, token, campaignID, district string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/campaigns/"+campaignID, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	var page struct {
		Report report.Report `json:"report"`
	}
	require.NoError(t, json.Unmarshal(body, &page))
	return districtOf(t, &page.Report, district)
}

func districtOf(t *testing.T, rep *report.Report, district string) int {
	t.Helper()
	for _, u := range rep.Units {
		if u.Level == "district" && u.Code == district {
			return u.Enrolled
		}
	}
	t.Fatalf("the report has no district %s", district)
	return 0
}

type fieldResult struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Again  bool   `json:"again"`
	Field  string `json:"field"`
	Error  string `json:"error"`
}

// sendFieldEntries sends entries again as the phone sent them, with the agent's API token,
// and checks that nothing is written: the database's fingerprint is the same before and after.
// The running campaign writes by itself now and then (its follow-up sweep, every 7 campaign
// days: 28 s here), so a send whose fingerprints differ is tried again, up to three times;
// the tables a field entry writes are checked to be untouched by every send.
func sendFieldEntries(t *testing.T, ctx context.Context, s *scenario, base, token string, entries []json.RawMessage) (out struct {
	Results []fieldResult `json:"results"`
}) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"campaign": s.id, "entries": entries})
	require.NoError(t, err)
	fieldTables := func() string {
		var n string
		require.NoError(t, s.db.QueryRow(ctx, `select concat_ws(' ',
			(select count(*) from field_entries), (select count(*) from enrolments), (select count(*) from prospects),
			(select count(*) from audit_log where action like 'field.%'),
			(select md5(string_agg(t::text, '|' order by t::text)) from field_entries t))`).Scan(&n))
		return n
	}
	fieldBefore := fieldTables()
	var changed []string
	for attempt := 1; attempt <= 3; attempt++ {
		before := testenv.Fingerprint(t, s.db)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/field/entries", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
		require.NoError(t, json.Unmarshal(b, &out), "%s", b)
		after := testenv.Fingerprint(t, s.db)
		require.Equal(t, fieldBefore, fieldTables(), "sent again: the field's tables changed")
		changed = changed[:0]
		for k, v := range after {
			if before[k] != v {
				changed = append(changed, k)
			}
		}
		if len(changed) == 0 {
			return out
		}
		slices.Sort(changed)
		t.Logf("sent again (attempt %d): tables %v changed meanwhile; the campaign's own writes? trying again", attempt, changed)
	}
	t.Errorf("sent again three times, the database changed each time: %v", changed)
	return out
}
