package report

import (
	"context"
	"fmt"
	"time"

	"drives/store"
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
	cs, err := store.Campaigns(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	out := make([]CampaignLine, 0, len(cs))
	for _, c := range cs {
		out = append(out, CampaignLine{ID: c.ID, Name: c.Name, Year: c.Year, Status: c.Status, PeriodStart: c.PeriodStart,
			PeriodEnd: c.PeriodEnd, Target: c.Target, Enrolled: c.Enrolled, AttainmentPct: pct(c.Enrolled, c.Target)})
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
	return DailyIn(ctx, db, campaignID, store.Scope{})
}

// DailyIn is Daily of a scope's part of the campaign.
func DailyIn(ctx context.Context, db DB, campaignID string, scope store.Scope) ([]DayCount, error) {
	days, err := store.EnrolmentsByDayIn(ctx, db, campaignID, scope)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var out []DayCount
	total := 0
	for _, d := range days {
		total += d.Enrolled
		out = append(out, DayCount{Day: d.Day, Enrolled: d.Enrolled, Cumulative: total})
	}
	return out, nil
}

// OverdueByAgent counts each agent's open follow-ups that are overdue: past their deadline
// at the last sweep, and so escalated.
func OverdueByAgent(ctx context.Context, db DB, campaignID string) (map[string]int, error) {
	out, err := store.OverdueByAgent(ctx, db, campaignID)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return out, nil
}
