package workflows_test

import (
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"drives/campaign"
	"drives/plan"
	"drives/workflows"
)

// expectedWake is one wake of a district that has events and no follow-ups: the events due at
// one instant, held together.
type expectedWake struct {
	AsOf time.Time
	Hold []string
}

// plannedWakes is what a district with no follow-ups must do over the period: one
// AdvanceDistrict per distinct event instant holding exactly the events due then (by ID), and a
// last one at the period's end holding nothing.
func plannedWakes(spec plan.Spec, district string) []expectedWake {
	var out []expectedWake
	for _, e := range eventsOf(spec, district) {
		if n := len(out); n > 0 && out[n-1].AsOf.Equal(e.At) {
			out[n-1].Hold = append(out[n-1].Hold, e.ID)
			continue
		}
		out = append(out, expectedWake{AsOf: e.At, Hold: []string{e.ID}})
	}
	return append(out, expectedWake{AsOf: spec.PeriodEnd})
}

// TestCampaignRunsAFullYear runs CampaignWorkflow over a whole year with three real district
// drives, on the calendar (Scale 1) and compressed (a campaign day per real minute): every
// planned event is held exactly once, by its own district, at its campaign time (the real
// instant plan.Clock maps it to), before the period ends; the campaign closes as closed
// once every district has reported, and returns CloseCampaign's result.
func TestCampaignRunsAFullYear(t *testing.T) {
	for _, tc := range []struct {
		name   string
		scale  float64
		launch time.Time
		// clock is the campaign clock the workflow must start.
		clock plan.Clock
	}{
		{"calendar", 1, launchBefore, plan.Clock{Epoch: periodStart, Start: periodStart, Scale: 1}},
		{"day-per-minute", 1440, local(2024, 6, 3, 10, 30), plan.Clock{Epoch: local(2024, 6, 3, 10, 30), Start: periodStart, Scale: 1440}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := yearSpec(tc.scale)
			env, r := newCampaignEnv(t, spec, tc.launch)
			var closedChildren []string
			env.SetOnChildWorkflowCompletedListener(func(info *workflow.Info, _ converter.EncodedValue, err error) {
				if err != nil {
					t.Errorf("district drive %s failed: %v", info.WorkflowExecution.ID, err)
				}
				closedChildren = append(closedChildren, info.WorkflowExecution.ID)
			})
			var mid campaign.Progress
			midway := tc.clock.RealTime(local(2021, 7, 1, 12, 0))
			at(t, env, tc.launch, midway, func() { mid = queryProgress(t, env) })

			env.ExecuteWorkflow(workflows.CampaignWorkflow, campaign.CampaignInput{CampaignID: testCampaignID, PlanHash: "sha256:test"})

			if !env.IsWorkflowCompleted() {
				t.Fatal("campaign did not complete")
			}
			if err := env.GetWorkflowError(); err != nil {
				t.Fatalf("campaign failed: %v", err)
			}
			var res campaign.CloseResult
			if err := env.GetWorkflowResult(&res); err != nil {
				t.Fatal(err)
			}
			want := campaign.CloseResult{CampaignID: testCampaignID, Status: campaign.StatusClosed, Target: 7000, Enrolled: 4242, PriorYear: 48674}
			if res != want {
				t.Errorf("result %+v, want CloseCampaign's %+v", res, want)
			}

			// Preparation: the plan, then quotas with the campaign's clock, then agents, once each.
			if got := names(r.calls[:3]); !slices.Equal(got, []string{"LoadPlan", "AllocateQuotas", "AssignAgents"}) {
				t.Errorf("first activities %v", got)
			}
			if len(r.allocate) != 1 {
				t.Fatalf("AllocateQuotas ran %d times", len(r.allocate))
			}
			clock := r.allocate[0].Clock
			if !clock.Epoch.Equal(tc.clock.Epoch) || !clock.Start.Equal(tc.clock.Start) || clock.Scale != tc.clock.Scale {
				t.Errorf("campaign clock %+v, want %+v", clock, tc.clock)
			}

			// Every district: exactly its planned wakes, in order, at the real instants the clock gives.
			for _, d := range spec.Districts {
				got := r.advancesOf(d.Code)
				want := plannedWakes(spec, d.Code)
				if len(got) != len(want) {
					t.Errorf("district %s: %d AdvanceDistrict calls %v, want %d %v", d.Code, len(got), got, len(want), want)
					continue
				}
				for i, c := range got {
					if !c.AsOf.Equal(want[i].AsOf) || !slices.Equal(c.Hold, want[i].Hold) {
						t.Errorf("district %s call %d: %v, want as of %s holding %v", d.Code, i, c, want[i].AsOf, want[i].Hold)
					}
					if wantReal := tc.clock.RealTime(want[i].AsOf); !c.Real.Equal(wantReal) {
						t.Errorf("district %s call %d ran at real %s, want %s (campaign %s)", d.Code, i, c.Real, wantReal, want[i].AsOf)
					}
					if c.Policy.SweepEvery != spec.Policy.SweepEvery || c.Policy.Deadline != spec.Policy.Deadline {
						t.Errorf("district %s call %d: policy %+v, want the plan's", d.Code, i, c.Policy)
					}
				}
			}
			// Every planned event held exactly once, by its district, at or after its time and
			// before the period's end.
			for _, e := range spec.Events {
				holds := r.holdsOf(e.District)[e.ID]
				if len(holds) != 1 {
					t.Errorf("event %s held %d times: %v", e.ID, len(holds), holds)
					continue
				}
				if h := holds[0]; h.AsOf.Before(e.At) || !h.AsOf.Before(spec.PeriodEnd) {
					t.Errorf("event %s (due %s) held as of %s", e.ID, e.At, h.AsOf)
				}
			}

			// Closing: once, as closed, as of the period's end, after every district finished.
			if last := r.calls[len(r.calls)-1]; last.Name != "CloseCampaign" {
				t.Errorf("last activity %s, want CloseCampaign after every district's last wake", last.Name)
			}
			if len(r.closes) != 1 {
				t.Fatalf("CloseCampaign ran %d times", len(r.closes))
			}
			if c := r.closes[0]; c.Status != campaign.StatusClosed || !c.AsOf.Equal(spec.PeriodEnd) || c.CampaignID != testCampaignID {
				t.Errorf("CloseCampaign %+v, want closed as of %s", c, spec.PeriodEnd)
			}
			if end := tc.clock.RealTime(spec.PeriodEnd); !r.closedAt[0].Equal(end) {
				t.Errorf("closed at real %s, want the period's end %s", r.closedAt[0], end)
			}
			slices.Sort(closedChildren)
			wantChildren := []string{
				campaign.DistrictWorkflowID(testCampaignID, "001"),
				campaign.DistrictWorkflowID(testCampaignID, "002"),
				campaign.DistrictWorkflowID(testCampaignID, "016"),
			}
			if !slices.Equal(closedChildren, wantChildren) {
				t.Errorf("district drives finished: %v, want %v", closedChildren, wantChildren)
			}

			// Progress midway and at the end.
			if mid.Status != campaign.StatusRunning || mid.Target != 7000 || mid.Events != 14 || mid.DistrictsClosed != 0 ||
				!mid.CampaignTime.Equal(local(2021, 7, 1, 12, 0)) || len(mid.Districts) != 3 {
				t.Errorf("midway progress %+v", mid)
			}
			end := queryProgress(t, env)
			if end.Status != campaign.StatusClosed || end.DistrictsClosed != 3 {
				t.Errorf("final progress: status %q, %d districts closed", end.Status, end.DistrictsClosed)
			}
			// A closed campaign's date is its period's end, not the real clock read through it.
			if !end.CampaignTime.Equal(spec.PeriodEnd) {
				t.Errorf("final progress: campaign time %s, want the period's end %s", end.CampaignTime, spec.PeriodEnd)
			}
			for i, d := range end.Districts {
				if d.Code != spec.Districts[i].Code || d.Name != spec.Districts[i].Name || d.Target != spec.Districts[i].Target || !d.Closed {
					t.Errorf("final progress district %d: %+v", i, d)
				}
			}
		})
	}
}

func names(cs []activityCall) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}
