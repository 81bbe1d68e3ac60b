package workflows_test

import (
	"fmt"
	"testing"
	"time"

	"drives/activities"
	"drives/campaign"
	"drives/plan"
)

// TestRegisterDueDaysBringSweeps: the register's due days reach the campaign's sweeps. A
// register taken over at launch (AssignAgents' RenewalsDue), a payments import (its result's
// NextDue) and each sweep (its NextDue) bring the next sweep to that day rounded up to the
// sweep grid; every sweep, merge and the close carry the plan's renewal rules. On the calendar
// and compressed 1440×. Shown failing with the import's NextDue ignored (no sweep on Feb 19).
func TestRegisterDueDaysBringSweeps(t *testing.T) {
	// The grid is Jan 1, 8, 15, 22, 29, Feb 5, 12, 19, 26, Mar 5, …
	nextDue := map[int64]time.Time{
		local(2021, 1, 22, 0, 0).UnixNano(): local(2021, 3, 3, 0, 0), // a grace ends -> Mar 5
		local(2021, 2, 19, 0, 0).UnixNano(): local(2021, 3, 3, 0, 0), // still -> Mar 5
	}
	for _, scale := range []float64{1, 1440} {
		t.Run(fmt.Sprintf("scale %g", scale), func(t *testing.T) {
			spec := yearSpec(scale)
			spec.Policy.RenewalLead, spec.Policy.Grace = 15*24*time.Hour, 60*24*time.Hour
			env, r := newCampaignEnv(t, spec, launchBefore)
			r.assigned = func() activities.AssignResult {
				// Someone carried over from last year falls due for a renewal on Jan 20.
				return activities.AssignResult{Agents: 20, Staff: 8, RenewalsDue: local(2021, 1, 20, 0, 0)}
			}
			r.merge = func(in activities.MergeInput) (campaign.ImportResult, error) {
				// The payments' people fall due again from Feb 14, 09:00.
				return campaign.ImportResult{BatchID: in.BatchID, Rows: 2, New: 2, Renewed: 2, NextDue: local(2021, 2, 14, 9, 0)}, nil
			}
			r.campaignSweep = func(in activities.SweepInput) campaign.SweepResult {
				return campaign.SweepResult{RenewalsOpened: 1, NextDue: nextDue[in.AsOf.UnixNano()]}
			}
			clock := plan.NewClock(spec.PeriodStart, scale, launchBefore)
			var imported *outcome
			at(t, env, launchBefore, clock.RealTime(local(2021, 2, 10, 12, 0)), func() {
				imported = update(env, campaign.UpdateRecordImport, campaign.ImportRequest{BatchID: batchA, By: "coordinator"})
			})
			runYear(t, env, campaign.StatusClosed)
			requireDone(t, imported, nil)

			want := []time.Time{local(2021, 1, 22, 0, 0), local(2021, 2, 19, 0, 0), local(2021, 3, 5, 0, 0)}
			if len(r.sweeps) != len(want) {
				t.Fatalf("sweeps %+v, want as of %v", r.sweeps, want)
			}
			for i, c := range r.sweeps {
				if !c.AsOf.Equal(want[i]) || !c.Real.Equal(clock.RealTime(want[i])) {
					t.Errorf("sweep %d as of %s at real %s, want as of %s", i, c.AsOf, c.Real, want[i])
				}
				if c.Policy.Grace != spec.Policy.Grace || c.Policy.RenewalLead != spec.Policy.RenewalLead {
					t.Errorf("sweep %d without the renewal rules: %+v", i, c.Policy)
				}
			}
			if len(r.merges) != 1 || r.merges[0].Policy.Grace != spec.Policy.Grace {
				t.Errorf("merges %+v, want one with the renewal rules", r.merges)
			}
			if len(r.closes) != 1 || r.closes[0].Policy.Grace != spec.Policy.Grace {
				t.Errorf("closes %+v, want one with the renewal rules", r.closes)
			}
		})
	}
}
