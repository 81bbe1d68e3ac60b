package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"drives/activities"
	"drives/campaign"
	"drives/coordinator"
	"drives/internal/benchdata"
	"drives/internal/synth"
	"drives/plan"
)

// Review is (f): the first quarterly review of the synthetic national plan, as activities'
// BenchmarkReviewNational runs it. The plan (200,000 collection agents and a staff member per
// commune) is prepared as CampaignWorkflow prepares it (LoadPlan → AllocateQuotas →
// AssignAgents on the project's worker); a quarter's field data, about 1,000,000 enrolments
// and 400,000 leads with their follow-ups, is bulk-loaded (internal/benchdata); then
// EvaluateAgents for 2021-Q1 runs on the worker, timed, and the review is checked: one
// decision per active agent and staff member, a summary that adds up, figures that account
// for every row loaded.
func Review(ctx context.Context, e *Env) ([]Figure, error) {
	dir := filepath.Join(e.Dir, e.ID("national-review"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	lp, sum, err := nationalPlan(dir, e.ID("national-review"))
	if err != nil {
		return nil, err
	}
	if sum.Agents != synth.NationalAgents || sum.Staff != sum.Communes || len(lp.Roster) != sum.Agents+sum.Staff {
		return nil, fmt.Errorf("review: national plan %v; roster of %d", sum, len(lp.Roster))
	}
	if err := coordinator.StorePlan(ctx, e.DB, lp); err != nil {
		return nil, err
	}
	in := activities.PlanInput{CampaignID: lp.Plan.ID, PlanHash: lp.Hash}
	spec, _, err := runActivity[plan.Spec](ctx, e, e.ID("national-review"), "LoadPlan", in, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	clock := plan.NewClock(spec.PeriodStart, spec.Scale, time.Now())
	if _, _, err := runActivity[activities.AllocateResult](ctx, e, e.ID("national-review"), "AllocateQuotas",
		activities.AllocateInput{PlanInput: in, Clock: clock}, 10*time.Minute); err != nil {
		return nil, err
	}
	asg, _, err := runActivity[activities.AssignResult](ctx, e, e.ID("national-review"), "AssignAgents", in, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	if asg.Agents != sum.Agents || asg.Staff != sum.Staff {
		return nil, fmt.Errorf("review: assigned %+v, want %d agents and %d staff", asg, sum.Agents, sum.Staff)
	}
	loc, err := time.LoadLocation(lp.Plan.Timezone)
	if err != nil {
		return nil, err
	}
	periods, err := plan.ReviewPeriods(plan.DefaultReviewCron, loc, spec.PeriodStart, spec.PeriodEnd)
	if err != nil || len(periods) != 4 {
		return nil, fmt.Errorf("review periods %v: %v", periods, err)
	}
	q1 := periods[0]
	world, err := benchdata.NewWorld(lp, spec, q1, nationalSeed)
	if err != nil {
		return nil, err
	}
	e.Log.Info("review: national plan prepared; loading a quarter's field data", "plan", sum.String())
	start := time.Now()
	loaded, err := world.Load(ctx, e.DB, benchdata.Sizes{Enrolments: 1_000_000, FollowUps: 400_000}, nationalSeed)
	if err != nil {
		return nil, err
	}
	e.Log.Info("review: loaded", "took", time.Since(start).Round(time.Millisecond), "enrolments", loaded.Enrolments,
		"follow_ups", loaded.FollowUps, "by_status", loaded.ByStatus)

	// The review, as AgentReviewWorkflow runs it: one activity, 10 minutes at most.
	ev := activities.EvaluateInput{CampaignID: lp.Plan.ID, WorkflowID: campaign.ReviewWorkflowID(lp.Plan.ID, q1.Label),
		Period: q1, Policy: spec.Review.Policy}
	got, took, err := runActivity[campaign.ReviewSummary](ctx, e, e.ID("national-review"), "EvaluateAgents", ev, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	kinds, err := benchdata.CheckReview(ctx, e.DB, lp.Plan.ID, q1.Label, ev.Policy, got, loaded, sum.Agents+sum.Staff)
	if err != nil {
		return nil, fmt.Errorf("review %s: %w", q1.Label, err)
	}
	// As coordinators and auditors read it (starter review list): every decision with its rationale.
	ds, err := (&coordinator.Coordinator{DB: e.DB, Temporal: e.Temporal}).Decisions(ctx, lp.Plan.ID, q1.Label)
	if err != nil {
		return nil, err
	}
	if len(ds) != got.Agents {
		return nil, fmt.Errorf("review %s: %d decisions read, %d reviewed", q1.Label, len(ds), got.Agents)
	}
	for _, d := range ds {
		if !strings.HasPrefix(d.Rationale, "score ") {
			return nil, fmt.Errorf("review %s: decision on %s reads without its rationale", q1.Label, d.Agent)
		}
	}
	result, err := json.Marshal(got)
	if err != nil {
		return nil, err
	}
	e.Log.Info("review: evaluated", "took", took.Round(time.Millisecond), "reviewed", got.Agents, "decisions", kinds,
		"result_bytes", len(result))
	return []Figure{
		{ID: "f", Name: "quarterly review, 200,000 agents", Value: took.Seconds(), Unit: "s", Target: "≤ 5 s", Met: Check(took <= 5*time.Second),
			Note: fmt.Sprintf("EvaluateAgents of %s on the worker (one-activity workflow, round trip included): %d reviewed over %d enrolments and %d follow-ups; %v",
				q1.Label, got.Agents, loaded.Enrolments, loaded.FollowUps, kinds)},
		{ID: "f.result", Name: "EvaluateAgents result (JSON)", Value: float64(len(result)) / 1024, Unit: "KiB",
			Note: fmt.Sprintf("%d proposed terminations: counted, their agents kept in PostgreSQL", got.Proposed)},
	}, nil
}
