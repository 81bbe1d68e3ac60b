package activities_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"drives/activities"
	"drives/campaign"
	"drives/imports"
	"drives/internal/testenv"
	"drives/plan"
	"drives/report"
)

// Prepare --------------------------------------------------------------------------------

func TestPrepareWritesExactQuotasRosterEventsAndOneAuditRowPerEffect(t *testing.T) {
	d := newDrive(t)

	// The spec the workflows run on.
	if d.spec.CampaignID != campaignID || d.spec.Target != 127 || len(d.spec.Districts) != 2 || len(d.spec.Events) != 5 {
		t.Fatalf("spec: campaign %q target %d, %d districts, %d events; want test-2021, 127, 2, 5",
			d.spec.CampaignID, d.spec.Target, len(d.spec.Districts), len(d.spec.Events))
	}
	if want := (activities.AllocateResult{Units: 16, Events: 5, Target: 127}); d.alloc != want {
		t.Errorf("AllocateQuotas = %+v, want %+v", d.alloc, want)
	}
	if want := (activities.AssignResult{Agents: 7, Staff: 4}); d.asg != want {
		t.Errorf("AssignAgents = %+v, want %+v", d.asg, want)
	}

	// The campaign is running with its target and clock.
	var status string
	var target *int
	var epoch, start *time.Time
	var launched bool
	if err := d.pool.QueryRow(d.ctx, `select status, target, clock_epoch, clock_start, launched_at is not null from campaigns where id = $1`, campaignID).
		Scan(&status, &target, &epoch, &start, &launched); err != nil {
		t.Fatal(err)
	}
	if status != "running" || target == nil || *target != 127 || !launched {
		t.Errorf("campaign: status %q, target %v, launched %v; want running, 127, launched", status, target, launched)
	}
	if epoch == nil || start == nil || !epoch.Equal(d.clock.Epoch) || !start.Equal(d.spec.PeriodStart) {
		t.Errorf("campaign clock: epoch %v start %v, want %v and %v", epoch, start, d.clock.Epoch, d.spec.PeriodStart)
	}

	// Row counts match the plan.
	for level, want := range map[string]int{"district": 2, "commune": 5, "village": 9} {
		if got := d.count(`select count(*) from units where campaign_id = $1 and level = $2`, campaignID, level); got != want {
			t.Errorf("%d %s units, want %d", got, level, want)
		}
	}
	if got := d.count(`select sum(labour_force) from units where campaign_id = $1 and level = 'district'`, campaignID); got != 12734 {
		t.Errorf("districts' labour force sums to %d, want 12734", got)
	}
	if got := d.count(`select count(*) from agents where campaign_id = $1`, campaignID); got != 11 {
		t.Errorf("%d agents and staff, want 11", got)
	}
	if got := d.count(`select count(*) from agents where campaign_id = $1 and kind = 'staff'`, campaignID); got != 4 {
		t.Errorf("%d staff, want 4", got)
	}
	if got := d.count(`select count(*) from target_groups where campaign_id = $1`, campaignID); got != 2 {
		t.Errorf("%d target groups, want 2", got)
	}
	// The planner knows the launched rows when the campaign's first statements run (a review
	// planned on statistics from before a national launch ran for minutes): each table the
	// launch filled was analysed with it (a table this small is counted whole).
	for _, table := range []string{"units", "quotas", "agents", "events"} {
		var planned float64
		if err := d.pool.QueryRow(d.ctx, `select reltuples from pg_class where oid = $1::regclass`, table).Scan(&planned); err != nil {
			t.Fatal(err)
		}
		if rows := d.count(`select count(*) from ` + table); planned != float64(rows) {
			t.Errorf("the planner counts %v rows of %s after the launch; it has %d", planned, table, rows)
		}
	}

	// Quotas: one per unit and per person, and exact sums at every level.
	if got := d.count(`select count(*) from quotas where campaign_id = $1`, campaignID); got != 1+16+11 {
		t.Errorf("%d quota rows, want %d (city, 16 units, 11 people)", got, 1+16+11)
	}
	quota := func(level, code string) int {
		return d.count(`select target from quotas where campaign_id = $1 and level = $2 and code = $3`, campaignID, level, code)
	}
	if got := quota("city", campaignID); got != 127 {
		t.Errorf("city quota %d, want 127", got)
	}
	// Largest remainder: 127 × 4,500 / 12,734 = 44.88 and 127 × 8,234 / 12,734 = 82.12; the one
	// left over goes to the larger remainder.
	if a, b := quota("district", "001"), quota("district", "002"); a != 45 || b != 82 {
		t.Errorf("district quotas %d and %d, want 45 and 82", a, b)
	}
	for _, level := range []string{"district", "village", "agent"} {
		if got := d.count(`select coalesce(sum(target), 0)::int from quotas where campaign_id = $1 and level = $2`, campaignID, level); got != 127 {
			t.Errorf("%s quotas sum to %d, want the city's 127", level, got)
		}
	}
	rows, err := d.pool.Query(d.ctx, `
		select p.level, p.code, qp.target, coalesce(sum(qc.target), 0)::int, count(c.code)::int
		from units p
		join quotas qp on qp.campaign_id = p.campaign_id and qp.level = p.level and qp.code = p.code
		left join units c on c.campaign_id = p.campaign_id and c.parent_code = p.code
		left join quotas qc on qc.campaign_id = c.campaign_id and qc.level = c.level and qc.code = c.code
		where p.campaign_id = $1 and p.level in ('district', 'commune')
		group by p.level, p.code, qp.target
		union all
		select 'commune agents', c.code, qc.target, coalesce(sum(qa.target), 0)::int, count(a.code)::int
		from units c
		join quotas qc on qc.campaign_id = c.campaign_id and qc.level = 'commune' and qc.code = c.code
		left join agents a on a.campaign_id = c.campaign_id and a.commune_code = c.code
		left join quotas qa on qa.campaign_id = a.campaign_id and qa.level = 'agent' and qa.code = a.code
		where c.campaign_id = $1 and c.level = 'commune'
		group by c.code, qc.target`, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for rows.Next() {
		var level, code string
		var target, children, n int
		if err := rows.Scan(&level, &code, &target, &children, &n); err != nil {
			t.Fatal(err)
		}
		checked++
		if n == 0 || children != target {
			t.Errorf("%s %s: quota %d, its %d children's quotas sum to %d", level, code, target, n, children)
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if checked != 2+5+5 {
		t.Errorf("checked %d sums, want 12", checked)
	}

	// Events: the city-wide round is one event per district.
	type ev struct {
		ID, Parent, District, Commune, Title, Status, Source string
		At                                                   time.Time
		Groups                                               []string
		Expected                                             int
	}
	evRows, err := d.pool.Query(d.ctx, `
		select id, coalesce(parent_id, ''), district_code, coalesce(commune_code, ''), title, status, source, scheduled_at, groups, expected_attendance
		from events where campaign_id = $1 order by id`, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	var got []ev
	for evRows.Next() {
		var e ev
		if err := evRows.Scan(&e.ID, &e.Parent, &e.District, &e.Commune, &e.Title, &e.Status, &e.Source, &e.At, &e.Groups, &e.Expected); err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	at := func(y, m, dd int) time.Time { return time.Date(y, time.Month(m), dd, 9, 0, 0, 0, hcm) }
	want := []ev{
		{"conf-001", "", "001", "", "Hội nghị quận Một", "planned", "plan", at(2021, 3, 1), []string{"trader"}, 120},
		{"d2d-00010", "", "002", "00010", "", "planned", "plan", at(2021, 4, 1), []string{"trader", "student"}, 0},
		{"dlg-00002", "", "001", "00002", "", "planned", "plan", at(2021, 6, 1), []string{"student"}, 0},
		{"po-1.001", "po-1", "001", "", "Đợt tuyên truyền cùng Bưu điện", "planned", "plan", at(2021, 3, 22), []string{"trader", "student"}, 0},
		{"po-1.002", "po-1", "002", "", "Đợt tuyên truyền cùng Bưu điện", "planned", "plan", at(2021, 3, 22), []string{"trader", "student"}, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.At.Equal(w.At) {
			t.Errorf("event %s at %v, want %v", g.ID, g.At, w.At)
		}
		g.At, w.At = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("event row\n got %+v\nwant %+v", g, w)
		}
	}

	// One audit row per effect, naming the activity execution.
	audits := d.audit(`true`)
	if len(audits) != 2 {
		t.Fatalf("%d audit rows, want 2 (quotas.allocate, agents.assign): %+v", len(audits), audits)
	}
	for i, action := range []string{"quotas.allocate", "agents.assign"} {
		a := audits[i]
		if a.Action != action || a.Entity != "campaign" || a.EntityKey != campaignID || a.Actor != "workflow" {
			t.Errorf("audit row %d: %+v, want %s of campaign %s by workflow", i, a, action, campaignID)
		}
		if a.WorkflowID == "" || a.RunID == "" || a.ActivityID == "" || a.Attempt < 1 || len(a.Result) == 0 {
			t.Errorf("audit row %s does not name its activity execution: %+v", action, a)
		}
	}
	if audits[0].ActivityID == audits[1].ActivityID {
		t.Errorf("two effects share activity ID %s", audits[0].ActivityID)
	}
	var stored activities.AllocateResult
	if err := json.Unmarshal(audits[0].Result, &stored); err != nil || stored != d.alloc {
		t.Errorf("stored allocation result %s (%v), want %+v", audits[0].Result, err, d.alloc)
	}
}

func TestLoadPlanRefusesAChangedPlan(t *testing.T) {
	d := newDrive(t)
	_, err := call[plan.Spec](d, d.acts.LoadPlan, activities.PlanInput{CampaignID: campaignID, PlanHash: "0123456789abcdef"})
	wantErrType(t, err, activities.ErrPlanChanged)
	_, err = call[plan.Spec](d, d.acts.LoadPlan, activities.PlanInput{CampaignID: "no-such-campaign", PlanHash: d.plan.PlanHash})
	wantErrType(t, err, activities.ErrNotFound)
}

type auditRow struct {
	Action, Entity, EntityKey, Actor string
	WorkflowID, RunID, ActivityID    string
	Attempt                          int
	Result                           json.RawMessage
}

// audit lists the audit rows matching a condition, in order.
func (d *drive) audit(where string, args ...any) []auditRow {
	d.t.Helper()
	rows, err := d.pool.Query(d.ctx, `
		select action, entity, entity_key, actor, coalesce(workflow_id, ''), coalesce(run_id, ''), coalesce(activity_id, ''),
			coalesce(attempt, 0), coalesce(result::text, '')
		from audit_log where `+where+` order by id`, args...)
	if err != nil {
		d.t.Fatal(err)
	}
	var out []auditRow
	for rows.Next() {
		var a auditRow
		var result string
		if err := rows.Scan(&a.Action, &a.Entity, &a.EntityKey, &a.Actor, &a.WorkflowID, &a.RunID, &a.ActivityID, &a.Attempt, &result); err != nil {
			d.t.Fatal(err)
		}
		a.Result = json.RawMessage(result)
		out = append(out, a)
	}
	if rows.Err() != nil {
		d.t.Fatal(rows.Err())
	}
	return out
}

// Idempotency ----------------------------------------------------------------------------

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSameActivityExecutionTwiceHasOneEffect(t *testing.T) {
	d := newDrive(t)
	d.hold("conf-001")
	leads := []person{lead(1, "00001", "00001-01", "trader"), lead(2, "00001", "", "student"), lead(3, "00003", "00003-02", "trader")}
	leadsBatch := d.stage(imports.Leads, "conf-001", "leads.csv", leadsCSV(leads...))
	in := activities.EventResultInput{CampaignID: campaignID, Policy: d.spec.Policy,
		Request: campaign.EventResultRequest{EventID: "conf-001", Attendance: 90, BatchID: leadsBatch, By: "coordinator-a"}}

	// Attempt 1 and a retried attempt 2 of one activity execution.
	const wf, run = "campaign:test-2021", "run-1"
	d.pin.set(wf, run, "record-conf-001", 1)
	first := mustCall[campaign.LeadsResult](d, d.acts.RecordEventResult, in)
	d.pin.set(wf, run, "record-conf-001", 2)
	second := mustCall[campaign.LeadsResult](d, d.acts.RecordEventResult, in)
	if first.New != 3 || first.FollowUps != 3 {
		t.Fatalf("first attempt: %+v, want 3 new leads with 3 follow-ups", first)
	}
	if jsonOf(t, first) != jsonOf(t, second) {
		t.Errorf("retried attempt returned %+v, the first %+v", second, first)
	}
	if n := d.count(`select count(*) from prospects`); n != 3 {
		t.Errorf("%d prospects after two attempts, want 3", n)
	}
	if n := d.count(`select count(*) from follow_ups`); n != 3 {
		t.Errorf("%d follow-ups after two attempts, want 3", n)
	}
	if a := d.audit(`activity_id = 'record-conf-001'`); len(a) != 1 || a[0].Attempt != 1 || a[0].WorkflowID != wf || a[0].RunID != run {
		t.Errorf("audit rows of the execution: %+v, want one row of attempt 1", a)
	}

	enrolBatch := d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(
		enrolment{leads[0], "DL-00001-1", 1_500_000, "other", "monthly", "2021-03-10"},
		enrolment{lead(50, "00010", "00010-01", "student"), "DL-00010-2", 700_000, "poor", "6m", "2021-03-11"},
	))
	merge := activities.MergeInput{CampaignID: campaignID, BatchID: enrolBatch, By: "coordinator-a"}
	d.pin.set(wf, run, "merge-1", 1)
	m1 := mustCall[campaign.ImportResult](d, d.acts.MergeImport, merge)
	d.pin.set(wf, run, "merge-1", 2)
	m2 := mustCall[campaign.ImportResult](d, d.acts.MergeImport, merge)
	if m1.New != 2 || m1.FollowUpsClosed != 1 {
		t.Fatalf("merge: %+v, want 2 new enrolments closing 1 follow-up", m1)
	}
	if jsonOf(t, m1) != jsonOf(t, m2) {
		t.Errorf("retried merge returned %+v, the first %+v", m2, m1)
	}
	if n := d.count(`select count(*) from enrolments`); n != 2 {
		t.Errorf("%d enrolments after two attempts, want 2", n)
	}
	if a := d.audit(`activity_id = 'merge-1'`); len(a) != 1 || a[0].Attempt != 1 {
		t.Errorf("audit rows of the merge: %+v, want one row of attempt 1", a)
	}

	// Another execution (a new activity ID) of the same merge is refused by the batch's
	// state, and writes nothing either.
	d.pin.set(wf, run, "merge-2", 1)
	_, err := call[campaign.ImportResult](d, d.acts.MergeImport, merge)
	wantErrType(t, err, activities.ErrInvalidState)
	// And a new execution of the preparation writes no row twice.
	d.pin.set(wf, run, "allocate-again", 1)
	again := mustCall[activities.AllocateResult](d, d.acts.AllocateQuotas, activities.AllocateInput{PlanInput: d.plan, Clock: d.clock})
	d.pin.set(wf, run, "assign-again", 1)
	mustCall[activities.AssignResult](d, d.acts.AssignAgents, d.plan)
	d.pin.on = false
	if again != d.alloc {
		t.Errorf("second allocation %+v, first %+v", again, d.alloc)
	}
	for table, want := range map[string]int{"units": 16, "quotas": 28, "agents": 11, "events": 5, "target_groups": 2, "enrolments": 2} {
		if n := d.count(`select count(*) from ` + table); n != want {
			t.Errorf("%d rows in %s, want %d", n, table, want)
		}
	}
	if n := d.count(`select count(*) from audit_log where action = 'import.merge'`); n != 1 {
		t.Errorf("%d import.merge audit rows, want 1", n)
	}
}

func TestCrashAfterCommitRetryReturnsStoredResult(t *testing.T) {
	d := newDrive(t)
	d.hold("conf-001")
	leads := []person{lead(1, "00001", "00001-01", "trader"), lead(2, "00001", "00001-02", "student"),
		lead(3, "00002", "00002-01", "student"), lead(4, "00003", "", "trader")}
	leadsBatch := d.stage(imports.Leads, "conf-001", "leads.csv", leadsCSV(leads...))

	var hooked []string
	crashy := &activities.Activities{Pool: d.pool, FailAfterCommit: func(name string, attempt int32) error {
		hooked = append(hooked, fmt.Sprintf("%s#%d", name, attempt))
		if attempt == 1 {
			return errors.New("worker lost right after the commit")
		}
		return nil
	}}

	res, attempts, err := runInWorkflow[activities.EventResultInput, campaign.LeadsResult](t, crashy, "campaign:test-2021:retry-leads", "RecordEventResult",
		activities.EventResultInput{CampaignID: campaignID, Policy: d.spec.Policy,
			Request: campaign.EventResultRequest{EventID: "conf-001", Attendance: 60, BatchID: leadsBatch, By: "coordinator-a"}})
	if err != nil {
		t.Fatalf("RecordEventResult: %v", err)
	}
	if want := []string{"RecordEventResult#1", "RecordEventResult#2"}; !slices.Equal(attempts, want) {
		t.Fatalf("attempts %v, want %v", attempts, want)
	}
	// The post-commit hook ran once: attempt 2 found the committed effect and did not redo it.
	if want := []string{"RecordEventResult#1"}; !slices.Equal(hooked, want) {
		t.Errorf("effects committed by attempts %v, want %v", hooked, want)
	}
	if res.Leads != 4 || res.New != 4 || res.FollowUps != 4 || res.District != "001" {
		t.Errorf("result of the retried attempt %+v, want 4 leads, 4 new, 4 follow-ups in 001", res)
	}
	if p, f := d.count(`select count(*) from prospects`), d.count(`select count(*) from follow_ups`); p != 4 || f != 4 {
		t.Errorf("%d prospects and %d follow-ups, want 4 and 4", p, f)
	}
	if a := d.audit(`action = 'event.results'`); len(a) != 1 || a[0].Attempt != 1 || a[0].WorkflowID != "campaign:test-2021:retry-leads" {
		t.Errorf("event.results audit rows %+v, want one of attempt 1 of the workflow", a)
	}

	hooked = nil
	enrolBatch := d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(
		enrolment{leads[0], "DL-00001-2", 2_000_000, "near_poor", "3m", "2021-03-20"},
		enrolment{leads[2], "CB-00002", 700_000, "poor", "monthly", "2021-03-21"},
		enrolment{lead(9, "00011", "00011-02", "trader"), "DL-00011-1", 5_000_000, "other", "12m", "2021-03-22"},
	))
	m, attempts, err := runInWorkflow[activities.MergeInput, campaign.ImportResult](t, crashy, "campaign:test-2021:retry-enrol", "MergeImport",
		activities.MergeInput{CampaignID: campaignID, BatchID: enrolBatch, By: "coordinator-a"})
	if err != nil {
		t.Fatalf("MergeImport: %v", err)
	}
	if want := []string{"MergeImport#1", "MergeImport#2"}; !slices.Equal(attempts, want) || !slices.Equal(hooked, want[:1]) {
		t.Fatalf("attempts %v, committed by %v", attempts, hooked)
	}
	if m.Rows != 3 || m.New != 3 || m.Duplicates != 0 || m.FollowUpsClosed != 2 || m.ByDistrict["001"] != 2 || m.ByDistrict["002"] != 1 {
		t.Errorf("merge result %+v, want 3 new (001: 2, 002: 1) closing 2 follow-ups", m)
	}
	if n := d.count(`select count(*) from enrolments`); n != 3 {
		t.Errorf("%d enrolments, want 3", n)
	}
	if n := d.count(`select count(*) from follow_ups where status = 'enrolled'`); n != 2 {
		t.Errorf("%d follow-ups enrolled, want 2", n)
	}

	hooked = nil
	outBatch := d.stage(imports.Outcomes, "", "outcomes.csv", outcomesCSV(
		outcome{leads[1].id, "declined", "2021-03-25"}, outcome{leads[3].id, "unreachable", "2021-03-26"}))
	o, attempts, err := runInWorkflow[activities.MergeInput, campaign.ImportResult](t, crashy, "campaign:test-2021:retry-outcomes", "MergeImport",
		activities.MergeInput{CampaignID: campaignID, BatchID: outBatch, By: "coordinator-a"})
	if err != nil {
		t.Fatalf("MergeImport outcomes: %v", err)
	}
	if len(attempts) != 2 || len(hooked) != 1 {
		t.Fatalf("attempts %v, committed by %v", attempts, hooked)
	}
	if o.New != 2 || o.FollowUpsClosed != 2 {
		t.Errorf("outcomes result %+v, want 2 follow-ups closed", o)
	}
	for status, want := range map[string]int{"open": 0, "enrolled": 2, "declined": 1, "unreachable": 1} {
		if n := d.count(`select count(*) from follow_ups where status = $1`, status); n != want {
			t.Errorf("%d follow-ups %s, want %d", n, status, want)
		}
	}
	if n := d.count(`select count(*) from audit_log where action = 'import.merge'`); n != 2 {
		t.Errorf("%d import.merge audit rows, want 2 (one per batch)", n)
	}
	if n := d.count(`select count(*) from audit_log where activity_id is not null and attempt <> 1`); n != 0 {
		t.Errorf("%d audit rows written by a retried attempt, want 0", n)
	}
}

// Event results → follow-ups -------------------------------------------------------------

type followUp struct {
	Citizen, Commune, Agent, Status string
	Priority                        float64
	Opened, Due, GiveUp             time.Time
}

func (d *drive) followUps() map[string]followUp {
	d.t.Helper()
	rows, err := d.pool.Query(d.ctx, `
		select p.citizen_id, f.commune_code, f.agent_code, f.status, f.priority, f.opened_at, f.due_at, f.give_up_at
		from follow_ups f join prospects p on p.id = f.prospect_id where f.campaign_id = $1`, campaignID)
	if err != nil {
		d.t.Fatal(err)
	}
	out := map[string]followUp{}
	for rows.Next() {
		var f followUp
		if err := rows.Scan(&f.Citizen, &f.Commune, &f.Agent, &f.Status, &f.Priority, &f.Opened, &f.Due, &f.GiveUp); err != nil {
			d.t.Fatal(err)
		}
		out[f.Citizen] = f
	}
	if rows.Err() != nil {
		d.t.Fatal(rows.Err())
	}
	return out
}

func TestEventResultsBecomeFollowUpsForActiveAgentsOfTheCommune(t *testing.T) {
	d := newDrive(t)
	held := d.hold("conf-001")
	// A terminated agent gets no new work.
	d.exec(`update agents set status = 'terminated' where code = 'DL-00001-3'`)

	leads := []person{
		lead(1, "00001", "00001-01", "student"), // line 2
		lead(2, "00001", "00001-02", "trader"),  // line 3
		lead(3, "00001", "", "student"),         // line 4
		lead(4, "00001", "00001-01", "trader"),  // line 5
		lead(5, "00001", "00001-02", "student"), // line 6
		lead(6, "00002", "00002-01", "student"), // commune with staff only
		lead(7, "00002", "", "trader"),
		lead(8, "00003", "00003-01", "trader"), // commune with staff and an agent
	}
	res := d.recordLeads("conf-001", 150, leads...)
	want := campaign.LeadsResult{EventID: "conf-001", District: "001", Leads: 8, New: 8, FollowUps: 8, EarliestDue: held.Add(7 * day).UTC()}
	if !res.EarliestDue.Equal(want.EarliestDue) {
		t.Errorf("earliest due %v, want %v (the first reminder)", res.EarliestDue, want.EarliestDue)
	}
	res.EarliestDue = want.EarliestDue
	if res != want {
		t.Errorf("RecordEventResult = %+v, want %+v", res, want)
	}
	if n := d.count(`select count(*) from prospects where event_id = 'conf-001' and created_at = $1`, held); n != 8 {
		t.Errorf("%d prospects of the event created at its holding, want 8", n)
	}

	// Leads of the likelier group (trader 0.45) are dealt first, round the commune's active
	// agents in code order; the students follow, continuing the round.
	wantAgent := map[string]string{
		citizen(2): "DL-00001-1", citizen(4): "DL-00001-2", // traders
		citizen(1): "DL-00001-1", citizen(3): "DL-00001-2", citizen(5): "DL-00001-1", // students
		citizen(6): "CB-00002", citizen(7): "CB-00002",
		citizen(8): "DL-00003-1",
	}
	fus := d.followUps()
	if len(fus) != 8 {
		t.Fatalf("%d follow-ups, want 8", len(fus))
	}
	for id, agent := range wantAgent {
		f := fus[id]
		if f.Agent != agent {
			t.Errorf("lead %s of commune %s is followed up by %q, want %s", id, f.Commune, f.Agent, agent)
		}
		if f.Status != "open" || !f.Opened.Equal(held) || !f.Due.Equal(held.Add(30*day)) || !f.GiveUp.Equal(held.Add(60*day)) {
			t.Errorf("follow-up of %s: %+v, want open from %v, due 30 days later, given up after 60", id, f, held)
		}
	}
	if fus[citizen(2)].Priority != 0.45 || fus[citizen(1)].Priority != 0.15 {
		t.Errorf("priorities %v and %v, want the groups' likelihoods 0.45 and 0.15", fus[citizen(2)].Priority, fus[citizen(1)].Priority)
	}
	if n := d.count(`select count(*) from follow_ups f join agents a on a.campaign_id = f.campaign_id and a.code = f.agent_code
		where a.status <> 'active' or a.commune_code <> f.commune_code`); n != 0 {
		t.Errorf("%d follow-ups held by an inactive agent or one of another commune", n)
	}

	// The event and the batch record the results.
	var attendance, nLeads int
	var status string
	var batch *string
	if err := d.pool.QueryRow(d.ctx, `select status, attendance, leads, results_batch::text from events where id = 'conf-001'`).
		Scan(&status, &attendance, &nLeads, &batch); err != nil {
		t.Fatal(err)
	}
	if status != "held" || attendance != 150 || nLeads != 8 || batch == nil {
		t.Errorf("event: %s, attendance %d, leads %d, batch %v", status, attendance, nLeads, batch)
	}
	if n := d.count(`select count(*) from import_batches where id = $1 and status = 'merged' and result is not null`, *batch); n != 1 {
		t.Errorf("the leads batch is not marked merged with its result")
	}
	if n := d.count(`select count(*) from import_rows`); n != 0 {
		t.Errorf("%d staged rows left after the merge, want 0", n)
	}
	if a := d.audit(`action = 'event.results'`); len(a) != 1 || a[0].EntityKey != "conf-001" || a[0].Actor != "coordinator-a" {
		t.Errorf("audit: %+v, want one event.results row for conf-001 by coordinator-a", a)
	}

	// Recording the event's results again is refused and writes nothing.
	again := d.stage(imports.Leads, "conf-001", "more-leads.csv", leadsCSV(lead(20, "00001", "", "trader")))
	_, err := call[campaign.LeadsResult](d, d.acts.RecordEventResult, activities.EventResultInput{CampaignID: campaignID, Policy: d.spec.Policy,
		Request: campaign.EventResultRequest{EventID: "conf-001", Attendance: 10, BatchID: again, By: "coordinator-a"}})
	wantErrType(t, err, activities.ErrInvalidState)
	// Leads of an event not held yet are refused.
	planned := d.stage(imports.Leads, "dlg-00002", "dialogue-leads.csv", leadsCSV(lead(21, "00002", "", "student")))
	_, err = call[campaign.LeadsResult](d, d.acts.RecordEventResult, activities.EventResultInput{CampaignID: campaignID, Policy: d.spec.Policy,
		Request: campaign.EventResultRequest{EventID: "dlg-00002", Attendance: 10, BatchID: planned, By: "coordinator-a"}})
	wantErrType(t, err, activities.ErrInvalidState)
	// A batch staged for another event is refused too.
	heldPO := d.hold("po-1.001")
	_, err = call[campaign.LeadsResult](d, d.acts.RecordEventResult, activities.EventResultInput{CampaignID: campaignID, Policy: d.spec.Policy,
		Request: campaign.EventResultRequest{EventID: "po-1.001", Attendance: 10, BatchID: planned, By: "coordinator-a"}})
	wantErrType(t, err, activities.ErrInvalidImport)
	if n := d.count(`select count(*) from prospects`); n != 8 {
		t.Errorf("%d prospects after refused results, want 8", n)
	}
	if n := d.count(`select count(*) from events where results_batch is not null`); n != 1 {
		t.Errorf("%d events with results, want 1", n)
	}
	if n := d.count(`select count(*) from audit_log where action = 'event.results'`); n != 1 {
		t.Errorf("%d event.results audit rows, want 1", n)
	}

	// A later event: a lead already known is a duplicate; a new one goes to the least loaded
	// agent (DL-00001-1 holds 3 open follow-ups, DL-00001-2 holds 2).
	res = d.recordLeads("po-1.001", 40, lead(2, "00001", "00001-02", "trader"), lead(30, "00001", "", "student"))
	if res.Leads != 2 || res.New != 1 || res.Duplicates != 1 || res.FollowUps != 1 {
		t.Errorf("second event: %+v, want 2 leads, 1 new, 1 duplicate, 1 follow-up", res)
	}
	f := d.followUps()[citizen(30)]
	if f.Agent != "DL-00001-2" || !f.Opened.Equal(heldPO) {
		t.Errorf("new lead of the second event: %+v, want DL-00001-2 from %v", f, heldPO)
	}
}

// A lead who enrolled before the event (people who joined earlier come to events too) gets no
// follow-up to chase, and their enrolment is linked to the lead.
func TestLeadAlreadyEnrolledGetsNoOpenFollowUp(t *testing.T) {
	d := newDrive(t)
	member := lead(1, "00001", "00001-01", "trader")
	d.merge(d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(
		enrolment{member, "DL-00001-1", 1_000_000, "other", "monthly", "2021-02-10"})))
	held := d.hold("conf-001")
	d.recordLeads("conf-001", 20, member, lead(2, "00001", "", "student"))
	enrolledOpen := `select count(*) from follow_ups f join prospects p on p.id = f.prospect_id
		join enrolments e on e.campaign_id = p.campaign_id and e.citizen_id = p.citizen_id where f.status = $1`
	if n := d.count(enrolledOpen, "open"); n != 0 {
		t.Errorf("%d open follow-ups of people enrolled before the event, want 0", n)
	}
	d.advance("001", held.Add(60*day))
	if n := d.count(enrolledOpen, "unreachable"); n != 0 {
		t.Errorf("%d enrolled people counted as unreachable leads after the sweep, want 0", n)
	}
}

// Sweep ----------------------------------------------------------------------------------

func TestSweepRemindsEscalatesAndGivesUpOnTime(t *testing.T) {
	d := newDrive(t)
	held := d.hold("conf-001")
	leads := []person{lead(1, "00001", "00001-01", "trader"), lead(2, "00001", "", "student"),
		lead(3, "00002", "00002-01", "trader"), lead(4, "00003", "00003-02", "student")}
	d.recordLeads("conf-001", 30, leads...)
	staffOf := map[string]string{citizen(1): "CB-00001", citizen(2): "CB-00001", citizen(3): "CB-00002", citizen(4): "CB-00003"}

	type step struct {
		after                            time.Duration
		reminded, escalated, unreachable int
		nextDue                          time.Duration // from held; -1: none
		remindersSent                    int           // of each open follow-up
	}
	check := func(s step) {
		t.Helper()
		res := d.advance("001", held.Add(s.after))
		sw := res.Sweep
		if len(res.Held) != 0 || sw.Reminded != s.reminded || sw.Escalated != s.escalated || sw.Unreachable != s.unreachable {
			t.Errorf("sweep at +%v: held %v, %+v; want %d reminded, %d escalated, %d unreachable",
				s.after, res.Held, sw, s.reminded, s.escalated, s.unreachable)
		}
		if s.nextDue < 0 {
			if !sw.NextDue.IsZero() {
				t.Errorf("sweep at +%v: next due %v, want none", s.after, sw.NextDue)
			}
		} else if !sw.NextDue.Equal(held.Add(s.nextDue)) {
			t.Errorf("sweep at +%v: next due %v, want +%v (%v)", s.after, sw.NextDue, s.nextDue, held.Add(s.nextDue))
		}
		if n := d.count(`select count(*) from follow_ups where status = 'open' and reminders_sent <> $1`, s.remindersSent); n != 0 {
			t.Errorf("sweep at +%v: %d open follow-ups without %d reminders", s.after, n, s.remindersSent)
		}
	}
	check(step{after: day, nextDue: 7 * day})
	check(step{after: 7*day - time.Second, nextDue: 7 * day})
	check(step{after: 7 * day, reminded: 4, nextDue: 21 * day, remindersSent: 1})
	check(step{after: 8 * day, nextDue: 21 * day, remindersSent: 1})

	// Lead 1 enrols: a closed follow-up is neither reminded nor escalated.
	d.merge(d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(
		enrolment{leads[0], "DL-00001-1", 800_000, "other", "monthly", "2021-03-12"})))
	check(step{after: 21 * day, reminded: 3, nextDue: 30 * day, remindersSent: 2})
	check(step{after: 30*day - time.Second, nextDue: 30 * day, remindersSent: 2})
	// The sweep runs a little after the deadline (the workflow wakes on a grid); the
	// escalation is dated at the deadline itself.
	check(step{after: 30*day + time.Hour, escalated: 3, nextDue: 60 * day, remindersSent: 2})

	rows, err := d.pool.Query(d.ctx, `select p.citizen_id, f.escalated_at, coalesce(f.escalated_to, ''), f.due_at
		from follow_ups f join prospects p on p.id = f.prospect_id where f.escalated_at is not null`)
	if err != nil {
		t.Fatal(err)
	}
	escalated := 0
	for rows.Next() {
		var id, to string
		var at, due time.Time
		if err := rows.Scan(&id, &at, &to, &due); err != nil {
			t.Fatal(err)
		}
		escalated++
		if to != staffOf[id] || !at.Equal(due) {
			t.Errorf("lead %s escalated to %q at %v, want %s at the deadline %v", id, to, at, staffOf[id], due)
		}
	}
	if escalated != 3 {
		t.Errorf("%d follow-ups escalated, want 3", escalated)
	}
	check(step{after: 40 * day, nextDue: 60 * day, remindersSent: 2})
	check(step{after: 60*day - time.Second, nextDue: 60 * day, remindersSent: 2})
	check(step{after: 60*day + time.Hour, unreachable: 3, nextDue: -1})
	if n := d.count(`select count(*) from follow_ups where status = 'unreachable' and closed_at = give_up_at`); n != 3 {
		t.Errorf("%d follow-ups closed unreachable at their give-up time, want 3", n)
	}
	if n := d.count(`select count(*) from follow_ups where status = 'enrolled'`); n != 1 {
		t.Errorf("%d follow-ups enrolled, want 1", n)
	}
	// The other district's sweep touched nothing here.
	if res := d.advance("002", held.Add(61*day)); res.Sweep != (campaign.SweepResult{}) {
		t.Errorf("sweep of district 002: %+v, want nothing", res.Sweep)
	}
}

// The campaign's sweep covers every district at once, as one audited effect.
func TestCampaignSweepCoversEveryDistrict(t *testing.T) {
	d := newDrive(t)
	conf := d.hold("conf-001") // district 001
	d.recordLeads("conf-001", 30, lead(1, "00001", "00001-01", "trader"), lead(2, "00002", "", "student"))
	door := d.hold("d2d-00010") // district 002
	d.recordLeads("d2d-00010", 5, lead(3, "00010", "", "trader"))

	asOf := door.Add(7 * day)
	sw := mustCall[campaign.SweepResult](d, d.acts.SweepFollowUps, activities.SweepInput{CampaignID: campaignID, AsOf: asOf, Policy: d.spec.Policy})
	// The conference's leads are past both reminders and their deadline; the door-to-door
	// lead is at its first reminder. Next: its second reminder.
	if sw.Reminded != 3 || sw.Escalated != 2 || sw.Unreachable != 0 || !sw.NextDue.Equal(door.Add(21*day)) {
		t.Errorf("sweep as of %v: %+v; want 3 reminded, 2 escalated, next due %v", asOf, sw, door.Add(21*day))
	}
	if !asOf.After(conf.Add(30 * day)) {
		t.Fatalf("the test's dates: %v is not past the conference's deadline", asOf)
	}
	for district, want := range map[string]int{"001": 2, "002": 1} {
		if n := d.count(`select count(*) from follow_ups where district_code = $1 and reminders_sent > 0`, district); n != want {
			t.Errorf("district %s: %d follow-ups reminded, want %d", district, n, want)
		}
	}
	if n := d.count(`select count(*) from audit_log where action = 'follow_ups.sweep' and entity_key = $1`, campaignID); n != 1 {
		t.Errorf("%d sweep audit rows, want 1", n)
	}
}

// Enrolments and outcomes ----------------------------------------------------------------

func TestMergeEnrolmentsAndOutcomes(t *testing.T) {
	d := newDrive(t)
	d.hold("conf-001")
	l1, l2, l3 := lead(1, "00001", "00001-01", "trader"), lead(2, "00001", "00001-02", "student"), lead(3, "00003", "", "trader")
	d.recordLeads("conf-001", 25, l1, l2, l3)

	file := enrolmentsCSV(
		enrolment{l1, "DL-00001-1", 700_000, "poor", "monthly", "2021-03-15"},
		enrolment{lead(11, "00002", "00002-01", "student"), "CB-00002", 1_500_000, "near_poor", "3m", "2021-04-01"},
		enrolment{lead(12, "00010", "00010-02", "trader"), "DL-00010-1", 29_800_000, "other", "12m", "2021-05-02"},
		enrolment{lead(13, "00011", "", "trader"), "DL-00011-1", 2_345_650, "other", "5y", "2021-12-31"},
	)
	batch := d.stage(imports.Enrolments, "", "enrolments.csv", file)
	res := d.merge(batch)
	want := campaign.ImportResult{BatchID: batch, Rows: 4, New: 4, Duplicates: 0, ByDistrict: map[string]int{"001": 2, "002": 2}, FollowUpsClosed: 1}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("merge = %+v, want %+v", res, want)
	}

	type money struct {
		district, agent          string
		income, contrib, subsidy int64
		months                   int
		lead                     bool
	}
	wantRows := map[string]money{
		l1.id:       {"001", "DL-00001-1", 700_000, 154_000, 46_200, 1, true},
		citizen(11): {"001", "CB-00002", 1_500_000, 330_000, 38_500, 3, false},
		citizen(12): {"002", "DL-00010-1", 29_800_000, 6_556_000, 15_400, 12, false},
		citizen(13): {"002", "DL-00011-1", 2_345_650, 516_043, 15_400, 60, false},
	}
	rows, err := d.pool.Query(d.ctx, `select citizen_id, district_code, agent_code, monthly_income, monthly_contribution, monthly_subsidy,
		payment_months, prospect_id is not null from enrolments where campaign_id = $1`, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for rows.Next() {
		var id string
		var m money
		if err := rows.Scan(&id, &m.district, &m.agent, &m.income, &m.contrib, &m.subsidy, &m.months, &m.lead); err != nil {
			t.Fatal(err)
		}
		seen++
		if w, ok := wantRows[id]; !ok || m != w {
			t.Errorf("enrolment %s: %+v, want %+v", id, m, w)
		}
	}
	if seen != 4 {
		t.Errorf("%d enrolments, want 4", seen)
	}

	// The lead who enrolled has their follow-up closed by the batch, on the enrolment date.
	var status string
	var closedAt *time.Time
	var closedBy *string
	if err := d.pool.QueryRow(d.ctx, `select f.status, f.closed_at, f.closed_by_batch::text from follow_ups f join prospects p on p.id = f.prospect_id
		where p.citizen_id = $1`, l1.id).Scan(&status, &closedAt, &closedBy); err != nil {
		t.Fatal(err)
	}
	if status != "enrolled" || closedAt == nil || !closedAt.Equal(time.Date(2021, 3, 15, 0, 0, 0, 0, hcm)) || closedBy == nil || *closedBy != batch {
		t.Errorf("follow-up of the enrolled lead: %s, closed %v by %v; want enrolled on 2021-03-15 by %s", status, closedAt, closedBy, batch)
	}

	// The same file again, as a new batch: nothing new.
	again := d.merge(d.stage(imports.Enrolments, "", "enrolments-again.csv", file))
	if again.Rows != 4 || again.New != 0 || again.Duplicates != 4 || len(again.ByDistrict) != 0 || again.FollowUpsClosed != 0 {
		t.Errorf("re-import: %+v, want 4 rows, 0 new, 4 duplicates", again)
	}
	// A file with two known people and one new.
	mixed := d.merge(d.stage(imports.Enrolments, "", "enrolments-mixed.csv", enrolmentsCSV(
		enrolment{lead(12, "00010", "00010-02", "trader"), "DL-00010-1", 29_800_000, "other", "12m", "2021-05-02"},
		enrolment{lead(14, "00003", "00003-01", "student"), "CB-00003", 1_000_000, "other", "6m", "2021-06-30"},
		enrolment{lead(13, "00011", "", "trader"), "DL-00011-1", 2_345_650, "other", "5y", "2021-12-31"},
	)))
	if mixed.New != 1 || mixed.Duplicates != 2 || !reflect.DeepEqual(mixed.ByDistrict, map[string]int{"001": 1}) {
		t.Errorf("mixed import: %+v, want 1 new (001) and 2 duplicates", mixed)
	}
	if n := d.count(`select count(*) from enrolments`); n != 5 {
		t.Errorf("%d enrolments, want 5", n)
	}

	// Outcomes close the open follow-ups; one naming an enrolled lead changes nothing.
	outBatch := d.stage(imports.Outcomes, "", "outcomes.csv", outcomesCSV(
		outcome{l2.id, "declined", "2021-03-20"}, outcome{l3.id, "unreachable", "2021-03-21"}, outcome{l1.id, "declined", "2021-03-22"}))
	out := d.merge(outBatch)
	if out.Rows != 3 || out.New != 2 || out.FollowUpsClosed != 2 || out.Duplicates != 1 {
		t.Errorf("outcomes: %+v, want 3 rows closing 2 follow-ups", out)
	}
	for id, want := range map[string]string{l1.id: "enrolled", l2.id: "declined", l3.id: "unreachable"} {
		var got string
		var closed time.Time
		if err := d.pool.QueryRow(d.ctx, `select f.status, f.closed_at from follow_ups f join prospects p on p.id = f.prospect_id where p.citizen_id = $1`, id).
			Scan(&got, &closed); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("follow-up of %s is %s, want %s", id, got, want)
		}
		if id == l2.id && !closed.Equal(time.Date(2021, 3, 20, 0, 0, 0, 0, hcm)) {
			t.Errorf("declined follow-up closed at %v, want the reported day 2021-03-20", closed)
		}
	}
	if n := d.count(`select count(*) from audit_log where action = 'import.merge'`); n != 4 {
		t.Errorf("%d import.merge audit rows, want 4", n)
	}
	// A leads batch is not merged this way.
	d.hold("po-1.001")
	leadsBatch := d.stage(imports.Leads, "po-1.001", "po-leads.csv", leadsCSV(lead(40, "00001", "", "trader")))
	_, err = call[campaign.ImportResult](d, d.acts.MergeImport, activities.MergeInput{CampaignID: campaignID, BatchID: leadsBatch, By: "coordinator-a"})
	wantErrType(t, err, activities.ErrInvalidImport)
}

// A large file is merged in the database in one statement, by hash joins: every line is
// enrolled once, in line order, with its district and figures, and the leads among them have
// their follow-ups closed; the same file again adds nobody.
func TestMergeLargeEnrolmentFile(t *testing.T) {
	d := newDrive(t)
	d.hold("conf-001")
	l1 := lead(1, "00001", "00001-01", "trader")
	d.recordLeads("conf-001", 25, l1)

	const n = 12_000 // above the size from which a merge joins by hashes
	es := []enrolment{{l1, "DL-00001-1", 700_000, "poor", "monthly", "2021-03-15"}}
	for i := 1; i < n; i++ {
		commune, agent := "00001", "DL-00001-1"
		if i%3 == 0 {
			commune, agent = "00010", "DL-00010-1"
		}
		es = append(es, enrolment{lead(100_000+i, commune, "", "trader"), agent, 1_000_000 + int64(i), "other", "3m", "2021-04-01"})
	}
	file := enrolmentsCSV(es...)
	batch := d.stage(imports.Enrolments, "", "large.csv", file)
	res := d.merge(batch)
	want := campaign.ImportResult{BatchID: batch, Rows: n, New: n, ByDistrict: map[string]int{"001": n - (n-1)/3, "002": (n - 1) / 3}, FollowUpsClosed: 1}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("merge = %+v, want %+v", res, want)
	}
	// Enrolled in line order: the ids follow the file.
	if c := d.count(`select count(*) from (select citizen_id, row_number() over (order by id) as rn from enrolments where campaign_id = $1) e
		where e.rn > 1 and e.citizen_id <> '0010' || lpad((100000 + e.rn - 1)::text, 8, '0')`, campaignID); c != 0 {
		t.Errorf("%d enrolments out of the file's order", c)
	}
	// Each one's contribution is 22% of its income, rounded down, and its subsidy the class's.
	if c := d.count(`select count(*) from enrolments where campaign_id = $1 and batch_id = $2
		and (monthly_contribution <> monthly_income * 22 / 100 or monthly_subsidy <> case subsidy_class when 'poor' then 46200 else 15400 end)`,
		campaignID, batch); c != 0 {
		t.Errorf("%d enrolments with the wrong contribution or subsidy", c)
	}
	if c := d.count(`select count(*) from follow_ups f join prospects p on p.id = f.prospect_id
		where p.citizen_id = $1 and f.status = 'enrolled' and f.closed_by_batch = $2`, l1.id, batch); c != 1 {
		t.Errorf("the enrolled lead's follow-up is not closed by the batch")
	}
	if c := d.count(`select count(*) from import_rows where batch_id = $1`, batch); c != 0 {
		t.Errorf("%d staged lines left after the merge, want 0", c)
	}

	again := d.merge(d.stage(imports.Enrolments, "", "large-again.csv", file))
	if again.Rows != n || again.New != 0 || again.Duplicates != n || len(again.ByDistrict) != 0 {
		t.Errorf("the same file again: %+v, want %d rows, 0 new", again, n)
	}
	if c := d.count(`select count(*) from enrolments where campaign_id = $1`, campaignID); c != n {
		t.Errorf("%d enrolments, want %d", c, n)
	}
}

// Staged lines are not WAL-logged: a database crash loses them. A merge that finds fewer
// staged lines than its batch recorded refuses the batch, enrols nobody and writes no audit
// row; the file is imported again.
func TestMergeRefusesABatchMissingStagedLines(t *testing.T) {
	d := newDrive(t)
	batch := d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(
		enrolment{lead(11, "00002", "00002-01", "student"), "CB-00002", 1_500_000, "near_poor", "3m", "2021-04-01"},
		enrolment{lead(12, "00010", "00010-02", "trader"), "DL-00010-1", 2_000_000, "other", "12m", "2021-05-02"},
		enrolment{lead(13, "00011", "", "trader"), "DL-00011-1", 2_345_650, "other", "5y", "2021-12-31"},
	))
	d.exec(`delete from import_rows where batch_id = $1 and line = (select max(line) from import_rows where batch_id = $1)`, batch)
	_, err := call[campaign.ImportResult](d, d.acts.MergeImport, activities.MergeInput{CampaignID: campaignID, BatchID: batch, By: "coordinator-a"})
	wantErrType(t, err, activities.ErrInvalidImport)
	if !strings.Contains(err.Error(), "2 of its 3 staged lines") {
		t.Errorf("refusal %q does not say how many lines are missing", err)
	}
	if c := d.count(`select count(*) from enrolments where campaign_id = $1`, campaignID); c != 0 {
		t.Errorf("%d enrolments after a refused merge, want 0", c)
	}
	if c := d.count(`select count(*) from import_batches where id = $1 and status = 'staged'`, batch); c != 1 {
		t.Errorf("the refused batch is no longer staged")
	}
	if c := d.count(`select count(*) from audit_log where action = 'import.merge'`); c != 0 {
		t.Errorf("%d import.merge audit rows after a refused merge, want 0", c)
	}
}

// The merge's guards: a batch is merged only by its own campaign, as the kind it was staged
// as, for the event it was staged for, and once. Each refusal names the batch and what is wrong,
// is permanent, and writes nothing. Shown failing by removing each case of claimBatch in turn
// (the refusal became another one or a merge), and the "nothing written" check by planting an
// audit row before the second fingerprint.
func TestMergeRefusesABatchItMayNotMerge(t *testing.T) {
	d := newDrive(t)
	d.hold("conf-001")
	d.hold("dlg-00002")
	enrolled := d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(
		enrolment{lead(11, "00002", "00002-01", "student"), "CB-00002", 1_500_000, "near_poor", "3m", "2021-04-01"}))
	leads := d.stage(imports.Leads, "conf-001", "conf-001-leads.csv", leadsCSV(lead(1, "00001", "00001-01", "trader")))
	merged := d.stage(imports.Enrolments, "", "merged.csv", enrolmentsCSV(
		enrolment{lead(12, "00010", "00010-02", "trader"), "DL-00010-1", 2_000_000, "other", "12m", "2021-05-02"}))
	d.merge(merged)

	mergeAs := func(campaignID, batch string) func() error {
		return func() error {
			_, err := call[campaign.ImportResult](d, d.acts.MergeImport, activities.MergeInput{CampaignID: campaignID, BatchID: batch, By: "coordinator-a"})
			return err
		}
	}
	recordAs := func(eventID, batch string) func() error {
		return func() error {
			_, err := call[campaign.LeadsResult](d, d.acts.RecordEventResult, activities.EventResultInput{
				CampaignID: campaignID, Policy: d.spec.Policy,
				Request: campaign.EventResultRequest{EventID: eventID, Attendance: 10, BatchID: batch, By: "coordinator-a"}})
			return err
		}
	}
	for _, tc := range []struct {
		name, kind, want string
		try              func() error
	}{
		{"another campaign's batch", activities.ErrInvalidImport,
			fmt.Sprintf("import batch %s belongs to campaign %s, not other-2021", enrolled, campaignID), mergeAs("other-2021", enrolled)},
		{"leads merged as an import", activities.ErrInvalidImport,
			fmt.Sprintf("import batch %s holds leads; record them as an event's results", leads), mergeAs(campaignID, leads)},
		{"enrolments recorded as an event's leads", activities.ErrInvalidImport,
			fmt.Sprintf("import batch %s holds enrolments, not leads", enrolled), recordAs("conf-001", enrolled)},
		{"leads recorded for another event", activities.ErrInvalidImport,
			fmt.Sprintf("import batch %s was staged for another event", leads), recordAs("dlg-00002", leads)},
		{"a batch merged already", activities.ErrInvalidState,
			fmt.Sprintf("import batch %s was merged already", merged), mergeAs(campaignID, merged)},
		{"a batch never staged", activities.ErrNotFound,
			"import batch 00000000-0000-4000-8000-000000000000 is not staged", mergeAs(campaignID, "00000000-0000-4000-8000-000000000000")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := testenv.Fingerprint(t, d.pool)
			err := tc.try()
			wantErrType(t, err, tc.kind)
			var app *temporal.ApplicationError
			if !errors.As(err, &app) || !app.NonRetryable() {
				t.Errorf("%v: want a non-retryable application error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("refusal %q, want it to say %q", err, tc.want)
			}
			if after := testenv.Fingerprint(t, d.pool); !maps.Equal(after, before) {
				t.Errorf("a refused merge changed the database: %v, was %v", after, before)
			}
		})
	}
}

// Cancelling events ----------------------------------------------------------------------

func TestCancelEvent(t *testing.T) {
	d := newDrive(t)
	d.hold("conf-001")
	_, err := call[[]string](d, d.acts.CancelEvent, activities.CancelEventInput{CampaignID: campaignID, EventID: "conf-001", Reason: "too late", By: "coordinator-a"})
	wantErrType(t, err, activities.ErrInvalidState)
	var status string
	if err := d.pool.QueryRow(d.ctx, `select status from events where id = 'conf-001'`).Scan(&status); err != nil || status != "held" {
		t.Errorf("held event is %q after a refused cancel (%v)", status, err)
	}

	ids, err := call[[]string](d, d.acts.CancelEvent, activities.CancelEventInput{CampaignID: campaignID, EventID: "po-1", Reason: "post office strike", By: "coordinator-a"})
	if err != nil {
		t.Fatal(err)
	}
	if got := sorted(ids); !slices.Equal(got, []string{"po-1.001", "po-1.002"}) {
		t.Errorf("cancelled %v, want every district's share of po-1", got)
	}
	if n := d.count(`select count(*) from events where parent_id = 'po-1' and status = 'cancelled' and cancel_reason = 'post office strike'`); n != 2 {
		t.Errorf("%d shares of po-1 cancelled with the reason, want 2", n)
	}
	if n := d.count(`select count(*) from events where status = 'planned'`); n != 2 {
		t.Errorf("%d events still planned, want 2 (d2d-00010, dlg-00002)", n)
	}
	if a := d.audit(`action = 'event.cancel'`); len(a) != 1 || a[0].EntityKey != "po-1" || a[0].Actor != "coordinator-a" {
		t.Errorf("cancel audit rows %+v, want one for po-1 by coordinator-a", a)
	}

	// A cancelled event is not held when its date comes.
	e := d.event("po-1.002")
	res := d.advance("002", e.At, "po-1.002")
	if len(res.Held) != 0 {
		t.Errorf("held %v, want nothing: the event is cancelled", res.Held)
	}
	if n := d.count(`select count(*) from events where id = 'po-1.002' and status = 'cancelled' and held_at is null`); n != 1 {
		t.Errorf("the cancelled event changed when its date came")
	}
	// Cancelling it again is refused.
	_, err = call[[]string](d, d.acts.CancelEvent, activities.CancelEventInput{CampaignID: campaignID, EventID: "po-1", Reason: "again", By: "coordinator-a"})
	wantErrType(t, err, activities.ErrInvalidState)
	if n := d.count(`select count(*) from audit_log where action = 'event.cancel'`); n != 1 {
		t.Errorf("%d event.cancel audit rows, want 1", n)
	}
}

// Closing --------------------------------------------------------------------------------

func TestCloseCampaignStoresTheReport(t *testing.T) {
	d := newDrive(t)
	d.hold("conf-001")
	l1, l2, l3 := lead(1, "00001", "00001-01", "trader"), lead(2, "00002", "", "student"), lead(3, "00003", "00003-01", "trader")
	d.recordLeads("conf-001", 70, l1, l2, l3)
	d.merge(d.stage(imports.Enrolments, "", "e.csv", enrolmentsCSV(
		enrolment{l1, "DL-00001-2", 1_000_000, "other", "monthly", "2021-03-05"},
		enrolment{lead(20, "00010", "00010-01", "student"), "DL-00010-2", 900_000, "poor", "3m", "2021-07-01"},
		enrolment{lead(21, "00010", "", "trader"), "DL-00010-1", 900_000, "near_poor", "6m", "2021-07-02"},
	)))
	d.merge(d.stage(imports.Outcomes, "", "o.csv", outcomesCSV(outcome{l2.id, "declined", "2021-03-10"})))
	d.advance("001", d.event("conf-001").At.Add(30*day)) // escalates l3
	if _, err := call[[]string](d, d.acts.CancelEvent, activities.CancelEventInput{CampaignID: campaignID, EventID: "dlg-00002", Reason: "rain", By: "c"}); err != nil {
		t.Fatal(err)
	}

	res := mustCall[campaign.CloseResult](d, d.acts.CloseCampaign, activities.CloseInput{CampaignID: campaignID, Status: "closed", AsOf: d.spec.PeriodEnd})
	if want := (campaign.CloseResult{CampaignID: campaignID, Status: "closed", Target: 127, Enrolled: 3, PriorYear: 80}); res != want {
		t.Errorf("CloseCampaign = %+v, want %+v", res, want)
	}
	var status string
	var closed bool
	if err := d.pool.QueryRow(d.ctx, `select status, closed_at is not null from campaigns where id = $1`, campaignID).Scan(&status, &closed); err != nil {
		t.Fatal(err)
	}
	if status != "closed" || !closed {
		t.Errorf("campaign %s, closed_at set %v; want closed", status, closed)
	}
	var body []byte
	var reportStatus string
	if err := d.pool.QueryRow(d.ctx, `select status, body from reports where campaign_id = $1`, campaignID).Scan(&reportStatus, &body); err != nil {
		t.Fatalf("stored report: %v", err)
	}
	var r report.Report
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if reportStatus != "closed" || r.Status != "closed" || !r.Final {
		t.Errorf("report status %q / %q final %v, want a final closed report", reportStatus, r.Status, r.Final)
	}

	// Totals against counts taken straight from the tables.
	sql := func(q string) int { return d.count(q) }
	checks := []struct {
		name      string
		got, want int
	}{
		{"target", r.Target, sql(`select target from campaigns`)},
		{"enrolled", r.Enrolled, sql(`select count(*) from enrolments`)},
		{"prior year", r.PriorYear, sql(`select prior_year_enrolled from campaigns`)},
		{"growth", r.Growth, sql(`select count(*) from enrolments`) - sql(`select prior_year_enrolled from campaigns`)},
		{"follow-ups", r.FollowUps.Total, sql(`select count(*) from follow_ups`)},
		{"open", r.FollowUps.Open, sql(`select count(*) from follow_ups where status = 'open'`)},
		{"enrolled follow-ups", r.FollowUps.Enrolled, sql(`select count(*) from follow_ups where status = 'enrolled'`)},
		{"declined", r.FollowUps.Declined, sql(`select count(*) from follow_ups where status = 'declined'`)},
		{"unreachable", r.FollowUps.Unreachable, sql(`select count(*) from follow_ups where status = 'unreachable'`)},
		{"escalated", r.FollowUps.Escalated, sql(`select count(*) from follow_ups where escalated_at is not null`)},
		{"events held", r.Events.Held, sql(`select count(*) from events where status = 'held'`)},
		{"events planned", r.Events.Planned, sql(`select count(*) from events where status = 'planned'`)},
		{"events cancelled", r.Events.Cancelled, sql(`select count(*) from events where status = 'cancelled'`)},
		{"attendance", r.Events.Attendance, sql(`select coalesce(sum(attendance), 0)::int from events`)},
		{"leads", r.Events.Leads, sql(`select count(*) from prospects`)},
		{"units", len(r.Units), sql(`select count(*) from units`)},
		{"agents", len(r.Agents), sql(`select count(*) from agents`)},
		{"groups", len(r.Groups), sql(`select count(*) from target_groups`)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("report %s = %d, the tables say %d", c.name, c.got, c.want)
		}
	}
	if r.Enrolled != 3 || r.FollowUps.Escalated != 1 || r.Events.Cancelled != 1 || r.Events.Held != 1 {
		t.Errorf("report: %d enrolled, %d escalated, %d cancelled, %d held; want 3, 1, 1, 1", r.Enrolled, r.FollowUps.Escalated, r.Events.Cancelled, r.Events.Held)
	}
	byLevel := map[string]int{}
	for _, u := range r.Units {
		byLevel[u.Level] += u.Enrolled
	}
	if byLevel["district"] != 3 || byLevel["commune"] != 3 || byLevel["village"] != sql(`select count(*) from enrolments where village_code is not null`) {
		t.Errorf("unit lines sum to %v, want 3 per district and commune level", byLevel)
	}
	if a := d.audit(`action = 'campaign.close'`); len(a) != 1 {
		t.Errorf("%d campaign.close audit rows, want 1", len(a))
	}
}
