package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The report's read model: a campaign's figures by unit, target group and agent, its
// follow-ups and events counted, and the stored final report.

// ReportHead is what the report says of the campaign itself.
type ReportHead struct {
	Name      string
	Status    string
	Target    int
	PriorYear int
	Enrolled  int
}

// ErrNoCampaign is returned for a campaign the database does not know.
var ErrNoCampaign = fmt.Errorf("no such campaign: %w", ErrNotFound)

// ReportHeadOf reads a campaign's name, status, target, prior year and enrolments.
func ReportHeadOf(ctx context.Context, db DB, campaignID string) (ReportHead, error) {
	var h ReportHead
	var target *int
	err := db.QueryRow(ctx, `select name, status, target, prior_year_enrolled,
			(select coalesce(sum(n), 0) from enrolment_group_counts where campaign_id = $1)::int
		from campaigns where id = $1`, campaignID).
		Scan(&h.Name, &h.Status, &target, &h.PriorYear, &h.Enrolled)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, ErrNoCampaign
	}
	if err != nil {
		return h, fmt.Errorf("read campaign: %w", err)
	}
	if target != nil {
		h.Target = *target
	}
	return h, nil
}

// UnitFigures is a district, commune or village: its quota and enrolments.
type UnitFigures struct {
	Level    string `json:"level"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	Parent   string `json:"parent,omitempty"`
	Target   int    `json:"target"`
	Enrolled int    `json:"enrolled"`
}

// UnitsFigures reads every unit of a campaign, districts first, then communes, then villages.
func UnitsFigures(ctx context.Context, db DB, campaignID string) ([]UnitFigures, error) {
	// The enrolments are read from their counts by unit (migration 010), kept exact as
	// enrolments are written: a few thousand rows, not a million enrolments.
	rows, err := db.Query(ctx, `
		with counts as materialized (
			select district_code as code, sum(n) as n from enrolment_unit_counts where campaign_id = $1 group by 1
			union all select commune_code, sum(n) from enrolment_unit_counts where campaign_id = $1 group by 1
			union all select village_code, sum(n) from enrolment_unit_counts where campaign_id = $1 and village_code <> '' group by 1)
		select u.level, u.code, u.name, coalesce(u.parent_code, ''), coalesce(q.target, 0), coalesce(c.n, 0)::int
		from units u
		left join quotas q on q.campaign_id = u.campaign_id and q.level = u.level and q.code = u.code
		left join counts c on c.code = u.code
		where u.campaign_id = $1
		order by case u.level when 'district' then 1 when 'commune' then 2 else 3 end, u.code`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("units: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnitFigures, error) {
		var u UnitFigures
		return u, r.Scan(&u.Level, &u.Code, &u.Name, &u.Parent, &u.Target, &u.Enrolled)
	})
	if err != nil {
		return nil, fmt.Errorf("units: %w", err)
	}
	return out, nil
}

// GroupFigures is a target group: leads taken, how they ended, and enrolments.
type GroupFigures struct {
	Code          string  `json:"code"`
	Name          string  `json:"name"`
	Likelihood    float64 `json:"likelihood"`
	Leads         int     `json:"leads"`
	LeadsEnrolled int     `json:"leads_enrolled"`
	Declined      int     `json:"declined"`
	Unreachable   int     `json:"unreachable"`
	Enrolled      int     `json:"enrolled"`
}

// GroupsFigures reads a campaign's target groups, likeliest first.
func GroupsFigures(ctx context.Context, db DB, campaignID string) ([]GroupFigures, error) {
	// One grouped pass over the leads, and the enrolments' counts by group (a follow-up has one lead).
	rows, err := db.Query(ctx, `
		with leads as (
			select p.target_group as code, count(*) as leads,
				count(*) filter (where f.status = 'enrolled') as enrolled,
				count(*) filter (where f.status = 'declined') as declined,
				count(*) filter (where f.status = 'unreachable') as unreachable
			from prospects p left join follow_ups f on f.prospect_id = p.id
			where p.campaign_id = $1 group by 1),
		enrolled as (select target_group as code, n from enrolment_group_counts where campaign_id = $1)
		select g.code, g.name, g.likelihood, coalesce(l.leads, 0)::int, coalesce(l.enrolled, 0)::int,
			coalesce(l.declined, 0)::int, coalesce(l.unreachable, 0)::int, coalesce(e.n, 0)::int
		from target_groups g left join leads l on l.code = g.code left join enrolled e on e.code = g.code
		where g.campaign_id = $1 order by g.likelihood desc, g.code`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("groups: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (GroupFigures, error) {
		var g GroupFigures
		return g, r.Scan(&g.Code, &g.Name, &g.Likelihood, &g.Leads, &g.LeadsEnrolled, &g.Declined, &g.Unreachable, &g.Enrolled)
	})
	if err != nil {
		return nil, fmt.Errorf("groups: %w", err)
	}
	return out, nil
}

// AgentFigures is an agent's or staff member's quota and results.
type AgentFigures struct {
	Code          string `json:"code"`
	Commune       string `json:"commune"`
	Kind          string `json:"kind"`
	PostOffice    bool   `json:"post_office"`
	Status        string `json:"status"`
	Quota         int    `json:"quota"`
	Enrolled      int    `json:"enrolled"`
	FollowUpsOpen int    `json:"follow_ups_open"`
	Escalated     int    `json:"escalated"`
}

// AgentsFigures reads every agent of a campaign, by code.
func AgentsFigures(ctx context.Context, db DB, campaignID string) ([]AgentFigures, error) {
	rows, err := db.Query(ctx, `
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
		return nil, fmt.Errorf("agents: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanAgentFigures)
	if err != nil {
		return nil, fmt.Errorf("agents: %w", err)
	}
	return out, nil
}

func scanAgentFigures(r pgx.CollectableRow) (AgentFigures, error) {
	var a AgentFigures
	return a, r.Scan(&a.Code, &a.Commune, &a.Kind, &a.PostOffice, &a.Status, &a.Quota, &a.Enrolled, &a.FollowUpsOpen, &a.Escalated)
}

// FollowUpCounts counts follow-up tasks by outcome.
type FollowUpCounts struct {
	Total       int `json:"total"`
	Open        int `json:"open"`
	Enrolled    int `json:"enrolled"`
	Declined    int `json:"declined"`
	Unreachable int `json:"unreachable"`
	Escalated   int `json:"escalated"`
}

// CountFollowUps counts a campaign's follow-ups of leads by outcome (renewals are the
// register's: the report's participants count them).
func CountFollowUps(ctx context.Context, db DB, campaignID string) (FollowUpCounts, error) {
	var f FollowUpCounts
	err := db.QueryRow(ctx, `
		select count(*)::int, count(*) filter (where status = 'open')::int, count(*) filter (where status = 'enrolled')::int,
			count(*) filter (where status = 'declined')::int, count(*) filter (where status = 'unreachable')::int,
			count(*) filter (where escalated_at is not null)::int
		from follow_ups where campaign_id = $1 and kind = 'lead'`, campaignID).
		Scan(&f.Total, &f.Open, &f.Enrolled, &f.Declined, &f.Unreachable, &f.Escalated)
	if err != nil {
		return f, fmt.Errorf("follow-ups: %w", err)
	}
	return f, nil
}

// EventCounts counts events and what they reached.
type EventCounts struct {
	Planned    int `json:"planned"`
	Held       int `json:"held"`
	Cancelled  int `json:"cancelled"`
	Attendance int `json:"attendance"`
	Leads      int `json:"leads"`
}

// CountEvents counts a campaign's events by status, and their attendance and leads.
func CountEvents(ctx context.Context, db DB, campaignID string) (EventCounts, error) {
	var e EventCounts
	err := db.QueryRow(ctx, `
		select count(*) filter (where status = 'planned')::int, count(*) filter (where status = 'held')::int,
			count(*) filter (where status = 'cancelled')::int, coalesce(sum(attendance), 0)::int, coalesce(sum(leads), 0)::int
		from events where campaign_id = $1`, campaignID).
		Scan(&e.Planned, &e.Held, &e.Cancelled, &e.Attendance, &e.Leads)
	if err != nil {
		return e, fmt.Errorf("events: %w", err)
	}
	return e, nil
}

// SaveReport stores a campaign's report (its JSON) with the status it was made in.
func SaveReport(ctx context.Context, db DB, campaignID, status string, body []byte) error {
	_, err := db.Exec(ctx, `
		insert into reports (campaign_id, status, body) values ($1, $2, $3)
		on conflict (campaign_id) do update set status = excluded.status, body = excluded.body, recorded_at = now()`,
		campaignID, status, body)
	return err
}

// StoredReport returns a campaign's stored report, or ok false when it has none.
func StoredReport(ctx context.Context, db DB, campaignID string) (body []byte, ok bool, err error) {
	err = db.QueryRow(ctx, `select body from reports where campaign_id = $1`, campaignID).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	return body, err == nil, err
}

// ReportStamp changes whenever a campaign's figures may have: every effect on a campaign writes
// its audit row in the same transaction, so the campaign's last audit row (read through its
// index) and its status say whether a report computed earlier still holds.
func ReportStamp(ctx context.Context, db DB, campaignID string) (string, error) {
	var stamp string
	err := db.QueryRow(ctx, `select c.status || ':' || coalesce((select max(id) from audit_log where campaign_id = $1), 0)
		from campaigns c where c.id = $1`, campaignID).Scan(&stamp)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNoCampaign
	}
	return stamp, err
}
