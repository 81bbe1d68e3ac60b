package imports

import "testing"

// TestUploadOf64MiBStaysWithinItsSize measures the peak heap growth of reading, checking and
// streaming out the rows of a 64 MiB enrolment file (the file itself aside), as an import
// stages it, against holding every row as Parse does (MeasureUpload, which `make bench`'s
// upload row also reports).
func TestUploadOf64MiBStaysWithinItsSize(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and parses 64 MiB")
	}
	const size = 64 << 20
	m, err := MeasureUpload(size)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d MiB file, %d lines: peak heap growth %.0f MiB holding every row (Parse), %.0f MiB streamed",
		size>>20, m.Lines, float64(m.Held)/(1<<20), float64(m.Streamed)/(1<<20))
	if m.Staged != m.Lines {
		t.Errorf("streamed %d rows, want %d", m.Staged, m.Lines)
	}
	if m.Streamed > size {
		t.Errorf("streaming grew the heap by %d bytes, more than the file's %d", m.Streamed, size)
	}
}
