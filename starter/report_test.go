package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"drives/activities"
	"drives/campaign"
	"drives/imports"
	"drives/internal/fixture"
	"drives/report"
)

// workbookFigures reads a report's workbook back: the summary's values by key, and the number
// of rows (headings aside) of each sheet.
func workbookFigures(t *testing.T, data []byte) (summary map[string]string, rows map[string]int) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	defer f.Close()
	summary, rows = map[string]string{}, map[string]int{}
	for _, name := range f.GetSheetList() {
		rs, err := f.GetRows(name, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		rows[name] = len(rs) - 1
		if name == report.SheetSummary {
			for _, r := range rs[1:] {
				if len(r) == 3 {
					summary[r[2]] = r[1]
				}
			}
		}
	}
	return summary, rows
}

// `starter report --format xlsx --out FILE` writes the report's workbook: its figures are
// report.Build's (of a part with --unit, report.Within's), every level of units unless
// --level is given, the file readable by all (0644) and put in place only when complete: a
// failed report leaves an earlier file of the name as it was, and no temporary file. Shown
// failing by leaving out the Chmod (mode -rw-------), by creating the --out path at once
// rather than a temporary file beside it ("a failed report changed …/report.xlsx"), and by
// not defaulting --level to all for a workbook (2 units, want every unit (16)).
func TestReportWorkbook(t *testing.T) {
	ctx := context.Background()
	pool := commandDB(t)
	c := fixture.Seed(t, pool)
	enrol := strings.Join(imports.Headers[imports.Enrolments], ",") + "\n" +
		"001000000001,Nguyễn Thị Một,0910000001,00001,00001-01,DL-00001-1,trader,1500000,other,monthly,2021-01-01\n" +
		"001000000002,Trần Văn Hai,0910000002,00010,00010-01,DL-00010-1,trader,1500000,other,monthly,2021-01-02\n"
	batch := c.Stage(imports.Enrolments, "", "e.csv", []byte(enrol))
	var res campaign.ImportResult
	c.Run(c.Acts.MergeImport, activities.MergeInput{CampaignID: fixture.CampaignID, BatchID: batch, By: "tester"}, &res)
	want, err := report.Build(ctx, pool, fixture.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	if want.Enrolled != 2 {
		t.Fatalf("seeded %d enrolments, want 2", want.Enrolled)
	}

	dir := t.TempDir()
	out := filepath.Join(dir, "report.xlsx")
	if err := os.WriteFile(out, []byte("an earlier file"), 0o600); err != nil {
		t.Fatal(err)
	}
	msg, err := starter(ctx, "report", fixture.CampaignID, "--format", "xlsx", "--out", out)
	if err != nil {
		t.Fatalf("report: %v\n%s", err, msg)
	}
	if !strings.Contains(msg, "report of test-2021 written to "+out) {
		t.Errorf("the command says %q", msg)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("%s has mode %v, want 0644", out, st.Mode().Perm())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	summary, rows := workbookFigures(t, data)
	for key, v := range map[string]int{"target": want.Target, "enrolled": want.Enrolled, "prior_year": want.PriorYear,
		"growth": want.Growth, "participants.joined": want.Participants.Joined, "participants.end": want.Participants.End} {
		if summary[key] != strconv.Itoa(v) {
			t.Errorf("summary %s = %q, want %d", key, summary[key], v)
		}
	}
	if rows[report.SheetUnits] != len(want.Units) || rows[report.SheetAgents] != len(want.Agents) {
		t.Errorf("%d units and %d agents, want every unit (%d) and agent (%d)", rows[report.SheetUnits], rows[report.SheetAgents],
			len(want.Units), len(want.Agents))
	}

	// A part, and one level of units.
	part, err := report.Within(want, []string{"001"})
	if err != nil {
		t.Fatal(err)
	}
	if msg, err := starter(ctx, "report", fixture.CampaignID, "--format", "xlsx", "--out", out, "--unit", "001", "--level", "commune"); err != nil {
		t.Fatalf("report --unit: %v\n%s", err, msg)
	}
	data, _ = os.ReadFile(out)
	summary, rows = workbookFigures(t, data)
	communes := 0
	for _, u := range part.Units {
		if u.Level == "commune" {
			communes++
		}
	}
	if summary["target"] != strconv.Itoa(part.Target) || summary["enrolled"] != strconv.Itoa(part.Enrolled) || summary["scope"] != "001" {
		t.Errorf("part's summary %v, want target %d, enrolled %d of 001", summary, part.Target, part.Enrolled)
	}
	if rows[report.SheetUnits] != communes || rows[report.SheetAgents] != len(part.Agents) {
		t.Errorf("part: %d units, %d agents; want its %d communes and %d agents", rows[report.SheetUnits], rows[report.SheetAgents], communes, len(part.Agents))
	}

	// A failure leaves the earlier file as it was, and nothing beside it.
	if msg, err := starter(ctx, "report", "no-such-campaign", "--format", "xlsx", "--out", out); err == nil || !strings.Contains(err.Error(), `unknown campaign "no-such-campaign"`) {
		t.Errorf("an unknown campaign: %v\n%s", err, msg)
	}
	if again, _ := os.ReadFile(out); !bytes.Equal(again, data) {
		t.Errorf("a failed report changed %s", out)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"report.xlsx"}) {
		t.Errorf("the folder holds %v, want report.xlsx alone", names)
	}

	// Off a terminal, the workbook goes to stdout; --out takes any format.
	stdout, err := starter(ctx, "report", fixture.CampaignID, "--format", "xlsx")
	if err != nil {
		t.Fatal(err)
	}
	if summary, _ := workbookFigures(t, []byte(stdout)); summary["enrolled"] != "2" {
		t.Errorf("the workbook on stdout says enrolled %q", summary["enrolled"])
	}
	csvOut := filepath.Join(dir, "report.csv")
	if _, err := starter(ctx, "report", fixture.CampaignID, "--format", "csv", "--out", csvOut); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(csvOut); !strings.HasPrefix(string(b), "section,level,code") {
		t.Errorf("--format csv --out wrote %.40q", b)
	}
}

// A workbook is not printed to a terminal: the command says to name a file with --out, before
// it reads anything. /dev/null stands for the terminal (a character device, as a terminal
// is). Shown failing by leaving out the terminal check ("DATABASE_URL is not set").
func TestReportWorkbookNotToATerminal(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	tty, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer tty.Close()
	root := rootCommand()
	root.SetOut(tty)
	root.SetErr(tty)
	root.SetArgs([]string{"report", "hanoi-2021", "--format", "xlsx"})
	err = root.Execute()
	if err == nil || err.Error() != "--format xlsx: a workbook is not printed to a terminal: name its file with --out FILE (or redirect stdout)" {
		t.Errorf("xlsx to a terminal: %v", err)
	}
}
