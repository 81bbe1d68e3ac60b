package workflows_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"

	"drives/activities"
	"drives/campaign"
	"drives/plan"
)

// A revision Update in order applies through ApplyRevision as of the campaign's day; the
// campaign's progress takes the new targets; the event it adds is held by its district drive
// on its day and the one it removes never is. Out of order, unnamed or repeated, it is refused
// by the validator and runs nothing.
func TestUpdateRevisePlan(t *testing.T) {
	spec := yearSpec(1)
	env, r := newCampaignEnv(t, spec, launchBefore)
	added := ev("001-extra", plan.KindDialogue, "001", "00004", eventAt(2021, 7, 5), "student")
	var applied []activities.ReviseInput
	env.OnActivity(acts.ApplyRevision, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReviseInput) (campaign.RevisionResult, error) {
			applied = append(applied, in)
			return campaign.RevisionResult{Number: in.Number, From: local(2021, 6, 1, 0, 0), Target: spec.Target + 300,
				Districts: map[string]int{"001": 1800, "002": 1200, "016": 4300}, Quotas: 12,
				Added: []plan.Event{added}, Removed: []string{"002-door-1"}}, nil
		})
	var outOfOrder, unnamed, ok, again *outcome
	var before, after campaign.Progress
	at(t, env, launchBefore, local(2021, 5, 30, 12, 0), func() {
		before = queryProgress(t, env)
		outOfOrder = update(env, campaign.UpdateRevisePlan, campaign.ReviseRequest{Number: 2, By: "coordinator"})
		unnamed = update(env, campaign.UpdateRevisePlan, campaign.ReviseRequest{Number: 1, By: " "})
		ok = update(env, campaign.UpdateRevisePlan, campaign.ReviseRequest{Number: 1, By: "coordinator"})
	})
	at(t, env, launchBefore, local(2021, 5, 31, 12, 0), func() {
		after = queryProgress(t, env)
		again = update(env, campaign.UpdateRevisePlan, campaign.ReviseRequest{Number: 1, By: "coordinator"})
	})
	runYear(t, env, campaign.StatusClosed)

	requireRejected(t, outOfOrder, "number: revision 2 is not the next one (0 applied); stage the revision again with starter plan revise")
	requireRejected(t, unnamed, "by: say who revises the plan")
	requireRejected(t, again, "number: revision 1 is not the next one (1 applied); stage the revision again with starter plan revise")
	var res campaign.RevisionResult
	requireDone(t, ok, &res)
	if len(applied) != 1 || applied[0].Number != 1 || applied[0].By != "coordinator" || !applied[0].Today.Equal(local(2021, 5, 30, 12, 0)) {
		t.Errorf("ApplyRevision ran with %+v; want once, revision 1, as of the campaign's time 2021-05-30 12:00", applied)
	}
	if before.Target != spec.Target || before.Revisions != 0 {
		t.Errorf("progress before: target %d, revisions %d", before.Target, before.Revisions)
	}
	if after.Target != spec.Target+300 || after.Revisions != 1 || after.Districts[0].Target != 1800 || after.EventsAdded != 1 || after.EventsCancelled != 1 {
		t.Errorf("progress after: target %d, revisions %d, district 001 %d, events added %d cancelled %d",
			after.Target, after.Revisions, after.Districts[0].Target, after.EventsAdded, after.EventsCancelled)
	}
	requireHeldOnce(t, r, "001", "001-extra", eventAt(2021, 7, 5))
	if r.heldAnywhere("002-door-1") {
		t.Error("the event the revision removed was held")
	}
}
