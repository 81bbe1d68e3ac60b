// Package workflows holds the drive's deterministic workflow code: CampaignWorkflow, which
// prepares a campaign, runs one DistrictDriveWorkflow per district and closes with a report,
// and DistrictDriveWorkflow, which holds a district's events on their dates and sweeps its
// follow-ups. Every effect is an activity (package activities); every date and duration comes
// from the plan through plan.Clock.
package workflows

import (
	"sort"
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

// activityCtx gives an activity its timeout and retries. Effects the drive cannot go on without
// retry until they succeed (a database outage is waited out); an Update's activity (attempts
// > 0) gives up after that many, so the coordinator waiting on it gets an answer.
func activityCtx(ctx workflow.Context, timeout time.Duration, attempts ...int32) workflow.Context {
	var max int32
	if len(attempts) > 0 {
		max = attempts[0]
	}
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: timeout,
		// Every activity heartbeats: an attempt lost with its worker is retried within seconds.
		HeartbeatTimeout: activities.HeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    max,
			NonRetryableErrorTypes: []string{
				activities.ErrPlanChanged, activities.ErrNotFound, activities.ErrInvalidState, activities.ErrInvalidImport,
			},
		},
	})
}

// sortedKeys returns a map's keys in order, so workflow code never depends on map order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	// The keys are sorted before use, so the map's order never shows.
	//workflowcheck:ignore
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
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
