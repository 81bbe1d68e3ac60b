package devstack

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The helper process of TestFreePortIsNotGivenToAnotherProcess: FreePort in the range of
// DEVSTACK_TEST_PORTS ("low high"), as many times as it gives one, the ports on stdout.
func TestMain(m *testing.M) {
	if r := os.Getenv("DEVSTACK_TEST_PORTS"); r != "" {
		if _, err := fmt.Sscan(r, &portRangeLow, &portRangeHigh); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		for {
			p, err := FreePort()
			if err != nil {
				os.Exit(0)
			}
			fmt.Println(p)
		}
	}
	os.Exit(m.Run())
}

func TestFreePort(t *testing.T) {
	seen := map[int]bool{}
	for range 20 {
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if p < 10000 || p >= 20000 || !PortFree("127.0.0.1", p) {
			t.Fatalf("FreePort gave %d: want a free port between 10000 and 20000", p)
		}
		if seen[p] {
			t.Fatalf("FreePort gave %d twice", p)
		}
		seen[p] = true
	}
}

// withPortRange narrows FreePort to n consecutive free ports for the test.
func withPortRange(t *testing.T, n int) (low, high int) {
	t.Helper()
	portMu.Lock()
	defer portMu.Unlock()
	for low = 19000; low+n <= 20000; low++ {
		free := true
		for p := low; p < low+n && free; p++ {
			free = !portsGiven[p] && PortFree("127.0.0.1", p)
		}
		if free {
			break
		}
	}
	oldLow, oldHigh := portRangeLow, portRangeHigh
	portRangeLow, portRangeHigh = low, low+n
	t.Cleanup(func() {
		portMu.Lock()
		defer portMu.Unlock()
		portRangeLow, portRangeHigh = oldLow, oldHigh
	})
	return low, low + n
}

// Two processes (test binaries run in parallel by go test ./...) never get the same port.
// Shown failing by taking out the lock (the Flock call in FreePort): the other process then
// gets ports this one holds.
func TestFreePortIsNotGivenToAnotherProcess(t *testing.T) {
	low, high := withPortRange(t, 20)
	mine := map[int]bool{}
	for range 10 {
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		mine[p] = true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("DEVSTACK_TEST_PORTS=%d %d", low, high))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper process: %v", err)
	}
	var theirs []int
	for _, f := range strings.Fields(string(out)) {
		p, _ := strconv.Atoi(f)
		theirs = append(theirs, p)
		if mine[p] {
			t.Errorf("port %d given to this process and to another", p)
		}
	}
	if len(theirs) != 10 {
		t.Errorf("the other process got %v, want the 10 ports of %d..%d this one does not hold", theirs, low, high-1)
	}
}

// occupyFirst returns a portsChosen hook that, on the first start only, binds the port at
// index i of the chosen ones before the server can: another program winning the race.
func occupyFirst(t *testing.T, i int) (hook func([]int), taken func() int) {
	var mu sync.Mutex
	var port int
	hook = func(ports []int) {
		mu.Lock()
		defer mu.Unlock()
		if port != 0 {
			return
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[i])))
		if err != nil {
			t.Errorf("occupy port %d: %v", ports[i], err)
			return
		}
		t.Cleanup(func() { _ = l.Close() })
		port = ports[i]
	}
	return hook, func() int { mu.Lock(); defer mu.Unlock(); return port }
}

// A PostgreSQL start whose port is taken between its choice and the server's bind is
// retried on another port. Shown failing by returning the first failure (startAttempts = 1).
func TestPostgresStartRetriesALostPort(t *testing.T) {
	hook, taken := occupyFirst(t, 0)
	portsChosen = hook
	t.Cleanup(func() { portsChosen = nil })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(reachableTempDir(t), "pgdata")
	pg, err := StartPostgres(ctx, PostgresOptions{Dir: dir, Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = StopPostgresDir(context.Background(), dir) })
	if taken() == 0 || pg.Port() == taken() {
		t.Fatalf("server on port %d, the occupied port %d", pg.Port(), taken())
	}
	execSQL(t, ctx, pg.URL(), "SELECT 1")
}

// A dev server start whose HTTP API port (that of the failure seen in CI) is taken before the
// server binds it is retried on new ports, and every port it listens on for clients is one
// chosen here. Shown failing by returning the first failure (startAttempts = 1), and by
// leaving --http-port out of the CLI's arguments.
func TestTemporalStartRetriesALostPort(t *testing.T) {
	cli := os.Getenv("TEMPORAL_CLI")
	if cli == "" {
		cli = filepath.Join("..", "..", ".tools", "bin", "temporal")
	}
	hook, taken := occupyFirst(t, 1) // port, HTTP port, metrics port
	portsChosen = hook
	t.Cleanup(func() { portsChosen = nil })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tmp, err := StartTemporal(ctx, TemporalOptions{
		CLIPath: cli, Namespace: "devstack-ports", Headless: true, SkipRetention: true,
		LogFile: filepath.Join(t.TempDir(), "temporal.log"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = StopPID(tmp.PID()) })
	ports := []int{tmp.Port(), tmp.HTTPPort(), tmp.MetricsPort()}
	if taken() == 0 || slices.Contains(ports, taken()) {
		t.Fatalf("server on ports %v, one the occupied port %d", ports, taken())
	}
	cmd := ProcessCommand(tmp.PID())
	for _, want := range []string{
		"--port " + strconv.Itoa(tmp.Port()), "--http-port " + strconv.Itoa(tmp.HTTPPort()),
		"--metrics-port " + strconv.Itoa(tmp.MetricsPort()), "--headless",
	} {
		if !strings.Contains(cmd, want) {
			t.Errorf("dev server runs as %q: no %q", cmd, want)
		}
	}
	for _, p := range ports {
		if PortFree("127.0.0.1", p) {
			t.Errorf("nothing listens on port %d of the dev server", p)
		}
	}
}
