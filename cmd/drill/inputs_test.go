package main

import (
	"testing"

	"drives/imports"
)

// The expected figures follow the files in the order they are sent: first file wins, a lead
// already enrolled is not followed up, an outcome closes only an open follow-up, and an
// enrolment closes an open or unreachable one.
func TestComputeFollowsTheFilesInOrder(t *testing.T) {
	at := func(id, group string) person {
		return person{id: id, commune: "c1", village: "c1-v1", agent: "ag1", district: "d1", group: group}
	}
	a, b, c, d, e := at("A", "farmer"), at("B", "student"), at("C", "farmer"), at("D", "farmer"), at("E", "student")
	b2 := b
	b2.agent, b2.commune, b2.village = "ag2", "c2", "c2-v1" // a later file that says otherwise changes nothing
	acts := []action{
		{kind: imports.Enrolments, persons: []person{a, b}},
		{kind: imports.Leads, attend: 20, persons: []person{a, c, d, e}},
		{kind: imports.Outcomes, persons: []person{c, d}, outcome: []string{"declined", "unreachable"}},
		{kind: imports.Enrolments, persons: []person{b2, c, d}},
		{kind: imports.Leads, attend: 5, persons: []person{e}},
		{kind: imports.Outcomes, persons: []person{d}, outcome: []string{"declined"}},
	}
	x := compute(&world{labourForce: 30_000}, acts)

	check := func(what string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %d, want %d", what, got, want)
		}
	}
	check("target", x.target, 300)
	check("enrolled", x.enrolled, 4)
	check("commune c1", x.byUnit["c1"], 4)
	check("commune c2", x.byUnit["c2"], 0)
	check("district d1", x.byUnit["d1"], 4)
	check("agent ag1", x.byAgent["ag1"], 4)
	check("group farmer", x.byGroup["farmer"], 3)
	check("group student", x.byGroup["student"], 1)
	check("leads farmer", x.leads["farmer"], 3)              // A, C, D
	check("leads student", x.leads["student"], 1)            // E, met twice
	check("follow-ups", x.followUps["total"], 3)             // C, D, E: A was enrolled when met
	check("open", x.followUps["open"], 1)                    // E
	check("declined", x.followUps["declined"], 1)            // C, enrolled later but declined first
	check("enrolled follow-ups", x.followUps["enrolled"], 1) // D: unreachable, then enrolled
	check("unreachable", x.followUps["unreachable"], 0)
	check("leads enrolled farmer", x.leadsEnrolled["farmer"], 1)
	check("declined farmer", x.declined["farmer"], 1)
	check("events", x.events, 2)
	check("attendance", x.attendance, 25)
	check("event leads", x.eventLeads, 5)
}
