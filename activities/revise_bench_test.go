package activities_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"drives/activities"
	"drives/campaign"
	"drives/coordinator"
	"drives/internal/fixture"
	"drives/internal/synth"
	"drives/plan"
	"drives/revision"
)

// BenchmarkReviseNational revises the national plan (internal/synth: 705 districts, 10,599
// communes, 58,187 villages, 210,599 agents and staff), prepared as CampaignWorkflow prepares
// it, twice: one district's target raised (district), then the target share raised from 4% to
// 4.5%, which changes every target of every level (national). For each it times the check as
// `starter plan revise --check` makes it (revision.Prepare: both plans allocated, compared,
// checked against the database), its staging (Prepared.Stage, what `plan revise` adds: the plan
// and every target it changes stored), and the ApplyRevision activity (checked again, every
// target written with its history by day, audited), and checks that every level adds up
// afterwards.
//
//	go test -run '^$' -bench BenchmarkReviseNational -benchtime 1x -timeout 30m ./activities/
//
// Metrics: <name>-check-s, <name>-stage-s, <name>-apply-s, <name>-targets.
func BenchmarkReviseNational(b *testing.B) {
	if testing.Short() {
		b.Skip("national revision: a minute of setup; skipped with -short")
	}
	ctx := context.Background()
	dir := b.TempDir()
	if _, err := synth.WriteNational(dir, benchSeed); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "plan.yaml")
	lp, err := plan.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	pool := benchPool(b)
	if err := coordinator.StorePlan(ctx, pool, lp); err != nil {
		b.Fatal(err)
	}
	c := &fixture.Campaign{T: b, Ctx: ctx, Pool: pool, Acts: &activities.Activities{Pool: pool}, Plan: lp}
	c.Env = fixture.QuietSuite().NewTestActivityEnvironment()
	c.Env.SetTestTimeout(time.Hour)
	c.Env.RegisterActivity(c.Acts)
	c.Input = activities.PlanInput{CampaignID: lp.Plan.ID, PlanHash: lp.Hash}
	c.Spec = fixture.MustCall[plan.Spec](c, c.Acts.LoadPlan, c.Input)
	c.Clock = plan.NewClock(c.Spec.PeriodStart, c.Spec.Scale, time.Now())
	c.Alloc = fixture.MustCall[activities.AllocateResult](c, c.Acts.AllocateQuotas, activities.AllocateInput{PlanInput: c.Input, Clock: c.Clock})
	c.Asg = fixture.MustCall[activities.AssignResult](c, c.Acts.AssignAgents, c.Input)
	text, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	district := lp.Units.Districts[0].Code
	today := c.Spec.PeriodStart.AddDate(0, 5, 0).Add(10 * time.Hour)
	for i, r := range []struct {
		name string
		edit func(string) string
	}{
		{"district", func(s string) string {
			return strings.Replace(s, "  share: 0.04\n", "  share: 0.04\n  overrides: {\""+district+"\": "+
				strconv.Itoa(lp.Allocation().Districts[district]+500)+"}\n", 1)
		}},
		{"national", func(s string) string { return strings.Replace(s, "  share: 0.04\n", "  share: 0.045\n", 1) }},
	} {
		revisedText := r.edit(string(text))
		if revisedText == string(text) {
			b.Fatalf("%s: the national plan's target share is not 0.04", r.name)
		}
		if err := os.WriteFile(path, []byte(revisedText), 0o644); err != nil {
			b.Fatal(err)
		}
		revised, err := plan.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		// Each step timed from a collected heap: the garbage of the one before (plans read,
		// decoded and encoded) is not collected in its time.
		runtime.GC()
		start := time.Now()
		prep, err := revision.Prepare(ctx, pool, "plan.yaml", lp.Plan.ID, revised, today, today)
		check := time.Since(start)
		if err != nil {
			b.Fatalf("%s: %v", r.name, err)
		}
		start = time.Now()
		n, err := prep.Stage(ctx, pool, "benchmark", "bench")
		stage := time.Since(start)
		if err != nil || n != i+1 {
			b.Fatalf("%s: staged %d, %v", r.name, n, err)
		}
		runtime.GC()
		start = time.Now()
		res := fixture.MustCall[campaign.RevisionResult](c, c.Acts.ApplyRevision, activities.ReviseInput{
			CampaignID: lp.Plan.ID, Number: n, Today: today, By: "bench"})
		apply := time.Since(start)
		if res.Quotas != len(prep.Quotas) || res.Target != revised.Allocation().City {
			b.Fatalf("%s: applied %+v; prepared %d targets, city %d", r.name, res, len(prep.Quotas), revised.Allocation().City)
		}
		// Every level adds up to the one above it.
		for _, q := range []string{
			`select count(*) from quotas c where c.campaign_id = $1 and c.level = 'city'
			   and c.target <> (select sum(target) from quotas where campaign_id = $1 and level = 'district')`,
			`select count(*) from units u join quotas q on q.campaign_id = u.campaign_id and q.level = u.level and q.code = u.code
			 where u.campaign_id = $1 and u.level in ('district', 'commune')
			   and q.target <> (select coalesce(sum(k.target), 0) from units ch join quotas k on k.campaign_id = ch.campaign_id
			                    and k.level = ch.level and k.code = ch.code where ch.campaign_id = $1 and ch.parent_code = u.code)`,
			`select count(*) from units u join quotas q on q.campaign_id = u.campaign_id and q.level = u.level and q.code = u.code
			 where u.campaign_id = $1 and u.level = 'commune'
			   and q.target <> (select coalesce(sum(k.target), 0) from agents a join quotas k on k.campaign_id = a.campaign_id
				                    and k.level = 'agent' and k.code = a.code where a.campaign_id = $1 and a.commune_code = u.code)`,
		} {
			if bad := c.Count(q, lp.Plan.ID); bad != 0 {
				b.Fatalf("%s: %d units whose parts do not add up (%s)", r.name, bad, q)
			}
		}
		b.ReportMetric(check.Seconds(), r.name+"-check-s")
		b.ReportMetric(stage.Seconds(), r.name+"-stage-s")
		b.ReportMetric(apply.Seconds(), r.name+"-apply-s")
		b.ReportMetric(float64(len(prep.Quotas)), r.name+"-targets")
		b.Logf("%s: %d targets change, city %d → %d; check %.2fs, staged in %.2fs, apply %.2fs", r.name, len(prep.Quotas),
			prep.Diff.City.Old, prep.Diff.City.New, check.Seconds(), stage.Seconds(), apply.Seconds())
		lp = revised
	}
}
