package workflows_test

import (
	"slices"
	"testing"
	"time"

	"drives/activities"
	"drives/campaign"
	"drives/workflows"
)

// TestDistrictSweepsOnTheGrid runs one DistrictDriveWorkflow on its own. When AdvanceDistrict
// says the next follow-up falls due at NextDue, the district wakes next at NextDue rounded up to
// the sweep grid (period start + k × SweepEvery), not before; a due time on the grid is kept as
// it is; events still wake it on their own dates meanwhile; new leads (a LeadsDue steer) wake it
// at their grid point; and with nothing open it sleeps until its next event or the period's end.
// On the calendar and compressed 1440×, since every wake goes through campaign.Clock.
func TestDistrictSweepsOnTheGrid(t *testing.T) {
	start := local(2021, 1, 1, 0, 0) // a Friday; the grid is Jan 1, 8, 15, 22, 29, Feb 5, ...
	end := local(2021, 3, 1, 0, 0)
	e1 := ev("001-door-a", campaign.KindDoorToDoor, "001", "00001", eventAt(2021, 1, 4), "student")
	e2 := ev("001-door-b", campaign.KindDoorToDoor, "001", "00004", eventAt(2021, 1, 20), "student")

	// nextDue is what the sweep at each campaign instant reports; the wakes that follow from it
	// are in want below.
	nextDue := map[int64]time.Time{
		eventAt(2021, 1, 4).UnixNano():      local(2021, 1, 11, 9, 0),                  // -> grid Jan 15 00:00
		local(2021, 1, 15, 0, 0).UnixNano(): local(2021, 1, 27, 0, 0),                  // -> grid Jan 29 00:00
		eventAt(2021, 1, 20).UnixNano():     local(2021, 1, 22, 0, 0),                  // on the grid: Jan 22 00:00
		local(2021, 1, 22, 0, 0).UnixNano(): local(2021, 1, 22, 0, 0).Add(time.Second), // -> Jan 29 00:00
		// Jan 29: nothing open any more (zero)
	}
	want := []expectedWake{
		{eventAt(2021, 1, 4), []string{e1.ID}},
		{local(2021, 1, 15, 0, 0), nil},
		{eventAt(2021, 1, 20), []string{e2.ID}},
		{local(2021, 1, 22, 0, 0), nil},
		{local(2021, 1, 29, 0, 0), nil},
		{local(2021, 2, 5, 0, 0), nil}, // leads due Feb 3 10:00, steered in on Feb 1
		{end, nil},
	}

	for _, tc := range []struct {
		name  string
		clock campaign.Clock
	}{
		{"calendar", campaign.NewClock(start, 1, start)},
		{"day-per-minute", campaign.NewClock(start, 1440, local(2024, 6, 3, 10, 30))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, r := newDistrictEnv(t, "001", tc.clock.Epoch)
			r.sweep = func(in activities.AdvanceInput) campaign.SweepResult {
				return campaign.SweepResult{Reminded: 1, NextDue: nextDue[in.AsOf.UnixNano()]}
			}
			at(t, env, tc.clock.Epoch, tc.clock.RealTime(local(2021, 2, 1, 12, 0)), func() {
				env.SignalWorkflow(campaign.SignalDistrictSteer, campaign.DistrictSteer{LeadsDue: local(2021, 2, 3, 10, 0)})
			})
			policy := yearSpec(1).Policy
			env.ExecuteWorkflow(workflows.DistrictDriveWorkflow, campaign.DistrictInput{
				CampaignID: testCampaignID, District: testDistricts[0], Clock: tc.clock, PeriodEnd: end,
				Policy: policy, Events: []campaign.Event{e2, e1}, // unsorted on purpose
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
			if len(r.closedSignals) != 1 || r.closedSignals[0] != res {
				t.Errorf("district-closed signals to the campaign: %+v, want one %+v", r.closedSignals, res)
			}

			got := r.advancesOf("001")
			if len(got) != len(want) {
				t.Fatalf("AdvanceDistrict calls %v, want %v", got, want)
			}
			for i, c := range got {
				if !c.AsOf.Equal(want[i].AsOf) || !slices.Equal(c.Hold, want[i].Hold) {
					t.Errorf("wake %d: %v, want as of %s holding %v", i, c, want[i].AsOf.Format(time.DateTime), want[i].Hold)
				}
				if wantReal := tc.clock.RealTime(want[i].AsOf); !c.Real.Equal(wantReal) {
					t.Errorf("wake %d ran at real %s, want %s", i, c.Real, wantReal)
				}
			}
		})
	}
}

// Steers that do not bring the next wake forward leave the district's timer as it is (every
// timer started is a Temporal action, and a steer comes with every event result); one that
// brings it forward replaces it.
func TestDistrictKeepsItsTimerThroughLaterSteers(t *testing.T) {
	start := local(2021, 1, 1, 0, 0)
	end := local(2021, 3, 1, 0, 0)
	clock := campaign.NewClock(start, 1, start)
	e1 := ev("001-door-a", campaign.KindDoorToDoor, "001", "00001", eventAt(2021, 2, 10), "student")
	env, r := newDistrictEnv(t, "001", clock.Epoch)
	r.sweep = func(activities.AdvanceInput) campaign.SweepResult { return campaign.SweepResult{} }
	timers := 0
	env.SetOnTimerScheduledListener(func(string, time.Duration) { timers++ })
	// Three steers with leads due after the event: the event's timer stays. One with leads due
	// before it: a timer for the sweep (Jan 29 on the grid), then the event's again, then the end.
	for i, due := range []time.Time{local(2021, 2, 20, 0, 0), local(2021, 2, 25, 0, 0), local(2021, 2, 12, 0, 0), local(2021, 1, 27, 0, 0)} {
		at(t, env, clock.Epoch, local(2021, 1, 5+i, 12, 0), func() {
			env.SignalWorkflow(campaign.SignalDistrictSteer, campaign.DistrictSteer{LeadsDue: due})
		})
	}
	env.ExecuteWorkflow(workflows.DistrictDriveWorkflow, campaign.DistrictInput{
		CampaignID: testCampaignID, District: testDistricts[0], Clock: clock, PeriodEnd: end,
		Policy: yearSpec(1).Policy, Events: []campaign.Event{e1},
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("district drive failed: %v", err)
	}
	var wakes []string
	for _, c := range r.advancesOf("001") {
		wakes = append(wakes, c.AsOf.Format(time.DateTime))
	}
	want := []string{"2021-01-29 00:00:00", eventAt(2021, 2, 10).Format(time.DateTime), "2021-03-01 00:00:00"}
	if !slices.Equal(wakes, want) {
		t.Errorf("wakes %v, want %v", wakes, want)
	}
	// The event's timer, the sweep's, the event's again and the end's.
	if timers != 4 {
		t.Errorf("%d timers started, want 4", timers)
	}
}
