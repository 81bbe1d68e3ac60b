package activities_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"drives/activities"
	"drives/campaign"
	"drives/imports"
	"drives/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The plan of every test: 2 districts, 5 communes, 9 villages (labour force 12,734, so a
// city target of 127 at 1%), 11 people, 2 target groups, 4 planned events of which one is
// city-wide (5 events once expanded per district).
//
//   - commune 00001: staff CB-00001 and three agents;
//   - commune 00002: staff only (CB-00002), so its leads go to its staff;
//   - commune 00003: staff and one agent;
//   - commune 00010: staff and two agents;
//   - commune 00011: one agent and no staff.
const (
	fixtureUnits = `district_code,district_name,district_type,commune_code,commune_name,commune_type
001,Quận Một,Quận,00001,Phường An,Phường
001,Quận Một,Quận,00002,Phường Bình,Phường
001,Quận Một,Quận,00003,Phường Cầu,Phường
002,Huyện Hai,Huyện,00010,Xã Cao,Xã
002,Huyện Hai,Huyện,00011,Thị trấn Đông,Thị trấn
`
	fixtureVillages = `commune_code,village_code,village_name,labour_force,source
00001,00001-01,Tổ dân phố 1,1000,synthetic
00001,00001-02,Tổ dân phố 2,500,synthetic
00002,00002-01,Tổ dân phố 1,1500,synthetic
00003,00003-01,Tổ dân phố 1,700,synthetic
00003,00003-02,Tổ dân phố 2,800,measured
00010,00010-01,Thôn 1,3000,synthetic
00010,00010-02,Thôn 2,2000,measured
00011,00011-01,Tổ dân phố 1,2000,synthetic
00011,00011-02,Tổ dân phố 2,1234,synthetic
`
	fixtureRoster = `code,commune_code,kind,post_office,full_name,phone,weight
CB-00001,00001,staff,no,Nguyễn Văn An,0900000001,0.5
DL-00001-1,00001,agent,no,Trần Thị Bình,0900000002,1.0
DL-00001-2,00001,agent,yes,Lê Văn Cường,0900000003,0.8
DL-00001-3,00001,agent,no,Phạm Thị Dung,0900000004,1.0
CB-00002,00002,staff,no,Hoàng Văn Em,0900000005,0.5
CB-00003,00003,staff,no,Vũ Thị Giang,0900000006,0.5
DL-00003-1,00003,agent,no,Đặng Văn Hải,0900000007,1.0
CB-00010,00010,staff,no,Bùi Thị Hoa,0900000008,0.5
DL-00010-1,00010,agent,yes,Đỗ Văn Khánh,0900000009,0.8
DL-00010-2,00010,agent,no,Ngô Thị Lan,0900000010,1.0
DL-00011-1,00011,agent,no,Dương Văn Minh,0900000011,1.0
`
	fixturePlan = `id: test-2021
name: Test drive
year: 2021
timezone: Asia/Ho_Chi_Minh
period:
  start: 2021-01-01
  end: 2021-12-31
clock:
  scale: 1
prior_year_enrolled: 80
target:
  rule: labour_force_share
  share: 0.01
units:
  file: units.csv
  villages_file: villages.csv
roster:
  file: roster.csv
target_groups:
  - code: trader
    name: Hộ kinh doanh, tiểu thương
    likelihood: 0.45
  - code: student
    name: Học sinh, sinh viên
    likelihood: 0.15
events:
  - id: conf-001
    kind: conference
    title: Hội nghị quận Một
    unit: "001"
    date: 2021-03-01
    groups: [trader]
    expected_attendance: 120
  - id: d2d-00010
    kind: door_to_door
    unit: "00010"
    date: 2021-04-01
    groups: [trader, student]
  - id: po-1
    kind: post_office_round
    title: Đợt tuyên truyền cùng Bưu điện
    unit: city
    date: 2021-03-22
    groups: [trader, student]
  - id: dlg-00002
    kind: dialogue
    unit: "00002"
    date: 2021-06-01
    groups: [student]
follow_up:
  deadline: 30d
  reminders: [7d, 21d]
  give_up_after: 60d
  sweep_every: 7d
`
	campaignID = "test-2021"
	day        = 24 * time.Hour
)

var hcm = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		panic(err)
	}
	return loc
}()

// pinInfo lets a test fix the workflow, run and activity ID and the attempt that activities see,
// as a retried attempt of one activity execution would see them.
type pinInfo struct {
	interceptor.WorkerInterceptorBase
	on                bool
	workflowID, runID string
	activityID        string
	attempt           int32
}

func (p *pinInfo) set(workflowID, runID, activityID string, attempt int32) {
	p.on, p.workflowID, p.runID, p.activityID, p.attempt = true, workflowID, runID, activityID, attempt
}

func (p *pinInfo) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &pinInbound{pin: p}
	i.Next = next
	return i
}

type pinInbound struct {
	interceptor.ActivityInboundInterceptorBase
	pin *pinInfo
}

func (i *pinInbound) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	o := &pinOutbound{pin: i.pin}
	o.Next = outbound
	return i.Next.Init(o)
}

type pinOutbound struct {
	interceptor.ActivityOutboundInterceptorBase
	pin *pinInfo
}

func (o *pinOutbound) GetInfo(ctx context.Context) activity.Info {
	info := o.Next.GetInfo(ctx)
	if o.pin.on {
		info.WorkflowExecution.ID, info.WorkflowExecution.RunID = o.pin.workflowID, o.pin.runID
		info.ActivityID, info.Attempt = o.pin.activityID, o.pin.attempt
	}
	return info
}

// drive is a seeded campaign and the activity environment its activities run in. All the
// activities of a test run in this one environment: it numbers activity IDs, so two
// environments would hand out the same IDs under the same default workflow ID.
type drive struct {
	t     *testing.T
	ctx   context.Context
	pool  *pgxpool.Pool
	acts  *activities.Activities
	env   *testsuite.TestActivityEnvironment
	pin   *pinInfo
	lp    *campaign.LoadedPlan
	spec  campaign.CampaignSpec
	plan  activities.PlanInput
	alloc activities.AllocateResult
	asg   activities.AssignResult
	clock campaign.Clock
}

func quietSuite() *testsuite.WorkflowTestSuite {
	s := &testsuite.WorkflowTestSuite{}
	s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	return s
}

// writePlan writes the fixture plan into a temporary folder and loads it as a coordinator's
// launch does.
func writePlan(t *testing.T) *campaign.LoadedPlan {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"plan.yaml": fixturePlan, "units.csv": fixtureUnits, "villages.csv": fixtureVillages, "roster.csv": fixtureRoster} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lp, err := campaign.LoadPlan(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatalf("fixture plan: %v", err)
	}
	return lp
}

// storePlan inserts the campaigns row exactly as coordinator.Launch does.
func storePlan(t *testing.T, ctx context.Context, pool *pgxpool.Pool, lp *campaign.LoadedPlan) {
	t.Helper()
	p := lp.Plan
	body, err := json.Marshal(lp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		insert into campaigns (id, name, year, plan_hash, plan, prior_year_enrolled, period_start, period_end, timezone, clock_scale, workflow_id)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict (id) do nothing`,
		p.ID, p.Name, p.Period.Start.Y, lp.Hash, body, p.PriorYearEnrolled, p.Period.Start.String(), p.Period.End.String(),
		p.Timezone, p.Clock.Scale, campaign.CampaignWorkflowID(p.ID)); err != nil {
		t.Fatalf("store plan: %v", err)
	}
}

// newDrive seeds a fresh database with the fixture campaign, prepared as CampaignWorkflow
// prepares it: LoadPlan → AllocateQuotas → AssignAgents.
func newDrive(t *testing.T) *drive {
	t.Helper()
	ctx := context.Background()
	pool := testenv.NewPool(t)
	lp := writePlan(t)
	storePlan(t, ctx, pool, lp)
	d := &drive{t: t, ctx: ctx, pool: pool, lp: lp, pin: &pinInfo{}}
	d.acts = &activities.Activities{Pool: pool}
	d.env = quietSuite().NewTestActivityEnvironment()
	d.env.SetTestTimeout(2 * time.Minute)
	d.env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{d.pin}})
	d.env.RegisterActivity(d.acts)
	d.plan = activities.PlanInput{CampaignID: lp.Plan.ID, PlanHash: lp.Hash}
	d.spec = mustCall[campaign.CampaignSpec](d, d.acts.LoadPlan, d.plan)
	d.clock = campaign.NewClock(d.spec.PeriodStart, d.spec.Scale, time.Now())
	d.alloc = mustCall[activities.AllocateResult](d, d.acts.AllocateQuotas, activities.AllocateInput{PlanInput: d.plan, Clock: d.clock})
	d.asg = mustCall[activities.AssignResult](d, d.acts.AssignAgents, d.plan)
	return d
}

// call runs an activity in the drive's environment and decodes its result.
func call[T any](d *drive, fn any, in any) (T, error) {
	d.t.Helper()
	var out T
	v, err := d.env.ExecuteActivity(fn, in)
	if err != nil {
		return out, err
	}
	if err := v.Get(&out); err != nil {
		d.t.Fatalf("decode result: %v", err)
	}
	return out, nil
}

func mustCall[T any](d *drive, fn any, in any) T {
	d.t.Helper()
	out, err := call[T](d, fn, in)
	if err != nil {
		d.t.Fatalf("activity: %v", err)
	}
	return out
}

// errType is the type of the application error an activity failed with.
func errType(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type()
	}
	return ""
}

func wantErrType(t *testing.T, err error, kind string) {
	t.Helper()
	if err == nil {
		t.Fatalf("activity succeeded, want a %s error", kind)
	}
	if got := errType(err); got != kind {
		t.Fatalf("error type %q, want %q: %v", got, kind, err)
	}
}

func (d *drive) count(sql string, args ...any) int {
	d.t.Helper()
	var n int
	if err := d.pool.QueryRow(d.ctx, sql, args...).Scan(&n); err != nil {
		d.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (d *drive) exec(sql string, args ...any) {
	d.t.Helper()
	if _, err := d.pool.Exec(d.ctx, sql, args...); err != nil {
		d.t.Fatalf("%s: %v", sql, err)
	}
}

// event is the campaign time at which the spec holds an event.
func (d *drive) event(id string) campaign.Event {
	d.t.Helper()
	for _, e := range d.spec.Events {
		if e.ID == id {
			return e
		}
	}
	d.t.Fatalf("no event %s in the spec", id)
	return campaign.Event{}
}

// hold holds an event on its date, as the district drive does when its timer fires, and
// returns the campaign time it was held at.
func (d *drive) hold(id string) time.Time {
	d.t.Helper()
	e := d.event(id)
	res := mustCall[activities.AdvanceResult](d, d.acts.AdvanceDistrict, activities.AdvanceInput{
		CampaignID: campaignID, District: e.District, AsOf: e.At, Hold: []string{id}, Policy: d.spec.Policy})
	if len(res.Held) != 1 || res.Held[0] != id {
		d.t.Fatalf("hold %s: held %v", id, res.Held)
	}
	return e.At
}

// stage checks and stages a file the way `starter import` does (LoadReference, Parse, Stage).
func (d *drive) stage(kind imports.Kind, eventID, name string, data []byte) string {
	d.t.Helper()
	ref, err := imports.LoadReference(d.ctx, d.pool, campaignID, eventID)
	if err != nil {
		d.t.Fatalf("reference: %v", err)
	}
	rows, err := imports.Parse(kind, name, data, ref)
	if err != nil {
		d.t.Fatalf("parse %s: %v", name, err)
	}
	batch, err := imports.Stage(d.ctx, d.pool, campaignID, kind, eventID, name, data, rows, "tester")
	if err != nil {
		d.t.Fatalf("stage %s: %v", name, err)
	}
	return batch
}

// recordLeads stages a leads file for a held event and records the event's results.
func (d *drive) recordLeads(eventID string, attendance int, ps ...person) campaign.LeadsResult {
	d.t.Helper()
	batch := d.stage(imports.Leads, eventID, eventID+"-leads.csv", leadsCSV(ps...))
	return mustCall[campaign.LeadsResult](d, d.acts.RecordEventResult, activities.EventResultInput{
		CampaignID: campaignID, Policy: d.spec.Policy,
		Request: campaign.EventResultRequest{EventID: eventID, Attendance: attendance, BatchID: batch, By: "coordinator-a"}})
}

func (d *drive) merge(batch string) campaign.ImportResult {
	d.t.Helper()
	return mustCall[campaign.ImportResult](d, d.acts.MergeImport, activities.MergeInput{CampaignID: campaignID, BatchID: batch, By: "coordinator-a"})
}

func (d *drive) advance(district string, asOf time.Time, hold ...string) activities.AdvanceResult {
	d.t.Helper()
	return mustCall[activities.AdvanceResult](d, d.acts.AdvanceDistrict, activities.AdvanceInput{
		CampaignID: campaignID, District: district, AsOf: asOf, Hold: hold, Policy: d.spec.Policy})
}

// Files ----------------------------------------------------------------------------------

type person struct {
	id, name, phone, commune, village, group string
}

// citizen makes a distinct 12-digit citizen ID.
func citizen(n int) string { return fmt.Sprintf("0010%08d", n) }

func lead(n int, commune, village, group string) person {
	return person{id: citizen(n), name: fmt.Sprintf("Người Thử %d", n), phone: fmt.Sprintf("09%08d", 10000000+n),
		commune: commune, village: village, group: group}
}

func leadsCSV(ps ...person) []byte {
	var b strings.Builder
	b.WriteString(strings.Join(imports.Headers[imports.Leads], ",") + "\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s\n", p.id, p.name, p.phone, p.commune, p.village, p.group)
	}
	return []byte(b.String())
}

type enrolment struct {
	person
	agent  string
	income int64
	class  string
	mode   string
	on     string
}

func enrolmentsCSV(es ...enrolment) []byte {
	var b strings.Builder
	b.WriteString(strings.Join(imports.Headers[imports.Enrolments], ",") + "\n")
	for _, e := range es {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s,%d,%s,%s,%s\n", e.id, e.name, e.phone, e.commune, e.village, e.agent, e.group,
			e.income, e.class, e.mode, e.on)
	}
	return []byte(b.String())
}

type outcome struct{ id, outcome, on string }

func outcomesCSV(list ...outcome) []byte {
	var b strings.Builder
	b.WriteString(strings.Join(imports.Headers[imports.Outcomes], ",") + "\n")
	for _, o := range list {
		fmt.Fprintf(&b, "%s,%s,%s\n", o.id, o.outcome, o.on)
	}
	return []byte(b.String())
}

// Workflow-driven retries ----------------------------------------------------------------

type attemptLog struct {
	interceptor.WorkerInterceptorBase
	seen []string // "<activity>#<attempt>"
}

func (l *attemptLog) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &attemptInbound{log: l}
	i.Next = next
	return i
}

type attemptInbound struct {
	interceptor.ActivityInboundInterceptorBase
	log *attemptLog
}

func (i *attemptInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	ai := activity.GetInfo(ctx)
	i.log.seen = append(i.log.seen, fmt.Sprintf("%s#%d", ai.ActivityType.Name, ai.Attempt))
	return i.Next.ExecuteActivity(ctx, in)
}

// runInWorkflow executes one activity from a workflow in the test workflow environment, with
// a retry policy, as CampaignWorkflow does: a failed attempt is retried as attempt 2 of the same
// activity execution (same workflow, run and activity ID). It returns the result and the
// attempts the worker ran.
func runInWorkflow[In, Out any](t *testing.T, acts *activities.Activities, workflowID, activity string, in In) (Out, []string, error) {
	t.Helper()
	env := quietSuite().NewTestWorkflowEnvironment()
	env.SetTestTimeout(2 * time.Minute)
	attempts := &attemptLog{}
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{attempts}})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflowID, TaskQueue: "retry-test"})
	env.RegisterActivity(acts)
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context, in In) (Out, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
		})
		var out Out
		err := workflow.ExecuteActivity(ctx, activity, in).Get(ctx, &out)
		return out, err
	}, workflow.RegisterOptions{Name: "RetryOneActivity"})
	env.ExecuteWorkflow("RetryOneActivity", in)
	var out Out
	if !env.IsWorkflowCompleted() {
		t.Fatalf("workflow running %s did not complete", activity)
	}
	if err := env.GetWorkflowError(); err != nil {
		return out, attempts.seen, err
	}
	if err := env.GetWorkflowResult(&out); err != nil {
		t.Fatalf("workflow result: %v", err)
	}
	return out, attempts.seen, nil
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
