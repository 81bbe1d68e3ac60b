package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// SystemNamespace is the namespace every Temporal server has from its first start; waiting
// for it to be described tells that the frontend serves.
const SystemNamespace = "temporal-system"

// ServerOptions says how to run a Temporal server built from go.temporal.io/server
// (`temporal-server start`), as opposed to the CLI's dev server.
type ServerOptions struct {
	// Binary is the server executable (go.temporal.io/server/cmd/server).
	Binary string
	// Root is the directory whose config/ holds development.yaml (and what it refers to).
	Root string
	// Address is the frontend's host:port, as the configuration sets it.
	Address string
	// LogFile receives the server's output. "" discards it.
	LogFile string
	// Ready is how long to wait for the frontend. 0 means 2 minutes.
	Ready time.Duration
}

// StartServer runs `temporal-server start` detached (its own session, output to LogFile),
// so that it outlives the calling process, and waits until its frontend answers health
// checks and describes the system namespace. It returns the server's process ID. If the
// server does not come up, it is stopped and the error carries the end of its log.
func StartServer(ctx context.Context, opts ServerOptions) (int, error) {
	if opts.Binary == "" || opts.Root == "" || opts.Address == "" {
		return 0, errors.New("start temporal server: binary, root and address are all needed")
	}
	bin, err := filepath.Abs(opts.Binary)
	if err != nil {
		return 0, fmt.Errorf("start temporal server: %w", err)
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		return 0, fmt.Errorf("start temporal server: no server binary at %s: run `make temporal-server-tools`", bin)
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return 0, fmt.Errorf("start temporal server: %w", err)
	}
	logFile := ""
	var out *os.File
	if opts.LogFile != "" {
		if logFile, err = filepath.Abs(opts.LogFile); err != nil {
			return 0, fmt.Errorf("start temporal server: %w", err)
		}
		out, err = os.OpenFile(logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	} else {
		out, err = os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	if err != nil {
		return 0, fmt.Errorf("start temporal server: open log: %w", err)
	}
	defer out.Close()

	cmd := exec.Command(bin, "--root", root, "--config", "config", "--env", "development", "--allow-no-auth", "start")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = serverProcessEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start temporal server: %w", err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	ready := opts.Ready
	if ready == 0 {
		ready = 2 * time.Minute
	}
	wctx, cancel := context.WithTimeout(ctx, ready)
	defer cancel()
	if err := waitTemporal(wctx, opts.Address, SystemNamespace, exited); err != nil {
		_ = StopPID(pid)
		return 0, withLog(fmt.Errorf("start temporal server on %s: %w", opts.Address, err), logFile)
	}
	return pid, nil
}

// serverProcessEnv is the environment for the server: ours, less the variables through which
// the server would read another configuration (TEMPORAL_ROOT, TEMPORAL_CONFIG_DIR,
// TEMPORAL_ENVIRONMENT…) and the client settings, which it does not need.
func serverProcessEnv() []string { return cliEnv() }
