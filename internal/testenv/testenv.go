// Package testenv gives the tests of other packages the services they need, started by the
// test binary itself: one private PostgreSQL cluster per test binary (or the server of
// TEST_DATABASE_URL), a fresh migrated database per test, and Temporal dev servers of the
// pinned CLI.
//
// Use it from TestMain, so that what a binary started is stopped when it ends:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
//
//	func TestSomething(t *testing.T) {
//		pool := testenv.NewPool(t)          // fresh database, migrated, dropped after the test
//		c := testenv.SharedDevServer(t).Client()
//		…
//	}
//
// Everything is started on first use, so a binary whose tests need nothing starts nothing.
// A binary that dies before Main returns (a -timeout panic, a kill) leaves its cluster and
// dev servers behind; the next binary that uses testenv stops them and removes their files.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"drives/internal/devstack"
	"drives/migrations"
)

// Namespace is the namespace of the dev servers started here, as in development.
const Namespace = "enrolment-drives"

// EnvDatabaseURL names the environment variable that points the tests at an existing
// PostgreSQL server instead of a private cluster. Its user must be allowed to create
// databases, and roles unless the application role drives_app exists there already (the
// migrations create it: roles are cluster-wide, so every test database shares it); the
// database it names is only used to create and drop the test databases.
const EnvDatabaseURL = "TEST_DATABASE_URL"

// EnvTemporalCLI names the environment variable that overrides the Temporal CLI path.
const EnvTemporalCLI = "TEMPORAL_CLI"

var (
	inMain atomic.Bool

	scratchOnce sync.Once
	scratch     string // this binary's directory for the cluster and the dev server records
	scratchErr  error

	dbOnce   sync.Once
	dbErr    error
	pg       *devstack.Postgres // nil with TEST_DATABASE_URL
	adminURL string
	admin    *pgxpool.Pool
	tmplName string
	dbSeq    atomic.Int64

	devMu      sync.Mutex
	sharedDev  *DevServer
	sharedErr  error
	devStarted []*DevServer // shared only; the others belong to their callers
	devSeq     atomic.Int64
)

// Main runs the tests of m, then stops what they started through this package (the private
// PostgreSQL cluster, the shared dev server) and removes its files. It returns the exit code
// for os.Exit. An interrupt (SIGINT, SIGTERM) during the tests also stops them.
func Main(m *testing.M) int {
	inMain.Store(true)
	sweep(scratchRoot())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sig:
			fmt.Fprintf(os.Stderr, "testenv: %v: stopping the test services\n", s)
			_ = cleanup(true)
			os.Exit(1)
		case <-done:
		}
	}()
	code := m.Run()
	signal.Stop(sig)
	close(done)
	if err := cleanup(code != 0); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

var cleanupOnce sync.Once

// cleanup stops the services and removes the binary's files; with keepLogs (the tests
// failed) it keeps the server logs, which the sweep of a later binary removes after an hour.
func cleanup(keepLogs bool) error {
	var errs []error
	cleanupOnce.Do(func() {
		devMu.Lock()
		for _, s := range devStarted {
			if err := s.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("stop dev server: %w", err))
			}
		}
		devStarted = nil
		devMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if admin != nil {
			if pg == nil && tmplName != "" { // external server: drop what we made there
				if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{tmplName}.Sanitize()+" WITH (FORCE)"); err != nil {
					errs = append(errs, fmt.Errorf("drop template database: %w", err))
				}
			}
			admin.Close()
		}
		if pg != nil {
			if err := pg.Stop(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if scratch == "" {
			return
		}
		if !keepLogs {
			if err := os.RemoveAll(scratch); err != nil {
				errs = append(errs, err)
			}
			return
		}
		_ = os.RemoveAll(filepath.Join(scratch, "pgdata"))
		_ = os.Remove(filepath.Join(scratch, ownerFile))
		if logs, _ := filepath.Glob(filepath.Join(scratch, "*.log")); len(logs) > 0 {
			fmt.Fprintf(os.Stderr, "testenv: server logs kept in %s\n", scratch)
		} else {
			_ = os.RemoveAll(scratch)
		}
	})
	return errors.Join(errs...)
}

func requireMain(t testing.TB) {
	t.Helper()
	if !inMain.Load() {
		t.Fatal("testenv: this package's TestMain must run the tests through testenv.Main " +
			"(func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }), so that the services it starts are stopped")
	}
}

// NewDB creates a fresh database, migrated to the latest schema, for this test alone, and
// returns its URL. It is dropped when the test ends (after cleanups registered later, such
// as closing pools on it). The first call of a binary starts the private cluster and
// migrates a template database; each call then copies the template, which takes
// milliseconds.
func NewDB(t testing.TB) string {
	t.Helper()
	requireMain(t)
	dbOnce.Do(func() { dbErr = startDB() })
	if dbErr != nil {
		t.Fatalf("testenv: %v", dbErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := dbName(t.Name())
	create := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize() + " TEMPLATE " + pgx.Identifier{tmplName}.Sanitize()
	for attempt := 0; ; attempt++ {
		_, err := admin.Exec(ctx, create)
		if err == nil {
			break
		}
		// The template is briefly "being accessed by other users" while the backend of the
		// migration's connection exits.
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55006" && attempt < 200 {
			time.Sleep(25 * time.Millisecond)
			continue
		}
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	return urlFor(name)
}

// NewPool is NewDB with a connection pool on the new database, closed when the test ends.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	u := NewDB(t)
	pool, err := pgxpool.New(context.Background(), u)
	if err != nil {
		t.Fatalf("testenv: open pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// dbName makes a database name, unique in the server, that says which test it belongs to.
func dbName(test string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(test) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := fmt.Sprintf("t%d_%d_%s", os.Getpid(), dbSeq.Add(1), b.String())
	if len(name) > 63 {
		name = name[:63]
	}
	return name
}

func startDB() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if u := os.Getenv(EnvDatabaseURL); u != "" {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "postgres" && pu.Scheme != "postgresql") {
			return fmt.Errorf("%s must be a postgres:// URL", EnvDatabaseURL)
		}
		adminURL = u
	} else {
		dir, err := scratchDir()
		if err != nil {
			return err
		}
		pg, err = devstack.StartPostgres(ctx, devstack.PostgresOptions{
			Dir: filepath.Join(dir, "pgdata"), LogFile: filepath.Join(dir, "postgres.log"), Ephemeral: true,
		})
		if err != nil {
			return fmt.Errorf("start the test PostgreSQL: %w", err)
		}
		adminURL = pg.URLFor("postgres")
	}
	cfg, err := pgxpool.ParseConfig(adminURL)
	if err != nil {
		return fmt.Errorf("parse admin URL: %w", err)
	}
	cfg.MaxConns = 4
	if admin, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("connect to the test PostgreSQL: %w", err)
	}
	tmplName = fmt.Sprintf("testenv_tmpl_%d_%s", os.Getpid(), randomHex(4))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{tmplName}.Sanitize()); err != nil {
		return fmt.Errorf("create the template database: %w", err)
	}
	if err := migrations.Migrate(ctx, urlFor(tmplName)); err != nil {
		return fmt.Errorf("migrate the template database: %w", err)
	}
	return nil
}

// urlFor is the admin URL with another database.
func urlFor(db string) string {
	u, err := url.Parse(adminURL)
	if err != nil { // checked in startDB
		panic(err)
	}
	u.Path = "/" + db
	u.RawPath = ""
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RepoRoot is the nearest directory at or above the working directory that holds go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above it")
		}
		dir = parent
	}
}

// TemporalCLI is the pinned Temporal CLI: $TEMPORAL_CLI, else .tools/bin/temporal in the
// repository root.
func TemporalCLI() (string, error) {
	p := os.Getenv(EnvTemporalCLI)
	if p == "" {
		root, err := RepoRoot()
		if err != nil {
			return "", fmt.Errorf("find the Temporal CLI: %w", err)
		}
		p = filepath.Join(root, ".tools", "bin", "temporal")
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return "", fmt.Errorf("Temporal CLI not found at %s: run `make tools` (or set %s)", p, EnvTemporalCLI)
	}
	return filepath.Abs(p)
}

// DevServer is a Temporal dev server started by StartDevServer.
type DevServer struct {
	t      *devstack.Temporal
	client client.Client
}

// Client is a client of the server, connected to Namespace.
func (s *DevServer) Client() client.Client { return s.client }

// FrontendHostPort is the frontend's (gRPC) host:port.
func (s *DevServer) FrontendHostPort() string { return s.t.Address() }

// Stop closes the client and stops the server.
func (s *DevServer) Stop() error {
	s.client.Close()
	return s.t.Stop()
}

// StartDevServer starts a private Temporal dev server of the pinned CLI on 127.0.0.1,
// without Web UI and with in-memory state, with namespace Namespace and the drives'
// search attributes registered, and waits until the namespace can be described. Every
// port it listens on for clients (gRPC, HTTP API, metrics) is chosen here, away from the
// ports the system and the CLI pick by themselves, and a start that loses one of them to
// another program before binding it is tried again on new ports (devstack.StartTemporal).
// Its Client is connected to Namespace. The caller stops it (Stop); SharedDevServer is the
// cheaper choice for most tests.
func StartDevServer(ctx context.Context) (*DevServer, error) {
	cli, err := TemporalCLI()
	if err != nil {
		return nil, err
	}
	// The server's output goes to a file of this binary's scratch directory: kept when the
	// tests fail, out of the test output otherwise.
	var logFile string
	if dir, err := scratchDir(); err == nil {
		logFile = filepath.Join(dir, fmt.Sprintf("temporal-%d.log", devSeq.Add(1)))
	}
	t, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{
		CLIPath: cli, Namespace: Namespace, LogFile: logFile, Headless: true, SkipRetention: true,
		ExtraArgs: []string{"--dynamic-config-value", "frontend.enableServerVersionCheck=false"},
	})
	if err != nil {
		return nil, fmt.Errorf("start Temporal dev server: %w", err)
	}
	recordDevServer(t.PID(), t.Port())
	c, err := client.DialContext(ctx, client.Options{
		HostPort: t.Address(), Namespace: Namespace, Logger: devstack.QuietLogger(),
	})
	if err != nil {
		_ = t.Stop()
		return nil, fmt.Errorf("Temporal dev server on %s: %w", t.Address(), err)
	}
	return &DevServer{t: t, client: c}, nil
}

// SharedDevServer is one dev server (see StartDevServer) for all tests of the binary,
// started on first use and stopped by Main. Tests sharing it should use distinct task
// queues and workflow IDs.
func SharedDevServer(t testing.TB) *DevServer {
	t.Helper()
	requireMain(t)
	devMu.Lock()
	defer devMu.Unlock()
	if sharedDev == nil && sharedErr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		sharedDev, sharedErr = StartDevServer(ctx)
		if sharedErr == nil {
			devStarted = append(devStarted, sharedDev)
		}
	}
	if sharedErr != nil {
		t.Fatalf("testenv: %v", sharedErr)
	}
	return sharedDev
}

// Leftovers of dead test binaries -------------------------------------------------------

const ownerFile = "owner.pid"
const devPIDsFile = "temporal.pids"

// scratchRoot holds the scratch directories of the test binaries of this user.
func scratchRoot() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("drives-testenv-%d", os.Geteuid()))
}

// scratchDir makes this binary's directory under scratchRoot (Main sweeps those of binaries
// that died without cleaning up first). It is readable by others so that, under root,
// the postgres user can reach the cluster's data directory inside it.
func scratchDir() (string, error) {
	scratchOnce.Do(func() {
		root := scratchRoot()
		if scratchErr = os.MkdirAll(root, 0o755); scratchErr != nil {
			return
		}
		_ = os.Chmod(root, 0o755)
		var dir string
		if dir, scratchErr = os.MkdirTemp(root, "run-"); scratchErr != nil {
			return
		}
		if scratchErr = os.Chmod(dir, 0o755); scratchErr != nil {
			return
		}
		scratchErr = os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644)
		scratch = dir
	})
	return scratch, scratchErr
}

// recordDevServer notes the PID of the dev server just started on port, so that a later
// binary can stop it if this one dies first.
func recordDevServer(pid, port int) {
	dir, err := scratchDir()
	if err != nil {
		return
	}
	f, err := os.OpenFile(filepath.Join(dir, devPIDsFile), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	fmt.Fprintf(f, "%d %d\n", pid, port)
	_ = f.Close()
}

func sweep(root string) {
	dirs, _ := filepath.Glob(filepath.Join(root, "run-*"))
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			// Being set up right now, or a broken leftover: only old ones are swept.
			if st, serr := os.Stat(dir); serr != nil || time.Since(st.ModTime()) < time.Hour {
				continue
			}
		} else if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); devstack.PIDAlive(pid) {
			continue
		}
		if b, err := os.ReadFile(filepath.Join(dir, devPIDsFile)); err == nil {
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var pid, port int
				if _, err := fmt.Sscan(line, &pid, &port); err == nil &&
					devstack.ProcessMatches(pid, "start-dev", "--port "+strconv.Itoa(port)) {
					_ = devstack.StopPID(pid)
				}
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_ = devstack.StopPostgresDir(ctx, filepath.Join(dir, "pgdata"))
		cancel()
		_ = os.RemoveAll(dir)
	}
}
