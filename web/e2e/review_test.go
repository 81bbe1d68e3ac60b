package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"drives/campaign"
	"drives/internal/browser"
	"drives/internal/testenv"
	"drives/report"
	"drives/web"
)

// The users the browser signs in as.
var (
	coordinatorUser = user{Name: "dieu-phoi", Password: "mat-khau-dieu-phoi", Role: web.RoleCoordinator}
	auditorUser     = user{Name: "kiem-toan", Password: "mat-khau-kiem-toan", Role: web.RoleAuditor}
)

type user struct{ Name, Password, Role string }

type login struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// reviewInput is what review.mjs is given.
type reviewInput struct {
	BaseURL     string `json:"baseURL"`
	Campaign    string `json:"campaign"`
	Coordinator login  `json:"coordinator"`
	Auditor     login  `json:"auditor"`
	Agent       string `json:"agent"`
	Commune     string `json:"commune"` // the agent's: the agents page is read filtered to it
	Period      string `json:"period"`
	Reason      string `json:"reason"`
	// LabelSelector finds the label whose language the test checks.
	LabelSelector string `json:"labelSelector"`
}

type figure struct{ Enrolled, Target string }

// agentSeen is an agent's status on the agents page and the rows of its audit trail.
type agentSeen struct {
	Status struct{ Value, Text string }
	Audit  []struct{ Action, Text string }
}

// actions counts the agent's audit rows by action.
func (a agentSeen) actions() map[string]int {
	n := map[string]int{}
	for _, r := range a.Audit {
		n[r.Action]++
	}
	return n
}

// reviewSeen is what review.mjs saw.
type reviewSeen struct {
	Steps               []string
	UnauthenticatedPath string
	CampaignLoadMs      float64
	Status              string
	Lang                string
	LangAfterSwitch     string
	LangBack            string
	LabelVi, LabelEn    string
	City                struct{ Enrolled, Target, Attainment, EnrolledText string }
	Districts           map[string]figure
	Chart               int
	TemporalLink        string
	Before, After       agentSeen
	PendingBefore       int
	Refusal             string
	Flash               string
	PendingAfter        int
	Auditor             struct{ PendingRows, ApproveButtons, RejectButtons, ReasonInputs int }
	Shots               map[string]string
}

// A coordinator opens the running campaign in Chromium from the list of campaigns, finds the
// report's figures, approves a pending termination with a reason (a decision without one is
// refused in the validator's words), and sees the agent's status change and its audit trail
// gain the decision; the database says the same. The page is in Vietnamese until switched to
// English. An auditor sees the remaining pending termination and nothing to decide it with.
func TestCoordinatorApprovesTermination(t *testing.T) {
	r := browser.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := newScenario(t, ctx, "web-e2e-review-2021")

	// The scenario: a running campaign whose first review proposed the terminations of the two
	// agents who enrolled nobody in the window, both still active.
	p, err := s.co.Progress(ctx, s.id)
	require.NoError(t, err)
	require.Equal(t, campaign.StatusRunning, p.Status)
	require.Equal(t, "2021-01-03", s.period)
	var pending []string
	for _, d := range s.pending {
		require.Equal(t, s.period, d.Period)
		require.Equal(t, "terminate", d.Decision)
		require.Equal(t, "active", s.agentStatus(t, d.Agent))
		pending = append(pending, d.Agent)
	}
	require.Equal(t, []string{"DL-00001-3", "DL-00011-1"}, pending)
	agent := pending[0]

	srv := httptest.NewServer(newWeb(t, s, coordinatorUser, auditorUser))
	defer srv.Close()

	const reason = "Không có người tham gia nào trong kỳ đánh giá"
	res, err := r.Run(ctx, t, "review.mjs", reviewInput{
		BaseURL: srv.URL, Campaign: s.id, Agent: agent, Commune: s.pending[0].Commune, Period: s.period, Reason: reason,
		Coordinator:   login{coordinatorUser.Name, coordinatorUser.Password},
		Auditor:       login{auditorUser.Name, auditorUser.Password},
		LabelSelector: `.figure:has([data-testid="city-enrolled"]) .label`,
	})
	require.NoError(t, err)
	var seen reviewSeen
	require.NoError(t, res.Decode(&seen))
	b, _ := json.MarshalIndent(seen, "", "  ")
	t.Logf("the browser saw:\n%s", b)

	// The figures are the report's (`starter report --format json`), built from the same
	// database after the browser's run: the approval moves no enrolment.
	rep, err := report.Build(ctx, s.db, s.id)
	require.NoError(t, err)
	assert.Equal(t, "/login", seen.UnauthenticatedPath, "a visitor who has not signed in is sent to the login form")
	assert.Equal(t, rep.Status, seen.Status)
	assert.Equal(t, "running", seen.Status)
	assert.Equal(t, s.enrolled, rep.Enrolled)
	assert.Equal(t, strconv.Itoa(rep.Enrolled), seen.City.Enrolled)
	assert.Equal(t, strconv.Itoa(rep.Target), seen.City.Target)
	attainment, err := strconv.ParseFloat(seen.City.Attainment, 64)
	require.NoError(t, err, "city-attainment data-value")
	assert.InDelta(t, float64(rep.Enrolled)/float64(rep.Target), attainment, 1e-12)
	assert.InDelta(t, rep.AttainmentPct/100, attainment, 0.00005, "the report's percentage, to its two decimals")
	districts := map[string]figure{}
	for _, u := range rep.Units {
		if u.Level == "district" {
			districts[u.Code] = figure{strconv.Itoa(u.Enrolled), strconv.Itoa(u.Target)}
		}
	}
	assert.Len(t, districts, 2)
	assert.Equal(t, districts, seen.Districts)
	assert.Equal(t, 1, seen.Chart, "the enrolments chart")
	assert.True(t, strings.HasSuffix(seen.TemporalLink, "/workflows/"+campaign.CampaignWorkflowID(s.id)), seen.TemporalLink)

	// Vietnamese by default, English by the switch, and back.
	assert.Equal(t, "vi", seen.Lang)
	assert.Equal(t, "Đã tham gia", seen.LabelVi, "the label of the city's enrolled figure")
	assert.Equal(t, "en", seen.LangAfterSwitch)
	assert.Equal(t, "Enrolled", seen.LabelEn)
	assert.Equal(t, "vi", seen.LangBack)

	// The decision: refused without a reason, carried out with one.
	assert.Equal(t, 1, seen.PendingBefore)
	assert.Contains(t, seen.Refusal, "reason: say why", "the validator's words")
	assert.Contains(t, seen.Flash, agent)
	assert.Equal(t, 0, seen.PendingAfter, "the approved termination is no longer pending")
	assert.Equal(t, "active", seen.Before.Status.Value)
	assert.Equal(t, "terminated", seen.After.Status.Value)
	assert.Equal(t, "đã thanh lý hợp đồng", seen.After.Status.Text)
	assert.Zero(t, seen.Before.actions()["review.terminate"], "no decision in the trail before")
	assert.Positive(t, seen.After.actions()["review.terminate"], "the agent's trace shows the decision's audit row")
	for _, r := range seen.After.Audit {
		if r.Action == "review.terminate" {
			assert.Contains(t, r.Text, coordinatorUser.Name, "the row names who decided")
		}
	}

	// The database agrees: one audit row for the decision, by the coordinator, with the reason.
	assert.Equal(t, "terminated", s.agentStatus(t, agent))
	assert.Equal(t, 1, s.count(t, `select count(*) from audit_log where campaign_id = $1 and action = 'review.terminate'
		and entity_key = $2 and actor = $3 and detail->>'reason' = $4`, s.id, agent, coordinatorUser.Name, reason))
	assert.Equal(t, 1, s.count(t, `select count(*) from review_decisions where campaign_id = $1 and agent_code = $2
		and status = 'approved' and decided_by = $3 and decided_reason = $4`, s.id, agent, coordinatorUser.Name, reason))
	assert.Equal(t, "active", s.agentStatus(t, pending[1]), "the other agent is untouched")

	// The auditor sees the other pending termination, and nothing to decide it with.
	assert.Equal(t, 1, seen.Auditor.PendingRows)
	assert.Zero(t, seen.Auditor.ApproveButtons)
	assert.Zero(t, seen.Auditor.RejectButtons)
	assert.Zero(t, seen.Auditor.ReasonInputs)

	for _, name := range []string{"campaign", "reviews"} {
		assert.FileExists(t, seen.Shots[name])
	}
	t.Logf("campaign page load: %.0f ms; browser run: %v", seen.CampaignLoadMs, res.Elapsed.Round(time.Millisecond))
}

// newWeb is the web server over the scenario's database and Temporal, with the given users.
func newWeb(t testing.TB, s *scenario, users ...user) http.Handler {
	t.Helper()
	var file strings.Builder
	file.WriteString("users:\n")
	for _, u := range users {
		hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.MinCost)
		require.NoError(t, err)
		fmt.Fprintf(&file, "  - name: %s\n    role: %s\n    password_bcrypt: %q\n", u.Name, u.Role, hash)
	}
	us, err := web.ParseUsers("users.yaml", []byte(file.String()))
	require.NoError(t, err)
	h, err := web.New(web.Config{DB: s.db, Temporal: s.tc, Users: us, TemporalUI: "http://127.0.0.1:8233", Namespace: testenv.Namespace})
	require.NoError(t, err)
	return h
}
