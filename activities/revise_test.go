package activities_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/activities"
	"drives/campaign"
	"drives/imports"
	"drives/internal/fixture"
	"drives/plan"
	"drives/revision"
	"drives/store"
)

// revisedPlan is the fixture plan with edits (each old text found exactly once), loaded as a
// coordinator's revised file would be.
func revisedPlan(t *testing.T, edits ...[2]string) *plan.Loaded {
	t.Helper()
	dir := fixture.PlanDir(t)
	name := filepath.Join(dir, "plan.yaml")
	raw, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, e := range edits {
		if n := strings.Count(text, e[0]); n != 1 {
			t.Fatalf("fixture plan: %q occurs %d times, want 1", e[0], n)
		}
		text = strings.Replace(text, e[0], e[1], 1)
	}
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	lp, err := plan.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return lp
}

// prepareAndStage checks a revised plan on the given day and stages it from the day from, as
// `starter plan revise` does.
func (d *drive) prepareAndStage(lp *plan.Loaded, today, from string) (*revision.Prepared, int) {
	d.t.Helper()
	p, err := revision.Prepare(d.ctx, d.pool, "plan.yaml", campaignID, lp, local(d.t, today), local(d.t, from))
	if err != nil {
		d.t.Fatal(err)
	}
	n, err := p.Stage(d.ctx, d.pool, "thành phố giao thêm chỉ tiêu", "coordinator-a")
	if err != nil {
		d.t.Fatal(err)
	}
	return p, n
}

// stageRevision stages a revised plan from the given day unchecked, as one staged before
// migration 029 was: not known to share the units and roster of the plan in force.
func (d *drive) stageRevision(lp *plan.Loaded, from string) int {
	d.t.Helper()
	body, err := json.Marshal(lp)
	if err != nil {
		d.t.Fatal(err)
	}
	n, err := store.StageRevision(d.ctx, d.pool, store.NewRevision{CampaignID: campaignID, Hash: lp.Hash, Plan: body,
		From: local(d.t, from), Reason: "thành phố giao thêm chỉ tiêu", By: "coordinator-a"})
	if err != nil {
		d.t.Fatal(err)
	}
	return n
}

func (d *drive) quota(level, code string) int {
	d.t.Helper()
	return d.count(`select target from quotas where campaign_id = $1 and level = $2 and code = $3`, campaignID, level, code)
}

// agentsQuota sums the quotas of a commune's agents and staff, active or not.
func (d *drive) agentsQuota(commune string) int {
	d.t.Helper()
	return d.count(`select coalesce(sum(q.target), 0) from agents a
		join quotas q on q.campaign_id = a.campaign_id and q.level = 'agent' and q.code = a.code
		where a.campaign_id = $1 and a.commune_code = $2`, campaignID, commune)
}

// A revision raising district 002 by 10 from 1 May: the city, the district, its commune, its
// villages and its agents take the new targets (sums exact), each change kept by day; an event
// is added (planned, for its district drive) and one removed (cancelled); the revision is the
// plan in force, applied once, audited.
func TestRevisionRaisesADistrictFromItsDay(t *testing.T) {
	d := newDrive(t)
	city, district := d.quota("city", campaignID), d.quota("district", "002")
	revised := revisedPlan(t,
		[2]string{"  share: 0.01\n", "  share: 0.01\n  overrides: {\"002\": " + strconv.Itoa(district+10) + "}\n"},
		[2]string{"  - id: dlg-00002\n    kind: dialogue\n    unit: \"00002\"\n    date: 2021-06-01\n    groups: [student]\n",
			"  - id: extra-00010\n    kind: dialogue\n    title: Đối thoại bổ sung\n    unit: \"00010\"\n    date: 2021-09-01\n    groups: [student]\n    expected_attendance: 40\n"})
	_, n := d.prepareAndStage(revised, "2021-04-20", "2021-05-01")
	res := mustCall[campaign.RevisionResult](d, d.acts.ApplyRevision, activities.ReviseInput{
		CampaignID: campaignID, Number: n, Today: local(t, "2021-04-20").Add(9 * time.Hour), By: "coordinator-a"})

	if n != 1 || res.Number != 1 || res.Target != city+10 || res.Districts["002"] != district+10 || !res.From.Equal(local(t, "2021-05-01")) {
		t.Errorf("result %+v; want revision 1 from 2021-05-01, city %d, district 002 %d", res, city+10, district+10)
	}
	if len(res.Added) != 1 || res.Added[0].ID != "extra-00010" || res.Added[0].District != "002" || len(res.Removed) != 1 || res.Removed[0] != "dlg-00002" {
		t.Errorf("events added %+v, removed %v", res.Added, res.Removed)
	}
	if got := d.quota("city", campaignID); got != city+10 {
		t.Errorf("city quota %d, want %d", got, city+10)
	}
	if got := d.count(`select target from campaigns where id = $1`, campaignID); got != city+10 {
		t.Errorf("campaign target %d, want %d", got, city+10)
	}
	// Every level adds up to the one above it.
	for _, q := range []struct{ sum, of string }{
		{`select sum(target) from quotas where campaign_id = $1 and level = 'district'`, `select target from quotas where campaign_id = $1 and level = 'city'`},
		{`select sum(q.target) from quotas q join units u on u.campaign_id = q.campaign_id and u.code = q.code where q.campaign_id = $1 and q.level = 'commune' and u.parent_code = '002'`,
			`select target from quotas where campaign_id = $1 and level = 'district' and code = '002'`},
		{`select sum(q.target) from quotas q join units u on u.campaign_id = q.campaign_id and u.code = q.code where q.campaign_id = $1 and q.level = 'village' and u.parent_code = '00010'`,
			`select target from quotas where campaign_id = $1 and level = 'commune' and code = '00010'`},
		{`select sum(q.target) from agents a join quotas q on q.campaign_id = a.campaign_id and q.level = 'agent' and q.code = a.code where a.campaign_id = $1 and a.commune_code = '00010'`,
			`select target from quotas where campaign_id = $1 and level = 'commune' and code = '00010'`},
	} {
		if a, b := d.count(q.sum, campaignID), d.count(q.of, campaignID); a != b {
			t.Errorf("%s = %d, want %d (%s)", q.sum, a, b, q.of)
		}
	}
	if got := d.count(`select count(*) from quota_targets_by_day where campaign_id = $1 and level = 'district' and code = '002'
		and ((valid_from = '2020-12-31' and target = $2 and revision = 0) or (valid_from = '2021-05-01' and target = $3 and revision = 1))`,
		campaignID, district, district+10); got != 2 {
		t.Errorf("district 002's targets by day: %d rows of the 2 wanted", got)
	}
	if got := d.count(`select count(*) from events where campaign_id = $1 and id = 'extra-00010' and status = 'planned' and source = 'plan' and expected_attendance = 40`, campaignID); got != 1 {
		t.Error("the added event is not planned")
	}
	if got := d.count(`select count(*) from events where campaign_id = $1 and id = 'dlg-00002' and status = 'cancelled' and cancel_reason = 'removed by revision 1 of the plan'`, campaignID); got != 1 {
		t.Error("the removed event is not cancelled")
	}
	if _, hash, number, err := store.PlanInForce(d.ctx, d.pool, campaignID); err != nil || number != 1 || hash != revised.Hash {
		t.Errorf("plan in force: revision %d %.12s, %v; want 1 %.12s", number, hash, err, revised.Hash)
	}
	if got := len(d.audit(`action = 'plan.revise' and entity_key = $1`, campaignID+"#1")); got != 1 {
		t.Errorf("%d audit rows of the revision, want 1", got)
	}
	// An auditor's trace of the district's target and of an agent's quota names the allocation
	// and the revision, each with its audit row.
	unitTrace, err := store.UnitTargetWrites(d.ctx, d.pool, campaignID, "district", "002")
	if err != nil || len(unitTrace) != 2 || unitTrace[0].What != "quota row: "+strconv.Itoa(district)+" as allocated" ||
		unitTrace[1].What != "revision 1: target "+strconv.Itoa(district+10)+" from 2021-05-01" {
		t.Errorf("trace of district 002's target: %+v, %v", unitTrace, err)
	}

	// The second quarter's review judges each agent of district 002 against the quota in force
	// on each day of its window: April at the launched quota, May and June at the revised one
	// (the first quarter's, before the revision, at the launched quota alone).
	var before, after int
	if err := d.pool.QueryRow(d.ctx, `select h0.target, h1.target from quota_targets_by_day h0 join quota_targets_by_day h1 using (campaign_id, level, code)
		where h0.campaign_id = $1 and h0.level = 'agent' and h0.code = 'DL-00010-2' and h0.revision = 0 and h1.revision = 1`, campaignID).
		Scan(&before, &after); err != nil || after <= before {
		t.Fatalf("DL-00010-2's quota by day: %d then %d, %v", before, after, err)
	}
	agentTrace, err := store.AgentQuotaWrites(d.ctx, d.pool, campaignID, "DL-00010-2")
	if err != nil || len(agentTrace) != 2 || agentTrace[0].What != "quota row: "+strconv.Itoa(before)+" as assigned" ||
		agentTrace[1].What != "revision 1: target "+strconv.Itoa(after)+" from 2021-05-01" {
		t.Errorf("trace of DL-00010-2's quota: %+v, %v", agentTrace, err)
	}
	ps := reviewPeriods(t, d)
	d.evaluate(ps[0], policy())
	d.evaluate(ps[1], policy())
	share := func(period string) float64 {
		var f float64
		if err := d.pool.QueryRow(d.ctx, `select quota_share from review_decisions where campaign_id = $1 and period = $2 and agent_code = 'DL-00010-2'`,
			campaignID, period).Scan(&f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	if got, want := share(ps[0].Label), float64(before)*90/365; math.Abs(got-want) > 1e-9 {
		t.Errorf("%s quota share %v, want %v (%d × 90/365)", ps[0].Label, got, want, before)
	}
	if got, want := share(ps[1].Label), (float64(before)*30+float64(after)*61)/365; math.Abs(got-want) > 1e-9 {
		t.Errorf("%s quota share %v, want %v (%d × 30/365 + %d × 61/365)", ps[1].Label, got, want, before, after)
	}

	// Applied once: the same number again is refused and changes nothing.
	_, err = call[campaign.RevisionResult](d, d.acts.ApplyRevision, activities.ReviseInput{
		CampaignID: campaignID, Number: n, Today: local(t, "2021-04-21"), By: "coordinator-a"})
	if errType(err) != activities.ErrInvalidState || !strings.Contains(err.Error(), "revision 1 of campaign test-2021 is applied already") {
		t.Errorf("applying revision 1 again: %v", err)
	}
	if got := d.quota("district", "002"); got != district+10 {
		t.Errorf("district 002 after the second try: %d", got)
	}
	// The same revision sent again (`plan revise` run twice) changes nothing and is refused;
	// staged against the plan it replaced, it is refused too.
	_, err = revision.Prepare(d.ctx, d.pool, "plan.yaml", campaignID, revised, local(t, "2021-04-21"), local(t, "2021-05-01"))
	if err == nil || !strings.Contains(err.Error(), "plan.yaml: changes nothing: it is the plan in force") {
		t.Errorf("the same revision again: %v", err)
	}
	body, _ := json.Marshal(revised)
	if _, err := store.StageRevision(d.ctx, d.pool, store.NewRevision{CampaignID: campaignID, Base: 0, Hash: revised.Hash, Plan: body,
		From: local(t, "2021-05-01"), Reason: "again", By: "coordinator-a"}); err == nil || !strings.Contains(err.Error(), "another revision was applied meanwhile") {
		t.Errorf("a revision staged against the plan revision 1 replaced: %v", err)
	}
}

// A revision that breaks the rules is refused whole, every problem named, and writes nothing:
// a fixed setting changed, a held event removed, an event added on a day past, and a commune's
// target set below what it has enrolled.
func TestRevisionBreakingTheRulesIsRefusedWhole(t *testing.T) {
	d := newDrive(t)
	d.hold("conf-001")
	d.merge(d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(
		enrolment{lead(1, "00010", "00010-01", "student"), "DL-00010-2", 700_000, "poor", "6m", "2021-03-11"},
		enrolment{lead(2, "00010", "00010-02", "trader"), "DL-00010-1", 1_500_000, "other", "monthly", "2021-03-12"},
	)))
	before := d.count(`select sum(target) from quotas where campaign_id = $1`, campaignID)
	revised := revisedPlan(t,
		[2]string{"  share: 0.01\n", "  share: 0.01\n  overrides: {\"00010\": 1}\n"},
		[2]string{"  sweep_every: 7d\n", "  sweep_every: 5d\n"},
		[2]string{"  - id: conf-001\n    kind: conference\n    title: Hội nghị quận Một\n    unit: \"001\"\n    date: 2021-03-01\n    groups: [trader]\n    expected_attendance: 120\n",
			"  - id: late-001\n    kind: conference\n    unit: \"001\"\n    date: 2021-04-02\n    groups: [trader]\n"})
	n := d.stageRevision(revised, "2021-04-15")
	_, err := call[campaign.RevisionResult](d, d.acts.ApplyRevision, activities.ReviseInput{
		CampaignID: campaignID, Number: n, Today: local(t, "2021-04-10"), By: "coordinator-a"})
	if errType(err) != activities.ErrRevisionRefused {
		t.Fatalf("apply: %v, want refused", err)
	}
	for _, want := range []string{
		"follow_up.sweep_every: cannot change while the campaign runs",
		"events.conf-001: was held",
		"events.late-001: is added on 2021-04-02",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not say %q", err, want)
		}
	}
	if got := d.count(`select sum(target) from quotas where campaign_id = $1`, campaignID); got != before {
		t.Errorf("quotas changed: %d, were %d", got, before)
	}
	if d.count(`select count(*) from quota_history`) != 0 || d.count(`select count(*) from plan_revisions where applied_at is not null`) != 0 ||
		d.count(`select count(*) from events where id = 'late-001'`) != 0 || len(d.audit(`action = 'plan.revise'`)) != 0 {
		t.Error("a refused revision wrote something")
	}

	// Without the other problems, the target below what the commune enrolled is refused too.
	low := revisedPlan(t, [2]string{"  share: 0.01\n", "  share: 0.01\n  overrides: {\"00010\": 1}\n"})
	n = d.stageRevision(low, "2021-04-15")
	_, err = call[campaign.RevisionResult](d, d.acts.ApplyRevision, activities.ReviseInput{
		CampaignID: campaignID, Number: n, Today: local(t, "2021-04-10"), By: "coordinator-a"})
	if errType(err) != activities.ErrRevisionRefused || !strings.Contains(err.Error(), "commune 00010 would have a target of 1, below the 2 it has enrolled already") {
		t.Errorf("a target below the enrolled: %v", err)
	}
}

// editPlanFile replaces, in a plan file of dir, an old text found exactly once.
func editPlanFile(t *testing.T, dir, name, old, new string) {
	t.Helper()
	path := filepath.Join(dir, name)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), old); n != 1 {
		t.Fatalf("fixture %s: %q occurs %d times, want 1", name, old, n)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(raw), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A revision staged unprepared (as one staged before migration 031) is prepared whole when it
// is applied, both plans read whole, and its roster checked as `starter plan revise --check`
// checks it: a roster in another order (the same agents where they were) is applied; one with
// an agent moved to another commune is refused, named as the check names it. Shown failing with
// the plan in force given the staged plan's units and roster: the moved agent was applied.
func TestRevisionChecksTheRosterItDoesNotShare(t *testing.T) {
	d := newDrive(t)
	district := d.quota("district", "002")
	load := func(roster func(dir string)) *plan.Loaded {
		t.Helper()
		dir := fixture.PlanDir(t)
		editPlanFile(t, dir, "plan.yaml", "  share: 0.01\n", "  share: 0.01\n  overrides: {\"002\": "+strconv.Itoa(district+10)+"}\n")
		roster(dir)
		lp, err := plan.Load(filepath.Join(dir, "plan.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		return lp
	}
	moved := load(func(dir string) {
		editPlanFile(t, dir, "roster.csv", "DL-00001-3,00001,", "DL-00001-3,00002,")
	})
	_, checkErr := revision.Prepare(d.ctx, d.pool, "plan.yaml", campaignID, moved, local(t, "2021-04-20"), local(t, "2021-05-01"))
	n := d.stageRevision(moved, "2021-05-01")
	_, err := call[campaign.RevisionResult](d, d.acts.ApplyRevision, activities.ReviseInput{
		CampaignID: campaignID, Number: n, Today: local(t, "2021-04-20"), By: "coordinator-a"})
	want := "roster: a revision keeps the campaign's agents and staff where they are (1 added: DL-00001-3 (agent, commune 00002); 1 removed: DL-00001-3 (agent, commune 00001))"
	if errType(err) != activities.ErrRevisionRefused || !strings.Contains(err.Error(), want) {
		t.Errorf("apply of a moved agent: %v, want refused: %s", err, want)
	}
	if checkErr == nil || !strings.Contains(checkErr.Error(), want) {
		t.Errorf("check of a moved agent: %v, want %s", checkErr, want)
	}

	reordered := load(func(dir string) {
		raw, err := os.ReadFile(filepath.Join(dir, "roster.csv"))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n")
		body := lines[1:]
		for i, j := 0, len(body)-1; i < j; i, j = i+1, j-1 {
			body[i], body[j] = body[j], body[i]
		}
		if err := os.WriteFile(filepath.Join(dir, "roster.csv"), []byte(lines[0]+"\n"+strings.Join(body, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	n = d.stageRevision(reordered, "2021-05-01")
	res, err := call[campaign.RevisionResult](d, d.acts.ApplyRevision, activities.ReviseInput{
		CampaignID: campaignID, Number: n, Today: local(t, "2021-04-20"), By: "coordinator-a"})
	if err != nil || res.Districts["002"] != district+10 {
		t.Fatalf("apply of the roster in another order: %+v, %v", res, err)
	}
	if got := d.quota("district", "002"); got != district+10 {
		t.Errorf("district 002: %d, want %d", got, district+10)
	}
}

// The check reads the plan in force without its roster when the revised plan's is the same:
// the digest of the roster as PostgreSQL writes its jsonb equals the one the revision writes
// from the plan it loaded (names with diacritics, decimal weights, a weight left out).
func TestRevisionDigestsTheRosterAsStored(t *testing.T) {
	d := newDrive(t)
	lp := revisedPlan(t)
	_, sum, _, _, err := store.PlanInForceWithoutRoster(d.ctx, d.pool, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	if got := revision.RosterMD5(lp.Roster); got != sum {
		t.Errorf("the roster's digest %s, stored %s", got, sum)
	}
	lp.Roster[0].Name += " \"\\\n\t\x01<&>"
	if got := revision.RosterMD5(lp.Roster); got == sum {
		t.Error("another roster has the same digest")
	}
}

// A revision's targets by day are copied into a table of the revision's own, then attached
// (store.ReviseQuotas): the quotas, the campaign's target and the targets by day are those
// store.ChangeQuotas writes, including over targets an earlier revision kept (the target before
// is kept once, a change from the same day replaces the one it made and takes on the target
// before it).
func TestRevisionWritesTheQuotasAsChangeQuotas(t *testing.T) {
	d := newDrive(t)
	district := d.quota("district", "002")
	first := revisedPlan(t, [2]string{"  share: 0.01\n", "  share: 0.01\n  overrides: {\"002\": " + strconv.Itoa(district+10) + "}\n"})
	n := d.stageRevision(first, "2021-05-01")
	mustCall[campaign.RevisionResult](d, d.acts.ApplyRevision, activities.ReviseInput{
		CampaignID: campaignID, Number: n, Today: local(t, "2021-04-20"), By: "coordinator-a"})
	second := revisedPlan(t, [2]string{"  share: 0.01\n", "  share: 0.012\n  overrides: {\"002\": " + strconv.Itoa(district+3) + "}\n"})
	p, err := revision.Prepare(d.ctx, d.pool, "plan.yaml", campaignID, second, local(t, "2021-04-20"), local(t, "2021-05-01"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Quotas) < 10 {
		t.Fatalf("the second revision changes %d targets", len(p.Quotas))
	}
	written := func(write func(tx pgx.Tx) error) []string {
		t.Helper()
		tx, err := d.pool.Begin(d.ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(d.ctx) //nolint:errcheck // a test's transaction, rolled back
		if err := write(tx); err != nil {
			t.Fatal(err)
		}
		rows, err := tx.Query(d.ctx, `
			select 'quota ' || level || ' ' || code || ' ' || target from quotas where campaign_id = $1
			union all select 'campaign ' || target from campaigns where id = $1
			union all select 'history ' || level || ' ' || code || ' ' || valid_from || ' ' || target || ' ' || revision
			                 || ' previous ' || coalesce(previous::text, 'none')
			          from quota_history where campaign_id = $1
			union all select 'by day ' || level || ' ' || code || ' ' || valid_from || ' ' || target
			          from quota_targets_by_day where campaign_id = $1
			order by 1`, campaignID)
		return fixture.Lines(t, rows, err)
	}
	start := d.spec.PeriodStart
	got := written(func(tx pgx.Tx) error {
		return store.ReviseQuotas(d.ctx, tx, store.PoolOpener(d.pool), campaignID, store.QuotaSource{Revision: 2}, start, p.From, p.Quotas)
	})
	want := written(func(tx pgx.Tx) error {
		return store.ChangeQuotas(d.ctx, tx, campaignID, store.QuotaSource{Revision: 2}, p.From, p.Quotas)
	})
	sameLines(t, "ReviseQuotas", got, "ChangeQuotas", want)
	history, byDay := 0, map[string]bool{}
	for _, r := range got {
		if strings.HasPrefix(r, "history ") {
			history++
		}
		if strings.HasPrefix(r, "by day ") {
			byDay[r] = true
		}
	}
	if history < len(p.Quotas) {
		t.Errorf("%d rows of targets by day for %d changes", history, len(p.Quotas))
	}
	// District 002, changed by both revisions from 1 May: the second's target replaces the
	// first's, and the target before them both is the launched one.
	for _, r := range []string{"by day district 002 2020-12-31 " + strconv.Itoa(district), "by day district 002 2021-05-01 " + strconv.Itoa(district+3)} {
		if !byDay[r] {
			t.Errorf("targets by day: no %q", r)
		}
	}
	if byDay["by day district 002 2021-05-01 "+strconv.Itoa(district+10)] || byDay["by day district 002 2020-12-31 "+strconv.Itoa(district+10)] {
		t.Error("targets by day: district 002 keeps the first revision's target")
	}
}

// A revision staged prepared (`plan revise`: the targets above the agents' and the diff kept
// with it) is applied from what was prepared, while the plan it was staged on is in force:
// what it writes is what preparing it whole writes, with an agent who joined a commune it
// changes after it was staged sharing that commune's new target, and the events it adds
// placed in their districts; what was prepared is cleared once it is applied. Shown failing
// with the agents' shares left out of the apply from staging.
func TestRevisionStagedPreparedWritesAsPreparedWhole(t *testing.T) {
	d := newDrive(t)
	district := d.quota("district", "002")
	revised := revisedPlan(t,
		[2]string{"  share: 0.01\n", "  share: 0.01\n  overrides: {\"002\": " + strconv.Itoa(district+10) + "}\n"},
		[2]string{"  - id: dlg-00002\n    kind: dialogue\n    unit: \"00002\"\n    date: 2021-06-01\n    groups: [student]\n",
			"  - id: extra-00010\n    kind: dialogue\n    title: Đối thoại bổ sung\n    unit: \"00010\"\n    date: 2021-09-01\n    groups: [student]\n    expected_attendance: 40\n"})
	prep, n := d.prepareAndStage(revised, "2021-04-20", "2021-05-01")
	if d.count(`select cardinality(prepared_levels) from plan_revisions where campaign_id = $1 and number = $2`, campaignID, n) != len(stagedOf(prep)) {
		t.Fatal("the revision is not staged with the targets it changes")
	}
	d.join(d.stageJoin(store.StagedAgent{Code: "DL-00010-9", Commune: "00010", Kind: "agent", FullName: "Người Mới Mười",
		Phone: "0911111110", Weight: 1}), local(t, "2021-04-16").Add(9*time.Hour))

	// What applying it writes, prepared from its staging and prepared whole, each in a
	// transaction rolled back.
	applied := func() ([]string, *revision.Prepared) {
		t.Helper()
		tx, p, added := d.applyStaged(n)
		defer tx.Rollback(d.ctx) //nolint:errcheck // a test's transaction, rolled back
		rows, err := tx.Query(d.ctx, `
			select 'quota ' || level || ' ' || code || ' ' || target from quotas where campaign_id = $1
			union all select 'campaign ' || target from campaigns where id = $1
			union all select 'history ' || level || ' ' || code || ' ' || valid_from || ' ' || target || ' ' || revision
			                 || ' previous ' || coalesce(previous::text, 'none') from quota_history where campaign_id = $1
			union all select 'event ' || id || ' ' || district_code || ' ' || status from events where campaign_id = $1
			union all select 'revision ' || number || ' ' || effective_from || ' ' || md5(summary::text) from plan_revisions where campaign_id = $1
			union all select 'prepared kept once applied: ' || (prepared_levels is not null) from plan_revisions where campaign_id = $1
			union all select 'commune 00010 shared exactly: ' || ((select sum(q.target) from agents a join quotas q
				on q.campaign_id = a.campaign_id and q.level = 'agent' and q.code = a.code where a.campaign_id = $1 and a.commune_code = '00010')
				= (select target from quotas where campaign_id = $1 and level = 'commune' and code = '00010'))
			union all select 'joiner ' || target from quotas where campaign_id = $1 and level = 'agent' and code = 'DL-00010-9'
			order by 1`, campaignID)
		out := fixture.Lines(t, rows, err)
		for _, e := range added {
			out = append(out, "added "+e.ID+" "+e.District+" "+e.Commune)
		}
		return out, p
	}
	fromStaging, p := applied()
	if len(p.Quotas) == 0 {
		t.Fatal("the revision changes no target")
	}
	for _, want := range []string{"added extra-00010 002 00010", "commune 00010 shared exactly: true", "prepared kept once applied: false"} {
		if !slices.Contains(fromStaging, want) {
			t.Errorf("applied from its staging: no %q", want)
		}
	}
	if _, err := d.pool.Exec(d.ctx, `update plan_revisions set prepared_levels = null, prepared_codes = null, prepared_old = null, prepared_new = null
		where campaign_id = $1 and number = $2`, campaignID, n); err != nil {
		t.Fatal(err)
	}
	whole, _ := applied()
	sameLines(t, "applied from its staging", fromStaging, "prepared whole", whole)
}

// applyStaged applies the staged revision n as the campaign's activity does on 20 April, from
// 1 May, in a transaction it returns for the caller to read and roll back.
func (d *drive) applyStaged(n int) (pgx.Tx, *revision.Prepared, []plan.Event) {
	d.t.Helper()
	tx, err := d.pool.Begin(d.ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	p, err := revision.PrepareStaged(d.ctx, tx, "revision 1", campaignID, n, local(d.t, "2021-04-20").Add(9*time.Hour), local(d.t, "2021-05-01"))
	if err == nil {
		var added []plan.Event
		if added, err = revision.Apply(d.ctx, tx, store.PoolOpener(d.pool), p, n, d.spec.PeriodStart); err == nil {
			return tx, p, added
		}
	}
	_ = tx.Rollback(d.ctx)
	d.t.Fatal(err)
	return nil, nil, nil
}

// sameLines reports the first difference between two writers' rows (fixture.Lines).
func sameLines(t *testing.T, gotBy string, got []string, wantBy string, want []string) {
	t.Helper()
	if strings.Join(got, "\n") == strings.Join(want, "\n") {
		return
	}
	t.Errorf("%s: %d rows, %s: %d; first difference:", gotBy, len(got), wantBy, len(want))
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("%q, not %q", got[i], want[i])
			return
		}
	}
}

// stagedOf are a prepared revision's targets as staged: every one it changes, the city's always.
func stagedOf(p *revision.Prepared) []store.QuotaChange {
	for _, c := range p.Quotas {
		if c.Level == "city" {
			return p.Quotas
		}
	}
	return append([]store.QuotaChange{{Level: "city"}}, p.Quotas...)
}

// A revision staged prepared is applied with its agents' targets as they were shared when it
// was staged while the campaign's roster has had no change since (counted by migration 033's
// triggers), and shares each changed commune's target again once it has. Shown by a change the
// count does not see (an agent's weight, written with its triggers disabled): applied from its
// staging, the agent keeps the share of the weights before it; once the roster changes (a
// quota of another commune's agent), the apply shares by the weights as they are. Shown failing
// with the staged agents' targets left out of the apply, and with the count's trigger on quotas
// left out.
func TestRevisionStagedAgentsTargetsWhileTheRosterIsUnchanged(t *testing.T) {
	d := newDrive(t)
	district := d.quota("district", "002")
	revised := revisedPlan(t, [2]string{"  share: 0.01\n", "  share: 0.01\n  overrides: {\"002\": " + strconv.Itoa(district+10) + "}\n"})
	prep, n := d.prepareAndStage(revised, "2021-04-20", "2021-05-01")
	var agent string
	staged := -1
	for _, c := range prep.Quotas {
		if c.Level == "agent" && strings.HasPrefix(c.Code, "DL-00010-") {
			agent, staged = c.Code, c.New
			break
		}
	}
	if agent == "" {
		t.Fatal("the revision changes no agent's target in commune 00010")
	}
	// The agent's weight, ten times what it was, unseen by the count.
	d.exec(`alter table agents disable trigger agents_updated_count`)
	d.exec(`update agents set weight = weight * 10 where campaign_id = $1 and code = $2`, campaignID, agent)
	d.exec(`alter table agents enable trigger agents_updated_count`)
	applied := func() int {
		t.Helper()
		tx, _, _ := d.applyStaged(n)
		defer tx.Rollback(d.ctx) //nolint:errcheck // a test's transaction, rolled back
		var q int
		if err := tx.QueryRow(d.ctx, `select target from quotas where campaign_id = $1 and level = 'agent' and code = $2`, campaignID, agent).Scan(&q); err != nil {
			t.Fatal(err)
		}
		return q
	}
	if got := applied(); got != staged {
		t.Errorf("%s applied with the roster unchanged: %d, want %d as staged", agent, got, staged)
	}
	// A counted change of the roster elsewhere: the commune's target is shared again, by the
	// weights as they are.
	d.exec(`update quotas set target = target where campaign_id = $1 and level = 'agent' and code like 'DL-00001-%'`, campaignID)
	if got := applied(); got <= staged {
		t.Errorf("%s applied once the roster changed: %d, want more than the %d staged (its weight is ten times what it was)", agent, got, staged)
	}
}

// Every write of a campaign's agents or of its agents' quotas counts as a change of its roster
// (migration 033), whichever statement makes it, and no other write does: the units' quotas,
// or a statement that writes no agent, leave the count as it is.
func TestRosterChangesCountAgentsAndTheirQuotas(t *testing.T) {
	d := newDrive(t)
	count := func() int64 {
		t.Helper()
		n, err := store.RosterChanges(d.ctx, d.pool, campaignID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	agent := "DL-00001-1"
	for _, w := range []struct {
		what    string
		sql     string
		counted bool
	}{
		{"an agent's status", `update agents set status = 'terminated' where campaign_id = $1 and code = '` + agent + `'`, true},
		{"an agent's quota", `update quotas set target = target + 1 where campaign_id = $1 and level = 'agent' and code = '` + agent + `'`, true},
		{"an agent's quota row deleted", `delete from quotas where campaign_id = $1 and level = 'agent' and code = '` + agent + `'`, true},
		{"an agent's quota row added", `insert into quotas (campaign_id, level, code, target) values ($1, 'agent', '` + agent + `', 3)`, true},
		{"an agent added", `insert into agents (campaign_id, code, commune_code, district_code, kind, full_name, phone, post_office, weight)
			select campaign_id, 'NEW-1', commune_code, district_code, kind, 'x', 'x', post_office, weight
			from agents where campaign_id = $1 and code = '` + agent + `'`, true},
		{"an agent removed", `delete from agents where campaign_id = $1 and code = 'NEW-1'`, true},
		{"a commune's quota", `update quotas set target = target + 1 where campaign_id = $1 and level = 'commune' and code = '00001'`, false},
		{"no agent", `update agents set weight = weight where campaign_id = $1 and code = 'none'`, false},
	} {
		before := count()
		d.exec(w.sql, campaignID)
		if after := count(); (after != before) != w.counted || after < before {
			t.Errorf("%s: the roster's changes %d → %d; counted: want %t", w.what, before, after, w.counted)
		}
	}
}
