package main

import (
	"context"
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
	"drives/web"
)

// stack is what the drill runs and breaks: a private PostgreSQL cluster, a file-backed Temporal
// dev server, and the worker and the web process (`starter serve`, which agents' phones send
// their entries to) each as its own process, each restarted on the same port and data.
type stack struct {
	dir       string
	cli       string
	namespace string

	pgDir  string
	pgPort int
	owner  string // schema owner's URL (migrations)
	app    string // application role's URL (worker, web, coordinator)

	tmp           *devstack.Temporal
	tPort, uiPort int

	worker *proc
	web    *proc
}

// proc is a program the stack runs as its own process and supervises: one that exits by
// itself (the worker cannot migrate while the database is down, say) is started again after a
// second, as a service manager would; one killed on purpose is started again by its killer.
type proc struct {
	name    string // worker, web: its log is name.log
	args    []string
	env     []string
	logFile string
	health  string // URL that answers 200 when it is up

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the current process has exited
	killed   bool          // the current process was killed on purpose
	starts   int           // processes started
	restarts int           // processes restarted by the supervisor after exiting by themselves
	stopping bool
}

// start brings up PostgreSQL and Temporal and builds the worker and the starter (whose serve is
// the web process); it starts neither.
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

	bin := filepath.Join(s.dir, "bin")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin+string(filepath.Separator), "./worker", "./starter")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("build the worker and the starter (run the drill from the repository root): %w\n%s", err, out)
	}
	var addrs [2]string
	for i := range addrs {
		port, err := devstack.FreePort()
		if err != nil {
			return err
		}
		addrs[i] = "127.0.0.1:" + strconv.Itoa(port)
	}
	env := append(os.Environ(),
		"DATABASE_URL="+s.app, "TEMPORAL_ADDRESS="+s.temporalAddress(), "TEMPORAL_NAMESPACE="+s.namespace, "DRIVES_CODEC_KEYS=")
	s.worker = &proc{name: "worker", args: []string{filepath.Join(bin, "worker")}, logFile: filepath.Join(s.dir, "worker.log"),
		env:    append(append([]string(nil), env...), "DATABASE_OWNER_URL="+s.owner, "WORKER_HTTP_ADDR="+addrs[0], "LOG_LEVEL=warn"),
		health: "http://" + addrs[0] + "/healthz"}
	// The web process needs no users file: the phones sign in with their accounts' tokens. It
	// logs each send at info, which the drill's logs are read for.
	s.web = &proc{name: "web", args: []string{filepath.Join(bin, "starter"), "serve", "--addr", addrs[1]}, logFile: filepath.Join(s.dir, "web.log"),
		env:    append(append([]string(nil), env...), web.EnvUsers+"=", "TEMPORAL_UI=", "LOG_LEVEL=info"),
		health: "http://" + addrs[1] + "/healthz"}
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

// webURL is the web process's base URL.
func (s *stack) webURL() string { return "http://" + s.web.args[len(s.web.args)-1] }

// start starts the program and supervises it.
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping {
		return nil
	}
	log, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "=== %s started %s\n", p.name, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = p.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start the %s: %w", p.name, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited, p.killed = cmd, exited, false
	p.starts++
	go func() {
		_ = cmd.Wait()
		log.Close()
		close(exited)
		p.mu.Lock()
		again := p.cmd == cmd && !p.killed && !p.stopping
		if again {
			p.restarts++
		}
		p.mu.Unlock()
		if again {
			time.Sleep(time.Second)
			if err := p.start(); err != nil {
				fmt.Fprintf(os.Stderr, "drill: restart the %s: %v\n", p.name, err)
			}
		}
	}()
	return nil
}

// kill kills the program with SIGKILL and starts it again.
func (p *proc) kill() error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.killed = true
	p.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("the %s did not die of SIGKILL within 10 s", p.name)
		}
	}
	return p.start()
}

// counts are the processes started, and those restarted after exiting by themselves.
func (p *proc) counts() (starts, restarts int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts, p.restarts
}

// waitHealthy waits until the program's health URL answers 200.
func (p *proc) waitHealthy(ctx context.Context, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.health, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the %s is not healthy after %s (see %s)", p.name, within, p.logFile)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop ends the program with SIGTERM (SIGKILL after 15 s).
func (p *proc) stop() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.stopping = true
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
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

// stop ends the web process, the worker, the dev server and PostgreSQL (their data stays in dir).
func (s *stack) stop() {
	var wg sync.WaitGroup
	for _, p := range []*proc{s.web, s.worker} {
		wg.Add(1)
		go func() { defer wg.Done(); p.stop() }()
	}
	wg.Wait()
	if s.tmp != nil {
		_ = s.tmp.Stop()
	}
	if s.pgDir != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = devstack.StopPostgresDir(ctx, s.pgDir)
	}
}
