// Command worker runs the drive's workflows and activities: it applies the migrations, then
// polls the task queue until it is stopped. It reads DATABASE_URL (the application role,
// drives_app), DATABASE_OWNER_URL (the schema owner, for migrations only; default DATABASE_URL)
// and the TEMPORAL_* settings, and serves /healthz and Prometheus /metrics (the SDK's metrics and the drive's
// own counters) on WORKER_HTTP_ADDR (default 127.0.0.1:9464). At start it creates or updates the
// daily schedule that deletes import batches staged longer ago than DRIVES_IMPORT_RETENTION
// (default 168h) and never merged.
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // the plan's time zone without the machine's zoneinfo

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"drives/activities"
	"drives/campaign"
	"drives/internal/config"
	"drives/migrations"
	"drives/store"
	"drives/workflows"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := config.Logger()

	url, err := config.DatabaseURL()
	if err != nil {
		return err
	}
	// Migrations run as the schema's owner; the pool connects as DATABASE_URL, the
	// application role (drives_app), which may not change the audit log.
	ownerURL := os.Getenv("DATABASE_OWNER_URL")
	if ownerURL == "" {
		ownerURL = url
	}
	if err := migrations.Migrate(ctx, ownerURL); err != nil {
		return fmt.Errorf("%w (migrations run as DATABASE_OWNER_URL, or DATABASE_URL when it is unset: set it to the schema owner's URL)", err)
	}
	pool, err := config.Pool(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	mayAlterAudit, err := store.MayAlterAuditLog(ctx, pool)
	if err != nil {
		return fmt.Errorf("check the privileges of DATABASE_URL: %w", err)
	}
	if mayAlterAudit {
		logger.Warn("DATABASE_URL connects as a role that may change the audit log (the schema owner?): " +
			"connect the worker as drives_app and give migrations DATABASE_OWNER_URL (see README, Audit log)")
	}
	metrics := newMetrics()
	c, err := config.Temporal(ctx, logger, func(o *client.Options) { o.MetricsHandler = metrics.handler })
	if err != nil {
		return err
	}
	defer c.Close()

	retention := activities.DefaultImportRetention
	if v := os.Getenv("DRIVES_IMPORT_RETENTION"); v != "" {
		if retention, err = time.ParseDuration(v); err != nil || retention <= 0 {
			return fmt.Errorf("DRIVES_IMPORT_RETENTION %q: want a positive duration such as 168h", v)
		}
	}
	if err := workflows.EnsureImportRetentionSchedule(ctx, c, retention); err != nil {
		logger.Warn("staged imports will not be expired until the schedule exists (it is retried at the next start)", "error", err)
	}

	w := worker.New(c, campaign.TaskQueue, worker.Options{WorkerStopTimeout: stopTimeout})
	workflows.Register(w, &activities.Activities{Pool: pool, Temporal: c})

	addr := os.Getenv("WORKER_HTTP_ADDR")
	if addr == "" {
		addr = "127.0.0.1:9464"
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.reporter.HTTPHandler())
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := pool.Ping(ctx); err != nil {
			http.Error(rw, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		if _, err := c.CheckHealth(ctx, nil); err != nil {
			http.Error(rw, "temporal unreachable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(rw, "ok")
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Warn("health endpoint not served", "addr", addr, "error", err)
		}
	}()
	defer srv.Close()

	logger.Info("worker started", "task_queue", campaign.TaskQueue, "health", "http://"+addr+"/healthz")
	return w.Run(workerStop(ctx, stop))
}

// stopTimeout is how long a stopping worker (SIGTERM, SIGINT) lets its running activities
// finish before it cancels them; the SDK's default, 0, cancels them at once. Each activity is
// one transaction: cancelled, it rolls back and Temporal retries it, so the wait spares doing
// the work again. Most take well under a second, the longest (a 1,000,000-line merge, a
// national review) seconds to half a minute. An attempt lost with a killed worker is retried
// after the heartbeat timeout (20 s), so a wait a little longer than that holds a drive up no
// more than a kill would; and 25 s fits in the 30 s service managers commonly give between
// SIGTERM and SIGKILL (Kubernetes' default grace period).
const stopTimeout = activities.HeartbeatTimeout + 5*time.Second

// workerStop closes the worker's interrupt channel when ctx ends (on SIGTERM or SIGINT), and
// then calls restore, which gives a second signal its default effect: ending the process at
// once, without waiting for the running activities.
func workerStop(ctx context.Context, restore func()) <-chan any {
	ch := make(chan any)
	go func() {
		<-ctx.Done()
		restore()
		close(ch)
	}()
	return ch
}
