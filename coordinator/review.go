package coordinator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"drives/campaign"
	"drives/plan"
	"drives/store"
)

// Fire is one review a cron expression gives: when it runs and the window it covers.
type Fire struct {
	At     time.Time
	Period plan.ReviewPeriod
}

// Preview lists the next count reviews of a cron expression after from, with their windows,
// computed exactly as a campaign computes them.
func Preview(expr string, loc *time.Location, from time.Time, count int) ([]Fire, error) {
	if count < 1 || count > plan.MaxReviews {
		return nil, fmt.Errorf("--count: must be 1 to %d", plan.MaxReviews)
	}
	s, err := plan.ParseReviewCron(expr, loc)
	if err != nil {
		return nil, fmt.Errorf("--cron: %w", err)
	}
	// The first window opens at the fire before from (looked for in the year before it).
	prev := from
	for t := s.Next(from.AddDate(-1, 0, 0)); !t.IsZero() && !t.After(from); t = s.Next(t) {
		prev = t
	}
	var out []Fire
	for t := s.Next(from); !t.IsZero() && len(out) < count; t = s.Next(t) {
		ps, _ := plan.ReviewPeriods(expr, loc, prev, t)
		p := plan.ReviewPeriod{Start: prev, End: t}
		if len(ps) > 0 {
			p = ps[len(ps)-1]
		}
		out = append(out, Fire{At: t, Period: p})
		prev = t
	}
	return out, nil
}

func (c *Coordinator) schedule(ctx context.Context, campaignID string) client.ScheduleHandle {
	return c.Temporal.ScheduleClient().GetHandle(ctx, campaign.ReviewScheduleID(campaignID))
}

// DescribeSchedule returns the campaign's review schedule as Temporal has it.
func (c *Coordinator) DescribeSchedule(ctx context.Context, campaignID string) (*client.ScheduleDescription, error) {
	d, err := c.schedule(ctx, campaignID).Describe(ctx)
	if err != nil {
		return nil, describeSchedule(campaignID, err)
	}
	return d, nil
}

// PauseSchedule and ResumeSchedule stop and restart the campaign's reviews, noting why.
func (c *Coordinator) PauseSchedule(ctx context.Context, campaignID, note string) error {
	return describeSchedule(campaignID, c.schedule(ctx, campaignID).Pause(ctx, client.SchedulePauseOptions{Note: note}))
}

func (c *Coordinator) ResumeSchedule(ctx context.Context, campaignID, note string) error {
	return describeSchedule(campaignID, c.schedule(ctx, campaignID).Unpause(ctx, client.ScheduleUnpauseOptions{Note: note}))
}

// TriggerReview runs the review due now — the latest period that has ended — at once; a
// period already reviewed is left as it is.
func (c *Coordinator) TriggerReview(ctx context.Context, campaignID string) error {
	return describeSchedule(campaignID, c.schedule(ctx, campaignID).Trigger(ctx, client.ScheduleTriggerOptions{
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL}))
}

// BackfillReviews takes every review the schedule would have taken between from and to (real
// time); periods already reviewed are not reviewed again.
func (c *Coordinator) BackfillReviews(ctx context.Context, campaignID string, from, to time.Time) error {
	if !from.Before(to) {
		return fmt.Errorf("backfill: --from %s is not before --to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return describeSchedule(campaignID, c.schedule(ctx, campaignID).Backfill(ctx, client.ScheduleBackfillOptions{
		Backfill: []client.ScheduleBackfill{{Start: from, End: to, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL}}}))
}

func describeSchedule(campaignID string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("review schedule %s: %w", campaign.ReviewScheduleID(campaignID), err)
}

// Decide approves or rejects a proposed termination through the period's review workflow.
//
// The review workflow knows how many terminations it proposed, not which (they stay in the
// database), so Decide first checks review_decisions: an agent with no termination proposed in
// the period is refused, and one already decided answers what it was, both without sending an
// Update, so they leave nothing in the review's history or the database.
func (c *Coordinator) Decide(ctx context.Context, campaignID, period string, approve bool, d campaign.TerminationDecision) (campaign.DecisionResult, error) {
	refuse := func(msg string) error {
		return fmt.Errorf("review %s: campaign %s refused: %s", period, campaignID, msg)
	}
	switch {
	case strings.TrimSpace(d.Agent) == "":
		return campaign.DecisionResult{}, refuse("agent: say which agent")
	case strings.TrimSpace(d.Reason) == "":
		return campaign.DecisionResult{}, refuse("reason: say why")
	case strings.TrimSpace(d.By) == "":
		return campaign.DecisionResult{}, refuse("by: say who decides")
	}
	status, err := store.TerminationStatus(ctx, c.DB, campaignID, period, d.Agent)
	if errors.Is(err, store.ErrNotFound) {
		return campaign.DecisionResult{}, refuse(campaign.NoTerminationPending(d.Agent, period))
	}
	if err != nil {
		return campaign.DecisionResult{}, fmt.Errorf("review %s: %w", period, err)
	}
	if status != "pending" && status != "escalated" {
		return campaign.DecisionResult{Agent: d.Agent, Status: status, Already: true}, nil
	}
	name := campaign.UpdateRejectTermination
	if approve {
		name = campaign.UpdateApproveTermination
	}
	out, err := sendUpdate[campaign.DecisionResult](ctx, c.Temporal, campaign.ReviewWorkflowID(campaignID, period), name, d)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		// The review has ended (its wait is over, or the campaign closed): the decision is
		// taken on its own.
		return c.decideLate(ctx, campaignID, period, approve, d)
	}
	if err != nil {
		return out, reviewError(campaignID, period, err)
	}
	return out, nil
}

// decideLate takes a decision whose review workflow has ended, through LateDecisionWorkflow,
// at the campaign's time now (its period's end once that has passed). Two coordinators
// deciding at once share the one decision.
func (c *Coordinator) decideLate(ctx context.Context, campaignID, period string, approve bool, d campaign.TerminationDecision) (campaign.DecisionResult, error) {
	var out campaign.DecisionResult
	clock, loc, err := c.Clock(ctx, campaignID)
	if err != nil {
		return out, fmt.Errorf("review %s: %w", period, err)
	}
	_, end, _, err := store.CampaignPeriod(ctx, c.DB, campaignID)
	if err != nil {
		return out, fmt.Errorf("review %s: %w", period, err)
	}
	at := clock.CampaignTime(time.Now())
	if last := time.Date(end.Year(), end.Month(), end.Day()+1, 0, 0, 0, 0, loc); at.After(last) {
		at = last
	}
	run, err := c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       campaign.DecisionWorkflowID(campaignID, period, d.Agent),
		TaskQueue:                campaign.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, campaign.DecisionWorkflowName, campaign.DecisionInput{CampaignID: campaignID, Period: period, Approve: approve, Decision: d, At: at})
	if err != nil {
		return out, fmt.Errorf("review %s: decide on %s: %w", period, d.Agent, err)
	}
	if err := run.Get(ctx, &out); err != nil {
		return out, fmt.Errorf("review %s: decide on %s: %w", period, d.Agent, err)
	}
	return out, nil
}

func reviewError(campaignID, period string, err error) error {
	err = describe(campaignID, err)
	return fmt.Errorf("review %s: %w", period, err)
}

// Decision is a review decision as auditors and coordinators read it.
type Decision = store.Decision

// Decisions lists a campaign's review decisions, of one period or all.
func (c *Coordinator) Decisions(ctx context.Context, campaignID, period string) ([]Decision, error) {
	return store.Decisions(ctx, c.DB, campaignID, period)
}

// Attention counts what waits on a coordinator: terminations pending and escalated.
func (c *Coordinator) Attention(ctx context.Context, campaignID string) (pending, escalated []Decision, err error) {
	all, err := c.Decisions(ctx, campaignID, "")
	if err != nil {
		return nil, nil, err
	}
	for _, d := range all {
		switch d.Status {
		case "pending":
			pending = append(pending, d)
		case "escalated":
			escalated = append(escalated, d)
		}
	}
	return pending, escalated, nil
}

// ErrNoCampaign says a campaign is not in the database.
var ErrNoCampaign = errors.New("unknown campaign")

// Clock returns a launched campaign's clock and plan time zone.
func (c *Coordinator) Clock(ctx context.Context, campaignID string) (plan.Clock, *time.Location, error) {
	cc, err := store.ClockOf(ctx, c.DB, campaignID)
	if errors.Is(err, store.ErrNotFound) {
		return plan.Clock{}, nil, fmt.Errorf("%w %q", ErrNoCampaign, campaignID)
	}
	if err != nil {
		return plan.Clock{}, nil, err
	}
	epoch, start, scale, tz := cc.Epoch, cc.Start, cc.Scale, cc.Timezone
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return plan.Clock{}, nil, err
	}
	if epoch == nil {
		return plan.Clock{}, loc, fmt.Errorf("campaign %s has not started its clock yet", campaignID)
	}
	return plan.Clock{Epoch: *epoch, Start: *start, Scale: scale}, loc, nil
}

// ReviewTotal counts one period's decisions.
type ReviewTotal = store.ReviewTotal

// ReviewTotals counts each period's decisions, in order.
func (c *Coordinator) ReviewTotals(ctx context.Context, campaignID string) ([]ReviewTotal, error) {
	return store.ReviewTotals(ctx, c.DB, campaignID)
}
