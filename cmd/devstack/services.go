package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"drives/internal/devstack"
)

const (
	workerCodecFile = ".dev/worker.codec"
	workerLogFile   = ".dev/worker.log"
	webLogFile      = ".dev/web.log"
	webUsersFile    = ".dev/web-users.yaml"
	webPasswords    = ".dev/web-passwords"
	codecTokenFile  = ".dev/codec-token"
	defaultWebAddr  = "127.0.0.1:8080"
)

// stack is one invocation's view: what it started, so that a failure stops exactly that.
type stack struct {
	l   *launched
	env []string // the environment with .dev/env applied
}

// startStack runs up and loads .dev/env.
func startStack(ctx context.Context) (*stack, error) {
	l, err := upStack(ctx)
	s := &stack{l: l}
	if err != nil {
		return s, err
	}
	s.env, err = devstack.EnvWithFile(envFile)
	return s, err
}

func build(ctx context.Context, out, pkg string) error {
	if err := os.MkdirAll("bin", 0o755); err != nil {
		return err
	}
	return devstack.Run(ctx, os.Environ(), "go", "build", "-o", out, pkg)
}

// startWorker starts the worker unless it runs; a running worker is kept if it has the key IDs
// of DRIVES_CODEC_KEYS (.dev/worker.codec), restarted with them if they add keys to its own
// (keys given to a running demo, a key appended to rotate), and otherwise left running with an
// error saying what to do: a worker without a key its workflows' payloads are encrypted with
// cannot carry them on.
func (s *stack) startWorker(ctx context.Context) error {
	ids := devstack.CodecIDs(os.Getenv("DRIVES_CODEC_KEYS"))
	if pid, ok := readPID(workerPIDFile); ok && devstack.ProcessMatches(pid, "worker") {
		running := "none"
		if b, err := os.ReadFile(workerCodecFile); err == nil {
			running = strings.TrimSpace(string(b))
		}
		if running == ids {
			fmt.Printf("worker: already running (pid %d), log %s\n", pid, workerLogFile)
			return nil
		}
		if missing := missingKeys(running, ids); len(missing) > 0 {
			return fmt.Errorf("the running worker (pid %d) has codec keys %s, and DRIVES_CODEC_KEYS has %s: without %s a worker cannot read "+
				"what is encrypted with it, and its workflows would stop.\nPut %s back in DRIVES_CODEC_KEYS (as in the shell that started it) and run again; "+
				"or, to run without it anyway, 'make worker-stop' first",
				pid, running, ids, strings.Join(missing, ", "), strings.Join(missing, ", "))
		}
		if err := devstack.StopPID(pid); err != nil {
			return fmt.Errorf("stop the running worker (pid %d, codec keys %s) to start it with %s: %w", pid, running, ids, err)
		}
		_ = os.Remove(workerPIDFile)
		_ = os.Remove(workerCodecFile)
		fmt.Printf("worker: stopped (pid %d, codec keys %s) to start again with DRIVES_CODEC_KEYS's %s\n", pid, running, ids)
	}
	if err := build(ctx, "bin/worker", "./worker"); err != nil {
		return err
	}
	pid, err := devstack.StartDetached(devstack.Detached{Name: "worker", Args: []string{"bin/worker"}, Env: s.env,
		LogFile: workerLogFile, PIDFile: workerPIDFile, Settle: 2 * time.Second, TailLines: 30})
	if err != nil {
		return err
	}
	s.l.pids["worker"] = pid
	if err := os.WriteFile(workerCodecFile, []byte(ids+"\n"), 0o644); err != nil {
		return err
	}
	fmt.Printf("worker: started (pid %d), log %s\n", pid, workerLogFile)
	return nil
}

// missingKeys are the key IDs of running (a CodecIDs list) that want lacks.
func missingKeys(running, want string) []string {
	have := map[string]bool{}
	for _, id := range strings.Split(want, ",") {
		have[id] = true
	}
	var out []string
	for _, id := range strings.Split(running, ",") {
		if id != "none" && !have[id] {
			out = append(out, id)
		}
	}
	return out
}

// restart stops the process of pidFile if it still is the one (words), so that it starts again
// with the current settings.
func restart(pidFile string, words ...string) error {
	if pid, ok := readPID(pidFile); ok && devstack.ProcessMatches(pid, words...) {
		if err := devstack.StopPID(pid); err != nil {
			return err
		}
	}
	return os.Remove(pidFile)
}

// startCodec (re)starts the codec server for the Web UI when DRIVES_CODEC_KEYS is set.
func (s *stack) startCodec(ctx context.Context) error {
	if os.Getenv("DRIVES_CODEC_KEYS") == "" {
		return nil
	}
	if err := build(ctx, "bin/starter", "./starter"); err != nil {
		return err
	}
	if err := restart(codecPIDFile, "codec-server"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	addr := devstack.EnvOr("DRIVES_CODEC_ADDR", defaultCodecAddr)
	args := []string{"bin/starter", "codec-server", "--addr", addr}
	hint := "DRIVES_CODEC_TOKEN"
	if os.Getenv("DRIVES_CODEC_TOKEN") == "" {
		if fi, err := os.Stat(codecTokenFile); err != nil || fi.Size() == 0 {
			if err := os.WriteFile(codecTokenFile, []byte(randomToken()), 0o600); err != nil {
				return err
			}
		}
		args = append(args, "--token-file", codecTokenFile)
		hint = "the token in " + codecTokenFile
	}
	pid, err := devstack.StartDetached(devstack.Detached{Name: "codec server", Args: args, Env: s.env,
		LogFile: codecLogFile, PIDFile: codecPIDFile, Settle: time.Second, TailLines: 20})
	if err != nil {
		return err
	}
	s.l.pids["codec server"] = pid
	fmt.Printf("codec server: started (pid %d) on http://%s for the Web UI %s, log %s\n", pid, addr, devstack.LookupEnv(s.env, "TEMPORAL_UI"), codecLogFile)
	fmt.Printf("codec server: a browser signs in once at http://%s/login with %s\n", addr, hint)
	return nil
}

// startWeb (re)starts the web page on WEB_ADDR; its users file is made once, with the
// passwords and API tokens of a coordinator and an auditor in .dev/web-passwords.
func (s *stack) startWeb(ctx context.Context) error {
	if err := build(ctx, "bin/starter", "./starter"); err != nil {
		return err
	}
	if fi, err := os.Stat(webUsersFile); err != nil || fi.Size() == 0 {
		_ = os.Remove(webPasswords)
		for _, u := range [][2]string{{"coordinator", "coordinator"}, {"auditor", "auditor"}} {
			var out bytes.Buffer
			cmd := exec.CommandContext(ctx, "bin/starter", "serve", "user", "--users", webUsersFile, "--name", u[0], "--role", u[1])
			cmd.Stdout, cmd.Stderr = &out, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("web: make the user %s: %w", u[0], err)
			}
			vars := passwordVars(out.Bytes())
			if vars[varName(u[0], "TOKEN")] == "" {
				return fmt.Errorf("web: make the user %s: starter serve user printed no password and token", u[0])
			}
			if err := addPasswords(vars); err != nil {
				return err
			}
		}
		_ = os.Chmod(webUsersFile, 0o600)
	} else if b, err := os.ReadFile(webPasswords); err == nil && !bytes.HasPrefix(b, []byte("#")) {
		// A file of an earlier make demo, in sentences: the same sign-ins as variables.
		if err := addPasswords(nil); err != nil {
			return err
		}
	}
	if err := restart(webPIDFile, "serve", "--addr"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	addr := devstack.EnvOr("WEB_ADDR", defaultWebAddr)
	pid, err := devstack.StartDetached(devstack.Detached{Name: "web",
		Args: []string{"bin/starter", "serve", "--addr", addr, "--users", webUsersFile}, Env: s.env,
		LogFile: webLogFile, PIDFile: webPIDFile, Settle: time.Second, TailLines: 20})
	if err != nil {
		return err
	}
	s.l.pids["web"] = pid
	fmt.Printf("web: started (pid %d) on http://%s, log %s\n", pid, addr, webLogFile)
	return nil
}

// stopLaunched stops what this invocation started, newest first, and says so; what it found
// running is left alone.
func stopLaunched(ctx context.Context, l *launched) []string {
	var done []string
	for _, name := range []string{"web", "codec server", "worker"} {
		if pid := l.pids[name]; pid > 0 && devstack.PIDAlive(pid) {
			if err := devstack.StopPID(pid); err == nil {
				done = append(done, fmt.Sprintf("%s (pid %d)", name, pid))
			}
		}
	}
	if l.postgresDir != "" {
		if _, running := devstack.PostgresStatus(l.postgresDir); running && devstack.StopPostgresDir(ctx, l.postgresDir) == nil {
			done = append(done, "PostgreSQL in "+l.postgresDir)
		}
	}
	if pid := l.temporalPID; pid > 0 && devstack.PIDAlive(pid) {
		if err := devstack.StopPID(pid); err == nil {
			done = append(done, fmt.Sprintf("the Temporal dev server (pid %d)", pid))
		}
	}
	if l.temporalPID > 0 || l.postgresDir != "" {
		// state.json would name what is stopped now: up starts it afresh next time.
		if st, err := loadState(); err == nil && st != nil {
			if l.temporalPID > 0 && st.Temporal != nil && st.Temporal.PID == l.temporalPID {
				st.Temporal = nil
			}
			if l.postgresDir != "" {
				st.Postgres = nil
			}
			_ = saveState(st)
		}
	}
	return done
}

// failed stops what s started and adds that to err.
func (s *stack) failed(ctx context.Context, err error) error {
	stopped := stopLaunched(context.WithoutCancel(ctx), s.l)
	if len(stopped) == 0 {
		return err
	}
	return fmt.Errorf("%w\n\nStopped what this run had started: %s (anything already running before was left running).", err, strings.Join(stopped, ", "))
}

func cmdWorkerStart(ctx context.Context) error {
	return withLock(func() error {
		s, err := startStack(ctx)
		if err == nil {
			err = s.startWorker(ctx)
		}
		if err != nil {
			return s.failed(ctx, err)
		}
		return nil
	})
}

func cmdCodecStart(ctx context.Context) error {
	return withLock(func() error {
		s, err := startStack(ctx)
		if err == nil {
			err = s.startCodec(ctx)
		}
		if err != nil {
			return s.failed(ctx, err)
		}
		return nil
	})
}

func cmdWebStart(ctx context.Context) error {
	return withLock(func() error {
		s, err := startStack(ctx)
		if err == nil {
			err = s.startWeb(ctx)
		}
		if err != nil {
			return s.failed(ctx, err)
		}
		return nil
	})
}

func cmdWorkerStop(context.Context) error {
	return withLock(func() error {
		if pid, ok := readPID(workerPIDFile); ok && devstack.ProcessMatches(pid, "worker") {
			if err := devstack.StopPID(pid); err != nil {
				return err
			}
			fmt.Printf("worker: stopped (pid %d)\n", pid)
		} else {
			fmt.Println("worker: not running")
		}
		_ = os.Remove(workerPIDFile)
		_ = os.Remove(workerCodecFile)
		return nil
	})
}

// demo starts everything, runs the demo drive and says where to look. When any of it fails,
// what this run started is stopped again and the error says what to fix.
func demo(ctx context.Context) error {
	var s *stack
	err := withLock(func() error {
		var err error
		s, err = startStack(ctx)
		for _, step := range []func(context.Context) error{s.startWorker, s.startCodec, s.startWeb} {
			if err != nil {
				break
			}
			err = step(ctx)
		}
		return err
	})
	if err == nil {
		plan := devstack.EnvOr("PLAN", "plans/hanoi-2021/plan.yaml")
		sim := devstack.EnvOr("SIM", "plans/hanoi-2021/field-sim.yaml")
		if err = devstack.Run(ctx, s.env, "bin/starter", "demo", "--plan", plan, "--sim", sim); err != nil {
			err = fmt.Errorf("the demo drive failed: %w (its output is above; the worker's log is %s)", err, workerLogFile)
		} else {
			err = s.addDistrictOfficer(ctx)
		}
	}
	if err != nil {
		if s == nil {
			return err
		}
		return s.failed(ctx, err)
	}
	ui, ns := devstack.LookupEnv(s.env, "TEMPORAL_UI"), devstack.LookupEnv(s.env, "TEMPORAL_NAMESPACE")
	web := devstack.EnvOr("WEB_ADDR", defaultWebAddr)
	fmt.Printf("\nTemporal Web UI: %s/namespaces/%s/workflows\n", ui, ns)
	fmt.Printf("Web page: http://%s/campaigns/hanoi-2021 — sign in as 'coordinator' (acts), 'auditor' (reads)\n", web)
	fmt.Printf("or '%s' (Ba Vì's district officer) with the passwords in %s (cat %s; '. %s' sets them as WEB_… variables)\n", demoOfficer, webPasswords, webPasswords, webPasswords)
	if os.Getenv("DRIVES_CODEC_KEYS") != "" {
		addr := devstack.EnvOr("DRIVES_CODEC_ADDR", defaultCodecAddr)
		fmt.Printf("Payloads are encrypted. To read them in the Web UI, sign in at http://%s/login\n", addr)
		fmt.Printf("(token: %s, or your DRIVES_CODEC_TOKEN), then in the UI's Codec Server settings enter\n", codecTokenFile)
		fmt.Printf("http://%s and tick 'Include cross-origin credentials' and 'Use my browser setting'.\n", addr)
	}
	fmt.Println("When done: make stop")
	return nil
}

// demoOfficer is the demo's district officer: Ba Vì (district 271) of the Hà Nội plan.
const demoOfficer = "ba-vi"

// addDistrictOfficer makes the demo's district officer account once (starter users add), its
// one-time password added to .dev/web-passwords; the account is kept in the database after.
func (s *stack) addDistrictOfficer(ctx context.Context) error {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "bin/starter", "users", "add", "--name", demoOfficer, "--role", "district",
		"--district", "271", "--by", "make-demo")
	cmd.Env, cmd.Stdout, cmd.Stderr = s.env, &out, &errOut
	if err := cmd.Run(); err != nil {
		if strings.Contains(errOut.String(), "exists already") {
			return nil
		}
		return fmt.Errorf("the demo's district officer: %w: %s", err, errOut.String())
	}
	vars := passwordVars(out.Bytes())
	if len(vars) == 0 {
		return fmt.Errorf("the demo's district officer: starter users add printed no one-time password")
	}
	return addPasswords(vars)
}
