package testenv

import (
	"context"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"drives/campaign"
	"drives/internal/devstack"
	"drives/migrations"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestNewDBIsMigrated(t *testing.T) {
	ctx := context.Background()
	pool := NewPool(t)
	var campaigns *string
	if err := pool.QueryRow(ctx, "SELECT to_regclass('campaigns')::text").Scan(&campaigns); err != nil {
		t.Fatal(err)
	}
	if campaigns == nil {
		t.Fatal("table campaigns does not exist in a new database")
	}
	var version int
	if err := pool.QueryRow(ctx, "SELECT version FROM "+migrations.VersionTable).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if version < 1 {
		t.Fatalf("schema version %d, want the migrations applied", version)
	}
	// Migrating again changes nothing.
	var db string
	if err := pool.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		t.Fatal(err)
	}
	if err := migrations.Migrate(ctx, urlFor(db)); err != nil {
		t.Fatal(err)
	}
}

func TestNewDBsAreIsolatedAndDropped(t *testing.T) {
	ctx := context.Background()
	var first string
	t.Run("first", func(t *testing.T) {
		u := NewDB(t)
		first = dbOf(t, u)
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		// A connection left open must not keep the database from being dropped.
		if _, err := conn.Exec(ctx, "CREATE TABLE only_here (x int)"); err != nil {
			t.Fatal(err)
		}
	})
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", first).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists after its test", first)
	}
	pool := NewPool(t)
	var reg *string
	if err := pool.QueryRow(ctx, "SELECT to_regclass('only_here')::text").Scan(&reg); err != nil {
		t.Fatal(err)
	}
	if reg != nil {
		t.Error("a table made in one test's database shows in another's")
	}
}

func dbOf(t *testing.T, u string) string {
	t.Helper()
	i := strings.LastIndexByte(u, '/')
	j := strings.IndexByte(u[i:], '?')
	if j < 0 {
		return u[i+1:]
	}
	return u[i+1 : i+j]
}

func TestNewDBInParallel(t *testing.T) {
	const n = 8
	var mu sync.Mutex
	seen := map[string]bool{}
	began := time.Now()
	for i := range n {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			pool := NewPool(t)
			var db string
			if err := pool.QueryRow(context.Background(), "SELECT current_database()").Scan(&db); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[db] {
				t.Errorf("database %s handed out twice", db)
			}
			seen[db] = true
		})
	}
	t.Cleanup(func() { t.Logf("%d databases in %v", n, time.Since(began)) })
}

func TestStartDevServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	srv, err := StartDevServer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dev server up in %v", time.Since(began))
	defer func() {
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	if !strings.HasPrefix(srv.FrontendHostPort(), "127.0.0.1:") {
		t.Errorf("frontend on %s, want 127.0.0.1", srv.FrontendHostPort())
	}
	// Every port the server listens on for clients is chosen by us, none by the CLI (whose
	// own choice of the HTTP API's port once lost a race in CI). Shown failing by leaving
	// --http-port out of devstack.StartTemporal's arguments.
	cmd := devstack.ProcessCommand(srv.t.PID())
	for _, want := range []string{
		"--port " + strconv.Itoa(srv.t.Port()), "--http-port " + strconv.Itoa(srv.t.HTTPPort()),
		"--metrics-port " + strconv.Itoa(srv.t.MetricsPort()), "--headless",
	} {
		if !strings.Contains(cmd, want) {
			t.Errorf("dev server runs as %q: no %q", cmd, want)
		}
	}
	nc, err := client.NewNamespaceClient(client.Options{HostPort: srv.FrontendHostPort(), Logger: devstack.QuietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	resp, err := nc.Describe(ctx, Namespace)
	if err != nil {
		t.Fatalf("describe namespace %s: %v", Namespace, err)
	}
	if resp.GetNamespaceInfo().GetName() != Namespace {
		t.Errorf("described %q", resp.GetNamespaceInfo().GetName())
	}
	checkSearchAttributes(t, ctx, srv.Client())
}

// checkSearchAttributes starts a workflow (no worker needed) carrying the drives' search
// attributes: the server refuses attributes it does not know.
func checkSearchAttributes(t *testing.T, ctx context.Context, c client.Client) {
	t.Helper()
	id := "testenv-search-attributes-" + randomHex(4)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: "testenv-nobody-polls",
		TypedSearchAttributes: temporal.NewSearchAttributes(
			campaign.SearchCampaignID.ValueSet("c1"),
			campaign.SearchUnitCode.ValueSet("001"),
			campaign.SearchPeriod.ValueSet("2021-Q1"),
		),
	}, "NoSuchWorkflow")
	if err != nil {
		t.Fatalf("start a workflow with the drives' search attributes: %v", err)
	}
	if err := c.TerminateWorkflow(ctx, id, run.GetRunID(), "testenv check"); err != nil {
		t.Fatal(err)
	}
}

func TestSharedDevServer(t *testing.T) {
	a := SharedDevServer(t)
	b := SharedDevServer(t)
	if a != b {
		t.Fatal("SharedDevServer started two servers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.Client().CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		t.Fatal(err)
	}
	checkSearchAttributes(t, ctx, a.Client())
}

func TestTemporalCLIMissing(t *testing.T) {
	t.Setenv(EnvTemporalCLI, "/nonexistent/temporal")
	_, err := StartDevServer(context.Background())
	if err == nil || !strings.Contains(err.Error(), "make tools") {
		t.Fatalf("err = %v, want a hint to run make tools", err)
	}
}

func TestDBName(t *testing.T) {
	n := dbName("TestSomething/with spaces and a very long name that goes on and on and on forever")
	if len(n) > 63 || strings.ContainsAny(n, "/ ") {
		t.Fatalf("dbName gave %q", n)
	}
}

// A fingerprint changes with any row written, changed or deleted, in any table, and with
// nothing else. Shown failing by fingerprinting row counts only: the update of a column
// then goes unseen.
func TestFingerprintSeesEveryWrite(t *testing.T) {
	ctx := context.Background()
	pool := NewPool(t)
	exec := func(sql string) {
		t.Helper()
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	exec(`insert into campaigns (id, name, year, plan_hash, plan, prior_year_enrolled, period_start, period_end,
		timezone, clock_scale, workflow_id)
		values ('c1', 'test', 2021, 'h', '{}', 0, '2021-01-01', '2021-12-31', 'Asia/Ho_Chi_Minh', 1, 'w')`)
	before := Fingerprint(t, pool)
	if again := Fingerprint(t, pool); !maps.Equal(before, again) {
		t.Fatalf("two fingerprints of an unchanged database differ: %v, %v", before, again)
	}
	for _, tc := range []struct{ name, write, undo string }{
		{"an insert", `insert into units (campaign_id, code, level, district_code, name, kind, labour_force, synthetic)
			values ('c1', '001', 'district', '001', 'D1', 'urban', 10, false)`,
			`delete from units where campaign_id = 'c1'`},
		{"an update of one column", `update campaigns set name = 'changed' where id = 'c1'`,
			`update campaigns set name = 'test' where id = 'c1'`},
		{"a delete", `delete from campaigns where id = 'c1'`, ""},
	} {
		exec(tc.write)
		after := Fingerprint(t, pool)
		if maps.Equal(before, after) {
			t.Errorf("%s does not change the fingerprint", tc.name)
		}
		if tc.undo != "" {
			exec(tc.undo)
			if again := Fingerprint(t, pool); !maps.Equal(before, again) {
				t.Errorf("undoing %s does not give the fingerprint back", tc.name)
			}
		}
	}
}
