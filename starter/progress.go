package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"drives/imports"
)

// isTerminal says whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// importProgress prints how far an import has got: on a terminal one line updated in place
// (at most ten times a second), elsewhere a plain line each time the import moves on to its
// next phase.
func importProgress(w io.Writer, name string) func(imports.Progress) {
	tty := isTerminal(w)
	var last imports.Phase
	var lastNote string
	var shown time.Time
	return func(p imports.Progress) {
		text := fmt.Sprintf("%s: %s", name, p.Phase)
		switch {
		case p.Note != "":
			text = fmt.Sprintf("%s: %s", name, p.Note)
		case p.Phase == imports.PhaseReading && p.Total > 0:
			text += fmt.Sprintf(" %d%% of %.1f MiB", 100*p.Done/p.Total, float64(p.Total)/(1<<20))
		case p.Phase == imports.PhaseStaging && p.Total > 0:
			text += fmt.Sprintf(" %d of %d rows", p.Done, p.Total)
		}
		if !tty {
			if p.Phase != last || p.Note != lastNote {
				fmt.Fprintln(w, text)
			}
			last, lastNote = p.Phase, p.Note
			return
		}
		final := p.Phase == imports.PhaseMerged
		if !final && p.Phase == last && p.Done < p.Total && time.Since(shown) < 100*time.Millisecond {
			return
		}
		last, shown = p.Phase, time.Now()
		fmt.Fprintf(w, "\r\033[K%s", text)
		if final {
			fmt.Fprintln(w)
		}
	}
}
