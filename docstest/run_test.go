package docstest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A shell runs the docs' commands one at a time in the stack's scratch directory, with what
// one command sets (`. .dev/env`, C=…, read …) carried to the next, as in a terminal.
type shell struct {
	s     *stack
	state string // the shell's variables, as `export -p` writes them
	n     int
}

func (s *stack) newShell(name string) *shell {
	return &shell{s: s, state: filepath.Join(s.t.TempDir(), name+".state")}
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, clip(r.stdout), clip(r.stderr))
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:2000] + "\n…\n" + s[len(s)-2000:]
	}
	return s
}

// run runs one command line with bash; every variable it sets is exported to the next.
func (sh *shell) run(t *testing.T, line string, timeout time.Duration) result {
	t.Helper()
	sh.n++
	script := filepath.Join(filepath.Dir(sh.state), fmt.Sprintf("%s.%d.sh", filepath.Base(sh.state), sh.n))
	body := "set -a\n[ -f \"$DOCS_STATE\" ] && . \"$DOCS_STATE\"\n" + line + "\nrc=$?\nexport -p > \"$DOCS_STATE\"\nexit $rc\n"
	if err := os.WriteFile(script, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Dir = sh.s.dir
	cmd.Env = append(append([]string{}, sh.s.env...), "DOCS_STATE="+sh.state)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	if err != nil {
		r.code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			r.code = ee.ExitCode()
		}
		if ctx.Err() != nil {
			r.stderr += fmt.Sprintf("\n(killed after %s)", timeout)
		}
	}
	return r
}

// A rewrite runs other commands in place of a doc's command, when the doc's cannot run as
// written in a test: a faster clock, a campaign that exists here. Each says why.
type rewrite struct {
	run    []string
	why    string
	output [2]string // a word of the output the doc shows, and what it is here
}

// A runner runs the blocks of one doc.
type runner struct {
	t        *testing.T
	s        *stack
	sh       *shell
	rewrites map[string]rewrite                  // by the doc's command, exactly
	before   map[string]func(*testing.T)         // waits for what the doc says a command needs
	check    map[string]func(*testing.T, result) // what a command's output must show
	used     map[string]bool
	// counts for the closing log
	blocksRun, blocksSkipped, commandsRun, commandsSkipped int
	skipped                                                []string
}

// runnable is what the test can run of a command: the starter, the shell's own and the
// tools the docs' examples use on their data. Anything else (make, go run ./worker, a
// cluster's temporal) must be marked in the doc.
var runnable = regexp.MustCompile(`^(starter |\. \.dev/|sed |curl |read |[A-Z_]+=\S*$|[A-Z_]+=\S*; |\.tools/bin/temporal workflow show )`)

func (r *runner) runBlocks(blocks []block) {
	t := r.t
	for _, b := range blocks {
		mk, err := parseMarker(b)
		if err != nil {
			t.Error(err)
			continue
		}
		switch {
		case mk.notRun:
			r.blocksSkipped++
			r.skipped = append(r.skipped, fmt.Sprintf("%s: not run (%s)", b, mk.why))
			continue
		case mk.synopsis:
			r.blocksRun++
			r.synopsis(b)
			continue
		case b.lang != "sh" && b.lang != "":
			t.Errorf("%s: a ```%s block cannot run in this test: mark it <!-- docs-test: not run (why) -->", b, b.lang)
			continue
		}
		r.blocksRun++
		for _, c := range commands(b) {
			if skipped(c.text, mk.skip) {
				r.commandsSkipped++
				r.skipped = append(r.skipped, fmt.Sprintf("%s:%d: `%s` not run (%s)", b.file, c.line, c.text, mk.why))
				continue
			}
			if !r.command(b, c) {
				return // what follows builds on it
			}
		}
	}
	for k := range r.rewrites {
		if !r.used[k] {
			t.Errorf("the test rewrites `%s`, which the docs no longer say: update the test", k)
		}
	}
	for k := range r.before {
		if !r.used["before:"+k] {
			t.Errorf("the test waits before `%s`, which the docs no longer say: update the test", k)
		}
	}
	for k := range r.check {
		if !r.used["check:"+k] {
			t.Errorf("the test checks the output of `%s`, which the docs no longer say: update the test", k)
		}
	}
	t.Logf("%d blocks run, %d not run; %d commands run, %d not run", r.blocksRun, r.blocksSkipped, r.commandsRun, r.commandsSkipped)
	for _, s := range r.skipped {
		t.Log(s)
	}
}

func skipped(text string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(text, p) {
			return true
		}
	}
	return false
}

// command runs one command of a block and checks it; false when it failed.
func (r *runner) command(b block, c command) bool {
	t := r.t
	where := fmt.Sprintf("%s:%d", b.file, c.line)
	text := strings.ReplaceAll(c.text, "go run ./starter ", "starter ")
	if !runnable.MatchString(text) || strings.Contains(text, "make ") {
		t.Errorf("%s: `%s` cannot run in this test: make it runnable, or mark its block "+
			"<!-- docs-test: not run `%s` (why) -->", where, c.text, firstWords(c.text))
		return false
	}
	if f := r.before[c.text]; f != nil {
		r.used["before:"+c.text] = true
		f(t)
	}
	lines := []string{text}
	if rw, ok := r.rewrites[c.text]; ok {
		r.used[c.text] = true
		lines = rw.run
	}
	var res result
	for _, l := range lines {
		l = strings.ReplaceAll(l, "go run ./starter ", "starter ")
		l = strings.ReplaceAll(l, "http://127.0.0.1:8080", r.s.web)
		l = strings.ReplaceAll(l, "http://127.0.0.1:8081", r.s.codec)
		start := time.Now()
		res = r.sh.run(t, l, 2*time.Minute)
		r.commandsRun++
		wantFail := expectsFailure(c.output)
		t.Logf("%s: `%s` (%s): exit %d", where, l, time.Since(start).Round(time.Millisecond), res.code)
		if os.Getenv("DOCS_VERBOSE") != "" {
			t.Logf("%s", res)
		}
		if wantFail != (res.code != 0) {
			want := "exit 0"
			if wantFail {
				want = "a non-zero exit (the doc shows an error)"
			}
			t.Errorf("%s: `%s`: want %s, got %s", where, c.text, want, res)
			return false
		}
	}
	if len(c.output) > 0 {
		want := c.output
		if rw, ok := r.rewrites[c.text]; ok && rw.output[0] != "" {
			want = nil
			for _, l := range c.output {
				want = append(want, strings.ReplaceAll(l, rw.output[0], rw.output[1]))
			}
		}
		matchOutput(t, where, c.text, want, res)
	}
	if f := r.check[c.text]; f != nil {
		r.used["check:"+c.text] = true
		f(t, res)
	}
	return true
}

func firstWords(s string) string {
	f := strings.Fields(s)
	if len(f) > 2 {
		f = f[:2]
	}
	return strings.Join(f, " ")
}

// expectsFailure: the output a doc shows for a command ends in the CLI's error line.
func expectsFailure(output []string) bool {
	return len(output) > 0 && strings.HasPrefix(output[len(output)-1], "starter: ") ||
		len(output) > 1 && strings.HasPrefix(output[0], "starter: ")
}

// matchOutput checks that every line the doc shows is in the output, in order, in its shape
// (numbers and hashes may differ); a line "…" stands for lines left out.
func matchOutput(t *testing.T, where, cmd string, want []string, res result) {
	t.Helper()
	got := strings.Split(strings.TrimRight(res.stdout, "\n"), "\n")
	if res.stderr != "" {
		got = append(got, strings.Split(strings.TrimRight(res.stderr, "\n"), "\n")...)
	}
	i := 0
	for _, w := range want {
		if strings.TrimSpace(w) == "…" {
			continue
		}
		p := outputPattern(w)
		found := false
		for ; i < len(got); i++ {
			if p.MatchString(strings.TrimSpace(got[i])) {
				found, i = true, i+1
				break
			}
		}
		if !found {
			t.Errorf("%s: `%s`: the doc shows the line\n\t%s\nwhich is not in the output (in this shape, in this order):\n%s", where, cmd, w, res)
			return
		}
	}
}

// synopsis checks a list of commands and flags: each command exists, and takes each flag shown.
func (r *runner) synopsis(b block) {
	t := r.t
	for i, l := range b.lines {
		for _, part := range regexp.MustCompile(`(?:^|\s)starter `).Split(l, -1)[1:] {
			part = regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(part), 2)[0]
			var words []string
			fields := strings.Fields(part)
			for _, f := range fields {
				if !regexp.MustCompile(`^[a-z][a-z-]*(\|[a-z][a-z-]*)*$`).MatchString(f) {
					break
				}
				words = append(words, f)
			}
			flags := regexp.MustCompile(`--[a-z][a-z-]*`).FindAllString(part, -1)
			for _, path := range expand(words) {
				res := r.sh.run(t, "starter "+path+" --help", time.Minute)
				r.commandsRun++
				where := fmt.Sprintf("%s:%d", b.file, b.line+1+i)
				if res.code != 0 || !strings.Contains(res.stdout, "starter "+path) {
					t.Errorf("%s: `starter %s` is not a command: %s", where, path, res)
					continue
				}
				for _, f := range flags {
					if !regexp.MustCompile(`(?m)^\s+(-\w, )?` + regexp.QuoteMeta(f) + `\b`).MatchString(res.stdout) {
						t.Errorf("%s: `starter %s` has no flag %s (its --help:\n%s)", where, path, f, res.stdout)
					}
				}
			}
		}
	}
}

// expand gives every command of words with alternatives: review approve|reject → review approve, review reject.
func expand(words []string) []string {
	paths := []string{""}
	for _, w := range words {
		var next []string
		for _, p := range paths {
			for _, alt := range strings.Split(w, "|") {
				next = append(next, strings.TrimSpace(p+" "+alt))
			}
		}
		paths = next
	}
	return paths
}
