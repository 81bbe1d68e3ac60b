package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"drives/activities"
	"drives/campaign"
)

// The retention of staged imports: ImportRetentionWorkflow, started daily by the Temporal
// Schedule ImportRetentionScheduleID, deletes the batches staged longer ago than the retention
// and never merged, one audited activity per campaign that has any.
const (
	ImportRetentionWorkflowName = "ImportRetentionWorkflow"
	ImportRetentionScheduleID   = "import-retention"
	// ImportRetentionEvery is how often the schedule runs it.
	ImportRetentionEvery = 24 * time.Hour
)

// ImportRetentionInput is the workflow's input: how long a staged, unmerged batch is kept.
type ImportRetentionInput struct {
	Retention time.Duration `json:"retention"`
}

// ImportRetentionResult is what one run deleted, by campaign.
type ImportRetentionResult struct {
	StagedBefore time.Time                        `json:"staged_before"`
	Campaigns    []activities.ExpireImportsResult `json:"campaigns,omitempty"`
	Batches      int                              `json:"batches"`
	Rows         int                              `json:"rows"`
}

// ImportRetentionWorkflow deletes the batches staged before now − Retention and never merged.
// The cut-off is taken from workflow time once, so every campaign (and every retry) deletes up
// to the same point.
func ImportRetentionWorkflow(ctx workflow.Context, in ImportRetentionInput) (ImportRetentionResult, error) {
	if in.Retention <= 0 {
		in.Retention = activities.DefaultImportRetention
	}
	res := ImportRetentionResult{StagedBefore: workflow.Now(ctx).Add(-in.Retention).UTC()}
	actx := activityCtx(ctx, 5*time.Minute)
	var ids []string
	if err := workflow.ExecuteActivity(actx, a.CampaignsWithExpiredImports, res.StagedBefore).Get(ctx, &ids); err != nil {
		return res, err
	}
	for _, id := range ids {
		var out activities.ExpireImportsResult
		if err := workflow.ExecuteActivity(actx, a.ExpireImports, activities.ExpireImportsInput{
			CampaignID: id, Before: res.StagedBefore, Retention: in.Retention}).Get(ctx, &out); err != nil {
			return res, err
		}
		if len(out.Batches) == 0 {
			continue
		}
		res.Campaigns = append(res.Campaigns, out)
		res.Batches += len(out.Batches)
		res.Rows += out.Rows
	}
	workflow.GetLogger(ctx).Info("staged imports past their retention deleted",
		"staged_before", res.StagedBefore, "batches", res.Batches, "rows", res.Rows)
	return res, nil
}

// EnsureImportRetentionSchedule creates the schedule that runs ImportRetentionWorkflow every
// day, or, when it exists, updates its retention and interval to these. The worker calls it
// at start: every deployment runs a worker, so the retention cannot be forgotten, and workers
// started together converge on the same schedule.
func EnsureImportRetentionSchedule(ctx context.Context, c client.Client, retention time.Duration) error {
	if retention <= 0 {
		return fmt.Errorf("import retention %v: must be positive", retention)
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: ImportRetentionEvery}}}
	action := &client.ScheduleWorkflowAction{
		ID:                       ImportRetentionScheduleID,
		Workflow:                 ImportRetentionWorkflowName,
		TaskQueue:                campaign.TaskQueue,
		Args:                     []any{ImportRetentionInput{Retention: retention}},
		WorkflowExecutionTimeout: time.Hour,
	}
	note := fmt.Sprintf("deletes import batches staged more than %v ago and never merged", retention)
	sc := c.ScheduleClient()
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID: ImportRetentionScheduleID, Spec: spec, Action: action, Note: note,
		Overlap:            enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		TriggerImmediately: true,
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", ImportRetentionScheduleID, err)
	}
	err = sc.GetHandle(ctx, ImportRetentionScheduleID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec = &spec
			s.Action = action
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", ImportRetentionScheduleID, err)
	}
	return nil
}
