package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// Contract is one contract of an agent or staff member: in one campaign, under one code, in
// one commune. Contracts belong to the agent: next year's plan takes the roster as it stands
// (`starter agents roster`), so the same code goes on from campaign to campaign, and a move to
// another commune goes on under a new code.
type Contract struct {
	Campaign       string     `json:"campaign"`
	CampaignStatus string     `json:"campaign_status"`
	Code           string     `json:"code"`
	Commune        string     `json:"commune"`
	Kind           string     `json:"kind"`
	From           time.Time  `json:"from"`            // the day it started: joined_on, or the campaign's first day
	Until          *time.Time `json:"until,omitempty"` // the day it ended (campaign time); nil while it runs
	Status         string     `json:"status"`          // active | left | terminated
	Reason         string     `json:"reason,omitempty"`
}

// AgentContracts lists the contracts of the agent or staff member holding code, through a
// campaign and the campaigns before it (previous_campaign), following the agent's moves (the
// agent.move audit rows) to the codes they had before and after: the oldest first.
func AgentContracts(ctx context.Context, db DB, campaignID, code string) ([]Contract, error) {
	chain, err := queryStrings(ctx, db, "read the campaigns before "+campaignID, `
		with recursive chain (id, depth) as (
			select id, 0 from campaigns where id = $1
			union all
			select c.previous_campaign, chain.depth + 1 from chain join campaigns c on c.id = chain.id
			where c.previous_campaign is not null and chain.depth < 100
		)
		select id from chain order by depth`, campaignID)
	if err != nil {
		return nil, err
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("campaign %s: %w", campaignID, ErrNotFound)
	}
	rows, err := db.Query(ctx, `
		select entity_key, detail->>'as' from audit_log
		where action = 'agent.move' and campaign_id = any($1::text[]) and detail ? 'as'`, chain)
	if err != nil {
		return nil, fmt.Errorf("read the moves of agents: %w", err)
	}
	var moves [][2]string
	var from, to string
	if _, err := pgx.ForEachRow(rows, []any{&from, &to}, func() error { moves = append(moves, [2]string{from, to}); return nil }); err != nil {
		return nil, fmt.Errorf("read the moves of agents: %w", err)
	}
	codes := []string{code}
	for grew := true; grew; {
		grew = false
		for _, m := range moves {
			in0, in1 := slices.Contains(codes, m[0]), slices.Contains(codes, m[1])
			if in0 != in1 {
				codes, grew = append(codes, m[0], m[1]), true
				slices.Sort(codes)
				codes = slices.Compact(codes)
			}
		}
	}
	rows, err = db.Query(ctx, `
		select a.campaign_id, c.status, a.code, a.commune_code, a.kind, coalesce(a.joined_on, c.period_start),
			(a.terminated_at at time zone c.timezone)::date, a.status, coalesce(a.termination_reason, '')
		from agents a join campaigns c on c.id = a.campaign_id
		where a.campaign_id = any($1::text[]) and a.code = any($2::text[])
		order by coalesce(a.joined_on, c.period_start), c.period_start, a.code`, chain, codes)
	if err != nil {
		return nil, fmt.Errorf("read the contracts of %s: %w", code, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Contract])
	if err != nil {
		return nil, fmt.Errorf("read the contracts of %s: %w", code, err)
	}
	return out, nil
}

// EndedContract is a code whose contract ended in a campaign: left or terminated, on a day.
type EndedContract struct {
	Code   string
	Status string
	Until  time.Time // campaign time, the day it ended
}

// EndedContracts returns, by code, those of codes whose contract ended in a campaign (left or
// terminated; a move ends the old code's): codes are given once, so another plan may not list
// them again for the same person or another.
func EndedContracts(ctx context.Context, db DB, campaignID string, codes []string) ([]EndedContract, error) {
	rows, err := db.Query(ctx, `
		select a.code, a.status, coalesce((a.terminated_at at time zone c.timezone)::date, c.period_end)
		from agents a join campaigns c on c.id = a.campaign_id
		where a.campaign_id = $1 and a.code = any($2::text[]) and a.status <> 'active'
		order by a.code`, campaignID, codes)
	if err != nil {
		return nil, fmt.Errorf("read the ended contracts of campaign %s: %w", campaignID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[EndedContract])
	if err != nil {
		return nil, fmt.Errorf("read the ended contracts of campaign %s: %w", campaignID, err)
	}
	return out, nil
}
