package audit_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"

	"drives/activities"
	"drives/audit"
	"drives/campaign"
	"drives/coordinator"
	"drives/internal/fixture"
	"drives/internal/testenv"
	"drives/migrations"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const (
	campaignID = fixture.CampaignID
	other      = "other-2021" // a second campaign whose rows are written between the fixture's
)

// lg is a database whose audit log holds two interleaved chains: the fixture campaign's,
// written by its activities as the application role, and other's.
type lg struct {
	t     *testing.T
	ctx   context.Context
	url   string
	owner *pgxpool.Pool // the schema's owner (the test cluster's superuser)
	app   *pgxpool.Pool // drives_app, as the worker connects
	c     *fixture.Campaign
	gap   int64 // an id no row has (a rolled-back insert's), between the fixture's 2nd and 3rd rows
}

func newLog(t *testing.T) *lg {
	t.Helper()
	u := testenv.NewDB(t)
	l := &lg{t: t, ctx: context.Background(), url: u, owner: openPool(t, u), app: appPool(t, u)}
	// Everything below goes through the normal paths, as drives_app: the fixture's plan and
	// preparation (quotas.allocate, agents.assign), district wakes and an event cancelled.
	l.c = fixture.Seed(t, l.app)
	l.otherRow("note", `{"first": true}`)
	var gap int64
	if err := l.app.QueryRow(l.ctx, `select nextval(pg_get_serial_sequence('audit_log', 'id'))`).Scan(&gap); err != nil {
		t.Fatal(err)
	}
	l.gap = gap
	for i, d := range l.c.Spec.Districts {
		l.c.Run(l.c.Acts.AdvanceDistrict, activities.AdvanceInput{CampaignID: campaignID, District: d.Code,
			AsOf: l.c.Spec.PeriodStart.Add(time.Duration(i+1) * time.Hour), Policy: l.c.Spec.Policy}, nil)
		l.otherRow("note", fmt.Sprintf(`{"district": %q, "n": 1.50, "z": [1e3, null, "é"]}`, d.Code))
	}
	l.c.Run(l.c.Acts.CancelEvent, activities.CancelEventInput{CampaignID: campaignID, EventID: "po-1",
		Reason: "bưu điện đóng cửa; \"strike\"\n3:x;N;", By: "Nguyễn Thị Ánh"}, nil)
	l.otherRow("close", `{}`)
	return l
}

// otherRow appends a row of the other campaign as the application role.
func (l *lg) otherRow(action, detail string) {
	l.t.Helper()
	if _, err := l.app.Exec(l.ctx, `insert into audit_log (campaign_id, actor, action, entity, entity_key, detail)
		values ($1, 'auditor', $2, 'campaign', $1, $3::jsonb)`, other, action, detail); err != nil {
		l.t.Fatalf("insert a row of %s: %v", other, err)
	}
}

// ids are a campaign's row ids in order.
func (l *lg) ids(campaign string) []int64 {
	l.t.Helper()
	rows, _ := l.owner.Query(l.ctx, `select id from audit_log where campaign_id = $1 order by id`, campaign)
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		l.t.Fatal(err)
	}
	return ids
}

func (l *lg) verify(campaign string) audit.Result {
	l.t.Helper()
	res, err := audit.Verify(l.ctx, l.app, campaign)
	if err != nil {
		l.t.Fatalf("verify %s: %v", campaign, err)
	}
	return res
}

// tamper runs sql as the owner with the audit triggers disabled, as someone with the owner's
// password could.
func (l *lg) tamper(sql string, args ...any) {
	l.t.Helper()
	err := pgx.BeginFunc(l.ctx, l.owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(l.ctx, `alter table audit_log disable trigger user`); err != nil {
			return err
		}
		if _, err := tx.Exec(l.ctx, sql, args...); err != nil {
			return err
		}
		_, err := tx.Exec(l.ctx, `alter table audit_log enable trigger user`)
		return err
	})
	if err != nil {
		l.t.Fatalf("tamper: %s: %v", sql, err)
	}
}

func (l *lg) hash(id int64) []byte {
	l.t.Helper()
	var h []byte
	if err := l.owner.QueryRow(l.ctx, `select hash from audit_log where id = $1`, id).Scan(&h); err != nil {
		l.t.Fatal(err)
	}
	return h
}

func openPool(t *testing.T, u string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// appPool connects to the database at u as drives_app. The test cluster trusts local
// connections; on TEST_DATABASE_URL's server, where drives_app may need a password, the
// owner's connections SET ROLE drives_app instead.
func appPool(t *testing.T, u string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.User, cfg.ConnConfig.Password = audit.AppRole, ""
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		if err = pool.Ping(ctx); err != nil {
			pool.Close()
		}
	}
	if err != nil {
		if os.Getenv(testenv.EnvDatabaseURL) == "" {
			t.Fatalf("connect as %s: %v", audit.AppRole, err)
		}
		t.Logf("cannot log in as %s (%v): using SET ROLE on the owner's connections", audit.AppRole, err)
		if cfg, err = pgxpool.ParseConfig(u); err != nil {
			t.Fatal(err)
		}
		cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, "set role "+audit.AppRole)
			return err
		}
		if pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(pool.Close)
	var who string
	if err := pool.QueryRow(ctx, `select current_user`).Scan(&who); err != nil || who != audit.AppRole {
		t.Fatalf("current_user %q (%v), want %s", who, err, audit.AppRole)
	}
	return pool
}

// Verify on an intact log ------------------------------------------------------------------

func TestIntactLogVerifiesWithItsRowCount(t *testing.T) {
	l := newLog(t)
	for _, c := range []string{campaignID, other} {
		ids := l.ids(c)
		res := l.verify(c)
		if !res.Intact() || res.Rows != len(ids) || res.Verified != len(ids) {
			t.Fatalf("%s: %+v, want intact with %d rows", c, res, len(ids))
		}
		if last := ids[len(ids)-1]; res.HeadID != last || res.Head != hex.EncodeToString(l.hash(last)) {
			t.Errorf("%s: head %d %s, want row %d and its hash", c, res.HeadID, res.Head, last)
		}
		if s := res.String(); !strings.Contains(s, "intact") || !strings.Contains(s, fmt.Sprintf("%d rows", len(ids))) {
			t.Errorf("%s: %q does not say intact with the row count", c, s)
		}
	}
	if n := len(l.ids(campaignID)); n != 2+len(l.c.Spec.Districts)+1 {
		t.Errorf("%d rows of %s, want %d (prepare 2, a wake per district, a cancel)", n, campaignID, 2+len(l.c.Spec.Districts)+1)
	}

	// The chains are the database's: every row's canonical form, computed in SQL, is the one
	// computed here, and its hash covers the hash of the campaign's row before it.
	rows, _ := l.owner.Query(l.ctx, `
		select id, campaign_id, recorded_at, actor, action, entity, entity_key, workflow_id, run_id, activity_id,
		       attempt, detail::text, result::text, prev_hash, hash, audit_log_canonical(a)
		from audit_log a order by campaign_id, id`)
	prev := map[string][]byte{}
	n := 0
	for rows.Next() {
		var r audit.Row
		var at time.Time
		var canonical string
		if err := rows.Scan(&r.ID, &r.CampaignID, &at, &r.Actor, &r.Action, &r.Entity, &r.EntityKey, &r.WorkflowID,
			&r.RunID, &r.ActivityID, &r.Attempt, &r.Detail, &r.Result, &r.PrevHash, &r.Hash, &canonical); err != nil {
			t.Fatal(err)
		}
		r.RecordedAt = &at
		n++
		if got := audit.Canonical(r); got != canonical {
			t.Errorf("row %d: canonical form\n go: %q\nsql: %q", r.ID, got, canonical)
		}
		want, ok := prev[r.CampaignID]
		if !ok {
			want = audit.Genesis
		}
		if string(r.PrevHash) != string(want) {
			t.Errorf("row %d: prev_hash %x, want %x", r.ID, r.PrevHash, want)
		}
		if got := audit.Hash(r.PrevHash, r); string(got) != string(r.Hash) {
			t.Errorf("row %d: hash %x, recomputed %x", r.ID, r.Hash, got)
		}
		prev[r.CampaignID] = r.Hash
	}
	if err := rows.Err(); err != nil || n == 0 {
		t.Fatalf("%d rows: %v", n, err)
	}
}

// The canonical form of awkward values is the same in SQL and Go: multi-byte text, values
// that look like the form's own separators, NULLs, jsonb normalisation, time zones, years
// before 1000 and a time that is not finite.
func TestCanonicalFormIsTheSameInSQLAndGo(t *testing.T) {
	ctx := context.Background()
	pool := testenv.NewPool(t)
	s := func(v string) *string { return &v }
	at := func(v string) *time.Time {
		tm, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t.Fatal(err)
		}
		return &tm
	}
	three := int32(3)
	cases := []struct {
		json string // the row, as jsonb_populate_record reads it
		row  audit.Row
	}{
		{`{"id": 1, "campaign_id": "hanoi-2021", "recorded_at": "2021-03-04T12:06:07.000008+07:00", "actor": "Nguyễn Thị Ánh",
		   "action": "event.cancel", "entity": "event", "entity_key": "po-1", "workflow_id": "campaign:hanoi-2021", "run_id": "r",
		   "activity_id": "5", "attempt": 3, "detail": {"z": 1.50, "a": "é\n\"x\"", "arr": [1e3, null, -0.0], "a": "dup"},
		   "result": ["ok"]}`,
			audit.Row{ID: 1, CampaignID: "hanoi-2021", RecordedAt: at("2021-03-04T05:06:07.000008Z"), Actor: "Nguyễn Thị Ánh",
				Action: "event.cancel", Entity: "event", EntityKey: "po-1", WorkflowID: s("campaign:hanoi-2021"), RunID: s("r"),
				ActivityID: s("5"), Attempt: &three}},
		{`{"id": 9007199254740993, "campaign_id": "", "recorded_at": "0900-01-01T00:00:00Z", "actor": "3:x;N;", "action": ";",
		   "entity": ":", "entity_key": "N;", "detail": {}}`,
			audit.Row{ID: 9007199254740993, CampaignID: "", RecordedAt: at("0900-01-01T00:00:00Z"), Actor: "3:x;N;", Action: ";",
				Entity: ":", EntityKey: "N;"}},
		{`{"id": 2, "campaign_id": "c", "recorded_at": "infinity", "actor": "tab\there", "action": "x", "entity": "y", "entity_key": "z",
		   "detail": {"k": "\u00e9\ud83d\ude00", "long key first?": 1, "a": {"y": 2, "x": 1}}, "result": null}`,
			audit.Row{ID: 2, CampaignID: "c", Actor: "tab\there", Action: "x", Entity: "y", EntityKey: "z"}},
	}
	for i, c := range cases {
		var canonical string
		var detail, result *string
		err := pool.QueryRow(ctx, `select audit_log_canonical(r), r.detail::text, r.result::text
			from jsonb_populate_record(null::audit_log, $1::jsonb) r`, c.json).Scan(&canonical, &detail, &result)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		c.row.Detail, c.row.Result = detail, result
		if got := audit.Canonical(c.row); got != canonical {
			t.Errorf("case %d: canonical form\n go: %q\nsql: %q", i, got, canonical)
		}
	}
}

func TestUnknownCampaignAndEmptyLog(t *testing.T) {
	ctx := context.Background()
	pool := testenv.NewPool(t)
	_, err := audit.Verify(ctx, pool, "no-such-campaign")
	if !errors.Is(err, audit.ErrUnknownCampaign) || !strings.Contains(err.Error(), "no-such-campaign") {
		t.Fatalf("Verify of an unknown campaign: %v, want ErrUnknownCampaign naming it", err)
	}
	// A stored plan that has not run yet has an empty, intact log.
	if err := coordinator.StorePlan(ctx, pool, fixture.WritePlan(t)); err != nil {
		t.Fatal(err)
	}
	res, err := audit.Verify(ctx, pool, campaignID)
	if err != nil || !res.Intact() || res.Rows != 0 {
		t.Fatalf("Verify of a campaign without rows: %+v, %v; want intact, 0 rows", res, err)
	}
}

// Tampering ------------------------------------------------------------------------------

func TestTamperingIsDetectedAtTheFirstBadRow(t *testing.T) {
	type want struct {
		row, after int // indexes into the campaign's ids before tampering; -1 = none
		kind       audit.Kind
	}
	cases := []struct {
		name string
		do   func(l *lg, ids []int64)
		want want
		// otherWant, when set, is what the other campaign's chain shows; else it is intact.
		otherWant func(l *lg, ids, otherIDs []int64) *audit.Break
	}{
		{"detail altered", func(l *lg, ids []int64) {
			l.tamper(`update audit_log set detail = detail || '{"target": 999}' where id = $1`, ids[2])
		}, want{2, 1, audit.Altered}, nil},
		{"actor altered", func(l *lg, ids []int64) {
			l.tamper(`update audit_log set actor = 'someone else' where id = $1`, ids[0])
		}, want{0, -1, audit.Altered}, nil},
		{"hash altered", func(l *lg, ids []int64) {
			l.tamper(`update audit_log set hash = sha256(hash) where id = $1`, ids[3])
		}, want{3, 2, audit.Altered}, nil},
		{"row rewritten with its hash recomputed", func(l *lg, ids []int64) {
			l.tamper(`update audit_log set actor = 'someone else' where id = $1`, ids[2])
			l.tamper(`update audit_log set hash = sha256(prev_hash || convert_to(audit_log_canonical(audit_log), 'UTF8')) where id = $1`, ids[2])
		}, want{3, 2, audit.BrokenLink}, nil},
		{"row deleted", func(l *lg, ids []int64) {
			l.tamper(`delete from audit_log where id = $1`, ids[2])
		}, want{3, 1, audit.BrokenLink}, nil},
		{"first row deleted", func(l *lg, ids []int64) {
			l.tamper(`delete from audit_log where id = $1`, ids[0])
		}, want{1, -1, audit.BrokenLink}, nil},
		{"forged row with a valid hash slipped into a gap", func(l *lg, ids []int64) {
			// The forger knows the algorithm: the row links to its predecessor and its hash
			// is right; only the row after it gives it away.
			prev := l.hash(ids[1])
			r := audit.Row{ID: l.gap, CampaignID: campaignID, RecordedAt: ptr(time.Now().UTC().Truncate(time.Microsecond)),
				Actor: "coordinator", Action: "quotas.allocate", Entity: "campaign", EntityKey: campaignID, Detail: ptr(`{}`)}
			l.tamper(`insert into audit_log (id, campaign_id, recorded_at, actor, action, entity, entity_key, detail, prev_hash, hash)
				values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10)`,
				r.ID, r.CampaignID, *r.RecordedAt, r.Actor, r.Action, r.Entity, r.EntityKey, *r.Detail, prev, audit.Hash(prev, r))
		}, want{-2, 1, audit.Inserted}, nil},
		{"forged row with a made-up hash slipped into a gap", func(l *lg, ids []int64) {
			l.tamper(`insert into audit_log (id, campaign_id, actor, action, entity, entity_key, prev_hash, hash)
				values ($1, $2, 'x', 'x', 'x', 'x', $3, sha256('x'))`, l.gap, campaignID, l.hash(ids[1]))
		}, want{-2, 1, audit.Inserted}, nil},
		{"forged row appended", func(l *lg, ids []int64) {
			last := ids[len(ids)-1]
			l.tamper(`insert into audit_log (campaign_id, actor, action, entity, entity_key, prev_hash, hash)
				values ($1, 'x', 'x', 'x', 'x', $2, $2)`, campaignID, l.hash(last))
		}, want{-3, chainLen - 1, audit.Altered}, nil},
		{"row moved to another campaign", func(l *lg, ids []int64) {
			l.tamper(`update audit_log set campaign_id = $2 where id = $1`, ids[2], other)
		}, want{3, 1, audit.BrokenLink}, func(l *lg, ids, otherIDs []int64) *audit.Break {
			// In the other chain it is an inserted row: the chain goes on past it.
			return &audit.Break{RowID: ids[2], Kind: audit.Inserted, AfterID: otherIDs[0]}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLog(t)
			ids, otherIDs := l.ids(campaignID), l.ids(other)
			if len(ids) != chainLen || ids[1] > l.gap || ids[2] < l.gap || otherIDs[0] > ids[2] || otherIDs[1] < ids[2] {
				t.Fatalf("the log's shape changed: %s %v, %s %v, gap %d", campaignID, ids, other, otherIDs, l.gap)
			}
			c.do(l, ids)
			res := l.verify(campaignID)
			if res.Intact() {
				t.Fatalf("tampering not detected: %s", res)
			}
			wantRow := func(i int) int64 {
				switch i {
				case -1:
					return 0
				case -2:
					return l.gap
				case -3:
					got := l.ids(campaignID)
					return got[len(got)-1]
				}
				return ids[i]
			}
			b := res.Broken
			if b.RowID != wantRow(c.want.row) || b.Kind != c.want.kind || b.AfterID != wantRow(c.want.after) {
				t.Errorf("broken at row %d (%s) after %d: %s\nwant row %d (%s) after %d",
					b.RowID, b.Kind, b.AfterID, b.Reason, wantRow(c.want.row), c.want.kind, wantRow(c.want.after))
			}
			s := res.String()
			if !strings.Contains(s, fmt.Sprintf("BROKEN at row %d", b.RowID)) || !strings.Contains(s, string(b.Kind)) {
				t.Errorf("%q does not name the row and what is wrong", s)
			}
			if res.Verified >= res.Rows {
				t.Errorf("verified %d of %d rows", res.Verified, res.Rows)
			}
			t.Log(s)

			o := l.verify(other)
			if c.otherWant == nil {
				if !o.Intact() || o.Rows != len(otherIDs) {
					t.Errorf("the other campaign's chain: %s, want intact with %d rows", o, len(otherIDs))
				}
				return
			}
			w := c.otherWant(l, ids, otherIDs)
			if o.Broken == nil || o.Broken.RowID != w.RowID || o.Broken.Kind != w.Kind || o.Broken.AfterID != w.AfterID {
				t.Errorf("the other campaign's chain: %s, want broken at row %d (%s) after %d", o, w.RowID, w.Kind, w.AfterID)
			}
		})
	}
}

// chainLen is the length of the fixture campaign's chain in newLog: prepare (2 rows), a wake
// of each of the fixture's 2 districts, the cancel.
const chainLen = 5

func ptr[T any](v T) *T { return &v }

// Append-only --------------------------------------------------------------------------------

func TestTriggersRefuseUpdateDeleteTruncateEvenToTheOwner(t *testing.T) {
	l := newLog(t)
	before := l.verify(campaignID)
	for _, sql := range []string{
		`update audit_log set actor = 'x' where campaign_id = 'test-2021'`,
		`update audit_log set actor = 'x' where false`,
		`delete from audit_log where campaign_id = 'test-2021'`,
		`delete from audit_log where false`,
		`truncate audit_log`,
		`insert into audit_log (campaign_id, actor, action, entity, entity_key) values ('test-2021', 'x', 'x', 'x', 'x')
		 on conflict (id) do update set actor = 'y'`,
	} {
		_, err := l.owner.Exec(l.ctx, sql)
		if err == nil || !strings.Contains(err.Error(), "audit_log is append-only") {
			t.Errorf("as the owner: %s: %v, want refused as append-only", sql, err)
		}
	}
	if after := l.verify(campaignID); !after.Intact() || after.Rows != before.Rows || after.Head != before.Head {
		t.Errorf("after refused changes: %s, want %s", after, before)
	}

	// Whatever an insert says of its chain, id or time, the trigger decides them.
	var id int64
	var at time.Time
	err := l.app.QueryRow(l.ctx, `insert into audit_log (id, campaign_id, recorded_at, actor, action, entity, entity_key, prev_hash, hash)
		values (1, $1, '2001-01-01', 'x', 'x', 'x', 'x', sha256('a'), sha256('b')) returning id, recorded_at`, campaignID).Scan(&id, &at)
	if err != nil {
		t.Fatal(err)
	}
	if id <= before.HeadID || time.Since(at) > time.Minute {
		t.Errorf("an insert that names id 1 and 2001 got id %d (head was %d) and time %s", id, before.HeadID, at)
	}
	if after := l.verify(campaignID); !after.Intact() || after.Rows != before.Rows+1 || after.HeadID != id {
		t.Errorf("after an insert with made-up hashes: %s, want intact with %d rows to row %d", after, before.Rows+1, id)
	}

	// A transaction whose snapshot predates the chain lock could fork the chain: refused.
	err = pgx.BeginTxFunc(l.ctx, l.app, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		_, err := tx.Exec(l.ctx, `insert into audit_log (campaign_id, actor, action, entity, entity_key) values ($1, 'x', 'x', 'x', 'x')`, campaignID)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "READ COMMITTED") {
		t.Errorf("insert in a REPEATABLE READ transaction: %v, want refused", err)
	}
}

func TestAppRoleHasOnlyThePrivilegesItNeeds(t *testing.T) {
	l := newLog(t)
	ids := l.ids(campaignID)
	for _, sql := range []string{
		`update audit_log set actor = 'x' where id = ` + fmt.Sprint(ids[0]),
		`delete from audit_log where id = ` + fmt.Sprint(ids[0]),
		`truncate audit_log`,
		`alter table audit_log disable trigger user`,
		`drop trigger audit_log_append_only on audit_log`,
		`alter table audit_log add column x int`,
		`create table scratch (x int)`,
		`set session_replication_role = replica`,
		`select setval(pg_get_serial_sequence('audit_log', 'id'), 1)`,
		`truncate campaigns cascade`,
	} {
		_, err := l.app.Exec(l.ctx, sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || (pgErr.Code != "42501" && pgErr.Code != "42P01") {
			t.Errorf("as %s: %s: %v, want refused for lack of privilege", audit.AppRole, sql, err)
		}
	}
	if res := l.verify(campaignID); !res.Intact() || res.Rows != len(ids) {
		t.Errorf("after the refused statements: %s", res)
	}
	// With nothing to migrate, the application role alone is enough for the worker's start.
	if os.Getenv(testenv.EnvDatabaseURL) == "" {
		u, err := url.Parse(l.url)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.User(audit.AppRole)
		if err := migrations.Migrate(l.ctx, u.String()); err != nil {
			t.Errorf("migrate an up-to-date database as %s: %v", audit.AppRole, err)
		}
	}

	// Every table's grants, so that a migration that adds a table without granting
	// drives_app what it needs (or grants too much) fails here.
	rows, _ := l.owner.Query(l.ctx, `
		select c.relname, c.relkind::text, pg_get_userbyid(c.relowner),
		       coalesce(string_agg(p.priv, ',' order by p.priv) filter (where has_table_privilege($1, c.oid, p.priv)), '')
		from pg_class c
		cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(priv)
		where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p', 'v', 'm')
		group by c.relname, c.relkind, c.relowner order by c.relname`, audit.AppRole)
	tables := 0
	for rows.Next() {
		var name, kind, owner, privs string
		if err := rows.Scan(&name, &kind, &owner, &privs); err != nil {
			t.Fatal(err)
		}
		tables++
		want := "DELETE,INSERT,SELECT,UPDATE"
		switch name {
		case "audit_log":
			want = "INSERT,SELECT"
		case migrations.VersionTable, "quota_targets_by_day", "roster_changes":
			// the view of the targets by day is read only (migration 030), and the count of
			// roster changes written by triggers alone (migration 033)
			want = "SELECT"
		case "accounts":
			// Disabled, never deleted: audit rows name accounts as their actors (migration 013).
			want = "INSERT,SELECT,UPDATE"
		}
		if privs != want || owner == audit.AppRole {
			t.Errorf("table %s (owner %s): %s has %q, want %q (grant it in the migration that adds it)", name, owner, audit.AppRole, privs, want)
		}
	}
	if err := rows.Err(); err != nil || tables < 17 {
		t.Fatalf("%d tables: %v", tables, err)
	}
	rows, _ = l.owner.Query(l.ctx, `select relname from pg_class where relnamespace = current_schema()::regnamespace
		and case when relkind = 'S' then not has_sequence_privilege($1, oid, 'USAGE') end order by 1`, audit.AppRole)
	if missing, err := pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(missing) > 0 {
		t.Errorf("sequences %s may not use: %v %v", audit.AppRole, missing, err)
	}
}

// Concurrency ----------------------------------------------------------------------------------

// A writer that got its id before another committed a higher one is chained after it, with
// a new id, so that id order stays chain order.
func TestConcurrentWritersKeepIDOrderInChainOrder(t *testing.T) {
	ctx := context.Background()
	u := testenv.NewDB(t)
	app := appPool(t, u)
	insert := `insert into audit_log (campaign_id, actor, action, entity, entity_key) values ($1, 'w', 'note', 'x', $2) returning id`
	var first int64
	if err := app.QueryRow(ctx, insert, "c", "first").Scan(&first); err != nil {
		t.Fatal(err)
	}

	// B holds the campaign's chain lock; A's insert takes its id, then waits for the lock.
	b, err := app.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback(ctx) //nolint:errcheck
	if _, err := b.Exec(ctx, `select pg_advisory_xact_lock(1635083369, hashtext('c'))`); err != nil {
		t.Fatal(err)
	}
	aID := make(chan int64, 1)
	aErr := make(chan error, 1)
	go func() {
		var id int64
		err := app.QueryRow(ctx, insert, "c", "a").Scan(&id)
		aErr <- err
		aID <- id
	}()
	waitForLockWaiter(t, app)
	var bID int64
	if err := b.QueryRow(ctx, insert, "c", "b").Scan(&bID); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-aErr; err != nil {
		t.Fatal(err)
	}
	a := <-aID
	if !(first < bID && bID < a) {
		t.Errorf("ids: first %d, b %d, a %d; want a, chained after b, to come after b", first, bID, a)
	}
	if res, err := audit.Verify(ctx, app, "c"); err != nil || !res.Intact() || res.Rows != 3 || res.HeadID != a {
		t.Errorf("Verify: %s %v; want intact with 3 rows to row %d", res, err, a)
	}

	// Many writers on two campaigns at once.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				c := []string{"c", "d"}[(w+i)%2]
				if _, err := app.Exec(ctx, insert, c, fmt.Sprintf("%d-%d", w, i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for c, n := range map[string]int{"c": 3 + 160, "d": 160} {
		if res, err := audit.Verify(ctx, app, c); err != nil || !res.Intact() || res.Rows != n {
			t.Errorf("Verify %s: %s %v; want intact with %d rows", c, res, err, n)
		}
	}
}

func waitForLockWaiter(t *testing.T, db *pgxpool.Pool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var n int
		if err := db.QueryRow(context.Background(), `select count(*) from pg_locks where locktype = 'advisory' and not granted`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the second writer never waited for the chain lock")
}

// Migration ------------------------------------------------------------------------------------

// Rows written before migration 003 are chained by it, in id order per campaign. The schema
// is migrated into a schema of its own, as it would be outside public.
// legacySchema is a schema of a new database, legacy, migrated up to version: a connection to
// it, as the owner, and the migrator that takes it further.
func legacySchema(t *testing.T, version int32) (*pgx.Conn, *migrate.Migrator) {
	t.Helper()
	ctx := context.Background()
	u := testenv.NewDB(t)
	owner := openPool(t, u)
	if _, err := owner.Exec(ctx, `create schema legacy`); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["search_path"] = "legacy"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	m, err := migrate.NewMigrator(ctx, conn, migrations.VersionTable)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.LoadMigrations(os.DirFS("../migrations")); err != nil {
		t.Fatal(err)
	}
	if err := m.MigrateTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return conn, m
}

// legacyCampaign is legacySchema with a campaign c (2021, Asia/Ho_Chi_Minh), and exec, which
// runs a statement on its connection or fails the test naming it.
func legacyCampaign(t *testing.T, version int32) (*pgx.Conn, *migrate.Migrator, func(string, ...any)) {
	t.Helper()
	conn, m := legacySchema(t, version)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`insert into campaigns (id, register_id, workflow_id, name, year, plan_hash, plan, prior_year_enrolled,
			period_start, period_end, timezone, clock_scale)
		values ('c', 'r', 'wf', 'C', 2021, 'h', '{}', 0, '2021-01-01', '2021-12-31', 'Asia/Ho_Chi_Minh', 1)`)
	return conn, m, exec
}

func TestMigrationChainsExistingRows(t *testing.T) {
	ctx := context.Background()
	conn, m := legacySchema(t, 2)
	for i := range 7 {
		c := []string{"a", "b"}[i%3%2]
		if _, err := conn.Exec(ctx, `insert into audit_log (campaign_id, actor, action, entity, entity_key, workflow_id, attempt, detail, result)
			values ($1, 'worker', 'x', 'y', $2, 'wf', 1, '{"i": 1, "b": [true]}', '"done"')`, c, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for c, n := range map[string]int{"a": 5, "b": 2} {
		res, err := audit.Verify(ctx, conn, c)
		if err != nil || !res.Intact() || res.Rows != n {
			t.Errorf("Verify %s after the migration: %s %v; want intact with %d rows", c, res, err, n)
		}
	}
	var genesis int
	if err := conn.QueryRow(ctx, `select count(*) from audit_log where prev_hash = $1`, audit.Genesis).Scan(&genesis); err != nil || genesis != 2 {
		t.Errorf("%d rows start a chain (%v), want 2", genesis, err)
	}
	// New rows go on from the migrated chains.
	if _, err := conn.Exec(ctx, `insert into audit_log (campaign_id, actor, action, entity, entity_key) values ('a', 'w', 'x', 'y', 'z')`); err != nil {
		t.Fatal(err)
	}
	if res, err := audit.Verify(ctx, conn, "a"); err != nil || !res.Intact() || res.Rows != 6 {
		t.Errorf("Verify a after a new row: %s %v", res, err)
	}
}

// Migration 025 partitions the review decisions by campaign and period: the decisions recorded
// before it are kept, each period's in a table of its own, read through review_decisions with
// their rationale; their foreign keys still hold; and a new period is written and attached as
// a review does it.
func TestMigrationKeepsEarlierDecisionsInTheirPeriodsTables(t *testing.T) {
	ctx := context.Background()
	conn, m, exec := legacyCampaign(t, 24)
	exec(`insert into units (campaign_id, code, level, parent_code, district_code, name, kind, labour_force, synthetic)
		values ('c', 'D1', 'district', null, 'D1', 'D', 'urban', 0, false), ('c', 'C1', 'commune', 'D1', 'D1', 'C', 'ward', 0, false)`)
	exec(`insert into agents (campaign_id, code, commune_code, district_code, kind, post_office, full_name, phone, weight)
		select 'c', code, 'C1', 'D1', 'agent', false, 'x', 'x', 1 from unnest(array['A1', 'A2']) code`)
	decide := func(period, agent, decision string) {
		t.Helper()
		exec(`insert into reviews (campaign_id, period, window_start, window_end, workflow_id)
			values ('c', $1, '2021-01-01', '2021-04-01', 'wf') on conflict do nothing`, period)
		exec(`insert into review_decisions (campaign_id, period, agent_code, kind, commune_code, window_start, window_end,
				quota, quota_share, enrolled, follow_ups_on_time, follow_ups_overdue, leads, leads_enrolled, open_work,
				attainment, on_time_rate, score, low_streak, decision, status, reward_kind, reward_amount,
				reward_at, warn_below, terminate_below, terminate_after)
			values ('c', $1, $2, 'agent', 'C1', '2021-01-01', '2021-04-01', 10, 2.5, 3, 1, 0, 0, 0, 0,
				1.2, 1, 1.16, 0, $3, 'final', case when $3 = 'reward' then 'bonus' end, case when $3 = 'reward' then 500000 end,
				1, 0.6, 0.4, 2)`, period, agent, decision)
	}
	decide("2021-Q1", "A1", "reward")
	decide("2021-Q1", "A2", "retain")
	decide("2021-Q2", "A1", "retain")
	if err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var kind string
	var leaves int
	if err := conn.QueryRow(ctx, `select c.relkind::text, (select count(*) from pg_partition_tree('review_decisions') where isleaf)
		from pg_class c where c.oid = 'review_decisions'::regclass`).Scan(&kind, &leaves); err != nil || kind != "p" || leaves != 2 {
		t.Fatalf("review_decisions after the migration: kind %q, %d periods' tables (%v); want partitioned, 2", kind, leaves, err)
	}
	rows, _ := conn.Query(ctx, `select period || ' ' || agent_code || ' ' || review_rationale(d) from review_decisions d order by 1`)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	want := []string{
		"2021-Q1 A1 score 1.16 = 0.8 × attainment 1.20 (3 enrolled of a quota share of 2.5) + 0.2 × on-time rate 1.00 (1 on time, 0 overdue); at or above 1: rewarded (bonus, 500000 VND)",
		"2021-Q1 A2 score 1.16 = 0.8 × attainment 1.20 (3 enrolled of a quota share of 2.5) + 0.2 × on-time rate 1.00 (1 on time, 0 overdue); retained",
		"2021-Q2 A1 score 1.16 = 0.8 × attainment 1.20 (3 enrolled of a quota share of 2.5) + 0.2 × on-time rate 1.00 (1 on time, 0 overdue); retained",
	}
	if err != nil || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("decisions after the migration (%v):\n%s\nwant\n%s", err, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The foreign keys hold on the migrated periods and on a new one, written as a review
	// writes it: into the period's table, then attached.
	if _, err := conn.Exec(ctx, `insert into review_decisions select campaign_id, period, 'A9', kind, commune_code, window_start, window_end,
			quota, quota_share, enrolled, follow_ups_on_time, follow_ups_overdue, leads, leads_enrolled, open_work, attainment,
			on_time_rate, score, low_streak, decision, status from review_decisions where agent_code = 'A2'`); err == nil ||
		!strings.Contains(err.Error(), "foreign key") {
		t.Errorf("a decision on an agent the campaign does not have: %v, want a foreign key violation", err)
	}
	exec(`insert into reviews (campaign_id, period, window_start, window_end, workflow_id) values ('c', '2021-Q3', '2021-07-01', '2021-10-01', 'wf')`)
	var table string
	if err := conn.QueryRow(ctx, `select review_decisions_period_table('c', '2021-Q3')`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	exec(`insert into ` + pgx.Identifier{table}.Sanitize() + ` select campaign_id, '2021-Q3', 'A9', kind, commune_code, window_start, window_end,
			quota, quota_share, enrolled, follow_ups_on_time, follow_ups_overdue, leads, leads_enrolled, open_work, attainment,
			on_time_rate, score, low_streak, decision, status from review_decisions where agent_code = 'A2'`)
	if _, err := conn.Exec(ctx, `select review_decisions_attach('c', '2021-Q3')`); err == nil || !strings.Contains(err.Error(), "foreign key") {
		t.Errorf("attaching a period that names an agent the campaign does not have: %v, want a foreign key violation", err)
	}
}

// Migration 027 keeps the targets by day written before it, in their campaign's table of rows
// written a few at a time, and the foreign key holds on them and on a revision's table attached
// after it. Shown failing with the migration's copy of the rows left out.
func TestMigrationKeepsEarlierTargetsByDay(t *testing.T) {
	ctx := context.Background()
	conn, m, exec := legacyCampaign(t, 26)
	exec(`insert into quota_history (campaign_id, level, code, valid_from, target, revision, audit_action, audit_key)
		values ('c', 'agent', 'A1', '2020-12-31', 10, 0, null, null), ('c', 'agent', 'A1', '2021-05-01', 12, 1, null, null),
			('c', 'agent', 'A2', '2020-12-31', 0, 0, null, null), ('c', 'agent', 'A2', '2021-04-16', 7, 0, 'agents.join', 'b1')`)
	if err := m.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var kind string
	if err := conn.QueryRow(ctx, `select relkind::text from pg_class where oid = 'quota_history'::regclass`).Scan(&kind); err != nil || kind != "p" {
		t.Fatalf("quota_history after the migration: kind %q (%v), want partitioned", kind, err)
	}
	rows, _ := conn.Query(ctx, `select concat_ws(' ', code, valid_from, target, revision, audit_action, audit_key, written_by)
		from quota_history order by code, valid_from`)
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	want := []string{"A1 2020-12-31 10 0 0", "A1 2021-05-01 12 1 0", "A2 2020-12-31 0 0 0", "A2 2021-04-16 7 0 agents.join b1 0"}
	if err != nil || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("targets by day after the migration (%v):\n%s\nwant\n%s", err, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Read through migration 030's view, they are the same four rows (none has a previous
	// target to add one).
	var n int
	if err := conn.QueryRow(ctx, `select count(*) from quota_targets_by_day where campaign_id = 'c'`).Scan(&n); err != nil || n != 4 {
		t.Errorf("%d targets by day through the view (%v), want 4", n, err)
	}
	// A revision's table is attached with its rows checked; one naming a campaign that does
	// not exist is refused.
	var table string
	if err := conn.QueryRow(ctx, `select quota_history_revision_table('c', 2)`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	exec(`insert into ` + pgx.Identifier{table}.Sanitize() + ` (campaign_id, level, code, valid_from, target, revision, written_by)
		values ('c', 'agent', 'A1', '2021-06-01', 14, 2, 2)`)
	exec(`select quota_history_attach('c', 2)`)
	if err := conn.QueryRow(ctx, `select count(*) from quota_history where campaign_id = 'c' and code = 'A1'`).Scan(&n); err != nil || n != 3 {
		t.Errorf("A1 has %d targets by day after revision 2 (%v), want 3", n, err)
	}
	exec(`select quota_history_campaign('none')`)
	if _, err := conn.Exec(ctx, `insert into quota_history (campaign_id, level, code, valid_from, target, revision)
		values ('none', 'agent', 'A1', '2021-06-01', 14, 0)`); err == nil || !strings.Contains(err.Error(), "foreign key") {
		t.Errorf("a target by day of a campaign that does not exist: %v, want a foreign key violation", err)
	}
}

// A review refreshes the planner's statistics of its decisions as the worker connects, as
// drives_app, which does not own the tables (migration 025's function does it for it); without
// them a district's page of a period just decided walked the whole period. Shown failing by
// leaving out the refresh in EvaluateAgents, and by leaving out the function's grant (then it
// is refused, the review only logs a warning, and the period has no statistics).
func TestReviewRefreshesItsStatisticsAsTheAppRole(t *testing.T) {
	l := newLog(t)
	ps := l.c.Spec.Reviews
	if len(ps) == 0 {
		t.Fatal("the fixture's plan has no review periods")
	}
	stats := func() (n int) {
		t.Helper()
		if err := l.owner.QueryRow(l.ctx, `select count(*) from pg_stats
			where schemaname = current_schema() and attname in ('period', 'commune_code', 'decision', 'agent_code')
			  and tablename in (select relid::text from pg_partition_tree('review_decisions') where isleaf)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := stats(); n != 0 {
		t.Fatalf("statistics of review_decisions before any review: %d columns", n)
	}
	var s campaign.ReviewSummary
	l.c.Run(l.c.Acts.EvaluateAgents, activities.EvaluateInput{CampaignID: campaignID, WorkflowID: "review:" + campaignID,
		Period: ps[0], Policy: l.c.Spec.Review.Policy}, &s)
	if s.Agents == 0 {
		t.Fatal("the review decided nothing")
	}
	if n := stats(); n != 4 {
		t.Errorf("statistics of review_decisions after a review as %s: %d of 4 columns", audit.AppRole, n)
	}
}
