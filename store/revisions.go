package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Plan revisions (migration 018): a running campaign's plan revised from a stated day, each
// revision numbered and kept with the plan it brings; the targets it changed are kept by day
// in quota_history.

// NewRevision is a revised plan staged for its campaign workflow to apply.
type NewRevision struct {
	CampaignID string
	// Base is the revision it was checked against (0: the launched plan): it is staged as
	// Base + 1, and only while Base is the last applied.
	Base int
	Hash string
	Plan []byte // the plan as campaigns.plan holds it (plan.Loaded as JSON)
	// Prepared are the targets it changes at every level (the city's always), and Summary its
	// diff, as the caller prepared them against the base (migration 031), the agents' shared
	// among the roster after PreparedRoster changes (RosterChanges, migration 033); nil for a
	// revision staged unprepared.
	Prepared       []QuotaChange
	PreparedRoster int64
	Summary        []byte
	From           time.Time
	Reason, By     string
}

// StageRevision stages a revision under the number after its base and returns it, while the
// base is the last revision applied: one checked against a plan in force that has changed
// since (another revision applied meanwhile, or this one sent before) is refused. A revision
// staged before and never applied (its Update was refused or never sent) is replaced.
func StageRevision(ctx context.Context, db DB, r NewRevision) (int, error) {
	var levels, codes []string
	var old, target []int32
	if r.Prepared != nil {
		levels, codes, old, target = changeColumns(r.Prepared)
	}
	var n int
	err := db.QueryRow(ctx, `
		insert into plan_revisions (campaign_id, number, plan_hash, plan, effective_from, reason, revised_by,
			prepared_levels, prepared_codes, prepared_old, prepared_new, prepared_roster, summary)
		select $1, $7::int + 1, $2, $3, $4::date, $5, $6, $8, $9, $10, $11, case when $8::text[] is not null then $13::bigint end, $12
		where coalesce((select max(number) from plan_revisions where campaign_id = $1 and applied_at is not null), 0) = $7::int
		on conflict (campaign_id, number) do update set plan_hash = excluded.plan_hash, plan = excluded.plan,
			effective_from = excluded.effective_from, reason = excluded.reason, revised_by = excluded.revised_by, staged_at = now(),
			prepared_levels = excluded.prepared_levels,
			prepared_codes = excluded.prepared_codes, prepared_old = excluded.prepared_old, prepared_new = excluded.prepared_new,
			prepared_roster = excluded.prepared_roster, summary = excluded.summary
		where plan_revisions.applied_at is null
		returning number`, r.CampaignID, r.Hash, r.Plan, r.From.Format(time.DateOnly), r.Reason, r.By, r.Base,
		levels, codes, old, target, r.Summary, r.PreparedRoster).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("stage revision of %s: another revision was applied meanwhile; check the plan in force and try again", r.CampaignID)
	}
	if err != nil {
		return 0, fmt.Errorf("stage revision of %s: %w", r.CampaignID, err)
	}
	return n, nil
}

// Revision is a staged or applied revision of a campaign's plan.
type Revision struct {
	Number    int        `json:"number"`
	Hash      string     `json:"plan_hash"`
	From      time.Time  `json:"effective_from"`
	Reason    string     `json:"reason"`
	By        string     `json:"revised_by"`
	StagedAt  time.Time  `json:"staged_at"`
	AppliedAt *time.Time `json:"applied_at,omitempty"`
	Summary   []byte     `json:"-"`
}

// LockRevision reads a revision, without its plan (StagedBeside reads it) or its summary, and
// locks it until the transaction ends; ErrNotFound when the campaign has no revision of that
// number.
func LockRevision(ctx context.Context, db DB, campaignID string, number int) (Revision, error) {
	var r Revision
	err := db.QueryRow(ctx, `
		select number, plan_hash, effective_from, reason, revised_by, staged_at, applied_at
		from plan_revisions where campaign_id = $1 and number = $2 for update`, campaignID, number).
		Scan(&r.Number, &r.Hash, &r.From, &r.Reason, &r.By, &r.StagedAt, &r.AppliedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("revision %d of %s: %w", number, campaignID, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("read revision %d of %s: %w", number, campaignID, err)
	}
	return r, nil
}

// Revisions lists a campaign's applied revisions, oldest first, with what each changed.
func Revisions(ctx context.Context, db DB, campaignID string) ([]Revision, error) {
	rows, err := db.Query(ctx, `
		select number, plan_hash, effective_from, reason, revised_by, staged_at, applied_at, summary
		from plan_revisions where campaign_id = $1 and applied_at is not null order by number`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("list revisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Revision, error) {
		var r Revision
		err := row.Scan(&r.Number, &r.Hash, &r.From, &r.Reason, &r.By, &r.StagedAt, &r.AppliedAt, &r.Summary)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list revisions: %w", err)
	}
	return out, nil
}

// PlanInForce returns the plan a campaign runs on now: its last applied revision's, or the
// plan it was launched with (revision 0).
func PlanInForce(ctx context.Context, db DB, campaignID string) (raw []byte, hash string, revision int, err error) {
	err = db.QueryRow(ctx, `
		select coalesce(r.plan, c.plan), coalesce(r.plan_hash, c.plan_hash), coalesce(r.number, 0)
		from campaigns c
		left join lateral (select plan, plan_hash, number from plan_revisions
		                   where campaign_id = c.id and applied_at is not null order by number desc limit 1) r on true
		where c.id = $1`, campaignID).Scan(&raw, &hash, &revision)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", 0, fmt.Errorf("plan of campaign %s: %w", campaignID, ErrNotFound)
	}
	if err != nil {
		return nil, "", 0, fmt.Errorf("read plan of %s: %w", campaignID, err)
	}
	return raw, hash, revision, nil
}

// PlanInForceWithoutRoster is PlanInForce with the plan's roster left out, which is most of
// it (210,599 agents and staff in the national plan): raw is the plan in force without its
// "roster" key, and rosterMD5 the MD5 (hex) of the roster as PostgreSQL writes its jsonb as
// text, for a caller that holds a roster to compare with it.
func PlanInForceWithoutRoster(ctx context.Context, db DB, campaignID string) (raw []byte, rosterMD5, hash string, revision int, err error) {
	err = db.QueryRow(ctx, `
		select f.plan - 'roster', coalesce(md5((f.plan->'roster')::text), ''), f.hash, f.number
		from (select coalesce(r.plan, c.plan) as plan, coalesce(r.plan_hash, c.plan_hash) as hash, coalesce(r.number, 0) as number
		      from campaigns c
		      left join lateral (select plan, plan_hash, number from plan_revisions
		                         where campaign_id = c.id and applied_at is not null order by number desc limit 1) r on true
		      where c.id = $1) f`, campaignID).Scan(&raw, &rosterMD5, &hash, &revision)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", "", 0, fmt.Errorf("plan of campaign %s: %w", campaignID, ErrNotFound)
	}
	if err != nil {
		return nil, "", "", 0, fmt.Errorf("read plan of %s: %w", campaignID, err)
	}
	return raw, rosterMD5, hash, revision, nil
}

// Staged is a staged revision's plan read beside the plan in force, to apply it
// (StagedBeside).
type Staged struct {
	Plan []byte // the staged plan (plan.Loaded as JSON)
	Hash string
	// InForce is the plan in force, InForceHash and InForceNumber its hash and revision (0:
	// the launched plan).
	InForce       []byte
	InForceHash   string
	InForceNumber int
	// Prepared are the targets the revision changes at every level, as prepared when it was
	// staged on the plan in force (migration 031); nil when it was not: with them, Plan and
	// InForce are both read without their units and roster, and otherwise whole.
	// PreparedRoster is the number of changes the roster had had when its agents' targets were
	// shared (migration 033); nil for a revision staged with none of the agents' targets.
	Prepared       []QuotaChange
	PreparedRoster *int64
}

// planSection is a stored plan (plan.Loaded as jsonb, named by col) without its units and
// roster. Built from the keys it keeps rather than by removing those two, which copied the 35
// MB of the national plan they hold (0.15-0.2 s a plan, against 0.02 s).
func planSection(col string) string {
	return `jsonb_build_object('plan', ` + col + `->'plan', 'location', ` + col + `->'location')`
}

// StagedBeside reads the plan of the revision staged as number beside the plan in force.
// ErrNotFound when the campaign or the revision is missing.
func StagedBeside(ctx context.Context, db DB, campaignID string, number int) (Staged, error) {
	var st Staged
	var prepared bool
	var levels, codes []string
	var old, target []int32
	err := db.QueryRow(ctx, `
		select case when x.prepared then `+planSection("s.plan")+` else s.plan end, s.plan_hash,
			case when x.prepared then `+planSection("f.plan")+` else f.plan end, f.hash, f.number, x.prepared,
			case when x.prepared then s.prepared_levels end, case when x.prepared then s.prepared_codes end,
			case when x.prepared then s.prepared_old end, case when x.prepared then s.prepared_new end,
			case when x.prepared then s.prepared_roster end
		from (select coalesce(r.plan, c.plan) as plan, coalesce(r.plan_hash, c.plan_hash) as hash, coalesce(r.number, 0) as number
		      from campaigns c
		      left join lateral (select plan, plan_hash, number from plan_revisions
		                         where campaign_id = c.id and applied_at is not null order by number desc limit 1) r on true
		      where c.id = $1) f
		join plan_revisions s on s.campaign_id = $1 and s.number = $2,
		lateral (select s.prepared_levels is not null and f.number = s.number - 1 as prepared) x`,
		campaignID, number).Scan(&st.Plan, &st.Hash, &st.InForce, &st.InForceHash, &st.InForceNumber, &prepared,
		&levels, &codes, &old, &target, &st.PreparedRoster)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, fmt.Errorf("revision %d of campaign %s: %w", number, campaignID, ErrNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("read revision %d of %s: %w", number, campaignID, err)
	}
	if prepared {
		st.Prepared = make([]QuotaChange, len(levels))
		for i := range levels {
			st.Prepared[i] = QuotaChange{Level: levels[i], Code: codes[i], Old: int(old[i]), New: int(target[i])}
		}
	}
	return st, nil
}

// StagedUnits reads the units of the plan of a staged revision (plan.Loaded's "units", as
// JSON).
func StagedUnits(ctx context.Context, db DB, campaignID string, number int) ([]byte, error) {
	var raw []byte
	err := db.QueryRow(ctx, `select plan->'units' from plan_revisions where campaign_id = $1 and number = $2`, campaignID, number).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("revision %d of campaign %s: %w", number, campaignID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read revision %d of %s: %w", number, campaignID, err)
	}
	return raw, nil
}

// LevelTargets maps the codes of a campaign's units of one level to their targets now.
func LevelTargets(ctx context.Context, db DB, campaignID, level string) (map[string]int, error) {
	rows, err := db.Query(ctx, `select code, target from quotas where campaign_id = $1 and level = $2`, campaignID, level)
	if err != nil {
		return nil, fmt.Errorf("read %s targets: %w", level, err)
	}
	out := map[string]int{}
	var code string
	var target int
	if _, err := pgx.ForEachRow(rows, []any{&code, &target}, func() error { out[code] = target; return nil }); err != nil {
		return nil, fmt.Errorf("read %s targets: %w", level, err)
	}
	return out, nil
}

// FinishRevision marks a revision applied from its first day (a date of the campaign), with
// what it changed (summary; nil keeps the one it was staged with). What was prepared when it
// was staged has served: it is cleared.
func FinishRevision(ctx context.Context, db DB, campaignID string, number int, from time.Time, summary []byte) error {
	if _, err := db.Exec(ctx, `update plan_revisions set applied_at = now(), effective_from = $3::date, summary = coalesce($4, summary),
			prepared_levels = null, prepared_codes = null, prepared_old = null, prepared_new = null, prepared_roster = null
		where campaign_id = $1 and number = $2`,
		campaignID, number, from.Format(time.DateOnly), summary); err != nil {
		return fmt.Errorf("finish revision %d: %w", number, err)
	}
	return nil
}

// RosterChanges is the number of changes a campaign's roster has had (its agents and staff,
// and their quotas: counted by migration 033's triggers, in the writers' transactions).
func RosterChanges(ctx context.Context, db DB, campaignID string) (int64, error) {
	var n int64
	if err := db.QueryRow(ctx, `select coalesce((select changes from roster_changes where campaign_id = $1), 0)`, campaignID).Scan(&n); err != nil {
		return 0, fmt.Errorf("read roster changes of %s: %w", campaignID, err)
	}
	return n, nil
}

// QuotaChange is a unit's or agent's target before and after a revision.
type QuotaChange struct {
	Level, Code string
	Old, New    int
}

// changeColumns are changes as arrays, a column each, as statements take them.
func changeColumns(changes []QuotaChange) (level, code []string, old, target []int32) {
	n := len(changes)
	level, code, old, target = make([]string, n), make([]string, n), make([]int32, n), make([]int32, n)
	for i, c := range changes {
		level[i], code[i], old[i], target[i] = c.Level, c.Code, int32(c.Old), int32(c.New)
	}
	return level, code, old, target
}

// ChangeQuotas sets the targets a revision changes from its first day on: the quotas (and the
// campaign's target for the city) take the new targets, and quota_history
// keeps each one by day, with the target it replaced from the period's first day when it
// changes for the first time.
func ChangeQuotas(ctx context.Context, db DB, campaignID string, by QuotaSource, from time.Time, changes []QuotaChange) error {
	// The campaign's table of targets by day written a few at a time, made first if it has none
	// (its attach locks campaigns against writes: before this transaction writes any).
	if err := quotaHistoryCampaign(ctx, db, campaignID); err != nil {
		return err
	}
	if err := setQuotas(ctx, db, campaignID, changes); err != nil {
		return err
	}
	return keepQuotaHistory(ctx, db, campaignID, by, from, changes)
}

// setQuotas gives the quotas their new targets, and the campaign the city's.
func setQuotas(ctx context.Context, db DB, campaignID string, changes []QuotaChange) error {
	level, code, _, target := changeColumns(changes)
	if _, err := db.Exec(ctx, `
		with set_quotas as (
			update quotas q set target = c.target
			from unnest($2::text[], $3::text[], $4::int[]) as c(level, code, target)
			where q.campaign_id = $1 and q.level = c.level and q.code = c.code)
		update campaigns set target = $5 where id = $1 and $5::int is not null`,
		campaignID, level, code, target, cityTarget(changes)); err != nil {
		return fmt.Errorf("change quotas: %w", err)
	}
	return nil
}

// cityTarget is the city's new target among changes, if they change it.
func cityTarget(changes []QuotaChange) *int32 {
	for _, c := range changes {
		if c.Level == "city" {
			t := int32(c.New)
			return &t
		}
	}
	return nil
}

// QuotaSource is what changed targets, as quota_history keeps it: a plan revision (its
// number), or a change of the roster (revision 0) and the audit row that made it, by its
// action and entity key (agents.join and the joining's batch, agent.move and the agent who
// moved), which an auditor's trace follows. A handover's changes name no row: its quota
// transfers do.
type QuotaSource struct {
	Revision int
	Action   string
	Key      string
}

func (s QuotaSource) action() *string { return nullable(s.Action) }
func (s QuotaSource) key() *string    { return nullable(s.Key) }

// KeepQuotaHistory keeps targets that changed from a day on (quota_history): each new target
// from the day, with what changed it (by), and on a target's first change the target it had
// before (previous, migration 030: read as the target from the day before the period, so that
// it stays there even when the change is from the period's first day: the target as allocated
// or assigned, which an auditor's trace shows). A later change from the same day replaces the
// day's row and takes on its previous target.
func KeepQuotaHistory(ctx context.Context, db DB, campaignID string, by QuotaSource, from time.Time, changes []QuotaChange) error {
	if err := quotaHistoryCampaign(ctx, db, campaignID); err != nil {
		return err
	}
	return keepQuotaHistory(ctx, db, campaignID, by, from, changes)
}

// keepQuotaHistory is KeepQuotaHistory once the campaign's partition of quota_history is
// there (quotaHistoryCampaign).
func keepQuotaHistory(ctx context.Context, db DB, campaignID string, by QuotaSource, from time.Time, changes []QuotaChange) error {
	level, code, old, target := changeColumns(changes)
	// One row a target a day: the row of the day, whichever apply wrote it, is replaced. The
	// statement's reads see the rows as they were before its delete.
	if _, err := db.Exec(ctx, `
		with replaced as (
			delete from quota_history h using unnest($2::text[], $3::text[]) as c(level, code)
			where h.campaign_id = $1 and h.valid_from = $6::date and h.level = c.level and h.code = c.code
			returning h.level, h.code, h.previous)
		insert into quota_history (campaign_id, level, code, valid_from, target, revision, audit_action, audit_key, previous)
		select $1, c.level, c.code, $6::date, c.target, $7, $8, $9,
			case when r.code is not null then r.previous
			     when not exists (select from quota_history h where h.campaign_id = $1 and h.level = c.level and h.code = c.code) then c.old end
		from unnest($2::text[], $3::text[], $4::int[], $5::int[]) as c(level, code, old, target)
		left join replaced r on r.level = c.level and r.code = c.code
		order by 2, 3`,
		campaignID, level, code, old, target, from.Format(time.DateOnly), by.Revision, by.action(), by.key()); err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	return nil
}

// quotaHistoryCampaign makes the campaign's partition of quota_history, with its table of the
// targets by day written a few at a time, if it has none (migration 027).
func quotaHistoryCampaign(ctx context.Context, db DB, campaignID string) error {
	if _, err := db.Exec(ctx, `select quota_history_campaign($1)`, campaignID); err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	return nil
}

// UnitsEnrolled counts a campaign's enrolments so far by district, commune and village
// (from the counts kept as they are written, migration 010) and by agent.
func UnitsEnrolled(ctx context.Context, db DB, campaignID string) (map[string]map[string]int, error) {
	out := map[string]map[string]int{"district": {}, "commune": {}, "village": {}, "agent": {}}
	rows, err := db.Query(ctx, `
		select 'district', district_code, sum(n)::int from enrolment_unit_counts where campaign_id = $1 group by district_code
		union all
		select 'commune', commune_code, sum(n)::int from enrolment_unit_counts where campaign_id = $1 group by commune_code
		union all
		select 'village', village_code, sum(n)::int from enrolment_unit_counts where campaign_id = $1 and village_code <> '' group by village_code
		union all
		select 'agent', agent_code, count(*)::int from enrolments where campaign_id = $1 group by agent_code`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("count enrolments by unit: %w", err)
	}
	var level, code string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&level, &code, &n}, func() error {
		out[level][code] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("count enrolments by unit: %w", err)
	}
	return out, nil
}

// HeldEvents lists a campaign's events that are no longer planned (held or cancelled), by ID,
// with the city-wide events any of whose shares are.
func HeldEvents(ctx context.Context, db DB, campaignID string) (map[string]string, error) {
	rows, err := db.Query(ctx, `
		select id, status from events where campaign_id = $1 and status <> 'planned'
		union all
		select distinct on (parent_id) parent_id, status from events
		where campaign_id = $1 and status <> 'planned' and parent_id is not null
		order by 1`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("read held events: %w", err)
	}
	out := map[string]string{}
	var id, status string
	if _, err := pgx.ForEachRow(rows, []any{&id, &status}, func() error {
		out[id] = status
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read held events: %w", err)
	}
	return out, nil
}

// CommuneAgent is an agent or staff member with their quota now.
type CommuneAgent struct {
	Code    string
	Commune string
	Active  bool
	Quota   int
	Weight  float64
}

// AgentsOfCommunes returns the agents and staff of the given communes, by commune and code.
// Half of the campaign's communes or more (a revision of every target: 10,599 communes,
// 210,599 agents) are read as the campaign's whole roster, in one scan, and the others left
// out here: each commune's agents looked up by index took twice as long (0.45 s against
// 0.25 s). The agents are put in order here rather than by the query (whose sort of the
// national roster spilled to disk), each commune's on its own.
func AgentsOfCommunes(ctx context.Context, db DB, campaignID string, communes []string) ([]CommuneAgent, error) {
	if len(communes) == 0 {
		return nil, nil
	}
	var all int
	if err := db.QueryRow(ctx, `select count(*) from units where campaign_id = $1 and level = 'commune'`, campaignID).Scan(&all); err != nil {
		return nil, fmt.Errorf("read agents of communes: %w", err)
	}
	query, args := `
		select a.code, a.commune_code, a.status = 'active', coalesce(q.target, 0), a.weight
		from agents a left join quotas q on q.campaign_id = a.campaign_id and q.level = 'agent' and q.code = a.code
		where a.campaign_id = $1`, []any{campaignID}
	if 2*len(communes) < all {
		// The communes joined as a set: each agent's commune was compared with each of them.
		query, args = query+` and a.commune_code in (select unnest($2::text[]))`, append(args, communes)
	}
	rows, err := db.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read agents of communes: %w", err)
	}
	byCommune := make(map[string][]CommuneAgent, len(communes))
	for _, c := range communes {
		byCommune[c] = nil
	}
	n := 0
	var a CommuneAgent
	if _, err := pgx.ForEachRow(rows, []any{&a.Code, &a.Commune, &a.Active, &a.Quota, &a.Weight}, func() error {
		if group, ok := byCommune[a.Commune]; ok {
			byCommune[a.Commune] = append(group, a)
			n++
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read agents of communes: %w", err)
	}
	codes := slices.Sorted(maps.Keys(byCommune))
	out := make([]CommuneAgent, 0, n)
	for _, c := range codes {
		group := byCommune[c]
		slices.SortFunc(group, func(x, y CommuneAgent) int { return strings.Compare(x.Code, y.Code) })
		out = append(out, group...)
	}
	return out, nil
}
