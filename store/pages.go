package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The web page's own lists and lookups: a campaign's header, its events, the units and groups
// an event may name, agents' names, earlier imports, and the agents' table a page at a time.

// CampaignHeader is what every campaign page says of its campaign.
type CampaignHeader struct {
	Name        string
	Status      string
	PeriodStart time.Time
	PeriodEnd   time.Time
	Timezone    string
}

// CampaignHeaderOf reads a campaign's header; ErrNoCampaign when there is no such campaign.
func CampaignHeaderOf(ctx context.Context, db DB, id string) (CampaignHeader, error) {
	var h CampaignHeader
	err := db.QueryRow(ctx, `select name, status, period_start, period_end, timezone from campaigns where id = $1`, id).
		Scan(&h.Name, &h.Status, &h.PeriodStart, &h.PeriodEnd, &h.Timezone)
	if errors.Is(err, pgx.ErrNoRows) {
		return h, ErrNoCampaign
	}
	if err != nil {
		return h, fmt.Errorf("read campaign %s: %w", id, err)
	}
	return h, nil
}

// EventLine is an event of a campaign as the events page lists it.
type EventLine struct {
	ID         string    `json:"id"`
	Parent     string    `json:"parent,omitempty"`
	Kind       string    `json:"kind"`
	Title      string    `json:"title"`
	District   string    `json:"district"`
	Commune    string    `json:"commune,omitempty"`
	At         time.Time `json:"at"` // campaign time
	Groups     []string  `json:"groups"`
	Expected   int       `json:"expected_attendance"`
	Source     string    `json:"source"`
	Status     string    `json:"status"`
	Attendance *int      `json:"attendance,omitempty"`
	Leads      *int      `json:"leads,omitempty"`
	Reason     string    `json:"cancel_reason,omitempty"`
}

// Events lists a campaign's events by time.
func Events(ctx context.Context, db DB, campaignID string) ([]EventLine, error) {
	rows, err := db.Query(ctx, `
		select id, coalesce(parent_id, ''), kind, title, district_code, coalesce(commune_code, ''), scheduled_at, groups,
			expected_attendance, source, status, attendance, leads, coalesce(cancel_reason, '')
		from events where campaign_id = $1 order by scheduled_at, id`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (EventLine, error) {
		var e EventLine
		return e, r.Scan(&e.ID, &e.Parent, &e.Kind, &e.Title, &e.District, &e.Commune, &e.At, &e.Groups,
			&e.Expected, &e.Source, &e.Status, &e.Attendance, &e.Leads, &e.Reason)
	})
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

// Choice is a code and its name, for a form's choices.
type Choice struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func choices(ctx context.Context, db DB, sql string, args ...any) ([]Choice, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Choice, error) {
		var c Choice
		return c, r.Scan(&c.Code, &c.Name)
	})
}

// EventUnits are the districts and communes an event may be held in, each district before its
// communes.
func EventUnits(ctx context.Context, db DB, campaignID string) ([]Choice, error) {
	return choices(ctx, db, `select code, name from units where campaign_id = $1 and level in ('district', 'commune')
		order by district_code, level desc, code`, campaignID)
}

// TargetGroupChoices are a campaign's target groups, likeliest first.
func TargetGroupChoices(ctx context.Context, db DB, campaignID string) ([]Choice, error) {
	return choices(ctx, db, `select code, name from target_groups where campaign_id = $1 order by likelihood desc, code`, campaignID)
}

// AgentNames are the names of a campaign's agents and staff: personal data.
func AgentNames(ctx context.Context, db DB, campaignID string) (map[string]string, error) {
	rows, err := db.Query(ctx, `select code, full_name from agents where campaign_id = $1`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	out := map[string]string{}
	var code, name string
	_, err = pgx.ForEachRow(rows, []any{&code, &name}, func() error {
		out[code] = name
		return nil
	})
	return out, err
}

// BatchLine is an earlier import.
type BatchLine struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	File       string     `json:"file"`
	Rows       int        `json:"rows"`
	Status     string     `json:"status"`
	By         string     `json:"by"`
	RecordedAt time.Time  `json:"recorded_at"`
	MergedAt   *time.Time `json:"merged_at,omitempty"`
	New        *int       `json:"new,omitempty"`
	Duplicates *int       `json:"duplicates,omitempty"`
}

// RecentBatches lists a campaign's last 50 imports, latest first.
func RecentBatches(ctx context.Context, db DB, campaignID string) ([]BatchLine, error) {
	rows, err := db.Query(ctx, `
		select id::text, kind, file_name, rows, status, created_by, recorded_at, merged_at,
			(result->>'new')::int, (result->>'duplicates')::int
		from import_batches where campaign_id = $1 order by recorded_at desc limit 50`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("read imports: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (BatchLine, error) {
		var b BatchLine
		return b, r.Scan(&b.ID, &b.Kind, &b.File, &b.Rows, &b.Status, &b.By, &b.RecordedAt, &b.MergedAt, &b.New, &b.Duplicates)
	})
}
