package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The campaign list and a campaign's overview: its figures by day and its agents' overdue work.

// CampaignSummary is a campaign as the list of campaigns shows it.
type CampaignSummary struct {
	ID          string
	Name        string
	Year        int
	Status      string
	PeriodStart time.Time
	PeriodEnd   time.Time
	Target      int
	Enrolled    int
}

// Campaigns lists every campaign with its target and enrolments, newest first.
func Campaigns(ctx context.Context, db DB) ([]CampaignSummary, error) {
	rows, err := db.Query(ctx, `
		select c.id, c.name, c.year, c.status, c.period_start, c.period_end, coalesce(c.target, 0),
			(select coalesce(sum(n), 0) from enrolment_group_counts g where g.campaign_id = c.id)::int
		from campaigns c order by c.period_start desc, c.id`)
	if err != nil {
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CampaignSummary, error) {
		var c CampaignSummary
		return c, r.Scan(&c.ID, &c.Name, &c.Year, &c.Status, &c.PeriodStart, &c.PeriodEnd, &c.Target, &c.Enrolled)
	})
	if err != nil {
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	return out, nil
}

// CampaignHead is a campaign as the list of campaigns shows it, without its enrolments
// (Enrolled is 0), and its report stamp (see ReportStamp).
type CampaignHead struct {
	CampaignSummary
	Stamp string
}

// CampaignHeads lists every campaign with its target and report stamp, newest first: the
// list of campaigns counts a campaign's enrolments again only when its stamp has changed.
func CampaignHeads(ctx context.Context, db DB) ([]CampaignHead, error) {
	rows, err := db.Query(ctx, `
		select c.id, c.name, c.year, c.status, c.period_start, c.period_end, coalesce(c.target, 0),
			c.status || ':' || coalesce((select max(a.id) from audit_log a where a.campaign_id = c.id), 0)
		from campaigns c order by c.period_start desc, c.id`)
	if err != nil {
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CampaignHead, error) {
		var c CampaignHead
		return c, r.Scan(&c.ID, &c.Name, &c.Year, &c.Status, &c.PeriodStart, &c.PeriodEnd, &c.Target, &c.Stamp)
	})
	if err != nil {
		return nil, fmt.Errorf("campaigns: %w", err)
	}
	return out, nil
}

// DayEnrolments is one day's enrolments (campaign time).
type DayEnrolments struct {
	Day      time.Time
	Enrolled int
}

// EnrolmentsByDayIn counts a scope's enrolments by day: the whole campaign's from their
// counts (migration 010), a part's from its enrolments, through their commune's or agent's
// index.
func EnrolmentsByDayIn(ctx context.Context, db DB, campaignID string, scope Scope) ([]DayEnrolments, error) {
	sql, args := `select enrolled_on, n::int from enrolment_day_counts where campaign_id = $1 and n > 0 order by 1`, []any{campaignID}
	if !scope.Whole() {
		sql = `select enrolled_on, count(*)::int from enrolments where campaign_id = $1` +
			scope.where(&args, "commune_code", "agent_code") + ` group by 1 order by 1`
	}
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("daily enrolments: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DayEnrolments, error) {
		var d DayEnrolments
		return d, r.Scan(&d.Day, &d.Enrolled)
	})
	if err != nil {
		return nil, fmt.Errorf("daily enrolments: %w", err)
	}
	return out, nil
}

// OverdueByAgent counts each agent's open follow-ups that are overdue: past their deadline
// at the last sweep, and so escalated.
func OverdueByAgent(ctx context.Context, db DB, campaignID string) (map[string]int, error) {
	rows, err := db.Query(ctx, `
		select agent_code, count(*)::int from follow_ups
		where campaign_id = $1 and status = 'open' and escalated_at is not null group by 1`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("overdue follow-ups: %w", err)
	}
	out := map[string]int{}
	var code string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&code, &n}, func() error {
		out[code] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("overdue follow-ups: %w", err)
	}
	return out, nil
}
