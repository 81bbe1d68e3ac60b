package activities_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"drives/activities"
	"drives/campaign"
	"drives/coordinator"
	"drives/internal/benchdata"
	"drives/internal/fixture"
	"drives/internal/synth"
	"drives/internal/testenv"
	"drives/plan"
)

// benchSeed makes the national plan and its field data.
const benchSeed = 2021

// benchExplainEnv, set to a duration (e.g. 5s), makes BenchmarkReviewNational log the plan
// (EXPLAIN ANALYZE, through auto_explain) of every statement, nested ones included, that takes
// longer. The plans have row counts and loops but no per-node timings, which would slow a
// statement that loops over millions of rows several times over. Needs a superuser, as the
// private test cluster's is.
const benchExplainEnv = "REVIEW_BENCH_EXPLAIN"

// BenchmarkReviewNational reviews the first quarter of the national plan (internal/synth:
// 705 districts, 10,599 communes, about 58,000 villages, 200,000 collection agents and a staff
// member per commune) with a quarter's field data: about 1,000,000 enrolments and 400,000
// leads with their follow-ups, open, enrolled, declined, unreachable and escalated.
//
// It prepares the campaign as CampaignWorkflow does (LoadPlan → AllocateQuotas → AssignAgents,
// in a test activity environment) and reports how long that took, once; then it bulk-loads the
// field data with COPY (setup, not timed) and times EvaluateAgents for 2021-Q1 alone. It checks
// the review, not its speed: one decision per active agent and staff member, and a summary
// that adds up. The activity environment, like the review workflow, gives EvaluateAgents 10
// minutes: a slower review fails the benchmark. Run it once; setup takes one to two minutes,
// so give go test more than its default 10 minutes when the review may be slow:
//
//	go test -run '^$' -bench BenchmarkReviewNational -benchtime 1x -timeout 30m ./activities/
//
// Metrics: eval-s (seconds of EvaluateAgents), agents-reviewed, decisions-<kind>,
// communes-commended, districts-commended; prep-allocate-s, prep-assign-s, prep-s (LoadPlan
// excluded), store-plan-s; rows-enrolments, rows-prospects, rows-follow-ups, load-s.
func BenchmarkReviewNational(b *testing.B) {
	if testing.Short() {
		b.Skip("national review: minutes of setup and 1.4 million rows; skipped with -short")
	}
	ctx := context.Background()

	// The plan, stored as a coordinator's launch stores it.
	dir := b.TempDir()
	sum, err := synth.WriteNational(dir, benchSeed)
	if err != nil {
		b.Fatal(err)
	}
	lp, err := plan.Load(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		b.Fatalf("national plan: %v", err)
	}
	if sum.Agents != synth.NationalAgents || sum.Staff != sum.Communes || len(lp.Roster) != sum.Agents+sum.Staff {
		b.Fatalf("national plan: %v; roster of %d", sum, len(lp.Roster))
	}
	pool := benchPool(b)
	start := time.Now()
	if err := coordinator.StorePlan(ctx, pool, lp); err != nil {
		b.Fatal(err)
	}
	storeDur := time.Since(start)

	// Preparation, as CampaignWorkflow runs it.
	c := &fixture.Campaign{T: b, Ctx: ctx, Pool: pool, Acts: &activities.Activities{Pool: pool}, Plan: lp}
	c.Env = fixture.QuietSuite().NewTestActivityEnvironment()
	c.Env.SetTestTimeout(2 * time.Hour)
	c.Env.RegisterActivity(c.Acts)
	c.Input = activities.PlanInput{CampaignID: lp.Plan.ID, PlanHash: lp.Hash}
	c.Spec = fixture.MustCall[plan.Spec](c, c.Acts.LoadPlan, c.Input)
	c.Clock = plan.NewClock(c.Spec.PeriodStart, c.Spec.Scale, time.Now())
	start = time.Now()
	c.Alloc = fixture.MustCall[activities.AllocateResult](c, c.Acts.AllocateQuotas, activities.AllocateInput{PlanInput: c.Input, Clock: c.Clock})
	allocDur := time.Since(start)
	start = time.Now()
	c.Asg = fixture.MustCall[activities.AssignResult](c, c.Acts.AssignAgents, c.Input)
	assignDur := time.Since(start)
	if c.Asg.Agents != sum.Agents || c.Asg.Staff != sum.Staff {
		b.Fatalf("assigned %+v, want %d agents and %d staff", c.Asg, sum.Agents, sum.Staff)
	}
	if n := c.Count(`select count(*) from units where campaign_id = $1`, lp.Plan.ID); n != sum.Districts+sum.Communes+sum.Villages || n != c.Alloc.Units {
		b.Fatalf("%d units stored, allocation says %d, plan has %d", n, c.Alloc.Units, sum.Districts+sum.Communes+sum.Villages)
	}

	// The first quarter's field data.
	loc, err := time.LoadLocation(lp.Plan.Timezone)
	if err != nil {
		b.Fatal(err)
	}
	periods, err := plan.ReviewPeriods(plan.DefaultReviewCron, loc, c.Spec.PeriodStart, c.Spec.PeriodEnd)
	if err != nil || len(periods) != 4 {
		b.Fatalf("review periods %v: %v", periods, err)
	}
	q1 := periods[0]
	world, err := benchdata.NewWorld(lp, c.Spec, q1, benchSeed)
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	loaded, err := world.Load(ctx, pool, benchdata.Sizes{Enrolments: 1_000_000, FollowUps: 400_000}, benchSeed)
	if err != nil {
		b.Fatal(err)
	}
	loadDur := time.Since(start)
	b.Logf("national plan: %v", sum)
	b.Logf("prepared: %+v, %+v; store %.1fs, allocate %.1fs, assign %.1fs", c.Alloc, c.Asg, storeDur.Seconds(), allocDur.Seconds(), assignDur.Seconds())
	b.Logf("loaded in %.1fs: %d prospects, %d follow-ups %v (%d escalated), %d enrolments (%d of leads)",
		loadDur.Seconds(), loaded.Prospects, loaded.FollowUps, loaded.ByStatus, loaded.Escalated, loaded.Enrolments, loaded.FromFollowUps)

	// The review of 2021-Q1, timed.
	in := activities.EvaluateInput{CampaignID: lp.Plan.ID, WorkflowID: campaign.ReviewWorkflowID(lp.Plan.ID, q1.Label),
		Period: q1, Policy: c.Spec.Review.Policy}
	var got campaign.ReviewSummary
	var evalDur time.Duration
	b.ResetTimer()
	for i := range b.N {
		if i > 0 { // measure the work, not a re-run that finds everything decided
			b.StopTimer()
			c.Exec(`delete from commendations where campaign_id = $1 and period = $2`, lp.Plan.ID, q1.Label)
			c.Exec(`delete from review_decisions where campaign_id = $1 and period = $2`, lp.Plan.ID, q1.Label)
			c.Exec(`delete from reviews where campaign_id = $1 and period = $2`, lp.Plan.ID, q1.Label)
			b.StartTimer()
		}
		start := time.Now()
		got, err = fixture.Call[campaign.ReviewSummary](c, c.Acts.EvaluateAgents, in)
		evalDur += time.Since(start)
		if err != nil {
			// The test environment gives an activity 10 minutes (StartToClose), as the review
			// workflow does EvaluateAgents: one that runs longer never completes there either.
			b.Fatalf("EvaluateAgents of %s failed after %.0fs: %v", q1.Label, time.Since(start).Seconds(), err)
		}
	}
	b.StopTimer()

	checkNationalReview(b, c, q1, in.Policy, got, loaded)
	kinds := decisionsByKind(b, c, q1.Label)
	b.Logf("review %s in %.1fs: %d reviewed, %v, communes commended %d, districts %d",
		q1.Label, evalDur.Seconds()/float64(b.N), got.Agents, kinds, got.CommunesCommended, got.DistrictsCommended)

	b.ReportMetric(evalDur.Seconds()/float64(b.N), "eval-s")
	b.ReportMetric(float64(got.Agents), "agents-reviewed")
	for _, k := range []string{"reward", "commend", "retain", "warn", "terminate"} {
		b.ReportMetric(float64(kinds[k]), "decisions-"+k)
	}
	b.ReportMetric(float64(got.CommunesCommended), "communes-commended")
	b.ReportMetric(float64(got.DistrictsCommended), "districts-commended")
	b.ReportMetric(allocDur.Seconds(), "prep-allocate-s")
	b.ReportMetric(assignDur.Seconds(), "prep-assign-s")
	b.ReportMetric((allocDur + assignDur).Seconds(), "prep-s")
	b.ReportMetric(storeDur.Seconds(), "store-plan-s")
	b.ReportMetric(float64(loaded.Enrolments), "rows-enrolments")
	b.ReportMetric(float64(loaded.Prospects), "rows-prospects")
	b.ReportMetric(float64(loaded.FollowUps), "rows-follow-ups")
	b.ReportMetric(loadDur.Seconds(), "load-s")
}

// checkNationalReview asserts what a review must be, whatever its speed (benchdata.CheckReview).
func checkNationalReview(b *testing.B, c *fixture.Campaign, p plan.ReviewPeriod, pol plan.ReviewPolicy,
	got campaign.ReviewSummary, loaded benchdata.Loaded) {
	b.Helper()
	if _, err := benchdata.CheckReview(c.Ctx, c.Pool, c.Plan.Plan.ID, p.Label, pol, got, loaded, synth.NationalAgents+c.Asg.Staff); err != nil {
		b.Error(err)
	}
}

func decisionsByKind(b *testing.B, c *fixture.Campaign, period string) map[string]int {
	b.Helper()
	kinds, err := benchdata.DecisionsByKind(c.Ctx, c.Pool, c.Plan.Plan.ID, period)
	if err != nil {
		b.Fatal(err)
	}
	return kinds
}

// benchPool is a fresh migrated database (testenv.NewDB) with, when benchExplainEnv is set,
// auto_explain logging the plans of slow statements into the benchmark's log.
func benchPool(b *testing.B) *pgxpool.Pool {
	b.Helper()
	cfg, err := pgxpool.ParseConfig(testenv.NewDB(b))
	if err != nil {
		b.Fatal(err)
	}
	if v := os.Getenv(benchExplainEnv); v != "" {
		least, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("%s=%q: want a duration such as 5s", benchExplainEnv, v)
		}
		cfg.ConnConfig.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
			if strings.HasPrefix(n.Message, "duration:") {
				b.Logf("auto_explain: %s", n.Message)
			}
		}
		cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, fmt.Sprintf(`load 'auto_explain';
				set auto_explain.log_min_duration = %d; set auto_explain.log_analyze = on;
				set auto_explain.log_timing = off; set auto_explain.log_buffers = on;
				set auto_explain.log_nested_statements = on;
				set auto_explain.log_level = notice`, least.Milliseconds()))
			return err
		}
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	return pool
}
