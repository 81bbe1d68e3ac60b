package history_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"drives/history"
)

// A trace's times are real instants: printed in UTC they say so ("…Z" beside campaign dates
// in +07:00 read as one clock), and PrintAt writes them as its caller says.
func TestTracePrintLabelsItsClock(t *testing.T) {
	at := time.Date(2026, 12, 6, 21, 28, 23, 0, time.UTC)
	tr := &history.Trace{CampaignID: "c", Subject: "agent X", Figures: []history.Figure{{Name: "quota", Value: 3,
		Writes: []history.Write{{Rows: 1, What: "quota row: 3 as assigned", Action: "agents.assign", Actor: "system", RecordedAt: at, AuditID: 7}}}}}
	var b bytes.Buffer
	tr.Print(&b)
	if !strings.Contains(b.String(), "at 2026-12-06T21:28:23Z (real time, UTC), audit row 7") {
		t.Errorf("Print:\n%s", b.String())
	}
	b.Reset()
	tr.PrintAt(&b, func(time.Time) string { return "2021-03-04 08:00 +07:00 campaign time" })
	if !strings.Contains(b.String(), "at 2021-03-04 08:00 +07:00 campaign time, audit row 7") {
		t.Errorf("PrintAt:\n%s", b.String())
	}
}
