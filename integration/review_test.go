package integration

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"drives/campaign"
	"drives/coordinator"
	"drives/plan"
)

// A coordinator pauses a campaign's reviews, triggers the one due by hand, and it runs to
// completion once; cancelling the campaign stops the schedule and skips the final review.
func TestReviewTriggerAndCancel(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := newStack(t)

	// The integration plan under another id, so it runs beside the end-to-end drive.
	lp := planVariant(t, "itest-trigger", 0, "")
	run, err := s.co.Launch(ctx, lp)
	require.NoError(t, err)
	id := lp.Plan.ID

	var clock plan.Clock
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		_, err := s.co.DescribeSchedule(ctx, id)
		assert.NoError(c, err)
	}, 30*time.Second, 50*time.Millisecond)
	require.NoError(t, s.co.PauseSchedule(ctx, id, "held for a manual review"))
	clock, _, err = s.co.Clock(ctx, id)
	require.NoError(t, err)

	spec, err := lp.Spec()
	require.NoError(t, err)
	q1 := spec.Reviews[0]
	require.Equal(t, "2021-Q1", q1.Label)
	// The review is due at a moment of real time: wait for it, then trigger. The trigger wakes
	// the schedule, which goes over the time since it last looked, Q1's fire included, before it
	// takes the triggered action: an unpaused schedule would take the fire then at the latest
	// (its catch-up window is a year), so what the schedule records after the trigger says
	// whether the pause held, with no grace period to guess. Shown failing by leaving out the
	// PauseSchedule call: the action the schedule then records is scheduled at Q1's fire.
	fire := plan.RealFire(clock, q1)
	require.Eventually(t, func() bool { return !time.Now().Before(fire) }, time.Until(fire)+30*time.Second, 20*time.Millisecond)
	_, err = s.tc.DescribeWorkflowExecution(ctx, campaign.ReviewWorkflowID(id, "2021-Q1"), "")
	var notFound *serviceerror.NotFound
	require.ErrorAs(t, err, &notFound, "a paused schedule takes no review")

	require.NoError(t, s.co.TriggerReview(ctx, id))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		d, err := s.tc.DescribeWorkflowExecution(ctx, campaign.ReviewWorkflowID(id, "2021-Q1"), "")
		if assert.NoError(c, err) {
			assert.Equal(c, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, d.WorkflowExecutionInfo.Status)
		}
	}, 60*time.Second, 100*time.Millisecond)
	sd, err := s.co.DescribeSchedule(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 1, sd.Info.NumActions, "the schedule takes the triggered review only, not Q1's fire: %+v", sd.Info.RecentActions)
	require.Len(t, sd.Info.RecentActions, 1)
	require.True(t, sd.Info.RecentActions[0].ScheduleTime.After(fire),
		"the one action is scheduled at %v, Q1's fire is at %v: want the trigger's, after it", sd.Info.RecentActions[0].ScheduleTime, fire)
	agents := count(t, s.db, `select count(*) from agents where campaign_id = $1`, id)
	require.Equal(t, agents, count(t, s.db, `select count(*) from review_decisions where campaign_id = $1 and period = '2021-Q1'`, id))

	// Approving an agent with nothing pending is refused by the coordinator, from the database,
	// before any Update: nothing is written and the review's history is as it was.
	audits := count(t, s.db, `select count(*) from audit_log where campaign_id = $1`, id)
	events := historyLength(t, ctx, s, campaign.ReviewWorkflowID(id, "2021-Q1"))
	_, err = s.co.Decide(ctx, id, "2021-Q1", true, campaign.TerminationDecision{Agent: "NO-SUCH", Reason: "x", By: "tester"})
	require.EqualError(t, err, `review 2021-Q1: campaign itest-trigger refused: agent: "NO-SUCH" has no termination pending in review 2021-Q1`)
	require.Equal(t, audits, count(t, s.db, `select count(*) from audit_log where campaign_id = $1`, id))
	require.Equal(t, events, historyLength(t, ctx, s, campaign.ReviewWorkflowID(id, "2021-Q1")))

	_, err = coordinator.Update[string](ctx, s.co, id, campaign.UpdateCancel, campaign.SteerRequest{Reason: "test over", By: "tester"})
	require.NoError(t, err)
	var res campaign.CloseResult
	require.NoError(t, run.Get(ctx, &res))
	require.Equal(t, campaign.StatusCancelled, res.Status)
	d, err := s.co.DescribeSchedule(ctx, id)
	require.NoError(t, err)
	require.True(t, d.Schedule.State.Paused)
	require.Equal(t, "campaign cancelled", d.Schedule.State.Note)
	require.Zero(t, count(t, s.db, `select count(*) from reviews where campaign_id = $1 and period = '2021-Q4'`, id),
		"a cancelled campaign takes no final review")

	// A termination escalated in Q1 (planted: this field-less year proposes none) is decided
	// after the campaign has closed, its review long ended: through LateDecisionWorkflow, once,
	// audited like the others; asked again, it says what was decided. Shown failing before
	// LateDecisionWorkflow: "campaign itest-trigger is not running (no workflow …)".
	agent := "DL-00001-1"
	require.Equal(t, int64(1), exec(t, s.db, `update review_decisions set decision = 'terminate', status = 'escalated'
		where campaign_id = $1 and period = '2021-Q1' and agent_code = $2`, id, agent))
	audits = count(t, s.db, `select count(*) from audit_log where campaign_id = $1`, id)
	dec, err := s.co.Decide(ctx, id, "2021-Q1", true, campaign.TerminationDecision{Agent: agent, Reason: "escalated, decided in January", By: "coordinator-b"})
	require.NoError(t, err)
	require.Equal(t, "approved", dec.Status)
	require.False(t, dec.Already)
	require.Equal(t, 1, count(t, s.db, `select count(*) from agents where campaign_id = $1 and code = $2 and status = 'terminated'`, id, agent))
	require.Equal(t, 1, count(t, s.db, `select count(*) from review_decisions where campaign_id = $1 and period = '2021-Q1' and agent_code = $2
		and status = 'approved' and decided_by = 'coordinator-b'`, id, agent))
	require.Equal(t, audits+1, count(t, s.db, `select count(*) from audit_log where campaign_id = $1`, id))
	require.Equal(t, 1, count(t, s.db, `select count(*) from audit_log where campaign_id = $1 and workflow_id = $2`,
		id, campaign.DecisionWorkflowID(id, "2021-Q1", agent)))
	again, err := s.co.Decide(ctx, id, "2021-Q1", false, campaign.TerminationDecision{Agent: agent, Reason: "changed my mind", By: "coordinator-b"})
	require.NoError(t, err)
	require.Equal(t, campaign.DecisionResult{Agent: agent, Status: "approved", Already: true}, again)
}

// exec runs a statement that must succeed and returns how many rows it changed.
func exec(t *testing.T, db *pgxpool.Pool, sql string, args ...any) int64 {
	t.Helper()
	tag, err := db.Exec(context.Background(), sql, args...)
	require.NoError(t, err, sql)
	return tag.RowsAffected()
}

// historyLength is the number of events in a workflow's history.
func historyLength(t *testing.T, ctx context.Context, s *stack, workflowID string) int64 {
	t.Helper()
	d, err := s.tc.DescribeWorkflowExecution(ctx, workflowID, "")
	require.NoError(t, err)
	return d.WorkflowExecutionInfo.HistoryLength
}
