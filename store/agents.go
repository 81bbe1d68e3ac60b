package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Agent is a collection agent or staff member of a campaign's roster.
type Agent struct {
	Code       string
	Commune    string
	District   string
	Kind       string // agent | staff
	FullName   string
	Phone      string
	PostOffice bool
	Weight     float64 // share of the commune's quota, relative to the others'
}

// InsertAgents writes a campaign's roster in one statement; an agent already there is left as
// it is. An agent's quota is its quota row (level agent), not on the agent's row.
func InsertAgents(ctx context.Context, db DB, campaignID string, agents []Agent) error {
	n := len(agents)
	code, commune, district, kind := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	name, phone, po, weight := make([]string, n), make([]string, n), make([]bool, n), make([]float64, n)
	for i, a := range agents {
		code[i], commune[i], district[i], kind[i] = a.Code, a.Commune, a.District, a.Kind
		name[i], phone[i], po[i], weight[i] = a.FullName, a.Phone, a.PostOffice, a.Weight
	}
	if _, err := db.Exec(ctx, `
		insert into agents (campaign_id, code, commune_code, district_code, kind, full_name, phone, post_office, weight)
		select $1, t.*
		from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::float8[])
			as t(code, commune_code, district_code, kind, full_name, phone, post_office, weight)
		on conflict do nothing`,
		campaignID, code, commune, district, kind, name, phone, po, weight); err != nil {
		return fmt.Errorf("insert agents: %w", err)
	}
	return nil
}

// TerminateAgent ends an active agent's contract and returns its commune.
func TerminateAgent(ctx context.Context, db DB, campaignID, agent string, at time.Time, reason string) (commune string, err error) {
	return EndContract(ctx, db, campaignID, agent, "terminated", at, reason)
}

// EndContract ends an active agent's contract at a campaign time, with a status (terminated,
// or left when they resigned) and the reason, and returns their commune; ErrNotFound when
// the campaign has no such active agent.
func EndContract(ctx context.Context, db DB, campaignID, agent, status string, at time.Time, reason string) (commune string, err error) {
	err = db.QueryRow(ctx, `
		update agents set status = $5, terminated_at = $3, termination_reason = $4
		where campaign_id = $1 and code = $2 and status = 'active' returning commune_code`,
		campaignID, agent, at, reason, status).Scan(&commune)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("agent %s: %w", agent, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("end the contract of agent %s: %w", agent, err)
	}
	return commune, nil
}

// Successor is an agent who may take over a terminated agent's work.
type Successor struct {
	Code   string
	Weight float64
	Staff  bool
}

// Successors returns, in code order, who takes over in a commune: its active collection
// agents, or else its active staff.
func Successors(ctx context.Context, db DB, campaignID, commune string) ([]Successor, error) {
	rows, err := db.Query(ctx, `
		select code, weight, kind = 'staff' from agents
		where campaign_id = $1 and commune_code = $2 and status = 'active'
		  and (kind = 'agent' or not exists (select 1 from agents b where b.campaign_id = $1 and b.commune_code = $2
		                                     and b.kind = 'agent' and b.status = 'active'))
		order by code`, campaignID, commune)
	if err != nil {
		return nil, fmt.Errorf("find successors: %w", err)
	}
	succ, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Successor])
	if err != nil {
		return nil, fmt.Errorf("find successors: %w", err)
	}
	return succ, nil
}
