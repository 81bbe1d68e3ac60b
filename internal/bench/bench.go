// Package bench measures the drives end to end on real services, for `make bench`: a private
// PostgreSQL and a Temporal dev server of the pinned CLI, started for the run, with the
// project's own worker in process. Every figure of one run is measured on the same machine at
// the same time, and figures with a ceiling are given as ratios to it.
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"drives/activities"
	"drives/campaign"
	"drives/internal/devstack"
	"drives/migrations"
	"drives/workflows"
)

// Figure is one line of the benchmark table.
type Figure struct {
	ID     string  // the letter and a short key, e.g. "a" or "c.hanoi"
	Name   string  // what was measured
	Value  float64 // the figure
	Unit   string  // its unit: "workflows/s", "ratio", "ms"…
	Target string  // the target in words ("≥ 0.8"), "" when there is none
	Met    *bool   // whether the target is met; nil when there is none
	Note   string  // how it was measured, or why a target is missed
}

// Check makes a figure's Met from a comparison.
func Check(ok bool) *bool { return &ok }

// Env is what every benchmark runs on.
type Env struct {
	Dir      string        // scratch directory of the run
	DB       *pgxpool.Pool // the drives database (schema owner), migrations applied
	DBURL    string
	Temporal client.Client // connected to the dev server's namespace
	Acts     *activities.Activities
	Log      *slog.Logger
	// Run names this run: campaign and workflow IDs carry it, so that a run on a Temporal
	// server that keeps its data (-temporal) does not meet the IDs of an earlier one.
	Run string

	// Workers is how many workers poll each task queue (each with its own pollers and cache,
	// as separate processes would have).
	Workers int

	pg      *devstack.Postgres
	tp      *devstack.Temporal
	address string
	workers []worker.Worker
}

// ID is a campaign or workflow ID of this run: bench-<name>-<run>.
func (e *Env) ID(name string) string { return "bench-" + name + "-" + e.Run }

// Namespace is the dev server's namespace for the benchmark.
const Namespace = "enrolment-drives"

// Options says what a benchmark run starts.
type Options struct {
	Dir         string // scratch directory
	TemporalCLI string // the pinned CLI, for the dev server
	// TemporalAddress and Namespace name a Temporal server to use instead of a dev server of
	// our own (e.g. the PostgreSQL-backed one); its namespace needs the drives' search attributes.
	TemporalAddress, Namespace string
	Workers                    int // workers per task queue; 0 means 1
}

// Start starts PostgreSQL and, unless given one, a Temporal dev server (in memory, no Web UI)
// in o.Dir, applies the migrations and starts the project's workers on the drives' task queue.
func Start(ctx context.Context, o Options, log *slog.Logger) (*Env, error) {
	dir := o.Dir
	e := &Env{Dir: dir, Log: log, Workers: max(o.Workers, 1), Run: strconv.FormatInt(time.Now().Unix()%1_000_000, 36)}
	var err error
	e.pg, err = devstack.StartPostgres(ctx, devstack.PostgresOptions{Dir: filepath.Join(dir, "pgdata"), Database: "drives"})
	if err != nil {
		return nil, err
	}
	e.DBURL = e.pg.URL()
	if err := migrations.Migrate(ctx, e.DBURL); err != nil {
		e.Stop()
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(e.DBURL)
	if err != nil {
		e.Stop()
		return nil, err
	}
	cfg.MaxConns = 16
	if e.DB, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		e.Stop()
		return nil, err
	}
	e.address = o.TemporalAddress
	namespace := o.Namespace
	if namespace == "" {
		namespace = Namespace
	}
	if e.address == "" {
		e.tp, err = devstack.StartTemporal(ctx, devstack.TemporalOptions{CLIPath: o.TemporalCLI, Namespace: namespace,
			LogFile: filepath.Join(dir, "temporal.log")})
		if err != nil {
			e.Stop()
			return nil, err
		}
		e.address = e.tp.Address()
	}
	e.Temporal, err = client.Dial(client.Options{HostPort: e.address, Namespace: namespace, Logger: devstack.QuietLogger()})
	if err != nil {
		e.Stop()
		return nil, err
	}
	e.Acts = &activities.Activities{Pool: e.DB, Temporal: e.Temporal}
	for range e.Workers {
		w := worker.New(e.Temporal, campaign.TaskQueue, worker.Options{})
		workflows.Register(w, e.Acts)
		if err := w.Start(); err != nil {
			e.Stop()
			return nil, err
		}
		e.workers = append(e.workers, w)
	}
	return e, nil
}

// TemporalAddress is the Temporal frontend the run uses.
func (e *Env) TemporalAddress() string { return e.address }

// Stop stops the workers and the servers it started; the scratch directory is left to the caller.
func (e *Env) Stop() {
	for _, w := range e.workers {
		w.Stop()
	}
	if e.Temporal != nil {
		e.Temporal.Close()
	}
	if e.DB != nil {
		e.DB.Close()
	}
	if e.tp != nil {
		_ = e.tp.Stop()
	}
	if e.pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.pg.Stop(ctx)
	}
}

// ErrSkipped marks a benchmark left out of the run on purpose.
var ErrSkipped = errors.New("skipped")

// rate is n per second of d.
func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func must(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}
