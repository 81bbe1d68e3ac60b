package activities

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/activity"

	"drives/allocate"
	"drives/campaign"
	"drives/plan"
	"drives/store"
)

// ReviewPolicy scores, as README "Reviews" states: attainment is enrolments in the window
// against the agent's quota share for it (its quota × the window's share of the campaign
// period; 1 when the share is 0), capped at 2; the on-time rate is the share of follow-ups the
// agent closed in the window before their deadline, among those closed or escalated in it (1
// when there were none). score = 0.8 × attainment + 0.2 × on-time rate. A policy that weighs
// renewals (renewal_weight w) scores (1 - w) × that + w × renewal rate: the agent's renewals
// renewed among those renewed or lapsed in the window (1 when there were none).
const (
	attainmentWeight = 0.8
	onTimeWeight     = 0.2
	attainmentCap    = 2.0
)

// EvaluateInput is one period's review.
type EvaluateInput struct {
	CampaignID string            `json:"campaign_id"`
	WorkflowID string            `json:"workflow_id"`
	Period     plan.ReviewPeriod `json:"period"`
	Policy     plan.ReviewPolicy `json:"policy"`
}

// EvaluateAgents computes every active agent's and staff member's figures over the period's
// window in one statement, decides by the policy, records each decision with its inputs and
// rationale (once per campaign, period and agent: a re-run or a backfilled duplicate changes
// nothing), ranks communes and districts and commends the best, and returns the counts. The
// agents proposed for termination are counted, not listed: they stay in review_decisions
// (decision 'terminate', status 'pending'), so the result stays small however many there are.
func (a *Activities) EvaluateAgents(ctx context.Context, in EvaluateInput) (campaign.ReviewSummary, error) {
	s, err := a.evaluateAgents(ctx, in)
	if err == nil {
		for decision, n := range map[string]int{"reward": s.Rewarded, "commend": s.Commended, "retain": s.Retained,
			"warn": s.Warned, "terminate": s.Proposed} {
			countMetric(ctx, MetricReviewDecisions, n, map[string]string{"decision": decision})
		}
	}
	return s, err
}

func (a *Activities) evaluateAgents(ctx context.Context, in EvaluateInput) (campaign.ReviewSummary, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "review.evaluate", entity: "review", entityKey: in.Period.Label,
		detail: map[string]any{"window_start": in.Period.Start, "window_end": in.Period.End}},
		func(tx pgx.Tx) (campaign.ReviewSummary, error) {
			periodStart, periodEnd, tz, err := store.CampaignPeriod(ctx, tx, in.CampaignID)
			if err != nil {
				return campaign.ReviewSummary{}, err
			}
			loc, err := time.LoadLocation(tz)
			if err != nil {
				return campaign.ReviewSummary{}, err
			}
			days := func(t time.Time) time.Time {
				t = t.In(loc)
				return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
			}
			campaignLen := periodEnd.AddDate(0, 0, 1).Sub(periodStart).Hours()
			frac := in.Period.End.Sub(in.Period.Start).Hours() / campaignLen
			p := in.Policy
			if err := store.InsertReview(ctx, tx, in.CampaignID, in.Period.Label, in.Period.Start, in.Period.End, in.WorkflowID); err != nil {
				return campaign.ReviewSummary{}, err
			}
			// One evaluation of a period at a time, under the review's row lock. The first
			// inserts its decisions plainly; one that finds decisions recorded already (a
			// backfilled duplicate) keeps them.
			decided, err := store.LockReview(ctx, tx, in.CampaignID, in.Period.Label)
			if err != nil {
				return campaign.ReviewSummary{}, err
			}
			// The units are commended while the decisions are computed (they count enrolments
			// against quotas, not decisions).
			commend := func() error {
				return store.CommendUnits(ctx, tx, in.CampaignID, in.Period.Label, frac, days(in.Period.Start), days(in.Period.End),
					in.Policy.CommendTop, periodDays(periodStart, periodEnd))
			}
			if err := store.DecideAgents(ctx, tx, a.openBeside, store.Evaluation{
				CampaignID: in.CampaignID, Period: in.Period.Label, WindowStart: in.Period.Start, WindowEnd: in.Period.End,
				QuotaShare: frac, FromDay: days(in.Period.Start), ToDay: days(in.Period.End),
				AttainmentCap: attainmentCap, AttainmentWeight: attainmentWeight * (1 - p.RenewalWeight),
				OnTimeWeight: onTimeWeight * (1 - p.RenewalWeight), RenewalWeight: p.RenewalWeight,
				RewardAt: p.RewardAt, WarnBelow: p.WarnBelow, TerminateBelow: p.TerminateBelow, TerminateAfter: p.TerminateAfter,
				RewardKind: p.Reward.Kind, RewardAmount: p.Reward.Amount,
				PeriodDays: periodDays(periodStart, periodEnd),
				Decided:    decided,
			}, commend); err != nil {
				return campaign.ReviewSummary{}, err
			}
			if !decided {
				refreshStatistics(ctx, tx, "review decisions", store.AnalyzeDecisions(in.CampaignID, in.Period.Label))
			}
			return reviewSummary(ctx, tx, in.CampaignID, in.Period.Label)
		})
}

// periodDays is the number of days from a campaign's first day to its last, both included.
func periodDays(start, end time.Time) int {
	return int(end.AddDate(0, 0, 1).Sub(start).Hours()/24 + 0.5)
}

// refreshStatistics refreshes the planner's statistics of tables just written at large (the
// review decisions, migration 011; the register, migration 015) with analyze. It runs in the
// writer's transaction, so that the rows are never visible without them, and under a
// savepoint: a failure slows the next plans until autovacuum analyses the tables, and is
// logged, not a reason to do the work again.
func refreshStatistics(ctx context.Context, tx pgx.Tx, what string, analyze func(context.Context, store.DB) error) {
	sp, err := tx.Begin(ctx)
	if err == nil {
		if err = analyze(ctx, sp); err != nil {
			_ = sp.Rollback(ctx)
		} else {
			err = sp.Commit(ctx)
		}
	}
	if err != nil {
		activity.GetLogger(ctx).Warn("statistics not refreshed", "of", what, "err", err)
	}
}

// reviewSummary counts a period's decisions; the terminations proposed are counted whatever
// became of them since (a re-run after decisions summarises the review as it was taken).
func reviewSummary(ctx context.Context, db store.DB, campaignID, period string) (campaign.ReviewSummary, error) {
	c, err := store.CountReview(ctx, db, campaignID, period)
	return campaign.ReviewSummary{Period: period, Agents: c.Agents, Rewarded: c.Rewarded, Commended: c.Commended,
		Retained: c.Retained, Warned: c.Warned, Proposed: c.Proposed,
		CommunesCommended: c.CommunesCommended, DistrictsCommended: c.DistrictsCommended}, err
}

// DecideInput is a decision on a proposed termination.
type DecideInput struct {
	CampaignID string                       `json:"campaign_id"`
	Period     string                       `json:"period"`
	Decision   campaign.TerminationDecision `json:"decision"`
	Approve    bool                         `json:"approve"`
	Auto       bool                         `json:"auto,omitempty"` // the policy's auto_terminate after the wait
	At         time.Time                    `json:"at"`             // campaign time of the decision
}

// DecideTermination records a coordinator's decision. An approval terminates the agent's
// contract and, in the same transaction, hands its open follow-ups to the active agents of its
// commune (least loaded first) and its remaining quota to them by largest remainder on their
// weights; with no agent left in the commune, both go to the commune's staff, flagged.
//
// The workflow cannot tell which agents were proposed (they stay in the database), so this
// checks it: a decision on an agent whose termination was never proposed in the period fails,
// not retried, and writes nothing. One already decided answers what it was.
func (a *Activities) DecideTermination(ctx context.Context, in DecideInput) (campaign.DecisionResult, error) {
	action := "review.reject"
	if in.Approve {
		action = "review.terminate"
	}
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: action, entity: "agent", entityKey: in.Decision.Agent, actor: in.Decision.By,
		detail: map[string]any{"period": in.Period, "reason": in.Decision.Reason, "auto": in.Auto}},
		func(tx pgx.Tx) (campaign.DecisionResult, error) {
			res := campaign.DecisionResult{Agent: in.Decision.Agent}
			status, err := store.LockTermination(ctx, tx, in.CampaignID, in.Period, in.Decision.Agent)
			if errors.Is(err, store.ErrNotFound) {
				return res, permanent(ErrNotFound, "%s", campaign.NoTerminationPending(in.Decision.Agent, in.Period))
			}
			if err != nil {
				return res, err
			}
			if status != "pending" && status != "escalated" {
				res.Status, res.Already = status, true
				return res, nil
			}
			res.WasEscalated = status == "escalated"
			res.Status = "rejected"
			if in.Approve {
				res.Status = "approved"
				if in.Auto {
					res.Status = "auto_terminated"
				}
			}
			if err := store.RecordDecision(ctx, tx, in.CampaignID, in.Period, in.Decision.Agent, res.Status, in.Decision.By,
				in.Decision.Reason, in.At); err != nil {
				return res, err
			}
			if !in.Approve {
				return res, nil
			}
			return res, terminate(ctx, tx, in, &res)
		})
}

func terminate(ctx context.Context, tx pgx.Tx, in DecideInput, res *campaign.DecisionResult) error {
	// The agent's participants change holder: the campaign's register is written under its
	// merge lock, taken before any follow-up is (as the sweep takes them).
	if err := store.LockEnrolmentMerges(ctx, tx, in.CampaignID); err != nil {
		return err
	}
	commune, err := store.TerminateAgent(ctx, tx, in.CampaignID, in.Decision.Agent, in.At, in.Decision.Reason)
	if err != nil {
		return err
	}
	return handOver(ctx, tx, in.CampaignID, in.Period, in.Decision.Agent, commune, in.At, &res.Handover)
}

// handOver hands the work of an agent whose contract has ended to the active agents of their
// commune (its staff when none is left): open follow-ups, least loaded first; the rest of
// their quota by largest remainder on weights (recorded as transfers under label); the people
// of the register they held. The caller holds the campaign's merge lock.
func handOver(ctx context.Context, tx pgx.Tx, campaignID, label, agent, commune string, at time.Time, res *campaign.Handover) error {
	// Who takes over: the commune's active collection agents, or else its staff.
	succ, err := store.Successors(ctx, tx, campaignID, commune)
	if err != nil {
		return err
	}
	if len(succ) == 0 {
		return permanent(ErrInvalidState, "agent %s is the last active holder in commune %s; nobody could take over its work", agent, commune)
	}
	res.ToStaff = succ[0].Staff
	codes := make([]string, len(succ))
	for i, s := range succ {
		codes[i] = s.Code
	}
	if res.FollowUpsMoved, err = store.ReassignFollowUps(ctx, tx, campaignID, agent, codes, res.ToStaff); err != nil {
		return err
	}
	// The people of the register the agent held are held by those who take over the work, so
	// their next renewals go to them.
	if res.ParticipantsMoved, err = store.ReassignParticipants(ctx, tx, campaignID, agent, codes); err != nil {
		return err
	}
	quota, enrolled, err := store.AgentQuota(ctx, tx, campaignID, agent)
	if err != nil {
		return err
	}
	remaining := quota - enrolled
	if remaining <= 0 {
		return nil
	}
	shares := make([]allocate.Share, len(succ))
	for i, s := range succ {
		shares[i] = allocate.Share{Code: s.Code, Weight: int64(math.Round(s.Weight * allocate.AgentWeightScale))}
	}
	var moved []store.QuotaShare
	changes := []store.QuotaChange{{Level: "agent", Code: agent, Old: quota, New: enrolled}}
	for i, n := range allocate.LargestRemainder(remaining, shares) {
		if n > 0 {
			moved = append(moved, store.QuotaShare{Agent: succ[i].Code, Amount: n})
			held, _, err := store.AgentQuota(ctx, tx, campaignID, succ[i].Code)
			if err != nil {
				return err
			}
			changes = append(changes, store.QuotaChange{Level: "agent", Code: succ[i].Code, Old: held, New: held + n})
		}
	}
	if err := store.MoveAgentQuota(ctx, tx, campaignID, label, agent, enrolled, moved, res.ToStaff); err != nil {
		return err
	}
	// The quotas as they were until the day the contract ended, and as they are from it: a
	// review judges each day of its window against the quota then in force.
	_, _, tz, err := store.CampaignPeriod(ctx, tx, campaignID)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return err
	}
	if err := store.KeepQuotaHistory(ctx, tx, campaignID, store.QuotaSource{}, dayIn(at, loc), changes); err != nil {
		return err
	}
	res.QuotaMoved = remaining
	return nil
}

// LeaveInput is an agent's leaving of the drive at a campaign time.
type LeaveInput struct {
	CampaignID string                `json:"campaign_id"`
	Request    campaign.LeaveRequest `json:"request"`
	At         time.Time             `json:"at"` // campaign time
}

// AgentLeaves ends the contract of an agent or staff member who resigns (status left, the
// day and the reason) and, in the same audited transaction, hands their work on as an
// approved termination does; the quota moved is recorded under the label "left <day>".
func (a *Activities) AgentLeaves(ctx context.Context, in LeaveInput) (campaign.LeaveResult, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "agent.leave", entity: "agent", entityKey: in.Request.Agent,
		actor: in.Request.By, detail: map[string]any{"reason": in.Request.Reason, "at": in.At}},
		func(tx pgx.Tx) (campaign.LeaveResult, error) {
			res := campaign.LeaveResult{Agent: in.Request.Agent}
			if err := store.LockEnrolmentMerges(ctx, tx, in.CampaignID); err != nil {
				return res, err
			}
			commune, err := store.EndContract(ctx, tx, in.CampaignID, in.Request.Agent, "left", in.At, in.Request.Reason)
			if errors.Is(err, store.ErrNotFound) {
				return res, permanent(ErrNotFound, "campaign %s has no active agent or staff member %s", in.CampaignID, in.Request.Agent)
			}
			if err != nil {
				return res, err
			}
			res.Commune = commune
			label := "left " + in.At.Format("2006-01-02")
			return res, handOver(ctx, tx, in.CampaignID, label, in.Request.Agent, commune, in.At, &res.Handover)
		})
}

// EscalateInput ends a review's wait for decisions.
type EscalateInput struct {
	CampaignID string    `json:"campaign_id"`
	Period     string    `json:"period"`
	At         time.Time `json:"at"`
	// ListAgents asks for the codes of the agents escalated: only the policy's auto_terminate,
	// which decides each of them, needs them.
	ListAgents bool `json:"list_agents,omitempty"`
}

// EscalateResult says how many terminations were escalated, and which when asked.
type EscalateResult struct {
	Escalated int      `json:"escalated"`
	Agents    []string `json:"agents,omitempty"` // in code order; only with ListAgents
}

// EscalateUndecided flags, in one statement, every termination of the period still waiting
// when the review's wait ends; the auditor sees them in status and the audit log. It returns
// their number (and their codes only when asked).
func (a *Activities) EscalateUndecided(ctx context.Context, in EscalateInput) (EscalateResult, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "review.escalate", entity: "review", entityKey: in.Period,
		detail: map[string]any{"at": in.At}},
		func(tx pgx.Tx) (EscalateResult, error) {
			var out EscalateResult
			var err error
			out.Escalated, out.Agents, err = store.EscalateTerminations(ctx, tx, in.CampaignID, in.Period, in.At, in.ListAgents)
			if err != nil {
				return out, err
			}
			return out, nil
		})
}
