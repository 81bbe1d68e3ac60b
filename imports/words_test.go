package imports_test

import (
	"strings"
	"testing"

	"drives/imports"
)

// A refusal counts problems and the lines they are on, in words that agree with their
// numbers: a file of 2 rows with 8 problems once read "8 bad lines of 2", and one of a
// single row "1 rows".
func TestRejectedCountsProblemsAndLines(t *testing.T) {
	eight := &imports.Rejected{File: "f.csv", Rows: 2}
	for i := range 8 {
		eight.Errors = append(eight.Errors, imports.LineError{Line: 2 + i%2, Field: "phone", Msg: "bad"})
	}
	one := &imports.Rejected{File: "g.csv", Rows: 1, Errors: []imports.LineError{{Line: 2, Field: "phone", Msg: "bad"}}}
	header := &imports.Rejected{File: "h.csv", Errors: []imports.LineError{{Line: 1, Field: "header", Msg: "want …"}}}
	for _, c := range []struct {
		rej  *imports.Rejected
		want string
	}{
		{eight, "f.csv: refused, nothing imported: 8 problems on 2 lines (2 data lines read)\n"},
		{one, "g.csv: refused, nothing imported: 1 problem on 1 line (1 data line read)\n"},
		{header, "h.csv: refused, nothing imported: 1 problem on 1 line\n"},
	} {
		if got := c.rej.Error(); !strings.HasPrefix(got, c.want) {
			t.Errorf("%q, want it to begin %q", got, c.want)
		}
	}
}
