package main

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"drives/internal/devstack"
)

func TestMissingKeys(t *testing.T) {
	for _, c := range []struct {
		running, want string
		missing       []string
	}{
		{"none", "k1", nil},            // keys given to a running demo: restart
		{"k1", "k1,k2", nil},           // a key appended: restart
		{"k1", "k2,k1", nil},           // a key prepended: restart
		{"k1", "none", []string{"k1"}}, // keys taken away: refuse
		{"k1,k2", "k2", []string{"k1"}},
	} {
		if got := missingKeys(c.running, c.want); !reflect.DeepEqual(got, c.missing) {
			t.Errorf("missingKeys(%q, %q) = %v; want %v", c.running, c.want, got, c.missing)
		}
	}
}

// make demo with DRIVES_CODEC_KEYS on a stack whose worker runs without them stops that worker
// to start one with them (it stood at "running worker has codec keys: none"); a worker whose
// key DRIVES_CODEC_KEYS lacks is left running, and the error says what to do.
func TestWorkerRestartsWithNewKeys(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.Mkdir(".dev", 0o755); err != nil {
		t.Fatal(err)
	}
	fake := func(keys string) *exec.Cmd {
		cmd := exec.Command("sh", "-c", "sleep 300; :", "worker")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		t.Cleanup(func() { _ = cmd.Process.Kill(); <-done })
		for i := 0; !devstack.ProcessMatches(cmd.Process.Pid, "worker"); i++ {
			if i > 100 {
				t.Fatal("the fake worker did not start")
			}
			time.Sleep(10 * time.Millisecond)
		}
		_ = os.WriteFile(workerPIDFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
		_ = os.WriteFile(workerCodecFile, []byte(keys+"\n"), 0o644)
		return cmd
	}
	s := &stack{l: &launched{pids: map[string]int{}}, env: os.Environ()}
	ctx := context.Background()

	// A key taken away: refused, the worker kept.
	w := fake("k1")
	t.Setenv("DRIVES_CODEC_KEYS", "")
	err := s.startWorker(ctx)
	if err == nil || !strings.Contains(err.Error(), "Put k1 back in DRIVES_CODEC_KEYS") {
		t.Fatalf("error %v; want it to ask for k1", err)
	}
	if !devstack.ProcessMatches(w.Process.Pid, "worker") {
		t.Fatal("the worker with k1 was stopped")
	}
	_ = w.Process.Kill()

	// Keys given: the keyless worker is stopped to start again (the build of bin/worker fails
	// here, in a folder without the code, after it).
	w = fake("none")
	t.Setenv("DRIVES_CODEC_KEYS", "k1:AAAA")
	err = s.startWorker(ctx)
	for i := 0; devstack.ProcessMatches(w.Process.Pid, "worker"); i++ {
		if i > 200 {
			t.Fatalf("the worker without keys still runs (startWorker: %v)", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil && strings.Contains(err.Error(), "codec keys") {
		t.Fatalf("error %v; want the worker restarted", err)
	}
}
