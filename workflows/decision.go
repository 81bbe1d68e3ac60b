package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"drives/activities"
	"drives/campaign"
)

// LateDecisionWorkflow records a coordinator's decision on a proposed termination after its
// review workflow has ended: an escalated termination, or one still pending when the campaign
// closed. The decision is the same activity the review workflow runs (DecideTermination: the
// status checked again, the contract ended and the agent's work handed on in one audited
// transaction); its workflow ID names the campaign, period and agent, so a decision is taken
// once.
func LateDecisionWorkflow(ctx workflow.Context, in campaign.DecisionInput) (campaign.DecisionResult, error) {
	var res campaign.DecisionResult
	err := workflow.ExecuteActivity(activityCtx(ctx, 2*time.Minute, updateAttempts), a.DecideTermination, activities.DecideInput{
		CampaignID: in.CampaignID, Period: in.Period, Decision: in.Decision, Approve: in.Approve, At: in.At,
	}).Get(ctx, &res)
	return res, err
}
