package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The register of participants (migration 015): people whose contributions are, or were,
// paid, one row per person of a register (a chain of campaigns), with what happened to them
// (participant_changes) and their payments. A campaign's enrolments join it by a trigger on
// enrolments; everything else that writes it is here.

// RegisterTimes are the renewal rules a campaign applies to its register, in whole days of
// campaign time: a renewal follow-up opens LeadDays before a payment falls due, and a person
// unpaid GraceDays past it has lapsed.
type RegisterTimes struct {
	LeadDays  int
	GraceDays int
}

// AnalyzeStaging refreshes the planner's statistics of the staged import rows (migration 017).
func AnalyzeStaging(ctx context.Context, db DB) error {
	return analyze(ctx, db, "the staged rows", `select analyze_staging()`)
}

// AnalyzeRegister refreshes the planner's statistics of the register's tables (migration 015).
func AnalyzeRegister(ctx context.Context, db DB) error {
	return analyze(ctx, db, "the register", `select analyze_register()`)
}

// RegisterSweep counts what a sweep of the register did.
type RegisterSweep struct {
	Opened int // renewal follow-ups opened
	Lapsed int // people lapsed
}

// SweepRegister brings a campaign's register up to the campaign time asOf: people unpaid
// GraceDays past their due day lapse (dated the day their grace ended), and a renewal
// follow-up opens, for the agent holding the person, for every payment falling due within
// LeadDays (dated LeadDays before it: time is data, not the sweep's hour). A person whose
// holder is no longer an active agent of the campaign is dealt round the active agents of
// their commune (its staff where it has none), and they hold the person from then on. Both
// steps are set-based; run before the sweep of follow-ups, which then reminds and escalates
// the renewals like any other follow-up.
func SweepRegister(ctx context.Context, db DB, campaignID string, asOf time.Time, t RegisterTimes) (RegisterSweep, error) {
	var r RegisterSweep
	reg, err := registerOf(ctx, db, campaignID, asOf)
	if err != nil {
		return r, err
	}
	// The register, its time zone and the campaign's day are given to each statement as
	// values, not joined from the campaign: planned for a value, the scans below take the
	// indexes of people due (participants_unopened, participants_due; migration 017) and the
	// updates find each person by key, where planned for a join they read the whole table.
	//
	// Open renewals first: someone whose payment fell due while nobody swept gets their
	// follow-up, closed as lapsed by the follow-up sweep if their grace has ended.
	if err := db.QueryRow(ctx, `
		with due as materialized (
			select p.ctid as row_id, p.citizen_id, p.paid_until, p.district_code, p.commune_code, p.agent_code,
				row_number() over (partition by p.commune_code order by p.paid_until, p.citizen_id) - 1 as rn
			from participants p
			where p.register_id = $2 and p.status = 'active'
			  and p.paid_until <= $4::date + $5::int
			  and p.renewal_opened_for is distinct from p.paid_until
			  and exists (select 1 from units u where u.campaign_id = $1 and u.code = p.commune_code)),
		-- each set computed once (materialized): inlined, the agents were dealt again for
		-- every person due (30 s for 8,000 people)
		holders as materialized (
			select a.code, a.commune_code,
				row_number() over (partition by a.commune_code order by a.code) - 1 as an,
				count(*) over (partition by a.commune_code) as n
			from agents a
			where a.campaign_id = $1 and a.status = 'active'
			  and a.commune_code in (select distinct commune_code from due)
			  and (a.kind = 'agent' or not exists (
				select 1 from agents b where b.campaign_id = a.campaign_id and b.commune_code = a.commune_code
				  and b.kind = 'agent' and b.status = 'active'))),
		held as materialized (
			select d.*, coalesce(
				(select a.code from agents a where a.campaign_id = $1 and a.code = d.agent_code and a.status = 'active'),
				h.code) as holder
			from due d left join holders h on h.commune_code = d.commune_code and h.an = d.rn % h.n),
		opened as (
			insert into follow_ups (campaign_id, kind, citizen_id, renewal_due, district_code, commune_code, agent_code,
				priority, opened_at, due_at, give_up_at)
			select $1, 'renewal', h.citizen_id, h.paid_until, h.district_code, h.commune_code, h.holder, 1,
				(h.paid_until - $5::int)::timestamp at time zone $3,
				h.paid_until::timestamp at time zone $3,
				(h.paid_until + $6::int)::timestamp at time zone $3
			from held h
			where h.holder is not null
			order by h.citizen_id
			on conflict (campaign_id, citizen_id, renewal_due) where kind = 'renewal' do nothing
			returning citizen_id),
		-- found again by the row each was read from: joined by key, the planner (which cannot
		-- tell how few are due) read the whole register to hash it (1.5 s for 13,000 people)
		marked as (
			update participants p set renewal_opened_for = h.paid_until, agent_code = h.holder
			from held h
			where p.ctid = any(array(select row_id from held where holder is not null)) and p.ctid = h.row_id
			  and h.holder is not null
			returning 1)
		select (select count(*) from opened)::int`,
		campaignID, reg.id, reg.timezone, reg.today, t.LeadDays, t.GraceDays).Scan(&r.Opened); err != nil {
		return r, fmt.Errorf("open renewals: %w", err)
	}
	if err := db.QueryRow(ctx, `
		with gone as (
			update participants p set status = 'lapsed', lapsed_on = p.paid_until + $4::int, campaign_id = $1
			where p.register_id = $2 and p.status = 'active' and p.paid_until <= $3::date - $4::int
			returning p.register_id, p.citizen_id, p.lapsed_on, p.district_code, p.commune_code, p.target_group, p.agent_code),
		logged as (
			insert into participant_changes (register_id, citizen_id, kind, on_date, campaign_id, district_code,
				commune_code, target_group, agent_code)
			select register_id, citizen_id, 'lapsed', lapsed_on, $1, district_code, commune_code, target_group, agent_code
			from gone order by citizen_id
			returning 1)
		select count(*)::int from logged`, campaignID, reg.id, reg.today, t.GraceDays).Scan(&r.Lapsed); err != nil {
		return r, fmt.Errorf("record lapses: %w", err)
	}
	return r, nil
}

// register is a campaign's register as its sweeps need it: the register's ID, the campaign's
// time zone and its day at the campaign time asOf.
type register struct {
	id, timezone string
	today        time.Time
}

func registerOf(ctx context.Context, db DB, campaignID string, asOf time.Time) (register, error) {
	var r register
	err := db.QueryRow(ctx, `select register_id, timezone, ($2::timestamptz at time zone timezone)::date from campaigns where id = $1`,
		campaignID, asOf).Scan(&r.id, &r.timezone, &r.today)
	if err != nil {
		return r, fmt.Errorf("read the register of campaign %s: %w", campaignID, err)
	}
	return r, nil
}

// ReassignParticipants hands the people of a campaign's register an agent held round the
// takers, in citizen ID order, and returns how many moved.
func ReassignParticipants(ctx context.Context, db DB, campaignID, from string, takers []string) (int, error) {
	tag, err := db.Exec(ctx, `
		with c as (select register_id from campaigns where id = $1),
		moving as (
			select p.citizen_id, row_number() over (order by p.citizen_id) - 1 as rn
			from participants p, c where p.register_id = c.register_id and p.agent_code = $2),
		takers as (select code, ordinality - 1 as tn, count(*) over () as n from unnest($3::text[]) with ordinality as t(code))
		update participants p set agent_code = t.code
		from moving m join takers t on t.tn = m.rn % t.n, c
		where p.register_id = c.register_id and p.citizen_id = m.citizen_id`, campaignID, from, takers)
	if err != nil {
		return 0, fmt.Errorf("reassign participants: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// NextRegisterDue is when the register of a campaign next needs a sweep after asOf: the
// earliest opening of a renewal not opened yet, or the end of a grace period; zero when
// nobody in it is active.
func NextRegisterDue(ctx context.Context, db DB, campaignID string, asOf time.Time, t RegisterTimes) (time.Time, error) {
	reg, err := registerOf(ctx, db, campaignID, asOf)
	if err != nil {
		return time.Time{}, err
	}
	// Two reads of the first entry of an index (migration 017): the earliest due day of
	// those whose renewal is not open, and the earliest of everyone active.
	var next *time.Time
	if err := db.QueryRow(ctx, `
		select least(
			(select min(paid_until) from participants
			 where register_id = $1 and status = 'active' and renewal_opened_for is distinct from paid_until) - $3::int,
			(select min(paid_until) from participants where register_id = $1 and status = 'active') + $4::int
		)::timestamp at time zone $2`,
		reg.id, reg.timezone, t.LeadDays, t.GraceDays).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next register due: %w", err)
	}
	if next == nil {
		return time.Time{}, nil
	}
	if next.Before(asOf) {
		return asOf.UTC(), nil
	}
	return next.UTC(), nil
}

// MergeRegister adds a staged starting register (people already participating when the
// register is adopted) to a campaign's register: each line a person joined on its day and paid
// until its paid_until; a person already in the register is left as they are. It returns how
// many joined.
func MergeRegister(ctx context.Context, db DB, campaignID, batchID string) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `
		with c as (select register_id from campaigns where id = $1),
		ins as (
			insert into participants (register_id, citizen_id, full_name, phone, district_code, commune_code, village_code,
				target_group, agent_code, monthly_income, subsidy_class, joined_on, cover_anchor, months_paid, campaign_id)
			select c.register_id, r.citizen_id, r.full_name, r.phone, u.district_code, r.commune_code, r.village_code,
				r.target_group, r.agent_code, r.monthly_income, r.subsidy_class, r.enrolled_on, r.paid_until, 0, $1
			from import_rows r join units u on u.campaign_id = $1 and u.code = r.commune_code, c
			where r.batch_id = $2
			order by r.citizen_id
			on conflict (register_id, citizen_id) do nothing
			returning register_id, citizen_id, joined_on, district_code, commune_code, target_group, agent_code),
		logged as (
			insert into participant_changes (register_id, citizen_id, kind, on_date, campaign_id, district_code,
				commune_code, target_group, agent_code)
			select register_id, citizen_id, 'joined', joined_on, $1, district_code, commune_code, target_group, agent_code
			from ins
			returning 1)
		select count(*)::int from logged`, campaignID, batchID).Scan(&n); err != nil {
		return 0, fmt.Errorf("merge register: %w", err)
	}
	return n, nil
}

// PaymentTerms are the contribution rules a payment's amount is checked against: the monthly
// contribution is the declared income times Percent / 100 (rounded down), less the class's
// monthly subsidy (a class other than poor and near-poor is other), times the months paid.
type PaymentTerms = EnrolmentTerms

// MergedPayments is what merging a payments batch wrote.
type MergedPayments struct {
	New             int // receipts recorded (a receipt recorded before counts once)
	Flagged         int // of them, amounts the rules do not give
	Renewed         int // people who paid while current (or before their lapse was due)
	Returned        int // people who paid after they had lapsed
	FollowUpsClosed int // renewal follow-ups the payments closed
}

// MergePayments records a staged batch of payments (receipts new to the register), each
// expected amount computed from its person's declared income and class. The payments' trigger
// (apply_payments, migration 023) applies them to their people as any statement's payments
// are: months paid while current (or on a day before a recorded lapse, which is then undone)
// extend the cover; a payment after a lapse starts a new cover on its day. Each person's
// payments of the batch count as one renewal or return, on the day of the first; their open
// renewal follow-ups the new cover passes close as renewed. The caller holds the campaign's
// merge lock (LockEnrolmentMerges), as every writer of its register does: people are not
// locked one by one. The staged lines never leave the server.
func MergePayments(ctx context.Context, db DB, campaignID, batchID string, terms PaymentTerms) (MergedPayments, error) {
	var m MergedPayments
	if err := db.QueryRow(ctx, `
		with c as (select register_id from campaigns where id = $1),
		ins as (
			insert into payments (register_id, receipt_no, citizen_id, paid_on, months, amount, expected, agent_code, campaign_id, batch_id)
			select c.register_id, r.receipt_no, r.citizen_id, r.enrolled_on, r.payment_months, r.amount,
				(p.monthly_income * $3::bigint / 100
				 - case p.subsidy_class when 'poor' then $4::bigint when 'near_poor' then $5::bigint else $6::bigint end)
				* r.payment_months,
				r.agent_code, $1, $2
			from import_rows r, c, participants p
			where r.batch_id = $2 and p.register_id = c.register_id and p.citizen_id = r.citizen_id
			order by r.line
			on conflict (register_id, receipt_no) do nothing
			returning amount <> expected as flagged)
		select count(*)::int, (count(*) filter (where flagged))::int from ins`,
		campaignID, batchID, terms.Percent, terms.PoorSubsidy, terms.NearPoorSubsidy, terms.OtherSubsidy).
		Scan(&m.New, &m.Flagged); err != nil {
		return m, fmt.Errorf("record payments: %w", err)
	}
	// What the trigger applied, as it left it for this transaction.
	var applied string
	if err := db.QueryRow(ctx, `select current_setting('drives.payments_applied', true)`).Scan(&applied); err != nil {
		return m, fmt.Errorf("record payments: %w", err)
	}
	if _, err := fmt.Sscanf(applied, "%d %d %d", &m.Renewed, &m.Returned, &m.FollowUpsClosed); err != nil {
		return m, fmt.Errorf("record payments: the register's trigger left %q: %w", applied, err)
	}
	return m, nil
}

// UnknownParticipantLines lists the lines of a staged payments batch whose person is not in
// the campaign's register.
func UnknownParticipantLines(ctx context.Context, db DB, batchID, campaignID string) ([]int, error) {
	rows, err := db.Query(ctx, `
		select r.line from import_rows r
		where r.batch_id = $1 and not exists (
			select 1 from participants p join campaigns c on c.register_id = p.register_id
			where c.id = $2 and p.citizen_id = r.citizen_id)
		order by r.line`, batchID, campaignID)
	if err != nil {
		return nil, fmt.Errorf("check payments: %w", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("check payments: %w", err)
	}
	return lines, nil
}

// RegisterFigures are a register's people over a period, for the whole register or one
// unit, target group or agent: the stock at the period's start and end, and what changed in
// between (Renewed counts each person once however often they paid; Start + Joined +
// Returned - Lapsed = End).
type RegisterFigures struct {
	Key      string `json:"key,omitempty"`
	Start    int    `json:"start"`
	Joined   int    `json:"joined"`
	Renewed  int    `json:"renewed"`
	Returned int    `json:"returned"`
	Lapsed   int    `json:"lapsed"`
	End      int    `json:"end"`
}

// RegisterBreakdown is a register's figures over a campaign's period: in all, and by
// district, target group and (when asked for) agent, each change counted where it was made.
type RegisterBreakdown struct {
	All        RegisterFigures
	ByDistrict []RegisterFigures
	ByGroup    []RegisterFigures
	ByAgent    []RegisterFigures
}

// RegisterFiguresOf counts a campaign's register from the start of its period to the day to
// (exclusive; the day after the period at most), in one pass over the register's changes: in
// all, by district, by target group and, withAgents, by agent (of the moment of each change).
func RegisterFiguresOf(ctx context.Context, db DB, campaignID string, to time.Time, withAgents bool) (RegisterBreakdown, error) {
	var out RegisterBreakdown
	sets, which, key := "(), (x.district_code), (x.target_group)",
		"case when grouping(x.district_code) = 0 then 'district' when grouping(x.target_group) = 0 then 'group' else '' end",
		"coalesce(x.district_code, x.target_group, '')"
	if withAgents {
		sets += ", (x.agent_code)"
		which = "case when grouping(x.district_code) = 0 then 'district' when grouping(x.target_group) = 0 then 'group' " +
			"when grouping(x.agent_code) = 0 then 'agent' else '' end"
		key = "coalesce(x.district_code, x.target_group, x.agent_code, '')"
	}
	rows, err := db.Query(ctx, `
		with c as (select register_id, period_start as s, least($2::date, period_end + 1) as e from campaigns where id = $1)
		select `+which+`, `+key+`,
			(count(*) filter (where x.on_date < c.s and x.kind in ('joined', 'returned'))
			 - count(*) filter (where x.on_date < c.s and x.kind = 'lapsed'))::int,
			(count(*) filter (where x.on_date >= c.s and x.kind = 'joined'))::int,
			(count(distinct x.citizen_id) filter (where x.on_date >= c.s and x.kind = 'renewed'))::int,
			(count(*) filter (where x.on_date >= c.s and x.kind = 'returned'))::int,
			(count(*) filter (where x.on_date >= c.s and x.kind = 'lapsed'))::int,
			(count(*) filter (where x.kind in ('joined', 'returned')) - count(*) filter (where x.kind = 'lapsed'))::int
		from participant_changes x, c
		where x.register_id = c.register_id and x.on_date < c.e
		group by grouping sets (`+sets+`)
		order by 1, 2`, campaignID, to)
	if err != nil {
		return out, fmt.Errorf("register figures: %w", err)
	}
	var by string
	var f RegisterFigures
	if _, err := pgx.ForEachRow(rows, []any{&by, &f.Key, &f.Start, &f.Joined, &f.Renewed, &f.Returned, &f.Lapsed, &f.End}, func() error {
		switch by {
		case "district":
			out.ByDistrict = append(out.ByDistrict, f)
		case "group":
			out.ByGroup = append(out.ByGroup, f)
		case "agent":
			out.ByAgent = append(out.ByAgent, f)
		default:
			out.All = f
		}
		return nil
	}); err != nil {
		return out, fmt.Errorf("register figures: %w", err)
	}
	return out, nil
}

// FlaggedPayments counts a campaign's payments whose amount the rules do not give.
func FlaggedPayments(ctx context.Context, db DB, campaignID string) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `select count(*)::int from payments where campaign_id = $1 and amount <> expected`, campaignID).Scan(&n); err != nil {
		return 0, fmt.Errorf("flagged payments: %w", err)
	}
	return n, nil
}

// RegisterStock is how many people of a campaign's register were current (joined or
// returned, and not lapsed since) at the start of a day.
func RegisterStock(ctx context.Context, db DB, campaignID string, day time.Time) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `
		select (count(*) filter (where x.kind in ('joined', 'returned')) - count(*) filter (where x.kind = 'lapsed'))::int
		from participant_changes x join campaigns c on c.register_id = x.register_id
		where c.id = $1 and x.on_date < $2::date`, campaignID, day).Scan(&n); err != nil {
		return 0, fmt.Errorf("register stock: %w", err)
	}
	return n, nil
}
