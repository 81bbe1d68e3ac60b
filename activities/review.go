package activities

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/allocate"
	"drives/campaign"
	"drives/plan"
)

// ReviewPolicy scores, as README "Reviews" states: attainment is enrolments in the window
// against the agent's quota share for it (its quota × the window's share of the campaign
// period; 1 when the share is 0), capped at 2; the on-time rate is the share of follow-ups the
// agent closed in the window before their deadline, among those closed or escalated in it (1
// when there were none). score = 0.8 × attainment + 0.2 × on-time rate.
const (
	attainmentWeight = 0.8
	onTimeWeight     = 0.2
	attainmentCap    = 2.0
)

// EvaluateInput is one period's review.
type EvaluateInput struct {
	CampaignID string            `json:"campaign_id"`
	WorkflowID string            `json:"workflow_id"`
	Period     plan.ReviewPeriod `json:"period"`
	Policy     plan.ReviewPolicy `json:"policy"`
}

// EvaluateAgents computes every active agent's and staff member's figures over the period's
// window in one statement, decides by the policy, records each decision with its inputs and
// rationale (once per campaign, period and agent: a re-run or a backfilled duplicate changes
// nothing), ranks communes and districts and commends the best, and returns the counts. The
// agents proposed for termination are counted, not listed: they stay in review_decisions
// (decision 'terminate', status 'pending'), so the result stays small however many there are.
func (a *Activities) EvaluateAgents(ctx context.Context, in EvaluateInput) (campaign.ReviewSummary, error) {
	s, err := a.evaluateAgents(ctx, in)
	if err == nil {
		for decision, n := range map[string]int{"reward": s.Rewarded, "commend": s.Commended, "retain": s.Retained,
			"warn": s.Warned, "terminate": s.Proposed} {
			countMetric(ctx, MetricReviewDecisions, n, map[string]string{"decision": decision})
		}
	}
	return s, err
}

func (a *Activities) evaluateAgents(ctx context.Context, in EvaluateInput) (campaign.ReviewSummary, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "review.evaluate", entity: "review", entityKey: in.Period.Label,
		detail: map[string]any{"window_start": in.Period.Start, "window_end": in.Period.End}},
		func(tx pgx.Tx) (campaign.ReviewSummary, error) {
			var periodStart, periodEnd time.Time
			var tz string
			if err := tx.QueryRow(ctx, `select period_start, period_end, timezone from campaigns where id = $1`, in.CampaignID).
				Scan(&periodStart, &periodEnd, &tz); err != nil {
				return campaign.ReviewSummary{}, fmt.Errorf("read campaign: %w", err)
			}
			loc, err := time.LoadLocation(tz)
			if err != nil {
				return campaign.ReviewSummary{}, err
			}
			days := func(t time.Time) time.Time {
				t = t.In(loc)
				return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
			}
			campaignLen := periodEnd.AddDate(0, 0, 1).Sub(periodStart).Hours()
			frac := in.Period.End.Sub(in.Period.Start).Hours() / campaignLen
			p := in.Policy
			if _, err := tx.Exec(ctx, `
				insert into reviews (campaign_id, period, window_start, window_end, workflow_id)
				values ($1, $2, $3, $4, $5) on conflict do nothing`,
				in.CampaignID, in.Period.Label, in.Period.Start, in.Period.End, in.WorkflowID); err != nil {
				return campaign.ReviewSummary{}, fmt.Errorf("record review: %w", err)
			}
			// One evaluation of a period at a time, under the review's row lock. The first
			// inserts its decisions plainly; one that finds decisions recorded already (a
			// backfilled duplicate) inserts with ON CONFLICT DO NOTHING, which keeps them: a
			// speculative insert per agent only when there may be a conflict.
			var recorded bool
			if err := tx.QueryRow(ctx, `
				select exists (select 1 from review_decisions where campaign_id = r.campaign_id and period = r.period)
				from reviews r where campaign_id = $1 and period = $2 for no key update`,
				in.CampaignID, in.Period.Label).Scan(&recorded); err != nil {
				return campaign.ReviewSummary{}, fmt.Errorf("lock review: %w", err)
			}
			// The figures of 200,000 agents hash and sort tens of megabytes: in memory, not
			// spilled to disk by the default 4 MB (this transaction only).
			if _, err := tx.Exec(ctx, `set local work_mem = '64MB'`); err != nil {
				return campaign.ReviewSummary{}, fmt.Errorf("review memory: %w", err)
			}
			onConflict := ""
			if recorded {
				onConflict = "on conflict (campaign_id, period, agent_code) do nothing"
			}
			_, err = tx.Exec(ctx, `
				with figures as (
					select a.code, a.kind, a.commune_code, coalesce(q.target, 0) as quota,
						coalesce(q.target, 0) * $5::float8 as share,
						coalesce(e.n, 0) as enrolled,
						coalesce(f.on_time, 0) as on_time, coalesce(f.overdue, 0) as overdue,
						coalesce(f.leads, 0) as leads, coalesce(f.leads_enrolled, 0) as leads_enrolled,
						coalesce(f.open_work, 0) as open_work
					from agents a
					left join quotas q on q.campaign_id = a.campaign_id and q.level = 'agent' and q.code = a.code
					left join (select agent_code, count(*) as n from enrolments
					           where campaign_id = $1 and enrolled_on >= $6::date and enrolled_on < $7::date group by 1) e
						on e.agent_code = a.code
					left join (select agent_code,
					                  count(*) filter (where status <> 'open' and escalated_at is null and closed_at >= $3::timestamptz and closed_at < $4::timestamptz) as on_time,
					                  count(*) filter (where escalated_at >= $3::timestamptz and escalated_at < $4::timestamptz) as overdue,
					                  count(*) filter (where opened_at >= $3::timestamptz and opened_at < $4::timestamptz) as leads,
					                  count(*) filter (where status = 'enrolled' and closed_at >= $3::timestamptz and closed_at < $4::timestamptz) as leads_enrolled,
					                  count(*) filter (where opened_at < $4::timestamptz and (status = 'open' or closed_at >= $4::timestamptz)) as open_work
					           from follow_ups where campaign_id = $1 group by 1) f
						on f.agent_code = a.code
					where a.campaign_id = $1 and a.status = 'active'),
				scored as (
					select *,
						case when share > 0 then least(enrolled / share, $8::float8) else 1 end as attainment,
						case when on_time + overdue > 0 then on_time::float8 / (on_time + overdue) else 1 end as on_time_rate
					from figures),
				-- each agent's earlier reviews: how many, and how many of the last terminate_after - 1 were low
				prior as (
					select agent_code, count(*) as prior_reviews,
						count(*) filter (where rn < $12::int and score < $13::float8) as prior_low
					from (select agent_code, score, row_number() over (partition by agent_code order by window_end desc) as rn
					      from review_decisions where campaign_id = $1 and window_end <= $3::timestamptz) d
					group by agent_code),
				final as (
					select s.*, $9::float8 * attainment + $10::float8 * on_time_rate as score,
						coalesce(p.prior_low, 0) as prior_low, coalesce(p.prior_reviews, 0) as prior_reviews
					from scored s left join prior p on p.agent_code = s.code),
				decided as (
					select f.*,
						-- low reviews in a row, counted up to terminate_after
						case when score < $13::float8 and prior_low = least(prior_reviews, $12::int - 1) then 1 + prior_low
						     when score < $13::float8 then 1 else 0 end as streak,
						case
							when kind = 'agent' and ((score < $13::float8 and prior_low = $12::int - 1) or (enrolled = 0 and open_work > 0)) then 'terminate'
							when kind = 'staff' and score >= $11::float8 then 'commend'
							when score >= $11::float8 then 'reward'
							when score < $14::float8 or score < $13::float8 then 'warn'
							else 'retain'
						end as decision
					from final f)
				insert into review_decisions (campaign_id, period, agent_code, kind, commune_code, window_start, window_end,
					quota, quota_share, enrolled, follow_ups_on_time, follow_ups_overdue, leads, leads_enrolled, open_work,
					attainment, on_time_rate, score, low_streak, decision, status, reward_kind, reward_amount,
					reward_at, warn_below, terminate_below, terminate_after)
				select $1, $2, code, kind, commune_code, $3::timestamptz, $4::timestamptz, quota, share, enrolled, on_time, overdue, leads, leads_enrolled, open_work,
					attainment, on_time_rate, score, streak, decision,
					case decision when 'terminate' then 'pending' else 'final' end,
					case decision when 'reward' then $15::text end, case decision when 'reward' then $16::bigint end,
					$11::float8, $14::float8, $13::float8, $12::int
				from decided
				order by code -- key order: cheaper index and primary-key inserts
				`+onConflict,
				in.CampaignID, in.Period.Label, in.Period.Start, in.Period.End, frac,
				days(in.Period.Start), days(in.Period.End), attainmentCap, attainmentWeight, onTimeWeight,
				p.RewardAt, p.TerminateAfter, p.TerminateBelow, p.WarnBelow, p.Reward.Kind, p.Reward.Amount)
			if err != nil {
				return campaign.ReviewSummary{}, fmt.Errorf("decide: %w", err)
			}
			if err := commend(ctx, tx, in, frac, days(in.Period.Start), days(in.Period.End)); err != nil {
				return campaign.ReviewSummary{}, err
			}
			return reviewSummary(ctx, tx, in.CampaignID, in.Period.Label)
		})
}

// commend ranks communes and districts by attainment in the window and commends the best.
func commend(ctx context.Context, tx pgx.Tx, in EvaluateInput, frac float64, from, to time.Time) error {
	_, err := tx.Exec(ctx, `
		with e as (
			select district_code, commune_code from enrolments
			where campaign_id = $1 and enrolled_on >= $4::date and enrolled_on < $5::date),
		n as (
			select 'commune' as level, commune_code as code, count(*) as n from e group by commune_code
			union all
			select 'district', district_code, count(*) from e group by district_code),
		att as (
			select u.level, u.code, coalesce(n.n, 0) / greatest(q.target * $3::float8, 1) as attainment
			from units u join quotas q on q.campaign_id = u.campaign_id and q.level = u.level and q.code = u.code
			left join n on n.level = u.level and n.code = u.code
			where u.campaign_id = $1 and u.level in ('commune', 'district')),
		ranked as (select *, row_number() over (partition by level order by attainment desc, code) as rank from att)
		insert into commendations (campaign_id, period, level, unit_code, rank, attainment)
		select $1, $2, level, code, rank, attainment from ranked where rank <= $6
		on conflict do nothing`,
		in.CampaignID, in.Period.Label, frac, from, to, in.Policy.CommendTop)
	if err != nil {
		return fmt.Errorf("commend units: %w", err)
	}
	return nil
}

// reviewSummary counts a period's decisions; the terminations proposed are counted whatever
// became of them since (a re-run after decisions summarises the review as it was taken).
func reviewSummary(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, campaignID, period string) (campaign.ReviewSummary, error) {
	s := campaign.ReviewSummary{Period: period}
	if err := q.QueryRow(ctx, `
		select count(*), count(*) filter (where decision = 'reward'), count(*) filter (where decision = 'commend'),
			count(*) filter (where decision = 'retain'), count(*) filter (where decision = 'warn'),
			count(*) filter (where decision = 'terminate'),
			(select count(*) from commendations c where c.campaign_id = $1 and c.period = $2 and c.level = 'commune'),
			(select count(*) from commendations c where c.campaign_id = $1 and c.period = $2 and c.level = 'district')
		from review_decisions where campaign_id = $1 and period = $2`, campaignID, period).
		Scan(&s.Agents, &s.Rewarded, &s.Commended, &s.Retained, &s.Warned, &s.Proposed, &s.CommunesCommended, &s.DistrictsCommended); err != nil {
		return s, fmt.Errorf("summarise review: %w", err)
	}
	return s, nil
}

// DecideInput is a decision on a proposed termination.
type DecideInput struct {
	CampaignID string                       `json:"campaign_id"`
	Period     string                       `json:"period"`
	Decision   campaign.TerminationDecision `json:"decision"`
	Approve    bool                         `json:"approve"`
	Auto       bool                         `json:"auto,omitempty"` // the policy's auto_terminate after the wait
	At         time.Time                    `json:"at"`             // campaign time of the decision
}

// DecideTermination records a coordinator's decision. An approval terminates the agent's
// contract and, in the same transaction, hands its open follow-ups to the active agents of its
// commune (least loaded first) and its remaining quota to them by largest remainder on their
// weights; with no agent left in the commune, both go to the commune's staff, flagged.
//
// The workflow cannot tell which agents were proposed (they stay in the database), so this
// checks it: a decision on an agent whose termination was never proposed in the period fails,
// not retried, and writes nothing. One already decided answers what it was.
func (a *Activities) DecideTermination(ctx context.Context, in DecideInput) (campaign.DecisionResult, error) {
	action := "review.reject"
	if in.Approve {
		action = "review.terminate"
	}
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: action, entity: "agent", entityKey: in.Decision.Agent, actor: in.Decision.By,
		detail: map[string]any{"period": in.Period, "reason": in.Decision.Reason, "auto": in.Auto}},
		func(tx pgx.Tx) (campaign.DecisionResult, error) {
			res := campaign.DecisionResult{Agent: in.Decision.Agent}
			var status string
			err := tx.QueryRow(ctx, `select status from review_decisions
				where campaign_id = $1 and period = $2 and agent_code = $3 and decision = 'terminate' for update`,
				in.CampaignID, in.Period, in.Decision.Agent).Scan(&status)
			if errors.Is(err, pgx.ErrNoRows) {
				return res, permanent(ErrNotFound, "%s", campaign.NoTerminationPending(in.Decision.Agent, in.Period))
			}
			if err != nil {
				return res, fmt.Errorf("read decision: %w", err)
			}
			if status != "pending" && status != "escalated" {
				res.Status, res.Already = status, true
				return res, nil
			}
			res.WasEscalated = status == "escalated"
			res.Status = "rejected"
			if in.Approve {
				res.Status = "approved"
				if in.Auto {
					res.Status = "auto_terminated"
				}
			}
			if _, err := tx.Exec(ctx, `
				update review_decisions set status = $4, decided_by = $5, decided_reason = $6, decided_at = $7
				where campaign_id = $1 and period = $2 and agent_code = $3`,
				in.CampaignID, in.Period, in.Decision.Agent, res.Status, in.Decision.By, in.Decision.Reason, in.At); err != nil {
				return res, fmt.Errorf("record decision: %w", err)
			}
			if !in.Approve {
				return res, nil
			}
			return res, terminate(ctx, tx, in, &res)
		})
}

func terminate(ctx context.Context, tx pgx.Tx, in DecideInput, res *campaign.DecisionResult) error {
	agent := in.Decision.Agent
	var commune string
	if err := tx.QueryRow(ctx, `
		update agents set status = 'terminated', terminated_at = $3, termination_reason = $4
		where campaign_id = $1 and code = $2 and status = 'active' returning commune_code`,
		in.CampaignID, agent, in.At, in.Decision.Reason).Scan(&commune); err != nil {
		return fmt.Errorf("terminate agent %s: %w", agent, err)
	}
	// Who takes over: the commune's active collection agents, or else its staff.
	rows, err := tx.Query(ctx, `
		select code, weight, kind = 'staff' from agents
		where campaign_id = $1 and commune_code = $2 and status = 'active'
		  and (kind = 'agent' or not exists (select 1 from agents b where b.campaign_id = $1 and b.commune_code = $2
		                                     and b.kind = 'agent' and b.status = 'active'))
		order by code`, in.CampaignID, commune)
	if err != nil {
		return fmt.Errorf("find successors: %w", err)
	}
	type successor struct {
		code   string
		weight float64
		staff  bool
	}
	succ, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (successor, error) {
		var s successor
		return s, r.Scan(&s.code, &s.weight, &s.staff)
	})
	if err != nil {
		return fmt.Errorf("find successors: %w", err)
	}
	if len(succ) == 0 {
		return permanent(ErrInvalidState, "agent %s is the last active holder in commune %s; nobody could take over its work", agent, commune)
	}
	res.ToStaff = succ[0].staff
	codes := make([]string, len(succ))
	for i, s := range succ {
		codes[i] = s.code
	}
	tag, err := tx.Exec(ctx, `
		with moving as (
			select id, row_number() over (order by priority desc, id) - 1 as rn from follow_ups
			where campaign_id = $1 and agent_code = $2 and status = 'open'),
		takers as (
			select code, row_number() over (order by
				(select count(*) from follow_ups f where f.campaign_id = $1 and f.agent_code = t.code and f.status = 'open'), code) - 1 as tn,
				count(*) over () as n
			from unnest($3::text[]) as t(code))
		update follow_ups f set agent_code = t.code, reassigned_from = $2, held_by_staff = $4
		from moving m join takers t on t.tn = m.rn % t.n
		where f.id = m.id`, in.CampaignID, agent, codes, res.ToStaff)
	if err != nil {
		return fmt.Errorf("reassign follow-ups: %w", err)
	}
	res.FollowUpsMoved = int(tag.RowsAffected())

	var quota, enrolled int
	if err := tx.QueryRow(ctx, `
		select coalesce((select target from quotas where campaign_id = $1 and level = 'agent' and code = $2), 0),
			(select count(*) from enrolments where campaign_id = $1 and agent_code = $2)`, in.CampaignID, agent).
		Scan(&quota, &enrolled); err != nil {
		return fmt.Errorf("read quota: %w", err)
	}
	remaining := quota - enrolled
	if remaining <= 0 {
		return nil
	}
	shares := make([]allocate.Share, len(succ))
	for i, s := range succ {
		shares[i] = allocate.Share{Code: s.code, Weight: int64(math.Round(s.weight * allocate.AgentWeightScale))}
	}
	split := allocate.LargestRemainder(remaining, shares)
	var to []string
	var amounts []int32
	for i, n := range split {
		if n > 0 {
			to, amounts = append(to, succ[i].code), append(amounts, int32(n))
		}
	}
	if _, err := tx.Exec(ctx, `
		update quotas q set target = q.target + t.amount
		from unnest($2::text[], $3::int[]) as t(code, amount)
		where q.campaign_id = $1 and q.level = 'agent' and q.code = t.code`, in.CampaignID, to, amounts); err != nil {
		return fmt.Errorf("move quota: %w", err)
	}
	if _, err := tx.Exec(ctx, `update quotas set target = $3 where campaign_id = $1 and level = 'agent' and code = $2`,
		in.CampaignID, agent, enrolled); err != nil {
		return fmt.Errorf("move quota: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		insert into quota_transfers (campaign_id, period, from_agent, to_agent, amount, to_staff)
		select $1, $2, $3, t.code, t.amount, $6 from unnest($4::text[], $5::int[]) as t(code, amount)
		on conflict do nothing`, in.CampaignID, in.Period, agent, to, amounts, res.ToStaff); err != nil {
		return fmt.Errorf("record quota transfers: %w", err)
	}
	res.QuotaMoved = remaining
	return nil
}

// EscalateInput ends a review's wait for decisions.
type EscalateInput struct {
	CampaignID string    `json:"campaign_id"`
	Period     string    `json:"period"`
	At         time.Time `json:"at"`
	// ListAgents asks for the codes of the agents escalated: only the policy's auto_terminate,
	// which decides each of them, needs them.
	ListAgents bool `json:"list_agents,omitempty"`
}

// EscalateResult says how many terminations were escalated, and which when asked.
type EscalateResult struct {
	Escalated int      `json:"escalated"`
	Agents    []string `json:"agents,omitempty"` // in code order; only with ListAgents
}

// EscalateUndecided flags, in one statement, every termination of the period still waiting
// when the review's wait ends; the auditor sees them in status and the audit log. It returns
// their number (and their codes only when asked).
func (a *Activities) EscalateUndecided(ctx context.Context, in EscalateInput) (EscalateResult, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "review.escalate", entity: "review", entityKey: in.Period,
		detail: map[string]any{"at": in.At}},
		func(tx pgx.Tx) (EscalateResult, error) {
			var out EscalateResult
			if err := tx.QueryRow(ctx, `
				with escalated as (
					update review_decisions set status = 'escalated', decided_at = $3, escalated = true,
						rationale = rationale || '; no coordinator decided within the wait: escalated'
					where campaign_id = $1 and period = $2 and decision = 'terminate' and status = 'pending'
					returning agent_code)
				select count(*)::int, case when $4::bool then coalesce(array_agg(agent_code order by agent_code), '{}') end
				from escalated`,
				in.CampaignID, in.Period, in.At, in.ListAgents).Scan(&out.Escalated, &out.Agents); err != nil {
				return out, fmt.Errorf("escalate: %w", err)
			}
			return out, nil
		})
}
