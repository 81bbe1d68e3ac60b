// Package integration runs whole drives on a real Temporal dev server (the pinned CLI) and a
// real PostgreSQL, with the worker, the coordinator's commands, the imports and the field
// simulator all as in production, and checks what a coordinator and an auditor would check.
package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"drives/activities"
	"drives/campaign"
	"drives/codec"
	"drives/coordinator"
	"drives/imports"
	"drives/internal/testenv"
	"drives/plan"
	"drives/report"
	"drives/simulator"
	"drives/workflows"
)

var record = flag.Bool("record", false, "save the run's histories to workflows/testdata for the replay tests")

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

type stack struct {
	dc       converter.DataConverter // the payload codec's, or nil
	db       *pgxpool.Pool
	tc       client.Client
	co       *coordinator.Coordinator
	im       *imports.Importer
	acts     *activities.Activities
	failures atomic.Int32 // injected failures so far
}

// newStack starts a worker on the shared dev server with a fresh database. Every test's worker
// polls the drives' one task queue: each test uses its own campaign and namespace-wide unique
// IDs, and what a test leaves running is ended when it ends (endLeftovers), before its worker
// stops, so that the next test's worker never works it against the next test's database. With
// a codec, every client and the worker encrypt payloads with it.
func newStack(t *testing.T, c ...*codec.Codec) *stack {
	t.Helper()
	srv := testenv.SharedDevServer(t)
	s := &stack{db: testenv.NewPool(t), tc: srv.Client()}
	if len(c) > 0 {
		s.dc = codec.DataConverter(c[0])
		tc, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: testenv.Namespace, DataConverter: s.dc})
		require.NoError(t, err)
		t.Cleanup(tc.Close)
		s.tc = tc
	}
	s.acts = &activities.Activities{Pool: s.db, Temporal: s.tc}
	w := worker.New(s.tc, campaign.TaskQueue, worker.Options{})
	workflows.Register(w, s.acts)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	t.Cleanup(func() { endLeftovers(t, s.tc) }) // before the worker stops
	s.co = &coordinator.Coordinator{DB: s.db, Temporal: s.tc}
	s.im = &imports.Importer{DB: s.db, Temporal: s.tc}
	return s
}

// endLeftovers ends what a test left on the shared dev server: its schedules, and its
// workflows still running (a campaign a test did not see to its end, a review a schedule
// started). Each is named in the test's log.
func endLeftovers(t *testing.T, tc client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	schedules, err := tc.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	if err != nil {
		t.Errorf("list the schedules left: %v", err)
		return
	}
	for schedules.HasNext() {
		sc, err := schedules.Next()
		if err != nil {
			t.Errorf("list the schedules left: %v", err)
			return
		}
		if err := tc.ScheduleClient().GetHandle(ctx, sc.ID).Delete(ctx); err != nil {
			t.Errorf("delete schedule %s: %v", sc.ID, err)
		}
		t.Logf("deleted schedule %s, left by the test", sc.ID)
	}
	var token []byte
	for {
		page, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: testenv.Namespace, Query: `ExecutionStatus = "Running"`, NextPageToken: token})
		if err != nil {
			t.Errorf("list the workflows left running: %v", err)
			return
		}
		for _, e := range page.Executions {
			err := tc.TerminateWorkflow(ctx, e.Execution.WorkflowId, e.Execution.RunId, "the test ended")
			var gone *serviceerror.NotFound
			if err != nil && !errors.As(err, &gone) {
				t.Errorf("end workflow %s: %v", e.Execution.WorkflowId, err)
			}
			t.Logf("ended workflow %s, left running by the test", e.Execution.WorkflowId)
		}
		if token = page.NextPageToken; len(token) == 0 {
			return
		}
	}
}

func count(t *testing.T, db *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(context.Background(), sql, args...).Scan(&n), sql)
	return n
}

// enrolmentFile writes n enrolments in the test plan's communes with agents who work there.
func enrolmentFile(t *testing.T, n int, salt string) []byte {
	t.Helper()
	communes := [][3]string{{"00001", "00001-01", "DL-00001-1"}, {"00004", "00004-01", "DL-00004-1"},
		{"00091", "00091-02", "DL-00091-2"}, {"00094", "00094-01", "CB-00094"}, {"00097", "00097-01", "DL-00097-1"}}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	require.NoError(t, w.Write(imports.Headers[imports.Enrolments]))
	for i := 0; i < n; i++ {
		c := communes[i%len(communes)]
		id := fmt.Sprintf("00190%s%06d", salt, i)
		require.NoError(t, w.Write([]string{id, "Người Tham Gia " + fmt.Sprint(i), fmt.Sprintf("09%08d", i), c[0], c[1], c[2],
			"farmer", "1500000", []string{"poor", "near_poor", "other"}[i%3], "monthly", "2021-01-01"}))
	}
	w.Flush()
	return b.Bytes()
}

func TestDriveEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The drive runs with the payload codec: every payload in Temporal is encrypted. Histories
	// recorded for the replay tests are kept readable.
	keys, err := codec.ParseKeys("k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	require.NoError(t, err)
	c, err := codec.New(keys)
	require.NoError(t, err)
	codecs := []*codec.Codec{c}
	if *record {
		codecs = nil
	}
	s := newStack(t, codecs...)

	// The first attempt of the first merge crashes right after its commit; the retry must
	// return the committed result and write nothing twice.
	var once sync.Once
	s.acts.FailAfterCommit = func(name string, attempt int32) error {
		var err error
		if name == "MergeImport" && attempt == 1 {
			once.Do(func() {
				s.failures.Add(1)
				err = errors.New("injected: worker lost after commit")
			})
		}
		return err
	}

	lp, err := plan.Load(filepath.Join("testdata", "plan.yaml"))
	require.NoError(t, err)
	run, err := s.co.Launch(ctx, lp)
	require.NoError(t, err)

	// Launching again never yields a second run.
	_, err = s.co.Launch(ctx, lp)
	var again *coordinator.AlreadyLaunchedError
	require.ErrorAs(t, err, &again)
	require.True(t, again.Running)

	// Wait until the campaign is prepared (units and agents written).
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := s.co.Progress(ctx, lp.Plan.ID)
		if assert.NoError(c, err) {
			assert.Equal(c, campaign.StatusRunning, p.Status)
		}
	}, 30*time.Second, 100*time.Millisecond)

	// A bad file is refused whole, names the line and field, and writes nothing.
	bad := enrolmentFile(t, 5, "1")
	bad = bytes.Replace(bad, []byte("1500000"), []byte("650000"), 1)
	_, err = s.im.Enrolments(ctx, lp.Plan.ID, imports.Enrolments, "bad.csv", bad, "tester")
	var rej *imports.Rejected
	require.ErrorAs(t, err, &rej)
	// The whole message, as the user reads it (it was once compared with itself; shown failing
	// by changing the file's income to 600000).
	require.Equal(t, []imports.LineError{{Line: 2, Field: "monthly_income", Msg: "650000 VND is outside 700000–29800000 VND"}}, rej.Errors)
	require.Zero(t, count(t, s.db, `select count(*) from import_batches`))
	require.Zero(t, count(t, s.db, `select count(*) from enrolments`))

	// A good file goes in once, despite the crash after commit; again it adds nothing.
	good := enrolmentFile(t, 40, "2")
	res, err := s.im.Enrolments(ctx, lp.Plan.ID, imports.Enrolments, "good.csv", good, "tester")
	require.NoError(t, err)
	require.Equal(t, int32(1), s.failures.Load(), "the injected failure happened")
	require.Equal(t, 40, res.New)
	require.Equal(t, 0, res.Duplicates)
	res, err = s.im.Enrolments(ctx, lp.Plan.ID, imports.Enrolments, "good-again.csv", good, "tester")
	require.NoError(t, err)
	require.Equal(t, 0, res.New)
	require.Equal(t, 40, res.Duplicates)
	require.Equal(t, 40, count(t, s.db, `select count(*) from enrolments`))
	require.Equal(t, 2, count(t, s.db, `select count(*) from audit_log where action = 'import.merge'`),
		"one audit row per merge, none for the crashed attempt's retry")

	// Coordinators steer through Updates: a valid event reaches its district, a bad one is refused.
	_, err = coordinator.Update[[]string](ctx, s.co, lp.Plan.ID, campaign.UpdateAddEvent, campaign.AddEventRequest{
		Event: plan.EventSpec{ID: "x", Kind: "conference", Unit: "999", Date: plan.Date{Y: 2021, M: 11, D: 1}, Groups: []string{"farmer"}},
		By:    "tester"})
	require.ErrorContains(t, err, `event.unit: unknown unit "999"`)
	ids, err := coordinator.Update[[]string](ctx, s.co, lp.Plan.ID, campaign.UpdateAddEvent, campaign.AddEventRequest{
		Event: plan.EventSpec{ID: "tu-lien-dialogue", Kind: "dialogue", Unit: "00097", Date: plan.Date{Y: 2021, M: 11, D: 15},
			Groups: []string{"farmer"}, ExpectedAttendance: 30},
		By: "tester"})
	require.NoError(t, err)
	require.Equal(t, []string{"tu-lien-dialogue"}, ids)

	// The field plays out the rest of the year.
	cfg, err := simulator.LoadConfig(filepath.Join("..", "plans", "hanoi-2021", "field-sim.yaml"))
	require.NoError(t, err)
	cfg.Tick = 200 * time.Millisecond
	cfg.Conversion = map[string]float64{"household_business": 0.5, "farmer": 0.4, "student": 0.2}
	cfg.StartingRegister = 200 // a starting register of the test plan's size, not Hà Nội's
	field := &simulator.Field{Config: cfg, CampaignID: lp.Plan.ID, Importer: s.im, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	simCtx, stopSim := context.WithCancel(ctx)
	defer stopSim()
	simDone := make(chan simulator.Stats, 1)
	go func() {
		st, _ := field.Run(simCtx)
		simDone <- st
	}()

	var closed campaign.CloseResult
	require.NoError(t, run.Get(ctx, &closed))
	stopSim()
	st := <-simDone
	require.Equal(t, campaign.StatusClosed, closed.Status)

	// What the coordinator reads equals what the rows say.
	enrolled := count(t, s.db, `select count(*) from enrolments where campaign_id = $1`, lp.Plan.ID)
	require.Equal(t, enrolled, closed.Enrolled)
	require.Greater(t, st.Leads, 0, "the field reported leads")
	require.Greater(t, enrolled, 40, "the field enrolled people")
	require.Equal(t, lp.CityTarget(), closed.Target)
	rep, err := report.Load(ctx, s.db, lp.Plan.ID)
	require.NoError(t, err)
	require.True(t, rep.Final)
	require.Equal(t, enrolled, rep.Enrolled)
	require.Equal(t, "closed", rep.Status)
	var districtSum int
	for _, u := range rep.Units {
		if u.Level == "district" {
			districtSum += u.Enrolled
		}
	}
	require.Equal(t, enrolled, districtSum)
	// Every event was held: four planned (the city-wide round in both districts) and the added one.
	require.Equal(t, 6, count(t, s.db, `select count(*) from events where campaign_id = $1 and status = 'held'`, lp.Plan.ID))
	require.Zero(t, count(t, s.db, `select count(*) from events where campaign_id = $1 and status = 'planned'`, lp.Plan.ID))
	// Every business key exists once.
	require.Zero(t, count(t, s.db, `select count(*) from (select citizen_id from enrolments group by 1 having count(*) > 1) d`))
	require.Zero(t, count(t, s.db, `select count(*) from (select prospect_id from follow_ups where kind = 'lead' group by 1 having count(*) > 1) d`))
	// Leads went to agents of their commune only; commune 00094 has no agent, so its staff.
	require.Zero(t, count(t, s.db, `
		select count(*) from follow_ups f join agents a on a.campaign_id = f.campaign_id and a.code = f.agent_code
		where f.kind = 'lead' and (a.commune_code <> f.commune_code or (a.kind = 'staff' and f.commune_code <> '00094'))`))
	// Renewals went to whoever holds the person, in the person's commune.
	require.Positive(t, count(t, s.db, `select count(*) from follow_ups where campaign_id = $1 and kind = 'renewal'`, lp.Plan.ID))
	require.Zero(t, count(t, s.db, `
		select count(*) from follow_ups f join agents a on a.campaign_id = f.campaign_id and a.code = f.agent_code
		where f.campaign_id = $1 and f.kind = 'renewal' and a.commune_code <> f.commune_code`, lp.Plan.ID))

	checkReviews(t, ctx, s, lp.Plan.ID)
	checkAudit(t, ctx, s, lp.Plan.ID)
	histories := checkHistories(t, ctx, s, lp.Plan.ID)
	if *record {
		for name, h := range histories {
			b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join("..", "workflows", "testdata", name+".json"), b, 0o644))
		}
	}
}

// checkHistories fetches the campaign's and its districts' histories, checks every run stays
// under 4,096 events, every completed effect activity has exactly its audit row, and the
// histories replay against the current workflow code.
func checkHistories(t *testing.T, ctx context.Context, s *stack, campaignID string) map[string]*historypb.History {
	t.Helper()
	ids := []string{campaign.CampaignWorkflowID(campaignID), campaign.DistrictWorkflowID(campaignID, "001"), campaign.DistrictWorkflowID(campaignID, "003"),
		campaign.ReviewWorkflowID(campaignID, "2021-Q1"), campaign.ReviewWorkflowID(campaignID, "2021-Q4")}
	out := map[string]*historypb.History{}
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: s.dc})
	require.NoError(t, err)
	workflows.Register(replayer, nil)
	audited := map[string]bool{}
	rows, err := s.db.Query(ctx, `select workflow_id || '/' || run_id || '/' || activity_id from audit_log where activity_id is not null`)
	require.NoError(t, err)
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		audited[k] = true
	}
	require.NoError(t, rows.Err())
	effects := 0
	for _, id := range ids {
		h := &historypb.History{}
		it := s.tc.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			e, err := it.Next()
			require.NoError(t, err)
			h.Events = append(h.Events, e)
		}
		require.Less(t, len(h.Events), 4096, "%s: history events", id)
		t.Logf("%s: %d history events", id, len(h.Events))
		runID := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetOriginalExecutionRunId()
		scheduled := map[int64]string{}
		for _, e := range h.Events {
			if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
				scheduled[e.EventId] = a.ActivityId + " " + a.ActivityType.GetName()
			}
			if a := e.GetActivityTaskCompletedEventAttributes(); a != nil {
				act := strings.Fields(scheduled[a.ScheduledEventId])
				if act[1] == "LoadPlan" {
					continue // reads only
				}
				effects++
				require.True(t, audited[id+"/"+runID+"/"+act[0]], "%s activity %s (%s) has no audit row", id, act[0], act[1])
			}
		}
		require.NoError(t, replayer.ReplayWorkflowHistory(nil, h), "%s replays", id)
		out[strings.ReplaceAll(strings.ReplaceAll(id, ":", "_"), "-", "_")] = h
	}
	require.Equal(t, count(t, s.db, `select count(*) from audit_log where activity_id is not null and workflow_id = any($1)`, ids), effects,
		"audit rows written by activities equal completed effect activities")
	return out
}

// checkReviews checks the year's four reviews: three taken by the schedule, the last by the
// campaign as its final evaluation; the schedule is stopped with the campaign; a backfill of
// the whole year adds no review and no decision.
func checkReviews(t *testing.T, ctx context.Context, s *stack, campaignID string) {
	t.Helper()
	periods := []string{"2021-Q1", "2021-Q2", "2021-Q3", "2021-Q4"}
	require.Equal(t, 4, count(t, s.db, `select count(*) from reviews where campaign_id = $1 and period = any($2)`, campaignID, periods))
	agents := count(t, s.db, `select count(*) from agents where campaign_id = $1`, campaignID)
	for _, p := range periods {
		desc, err := s.tc.DescribeWorkflowExecution(ctx, campaign.ReviewWorkflowID(campaignID, p), "")
		require.NoError(t, err, p)
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.WorkflowExecutionInfo.Status, p)
		require.Equal(t, agents, count(t, s.db, `select count(*) from review_decisions where campaign_id = $1 and period = $2`, campaignID, p),
			"%s: one decision per agent and staff member", p)
	}
	co := &coordinator.Coordinator{DB: s.db, Temporal: s.tc}
	d, err := co.DescribeSchedule(ctx, campaignID)
	require.NoError(t, err)
	require.Len(t, d.Schedule.Spec.Calendars, 3, "the schedule takes the first three reviews; the campaign the last")
	require.True(t, d.Schedule.State.Paused, "closing the campaign stops its schedule")
	require.Equal(t, "campaign closed", d.Schedule.State.Note)
	require.Len(t, d.Info.RecentActions, 3)

	decisions := count(t, s.db, `select count(*) from review_decisions where campaign_id = $1`, campaignID)
	clock, _, err := co.Clock(ctx, campaignID)
	require.NoError(t, err)
	require.NoError(t, co.BackfillReviews(ctx, campaignID, clock.Epoch, time.Now()))
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		d, err := co.DescribeSchedule(ctx, campaignID)
		if assert.NoError(c, err) {
			assert.GreaterOrEqual(c, int(d.Info.NumActions), 6, "the backfill took the year's three reviews again")
			for _, a := range d.Info.RecentActions {
				desc, err := s.tc.DescribeWorkflowExecution(ctx, a.StartWorkflowResult.WorkflowID, a.StartWorkflowResult.FirstExecutionRunID)
				if assert.NoError(c, err) {
					assert.NotEqual(c, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, desc.WorkflowExecutionInfo.Status)
				}
			}
		}
	}, 30*time.Second, 200*time.Millisecond)
	require.Equal(t, decisions, count(t, s.db, `select count(*) from review_decisions where campaign_id = $1`, campaignID),
		"a backfill of reviewed periods adds nothing")
	require.Equal(t, 4, count(t, s.db, `select count(*) from reviews where campaign_id = $1`, campaignID))
}
