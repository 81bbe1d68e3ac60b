package history

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
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
	err = t.DB.QueryRow(ctx, `select window_start, window_end from reviews where campaign_id = $1 and period = $2`, campaignID, period).Scan(&from, &to)
	if err == pgx.ErrNoRows {
		return from, to, fmt.Errorf("--period: campaign %s has no review %q", campaignID, period)
	}
	return from, to, err
}

// Unit traces a unit's target and enrolments (within a review period's window, if given).
func (t *Tracer) Unit(ctx context.Context, campaignID, code, period string) (*Trace, error) {
	var level, name string
	err := t.DB.QueryRow(ctx, `select level, name from units where campaign_id = $1 and code = $2`, campaignID, code).Scan(&level, &name)
	if err == pgx.ErrNoRows {
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
		`select q.target, 1, 'quota row', a.id from quotas q, audit_log a
		 where q.campaign_id = $1 and q.level = $2 and q.code = $3 and a.campaign_id = $1 and a.action = 'quotas.allocate'`,
		campaignID, level, code)
	if err != nil {
		return nil, err
	}
	col := map[string]string{"district": "district_code", "commune": "commune_code", "village": "village_code"}[level]
	enrolled, err := t.figure(ctx, "enrolled", "enrolments where "+col+" = "+code,
		`select count(*) over (), count(*), 'enrolments of batch ' || e.batch_id, a.id
		 from enrolments e join campaigns c on c.id = e.campaign_id
		 join audit_log a on a.campaign_id = e.campaign_id and a.action = 'import.merge' and a.entity_key = e.batch_id::text
		 where e.campaign_id = $1 and e.`+col+` = $2
		   and e.enrolled_on >= ($3::timestamptz at time zone c.timezone)::date and e.enrolled_on < ($4::timestamptz at time zone c.timezone)::date
		 group by e.batch_id, a.id order by a.id`, campaignID, code, from, to)
	if err != nil {
		return nil, err
	}
	tr.Figures = []Figure{target, enrolled}
	return tr, nil
}

// Agent traces an agent's quota, enrolments, follow-ups and review decisions.
func (t *Tracer) Agent(ctx context.Context, campaignID, code, period string) (*Trace, error) {
	var commune, kind, status string
	err := t.DB.QueryRow(ctx, `select commune_code, kind, status from agents where campaign_id = $1 and code = $2`, campaignID, code).
		Scan(&commune, &kind, &status)
	if err == pgx.ErrNoRows {
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
		`select (select target from quotas where campaign_id = $1 and level = 'agent' and code = $2), 1, 'quota as assigned', a.id
		 from audit_log a where a.campaign_id = $1 and a.action = 'agents.assign'
		 union all
		 select null, t.amount, 'quota moved from ' || t.from_agent || ' to ' || t.to_agent, a.id
		 from quota_transfers t join audit_log a on a.campaign_id = t.campaign_id and a.action = 'review.terminate' and a.entity_key = t.from_agent
		 where t.campaign_id = $1 and (t.to_agent = $2 or t.from_agent = $2)`, campaignID, code)
	if err != nil {
		return nil, err
	}
	enrolled, err := t.figure(ctx, "enrolled", "enrolments where agent_code = "+code,
		`select count(*) over (), count(*), 'enrolments of batch ' || e.batch_id, a.id
		 from enrolments e join campaigns c on c.id = e.campaign_id
		 join audit_log a on a.campaign_id = e.campaign_id and a.action = 'import.merge' and a.entity_key = e.batch_id::text
		 where e.campaign_id = $1 and e.agent_code = $2
		   and e.enrolled_on >= ($3::timestamptz at time zone c.timezone)::date and e.enrolled_on < ($4::timestamptz at time zone c.timezone)::date
		 group by e.batch_id, a.id order by a.id`, campaignID, code, from, to)
	if err != nil {
		return nil, err
	}
	followUps, err := t.figure(ctx, "follow-ups", "follow_ups where agent_code = "+code,
		`select count(*) over (), count(*), 'follow-ups from leads of event ' || p.event_id, a.id
		 from follow_ups f join prospects p on p.id = f.prospect_id
		 join audit_log a on a.campaign_id = f.campaign_id and a.action = 'event.results' and a.entity_key = p.event_id
		 where f.campaign_id = $1 and f.agent_code = $2 and f.opened_at >= $3 and f.opened_at < $4
		 group by p.event_id, a.id order by a.id`, campaignID, code, from, to)
	if err != nil {
		return nil, err
	}
	decisions, err := t.figure(ctx, "review decisions", "review_decisions where agent_code = "+code,
		`select count(*) over (), 1, d.period || ': ' || d.decision || ' (' || d.status || ', score ' || round(d.score::numeric, 2) || ')', a.id
		 from review_decisions d join audit_log a on a.campaign_id = d.campaign_id
		   and ((a.action = 'review.evaluate' and a.entity_key = d.period)
		     or (a.action in ('review.terminate', 'review.reject') and a.entity_key = d.agent_code and a.detail->>'period' = d.period))
		 where d.campaign_id = $1 and d.agent_code = $2 and ($3 = '' or d.period = $3) order by a.id`, campaignID, code, period)
	if err != nil {
		return nil, err
	}
	tr.Figures = []Figure{quota, enrolled, followUps, decisions}
	return tr, nil
}

// figure runs a query returning (value, rows, what, audit id) per write and places each write
// in its history. value is the figure (the first non-null one).
func (t *Tracer) figure(ctx context.Context, name, where, sql string, args ...any) (Figure, error) {
	f := Figure{Name: name, Rows: where}
	rows, err := t.DB.Query(ctx, sql, args...)
	if err != nil {
		return f, fmt.Errorf("trace %s: %w", name, err)
	}
	type part struct {
		value *int
		rows  int
		what  string
		audit int64
	}
	parts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (part, error) {
		var p part
		return p, r.Scan(&p.value, &p.rows, &p.what, &p.audit)
	})
	if err != nil {
		return f, fmt.Errorf("trace %s: %w", name, err)
	}
	for _, p := range parts {
		if p.value != nil && f.Value == 0 {
			f.Value = *p.value
		}
		w, err := t.write(ctx, p.audit)
		if err != nil {
			return f, err
		}
		w.Rows, w.What = p.rows, p.what
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
	var wf, run, act *string
	if err := t.DB.QueryRow(ctx, `select id, action, actor, recorded_at, workflow_id, run_id, activity_id from audit_log where id = $1`, auditID).
		Scan(&w.AuditID, &w.Action, &w.Actor, &w.RecordedAt, &wf, &run, &act); err != nil {
		return w, fmt.Errorf("audit row %d: %w", auditID, err)
	}
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

// Print writes a trace for a person.
func (tr *Trace) Print(w io.Writer) {
	fmt.Fprintf(w, "campaign %s — %s", tr.CampaignID, tr.Subject)
	if tr.Period != "" {
		fmt.Fprintf(w, " — review %s", tr.Period)
	}
	fmt.Fprintln(w)
	for _, f := range tr.Figures {
		fmt.Fprintf(w, "\n%s: %d  (rows: %s)\n", f.Name, f.Value, f.Rows)
		for _, x := range f.Writes {
			fmt.Fprintf(w, "  %5d  %s\n         %s by %s at %s, audit row %d", x.Rows, x.What, x.Action, x.Actor, x.RecordedAt.UTC().Format(time.RFC3339), x.AuditID)
			if x.ActivityID != "" {
				fmt.Fprintf(w, "\n         workflow %s run %s activity %s: events %d (scheduled) → %d (completed)",
					x.WorkflowID, x.RunID, x.ActivityID, x.ScheduledEventID, x.CompletedEventID)
			}
			fmt.Fprintln(w)
		}
	}
}
