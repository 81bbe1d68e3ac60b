package e2e_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"drives/activities"
	"drives/campaign"
	"drives/coordinator"
	"drives/imports"
	"drives/internal/testenv"
	"drives/plan"
	"drives/workflows"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The fixture plan, made to run for a while with a review early in it: a campaign day lasts 4
// real seconds (a year about 24 minutes), agents are reviewed once on 3 January (8 seconds
// after the launch) and then at the period's end, an agent below the termination threshold
// once is proposed for termination, and a proposal waits 180 campaign days (12 minutes) for a
// coordinator. So while a test runs, the campaign is running with terminations pending.
const scenarioPlan = `
review:
  cron: "0 0 3 1 *"
  policy:
    terminate_after: 1
    approval_wait: 180d
`

// Who enrols in the review window (2 January): the other agents of the fixture (DL-00001-3
// and DL-00011-1) enrol nobody and are proposed for termination.
var scenarioEnrolments = []struct {
	agent, commune, village, group string
	n                              int
}{
	{"DL-00001-1", "00001", "00001-01", "trader", 3},
	{"DL-00001-2", "00001", "00001-02", "student", 2},
	{"DL-00003-1", "00003", "00003-01", "trader", 2},
	{"DL-00010-1", "00010", "00010-01", "trader", 4},
	{"DL-00010-2", "00010", "00010-02", "student", 1},
}

// scenario is a running campaign on a real PostgreSQL and Temporal dev server, with an
// in-process worker, enrolments imported, and the first review's terminations pending.
type scenario struct {
	ctx      context.Context
	db       *pgxpool.Pool
	tc       client.Client
	co       *coordinator.Coordinator
	im       *imports.Importer
	id       string
	period   string                 // the first review's period
	enrolled int                    // enrolments imported
	pending  []coordinator.Decision // the review's pending terminations
}

// newStack is a fresh database and the shared dev server, with a worker in this process.
func newStack(t testing.TB, ctx context.Context, id string) *scenario {
	t.Helper()
	srv := testenv.SharedDevServer(t)
	s := &scenario{ctx: ctx, db: testenv.NewPool(t), tc: srv.Client(), id: id}
	acts := &activities.Activities{Pool: s.db, Temporal: s.tc}
	w := worker.New(s.tc, campaign.TaskQueue, worker.Options{})
	workflows.Register(w, acts)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	s.co = &coordinator.Coordinator{DB: s.db, Temporal: s.tc}
	s.im = &imports.Importer{DB: s.db, Temporal: s.tc}
	return s
}

// newScenario launches the scenario's campaign under an ID of the test's own: the tests of this
// binary share a dev server and the task queue, and each campaign is terminated when its test
// ends, so that no workflow of one test is left for the next test's worker (on another
// database) to pick up.
func newScenario(t *testing.T, ctx context.Context, scenarioID string) *scenario {
	t.Helper()
	s := newStack(t, ctx, scenarioID)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.tc.TerminateWorkflow(ctx, campaign.CampaignWorkflowID(scenarioID), "", "test over")
		_ = s.tc.ScheduleClient().GetHandle(ctx, campaign.ReviewScheduleID(scenarioID)).Delete(ctx)
	})

	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "internal", "fixture", "plan"))))
	planFile := filepath.Join(dir, "plan.yaml")
	b, err := os.ReadFile(planFile)
	require.NoError(t, err)
	text := strings.Replace(string(b), "id: test-2021", "id: "+scenarioID, 1)
	text = strings.Replace(text, "scale: 1\n", "scale: 21600\n", 1)
	require.NoError(t, os.WriteFile(planFile, []byte(text+scenarioPlan), 0o644))
	lp, err := plan.Load(planFile)
	require.NoError(t, err)
	require.Equal(t, scenarioID, lp.Plan.ID)
	spec, err := lp.Spec()
	require.NoError(t, err)
	first := spec.Reviews[0]
	s.period = first.Label

	start := time.Now()
	_, err = s.co.Launch(ctx, lp)
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := s.co.Progress(ctx, s.id)
		if assert.NoError(c, err) {
			assert.Equal(c, campaign.StatusRunning, p.Status)
		}
	}, 30*time.Second, 100*time.Millisecond, "the campaign is prepared")

	var file bytes.Buffer
	cw := csv.NewWriter(&file)
	require.NoError(t, cw.Write(imports.Headers[imports.Enrolments]))
	for i, e := range scenarioEnrolments {
		for j := 0; j < e.n; j++ {
			n := 100*i + j
			require.NoError(t, cw.Write([]string{fmt.Sprintf("00190%07d", n), fmt.Sprintf("Người Tham Gia %d", n), fmt.Sprintf("09%08d", n),
				e.commune, e.village, e.agent, e.group, "1500000", []string{"poor", "near_poor", "other"}[n%3], "monthly", "2021-01-01"}))
		}
		s.enrolled += e.n
	}
	cw.Flush()
	res, err := s.im.Enrolments(ctx, s.id, imports.Enrolments, "enrolments.csv", file.Bytes(), "tester")
	require.NoError(t, err)
	require.Equal(t, s.enrolled, res.New)
	clock, loc, err := s.co.Clock(ctx, s.id)
	require.NoError(t, err)
	now := clock.CampaignTime(time.Now()).In(loc)
	require.True(t, now.Before(first.End), "the enrolments went in at campaign time %s, after the review window closed (%s): "+
		"this machine was too slow for the scenario's clock", now.Format(time.RFC3339), first.End.Format(time.RFC3339))
	t.Logf("scenario: launched, prepared and enrolments imported in %v (campaign time %s; the review is due at %s)",
		time.Since(start).Round(time.Millisecond), now.Format("2006-01-02 15:04"), first.End.In(loc).Format("2006-01-02 15:04"))

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		pending, _, err := s.co.Attention(ctx, s.id)
		if assert.NoError(c, err) && assert.NotEmpty(c, pending) {
			s.pending = pending
		}
	}, 90*time.Second, 250*time.Millisecond, "the first review proposes terminations")
	t.Logf("scenario: ready in %v", time.Since(start).Round(time.Millisecond))
	return s
}

func (s *scenario) count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, s.db.QueryRow(s.ctx, sql, args...).Scan(&n), sql)
	return n
}

func (s *scenario) agentStatus(t *testing.T, agent string) string {
	t.Helper()
	var st string
	require.NoError(t, s.db.QueryRow(s.ctx, `select status from agents where campaign_id = $1 and code = $2`, s.id, agent).Scan(&st))
	return st
}
