package imports

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

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

// TestUploadOf64MiBStaysWithinItsSize measures the peak heap growth of reading, checking and
// streaming out the rows of a 64 MiB enrolment file (the file itself aside), as an import
// stages it, against holding every row as Parse does.
func TestUploadOf64MiBStaysWithinItsSize(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and parses 64 MiB")
	}
	const size = 64 << 20
	data := bigEnrolmentFile(size)
	ref := referenceOfBigFile()
	var lines int
	all := peakHeapGrowth(func() {
		rows, err := Parse(Enrolments, "big.csv", data, ref)
		if err != nil {
			t.Fatal(err)
		}
		lines = len(rows)
	})
	var staged int
	streamed := peakHeapGrowth(func() {
		cf := &checkedFile{byKey: make(map[uint64]int, len(data)/100)}
		var err error
		if cf.lines, err = check(Enrolments, "big.csv", data, ref, cf.byKey, nil); err != nil {
			t.Fatal(err)
		}
		next, stop := cf.rows(Enrolments, "big.csv", data, ref)
		defer stop()
		for {
			r, err := next()
			if err != nil {
				t.Fatal(err)
			}
			if r == nil {
				break
			}
			staged++
		}
	})
	t.Logf("%d MiB file, %d lines: peak heap growth %.0f MiB holding every row (Parse), %.0f MiB streamed",
		size>>20, lines, float64(all)/(1<<20), float64(streamed)/(1<<20))
	if staged != lines {
		t.Errorf("streamed %d rows, want %d", staged, lines)
	}
	if streamed > size {
		t.Errorf("streaming grew the heap by %d bytes, more than the file's %d", streamed, size)
	}
}
