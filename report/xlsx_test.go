package report_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"drives/report"
	"drives/store"
)

// cell is a workbook's cell read back: its raw value and whether it is a number (a cell
// without a type, or of type n) rather than text.
type cell struct {
	v   string
	num bool
}

// readWorkbook reads every sheet of a workbook, in order, as rows of cells.
func readWorkbook(t *testing.T, data []byte) (names []string, sheets map[string][][]cell) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the workbook does not open: %v", err)
	}
	defer f.Close()
	sheets = map[string][][]cell{}
	for _, name := range f.GetSheetList() {
		rows, err := f.GetRows(name, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatalf("sheet %s: %v", name, err)
		}
		var out [][]cell
		for i, row := range rows {
			var cells []cell
			for j, v := range row {
				ref, _ := excelize.CoordinatesToCellName(j+1, i+1)
				typ, err := f.GetCellType(name, ref)
				if err != nil {
					t.Fatalf("sheet %s, %s: %v", name, ref, err)
				}
				if formula, _ := f.GetCellFormula(name, ref); formula != "" {
					t.Errorf("sheet %s, %s holds a formula %q", name, ref, formula)
				}
				cells = append(cells, cell{v: v, num: v != "" && (typ == excelize.CellTypeUnset || typ == excelize.CellTypeNumber)})
			}
			out = append(out, cells)
		}
		names = append(names, name)
		sheets[name] = out
	}
	return names, sheets
}

// texts is a row's values.
func texts(row []cell) []string {
	out := make([]string, len(row))
	for i, c := range row {
		out[i] = c.v
	}
	return out
}

// number checks that a cell is a number of the value.
func number(t *testing.T, where string, c cell, want float64) {
	t.Helper()
	got, err := strconv.ParseFloat(c.v, 64)
	if !c.num || err != nil || got != want {
		t.Errorf("%s = %q (a number: %v), want the number %v", where, c.v, c.num, want)
	}
}

// at is a row's cell i, empty past its end (a row's trailing empty cells are not read back).
func at(row []cell, i int) cell {
	if i < len(row) {
		return row[i]
	}
	return cell{}
}

// The workbook holds the report as Build computed it: the summary's figures, every unit,
// target group, agent and register line, numbers as numbers, and no personal data. Shown
// failing by writing the units' Target in their Enrolled column (units/001/enrolled = "45",
// want 3), by writing every number through fmt.Sprint (each figure "a number: false"), and by
// leaving the register by agent out (participants sheet: 5 rows, want 10).
func TestWriteXLSXHoldsTheReport(t *testing.T) {
	s := drive(t)
	r, err := report.Build(s.ctx, s.pool, campaignID)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.Write(&b, r, "xlsx", "all"); err != nil {
		t.Fatal(err)
	}
	names, sheets := readWorkbook(t, b.Bytes())
	want := []string{report.SheetSummary, report.SheetUnits, report.SheetGroups, report.SheetAgents, report.SheetParticipants}
	if !slices.Equal(names, want) {
		t.Fatalf("sheets %v, want %v", names, want)
	}
	for name, rows := range sheets {
		for i, row := range rows {
			for j, c := range row {
				for _, p := range personalData() {
					if strings.Contains(c.v, p) {
						t.Errorf("sheet %s, row %d, column %d prints personal data %q", name, i+1, j+1, p)
					}
				}
			}
		}
	}

	summary := map[string]cell{}
	if got := texts(sheets[report.SheetSummary][0]); !slices.Equal(got, report.SummaryHeadings) {
		t.Errorf("summary headings %v", got)
	}
	for _, row := range sheets[report.SheetSummary][1:] {
		summary[at(row, 2).v] = at(row, 1)
	}
	p := r.Participants
	for key, v := range map[string]float64{
		"target": float64(r.Target), "enrolled": float64(r.Enrolled), "attainment_pct": r.AttainmentPct,
		"prior_year": float64(r.PriorYear), "growth": float64(r.Growth), "growth_pct": r.GrowthPct,
		"events.held": float64(r.Events.Held), "events.leads": float64(r.Events.Leads),
		"follow_ups.total": float64(r.FollowUps.Total), "follow_ups.declined": float64(r.FollowUps.Declined),
		"follow_ups.escalated": float64(r.FollowUps.Escalated),
		"participants.start":   float64(p.Start), "participants.joined": float64(p.Joined), "participants.renewed": float64(p.Renewed),
		"participants.returned": float64(p.Returned), "participants.lapsed": float64(p.Lapsed), "participants.end": float64(p.End),
		"participants.growth": float64(p.Growth),
	} {
		number(t, "summary/"+key, summary[key], v)
	}
	if summary["campaign_id"].v != campaignID || summary["name"].v != "Test drive" || summary["enrolled"].v != "5" {
		t.Errorf("summary: campaign %q, name %q, enrolled %q", summary["campaign_id"].v, summary["name"].v, summary["enrolled"].v)
	}

	units := sheets[report.SheetUnits]
	if got := texts(units[0]); !slices.Equal(got, report.UnitHeadings) {
		t.Errorf("units headings %v", got)
	}
	if len(units)-1 != len(r.Units) {
		t.Fatalf("units sheet: %d rows, want %d", len(units)-1, len(r.Units))
	}
	for i, u := range r.Units {
		row := units[i+1]
		if got := texts(row[:4]); !slices.Equal(got, []string{u.Level, u.Code, u.Name, u.Parent}) {
			t.Errorf("unit row %d: %v, want %s %s %s %s", i+2, got, u.Level, u.Code, u.Name, u.Parent)
		}
		number(t, "units/"+u.Code+"/target", at(row, 4), float64(u.Target))
		number(t, "units/"+u.Code+"/enrolled", at(row, 5), float64(u.Enrolled))
		number(t, "units/"+u.Code+"/pct", at(row, 6), u.Pct)
	}

	groups := sheets[report.SheetGroups]
	if len(groups)-1 != len(r.Groups) {
		t.Fatalf("groups sheet: %d rows, want %d", len(groups)-1, len(r.Groups))
	}
	for i, g := range r.Groups {
		row := groups[i+1]
		if at(row, 0).v != g.Code || at(row, 1).v != g.Name {
			t.Errorf("group row %d: %v", i+2, texts(row))
		}
		number(t, "groups/"+g.Code+"/leads", at(row, 3), float64(g.Leads))
		number(t, "groups/"+g.Code+"/enrolled", at(row, 8), float64(g.Enrolled))
	}

	agents := sheets[report.SheetAgents]
	if len(agents)-1 != len(r.Agents) || len(r.Agents) != 11 {
		t.Fatalf("agents sheet: %d rows, want the report's %d (11)", len(agents)-1, len(r.Agents))
	}
	for i, a := range r.Agents {
		row := agents[i+1]
		if at(row, 0).v != a.Code || at(row, 1).v != a.Commune || at(row, 4).v != a.Status {
			t.Errorf("agent row %d: %v, want %s of %s, %s", i+2, texts(row), a.Code, a.Commune, a.Status)
		}
		number(t, "agents/"+a.Code+"/quota", at(row, 5), float64(a.Quota))
		number(t, "agents/"+a.Code+"/enrolled", at(row, 6), float64(a.Enrolled))
		number(t, "agents/"+a.Code+"/open", at(row, 8), float64(a.FollowUpsOpen))
	}

	reg := sheets[report.SheetParticipants]
	if want := 1 + len(p.ByDistrict) + len(p.ByGroup) + len(p.ByAgent); len(reg)-1 != want {
		t.Errorf("participants sheet: %d rows, want %d (the city, districts, groups, agents)", len(reg)-1, want)
	}
	if got := strings.Join(texts(reg[1]), ","); got != "city,test-2021,0,5,0,0,0,5" {
		t.Errorf("participants of the city: %s, want 0 at the start, 5 joined, 5 at the end", got)
	}

	// --level picks the units, as in the table.
	b.Reset()
	if err := report.WriteXLSX(&b, r, "district"); err != nil {
		t.Fatal(err)
	}
	_, sheets = readWorkbook(t, b.Bytes())
	if n := len(sheets[report.SheetUnits]) - 1; n != 2 {
		t.Errorf("a workbook of districts lists %d units, want 2", n)
	}

	// A part's workbook: its units' totals, no target groups or register, and no figures the
	// campaign does not count by unit.
	part, err := report.Within(r, []string{"001"})
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := report.WriteXLSX(&b, part, "all"); err != nil {
		t.Fatal(err)
	}
	names, sheets = readWorkbook(t, b.Bytes())
	if want := []string{report.SheetSummary, report.SheetUnits, report.SheetAgents}; !slices.Equal(names, want) {
		t.Errorf("a part's sheets %v, want %v", names, want)
	}
	summary = map[string]cell{}
	for _, row := range sheets[report.SheetSummary][1:] {
		summary[at(row, 2).v] = at(row, 1)
	}
	number(t, "part/target", summary["target"], float64(part.Target))
	number(t, "part/enrolled", summary["enrolled"], float64(part.Enrolled))
	if summary["scope"].v != "001" {
		t.Errorf("a part's scope %q, want 001", summary["scope"].v)
	}
	for _, key := range []string{"prior_year", "growth", "events.held", "follow_ups.total", "participants.start"} {
		if c, ok := summary[key]; ok {
			t.Errorf("a part's summary has %s = %q, which is not counted by unit", key, c.v)
		}
	}
	if n, want := len(sheets[report.SheetAgents])-1, len(part.Agents); n != want {
		t.Errorf("a part's agents: %d rows, want %d", n, want)
	}
}

// WriteCSVVI is the CSV's table under Vietnamese headings, after a byte-order mark, with the
// same lines; a part's has no growth line (its prior year is the whole campaign's). Shown
// failing by writing csvHeader in WriteCSVVI (the heading row) and by keeping the growth line
// in a part's CSV.
func TestWriteCSVVI(t *testing.T) {
	r := &report.Report{CampaignID: "test-2021", Name: "Thử", Target: 10, Enrolled: 4, PriorYear: 3, Growth: 1,
		Units:  []report.UnitLine{{Level: "district", Code: "001", Name: "Quận Một", Target: 10, Enrolled: 4, Pct: 40}},
		Agents: []report.AgentLine{{Code: "DL-1", Commune: "00001", Kind: "agent", Quota: 5, Enrolled: 4}}}
	var en, vi bytes.Buffer
	if err := report.Write(&en, r, "csv", "all"); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteCSVVI(&vi, r, report.AgentsOf(r)); err != nil {
		t.Fatal(err)
	}
	body, ok := strings.CutPrefix(vi.String(), "\ufeff")
	if !ok {
		t.Fatalf("no byte-order mark: %q", vi.String()[:10])
	}
	enRows, _ := csv.NewReader(&en).ReadAll()
	viRows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if viRows[0][0] != "Phần" || viRows[0][6] != "Đã tham gia" || len(viRows[0]) != len(enRows[0]) {
		t.Errorf("Vietnamese heading row %v", viRows[0])
	}
	if !slices.EqualFunc(enRows[1:], viRows[1:], slices.Equal) {
		t.Errorf("lines differ:\n%v\n%v", enRows[1:], viRows[1:])
	}

	part, err := report.Within(r, []string{"001"})
	if err != nil {
		t.Fatal(err)
	}
	vi.Reset()
	if err := report.WriteCSVVI(&vi, part, report.AgentsOf(part)); err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(vi.String(), "\ufeff"))).ReadAll()
	for _, row := range rows {
		if row[0] == "growth" {
			t.Errorf("a part's CSV has a growth line: %v", row)
		}
	}
	if got := strings.Join(rows[1][:13], ","); got != "city,city,test-2021,Thử,,10,4,40.00,,,,," {
		t.Errorf("a part's city line %q", got)
	}
}

// Names and codes in a workbook cannot run as formulas: every text cell is written as text
// (no cell holds a formula), and one beginning with what starts a formula is written after an
// apostrophe, as in the CSV, so that it stays text when the sheet is saved as CSV; numbers stay
// numbers. Shown failing by writing text cells without textCell (name {v:=HYPERLINK(…)}).
func TestXLSXCellsCannotRunAsFormulas(t *testing.T) {
	r := &report.Report{CampaignID: "test-2021", Name: `=HYPERLINK("http://evil.example","open")`, Target: 10, PriorYear: 12, Growth: -2,
		Units: []report.UnitLine{
			{Level: "district", Code: "001", Name: "+cmd|' /C calc'!A0", Target: 10},
			{Level: "commune", Code: "@SUM(1)", Name: "-2+3", Parent: "001", Target: 10},
			{Level: "village", Code: "\tx", Name: "Thôn Một", Parent: "@SUM(1)", Target: 10},
		}}
	var b bytes.Buffer
	if err := report.Write(&b, r, "xlsx", "all"); err != nil {
		t.Fatal(err)
	}
	_, sheets := readWorkbook(t, b.Bytes())
	summary := map[string]cell{}
	for _, row := range sheets[report.SheetSummary][1:] {
		summary[at(row, 2).v] = at(row, 1)
	}
	if got := summary["name"]; got.v != `'=HYPERLINK("http://evil.example","open")` || got.num {
		t.Errorf("name %+v", got)
	}
	number(t, "growth", summary["growth"], -2)
	units := sheets[report.SheetUnits]
	for i, want := range [][]string{
		{"district", "001", "'+cmd|' /C calc'!A0", ""},
		{"commune", "'@SUM(1)", "'-2+3", "001"},
		{"village", "'\tx", "Thôn Một", "'@SUM(1)"},
	} {
		if got := texts(units[i+1][:4]); !slices.Equal(got, want) {
			t.Errorf("unit row %d: %q, want %q", i+2, got, want)
		}
	}
	for name, rows := range sheets {
		for _, row := range rows {
			for _, c := range row {
				if len(c.v) > 0 && !c.num && strings.ContainsRune("=+-@\t\r", rune(c.v[0])) {
					t.Errorf("sheet %s: %q begins a formula", name, c.v)
				}
			}
		}
	}
}

// A workbook refuses what it cannot write, saying where. Shown failing by writing an
// unknown value with fmt.Sprint (no error for the struct).
func TestWorkbookRefusesWhatItCannotWrite(t *testing.T) {
	b, err := report.NewWorkbook("t")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Row("x"); err == nil || err.Error() != "workbook: a row before its sheet" {
		t.Errorf("a row before a sheet: %v", err)
	}
	if err := b.Sheet("Trang", "A", "B"); err != nil {
		t.Fatal(err)
	}
	if err := b.Row("x", struct{}{}); err == nil || err.Error() != `workbook: sheet "Trang", row 2, column 2: a struct {} is not text, a number, a time or yes/no` {
		t.Errorf("a struct: %v", err)
	}
	if err := b.Sheet("Trang", "A"); err == nil || !strings.Contains(err.Error(), `sheet "Trang"`) {
		t.Errorf("a second sheet of the same name: %v", err)
	}
	var w bytes.Buffer
	if _, err := report.NewCSVTable(&w, "A"); err != nil {
		t.Fatal(err)
	}
}

// agentLines makes n agents' lines, as a server reads them a page at a time.
func agentLines(n int) iter.Seq2[report.AgentLine, error] {
	return func(yield func(report.AgentLine, error) bool) {
		for i := range n {
			a := report.AgentLine{Code: fmt.Sprintf("DL-%06d-%d", i/4, i%4), Commune: fmt.Sprintf("%06d", i/4), Kind: "agent",
				Status: "active", Quota: 40 + i%7, Enrolled: i % 53, Pct: float64(i%53) * 2.5, FollowUpsOpen: i % 5}
			if !yield(a, nil) {
				return
			}
		}
	}
}

// A national campaign's 210,000 agents are written through the stream writer: the heap grows
// by a small part of what the workbook's rows amount to (they go to a temporary file, not to
// a document in memory), and every row is in the file. Streamed, the heap grew by 57 MiB
// here; shown failing by writing the agents' sheet with the File's SetSheetRow instead of the
// stream writer: it grew by 1,109 MiB.
func TestXLSXOf210000AgentsStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 210,000 rows")
	}
	const n = 210_000
	r := &report.Report{CampaignID: "national-2021", Name: "Toàn quốc", Target: 1_000_000}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // samples the heap while the workbook is written
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	var size countingWriter
	err := report.WriteXLSXStream(&size, r, "all", agentLines(n))
	close(stop)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	grew := int64(peak.Load()) - int64(before.HeapInuse)
	t.Logf("%d agents: workbook of %.1f MiB, heap grew by at most %.0f MiB", n, float64(size)/(1<<20), float64(grew)/(1<<20))
	if grew > 120<<20 {
		t.Errorf("the heap grew by %d MiB writing %d agents: the rows are held in memory", grew>>20, n)
	}

	// Every row is there (the workbook, read back as rows are streamed).
	var b bytes.Buffer
	if err := report.WriteXLSXStream(&b, r, "all", agentLines(n)); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.Rows(report.SheetAgents)
	if err != nil {
		t.Fatal(err)
	}
	count, last := 0, []string(nil)
	for rows.Next() {
		count++
		if last, err = rows.Columns(); err != nil {
			t.Fatal(err)
		}
	}
	if count != n+1 || last[0] != fmt.Sprintf("DL-%06d-%d", (n-1)/4, (n-1)%4) {
		t.Errorf("%d rows, the last %v; want %d and the last agent", count, last, n+1)
	}
}

type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}

// A failure reading the agents' lines is the workbook's failure, and nothing is written.
// Shown failing by skipping the iterator's error (no error; 12,143 bytes written).
func TestXLSXStopsOnTheAgentsError(t *testing.T) {
	boom := errors.New("read agents: connection lost")
	agents := func(yield func(report.AgentLine, error) bool) {
		if yield(report.AgentLine{Code: "DL-1"}, nil) {
			yield(report.AgentLine{}, boom)
		}
	}
	var w countingWriter
	err := report.WriteXLSXStream(&w, &report.Report{CampaignID: "x"}, "all", agents)
	if !errors.Is(err, boom) || w != 0 {
		t.Errorf("err %v, %d bytes written; want %v and nothing", err, w, boom)
	}
	var c bytes.Buffer
	if err := report.WriteCSVVI(&c, &report.Report{CampaignID: "x"}, agents); !errors.Is(err, boom) {
		t.Errorf("CSV: err %v, want %v", err, boom)
	}
}

// The workbook has a sheet of the review totals, a line per period, numbers as numbers.
// Shown failing with the sheet left out (no sheet Đánh giá).
func TestWriteXLSXHoldsTheReviewTotals(t *testing.T) {
	r := &report.Report{CampaignID: campaignID, Reviews: []store.ReviewTotal{
		{Period: "2021-Q1", Agents: 10, Rewarded: 2, Commended: 1, Retained: 3, Warned: 2, Proposed: 2, Approved: 1, Rejected: 1},
		{Period: "2021-Q2", Agents: 9, Retained: 9},
	}}
	var b bytes.Buffer
	if err := report.Write(&b, r, "xlsx", "all"); err != nil {
		t.Fatal(err)
	}
	_, sheets := readWorkbook(t, b.Bytes())
	rows := sheets[report.SheetReviews]
	if len(rows) != 3 || !slices.Equal(texts(rows[0]), report.ReviewHeadings) {
		t.Fatalf("review sheet %v", rows)
	}
	if got := texts(rows[1]); !slices.Equal(got, []string{"2021-Q1", "10", "2", "1", "3", "2", "2", "1", "1", "0"}) {
		t.Errorf("2021-Q1 line %v", got)
	}
	if !rows[1][1].num {
		t.Error("the number of agents reviewed is not a number")
	}
}
