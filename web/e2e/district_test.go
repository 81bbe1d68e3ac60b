package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"drives/accounts"
	"drives/internal/browser"
	"drives/internal/testenv"
	"drives/report"
	"drives/web"
)

// officerName is the district officer's account, made by accounts.Store.Add in the test.
const officerName = "can-bo-quan"

// districtInput is what district.mjs is given.
type districtInput struct {
	BaseURL  string `json:"baseURL"`
	Campaign string `json:"campaign"`
	// Officer signs in with the one-time password Add gave, then chooses NewPassword.
	Officer     login    `json:"officer"`
	NewPassword string   `json:"newPassword"`
	Agent       string   `json:"agent"`      // the pending termination in the officer's district
	OtherAgent  string   `json:"otherAgent"` // the pending termination in another district
	Period      string   `json:"period"`     // the review's
	Reason      string   `json:"reason"`     // for the approval
	OwnCommune  string   `json:"ownCommune"` // a commune of the officer's district: its page answers
	OtherUnits  []string `json:"otherUnits"` // another district and one of its communes: 404
}

// unitStatus is the HTTP status of a unit's page and of its JSON twin.
type unitStatus struct {
	Page, API int
	APIError  string
}

// districtSeen is what district.mjs saw.
type districtSeen struct {
	Steps          []string
	LandedPath     string // where the first sign-in led
	MustChange     int    // the form's note that the given password works once
	BlockedPath    string // where the campaign page led before the password was changed
	PasswordDone   int
	Who            string
	ListRow        figure // the campaign's row on the list of campaigns
	CampaignLoadMs float64
	Status         string
	Scope          string
	City           struct{ Enrolled, Target, Attainment string }
	Districts      map[string]figure
	PendingRows    []struct{ Agent, Period string }
	OtherPending   int
	Flash          string
	PendingAfter   int
	NothingPending int
	// OutOfScopeDecision is the status of a decision posted for the other district's agent.
	OutOfScopeDecision int
	Units              map[string]unitStatus
	Shots              map[string]string
}

// A district officer, given an account by accounts.Store.Add for the district of the pending
// termination of DL-00001-3, signs in to the running campaign in Chromium with the one-time
// password and is made to choose their own first. The campaign's page holds their district
// only: its figures are `starter report --unit <district>`'s (report.Within of report.Load),
// its district rows are the scope's one district. On the reviews page only their district's
// pending termination is listed; they approve it with a reason, and the database says it is
// approved by them and the agent terminated. A unit of the other district, page and JSON,
// answers 404, as does a decision posted for that district's agent, which stays pending.
//
// Mutations of this test's own expectations that made it fail (each undone): building the
// expected figures and scope from the other district (scope, figures, the list's row and the
// district rows differ); expecting 200 instead of 404 for the other district's units (both
// units, page and JSON); binding the account to the other district instead (scope, figures and
// rows differ, the other agent's termination is the one listed, nothing is approved).
func TestDistrictOfficerApprovesInDistrict(t *testing.T) {
	r := browser.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := newScenario(t, ctx, "web-e2e-district-2021")

	var pending []string
	for _, d := range s.pending {
		require.Equal(t, s.period, d.Period)
		require.Equal(t, "terminate", d.Decision)
		pending = append(pending, d.Agent)
	}
	require.Equal(t, []string{"DL-00001-3", "DL-00011-1"}, pending)
	agent, other := pending[0], pending[1]

	// Where the agents work, from the database: the officer's district is the first agent's,
	// the other district the second agent's (Hà Nội fixture: 001 and 002).
	var district, ownCommune, otherDistrict, otherCommune string
	require.NoError(t, s.db.QueryRow(ctx, `select district_code, commune_code from agents where campaign_id = $1 and code = $2`,
		s.id, agent).Scan(&district, &ownCommune))
	require.NoError(t, s.db.QueryRow(ctx, `select district_code, commune_code from agents where campaign_id = $1 and code = $2`,
		s.id, other).Scan(&otherDistrict, &otherCommune))
	require.NotEqual(t, district, otherDistrict, "the scenario's two pending terminations are in different districts")
	t.Logf("the officer's district %s (%s's commune %s); the other district %s (%s's commune %s)",
		district, agent, ownCommune, otherDistrict, other, otherCommune)

	oneTime, err := (&accounts.Store{DB: s.db}).Add(ctx, "tester", accounts.Spec{
		Name: officerName, Role: accounts.RoleDistrict, Campaign: s.id, Districts: []string{district}})
	require.NoError(t, err)

	srv := httptest.NewServer(newAccountsWeb(t, s))
	defer srv.Close()

	const reason = "Không tuyển được người tham gia nào trong kỳ đánh giá"
	const chosen = "mat-khau-moi-cua-quan-mot"
	res, err := r.Run(ctx, t, "district.mjs", districtInput{
		BaseURL: srv.URL, Campaign: s.id, Officer: login{officerName, oneTime}, NewPassword: chosen,
		Agent: agent, OtherAgent: other, Period: s.period, Reason: reason,
		OwnCommune: ownCommune, OtherUnits: []string{otherDistrict, otherCommune},
	})
	require.NoError(t, err)
	var seen districtSeen
	require.NoError(t, res.Decode(&seen))
	b, _ := json.MarshalIndent(seen, "", "  ")
	t.Logf("the browser saw:\n%s", b)

	// The one-time password leads to the password form, and nowhere else until it is replaced.
	assert.Equal(t, "/password", seen.LandedPath, "the first sign-in lands on the password form")
	assert.Equal(t, 1, seen.MustChange, "the form says why")
	assert.Equal(t, "/password", seen.BlockedPath, "the campaign page waits for the new password")
	assert.Equal(t, 1, seen.PasswordDone)
	assert.Contains(t, seen.Who, officerName)
	assert.Contains(t, seen.Who, accounts.RoleDistrict)
	assert.Equal(t, 0, s.count(t, `select count(*) from accounts where name = $1 and must_change`, officerName))

	// The figures are the district's: what `starter report <campaign> --unit <district>` prints
	// (report.Within of report.Load), read from the same database after the browser's run (the
	// approval moves no enrolment and no unit's target).
	whole, err := report.Load(ctx, s.db, s.id)
	require.NoError(t, err)
	part, err := report.Within(whole, []string{district})
	require.NoError(t, err)
	require.Positive(t, part.Target)
	require.Less(t, part.Target, whole.Target, "the district is a part of the city")
	assert.Equal(t, "running", seen.Status)
	assert.Equal(t, district, seen.Scope)
	assert.Equal(t, strconv.Itoa(part.Enrolled), seen.City.Enrolled)
	assert.Equal(t, strconv.Itoa(part.Target), seen.City.Target)
	attainment, err := strconv.ParseFloat(seen.City.Attainment, 64)
	require.NoError(t, err, "city-attainment data-value")
	assert.InDelta(t, float64(part.Enrolled)/float64(part.Target), attainment, 1e-12)
	assert.Equal(t, figure{strconv.Itoa(part.Enrolled), strconv.Itoa(part.Target)}, seen.ListRow,
		"the list of campaigns gives the district's totals too")
	// The rows are exactly the scope's district, with the report's line for it.
	want := map[string]figure{}
	for _, u := range part.Units {
		if slices.Contains(part.Scope, u.Code) {
			want[u.Code] = figure{strconv.Itoa(u.Enrolled), strconv.Itoa(u.Target)}
		}
	}
	require.Len(t, want, 1)
	assert.Equal(t, want, seen.Districts)

	// The reviews page listed only the district's pending termination; the officer approved it.
	assert.Equal(t, []struct{ Agent, Period string }{{agent, s.period}}, seen.PendingRows)
	assert.Zero(t, seen.OtherPending, "the other district's pending termination is not listed")
	assert.Contains(t, seen.Flash, agent)
	assert.Zero(t, seen.PendingAfter)
	assert.Equal(t, 1, seen.NothingPending, "nothing left pending in the district")

	// The database agrees: approved by the officer, with the reason, and the agent terminated.
	assert.Equal(t, "terminated", s.agentStatus(t, agent))
	assert.Equal(t, 1, s.count(t, `select count(*) from review_decisions where campaign_id = $1 and agent_code = $2
		and status = 'approved' and decided_by = $3 and decided_reason = $4`, s.id, agent, officerName, reason))
	assert.Equal(t, 1, s.count(t, `select count(*) from audit_log where campaign_id = $1 and action = 'review.terminate'
		and entity_key = $2 and actor = $3 and detail->>'reason' = $4`, s.id, agent, officerName, reason))

	// Outside the district: a decision on the other agent is refused as not there, and the
	// agent's termination is still pending; the other district's units answer 404.
	assert.Equal(t, http.StatusNotFound, seen.OutOfScopeDecision)
	assert.Equal(t, "active", s.agentStatus(t, other), "the other district's agent is untouched")
	assert.Equal(t, 1, s.count(t, `select count(*) from review_decisions where campaign_id = $1 and agent_code = $2
		and status = 'pending' and decided_by is null`, s.id, other))
	assert.Equal(t, unitStatus{Page: http.StatusOK, API: http.StatusOK}, seen.Units[ownCommune], "a commune of the district answers")
	for _, code := range []string{otherDistrict, otherCommune} {
		got := seen.Units[code]
		assert.Equal(t, http.StatusNotFound, got.Page, "the page of unit %s", code)
		assert.Equal(t, http.StatusNotFound, got.API, "the JSON of unit %s", code)
		assert.Contains(t, got.APIError, "has no unit "+code, "said as for a unit that does not exist")
	}

	for _, name := range []string{"campaign", "reviews"} {
		assert.FileExists(t, seen.Shots[name])
	}
	t.Logf("district officer's campaign page load: %.0f ms; browser run: %v", seen.CampaignLoadMs, res.Elapsed.Round(time.Millisecond))
}

// newAccountsWeb is the web server over the scenario's database and Temporal with no users
// file: everyone signs in with an account (package accounts).
func newAccountsWeb(t testing.TB, s *scenario) http.Handler {
	t.Helper()
	h, err := web.New(web.Config{DB: s.db, Temporal: s.tc, TemporalUI: "http://127.0.0.1:8233", Namespace: testenv.Namespace})
	require.NoError(t, err)
	return h
}
