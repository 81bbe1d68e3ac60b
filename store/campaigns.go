package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// CampaignPlan returns the plan a coordinator's launch stored for a campaign (JSON) and its
// hash; ErrNotFound when the campaign has none.
func CampaignPlan(ctx context.Context, db DB, campaignID string) (plan []byte, hash string, err error) {
	err = db.QueryRow(ctx, `select plan, plan_hash from campaigns where id = $1`, campaignID).Scan(&plan, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", fmt.Errorf("plan of campaign %s: %w", campaignID, ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("read plan of %s: %w", campaignID, err)
	}
	return plan, hash, nil
}

// CampaignPeriod returns a campaign's period (its first and last day) and time zone.
func CampaignPeriod(ctx context.Context, db DB, campaignID string) (start, end time.Time, timezone string, err error) {
	if err := db.QueryRow(ctx, `select period_start, period_end, timezone from campaigns where id = $1`, campaignID).
		Scan(&start, &end, &timezone); errors.Is(err, pgx.ErrNoRows) {
		return start, end, timezone, fmt.Errorf("campaign %s: %w", campaignID, ErrNotFound)
	} else if err != nil {
		return start, end, timezone, fmt.Errorf("read campaign %s: %w", campaignID, err)
	}
	return start, end, timezone, nil
}

// StartCampaign records a campaign's city target and its clock (campaign time start at the
// real instant epoch, running scale times as fast), and marks it running; the launch time is
// kept from the first start.
func StartCampaign(ctx context.Context, db DB, campaignID string, target int, epoch, start time.Time, scale float64) error {
	if _, err := db.Exec(ctx, `
		update campaigns set target = $2, clock_epoch = $3, clock_start = $4, clock_scale = $5,
			status = 'running', launched_at = coalesce(launched_at, now())
		where id = $1`, campaignID, target, epoch, start, scale); err != nil {
		return fmt.Errorf("start campaign clock: %w", err)
	}
	return nil
}

// SetCampaignStatus records a campaign's new status.
func SetCampaignStatus(ctx context.Context, db DB, campaignID, status string) error {
	if _, err := db.Exec(ctx, `update campaigns set status = $2 where id = $1`, campaignID, status); err != nil {
		return fmt.Errorf("set campaign status: %w", err)
	}
	return nil
}

// CloseCampaign records a campaign's closing status (closed or cancelled) and time.
func CloseCampaign(ctx context.Context, db DB, campaignID, status string) error {
	if _, err := db.Exec(ctx, `update campaigns set status = $2, closed_at = now() where id = $1`, campaignID, status); err != nil {
		return fmt.Errorf("close campaign: %w", err)
	}
	return nil
}

// TargetGroup is one of a campaign's target groups and how likely its people are to enrol.
type TargetGroup struct {
	Code       string
	Name       string
	Likelihood float64
}

// InsertTargetGroups writes a campaign's target groups; a group already there is left as it is.
func InsertTargetGroups(ctx context.Context, db DB, campaignID string, groups []TargetGroup) error {
	var code, name []string
	var like []float64
	for _, g := range groups {
		code, name, like = append(code, g.Code), append(name, g.Name), append(like, g.Likelihood)
	}
	if _, err := db.Exec(ctx, `
		insert into target_groups (campaign_id, code, name, likelihood)
		select $1, * from unnest($2::text[], $3::text[], $4::float8[]) on conflict do nothing`,
		campaignID, code, name, like); err != nil {
		return fmt.Errorf("insert target groups: %w", err)
	}
	return nil
}
