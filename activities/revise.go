package activities

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/campaign"
	"drives/plan"
	"drives/revision"
	"drives/store"
)

// ErrRevisionRefused marks a staged revision its campaign's rules refuse as it stands now.
const ErrRevisionRefused = "RevisionRefused"

// ReviseInput applies a staged revision of a campaign's plan as of the campaign's day.
type ReviseInput struct {
	CampaignID string    `json:"campaign_id"`
	Number     int       `json:"number"`
	Today      time.Time `json:"today"` // campaign time now
	By         string    `json:"by"`
}

// ApplyRevision applies a staged revision of a campaign's plan: checked again against the
// campaign as it stands (the rules `starter plan revise` checked before staging it, from what it
// prepared then: revision.PrepareStaged), it sets the targets it changes from its first day (or
// from today, when the campaign's day has passed it since), adds and cancels events, and marks
// the revision applied, with its audit row.
func (a *Activities) ApplyRevision(ctx context.Context, in ReviseInput) (campaign.RevisionResult, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "plan.revise", entity: "plan_revision",
		entityKey: in.CampaignID + "#" + strconv.Itoa(in.Number), actor: in.By, detail: map[string]any{"number": in.Number}},
		func(tx pgx.Tx) (campaign.RevisionResult, error) {
			res := campaign.RevisionResult{Number: in.Number}
			// Agents' quotas move under the campaign's merge lock (joinings, leavings,
			// terminations): a revision takes it too, so that a commune's sum stays exact.
			if err := store.LockEnrolmentMerges(ctx, tx, in.CampaignID); err != nil {
				return res, err
			}
			r, err := store.LockRevision(ctx, tx, in.CampaignID, in.Number)
			if errors.Is(err, store.ErrNotFound) {
				return res, permanent(ErrNotFound, "campaign %s has no staged revision %d", in.CampaignID, in.Number)
			}
			if err != nil {
				return res, err
			}
			if r.AppliedAt != nil {
				return res, permanent(ErrInvalidState, "revision %d of campaign %s is applied already", in.Number, in.CampaignID)
			}
			start, _, tz, err := store.CampaignPeriod(ctx, tx, in.CampaignID)
			if err != nil {
				return res, err
			}
			loc, err := time.LoadLocation(tz)
			if err != nil {
				return res, err
			}
			from := time.Date(r.From.Year(), r.From.Month(), r.From.Day(), 0, 0, 0, 0, loc)
			if day := dayIn(in.Today, loc); from.Before(day) {
				from = day
			}
			// The staged plan is read beside the plan in force (revision.PrepareStaged).
			p, err := revision.PrepareStaged(ctx, tx, fmt.Sprintf("revision %d", in.Number), in.CampaignID, in.Number, in.Today, from)
			var unreadable *revision.UnreadableError
			if errors.As(err, &unreadable) {
				return res, permanent(ErrPlanChanged, "revision %d of campaign %s does not read: %v", in.Number, in.CampaignID, unreadable.Err)
			}
			var refused plan.Errors
			if errors.As(err, &refused) {
				return res, permanent(ErrRevisionRefused, "%v", refused)
			}
			if err != nil {
				return res, err
			}
			added, err := revision.Apply(ctx, tx, a.openBeside, p, in.Number, start)
			if err != nil {
				return res, err
			}
			// Every district's target in force, for the workflow's district drives.
			districts, err := store.LevelTargets(ctx, tx, in.CampaignID, "district")
			if err != nil {
				return res, err
			}
			res.From, res.Target, res.Districts, res.Quotas = p.From, p.Alloc.City, districts, len(p.Quotas)
			res.Added, res.Removed = added, p.Removed
			return res, nil
		})
}

// dayIn is the midnight of t's day in loc.
func dayIn(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}
