package main

import (
	"bytes"
	"testing"

	"drives/imports"
)

// Off a terminal the progress of an import is a plain line each time it moves on, and a
// waiting import says why once, however often it is told.
func TestImportProgressOffATerminalPrintsAPlainLineAPhase(t *testing.T) {
	var out bytes.Buffer
	p := importProgress(&out, "e.csv")
	p(imports.Progress{Phase: imports.PhaseWaiting, Note: "waiting: 1 imports are being merged"})
	p(imports.Progress{Phase: imports.PhaseWaiting, Note: "waiting: 1 imports are being merged"})
	for done := 0; done <= 4<<20; done += 1 << 20 {
		p(imports.Progress{Phase: imports.PhaseReading, Done: done, Total: 4 << 20})
	}
	p(imports.Progress{Phase: imports.PhaseStaging, Done: 0, Total: 10})
	p(imports.Progress{Phase: imports.PhaseStaging, Done: 10, Total: 10})
	p(imports.Progress{Phase: imports.PhaseMerging})
	p(imports.Progress{Phase: imports.PhaseMerged})
	want := "e.csv: waiting: 1 imports are being merged\ne.csv: reading 0% of 4.0 MiB\ne.csv: staging 0 of 10 rows\ne.csv: merging\ne.csv: merged\n"
	if out.String() != want {
		t.Errorf("printed\n%s\nwant\n%s", out.String(), want)
	}
}
