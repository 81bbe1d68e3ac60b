package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"drives/activities"
	"drives/campaign"
	"drives/coordinator"
	"drives/internal/testenv"
	"drives/plan"
	"drives/workflows"
)

// A worker lost in the middle of an activity — killed, or cut off from Temporal — holds the
// drive up only for the heartbeat timeout, not for the activity's whole start-to-close timeout
// (minutes): another worker retries the attempt, which returns what the lost one committed.
func TestLostAttemptIsRetriedWithinTheHeartbeatTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv := testenv.SharedDevServer(t)
	db := testenv.NewPool(t)

	// The first worker has its own connection, closed when it is "killed"; its attempt at
	// allocating the quotas commits and then never answers.
	lostClient, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Namespace: testenv.Namespace})
	require.NoError(t, err)
	hung, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) })
	var once sync.Once
	lost := &activities.Activities{Pool: db, Temporal: lostClient, FailAfterCommit: func(name string, attempt int32) error {
		if name == "AllocateQuotas" && attempt == 1 {
			once.Do(func() { close(hung) })
			<-release
		}
		return nil
	}}
	w1 := worker.New(lostClient, campaign.TaskQueue, worker.Options{WorkerStopTimeout: time.Second})
	workflows.Register(w1, lost)
	require.NoError(t, w1.Start())

	dir := t.TempDir()
	for _, f := range []string{"plan.yaml", "units.csv", "villages.csv", "roster.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		require.NoError(t, err)
		if f == "plan.yaml" {
			b = []byte(strings.Replace(string(b), "id: itest-2021", "id: itest-lost-worker", 1))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	lp, err := plan.Load(filepath.Join(dir, "plan.yaml"))
	require.NoError(t, err)
	tc := srv.Client()
	co := &coordinator.Coordinator{DB: db, Temporal: tc}
	run, err := co.Launch(ctx, lp)
	require.NoError(t, err)
	select {
	case <-hung:
	case <-ctx.Done():
		t.Fatal("the first worker never allocated the quotas")
	}
	w1.Stop()
	lostClient.Close()
	lostAt := time.Now()

	w2 := worker.New(tc, campaign.TaskQueue, worker.Options{})
	workflows.Register(w2, &activities.Activities{Pool: db, Temporal: tc})
	require.NoError(t, w2.Start())
	t.Cleanup(w2.Stop)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := co.Progress(ctx, lp.Plan.ID)
		if assert.NoError(c, err) {
			// Prepared: running, or (its short year over meanwhile) closing or closed.
			assert.NotEqual(c, campaign.StatusPreparing, p.Status)
		}
	}, activities.HeartbeatTimeout+30*time.Second, 200*time.Millisecond,
		"the drive went on within the heartbeat timeout of losing the worker (the start-to-close timeout is 5 minutes)")
	t.Logf("the drive went on %.1f s after its worker was lost", time.Since(lostAt).Seconds())

	// The retry returned the lost attempt's result: the quotas were allocated and audited once.
	require.Equal(t, 1, count(t, db, `select count(*) from audit_log where campaign_id = $1 and action = 'quotas.allocate'`, lp.Plan.ID))
	var closed campaign.CloseResult
	require.NoError(t, run.Get(ctx, &closed))
	require.Equal(t, campaign.StatusClosed, closed.Status)
}
