package store

import (
	"context"
	"fmt"
)

// Quota is the target of one unit (by level: city, district, commune, village) or of one
// agent or staff member (level agent).
type Quota struct {
	Level  string
	Code   string
	Target int
}

// InsertQuotas writes quotas in one statement; a quota already there is left as it is.
func InsertQuotas(ctx context.Context, db DB, campaignID string, quotas []Quota) error {
	level, code, target := make([]string, len(quotas)), make([]string, len(quotas)), make([]int32, len(quotas))
	for i, q := range quotas {
		level[i], code[i], target[i] = q.Level, q.Code, int32(q.Target)
	}
	if _, err := db.Exec(ctx, `
		insert into quotas (campaign_id, level, code, target)
		select $1, * from unnest($2::text[], $3::text[], $4::int[]) on conflict do nothing`,
		campaignID, level, code, target); err != nil {
		return fmt.Errorf("insert quotas: %w", err)
	}
	return nil
}

// AnalyzePlan refreshes the planner's statistics of a launched plan's units, quotas, agents and
// events (migration 024), written at once at its launch and read at once by its first review.
func AnalyzePlan(ctx context.Context, db DB) error {
	return analyze(ctx, db, "the plan", `select analyze_plan()`)
}

// AgentQuota returns an agent's quota (0 if it has none) and how many people it has enrolled.
func AgentQuota(ctx context.Context, db DB, campaignID, agent string) (quota, enrolled int, err error) {
	if err := db.QueryRow(ctx, `
		select coalesce((select target from quotas where campaign_id = $1 and level = 'agent' and code = $2), 0),
			(select count(*) from enrolments where campaign_id = $1 and agent_code = $2)`, campaignID, agent).
		Scan(&quota, &enrolled); err != nil {
		return 0, 0, fmt.Errorf("read quota: %w", err)
	}
	return quota, enrolled, nil
}

// QuotaShare is part of a quota moved to an agent.
type QuotaShare struct {
	Agent  string
	Amount int
}

// MoveAgentQuota moves part of an agent's quota to others in a review period: each share is
// added to its taker's quota, the agent keeps the quota kept, and every share is recorded as
// a transfer (once per period, agent and taker), flagged when the takers are staff.
func MoveAgentQuota(ctx context.Context, db DB, campaignID, period, from string, kept int, shares []QuotaShare, toStaff bool) error {
	to, amounts := make([]string, len(shares)), make([]int32, len(shares))
	for i, s := range shares {
		to[i], amounts[i] = s.Agent, int32(s.Amount)
	}
	if _, err := db.Exec(ctx, `
		update quotas q set target = q.target + t.amount
		from unnest($2::text[], $3::int[]) as t(code, amount)
		where q.campaign_id = $1 and q.level = 'agent' and q.code = t.code`,
		campaignID, to, amounts); err != nil {
		return fmt.Errorf("move quota: %w", err)
	}
	if _, err := db.Exec(ctx, `
		update quotas set target = $3 where campaign_id = $1 and level = 'agent' and code = $2`,
		campaignID, from, kept); err != nil {
		return fmt.Errorf("move quota: %w", err)
	}
	if _, err := db.Exec(ctx, `
		insert into quota_transfers (campaign_id, period, from_agent, to_agent, amount, to_staff)
		select $1, $2, $3, t.code, t.amount, $6 from unnest($4::text[], $5::int[]) as t(code, amount)
		on conflict do nothing`, campaignID, period, from, to, amounts, toStaff); err != nil {
		return fmt.Errorf("record quota transfers: %w", err)
	}
	return nil
}
