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

	pg     *devstack.Postgres
	tp     *devstack.Temporal
	worker worker.Worker
}

// Namespace is the dev server's namespace for the benchmark.
const Namespace = "enrolment-drives"

// Start starts PostgreSQL and a Temporal dev server (in memory, no Web UI) in dir, applies the
// migrations and starts the project's worker on the drives' task queue.
func Start(ctx context.Context, dir, temporalCLI string, log *slog.Logger) (*Env, error) {
	e := &Env{Dir: dir, Log: log}
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
	e.tp, err = devstack.StartTemporal(ctx, devstack.TemporalOptions{CLIPath: temporalCLI, Namespace: Namespace,
		LogFile: filepath.Join(dir, "temporal.log")})
	if err != nil {
		e.Stop()
		return nil, err
	}
	e.Temporal, err = client.Dial(client.Options{HostPort: e.tp.Address(), Namespace: Namespace, Logger: devstack.QuietLogger()})
	if err != nil {
		e.Stop()
		return nil, err
	}
	e.Acts = &activities.Activities{Pool: e.DB, Temporal: e.Temporal}
	e.worker = worker.New(e.Temporal, campaign.TaskQueue, worker.Options{})
	workflows.Register(e.worker, e.Acts)
	if err := e.worker.Start(); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// TemporalAddress is the dev server's frontend.
func (e *Env) TemporalAddress() string { return e.tp.Address() }

// Stop stops the worker and the servers; the scratch directory is left to the caller.
func (e *Env) Stop() {
	if e.worker != nil {
		e.worker.Stop()
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
