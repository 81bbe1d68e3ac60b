package bench

import (
	"context"
	"log/slog"
	"os"
	"testing"

	"drives/internal/testenv"
)

// ScratchDir makes a new temporary directory for a run's servers. PostgreSQL runs as the
// postgres user when we are root: it must reach its data, so the directory is world-readable.
func ScratchDir() (string, error) {
	dir, err := os.MkdirTemp("", "drives-bench-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

// StartForTest starts the benchmark's servers and worker for a test (the pinned CLI found by
// testenv), in a scratch directory of its own; both are stopped and removed when it ends.
func StartForTest(t testing.TB, ctx context.Context) *Env {
	t.Helper()
	cli, err := testenv.TemporalCLI()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := ScratchDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := Start(ctx, Options{Dir: dir, TemporalCLI: cli}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	return e
}
