package bench

import (
	"context"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"drives/activities"
	"drives/allocate"
	"drives/campaign"
	"drives/coordinator"
	"drives/internal/benchdata"
	"drives/internal/testenv"
	"drives/plan"
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
	good := func() allocate.Allocation { return allocate.Quotas(lp.Units, lp.Roster, target) }
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
	e := startEnv(t, ctx)
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

// startEnv starts the benchmark's servers and worker in a directory of the test's.
func startEnv(t *testing.T, ctx context.Context) *Env {
	t.Helper()
	cli, err := testenv.TemporalCLI()
	if err != nil {
		t.Fatal(err)
	}
	// PostgreSQL runs as the postgres user when the tests run as root: it must reach its data.
	dir, err := os.MkdirTemp("", "drives-bench-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := Start(ctx, Options{Dir: dir, TemporalCLI: cli}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	return e
}
