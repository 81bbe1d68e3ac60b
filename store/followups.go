package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Sweep counts what a sweep of open follow-ups did, and says when the next one falls due.
type Sweep struct {
	Reminded    int
	Escalated   int
	Unreachable int
	NextDue     time.Time // zero: no open follow-up left
}

// SweepFollowUps sweeps the open follow-ups of one district, or of the whole campaign when
// district is "", as of the campaign time asOf: it records the reminders whose time has come
// (reminders are offsets from a follow-up's opening), escalates those past their deadline to
// the commune's staff (the district's where the commune has none), and closes those past their
// give-up time as unreachable (a renewal, at the end of its grace period, as lapsed).
func SweepFollowUps(ctx context.Context, db DB, campaignID, district string, asOf time.Time, reminders []time.Duration) (Sweep, error) {
	var r Sweep
	offsets := make([]float64, len(reminders))
	for i, d := range reminders {
		offsets[i] = d.Seconds()
	}
	// Lock the follow-ups this sweep changes (a reminder, an escalation or a give-up is due) in
	// id order first, as every writer of follow-ups does, so concurrent sweeps and merges queue
	// instead of deadlocking. Only those: a campaign holds hundreds of thousands of open
	// renewals, most of them with nothing due; each of the three is found by its index
	// (migration 017).
	due := reminderDue(len(offsets))
	if _, err := db.Exec(ctx, `select f.id from follow_ups f
		where f.campaign_id = $1 and f.status = 'open' and ($2 = '' or f.district_code = $2)
		  and (f.give_up_at <= $3 or (f.escalated_at is null and f.due_at <= $3) or `+due+`)
		order by f.id for update`, campaignID, district, asOf, offsets); err != nil {
		return r, fmt.Errorf("sweep: lock follow-ups: %w", err)
	}
	tag, err := db.Exec(ctx, `
		update follow_ups f set last_reminded_at = $3,
			reminders_sent = (select count(*) from unnest($4::float8[]) o where f.opened_at + o * interval '1 second' <= $3)::int
		where f.campaign_id = $1 and f.status = 'open' and ($2 = '' or f.district_code = $2) and `+due,
		campaignID, district, asOf, offsets)
	if err != nil {
		return r, fmt.Errorf("sweep reminders: %w", err)
	}
	r.Reminded = int(tag.RowsAffected())
	tag, err = db.Exec(ctx, `
		update follow_ups f set escalated_at = f.due_at,
			-- the commune's staff; where it has none, the district's
			escalated_to = (select s.code from agents s
			                where s.campaign_id = f.campaign_id and s.district_code = f.district_code
			                  and s.kind = 'staff' and s.status = 'active'
			                order by s.commune_code = f.commune_code desc, s.code limit 1)
		where f.campaign_id = $1 and ($2 = '' or f.district_code = $2) and f.status = 'open'
		  and f.escalated_at is null and f.due_at <= $3`, campaignID, district, asOf)
	if err != nil {
		return r, fmt.Errorf("sweep escalations: %w", err)
	}
	r.Escalated = int(tag.RowsAffected())
	// Leads past their give-up time are unreachable; renewals past their grace, lapsed (the
	// register counts those).
	if err := db.QueryRow(ctx, `
		with closed as (
			update follow_ups set status = case kind when 'renewal' then 'lapsed' else 'unreachable' end, closed_at = give_up_at
			where campaign_id = $1 and ($2 = '' or district_code = $2) and status = 'open' and give_up_at <= $3
			returning kind)
		select count(*) filter (where kind = 'lead')::int from closed`,
		campaignID, district, asOf).Scan(&r.Unreachable); err != nil {
		return r, fmt.Errorf("sweep give-ups: %w", err)
	}
	// The next time something falls due: the first entry of each index.
	var next *time.Time
	if err := db.QueryRow(ctx, `
		select least(
			(select min(due_at) from follow_ups
			 where campaign_id = $1 and status = 'open' and escalated_at is null and ($2 = '' or district_code = $2)),
			(select min(give_up_at) from follow_ups
			 where campaign_id = $1 and status = 'open' and ($2 = '' or district_code = $2)),
			(select min((select min(f.opened_at) from follow_ups f
			             where f.campaign_id = $1 and f.status = 'open' and f.reminders_sent = o.k - 1
			               and ($2 = '' or f.district_code = $2)) + o.off * interval '1 second')
			 from unnest($3::float8[]) with ordinality o(off, k)))`,
		campaignID, district, offsets).Scan(&next); err != nil {
		return r, fmt.Errorf("sweep next due: %w", err)
	}
	if next != nil {
		r.NextDue = next.UTC()
	}
	return r, nil
}

// reminderDue is the condition, on follow_ups f, of a reminder having fallen due by $3 for
// reminder offsets $4 (seconds, ascending, as the plan says): a follow-up with k reminders
// sent is due for the next when offset number k + 1 has passed since it opened. One index
// range of follow_ups_reminder per offset (a condition computed from reminders_sent, as one
// expression, cannot use it).
func reminderDue(offsets int) string {
	if offsets == 0 {
		return "false"
	}
	arms := make([]string, offsets)
	for k := range arms {
		arms[k] = fmt.Sprintf("(f.reminders_sent = %d and f.opened_at <= $3::timestamptz - ($4::float8[])[%d] * interval '1 second')", k, k+1)
	}
	return "(" + strings.Join(arms, " or ") + ")"
}

// CreateFollowUps opens a follow-up, as of the event's held time, for every lead of a merged
// leads batch who has none yet and has not enrolled: leads of the likeliest target groups
// first, dealt round the active collection agents of the lead's commune (its staff when it
// has none), least loaded first. deadline and giveUp are the follow-up policy's, from the
// opening. It returns how many it opened.
func CreateFollowUps(ctx context.Context, db DB, campaignID, batchID string, heldAt time.Time, deadline, giveUp time.Duration) (int, error) {
	tag, err := db.Exec(ctx, `
		with leads as (
			select p.id, p.commune_code, p.district_code, g.likelihood,
				row_number() over (partition by p.commune_code order by g.likelihood desc, p.id) - 1 as rn
			from prospects p join target_groups g on g.campaign_id = p.campaign_id and g.code = p.target_group
			where p.campaign_id = $1 and p.batch_id = $2
			  and not exists (select 1 from follow_ups f where f.prospect_id = p.id)
			  -- someone already enrolled is not chased
			  and not exists (select 1 from enrolments e where e.campaign_id = p.campaign_id and e.citizen_id = p.citizen_id)),
		holders as (
			select a.code, a.commune_code,
				row_number() over (partition by a.commune_code order by
					(select count(*) from follow_ups f where f.campaign_id = a.campaign_id and f.agent_code = a.code and f.status = 'open'),
					a.code) - 1 as an,
				count(*) over (partition by a.commune_code) as n
			from agents a
			where a.campaign_id = $1 and a.status = 'active'
			  and a.commune_code in (select commune_code from leads)
			  and (a.kind = 'agent' or not exists (
				select 1 from agents b where b.campaign_id = a.campaign_id and b.commune_code = a.commune_code
				  and b.kind = 'agent' and b.status = 'active')))
		insert into follow_ups (campaign_id, prospect_id, district_code, commune_code, agent_code, priority, opened_at, due_at, give_up_at)
		select $1, l.id, l.district_code, l.commune_code, h.code, l.likelihood, $3::timestamptz,
			$3::timestamptz + $4::float8 * interval '1 second', $3::timestamptz + $5::float8 * interval '1 second'
		from leads l join holders h on h.commune_code = l.commune_code and h.an = l.rn % h.n`,
		campaignID, batchID, heldAt, deadline.Seconds(), giveUp.Seconds())
	if err != nil {
		return 0, fmt.Errorf("create follow-ups: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// CloseEnrolledFollowUps closes as enrolled, on the day each enrolled (in the campaign's time
// zone), the open or unreachable follow-ups of the prospects who enrolled in a batch; prospects
// and days go in pairs. It returns how many it closed.
func CloseEnrolledFollowUps(ctx context.Context, db DB, campaignID, batchID string, prospects []int64, days []time.Time) (int, error) {
	if _, err := db.Exec(ctx, `
		select f.id from follow_ups f
		where f.prospect_id = any($1::bigint[]) and f.status in ('open', 'unreachable')
		order by f.id for update of f`, prospects); err != nil {
		return 0, fmt.Errorf("lock follow-ups: %w", err)
	}
	tag, err := db.Exec(ctx, `
		update follow_ups f set status = 'enrolled', closed_at = e.enrolled_on::timestamp at time zone c.timezone, closed_by_batch = $2
		from unnest($3::bigint[], $4::date[]) as e(prospect_id, enrolled_on), campaigns c
		where e.prospect_id = f.prospect_id and c.id = $1 and f.status in ('open', 'unreachable')`,
		campaignID, batchID, prospects, days)
	if err != nil {
		return 0, fmt.Errorf("close enrolled follow-ups: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// ReassignFollowUps hands an agent's open follow-ups, highest priority first, round the
// takers, least loaded first, noting where they came from and whether staff hold them now. It
// returns how many it moved.
func ReassignFollowUps(ctx context.Context, db DB, campaignID, from string, takers []string, toStaff bool) (int, error) {
	tag, err := db.Exec(ctx, `
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
		where f.id = m.id`, campaignID, from, takers, toStaff)
	if err != nil {
		return 0, fmt.Errorf("reassign follow-ups: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
