// Package coordinator is what a coordinator's tools do to a drive — launch it, read its
// progress, steer it — through the campaign workflow's Updates and Queries only. The starter
// CLI and the demo use it; nothing here writes behind the workflow's back except the plan
// itself, which the workflow then reads (claim check).
package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"drives/campaign"
	"drives/plan"
	"drives/store"
)

// Coordinator holds the connections a coordinator's commands use.
type Coordinator struct {
	DB       *pgxpool.Pool
	Temporal client.Client
}

// AlreadyLaunchedError says a campaign has been launched before; Status is its workflow's.
type AlreadyLaunchedError struct {
	CampaignID string
	Running    bool
}

func (e *AlreadyLaunchedError) Error() string {
	if e.Running {
		return fmt.Sprintf("campaign %s is already running (workflow %s); it is launched once", e.CampaignID, campaign.CampaignWorkflowID(e.CampaignID))
	}
	return fmt.Sprintf("campaign %s was launched before and has finished; give a new plan a new id", e.CampaignID)
}

// Launch stores a validated plan and starts its campaign workflow. A campaign is launched
// once: a second launch of the same id returns *AlreadyLaunchedError and starts nothing; a
// different plan under an id already stored is refused.
func (c *Coordinator) Launch(ctx context.Context, lp *plan.Loaded) (client.WorkflowRun, error) {
	p := lp.Plan
	if err := StorePlan(ctx, c.DB, lp); err != nil {
		return nil, err
	}
	run, err := c.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       campaign.CampaignWorkflowID(p.ID),
		TaskQueue:                campaign.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		// Without this the SDK hands back the existing run as if it had started it.
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			campaign.SearchCampaignID.ValueSet(p.ID), campaign.SearchUnitCode.ValueSet(plan.CityWide)),
	}, campaign.CampaignWorkflowName, campaign.CampaignInput{CampaignID: p.ID, PlanHash: lp.Hash})
	if err != nil {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return nil, &AlreadyLaunchedError{CampaignID: p.ID, Running: c.Running(ctx, p.ID)}
		}
		return nil, fmt.Errorf("start campaign %s: %w", p.ID, err)
	}
	return run, nil
}

// StorePlan stores a validated plan for its campaign workflow to read. Storing the same plan
// again changes nothing; a different plan under a stored campaign's id is refused.
func StorePlan(ctx context.Context, db *pgxpool.Pool, lp *plan.Loaded) error {
	p := lp.Plan
	storedHash, err := store.PlanHash(ctx, db, p.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		body, err := json.Marshal(lp)
		if err != nil {
			return fmt.Errorf("encode plan: %w", err)
		}
		prior := p.PriorYearEnrolled
		if p.PreviousCampaign != "" {
			if prior, err = priorStock(ctx, db, p.ID, p.PreviousCampaign); err != nil {
				return err
			}
			if err := rosterGoesOn(ctx, db, lp); err != nil {
				return err
			}
		}
		return store.InsertCampaign(ctx, db, store.NewCampaign{
			ID: p.ID, Name: p.Name, Year: p.Period.Start.Y, PlanHash: lp.Hash, Plan: body,
			PriorYearEnrolled: prior, PeriodStart: p.Period.Start.String(), PeriodEnd: p.Period.End.String(),
			Timezone: p.Timezone, ClockScale: p.Clock.Scale, WorkflowID: campaign.CampaignWorkflowID(p.ID),
			PreviousCampaign: p.PreviousCampaign,
		})
	case err != nil:
		return err
	case storedHash != lp.Hash:
		return fmt.Errorf("campaign %s already exists with a different plan (%.12s, this one is %.12s); a launched plan is not changed — give this plan a new id", p.ID, storedHash, lp.Hash)
	}
	return nil
}

// StoredPlan reads the plan a campaign runs on: the one it was launched with, or its last
// revision applied.
func StoredPlan(ctx context.Context, db store.DB, campaignID string) (*plan.Loaded, error) {
	raw, hash, _, err := store.PlanInForce(ctx, db, campaignID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w %q", ErrNoCampaign, campaignID)
	}
	if err != nil {
		return nil, err
	}
	var lp plan.Loaded
	if err := json.Unmarshal(raw, &lp); err != nil {
		return nil, fmt.Errorf("campaign %s: its stored plan does not read: %w", campaignID, err)
	}
	lp.Hash = hash
	return &lp, nil
}

// priorStock checks the campaign a plan names as its previous one can hand its register on
// (it has ended, and no other campaign follows it) and returns its stock at its end: the
// participants it leaves, the new campaign's prior-year figure.
func priorStock(ctx context.Context, db *pgxpool.Pool, id, prev string) (int, error) {
	pr, err := store.ReadPredecessor(ctx, db, prev)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return 0, fmt.Errorf("previous_campaign: no campaign %s", prev)
	case err != nil:
		return 0, err
	case pr.Status != "closed" && pr.Status != "cancelled":
		return 0, fmt.Errorf("previous_campaign: campaign %s is %s; its register passes on when it has closed", prev, pr.Status)
	case pr.Follower != "" && pr.Follower != id:
		return 0, fmt.Errorf("previous_campaign: campaign %s already follows %s; a register passes to one campaign", pr.Follower, prev)
	}
	return store.RegisterStock(ctx, db, prev, pr.PeriodEnd.AddDate(0, 0, 1))
}

// shownEnded is how many ended contracts a refused roster names.
const shownEnded = 20

// rosterGoesOn refuses a roster that lists a code whose contract ended in the previous
// campaign (left, terminated, or moved on under another code): contracts belong to the agents,
// and a code is given once, so whoever is hired again is listed under a new code. The roster as
// it stands (`starter agents roster`) lists none.
func rosterGoesOn(ctx context.Context, db *pgxpool.Pool, lp *plan.Loaded) error {
	codes := make([]string, len(lp.Roster))
	for i, a := range lp.Roster {
		codes[i] = a.Code
	}
	ended, err := store.EndedContracts(ctx, db, lp.Plan.PreviousCampaign, codes)
	if err != nil || len(ended) == 0 {
		return err
	}
	var named []string
	for _, e := range ended[:min(len(ended), shownEnded)] {
		named = append(named, fmt.Sprintf("%s (%s %s)", e.Code, e.Status, e.Until.Format(time.DateOnly)))
	}
	if more := len(ended) - len(named); more > 0 {
		named = append(named, fmt.Sprintf("and %d more", more))
	}
	return fmt.Errorf("roster: %d of its codes ended their contracts in %s, and a code is given once: list whoever is hired again under a new code (starter agents roster %s writes the roster as it stands): %s",
		len(ended), lp.Plan.PreviousCampaign, lp.Plan.PreviousCampaign, strings.Join(named, ", "))
}

// Running says whether the campaign's workflow is running.
func (c *Coordinator) Running(ctx context.Context, campaignID string) bool {
	d, err := c.Temporal.DescribeWorkflowExecution(ctx, campaign.CampaignWorkflowID(campaignID), "")
	return err == nil && d.WorkflowExecutionInfo.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// Progress asks the campaign workflow for its progress.
func (c *Coordinator) Progress(ctx context.Context, campaignID string) (campaign.Progress, error) {
	var p campaign.Progress
	v, err := c.Temporal.QueryWorkflow(ctx, campaign.CampaignWorkflowID(campaignID), "", campaign.QueryProgress)
	if err != nil {
		return p, describe(campaignID, err)
	}
	return p, v.Get(&p)
}

// Update sends a coordinator's Update to the campaign and waits for its result. A request the
// workflow's validator refuses comes back as an error saying why, and leaves no trace in the
// workflow's history.
func Update[T any](ctx context.Context, c *Coordinator, campaignID, name string, arg any) (T, error) {
	out, err := sendUpdate[T](ctx, c.Temporal, campaign.CampaignWorkflowID(campaignID), name, arg)
	if err != nil {
		return out, describe(campaignID, err)
	}
	return out, nil
}

// sendUpdate sends an Update to a workflow and waits until it has completed.
func sendUpdate[T any](ctx context.Context, tc client.Client, workflowID, name string, arg any) (T, error) {
	var out T
	h, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, &out)
	}
	return out, err
}

// describe turns Temporal's errors into a coordinator's words.
func describe(campaignID string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("campaign %s is not running (no workflow %s)", campaignID, campaign.CampaignWorkflowID(campaignID))
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return fmt.Errorf("campaign %s refused: %s", campaignID, app.Message())
	}
	var fp *serviceerror.FailedPrecondition
	if errors.As(err, &fp) && strings.Contains(fp.Error(), "no poller") {
		return fmt.Errorf("no worker polls task queue %s, so campaign %s cannot answer: start one (make worker-start, or go run ./worker)",
			campaign.TaskQueue, campaignID)
	}
	return err
}
