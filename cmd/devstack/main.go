// Command devstack starts, stops and reports the local services of the drives: the Temporal
// dev server of the pinned CLI and a private PostgreSQL cluster (unless DATABASE_URL names
// one). It keeps its state in .dev/ under the current directory, which the Makefile sets to
// the repository root.
//
//	go run ./cmd/devstack up       start what is not running yet, write .dev/env
//	go run ./cmd/devstack status   say what runs
//	go run ./cmd/devstack down     stop what up started (and the worker of .dev/worker.pid, the
//	                               codec server of .dev/codec.pid and the web page of .dev/web.pid)
//
// Environment: TEMPORAL_PORT (7233), TEMPORAL_UI_PORT (8233), TEMPORAL_NAMESPACE
// (enrolment-drives), TEMPORAL_CLI (.tools/bin/temporal), DATABASE_URL (use this database
// and start none; DATABASE_OWNER_URL, if set, goes with it into .dev/env), PGPORT (port of
// the private cluster; default a free port), DRIVES_CODEC_KEYS (when set, the Web UI is pointed
// at the codec server on DRIVES_CODEC_ADDR, default 127.0.0.1:8081, which the Makefile starts).
//
// .dev/env exports DATABASE_URL as the application role drives_app, which the worker and the
// starter connect as, and DATABASE_OWNER_URL as the owner, postgres, which only the worker's
// migrations use. The private cluster trusts local connections, so neither has a password.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/audit"
	"drives/codec"
	"drives/internal/devstack"
)

const (
	devDir        = ".dev"
	stateFile     = ".dev/state.json"
	envFile       = ".dev/env"
	lockFile      = ".dev/devstack.lock"
	workerPIDFile = ".dev/worker.pid"
	codecPIDFile  = ".dev/codec.pid"
	codecLogFile  = ".dev/codec.log"
	webPIDFile    = ".dev/web.pid"
	pgDataDir     = ".dev/pgdata"
	pgLogFile     = ".dev/postgres.log"
	temporalDB    = ".dev/temporal.db"
	temporalLog   = ".dev/temporal.log"
	defaultCLI    = ".tools/bin/temporal"

	defaultTemporalPort   = 7233
	defaultTemporalUIPort = 8233
	defaultNamespace      = "enrolment-drives"
	defaultCodecAddr      = "127.0.0.1:8081"
	databaseName          = "drives"
)

// state is what up started, as .dev/state.json records it.
type state struct {
	Temporal *temporalState `json:"temporal,omitempty"`
	Postgres *postgresState `json:"postgres,omitempty"`
	// DatabaseURL is the database the worker uses, as the application role: the private
	// cluster's, or DATABASE_URL.
	DatabaseURL string `json:"database_url,omitempty"`
	// OwnerDatabaseURL is the same database as its owner, for migrations: the private
	// cluster's postgres, or DATABASE_OWNER_URL ("" = none given: DATABASE_URL migrates).
	OwnerDatabaseURL string `json:"owner_database_url,omitempty"`
	// ExternalDatabase is true when DatabaseURL came from DATABASE_URL (nothing started).
	ExternalDatabase bool      `json:"external_database,omitempty"`
	UpdatedAt        time.Time `json:"updated_at"`
}

type temporalState struct {
	PID       int    `json:"pid"`
	IP        string `json:"ip"`
	Port      int    `json:"port"`
	UIPort    int    `json:"ui_port"`
	Namespace string `json:"namespace"`
	DBFile    string `json:"db_file"`
	LogFile   string `json:"log_file"`
	// CodecEndpoint is the Web UI's codec server (--ui-codec-endpoint), if any.
	CodecEndpoint string    `json:"ui_codec_endpoint,omitempty"`
	StartedAt     time.Time `json:"started_at"`
}

func (t *temporalState) address() string { return fmt.Sprintf("%s:%d", t.IP, t.Port) }
func (t *temporalState) ui() string      { return fmt.Sprintf("http://%s:%d", t.IP, t.UIPort) }

// alive reports whether the recorded PID still is this dev server.
func (t *temporalState) alive() bool {
	return devstack.ProcessMatches(t.PID, "start-dev", "--port "+strconv.Itoa(t.Port))
}

type postgresState struct {
	Dir      string `json:"dir"`
	Port     int    `json:"port"`
	Database string `json:"database"`
	LogFile  string `json:"log_file"`
	// StartedByUs: up ran pg_ctl start, or adopted a cluster already running in .dev/pgdata
	// (Adopted); down stops it.
	StartedByUs bool      `json:"started_by_us"`
	Adopted     bool      `json:"adopted,omitempty"`
	StartedAt   time.Time `json:"started_at"`
}

func main() {
	devstack.Main("devstack", devstack.Commands{
		"up":           func(ctx context.Context) error { return withLock(func() error { return up(ctx) }) },
		"down":         func(ctx context.Context) error { return withLock(func() error { return down(ctx) }) },
		"stop":         func(ctx context.Context) error { return withLock(func() error { return down(ctx) }) },
		"status":       status,
		"worker-start": cmdWorkerStart,
		"worker-stop":  cmdWorkerStop,
		"codec-start":  cmdCodecStart,
		"web-start":    cmdWebStart,
		"demo":         demo,
		"browser-deps": browserDeps,
		"fuzz":         fuzz,
	}, usage)
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: go run ./cmd/devstack COMMAND   (from the repository root)

  up            start the Temporal dev server and a private PostgreSQL (unless DATABASE_URL is set),
                reusing those already running; write .dev/env
  status        say what runs
  worker-start  up, then the worker (bin/worker, log .dev/worker.log) unless it runs with the
                key IDs of DRIVES_CODEC_KEYS
  worker-stop   stop the worker
  codec-start   up, then (re)start the codec server for the Web UI when DRIVES_CODEC_KEYS is set
  web-start     up, then (re)start the web page on WEB_ADDR (users made once, passwords and
                tokens in .dev/web-passwords as shell variables: . .dev/web-passwords)
  demo          all of the above, then the demo drive of PLAN and SIM; if any of it fails,
                what this run started is stopped again
  down, stop    stop what up started, the worker of .dev/worker.pid, the codec server of
                .dev/codec.pid and the web page of .dev/web.pid; data in .dev/ is kept
  browser-deps  install what the browser tests need (chromium, chromium-driver, npm packages)
  fuzz          every fuzz target of FUZZ_PKGS in turn, FUZZTIME each

env: TEMPORAL_PORT (7233) TEMPORAL_UI_PORT (8233) TEMPORAL_NAMESPACE (enrolment-drives)
     TEMPORAL_CLI (.tools/bin/temporal) DATABASE_URL DATABASE_OWNER_URL PGPORT
     DRIVES_CODEC_KEYS (set: the Web UI asks the codec server on DRIVES_CODEC_ADDR, 127.0.0.1:8081)
     DRIVES_CODEC_TOKEN WEB_ADDR (127.0.0.1:8080) PLAN SIM
     FUZZ_PKGS FUZZTIME (30s) FUZZPARALLEL (1) FUZZMINIMIZETIME (5s)`)
	os.Exit(2)
}

// withLock serialises up and down between concurrent invocations.
func withLock(f func() error) error { return devstack.Locked("devstack", devDir, lockFile, f) }

func up(ctx context.Context) error {
	_, err := upStack(ctx)
	return err
}

// launched is what one invocation started itself (not what it found running and reused):
// what a failed demo stops again.
type launched struct {
	temporalPID int
	postgresDir string
	pids        map[string]int // worker, codec server, web page by name
}

// upStack starts the Temporal dev server and PostgreSQL unless they run, writes .dev/env, and
// says what it started, also when it fails half-way.
func upStack(ctx context.Context) (*launched, error) {
	l := &launched{pids: map[string]int{}}
	if _, err := os.Stat("go.mod"); err != nil {
		return l, errors.New("run from the repository root (no go.mod here); `make up` does")
	}
	return l, upInto(ctx, l)
}

func upInto(ctx context.Context, l *launched) error {
	st, err := loadState()
	if err != nil {
		return err
	}
	if st == nil {
		st = &state{}
	}
	// Check what can be checked before starting anything.
	if _, err := codec.FromEnv(); err != nil {
		return err
	}
	if url := os.Getenv("DATABASE_URL"); url != "" {
		if err := pingDB(ctx, url); err != nil {
			return fmt.Errorf("DATABASE_URL is set but its database does not answer: %w", err)
		}
		if owner := os.Getenv("DATABASE_OWNER_URL"); owner != "" {
			if err := pingDB(ctx, owner); err != nil {
				return fmt.Errorf("DATABASE_OWNER_URL is set but its database does not answer: %w", err)
			}
		}
	}

	if err := upTemporal(ctx, st, l); err != nil {
		return err
	}
	if err := upPostgres(ctx, st, l); err != nil {
		return fmt.Errorf("PostgreSQL did not start: %w\n\nWhat to do: PostgreSQL (run as the postgres user when you are root) must be able to create and reach %s: "+
			"check that %s is a directory of yours that every folder above it lets others enter (chmod o+x), or remove it to start afresh (`make clean`), "+
			"or set DATABASE_URL to a database of yours; the log is %s", err, pgDataDir, devstack.AbsPath(pgDataDir), pgLogFile)
	}
	if err := writeEnv(st); err != nil {
		return err
	}
	fmt.Printf("\nWrote %s. Load it into your shell with:\n\n    . %s\n\n", envFile, envFile)
	fmt.Printf("Temporal Web UI: %s/namespaces/%s/workflows\n", st.Temporal.ui(), st.Temporal.Namespace)
	return nil
}

// uiCodecEndpoint is the codec server the Web UI should ask: the one the Makefile starts on
// DRIVES_CODEC_ADDR when DRIVES_CODEC_KEYS is set, else none.
func uiCodecEndpoint() string {
	if os.Getenv(codec.EnvKeys) == "" {
		return ""
	}
	return "http://" + devstack.EnvOr("DRIVES_CODEC_ADDR", defaultCodecAddr)
}

func upTemporal(ctx context.Context, st *state, l *launched) error {
	namespace := devstack.EnvOr("TEMPORAL_NAMESPACE", defaultNamespace)
	codecEndpoint := uiCodecEndpoint()
	if t := st.Temporal; t != nil && t.alive() {
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := devstack.WaitTemporal(wctx, t.address(), t.Namespace)
		cancel()
		if err == nil {
			if namespace != t.Namespace {
				nctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := devstack.WaitTemporal(nctx, t.address(), namespace)
				cancel()
				if err != nil {
					return fmt.Errorf("the running Temporal dev server (pid %d) was started for namespace %q, not %q: run `make stop` first, or unset TEMPORAL_NAMESPACE", t.PID, t.Namespace, namespace)
				}
				t.Namespace = namespace
			}
			warnIgnoredPort("TEMPORAL_PORT", t.Port)
			warnIgnoredPort("TEMPORAL_UI_PORT", t.UIPort)
			switch {
			case t.CodecEndpoint == codecEndpoint:
			case codecEndpoint == "":
				fmt.Printf("Temporal: note: the running dev server's Web UI asks the codec server at %s, though DRIVES_CODEC_KEYS is not set now (`make stop` to change it)\n", t.CodecEndpoint)
			case t.CodecEndpoint == "":
				fmt.Printf("Temporal: note: the running dev server was started without DRIVES_CODEC_KEYS, so its Web UI has no codec server: `make stop` and start again to give it %s\n", codecEndpoint)
			default:
				fmt.Printf("Temporal: note: the running dev server's Web UI asks the codec server at %s, not %s (`make stop` to change it)\n", t.CodecEndpoint, codecEndpoint)
			}
			fmt.Printf("Temporal: reusing the running dev server (pid %d) on %s, namespace %s, Web UI %s\n",
				t.PID, t.address(), t.Namespace, t.ui())
			return nil
		}
		fmt.Printf("Temporal: recorded dev server (pid %d) does not answer (%v); restarting it\n", t.PID, err)
		if err := devstack.StopPID(t.PID); err != nil {
			return err
		}
	}
	st.Temporal = nil

	// A dev server on our database file that state.json does not know (an interrupted up).
	if pids := devstack.FindProcesses("start-dev", devstack.AbsPath(temporalDB)); len(pids) > 0 {
		for _, pid := range pids {
			fmt.Printf("Temporal: stopping an unrecorded dev server (pid %d) that uses %s\n", pid, temporalDB)
			if err := devstack.StopPID(pid); err != nil {
				return err
			}
		}
	}

	cli := devstack.EnvOr("TEMPORAL_CLI", defaultCLI)
	if _, err := os.Stat(cli); err != nil {
		return fmt.Errorf("Temporal CLI not found at %s: run `make tools` to build it", cli)
	}
	port, err := envPort("TEMPORAL_PORT", defaultTemporalPort)
	if err != nil {
		return err
	}
	uiPort, err := envPort("TEMPORAL_UI_PORT", defaultTemporalUIPort)
	if err != nil {
		return err
	}
	if port == uiPort {
		return fmt.Errorf("TEMPORAL_PORT and TEMPORAL_UI_PORT are both %d: choose two ports", port)
	}
	for _, p := range []struct {
		name string
		port int
	}{{"TEMPORAL_PORT", port}, {"TEMPORAL_UI_PORT", uiPort}} {
		if !devstack.PortFree("127.0.0.1", p.port) {
			a, _ := devstack.FreePort()
			b, _ := devstack.FreePort()
			return fmt.Errorf("port %d (%s) is in use by another program, not by a dev server of ours: "+
				"set TEMPORAL_PORT and TEMPORAL_UI_PORT to free ports, e.g.\n\n    TEMPORAL_PORT=%d TEMPORAL_UI_PORT=%d make demo\n",
				p.port, p.name, a, b)
		}
	}

	fmt.Printf("Temporal: starting the dev server on 127.0.0.1:%d (Web UI %d, namespace %s, state in %s)…\n",
		port, uiPort, namespace, temporalDB)
	began := time.Now()
	t, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{
		CLIPath: cli, IP: "127.0.0.1", Port: port, UIPort: uiPort,
		DBFile: temporalDB, Namespace: namespace, LogFile: temporalLog,
		UICodecEndpoint: codecEndpoint,
	})
	if err != nil {
		return err
	}
	l.temporalPID = t.PID()
	st.Temporal = &temporalState{
		PID: t.PID(), IP: "127.0.0.1", Port: t.Port(), UIPort: t.UIPort(), Namespace: namespace,
		DBFile: temporalDB, LogFile: temporalLog, CodecEndpoint: codecEndpoint, StartedAt: time.Now().UTC(),
	}
	if err := saveState(st); err != nil {
		_ = t.Stop()
		return err
	}
	fmt.Printf("Temporal: dev server (pid %d) ready on %s in %.1fs, log %s\n", t.PID(), t.Address(), time.Since(began).Seconds(), temporalLog)
	if codecEndpoint != "" {
		fmt.Printf("Temporal: the Web UI decodes payloads through the codec server at %s\n", codecEndpoint)
	}
	for _, w := range t.Warnings() {
		fmt.Printf("Temporal: warning: %s\n", w)
	}
	return nil
}

func upPostgres(ctx context.Context, st *state, l *launched) error {
	if url := os.Getenv("DATABASE_URL"); url != "" { // checked by up
		st.DatabaseURL, st.ExternalDatabase = url, true
		st.OwnerDatabaseURL = os.Getenv("DATABASE_OWNER_URL")
		fmt.Println("PostgreSQL: using DATABASE_URL (nothing started)")
		if p := st.Postgres; p != nil && p.StartedByUs {
			if _, running := devstack.PostgresStatus(p.Dir); running {
				fmt.Printf("PostgreSQL: note: the private cluster in %s still runs; `make stop` stops it\n", p.Dir)
			}
		}
		return saveState(st)
	}

	var port int
	if os.Getenv("PGPORT") != "" {
		var err error
		if port, err = envPort("PGPORT", 0); err != nil {
			return err
		}
	}
	began := time.Now()
	pg, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{
		Dir: pgDataDir, Port: port, Database: databaseName, LogFile: pgLogFile,
	})
	if err != nil {
		if _, running := devstack.PostgresStatus(pgDataDir); running {
			return fmt.Errorf("%w (run `make stop` first to restart it on another port)", err)
		}
		return err
	}
	if !pg.Reused() {
		l.postgresDir = pgDataDir
	}
	// The worker's migrations create the application role too; creating it now lets the
	// starter connect before the worker first runs.
	if err := devstack.EnsureRole(ctx, pg.URL(), audit.AppRole); err != nil {
		return err
	}
	prev := st.Postgres
	st.Postgres = &postgresState{
		Dir: pgDataDir, Port: pg.Port(), Database: databaseName, LogFile: pgLogFile,
		StartedByUs: true, Adopted: pg.Reused() && (prev == nil || !prev.StartedByUs),
		StartedAt: time.Now().UTC(),
	}
	if pg.Reused() && prev != nil && prev.StartedByUs {
		st.Postgres.StartedAt = prev.StartedAt
	}
	st.DatabaseURL, st.OwnerDatabaseURL, st.ExternalDatabase = pg.URLAs(audit.AppRole), pg.URL(), false
	if err := saveState(st); err != nil {
		return err
	}
	switch {
	case pg.Reused() && st.Postgres.Adopted:
		fmt.Printf("PostgreSQL: adopted the cluster already running in %s on 127.0.0.1:%d\n", pgDataDir, pg.Port())
	case pg.Reused():
		fmt.Printf("PostgreSQL: reusing the running private cluster in %s on 127.0.0.1:%d\n", pgDataDir, pg.Port())
	default:
		fmt.Printf("PostgreSQL: private cluster in %s ready on 127.0.0.1:%d in %.1fs, log %s\n",
			pgDataDir, pg.Port(), time.Since(began).Seconds(), pgLogFile)
	}
	return nil
}

func down(ctx context.Context) error {
	var errs []error
	stopped := 0

	if pid, ok := readPID(workerPIDFile); ok {
		if devstack.ProcessMatches(pid, "worker") {
			fmt.Printf("worker: stopping pid %d…\n", pid)
			if err := devstack.StopPID(pid); err != nil {
				errs = append(errs, fmt.Errorf("stop worker: %w", err))
			} else {
				stopped++
			}
		} else {
			fmt.Printf("worker: pid %d from %s no longer runs\n", pid, workerPIDFile)
		}
		if len(errs) == 0 {
			_ = os.Remove(workerPIDFile)
		}
	}
	if pid, ok := readPID(codecPIDFile); ok {
		if devstack.ProcessMatches(pid, "codec-server") {
			fmt.Printf("codec server: stopping pid %d…\n", pid)
			if err := devstack.StopPID(pid); err != nil {
				errs = append(errs, fmt.Errorf("stop codec server: %w", err))
			} else {
				stopped++
				_ = os.Remove(codecPIDFile)
			}
		} else {
			fmt.Printf("codec server: pid %d from %s no longer runs\n", pid, codecPIDFile)
			_ = os.Remove(codecPIDFile)
		}
	}
	if pid, ok := readPID(webPIDFile); ok {
		if devstack.ProcessMatches(pid, "serve", "--users") {
			fmt.Printf("web: stopping pid %d…\n", pid)
			if err := devstack.StopPID(pid); err != nil {
				errs = append(errs, fmt.Errorf("stop web: %w", err))
			} else {
				stopped++
				_ = os.Remove(webPIDFile)
			}
		} else {
			fmt.Printf("web: pid %d from %s no longer runs\n", pid, webPIDFile)
			_ = os.Remove(webPIDFile)
		}
	}

	st, err := loadState()
	if err != nil {
		return err
	}
	if st == nil {
		fmt.Printf("nothing recorded in %s\n", stateFile)
		st = &state{}
	}

	if t := st.Temporal; t != nil {
		if t.alive() {
			fmt.Printf("Temporal: stopping the dev server (pid %d)…\n", t.PID)
			if err := devstack.StopPID(t.PID); err != nil {
				errs = append(errs, fmt.Errorf("stop Temporal: %w", err))
			} else {
				stopped++
			}
		} else {
			fmt.Printf("Temporal: the dev server (pid %d) no longer runs\n", t.PID)
		}
	}
	// Leftovers of an interrupted up, which state.json could not record: they run from this
	// repository's .dev/, so they are ours.
	for _, pid := range devstack.FindProcesses("start-dev", devstack.AbsPath(temporalDB)) {
		fmt.Printf("Temporal: stopping an unrecorded dev server (pid %d) that uses %s…\n", pid, temporalDB)
		if err := devstack.StopPID(pid); err != nil {
			errs = append(errs, fmt.Errorf("stop Temporal: %w", err))
		} else {
			stopped++
		}
	}

	if p := st.Postgres; p != nil && p.StartedByUs {
		if _, running := devstack.PostgresStatus(p.Dir); running {
			fmt.Printf("PostgreSQL: stopping the private cluster in %s…\n", p.Dir)
			if err := devstack.StopPostgresDir(ctx, p.Dir); err != nil {
				errs = append(errs, err)
			} else {
				stopped++
			}
		} else {
			fmt.Printf("PostgreSQL: the private cluster in %s no longer runs\n", p.Dir)
		}
	} else if _, running := devstack.PostgresStatus(pgDataDir); running {
		fmt.Printf("PostgreSQL: stopping an unrecorded cluster running in %s…\n", pgDataDir)
		if err := devstack.StopPostgresDir(ctx, pgDataDir); err != nil {
			errs = append(errs, err)
		} else {
			stopped++
		}
	}

	if len(errs) > 0 {
		return errors.Join(errs...) // keep state.json so that down can be run again
	}
	for _, f := range []string{stateFile, envFile} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	fmt.Printf("stopped %d process(es); data kept in %s/ (`make clean` removes it)\n", stopped, devDir)
	return nil
}

func status(ctx context.Context) error {
	st, err := loadState()
	if err != nil {
		return err
	}
	if st == nil {
		fmt.Printf("nothing started (no %s)\n", stateFile)
		st = &state{}
	}
	if t := st.Temporal; t != nil {
		health := "not running"
		if t.alive() {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			if err := devstack.WaitTemporal(cctx, t.address(), t.Namespace); err != nil {
				health = fmt.Sprintf("running but not answering: %v", err)
			} else {
				health = "running, healthy"
			}
			cancel()
		}
		fmt.Printf("Temporal:   %s — pid %d, %s, namespace %s, Web UI %s, log %s\n",
			health, t.PID, t.address(), t.Namespace, t.ui(), t.LogFile)
		if t.CodecEndpoint != "" {
			fmt.Printf("            the Web UI decodes payloads through %s\n", t.CodecEndpoint)
		}
		if ret, err := namespaceRetention(ctx, t); err == nil {
			fmt.Printf("            retention of %s: %s\n", t.Namespace, days(ret))
		}
	}
	if st.ExternalDatabase {
		health := "answering"
		if err := pingDB(ctx, st.DatabaseURL); err != nil {
			health = fmt.Sprintf("not answering: %v", err)
		}
		fmt.Printf("PostgreSQL: external database from DATABASE_URL, %s\n", health)
	}
	if p := st.Postgres; p != nil {
		if port, running := devstack.PostgresStatus(p.Dir); running {
			fmt.Printf("PostgreSQL: private cluster running in %s on 127.0.0.1:%d, database %s (worker as %s, migrations as postgres), log %s\n",
				p.Dir, port, p.Database, audit.AppRole, p.LogFile)
		} else {
			fmt.Printf("PostgreSQL: private cluster in %s not running\n", p.Dir)
		}
	} else if port, running := devstack.PostgresStatus(pgDataDir); running {
		fmt.Printf("PostgreSQL: an unrecorded cluster runs in %s on port %d (`make stop` stops it)\n", pgDataDir, port)
	}
	if pid, ok := readPID(workerPIDFile); ok {
		if devstack.ProcessMatches(pid, "worker") {
			fmt.Printf("worker:     running, pid %d, log .dev/worker.log\n", pid)
		} else {
			fmt.Printf("worker:     not running (stale pid %d in %s)\n", pid, workerPIDFile)
		}
	} else {
		fmt.Println("worker:     not started (`make worker-start`)")
	}
	if pid, ok := readPID(codecPIDFile); ok {
		if devstack.ProcessMatches(pid, "codec-server") {
			fmt.Printf("codec:      running, pid %d, log %s\n", pid, codecLogFile)
		} else {
			fmt.Printf("codec:      not running (stale pid %d in %s)\n", pid, codecPIDFile)
		}
	}
	if pid, ok := readPID(webPIDFile); ok {
		if devstack.ProcessMatches(pid, "serve", "--users") {
			fmt.Printf("web:        running, pid %d, log %s\n", pid, webLogFile)
		} else {
			fmt.Printf("web:        not running (stale pid %d in %s)\n", pid, webPIDFile)
		}
	}
	if _, err := os.Stat(envFile); err == nil && st.Temporal != nil {
		fmt.Printf("environment: . %s\n", envFile)
	}
	return nil
}

func namespaceRetention(ctx context.Context, t *temporalState) (time.Duration, error) {
	if !t.alive() {
		return 0, errors.New("not running")
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return devstack.NamespaceRetention(cctx, t.address(), t.Namespace)
}

func days(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

func loadState() (*state, error) {
	st := &state{}
	if ok, err := devstack.ReadState(stateFile, st); !ok {
		return nil, err
	}
	return st, nil
}

func saveState(st *state) error {
	st.UpdatedAt = time.Now().UTC()
	return devstack.WriteState(stateFile, st)
}

func writeEnv(st *state) error {
	var b strings.Builder
	b.WriteString("# Written by `go run ./cmd/devstack up`; load with: . .dev/env\n")
	for _, kv := range [][2]string{
		{"TEMPORAL_ADDRESS", st.Temporal.address()},
		{"TEMPORAL_NAMESPACE", st.Temporal.Namespace},
		{"DATABASE_URL", st.DatabaseURL},
		{"DATABASE_OWNER_URL", st.OwnerDatabaseURL},
		{"TEMPORAL_UI", st.Temporal.ui()},
	} {
		if kv[1] == "" {
			fmt.Fprintf(&b, "unset %s\n", kv[0])
			continue
		}
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], devstack.ShellQuote(kv[1]))
	}
	return os.WriteFile(envFile, []byte(b.String()), 0o600)
}

func pingDB(ctx context.Context, url string) error {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(cctx)
}

func readPID(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid, err == nil && pid > 0
}

func envPort(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil || p <= 0 || p > 65535 {
		return 0, fmt.Errorf("%s=%q is not a port number", name, v)
	}
	return p, nil
}

func warnIgnoredPort(name string, running int) {
	if v := os.Getenv(name); v != "" && v != strconv.Itoa(running) {
		fmt.Printf("Temporal: note: %s=%s ignored, the running server uses %d (`make stop` to change it)\n", name, v, running)
	}
}
