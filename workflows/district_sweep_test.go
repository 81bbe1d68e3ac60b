package workflows_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"drives/activities"
	"drives/campaign"
	"drives/plan"
	"drives/workflows"
)

// TestCampaignSweepsOnTheGrid: the campaign sweeps every district's follow-ups at once. New
// leads bring the next sweep to their first due time rounded up to the sweep grid (period start
// + k × SweepEvery); each sweep sets the next from what it says falls due next (rounded up
// likewise; a due time on the grid is kept as it is); with nothing open no sweep comes, and none
// falls at or after the period's end (the districts sweep as they close). A pause holds the
// sweeps; the resume brings the one that came due meanwhile, as of then. Leads reported late
// (their first reminder already past) are swept at the next grid point, not back in time. On the calendar and compressed
// 1440×, since every sweep goes through plan.Clock.
func TestCampaignSweepsOnTheGrid(t *testing.T) {
	// The grid is Jan 1, 8, 15, …, Feb 26, Mar 5, 12, …, Dec 31, Jan 7 2022.
	nextDue := map[int64]time.Time{
		local(2021, 2, 26, 0, 0).UnixNano(): local(2021, 3, 3, 9, 0),    // -> Mar 5
		local(2021, 3, 5, 0, 0).UnixNano():  local(2021, 3, 12, 0, 0),   // on the grid: Mar 12
		local(2021, 3, 12, 0, 0).UnixNano(): local(2021, 3, 20, 0, 0),   // -> Mar 26, but paused Mar 22 – Apr 1
		local(2021, 4, 1, 12, 0).UnixNano(): local(2021, 12, 31, 12, 0), // -> Jan 7 2022: after the end, none
	}
	for _, scale := range []float64{1, 1440} {
		t.Run(fmt.Sprintf("scale %g", scale), func(t *testing.T) {
			spec := yearSpec(scale)
			env, r := newCampaignEnv(t, spec, launchBefore)
			r.eventResult = func(in activities.EventResultInput) (campaign.LeadsResult, error) {
				if in.Request.EventID == "001-conference" { // reported late: its first reminder was Mar 29
					return campaign.LeadsResult{EventID: in.Request.EventID, District: "001", FollowUps: 2,
						EarliestDue: eventAt(2021, 3, 22).Add(7 * 24 * time.Hour)}, nil
				}
				// The first reminder, Feb 22 09:00, rounds up to Feb 26.
				return campaign.LeadsResult{EventID: in.Request.EventID, District: "002", FollowUps: 3,
					EarliestDue: eventAt(2021, 2, 15).Add(7 * 24 * time.Hour)}, nil
			}
			r.campaignSweep = func(in activities.SweepInput) campaign.SweepResult {
				return campaign.SweepResult{Reminded: 1, NextDue: nextDue[in.AsOf.UnixNano()]}
			}
			clock := plan.NewClock(spec.PeriodStart, scale, launchBefore)
			steer := campaign.SteerRequest{Reason: "Tết", By: "coordinator"}
			var result, late, pause, resume *outcome
			at(t, env, launchBefore, clock.RealTime(local(2021, 2, 16, 12, 0)), func() {
				result = update(env, campaign.UpdateRecordEventResult, campaign.EventResultRequest{EventID: "002-conference", Attendance: 10, BatchID: batchA, By: "coordinator"})
			})
			at(t, env, launchBefore, clock.RealTime(local(2021, 3, 22, 12, 0)), func() { pause = update(env, campaign.UpdatePause, steer) })
			at(t, env, launchBefore, clock.RealTime(local(2021, 4, 1, 12, 0)), func() { resume = update(env, campaign.UpdateResume, steer) })
			at(t, env, launchBefore, clock.RealTime(local(2021, 4, 10, 12, 0)), func() {
				late = update(env, campaign.UpdateRecordEventResult, campaign.EventResultRequest{EventID: "001-conference", Attendance: 10, BatchID: batchB, By: "coordinator"})
			})
			runYear(t, env, campaign.StatusClosed)
			for _, o := range []*outcome{result, late, pause, resume} {
				requireDone(t, o, nil)
			}

			// The paused sweep of Mar 26 runs on the resume, as of then; the late leads are swept
			// at the grid point after their report (Apr 16).
			want := []time.Time{local(2021, 2, 26, 0, 0), local(2021, 3, 5, 0, 0), local(2021, 3, 12, 0, 0), local(2021, 4, 1, 12, 0), local(2021, 4, 16, 0, 0)}
			var wantReal []time.Time
			for _, w := range want {
				wantReal = append(wantReal, clock.RealTime(w))
			}
			if len(r.sweeps) != len(want) {
				t.Fatalf("sweeps %+v, want as of %v", r.sweeps, want)
			}
			for i, c := range r.sweeps {
				if !c.AsOf.Equal(want[i]) || !c.Real.Equal(wantReal[i]) {
					t.Errorf("sweep %d as of %s at real %s, want as of %s at %s", i, c.AsOf, c.Real, want[i], wantReal[i])
				}
			}
		})
	}
}

// TestDistrictWakesOnlyForItsEvents runs one DistrictDriveWorkflow on its own: it wakes on its
// events' dates and at the period's end, and nowhere else, whatever its sweeps say falls due
// next (the campaign sweeps follow-ups).
func TestDistrictWakesOnlyForItsEvents(t *testing.T) {
	start := local(2021, 1, 1, 0, 0)
	end := local(2021, 3, 1, 0, 0)
	e1 := ev("001-door-a", plan.KindDoorToDoor, "001", "00001", eventAt(2021, 1, 4), "student")
	e2 := ev("001-door-b", plan.KindDoorToDoor, "001", "00004", eventAt(2021, 1, 20), "student")
	for _, clock := range []plan.Clock{plan.NewClock(start, 1, start), plan.NewClock(start, 1440, local(2024, 6, 3, 10, 30))} {
		t.Run(fmt.Sprintf("scale %g", clock.Scale), func(t *testing.T) {
			env, r := newDistrictEnv(t, "001", clock.Epoch)
			r.sweep = func(in activities.AdvanceInput) campaign.SweepResult {
				return campaign.SweepResult{Reminded: 1, NextDue: in.AsOf.Add(24 * time.Hour)}
			}
			env.ExecuteWorkflow(workflows.DistrictDriveWorkflow, campaign.DistrictInput{
				CampaignID: testCampaignID, District: testDistricts[0], Clock: clock, PeriodEnd: end,
				Policy: yearSpec(1).Policy, Events: []plan.Event{e2, e1}, // unsorted on purpose
			})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatalf("district drive failed: %v", err)
			}
			var res campaign.DistrictClosed
			if err := env.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			if res != (campaign.DistrictClosed{District: "001", Held: 2}) {
				t.Errorf("result %+v", res)
			}
			want := []expectedWake{{eventAt(2021, 1, 4), []string{e1.ID}}, {eventAt(2021, 1, 20), []string{e2.ID}}, {end, nil}}
			got := r.advancesOf("001")
			if len(got) != len(want) {
				t.Fatalf("AdvanceDistrict calls %v, want %v", got, want)
			}
			for i, c := range got {
				if !c.AsOf.Equal(want[i].AsOf) || !slices.Equal(c.Hold, want[i].Hold) || !c.Real.Equal(clock.RealTime(want[i].AsOf)) {
					t.Errorf("wake %d: %v, want as of %s holding %v", i, c, want[i].AsOf.Format(time.DateTime), want[i].Hold)
				}
			}
		})
	}
}

// Steers that do not bring the next wake forward leave the district's timer as it is (every
// timer started is a Temporal action); one that brings it forward replaces it.
func TestDistrictKeepsItsTimerThroughLaterSteers(t *testing.T) {
	start := local(2021, 1, 1, 0, 0)
	end := local(2021, 3, 1, 0, 0)
	clock := plan.NewClock(start, 1, start)
	e1 := ev("001-door-a", plan.KindDoorToDoor, "001", "00001", eventAt(2021, 2, 10), "student")
	env, r := newDistrictEnv(t, "001", clock.Epoch)
	timers := 0
	env.SetOnTimerScheduledListener(func(string, time.Duration) { timers++ })
	// Two events added after the first one: its timer stays. One before it: a timer for that
	// one, then the first's again, then the end's.
	added := []plan.Event{
		ev("001-late-1", plan.KindDialogue, "001", "00001", eventAt(2021, 2, 20), "student"),
		ev("001-late-2", plan.KindDialogue, "001", "00001", eventAt(2021, 2, 25), "student"),
		ev("001-early", plan.KindDialogue, "001", "00001", eventAt(2021, 1, 27), "student"),
	}
	for i, e := range added {
		at(t, env, clock.Epoch, local(2021, 1, 5+i, 12, 0), func() {
			env.SignalWorkflow(campaign.SignalDistrictSteer, campaign.DistrictSteer{AddEvent: &e})
		})
	}
	env.ExecuteWorkflow(workflows.DistrictDriveWorkflow, campaign.DistrictInput{
		CampaignID: testCampaignID, District: testDistricts[0], Clock: clock, PeriodEnd: end,
		Policy: yearSpec(1).Policy, Events: []plan.Event{e1},
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("district drive failed: %v", err)
	}
	var wakes []string
	for _, c := range r.advancesOf("001") {
		wakes = append(wakes, c.AsOf.Format(time.DateTime))
	}
	want := []string{eventAt(2021, 1, 27).Format(time.DateTime), eventAt(2021, 2, 10).Format(time.DateTime),
		eventAt(2021, 2, 20).Format(time.DateTime), eventAt(2021, 2, 25).Format(time.DateTime), "2021-03-01 00:00:00"}
	if !slices.Equal(wakes, want) {
		t.Errorf("wakes %v, want %v", wakes, want)
	}
	// The first event's timer, the early one's, then one per wake after it: Feb 10, 20, 25, end.
	if timers != 6 {
		t.Errorf("%d timers started, want 6", timers)
	}
}
