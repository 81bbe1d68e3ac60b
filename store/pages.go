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
	return EventsIn(ctx, db, campaignID, Scope{})
}

// EventsIn lists the events of a scope by time: held in its districts (district-wide or in one
// of their communes) or in its communes; an agent's, those of the agent's commune.
func EventsIn(ctx context.Context, db DB, campaignID string, scope Scope) ([]EventLine, error) {
	args, cond := []any{campaignID}, ""
	switch {
	case scope.Agent != "":
		args = append(args, scope.Agent)
		cond = ` and commune_code = (select commune_code from agents where campaign_id = $1 and code = $2)`
	case !scope.Whole():
		args = append(args, scope.Districts, scope.Communes)
		cond = ` and (district_code = any($2) or commune_code = any($3))`
	}
	rows, err := db.Query(ctx, `
		select id, coalesce(parent_id, ''), kind, title, district_code, coalesce(commune_code, ''), scheduled_at, groups,
			expected_attendance, source, status, attendance, leads, coalesce(cancel_reason, '')
		from events where campaign_id = $1`+cond+` order by scheduled_at, id`, args...)
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

// EventUnitsIn are the districts and communes of a scope an event may be held in (none of an
// agent's), each district before its communes.
func EventUnitsIn(ctx context.Context, db DB, campaignID string, scope Scope) ([]Choice, error) {
	args, cond := []any{campaignID}, ""
	switch {
	case scope.Agent != "":
		return []Choice{}, nil
	case !scope.Whole():
		args = append(args, scope.Districts, scope.Communes)
		cond = ` and (district_code = any($2) or code = any($3))`
	}
	return choices(ctx, db, `select code, name from units where campaign_id = $1 and level in ('district', 'commune')`+cond+`
		order by district_code, level desc, code`, args...)
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

// RecentBatchesIn lists the last 50 imports that brought enrolments of a scope, latest
// first, each with the number of its enrolments in the scope as its rows (the import's
// whole-campaign counts left out).
func RecentBatchesIn(ctx context.Context, db DB, campaignID string, scope Scope) ([]BatchLine, error) {
	if scope.Whole() {
		return RecentBatches(ctx, db, campaignID)
	}
	args := []any{campaignID}
	cond := scope.where(&args, "e.commune_code", "e.agent_code")
	rows, err := db.Query(ctx, `
		select b.id::text, b.kind, b.file_name, x.n, b.status, b.created_by, b.recorded_at, b.merged_at
		from (select e.batch_id, count(*)::int as n from enrolments e where e.campaign_id = $1`+cond+` group by 1) x
		join import_batches b on b.id = x.batch_id
		order by b.recorded_at desc limit 50`, args...)
	if err != nil {
		return nil, fmt.Errorf("read imports: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (BatchLine, error) {
		var b BatchLine
		return b, r.Scan(&b.ID, &b.Kind, &b.File, &b.Rows, &b.Status, &b.By, &b.RecordedAt, &b.MergedAt)
	})
}

// AgentInScope says whether a campaign has an agent of the code within a scope.
func AgentInScope(ctx context.Context, db DB, campaignID, code string, scope Scope) (bool, error) {
	args := []any{campaignID, code}
	var ok bool
	if err := db.QueryRow(ctx, `select exists (select 1 from agents a where a.campaign_id = $1 and a.code = $2`+
		scope.where(&args, "a.commune_code", "a.code")+`)`, args...).Scan(&ok); err != nil {
		return false, fmt.Errorf("read agent: %w", err)
	}
	return ok, nil
}

// AgentQuery asks for a page of a campaign's agents: filters (empty means any), an order and
// a window.
type AgentQuery struct {
	District string
	Commune  string
	Status   string // active | terminated
	Kind     string // agent | staff
	Scope    Scope  // the agents in it only
	Sort     string // code (default) | name | commune | quota | status
	Desc     bool
	Offset   int
	Limit    int
	Lang     string // the rationale's language: "vi", or English
}

// AgentSorts are the orders AgentsPage knows, each ending on the agent's code so pages are
// stable, and each an index's order (migrations 007 and 008) but the quota's: the quota is the
// agent's quota row (q), which a revision may change for every agent at once, so the agents
// selected are sorted by it (a district's in a millisecond or two, the country's 210,599 in
// about 0.2 s).
var AgentSorts = map[string]string{
	"code":    "a.code",
	"name":    "a.full_name",
	"commune": "a.commune_code",
	"quota":   "coalesce(q.target, 0)",
	"status":  "a.status",
}

// agentQuota joins an agent's quota row, as q, to the agents a.
const agentQuota = ` left join quotas q on q.campaign_id = a.campaign_id and q.level = 'agent' and q.code = a.code`

// AgentListLine is an agent's line of the agents' table: figures, overdue follow-ups and the
// last review decision.
type AgentListLine struct {
	AgentFigures
	Name          string
	Overdue       int
	LastDecision  string
	LastStatus    string
	LastPeriod    string
	LastRationale string
}

// agentWhere is the condition of the agents a query selects, naming only the filters it has
// (the planner then walks the index of those filters), and its arguments from $1.
func agentWhere(campaignID string, q AgentQuery) (string, []any) {
	where, args := "a.campaign_id = $1", []any{campaignID}
	for _, f := range []struct{ col, v string }{
		{"a.district_code", q.District}, {"a.commune_code", q.Commune}, {"a.status", q.Status}, {"a.kind", q.Kind},
	} {
		if f.v != "" {
			args = append(args, f.v)
			where += fmt.Sprintf(" and %s = $%d", f.col, len(args))
		}
	}
	return where + q.Scope.where(&args, "a.commune_code", "a.code"), args
}

// CountAgents counts the agents a query's filters select, exactly.
func CountAgents(ctx context.Context, db DB, campaignID string, q AgentQuery) (int, error) {
	where, args := agentWhere(campaignID, q)
	var total int
	if err := db.QueryRow(ctx, `select count(*)::int from agents a where `+where, customPlan(args)...).Scan(&total); err != nil {
		return 0, fmt.Errorf("count agents: %w", err)
	}
	return total, nil
}

// AgentsPage reads one page of a campaign's agents and the exact number of agents the filters
// select (CountAgents).
func AgentsPage(ctx context.Context, db DB, campaignID string, q AgentQuery) ([]AgentListLine, int, error) {
	total, err := CountAgents(ctx, db, campaignID, q)
	if err != nil {
		return nil, 0, err
	}
	lines, err := AgentLines(ctx, db, campaignID, q)
	return lines, total, err
}

// AgentLines reads one page of a campaign's agents. The page's codes are found first, in an
// index's order and from the index alone (by quota, sorted: AgentSorts), so that the lines
// skipped before the page cost an index entry each; figures are counted for the page's agents
// only, through the agent indexes of enrolments, follow-ups and review decisions.
func AgentLines(ctx context.Context, db DB, campaignID string, q AgentQuery) ([]AgentListLine, error) {
	col, ok := AgentSorts[q.Sort]
	if !ok {
		col = AgentSorts["code"]
	}
	dir := "asc"
	if q.Desc {
		dir = "desc"
	}
	order := col + " " + dir + ", a.code " + dir
	if col == "a.code" {
		order = "a.code " + dir
	}
	where, args := agentWhere(campaignID, q)
	args = append(args, q.Limit, q.Offset)
	limit, offset := len(args)-1, len(args)
	join := ""
	if q.Sort == "quota" {
		join = agentQuota
	}
	rows, err := db.Query(ctx, fmt.Sprintf(`
		with page as (
			select a.code from agents a%s where %s order by %s limit $%d offset $%d)
		select a.code, a.commune_code, a.kind, a.post_office, a.status, coalesce(q.target, 0), e.n, f.open, f.escalated,
			a.full_name, f.overdue, coalesce(d.decision, ''), coalesce(d.status, ''), coalesce(d.period, ''), coalesce(d.rationale, '')
		from page p
		join agents a on a.campaign_id = $1 and a.code = p.code`+agentQuota+`
		cross join lateral (select count(*)::int as n from enrolments where campaign_id = $1 and agent_code = a.code) e
		cross join lateral (select count(*) filter (where status = 'open')::int as open,
				count(*) filter (where escalated_at is not null)::int as escalated,
				count(*) filter (where status = 'open' and escalated_at is not null)::int as overdue
			from follow_ups where campaign_id = $1 and agent_code = a.code) f
		left join lateral (select d.decision, d.status, d.period, %s as rationale from review_decisions d
			where d.campaign_id = $1 and d.agent_code = a.code order by d.window_end desc limit 1) d on true
		order by %s`, join, where, order, limit, offset, rationale(q.Lang), order), customPlan(args)...)
	if err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AgentListLine, error) {
		var a AgentListLine
		return a, r.Scan(&a.Code, &a.Commune, &a.Kind, &a.PostOffice, &a.Status, &a.Quota, &a.Enrolled, &a.FollowUpsOpen, &a.Escalated,
			&a.Name, &a.Overdue, &a.LastDecision, &a.LastStatus, &a.LastPeriod, &a.LastRationale)
	})
	if err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	return out, nil
}

// DecisionQuery asks for a page of one review period's decisions.
type DecisionQuery struct {
	Period   string
	District string
	Commune  string
	Status   string // final | pending | approved | rejected | escalated | auto_terminated
	Decision string // reward | commend | retain | warn | terminate
	Agent    string
	Scope    Scope // the decisions of its agents only
	Offset   int
	Limit    int
	Lang     string // the rationale's language: "vi", or English
}

// rationale is the expression of a decision d's rationale in a language: Vietnamese ("vi")
// or English (migration 015).
func rationale(lang string) string {
	if lang == "vi" {
		return "review_rationale_vi(d)"
	}
	return "review_rationale(d)"
}

// DecisionLine is a review decision as auditors and coordinators read it.
type DecisionLine struct {
	Period     string    `json:"period"`
	Agent      string    `json:"agent"`
	Kind       string    `json:"kind"`
	Commune    string    `json:"commune"`
	Score      float64   `json:"score"`
	Decision   string    `json:"decision"`
	Status     string    `json:"status"`
	Rationale  string    `json:"rationale"`
	DecidedBy  string    `json:"decided_by,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	WindowEnd  time.Time `json:"window_end"`
	RewardKind string    `json:"reward_kind,omitempty"`
	Reward     int64     `json:"reward,omitempty"`
}

// decisionWhere is the condition of the decisions a query selects, naming only the filters it
// has, and its arguments from $1.
func decisionWhere(campaignID string, q DecisionQuery) (string, []any) {
	where, args := "d.campaign_id = $1", []any{campaignID}
	for _, f := range []struct{ col, v string }{
		{"d.period", q.Period}, {"d.commune_code", q.Commune}, {"d.status", q.Status}, {"d.decision", q.Decision}, {"d.agent_code", q.Agent},
	} {
		if f.v != "" {
			args = append(args, f.v)
			where += fmt.Sprintf(" and %s = $%d", f.col, len(args))
		}
	}
	if q.District != "" {
		args = append(args, q.District)
		where += fmt.Sprintf(" and d.commune_code in (select code from units where campaign_id = $1 and level = 'commune' and parent_code = $%d)", len(args))
	}
	return where + q.Scope.where(&args, "d.commune_code", "d.agent_code"), args
}

// customPlan runs a list's query as an unnamed statement, planned for the values it is given
// each time. Cached statements switch to a generic plan after five runs, and one plan for
// every district and decision walked the whole period's decisions for some of them.
func customPlan(args []any) []any {
	return append([]any{pgx.QueryExecModeDescribeExec}, args...)
}

// CountDecisions counts the decisions a query's filters select, exactly.
func CountDecisions(ctx context.Context, db DB, campaignID string, q DecisionQuery) (int, error) {
	where, args := decisionWhere(campaignID, q)
	var total int
	if err := db.QueryRow(ctx, `select count(*)::int from review_decisions d where `+where, customPlan(args)...).Scan(&total); err != nil {
		return 0, fmt.Errorf("count decisions: %w", err)
	}
	return total, nil
}

// DecisionsPage reads one page of a review period's decisions, by agent code (every period's,
// by window and agent, when Period is empty), and the exact number the filters select.
func DecisionsPage(ctx context.Context, db DB, campaignID string, q DecisionQuery) ([]DecisionLine, int, error) {
	total, err := CountDecisions(ctx, db, campaignID, q)
	if err != nil {
		return nil, 0, err
	}
	lines, err := DecisionLines(ctx, db, campaignID, q)
	return lines, total, err
}

// DecisionLines reads one page of a review period's decisions, by agent code (every period's,
// by window and agent, when Period is empty). The page's keys come first, in an index's order
// (the primary key's within a period; the waiting terminations' index for pending and
// escalated ones), then their lines: the rationale is rendered for the page's decisions only.
func DecisionLines(ctx context.Context, db DB, campaignID string, q DecisionQuery) ([]DecisionLine, error) {
	where, args := decisionWhere(campaignID, q)
	order := "d.agent_code"
	if q.Period == "" {
		order = "d.window_end, d.agent_code"
	}
	args = append(args, q.Limit, q.Offset)
	rows, err := db.Query(ctx, fmt.Sprintf(`
		with page as (
			select d.period, d.agent_code from review_decisions d where %s
			order by %s limit $%d offset $%d)
		select d.period, d.agent_code, d.kind, d.commune_code, d.score, d.decision, d.status, %s,
			coalesce(d.decided_by, ''), coalesce(d.decided_reason, ''), d.window_end, coalesce(d.reward_kind, ''), coalesce(d.reward_amount, 0)
		from page p join review_decisions d on d.campaign_id = $1 and d.period = p.period and d.agent_code = p.agent_code
		order by %s`, where, order, len(args)-1, len(args), rationale(q.Lang), order), customPlan(args)...)
	if err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DecisionLine, error) {
		var d DecisionLine
		return d, r.Scan(&d.Period, &d.Agent, &d.Kind, &d.Commune, &d.Score, &d.Decision, &d.Status, &d.Rationale,
			&d.DecidedBy, &d.Reason, &d.WindowEnd, &d.RewardKind, &d.Reward)
	})
	if err != nil {
		return nil, fmt.Errorf("read decisions: %w", err)
	}
	return out, nil
}
