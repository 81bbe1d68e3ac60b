package workflows_test

// Shared fixtures for the workflow tests: a hand-built three-district plan, an activity
// recorder that mocks every activity and remembers when (in test-env time) and with what it was
// called, and small helpers for Updates, Queries and continue-as-new errors.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the plan's time zone, whatever the machine has installed

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"drives/activities"
	"drives/campaign"
	"drives/plan"
	"drives/workflows"
)

// acts is used only for its method values, as the workflows do.
var acts *activities.Activities

const testCampaignID = "hanoi-2021-test"

var hcm = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		panic(err)
	}
	return loc
}()

// local is a wall-clock instant in Hà Nội.
func local(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, hcm)
}

// eventAt is when an event planned for a date is held (plan.EventHour on that date).
func eventAt(y int, m time.Month, d int) time.Time {
	return local(y, m, d, plan.EventHour, 0)
}

var (
	periodStart = local(2021, 1, 1, 0, 0)
	periodEnd   = local(2022, 1, 1, 0, 0) // exclusive: the day after 2021-12-31
	// launchBefore is when the scale-1 campaigns are started: a few days before the period.
	launchBefore = local(2020, 12, 28, 8, 0)
)

var testDistricts = []plan.DistrictSpec{
	{Code: "001", Name: "Quận Ba Đình", Target: 1500, Communes: []string{"00001", "00004", "00006"}},
	{Code: "002", Name: "Quận Hoàn Kiếm", Target: 1200, Communes: []string{"00037", "00040"}},
	{Code: "016", Name: "Huyện Sóc Sơn", Target: 4300, Communes: []string{"00376", "00379", "00382"}},
}

func ev(id, kind, district, commune string, at time.Time, groups ...string) plan.Event {
	return plan.Event{ID: id, Kind: kind, District: district, Commune: commune, At: at, Groups: groups}
}

// cityWide is a city-wide round as the plan expands it: one event per district, <id>.<district>.
func cityWide(id, kind string, at time.Time, groups ...string) []plan.Event {
	var out []plan.Event
	for _, d := range testDistricts {
		e := ev(id+"."+d.Code, kind, d.Code, "", at, groups...)
		e.Parent = id
		out = append(out, e)
	}
	return out
}

// yearSpec is the plan LoadPlan returns: Hà Nội 2021 cut down to three districts, 14 district
// events (two city-wide Post Office rounds among them; one round shares its instant with a
// door-to-door round in Ba Đình).
func yearSpec(scale float64) plan.Spec {
	events := []plan.Event{
		ev("001-conference", plan.KindConference, "001", "", eventAt(2021, 3, 22), "household_business", "small_trader"),
		ev("001-dialogue-1", plan.KindDialogue, "001", "00004", eventAt(2021, 5, 10), "student"),
		ev("001-door-1", plan.KindDoorToDoor, "001", "00001", eventAt(2021, 9, 15), "household_business"),
		ev("002-conference", plan.KindConference, "002", "", eventAt(2021, 2, 15), "small_trader"),
		ev("002-door-1", plan.KindDoorToDoor, "002", "00040", eventAt(2021, 8, 2), "household_business"),
		ev("016-conference", plan.KindConference, "016", "", eventAt(2021, 4, 5), "farmer", "craft_village"),
		ev("016-dialogue-1", plan.KindDialogue, "016", "00379", eventAt(2021, 10, 11), "farmer"),
		ev("016-door-1", plan.KindDoorToDoor, "016", "00382", eventAt(2021, 11, 22), "craft_village"),
	}
	events = append(events, cityWide("post-1", plan.KindPostOfficeRound, eventAt(2021, 5, 20), "farmer", "small_trader")...)
	events = append(events, cityWide("post-2", plan.KindPostOfficeRound, eventAt(2021, 9, 15), "household_business")...)
	sortEvents(events)
	target := 0
	for _, d := range testDistricts {
		target += d.Target
	}
	return plan.Spec{
		CampaignID:  testCampaignID,
		Name:        "Vận động tham gia BHXH tự nguyện – thử nghiệm",
		PeriodStart: periodStart,
		PeriodEnd:   periodEnd,
		Scale:       scale,
		Target:      target,
		PriorYear:   48674,
		Groups:      []string{"craft_village", "household_business", "small_trader", "student", "farmer"},
		Districts:   slices.Clone(testDistricts),
		Events:      events,
		Policy: plan.FollowUpTimes{
			Deadline:   30 * 24 * time.Hour,
			Reminders:  []time.Duration{7 * 24 * time.Hour, 21 * 24 * time.Hour},
			GiveUp:     60 * 24 * time.Hour,
			SweepEvery: 7 * 24 * time.Hour,
		},
	}
}

func sortEvents(es []plan.Event) {
	sort.SliceStable(es, func(i, j int) bool {
		if !es[i].At.Equal(es[j].At) {
			return es[i].At.Before(es[j].At)
		}
		return es[i].ID < es[j].ID
	})
}

func eventsOf(spec plan.Spec, district string) []plan.Event {
	var out []plan.Event
	for _, e := range spec.Events {
		if e.District == district {
			out = append(out, e)
		}
	}
	return out
}

// sweepCall is one campaign-wide SweepFollowUps as the mock saw it.
type sweepCall struct {
	AsOf, Real time.Time
	Policy     plan.FollowUpTimes
}

// advanceCall is one AdvanceDistrict as the mock saw it.
type advanceCall struct {
	District string
	AsOf     time.Time // campaign time the workflow passed
	Hold     []string
	Real     time.Time // test-env (real) time at which the activity ran
	Policy   plan.FollowUpTimes
}

func (c advanceCall) String() string {
	return fmt.Sprintf("%s@%s%v", c.District, c.AsOf.In(hcm).Format("2006-01-02 15:04"), c.Hold)
}

type activityCall struct {
	Name string
	Real time.Time
}

// recorder mocks every activity of the drive and records its calls. Behaviour that a test
// wants to vary is in the func fields; they are read under the lock when a call arrives.
type recorder struct {
	env *testsuite.TestWorkflowEnvironment

	mu       sync.Mutex
	calls    []activityCall
	advances []advanceCall
	allocate []activities.AllocateInput
	closes   []activities.CloseInput
	closedAt []time.Time
	added    []activities.AddEventInput
	cancels  []activities.CancelEventInput
	statuses []activities.StatusInput
	merges   []activities.MergeInput
	folds    []activities.FieldInput
	results  []activities.EventResultInput
	sweeps   []sweepCall
	// closedSignals are the district-closed signals a district run on its own sent.
	closedSignals []campaign.DistrictClosed

	spec  plan.Spec
	sweep func(in activities.AdvanceInput) campaign.SweepResult
	// campaignSweep answers the campaign-wide SweepFollowUps (nothing open when nil).
	campaignSweep func(in activities.SweepInput) campaign.SweepResult
	addEvent      func(in activities.AddEventInput) error // called without the lock
	setStatus     func(in activities.StatusInput) error
	merge         func(in activities.MergeInput) (campaign.ImportResult, error)
	eventResult   func(in activities.EventResultInput) (campaign.LeadsResult, error)
	// field answers FoldFieldEnrolments (nothing recorded in the field when nil).
	field func(in activities.FieldInput) campaign.FieldResult
	// assigned answers AssignAgents (20 agents, 8 staff, no register due when nil).
	assigned func() activities.AssignResult
}

func (r *recorder) note(name string) time.Time {
	now := r.env.Now()
	r.calls = append(r.calls, activityCall{name, now})
	return now
}

// mockAll registers the recorder's mocks for every activity on env.
func (r *recorder) mockAll() {
	env := r.env
	env.OnActivity(acts.LoadPlan, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PlanInput) (plan.Spec, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.note("LoadPlan")
			return r.spec, nil
		})
	env.OnActivity(acts.AllocateQuotas, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AllocateInput) (activities.AllocateResult, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.note("AllocateQuotas")
			r.allocate = append(r.allocate, in)
			return activities.AllocateResult{Units: 11, Events: len(r.spec.Events), Target: r.spec.Target}, nil
		})
	env.OnActivity(acts.AssignAgents, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PlanInput) (activities.AssignResult, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.note("AssignAgents")
			if r.assigned != nil {
				return r.assigned(), nil
			}
			return activities.AssignResult{Agents: 20, Staff: 8}, nil
		})
	env.OnActivity(acts.AdvanceDistrict, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AdvanceInput) (activities.AdvanceResult, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			real := r.note("AdvanceDistrict")
			r.advances = append(r.advances, advanceCall{District: in.District, AsOf: in.AsOf, Hold: in.Hold, Real: real, Policy: in.Policy})
			res := activities.AdvanceResult{Held: in.Hold}
			if r.sweep != nil {
				res.Sweep = r.sweep(in)
			}
			return res, nil
		})
	env.OnActivity(acts.SweepFollowUps, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SweepInput) (campaign.SweepResult, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.sweeps = append(r.sweeps, sweepCall{AsOf: in.AsOf, Real: r.note("SweepFollowUps"), Policy: in.Policy})
			if r.campaignSweep != nil {
				return r.campaignSweep(in), nil
			}
			return campaign.SweepResult{}, nil
		})
	env.OnActivity(acts.FoldFieldEnrolments, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FieldInput) (campaign.FieldResult, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.note("FoldFieldEnrolments")
			r.folds = append(r.folds, in)
			res := campaign.FieldResult{ByDistrict: map[string]int{}}
			if r.field != nil {
				res = r.field(in)
			}
			return res, nil
		})
	env.OnActivity(acts.CloseCampaign, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CloseInput) (campaign.CloseResult, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.closedAt = append(r.closedAt, r.note("CloseCampaign"))
			r.closes = append(r.closes, in)
			return campaign.CloseResult{CampaignID: in.CampaignID, Status: in.Status, Target: r.spec.Target, Enrolled: 4242, PriorYear: r.spec.PriorYear}, nil
		})
	env.OnActivity(acts.AddEvent, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AddEventInput) (int, error) {
			r.mu.Lock()
			r.note("AddEvent")
			r.added = append(r.added, in)
			hook := r.addEvent
			r.mu.Unlock()
			// The hook runs unlocked: it may wait for another activity.
			if hook != nil {
				if err := hook(in); err != nil {
					return 0, err
				}
			}
			return len(in.Events), nil
		})
	env.OnActivity(acts.CancelEvent, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CancelEventInput) ([]string, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.note("CancelEvent")
			r.cancels = append(r.cancels, in)
			var ids []string
			for _, e := range r.spec.Events {
				if e.ID == in.EventID || e.Parent == in.EventID {
					ids = append(ids, e.ID)
				}
			}
			return ids, nil
		})
	env.OnActivity(acts.SetStatus, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.StatusInput) (string, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.note("SetStatus")
			r.statuses = append(r.statuses, in)
			if r.setStatus != nil {
				if err := r.setStatus(in); err != nil {
					return "", err
				}
			}
			return in.Status, nil
		})
	env.OnActivity(acts.MergeImport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.MergeInput) (campaign.ImportResult, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.note("MergeImport")
			r.merges = append(r.merges, in)
			if r.merge == nil {
				return campaign.ImportResult{BatchID: in.BatchID}, nil
			}
			return r.merge(in)
		})
	env.OnActivity(acts.RecordEventResult, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.EventResultInput) (campaign.LeadsResult, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.note("RecordEventResult")
			r.results = append(r.results, in)
			if r.eventResult == nil {
				return campaign.LeadsResult{EventID: in.Request.EventID}, nil
			}
			return r.eventResult(in)
		})
}

// count says how many times the named activity ran.
func (r *recorder) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c.Name == name {
			n++
		}
	}
	return n
}

// advancesOf returns a district's AdvanceDistrict calls in the order they ran.
func (r *recorder) advancesOf(district string) []advanceCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []advanceCall
	for _, c := range r.advances {
		if c.District == district {
			out = append(out, c)
		}
	}
	return out
}

// holdsOf maps each event ID a district was asked to hold to the calls that held it.
func (r *recorder) holdsOf(district string) map[string][]advanceCall {
	out := map[string][]advanceCall{}
	for _, c := range r.advancesOf(district) {
		for _, id := range c.Hold {
			out[id] = append(out[id], c)
		}
	}
	return out
}

// heldAnywhere reports whether any district was ever asked to hold id.
func (r *recorder) heldAnywhere(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.advances {
		if slices.Contains(c.Hold, id) {
			return true
		}
	}
	return false
}

func newSuiteEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(time.Minute)
	// A workflow goroutine that does not yield for this long (wall time) fails as a deadlock. The
	// SDK's 1s default trips on a loaded CI machine; a real busy loop still fails, only later.
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: 15 * time.Second})
	// The workflows under the contract's names, as the worker registers them; the children run
	// for real. The activities struct is registered so method values resolve to their names.
	workflows.Register(env, nil)
	env.RegisterActivity(&activities.Activities{})
	return env
}

// newCampaignEnv is a test env ready to run CampaignWorkflow as campaign:<id>, launched at
// launch, whose LoadPlan returns spec and whose district drives run for real as children.
func newCampaignEnv(t *testing.T, spec plan.Spec, launch time.Time) (*testsuite.TestWorkflowEnvironment, *recorder) {
	t.Helper()
	env := newSuiteEnv(t)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: campaign.CampaignWorkflowID(testCampaignID), TaskQueue: campaign.TaskQueue})
	env.SetStartTime(launch)
	r := &recorder{env: env, spec: spec}
	r.mockAll()
	return env, r
}

// newDistrictEnv is a test env ready to run one DistrictDriveWorkflow on its own, with the
// campaign it reports to mocked: its district-closed signals are recorded.
func newDistrictEnv(t *testing.T, district string, start time.Time) (*testsuite.TestWorkflowEnvironment, *recorder) {
	t.Helper()
	env := newSuiteEnv(t)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: campaign.DistrictWorkflowID(testCampaignID, district), TaskQueue: campaign.TaskQueue})
	env.SetStartTime(start)
	r := &recorder{env: env}
	r.mockAll()
	env.OnSignalExternalWorkflow(mock.Anything, campaign.CampaignWorkflowID(testCampaignID), "", campaign.SignalDistrictClosed, mock.Anything).Return(
		func(_, _, _, _ string, arg any) error {
			var m campaign.DistrictClosed
			if err := roundTrip(arg, &m); err != nil {
				return err
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			r.note("signal " + campaign.SignalDistrictClosed)
			r.closedSignals = append(r.closedSignals, m)
			return nil
		})
	return env, r
}

// at schedules f at the test-env instant when, which must lie after the env's start.
func at(t *testing.T, env *testsuite.TestWorkflowEnvironment, start, when time.Time, f func()) {
	t.Helper()
	d := when.Sub(start)
	if d <= 0 {
		t.Fatalf("callback at %s is not after the start %s", when, start)
	}
	env.RegisterDelayedCallback(f, d)
}

// outcome is what the test env told an Update's caller.
type outcome struct {
	name      string
	accepted  bool
	rejected  error
	completed bool
	result    any
	err       error
}

func (o *outcome) String() string {
	return fmt.Sprintf("%s: accepted=%v rejected=%v completed=%v err=%v", o.name, o.accepted, o.rejected, o.completed, o.err)
}

// update sends an Update and returns where its outcome will be recorded.
func update(env *testsuite.TestWorkflowEnvironment, name string, arg any) *outcome {
	o := &outcome{name: name}
	env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnAccept:   func() { o.accepted = true },
		OnReject:   func(err error) { o.rejected = err },
		OnComplete: func(res any, err error) { o.completed, o.result, o.err = true, res, err },
	}, arg)
	return o
}

// requireRejected checks the Update was rejected, with the whole message want: what the
// user reads, not a word of it. (It once matched substrings such as "by"; shown failing by
// a copy-paste slip the old check let through: add-event's "by: say who adds the event"
// made "by: say who cancels the event".)
func requireRejected(t *testing.T, o *outcome, want string) {
	t.Helper()
	switch {
	case o == nil:
		t.Errorf("Update expected to be rejected with %q was never sent", want)
	case o.rejected == nil:
		t.Errorf("%s: want rejection mentioning %q, got %s", o.name, want, o)
	case o.accepted || o.completed:
		t.Errorf("%s: rejected Update must be neither accepted nor run: %s", o.name, o)
	case o.rejected.Error() != want:
		t.Errorf("%s: rejected with %q, want %q", o.name, o.rejected, want)
	}
}

// requireDone checks the Update was accepted and completed without error, and decodes its result.
func requireDone(t *testing.T, o *outcome, result any) {
	t.Helper()
	if o == nil {
		t.Fatal("Update expected to complete was never sent")
	}
	if !o.accepted || !o.completed || o.err != nil || o.rejected != nil {
		t.Fatalf("%s: want accepted and completed, got %s", o.name, o)
	}
	if result != nil {
		if err := roundTrip(o.result, result); err != nil {
			t.Fatalf("%s: result: %v", o.name, err)
		}
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// roundTrip copies v into out through JSON, as a client decoding a payload would.
func roundTrip(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

func queryProgress(t *testing.T, env *testsuite.TestWorkflowEnvironment) campaign.Progress {
	t.Helper()
	v, err := env.QueryWorkflow(campaign.QueryProgress)
	if err != nil {
		t.Fatalf("progress query: %v", err)
	}
	var p campaign.Progress
	if err := v.Get(&p); err != nil {
		t.Fatalf("progress query: %v", err)
	}
	return p
}

// continuedAs checks the run ended by continuing as new as wfType and decodes the next input.
func continuedAs(t *testing.T, env *testsuite.TestWorkflowEnvironment, wfType string, next any) {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not finish its run")
	}
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		t.Fatalf("want the run to continue as new, got error %v", err)
	}
	if can.WorkflowType == nil || can.WorkflowType.Name != wfType {
		t.Fatalf("continued as %+v, want %s", can.WorkflowType, wfType)
	}
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, next); err != nil {
		t.Fatalf("decode next run's input: %v", err)
	}
}

func ids(es []plan.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}
