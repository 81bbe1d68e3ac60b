package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// InsertReview records a period's review of a campaign and the workflow that takes it; a
// review already recorded is left as it is. Reviews write one at a time, whichever their
// campaign: the attach of a period's decisions (DecideAgents) locks reviews against writes
// until the transaction ends (for its foreign key's check), and two reviews that had each
// recorded their row would each wait there for the other. The lock is taken first, here.
func InsertReview(ctx context.Context, db DB, campaignID, period string, windowStart, windowEnd time.Time, workflowID string) error {
	if _, err := db.Exec(ctx, `lock table reviews in share row exclusive mode`); err != nil {
		return fmt.Errorf("record review: %w", err)
	}
	if _, err := db.Exec(ctx, `
		insert into reviews (campaign_id, period, window_start, window_end, workflow_id)
		values ($1, $2, $3, $4, $5) on conflict do nothing`,
		campaignID, period, windowStart, windowEnd, workflowID); err != nil {
		return fmt.Errorf("record review: %w", err)
	}
	return nil
}

// AnalyzeDecisions refreshes the planner's statistics of a period's decisions (migrations 011
// and 025), so that the lists of a period just decided are read through the right index.
func AnalyzeDecisions(campaignID, period string) func(context.Context, DB) error {
	return func(ctx context.Context, db DB) error {
		return analyze(ctx, db, "review decisions", `select analyze_review_decisions($1, $2)`, campaignID, period)
	}
}

// LockReview locks a period's review row until the transaction ends, so that one evaluation
// of a period runs at a time, and says whether decisions are recorded for it already.
func LockReview(ctx context.Context, db DB, campaignID, period string) (decided bool, err error) {
	if err := db.QueryRow(ctx, `
		select exists (select 1 from review_decisions where campaign_id = r.campaign_id and period = r.period)
		from reviews r where campaign_id = $1 and period = $2 for no key update`,
		campaignID, period).Scan(&decided); err != nil {
		return false, fmt.Errorf("lock review: %w", err)
	}
	return decided, nil
}

// Evaluation is what a review's decisions are computed from: the review, its window, and the
// policy's thresholds and weights.
type Evaluation struct {
	CampaignID  string
	Period      string
	WindowStart time.Time
	WindowEnd   time.Time
	// QuotaShare is the window's share of the campaign's period: an agent's quota share for
	// the window is its quota times this.
	QuotaShare float64
	// FromDay and ToDay bound the window in the campaign's calendar days (to excluded), for
	// the dates of enrolments.
	FromDay, ToDay time.Time

	AttainmentCap    float64
	AttainmentWeight float64
	OnTimeWeight     float64
	RenewalWeight    float64 // of the renewal rate: renewals renewed among those resolved in the window
	RewardAt         float64
	WarnBelow        float64
	TerminateBelow   float64
	TerminateAfter   int
	RewardKind       string
	RewardAmount     int64

	// PeriodDays is the number of days of the campaign's period: the share of a quota in force
	// for part of the window is the quota times its days in the window over it.
	PeriodDays int

	// Decided says decisions of the period are recorded already (a backfilled duplicate): the
	// insert then keeps them, with ON CONFLICT DO NOTHING, a speculative insert per agent.
	Decided bool
}

// DecideAgents computes, in one query, the figures over the window of every agent and staff
// member active on any of its days, scores them, decides by the policy, and records each
// decision with its inputs (once per campaign, period and agent). One who joined during the
// window, or whose contract ended during it, is judged on the days they were active: their
// quota share counts those days only; one whose contract has ended is not proposed for
// termination. How it scores and decides is README "Reviews".
//
// A period's decisions are written into a table of their own, attached then to the campaign's
// partition of review_decisions (migration 025): its indexes are built from the rows at once
// and its foreign keys checked by a query each. With open, the query runs on a connection of
// its own in the transaction's snapshot and its rows are copied in as they come (copyBeside);
// without, one INSERT … SELECT. A period decided already (a backfilled duplicate) keeps its
// decisions: the rows go through review_decisions, ON CONFLICT DO NOTHING.
//
// meanwhile, when set, is other work of the transaction that does not change what the
// decisions are computed from (the review's commendations): with open, it runs while a
// connection of its own computes them; without, before them.
func DecideAgents(ctx context.Context, tx pgx.Tx, open Opener, ev Evaluation, meanwhile func() error) error {
	// The figures of 200,000 agents hash and sort tens of megabytes: in memory, not spilled to
	// disk by the default 4 MB; and its plan costs enough for JIT compilation, which takes
	// longer than it saves for a statement of 200,000 rows run once (this transaction only).
	// The same for the transaction's other statements (the commendations, meanwhile; the
	// indexes built by the attach), as when the decisions were inserted by one statement in it.
	settings := []string{`work_mem = '64MB'`, `jit = off`}
	for _, s := range append(settings, `maintenance_work_mem = '256MB'`) {
		if _, err := tx.Exec(ctx, `set local `+s); err != nil {
			return fmt.Errorf("review settings: %w", err)
		}
	}
	args := []any{ev.CampaignID, ev.Period, ev.WindowStart, ev.WindowEnd, ev.QuotaShare,
		ev.FromDay, ev.ToDay, ev.AttainmentCap, ev.AttainmentWeight, ev.OnTimeWeight,
		ev.RewardAt, ev.TerminateAfter, ev.TerminateBelow, ev.WarnBelow, ev.RewardKind, ev.RewardAmount, ev.RenewalWeight,
		ev.PeriodDays}
	var table *string
	if !ev.Decided {
		if err := tx.QueryRow(ctx, `select review_decisions_period_table($1, $2)`, ev.CampaignID, ev.Period).Scan(&table); err != nil {
			return fmt.Errorf("decide: the period's table: %w", err)
		}
	}
	switch {
	case table != nil && open != nil:
		// The decisions are computed on a connection of their own, in this transaction's
		// snapshot, and copied in as they come: the figures and the writes each take a server
		// process.
		if _, err := copyBeside(ctx, tx, open, settings, meanwhile, *table, decisionColumns, decisions, args...); err != nil {
			return fmt.Errorf("decide: %w", err)
		}
	default:
		if meanwhile != nil {
			if err := meanwhile(); err != nil {
				return err
			}
		}
		into, onConflict := "review_decisions", " on conflict (campaign_id, period, agent_code) do nothing"
		if table != nil {
			into, onConflict = *table, ""
		}
		if _, err := tx.Exec(ctx, `insert into `+pgx.Identifier{into}.Sanitize()+` (`+identifiers(decisionColumns)+`) `+decisions+onConflict, args...); err != nil {
			return fmt.Errorf("decide: %w", err)
		}
	}
	if table != nil {
		if _, err := tx.Exec(ctx, `select review_decisions_attach($1, $2)`, ev.CampaignID, ev.Period); err != nil {
			return fmt.Errorf("decide: attach the period's decisions: %w", err)
		}
	}
	return nil
}

// decisionColumns are the columns of review_decisions a review writes, in the order of the
// columns of decisions.
var decisionColumns = []string{"campaign_id", "period", "agent_code", "kind", "commune_code", "window_start", "window_end",
	"quota", "quota_share", "enrolled", "follow_ups_on_time", "follow_ups_overdue", "leads", "leads_enrolled", "open_work",
	"attainment", "on_time_rate", "score", "low_streak", "decision", "status", "reward_kind", "reward_amount",
	"reward_at", "warn_below", "terminate_below", "terminate_after", "renewals_renewed", "renewals_lapsed", "renewal_rate", "renewal_weight"}

// decisions is the query of a review's decisions, a row of decisionColumns for each agent and
// staff member, in code order (the primary key's). Its parameters are those of DecideAgents'
// args. Each column has its table column's type (copyBeside copies them as they are).
var decisions = `
		with span as (
			-- the days of the window each agent and staff member was active [act_from, act_to):
			-- from the day they joined (joined_on, migration 019; null for the launched roster)
			-- to the last day of their contract, the day it ended included unless it ended at
			-- its midnight (terminated or left: terminated_at). greatest and least skip nulls.
			select a.code, a.kind, a.commune_code, a.status = 'active' as active,
				greatest($6::date, a.joined_on) as act_from,
				least($7::date, ((a.terminated_at at time zone c.timezone) - interval '1 microsecond')::date + 1) as act_to
			from agents a join campaigns c on c.id = a.campaign_id
			where a.campaign_id = $1 and (a.status = 'active' or a.terminated_at is not null)),
		partial as (
			-- the quota in force on each active day of those active for part of the window only,
			-- as for the whole window below: earlier targets by day (past), and the days under
			-- the last one (last_days), taken at the quota now
			select s.code,
				coalesce(sum(h.target * greatest(0, least(h.next_from, s.act_to) - greatest(h.valid_from, s.act_from)))
					filter (where h.next_from is not null), 0)::float8 / $18::float8 as past,
				max(greatest(0, s.act_to - greatest(h.valid_from, s.act_from))) filter (where h.next_from is null)::float8 as last_days
			from span s
			join (select code, target, valid_from, lead(valid_from) over (partition by code order by valid_from) as next_from
			      from quota_targets_by_day where campaign_id = $1 and level = 'agent'
			        and code in (select code from span where act_from < act_to and (act_from > $6::date or act_to < $7::date))) h
				on h.code = s.code
			where s.act_from < s.act_to and (s.act_from > $6::date or s.act_to < $7::date)
			group by s.code),
		follow_up_figures as materialized (
			-- each agent's follow-ups counted in one hashed pass over the campaign's (in agent order
			-- through the index by agent, 400,000 rows were fetched one by one across the table)
			select agent_code,
				count(*) filter (where status <> 'open' and escalated_at is null and closed_at >= $3::timestamptz and closed_at < $4::timestamptz) as on_time,
				count(*) filter (where escalated_at >= $3::timestamptz and escalated_at < $4::timestamptz) as overdue,
				count(*) filter (where kind = 'lead' and opened_at >= $3::timestamptz and opened_at < $4::timestamptz) as leads,
				count(*) filter (where kind = 'lead' and status = 'enrolled' and closed_at >= $3::timestamptz and closed_at < $4::timestamptz) as leads_enrolled,
				count(*) filter (where opened_at < $4::timestamptz and (status = 'open' or closed_at >= $4::timestamptz)) as open_work,
				count(*) filter (where kind = 'renewal' and status = 'renewed' and closed_at >= $3::timestamptz and closed_at < $4::timestamptz) as renewed,
				count(*) filter (where kind = 'renewal' and status = 'lapsed' and closed_at >= $3::timestamptz and closed_at < $4::timestamptz) as lapsed
			from follow_ups where campaign_id = $1 group by 1),
		figures as (
			select a.code, a.kind, a.commune_code, a.active, coalesce(q.target, 0) as quota,
				-- the window's share of the quota in force on each of its days: an agent whose
				-- target a revision changed has it by day (quota_targets_by_day, migration 030), the
				-- last part at the quota now (transfers after the revision included); one who
				-- joined or whose contract ended within the window, on their active days only
				case when a.act_from > $6::date or a.act_to < $7::date then
				          case when p.code is null then coalesce(q.target, 0) * (a.act_to - a.act_from) / $18::float8
				               else p.past + coalesce(q.target, 0) * p.last_days / $18::float8 end
				     when r.code is null then coalesce(q.target, 0) * $5::float8
				     else r.past + coalesce(q.target, 0) * r.last_days / $18::float8 end as share,
				coalesce(e.n, 0) as enrolled,
				coalesce(f.on_time, 0) as on_time, coalesce(f.overdue, 0) as overdue,
				coalesce(f.leads, 0) as leads, coalesce(f.leads_enrolled, 0) as leads_enrolled,
				coalesce(f.open_work, 0) as open_work,
				coalesce(f.renewed, 0) as renewed, coalesce(f.lapsed, 0) as lapsed
			from span a
			left join quotas q on q.campaign_id = $1 and q.level = 'agent' and q.code = a.code
			left join (` + quotaInForce("agent", "$6", "$7", "$18") + `) r on r.code = a.code
			left join partial p on p.code = a.code
			-- each agent's enrolments, counted in agent order from the index by agent and day
			left join (select agent_code, count(*) as n from enrolments
			           where campaign_id = $1 and enrolled_on >= $6::date and enrolled_on < $7::date group by 1) e
				on e.agent_code = a.code
			left join follow_up_figures f on f.agent_code = a.code
			-- not active on any day of the window: not reviewed (active over the whole of a
			-- window shorter than a day, whose days round to none: reviewed)
			where a.act_from < a.act_to or (a.act_from = $6::date and a.act_to = $7::date)),
		scored as (
			select *,
				case when share > 0 then least(enrolled / share, $8::float8) else 1 end as attainment,
				case when on_time + overdue > 0 then on_time::float8 / (on_time + overdue) else 1 end as on_time_rate,
				case when renewed + lapsed > 0 then renewed::float8 / (renewed + lapsed) else 1 end as renewal_rate
			-- offset 0 (here, in final and in decided): each step is computed once per row;
			-- inlined into the next, its expressions were evaluated again at every reference
			-- (the quota share in every score, the score in every test of the decision). In
			-- code order throughout: the figures are joined in it, and the rows inserted in it.
			from figures order by code offset 0),
		-- each agent's earlier reviews: how many, and how many of the last terminate_after - 1 were low
		prior as (
			select agent_code, count(*) as prior_reviews,
				count(*) filter (where rn < $12::int and score < $13::float8) as prior_low
			from (select agent_code, score, row_number() over (partition by agent_code order by window_end desc) as rn
			      from review_decisions where campaign_id = $1 and window_end <= $3::timestamptz) d
			group by agent_code),
		final as (
			select s.*, $9::float8 * attainment + $10::float8 * on_time_rate + $17::float8 * renewal_rate as score,
				coalesce(p.prior_low, 0) as prior_low, coalesce(p.prior_reviews, 0) as prior_reviews
			from scored s left join prior p on p.agent_code = s.code order by s.code offset 0),
		decided as (
			select f.*,
				-- low reviews in a row, counted up to terminate_after
				case when score < $13::float8 and prior_low = least(prior_reviews, $12::int - 1) then 1 + prior_low
				     when score < $13::float8 then 1 else 0 end as streak,
				case
					-- one whose contract has ended already is not proposed for termination
					when kind = 'agent' and active and ((score < $13::float8 and prior_low = $12::int - 1) or (enrolled = 0 and open_work > 0)) then 'terminate'
					when kind = 'staff' and score >= $11::float8 then 'commend'
					when score >= $11::float8 then 'reward'
					when score < $14::float8 or score < $13::float8 then 'warn'
					else 'retain'
				end as decision
			from final f order by code offset 0)
		select $1::text, $2::text, code, kind, commune_code, $3::timestamptz, $4::timestamptz, quota::int, share::float8,
			enrolled::int, on_time::int, overdue::int, leads::int, leads_enrolled::int, open_work::int,
			attainment::float8, on_time_rate::float8, score::float8, streak::int, decision,
			case decision when 'terminate' then 'pending' else 'final' end,
			case decision when 'reward' then $15::text end, case decision when 'reward' then $16::bigint end,
			$11::float8, $14::float8, $13::float8, $12::int, renewed::int, lapsed::int, renewal_rate::float8, $17::float8
		from decided
		order by code -- key order: cheaper index and primary-key inserts
`

// quotaInForce is a query of the units or agents of one level whose target a plan revision
// changed (quota_targets_by_day, migration 030), each with the share of its earlier targets over the
// review window [from, to) (target × days in the window ÷ the period's days: past) and the
// days of the window under its last target (last_days), which the caller takes at the quota
// now. The parameters are the window's first and last-excluded days and the period's days.
func quotaInForce(level, from, to, periodDays string) string {
	return `select '` + level + `'::text as level, code,
			coalesce(sum(target * greatest(0, least(next_from, ` + to + `::date) - greatest(valid_from, ` + from + `::date)))
				filter (where next_from is not null), 0)::float8 / ` + periodDays + `::float8 as past,
			max(greatest(0, ` + to + `::date - greatest(valid_from, ` + from + `::date))) filter (where next_from is null)::float8 as last_days
		from (select code, target, valid_from, lead(valid_from) over (partition by code order by valid_from) as next_from
		      from quota_targets_by_day where campaign_id = $1 and level = '` + level + `') h
		group by code`
}

// CommendUnits ranks a review's communes and districts by attainment in the window
// (enrolments from fromDay to toDay, excluded, against the quota times quotaShare) and commends
// the top of each level; commendations already recorded are left as they are.
func CommendUnits(ctx context.Context, db DB, campaignID, period string, quotaShare float64, fromDay, toDay time.Time, top, periodDays int) error {
	_, err := db.Exec(ctx, `
		with n as (
			-- the window's enrolments counted by commune and by district in one pass over them
			select case grouping(commune_code) when 0 then 'commune' else 'district' end as level,
				case grouping(commune_code) when 0 then commune_code else district_code end as code, count(*) as n
			from enrolments
			where campaign_id = $1 and enrolled_on >= $4::date and enrolled_on < $5::date
			group by grouping sets ((commune_code), (district_code))),
		att as (
			select u.level, u.code, coalesce(n.n, 0) / greatest(
				case when r.code is null then q.target * $3::float8 else r.past + q.target * r.last_days / $7::float8 end, 1) as attainment
			from units u join quotas q on q.campaign_id = u.campaign_id and q.level = u.level and q.code = u.code
			left join (`+quotaInForce("commune", "$4", "$5", "$7")+` union all `+quotaInForce("district", "$4", "$5", "$7")+`) r
				on r.level = u.level and r.code = u.code
			left join n on n.level = u.level and n.code = u.code
			where u.campaign_id = $1 and u.level in ('commune', 'district')),
		ranked as (select *, row_number() over (partition by level order by attainment desc, code) as rank from att)
		insert into commendations (campaign_id, period, level, unit_code, rank, attainment)
		select $1, $2, level, code, rank, attainment from ranked where rank <= $6
		on conflict do nothing`,
		campaignID, period, quotaShare, fromDay, toDay, top, periodDays)
	if err != nil {
		return fmt.Errorf("commend units: %w", err)
	}
	return nil
}

// ReviewCounts counts a period's decisions by kind, and its commended communes and districts.
type ReviewCounts struct {
	Agents, Rewarded, Commended, Retained, Warned, Proposed int
	CommunesCommended, DistrictsCommended                   int
}

// CountReview counts a period's decisions; the terminations proposed are counted whatever
// became of them since.
func CountReview(ctx context.Context, db DB, campaignID, period string) (ReviewCounts, error) {
	var c ReviewCounts
	if err := db.QueryRow(ctx, `
		select count(*), count(*) filter (where decision = 'reward'), count(*) filter (where decision = 'commend'),
			count(*) filter (where decision = 'retain'), count(*) filter (where decision = 'warn'),
			count(*) filter (where decision = 'terminate'),
			(select count(*) from commendations c where c.campaign_id = $1 and c.period = $2 and c.level = 'commune'),
			(select count(*) from commendations c where c.campaign_id = $1 and c.period = $2 and c.level = 'district')
		from review_decisions where campaign_id = $1 and period = $2`, campaignID, period).
		Scan(&c.Agents, &c.Rewarded, &c.Commended, &c.Retained, &c.Warned, &c.Proposed, &c.CommunesCommended, &c.DistrictsCommended); err != nil {
		return c, fmt.Errorf("summarise review: %w", err)
	}
	return c, nil
}

// LockTermination reads the status of an agent's proposed termination in a period and locks
// it until the transaction ends; ErrNotFound when none was proposed there.
func LockTermination(ctx context.Context, db DB, campaignID, period, agent string) (status string, err error) {
	err = db.QueryRow(ctx, `select status from review_decisions
		where campaign_id = $1 and period = $2 and agent_code = $3 and decision = 'terminate' for update`,
		campaignID, period, agent).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("termination of agent %s in review %s: %w", agent, period, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read decision: %w", err)
	}
	return status, nil
}

// RecordDecision records who decided an agent's review decision in a period, how, why and when.
func RecordDecision(ctx context.Context, db DB, campaignID, period, agent, status, by, reason string, at time.Time) error {
	if _, err := db.Exec(ctx, `
		update review_decisions set status = $4, decided_by = $5, decided_reason = $6, decided_at = $7
		where campaign_id = $1 and period = $2 and agent_code = $3`,
		campaignID, period, agent, status, by, reason, at); err != nil {
		return fmt.Errorf("record decision: %w", err)
	}
	return nil
}

// EscalateTerminations flags, at the time at, every termination of the period still pending,
// and returns how many; and their agents' codes, in code order, when list is set.
func EscalateTerminations(ctx context.Context, db DB, campaignID, period string, at time.Time, list bool) (n int, agents []string, err error) {
	if err := db.QueryRow(ctx, `
		with escalated as (
			update review_decisions set status = 'escalated', decided_at = $3, escalated = true,
				rationale = rationale || '; no coordinator decided within the wait: escalated'
			where campaign_id = $1 and period = $2 and decision = 'terminate' and status = 'pending'
			returning agent_code)
		select count(*)::int, case when $4::bool then coalesce(array_agg(agent_code order by agent_code), '{}') end
		from escalated`,
		campaignID, period, at, list).Scan(&n, &agents); err != nil {
		return 0, nil, fmt.Errorf("escalate: %w", err)
	}
	return n, agents, nil
}
