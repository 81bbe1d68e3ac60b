package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Agents joining a running campaign (migration 019): a checked roster file is staged as an
// import batch of kind 'agents' with its lines in staged_agents, and applied by the campaign's
// agents-join Update, which inserts the joiners and deletes the lines.

// JoinBatchKind is the import_batches kind of a staged joining file.
const JoinBatchKind = "agents"

// StagedAgent is one checked line of a joining file. Name and phone are personal data: they go
// from the file to the database, never into errors, logs or Temporal.
type StagedAgent struct {
	Line       int
	Code       string
	Commune    string
	Kind       string // agent | staff
	PostOffice bool
	FullName   string
	Phone      string
	Weight     float64
}

// CampaignAgentCodes lists the codes of every agent and staff member a campaign has had, active
// or not: a code is never given twice in a campaign.
func CampaignAgentCodes(ctx context.Context, db DB, campaignID string) ([]string, error) {
	return queryStrings(ctx, db, "read agents' codes", `select code from agents where campaign_id = $1`, campaignID)
}

// StageAgents writes a joining file's batch row (kind agents, status staged) and its lines.
func StageAgents(ctx context.Context, db DB, b ImportBatch, lines []StagedAgent) error {
	b.Kind = JoinBatchKind
	b.Rows, b.StagedRows = len(lines), len(lines)
	if err := InsertImportBatch(ctx, db, b); err != nil {
		return err
	}
	n := len(lines)
	line, code, commune, kind := make([]int32, n), make([]string, n), make([]string, n), make([]string, n)
	po, name, phone, weight := make([]bool, n), make([]string, n), make([]string, n), make([]float64, n)
	for i, l := range lines {
		line[i], code[i], commune[i], kind[i] = int32(l.Line), l.Code, l.Commune, l.Kind
		po[i], name[i], phone[i], weight[i] = l.PostOffice, l.FullName, l.Phone, l.Weight
	}
	if _, err := db.Exec(ctx, `
		insert into staged_agents (batch_id, line, code, commune_code, kind, post_office, full_name, phone, weight)
		select $1, t.* from unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::text[], $8::text[], $9::float8[])
			as t(line, code, commune_code, kind, post_office, full_name, phone, weight)`,
		b.ID, line, code, commune, kind, po, name, phone, weight); err != nil {
		return fmt.Errorf("stage agents: %w", err)
	}
	return nil
}

// Joiner is a staged joiner as the join's activity computes with it: no name, no phone.
type Joiner struct {
	Line    int
	Code    string
	Commune string
	Kind    string
	Weight  float64
	// Taken says the campaign has an agent or staff member of this code already.
	Taken bool
	// Known says the campaign has the line's commune.
	Known bool
}

// StagedJoiners reads a staged joining batch's lines in line order, each saying whether its
// code is taken in the campaign and its commune known there.
func StagedJoiners(ctx context.Context, db DB, campaignID, batchID string) ([]Joiner, error) {
	rows, err := db.Query(ctx, `
		select s.line, s.code, s.commune_code, s.kind, s.weight,
			exists (select 1 from agents a where a.campaign_id = $1 and a.code = s.code),
			exists (select 1 from units u where u.campaign_id = $1 and u.level = 'commune' and u.code = s.commune_code)
		from staged_agents s where s.batch_id = $2 order by s.line`, campaignID, batchID)
	if err != nil {
		return nil, fmt.Errorf("read staged agents: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Joiner])
	if err != nil {
		return nil, fmt.Errorf("read staged agents: %w", err)
	}
	return out, nil
}

// InsertJoiners makes every line of a staged joining batch an active agent or staff member of
// the campaign, joined on the day given, with a quota of 0 (the caller sets it, with its
// history, by ChangeQuotas), and returns how many it inserted.
func InsertJoiners(ctx context.Context, db DB, campaignID, batchID string, joinedOn time.Time) (int, error) {
	tag, err := db.Exec(ctx, `
		insert into agents (campaign_id, code, commune_code, district_code, kind, full_name, phone, post_office, weight, joined_on)
		select $1, s.code, s.commune_code, u.district_code, s.kind, s.full_name, s.phone, s.post_office, s.weight, $3::date
		from staged_agents s join units u on u.campaign_id = $1 and u.level = 'commune' and u.code = s.commune_code
		where s.batch_id = $2
		order by s.code`, campaignID, batchID, joinedOn.Format(time.DateOnly))
	if err != nil {
		return 0, fmt.Errorf("insert joining agents: %w", err)
	}
	if _, err := db.Exec(ctx, `
		insert into quotas (campaign_id, level, code, target)
		select $1, 'agent', code, 0 from staged_agents where batch_id = $2 order by code`, campaignID, batchID); err != nil {
		return 0, fmt.Errorf("insert joining agents' quotas: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// CommuneTargets returns the targets in force of the given communes.
func CommuneTargets(ctx context.Context, db DB, campaignID string, communes []string) (map[string]int, error) {
	rows, err := db.Query(ctx, `select code, target from quotas where campaign_id = $1 and level = 'commune' and code = any($2::text[])`,
		campaignID, communes)
	if err != nil {
		return nil, fmt.Errorf("read communes' targets: %w", err)
	}
	out := map[string]int{}
	var code string
	var target int
	if _, err := pgx.ForEachRow(rows, []any{&code, &target}, func() error { out[code] = target; return nil }); err != nil {
		return nil, fmt.Errorf("read communes' targets: %w", err)
	}
	return out, nil
}

// FinishJoin marks a joining batch applied with its result (stored as JSON) and deletes its
// staged lines, names and phones with them.
func FinishJoin(ctx context.Context, db DB, batchID string, result any) error {
	if _, err := db.Exec(ctx, `update import_batches set status = 'merged', merged_at = now(), result = $2 where id = $1`, batchID, result); err != nil {
		return fmt.Errorf("mark joining batch applied: %w", err)
	}
	if _, err := db.Exec(ctx, `delete from staged_agents where batch_id = $1`, batchID); err != nil {
		return fmt.Errorf("delete staged agents: %w", err)
	}
	return nil
}

// MovedAgent is what a move reads of the agent who moves: where they worked, their kind and
// weight (the new contract's are the same).
type MovedAgent struct {
	Commune string
	Staff   bool
	Weight  float64
}

// ActiveAgent reads an active agent or staff member of a campaign, or ErrNotFound.
func ActiveAgent(ctx context.Context, db DB, campaignID, code string) (MovedAgent, error) {
	var m MovedAgent
	err := db.QueryRow(ctx, `select commune_code, kind = 'staff', weight from agents where campaign_id = $1 and code = $2 and status = 'active'`,
		campaignID, code).Scan(&m.Commune, &m.Staff, &m.Weight)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("agent %s: %w", code, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("read agent %s: %w", code, err)
	}
	return m, nil
}

// InsertMovedAgent gives an agent or staff member who moves a new contract under code in
// commune from the day joinedOn, with a quota of 0: the same person (name, phone), kind, post
// office and weight as their ended contract under from, copied in the database so that no name
// or phone leaves it. It returns false when the campaign has no such commune.
func InsertMovedAgent(ctx context.Context, db DB, campaignID, from, code, commune string, joinedOn time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `
		insert into agents (campaign_id, code, commune_code, district_code, kind, full_name, phone, post_office, weight, joined_on)
		select $1, $3, u.code, u.district_code, a.kind, a.full_name, a.phone, a.post_office, a.weight, $5::date
		from agents a join units u on u.campaign_id = $1 and u.level = 'commune' and u.code = $4
		where a.campaign_id = $1 and a.code = $2`, campaignID, from, code, commune, joinedOn.Format(time.DateOnly))
	if err != nil {
		return false, fmt.Errorf("insert the moved agent %s: %w", code, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if _, err := db.Exec(ctx, `insert into quotas (campaign_id, level, code, target) values ($1, 'agent', $2, 0)`, campaignID, code); err != nil {
		return false, fmt.Errorf("insert the moved agent's quota: %w", err)
	}
	return true, nil
}

// AgentCodeTaken says whether a campaign has, or has had, an agent or staff member of a code.
func AgentCodeTaken(ctx context.Context, db DB, campaignID, code string) (bool, error) {
	var taken bool
	if err := db.QueryRow(ctx, `select exists (select 1 from agents where campaign_id = $1 and code = $2)`, campaignID, code).Scan(&taken); err != nil {
		return false, fmt.Errorf("read agent %s: %w", code, err)
	}
	return taken, nil
}

// RosterLine is an agent or staff member of a campaign as a plan's roster file lists them
// (plan.RosterHeader): name and phone are personal data, for the file only.
type RosterLine struct {
	Code       string
	Commune    string
	Kind       string
	PostOffice bool
	FullName   string
	Phone      string
	Weight     float64
}

// ForEachActiveAgent calls fn with each agent and staff member of a campaign whose contract
// runs, by code, without holding them all.
func ForEachActiveAgent(ctx context.Context, db DB, campaignID string, fn func(RosterLine) error) error {
	rows, err := db.Query(ctx, `
		select code, commune_code, kind, post_office, full_name, phone, weight from agents
		where campaign_id = $1 and status = 'active' order by code`, campaignID)
	if err != nil {
		return fmt.Errorf("read the roster of campaign %s: %w", campaignID, err)
	}
	var l RosterLine
	if _, err := pgx.ForEachRow(rows, []any{&l.Code, &l.Commune, &l.Kind, &l.PostOffice, &l.FullName, &l.Phone, &l.Weight},
		func() error { return fn(l) }); err != nil {
		return fmt.Errorf("read the roster of campaign %s: %w", campaignID, err)
	}
	return nil
}
