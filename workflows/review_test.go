package workflows_test

// Agent reviews in the SDK test environment: the schedule's ScheduledReviewWorkflow picking the
// period a fire is for and starting its AgentReviewWorkflow once, and AgentReviewWorkflow's
// evaluation, coordinator Updates, durable wait in campaign time, escalation and the review
// Query. The activities are mocked; the mocks keep the decisions as review_decisions would, so
// the workflow sees what the database would tell it: the number proposed, never the list.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"drives/activities"
	"drives/campaign"
	"drives/plan"
	"drives/workflows"
)

// scheduledStart is the search attribute a Temporal Schedule sets on the workflows it starts:
// the fire's nominal time.
var scheduledStart = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

const approvalWait = 14 * 24 * time.Hour

func reviewPolicy() plan.ReviewPolicy {
	return plan.ReviewPolicy{RewardAt: 1, WarnBelow: 0.6, TerminateBelow: 0.3, TerminateAfter: 2,
		Reward: plan.Reward{Kind: "bonus", Amount: 500_000}, ApprovalWait: plan.Duration(approvalWait), CommendTop: 3}
}

// quarters are the sample plan's reviews of 2021 (the default cron, Hà Nội time).
func quarters(t *testing.T) []plan.ReviewPeriod {
	t.Helper()
	ps, err := plan.ReviewPeriods(plan.DefaultReviewCron, hcm, periodStart, periodEnd)
	if err != nil || len(ps) != 4 {
		t.Fatalf("quarterly reviews of 2021: %v, %v", ps, err)
	}
	return ps
}

// demoLaunch is when a campaign on the sample plan's compressed clock is launched.
var demoLaunch = time.Date(2024, 6, 3, 3, 30, 12, 345_678_901, time.UTC)

func calendarClock() plan.Clock { return plan.NewClock(periodStart, 1, launchBefore) }
func demoClock() plan.Clock     { return plan.NewClock(periodStart, 262800, demoLaunch) }

type decideCall struct {
	In   activities.DecideInput
	Real time.Time
}

type escalateCall struct {
	In   activities.EscalateInput
	Real time.Time
	Out  activities.EscalateResult
}

type childCall struct {
	ID          string
	In          campaign.ReviewInput
	Parent      string
	CampaignID  string
	PeriodLabel string
	Started     time.Time // real time (the test clock)
}

// reviewMocks mocks the review's activities (and, when asked, the review workflow itself as a
// child) and records their calls. status is review_decisions for the period: pending until a
// decision, as the real activities keep it.
type reviewMocks struct {
	env *testsuite.TestWorkflowEnvironment

	mu        sync.Mutex
	proposed  []string
	status    map[string]string
	evalFails int            // the next EvaluateAgents attempts that fail (retryably)
	failOnce  map[string]int // agent → DecideTermination calls left that fail
	evals     []activities.EvaluateInput
	evalAt    []time.Time
	decides   []decideCall
	escalates []escalateCall
	children  []childCall
}

func newReviewMocks(env *testsuite.TestWorkflowEnvironment, proposed ...string) *reviewMocks {
	m := &reviewMocks{env: env, proposed: proposed, status: map[string]string{}, failOnce: map[string]int{}}
	for _, a := range proposed {
		m.status[a] = "pending"
	}
	env.OnActivity(acts.EvaluateAgents, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.EvaluateInput) (campaign.ReviewSummary, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.evals = append(m.evals, in)
			m.evalAt = append(m.evalAt, env.Now())
			if m.evalFails > 0 {
				m.evalFails--
				return campaign.ReviewSummary{}, errors.New("database unavailable")
			}
			return campaign.ReviewSummary{Period: in.Period.Label, Agents: 20, Rewarded: 5, Commended: 3, Retained: 10,
				Warned: 5, Proposed: len(m.proposed)}, nil
		})
	env.OnActivity(acts.DecideTermination, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DecideInput) (campaign.DecisionResult, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.decides = append(m.decides, decideCall{in, env.Now()})
			agent := in.Decision.Agent
			if m.failOnce[agent] > 0 {
				m.failOnce[agent]--
				return campaign.DecisionResult{}, temporal.NewNonRetryableApplicationError(
					"commune has neither agents nor staff to take the follow-ups", activities.ErrInvalidState, nil)
			}
			st, ok := m.status[agent]
			if !ok {
				return campaign.DecisionResult{}, temporal.NewNonRetryableApplicationError(
					campaign.NoTerminationPending(agent, in.Period), activities.ErrNotFound, nil)
			}
			if st != "pending" && st != "escalated" {
				return campaign.DecisionResult{Agent: agent, Status: st, Already: true}, nil
			}
			res := campaign.DecisionResult{Agent: agent, Status: "rejected", WasEscalated: st == "escalated"}
			if in.Approve {
				res.Status, res.FollowUpsMoved, res.QuotaMoved = "approved", 4, 120
				if in.Auto {
					res.Status = "auto_terminated"
				}
			}
			m.status[agent] = res.Status
			return res, nil
		})
	env.OnActivity(acts.EscalateUndecided, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.EscalateInput) (activities.EscalateResult, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			var out activities.EscalateResult
			for _, a := range m.proposed {
				if m.status[a] == "pending" {
					m.status[a] = "escalated"
					out.Escalated++
					if in.ListAgents {
						out.Agents = append(out.Agents, a)
					}
				}
			}
			m.escalates = append(m.escalates, escalateCall{in, env.Now(), out})
			return out, nil
		})
	return m
}

// mockChild replaces AgentReviewWorkflow, as a child, by a recorder.
func (m *reviewMocks) mockChild() {
	m.env.OnWorkflow(campaign.ReviewWorkflowName, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, in campaign.ReviewInput) (campaign.ReviewResult, error) {
			info := workflow.GetInfo(ctx)
			c := childCall{ID: info.WorkflowExecution.ID, In: in, Started: workflow.Now(ctx)}
			if info.ParentWorkflowExecution != nil {
				c.Parent = info.ParentWorkflowExecution.ID
			}
			sa := workflow.GetTypedSearchAttributes(ctx)
			c.CampaignID, _ = sa.GetKeyword(campaign.SearchCampaignID)
			c.PeriodLabel, _ = sa.GetKeyword(campaign.SearchPeriod)
			m.mu.Lock()
			m.children = append(m.children, c)
			m.mu.Unlock()
			return campaign.ReviewResult{CampaignID: in.CampaignID, Period: in.Period.Label}, nil
		})
}

func (m *reviewMocks) decisions() []decideCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.decides)
}

func (m *reviewMocks) escalations() []escalateCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.escalates)
}

func (m *reviewMocks) decisionsOf(agent string) []decideCall {
	var out []decideCall
	for _, d := range m.decisions() {
		if d.In.Decision.Agent == agent {
			out = append(out, d)
		}
	}
	return out
}

// reviewRun is one AgentReviewWorkflow in its own test environment, started at start (real).
type reviewRun struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	m     *reviewMocks
	in    campaign.ReviewInput
	start time.Time
}

func newReviewRun(t *testing.T, clock plan.Clock, period plan.ReviewPeriod, policy plan.ReviewPolicy, start time.Time, proposed ...string) *reviewRun {
	t.Helper()
	env := newSuiteEnv(t)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: campaign.ReviewWorkflowID(testCampaignID, period.Label), TaskQueue: campaign.TaskQueue})
	env.SetStartTime(start)
	return &reviewRun{t: t, env: env, m: newReviewMocks(env, proposed...), start: start,
		in: campaign.ReviewInput{CampaignID: testCampaignID, Period: period, Clock: clock, Policy: policy}}
}

// after runs f d (real time) after the review started.
func (r *reviewRun) after(d time.Duration, f func()) { r.env.RegisterDelayedCallback(f, d) }

func (r *reviewRun) decide(approve bool, agent, reason, by string) *outcome {
	name := campaign.UpdateRejectTermination
	if approve {
		name = campaign.UpdateApproveTermination
	}
	return update(r.env, name, campaign.TerminationDecision{Agent: agent, Reason: reason, By: by})
}

func (r *reviewRun) query() campaign.ReviewProgress {
	r.t.Helper()
	v, err := r.env.QueryWorkflow(campaign.QueryReview)
	if err != nil {
		r.t.Fatalf("review query: %v", err)
	}
	var p campaign.ReviewProgress
	if err := v.Get(&p); err != nil {
		r.t.Fatalf("review query: %v", err)
	}
	return p
}

// run executes the review to its end and returns its result and when (real) it ended.
func (r *reviewRun) run() (campaign.ReviewResult, time.Time) {
	r.t.Helper()
	r.env.ExecuteWorkflow(workflows.AgentReviewWorkflow, r.in)
	if !r.env.IsWorkflowCompleted() {
		r.t.Fatal("review did not complete")
	}
	if err := r.env.GetWorkflowError(); err != nil {
		r.t.Fatalf("review failed: %v", err)
	}
	var res campaign.ReviewResult
	if err := r.env.GetWorkflowResult(&res); err != nil {
		r.t.Fatal(err)
	}
	return res, r.env.Now()
}

func TestReviewWithoutProposalsEndsAfterEvaluation(t *testing.T) {
	q := quarters(t)
	clock := calendarClock()
	start := plan.RealFire(clock, q[0])
	r := newReviewRun(t, clock, q[0], reviewPolicy(), start)
	res, ended := r.run()

	if len(r.m.evals) != 1 {
		t.Fatalf("EvaluateAgents ran %d times, want once", len(r.m.evals))
	}
	ev := r.m.evals[0]
	if ev.CampaignID != testCampaignID || ev.WorkflowID != campaign.ReviewWorkflowID(testCampaignID, "2021-Q1") ||
		ev.Period.Label != "2021-Q1" || !ev.Period.Start.Equal(q[0].Start) || !ev.Period.End.Equal(q[0].End) ||
		ev.Policy != reviewPolicy() {
		t.Errorf("EvaluateAgents got %+v", ev)
	}
	if !ended.Equal(start) {
		t.Errorf("review ended %s after it started; with nothing proposed it must not wait", ended.Sub(start))
	}
	if n, e := len(r.m.decisions()), len(r.m.escalations()); n+e != 0 {
		t.Errorf("DecideTermination ran %d times, EscalateUndecided %d; want neither", n, e)
	}
	want := campaign.ReviewResult{CampaignID: testCampaignID, Period: "2021-Q1",
		Summary: campaign.ReviewSummary{Period: "2021-Q1", Agents: 20, Rewarded: 5, Commended: 3, Retained: 10, Warned: 5, Proposed: 0}}
	if fmt.Sprint(res) != fmt.Sprint(want) {
		t.Errorf("result %+v, want %+v", res, want)
	}
}

// Coordinators decide every proposal before the deadline: each decision is carried out at once,
// as of the campaign time it is taken, and the review ends with the last one.
func TestReviewApproveAndRejectEndBeforeTheDeadline(t *testing.T) {
	q := quarters(t)
	for _, clock := range []plan.Clock{calendarClock(), demoClock()} {
		t.Run(fmt.Sprintf("scale %g", clock.Scale), func(t *testing.T) {
			start := plan.RealFire(clock, q[1]) // when Q2's review fires (1 July 2021 in campaign time)
			r := newReviewRun(t, clock, q[1], reviewPolicy(), start, "A-001", "A-002")
			from := clock.CampaignTime(start)
			if from.Before(q[1].End) {
				from = q[1].End
			}
			deadline := from.Add(approvalWait)
			// The decisions, a day and 50 hours into the wait (campaign time).
			atA, atB := from.Add(24*time.Hour), from.Add(50*time.Hour)
			realA, realB := clock.RealTime(atA).Sub(start), clock.RealTime(atB).Sub(start)
			var approve, reject *outcome
			var mid campaign.ReviewProgress
			r.after(realA, func() {
				mid = r.query()
				approve = r.decide(true, "A-001", "no enrolment in two quarters", "coordinator:hoan-kiem")
			})
			r.after(realB, func() {
				reject = r.decide(false, "A-002", "on sick leave in June", "coordinator:soc-son")
			})
			res, ended := r.run()

			var got campaign.DecisionResult
			requireDone(t, approve, &got)
			if got.Agent != "A-001" || got.Status != "approved" || got.Already {
				t.Errorf("approval answered %+v", got)
			}
			requireDone(t, reject, &got)
			if got.Agent != "A-002" || got.Status != "rejected" || got.Already {
				t.Errorf("rejection answered %+v", got)
			}
			near := func(a, b time.Time) bool { d := a.Sub(b); return d > -time.Second && d < time.Second }
			ds := r.m.decisions()
			if len(ds) != 2 {
				t.Fatalf("DecideTermination ran %d times, want 2: %+v", len(ds), ds)
			}
			a, b := ds[0].In, ds[1].In
			if a.Decision.Agent != "A-001" || !a.Approve || a.Auto || a.Period != "2021-Q2" || a.CampaignID != testCampaignID ||
				a.Decision.By != "coordinator:hoan-kiem" || a.Decision.Reason != "no enrolment in two quarters" ||
				!near(a.At, atA) || !ds[0].Real.Equal(start.Add(realA)) {
				t.Errorf("approval carried out as %+v at %s; want as of campaign time %s, at once", a, ds[0].Real, atA)
			}
			if b.Decision.Agent != "A-002" || b.Approve || b.Auto || !near(b.At, atB) {
				t.Errorf("rejection carried out as %+v; want as of campaign time %s", b, atB)
			}
			if !ended.Equal(start.Add(realB)) {
				t.Errorf("review ended %s after it started, want with the last decision (%s), well before the deadline (%s)",
					ended.Sub(start), realB, clock.RealTime(deadline).Sub(start))
			}
			if e := r.m.escalations(); len(e) != 0 {
				t.Errorf("EscalateUndecided ran though everything was decided: %+v", e)
			}
			if res.Approved != 1 || res.Rejected != 1 || res.Escalated != 0 || res.AutoTerminated != 0 || res.Period != "2021-Q2" {
				t.Errorf("result %+v, want 1 approved and 1 rejected", res)
			}
			if mid.Pending != 2 || mid.DecidedCount != 0 || len(mid.Decided) != 0 || mid.Summary.Proposed != 2 ||
				!mid.Deadline.Equal(deadline) || mid.Period != "2021-Q2" || mid.Summary.Agents != 20 {
				t.Errorf("query before any decision: %+v; want both pending, deadline %s", mid, deadline)
			}
			if p := r.query(); p.Pending != 0 || p.DecidedCount != 2 || p.Escalated != 0 ||
				p.Decided["A-001"] != "approved" || p.Decided["A-002"] != "rejected" {
				t.Errorf("query at the end: pending %d decided %d %v", p.Pending, p.DecidedCount, p.Decided)
			}
		})
	}
}

// A second decision on an agent decided through the review is refused by the validator: it
// changes nothing, says what the first was, and leaves nothing in the history.
func TestReviewSecondDecisionIsRefused(t *testing.T) {
	q := quarters(t)
	clock := calendarClock()
	start := plan.RealFire(clock, q[0])
	r := newReviewRun(t, clock, q[0], reviewPolicy(), start, "A-001", "A-002")
	var first, again, reject *outcome
	var p campaign.ReviewProgress
	r.after(time.Hour, func() { first = r.decide(true, "A-001", "no enrolment", "coordinator:ba-dinh") })
	r.after(2*time.Hour, func() { again = r.decide(true, "A-001", "no enrolment (again)", "coordinator:ba-dinh") })
	r.after(3*time.Hour, func() { reject = r.decide(false, "A-001", "changed my mind", "coordinator:other") })
	r.after(4*time.Hour, func() { p = r.query() })
	r.after(5*time.Hour, func() { r.decide(false, "A-002", "improving", "coordinator:ba-dinh") })
	res, _ := r.run()

	requireDone(t, first, nil)
	for _, o := range []*outcome{again, reject} {
		requireRejected(t, o, `agent: "A-001" is already approved in review 2021-Q1; nothing changed`)
	}
	if n := len(r.m.decisionsOf("A-001")); n != 1 {
		t.Errorf("DecideTermination ran %d times for A-001, want once", n)
	}
	if p.Pending != 1 || p.DecidedCount != 1 || p.Decided["A-001"] != "approved" || len(p.Decided) != 1 {
		t.Errorf("query after A-001's approval: pending %d, decided %d %v", p.Pending, p.DecidedCount, p.Decided)
	}
	if res.Approved != 1 || res.Rejected != 1 {
		t.Errorf("result %+v, want 1 approved, 1 rejected", res)
	}
}

func TestReviewValidatorRefusals(t *testing.T) {
	q := quarters(t)
	clock := calendarClock()
	start := plan.RealFire(clock, q[0])
	// A-002's proposal keeps the review open after A-001's decision.
	r := newReviewRun(t, clock, q[0], reviewPolicy(), start, "A-001", "A-002")
	r.m.evalFails = 1 // the first evaluation fails; it is retried a second later
	var early, earlyNoReason, noAgent, noReason, noBy, blankBy, ok *outcome
	// A decision sent while the evaluation runs (the proposals are in the database a moment
	// before the workflow knows them) waits for it; one that lacks a field is refused at once.
	r.after(500*time.Millisecond, func() {
		early = r.decide(true, "A-001", "late", "coordinator")
		earlyNoReason = r.decide(true, "A-001", " ", "coordinator")
	})
	var again *outcome
	r.after(time.Hour, func() {
		noAgent = r.decide(true, " ", "late", "coordinator")
		noReason = r.decide(true, "A-002", "  ", "coordinator")
		noBy = r.decide(true, "A-002", "late", "")
		blankBy = r.decide(false, "A-002", "late", "\t")
	})
	r.after(2*time.Hour, func() {
		again = r.decide(false, "A-001", "late", "coordinator")
		ok = r.decide(false, "A-002", "late", "coordinator")
	})
	res, _ := r.run()

	requireDone(t, early, nil)
	requireRejected(t, earlyNoReason, "reason: say why")
	requireRejected(t, noAgent, "agent: say which agent")
	requireRejected(t, noReason, "reason: say why")
	requireRejected(t, noBy, "by: say who decides")
	requireRejected(t, blankBy, "by: say who decides")
	requireRejected(t, again, `agent: "A-001" is already approved in review 2021-Q1; nothing changed`)
	requireDone(t, ok, nil)
	if len(r.m.evals) != 2 {
		t.Errorf("EvaluateAgents ran %d times, want 2 (one failure, one retry)", len(r.m.evals))
	}
	ds := r.m.decisions()
	if len(ds) != 2 || ds[0].In.Decision.Agent != "A-001" || !ds[0].In.Approve || ds[1].In.Decision.Agent != "A-002" || ds[1].In.Approve {
		t.Errorf("DecideTermination calls %+v; want the early approval of A-001, then the rejection of A-002", ds)
	}
	if res.Rejected != 1 || res.Approved != 1 {
		t.Errorf("result %+v", res)
	}
}

// A decision that waits for an evaluation retried for longer than a minute is refused, with
// the advice to send it again, and changes nothing.
func TestReviewEarlyDecisionGivesUpWaiting(t *testing.T) {
	q := quarters(t)
	clock := calendarClock()
	start := plan.RealFire(clock, q[0])
	r := newReviewRun(t, clock, q[0], reviewPolicy(), start, "A-001", "A-002")
	r.m.evalFails = 8 // retried after 1, 2, 4, … seconds: more than a minute in all
	var early *outcome
	r.after(500*time.Millisecond, func() { early = r.decide(true, "A-001", "late", "coordinator") })
	r.run()

	if early == nil || !early.accepted || early.err == nil || early.err.Error() != "the review is still evaluating; try again in a few minutes" {
		t.Errorf("early decision: want accepted and failed with the advice to send it again, got %s", early)
	}
	if ds := r.m.decisions(); len(ds) != 0 {
		t.Errorf("DecideTermination ran %+v; want not at all", ds)
	}
}

// The workflow cannot tell which agents were proposed: an Update on an agent with no
// termination pending (sent by anything but the coordinator, which checks first) is refused by
// DecideTermination, counts for nothing, and the review still waits for the real proposal.
func TestReviewDecisionOnAnAgentNotProposed(t *testing.T) {
	q := quarters(t)
	clock := calendarClock()
	start := plan.RealFire(clock, q[0])
	r := newReviewRun(t, clock, q[0], reviewPolicy(), start, "A-001")
	var unknown, rejectUnknown, ok *outcome
	var p campaign.ReviewProgress
	r.after(time.Hour, func() {
		unknown = r.decide(true, "A-999", "late", "coordinator")
		rejectUnknown = r.decide(false, "A-998", "late", "coordinator")
	})
	r.after(2*time.Hour, func() { p = r.query() })
	r.after(24*time.Hour, func() { ok = r.decide(true, "A-001", "late", "coordinator") })
	res, ended := r.run()

	for _, o := range []*outcome{unknown, rejectUnknown} {
		if o == nil || !o.completed || o.err == nil || !containsFold(o.err.Error(), "has no termination pending in review 2021-Q1") {
			t.Errorf("decision on an agent not proposed: %s; want it refused with no termination pending", o)
		}
	}
	if p.Pending != 1 || p.DecidedCount != 0 || len(p.Decided) != 0 {
		t.Errorf("query after the refused decisions: pending %d decided %d %v; want A-001 still pending", p.Pending, p.DecidedCount, p.Decided)
	}
	requireDone(t, ok, nil)
	if !ended.Equal(start.Add(24*time.Hour)) || res.Approved != 1 || res.Escalated != 0 || len(r.m.escalations()) != 0 {
		t.Errorf("result %+v, ended %s after start; want A-001 approved after a day, nothing escalated", res, ended.Sub(start))
	}
}

// Nobody decides: at exactly approval_wait after the period's end (campaign time, through the
// clock) the undecided are escalated, and nobody is terminated.
func TestReviewEscalatesAtTheDeadline(t *testing.T) {
	q := quarters(t)
	for _, tc := range []struct {
		name  string
		clock plan.Clock
		late  time.Duration // real time after the fire at which the review starts
	}{
		{"on the calendar", calendarClock(), 0},
		{"on the calendar, a fire caught up three days late", calendarClock(), 72 * time.Hour},
		{"on the demo clock", demoClock(), 0},
		// The campaign's own review of its last period may start before the period ends (the
		// districts closed early): the wait still runs from the period's end.
		{"on the calendar, started a day before the period ends", calendarClock(), -24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := plan.RealFire(tc.clock, q[2]).Add(tc.late)
			r := newReviewRun(t, tc.clock, q[2], reviewPolicy(), start, "A-007", "A-003")
			// The wait runs from the later of the period's end and the review's start.
			from := q[2].End
			if s := tc.clock.CampaignTime(start); s.After(from) {
				from = s
			}
			deadline := from.Add(approvalWait)
			wantReal := tc.clock.RealTime(deadline)
			var before campaign.ReviewProgress
			r.after(wantReal.Sub(start)/2, func() { before = r.query() })
			res, ended := r.run()

			es := r.m.escalations()
			if len(es) != 1 {
				t.Fatalf("EscalateUndecided ran %d times, want once", len(es))
			}
			if d := es[0].Real.Sub(wantReal); d < 0 || d > time.Microsecond {
				t.Errorf("escalated at %s, want at the deadline's real instant %s (off by %s)", es[0].Real, wantReal, d)
			}
			if d := es[0].In.At.Sub(deadline); d < -time.Second || d > time.Second {
				t.Errorf("escalated as of campaign time %s, want the deadline %s", es[0].In.At.In(hcm), deadline.In(hcm))
			}
			if es[0].In.Period != "2021-Q3" || es[0].In.CampaignID != testCampaignID || es[0].In.ListAgents {
				t.Errorf("EscalateUndecided got %+v; want no list of agents without auto_terminate", es[0].In)
			}
			if ds := r.m.decisions(); len(ds) != 0 {
				t.Errorf("DecideTermination ran without auto_terminate: %+v", ds)
			}
			if !ended.Equal(es[0].Real) {
				t.Errorf("review ended %s, want right after the escalation at %s", ended, es[0].Real)
			}
			if res.Escalated != 2 || res.Approved+res.Rejected+res.AutoTerminated != 0 {
				t.Errorf("result %+v, want 2 escalated", res)
			}
			if before.Pending != 2 || before.Escalated != 0 || !before.Deadline.Equal(deadline) {
				t.Errorf("query half-way: pending %d escalated %d deadline %s; want both pending, deadline %s",
					before.Pending, before.Escalated, before.Deadline, deadline)
			}
			after := r.query()
			if after.Pending != 0 || after.Escalated != 2 || after.DecidedCount != 0 || len(after.Decided) != 0 {
				t.Errorf("query after the deadline: pending %d escalated %d decided %d %v; want 2 escalated",
					after.Pending, after.Escalated, after.DecidedCount, after.Decided)
			}
		})
	}
}

// With auto_terminate the escalated are terminated by the policy; an agent a coordinator
// decided in time is left as decided.
func TestReviewAutoTerminatesTheEscalated(t *testing.T) {
	q := quarters(t)
	clock := calendarClock()
	start := plan.RealFire(clock, q[0])
	policy := reviewPolicy()
	policy.AutoTerminate = true
	r := newReviewRun(t, clock, q[0], policy, start, "A-001", "A-002", "A-003")
	r.after(24*time.Hour, func() { r.decide(false, "A-002", "improving", "coordinator:ba-dinh") })
	res, ended := r.run()

	deadline := q[0].End.Add(approvalWait)
	es := r.m.escalations()
	if len(es) != 1 || !es[0].Real.Equal(clock.RealTime(deadline)) || !es[0].In.ListAgents ||
		es[0].Out.Escalated != 2 || !slices.Equal(es[0].Out.Agents, []string{"A-001", "A-003"}) {
		t.Fatalf("escalations %+v; want A-001 and A-003, listed for auto_terminate, at %s", es, deadline)
	}
	var auto []decideCall
	for _, d := range r.m.decisions() {
		if d.In.Decision.Agent != "A-002" {
			auto = append(auto, d)
		}
	}
	if len(auto) != 2 {
		t.Fatalf("auto terminations %+v, want A-001 and A-003", auto)
	}
	for i, agent := range []string{"A-001", "A-003"} {
		d := auto[i].In
		if d.Decision.Agent != agent || !d.Approve || !d.Auto || d.Decision.By == "" || d.Decision.Reason == "" ||
			!d.At.Equal(deadline) || auto[i].Real.Before(es[0].Real) {
			t.Errorf("auto termination %d: %+v at %s", i, d, auto[i].Real)
		}
	}
	if n := len(r.m.decisionsOf("A-002")); n != 1 {
		t.Errorf("A-002, rejected in time, decided %d times", n)
	}
	if res.AutoTerminated != 2 || res.Rejected != 1 || res.Escalated != 0 || res.Approved != 0 {
		t.Errorf("result %+v, want 2 auto-terminated, 1 rejected", res)
	}
	if !ended.Equal(clock.RealTime(deadline)) {
		t.Errorf("review ended %s, want at the deadline %s", ended, clock.RealTime(deadline))
	}
	p := r.query()
	if p.Pending != 0 || p.Escalated != 0 || p.DecidedCount != 3 || p.Decided["A-001"] != "auto_terminated" ||
		p.Decided["A-003"] != "auto_terminated" || p.Decided["A-002"] != "rejected" {
		t.Errorf("query at the end: pending %d escalated %d decided %d %v", p.Pending, p.Escalated, p.DecidedCount, p.Decided)
	}
}

// A bad quarter of a national campaign proposes most of its 200,000 agents: the review's
// payloads (the evaluation's result, the escalation's, the Query's answer and the review's
// result) stay small, and two coordinators' decisions are counted against the number proposed.
func TestReviewOfANationalCampaignKeepsPayloadsSmall(t *testing.T) {
	const proposed = 180_000
	agents := make([]string, proposed)
	for i := range agents {
		agents[i] = fmt.Sprintf("DL-%05d-%d", i/3, i%3+1)
	}
	q := quarters(t)
	clock := calendarClock()
	start := plan.RealFire(clock, q[1])
	r := newReviewRun(t, clock, q[1], reviewPolicy(), start, agents...)
	var mid campaign.ReviewProgress
	r.after(time.Hour, func() { r.decide(true, agents[7], "no enrolment", "coordinator:ba-dinh") })
	r.after(2*time.Hour, func() { r.decide(false, agents[proposed-1], "on leave", "coordinator:ba-dinh") })
	r.after(3*time.Hour, func() { mid = r.query() })
	res, _ := r.run()

	size := func(what string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 2048 {
			t.Errorf("%s is %d bytes of JSON with %d proposals; it must not grow with the agents", what, len(b), proposed)
		}
	}
	es := r.m.escalations()
	if len(es) != 1 || es[0].Out.Escalated != proposed-2 || es[0].Out.Agents != nil {
		t.Fatalf("escalations %d (%+v); want one escalating %d, listing none", len(es), es, proposed-2)
	}
	size("the escalation's result", es[0].Out)
	size("the review Query's answer", mid)
	size("the review's result", res)
	if mid.Summary.Proposed != proposed || mid.Pending != proposed-2 || mid.DecidedCount != 2 {
		t.Errorf("query after two decisions: proposed %d pending %d decided %d", mid.Summary.Proposed, mid.Pending, mid.DecidedCount)
	}
	if res.Summary.Proposed != proposed || res.Approved != 1 || res.Rejected != 1 || res.Escalated != proposed-2 {
		t.Errorf("result %+v; want 1 approved, 1 rejected, %d escalated", res, proposed-2)
	}
}

// A decision whose activity fails leaves the agent undecided: the coordinator is told, and may
// decide again. Here another agent is still pending when the first decision fails.
func TestReviewFailedDecisionCanBeRetried(t *testing.T) {
	q := quarters(t)
	clock := calendarClock()
	start := plan.RealFire(clock, q[0])
	r := newReviewRun(t, clock, q[0], reviewPolicy(), start, "A-001", "A-002")
	r.m.failOnce["A-001"] = 1
	var failed, retried *outcome
	var p campaign.ReviewProgress
	r.after(time.Hour, func() { failed = r.decide(true, "A-001", "no enrolment", "coordinator") })
	r.after(2*time.Hour, func() { p = r.query() })
	r.after(24*time.Hour, func() { retried = r.decide(true, "A-001", "no enrolment", "coordinator") })
	r.after(25*time.Hour, func() { r.decide(false, "A-002", "improving", "coordinator") })
	res, ended := r.run()

	if failed == nil || !failed.accepted || !failed.completed || failed.err == nil {
		t.Errorf("failing approval: want accepted and completed with an error, got %s", failed)
	}
	if p.Pending != 2 || p.DecidedCount != 0 || p.Decided["A-001"] != "" {
		t.Errorf("after the failed approval A-001 must be pending again: pending %d decided %d %v", p.Pending, p.DecidedCount, p.Decided)
	}
	var got campaign.DecisionResult
	requireDone(t, retried, &got)
	if got.Status != "approved" || got.Already {
		t.Errorf("retried approval answered %+v", got)
	}
	if n := len(r.m.decisionsOf("A-001")); n != 2 {
		t.Errorf("DecideTermination ran %d times for A-001, want 2", n)
	}
	if len(r.m.escalations()) != 0 || res.Approved != 1 || res.Rejected != 1 || !ended.Equal(start.Add(25*time.Hour)) {
		t.Errorf("result %+v, escalations %v, ended %s after start", res, r.m.escalations(), ended.Sub(start))
	}
}

// The same, when the failed decision was on the last agent pending: the review must go on
// waiting for a decision until the deadline, not escalate at once.
func TestReviewFailedLastDecisionCanBeRetried(t *testing.T) {
	q := quarters(t)
	clock := calendarClock()
	start := plan.RealFire(clock, q[0])
	r := newReviewRun(t, clock, q[0], reviewPolicy(), start, "A-001")
	r.m.failOnce["A-001"] = 1
	var failed, retried *outcome
	r.after(time.Hour, func() { failed = r.decide(true, "A-001", "no enrolment", "coordinator") })
	r.after(24*time.Hour, func() { retried = r.decide(true, "A-001", "no enrolment", "coordinator") })
	res, ended := r.run()

	if failed == nil || !failed.completed || failed.err == nil {
		t.Errorf("failing approval: want completed with an error, got %s", failed)
	}
	if es := r.m.escalations(); len(es) != 0 {
		t.Errorf("A-001 escalated %s after the review started, %s before the deadline, right after a failed approval",
			es[0].Real.Sub(start), clock.RealTime(q[0].End.Add(approvalWait)).Sub(es[0].Real))
	}
	if retried == nil {
		t.Fatal("the coordinator's second approval was never sent")
	}
	if !retried.completed || retried.err != nil || retried.rejected != nil {
		t.Errorf("the coordinator's second approval, a day later: %s; want it carried out", retried)
	}
	if n := len(r.m.decisionsOf("A-001")); n != 2 {
		t.Errorf("DecideTermination ran %d times for A-001, want 2 (the failure and the retry)", n)
	}
	if res.Approved != 1 || res.Escalated != 0 {
		t.Errorf("result %+v (ended %s after start); want A-001 approved", res, ended.Sub(start))
	}
}

// scheduledRun runs ScheduledReviewWorkflow as the schedule starts it for a fire at nominal
// (the search attribute; zero: none), at the real instant start, with AgentReviewWorkflow mocked.
func scheduledRun(t *testing.T, in campaign.ScheduledReviewInput, nominal, start time.Time) (*testsuite.TestWorkflowEnvironment, *reviewMocks) {
	t.Helper()
	env := newSuiteEnv(t)
	id := campaign.ReviewScheduleID(in.CampaignID)
	if !nominal.IsZero() {
		id += "-" + nominal.UTC().Format(time.RFC3339) // as the schedule names its runs
		if err := env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(scheduledStart.ValueSet(nominal))); err != nil {
			t.Fatal(err)
		}
	}
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id, TaskQueue: campaign.TaskQueue})
	env.SetStartTime(start)
	m := newReviewMocks(env)
	m.mockChild()
	env.ExecuteWorkflow(workflows.ScheduledReviewWorkflow, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("scheduled review did not complete")
	}
	return env, m
}

// A year with four reviews: each fire of the schedule starts the review of its own period,
// whenever the run actually starts (on time, or caught up or backfilled later).
func TestScheduledReviewsOfAYear(t *testing.T) {
	q := quarters(t)
	for _, clock := range []plan.Clock{calendarClock(), demoClock()} {
		in := campaign.ScheduledReviewInput{CampaignID: testCampaignID, Clock: clock, Periods: q, Policy: reviewPolicy()}
		for i, p := range q {
			for _, late := range []struct {
				name string
				d    time.Duration
			}{{"on time", 0}, {"90s late", 90 * time.Second}, {"backfilled 400 days later", 400 * 24 * time.Hour}} {
				t.Run(fmt.Sprintf("scale %g %s %s", clock.Scale, p.Label, late.name), func(t *testing.T) {
					fire := plan.RealFire(clock, p)
					env, m := scheduledRun(t, in, fire, fire.Add(late.d))
					if err := env.GetWorkflowError(); err != nil {
						t.Fatalf("fire %d failed: %v", i, err)
					}
					var res campaign.ReviewResult
					if err := env.GetWorkflowResult(&res); err != nil {
						t.Fatal(err)
					}
					if res.CampaignID != testCampaignID || res.Period != p.Label || res.AlreadyReviewed {
						t.Errorf("result %+v, want a new review of %s", res, p.Label)
					}
					if len(m.children) != 1 {
						t.Fatalf("started %d reviews, want 1", len(m.children))
					}
					c := m.children[0]
					if c.ID != "review:"+testCampaignID+":"+p.Label {
						t.Errorf("review started as %q, want review:%s:%s", c.ID, testCampaignID, p.Label)
					}
					if c.In.CampaignID != testCampaignID || c.In.Period.Label != p.Label || !c.In.Period.Start.Equal(p.Start) ||
						!c.In.Period.End.Equal(p.End) || c.In.Clock.Scale != clock.Scale || !c.In.Clock.Epoch.Equal(clock.Epoch) ||
						c.In.Policy != reviewPolicy() {
						t.Errorf("review input %+v", c.In)
					}
					if c.CampaignID != testCampaignID || c.PeriodLabel != p.Label {
						t.Errorf("review search attributes CampaignId=%q Period=%q", c.CampaignID, c.PeriodLabel)
					}
				})
			}
		}
	}
}

// On the demo's clock (a second is three campaign days) the schedule fires on the whole second
// before a quarter ends; the review starts when the quarter ends, 00:00 of its first day in
// campaign time, not at the fire (up to three days early) nor a second late (06:47 or 00:44
// the next day, as it did when fires were rounded up).
func TestScheduledReviewStartsAtItsCampaignTime(t *testing.T) {
	q := quarters(t)
	clock := demoClock()
	in := campaign.ScheduledReviewInput{CampaignID: testCampaignID, Clock: clock, Periods: q, Policy: reviewPolicy()}
	loc := time.FixedZone("+07", 7*3600)
	for _, p := range q {
		fire := plan.RealFire(clock, p)
		_, m := scheduledRun(t, in, fire, fire)
		if len(m.children) != 1 {
			t.Fatalf("%s: started %d reviews, want 1", p.Label, len(m.children))
		}
		at := clock.CampaignTime(m.children[0].Started).In(loc)
		if got, want := at.Format("2006-01-02 15:04"), p.End.In(loc).Format("2006-01-02")+" 00:00"; got != want {
			t.Errorf("%s: the review started at %s campaign time (fire %s), want %s", p.Label, got, clock.CampaignTime(fire).In(loc).Format("2006-01-02 15:04"), want)
		}
	}
}

// A run started without the schedule's search attribute (a manual start) goes by its own start.
func TestScheduledReviewWithoutNominalTimeUsesTheStart(t *testing.T) {
	q := quarters(t)
	clock := calendarClock()
	in := campaign.ScheduledReviewInput{CampaignID: testCampaignID, Clock: clock, Periods: q, Policy: reviewPolicy()}
	env, m := scheduledRun(t, in, time.Time{}, plan.RealFire(clock, q[1]).Add(time.Hour))
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if len(m.children) != 1 || m.children[0].In.Period.Label != "2021-Q2" {
		t.Errorf("reviews started %+v, want 2021-Q2's", m.children)
	}
}

func TestScheduledReviewBeforeTheFirstPeriod(t *testing.T) {
	q := quarters(t)
	for _, clock := range []plan.Clock{calendarClock(), demoClock()} {
		in := campaign.ScheduledReviewInput{CampaignID: testCampaignID, Clock: clock, Periods: q, Policy: reviewPolicy()}
		// A fire mid-quarter, before Q1 has ended.
		nominal := clock.RealTime(local(2021, 2, 15, 0, 0))
		env, m := scheduledRun(t, in, nominal, nominal)
		err := env.GetWorkflowError()
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != "NothingToReview" || !appErr.NonRetryable() {
			t.Errorf("scale %g: fire before Q1's end: error %v; want a non-retryable NothingToReview", clock.Scale, err)
		}
		if len(m.children) != 0 {
			t.Errorf("scale %g: started reviews %+v before any period ended", clock.Scale, m.children)
		}
	}
}

// twoFires stands for the schedule firing twice for the same period (a fire repeated, or
// backfilled after the schedule already took it): it starts ScheduledReviewWorkflow twice,
// one after the other, as the schedule would, with the same nominal time.
func twoFires(ctx workflow.Context, in campaign.ScheduledReviewInput, nominal time.Time) ([]campaign.ReviewResult, error) {
	var out []campaign.ReviewResult
	for i := range 2 {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            fmt.Sprintf("%s-%s-%d", campaign.ReviewScheduleID(in.CampaignID), nominal.UTC().Format(time.RFC3339), i),
			TypedSearchAttributes: temporal.NewSearchAttributes(scheduledStart.ValueSet(nominal)),
		})
		var res campaign.ReviewResult
		if err := workflow.ExecuteChildWorkflow(cctx, campaign.ScheduledReviewWorkflowName, in).Get(ctx, &res); err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

func TestScheduledReviewOfAPeriodAlreadyReviewed(t *testing.T) {
	q := quarters(t)
	clock := calendarClock()
	in := campaign.ScheduledReviewInput{CampaignID: testCampaignID, Clock: clock, Periods: q, Policy: reviewPolicy()}
	env := newSuiteEnv(t)
	env.RegisterWorkflow(twoFires)
	fire := plan.RealFire(clock, q[2])
	env.SetStartTime(fire)
	m := newReviewMocks(env)
	m.mockChild()
	env.ExecuteWorkflow(twoFires, in, fire)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("the second fire for 2021-Q3 failed: %v", err)
	}
	var res []campaign.ReviewResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].AlreadyReviewed || !res[1].AlreadyReviewed || res[1].Period != "2021-Q3" || res[1].CampaignID != testCampaignID {
		t.Errorf("results %+v; want the first to review 2021-Q3 and the second to say it was already reviewed", res)
	}
	if len(m.children) != 1 || m.children[0].ID != campaign.ReviewWorkflowID(testCampaignID, "2021-Q3") {
		t.Errorf("reviews started %+v; want 2021-Q3's once", m.children)
	}
}

// Decisions grow a review's history: once it reaches the limit, the wait goes on in a new run
// that carries the evaluation, the decisions and the deadline, evaluates nobody again, and ends
// as the one run would have (here: the last proposal decided in the second run).
func TestReviewContinuesAsNewWhenDecisionsGrowItsHistory(t *testing.T) {
	q := quarters(t)
	clock := calendarClock()
	start := plan.RealFire(clock, q[1])
	r := newReviewRun(t, clock, q[1], reviewPolicy(), start, "A-001", "A-002")
	r.in.HistoryLimit = 100
	var approve *outcome
	r.after(time.Hour, func() { approve = r.decide(true, "A-001", "no enrolment in two quarters", "coordinator") })
	r.after(2*time.Hour, func() { r.env.SetCurrentHistoryLength(100) })
	r.env.ExecuteWorkflow(workflows.AgentReviewWorkflow, r.in)
	requireDone(t, approve, nil)
	var next campaign.ReviewInput
	continuedAs(t, r.env, campaign.ReviewWorkflowName, &next)
	if !r.env.Now().Equal(start.Add(2 * time.Hour)) {
		t.Errorf("continued as new at %s, want as soon as the history reached the limit", r.env.Now())
	}
	st := workflows.Carried[workflows.ReviewState](next.State)
	if st == nil || st.Runs != 1 || st.Summary.Proposed != 2 || st.Decided["A-001"] != "approved" || len(st.Decided) != 1 ||
		st.Deadline.IsZero() || next.Period.Label != "2021-Q2" || !next.Period.End.Equal(q[1].End) || next.HistoryLimit != 100 {
		t.Fatalf("next run's input %+v, state %+v", next, st)
	}

	r2 := newReviewRun(t, clock, q[1], reviewPolicy(), start.Add(2*time.Hour), "A-001", "A-002")
	r2.in = next
	var reject, again *outcome
	r2.after(time.Hour, func() {
		again = r2.decide(true, "A-001", "twice", "coordinator")
		reject = r2.decide(false, "A-002", "on sick leave", "coordinator")
	})
	res, _ := r2.run()
	if len(r2.m.evals) != 0 {
		t.Errorf("the next run evaluated the agents again (%d times)", len(r2.m.evals))
	}
	requireRejected(t, again, `agent: "A-001" is already approved in review 2021-Q2; nothing changed`)
	requireDone(t, reject, nil)
	if res.Approved != 1 || res.Rejected != 1 || res.Escalated != 0 || res.Summary.Proposed != 2 {
		t.Errorf("result %+v", res)
	}
	if n := len(r2.m.escalations()); n != 0 {
		t.Errorf("escalated %d times; every proposal was decided", n)
	}
}
