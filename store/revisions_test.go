package store

import (
	"context"
	"testing"
	"time"
)

// Two campaigns' revisions at once write one after the other. Each attaches its targets by day
// at the end (migration 027), which locks campaigns against writes until it commits (for the
// foreign key's check); two revisions that had each written their campaign's target would each
// wait there for the other (a deadlock). So the second waits before it writes anything: while
// it waits, it holds no write lock on quotas or campaigns (pg_locks), and once the first
// commits it writes its own. Shown failing without ReviseQuotas' lock.
func TestRevisionsOfTwoCampaignsWriteOneAfterTheOther(t *testing.T) {
	ctx := context.Background()
	pool := twoCampaigns(t)
	if _, err := pool.Exec(ctx, `insert into quotas (campaign_id, level, code, target) values ('c1', 'city', 'c1', 100), ('c2', 'city', 'c2', 100)`); err != nil {
		t.Fatal(err)
	}
	start, from := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	revise := func(db DB, campaignID string) error {
		return ReviseQuotas(ctx, db, campaignID, QuotaSource{Revision: 1}, start, from,
			[]QuotaChange{{Level: "city", Code: campaignID, Old: 100, New: 120}})
	}
	first := begin(t, pool)
	if err := revise(first, "c1"); err != nil {
		t.Fatal(err)
	}
	second := begin(t, pool)
	var pid int
	if err := second.QueryRow(ctx, `select pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	done := waitsForLock(t, pool, second, "the second revision", func() error { return revise(second, "c2") })
	var writing int
	if err := pool.QueryRow(ctx, `select count(*) from pg_locks where pid = $1 and mode = 'RowExclusiveLock' and granted
		and relation in ('campaigns'::regclass, 'quotas'::regclass)`, pid).Scan(&writing); err != nil {
		t.Fatal(err)
	}
	if writing != 0 {
		t.Error("the second revision waits having written quotas or campaigns; want it to wait before it writes")
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the second revision after the first committed: %v", err)
	}
	if err := second.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var targets string
	if err := pool.QueryRow(ctx, `select string_agg(id || ' ' || target, ', ' order by id) from campaigns`).Scan(&targets); err != nil {
		t.Fatal(err)
	}
	if targets != "c1 120, c2 120" {
		t.Errorf("campaigns' targets after both revisions: %s, want c1 120, c2 120", targets)
	}
}
