package imports_test

import (
	"errors"
	"strings"
	"testing"

	"drives/imports"
)

// An import streams a good file's rows into COPY; people enrolled already are left out, and a
// bad file is refused whole with nothing staged.
func TestImportStagesByStreaming(t *testing.T) {
	s := seed(t)
	im := &imports.Importer{DB: s.pool}
	var b strings.Builder
	b.WriteString(strings.Join(imports.Headers[imports.Enrolments], ",") + "\n")
	const n = 1200
	for i := 1; i <= n; i++ {
		b.WriteString(enrol(i))
	}
	batch, staged, err := im.StageStreaming(s.ctx, campaignID, imports.Enrolments, "", "e.csv", []byte(b.String()), "tester")
	if err != nil {
		t.Fatal(err)
	}
	if staged != n {
		t.Errorf("staged %d, want %d", staged, n)
	}
	if got := s.count(`select count(*) from import_rows where batch_id = $1`, batch); got != n {
		t.Errorf("%d rows staged, want %d", got, n)
	}
	if got := s.count(`select staged_rows from import_batches where id = $1`, batch); got != n {
		t.Errorf("staged_rows %d, want %d", got, n)
	}
	if got := s.count(`select count(*) from import_rows where batch_id = $1 and payment_months is null`, batch); got != 0 {
		t.Errorf("%d rows without payment months", got)
	}

	bad := b.String() + enrol(n+1, "monthly_income", "12")
	before := s.count(`select count(*) from import_batches`)
	_, _, err = im.StageStreaming(s.ctx, campaignID, imports.Enrolments, "", "bad.csv", []byte(bad), "tester")
	var rej *imports.Rejected
	if !errors.As(err, &rej) || len(rej.Errors) != 1 || rej.Errors[0].Line != n+2 || rej.Errors[0].Field != "monthly_income" {
		t.Fatalf("bad file: %v", err)
	}
	if after := s.count(`select count(*) from import_batches`); after != before {
		t.Errorf("a refused file staged a batch")
	}
}
