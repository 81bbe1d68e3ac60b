package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TerminationStatus returns the status of the termination proposed for an agent in a review
// period, or ErrNotFound when none was proposed.
func TerminationStatus(ctx context.Context, db DB, campaignID, period, agent string) (string, error) {
	var status string
	err := db.QueryRow(ctx, `
		select status from review_decisions
		where campaign_id = $1 and period = $2 and agent_code = $3 and decision = 'terminate'`,
		campaignID, period, agent).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read the proposal: %w", err)
	}
	return status, nil
}

// Decision is a review decision as auditors and coordinators read it.
type Decision struct {
	Period     string    `json:"period" db:"period"`
	Agent      string    `json:"agent" db:"agent_code"`
	Kind       string    `json:"kind" db:"kind"`
	Commune    string    `json:"commune" db:"commune_code"`
	Score      float64   `json:"score" db:"score"`
	Decision   string    `json:"decision" db:"decision"`
	Status     string    `json:"status" db:"status"`
	Rationale  string    `json:"rationale" db:"rationale"`
	DecidedBy  string    `json:"decided_by,omitempty" db:"decided_by"`
	Reason     string    `json:"reason,omitempty" db:"reason"`
	WindowEnd  time.Time `json:"window_end" db:"window_end"`
	RewardKind string    `json:"reward_kind,omitempty" db:"reward_kind"`
	Reward     int64     `json:"reward,omitempty" db:"reward"`
}

// Decisions lists a campaign's review decisions, of one period or all ("").
func Decisions(ctx context.Context, db DB, campaignID, period string) ([]Decision, error) {
	rows, err := db.Query(ctx, `
		select period, agent_code, kind, commune_code, score, decision, status, review_rationale(d) as rationale,
			coalesce(decided_by, '') as decided_by, coalesce(decided_reason, '') as reason, window_end,
			coalesce(reward_kind, '') as reward_kind, coalesce(reward_amount, 0) as reward
		from review_decisions d where campaign_id = $1 and ($2 = '' or period = $2)
		order by window_end, agent_code`, campaignID, period)
	if err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Decision])
	if err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	return out, nil
}

// CampaignClock is a launched campaign's clock as stored; Epoch and Start are nil until the
// campaign workflow has started its clock.
type CampaignClock struct {
	Epoch, Start *time.Time
	Scale        float64
	Timezone     string
}

// ClockOf reads a campaign's clock, or ErrNotFound.
func ClockOf(ctx context.Context, db DB, campaignID string) (CampaignClock, error) {
	var c CampaignClock
	err := db.QueryRow(ctx, `select clock_epoch, clock_start, clock_scale, timezone from campaigns where id = $1`, campaignID).
		Scan(&c.Epoch, &c.Start, &c.Scale, &c.Timezone)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("read the clock of campaign %s: %w", campaignID, err)
	}
	return c, nil
}

// ReviewTotal counts one period's decisions.
type ReviewTotal struct {
	Period    string `json:"period"`
	Agents    int    `json:"agents"` // reviewed
	Rewarded  int    `json:"rewarded"`
	Commended int    `json:"commended"`
	Retained  int    `json:"retained"`
	Warned    int    `json:"warned"`
	Proposed  int    `json:"proposed"` // terminations proposed
	Approved  int    `json:"approved"` // terminations approved or made automatically
	Rejected  int    `json:"rejected"`
	Escalated int    `json:"escalated"`
}

// ReviewTotals counts each period's decisions, in the periods' order.
func ReviewTotals(ctx context.Context, db DB, campaignID string) ([]ReviewTotal, error) {
	return ReviewTotalsIn(ctx, db, campaignID, Scope{})
}

// ReviewTotalsIn counts the decisions of a scope's agents by period.
func ReviewTotalsIn(ctx context.Context, db DB, campaignID string, scope Scope) ([]ReviewTotal, error) {
	args := []any{campaignID}
	cond := scope.where(&args, "commune_code", "agent_code")
	rows, err := db.Query(ctx, `
		select period, count(*)::int, count(*) filter (where decision = 'reward')::int, count(*) filter (where decision = 'commend')::int,
			count(*) filter (where decision = 'retain')::int, count(*) filter (where decision = 'warn')::int,
			count(*) filter (where decision = 'terminate')::int,
			count(*) filter (where status in ('approved', 'auto_terminated'))::int, count(*) filter (where status = 'rejected')::int,
			count(*) filter (where status = 'escalated')::int
		from review_decisions where campaign_id = $1`+cond+` group by period order by min(window_end)`, args...)
	if err != nil {
		return nil, fmt.Errorf("count decisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReviewTotal, error) {
		var t ReviewTotal
		return t, r.Scan(&t.Period, &t.Agents, &t.Rewarded, &t.Commended, &t.Retained, &t.Warned, &t.Proposed, &t.Approved, &t.Rejected, &t.Escalated)
	})
	if err != nil {
		return nil, fmt.Errorf("count decisions: %w", err)
	}
	return out, nil
}
