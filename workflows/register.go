package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"drives/activities"
	"drives/campaign"
)

// Register puts the drive's workflows, and the activities when given, on a worker or a
// replayer, under the names of the contract in campaign/api.go.
func Register(w worker.WorkflowRegistry, acts *activities.Activities) {
	w.RegisterWorkflowWithOptions(CampaignWorkflow, workflow.RegisterOptions{Name: campaign.CampaignWorkflowName})
	w.RegisterWorkflowWithOptions(DistrictDriveWorkflow, workflow.RegisterOptions{Name: campaign.DistrictWorkflowName})
	w.RegisterWorkflowWithOptions(AgentReviewWorkflow, workflow.RegisterOptions{Name: campaign.ReviewWorkflowName})
	w.RegisterWorkflowWithOptions(ScheduledReviewWorkflow, workflow.RegisterOptions{Name: campaign.ScheduledReviewWorkflowName})
	w.RegisterWorkflowWithOptions(ImportRetentionWorkflow, workflow.RegisterOptions{Name: ImportRetentionWorkflowName})
	w.RegisterWorkflowWithOptions(LateDecisionWorkflow, workflow.RegisterOptions{Name: campaign.DecisionWorkflowName})
	if r, ok := w.(worker.ActivityRegistry); ok && acts != nil {
		r.RegisterActivity(acts)
	}
}
