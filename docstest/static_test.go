package docstest

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBlocksRunnableOrMarked is the quick half of TestDocs, without servers (it runs under
// -short too): every block of README.md and docs/API.md is marked, a synopsis, or made of
// commands this test can run; every marker reads as one.
func TestBlocksRunnableOrMarked(t *testing.T) {
	root := repoRoot(t)
	var run, marked int
	for _, doc := range []string{"README.md", "docs/API.md"} {
		for _, b := range readBlocks(t, filepath.Join(root, doc), doc) {
			mk, err := parseMarker(b)
			if err != nil {
				t.Error(err)
				continue
			}
			if mk.notRun || mk.synopsis {
				marked++
				continue
			}
			if b.lang != "sh" && b.lang != "" {
				t.Errorf("%s: a ```%s block cannot run: mark it <!-- docs-test: not run (why) -->", b, b.lang)
				continue
			}
			run++
			cmds := commands(b)
			if len(cmds) == 0 {
				t.Errorf("%s: a block without a command: mark it", b)
			}
			for _, c := range cmds {
				if skipped(c.text, mk.skip) {
					continue
				}
				text := strings.ReplaceAll(c.text, "go run ./starter ", "starter ")
				if !runnable.MatchString(text) || strings.Contains(text, "make ") {
					t.Errorf("%s:%d: `%s` cannot run in TestDocs: make it runnable, or mark its block", b.file, c.line, c.text)
				}
			}
			for _, p := range mk.skip {
				found := false
				for _, c := range cmds {
					found = found || strings.HasPrefix(c.text, p)
				}
				if !found {
					t.Errorf("%s: the marker names `%s`, which the block does not hold", b, p)
				}
			}
		}
	}
	t.Logf("%d blocks to run, %d marked", run, marked)
}

func TestMarkdownPieces(t *testing.T) {
	b := block{file: "x.md", line: 1, lines: []string{
		`. .dev/env    # the env`,
		`sed -e 's/^  a$/  b/' \`,
		`    in > out  # two lines`,
		`curl -s "http://h/#x" | jq '.a # b'`,
	}}
	cmds := commands(b)
	want := []string{`. .dev/env`, `sed -e 's/^  a$/  b/' in > out`, `curl -s "http://h/#x" | jq '.a # b'`}
	if len(cmds) != len(want) {
		t.Fatalf("commands: %+v", cmds)
	}
	for i, c := range cmds {
		if c.text != want[i] {
			t.Errorf("command %d: %q, want %q", i, c.text, want[i])
		}
	}
	tr := commands(block{lines: []string{"$ starter audit verify x   # after", "audit log of x: intact, 6 rows", "starter: broken"}})
	if len(tr) != 1 || len(tr[0].output) != 2 || !expectsFailure(tr[0].output) {
		t.Errorf("transcript: %+v", tr)
	}
	p := outputPattern("audit log of hanoi-2021: intact, 6 rows; head d7657ec92b0d1d3346db36d28a856265b8c22a0010c65a07996ee9eda49f3ed4")
	if !p.MatchString("audit log of hanoi-2021: intact, 1,224 rows; head " + strings.Repeat("0a", 32)) {
		t.Errorf("%s does not match another count and hash", p)
	}
	if p.MatchString("audit log of hanoi-2021: BROKEN, 6 rows; head " + strings.Repeat("0a", 32)) {
		t.Errorf("%s matches other words", p)
	}
	for _, bad := range []string{"skip (why)", "not run", "not run `make` why"} {
		if _, err := parseMarker(block{marker: bad}); err == nil {
			t.Errorf("marker %q taken", bad)
		}
	}
	if mk, err := parseMarker(block{marker: "not run `make stop`, `make clean` (why)"}); err != nil || mk.notRun || len(mk.skip) != 2 {
		t.Errorf("marker with commands: %+v %v", mk, err)
	}
}

func TestShapes(t *testing.T) {
	sh, err := parseShape(`{"campaign": {id, today}, "lines": {"new": [line numbers]}, "links": {audit row id: URL}, "status": "a" \| "b", "rows": [{line, pct}]} — prose`)
	if err != nil {
		t.Fatal(err)
	}
	ok := map[string]any{"campaign": map[string]any{"id": "x", "today": "2021-01-02"}, "lines": map[string]any{"new": []any{1.0}},
		"links": map[string]any{"7": "u"}, "status": "a", "rows": []any{map[string]any{"line": 1.0, "pct": 12.5}}}
	if errs := sh.check(ok, "", nil); len(errs) > 0 {
		t.Errorf("a good answer: %v", errs)
	}
	bad := map[string]any{"campaign": map[string]any{"id": "x", "today": "2021-01-02T00:00:00Z"}, "lines": map[string]any{"new": nil},
		"links": []any{}, "status": 3.0, "rows": []any{map[string]any{"pct": 12.345}}}
	if errs := sh.check(bad, "", map[string]bool{}); len(errs) != 6 {
		t.Errorf("a bad answer: want 6 problems (today, new, links, status, line, pct), got %d: %q", len(errs), errs)
	}
}
