package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"

	"drives/activities"
	"drives/campaign"
)

// A campaign cancelled while the sweep of its grid runs late (here it takes 20 days, as one
// waits out a database outage) sweeps once more, as of its cancellation, what fell due meanwhile: the
// follow-ups past their give-up before the cancellation close as unreachable. Shown failing
// without it: one sweep, as of 26 February, and the rest left open (found by the fault drill).
func TestCancelledCampaignSweepsWhatFellDue(t *testing.T) {
	spec := yearSpec(1)
	env := newSuiteEnv(t)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: campaign.CampaignWorkflowID(testCampaignID), TaskQueue: campaign.TaskQueue})
	env.SetStartTime(launchBefore)
	// Registered before the harness's mocks, so that this one answers the campaign's sweeps.
	var mu sync.Mutex
	var sweeps []time.Time
	env.OnActivity(acts.SweepFollowUps, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SweepInput) (campaign.SweepResult, error) {
			mu.Lock()
			defer mu.Unlock()
			sweeps = append(sweeps, in.AsOf)
			if len(sweeps) == 1 {
				return campaign.SweepResult{Reminded: 1, NextDue: in.AsOf.Add(3 * 24 * time.Hour)}, nil
			}
			return campaign.SweepResult{Unreachable: 2}, nil
		}).After(20 * 24 * time.Hour)
	r := &recorder{env: env, spec: spec}
	r.mockAll()
	r.eventResult = func(in activities.EventResultInput) (campaign.LeadsResult, error) {
		// The first reminder, Feb 22 09:00, rounds up to the grid's Feb 26.
		return campaign.LeadsResult{EventID: in.Request.EventID, District: "002", FollowUps: 3,
			EarliestDue: eventAt(2021, 2, 15).Add(7 * 24 * time.Hour)}, nil
	}
	var result, cancel *outcome
	at(t, env, launchBefore, local(2021, 2, 16, 12, 0), func() {
		result = update(env, campaign.UpdateRecordEventResult, campaign.EventResultRequest{EventID: "002-conference", Attendance: 10, BatchID: batchA, By: "coordinator"})
	})
	at(t, env, launchBefore, local(2021, 3, 5, 12, 0), func() {
		cancel = update(env, campaign.UpdateCancel, campaign.SteerRequest{Reason: "ngân sách bị cắt", By: "director"})
	})
	runYear(t, env, campaign.StatusCancelled)
	requireDone(t, result, nil)
	requireDone(t, cancel, nil)
	if len(r.closes) != 1 {
		t.Fatalf("CloseCampaign %+v, want once", r.closes)
	}
	// As of the cancellation, not of the drive's end (after the late sweep, 18 March).
	cancelledAt := local(2021, 3, 5, 12, 0)
	if len(sweeps) != 2 || !sweeps[0].Equal(local(2021, 2, 26, 0, 0)) || !sweeps[1].Equal(cancelledAt) || !r.closes[0].AsOf.After(cancelledAt) {
		t.Errorf("sweeps as of %v, want 2021-02-26 and the cancellation %s (the close as of %s)", sweeps, cancelledAt, r.closes[0].AsOf)
	}
}
