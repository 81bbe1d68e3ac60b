package main

import (
	"testing"

	"drives/field"
)

// The phone's recorded entries join the expected sets and figures; refused and unanswered ones
// do not; a lead's follow-up ends given up on when its give-up comes before the campaign's end,
// else open; and leads are made only on days whose give-up falls well clear of the end.
func TestAddPhoneCountsWhatWasRecorded(t *testing.T) {
	p := &phone{agent: "DL-00091-1", pl: place{commune: "00091", district: "003"}, end: cancelAt}
	entry := func(kind, cid, on, status string) *phoneEntry {
		return &phoneEntry{e: field.Entry{Kind: kind, CitizenID: cid, Village: "00091-01", Group: "farmer"}, on: day(on), status: status}
	}
	p.entries = []*phoneEntry{
		entry(field.KindEnrolment, "A", "2021-02-01", "recorded"),
		entry(field.KindEnrolment, "B", "2021-06-01", "refused"),
		entry(field.KindEnrolment, "C", "2021-06-01", ""),
		entry(field.KindLead, "D", "2021-02-01", "recorded"), // gives up 2 April, before the cancel
		entry(field.KindLead, "E", "2021-05-01", "recorded"), // gives up 30 June, after it
	}
	x := compute(&world{labourForce: 30_000}, []action{{at: cancelAt, steer: "cancel"}})
	x.addPhone(p)
	check := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", what, got, want)
		}
	}
	check("enrolled", x.enrolled, 1)
	check("field enrolled", x.fieldEnrolled, 1)
	check("district", x.byUnit["003"], 1)
	check("village", x.byUnit["00091-01"], 1)
	check("agent", x.byAgent["DL-00091-1"], 1)
	check("leads", x.leads["farmer"], 2)
	check("follow-ups", x.followUps["total"], 2)
	check("unreachable", x.followUps["unreachable"], 1)
	check("open", x.followUps["open"], 1)
	if got := x.followUpOf["D"]; len(got) != 1 || got[0] != "unreachable" {
		t.Errorf("D's follow-up: %v", got)
	}
	if _, ok := x.enrolments["B"]; ok {
		t.Error("a refused enrolment is expected in the database")
	}

	p.bug = bugUncounted
	y := compute(&world{labourForce: 30_000}, nil)
	y.addPhone(p)
	check("enrolled without the phone's", y.enrolled, 0)

	for on, want := range map[string]bool{"2021-02-28": true, "2021-03-15": false, "2021-04-19": false, "2021-04-21": true} {
		if got := p.leadsOn(day(on)); got != want {
			t.Errorf("leads on %s: %v, want %v", on, got, want)
		}
	}
}
