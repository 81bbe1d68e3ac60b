// Package report computes a campaign's report from its rows — achieved against plan by unit,
// target group and agent, and growth against the prior year — and writes it as a table, CSV or
// JSON. The closing activity stores the final report; `starter report` reads it, or computes a
// live one while the campaign runs.
package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what the report reads through: a pool, a connection or a transaction.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Report is a campaign's achieved-vs-plan report. It names agents by code only.
type Report struct {
	CampaignID    string      `json:"campaign_id"`
	Name          string      `json:"name"`
	Status        string      `json:"status"`
	Final         bool        `json:"final"`
	GeneratedAt   time.Time   `json:"generated_at"`
	Target        int         `json:"target"`
	Enrolled      int         `json:"enrolled"`
	AttainmentPct float64     `json:"attainment_pct"`
	PriorYear     int         `json:"prior_year"`
	Growth        int         `json:"growth"`
	GrowthPct     float64     `json:"growth_pct"`
	Units         []UnitLine  `json:"units"`
	Groups        []GroupLine `json:"groups"`
	Agents        []AgentLine `json:"agents"`
	FollowUps     FollowUps   `json:"follow_ups"`
	Events        Events      `json:"events"`
}

// UnitLine is a district, commune or village.
type UnitLine struct {
	Level    string  `json:"level"`
	Code     string  `json:"code"`
	Name     string  `json:"name"`
	Parent   string  `json:"parent,omitempty"`
	Target   int     `json:"target"`
	Enrolled int     `json:"enrolled"`
	Pct      float64 `json:"pct"`
}

// GroupLine is a target group: leads taken, how they ended, and enrolments.
type GroupLine struct {
	Code          string  `json:"code"`
	Name          string  `json:"name"`
	Likelihood    float64 `json:"likelihood"`
	Leads         int     `json:"leads"`
	LeadsEnrolled int     `json:"leads_enrolled"`
	Declined      int     `json:"declined"`
	Unreachable   int     `json:"unreachable"`
	Enrolled      int     `json:"enrolled"`
	SharePct      float64 `json:"share_pct"`
	ConversionPct float64 `json:"conversion_pct"`
}

// AgentLine is an agent's or staff member's quota and results.
type AgentLine struct {
	Code          string  `json:"code"`
	Commune       string  `json:"commune"`
	Kind          string  `json:"kind"`
	PostOffice    bool    `json:"post_office"`
	Status        string  `json:"status"`
	Quota         int     `json:"quota"`
	Enrolled      int     `json:"enrolled"`
	Pct           float64 `json:"pct"`
	FollowUpsOpen int     `json:"follow_ups_open"`
	Escalated     int     `json:"escalated"`
}

// FollowUps counts follow-up tasks by outcome.
type FollowUps struct {
	Total       int `json:"total"`
	Open        int `json:"open"`
	Enrolled    int `json:"enrolled"`
	Declined    int `json:"declined"`
	Unreachable int `json:"unreachable"`
	Escalated   int `json:"escalated"`
}

// Events counts events and what they reached.
type Events struct {
	Planned    int `json:"planned"`
	Held       int `json:"held"`
	Cancelled  int `json:"cancelled"`
	Attendance int `json:"attendance"`
	Leads      int `json:"leads"`
}

// ErrUnknownCampaign is returned for a campaign the database does not know.
var ErrUnknownCampaign = errors.New("unknown campaign")

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(n)*10000/float64(of)) / 100
}

// Build computes the report from the rows as they are now.
func Build(ctx context.Context, db DB, campaignID string) (*Report, error) {
	r := &Report{CampaignID: campaignID, GeneratedAt: time.Now().UTC()}
	var target *int
	err := db.QueryRow(ctx, `select name, status, target, prior_year_enrolled from campaigns where id = $1`, campaignID).
		Scan(&r.Name, &r.Status, &target, &r.PriorYear)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w %q", ErrUnknownCampaign, campaignID)
	}
	if err != nil {
		return nil, fmt.Errorf("report: read campaign: %w", err)
	}
	if target != nil {
		r.Target = *target
	}
	r.Final = r.Status == "closed" || r.Status == "cancelled"
	if err := db.QueryRow(ctx, `select count(*) from enrolments where campaign_id = $1`, campaignID).Scan(&r.Enrolled); err != nil {
		return nil, fmt.Errorf("report: count enrolments: %w", err)
	}
	r.AttainmentPct = pct(r.Enrolled, r.Target)
	r.Growth = r.Enrolled - r.PriorYear
	r.GrowthPct = pct(r.Growth, r.PriorYear)

	// The counts are computed once (materialized): with statistics that do not know the
	// campaign's units yet, the planner would otherwise count the enrolments again for every unit.
	rows, err := db.Query(ctx, `
		with counts as materialized (
			select district_code as code, count(*) as n from enrolments where campaign_id = $1 group by 1
			union all select commune_code, count(*) from enrolments where campaign_id = $1 group by 1
			union all select village_code, count(*) from enrolments where campaign_id = $1 and village_code is not null group by 1)
		select u.level, u.code, u.name, coalesce(u.parent_code, ''), coalesce(q.target, 0), coalesce(c.n, 0)::int
		from units u
		left join quotas q on q.campaign_id = u.campaign_id and q.level = u.level and q.code = u.code
		left join counts c on c.code = u.code
		where u.campaign_id = $1
		order by case u.level when 'district' then 1 when 'commune' then 2 else 3 end, u.code`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("report: units: %w", err)
	}
	var u UnitLine
	if _, err := pgx.ForEachRow(rows, []any{&u.Level, &u.Code, &u.Name, &u.Parent, &u.Target, &u.Enrolled}, func() error {
		u.Pct = pct(u.Enrolled, u.Target)
		r.Units = append(r.Units, u)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("report: units: %w", err)
	}

	// One grouped pass over the leads and one over the enrolments (a follow-up has one lead).
	rows, err = db.Query(ctx, `
		with leads as (
			select p.target_group as code, count(*) as leads,
				count(*) filter (where f.status = 'enrolled') as enrolled,
				count(*) filter (where f.status = 'declined') as declined,
				count(*) filter (where f.status = 'unreachable') as unreachable
			from prospects p left join follow_ups f on f.prospect_id = p.id
			where p.campaign_id = $1 group by 1),
		enrolled as (select target_group as code, count(*) as n from enrolments where campaign_id = $1 group by 1)
		select g.code, g.name, g.likelihood, coalesce(l.leads, 0)::int, coalesce(l.enrolled, 0)::int,
			coalesce(l.declined, 0)::int, coalesce(l.unreachable, 0)::int, coalesce(e.n, 0)::int
		from target_groups g left join leads l on l.code = g.code left join enrolled e on e.code = g.code
		where g.campaign_id = $1 order by g.likelihood desc, g.code`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("report: groups: %w", err)
	}
	var g GroupLine
	if _, err := pgx.ForEachRow(rows, []any{&g.Code, &g.Name, &g.Likelihood, &g.Leads, &g.LeadsEnrolled, &g.Declined, &g.Unreachable, &g.Enrolled}, func() error {
		g.SharePct = pct(g.Enrolled, r.Enrolled)
		g.ConversionPct = pct(g.LeadsEnrolled, g.Leads)
		r.Groups = append(r.Groups, g)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("report: groups: %w", err)
	}

	rows, err = db.Query(ctx, `
		select a.code, a.commune_code, a.kind, a.post_office, a.status, coalesce(q.target, 0),
			coalesce(e.n, 0)::int, coalesce(f.open, 0)::int, coalesce(f.escalated, 0)::int
		from agents a
		left join quotas q on q.campaign_id = a.campaign_id and q.level = 'agent' and q.code = a.code
		left join (select agent_code, count(*) as n from enrolments where campaign_id = $1 group by 1) e on e.agent_code = a.code
		left join (select agent_code, count(*) filter (where status = 'open') as open,
		                  count(*) filter (where escalated_at is not null) as escalated
		           from follow_ups where campaign_id = $1 group by 1) f on f.agent_code = a.code
		where a.campaign_id = $1 order by a.code`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("report: agents: %w", err)
	}
	var a AgentLine
	if _, err := pgx.ForEachRow(rows, []any{&a.Code, &a.Commune, &a.Kind, &a.PostOffice, &a.Status, &a.Quota, &a.Enrolled, &a.FollowUpsOpen, &a.Escalated}, func() error {
		a.Pct = pct(a.Enrolled, a.Quota)
		r.Agents = append(r.Agents, a)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("report: agents: %w", err)
	}

	if err := db.QueryRow(ctx, `
		select count(*)::int, count(*) filter (where status = 'open')::int, count(*) filter (where status = 'enrolled')::int,
			count(*) filter (where status = 'declined')::int, count(*) filter (where status = 'unreachable')::int,
			count(*) filter (where escalated_at is not null)::int
		from follow_ups where campaign_id = $1`, campaignID).
		Scan(&r.FollowUps.Total, &r.FollowUps.Open, &r.FollowUps.Enrolled, &r.FollowUps.Declined, &r.FollowUps.Unreachable, &r.FollowUps.Escalated); err != nil {
		return nil, fmt.Errorf("report: follow-ups: %w", err)
	}
	if err := db.QueryRow(ctx, `
		select count(*) filter (where status = 'planned')::int, count(*) filter (where status = 'held')::int,
			count(*) filter (where status = 'cancelled')::int, coalesce(sum(attendance), 0)::int, coalesce(sum(leads), 0)::int
		from events where campaign_id = $1`, campaignID).
		Scan(&r.Events.Planned, &r.Events.Held, &r.Events.Cancelled, &r.Events.Attendance, &r.Events.Leads); err != nil {
		return nil, fmt.Errorf("report: events: %w", err)
	}
	return r, nil
}

// Store saves a campaign's final report.
func Store(ctx context.Context, db DB, r *Report) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("report: encode: %w", err)
	}
	if _, err := db.Exec(ctx, `
		insert into reports (campaign_id, status, body) values ($1, $2, $3)
		on conflict (campaign_id) do update set status = excluded.status, body = excluded.body, recorded_at = now()`,
		r.CampaignID, r.Status, body); err != nil {
		return fmt.Errorf("report: store: %w", err)
	}
	return nil
}

// Load returns the stored final report, or a live one while the campaign has none.
func Load(ctx context.Context, db DB, campaignID string) (*Report, error) {
	var body []byte
	err := db.QueryRow(ctx, `select body from reports where campaign_id = $1`, campaignID).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return Build(ctx, db, campaignID)
	}
	if err != nil {
		return nil, fmt.Errorf("report: load: %w", err)
	}
	var r Report
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("report: decode stored report: %w", err)
	}
	return &r, nil
}
