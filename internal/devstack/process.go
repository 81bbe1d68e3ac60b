// Package devstack starts the local services the drives need for development, demos and tests:
// a private PostgreSQL cluster made from the machine's own PostgreSQL binaries, and the
// Temporal dev server of the pinned Temporal CLI. Both are started detached, so they outlive
// the process that started them, and are stopped again by data directory or process ID.
package devstack

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 for a server to listen on. Nothing listens there
// now; it lies between 10000 and 20000, below the system's ephemeral range, so
// that neither the ports the kernel hands out itself (bind to port 0, outgoing connections)
// nor those the Temporal CLI picks for the ports it is not told take it in the meantime; and
// no other call of FreePort on this machine (by this user, in this or another process) gets
// it while this process lives: each port handed out is held with a lock on a file of its own
// in a directory under os.TempDir(). A server can still lose it to some other program before
// it binds it: StartPostgres and StartTemporal retry such a start on new ports.
func FreePort() (int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("drives-ports-%d", os.Geteuid()))
	lockable := os.MkdirAll(dir, 0o700) == nil
	n := portRangeHigh - portRangeLow
	start := rand.IntN(n)
	for i := range n {
		p := portRangeLow + (start+i)%n
		if portsGiven[p] || !PortFree("127.0.0.1", p) {
			continue
		}
		if lockable {
			f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(p)), os.O_CREATE|os.O_RDWR, 0o600)
			if err != nil {
				lockable = false // an unusable directory: no coordination between processes
			} else if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
				_ = f.Close() // another process holds it
				continue
			} else if !PortFree("127.0.0.1", p) {
				_ = f.Close() // taken by a server of a process that let go of its lock
				continue
			} else {
				portLocks = append(portLocks, f) // held, open, until the process ends
			}
		}
		portsGiven[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("find a free port: none between %d and %d on 127.0.0.1", portRangeLow, portRangeHigh)
}

// portRangeLow and portRangeHigh bound the ports FreePort gives (the high one excluded):
// cmd/temporal-pg takes its ports between 20000 and 32000, the ephemeral range usually
// begins at 32768. Tests narrow them.
var portRangeLow, portRangeHigh = 10000, 20000

var (
	// portsChosen, when set (by tests), is called with the ports StartPostgres or
	// StartTemporal chose, before the server is started on them.
	portsChosen func(ports []int)

	portMu     sync.Mutex
	portsGiven = map[int]bool{}
	portLocks  []*os.File
)

// portRaceLost reports whether a server's output says that it could not bind a port that
// something else took: a start that lost such a race is worth another try on new ports.
func portRaceLost(output string) bool {
	o := strings.ToLower(output)
	return strings.Contains(o, "address already in use")
}

// newOutput is what a log file holds beyond offset (the last 4000 bytes of it at most).
func newOutput(logFile string, offset int64) string {
	f, err := os.Open(logFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() <= offset {
		return ""
	}
	if st.Size()-offset > 4000 {
		offset = st.Size() - 4000
	}
	b := make([]byte, st.Size()-offset)
	n, _ := f.ReadAt(b, offset)
	return string(b[:n])
}

// fileSize is the size of a file, 0 if it cannot be read.
func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// PortFree reports whether ip:port can be bound now, i.e. nothing else listens there.
func PortFree(ip string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// PIDAlive reports whether a process with this ID exists and is not a zombie.
func PIDAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	// A child that exited but was not reaped yet still answers kill(0); /proc tells.
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
			if st := s[i+2]; st == 'Z' || st == 'X' {
				return false
			}
		}
	}
	return true
}

// ProcessCommand returns the command line of a running process, arguments separated by
// spaces ("" if the process does not exist or cannot be read).
func ProcessCommand(pid int) string {
	if pid <= 0 {
		return ""
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	}
	// No /proc (macOS): ask ps.
	out, err := exec.Command("ps", "-p", strconv.Itoa(pid), "-o", "command=").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// ProcessMatches reports whether pid is alive and its command line contains every one of
// words: a guard against signalling an unrelated process that reused a recorded PID.
func ProcessMatches(pid int, words ...string) bool {
	if !PIDAlive(pid) {
		return false
	}
	cmd := ProcessCommand(pid)
	if cmd == "" {
		return false
	}
	for _, w := range words {
		if !strings.Contains(cmd, w) {
			return false
		}
	}
	return true
}

// FindProcesses lists the live processes, other than this one, whose command line contains
// every one of words (from /proc: on systems without it, none are found).
func FindProcesses(words ...string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if ProcessMatches(pid, words...) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// StopPID asks the process to terminate (SIGTERM), waits up to 10 s for it to go, then kills
// it (SIGKILL). A process that is already gone is not an error.
func StopPID(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("stop process: invalid pid %d", pid)
	}
	if !PIDAlive(pid) {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return fmt.Errorf("stop process %d: %w", pid, err)
	}
	if waitGone(pid, 10*time.Second) {
		return nil
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill process %d: %w", pid, err)
	}
	if waitGone(pid, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("process %d is still alive after SIGTERM and SIGKILL", pid)
}

func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if !PIDAlive(pid) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tail returns the last n bytes of a file, for error messages ("" if unreadable).
func tail(path string, n int64) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := st.Size() - n
	if off < 0 {
		off = 0
	}
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return ""
	}
	return strings.TrimSpace(string(buf))
}

// withLog appends the tail of a log file to an error message, when there is one.
func withLog(err error, logFile string) error {
	if t := tail(logFile, 2000); t != "" {
		return fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, logFile, t)
	}
	return err
}

// startAttempts is how often StartPostgres and StartTemporal try to start a server whose
// ports they choose, when a start loses a port to another program (see FreePort).
const startAttempts = 4
