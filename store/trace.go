package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReviewWindow returns a review period's window, or ErrNotFound.
func ReviewWindow(ctx context.Context, db DB, campaignID, period string) (from, to time.Time, err error) {
	err = db.QueryRow(ctx, `select window_start, window_end from reviews where campaign_id = $1 and period = $2`, campaignID, period).Scan(&from, &to)
	if errors.Is(err, pgx.ErrNoRows) {
		return from, to, ErrNotFound
	}
	if err != nil {
		return from, to, fmt.Errorf("read review %s: %w", period, err)
	}
	return from, to, nil
}

// UnitLevelName returns a unit's level and name, or ErrNotFound.
func UnitLevelName(ctx context.Context, db DB, campaignID, code string) (level, name string, err error) {
	err = db.QueryRow(ctx, `select level, name from units where campaign_id = $1 and code = $2`, campaignID, code).Scan(&level, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("read unit %s: %w", code, err)
	}
	return level, name, nil
}

// AgentPost returns an agent's commune, kind and status, or ErrNotFound.
func AgentPost(ctx context.Context, db DB, campaignID, code string) (commune, kind, status string, err error) {
	err = db.QueryRow(ctx, `select commune_code, kind, status from agents where campaign_id = $1 and code = $2`, campaignID, code).
		Scan(&commune, &kind, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", "", ErrNotFound
	}
	if err != nil {
		return "", "", "", fmt.Errorf("read agent %s: %w", code, err)
	}
	return commune, kind, status, nil
}

// TraceWrite is one write behind a figure: its value (the figure, where the write sets it),
// the rows it wrote, what they are, and its audit row.
type TraceWrite struct {
	Value   *int
	Rows    int
	What    string
	AuditID int64
}

func traceWrites(ctx context.Context, db DB, sql string, args ...any) ([]TraceWrite, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TraceWrite, error) {
		var w TraceWrite
		return w, r.Scan(&w.Value, &w.Rows, &w.What, &w.AuditID)
	})
}

// revisedTargets are the rows of a unit's or agent's targets set by plan revisions
// (quota_history, migration 018), each traced to the revision's audit row.
const revisedTargets = `
		select null::int, 1, 'revision ' || h.revision || ': target ' || h.target || ' from ' || h.valid_from, a.id
		from quota_history h
		join audit_log a on a.campaign_id = h.campaign_id and a.action = 'plan.revise' and a.entity_key = h.campaign_id || '#' || h.revision
		where h.campaign_id = $1 and h.level = $2 and h.code = $3 and h.revision > 0`

// UnitTargetWrites traces a unit's target to its quota row and the allocation that wrote it,
// and to each plan revision that changed it since.
func UnitTargetWrites(ctx context.Context, db DB, campaignID, level, code string) ([]TraceWrite, error) {
	return traceWrites(ctx, db, `
		select q.target, 1, 'quota row: ' || coalesce(h.target, q.target) || ' as allocated', a.id
		from quotas q
		left join quota_targets_by_day h on h.campaign_id = q.campaign_id and h.level = q.level and h.code = q.code and h.revision = 0,
		audit_log a
		where q.campaign_id = $1 and q.level = $2 and q.code = $3 and a.campaign_id = $1 and a.action = 'quotas.allocate'
		union all`+revisedTargets+`
		order by 4`,
		campaignID, level, code)
}

// traceColumns are the enrolments' columns a trace may count by.
var traceColumns = map[string]bool{"district_code": true, "commune_code": true, "village_code": true, "agent_code": true}

// EnrolmentWrites traces the enrolments whose column (district_code, commune_code,
// village_code or agent_code) is code, enrolled in [from, to), to the merges that wrote them.
func EnrolmentWrites(ctx context.Context, db DB, campaignID, column, code string, from, to time.Time) ([]TraceWrite, error) {
	if !traceColumns[column] {
		return nil, fmt.Errorf("trace enrolments by %q: not a unit or agent column", column)
	}
	return traceWrites(ctx, db, `
		select count(*) over (), count(*), 'enrolments of batch ' || e.batch_id, a.id
		from enrolments e join campaigns c on c.id = e.campaign_id
		join audit_log a on a.campaign_id = e.campaign_id and a.action = 'import.merge' and a.entity_key = e.batch_id::text
		where e.campaign_id = $1 and e.`+column+` = $2
		  and e.enrolled_on >= ($3::timestamptz at time zone c.timezone)::date and e.enrolled_on < ($4::timestamptz at time zone c.timezone)::date
		group by e.batch_id, a.id order by a.id`, campaignID, code, from, to)
}

// AgentQuotaWrites traces an agent's quota to its assignment, the transfers that moved it (a
// review's approved termination, an agent's leaving or move), the joinings and moves that took
// a share of their commune's target from it or gave it one, and the plan revisions that changed
// it. Each write is one row: the agent's quota row, saying the quota as assigned (the first of
// its quotas by day, quota_targets_by_day, or the quota now when it never changed), each transfer row,
// saying the quota it moved, each joining's or move's and each revision's, saying the quota
// from its day. The figure (Value) is the quota now.
func AgentQuotaWrites(ctx context.Context, db DB, campaignID, code string) ([]TraceWrite, error) {
	return traceWrites(ctx, db, `
		with q as (select target from quotas where campaign_id = $1 and level = 'agent' and code = $3),
		-- every change of an agent's quota since its assignment (a revision, a joining, a
		-- handover) keeps the quota it had from the period's first day: that is the assigned one
		assigned as (
			select (array_agg(target order by valid_from))[1] as target
			from quota_targets_by_day where campaign_id = $1 and level = $2 and code = $3)
		select (select target from q), 1, 'quota row: ' || coalesce(s.target, (select target from q), 0) || ' as assigned', a.id
		from audit_log a, assigned s where a.campaign_id = $1 and a.action = 'agents.assign'
		union all
		select null, 1, 'transfer row: a quota of ' || t.amount || ' moved from ' || t.from_agent || ' to ' || t.to_agent || ' (' || t.period || ')', a.id
		from quota_transfers t join audit_log a on a.campaign_id = t.campaign_id and a.action in ('review.terminate', 'agent.leave', 'agent.move') and a.entity_key = t.from_agent
		where t.campaign_id = $1 and (t.to_agent = $3 or t.from_agent = $3)
		union all
		select null, 1, case a.action when 'agents.join' then 'joining' else 'move of ' || a.entity_key end
			|| ': quota ' || h.target || ' from ' || h.valid_from, a.id
		from quota_history h
		join audit_log a on a.campaign_id = h.campaign_id and a.action = h.audit_action and a.entity_key = h.audit_key
		where h.campaign_id = $1 and h.level = $2 and h.code = $3 and h.audit_action is not null
		union all`+revisedTargets+`
		order by 4`, campaignID, "agent", code)
}

// FollowUpWrites traces an agent's follow-ups opened in [from, to) to the event results that
// opened them.
func FollowUpWrites(ctx context.Context, db DB, campaignID, code string, from, to time.Time) ([]TraceWrite, error) {
	return traceWrites(ctx, db, `
		select count(*) over (), count(*), 'follow-ups from leads of event ' || p.event_id, a.id
		from follow_ups f join prospects p on p.id = f.prospect_id
		join audit_log a on a.campaign_id = f.campaign_id and a.action = 'event.results' and a.entity_key = p.event_id
		where f.campaign_id = $1 and f.agent_code = $2 and f.opened_at >= $3 and f.opened_at < $4
		group by p.event_id, a.id order by a.id`, campaignID, code, from, to)
}

// DecisionWrites traces an agent's review decisions (of one period, or all) to the writes
// that made them.
func DecisionWrites(ctx context.Context, db DB, campaignID, code, period string) ([]TraceWrite, error) {
	return traceWrites(ctx, db, `
		select count(*) over (), 1, d.period || ': ' || d.decision || ' (' || d.status || ', score ' || round(d.score::numeric, 2) || ')', a.id
		from review_decisions d join audit_log a on a.campaign_id = d.campaign_id
		  and ((a.action = 'review.evaluate' and a.entity_key = d.period)
		    or (a.action in ('review.terminate', 'review.reject') and a.entity_key = d.agent_code and a.detail->>'period' = d.period))
		where d.campaign_id = $1 and d.agent_code = $2 and ($3 = '' or d.period = $3) order by a.id`, campaignID, code, period)
}

// AuditWrite is who wrote an audit row and, for an activity's write, where in which history.
type AuditWrite struct {
	ID                            int64
	Action, Actor                 string
	RecordedAt                    time.Time
	WorkflowID, RunID, ActivityID *string
}

// AuditWriteOf reads an audit row's writer.
func AuditWriteOf(ctx context.Context, db DB, auditID int64) (AuditWrite, error) {
	var w AuditWrite
	if err := db.QueryRow(ctx, `select id, action, actor, recorded_at, workflow_id, run_id, activity_id from audit_log where id = $1`, auditID).
		Scan(&w.ID, &w.Action, &w.Actor, &w.RecordedAt, &w.WorkflowID, &w.RunID, &w.ActivityID); err != nil {
		return w, fmt.Errorf("audit row %d: %w", auditID, err)
	}
	return w, nil
}

// ExportedAuditRow is an audit row as an export holds it.
type ExportedAuditRow struct {
	ID         int64           `json:"id"`
	CampaignID string          `json:"campaign_id"`
	RecordedAt time.Time       `json:"recorded_at"`
	Actor      string          `json:"actor"`
	Action     string          `json:"action"`
	Entity     string          `json:"entity"`
	EntityKey  string          `json:"entity_key"`
	WorkflowID *string         `json:"workflow_id"`
	RunID      *string         `json:"run_id"`
	ActivityID *string         `json:"activity_id"`
	Attempt    *int32          `json:"attempt"`
	Detail     json.RawMessage `json:"detail"`
	Result     json.RawMessage `json:"result"`
}

// ExportedAuditRows reads a campaign's audit rows in order; a row without a result has JSON null.
func ExportedAuditRows(ctx context.Context, db DB, campaignID string) ([]ExportedAuditRow, error) {
	rows, err := db.Query(ctx, `
		select id, campaign_id, recorded_at, actor, action, entity, entity_key, workflow_id, run_id, activity_id, attempt, detail, result
		from audit_log where campaign_id = $1 order by id`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("read audit rows: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ExportedAuditRow, error) {
		var a ExportedAuditRow
		var detail, result []byte
		err := r.Scan(&a.ID, &a.CampaignID, &a.RecordedAt, &a.Actor, &a.Action, &a.Entity, &a.EntityKey,
			&a.WorkflowID, &a.RunID, &a.ActivityID, &a.Attempt, &detail, &result)
		a.Detail, a.Result = detail, result
		if len(a.Result) == 0 {
			a.Result = json.RawMessage("null")
		}
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("read audit rows: %w", err)
	}
	return out, nil
}
