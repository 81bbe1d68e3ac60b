package activities

import (
	"context"
	"time"

	"drives/plan"
	"drives/store"
)

// specRenewals are a spec's renewal rules in whole days, and whether it keeps a register (a
// spec of a campaign launched before the register has no rules: it keeps none).
func specRenewals(p plan.FollowUpTimes) (store.RegisterTimes, bool) {
	lead, grace, ok := p.RenewalDays()
	return store.RegisterTimes{LeadDays: lead, GraceDays: grace}, ok
}

// registerDue is when a campaign's register next needs a sweep: zero when it keeps none or
// nobody in it is current.
func registerDue(ctx context.Context, db store.DB, campaignID string, p plan.FollowUpTimes) (time.Time, error) {
	t, keeps := specRenewals(p)
	if !keeps {
		return time.Time{}, nil
	}
	return store.NextRegisterDue(ctx, db, campaignID, time.Time{}, t)
}

// earliest is the earlier of two times, a zero time being none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
