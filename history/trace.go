package history

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"drives/store"
)

// Figure is a figure of the report with the rows behind it and what wrote them.
type Figure struct {
	Name   string  `json:"name"`
	Value  int     `json:"value"`
	Rows   string  `json:"rows"` // where the rows are
	Writes []Write `json:"writes"`
}

// Write is one audited effect that wrote rows behind a figure, placed in its workflow history.
type Write struct {
	Rows             int       `json:"rows"`
	What             string    `json:"what"`
	Action           string    `json:"action"`
	Actor            string    `json:"actor"`
	RecordedAt       time.Time `json:"recorded_at"`
	AuditID          int64     `json:"audit_id"`
	WorkflowID       string    `json:"workflow_id,omitempty"`
	RunID            string    `json:"run_id,omitempty"`
	ActivityID       string    `json:"activity_id,omitempty"`
	ScheduledEventID int64     `json:"scheduled_event_id,omitempty"`
	CompletedEventID int64     `json:"completed_event_id,omitempty"`
}

// Trace is a unit's or an agent's figures traced to rows and history events.
type Trace struct {
	CampaignID string   `json:"campaign_id"`
	Subject    string   `json:"subject"`
	Period     string   `json:"period,omitempty"`
	Figures    []Figure `json:"figures"`
}

// Tracer reads the rows and the histories.
type Tracer struct {
	DB       *pgxpool.Pool
	Temporal client.Client
	events   map[string]map[string][2]int64 // workflow/run -> activity ID -> scheduled, completed
}

// window returns a review period's window, or the whole campaign when period is empty.
func (t *Tracer) window(ctx context.Context, campaignID, period string) (from, to time.Time, err error) {
	if period == "" {
		return time.Time{}, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), nil
	}
	from, to, err = store.ReviewWindow(ctx, t.DB, campaignID, period)
	if errors.Is(err, store.ErrNotFound) {
		return from, to, fmt.Errorf("--period: campaign %s has no review %q", campaignID, period)
	}
	return from, to, err
}

// Unit traces a unit's target and enrolments (within a review period's window, if given).
func (t *Tracer) Unit(ctx context.Context, campaignID, code, period string) (*Trace, error) {
	level, name, err := store.UnitLevelName(ctx, t.DB, campaignID, code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("--unit: campaign %s has no unit %q", campaignID, code)
	}
	if err != nil {
		return nil, err
	}
	from, to, err := t.window(ctx, campaignID, period)
	if err != nil {
		return nil, err
	}
	tr := &Trace{CampaignID: campaignID, Subject: fmt.Sprintf("%s %s %s", level, code, name), Period: period}
	target, err := t.figure(ctx, "target", fmt.Sprintf("quotas (level %s, code %s)", level, code),
		func() ([]store.TraceWrite, error) { return store.UnitTargetWrites(ctx, t.DB, campaignID, level, code) })
	if err != nil {
		return nil, err
	}
	col := map[string]string{"district": "district_code", "commune": "commune_code", "village": "village_code"}[level]
	enrolled, err := t.figure(ctx, "enrolled", "enrolments where "+col+" = "+code,
		func() ([]store.TraceWrite, error) {
			return store.EnrolmentWrites(ctx, t.DB, campaignID, col, code, from, to)
		})
	if err != nil {
		return nil, err
	}
	tr.Figures = []Figure{target, enrolled}
	return tr, nil
}

// Agent traces an agent's quota, enrolments, follow-ups and review decisions.
func (t *Tracer) Agent(ctx context.Context, campaignID, code, period string) (*Trace, error) {
	commune, kind, status, err := store.AgentPost(ctx, t.DB, campaignID, code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("--agent: campaign %s has no agent %q", campaignID, code)
	}
	if err != nil {
		return nil, err
	}
	from, to, err := t.window(ctx, campaignID, period)
	if err != nil {
		return nil, err
	}
	tr := &Trace{CampaignID: campaignID, Subject: fmt.Sprintf("%s %s of commune %s (%s)", kind, code, commune, status), Period: period}
	quota, err := t.figure(ctx, "quota", "quotas (level agent) and quota_transfers",
		func() ([]store.TraceWrite, error) { return store.AgentQuotaWrites(ctx, t.DB, campaignID, code) })
	if err != nil {
		return nil, err
	}
	enrolled, err := t.figure(ctx, "enrolled", "enrolments where agent_code = "+code,
		func() ([]store.TraceWrite, error) {
			return store.EnrolmentWrites(ctx, t.DB, campaignID, "agent_code", code, from, to)
		})
	if err != nil {
		return nil, err
	}
	followUps, err := t.figure(ctx, "follow-ups", "follow_ups where agent_code = "+code,
		func() ([]store.TraceWrite, error) { return store.FollowUpWrites(ctx, t.DB, campaignID, code, from, to) })
	if err != nil {
		return nil, err
	}
	decisions, err := t.figure(ctx, "review decisions", "review_decisions where agent_code = "+code,
		func() ([]store.TraceWrite, error) { return store.DecisionWrites(ctx, t.DB, campaignID, code, period) })
	if err != nil {
		return nil, err
	}
	tr.Figures = []Figure{quota, enrolled, followUps, decisions}
	return tr, nil
}

// figure reads the writes behind a figure (value, rows, what, audit id each) and places each
// write in its history. value is the figure (the first non-null one).
func (t *Tracer) figure(ctx context.Context, name, where string, read func() ([]store.TraceWrite, error)) (Figure, error) {
	f := Figure{Name: name, Rows: where}
	parts, err := read()
	if err != nil {
		return f, fmt.Errorf("trace %s: %w", name, err)
	}
	for _, p := range parts {
		if p.Value != nil && f.Value == 0 {
			f.Value = *p.Value
		}
		w, err := t.write(ctx, p.AuditID)
		if err != nil {
			return f, err
		}
		w.Rows, w.What = p.Rows, p.What
		f.Writes = append(f.Writes, w)
	}
	if name == "enrolled" || name == "follow-ups" {
		f.Value = 0
		for _, w := range f.Writes {
			f.Value += w.Rows
		}
	}
	return f, nil
}

func (t *Tracer) write(ctx context.Context, auditID int64) (Write, error) {
	var w Write
	aw, err := store.AuditWriteOf(ctx, t.DB, auditID)
	if err != nil {
		return w, err
	}
	w.AuditID, w.Action, w.Actor, w.RecordedAt = aw.ID, aw.Action, aw.Actor, aw.RecordedAt
	wf, run, act := aw.WorkflowID, aw.RunID, aw.ActivityID
	w.WorkflowID, w.RunID, w.ActivityID = deref(wf), deref(run), deref(act)
	if w.ActivityID == "" || t.Temporal == nil {
		return w, nil
	}
	if t.events == nil {
		t.events = map[string]map[string][2]int64{}
	}
	k := w.WorkflowID + "/" + w.RunID
	ev, ok := t.events[k]
	if !ok {
		h, err := Fetch(ctx, t.Temporal, w.WorkflowID, w.RunID)
		if err != nil {
			return w, err
		}
		ev = map[string][2]int64{}
		scheduled := map[int64]string{}
		for _, e := range h.Events {
			if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
				scheduled[e.EventId] = a.ActivityId
				ev[a.ActivityId] = [2]int64{e.EventId, 0}
			}
			if a := e.GetActivityTaskCompletedEventAttributes(); a != nil {
				id := scheduled[a.ScheduledEventId]
				ev[id] = [2]int64{a.ScheduledEventId, e.EventId}
			}
		}
		t.events[k] = ev
	}
	w.ScheduledEventID, w.CompletedEventID = ev[w.ActivityID][0], ev[w.ActivityID][1]
	return w, nil
}

// Print writes a trace for a person, each write's time as real time in UTC, so labelled.
func (tr *Trace) Print(w io.Writer) {
	tr.PrintAt(w, func(t time.Time) string { return t.UTC().Format(time.RFC3339) + " (real time, UTC)" })
}

// PrintAt is Print with each write's time (a real instant) written by when: e.g. in the
// campaign's time, as starter audit trace writes it.
func (tr *Trace) PrintAt(w io.Writer, when func(time.Time) string) {
	fmt.Fprintf(w, "campaign %s — %s", tr.CampaignID, tr.Subject)
	if tr.Period != "" {
		fmt.Fprintf(w, " — review %s", tr.Period)
	}
	fmt.Fprintln(w)
	for _, f := range tr.Figures {
		fmt.Fprintf(w, "\n%s: %d  (rows: %s)\n", f.Name, f.Value, f.Rows)
		for _, x := range f.Writes {
			fmt.Fprintf(w, "  %5d  %s\n         %s by %s at %s, audit row %d", x.Rows, x.What, x.Action, x.Actor, when(x.RecordedAt), x.AuditID)
			if x.ActivityID != "" {
				fmt.Fprintf(w, "\n         workflow %s run %s activity %s: events %d (scheduled) → %d (completed)",
					x.WorkflowID, x.RunID, x.ActivityID, x.ScheduledEventID, x.CompletedEventID)
			}
			fmt.Fprintln(w)
		}
	}
}
