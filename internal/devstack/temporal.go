package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"drives/campaign"
)

// RetentionDays is how long the dev server keeps closed workflows: auditors must be able to
// look back over a whole drive year, so more than a year.
const RetentionDays = 400

// SearchAttributes are the custom search attributes every server of the drives must know.
func SearchAttributes() []temporal.SearchAttributeKey {
	return []temporal.SearchAttributeKey{campaign.SearchCampaignID, campaign.SearchUnitCode, campaign.SearchPeriod}
}

// SearchAttributeArgs are the Temporal CLI flags that register SearchAttributes on a dev
// server: --search-attribute Name=Type for each.
func SearchAttributeArgs() []string {
	var args []string
	for _, k := range SearchAttributes() {
		args = append(args, "--search-attribute", k.GetName()+"="+k.GetValueType().String())
	}
	return args
}

// TemporalOptions says how to run the Temporal dev server.
type TemporalOptions struct {
	// CLIPath is the pinned Temporal CLI executable.
	CLIPath string
	// IP to bind the frontend and the Web UI to. "" means 127.0.0.1.
	IP string
	// Port of the frontend (gRPC), UIPort of the Web UI, HTTPPort of the frontend's HTTP
	// API, MetricsPort of the /metrics endpoint. 0 picks one (FreePort): every port the
	// server listens on for clients is chosen here rather than by the CLI, and a start that
	// loses a chosen port to another program is tried again on new ones.
	Port, UIPort, HTTPPort, MetricsPort int
	// Headless runs no Web UI (UIPort is then unused).
	Headless bool
	// SkipRetention leaves the namespace's retention at the CLI's default (tests).
	SkipRetention bool
	// ExtraArgs are further flags for `temporal server start-dev`.
	ExtraArgs []string
	// DBFile is the SQLite file that keeps the server's state across restarts. "" keeps it
	// in memory only.
	DBFile string
	// Namespace is created at start. "" means "default".
	Namespace string
	// LogFile receives the server's output (JSON lines, level warn). "" discards it.
	LogFile string
	// UICodecEndpoint is the codec server the Web UI asks to decode payloads
	// (--ui-codec-endpoint). "" sets none.
	UICodecEndpoint string
}

// Temporal is a running dev server, started detached from the calling process.
type Temporal struct {
	pid                                 int
	ip                                  string
	port, uiPort, httpPort, metricsPort int
	namespace                           string
	logFile                             string
	warnings                            []string
}

// PID is the server's process ID.
func (t *Temporal) PID() int { return t.pid }

// Address is the frontend's host:port, for clients and workers.
func (t *Temporal) Address() string { return net.JoinHostPort(t.ip, strconv.Itoa(t.port)) }

// UIAddress is the Web UI's URL ("" when headless).
func (t *Temporal) UIAddress() string {
	if t.uiPort == 0 {
		return ""
	}
	return "http://" + net.JoinHostPort(t.ip, strconv.Itoa(t.uiPort))
}

// Port, UIPort, HTTPPort and MetricsPort are the frontend's (gRPC), the Web UI's (0 when
// headless), the HTTP API's and the metrics endpoint's ports.
func (t *Temporal) Port() int        { return t.port }
func (t *Temporal) UIPort() int      { return t.uiPort }
func (t *Temporal) HTTPPort() int    { return t.httpPort }
func (t *Temporal) MetricsPort() int { return t.metricsPort }

// Namespace is the namespace created at start.
func (t *Temporal) Namespace() string { return t.namespace }

// LogFile is where the server's output goes ("" if discarded).
func (t *Temporal) LogFile() string { return t.logFile }

// Warnings are the problems that did not stop the server from serving, such as a refused
// retention update.
func (t *Temporal) Warnings() []string { return t.warnings }

// Stop terminates the server (see StopPID).
func (t *Temporal) Stop() error { return StopPID(t.pid) }

// StartTemporal runs `temporal server start-dev` detached (its own session, output to
// LogFile), so that it outlives the calling process, with the drives' search attributes
// registered; waits up to 60 s until the frontend is healthy and the namespace can be
// described; then sets the namespace's retention to RetentionDays days. If the retention
// cannot be set, the server still runs and Warnings says why. If the server does not come
// up, it is stopped and the error carries the end of its log; if it did not come up because
// a port was taken before it could bind it, it is started again on new ports (those of
// opts that are 0), up to startAttempts times in all.
func StartTemporal(ctx context.Context, opts TemporalOptions) (*Temporal, error) {
	if opts.CLIPath == "" {
		return nil, errors.New("start temporal: no Temporal CLI path given")
	}
	cli, err := filepath.Abs(opts.CLIPath)
	if err != nil {
		return nil, fmt.Errorf("start temporal: %w", err)
	}
	if st, err := os.Stat(cli); err != nil || st.IsDir() {
		return nil, fmt.Errorf("start temporal: Temporal CLI not found at %s: run `make tools` to build it", cli)
	}
	var logFile string
	if opts.LogFile != "" {
		if logFile, err = filepath.Abs(opts.LogFile); err != nil {
			return nil, fmt.Errorf("start temporal: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
			return nil, fmt.Errorf("start temporal: %w", err)
		}
	}
	var t *Temporal
	for attempt := 1; ; attempt++ {
		var lost bool
		t, lost, err = startTemporal(ctx, cli, logFile, opts)
		if err == nil {
			break
		}
		if !lost || attempt == startAttempts {
			return nil, err
		}
	}
	if !opts.SkipRetention {
		if err := setRetention(ctx, cli, t.Address(), t.namespace); err != nil {
			t.warnings = append(t.warnings, err.Error())
		}
	}
	return t, nil
}

// startTemporal is one try of StartTemporal; lost says that it failed because a port it
// chose was taken before the server could bind it.
func startTemporal(ctx context.Context, cli, logFile string, opts TemporalOptions) (t *Temporal, lost bool, err error) {
	t = &Temporal{ip: opts.IP, port: opts.Port, uiPort: opts.UIPort, httpPort: opts.HTTPPort,
		metricsPort: opts.MetricsPort, namespace: opts.Namespace, logFile: logFile}
	if t.ip == "" {
		t.ip = "127.0.0.1"
	}
	if t.namespace == "" {
		t.namespace = "default"
	}
	if opts.Headless {
		t.uiPort = 0
	}
	ports := []*int{&t.port, &t.httpPort, &t.metricsPort}
	if !opts.Headless {
		ports = append(ports, &t.uiPort)
	}
	var chosen []int
	for _, p := range ports {
		if *p == 0 {
			if *p, err = FreePort(); err != nil {
				return nil, false, err
			}
			chosen = append(chosen, *p)
		} else if !PortFree(t.ip, *p) {
			return nil, false, fmt.Errorf("start temporal: port %d on %s is already in use", *p, t.ip)
		}
	}
	if portsChosen != nil && len(chosen) > 0 {
		portsChosen(chosen)
	}

	args := []string{"server", "start-dev",
		"--ip", t.ip, "--port", strconv.Itoa(t.port),
		"--http-port", strconv.Itoa(t.httpPort), "--metrics-port", strconv.Itoa(t.metricsPort),
		"--namespace", t.namespace,
		"--log-format", "json", "--log-level", "warn"}
	if opts.Headless {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", strconv.Itoa(t.uiPort))
	}
	if opts.DBFile != "" {
		db, err := filepath.Abs(opts.DBFile)
		if err != nil {
			return nil, false, fmt.Errorf("start temporal: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(db), 0o755); err != nil {
			return nil, false, fmt.Errorf("start temporal: %w", err)
		}
		args = append(args, "--db-filename", db)
	}
	if opts.UICodecEndpoint != "" && !opts.Headless {
		args = append(args, "--ui-codec-endpoint", opts.UICodecEndpoint)
	}
	args = append(args, SearchAttributeArgs()...)
	args = append(args, opts.ExtraArgs...)

	// The output goes to the log file, or else to a temporary one that only serves to tell
	// why a start failed (not a pipe: the server outlives us).
	outFile := logFile
	if outFile == "" {
		tmp, err := os.CreateTemp("", "temporal-start-*.log")
		if err != nil {
			return nil, false, fmt.Errorf("start temporal: %w", err)
		}
		outFile = tmp.Name()
		_ = tmp.Close()
		defer os.Remove(outFile)
	}
	logged := fileSize(outFile)
	out, err := os.OpenFile(outFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("start temporal: open log: %w", err)
	}
	defer out.Close()

	cmd := exec.Command(cli, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = cliEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, false, fmt.Errorf("start temporal: %w", err)
	}
	t.pid = cmd.Process.Pid
	// Reap the server if it exits while we live, so that an early death is noticed; this
	// does not tie the server to us: it runs in its own session and outlives us.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := waitTemporal(wctx, t.Address(), t.namespace, exited); err != nil {
		_ = StopPID(t.pid)
		output := newOutput(outFile, logged)
		err = fmt.Errorf("start temporal on %s: %w", t.Address(), err)
		if logFile != "" {
			err = withLog(err, logFile)
		} else if output != "" {
			err = fmt.Errorf("%w\n--- its output ---\n%s", err, strings.TrimSpace(output))
		}
		return nil, portRaceLost(output), err
	}
	return t, false, nil
}

// WaitTemporal waits until the frontend at address answers health checks and namespace can
// be described, or ctx ends.
func WaitTemporal(ctx context.Context, address, namespace string) error {
	return waitTemporal(ctx, address, namespace, nil)
}

func waitTemporal(ctx context.Context, address, namespace string, exited <-chan error) error {
	var last error
	for {
		if last = pingTemporal(ctx, address, namespace); last == nil {
			return nil
		}
		select {
		case err := <-exited:
			if err == nil {
				err = errors.New("exit status 0")
			}
			return fmt.Errorf("server exited before it was ready: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("not ready (%w); last error: %v", ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func pingTemporal(ctx context.Context, address, namespace string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	opts := client.Options{HostPort: address, Namespace: namespace, Logger: QuietLogger()}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return err
	}
	nc, err := client.NewNamespaceClient(opts)
	if err != nil {
		return err
	}
	defer nc.Close()
	_, err = nc.Describe(ctx, namespace)
	return err
}

// NamespaceRetention returns the retention of namespace on the server at address.
func NamespaceRetention(ctx context.Context, address, namespace string) (time.Duration, error) {
	nc, err := client.NewNamespaceClient(client.Options{HostPort: address, Namespace: namespace, Logger: QuietLogger()})
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	resp, err := nc.Describe(ctx, namespace)
	if err != nil {
		return 0, err
	}
	return resp.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration(), nil
}

// setRetention sets the namespace's retention to RetentionDays with the CLI.
func setRetention(ctx context.Context, cli, address, namespace string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "operator", "namespace", "update",
		"--namespace", namespace, "--retention", fmt.Sprintf("%dd", RetentionDays), "--address", address)
	cmd.Env = cliEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("could not set the retention of namespace %s to %d days: %v: %s",
			namespace, RetentionDays, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// cliEnv is the environment for the Temporal CLI: ours, less the TEMPORAL_* client settings
// (address, namespace, TLS, API key, profile…) that would point it elsewhere.
func cliEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TEMPORAL_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// QuietLogger is a Temporal SDK logger that only reports errors, for short-lived clients
// that would otherwise log every connection at level INFO.
func QuietLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
}
