package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"drives/audit"
	"drives/internal/devstack"
)

// stack is what the drill runs and breaks: a private PostgreSQL cluster, a file-backed Temporal
// dev server and the worker as its own process, each restarted on the same port and data.
type stack struct {
	dir       string
	cli       string
	namespace string

	pgDir  string
	pgPort int
	owner  string // schema owner's URL (migrations)
	app    string // application role's URL (worker, coordinator)

	tmp           *devstack.Temporal
	tPort, uiPort int

	workerBin  string
	workerAddr string

	mu       sync.Mutex
	worker   *exec.Cmd
	exited   chan struct{} // closed when the current worker process has exited
	killed   bool          // the current worker was killed on purpose
	restarts int           // workers restarted by the supervisor after exiting by themselves
	stopping bool
}

// start brings up PostgreSQL and Temporal and builds the worker; it does not start the worker.
func (s *stack) start(ctx context.Context) error {
	s.pgDir = filepath.Join(s.dir, "pgdata")
	pg, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{Dir: s.pgDir, Database: "drives", LogFile: filepath.Join(s.dir, "postgres.log")})
	if err != nil {
		return err
	}
	s.pgPort = pg.Port()
	s.owner, s.app = pg.URL(), pg.URLAs(audit.AppRole)
	if err := devstack.EnsureRole(ctx, s.owner, audit.AppRole); err != nil {
		return err
	}
	if err := s.startTemporal(ctx); err != nil {
		return err
	}
	s.tPort, s.uiPort = s.tmp.Port(), s.tmp.UIPort()

	s.workerBin = filepath.Join(s.dir, "worker")
	build := exec.CommandContext(ctx, "go", "build", "-o", s.workerBin, "./worker")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build the worker (run the drill from the repository root): %w\n%s", err, out)
	}
	port, err := devstack.FreePort()
	if err != nil {
		return err
	}
	s.workerAddr = "127.0.0.1:" + strconv.Itoa(port)
	return nil
}

func (s *stack) startTemporal(ctx context.Context) error {
	t, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{
		CLIPath: s.cli, Port: s.tPort, UIPort: s.uiPort, DBFile: filepath.Join(s.dir, "temporal.db"),
		Namespace: s.namespace, LogFile: filepath.Join(s.dir, "temporal.log"),
	})
	if err != nil {
		return err
	}
	s.tmp = t
	return nil
}

func (s *stack) temporalAddress() string { return "127.0.0.1:" + strconv.Itoa(s.tPort) }

// startWorker starts a worker process and supervises it: a worker that exits by itself (it
// cannot migrate while the database is down, say) is started again after a second, as a
// service manager would.
func (s *stack) startWorker() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return nil
	}
	log, err := os.OpenFile(filepath.Join(s.dir, "worker.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "=== worker started %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(s.workerBin)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+s.app, "DATABASE_OWNER_URL="+s.owner,
		"TEMPORAL_ADDRESS="+s.temporalAddress(), "TEMPORAL_NAMESPACE="+s.namespace,
		"WORKER_HTTP_ADDR="+s.workerAddr, "LOG_LEVEL=warn", "DRIVES_CODEC_KEYS=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start the worker: %w", err)
	}
	exited := make(chan struct{})
	s.worker, s.exited, s.killed = cmd, exited, false
	go func() {
		_ = cmd.Wait()
		log.Close()
		close(exited)
		s.mu.Lock()
		again := s.worker == cmd && !s.killed && !s.stopping
		if again {
			s.restarts++
		}
		s.mu.Unlock()
		if again {
			time.Sleep(time.Second)
			if err := s.startWorker(); err != nil {
				fmt.Fprintln(os.Stderr, "drill: restart the worker:", err)
			}
		}
	}()
	return nil
}

// killWorker kills the worker with SIGKILL and starts a new one.
func (s *stack) killWorker() error {
	s.mu.Lock()
	cmd, exited := s.worker, s.exited
	s.killed = true
	s.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			return errors.New("the worker did not die of SIGKILL within 10 s")
		}
	}
	return s.startWorker()
}

// waitWorkerHealthy waits until the worker's /healthz answers ok.
func (s *stack) waitWorkerHealthy(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.workerAddr+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the worker is not healthy after %s (see %s)", within, filepath.Join(s.dir, "worker.log"))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// crashPostgres stops PostgreSQL with pg_ctl stop -m immediate, waits down, and starts it again
// on the same port.
func (s *stack) crashPostgres(ctx context.Context, down time.Duration) error {
	if err := devstack.CrashPostgresDir(ctx, s.pgDir); err != nil {
		return err
	}
	time.Sleep(down)
	_, err := devstack.StartPostgres(ctx, devstack.PostgresOptions{Dir: s.pgDir, Port: s.pgPort, Database: "drives", LogFile: filepath.Join(s.dir, "postgres.log")})
	return err
}

// restartTemporal stops the dev server and starts it again on the same ports and file.
func (s *stack) restartTemporal(ctx context.Context) error {
	if err := s.tmp.Stop(); err != nil {
		return err
	}
	// The ports may take a moment to be free again.
	deadline := time.Now().Add(20 * time.Second)
	for !(devstack.PortFree("127.0.0.1", s.tPort) && devstack.PortFree("127.0.0.1", s.uiPort)) {
		if time.Now().After(deadline) {
			return fmt.Errorf("ports %d and %d are still in use 20 s after the dev server stopped", s.tPort, s.uiPort)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return s.startTemporal(ctx)
}

// stop ends the worker, the dev server and PostgreSQL (their data stays in dir).
func (s *stack) stop() {
	s.mu.Lock()
	s.stopping = true
	cmd, exited := s.worker, s.exited
	s.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
		}
	}
	if s.tmp != nil {
		_ = s.tmp.Stop()
	}
	if s.pgDir != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = devstack.StopPostgresDir(ctx, s.pgDir)
	}
}
