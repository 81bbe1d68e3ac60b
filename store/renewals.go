package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// What the demo's field (package simulator) reads of a campaign's register of participants:
// whether a starting register has been taken in, and the renewals its people answer by paying
// or not. Like the rest of the field's reads (field.go), they read what an agent's app would.

// RegisterJoinedBefore counts the people of a campaign's register who joined before the
// campaign's period: a starting register taken in, or people a previous campaign left.
func RegisterJoinedBefore(ctx context.Context, db DB, campaignID string) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `
		select count(*)::int from participants p join campaigns c on c.register_id = p.register_id
		where c.id = $1 and p.joined_on < c.period_start`, campaignID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the register: %w", err)
	}
	return n, nil
}

// DueRenewal is a renewal follow-up of a campaign with what a payment for it needs: the person
// (their citizen ID is personal data: keep it out of errors and logs), the day their payment
// falls due, the agent holding the renewal and the person's commune, the income and subsidy
// class the amount is reckoned from, and their cover (the day it counts from and its months:
// Due is CoverAnchor plus MonthsPaid months, and the days later payments fall due are reckoned
// the same way).
type DueRenewal struct {
	Citizen     string
	Due         time.Time // renewal_due, a date (midnight UTC)
	Agent       string
	Commune     string
	Income      int64
	Class       string
	CoverAnchor time.Time
	MonthsPaid  int
}

// RenewalsDue lists up to limit of a campaign's renewals still unpaid whose payment falls due on
// or before the day by: each person's renewal for the day they are paid until, open, or closed
// as lapsed when the person has lapsed for it (a payment dated before the lapse, recorded late,
// undoes it). In order of due day and citizen ID, after the one given (the last of the previous
// page; the zero DueRenewal for the first page). A person has one such renewal at most.
func RenewalsDue(ctx context.Context, db DB, campaignID string, by time.Time, after DueRenewal, limit int) ([]DueRenewal, error) {
	rows, err := db.Query(ctx, `
		select p.citizen_id, p.paid_until, f.agent_code, f.commune_code, p.monthly_income, p.subsidy_class,
			p.cover_anchor, p.months_paid
		from campaigns c
		join participants p on p.register_id = c.register_id
		join follow_ups f on f.campaign_id = c.id and f.kind = 'renewal' and f.citizen_id = p.citizen_id and f.renewal_due = p.paid_until
		where c.id = $1 and p.paid_until <= $2::date and (p.paid_until, p.citizen_id) > ($3::date, $4::text)
		  and f.status = case p.status when 'active' then 'open' else 'lapsed' end
		order by p.paid_until, p.citizen_id
		limit $5`,
		campaignID, fieldDay(by), fieldDay(after.Due), after.Citizen, limit)
	if err != nil {
		return nil, fmt.Errorf("read renewals due: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DueRenewal, error) {
		var d DueRenewal
		return d, r.Scan(&d.Citizen, &d.Due, &d.Agent, &d.Commune, &d.Income, &d.Class, &d.CoverAnchor, &d.MonthsPaid)
	})
	if err != nil {
		return nil, fmt.Errorf("read renewals due: %w", err)
	}
	return out, nil
}

// fieldDay is a day as a date parameter: its year, month and day, whatever its location (the
// zero time is the earliest day).
func fieldDay(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01"
	}
	return t.Format("2006-01-02")
}
