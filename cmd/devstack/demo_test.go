package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"drives/internal/devstack"
)

// A demo whose PostgreSQL cannot start (its data folder is a file) stops the Temporal dev
// server it had started and says what to do; a dev server that ran before is left running.
func TestFailedDemoStopsWhatItStarted(t *testing.T) {
	cli := os.Getenv("TEMPORAL_CLI")
	if cli == "" {
		cli = "../../.tools/bin/temporal"
	}
	cli, _ = filepath.Abs(cli)
	if _, err := os.Stat(cli); err != nil {
		t.Skipf("no Temporal CLI at %s (make tools)", cli)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("go.mod", []byte("module demo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port, _ := devstack.FreePort()
	uiPort, _ := devstack.FreePort()
	for k, v := range map[string]string{"TEMPORAL_CLI": cli, "TEMPORAL_PORT": strconv.Itoa(port),
		"TEMPORAL_UI_PORT": strconv.Itoa(uiPort), "DATABASE_URL": "", "DRIVES_CODEC_KEYS": "", "PGPORT": ""} {
		t.Setenv(k, v)
	}
	if err := os.MkdirAll(devDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The failure on purpose: PostgreSQL's data folder is a file.
	if err := os.WriteFile(pgDataDir, []byte("not a folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		if st, _ := loadState(); st != nil && st.Temporal != nil {
			_ = devstack.StopPID(st.Temporal.PID)
		}
		for _, pid := range devstack.FindProcesses("start-dev", devstack.AbsPath(temporalDB)) {
			_ = devstack.StopPID(pid)
		}
	})

	err := demo(ctx)
	if err == nil {
		t.Fatal("demo succeeded with a file for PostgreSQL's data folder")
	}
	msg := err.Error()
	t.Logf("demo failed as it should:\n%s", msg)
	for _, want := range []string{"PostgreSQL did not start", "What to do", pgDataDir, "Stopped what this run had started", "Temporal dev server"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
	if pids := devstack.FindProcesses("start-dev", devstack.AbsPath(temporalDB)); len(pids) > 0 {
		t.Errorf("the Temporal dev server the demo started still runs: %v", pids)
	}

	// Now a dev server runs before the demo: the failed demo leaves it running.
	l, err := upStack(ctx)
	if err == nil || l.temporalPID == 0 {
		t.Fatalf("up: started Temporal %d, err %v; want it started and PostgreSQL failing", l.temporalPID, err)
	}
	before := l.temporalPID
	err = demo(ctx)
	if err == nil {
		t.Fatal("second demo succeeded")
	}
	if strings.Contains(err.Error(), "Temporal dev server") {
		t.Errorf("the second demo says it stopped the dev server it reused:\n%v", err)
	}
	if !devstack.ProcessMatches(before, "start-dev") {
		t.Errorf("the dev server that ran before the demo (pid %d) was stopped", before)
	}
}
