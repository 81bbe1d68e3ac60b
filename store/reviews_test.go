package store

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"drives/internal/testenv"
)

// Two campaigns' reviews at once write one after the other: the second records its review only
// once the first has committed. Each attaches its decisions at the end, which locks reviews
// against writes; had both recorded their rows first, each would wait there for the other (a
// deadlock). The second's wait is seen in pg_stat_activity, not timed.
func TestReviewsOfTwoCampaignsWriteOneAfterTheOther(t *testing.T) {
	ctx := context.Background()
	pool := twoCampaigns(t)
	start, end := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 4, 1, 0, 0, 0, 0, time.UTC)
	first := begin(t, pool)
	if err := InsertReview(ctx, first, "c1", "2021-Q1", start, end, "wf-c1"); err != nil {
		t.Fatal(err)
	}
	second := begin(t, pool)
	done := waitsForLock(t, pool, second, "the second review", func() error {
		return InsertReview(ctx, second, "c2", "2021-Q1", start, end, "wf-c2")
	})
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the second review after the first committed: %v", err)
	}
}

// twoCampaigns is a database with two campaigns, c1 and c2, of a target of 100 each.
func twoCampaigns(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := testenv.NewPool(t)
	if _, err := pool.Exec(context.Background(), `insert into campaigns (id, register_id, workflow_id, name, year, plan_hash, plan,
			prior_year_enrolled, period_start, period_end, timezone, clock_scale, target)
		select id, 'r-' || id, 'wf-' || id, id, 2021, 'h', '{}', 0, '2021-01-01', '2021-12-31', 'Asia/Ho_Chi_Minh', 1, 100
		from unnest(array['c1', 'c2']) id`); err != nil {
		t.Fatal(err)
	}
	return pool
}

// begin begins a transaction on pool, rolled back when the test ends unless committed.
func begin(t *testing.T, pool *pgxpool.Pool) pgx.Tx {
	t.Helper()
	tx, err := pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	return tx
}

// waitsForLock runs write in tx in the background and returns once tx's connection waits for a
// lock (pg_stat_activity, looked at every 10 ms); the test fails if write ends first, or if
// neither happens within a minute. The channel gives write's error once it ends.
func waitsForLock(t *testing.T, pool *pgxpool.Pool, tx pgx.Tx, what string, write func() error) <-chan error {
	t.Helper()
	ctx := context.Background()
	var pid int
	if err := tx.QueryRow(ctx, `select pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- write() }()
	deadline := time.Now().Add(time.Minute)
	for waiting := false; !waiting; {
		select {
		case err := <-done:
			t.Fatalf("%s wrote (%v) while the first was under way; want it to wait", what, err)
		case <-time.After(10 * time.Millisecond): // between looks at pg_stat_activity
		}
		if err := pool.QueryRow(ctx, `select coalesce(wait_event_type = 'Lock', false) from pg_stat_activity where pid = $1`, pid).
			Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s neither waited nor wrote within a minute", what)
		}
	}
	return done
}
