package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

// Commands are the subcommands of a stack's command line (up, down, status…).
type Commands map[string]func(context.Context) error

// Main runs the subcommand named by the only argument, or prints usage and exits 2. name
// prefixes its messages; a failed subcommand exits 1.
func Main(name string, cmds Commands, usage func()) {
	if len(os.Args) != 2 {
		usage()
		os.Exit(2)
	}
	run, ok := cmds[os.Args[1]]
	if !ok {
		if a := os.Args[1]; a != "-h" && a != "--help" && a != "help" {
			fmt.Fprintf(os.Stderr, "%s: unknown command %q\n", name, a)
		}
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "%s %s: %v\n", name, os.Args[1], err)
		stop()
		os.Exit(1)
	}
}

// Locked runs f while it holds the lock file lockFile (in dir, which it creates), so that two
// commands of the same stack never start or stop it at once; name says who waits. dir is made
// traversable, since PostgreSQL, run as the postgres user when we are root, must reach data in it.
func Locked(name, dir, lockFile string, f func() error) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for d := dir; d != "." && d != "/" && d != ""; d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755)
	}
	lf, err := os.OpenFile(lockFile, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fmt.Printf("waiting for another %s command to finish…\n", name)
		if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
			return err
		}
	}
	return f()
}

// ShellQuote quotes s for a POSIX shell (an env file's values).
func ShellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// EnvOr is the environment variable name, or def when it is unset or empty.
func EnvOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// AbsPath is p made absolute, or p when that fails.
func AbsPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// ReadState reads a stack's JSON state file into v; it reports false, and leaves v, when there
// is none.
func ReadState(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s is damaged (%v): stop what it started by hand and remove it", path, err)
	}
	return true, nil
}

// WriteState writes a stack's JSON state file, readable by its owner only, in one rename.
func WriteState(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
