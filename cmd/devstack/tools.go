package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"drives/internal/devstack"
)

// randomToken is 32 random bytes in base64 without /, + and =.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return strings.NewReplacer("/", "", "+", "", "=", "").Replace(base64.StdEncoding.EncodeToString(b))
}

const browserPkg = "web/e2e"

// browserDeps installs what the browser tests need: Debian's chromium and chromium-driver
// (with apt-get, as root) and the npm packages of web/e2e. What cannot be installed is said,
// and the browser tests skip (fail where CI is set); it never fails itself.
func browserDeps(ctx context.Context) error {
	const skip = "the browser tests will skip (and fail where CI is set)"
	var missing []string
	if _, err := exec.LookPath("chromium"); err != nil {
		missing = append(missing, "chromium")
	}
	if _, err := exec.LookPath("chromedriver"); err != nil {
		missing = append(missing, "chromium-driver")
	}
	if len(missing) > 0 {
		_, aptErr := exec.LookPath("apt-get")
		if os.Geteuid() == 0 && aptErr == nil {
			fmt.Printf("browser-deps: installing %s (Debian packages)\n", strings.Join(missing, " "))
			env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			out, err := command(ctx, env, "apt-get", "update", "-qq")
			if err == nil {
				var more []byte
				more, err = command(ctx, env, append([]string{"apt-get", "install", "-y", "-qq", "--no-install-recommends"}, missing...)...)
				out = append(out, more...)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, lastLines(string(out), 20))
				fmt.Fprintf(os.Stderr, "browser-deps: could not install %s: %s\n", strings.Join(missing, " "), skip)
			}
		} else {
			fmt.Fprintf(os.Stderr, "browser-deps: %s missing and cannot be installed here (needs root and apt-get): %s\n", strings.Join(missing, " "), skip)
		}
	}
	_, npmErr := exec.LookPath("npm")
	_, nodeErr := exec.LookPath("node")
	if npmErr != nil || nodeErr != nil {
		fmt.Fprintf(os.Stderr, "browser-deps: node and npm (Node.js 20 or later) not found: %s\n", skip)
		return nil
	}
	stamp, lock := filepath.Join(browserPkg, "node_modules/.package-lock.json"), filepath.Join(browserPkg, "package-lock.json")
	if s, err := os.Stat(stamp); err == nil {
		if l, err := os.Stat(lock); err == nil && s.ModTime().After(l.ModTime()) {
			return nil
		}
	}
	fmt.Printf("browser-deps: npm ci in %s\n", browserPkg)
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir, cmd.Stdout, cmd.Stderr = browserPkg, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "browser-deps: npm ci failed in %s: %s\n", browserPkg, skip)
	}
	return nil
}

func command(ctx context.Context, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = env
	return cmd.CombinedOutput()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// fuzz runs every fuzz target of FUZZ_PKGS in turn (go test -fuzz takes one at a time), each
// for FUZZTIME with FUZZPARALLEL workers, minimizing for FUZZMINIMIZETIME. A failing input is
// written to the package's testdata/fuzz/<target>/; fuzz fails if any target wrote one. A run
// that stops without writing one (golang/go#75804, a race at the end of -fuzztime) is
// reported, not failed.
func fuzz(ctx context.Context) error {
	pkgs := strings.Fields(devstack.EnvOr("FUZZ_PKGS", "./campaign ./imports"))
	fuzztime := devstack.EnvOr("FUZZTIME", "30s")
	parallel := devstack.EnvOr("FUZZPARALLEL", "1")
	minimize := devstack.EnvOr("FUZZMINIMIZETIME", "5s")
	var failed []string
	for _, pkg := range pkgs {
		out, err := exec.CommandContext(ctx, "go", "test", "-list", "^Fuzz", pkg).Output()
		if err != nil {
			return fmt.Errorf("list the fuzz targets of %s: %w", pkg, err)
		}
		for _, name := range strings.Fields(string(out)) {
			if !strings.HasPrefix(name, "Fuzz") {
				continue
			}
			fmt.Printf("=== %s (%s) for %s\n", name, pkg, fuzztime)
			dir := filepath.Join(pkg, "testdata", "fuzz", name)
			before := countFiles(dir)
			err := devstack.Run(ctx, os.Environ(), "go", "test", pkg, "-run", "^$", "-fuzz", "^"+name+"$",
				"-fuzztime", fuzztime, "-fuzzminimizetime", minimize, "-parallel", parallel)
			switch {
			case err == nil:
			case countFiles(dir) > before:
				failed = append(failed, name)
			default:
				fmt.Printf("=== %s: stopped without a failing input (golang/go#75804); not a finding\n", name)
			}
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("failing inputs written by: %s", strings.Join(failed, " "))
	}
	return nil
}

func countFiles(dir string) int {
	entries, _ := os.ReadDir(dir)
	return len(entries)
}
