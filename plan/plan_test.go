package plan_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"drives/units"

	"drives/plan"

	"drives/allocate"
)

// A small valid plan: 2 districts, 4 communes, 6 villages (labour force 10,000), 6 people.
const (
	testUnits = `district_code,district_name,district_type,commune_code,commune_name,commune_type
001,Quận Một,Quận,00001,Phường An,Phường
001,Quận Một,Quận,00002,Phường Bình,Phường
002,Huyện Hai,Huyện,00010,Xã Cao,Xã
002,Huyện Hai,Huyện,00011,Thị trấn Đông,Thị trấn
`
	testVillages = `commune_code,village_code,village_name,labour_force,source
00001,00001-01,Tổ dân phố 1,1000,synthetic
00001,00001-02,Tổ dân phố 2,500,synthetic
00002,00002-01,Tổ dân phố 1,1500,synthetic
00010,00010-01,Thôn 1,3000,synthetic
00010,00010-02,Thôn 2,2000,measured
00011,00011-01,Tổ dân phố 1,2000,synthetic
`
	testRoster = `code,commune_code,kind,post_office,full_name,phone,weight
CB-00001,00001,staff,no,Nguyễn Văn An,0900000001,0.5
DL-00001-1,00001,agent,no,Trần Thị Bình,0900000002,1.0
DL-00002-1,00002,agent,yes,Lê Văn Cường,0900000003,0.8
DL-00010-1,00010,agent,no,Phạm Thị Dung,0900000004,
DL-00011-1,00011,agent,no,Hoàng Văn Giang,0900000005,1
`
	testPlan = `# a small plan for tests
id: test-2021
name: Test drive
year: 2021
timezone: Asia/Ho_Chi_Minh
period:
  start: 2021-01-01
  end: 2021-12-31
clock:
  scale: 1
prior_year_enrolled: 80
target:
  rule: labour_force_share
  share: 0.01
units:
  file: units.csv
  villages_file: villages.csv
roster:
  file: roster.csv
target_groups:
  - code: farmer
    name: Nông dân
    likelihood: 0.35
  - code: student
    name: Học sinh, sinh viên
    likelihood: 0.15
events:
  - id: conf-001
    kind: conference
    unit: "001"
    date: 2021-03-01
    groups: [farmer]
  - id: d2d-00010
    kind: door_to_door
    unit: "00010"
    date: 2021-04-01
    groups: [farmer, student]
  - id: po-1
    kind: post_office_round
    unit: city
    date: 2021-05-17
    groups: [student]
follow_up:
  deadline: 30d
  reminders: [7d, 21d]
  give_up_after: 60d
  sweep_every: 7d
`
)

func testFiles() map[string]string {
	return map[string]string{"plan.yaml": testPlan, "units.csv": testUnits, "villages.csv": testVillages, "roster.csv": testRoster}
}

func mapFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for n, s := range files {
		fsys[n] = &fstest.MapFile{Data: []byte(s)}
	}
	return fsys
}

func parse(files map[string]string) (*plan.Loaded, error) {
	return plan.Parse("plan.yaml", []byte(files["plan.yaml"]), mapFS(files))
}

// edit replaces exactly one occurrence of old in a file; a test whose fixture drifted fails
// loudly instead of testing nothing.
func edit(t *testing.T, files map[string]string, name, old, new string) {
	t.Helper()
	if n := strings.Count(files[name], old); n != 1 {
		t.Fatalf("fixture %s: %q occurs %d times, want 1", name, old, n)
	}
	files[name] = strings.Replace(files[name], old, new, 1)
}

// lineOf is the 1-based line of the first occurrence of s in text.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	i := strings.Index(text, s)
	if i < 0 {
		t.Fatalf("%q not in fixture", s)
	}
	return strings.Count(text[:i], "\n") + 1
}

// wantErr is one expected problem: file, field path (or "line N: field" for CSV) and a part of
// the message.
type wantErr struct{ file, field, msg string }

func (w wantErr) String() string { return fmt.Sprintf("%s: %s: …%s…", w.file, w.field, w.msg) }

func TestValidPlan(t *testing.T) {
	lp, err := parse(testFiles())
	if err != nil {
		t.Fatal(err)
	}
	if got := lp.Units.LabourForce(); got != 10_000 {
		t.Errorf("labour force = %d, want 10000", got)
	}
	if got := lp.CityTarget(); got != 100 {
		t.Errorf("CityTarget (1%% of 10000) = %d, want 100", got)
	}
	if len(lp.Units.Districts) != 2 || len(lp.Units.Districts[0].Communes) != 2 || len(lp.Units.Districts[1].Communes[0].Villages) != 2 {
		t.Errorf("hierarchy %+v", lp.Units)
	}
	if v := lp.Units.Districts[1].Communes[0].Villages[1]; v.Code != "00010-02" || v.LabourForce != 2000 || v.Synthetic {
		t.Errorf("measured village read as %+v", v)
	}
	if len(lp.Roster) != 5 {
		t.Fatalf("roster has %d people, want 5", len(lp.Roster))
	}
	for i, want := range []units.Agent{
		{Code: "CB-00001", Commune: "00001", Kind: "staff", Name: "Nguyễn Văn An", Phone: "0900000001", Weight: 0.5},
		{Code: "DL-00001-1", Commune: "00001", Kind: "agent", Name: "Trần Thị Bình", Phone: "0900000002", Weight: 1},
		{Code: "DL-00002-1", Commune: "00002", Kind: "agent", PostOffice: true, Name: "Lê Văn Cường", Phone: "0900000003", Weight: 0.8},
		{Code: "DL-00010-1", Commune: "00010", Kind: "agent", Name: "Phạm Thị Dung", Phone: "0900000004", Weight: 1}, // empty weight: 1
	} {
		if lp.Roster[i] != want {
			t.Errorf("roster[%d] = %+v, want %+v", i, lp.Roster[i], want)
		}
	}
	p := lp.Plan
	if p.FollowUp.Deadline.String() != "30d" || len(p.FollowUp.Reminders) != 2 || p.FollowUp.Reminders[1].String() != "21d" {
		t.Errorf("follow_up %+v", p.FollowUp)
	}
	if p.Events[0].Date != (plan.Date{Y: 2021, M: 3, D: 1}) || p.Events[2].Unit != plan.CityWide {
		t.Errorf("events %+v", p.Events)
	}
	if len(lp.Hash) != 64 {
		t.Errorf("hash %q", lp.Hash)
	}

	// Absolute rule.
	files := testFiles()
	edit(t, files, "plan.yaml", "  rule: labour_force_share\n  share: 0.01\n", "  rule: absolute\n  absolute: 250\n")
	lp2, err := parse(files)
	if err != nil {
		t.Fatal(err)
	}
	if got := lp2.CityTarget(); got != 250 {
		t.Errorf("CityTarget (absolute 250) = %d", got)
	}
	// A share rounds to the nearest participant: 0.00125 × 10000 = 12.5 → 13.
	files = testFiles()
	edit(t, files, "plan.yaml", "share: 0.01", "share: 0.00125")
	lp3, err := parse(files)
	if err != nil {
		t.Fatal(err)
	}
	if got := lp3.CityTarget(); got != 13 {
		t.Errorf("CityTarget (0.00125 × 10000) = %d, want 13", got)
	}
}

func TestValidPlanDefaults(t *testing.T) {
	files := testFiles()
	edit(t, files, "plan.yaml", "timezone: Asia/Ho_Chi_Minh\n", "")
	edit(t, files, "plan.yaml", "clock:\n  scale: 1\n", "")
	edit(t, files, "plan.yaml", "  give_up_after: 60d\n  sweep_every: 7d\n", "")
	lp, err := parse(files)
	if err != nil {
		t.Fatal(err)
	}
	p := lp.Plan
	if p.Timezone != plan.DefaultTimezone || p.Clock.Scale != 1 || p.FollowUp.GiveUpAfter.String() != "60d" || p.FollowUp.SweepEvery.String() != "7d" {
		t.Errorf("defaults: timezone %q, scale %v, give up %s, sweep %s", p.Timezone, p.Clock.Scale, p.FollowUp.GiveUpAfter, p.FollowUp.SweepEvery)
	}
}

func TestValidPlanBOM(t *testing.T) {
	files := testFiles()
	files["roster.csv"] = "\ufeff" + files["roster.csv"]
	if _, err := parse(files); err != nil {
		t.Fatalf("a UTF-8 BOM before the header (as spreadsheets write it) is refused: %v", err)
	}
}

// TestPlanHash loads the plan from a folder: the hash is stable across loads and changes when
// any byte of any file changes.
func TestPlanHash(t *testing.T) {
	dir := t.TempDir()
	write := func(files map[string]string) {
		for n, s := range files {
			if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	load := func() string {
		t.Helper()
		lp, err := plan.Load(filepath.Join(dir, "plan.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		return lp.Hash
	}
	write(testFiles())
	h1, h2 := load(), load()
	if h1 != h2 {
		t.Fatalf("hash differs across loads of the same files: %s vs %s", h1, h2)
	}
	seen := map[string]string{h1: "original"}
	for _, c := range []struct{ file, old, new string }{
		{"roster.csv", "0900000005", "0900000006"},          // one byte of the roster
		{"villages.csv", "Thôn 2,2000", "Thôn 2,2001"},      // one byte of the villages
		{"units.csv", "Xã Cao", "Xã Cau"},                   // one byte of the register
		{"plan.yaml", "# a small plan", "# a smaller plan"}, // a comment in the plan
	} {
		files := testFiles()
		edit(t, files, c.file, c.old, c.new)
		write(files)
		h := load()
		if prev, dup := seen[h]; dup {
			t.Errorf("changing %s (%s → %s) gives the same hash as %s", c.file, c.old, c.new, prev)
		}
		seen[h] = c.file
		write(testFiles())
		if h := load(); h != h1 {
			t.Errorf("restoring %s does not restore the hash", c.file)
		}
	}
}

// TestLoadPlanRelativeFiles: files are named relative to the plan's folder, and may be in a
// folder above it (a shared register).
func TestLoadPlanRelativeFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "plans", "p")
	if err := os.MkdirAll(filepath.Join(root, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := testFiles()
	edit(t, files, "plan.yaml", "file: units.csv", "file: ../../data/units.csv")
	if err := os.WriteFile(filepath.Join(root, "data", "units.csv"), []byte(files["units.csv"]), 0o644); err != nil {
		t.Fatal(err)
	}
	delete(files, "units.csv")
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lp, err := plan.Load(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if lp.CityTarget() != 100 {
		t.Errorf("target %d", lp.CityTarget())
	}

	_, err = plan.Load(filepath.Join(root, "missing.yaml"))
	var pe plan.Errors
	if !errors.As(err, &pe) || len(pe) != 1 || !strings.Contains(pe[0].Msg, "cannot read") {
		t.Errorf("missing plan: %v", err)
	}
}

// A plan may name its files by absolute path; a file that is missing is reported with the path
// tried.
func TestLoadPlanAbsoluteFiles(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "plan")
	data := filepath.Join(root, "data")
	for _, d := range []string{dir, data} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := testFiles()
	units := filepath.Join(data, "units.csv")
	edit(t, files, "plan.yaml", "file: units.csv", "file: "+units)
	if err := os.WriteFile(units, []byte(files["units.csv"]), 0o644); err != nil {
		t.Fatal(err)
	}
	delete(files, "units.csv")
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lp, err := plan.Load(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if lp.CityTarget() != 100 {
		t.Errorf("target %d", lp.CityTarget())
	}

	missing := filepath.Join(data, "roster.csv")
	edit(t, files, "plan.yaml", "file: roster.csv", "file: "+missing)
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(files["plan.yaml"]), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = plan.Load(filepath.Join(dir, "plan.yaml"))
	var pe plan.Errors
	want := "cannot read " + missing + ": no such file or directory"
	if !errors.As(err, &pe) || len(pe) != 1 || pe[0].File != missing || pe[0].Msg != want {
		t.Errorf("missing absolute file: %v, want %q", err, want)
	}

	edit(t, files, "plan.yaml", "file: "+missing, "file: staff.csv")
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(files["plan.yaml"]), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = plan.Load(filepath.Join(dir, "plan.yaml"))
	want = "cannot read " + filepath.Join(dir, "staff.csv") + ": no such file or directory"
	if !errors.As(err, &pe) || len(pe) != 1 || pe[0].File != "staff.csv" || pe[0].Msg != want {
		t.Errorf("missing relative file: %v, want %q", err, want)
	}
}

func TestBadPlans(t *testing.T) {
	type tc struct {
		name   string
		mutate func(t *testing.T, f map[string]string)
		want   func(t *testing.T, f map[string]string) []wantErr
		// more: further problems may follow the wanted ones (knock-on effects).
		more bool
	}
	inPlan := func(old, new string) func(t *testing.T, f map[string]string) {
		return func(t *testing.T, f map[string]string) { edit(t, f, "plan.yaml", old, new) }
	}
	file := func(name, old, new string) func(t *testing.T, f map[string]string) {
		return func(t *testing.T, f map[string]string) { edit(t, f, name, old, new) }
	}
	fixed := func(ws ...wantErr) func(t *testing.T, f map[string]string) []wantErr {
		return func(*testing.T, map[string]string) []wantErr { return ws }
	}
	// atLine: a YAML problem, reported with the line where marker now is.
	atLine := func(marker, msg string) func(t *testing.T, f map[string]string) []wantErr {
		return func(t *testing.T, f map[string]string) []wantErr {
			return []wantErr{{"plan.yaml", "", fmt.Sprintf("line %d: %s", lineOf(t, f["plan.yaml"], marker), msg)}}
		}
	}
	const target = "  rule: labour_force_share\n  share: 0.01\n"
	cases := []tc{
		{name: "unknown unit in an event", mutate: inPlan(`unit: "00010"`, `unit: "99999"`),
			want: fixed(wantErr{"plan.yaml", "events[1].unit", `unknown unit "99999"`})},
		{name: "village code is not a unit of an event", mutate: inPlan(`unit: "00010"`, `unit: "00010-01"`),
			want: fixed(wantErr{"plan.yaml", "events[1].unit", `unknown unit "00010-01"`})},
		{name: "absolute target 0", mutate: inPlan(target, "  rule: absolute\n  absolute: 0\n"),
			want: fixed(wantErr{"plan.yaml", "target.absolute", "must be a positive number of participants, got 0"})},
		{name: "absolute target -5", mutate: inPlan(target, "  rule: absolute\n  absolute: -5\n"),
			want: fixed(wantErr{"plan.yaml", "target.absolute", "must be a positive number of participants, got -5"})},
		{name: "share 0", mutate: inPlan("share: 0.01", "share: 0"),
			want: fixed(wantErr{"plan.yaml", "target.share", "must be above 0 and at most 1"})},
		{name: "share 1.5", mutate: inPlan("share: 0.01", "share: 1.5"),
			want: fixed(wantErr{"plan.yaml", "target.share", "must be above 0 and at most 1"})},
		{name: "share -0.01", mutate: inPlan("share: 0.01", "share: -0.01"),
			want: fixed(wantErr{"plan.yaml", "target.share", "must be above 0 and at most 1"})},
		{name: "share with absolute rule", mutate: inPlan(target, "  rule: absolute\n  absolute: 5\n  share: 0.01\n"),
			want: fixed(wantErr{"plan.yaml", "target.share", "is not used with rule absolute"})},
		{name: "override of an unknown unit", mutate: inPlan(target, target+"  overrides: {\"99999\": 5, \"00010-01\": 3}\n"),
			want: fixed(wantErr{"plan.yaml", "target.overrides.00010-01", "is neither a district nor a commune"},
				wantErr{"plan.yaml", "target.overrides.99999", "is neither a district nor a commune"})},
		{name: "negative override", mutate: inPlan(target, target+"  overrides: {\"001\": -1}\n"),
			want: fixed(wantErr{"plan.yaml", "target.overrides.001", "must not be negative, got -1"})},
		{name: "pinned communes above their district", mutate: inPlan(target, target+"  overrides: {\"002\": 60, \"00010\": 61}\n"),
			want: fixed(wantErr{"plan.yaml", "target.overrides", "the pinned communes of district 002 add up to 61, more than its target of 60"})},
		{name: "every commune pinned against the district", mutate: inPlan(target, target+"  overrides: {\"002\": 60, \"00010\": 40, \"00011\": 10}\n"),
			want: fixed(wantErr{"plan.yaml", "target.overrides.002", "is 60, but every commune of district 002 is pinned and they add up to 50"})},
		{name: "unknown target rule", mutate: inPlan("rule: labour_force_share", "rule: everyone"),
			want: fixed(wantErr{"plan.yaml", "target.rule", `got "everyone"`})},
		{name: "share rounding to a zero target", mutate: inPlan("share: 0.01", "share: 0.00001"),
			want: fixed(wantErr{"plan.yaml", "target", "gives a city target of 0; it must be positive"})},
		{name: "event after the period", mutate: inPlan("date: 2021-04-01", "date: 2022-01-05"),
			want: fixed(wantErr{"plan.yaml", "events[1].date", "2022-01-05 is outside the period 2021-01-01..2021-12-31"})},
		{name: "event before the period", mutate: inPlan("date: 2021-03-01", "date: 2020-12-31"),
			want: fixed(wantErr{"plan.yaml", "events[0].date", "2020-12-31 is outside the period"})},
		{name: "event without a date", mutate: inPlan("    date: 2021-05-17\n", ""),
			want: fixed(wantErr{"plan.yaml", "events[2].date", "is required"})},
		{name: "duplicate event id", mutate: inPlan("id: po-1", "id: conf-001"),
			want: fixed(wantErr{"plan.yaml", "events[2].id", `duplicate event id "conf-001"`})},
		{name: "event id taken by a city-wide event's expansion", mutate: inPlan("id: conf-001", "id: po-1.001"),
			want: fixed(wantErr{"plan.yaml", "events[0].id", ""})},
		{name: "bad event id", mutate: inPlan("id: po-1", "id: PO 1"),
			want: fixed(wantErr{"plan.yaml", "events[2].id", "must be 1 to 63 lower-case letters"})},
		{name: "unknown event kind", mutate: inPlan("kind: door_to_door", "kind: rally"),
			want: fixed(wantErr{"plan.yaml", "events[1].kind", `got "rally"`})},
		{name: "unknown group in an event", mutate: inPlan("groups: [farmer, student]", "groups: [farmer, pupil]"),
			want: fixed(wantErr{"plan.yaml", "events[1].groups[1]", `unknown target group "pupil"`})},
		{name: "event without groups", mutate: inPlan("groups: [student]", "groups: []"),
			want: fixed(wantErr{"plan.yaml", "events[2].groups", "name at least one target group"})},
		{name: "negative attendance", mutate: inPlan("groups: [student]\n", "groups: [student]\n    expected_attendance: -1\n"),
			want: fixed(wantErr{"plan.yaml", "events[2].expected_attendance", "must not be negative"})},
		{name: "duplicate target group", mutate: inPlan("  - code: student", "  - code: farmer"),
			want: fixed(wantErr{"plan.yaml", "target_groups[1].code", `duplicate target group "farmer"`}), more: true},
		{name: "likelihood above 1", mutate: inPlan("likelihood: 0.15", "likelihood: 1.5"),
			want: fixed(wantErr{"plan.yaml", "target_groups[1].likelihood", "must be between 0 and 1"})},
		{name: "no target groups", mutate: func(t *testing.T, f map[string]string) {
			edit(t, f, "plan.yaml", "  - code: farmer\n    name: Nông dân\n    likelihood: 0.35\n  - code: student\n    name: Học sinh, sinh viên\n    likelihood: 0.15\n", "")
			edit(t, f, "plan.yaml", "target_groups:\n", "target_groups: []\n")
		}, want: fixed(wantErr{"plan.yaml", "target_groups", "at least one target group is required"}), more: true},
		{name: "bad campaign id", mutate: inPlan("id: test-2021", "id: Test_2021"),
			want: fixed(wantErr{"plan.yaml", "id", "must be 2 to 63 lower-case letters"})},
		{name: "empty name", mutate: inPlan("name: Test drive", `name: ""`),
			want: fixed(wantErr{"plan.yaml", "name", "must not be empty"})},
		{name: "unknown time zone", mutate: inPlan("timezone: Asia/Ho_Chi_Minh", "timezone: Asia/Hanoi_City"),
			want: fixed(wantErr{"plan.yaml", "timezone", `unknown time zone "Asia/Hanoi_City"`})},
		{name: "period end before start", mutate: inPlan("end: 2021-12-31", "end: 2020-12-31"),
			want: fixed(wantErr{"plan.yaml", "period.end", "2020-12-31 is not after period.start 2021-01-01"}), more: true},
		{name: "year does not match the period", mutate: inPlan("year: 2021", "year: 2020"),
			want: fixed(wantErr{"plan.yaml", "year", "2020 does not match period.start 2021-01-01"})},
		{name: "clock scale below 1", mutate: inPlan("scale: 1", "scale: 0.5"),
			want: fixed(wantErr{"plan.yaml", "clock.scale", "must be 1 (real time) or more"})},
		{name: "negative prior year", mutate: inPlan("prior_year_enrolled: 80", "prior_year_enrolled: -1"),
			want: fixed(wantErr{"plan.yaml", "prior_year_enrolled", "must not be negative"})},
		{name: "previous campaign and a typed prior year", mutate: inPlan("prior_year_enrolled: 80\n", "prior_year_enrolled: 80\nprevious_campaign: test-2020\n"),
			want: fixed(wantErr{"plan.yaml", "prior_year_enrolled", "is taken from the register of previous_campaign test-2020; give one or the other"})},
		{name: "previous campaign not an id", mutate: inPlan("prior_year_enrolled: 80\n", "previous_campaign: Test 2020\n"),
			want: fixed(wantErr{"plan.yaml", "previous_campaign", `"Test 2020" is not a campaign id`})},
		{name: "renewal grace of no days", mutate: inPlan("prior_year_enrolled: 80\n", "prior_year_enrolled: 80\nrenewals: {lead_time: 15d, grace: 12h}\n"),
			want: fixed(wantErr{"plan.yaml", "renewals.grace", "12h0m0s must be whole days, from 1d to 365d"})},
		{name: "renewal lead time too long", mutate: inPlan("prior_year_enrolled: 80\n", "prior_year_enrolled: 80\nrenewals: {lead_time: 120d}\n"),
			want: fixed(wantErr{"plan.yaml", "renewals.lead_time", "120d must be whole days, from 0d to 90d"})},
		{name: "reminder at the deadline", mutate: inPlan("reminders: [7d, 21d]", "reminders: [7d, 30d]"),
			want: fixed(wantErr{"plan.yaml", "follow_up.reminders[1]", "30d must be after 0 and before the deadline 30d"})},
		{name: "reminder after the deadline", mutate: inPlan("reminders: [7d, 21d]", "reminders: [45d]"),
			want: fixed(wantErr{"plan.yaml", "follow_up.reminders[0]", "45d must be after 0 and before the deadline 30d"})},
		{name: "reminders out of order", mutate: inPlan("reminders: [7d, 21d]", "reminders: [21d, 7d]"),
			want: fixed(wantErr{"plan.yaml", "follow_up.reminders[1]", "7d must come after the reminder before it"})},
		{name: "zero deadline", mutate: inPlan("deadline: 30d", "deadline: 0s"),
			want: fixed(wantErr{"plan.yaml", "follow_up.deadline", "must be a positive duration"}), more: true},
		{name: "give up before the deadline", mutate: inPlan("give_up_after: 60d", "give_up_after: 20d"),
			want: fixed(wantErr{"plan.yaml", "follow_up.give_up_after", "20d must not be before the deadline 30d"})},
		{name: "no units file", mutate: inPlan("  file: units.csv\n", ""),
			want: fixed(wantErr{"plan.yaml", "units.file", "is required"}), more: true},
		{name: "no roster file", mutate: inPlan("  file: roster.csv\n", ""),
			want: fixed(wantErr{"plan.yaml", "roster.file", "is required"})},

		// YAML: the decoder's problems carry the line.
		{name: "malformed YAML", mutate: inPlan("groups: [farmer]\n", "groups: [farmer\n"),
			// The flow sequence opens on line 32; the YAML library reports the line before it.
			want: fixed(wantErr{"plan.yaml", "", "line 31: did not find expected ',' or ']'"})},
		{name: "tab indentation", mutate: inPlan("  start: 2021-01-01", "\tstart: 2021-01-01"),
			want: atLine("\tstart", "found character that cannot start any token")},
		{name: "unknown top-level field", mutate: inPlan("prior_year_enrolled: 80\n", "prior_year_enrolled: 80\ncolour: red\n"),
			want: atLine("colour: red", "unknown field colour (not part of a plan)")},
		{name: "unknown nested field", mutate: inPlan("deadline: 30d", "deadlinez: 30d"),
			want: atLine("deadlinez", "unknown field deadlinez (not part of a plan)")},
		{name: "unknown event field", mutate: inPlan("    kind: conference\n", "    kind: conference\n    venue: town hall\n"),
			want: atLine("venue", "unknown field venue (not part of a plan)")},
		{name: "duplicate key", mutate: inPlan("year: 2021\n", "year: 2021\nyear: 2022\n"),
			want: atLine("year: 2022", `mapping key "year" already defined`)},
		{name: "wrong type", mutate: inPlan("prior_year_enrolled: 80", "prior_year_enrolled: many"),
			want: atLine("prior_year_enrolled: many", "cannot unmarshal !!str `many` into int")},
		{name: "two YAML documents", mutate: func(t *testing.T, f map[string]string) { f["plan.yaml"] += "---\nid: other-2021\n" },
			want: fixed(wantErr{"plan.yaml", "", "more than one YAML document; a plan is one document"})},
		{name: "two YAML documents, the second malformed", mutate: func(t *testing.T, f map[string]string) { f["plan.yaml"] += "---\nid: [\n" },
			want: fixed(wantErr{"plan.yaml", "", ""})},
		{name: "empty plan", mutate: func(t *testing.T, f map[string]string) { f["plan.yaml"] = "" },
			want: fixed(wantErr{"plan.yaml", "", "the file is empty"})},
		// Found by FuzzParsePlan: the decoder gives no line for a problem on the first line.
		{name: "syntax error on the first line", mutate: inPlan("# a small plan for tests", "id: a: b"),
			want: fixed(wantErr{"plan.yaml", "", "line 1: mapping values are not allowed in this context"})},
		{name: "control character", mutate: inPlan("name: Test drive", "name: Test\x01drive"),
			want: atLine("name: Test", "character U+0001 is not allowed in YAML")},
		{name: "not UTF-8", mutate: inPlan("name: Test drive", "name: Test\xffdrive"),
			want: atLine("name: Test", "the file is not UTF-8 text")},
		{name: "unknown alias", mutate: inPlan("groups: [student]", "groups: *students"),
			want: atLine("*students", "unknown anchor 'students' referenced")},
		{name: "bad duration", mutate: inPlan("deadline: 30d", "deadline: 30x"),
			want: atLine("30x", `"30x" is not a duration (like 30d, 12h)`)},
		{name: "bad date", mutate: inPlan("start: 2021-01-01", "start: 2021-13-01"),
			want: atLine("2021-13-01", `"2021-13-01" is not a date (YYYY-MM-DD)`)},
		// Whatever the line fix, the value and the file are named today.
		{name: "bad duration names the value", mutate: inPlan("sweep_every: 7d", "sweep_every: weekly"),
			want: fixed(wantErr{"plan.yaml", "", `"weekly" is not a duration (like 30d, 12h)`})},
		{name: "bad date names the value", mutate: inPlan("date: 2021-04-01", "date: 2021-02-30"),
			want: fixed(wantErr{"plan.yaml", "", `"2021-02-30" is not a date (YYYY-MM-DD)`})},

		// CSV files: file, line and column.
		{name: "commune without agent", mutate: file("roster.csv", "DL-00002-1,00002,agent,yes,Lê Văn Cường,0900000003,0.8\n", ""),
			want: fixed(wantErr{"roster.csv", "", "commune 00002 (Phường Bình) has no agent or staff member to hold its quota"})},
		{name: "roster header", mutate: file("roster.csv", "full_name,phone", "name,phone"),
			want: fixed(wantErr{"roster.csv", "line 1: header", `want "code,commune_code,kind,post_office,full_name,phone,weight"`}), more: true},
		{name: "villages header", mutate: file("villages.csv", "labour_force,source", "labor_force,source"),
			want: fixed(wantErr{"villages.csv", "line 1: header", `want "commune_code,village_code,village_name,labour_force,source"`}), more: true},
		{name: "units header with a column missing", mutate: file("units.csv", ",commune_type\n", "\n"),
			want: fixed(wantErr{"units.csv", "line 1: header", "wrong number of fields"}), more: true},
		{name: "unknown commune in roster", mutate: file("roster.csv", "DL-00001-1,00001,", "DL-00001-1,99999,"),
			want: fixed(wantErr{"roster.csv", "line 3: commune_code", `unknown commune "99999"`})},
		{name: "unknown commune in villages", mutate: file("villages.csv", "00001,00001-02,", "00009,00001-02,"),
			want: fixed(wantErr{"villages.csv", "line 3: commune_code", `unknown commune "00009"`})},
		{name: "labour force not a number", mutate: file("villages.csv", "Tổ dân phố 2,500,", "Tổ dân phố 2,năm trăm,"),
			want: fixed(wantErr{"villages.csv", "line 3: labour_force", "must be a whole number, 0 or more"})},
		{name: "negative labour force", mutate: file("villages.csv", "Thôn 2,2000,", "Thôn 2,-2000,"),
			want: fixed(wantErr{"villages.csv", "line 6: labour_force", "must be a whole number, 0 or more"})},
		{name: "bad labour force source", mutate: file("villages.csv", "Thôn 2,2000,measured", "Thôn 2,2000,guessed"),
			want: fixed(wantErr{"villages.csv", "line 6: source", `must be "synthetic" or "measured"`})},
		{name: "commune without villages", mutate: file("villages.csv", "00002,00002-01,Tổ dân phố 1,1500,synthetic\n", ""),
			want: fixed(wantErr{"villages.csv", "", "commune 00002 has no villages"})},
		{name: "village code used twice", mutate: file("villages.csv", "00001,00001-02,", "00001,00001-01,"),
			want: fixed(wantErr{"villages.csv", "line 3: village_code", "code 00001-01 is already used by a village"})},
		{name: "commune code used twice", mutate: file("units.csv", "002,Huyện Hai,Huyện,00011,", "002,Huyện Hai,Huyện,00010,"),
			want: fixed(wantErr{"units.csv", "line 5: commune_code", "code 00010 is already used by a commune"}), more: true},
		{name: "district named two ways", mutate: file("units.csv", "002,Huyện Hai,Huyện,00011,", "002,Huyện Ba,Huyện,00011,"),
			want: fixed(wantErr{"units.csv", "line 5: district_name", "district 002 is named differently on an earlier line"}), more: true},
		{name: "bad commune code", mutate: file("units.csv", "00002,Phường Bình", "2a,Phường Bình"),
			want: fixed(wantErr{"units.csv", "line 3: commune_code", "must be 3 to 8 digits"}), more: true},
		{name: "agent listed twice", mutate: file("roster.csv", "DL-00010-1,00010", "DL-00001-1,00010"),
			want: fixed(wantErr{"roster.csv", "line 5: code", `agent "DL-00001-1" is listed twice`}), more: true},
		{name: "unknown agent kind", mutate: file("roster.csv", "00010,agent", "00010,volunteer"),
			want: fixed(wantErr{"roster.csv", "line 5: kind", `must be "agent" or "staff"`}), more: true},
		{name: "bad post_office", mutate: file("roster.csv", "00002,agent,yes", "00002,agent,maybe"),
			want: fixed(wantErr{"roster.csv", "line 4: post_office", `must be "yes" or "no"`}), more: true},
		{name: "zero weight", mutate: file("roster.csv", "0900000005,1\n", "0900000005,0\n"),
			want: fixed(wantErr{"roster.csv", "line 6: weight", "must be a number above 0"}), more: true},
		{name: "empty full name", mutate: file("roster.csv", "Hoàng Văn Giang", ""),
			want: fixed(wantErr{"roster.csv", "line 6: full_name", "must not be empty"}), more: true},
		{name: "row with too few fields", mutate: file("roster.csv", ",0900000005,1\n", ",0900000005\n"),
			want: fixed(wantErr{"roster.csv", "line 6", "wrong number of fields"}), more: true},
		{name: "row with an unterminated quote", mutate: file("roster.csv", "Hoàng Văn Giang", `"Hoàng Văn Giang`),
			want: fixed(wantErr{"roster.csv", "line 6", `extraneous or missing " in quoted-field`}), more: true},
		{name: "row with an unterminated quote in its first field", mutate: file("roster.csv", "DL-00011-1,", `"DL-00011-1,`),
			want: fixed(wantErr{"roster.csv", "line 6", `extraneous or missing " in quoted-field`}), more: true},
		// Found by FuzzParsePlan: accepted, then the launch failed storing the plan as JSON.
		{name: "infinite reward score", mutate: inPlan("  sweep_every: 7d\n", "  sweep_every: 7d\nreview:\n  policy:\n    reward_at: .inf\n"),
			want: fixed(wantErr{"plan.yaml", "review.policy.reward_at", "must be a finite score"})},
		// Found by FuzzParsePlan: the refusal repeated the phone number.
		{name: "phone number in the roster's commune column", mutate: file("roster.csv", "DL-00010-1,00010,agent,no,Phạm Thị Dung,0900000004,", "DL-00010-1,0900000004,agent,no,Phạm Thị Dung,00010,"),
			want: fixed(wantErr{"roster.csv", "line 5: commune_code", "unknown commune"}), more: true},
		// Found by FuzzParsePlan: accepted, and the stored plan (JSON) came back with the bytes changed.
		{name: "roster not UTF-8", mutate: file("roster.csv", "Hoàng Văn Giang", "Ho\xe0ng V\xe0n Giang"),
			want: fixed(wantErr{"roster.csv", "line 6", "the file is not UTF-8 text"})},
		// One problem, not one more for every commune, village or event that depends on the file.
		{name: "missing roster file", mutate: func(t *testing.T, f map[string]string) { delete(f, "roster.csv") },
			want: fixed(wantErr{"roster.csv", "", "cannot read"})},
		{name: "wrong header in the register", mutate: file("units.csv", "district_code,", "district,"),
			want: fixed(wantErr{"units.csv", "line 1: header", "want"})},
		{name: "missing villages file", mutate: func(t *testing.T, f map[string]string) { delete(f, "villages.csv") },
			want: fixed(wantErr{"villages.csv", "", "cannot read"})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := testFiles()
			c.mutate(t, files)
			want := c.want(t, files)
			var (
				lp  *plan.Loaded
				err error
				pnc any
			)
			func() {
				defer func() { pnc = recover() }()
				lp, err = parse(files)
			}()
			if err != nil {
				t.Log(err)
			}
			problem := ""
			var pe plan.Errors
			switch {
			case pnc != nil:
				problem = fmt.Sprintf("ParsePlan panicked: %v", pnc)
			case err == nil:
				problem = fmt.Sprintf("plan accepted (target %d), want %v", lp.CityTarget(), want)
			case !errors.As(err, &pe):
				problem = fmt.Sprintf("error is %T, not plan.Errors: %v", err, err)
			case len(pe) < len(want) || (!c.more && len(pe) != len(want)):
				problem = fmt.Sprintf("got %d problems, want %d: %v", len(pe), len(want), err)
			default:
				for i, w := range want {
					g := pe[i]
					prefix := w.file + ": "
					if w.field != "" {
						prefix += w.field + ": "
					}
					if g.File != w.file || g.Field != w.field || !strings.Contains(g.Msg, w.msg) || !strings.HasPrefix(g.Error(), prefix) || !strings.Contains(err.Error(), prefix) {
						problem += fmt.Sprintf("\nproblem %d: got %q, want %v", i, g.Error(), w)
					}
				}
			}
			if problem == "" {
				return
			}
			t.Error(problem)
		})
	}
}

// TestAllocateLoadedPlan: the fixture plan's target of 100 over labour forces 1000+500, 1500,
// 3000+2000, 2000.
func TestAllocateLoadedPlan(t *testing.T) {
	lp, err := parse(testFiles())
	if err != nil {
		t.Fatal(err)
	}
	a := lp.Allocation()
	want := allocate.Allocation{
		City:      100,
		Districts: map[string]int{"001": 30, "002": 70},
		Communes:  map[string]int{"00001": 15, "00002": 15, "00010": 50, "00011": 20},
		Villages:  map[string]int{"00001-01": 10, "00001-02": 5, "00002-01": 15, "00010-01": 30, "00010-02": 20, "00011-01": 20},
		// 00001: 15 over staff 0.5 and agent 1 → 5, 10.
		Agents: map[string]int{"CB-00001": 5, "DL-00001-1": 10, "DL-00002-1": 15, "DL-00010-1": 50, "DL-00011-1": 20},
	}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("allocation\n got %+v\nwant %+v", a, want)
	}
}

// TestAllocatePinnedTargets: pinning district 001 at 40 raises the city to 110 (070 keeps its
// 70) and 001's communes share 40; pinning commune 00010 at 60 leaves 00011 the other 10 of
// 002's 70; every level still adds up.
func TestAllocatePinnedTargets(t *testing.T) {
	files := testFiles()
	edit(t, files, "plan.yaml", "  share: 0.01\n", "  share: 0.01\n  overrides: {\"001\": 40, \"00010\": 60}\n")
	lp, err := parse(files)
	if err != nil {
		t.Fatal(err)
	}
	a := lp.Allocation()
	if a.City != 110 || a.Districts["001"] != 40 || a.Districts["002"] != 70 {
		t.Errorf("city %d, districts %v; want 110, 001: 40, 002: 70", a.City, a.Districts)
	}
	if a.Communes["00001"]+a.Communes["00002"] != 40 || a.Communes["00010"] != 60 || a.Communes["00011"] != 10 {
		t.Errorf("communes %v", a.Communes)
	}
	if a.Agents["DL-00010-1"] != 60 || a.Agents["DL-00011-1"] != 10 || a.Agents["CB-00001"]+a.Agents["DL-00001-1"] != a.Communes["00001"] {
		t.Errorf("agents %v", a.Agents)
	}
}
