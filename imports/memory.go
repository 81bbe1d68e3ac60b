package imports

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"time"
)

// UploadMemory is what MeasureUpload found for one generated enrolment file.
type UploadMemory struct {
	FileBytes int    // the file's size
	Lines     int    // its lines, as Parse counts them
	Staged    int    // the rows streamed out, as an import stages them
	Streamed  uint64 // peak heap growth reading, checking and streaming out the rows (the file aside)
	Held      uint64 // peak heap growth holding every row, as Parse does
}

// MeasureUpload measures the peak heap growth of reading, checking and streaming out the rows
// of a good enrolment file of about size bytes (the file itself aside), as an import stages
// it, against holding every row as Parse does. It is the measure of `go test ./imports -run
// UploadOf64` and of `make bench`'s upload row; other goroutines allocating meanwhile are
// counted in it too.
func MeasureUpload(size int) (UploadMemory, error) {
	data := bigEnrolmentFile(size)
	ref := referenceOfBigFile()
	m := UploadMemory{FileBytes: len(data)}
	var err error
	m.Held = peakHeapGrowth(func() {
		var rows []Row
		rows, err = Parse(Enrolments, "big.csv", data, ref)
		m.Lines = len(rows)
	})
	if err != nil {
		return m, err
	}
	m.Streamed = peakHeapGrowth(func() {
		cf := &checkedFile{byKey: make(map[uint64]int, len(data)/100)}
		if cf.lines, err = check(Enrolments, "big.csv", data, ref, cf.byKey, nil); err != nil {
			return
		}
		next, stop := cf.rows(Enrolments, "big.csv", data, ref)
		defer stop()
		for {
			var r *Row
			if r, err = next(); err != nil || r == nil {
				return
			}
			m.Staged++
		}
	})
	return m, err
}

// bigEnrolmentFile is a good enrolment file of about size bytes for referenceOfBigFile.
func bigEnrolmentFile(size int) []byte {
	var b bytes.Buffer
	b.Grow(size + 256)
	b.WriteString(strings.Join(Headers[Enrolments], ",") + "\n")
	for n := 1; b.Len() < size; n++ {
		fmt.Fprintf(&b, "0010%08d,Nguyễn Thị Thử Nghiệm Dài Tên %d,09%08d,00001,00001-01,DL-00001-1,trader,1500000,other,monthly,2021-03-15\n",
			n, n, 10000000+n%90000000)
	}
	return b.Bytes()
}

func referenceOfBigFile() *Reference {
	return &Reference{
		CampaignID:  "big",
		Communes:    map[string]string{"00001": "001"},
		Villages:    map[string]string{"00001-01": "00001"},
		Agents:      map[string]string{"DL-00001-1": "00001"},
		Groups:      map[string]bool{"trader": true},
		PeriodStart: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC),
		PeriodEnd:   time.Date(2021, 12, 31, 0, 0, 0, 0, time.UTC),
	}
}

// peakHeapGrowth runs fn and returns by how much the heap's objects (live and not yet
// collected) grew above what they were before it, at the most, sampled every millisecond.
func peakHeapGrowth(fn func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	if v := read(); v > peak.Load() {
		peak.Store(v)
	}
	close(done)
	<-stopped
	if p := peak.Load(); p > base {
		return p - base
	}
	return 0
}
