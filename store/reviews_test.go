package store

import (
	"context"
	"testing"
	"time"

	"drives/internal/testenv"
)

// Two campaigns' reviews at once write one after the other: the second records its review only
// once the first has committed. Each attaches its decisions at the end, which locks reviews
// against writes; had both recorded their rows first, each would wait there for the other (a
// deadlock). The second's wait is seen in pg_stat_activity, not timed.
func TestReviewsOfTwoCampaignsWriteOneAfterTheOther(t *testing.T) {
	ctx := context.Background()
	pool := testenv.NewPool(t)
	if _, err := pool.Exec(ctx, `insert into campaigns (id, register_id, workflow_id, name, year, plan_hash, plan,
			prior_year_enrolled, period_start, period_end, timezone, clock_scale)
		select id, 'r-' || id, 'wf-' || id, id, 2021, 'h', '{}', 0, '2021-01-01', '2021-12-31', 'Asia/Ho_Chi_Minh', 1
		from unnest(array['c1', 'c2']) id`); err != nil {
		t.Fatal(err)
	}
	start, end := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 4, 1, 0, 0, 0, 0, time.UTC)
	first, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx) //nolint:errcheck
	if err := InsertReview(ctx, first, "c1", "2021-Q1", start, end, "wf-c1"); err != nil {
		t.Fatal(err)
	}
	second, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Rollback(ctx) //nolint:errcheck
	var pid int
	if err := second.QueryRow(ctx, `select pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- InsertReview(ctx, second, "c2", "2021-Q1", start, end, "wf-c2") }()
	deadline := time.Now().Add(time.Minute)
	for waiting := false; !waiting; {
		select {
		case err := <-done:
			t.Fatalf("the second review recorded its row (%v) while the first was under way; want it to wait", err)
		case <-time.After(10 * time.Millisecond): // between looks at pg_stat_activity
		}
		if err := pool.QueryRow(ctx, `select coalesce(wait_event_type = 'Lock', false) from pg_stat_activity where pid = $1`, pid).
			Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the second review neither waited nor recorded its row within a minute")
		}
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the second review after the first committed: %v", err)
	}
}
