package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"drives/activities"
	"drives/campaign"
	"drives/codec"
	"drives/coordinator"
	"drives/history"
	"drives/imports"
	"drives/internal/testenv"
	"drives/plan"
	"drives/workflows"
)

// The drive of TestReviewsAndContinueAsNew: the integration plan under another id, a year in
// 24 seconds (a campaign day is 66 ms), agents reviewed on 1 April and 1 July by the schedule
// and at the period's end by the campaign. Nobody is enrolled, so every agent scores 0 and is
// proposed for termination at once (terminate_after 1); a proposal no coordinator decides
// within 75 campaign days (5 seconds) is escalated and carried out (auto_terminate).
const (
	replayCampaign = "replay-2021"
	replayScale    = 1314000
	replayReview   = `
review:
  cron: "0 0 1 4,7 *"
  policy:
    terminate_after: 1
    approval_wait: 75d
    auto_terminate: true
`
	// replayLimit is the campaign's history limit (its districts get it too): the campaign's
	// first run has no room for its two districts' closing events and continues as new once
	// they are started; each district drive continues as new after a couple of its events.
	replayLimit = 20
	// reviewLimit is the history limit of the 2021-Q2 review: the run continues as new after
	// the first coordinator's decision.
	reviewLimit = 15
)

// The agents of the integration roster, each proposed for termination by the first review.
var replayAgents = []string{"DL-00001-1", "DL-00001-2", "DL-00004-1", "DL-00091-1", "DL-00091-2", "DL-00097-1"}

// A drive whose workflows all continue as new, with reviews whose proposed terminations a
// coordinator approves and rejects and the policy escalates and carries out, on a real dev
// server: what the coordinator reads (results, decisions, agents) is what was decided; every
// run of every workflow is listed and exported, and the export passes `audit check` (Check),
// which fails when one continued run is missing, and takes in the import retention's run that
// expired a staged batch of the campaign. The histories carry no personal data.
//
// With -record, every run's history is written to workflows/testdata, where
// TestReplayRecordedHistories replays them against the current workflow code (the run then
// uses no payload codec, so the committed histories can be read).
func TestReviewsAndContinueAsNew(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var c *codec.Codec
	if !*record {
		keys, err := codec.ParseKeys("k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)))
		require.NoError(t, err)
		c, err = codec.New(keys)
		require.NoError(t, err)
	}
	s := newNamedStack(t, c)

	lp := replayPlan(t)
	id := lp.Plan.ID
	spec, err := lp.Spec()
	require.NoError(t, err)
	require.Len(t, spec.Reviews, 3)
	q1, q2, final := spec.Reviews[0], spec.Reviews[1], spec.Reviews[2]
	require.Equal(t, []string{"2021-Q1", "2021-Q2"}, []string{q1.Label, q2.Label})

	// Launched as the coordinator launches, with a low history limit.
	require.NoError(t, coordinator.StorePlan(ctx, s.db, lp))
	run, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: campaign.CampaignWorkflowID(id), TaskQueue: campaign.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			campaign.SearchCampaignID.ValueSet(id), campaign.SearchUnitCode.ValueSet(plan.CityWide)),
	}, campaign.CampaignWorkflowName, campaign.CampaignInput{CampaignID: id, PlanHash: lp.Hash, HistoryLimit: replayLimit})
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := s.co.Progress(ctx, id)
		if assert.NoError(c, err) {
			assert.Equal(c, campaign.StatusRunning, p.Status)
		}
	}, 30*time.Second, 50*time.Millisecond, "the campaign is prepared")

	// A file staged and never merged (its merge never asked for), for the retention at the end.
	ref, err := imports.LoadReference(ctx, s.db, id, "")
	require.NoError(t, err)
	staleFile := enrolmentFile(t, 3, "5")
	staleRows, err := imports.Parse(imports.Enrolments, "stale.csv", staleFile, ref)
	require.NoError(t, err)
	stale, err := imports.Stage(ctx, s.db, id, imports.Enrolments, "", "stale.csv", staleFile, staleRows, "tester")
	require.NoError(t, err)

	// Once the campaign has continued as new (its districts started), coordinators steer its
	// second run: an event added, a city-wide one cancelled. Their events fill that run too.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		desc, err := s.tc.DescribeWorkflowExecution(ctx, campaign.CampaignWorkflowID(id), "")
		if assert.NoError(c, err) {
			assert.NotEqual(c, run.GetRunID(), desc.WorkflowExecutionInfo.Execution.RunId, "the campaign continued as new")
		}
	}, 30*time.Second, 50*time.Millisecond)
	ids, err := coordinator.Update[[]string](ctx, s.co, id, campaign.UpdateAddEvent, campaign.AddEventRequest{
		Event: plan.EventSpec{ID: "truc-bach-dialogue", Kind: "dialogue", Unit: "00004", Date: plan.Date{Y: 2021, M: 11, D: 15},
			Groups: []string{"farmer"}, ExpectedAttendance: 30},
		By: "tester"})
	require.NoError(t, err)
	require.Equal(t, []string{"truc-bach-dialogue"}, ids)
	_, err = coordinator.Update[[]string](ctx, s.co, id, campaign.UpdateCancelEvent, campaign.CancelEventRequest{
		EventID: "post-office-round", Reason: "the post offices are closed for an audit", By: "tester"})
	require.NoError(t, err)

	// The schedule's first review proposes every agent; the coordinator approves one and rejects
	// two, and holds the schedule (the next review is taken by hand, below).
	pendingIn := func(period string, want int) []string {
		t.Helper()
		var agents []string
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			pending, _, err := s.co.Attention(ctx, id)
			agents = nil
			for _, d := range pending {
				if d.Period == period {
					agents = append(agents, d.Agent)
				}
			}
			if assert.NoError(c, err) {
				assert.Len(c, agents, want)
			}
		}, 30*time.Second, 50*time.Millisecond, "%s proposes %d terminations", period, want)
		sort.Strings(agents)
		return agents
	}
	decide := func(period, agent string, approve bool, want string) {
		t.Helper()
		res, err := s.co.Decide(ctx, id, period, approve, campaign.TerminationDecision{
			Agent: agent, Reason: "enrolled nobody in the review window", By: "tester"})
		require.NoError(t, err)
		require.Equal(t, want, res.Status, "%s %s", period, agent)
	}
	require.Equal(t, replayAgents, pendingIn(q1.Label, len(replayAgents)))
	require.NoError(t, s.co.PauseSchedule(ctx, id, "the next review is taken by hand"))
	decide(q1.Label, "DL-00001-1", true, "approved")
	decide(q1.Label, "DL-00001-2", false, "rejected")
	decide(q1.Label, "DL-00004-1", false, "rejected")
	var r1 campaign.ReviewResult
	require.NoError(t, s.tc.GetWorkflow(ctx, campaign.ReviewWorkflowID(id, q1.Label), "").Get(ctx, &r1))
	require.Equal(t, 6, r1.Summary.Proposed)
	require.Equal(t, [4]int{1, 2, 0, 3}, [4]int{r1.Approved, r1.Rejected, r1.Escalated, r1.AutoTerminated},
		"approved, rejected, still escalated, terminated by the policy")
	require.Equal(t, map[string]string{"DL-00001-1": "approved", "DL-00001-2": "rejected", "DL-00004-1": "rejected",
		"DL-00091-1": "auto_terminated", "DL-00091-2": "auto_terminated", "DL-00097-1": "auto_terminated"},
		statuses(t, s, id, q1.Label))
	d, err := s.co.DescribeSchedule(ctx, id)
	require.NoError(t, err)
	require.Len(t, d.Info.RecentActions, 1, "the schedule took the first review")
	scheduled := d.Info.RecentActions[0].StartWorkflowResult

	// The second review, started by hand once its period is over, with a low history limit: the
	// two agents rejected before are proposed again; one decision later it continues as new, and
	// the new run escalates the other and carries out its termination.
	clock, _, err := s.co.Clock(ctx, id)
	require.NoError(t, err)
	time.Sleep(time.Until(clock.RealTime(q2.End)))
	rrun, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: campaign.ReviewWorkflowID(id, q2.Label), TaskQueue: campaign.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			campaign.SearchCampaignID.ValueSet(id), campaign.SearchPeriod.ValueSet(q2.Label)),
	}, campaign.ReviewWorkflowName, campaign.ReviewInput{
		CampaignID: id, Period: q2, Clock: clock, Policy: spec.Review.Policy, HistoryLimit: reviewLimit})
	require.NoError(t, err)
	require.Equal(t, []string{"DL-00001-2", "DL-00004-1"}, pendingIn(q2.Label, 2))
	decide(q2.Label, "DL-00001-2", true, "approved")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		desc, err := s.tc.DescribeWorkflowExecution(ctx, campaign.ReviewWorkflowID(id, q2.Label), "")
		if assert.NoError(c, err) {
			assert.NotEqual(c, rrun.GetRunID(), desc.WorkflowExecutionInfo.Execution.RunId, "the review continued as new")
		}
	}, 30*time.Second, 50*time.Millisecond)
	// A coordinator triggers the held schedule meanwhile: its review finds the period under
	// review already and starts nothing. (A trigger's nominal time is in whole seconds: one in
	// the second the period ended would pick the period before.)
	time.Sleep(time.Until(plan.RealFire(clock, q2)))
	require.NoError(t, s.co.TriggerReview(ctx, id))
	var again client.ScheduleWorkflowExecution
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		d, err := s.co.DescribeSchedule(ctx, id)
		if assert.NoError(c, err) && assert.Len(c, d.Info.RecentActions, 2) {
			again = *d.Info.RecentActions[1].StartWorkflowResult
		}
	}, 30*time.Second, 50*time.Millisecond, "the trigger started the schedule's workflow")
	var r0 campaign.ReviewResult
	require.NoError(t, s.tc.GetWorkflow(ctx, again.WorkflowID, "").Get(ctx, &r0))
	require.Equal(t, campaign.ReviewResult{CampaignID: id, Period: q2.Label, AlreadyReviewed: true}, r0)
	v, err := s.tc.QueryWorkflow(ctx, campaign.ReviewWorkflowID(id, q2.Label), "", campaign.QueryReview)
	require.NoError(t, err)
	var progress campaign.ReviewProgress
	require.NoError(t, v.Get(&progress))
	// The new run carries the decision. The approval wait is under a second of real time at this
	// plan's clock: on a busy machine it may have ended by now, and the other proposal been
	// terminated by the policy (a random failure when this asked for it to be pending still).
	require.Equal(t, "approved", progress.Decided["DL-00001-2"], "the new run carries the decision")
	if status, ended := progress.Decided["DL-00004-1"]; ended {
		require.Equal(t, "auto_terminated", status)
		require.Zero(t, progress.Pending)
	} else {
		require.Len(t, progress.Decided, 1)
		require.Equal(t, 1, progress.Pending)
	}
	var r2 campaign.ReviewResult
	require.NoError(t, rrun.Get(ctx, &r2), "the review's result, through its continued run")
	require.Equal(t, [4]int{1, 0, 0, 1}, [4]int{r2.Approved, r2.Rejected, r2.Escalated, r2.AutoTerminated})
	require.Equal(t, map[string]string{"DL-00001-2": "approved", "DL-00004-1": "auto_terminated"}, statuses(t, s, id, q2.Label))

	var closed campaign.CloseResult
	require.NoError(t, run.Get(ctx, &closed), "the campaign's result, through its continued runs")
	require.Equal(t, campaign.StatusClosed, closed.Status)
	require.Equal(t, 3, count(t, s.db, `select count(*) from reviews where campaign_id = $1`, id), "the campaign took the final review")
	require.Equal(t, len(replayAgents), count(t, s.db, `select count(*) from agents where campaign_id = $1 and kind = 'agent' and status = 'terminated'`, id))
	require.Equal(t, 1, count(t, s.db, `select count(*) from events where campaign_id = $1 and id = 'truc-bach-dialogue' and status = 'held'`, id),
		"the event added in the campaign's first runs was held by a later district run")
	require.Equal(t, 2, count(t, s.db, `select count(*) from events where campaign_id = $1 and parent_id = 'post-office-round' and status = 'cancelled'`, id),
		"the city-wide event cancelled in the campaign's first runs was held in neither district")

	// Every run of every chain is listed: the campaign's, each district's and the hand-taken
	// review's runs continued as new; the schedule's workflows, its review and the final review
	// ran once.
	var runs []history.Run
	chains := map[string][]string{}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		runs, err = history.Runs(ctx, s.tc, id)
		if !assert.NoError(c, err) {
			return
		}
		chains = map[string][]string{}
		for _, r := range runs {
			chains[r.WorkflowID] = append(chains[r.WorkflowID], r.Status)
			assert.NotEqual(c, "Running", r.Status, r.WorkflowID)
		}
		assert.Len(c, chains, 8, "campaign, two districts, the schedule's two workflows and three reviews")
		for _, wid := range []string{campaign.CampaignWorkflowID(id), campaign.DistrictWorkflowID(id, "001"),
			campaign.DistrictWorkflowID(id, "003"), campaign.ReviewWorkflowID(id, q2.Label)} {
			assert.GreaterOrEqual(c, len(chains[wid]), 2, "%s continued as new", wid)
		}
		assert.GreaterOrEqual(c, len(chains[campaign.CampaignWorkflowID(id)]), 3,
			"the campaign continued as new once its districts were started, and again in its loop")
		for _, wid := range []string{scheduled.WorkflowID, again.WorkflowID, campaign.ReviewWorkflowID(id, q1.Label), campaign.ReviewWorkflowID(id, final.Label)} {
			assert.Equal(c, []string{"Completed"}, chains[wid], wid)
		}
	}, 30*time.Second, 200*time.Millisecond)
	for wid, st := range chains {
		sorted := append([]string(nil), st...)
		sort.Strings(sorted)
		require.Equal(t, "Completed", sorted[0], "%s: one run completed, the others continued as new: %v", wid, st)
		for _, x := range sorted[1:] {
			require.Equal(t, "ContinuedAsNew", x, "%s: %v", wid, st)
		}
	}

	// The export holds every run, and passes the auditor's check: every history replays, and
	// every audit row has its completed activity, in whichever run it was.
	dir := filepath.Join(t.TempDir(), "export")
	m, err := history.Export(ctx, s.tc, s.db, id, dir)
	require.NoError(t, err)
	require.Len(t, m.Runs, len(runs))
	res, err := history.Check(dir, s.dc)
	require.NoError(t, err)
	require.Empty(t, res.Problems)
	require.Equal(t, len(runs), res.Runs)
	effects := count(t, s.db, `select count(*) from audit_log where campaign_id = $1 and activity_id is not null`, id)
	require.Equal(t, effects, res.Effects)

	// The control: the same export without the review's continued run (its file and its lines
	// in the manifest). Its escalation and termination have audit rows, and Check finds no
	// completed activity for them: it reads the continued runs, not only the first.
	var last history.Run
	for _, r := range m.Runs {
		if r.WorkflowID == campaign.ReviewWorkflowID(id, q2.Label) && r.Status == "Completed" {
			last = r
		}
	}
	require.NotEmpty(t, last.RunID)
	cut := filepath.Join(t.TempDir(), "cut")
	require.NoError(t, os.CopyFS(cut, os.DirFS(dir)))
	require.NoError(t, os.Remove(filepath.Join(cut, last.File)))
	man := *m
	man.Runs = nil
	for _, r := range m.Runs {
		if r.RunID != last.RunID {
			man.Runs = append(man.Runs, r)
		}
	}
	var files []history.File
	for _, f := range m.Files {
		if f.Path != last.File {
			files = append(files, f)
		}
	}
	man.Files = files
	mb, err := json.Marshal(man)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(cut, history.ManifestFile), mb, 0o644))
	res, err = history.Check(cut, s.dc)
	require.NoError(t, err)
	var missing []string
	for _, p := range res.Problems {
		require.Contains(t, p.String(), "no completed activity", p.String())
		require.Contains(t, p.String(), last.RunID, p.String())
		missing = append(missing, p.String())
	}
	require.Len(t, missing, 2, "the escalation and the termination of the continued run: %v", missing)

	// No personal data: every payload of every run, decoded, is searched for the names and
	// phones of the campaign's agents and staff.
	var names []string
	for _, r := range m.Runs {
		names = append(names, r.File)
	}
	payloads := exportedPayloads(t, s.dc, dir, names)
	require.Greater(t, len(payloads), 50)
	var people []person
	rows, err := s.db.Query(ctx, `select full_name, phone from agents where campaign_id = $1`, id)
	require.NoError(t, err)
	for rows.Next() {
		var p person
		require.NoError(t, rows.Scan(&p.name, &p.phone))
		people = append(people, p)
	}
	require.NoError(t, rows.Err())
	require.Len(t, people, 11)
	require.Empty(t, personalDataIn(payloads, people), "personal data in the histories' payloads")

	// The retention of staged imports, as its schedule starts it daily, with a retention short
	// enough to take the batch staged at the start: it deletes it, lines and all.
	rt, err := s.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "import-retention-" + id, TaskQueue: campaign.TaskQueue},
		workflows.ImportRetentionWorkflowName, workflows.ImportRetentionInput{Retention: time.Millisecond})
	require.NoError(t, err)
	var expired workflows.ImportRetentionResult
	require.NoError(t, rt.Get(ctx, &expired))
	require.Equal(t, [2]int{1, 3}, [2]int{expired.Batches, expired.Rows}, "batches and lines deleted")
	require.Len(t, expired.Campaigns, 1)
	require.Equal(t, stale, expired.Campaigns[0].Batches[0].ID)
	require.Zero(t, count(t, s.db, `select count(*) from import_batches where id = $1`, stale))

	// The retention's run wrote an audit row of the campaign but carries no campaign ID: the
	// export takes it in, for that row, and the check passes.
	dir2 := filepath.Join(t.TempDir(), "export-after-retention")
	m2, err := history.Export(ctx, s.tc, s.db, id, dir2)
	require.NoError(t, err)
	require.Len(t, m2.Runs, len(runs)+1)
	var types []string
	for _, r := range m2.Runs {
		types = append(types, r.Type)
	}
	require.Contains(t, types, workflows.ImportRetentionWorkflowName)
	res, err = history.Check(dir2, s.dc)
	require.NoError(t, err)
	require.Empty(t, res.Problems)
	require.Equal(t, effects+1, res.Effects, "the expiry's activity counts, with its audit row")
	require.Equal(t, effects+1, count(t, s.db, `select count(*) from audit_log where campaign_id = $1 and activity_id is not null`, id))

	for _, r := range m.Runs {
		t.Logf("%s %s run %s: %s, %d events", r.Type, r.WorkflowID, r.RunID, r.Status, r.Events)
	}
	if *record {
		recordRuns(t, dir, m, scheduled.WorkflowID, again.WorkflowID)
		h, err := history.Fetch(ctx, s.tc, rt.GetID(), rt.GetRunID())
		require.NoError(t, err)
		b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
		require.NoError(t, err)
		name := strings.NewReplacer(":", "_", "-", "_").Replace(rt.GetID())
		require.NoError(t, os.WriteFile(filepath.Join("..", "workflows", "testdata", name+".json"), b, 0o644))
		t.Logf("recorded %s (%s, %d events)", name, workflows.ImportRetentionWorkflowName, len(h.Events))
	}
}

// statuses maps each agent proposed in a period to its decision's status, from the database.
func statuses(t *testing.T, s *stack, campaignID, period string) map[string]string {
	t.Helper()
	ds, err := s.co.Decisions(context.Background(), campaignID, period)
	require.NoError(t, err)
	out := map[string]string{}
	for _, d := range ds {
		if d.Decision == "terminate" {
			out[d.Agent] = d.Status
		}
	}
	return out
}

// replayPlan is the integration plan under replayCampaign, faster and with the reviews of
// replayReview.
func replayPlan(t *testing.T) *plan.Loaded {
	t.Helper()
	return planVariant(t, replayCampaign, replayScale, replayReview)
}

// newNamedStack is newStack with a client and worker of a fixed identity, which the histories
// record in their events (rather than this machine's process and host), and the codec c if
// not nil.
func newNamedStack(t *testing.T, c *codec.Codec) *stack {
	t.Helper()
	srv := testenv.SharedDevServer(t)
	s := &stack{db: testenv.NewPool(t)}
	opts := client.Options{HostPort: srv.FrontendHostPort(), Namespace: testenv.Namespace, Identity: "integration-test"}
	if c != nil {
		s.dc = codec.DataConverter(c)
		opts.DataConverter = s.dc
	}
	tc, err := client.Dial(opts)
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	s.tc = tc
	s.acts = &activities.Activities{Pool: s.db, Temporal: s.tc}
	w := worker.New(s.tc, campaign.TaskQueue, worker.Options{})
	workflows.Register(w, s.acts)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	s.co = &coordinator.Coordinator{DB: s.db, Temporal: s.tc}
	return s
}

// recordRuns copies every exported run into workflows/testdata, named by its workflow ID and,
// where it continued as new, its place in the chain (run1, run2…); the scheduled review, whose
// IDs the schedule makes from the fires' times, as scheduled_review_<campaign>_<n> in the
// order of scheduledIDs. The files
// this test wrote before are removed first.
func recordRuns(t *testing.T, dir string, m *history.Manifest, scheduledIDs ...string) {
	t.Helper()
	out := filepath.Join("..", "workflows", "testdata")
	old, err := filepath.Glob(filepath.Join(out, "*"+strings.ReplaceAll(replayCampaign, "-", "_")+"*.json"))
	require.NoError(t, err)
	for _, f := range old {
		require.NoError(t, os.Remove(f))
	}
	clean := strings.NewReplacer(":", "_", "-", "_")
	type entry struct {
		run   history.Run
		start time.Time
		b     []byte
	}
	byID := map[string][]entry{}
	for _, r := range m.Runs {
		b, err := os.ReadFile(filepath.Join(dir, r.File))
		require.NoError(t, err)
		var h historypb.History
		require.NoError(t, protojson.Unmarshal(b, &h))
		byID[r.WorkflowID] = append(byID[r.WorkflowID], entry{r, h.Events[0].EventTime.AsTime(), b})
	}
	for wid, es := range byID {
		sort.Slice(es, func(i, j int) bool { return es[i].start.Before(es[j].start) })
		base := clean.Replace(wid)
		for i, sid := range scheduledIDs {
			if wid == sid {
				base = fmt.Sprintf("scheduled_review_%s_%d", clean.Replace(replayCampaign), i+1)
			}
		}
		for i, e := range es {
			name := base
			if len(es) > 1 {
				name += fmt.Sprintf("_run%d", i+1)
			}
			require.NoError(t, os.WriteFile(filepath.Join(out, name+".json"), e.b, 0o644))
			t.Logf("recorded %s (%s, %s, %d events)", name, e.run.Type, e.run.Status, e.run.Events)
		}
	}
}
