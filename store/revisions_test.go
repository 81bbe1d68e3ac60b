package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
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
		return ReviseQuotas(ctx, db, PoolOpener(pool), campaignID, QuotaSource{Revision: 1}, start, from,
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

// A revision's targets by day are written on a connection of their own and committed as a
// table not yet attached (migration 032). An apply whose transaction does not commit leaves
// that table, which no one reads as targets (quota_history has none of its rows, the quotas
// are as they were); the revision's next apply makes it again and attaches it, its rows once.
// An applied revision's table is never dropped: making it again is refused. Shown failing
// without the migration's drop of the table left.
func TestRevisionAppliedAgainAfterAnApplyThatDidNotCommit(t *testing.T) {
	ctx := context.Background()
	pool := twoCampaigns(t)
	if _, err := pool.Exec(ctx, `insert into quotas (campaign_id, level, code, target)
		values ('c1', 'city', 'c1', 100), ('c1', 'district', 'D1', 60), ('c1', 'district', 'D2', 40)`); err != nil {
		t.Fatal(err)
	}
	start, from := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC)
	revise := func(tx DB) error {
		return ReviseQuotas(ctx, tx, PoolOpener(pool), "c1", QuotaSource{Revision: 1}, start, from,
			[]QuotaChange{{Level: "city", Code: "c1", Old: 100, New: 120}, {Level: "district", Code: "D1", Old: 60, New: 80}})
	}
	state := func() string {
		t.Helper()
		var s string
		if err := pool.QueryRow(ctx, `select concat_ws('; ',
				(select string_agg(level || ' ' || code || ' ' || target, ', ' order by level, code) from quotas where campaign_id = 'c1'),
				'campaign ' || (select target from campaigns where id = 'c1'),
				(select string_agg(level || ' ' || code || ' ' || valid_from || ' ' || target || ' previous ' || previous, ', ' order by level, code)
				 from quota_history where campaign_id = 'c1'),
				(select 'table ' || case when relispartition then 'attached' else 'not attached' end
				 from pg_class where oid = to_regclass(quota_history_table_name('c1', 1))))`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	tx := begin(t, pool)
	if err := revise(tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := state(), "city c1 100, district D1 60, district D2 40; campaign 100; table not attached"; got != want {
		t.Errorf("after an apply rolled back:\n%s\nwant\n%s", got, want)
	}
	tx = begin(t, pool)
	if err := revise(tx); err != nil {
		t.Fatalf("the revision applied again: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	applied := "city c1 120, district D1 80, district D2 40; campaign 120; " +
		"city c1 2021-06-01 120 previous 100, district D1 2021-06-01 80 previous 60; table attached"
	if got := state(); got != applied {
		t.Errorf("after the revision applied again:\n%s\nwant\n%s", got, applied)
	}
	for _, call := range []string{`select quota_history_revision_table('c1', 1)`, `select quota_history_revision_key('c1', 1)`} {
		if _, err := pool.Exec(ctx, call); err == nil {
			t.Errorf("%s once the revision is applied: no error", call)
		}
	}
	if got := state(); got != applied {
		t.Errorf("after the applied revision's table was asked for again:\n%s\nwant\n%s", got, applied)
	}
}

// A revision whose targets by day cannot be written beside (no connection to write them on)
// fails with the reason, and its transaction, rolled back, leaves everything as it was.
func TestRevisionFailsWhenItsTableCannotBeWritten(t *testing.T) {
	ctx := context.Background()
	pool := twoCampaigns(t)
	if _, err := pool.Exec(ctx, `insert into quotas (campaign_id, level, code, target) values ('c1', 'city', 'c1', 100)`); err != nil {
		t.Fatal(err)
	}
	refused := func(context.Context) (*pgx.Conn, error) { return nil, errors.New("too many connections") }
	tx := begin(t, pool)
	err := ReviseQuotas(ctx, tx, refused, "c1", QuotaSource{Revision: 1}, time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC), []QuotaChange{{Level: "city", Code: "c1", Old: 100, New: 120}})
	if err == nil || !strings.Contains(err.Error(), "too many connections") {
		t.Fatalf("revision with no connection beside: %v, want the connection's error", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var target, rows int
	var table *string
	if err := pool.QueryRow(ctx, `select (select target from campaigns where id = 'c1'), (select count(*) from quota_history),
		to_regclass(quota_history_table_name('c1', 1))::text`).Scan(&target, &rows, &table); err != nil {
		t.Fatal(err)
	}
	if target != 100 || rows != 0 || table != nil {
		t.Errorf("after the failed revision: target %d, %d targets by day, table %v; want 100, 0, none", target, rows, table)
	}
}

// A revision's agents are read by commune, or, for half of the campaign's communes or more, as
// the whole roster with the other communes' agents left out: either way, the agents of the
// communes asked for, each with its quota (none: 0) and whether active, by commune and code.
// Shown failing with the whole roster's other communes kept.
func TestAgentsOfCommunesReadByCommuneOrWhole(t *testing.T) {
	ctx := context.Background()
	pool := twoCampaigns(t)
	if _, err := pool.Exec(ctx, `
		insert into units (campaign_id, code, level, parent_code, district_code, name, kind, labour_force, synthetic)
		select 'c1', 'D1', 'district', null, 'D1', 'D1', 'district', 0, false
		union all select 'c1', 'K' || k, 'commune', 'D1', 'D1', 'K' || k, 'commune', 0, false from generate_series(1, 4) k;
		insert into agents (campaign_id, code, commune_code, district_code, kind, full_name, phone, post_office, weight)
		select 'c1', 'A' || k || '-' || a, 'K' || k, 'D1', 'agent', 'x', 'x', false, a from generate_series(1, 4) k, generate_series(3, 1, -1) a;
		update agents set status = 'terminated' where code = 'A2-2';
		insert into quotas (campaign_id, level, code, target)
		select 'c1', 'agent', code, 10 * weight::int from agents where code <> 'A3-1'`); err != nil {
		t.Fatal(err)
	}
	for _, communes := range [][]string{{"K2"}, {"K3", "K2", "K4"}, {"K4", "K3", "K2", "K1"}} {
		agents, err := AgentsOfCommunes(ctx, pool, "c1", communes)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, a := range agents {
			got = append(got, fmt.Sprintf("%s %s %t %d %g", a.Commune, a.Code, a.Active, a.Quota, a.Weight))
		}
		for _, k := range slices.Sorted(slices.Values(communes)) {
			for a := 1; a <= 3; a++ {
				code, quota := fmt.Sprintf("A%s-%d", k[1:], a), 10*a
				if code == "A3-1" {
					quota = 0
				}
				want = append(want, fmt.Sprintf("%s %s %t %d %d", k, code, code != "A2-2", quota, a))
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("agents of %v:\n%s\nwant\n%s", communes, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
