// Package devstack starts the local services the drives need for development, demos and tests:
// a private PostgreSQL cluster made from the machine's own PostgreSQL binaries, and the
// Temporal dev server of the pinned Temporal CLI. Both are started detached, so they outlive
// the process that started them, and are stopped again by data directory or process ID.
package devstack

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on right now.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
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
