package history

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"drives/campaign"
)

// Actions is what a campaign's runs cost in Temporal actions, by kind, read off their
// histories the way Temporal Cloud bills them: a workflow start (each child and each
// continue-as-new included), an activity attempt, a timer started, a signal received, an
// Update accepted or rejected, a marker, a search-attribute upsert, and one schedule action
// per run the review schedule started. Queries leave no history and are not counted; the
// coordinator's reads are not the campaign's cost.
type Actions struct {
	Workflows, Activities, Timers, Signals, Updates, Markers, Upserts, ScheduleActions int

	Runs           int    // workflow runs read
	LargestHistory int    // events in the largest run's history
	LargestRun     string // that run's workflow ID
}

// Total is the sum of every kind.
func (a Actions) Total() int {
	return a.Workflows + a.Activities + a.Timers + a.Signals + a.Updates + a.Markers + a.Upserts + a.ScheduleActions
}

func (a Actions) String() string {
	return fmt.Sprintf("%d actions: %d workflow starts, %d activities, %d timers, %d signals, %d updates, %d markers, %d upserts, %d schedule actions; %d runs, largest history %d events (%s)",
		a.Total(), a.Workflows, a.Activities, a.Timers, a.Signals, a.Updates, a.Markers, a.Upserts, a.ScheduleActions,
		a.Runs, a.LargestHistory, a.LargestRun)
}

// Add counts one run's history.
func (a *Actions) Add(workflowID, workflowType string, h *historypb.History) {
	a.Runs++
	if n := len(h.Events); n > a.LargestHistory {
		a.LargestHistory, a.LargestRun = n, workflowID
	}
	for _, e := range h.Events {
		switch e.EventType {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			a.Workflows++
			if workflowType == campaign.ScheduledReviewWorkflowName {
				a.ScheduleActions++
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			a.Activities++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			// Retries leave no events of their own: the started event carries the attempt.
			if n := int(e.GetActivityTaskStartedEventAttributes().GetAttempt()); n > 1 {
				a.Activities += n - 1
			}
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			a.Timers++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			a.Signals++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			a.Updates++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			a.Markers++
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			a.Upserts++
		}
	}
}

// CountActions reads every run of a campaign (found by its CampaignId search attribute) and
// counts its actions. Run it once the campaign has closed: the visibility store catches up
// with closed runs a moment later.
func CountActions(ctx context.Context, tc client.Client, campaignID string) (Actions, error) {
	var a Actions
	runs, err := Runs(ctx, tc, campaignID)
	if err != nil {
		return a, err
	}
	for _, r := range runs {
		h, err := Fetch(ctx, tc, r.WorkflowID, r.RunID)
		if err != nil {
			return a, err
		}
		a.Add(r.WorkflowID, r.Type, h)
	}
	return a, nil
}
