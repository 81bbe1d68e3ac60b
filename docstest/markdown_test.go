package docstest

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// A block is one fenced block of a Markdown file, with the marker comment right before it.
type block struct {
	file   string   // README.md, docs/API.md
	line   int      // the line of its opening fence
	lang   string   // sh, sql, "" …
	lines  []string // its lines, the fence's indentation removed
	marker string   // the text of a `<!-- docs-test: … -->` line right before it, or ""
}

func (b block) String() string { return fmt.Sprintf("%s:%d", b.file, b.line) }

// markerLine is the comment that tells this test what to do with the next block:
//
//	<!-- docs-test: not run (why) -->                        the block is not run
//	<!-- docs-test: not run `make stop`, `make clean` (why) -->  those commands of it are not run
//	<!-- docs-test: synopsis (why) -->                        a list of commands and their flags,
//	                                                           each checked against its --help
var markerLine = regexp.MustCompile(`^\s*<!--\s*docs-test:\s*(.*?)\s*-->\s*$`)

var fence = regexp.MustCompile("^(\\s*)```(\\S*)\\s*$")

// readBlocks reads every fenced block of a Markdown file.
func readBlocks(t *testing.T, path, name string) []block {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		blocks   []block
		cur      *block
		indent   string
		lastText string // the last non-blank line outside a block
		n        int
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		n++
		line := sc.Text()
		if cur != nil {
			if m := fence.FindStringSubmatch(line); m != nil && m[2] == "" {
				blocks = append(blocks, *cur)
				cur = nil
				lastText = line
				continue
			}
			cur.lines = append(cur.lines, strings.TrimPrefix(line, indent))
			continue
		}
		if m := fence.FindStringSubmatch(line); m != nil {
			cur = &block{file: name, line: n, lang: m[2]}
			indent = m[1]
			if mm := markerLine.FindStringSubmatch(lastText); mm != nil {
				cur.marker = mm[1]
			}
			continue
		}
		if strings.TrimSpace(line) != "" {
			lastText = line
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: a fenced block that does not end", name, cur.line)
	}
	return blocks
}

// marking is what a block's marker says.
type marking struct {
	notRun   bool     // the whole block is not run
	skip     []string // commands (by their start) not run
	synopsis bool
	why      string
}

var markerForm = regexp.MustCompile("^(not run|synopsis)((?:\\s*,?\\s*`[^`]+`)*)\\s*\\((.+)\\)$")

func parseMarker(b block) (marking, error) {
	if b.marker == "" {
		return marking{}, nil
	}
	m := markerForm.FindStringSubmatch(b.marker)
	if m == nil {
		return marking{}, fmt.Errorf("%s: marker %q: want `not run (why)`, "+
			"`not run `cmd`, `cmd` (why)` or `synopsis (why)`", b, b.marker)
	}
	var mk marking
	mk.why = m[3]
	for _, c := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(m[2], -1) {
		mk.skip = append(mk.skip, c[1])
	}
	switch m[1] {
	case "synopsis":
		if len(mk.skip) > 0 {
			return marking{}, fmt.Errorf("%s: a synopsis marker names no commands", b)
		}
		mk.synopsis = true
	case "not run":
		mk.notRun = len(mk.skip) == 0
	}
	return mk, nil
}

// A command is one shell command of a block: continuation lines joined, the comment after it
// cut off, and (in a transcript, lines starting with "$ ") the output the doc shows after it.
type command struct {
	text   string
	line   int // in the file
	output []string
}

// commands splits a block into its commands. A block whose lines start with "$ " is a
// transcript: each "$ " line is a command, the lines after it its output.
func commands(b block) []command {
	var cmds []command
	transcript := false
	for _, l := range b.lines {
		if strings.HasPrefix(l, "$ ") {
			transcript = true
		}
	}
	var pending strings.Builder
	start := 0
	for i, l := range b.lines {
		ln := b.line + 1 + i
		if transcript {
			if strings.HasPrefix(l, "$ ") {
				// The comment stays: it tells two runs of the same command apart.
				cmds = append(cmds, command{text: strings.TrimSpace(strings.TrimPrefix(l, "$ ")), line: ln})
			} else if len(cmds) > 0 && strings.TrimSpace(l) != "" {
				cmds[len(cmds)-1].output = append(cmds[len(cmds)-1].output, l)
			}
			continue
		}
		if pending.Len() == 0 {
			if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimSpace(l), "#") || strings.HasPrefix(strings.TrimSpace(l), "--") {
				continue
			}
			start = ln
		}
		// Continuation lines are joined with one space; the rest is kept as written.
		body := stripComment(l)
		if pending.Len() > 0 {
			body = strings.TrimLeft(body, " \t")
		}
		if strings.HasSuffix(body, `\`) {
			pending.WriteString(strings.TrimRight(strings.TrimSuffix(body, `\`), " \t"))
			pending.WriteString(" ")
			continue
		}
		pending.WriteString(body)
		cmds = append(cmds, command{text: pending.String(), line: start})
		pending.Reset()
	}
	return cmds
}

// stripComment cuts a shell comment (a # starting a word outside quotes) off a line.
func stripComment(l string) string {
	var q byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			} else if c == '\\' && q == '"' {
				i++
			}
		case c == '\'' || c == '"':
			q = c
		case c == '\\':
			i++
		case c == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t'):
			return strings.TrimRight(l[:i], " \t")
		}
	}
	return strings.TrimRight(l, " \t")
}

// outputPattern turns a line of output the doc shows into a pattern of its shape: numbers and
// hashes may differ, words may not. A line "…" stands for lines left out.
func outputPattern(line string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, tok := range shapeToken.FindAllString(strings.TrimSpace(line), -1) {
		switch {
		case hexRun.MatchString(tok):
			b.WriteString("[0-9a-f]{64}")
		case number.MatchString(tok):
			b.WriteString(`[0-9][0-9,]*`)
		case strings.TrimSpace(tok) == "":
			b.WriteString(`\s+`)
		default:
			b.WriteString(regexp.QuoteMeta(tok))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

var (
	shapeToken = regexp.MustCompile(`[0-9a-f]{64}|[0-9][0-9,]*|\s+|[^0-9\s]+`)
	hexRun     = regexp.MustCompile(`^[0-9a-f]{64}$`)
	number     = regexp.MustCompile(`^[0-9][0-9,]*$`)
)
