package report

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CampaignLine is a campaign as a list of campaigns shows it.
type CampaignLine struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	Year          int       `json:"year"`
	Status        string    `json:"status"`
	PeriodStart   time.Time `json:"period_start"`
	PeriodEnd     time.Time `json:"period_end"`
	Target        int       `json:"target"`
	Enrolled      int       `json:"enrolled"`
	AttainmentPct float64   `json:"attainment_pct"`
}

// Campaigns lists every campaign with its target and enrolments, newest first.
func Campaigns(ctx context.Context, db DB) ([]CampaignLine, error) {
	rows, err := db.Query(ctx, `
		select c.id, c.name, c.year, c.status, c.period_start, c.period_end, coalesce(c.target, 0),
			(select count(*) from enrolments e where e.campaign_id = c.id)::int
		from campaigns c order by c.period_start desc, c.id`)
	if err != nil {
		return nil, fmt.Errorf("report: campaigns: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CampaignLine, error) {
		var c CampaignLine
		err := r.Scan(&c.ID, &c.Name, &c.Year, &c.Status, &c.PeriodStart, &c.PeriodEnd, &c.Target, &c.Enrolled)
		c.AttainmentPct = pct(c.Enrolled, c.Target)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("report: campaigns: %w", err)
	}
	return out, nil
}

// DayCount is one day's enrolments and the total up to and including it.
type DayCount struct {
	Day        time.Time `json:"day"`
	Enrolled   int       `json:"enrolled"`
	Cumulative int       `json:"cumulative"`
}

// Daily counts a campaign's enrolments by the day they enrolled (campaign time), in order;
// days without an enrolment are left out.
func Daily(ctx context.Context, db DB, campaignID string) ([]DayCount, error) {
	rows, err := db.Query(ctx, `
		select enrolled_on, count(*)::int from enrolments where campaign_id = $1 group by 1 order by 1`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("report: daily enrolments: %w", err)
	}
	var out []DayCount
	var d DayCount
	total := 0
	if _, err := pgx.ForEachRow(rows, []any{&d.Day, &d.Enrolled}, func() error {
		total += d.Enrolled
		d.Cumulative = total
		out = append(out, d)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("report: daily enrolments: %w", err)
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
		return nil, fmt.Errorf("report: overdue follow-ups: %w", err)
	}
	out := map[string]int{}
	var code string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&code, &n}, func() error {
		out[code] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("report: overdue follow-ups: %w", err)
	}
	return out, nil
}
