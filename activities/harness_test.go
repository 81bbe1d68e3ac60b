package activities_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"drives/activities"
	"drives/campaign"
	"drives/imports"
	"drives/internal/fixture"
	"drives/internal/testenv"
	"drives/plan"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// Every test runs on the fixture campaign (internal/fixture): read its package comment for
// what the plan holds.
const campaignID = fixture.CampaignID

// Campaign time: a day, and the plan's time zone.
const day = 24 * time.Hour

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

// drive is the seeded fixture campaign with the pin on its activity environment's worker,
// under the short names the tests use.
type drive struct {
	*fixture.Campaign
	t     *testing.T
	ctx   context.Context
	pool  *pgxpool.Pool
	acts  *activities.Activities
	pin   *pinInfo
	spec  plan.Spec
	plan  activities.PlanInput
	alloc activities.AllocateResult
	asg   activities.AssignResult
	clock plan.Clock
}

func newDrive(t *testing.T) *drive {
	t.Helper()
	pin := &pinInfo{}
	c := fixture.Seed(t, testenv.NewPool(t), pin)
	return &drive{Campaign: c, t: t, ctx: c.Ctx, pool: c.Pool, acts: c.Acts, pin: pin,
		spec: c.Spec, plan: c.Input, alloc: c.Alloc, asg: c.Asg, clock: c.Clock}
}

// call runs an activity in the drive's environment and decodes its result.
func call[T any](d *drive, fn any, in any) (T, error) {
	d.t.Helper()
	return fixture.Call[T](d.Campaign, fn, in)
}

func mustCall[T any](d *drive, fn any, in any) T {
	d.t.Helper()
	return fixture.MustCall[T](d.Campaign, fn, in)
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
	return d.Count(sql, args...)
}

func (d *drive) exec(sql string, args ...any) {
	d.t.Helper()
	d.Exec(sql, args...)
}

// event is the spec's event with the given id.
func (d *drive) event(id string) plan.Event {
	d.t.Helper()
	return d.Event(id)
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
	return d.Stage(kind, eventID, name, data)
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
	env := fixture.QuietSuite().NewTestWorkflowEnvironment()
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
