package workflows_test

import (
	"testing"

	"drives/campaign"
)

// A closed campaign's date stays at its period's end: paused over the end and resumed ten days
// later, it closes then, and its progress says 2022-01-01 00:00 (the period's end), not the
// real clock read through the campaign's (it read the resume, and on a running stack it ran on).
func TestClosedCampaignDateStopsAtThePeriodsEnd(t *testing.T) {
	spec := yearSpec(1)
	env, r := newCampaignEnv(t, spec, launchBefore)
	steer := campaign.SteerRequest{Reason: "tết", By: "coordinator"}
	at(t, env, launchBefore, local(2021, 12, 20, 12, 0), func() { update(env, campaign.UpdatePause, steer) })
	at(t, env, launchBefore, local(2022, 1, 10, 12, 0), func() { update(env, campaign.UpdateResume, steer) })
	runYear(t, env, campaign.StatusClosed)
	if len(r.closedAt) != 1 {
		t.Fatalf("closed %d times", len(r.closedAt))
	}
	t.Logf("closed at real %s", r.closedAt[0])
	p := queryProgress(t, env)
	if p.Status != campaign.StatusClosed || !p.CampaignTime.Equal(spec.PeriodEnd) {
		t.Errorf("final progress: %s, campaign time %s; want closed, %s", p.Status, p.CampaignTime, spec.PeriodEnd)
	}
}
