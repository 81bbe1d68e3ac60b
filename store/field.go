package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// FieldCampaign is what the demo's field reads of its campaign: status, clock (Epoch and Start
// nil until the campaign has started it) and period.
type FieldCampaign struct {
	Status, Timezone       string
	Epoch, Start           *time.Time
	Scale                  float64
	PeriodStart, PeriodEnd time.Time
}

// FieldCampaignOf reads a campaign's status, clock and period.
func FieldCampaignOf(ctx context.Context, db DB, campaignID string) (FieldCampaign, error) {
	var c FieldCampaign
	err := db.QueryRow(ctx, `
		select status, timezone, clock_epoch, clock_start, clock_scale, period_start, period_end
		from campaigns where id = $1`, campaignID).
		Scan(&c.Status, &c.Timezone, &c.Epoch, &c.Start, &c.Scale, &c.PeriodStart, &c.PeriodEnd)
	if err != nil {
		return c, fmt.Errorf("read campaign %s: %w", campaignID, err)
	}
	return c, nil
}

// UnitParent is a unit's code and its parent's.
type UnitParent struct {
	Code, Parent string
}

// UnitsOfLevel lists a campaign's units of one level (commune, village) with their parents,
// by code.
func UnitsOfLevel(ctx context.Context, db DB, campaignID, level string) ([]UnitParent, error) {
	rows, err := db.Query(ctx, `select code, parent_code from units where campaign_id = $1 and level = $2 order by code`, campaignID, level)
	if err != nil {
		return nil, fmt.Errorf("read %s units: %w", level, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UnitParent, error) {
		var u UnitParent
		return u, r.Scan(&u.Code, &u.Parent)
	})
	if err != nil {
		return nil, fmt.Errorf("read %s units: %w", level, err)
	}
	return out, nil
}

// TargetGroupsByLikelihood lists a campaign's target groups, likeliest first.
func TargetGroupsByLikelihood(ctx context.Context, db DB, campaignID string) ([]string, error) {
	return queryStrings(ctx, db, "read target groups", `select code from target_groups where campaign_id = $1 order by likelihood desc, code`, campaignID)
}

// QuotaHolder is an active agent or staff member with the quota they hold now.
type QuotaHolder struct {
	Code, Commune string
	Quota         int
}

// ActiveQuotaHolders lists a campaign's active agents and staff with their quotas, by code.
func ActiveQuotaHolders(ctx context.Context, db DB, campaignID string) ([]QuotaHolder, error) {
	rows, err := db.Query(ctx, `
		select a.code, a.commune_code, coalesce(q.target, 0) from agents a
		left join quotas q on q.campaign_id = a.campaign_id and q.level = 'agent' and q.code = a.code
		where a.campaign_id = $1 and a.status = 'active' order by a.code`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (QuotaHolder, error) {
		var h QuotaHolder
		return h, r.Scan(&h.Code, &h.Commune, &h.Quota)
	})
	if err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	return out, nil
}

// HeldEvent is a held event whose results are not recorded yet.
type HeldEvent struct {
	ID, District string
	Commune      *string
	Groups       []string
	Expected     int
}

// HeldEventsWithoutResults lists up to limit held events with no results yet, the oldest first.
func HeldEventsWithoutResults(ctx context.Context, db DB, campaignID string, limit int) ([]HeldEvent, error) {
	rows, err := db.Query(ctx, `
		select id, district_code, commune_code, groups, expected_attendance from events
		where campaign_id = $1 and status = 'held' and results_batch is null order by scheduled_at, id limit $2`, campaignID, limit)
	if err != nil {
		return nil, fmt.Errorf("read held events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HeldEvent, error) {
		var e HeldEvent
		return e, r.Scan(&e.ID, &e.District, &e.Commune, &e.Groups, &e.Expected)
	})
	if err != nil {
		return nil, fmt.Errorf("read held events: %w", err)
	}
	return out, nil
}

// OpenLead is a lead with an open follow-up: the person (personal data: keep it out of errors
// and logs), their agent and when the follow-up opened.
type OpenLead struct {
	Citizen, Name, Phone, Commune string
	Village                       *string
	Group, Agent                  string
	Opened                        time.Time
}

// ForEachOpenLead calls fn with each lead whose follow-up is open, in follow-up order, without
// holding them all.
func ForEachOpenLead(ctx context.Context, db DB, campaignID string, fn func(OpenLead) error) error {
	rows, err := db.Query(ctx, `
		select p.citizen_id, p.full_name, p.phone, p.commune_code, p.village_code, p.target_group, fu.agent_code, fu.opened_at
		from follow_ups fu join prospects p on p.id = fu.prospect_id
		where fu.campaign_id = $1 and fu.status = 'open' order by fu.id`, campaignID)
	if err != nil {
		return fmt.Errorf("read open follow-ups: %w", err)
	}
	var l OpenLead
	_, err = pgx.ForEachRow(rows, []any{&l.Citizen, &l.Name, &l.Phone, &l.Commune, &l.Village, &l.Group, &l.Agent, &l.Opened}, func() error {
		return fn(l)
	})
	if err != nil {
		return fmt.Errorf("read open follow-ups: %w", err)
	}
	return nil
}
