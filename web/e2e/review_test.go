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

	"drives/internal/browser"
	"drives/internal/testenv"
	"drives/report"
	"drives/web"
)

// The users the browser signs in as.
var (
	coordinatorUser = user{Name: "dieu-phoi", Password: "mat-khau-dieu-phoi", Role: "coordinator"}
	auditorUser     = user{Name: "kiem-toan", Password: "mat-khau-kiem-toan", Role: "auditor"}
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
	Period      string `json:"period"`
	Reason      string `json:"reason"`
	// LabelSelector finds the label whose language the test checks.
	LabelSelector string `json:"labelSelector"`
}

// reviewSeen is what review.mjs saw.
type reviewSeen struct {
	Steps               []string `json:"steps"`
	UnauthenticatedPath string   `json:"unauthenticatedPath"`
	CampaignLoadMs      float64  `json:"campaignLoadMs"`
	Lang                string   `json:"lang"`
	LangAfterSwitch     string   `json:"langAfterSwitch"`
	LangBack            string   `json:"langBack"`
	LabelVi, LabelEn    string
	City                struct {
		Enrolled, Target, Attainment, EnrolledText string
	} `json:"city"`
	Districts     map[string]struct{ Enrolled, Target string } `json:"districts"`
	Chart         int                                          `json:"chart"`
	TemporalLink  string                                       `json:"temporalLink"`
	PendingBefore int                                          `json:"pendingBefore"`
	Refusal       string                                       `json:"refusal"`
	Flash         string                                       `json:"flash"`
	PendingAfter  int                                          `json:"pendingAfter"`
	AgentStatus   struct{ Value, Text string }                 `json:"agentStatus"`
	AuditActions  []struct{ Action, Text string }              `json:"auditActions"`
	Auditor       struct {
		PendingRows, ApproveButtons, RejectButtons, ReasonInputs int
	} `json:"auditor"`
	Shots map[string]string `json:"shots"`
}

// A coordinator opens the running campaign in Chromium, finds the figures of the report,
// approves a pending termination with a reason (a decision without one is refused in words),
// and sees the agent terminated and the decision in the agent's audit trail; the database
// says the same. The page is in Vietnamese until switched to English. An auditor sees the
// pending termination and no means to decide it.
func TestCoordinatorApprovesTermination(t *testing.T) {
	r := browser.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := newScenario(t, ctx)
	agent := s.pending[0].Agent
	require.Equal(t, "active", s.agentStatus(t, agent))

	srv := httptest.NewServer(newWeb(t, s, coordinatorUser, auditorUser))
	defer srv.Close()

	const reason = "Không có người tham gia nào trong kỳ đánh giá"
	res, err := r.Run(ctx, t, "review.mjs", reviewInput{
		BaseURL: srv.URL, Campaign: s.id, Agent: agent, Period: s.period, Reason: reason,
		Coordinator:   login{coordinatorUser.Name, coordinatorUser.Password},
		Auditor:       login{auditorUser.Name, auditorUser.Password},
		LabelSelector: `.figure:has([data-testid="city-enrolled"]) .label`,
	})
	require.NoError(t, err)
	var seen reviewSeen
	require.NoError(t, res.Decode(&seen))
	b, _ := json.MarshalIndent(seen, "", "  ")
	t.Logf("the browser saw (in %v):\n%s", res.Elapsed.Round(time.Millisecond), b)

	// The figures are the report's, built from the same database after the browser's run (the
	// approval moves no enrolment).
	rep, err := report.Build(ctx, s.db, s.id)
	require.NoError(t, err)
	assert.Equal(t, "/login", seen.UnauthenticatedPath, "a visitor who has not signed in is sent to the login form")
	assert.Equal(t, strconv.Itoa(rep.Enrolled), seen.City.Enrolled)
	assert.Equal(t, strconv.Itoa(rep.Target), seen.City.Target)
	assert.Equal(t, s.enrolled, rep.Enrolled)
	attainment, err := strconv.ParseFloat(seen.City.Attainment, 64)
	require.NoError(t, err, "city-attainment data-value")
	assert.InDelta(t, float64(rep.Enrolled)/float64(rep.Target), attainment, 1e-9)
	districts := map[string]struct{ Enrolled, Target string }{}
	for _, u := range rep.Units {
		if u.Level == "district" {
			districts[u.Code] = struct{ Enrolled, Target string }{strconv.Itoa(u.Enrolled), strconv.Itoa(u.Target)}
		}
	}
	assert.Equal(t, districts, seen.Districts)
	assert.Equal(t, 1, seen.Chart, "the enrolments chart")

	// Vietnamese by default, English by the switch.
	assert.Equal(t, "vi", seen.Lang)
	assert.Equal(t, "en", seen.LangAfterSwitch)
	assert.Equal(t, "vi", seen.LangBack)
	assert.Equal(t, "Đã tham gia", seen.LabelVi, "the city's enrolled figure's label")
	assert.Equal(t, "Enrolled", seen.LabelEn)

	// The decision: refused without a reason, carried out with one.
	assert.Equal(t, 1, seen.PendingBefore)
	assert.NotEmpty(t, seen.Refusal)
	assert.NotEmpty(t, seen.Flash)
	assert.Equal(t, 0, seen.PendingAfter, "the approved termination is no longer pending")
	assert.Equal(t, "terminated", seen.AgentStatus.Value)
	assert.Equal(t, "đã thanh lý hợp đồng", seen.AgentStatus.Text)
	var actions []string
	for _, a := range seen.AuditActions {
		actions = append(actions, a.Action)
	}
	assert.Contains(t, actions, "review.terminate", "the agent's trace shows the decision's audit row")

	// The database agrees.
	assert.Equal(t, "terminated", s.agentStatus(t, agent))
	assert.Equal(t, 1, s.count(t, `select count(*) from audit_log where campaign_id = $1 and action = 'review.terminate'
		and entity_key = $2 and actor = $3 and detail->>'reason' = $4`, s.id, agent, coordinatorUser.Name, reason))
	assert.Equal(t, 1, s.count(t, `select count(*) from review_decisions where campaign_id = $1 and agent_code = $2
		and status = 'approved' and decided_by = $3`, s.id, agent, coordinatorUser.Name))

	// The auditor sees the other pending termination, and nothing to decide it with.
	assert.Equal(t, len(s.pending)-1, seen.Auditor.PendingRows)
	assert.Zero(t, seen.Auditor.ApproveButtons)
	assert.Zero(t, seen.Auditor.RejectButtons)
	assert.Zero(t, seen.Auditor.ReasonInputs)

	for _, name := range []string{"campaign", "reviews"} {
		assert.FileExists(t, seen.Shots[name])
	}
	t.Logf("campaign page load: %.0f ms; browser run: %v", seen.CampaignLoadMs, res.Elapsed.Round(time.Millisecond))
}

// newWeb is the web server over the scenario's database and Temporal, with the given users.
func newWeb(t *testing.T, s *scenario, users ...user) http.Handler {
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
