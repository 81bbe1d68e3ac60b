package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"drives/activities"
	"drives/campaign"
	"drives/plan"
)

// scheduledStartTime is the search attribute a Temporal Schedule sets on what it starts: the
// fire's nominal time.
var scheduledStartTime = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

// ScheduledReviewWorkflow is what the campaign's review schedule starts at each fire (and on a
// trigger or a backfill): it picks the period whose review is due by the fire's nominal time
// and starts that period's AgentReviewWorkflow, once — a period already reviewed (a backfilled
// or repeated fire) is left as it was. The schedule fires on whole seconds, up to a second
// before the period ends (plan.RealFire): the workflow waits for the end, so that the review
// runs at its time in campaign time (a second is three days on the demo's clock).
func ScheduledReviewWorkflow(ctx workflow.Context, in campaign.ScheduledReviewInput) (campaign.ReviewResult, error) {
	nominal := workflow.GetInfo(ctx).WorkflowStartTime
	if t, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStartTime); ok {
		nominal = t
	}
	p, ok := plan.PeriodAt(in.Clock, in.Periods, nominal)
	if !ok {
		return campaign.ReviewResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no review period of campaign %s has ended by %s (campaign time %s)", in.CampaignID,
				nominal.UTC().Format(time.RFC3339), in.Clock.CampaignTime(nominal).Format("2006-01-02 15:04")), "NothingToReview", nil)
	}
	if workflow.GetVersion(ctx, "review-waits-for-period-end", workflow.DefaultVersion, 1) >= 1 {
		if wait := plan.ReviewWait(in.Clock, p, workflow.Now(ctx)); wait > 0 {
			if err := workflow.Sleep(ctx, wait); err != nil {
				return campaign.ReviewResult{}, err
			}
		}
	}
	return startReview(ctx, campaign.ReviewInput{CampaignID: in.CampaignID, Period: p, Clock: in.Clock, Policy: in.Policy}, false)
}

// startReview starts a period's review as a child; with wait it also waits for it to finish.
func startReview(ctx workflow.Context, in campaign.ReviewInput, wait bool) (campaign.ReviewResult, error) {
	policy := enumspb.PARENT_CLOSE_POLICY_ABANDON
	if wait {
		policy = enumspb.PARENT_CLOSE_POLICY_TERMINATE
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            campaign.ReviewWorkflowID(in.CampaignID, in.Period.Label),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		ParentClosePolicy:     policy,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			campaign.SearchCampaignID.ValueSet(in.CampaignID), campaign.SearchPeriod.ValueSet(in.Period.Label)),
	})
	res := campaign.ReviewResult{CampaignID: in.CampaignID, Period: in.Period.Label}
	child := workflow.ExecuteChildWorkflow(cctx, AgentReviewWorkflow, in)
	if err := child.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			res.AlreadyReviewed = true
			return res, nil
		}
		return res, err
	}
	if !wait {
		return res, nil
	}
	err := child.Get(ctx, &res)
	return res, err
}

// AgentReviewWorkflow reviews a campaign's agents and staff for one period: it evaluates them
// (one set-based activity), then waits — a durable timer of the policy's approval_wait in
// campaign time — for a coordinator to approve or reject each proposed termination through
// Updates. An approval is carried out at once; at the end of the wait the undecided are
// escalated (one set-based activity), and terminated only if the policy says auto_terminate.
//
// Which agents are proposed stays in PostgreSQL: the workflow holds their number and the
// agents decided through it, so its payloads grow with coordinators' decisions, not with the
// campaign's agents. The coordinator checks in the database that an agent's termination is
// pending before it sends an Update, and DecideTermination checks it again.
func AgentReviewWorkflow(ctx workflow.Context, in campaign.ReviewInput) (campaign.ReviewResult, error) {
	r := &review{in: in, decided: map[string]string{}}
	r.log = log.With(workflow.GetLogger(ctx), "campaign", in.CampaignID, "period", in.Period.Label)
	if err := r.setup(ctx); err != nil {
		return campaign.ReviewResult{}, err
	}
	return r.run(ctx)
}

type review struct {
	in        campaign.ReviewInput
	log       log.Logger
	evaluated bool
	summary   campaign.ReviewSummary
	decided   map[string]string // agent -> approved | rejected | escalated | auto_terminated
	escalated int               // proposals the wait escalated
	overruled int               // of those, decided since (by a coordinator or the policy)
	deadline  time.Time         // campaign time
	res       campaign.ReviewResult
	runs      int // runs before this one, carried over by continue-as-new
}

// decisions counts the proposals approved or rejected through this review, those in flight
// included (a decision that fails is taken back).
func (r *review) decisions() int {
	n := 0
	for _, a := range sortedKeys(r.decided) {
		if r.decided[a] != "escalated" {
			n++
		}
	}
	return n
}

// stillEscalated counts the proposals escalated and not decided since.
func (r *review) stillEscalated() int { return r.escalated - r.overruled }

// pending counts the proposals waiting for a coordinator: neither decided nor escalated.
func (r *review) pending() int {
	return max(r.summary.Proposed-r.decisions()-r.stillEscalated(), 0)
}

func (r *review) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, campaign.QueryReview, r.progress); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdateApproveTermination, r.approve,
		workflow.UpdateHandlerOptions{Validator: r.validateDecision}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdateRejectTermination, r.reject,
		workflow.UpdateHandlerOptions{Validator: r.validateDecision}); err != nil {
		return err
	}
	return nil
}

// progress answers the review Query.
func (r *review) progress() (campaign.ReviewProgress, error) {
	return campaign.ReviewProgress{Period: r.in.Period.Label, Summary: r.summary, Pending: r.pending(),
		DecidedCount: r.decisions(), Escalated: r.stillEscalated(), Decided: r.decided, Deadline: r.deadline}, nil
}

// approve carries out a coordinator's approval of a proposed termination.
func (r *review) approve(ctx workflow.Context, d campaign.TerminationDecision) (campaign.DecisionResult, error) {
	return r.decide(ctx, d, true)
}

// reject carries out a coordinator's rejection of a proposed termination.
func (r *review) reject(ctx workflow.Context, d campaign.TerminationDecision) (campaign.DecisionResult, error) {
	return r.decide(ctx, d, false)
}

// validateDecision is the validator of both decisions' Updates.
func (r *review) validateDecision(ctx workflow.Context, d campaign.TerminationDecision) error {
	return r.validate(d)
}

// validate refuses what the workflow can tell is wrong without I/O. Whether the agent's
// termination was proposed, the database says: the coordinator checks it before sending the
// Update, and DecideTermination again in its transaction.
func (r *review) validate(d campaign.TerminationDecision) error {
	if !r.evaluated {
		// The proposals are in the database a moment before the evaluation's activity
		// returns: a decision sent in that moment is taken, waits in decide for the
		// evaluation to end, and is checked whole then.
		return checkDecisionFields(d)
	}
	if status, ok := r.decided[d.Agent]; ok && status != "escalated" {
		return fmt.Errorf("agent: %q is already %s in review %s; nothing changed", d.Agent, status, r.in.Period.Label)
	}
	switch {
	case strings.TrimSpace(d.Agent) == "":
		return errors.New("agent: say which agent")
	case r.summary.Proposed == 0:
		return errors.New(campaign.NoTerminationPending(d.Agent, r.in.Period.Label))
	}
	return checkDecisionFields(d)
}

// evaluationWait bounds how long a decision sent during the evaluation waits for it.
const evaluationWait = time.Minute

// checkDecisionFields refuses a decision that does not say whom, why and by whom.
func checkDecisionFields(d campaign.TerminationDecision) error {
	switch {
	case strings.TrimSpace(d.Agent) == "":
		return errors.New("agent: say which agent")
	case strings.TrimSpace(d.Reason) == "":
		return errors.New("reason: say why")
	case strings.TrimSpace(d.By) == "":
		return errors.New("by: say who decides")
	}
	return nil
}

// decide carries out a coordinator's decision. The validator refuses a second decision on an
// agent decided through this review; should one get here, it changes nothing and says what the
// first was. DecideTermination refuses an agent whose termination is not pending.
func (r *review) decide(ctx workflow.Context, d campaign.TerminationDecision, approve bool) (campaign.DecisionResult, error) {
	if !r.evaluated {
		// The evaluation's transaction has committed when the coordinator sees the proposal:
		// its activity reports back within moments, unless its worker was lost (then it is
		// retried after its timeout, and the decision is better sent again).
		done, err := workflow.AwaitWithTimeout(ctx, evaluationWait, func() bool { return r.evaluated })
		if err != nil {
			return campaign.DecisionResult{}, err
		}
		if !done {
			return campaign.DecisionResult{}, errors.New("the review is still evaluating; try again in a few minutes")
		}
		if err := r.validate(d); err != nil {
			return campaign.DecisionResult{}, err
		}
	}
	if status, ok := r.decided[d.Agent]; ok && status != "escalated" {
		return campaign.DecisionResult{Agent: d.Agent, Status: status, Already: true}, nil
	}
	was, had := r.decided[d.Agent]
	r.decided[d.Agent] = map[bool]string{true: "approved", false: "rejected"}[approve]
	var res campaign.DecisionResult
	err := workflow.ExecuteActivity(activityCtx(ctx, 2*time.Minute, updateAttempts), a.DecideTermination, activities.DecideInput{
		CampaignID: r.in.CampaignID, Period: r.in.Period.Label, Decision: d, Approve: approve,
		At: r.in.Clock.CampaignTime(workflow.Now(ctx)),
	}).Get(ctx, &res)
	if err != nil || res.Already {
		// A failed decision leaves the agent as it was; one taken before was counted then.
		if had {
			r.decided[d.Agent] = was
		} else {
			delete(r.decided, d.Agent)
		}
		return res, err
	}
	r.record(res)
	return res, nil
}

// record notes a decision DecideTermination carried out.
func (r *review) record(res campaign.DecisionResult) {
	r.decided[res.Agent] = res.Status
	if res.WasEscalated && !res.Already {
		r.overruled++
	}
}

func (r *review) run(ctx workflow.Context) (campaign.ReviewResult, error) {
	r.res = campaign.ReviewResult{CampaignID: r.in.CampaignID, Period: r.in.Period.Label}
	actx := activityCtx(ctx, 10*time.Minute)
	var st reviewState
	if ok, err := loadState(r.in.State, &st); err != nil {
		return r.res, fmt.Errorf("state carried over: %w", err)
	} else if ok {
		r.runs = st.Runs
		r.summary, r.decided, r.escalated, r.overruled, r.deadline = st.Summary, st.Decided, st.Escalated, st.Overruled, st.Deadline
		if r.decided == nil {
			r.decided = map[string]string{}
		}
		r.evaluated = true
	} else {
		if err := workflow.ExecuteActivity(actx, a.EvaluateAgents, activities.EvaluateInput{
			CampaignID: r.in.CampaignID, WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
			Period: r.in.Period, Policy: r.in.Policy,
		}).Get(ctx, &r.summary); err != nil {
			return r.res, err
		}
		r.evaluated = true
		r.log.Info("agents evaluated", "agents", r.summary.Agents, "rewarded", r.summary.Rewarded,
			"warned", r.summary.Warned, "proposed", r.summary.Proposed)
		if r.summary.Proposed > 0 {
			// The wait runs from the later of the period's end and now, in campaign time.
			start := r.in.Clock.CampaignTime(workflow.Now(ctx))
			if start.Before(r.in.Period.End) {
				start = r.in.Period.End
			}
			r.deadline = start.Add(r.in.Policy.ApprovalWait.Std())
		}
	}
	r.res.Summary = r.summary

	if r.summary.Proposed > 0 {
		wait := r.in.Clock.Until(workflow.Now(ctx), r.deadline)
		// A decision counts once its activity is done: one that fails leaves the agent pending.
		// Each decision adds a few events: many of them continue the wait in a new run.
		if _, err := workflow.AwaitWithTimeout(ctx, wait, func() bool {
			return (r.pending() == 0 && workflow.AllHandlersFinished(ctx)) || shouldContinueAsNew(ctx, r.in.HistoryLimit)
		}); err != nil {
			return r.res, err
		}
		if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
			return r.res, err
		}
		if r.pending() > 0 && shouldContinueAsNew(ctx, r.in.HistoryLimit) {
			return r.continueAsNew(ctx)
		}
		if r.pending() > 0 {
			if err := r.escalate(ctx, actx); err != nil {
				return r.res, err
			}
		}
	}
	// A coordinator's Update that came in during the escalation finishes before the review does.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return r.res, err
	}
	for _, s := range sortedKeys(r.decided) {
		switch r.decided[s] {
		case "approved":
			r.res.Approved++
		case "rejected":
			r.res.Rejected++
		case "auto_terminated":
			r.res.AutoTerminated++
		}
	}
	r.res.Escalated = r.stillEscalated()
	return r.res, nil
}

// continueAsNew carries the wait, with the decisions taken so far, into a new run.
func (r *review) continueAsNew(ctx workflow.Context) (campaign.ReviewResult, error) {
	next := r.in
	runs := r.runs + 1
	raw, err := saveState(reviewState{Summary: r.summary, Decided: r.decided, Escalated: r.escalated,
		Overruled: r.overruled, Deadline: r.deadline, Runs: runs})
	if err != nil {
		return campaign.ReviewResult{}, err
	}
	next.State = raw
	r.log.Info("review continues as new", "runs", runs, "decided", len(r.decided), "pending", r.pending())
	return campaign.ReviewResult{}, workflow.NewContinueAsNewError(ctx, AgentReviewWorkflow, next)
}

// escalate flags the undecided (one statement, in the database), and with auto_terminate
// carries out their termination.
func (r *review) escalate(ctx, actx workflow.Context) error {
	at := r.in.Clock.CampaignTime(workflow.Now(ctx))
	var escalated activities.EscalateResult
	if err := workflow.ExecuteActivity(actx, a.EscalateUndecided, activities.EscalateInput{
		CampaignID: r.in.CampaignID, Period: r.in.Period.Label, At: at, ListAgents: r.in.Policy.AutoTerminate,
	}).Get(ctx, &escalated); err != nil {
		return err
	}
	r.escalated += escalated.Escalated
	for _, agent := range escalated.Agents {
		r.decided[agent] = "escalated"
	}
	r.log.Warn("terminations escalated: no coordinator decided in time", "count", escalated.Escalated)
	if !r.in.Policy.AutoTerminate {
		return nil
	}
	// One activity per agent: auto-termination decides, and hands on the work of, each agent on
	// its own. At national scale, with thousands escalated, this should become one set-based
	// activity (and the codes need not come back to the workflow).
	for _, agent := range escalated.Agents {
		var res campaign.DecisionResult
		if err := workflow.ExecuteActivity(actx, a.DecideTermination, activities.DecideInput{
			CampaignID: r.in.CampaignID, Period: r.in.Period.Label, Approve: true, Auto: true, At: at,
			Decision: campaign.TerminationDecision{Agent: agent, By: "policy:auto_terminate",
				Reason: "no coordinator decided within the approval wait; the plan says auto_terminate"},
		}).Get(ctx, &res); err != nil {
			return err
		}
		r.record(res)
	}
	return nil
}
