package devstack

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Detached describes a program started in the background: its own session (setsid), stdin
// from /dev/null, output appended to LogFile, its PID in PIDFile.
type Detached struct {
	Name    string   // for messages: "worker", "web"…
	Args    []string // program and arguments
	Env     []string // the whole environment
	LogFile string
	PIDFile string
	// Settle is how long it must stay up after start to count as started.
	Settle time.Duration
	// TailLines of the log are shown when it exits right after start.
	TailLines int
}

// StartDetached starts d, records its PID, and waits d.Settle: a program that exits within
// that time is an error that shows the end of its log, and its PID file is removed.
func StartDetached(d Detached) (int, error) {
	logf, err := os.OpenFile(d.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== %s started %s\n", d.Name, time.Now().UTC().Format(time.RFC3339))
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 0, err
	}
	defer devnull.Close()
	cmd := exec.Command(d.Args[0], d.Args[1:]...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = d.Env, devnull, logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("%s: start %s: %w", d.Name, d.Args[0], err)
	}
	pid := cmd.Process.Pid
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	if err := os.WriteFile(d.PIDFile, []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		_ = StopPID(pid)
		return 0, err
	}
	select {
	case <-exited:
		_ = os.Remove(d.PIDFile)
		return 0, fmt.Errorf("%s: exited right after start; end of %s:\n%s", d.Name, d.LogFile, TailLines(d.LogFile, d.TailLines))
	case <-time.After(d.Settle):
	}
	return pid, nil
}

// TailLines is the last n lines of a file ("" if unreadable).
func TailLines(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// EnvWithFile is the process environment with the exports and unsets of an env file written
// by devstack up (`export K='v'`, `unset K`) applied, as `. .dev/env` would.
func EnvWithFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w (run `make up` first)", err)
	}
	defer f.Close()
	env := map[string]string{}
	var order []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if _, seen := env[k]; !seen {
			order = append(order, k)
		}
		env[k] = v
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "export "):
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			if !ok {
				continue
			}
			if _, seen := env[k]; !seen {
				order = append(order, k)
			}
			env[k] = shellUnquote(v)
		case strings.HasPrefix(line, "unset "):
			delete(env, strings.TrimSpace(strings.TrimPrefix(line, "unset ")))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var out []string
	for _, k := range order {
		if v, ok := env[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return out, nil
}

// shellUnquote undoes ShellQuote.
func shellUnquote(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], `'\''`, "'")
	}
	return s
}

// LookupEnv is the value of name in an environment list.
func LookupEnv(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

// CodecIDs are the key IDs of a DRIVES_CODEC_KEYS value, comma-separated, or "none".
func CodecIDs(keys string) string {
	var ids []string
	for _, k := range strings.Split(keys, ",") {
		id, _, _ := strings.Cut(k, ":")
		if id = strings.Join(strings.Fields(id), ""); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ",")
}

// Run runs a command in the foreground with the given environment, its output on ours.
func Run(ctx context.Context, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env, cmd.Stdin, cmd.Stdout, cmd.Stderr = env, os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(args, " "), err)
	}
	return nil
}
