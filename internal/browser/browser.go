// Package browser runs the end-to-end tests of the web page in a real headless Chromium:
// Debian's chromium, driven by playwright-core (installed by npm from web/e2e, with no browser
// download of its own) from a Node.js script. A Go test hands a script its inputs as JSON and
// gets back what the script saw as JSON; the Go test asserts on it. Screenshots go to a test
// artefact folder.
//
// `make browser-deps` (a prerequisite of `make test`) installs what this needs. Where it is
// missing, Require skips the test with the reason, unless the environment variable CI is set:
// CI must run the browser tests, so there a missing browser fails the test.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"drives/internal/testenv"
)

// Environment variables that point the runner elsewhere than its defaults.
const (
	// EnvChromium names the Chromium binary (default: chromium on PATH, then /usr/bin/chromium).
	EnvChromium = "DRIVES_CHROMIUM"
	// EnvArtefacts names the folder for screenshots (default: testdata-out/browser in the
	// repository root, which git ignores).
	EnvArtefacts = "DRIVES_TEST_ARTEFACTS"
)

// PackageDir is the npm package of the browser scripts, relative to the repository root.
const PackageDir = "web/e2e"

// Runner runs the browser scripts of PackageDir.
type Runner struct {
	Chromium  string // the browser binary
	Node      string // node
	Dir       string // the npm package: the scripts and their node_modules
	Artefacts string // where screenshots go
}

// Find locates Chromium, node and the installed npm package. Its error says what is missing
// and how to install it.
func Find() (*Runner, error) {
	root, err := testenv.RepoRoot()
	if err != nil {
		return nil, err
	}
	r := &Runner{Dir: filepath.Join(root, filepath.FromSlash(PackageDir))}
	var missing []string
	if r.Chromium, err = chromium(); err != nil {
		missing = append(missing, err.Error())
	}
	if r.Node, err = exec.LookPath("node"); err != nil {
		missing = append(missing, "node (Node.js 20 or later) not found on PATH")
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "node_modules", "playwright-core", "package.json")); err != nil {
		missing = append(missing, fmt.Sprintf("playwright-core not installed in %s (npm ci there)", PackageDir))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("browser tests need: %s; `make browser-deps` installs them", strings.Join(missing, "; "))
	}
	r.Artefacts = os.Getenv(EnvArtefacts)
	if r.Artefacts == "" {
		r.Artefacts = filepath.Join(root, "testdata-out", "browser")
	}
	if r.Artefacts, err = filepath.Abs(r.Artefacts); err != nil {
		return nil, err
	}
	return r, nil
}

func chromium() (string, error) {
	if p := os.Getenv(EnvChromium); p != "" {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			return "", fmt.Errorf("%s=%s: no such program", EnvChromium, p)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium not found (Debian package chromium)")
}

// Require returns a Runner, or skips the test saying what is missing; where the environment
// variable CI is set, a missing browser fails the test instead.
func Require(t testing.TB) *Runner {
	t.Helper()
	r, err := Find()
	if err == nil {
		return r
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%v (CI is set: the browser tests must run)", err)
	}
	t.Skipf("skipped: %v", err)
	return nil
}

// Result is what a script run gave: its own JSON result (decode it with Decode), the
// screenshots it saved, how long it ran, and what it wrote to stderr.
type Result struct {
	Raw         json.RawMessage
	Screenshots []string
	Elapsed     time.Duration
	Log         string
}

// Decode decodes the script's result into v.
func (r *Result) Decode(v any) error { return json.Unmarshal(r.Raw, v) }

// reply is what lib.mjs writes to the reply file.
type reply struct {
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	Error       string          `json:"error"`
	Screenshots []string        `json:"screenshots"`
}

// Run runs script (a file of PackageDir) with input, which it reads as JSON. The browser gets
// a fresh profile folder, removed afterwards. Screenshots are saved under the artefact folder,
// in a folder named after the test, and their paths are logged. A script that fails returns an
// error carrying its message and stderr (and any screenshot it took on failure).
func (r *Runner) Run(ctx context.Context, t testing.TB, script string, input any) (*Result, error) {
	t.Helper()
	in, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("browser input: %w", err)
	}
	shots, err := artefactDir(filepath.Join(r.Artefacts, safeName(t.Name())))
	if err != nil {
		return nil, err
	}
	work := t.TempDir()
	profile := filepath.Join(work, "profile")
	replyFile := filepath.Join(work, "reply.json")
	cmd := exec.CommandContext(ctx, r.Node, filepath.Join(r.Dir, script))
	cmd.Dir = r.Dir
	cmd.Env = append(os.Environ(),
		"DRIVES_E2E_CHROMIUM="+r.Chromium,
		"DRIVES_E2E_PROFILE="+profile,
		"DRIVES_E2E_SHOTS="+shots,
		"DRIVES_E2E_REPLY="+replyFile,
	)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	// Node and the browser it starts form a process group, ended together when ctx is done.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	runErr := cmd.Run()
	res := &Result{Elapsed: time.Since(start), Log: stderr.String()}
	var rep reply
	b, readErr := os.ReadFile(replyFile)
	if readErr == nil {
		readErr = json.Unmarshal(b, &rep)
	}
	res.Raw, res.Screenshots = rep.Result, rep.Screenshots
	for _, s := range res.Screenshots {
		t.Logf("screenshot: %s", s)
	}
	switch {
	case readErr == nil && !rep.OK:
		return res, fmt.Errorf("browser script %s: %s\n--- its output:\n%s", script, rep.Error, res.Log)
	case runErr != nil:
		return res, fmt.Errorf("browser script %s: %v\n--- its output:\n%s", script, runErr, res.Log)
	case readErr != nil:
		return res, fmt.Errorf("browser script %s gave no reply: %v\n--- its output:\n%s", script, readErr, res.Log)
	}
	return res, nil
}

var (
	artefactsMu   sync.Mutex
	artefactsUsed = map[string]bool{}
)

// artefactDir makes a test's artefact folder, emptied of an earlier run's files the first time
// this process uses it.
func artefactDir(dir string) (string, error) {
	artefactsMu.Lock()
	defer artefactsMu.Unlock()
	if !artefactsUsed[dir] {
		if err := os.RemoveAll(dir); err != nil {
			return "", fmt.Errorf("artefact folder: %w", err)
		}
		artefactsUsed[dir] = true
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("artefact folder: %w", err)
	}
	return dir, nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}
