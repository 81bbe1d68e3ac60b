package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// NewCampaign is what a launch stores of a validated plan.
type NewCampaign struct {
	ID                string
	Name              string
	Year              int
	PlanHash          string
	Plan              []byte // the loaded plan, as JSON
	PriorYearEnrolled int
	PeriodStart       string
	PeriodEnd         string
	Timezone          string
	ClockScale        float64
	WorkflowID        string
	// PreviousCampaign, when set, is the campaign whose register this one takes over.
	PreviousCampaign string
}

// PlanHash returns the hash of a stored campaign's plan, or ErrNotFound.
func PlanHash(ctx context.Context, db DB, campaignID string) (string, error) {
	var h string
	err := db.QueryRow(ctx, `select plan_hash from campaigns where id = $1`, campaignID).Scan(&h)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("look up campaign %s: %w", campaignID, err)
	}
	return h, nil
}

// InsertCampaign stores a plan under its campaign's id; a campaign already stored is left as it is.
func InsertCampaign(ctx context.Context, db DB, c NewCampaign) error {
	if _, err := db.Exec(ctx, `
		insert into campaigns (id, name, year, plan_hash, plan, prior_year_enrolled, period_start, period_end, timezone,
			clock_scale, workflow_id, previous_campaign)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		on conflict (id) do nothing`,
		c.ID, c.Name, c.Year, c.PlanHash, c.Plan, c.PriorYearEnrolled, c.PeriodStart, c.PeriodEnd,
		c.Timezone, c.ClockScale, c.WorkflowID, nullable(c.PreviousCampaign)); err != nil {
		return fmt.Errorf("store plan: %w", err)
	}
	return nil
}

// Predecessor is what a launch reads of the campaign a plan names as its previous one.
type Predecessor struct {
	Status    string
	PeriodEnd time.Time // its last day
	Follower  string    // a campaign that already follows it ("" when none)
}

// ReadPredecessor reads the campaign a plan names as its previous one; ErrNotFound when
// there is none.
func ReadPredecessor(ctx context.Context, db DB, campaignID string) (Predecessor, error) {
	var p Predecessor
	err := db.QueryRow(ctx, `
		select status, period_end, coalesce((select id from campaigns f where f.previous_campaign = c.id order by id limit 1), '')
		from campaigns c where id = $1`, campaignID).Scan(&p.Status, &p.PeriodEnd, &p.Follower)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("campaign %s: %w", campaignID, ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("read campaign %s: %w", campaignID, err)
	}
	return p, nil
}
