package bench

import (
	"fmt"

	"drives/imports"
)

// UploadSize is the file (u) uploads: issue 10's 64 MiB.
const UploadSize = 64 << 20

// Upload is (u): the peak heap growth of an upload of a 64 MiB enrolment file (the file itself
// aside) read, checked and streamed out as an import stages it, against the file's size, by
// imports.MeasureUpload, the measure of `go test ./imports -run UploadOf64`. It needs no
// server; run before the servers' workers start, nothing else in the process allocates much.
func Upload() ([]Figure, error) {
	m, err := imports.MeasureUpload(UploadSize)
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	if err := must(m.Staged == m.Lines, "upload: streamed %d rows of %d", m.Staged, m.Lines); err != nil {
		return nil, err
	}
	mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
	return []Figure{{ID: "u", Name: "peak heap growth of a 64 MiB upload", Value: mib(m.Streamed), Unit: "MiB",
		Target: "≤ file size", Met: Check(m.Streamed <= uint64(m.FileBytes)),
		Note: fmt.Sprintf("%d lines (%.1f MiB) read, checked and streamed out as an import stages them, the file aside; %.0f MiB holding every row as Parse does",
			m.Lines, mib(uint64(m.FileBytes)), mib(m.Held))}}, nil
}
