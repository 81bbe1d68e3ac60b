package report_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"drives/report"
)

// Names and codes come from plans and files that anyone may have written: in the CSV a
// spreadsheet opens, none of them may begin a cell with what starts a formula, while numbers
// (a negative growth among them) stay numbers. Shown failing by writing the names unguarded.
func TestCSVCellsCannotRunAsFormulas(t *testing.T) {
	r := &report.Report{CampaignID: "test-2021", Name: `=HYPERLINK("http://evil.example","open")`, Target: 10, PriorYear: 12, Growth: -2,
		Units: []report.UnitLine{
			{Level: "district", Code: "001", Name: "+cmd|' /C calc'!A0", Target: 10},
			{Level: "commune", Code: "@SUM(1)", Name: "-2+3", Parent: "001", Target: 10},
			{Level: "village", Code: "\tx", Name: "Thôn Một", Parent: "@SUM(1)", Target: 10},
		}}
	var b bytes.Buffer
	if err := report.Write(&b, r, "csv", "all"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string]string{} // section/code/column -> cell
	for _, row := range rows[1:] {
		for i, col := range rows[0] {
			cells[row[0]+"/"+row[2]+"/"+col] = row[i]
		}
	}
	for key, want := range map[string]string{
		"city/test-2021/name":     `'=HYPERLINK("http://evil.example","open")`,
		"unit/001/name":           "'+cmd|' /C calc'!A0",
		"unit/'@SUM(1)/name":      "'-2+3",
		"unit/'\tx/parent":        "'@SUM(1)",
		"unit/'\tx/name":          "Thôn Một",
		"growth/test-2021/growth": "-2",
	} {
		if got, ok := cells[key]; !ok || got != want {
			t.Errorf("%s = %q (found %v), want %q", key, got, ok, want)
		}
	}
	for key, cell := range cells {
		if len(cell) > 0 && bytes.ContainsRune([]byte("=+@\t\r"), rune(cell[0])) {
			t.Errorf("%s = %q begins a formula", key, cell)
		}
	}
}
