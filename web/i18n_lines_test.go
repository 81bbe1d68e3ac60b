package web

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"drives/imports"
)

// A refused file's line problems are shown on the Vietnamese page in Vietnamese (the English
// after them, in brackets), on the English page as they are: every problem the checks of an
// enrolments, leads, outcomes, payments or starting-register file give (made here by files with
// one fault a line, through the importer's own check) and those found against the database.
// Shown failing with a problem of each kind left without its rule.
func TestLineProblemsInVietnamese(t *testing.T) {
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	ref := &imports.Reference{CampaignID: "hanoi-2021", Communes: map[string]string{"00001": "001", "00010": "003"},
		Villages: map[string]string{"00001-01": "00001"}, Agents: map[string]string{"DL-00001-1": "00001", "DL-00002-1": "00002"},
		Groups: map[string]bool{"farmer": true}, PeriodStart: day("2021-01-01"), PeriodEnd: day("2021-12-31"), Today: day("2021-03-10")}
	header := func(k imports.Kind) string { return strings.Join(imports.Headers[k], ",") + "\n" }
	enrol := "001190000001,Người A,0900000001,00001,00001-01,DL-00001-1,farmer,1500000,other,monthly,2021-03-01\n"
	// set is the good line of person n with one field set to v.
	set := func(n, field int, v string) string {
		f := strings.Split(strings.TrimSuffix(enrol, "\n"), ",")
		f[0] = fmt.Sprintf("0011900001%02d", n)
		f[field] = v
		return strings.Join(f, ",") + "\n"
	}
	files := []struct {
		kind imports.Kind
		data string
	}{
		{imports.Enrolments, header(imports.Enrolments) + enrol + enrol + set(1, 0, "12345") + set(2, 1, "") +
			set(3, 2, "123") + set(4, 3, "99999") + set(5, 4, "00001-99") + set(6, 5, "DL-99999-9") +
			set(7, 5, "DL-00002-1") + set(8, 6, "worker") + set(9, 7, "abc") + set(10, 7, "100") +
			set(11, 8, "rich") + set(12, 9, "7m") + set(13, 10, "2021-13-01") + set(14, 10, "2022-02-01") +
			set(15, 10, "2021-05-01") + "001190000002,Người B\n" + `00119"0000003,Người C,0900000003,00001,00001-01,DL-00001-1,farmer,1500000,other,monthly,2021-03-01` + "\n"},
		{imports.Enrolments, header(imports.Enrolments)},
		{imports.Enrolments, "citizen_id,name\n" + enrol},
		{imports.Enrolments, ""},
		{imports.Enrolments, "\xff\xfe" + header(imports.Enrolments)},
		{imports.Leads, header(imports.Leads) + "001190000001,Người A,0900000001,00010,,farmer\n"}, // of an event in district 001
		{imports.Outcomes, header(imports.Outcomes) + "001190000001,enrolled,2021-03-01\n" + `001190000002,"declined,2021-03-01` + "\n"},
		{imports.Payments, header(imports.Payments) + "001190000001,2021-03-01,7,283800,PT-1,DL-00001-1\n" +
			"001190000002,2021-03-01,1,x,PT-2,DL-00001-1\n" + "001190000003,2021-03-01,1,283800,PT 3!,DL-00001-1\n" +
			"001190000004,2021-03-01,1,283800,PT-2,DL-00001-1\n"},
		{imports.Participants, header(imports.Participants) +
			"001190000001,Người A,0900000001,00001,00001-01,DL-00001-1,farmer,1500000,other,2019-03-01,2019-01-01\n" +
			"001190000002,Người B,0900000002,00001,00001-01,DL-00001-1,farmer,1500000,other,2021-06-01,2021-12-01\n"},
	}
	var problems []string
	for _, f := range files {
		r := *ref
		if f.kind == imports.Leads {
			r.District = "001"
		}
		_, err := imports.Parse(f.kind, "f.csv", []byte(f.data), &r)
		var rej *imports.Rejected
		if !errors.As(err, &rej) {
			t.Fatalf("%s file %.60q: %v, want it refused", f.kind, f.data, err)
		}
		for _, e := range rej.Errors {
			problems = append(problems, e.Msg)
		}
	}
	// Found against the database, when the file is staged.
	problems = append(problems, "no lead of this campaign has this citizen ID", "nobody in the campaign's register of participants has this citizen ID")
	if len(problems) < 32 {
		t.Fatalf("%d problems made: the files no longer make what they did\n%s", len(problems), strings.Join(problems, "\n"))
	}
	for _, p := range problems {
		got := trLineProblem(langVI, p)
		if !strings.HasSuffix(got, " ("+p+")") {
			t.Errorf("%q reads %q: want it in Vietnamese, the English after it in brackets", p, got)
			continue
		}
		head := strings.TrimSuffix(got, " ("+p+")")
		for _, w := range []string{"must ", "unknown", "same ", "want", "outside", " after ", "fields", "digits", "whole number", "works in", "nobody", "no lead", "the file", " is ", " or ", "advance"} {
			if strings.Contains(head, w) {
				t.Errorf("%q reads %q: English %q left in the Vietnamese", p, head, w)
			}
		}
		if en := trLineProblem(langEN, p); en != p {
			t.Errorf("English page: %q, want %q", en, p)
		}
	}
}
