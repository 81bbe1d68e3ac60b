package coordinator_test

import (
	"errors"
	"maps"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"

	"drives/activities"
	"drives/campaign"
	"drives/coordinator"
	"drives/internal/fixture"
	"drives/internal/testenv"
	"drives/plan"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The review workflow knows how many terminations it proposed, not which: Decide looks in
// review_decisions first. A decision on an agent with no termination pending is refused with
// the coordinator's words, one on an agent already decided answers what it was, and a blank
// field is refused — all without sending an Update, so they write nothing anywhere. Only a
// pending termination goes to the review workflow.
func TestDecideChecksTheProposalBeforeSendingAnUpdate(t *testing.T) {
	c := fixture.Seed(t, testenv.NewPool(t))
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := plan.ReviewPeriods(plan.DefaultReviewCron, loc, c.Spec.PeriodStart, c.Spec.PeriodEnd)
	if err != nil || len(ps) == 0 {
		t.Fatalf("review periods: %v %v", ps, err)
	}
	q1 := ps[0]
	// One low review proposes: every agent with a quota and no enrolment is proposed.
	pol := plan.ReviewPolicy{RewardAt: 1, WarnBelow: 0.6, TerminateBelow: 0.3, TerminateAfter: 1,
		Reward: plan.Reward{Kind: "bonus", Amount: 500_000}, ApprovalWait: plan.Duration(14 * 24 * time.Hour), CommendTop: 2}
	s := fixture.MustCall[campaign.ReviewSummary](c, c.Acts.EvaluateAgents, activities.EvaluateInput{
		CampaignID: fixture.CampaignID, WorkflowID: campaign.ReviewWorkflowID(fixture.CampaignID, q1.Label), Period: q1, Policy: pol})
	if s.Proposed < 2 {
		t.Fatalf("Q1 proposes %d; the test needs two proposals", s.Proposed)
	}
	code := func(sql string) string {
		t.Helper()
		var a string
		if err := c.Pool.QueryRow(c.Ctx, sql).Scan(&a); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return a
	}
	pending := code(`select agent_code from review_decisions where period = '2021-Q1' and status = 'pending' order by agent_code limit 1`)
	decided := code(`select agent_code from review_decisions where period = '2021-Q1' and status = 'pending' order by agent_code desc limit 1`)
	notProposed := code(`select agent_code from review_decisions where period = '2021-Q1' and decision <> 'terminate' order by agent_code limit 1`)
	fixture.MustCall[campaign.DecisionResult](c, c.Acts.DecideTermination, activities.DecideInput{
		CampaignID: fixture.CampaignID, Period: q1.Label, Approve: false, At: q1.End,
		Decision: campaign.TerminationDecision{Agent: decided, Reason: "improving", By: "coordinator-a"}})

	tc := &mocks.Client{}
	co := &coordinator.Coordinator{DB: c.Pool, Temporal: tc}
	before := testenv.Fingerprint(t, c.Pool)
	decision := func(agent string) campaign.TerminationDecision {
		return campaign.TerminationDecision{Agent: agent, Reason: "no enrolment in the quarter", By: "coordinator-a"}
	}
	for _, tc := range []struct {
		name, period string
		d            campaign.TerminationDecision
		want         string
	}{
		{"an agent reviewed but not proposed", "2021-Q1", decision(notProposed),
			`review 2021-Q1: campaign test-2021 refused: agent: "` + notProposed + `" has no termination pending in review 2021-Q1`},
		{"an agent unknown", "2021-Q1", decision("DL-99999-9"),
			`review 2021-Q1: campaign test-2021 refused: agent: "DL-99999-9" has no termination pending in review 2021-Q1`},
		{"a period not reviewed", "2021-Q3", decision(pending),
			`review 2021-Q3: campaign test-2021 refused: agent: "` + pending + `" has no termination pending in review 2021-Q3`},
		{"no agent", "2021-Q1", decision(" "), "agent: say which agent"},
		{"no reason", "2021-Q1", campaign.TerminationDecision{Agent: pending, Reason: " ", By: "coordinator-a"}, "reason: say why"},
		{"no one deciding", "2021-Q1", campaign.TerminationDecision{Agent: pending, Reason: "no enrolment"}, "by: say who decides"},
	} {
		for _, approve := range []bool{true, false} {
			_, err := co.Decide(c.Ctx, fixture.CampaignID, tc.period, approve, tc.d)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s (approve=%v): error %v; want %q", tc.name, approve, err, tc.want)
			}
		}
	}
	// Already decided: the answer a second decision always had, from the database.
	for _, approve := range []bool{true, false} {
		res, err := co.Decide(c.Ctx, fixture.CampaignID, q1.Label, approve, decision(decided))
		if err != nil || !res.Already || res.Status != "rejected" || res.Agent != decided {
			t.Errorf("decision on %s, rejected already (approve=%v): %+v, %v; want already rejected", decided, approve, res, err)
		}
	}
	tc.AssertNotCalled(t, "UpdateWorkflow", mock.Anything, mock.Anything)
	// Every table (the check once read three); shown failing by planting an update of one
	// agent's quota here.
	if after := testenv.Fingerprint(t, c.Pool); !maps.Equal(after, before) {
		t.Errorf("refused decisions changed the database: %v, was %v", after, before)
	}

	// A pending termination is sent to the period's review workflow.
	sent := errors.New("the review workflow answered")
	tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
		return o.WorkflowID == campaign.ReviewWorkflowID(fixture.CampaignID, q1.Label) && o.UpdateName == campaign.UpdateApproveTermination &&
			len(o.Args) == 1 && o.Args[0] == decision(pending)
	})).Return(nil, sent).Once()
	if _, err := co.Decide(c.Ctx, fixture.CampaignID, q1.Label, true, decision(pending)); !errors.Is(err, sent) {
		t.Errorf("approving pending %s: %v; want the Update sent to the review", pending, err)
	}
	tc.AssertExpectations(t)
}
