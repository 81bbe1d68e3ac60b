package devstack

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// reachableTempDir is a temporary directory that the postgres user can enter when the
// tests run as root (t.TempDir is private to its owner).
func reachableTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "devstack-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func TestPostgresStartStopRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(reachableTempDir(t), "pgdata")
	pg, err := StartPostgres(ctx, PostgresOptions{Dir: dir, Database: "drives_test", Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = StopPostgresDir(context.Background(), dir) })
	if !strings.HasPrefix(pg.URL(), "postgres://postgres@127.0.0.1:") || !strings.Contains(pg.URL(), "/drives_test?") {
		t.Errorf("URL() = %q", pg.URL())
	}
	execSQL(t, ctx, pg.URL(), "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)")

	// A login role, created once however often asked, connects without a password.
	for range 2 {
		if err := EnsureRole(ctx, pg.URL(), "drives_app"); err != nil {
			t.Fatal(err)
		}
	}
	if u := pg.URLAs("drives_app"); !strings.HasPrefix(u, "postgres://drives_app@127.0.0.1:") {
		t.Errorf("URLAs = %q", u)
	}
	execSQL(t, ctx, pg.URLAs("drives_app"), "SELECT 1")

	// Starting again in the same directory adopts the running cluster.
	again, err := StartPostgres(ctx, PostgresOptions{Dir: dir, Database: "drives_test"})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Reused() || again.Port() != pg.Port() {
		t.Errorf("second start: reused=%v port=%d, want reused on %d", again.Reused(), again.Port(), pg.Port())
	}

	if err := pg.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, running := PostgresStatus(dir); running {
		t.Fatal("cluster still running after Stop")
	}
	if err := StopPostgresDir(ctx, dir); err != nil {
		t.Fatalf("stopping a stopped cluster: %v", err)
	}

	// Restarting on another port keeps the data.
	pg2, err := StartPostgres(ctx, PostgresOptions{Dir: dir, Database: "drives_test"})
	if err != nil {
		t.Fatal(err)
	}
	var x int
	conn, err := pgx.Connect(ctx, pg2.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, "SELECT x FROM kept").Scan(&x); err != nil || x != 42 {
		t.Fatalf("data after restart: x=%d err=%v", x, err)
	}
}

func execSQL(t *testing.T, ctx context.Context, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatal(err)
	}
}

func TestPostgresRefusesNonEmptyDir(t *testing.T) {
	dir := reachableTempDir(t)
	if err := os.WriteFile(filepath.Join(dir, "stray"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := StartPostgres(context.Background(), PostgresOptions{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "neither empty nor") {
		t.Fatalf("err = %v, want a clear refusal", err)
	}
}

func TestTemporalDetachedWithRetention(t *testing.T) {
	cli := os.Getenv("TEMPORAL_CLI")
	if cli == "" {
		cli = filepath.Join("..", "..", ".tools", "bin", "temporal")
	}
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("Temporal CLI not found at %s: run `make tools`", cli)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	tmp, err := StartTemporal(ctx, TemporalOptions{
		CLIPath: cli, DBFile: filepath.Join(dir, "temporal.db"), Namespace: "devstack-test",
		LogFile: filepath.Join(dir, "temporal.log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = StopPID(tmp.PID()) })
	if len(tmp.Warnings()) > 0 {
		t.Errorf("warnings: %v", tmp.Warnings())
	}
	if !ProcessMatches(tmp.PID(), "start-dev", tmp.Address()[strings.LastIndex(tmp.Address(), ":")+1:]) {
		t.Errorf("pid %d is not the dev server: %q", tmp.PID(), ProcessCommand(tmp.PID()))
	}
	ret, err := NamespaceRetention(ctx, tmp.Address(), "devstack-test")
	if err != nil {
		t.Fatal(err)
	}
	if ret != RetentionDays*24*time.Hour {
		t.Errorf("retention = %v, want %d days", ret, RetentionDays)
	}
	if err := StopPID(tmp.PID()); err != nil {
		t.Fatal(err)
	}
	if PIDAlive(tmp.PID()) {
		t.Fatal("dev server alive after StopPID")
	}
}
