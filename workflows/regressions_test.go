package workflows_test

// Regression tests of bugs found in the workflow code: each asserts what a user expects in a
// case the first version got wrong.

import (
	"errors"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"drives/activities"
	"drives/campaign"
	"drives/plan"
	"drives/workflows"
)

// At the sample plan's own scale (262,800: a year in two minutes) a district drive never holds
// its first event: Clock.RealTime truncates to the nanosecond, so at the instant the timer
// fires CampaignTime(now) is a few hundred nanoseconds before the event, nothing is due, and
// Clock.Until(now, event) is 0; workflow.NewTimer(0) is ready at once, so run() loops without
// yielding (deadlock detector, TMPRL1101). On a real server the timer fires a few ms late, which
// hides it; the test environment's exact clock does not.
func TestDistrictHoldsEventsAtThePlanScale(t *testing.T) {
	start, end := local(2021, 1, 1, 0, 0), local(2021, 3, 1, 0, 0)
	launch := local(2024, 6, 3, 10, 30)
	clock := plan.NewClock(start, 262800, launch)
	e := ev("001-door-a", plan.KindDoorToDoor, "001", "00001", eventAt(2021, 1, 4), "student")
	env, r := newDistrictEnv(t, "001", launch)
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: 2 * time.Second}) // fail fast
	env.ExecuteWorkflow(workflows.DistrictDriveWorkflow, campaign.DistrictInput{
		CampaignID: testCampaignID, District: testDistricts[0], Clock: clock, PeriodEnd: end,
		Policy: yearSpec(1).Policy, Events: []plan.Event{e},
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("district drive failed: %v", err)
	}
	holds := r.holdsOf("001")[e.ID]
	if len(holds) != 1 || holds[0].AsOf.Before(e.At) {
		t.Errorf("event held %v, want once, at or after %s", holds, e.At)
	}
}

// Two add-event Updates run at once; the first one's AddEvent activity fails after the
// second's succeeded. The failing handler truncates Spec.Events back to the length it saw
// (campaign.go: c.st.Spec.Events = c.st.Spec.Events[:known]) and so also drops the second
// Update's event, which its district holds anyway: progress counts 14 events yet 1 added, and
// the added event can no longer be cancelled ("unknown event").
func TestFailedAddEventKeepsAConcurrentOne(t *testing.T) {
	env, r := newCampaignEnv(t, yearSpec(1), launchBefore)
	// The failing activity returns only once the test env has handed the workflow the other
	// one's completion (the listener runs on the env's dispatcher, after the completion is
	// delivered): its failure is then the later of the two, always. (It once slept 100 ms
	// after the other activity's function was entered, and hoped.) Shown failing with the
	// wait in place by restoring the truncation to the length the handler saw: 14 events,
	// and 002-ok "unknown" to the cancel, three runs of three.
	okTaken := make(chan struct{})
	var once sync.Once
	env.SetOnActivityCompletedListener(func(info *activity.Info, _ converter.EncodedValue, err error) {
		if info.ActivityType.Name == "AddEvent" && err == nil {
			once.Do(func() { close(okTaken) })
		}
	})
	r.addEvent = func(in activities.AddEventInput) error {
		switch in.Events[0].ID {
		case "001-fail":
			select {
			case <-okTaken:
			case <-time.After(time.Minute):
				return errors.New("setup: 002-ok's AddEvent never completed")
			}
			return temporal.NewNonRetryableApplicationError("refused", activities.ErrInvalidState, nil)
		default:
			return nil
		}
	}
	add := func(id, unit string, day int) campaign.AddEventRequest {
		return campaign.AddEventRequest{By: "coordinator", Event: plan.EventSpec{
			ID: id, Kind: plan.KindDialogue, Unit: unit, Date: plan.Date{Y: 2021, M: 6, D: day}, Groups: []string{"student"},
		}}
	}
	var fail, ok, cancel *outcome
	var p campaign.Progress
	at(t, env, launchBefore, local(2021, 2, 1, 12, 0), func() {
		fail = update(env, campaign.UpdateAddEvent, add("001-fail", "001", 7))
		ok = update(env, campaign.UpdateAddEvent, add("002-ok", "002", 8))
	})
	at(t, env, launchBefore, local(2021, 2, 2, 12, 0), func() {
		p = queryProgress(t, env)
		cancel = update(env, campaign.UpdateCancelEvent, campaign.CancelEventRequest{EventID: "002-ok", Reason: "x", By: "coordinator"})
	})
	runYear(t, env, campaign.StatusClosed)
	if fail.err == nil {
		t.Fatalf("setup: the first add-event should have failed: %s", fail)
	}
	requireDone(t, ok, nil)
	if p.Events != 15 || p.EventsAdded != 1 {
		t.Errorf("progress: %d events, %d added; want 15, 1 (002-ok was added)", p.Events, p.EventsAdded)
	}
	requireDone(t, cancel, nil)
}

// A cancel Update whose SetStatus activity fails still leaves the campaign "closing" with
// Cancelled set (campaign.go sets c.st.Status in steer() and c.st.Cancelled in the handler
// before the activity runs, and never restores them): the districts were never told, every
// later steer is refused ("campaign is closing"), and at the period's end the campaign closes
// as "cancelled" although the cancel failed. Pause/resume have the same flaw.
func TestFailedCancelLeavesCampaignRunning(t *testing.T) {
	env, r := newCampaignEnv(t, yearSpec(1), launchBefore)
	r.setStatus = func(in activities.StatusInput) error {
		if in.Status == campaign.StatusClosing {
			return temporal.NewNonRetryableApplicationError("database unavailable", "Unavailable", nil)
		}
		return nil
	}
	var cancel, pause *outcome
	var p campaign.Progress
	at(t, env, launchBefore, local(2021, 7, 1, 12, 0), func() {
		cancel = update(env, campaign.UpdateCancel, campaign.SteerRequest{Reason: "ngân sách", By: "director"})
	})
	at(t, env, launchBefore, local(2021, 7, 2, 12, 0), func() {
		p = queryProgress(t, env)
		pause = update(env, campaign.UpdatePause, campaign.SteerRequest{Reason: "x", By: "coordinator"})
	})
	at(t, env, launchBefore, local(2021, 7, 3, 12, 0), func() {
		update(env, campaign.UpdateResume, campaign.SteerRequest{Reason: "x", By: "coordinator"})
	})
	env.ExecuteWorkflow(workflows.CampaignWorkflow, campaign.CampaignInput{CampaignID: testCampaignID, PlanHash: "sha256:test"})
	if cancel == nil || cancel.err == nil {
		t.Fatalf("setup: the cancel should have failed: %s", cancel)
	}
	if p.Status != campaign.StatusRunning {
		t.Errorf("status after a failed cancel: %q, want running", p.Status)
	}
	if pause.rejected != nil {
		t.Errorf("pause after a failed cancel rejected: %v", pause.rejected)
	}
	var res campaign.CloseResult
	if err := env.GetWorkflowResult(&res); err != nil || res.Status != campaign.StatusClosed {
		t.Errorf("campaign ended %+v (%v), want closed: it was never cancelled", res, err)
	}
}

// After a city-wide round is cancelled, its district shares pass the validators: cancel-event
// "post-2.001" is accepted (should be "cancelled already") and record-event-result for
// "post-2.002" after its date is accepted (should be "was cancelled"); both checks look only
// at CancelledEvents[r.EventID], never at the share's Parent. The database then refuses, so the
// coordinator gets an activity failure instead of a clear rejection.
func TestCancelledCityWideShareIsRefused(t *testing.T) {
	env, _ := newCampaignEnv(t, yearSpec(1), launchBefore)
	var cancelRound, cancelShare, result *outcome
	at(t, env, launchBefore, local(2021, 3, 1, 12, 0), func() {
		cancelRound = update(env, campaign.UpdateCancelEvent, campaign.CancelEventRequest{EventID: "post-2", Reason: "x", By: "coordinator"})
	})
	at(t, env, launchBefore, local(2021, 3, 2, 12, 0), func() {
		cancelShare = update(env, campaign.UpdateCancelEvent, campaign.CancelEventRequest{EventID: "post-2.001", Reason: "x", By: "coordinator"})
	})
	at(t, env, launchBefore, local(2021, 9, 16, 12, 0), func() {
		result = update(env, campaign.UpdateRecordEventResult, campaign.EventResultRequest{EventID: "post-2.002", Attendance: 10, BatchID: batchA, By: "coordinator"})
	})
	runYear(t, env, campaign.StatusClosed)
	requireDone(t, cancelRound, nil)
	requireRejected(t, cancelShare, `event_id: event "post-2.001" is cancelled already`)
	requireRejected(t, result, `event_id: event "post-2.002" was cancelled`)
}
