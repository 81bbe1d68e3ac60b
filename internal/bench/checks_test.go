package bench

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"drives/activities"
	"drives/allocate"
	"drives/campaign"
	"drives/coordinator"
	"drives/internal/benchdata"
	"drives/plan"
	"drives/store"
)

// The benchmark's check of (e), sums exact at every level, on the Hà Nội plan: it passes on
// the allocation and fails on one planted fault at each level (the faults planted below are
// how it was shown failing).
func TestAllocationCheckCatchesAWrongSum(t *testing.T) {
	lp, err := plan.Load("../../plans/hanoi-2021/plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	target := lp.CityTarget()
	good := func() allocate.Allocation { return allocate.Quotas(lp.Units, lp.Roster, target, nil) }
	if err := checkAllocation(lp, good(), target); err != nil {
		t.Fatalf("the allocation itself: %v", err)
	}
	first := func(m map[string]int) string { return slices.Sorted(maps.Keys(m))[0] }
	for _, c := range []struct {
		name, want string
		plant      func(*allocate.Allocation)
	}{
		{"a village one over", "parts sum to", func(a *allocate.Allocation) { a.Villages[first(a.Villages)]++ }},
		{"an agent one under", "parts sum to", func(a *allocate.Allocation) { a.Agents[first(a.Agents)]-- }},
		{"a district one over", "parts sum to", func(a *allocate.Allocation) { a.Districts[first(a.Districts)]++ }},
		{"the city one under", "target", func(a *allocate.Allocation) { a.City-- }},
		{"a commune missing", "has no quota", func(a *allocate.Allocation) { delete(a.Communes, first(a.Communes)) }},
	} {
		a := good()
		c.plant(&a)
		err := checkAllocation(lp, a, target)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: check says %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

// The benchmark's review checks of (f) (benchdata.CheckReview: one decision per active agent
// and staff member, a summary that adds up and matches the stored decisions, no staff
// rewarded or proposed, figures that account for every row loaded, the commended units, a mix
// of decisions) on the Hà Nội plan with a small quarter of field data, on servers of its own,
// as (f) prepares and runs them at national scale. Shown failing by planting one enrolment
// too many on one stored decision after the evaluation ("decisions count 20001 enrolments,
// 20000 were loaded in the window").
func TestReviewChecksAtSmallScale(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and a Temporal dev server of its own")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := StartForTest(t, ctx)
	lp, err := PlanVariant("../../plans/hanoi-2021/plan.yaml", e.ID("review-check"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := coordinator.StorePlan(ctx, e.DB, lp); err != nil {
		t.Fatal(err)
	}
	in := activities.PlanInput{CampaignID: lp.Plan.ID, PlanHash: lp.Hash}
	spec, _, err := runActivity[plan.Spec](ctx, e, e.ID("review-check"), "LoadPlan", in, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	clock := plan.NewClock(spec.PeriodStart, spec.Scale, time.Now())
	if _, _, err := runActivity[activities.AllocateResult](ctx, e, e.ID("review-check"), "AllocateQuotas",
		activities.AllocateInput{PlanInput: in, Clock: clock}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runActivity[activities.AssignResult](ctx, e, e.ID("review-check"), "AssignAgents", in, time.Minute); err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation(lp.Plan.Timezone)
	if err != nil {
		t.Fatal(err)
	}
	periods, err := plan.ReviewPeriods(plan.DefaultReviewCron, loc, spec.PeriodStart, spec.PeriodEnd)
	if err != nil || len(periods) != 4 {
		t.Fatalf("review periods %v: %v", periods, err)
	}
	q1 := periods[0]
	world, err := benchdata.NewWorld(lp, spec, q1, nationalSeed)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := world.Load(ctx, e.DB, benchdata.Sizes{Enrolments: 20_000, FollowUps: 8_000}, nationalSeed)
	if err != nil {
		t.Fatal(err)
	}
	ev := activities.EvaluateInput{CampaignID: lp.Plan.ID, WorkflowID: campaign.ReviewWorkflowID(lp.Plan.ID, q1.Label),
		Period: q1, Policy: spec.Review.Policy}
	got, _, err := runActivity[campaign.ReviewSummary](ctx, e, e.ID("review-check"), "EvaluateAgents", ev, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	kinds, err := benchdata.CheckReview(ctx, e.DB, lp.Plan.ID, q1.Label, ev.Policy, got, loaded, len(lp.Roster))
	if err != nil {
		t.Fatalf("review %s of %d agents and staff: %v", q1.Label, len(lp.Roster), err)
	}
	t.Logf("%d reviewed over %d enrolments and %d follow-ups: %v", got.Agents, loaded.Enrolments, loaded.FollowUps, kinds)
}

// (d) end to end at a small scale, on the Hà Nội plan as make bench runs it: 10,000
// enrolments imported through the product's path, COPYed raw, imported again. Import fails on
// any of its checks; each is then shown failing here on one fault planted in a transaction
// that is rolled back: one merged enrolment dropped (fileCitizens, and sameEnrolments, which
// compares both ways), one citizen ID changed (fileCitizens), one raw row's phone changed
// (sameEnrolments), and one enrolment put in the second import's batch (addedNone).
func TestImportChecksAtSmallScale(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and a Temporal dev server of its own")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := StartForTest(t, ctx)
	const n = 10_000
	figs, err := Import(ctx, e, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 7 || figs[0].Name != "import 10,000 enrolments, end to end" || figs[3].Name != "import 10,000 payments, end to end" {
		t.Errorf("figures: %+v", figs)
	}
	file, err := os.ReadFile(filepath.Join(e.Dir, e.ID("import")+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	id, raw := e.ID("import"), e.ID("import-raw")
	if err := fileCitizens(ctx, e.DB, id, file); err != nil {
		t.Fatal(err)
	}
	if err := sameEnrolments(ctx, e.DB, id, raw); err != nil {
		t.Fatal(err)
	}
	var again string
	if err := e.DB.QueryRow(ctx, `select id::text from import_batches where campaign_id = $1 and kind = 'enrolments' order by recorded_at desc limit 1`,
		id).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if err := addedNone(ctx, e.DB, again); err != nil {
		t.Fatal(err)
	}
	first := `(select min(citizen_id) from enrolments where campaign_id = $1)`
	for _, c := range []struct {
		name, plant, want string
		arg               string
		check             func(store.DB) error
	}{
		{"an enrolment dropped", `delete from enrolments where campaign_id = $1 and citizen_id = ` + first, "1 of the file's", id,
			func(q store.DB) error { return fileCitizens(ctx, q, id, file) }},
		{"an enrolment dropped, against the raw copy", `delete from enrolments where campaign_id = $1 and citizen_id = ` + first,
			"0 enrolments of " + id + " not in " + raw + ", 1 of", id,
			func(q store.DB) error { return sameEnrolments(ctx, q, id, raw) }},
		{"a citizen ID changed", `update enrolments set citizen_id = '999999999999' where campaign_id = $1 and citizen_id = ` + first,
			"1 enrolled not in it [999999999999]", id, func(q store.DB) error { return fileCitizens(ctx, q, id, file) }},
		{"a raw row's phone changed", `update enrolments set phone = '0000000000' where campaign_id = $1 and citizen_id = ` + first,
			"1 enrolments of " + id + " not in " + raw, raw, func(q store.DB) error { return sameEnrolments(ctx, q, id, raw) }},
		{"an enrolment of the second import", `update enrolments set batch_id = '` + again + `' where campaign_id = $1 and citizen_id = ` + first,
			"stored 1 enrolments", id, func(q store.DB) error { return addedNone(ctx, q, again) }},
	} {
		tx, err := e.DB.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tag, err := tx.Exec(ctx, c.plant, c.arg); err != nil || tag.RowsAffected() != 1 {
			t.Fatalf("%s: plant: %v (%d rows)", c.name, err, tag.RowsAffected())
		}
		err = c.check(tx)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: check says %v, want an error saying %q", c.name, err, c.want)
		} else {
			t.Logf("%s: %v", c.name, err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
