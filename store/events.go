package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Event is an outreach event of a campaign, or a city-wide event's share in one district
// (Parent names the city-wide event).
type Event struct {
	ID       string
	Parent   string
	Kind     string
	Title    string
	District string
	Commune  string // "" for a district's event
	At       time.Time
	Groups   []string
	Expected int // expected attendance
}

// nullable is s, or NULL when s is "".
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// InsertEvents writes events in one statement, noting where they came from (the plan, or an
// Update); an event already there is left as it is.
func InsertEvents(ctx context.Context, db DB, campaignID, source string, events []Event) error {
	n := len(events)
	id, parent, kind, title := make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
	district, commune := make([]*string, n), make([]*string, n)
	at, groups, expected := make([]time.Time, n), make([]string, n), make([]int32, n)
	for i, e := range events {
		g, _ := json.Marshal(e.Groups)
		t := e.Title
		id[i], parent[i], kind[i], title[i] = nullable(e.ID), nullable(e.Parent), nullable(e.Kind), &t
		district[i], commune[i] = nullable(e.District), nullable(e.Commune)
		at[i], groups[i], expected[i] = e.At, string(g), int32(e.Expected)
	}
	// The groups go as one JSON array per event: PostgreSQL has no array of arrays of varying
	// lengths.
	if _, err := db.Exec(ctx, `
		insert into events (campaign_id, id, parent_id, kind, title, district_code, commune_code, scheduled_at, groups, expected_attendance, source)
		select $1, e.id, e.parent, e.kind, e.title, e.district, e.commune, e.at,
			array(select jsonb_array_elements_text(e.groups::jsonb)), e.expected, $11
		from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::int[])
			as e(id, parent, kind, title, district, commune, at, groups, expected)
		on conflict do nothing`,
		campaignID, id, parent, kind, title, district, commune, at, groups, expected, source); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}

// CancelEvents cancels a planned event and, for a city-wide event, its planned shares, and
// returns the ids of those it cancelled (none when none was planned).
func CancelEvents(ctx context.Context, db DB, campaignID, eventID, reason string) ([]string, error) {
	return queryStrings(ctx, db, "cancel event", `
		update events set status = 'cancelled', cancel_reason = $3
		where campaign_id = $1 and (id = $2 or parent_id = $2) and status = 'planned'
		returning id`, campaignID, eventID, reason)
}

// HoldEvents marks the planned events among ids held on their scheduled time and returns those
// it marked.
func HoldEvents(ctx context.Context, db DB, campaignID string, ids []string) ([]string, error) {
	return queryStrings(ctx, db, "hold events", `
		update events set status = 'held', held_at = scheduled_at
		where campaign_id = $1 and id = any($2) and status = 'planned' returning id`, campaignID, ids)
}

// EventState is where an event stands: its district, status, when it was held, and the import
// batch of its results once recorded.
type EventState struct {
	District     string
	Status       string
	HeldAt       *time.Time
	ResultsBatch *string
}

// LockEvent reads an event's state and locks its row until the transaction ends; ErrNotFound
// when the campaign has no such event.
func LockEvent(ctx context.Context, db DB, campaignID, eventID string) (EventState, error) {
	var e EventState
	err := db.QueryRow(ctx, `
		select district_code, status, held_at, results_batch::text from events
		where campaign_id = $1 and id = $2 for update`, campaignID, eventID).
		Scan(&e.District, &e.Status, &e.HeldAt, &e.ResultsBatch)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, fmt.Errorf("event %s of campaign %s: %w", eventID, campaignID, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("read event: %w", err)
	}
	return e, nil
}

// RecordEventResults records a held event's attendance, its number of leads and the import
// batch they came in.
func RecordEventResults(ctx context.Context, db DB, campaignID, eventID string, attendance, leads int, batchID string) error {
	if _, err := db.Exec(ctx, `
		update events set attendance = $3, leads = $4, results_batch = $5 where campaign_id = $1 and id = $2`,
		campaignID, eventID, attendance, leads, batchID); err != nil {
		return fmt.Errorf("record event results: %w", err)
	}
	return nil
}
