// Package workflows holds the drive's deterministic workflow code: CampaignWorkflow, which
// prepares a campaign, runs one DistrictDriveWorkflow per district and closes with a report,
// and DistrictDriveWorkflow, which holds a district's events on their dates and sweeps its
// follow-ups. Every effect is an activity (package activities); every date and duration comes
// from the plan through campaign.Clock.
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"drives/activities"
)

// DefaultHistoryLimit is the history length at which a run continues as new, well below
// Temporal's 4,096-event guidance for a single run's cost of replay.
const DefaultHistoryLimit = 2500

// a is used only for its method values: the workflows name activities by method, and the
// worker registers the real struct.
var a *activities.Activities

func activityCtx(ctx workflow.Context, timeout time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			NonRetryableErrorTypes: []string{
				activities.ErrPlanChanged, activities.ErrNotFound, activities.ErrInvalidState, activities.ErrInvalidImport,
			},
		},
	})
}

func historyLimit(n int) int {
	if n <= 0 {
		return DefaultHistoryLimit
	}
	return n
}

func shouldContinueAsNew(ctx workflow.Context, limit int) bool {
	info := workflow.GetInfo(ctx)
	return info.GetCurrentHistoryLength() >= historyLimit(limit) || info.GetContinueAsNewSuggested()
}
