package activities

import (
	"context"
	"errors"
	"fmt"
	"github.com/jackc/pgx/v5"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"drives/campaign"
	"drives/plan"
)

// Review schedule policies, stated in README "Reviews": each fire is a different period and a
// period's review refuses a second start (its workflow ID names it), so fires may overlap
// (ALLOW_ALL) and a fire missed while the server or worker was down is still taken when it
// comes back, within a year (the catch-up window) — once.
const (
	ReviewOverlap       = enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL
	ReviewCatchupWindow = 365 * 24 * time.Hour
)

// ScheduleInput creates a campaign's review schedule.
type ScheduleInput struct {
	CampaignID string              `json:"campaign_id"`
	Cron       string              `json:"cron"`
	Clock      plan.Clock          `json:"clock"`
	Periods    []plan.ReviewPeriod `json:"periods"`
	PeriodEnd  time.Time           `json:"period_end"` // the campaign's; its review is the campaign's own
	Policy     plan.ReviewPolicy   `json:"policy"`
}

// ReviewCalendars translates the review periods' fire times (campaign time, from the plan's
// cron parsed by robfig/cron) into real instants through the campaign clock, and each into an
// exact calendar of the Temporal Schedule, truncated to the second (plan.RealFire: the review's
// workflow waits the rest, so the review runs at its campaign time). Each calendar's comment
// names its review and that time: "review 2021-Q1 at 2021-04-01T00:00:00+07:00". Temporal's own cron reads
// some expressions differently from robfig's (a sixth field as the year; day-of-month and
// day-of-week never OR-ed), and a compressed clock cannot be written as cron at all: exact
// calendars make both the same by construction.
func ReviewCalendars(clock plan.Clock, periods []plan.ReviewPeriod) []client.ScheduleCalendarSpec {
	out := make([]client.ScheduleCalendarSpec, 0, len(periods))
	for _, p := range periods {
		t := plan.RealFire(clock, p).UTC()
		r := func(v int) []client.ScheduleRange { return []client.ScheduleRange{{Start: v}} }
		out = append(out, client.ScheduleCalendarSpec{
			Second: r(t.Second()), Minute: r(t.Minute()), Hour: r(t.Hour()),
			DayOfMonth: r(t.Day()), Month: r(int(t.Month())), Year: r(t.Year()),
			DayOfWeek: []client.ScheduleRange{{Start: 0, End: 6}},
			Comment:   "review " + p.Label + " at " + p.End.Format(time.RFC3339),
		})
	}
	return out
}

// CreateReviewSchedule creates the Temporal Schedule review:<campaign> that starts
// ScheduledReviewWorkflow at every review of the period but the last, which the campaign runs
// itself as its final evaluation. An existing schedule is left as it is. The audit log records
// it with its reviews.
func (a *Activities) CreateReviewSchedule(ctx context.Context, in ScheduleInput) (string, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "review.schedule", entity: "schedule",
		entityKey: campaign.ReviewScheduleID(in.CampaignID), detail: map[string]any{"cron": in.Cron, "reviews": len(in.Periods)}},
		func(pgx.Tx) (string, error) { return a.createReviewSchedule(ctx, in) })
}

func (a *Activities) createReviewSchedule(ctx context.Context, in ScheduleInput) (string, error) {
	if a.Temporal == nil {
		return "", permanent(ErrInvalidState, "the worker has no Temporal client for schedules")
	}
	periods := in.Periods
	if n := len(periods); n > 0 && !periods[n-1].End.Before(in.PeriodEnd) {
		periods = periods[:n-1]
	}
	id := campaign.ReviewScheduleID(in.CampaignID)
	_, err := a.Temporal.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: id,
		Spec: client.ScheduleSpec{
			Calendars: ReviewCalendars(in.Clock, periods),
		},
		Action: &client.ScheduleWorkflowAction{
			ID:        id,
			Workflow:  campaign.ScheduledReviewWorkflowName,
			TaskQueue: campaign.TaskQueue,
			Args: []any{campaign.ScheduledReviewInput{
				CampaignID: in.CampaignID, Clock: in.Clock, Periods: in.Periods, Policy: in.Policy,
			}},
			TypedSearchAttributes: temporal.NewSearchAttributes(campaign.SearchCampaignID.ValueSet(in.CampaignID)),
		},
		Overlap:       ReviewOverlap,
		CatchupWindow: ReviewCatchupWindow,
		Note: fmt.Sprintf("reviews of campaign %s: %q in campaign time, clock scale %g (%d reviews by schedule, the last by the campaign)",
			in.CampaignID, in.Cron, in.Clock.Scale, len(periods)),
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return id, nil
	}
	if err != nil {
		return "", fmt.Errorf("create schedule %s: %w", id, err)
	}
	return id, nil
}

// StopReviewSchedule pauses a closed campaign's review schedule, noting why; it stays for
// auditors to describe.
func (a *Activities) StopReviewSchedule(ctx context.Context, campaignID, why string) (string, error) {
	return apply(ctx, a, effect{campaignID: campaignID, action: "review.schedule_stop", entity: "schedule",
		entityKey: campaign.ReviewScheduleID(campaignID), detail: map[string]any{"why": why}},
		func(pgx.Tx) (string, error) { return a.stopReviewSchedule(ctx, campaignID, why) })
}

func (a *Activities) stopReviewSchedule(ctx context.Context, campaignID, why string) (string, error) {
	if a.Temporal == nil {
		return "", permanent(ErrInvalidState, "the worker has no Temporal client for schedules")
	}
	id := campaign.ReviewScheduleID(campaignID)
	err := a.Temporal.ScheduleClient().GetHandle(ctx, id).Pause(ctx, client.SchedulePauseOptions{Note: why})
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return id, nil
	}
	return id, err
}
