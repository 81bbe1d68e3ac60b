package store

import (
	"context"
	"errors"
	"fmt"

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
		insert into campaigns (id, name, year, plan_hash, plan, prior_year_enrolled, period_start, period_end, timezone, clock_scale, workflow_id)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict (id) do nothing`,
		c.ID, c.Name, c.Year, c.PlanHash, c.Plan, c.PriorYearEnrolled, c.PeriodStart, c.PeriodEnd,
		c.Timezone, c.ClockScale, c.WorkflowID); err != nil {
		return fmt.Errorf("store plan: %w", err)
	}
	return nil
}
