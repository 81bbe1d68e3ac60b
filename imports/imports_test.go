package imports_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"drives/contribution"
	"drives/imports"
)

var (
	enrolHeader   = strings.Join(imports.Headers[imports.Enrolments], ",") + "\n"
	leadsHeader   = strings.Join(imports.Headers[imports.Leads], ",") + "\n"
	outcomeHeader = strings.Join(imports.Headers[imports.Outcomes], ",") + "\n"
)

func citizen(n int) string { return fmt.Sprintf("0010%08d", n) }
func phone(n int) string   { return fmt.Sprintf("09%08d", 10000000+n) }
func name(n int) string    { return fmt.Sprintf("Nguyễn Thị Thử %d", n) }

// enrol is a good enrolment line for person n; set replaces fields by column name.
func enrol(n int, set ...string) string {
	f := map[string]string{
		"citizen_id": citizen(n), "full_name": name(n), "phone": phone(n), "commune_code": "00001", "village_code": "00001-01",
		"agent_code": "DL-00001-1", "target_group": "trader", "monthly_income": "1500000", "subsidy_class": "other",
		"payment_mode": "monthly", "enrolled_on": "2021-03-15",
	}
	return line(imports.Enrolments, f, set)
}

// leadLine is a good lead of district 001 for person n.
func leadLine(n int, set ...string) string {
	f := map[string]string{"citizen_id": citizen(n), "full_name": name(n), "phone": phone(n), "commune_code": "00001",
		"village_code": "00001-02", "target_group": "student"}
	return line(imports.Leads, f, set)
}

func outcomeLine(n int, set ...string) string {
	f := map[string]string{"citizen_id": citizen(n), "outcome": "declined", "reported_on": "2021-04-02"}
	return line(imports.Outcomes, f, set)
}

func line(kind imports.Kind, f map[string]string, set []string) string {
	for i := 0; i+1 < len(set); i += 2 {
		if _, ok := f[set[i]]; !ok {
			panic("no column " + set[i])
		}
		f[set[i]] = set[i+1]
	}
	var vals []string
	for _, h := range imports.Headers[kind] {
		vals = append(vals, f[h])
	}
	return strings.Join(vals, ",") + "\n"
}

// personalData lists the citizen IDs, names and phone numbers written in a file's lines.
func personalData(kind imports.Kind, data string) []string {
	r := csv.NewReader(strings.NewReader(data))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	recs, _ := r.ReadAll()
	header := imports.Headers[kind]
	var out []string
	for i, rec := range recs {
		if i == 0 {
			continue
		}
		for j, col := range header {
			if j < len(rec) && (col == "citizen_id" || col == "full_name" || col == "phone") && strings.TrimSpace(rec[j]) != "" {
				out = append(out, strings.TrimSpace(rec[j]))
			}
		}
	}
	return out
}

// importFile checks and stages a file as `starter import` does: LoadReference, Parse, Stage.
func importFile(s *seeded, kind imports.Kind, eventID, fileName string, data []byte) (batch string, rows []imports.Row, err error) {
	ref, err := imports.LoadReference(s.ctx, s.pool, campaignID, eventID)
	if err != nil {
		s.t.Fatalf("reference: %v", err)
	}
	rows, err = safeParse(kind, fileName, data, ref)
	if err != nil {
		return "", nil, err
	}
	batch, err = imports.Stage(s.ctx, s.pool, campaignID, kind, eventID, fileName, data, rows, "tester")
	return batch, rows, err
}

// safeParse is Parse, with a panic turned into an error so that one bad input does not stop
// the other tests.
func safeParse(kind imports.Kind, fileName string, data []byte, ref *imports.Reference) (rows []imports.Row, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("Parse panicked: %v", p)
		}
	}()
	return imports.Parse(kind, fileName, data, ref)
}

type at struct {
	Line  int
	Field string
}

// wantRejectedAt checks that err refuses a file with errors at exactly the lines and fields
// want, in order, and returns the refusal.
func wantRejectedAt(t *testing.T, err error, want []at) *imports.Rejected {
	t.Helper()
	var rej *imports.Rejected
	if !errors.As(err, &rej) {
		t.Fatalf("got %v, want *imports.Rejected", err)
	}
	var got []at
	for _, e := range rej.Errors {
		got = append(got, at{e.Line, e.Field})
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors at %v, want %v\n%v", got, want, err)
	}
	return rej
}

func TestBadFilesAreRefusedWholeWithLineAndField(t *testing.T) {
	s := seed(t)
	// Person 900 is a lead of conf-001; DL-00001-3 has been terminated.
	s.holdWithLeads("conf-001", []byte(leadsHeader+leadLine(900)))
	if _, err := s.pool.Exec(s.ctx, `update agents set status = 'terminated' where code = 'DL-00001-3'`); err != nil {
		t.Fatal(err)
	}
	if n := s.count(`select count(*) from import_batches`); n != 1 {
		t.Fatalf("%d import batches after seeding, want the one leads batch", n)
	}

	cases := []struct {
		name  string
		kind  imports.Kind
		event string
		data  string
		want  []at
		msg   string // in the first error's message
	}{
		{name: "wrong header", kind: imports.Enrolments,
			data: strings.Replace(enrolHeader, "full_name,phone", "phone,full_name", 1) + enrol(1),
			want: []at{{1, "header"}}, msg: "want"},
		{name: "empty file", kind: imports.Enrolments, data: "", want: []at{{1, "header"}}, msg: "empty"},
		{name: "header only", kind: imports.Enrolments, data: enrolHeader, want: []at{{2, ""}}, msg: "no rows"},
		{name: "bad citizen ID", kind: imports.Enrolments, data: enrolHeader + enrol(1) + enrol(2, "citizen_id", "00100000002X"),
			want: []at{{3, "citizen_id"}}, msg: "12 digits"},
		{name: "citizen ID of 11 digits", kind: imports.Enrolments, data: enrolHeader + enrol(1, "citizen_id", "00100000001"),
			want: []at{{2, "citizen_id"}}},
		{name: "duplicate person", kind: imports.Enrolments, data: enrolHeader + enrol(1) + enrol(2) + enrol(3, "citizen_id", citizen(1)),
			want: []at{{4, "citizen_id"}}, msg: "same person as line 2"},
		{name: "bad phone", kind: imports.Enrolments, data: enrolHeader + enrol(1, "phone", "091234567"),
			want: []at{{2, "phone"}}, msg: "10 digits"},
		{name: "phone not starting with 0", kind: imports.Enrolments, data: enrolHeader + enrol(1, "phone", "8491234567"),
			want: []at{{2, "phone"}}},
		{name: "empty name", kind: imports.Enrolments, data: enrolHeader + enrol(1, "full_name", ""),
			want: []at{{2, "full_name"}}},
		{name: "unknown commune", kind: imports.Enrolments, data: enrolHeader + enrol(1, "commune_code", "99999", "village_code", ""),
			want: []at{{2, "commune_code"}}, msg: "unknown commune"},
		{name: "village not in commune", kind: imports.Enrolments, data: enrolHeader + enrol(1, "village_code", "00002-01"),
			want: []at{{2, "village_code"}}},
		{name: "unknown agent", kind: imports.Enrolments, data: enrolHeader + enrol(1) + enrol(2, "agent_code", "DL-99999-9"),
			want: []at{{3, "agent_code"}}, msg: "unknown or inactive"},
		{name: "inactive agent", kind: imports.Enrolments, data: enrolHeader + enrol(1, "agent_code", "DL-00001-3"),
			want: []at{{2, "agent_code"}}, msg: "unknown or inactive"},
		{name: "agent of another commune", kind: imports.Enrolments, data: enrolHeader + enrol(1, "agent_code", "DL-00003-1"),
			want: []at{{2, "agent_code"}}, msg: "works in commune 00003, not 00001"},
		{name: "unknown target group", kind: imports.Enrolments, data: enrolHeader + enrol(1, "target_group", "farmer"),
			want: []at{{2, "target_group"}}},
		{name: "income below 700,000", kind: imports.Enrolments, data: enrolHeader + enrol(1, "monthly_income", "699999"),
			want: []at{{2, "monthly_income"}}, msg: "outside"},
		{name: "income above 29,800,000", kind: imports.Enrolments, data: enrolHeader + enrol(1, "monthly_income", "29800001"),
			want: []at{{2, "monthly_income"}}, msg: "outside"},
		{name: "non-numeric income", kind: imports.Enrolments, data: enrolHeader + enrol(1, "monthly_income", "1.5tr"),
			want: []at{{2, "monthly_income"}}, msg: "whole number"},
		{name: "bad subsidy class", kind: imports.Enrolments, data: enrolHeader + enrol(1, "subsidy_class", "rich"),
			want: []at{{2, "subsidy_class"}}},
		{name: "bad payment mode", kind: imports.Enrolments, data: enrolHeader + enrol(1, "payment_mode", "7m") + enrol(2, "payment_mode", "6y"),
			want: []at{{2, "payment_mode"}, {3, "payment_mode"}}},
		{name: "date before the period", kind: imports.Enrolments, data: enrolHeader + enrol(1, "enrolled_on", "2020-12-31"),
			want: []at{{2, "enrolled_on"}}, msg: "outside the campaign period"},
		{name: "date after the period", kind: imports.Enrolments, data: enrolHeader + enrol(1, "enrolled_on", "2022-01-01"),
			want: []at{{2, "enrolled_on"}}, msg: "outside the campaign period"},
		{name: "not a date", kind: imports.Enrolments, data: enrolHeader + enrol(1, "enrolled_on", "15/03/2021"),
			want: []at{{2, "enrolled_on"}}},
		{name: "wrong field count, later lines still checked", kind: imports.Enrolments,
			data: enrolHeader + enrol(1) + strings.TrimSuffix(enrol(2), ",2021-03-15\n") + "\n" + enrol(3, "phone", "12"),
			want: []at{{3, ""}, {4, "phone"}}, msg: "has 10 fields, want 11"},
		{name: "every bad line listed in order", kind: imports.Enrolments,
			data: enrolHeader + enrol(1, "monthly_income", "100") + enrol(2) + "\n" + enrol(3, "subsidy_class", "x", "payment_mode", "2m"),
			want: []at{{2, "monthly_income"}, {5, "subsidy_class"}, {5, "payment_mode"}}},

		{name: "leads: commune outside the event's district", kind: imports.Leads, event: "conf-001",
			data: leadsHeader + leadLine(1) + leadLine(2, "commune_code", "00010", "village_code", "00010-01"),
			want: []at{{3, "commune_code"}}, msg: "not the event's district 001"},
		{name: "leads: enrolment header", kind: imports.Leads, event: "conf-001", data: enrolHeader + enrol(1),
			want: []at{{1, "header"}}},
		{name: "leads: bad phone and duplicate", kind: imports.Leads, event: "conf-001",
			data: leadsHeader + leadLine(1, "phone", "0900") + leadLine(2) + leadLine(3, "citizen_id", citizen(2)),
			want: []at{{2, "phone"}, {4, "citizen_id"}}},
		{name: "leads: unknown target group", kind: imports.Leads, event: "conf-001", data: leadsHeader + leadLine(1, "target_group", "worker"),
			want: []at{{2, "target_group"}}},

		{name: "outcome for a citizen who is not a lead", kind: imports.Outcomes,
			data: outcomeHeader + outcomeLine(900) + outcomeLine(901, "outcome", "unreachable"),
			want: []at{{3, "citizen_id"}}, msg: "no lead"},
		{name: "outcome: bad outcome", kind: imports.Outcomes, data: outcomeHeader + outcomeLine(900, "outcome", "enrolled"),
			want: []at{{2, "outcome"}}},
		{name: "outcome: date outside the period", kind: imports.Outcomes, data: outcomeHeader + outcomeLine(900, "reported_on", "2022-02-01"),
			want: []at{{2, "reported_on"}}},
		{name: "outcome: wrong field count", kind: imports.Outcomes, data: outcomeHeader + citizen(900) + ",declined\n",
			want: []at{{2, ""}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fileName := strings.ReplaceAll(c.name, " ", "-") + ".csv"
			_, _, err := importFile(s, c.kind, c.event, fileName, []byte(c.data))
			rej := wantRejectedAt(t, err, c.want)
			if c.msg != "" && (len(rej.Errors) == 0 || !strings.Contains(rej.Errors[0].Msg, c.msg)) {
				t.Errorf("first error %q does not say %q", rej.Errors[0].Msg, c.msg)
			}
			text := err.Error()
			if rej.File != fileName || !strings.HasPrefix(text, fileName+": refused, nothing imported") {
				t.Errorf("error does not name the file %s: %q", fileName, text)
			}
			for _, e := range rej.Errors {
				if !strings.Contains(text, fmt.Sprintf("line %d", e.Line)) {
					t.Errorf("error text does not name line %d: %q", e.Line, text)
				}
			}
			for _, p := range personalData(c.kind, c.data) {
				if strings.Contains(text, p) {
					t.Errorf("error text quotes personal data %q from the file:\n%s", p, text)
				}
			}
			if n := s.count(`select count(*) from import_batches`); n != 1 {
				t.Errorf("%d import batches after a refused file, want only the seeded one", n)
			}
			if n := s.count(`select count(*) from import_rows`); n != 0 {
				t.Errorf("%d staged rows after a refused file, want 0", n)
			}
		})
	}
	// The duplicate names both lines.
	_, _, err := importFile(s, imports.Enrolments, "", "dup.csv", []byte(enrolHeader+enrol(1)+enrol(2)+enrol(3, "citizen_id", citizen(1))))
	if err == nil || !strings.Contains(err.Error(), "line 4: citizen_id: same person as line 2") {
		t.Errorf("duplicate error does not name both lines: %v", err)
	}
}

// Once a campaign's clock runs, a file reports what has happened: a line dated after the
// campaign's day is refused (named with its line and the day), one dated on it is taken.
func TestLinesDatedAfterTheCampaignsDayAreRefused(t *testing.T) {
	s := seed(t)
	s.holdWithLeads("conf-001", []byte(leadsHeader+leadLine(900)))
	// The campaign's clock runs on the calendar and stands at 10 March 2021, 09:00 in Hà Nội
	// (02:00 UTC: the UTC date and the campaign's day agree only by the zone).
	if _, err := s.pool.Exec(s.ctx, `update campaigns set clock_epoch = now(), clock_start = '2021-03-10 09:00:00+07', clock_scale = 1,
		timezone = 'Asia/Ho_Chi_Minh' where id = $1`, campaignID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		kind imports.Kind
		data string
		want []at
	}{
		{"enrolment the next day", imports.Enrolments, enrolHeader + enrol(1, "enrolled_on", "2021-03-10") + enrol(2, "enrolled_on", "2021-03-11"),
			[]at{{3, "enrolled_on"}}},
		{"enrolment months ahead", imports.Enrolments, enrolHeader + enrol(1, "enrolled_on", "2021-12-15"), []at{{2, "enrolled_on"}}},
		{"outcome ahead", imports.Outcomes, outcomeHeader + outcomeLine(900, "reported_on", "2021-04-02"), []at{{2, "reported_on"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := importFile(s, c.kind, "", "ahead.csv", []byte(c.data))
			wantRejectedAt(t, err, c.want)
			if !strings.Contains(err.Error(), "after the campaign's day 2021-03-10") {
				t.Errorf("refusal does not name the campaign's day: %v", err)
			}
			if n := s.count(`select count(*) from import_rows`); n != 0 {
				t.Errorf("%d staged rows after a refused file, want 0", n)
			}
		})
	}
	if _, _, err := importFile(s, imports.Enrolments, "", "today.csv", []byte(enrolHeader+enrol(1, "enrolled_on", "2021-03-10"))); err != nil {
		t.Errorf("an enrolment on the campaign's day: %v", err)
	}
}

// A malformed quote in a line's first field is refused with its line, not a crash.
func TestMalformedQuoteInFirstFieldIsRefusedNotAPanic(t *testing.T) {
	ref := memoryReference()
	for _, c := range []struct {
		name string
		data string
		line int
	}{
		{"bare quote in the citizen ID", enrolHeader + enrol(1) + `00100"0000002` + strings.TrimPrefix(enrol(2), citizen(2)), 3},
		{"unclosed quote in the citizen ID", enrolHeader + enrol(1) + enrol(2) + `"001000000003,` + strings.TrimPrefix(enrol(3), citizen(3)+","), 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := safeParse(imports.Enrolments, "quotes.csv", []byte(c.data), ref)
			var rej *imports.Rejected
			if !errors.As(err, &rej) {
				t.Fatalf("got %v, want *imports.Rejected naming line %d", err, c.line)
			}
			if len(rej.Errors) != 1 || rej.Errors[0].Line != c.line {
				t.Errorf("errors %+v, want one at line %d", rej.Errors, c.line)
			}
		})
	}
}

// Refusals never repeat personal data, even when shifted or swapped columns put a phone
// number, name or citizen ID where a code or date belongs.
func TestRefusalsNeverQuotePersonalDataFromMisplacedColumns(t *testing.T) {
	ref := memoryReference()
	for _, c := range []struct {
		name, data string
	}{
		{"phone and commune swapped", enrolHeader + enrol(1, "phone", "00001", "commune_code", phone(1))},
		{"name in the target group column", enrolHeader + enrol(1, "target_group", name(1))},
		{"citizen ID in the agent column", enrolHeader + enrol(1, "agent_code", citizen(1))},
		{"phone in the date column", enrolHeader + enrol(1, "enrolled_on", phone(1))},
		{"name in the village column", enrolHeader + enrol(1, "village_code", name(1))},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := safeParse(imports.Enrolments, "shifted.csv", []byte(c.data), ref)
			if err == nil {
				t.Fatal("file accepted")
			}
			for _, p := range []string{citizen(1), name(1), phone(1)} {
				if strings.Contains(err.Error(), p) {
					t.Errorf("error text quotes %q:\n%s", p, err)
				}
			}
		})
	}
}

// A citizen ID or phone number shifted into the income column is out of range; the refusal
// does not repeat it, not even without its leading zeros. (Found by FuzzParseEnrolments: the
// message read "1000000001 VND is outside 700000–29800000 VND".) An amount of up to eight
// digits is repeated.
func TestOutOfRangeIncomeIsNotRepeatedWhenItMayBeAnID(t *testing.T) {
	ref := memoryReference()
	for _, c := range []struct{ income, want string }{
		{citizen(1), "the amount is outside"},
		{"312345678", "the amount is outside"}, // an old identity card
		{phone(1), "the amount is outside"},
		{"30000000", "30000000 VND is outside"},
		{"699_999", "699999 VND is outside"},
	} {
		_, err := safeParse(imports.Enrolments, "income.csv", []byte(enrolHeader+enrol(1, "monthly_income", c.income)), ref)
		if err == nil || !strings.Contains(err.Error(), "monthly_income: "+c.want) {
			t.Errorf("income %s: %v; want %q", c.income, err, c.want)
		}
		if d := regexp.MustCompile(`[0-9]{9,}`).FindString(fmt.Sprint(err)); d != "" {
			t.Errorf("income %s: error repeats %s", c.income, d)
		}
	}
}

func TestGoodFilesParseAndStage(t *testing.T) {
	s := seed(t)
	data := "\ufeff" + enrolHeader +
		enrol(1, "full_name", `"Nguyễn Văn An, con"`, "monthly_income", "1_500_000", "payment_mode", "monthly", "enrolled_on", "2021-01-01") +
		enrol(2, "full_name", " Trần Thị Bình ", "commune_code", "00002", "village_code", "", "agent_code", "CB-00002",
			"target_group", "student", "monthly_income", "700000", "subsidy_class", "near_poor", "payment_mode", "3m", "enrolled_on", "2021-12-31") +
		"\n" +
		enrol(3, "citizen_id", "123456789", "commune_code", "00010", "village_code", "00010-02", "agent_code", "DL-00010-2",
			"monthly_income", "29800000", "subsidy_class", "poor", "payment_mode", "5y", "enrolled_on", "2021-06-15")
	batch, rows, err := importFile(s, imports.Enrolments, "", "good.csv", []byte(data))
	if err != nil {
		t.Fatalf("good file refused: %v", err)
	}
	day := func(m, d int) time.Time { return time.Date(2021, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	want := []imports.Row{
		{Line: 2, CitizenID: citizen(1), FullName: "Nguyễn Văn An, con", Phone: phone(1), Commune: "00001", Village: "00001-01",
			Agent: "DL-00001-1", Group: "trader", Income: 1_500_000, SubsidyClass: "other", PaymentMonths: 1, On: day(1, 1)},
		{Line: 3, CitizenID: citizen(2), FullName: "Trần Thị Bình", Phone: phone(2), Commune: "00002",
			Agent: "CB-00002", Group: "student", Income: 700_000, SubsidyClass: "near_poor", PaymentMonths: 3, On: day(12, 31)},
		{Line: 5, CitizenID: "123456789", FullName: name(3), Phone: phone(3), Commune: "00010", Village: "00010-02",
			Agent: "DL-00010-2", Group: "trader", Income: 29_800_000, SubsidyClass: "poor", PaymentMonths: 60, On: day(6, 15)},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rows), len(want), rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d\n got %+v\nwant %+v", i, rows[i], want[i])
		}
	}
	sum := sha256.Sum256([]byte(data))
	var kind, sha, status, by string
	var n int
	if err := s.pool.QueryRow(s.ctx, `select kind, file_sha256, rows, status, created_by from import_batches where id = $1`, batch).
		Scan(&kind, &sha, &n, &status, &by); err != nil {
		t.Fatal(err)
	}
	if kind != "enrolments" || sha != hex.EncodeToString(sum[:]) || n != 3 || status != "staged" || by != "tester" {
		t.Errorf("batch: %s %s %d %s %s", kind, sha, n, status, by)
	}
	var income int64
	var months int
	var village *string
	var on time.Time
	if err := s.pool.QueryRow(s.ctx, `select monthly_income, payment_months, village_code, enrolled_on from import_rows where batch_id = $1 and line = 3`, batch).
		Scan(&income, &months, &village, &on); err != nil {
		t.Fatal(err)
	}
	if income != 700_000 || months != 3 || village != nil || !on.Equal(day(12, 31)) {
		t.Errorf("staged line 3: income %d, months %d, village %v, on %v", income, months, village, on)
	}

	// Leads and outcomes too.
	leads := leadsHeader + leadLine(10) + leadLine(11, "commune_code", "00003", "village_code", "", "target_group", "trader")
	if _, rows, err := importFile(s, imports.Leads, "conf-001", "leads.csv", []byte(leads)); err != nil || len(rows) != 2 || rows[1].Commune != "00003" || rows[1].Group != "trader" {
		t.Errorf("good leads file: %v, %+v", err, rows)
	}
	s.holdWithLeads("po-1.002", []byte(leadsHeader+leadLine(20, "commune_code", "00011", "village_code", "00011-01")))
	if _, rows, err := importFile(s, imports.Outcomes, "", "outcomes.csv", []byte(outcomeHeader+outcomeLine(20, "outcome", "unreachable"))); err != nil ||
		len(rows) != 1 || rows[0].Outcome != "unreachable" || !rows[0].On.Equal(day(4, 2)) {
		t.Errorf("good outcomes file: %v, %+v", err, rows)
	}
}

func TestFiftyThousandLinesParseAndStage(t *testing.T) {
	s := seed(t)
	places := [][3]string{{"00001", "00001-01", "DL-00001-1"}, {"00001", "00001-02", "DL-00001-2"}, {"00002", "00002-01", "CB-00002"},
		{"00003", "", "DL-00003-1"}, {"00010", "00010-02", "DL-00010-1"}, {"00011", "00011-01", "DL-00011-1"}}
	modes := []string{"monthly", "3m", "6m", "12m", "2y", "5y"}
	var b bytes.Buffer
	b.WriteString(enrolHeader)
	const n = 50_000
	for i := 1; i <= n; i++ {
		p := places[i%len(places)]
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s,%d,%s,%s,%s\n", citizen(i), name(i), phone(i), p[0], p[1], p[2],
			[]string{"trader", "student"}[i%2], 700_000+int64(i)*100, []string{"poor", "near_poor", "other"}[i%3], modes[i%len(modes)],
			time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%365).Format("2006-01-02"))
	}
	data := b.Bytes()
	ref, err := imports.LoadReference(s.ctx, s.pool, campaignID, "")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rows, err := imports.Parse(imports.Enrolments, "big.csv", data, ref)
	parsed := time.Since(start)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if len(rows) != n || rows[n-1].Line != n+1 || rows[n-1].CitizenID != citizen(n) {
		t.Fatalf("%d rows, last %+v", len(rows), rows[len(rows)-1])
	}
	start = time.Now()
	batch, err := imports.Stage(s.ctx, s.pool, campaignID, imports.Enrolments, "", "big.csv", data, rows, "tester")
	staged := time.Since(start)
	if err != nil {
		t.Fatalf("stage: %v", err)
	}
	t.Logf("%d lines (%d KiB): parsed in %v, staged in %v", n, len(data)>>10, parsed.Round(time.Millisecond), staged.Round(time.Millisecond))
	if got := s.count(`select rows from import_batches where id = $1`, batch); got != n {
		t.Errorf("batch says %d rows, want %d", got, n)
	}
	if got := s.count(`select count(*) from import_rows where batch_id = $1`, batch); got != n {
		t.Errorf("%d staged rows, want %d", got, n)
	}
	if got := s.count(`select count(distinct citizen_id) from import_rows where batch_id = $1 and line between 2 and $2`, batch, n+1); got != n {
		t.Errorf("%d distinct people on lines 2..%d, want %d", got, n+1, n)
	}
	if got := s.count(`select sum(payment_months)::int from import_rows where batch_id = $1`, batch); got == 0 {
		t.Errorf("payment months not staged")
	}
}

// Fuzzing ---------------------------------------------------------------------------------

// memoryReference is the fixture campaign's reference, without a database.
func memoryReference() *imports.Reference {
	return &imports.Reference{
		CampaignID: campaignID,
		Communes:   map[string]string{"00001": "001", "00002": "001", "00003": "001", "00010": "002", "00011": "002"},
		Villages: map[string]string{"00001-01": "00001", "00001-02": "00001", "00002-01": "00002", "00003-01": "00003",
			"00003-02": "00003", "00010-01": "00010", "00010-02": "00010", "00011-01": "00011", "00011-02": "00011"},
		Agents: map[string]string{"CB-00001": "00001", "DL-00001-1": "00001", "DL-00001-2": "00001", "CB-00002": "00002",
			"CB-00003": "00003", "DL-00003-1": "00003", "CB-00010": "00010", "DL-00010-1": "00010", "DL-00010-2": "00010", "DL-00011-1": "00011"},
		Groups:      map[string]bool{"trader": true, "student": true},
		PeriodStart: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC),
		PeriodEnd:   time.Date(2021, 12, 31, 0, 0, 0, 0, time.UTC),
	}
}

var (
	citizenRe = regexp.MustCompile(`^([0-9]{9}|[0-9]{12})$`)
	phoneRe   = regexp.MustCompile(`^0[0-9]{9}$`)
)

// The fuzz targets: Parse never panics; a file it accepts holds only rows that satisfy every
// rule, in the file's order; a file it refuses is refused with *Rejected, every bad line named
// by its number (within the file) and column, and the error text quotes no citizen ID, phone
// number or name, wherever a shifted column put them.

// FuzzParseEnrolments fuzzes enrolment files.
func FuzzParseEnrolments(f *testing.F) {
	ref := memoryReference()
	fuzzParse(f, imports.Enrolments, ref, func(t *testing.T, r imports.Row) {
		checkPerson(t, ref, r)
		switch {
		case ref.Agents[r.Agent] != r.Commune:
			t.Fatalf("line %d: agent %q not of commune %q", r.Line, r.Agent, r.Commune)
		case r.Income < contribution.MinMonthlyIncome || r.Income > contribution.MaxMonthlyIncome:
			t.Fatalf("line %d: income %d", r.Line, r.Income)
		case r.SubsidyClass != "poor" && r.SubsidyClass != "near_poor" && r.SubsidyClass != "other":
			t.Fatalf("line %d: subsidy class %q", r.Line, r.SubsidyClass)
		case !slices.Contains([]int{1, 3, 6, 12, 24, 36, 48, 60}, r.PaymentMonths):
			t.Fatalf("line %d: payment months %d", r.Line, r.PaymentMonths)
		case r.On.Before(ref.PeriodStart) || r.On.After(ref.PeriodEnd):
			t.Fatalf("line %d: date %v", r.Line, r.On)
		case r.Outcome != "":
			t.Fatalf("line %d: outcome %q on an enrolment", r.Line, r.Outcome)
		}
	})
}

// FuzzParseLeads fuzzes the leads of an event held in district 001.
func FuzzParseLeads(f *testing.F) {
	ref := memoryReference()
	ref.District = "001"
	f.Add([]byte(leadsHeader + leadLine(1) + leadLine(2, "village_code", "", "commune_code", "00003")))
	f.Add([]byte(leadsHeader + leadLine(1) + leadLine(2, "commune_code", "00010", "village_code", "00010-01")))
	f.Add([]byte(leadsHeader + leadLine(1, "phone", "0900") + leadLine(2) + leadLine(3, "citizen_id", citizen(2))))
	fuzzParse(f, imports.Leads, ref, func(t *testing.T, r imports.Row) {
		checkPerson(t, ref, r)
		switch {
		case ref.Communes[r.Commune] != ref.District:
			t.Fatalf("line %d: commune %q outside the event's district", r.Line, r.Commune)
		case r.Agent != "" || r.Income != 0 || r.Outcome != "" || !r.On.IsZero():
			t.Fatalf("line %d: a lead with enrolment or outcome fields: %+v", r.Line, r)
		}
	})
}

// FuzzParseOutcomes fuzzes the outcomes of follow-ups.
func FuzzParseOutcomes(f *testing.F) {
	ref := memoryReference()
	f.Add([]byte(outcomeHeader + outcomeLine(1) + outcomeLine(2, "outcome", "unreachable", "reported_on", "2021-12-31")))
	f.Add([]byte(outcomeHeader + outcomeLine(1, "outcome", "enrolled") + outcomeLine(2, "reported_on", "2022-01-01")))
	f.Add([]byte(outcomeHeader + citizen(1) + ",declined\n"))
	fuzzParse(f, imports.Outcomes, ref, func(t *testing.T, r imports.Row) {
		switch {
		case r.Outcome != "declined" && r.Outcome != "unreachable":
			t.Fatalf("line %d: outcome %q", r.Line, r.Outcome)
		case r.On.Before(ref.PeriodStart) || r.On.After(ref.PeriodEnd):
			t.Fatalf("line %d: date %v", r.Line, r.On)
		case r.FullName != "" || r.Phone != "" || r.Commune != "" || r.Agent != "":
			t.Fatalf("line %d: an outcome with a person's fields: %+v", r.Line, r)
		}
	})
}

// checkPerson checks the fields enrolments and leads share.
func checkPerson(t *testing.T, ref *imports.Reference, r imports.Row) {
	t.Helper()
	switch {
	case r.FullName == "" || utf8.RuneCountInString(r.FullName) > 100 || strings.TrimSpace(r.FullName) != r.FullName:
		t.Fatalf("line %d: name %q", r.Line, r.FullName)
	case !phoneRe.MatchString(r.Phone):
		t.Fatalf("line %d: phone %q", r.Line, r.Phone)
	case ref.Communes[r.Commune] == "":
		t.Fatalf("line %d: commune %q", r.Line, r.Commune)
	case r.Village != "" && ref.Villages[r.Village] != r.Commune:
		t.Fatalf("line %d: village %q not in commune %q", r.Line, r.Village, r.Commune)
	case !ref.Groups[r.Group]:
		t.Fatalf("line %d: group %q", r.Line, r.Group)
	}
}

// nineDigits is what a citizen ID or phone number (or most of one) looks like in a message.
var nineDigits = regexp.MustCompile(`[0-9]{9,}`)

func fuzzParse(f *testing.F, kind imports.Kind, ref *imports.Reference, checkRow func(*testing.T, imports.Row)) {
	header := imports.Headers[kind]
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := safeParse(kind, "fuzz.csv", data, ref)
		if err != nil {
			var rej *imports.Rejected
			if !errors.As(err, &rej) {
				t.Fatalf("error is not *imports.Rejected: %v", err)
			}
			if len(rej.Errors) == 0 {
				t.Fatalf("refused without a bad line: %v", err)
			}
			lines := bytes.Count(data, []byte("\n")) + 2 // a header-only file's "no rows" is at line 2
			for _, e := range rej.Errors {
				if e.Line < 1 || e.Line > lines {
					t.Fatalf("bad line number %d in a file of %d lines: %v", e.Line, lines-1, err)
				}
				if e.Field != "" && e.Field != "header" && !slices.Contains(header, e.Field) {
					t.Fatalf("line %d: field %q is not a column: %v", e.Line, e.Field, err)
				}
				if e.Msg == "" {
					t.Fatalf("line %d: no reason: %v", e.Line, err)
				}
			}
			text := err.Error()
			if d := nineDigits.FindString(text); d != "" {
				t.Fatalf("error text has %s, which may be a citizen ID or phone number:\n%s", d, text)
			}
			// A message repeats a value only quoted (a code, to help find it); a full name (two
			// words or more) is never repeated. Digit runs are checked above.
			for _, p := range personalData(kind, string(data)) {
				if len(strings.Fields(p)) > 1 && strings.Contains(text, strconv.Quote(p)) {
					t.Fatalf("error text quotes %q from the file:\n%s", p, text)
				}
			}
			return
		}
		if len(rows) == 0 {
			t.Fatal("accepted a file without rows")
		}
		seen := map[string]bool{}
		last := 1
		for _, r := range rows {
			if r.Line <= last {
				t.Fatalf("row line %d after line %d", r.Line, last)
			}
			last = r.Line
			if !citizenRe.MatchString(r.CitizenID) || seen[r.CitizenID] {
				t.Fatalf("line %d: citizen ID %q bad or seen before", r.Line, r.CitizenID)
			}
			seen[r.CitizenID] = true
			checkRow(t, r)
		}
	})
}

// The valid files of the seed corpora are accepted, so the fuzz targets' checks of accepted
// rows run on them.
func TestFuzzCorpusValidSeedsAreAccepted(t *testing.T) {
	for target, kind := range map[string]imports.Kind{
		"FuzzParseEnrolments": imports.Enrolments, "FuzzParseLeads": imports.Leads, "FuzzParseOutcomes": imports.Outcomes,
	} {
		ref := memoryReference()
		if kind == imports.Leads {
			ref.District = "001"
		}
		files, err := filepath.Glob(filepath.Join("testdata", "fuzz", target, "valid-*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: valid seeds: %v %v", target, files, err)
		}
		for _, file := range files {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.SplitN(strings.TrimSpace(string(raw)), "\n", 2)
			if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") {
				t.Fatalf("%s is not a fuzz seed", file)
			}
			data, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			rows, err := safeParse(kind, filepath.Base(file), []byte(data), ref)
			if err != nil || len(rows) != 2 {
				t.Errorf("%s: %d rows, %v; want 2 rows", file, len(rows), err)
			}
		}
	}
}
