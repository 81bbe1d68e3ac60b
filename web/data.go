package web

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/campaign"
	"drives/plan"
)

// The page's own reads: what the report, coordinator and history packages do not give —
// a campaign's header, its events, the units and groups an event may name, agents' names,
// and earlier imports. Figures come from those packages, never from here.

// campaignHead is the campaign every campaign page is about.
type campaignHead struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Status      string         `json:"status"`
	PeriodStart time.Time      `json:"period_start"`
	PeriodEnd   time.Time      `json:"period_end"`
	Timezone    string         `json:"timezone"`
	WorkflowID  string         `json:"workflow_id"`
	TemporalURL string         `json:"temporal_url,omitempty"`
	loc         *time.Location `json:"-"`
}

// headed is a view about one campaign.
type headed interface{ head() *campaignHead }

func (s *Server) loadHead(ctx context.Context, id string) (*campaignHead, error) {
	if !plan.ValidCampaignID(id) {
		return nil, errNotFound{fmt.Sprintf("campaign %q: not a campaign id", id)}
	}
	h := &campaignHead{ID: id, WorkflowID: campaign.CampaignWorkflowID(id)}
	err := s.cfg.DB.QueryRow(ctx, `select name, status, period_start, period_end, timezone from campaigns where id = $1`, id).
		Scan(&h.Name, &h.Status, &h.PeriodStart, &h.PeriodEnd, &h.Timezone)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNotFound{fmt.Sprintf("no campaign %q", id)}
	}
	if err != nil {
		return nil, fmt.Errorf("read campaign %s: %w", id, err)
	}
	if h.loc, err = time.LoadLocation(h.Timezone); err != nil {
		h.loc = time.UTC
	}
	h.TemporalURL = s.workflowURL(h.WorkflowID, "")
	return h, nil
}

// workflowURL links to a workflow (and a run's history) in the Temporal Web UI.
func (s *Server) workflowURL(workflowID, runID string) string {
	if s.cfg.TemporalUI == "" || workflowID == "" {
		return ""
	}
	u := s.cfg.TemporalUI + "/namespaces/" + pathEscape(s.cfg.Namespace) + "/workflows/" + pathEscape(workflowID)
	if runID != "" {
		u += "/" + pathEscape(runID) + "/history"
	}
	return u
}

// EventLine is an event of the campaign as the events page lists it.
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

func (s *Server) loadEvents(ctx context.Context, id string) ([]EventLine, error) {
	rows, err := s.cfg.DB.Query(ctx, `
		select id, coalesce(parent_id, ''), kind, title, district_code, coalesce(commune_code, ''), scheduled_at, groups,
			expected_attendance, source, status, attendance, leads, coalesce(cancel_reason, '')
		from events where campaign_id = $1 order by scheduled_at, id`, id)
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

func (s *Server) choices(ctx context.Context, sql string, args ...any) ([]Choice, error) {
	rows, err := s.cfg.DB.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Choice, error) {
		var c Choice
		return c, r.Scan(&c.Code, &c.Name)
	})
}

// agentNames are the names of a campaign's agents and staff: personal data, shown to signed-in
// users only and never logged.
func (s *Server) agentNames(ctx context.Context, id string) (map[string]string, error) {
	rows, err := s.cfg.DB.Query(ctx, `select code, full_name from agents where campaign_id = $1`, id)
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

func (s *Server) loadBatches(ctx context.Context, id string) ([]BatchLine, error) {
	rows, err := s.cfg.DB.Query(ctx, `
		select id::text, kind, file_name, rows, status, created_by, recorded_at, merged_at,
			(result->>'new')::int, (result->>'duplicates')::int
		from import_batches where campaign_id = $1 order by recorded_at desc limit 50`, id)
	if err != nil {
		return nil, fmt.Errorf("read imports: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (BatchLine, error) {
		var b BatchLine
		return b, r.Scan(&b.ID, &b.Kind, &b.File, &b.Rows, &b.Status, &b.By, &b.RecordedAt, &b.MergedAt, &b.New, &b.Duplicates)
	})
}
