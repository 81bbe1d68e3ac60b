package main

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"drives/imports"
)

// The expected figures follow the files in the order they are sent: first file wins, a lead
// already enrolled is not followed up, an outcome closes only an open follow-up, an enrolment
// closes an open or unreachable one, and one nobody closes is given up on sixty days after its
// event.
func TestComputeFollowsTheFilesInOrder(t *testing.T) {
	at := func(id, group string) person {
		return person{id: id, commune: "c1", village: "c1-v1", agent: "ag1", district: "d1", group: group}
	}
	a, b, c, d, e, f := at("A", "farmer"), at("B", "student"), at("C", "farmer"), at("D", "farmer"), at("E", "student"), at("F", "farmer")
	b2 := b
	b2.agent, b2.commune, b2.village = "ag2", "c2", "c2-v1" // a later file that says otherwise changes nothing
	acts := []action{
		{at: day("2021-02-10"), kind: imports.Enrolments, persons: []person{a, b}},
		{at: day("2021-03-03"), kind: imports.Leads, event: heldEvents[0].id, attend: 20, persons: []person{a, c, d, e}},
		{at: day("2021-03-10"), kind: imports.Outcomes, persons: []person{c, d}, outcome: []string{"declined", "unreachable"}},
		{at: day("2021-04-14"), kind: imports.Leads, event: heldEvents[1].id, attend: 7, persons: []person{f}},
		{at: day("2021-04-20"), kind: imports.Enrolments, persons: []person{b2, c, d}},
		// E's follow-up (event of 1 March) is given up on by 30 April; F's (12 April) is open.
		{at: day("2021-05-05"), kind: imports.Leads, event: heldEvents[2].id, attend: 5, persons: []person{e}},
		{at: day("2021-05-06"), kind: imports.Outcomes, persons: []person{d, e, f}, outcome: []string{"declined", "declined", "declined"}},
		{at: day("2021-05-07"), steer: "cancel"},
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
	check("leads farmer", x.leads["farmer"], 4)              // A, C, D, F
	check("leads student", x.leads["student"], 1)            // E, met twice
	check("follow-ups", x.followUps["total"], 4)             // C, D, E, F: A was enrolled when met
	check("open", x.followUps["open"], 0)                    // F declined
	check("declined", x.followUps["declined"], 2)            // C, enrolled later but declined first; F
	check("enrolled follow-ups", x.followUps["enrolled"], 1) // D: unreachable, then enrolled
	check("unreachable", x.followUps["unreachable"], 1)      // E, given up on before the outcome
	check("leads enrolled farmer", x.leadsEnrolled["farmer"], 1)
	check("declined farmer", x.declined["farmer"], 2)
	check("events", x.events, 3)
	check("attendance", x.attendance, 32)
	check("event leads", x.eventLeads, 6)
	if x.status != "cancelled" {
		t.Errorf("status = %s, want cancelled", x.status)
	}
	if got := x.enrolments["B"]; got[0] != "ag1" || got[1] != "c1" {
		t.Errorf("B is enrolled as the later file says (agent, commune %v)", got[:2])
	}
	if got := x.followUpOf["E"]; len(got) != 1 || got[0] != "unreachable" {
		t.Errorf("E's follow-up ends %v, want unreachable", got)
	}
}

// The generated files and steering keep the promises the checks rely on.
func TestScriptKeepsItsPromises(t *testing.T) {
	w, err := loadWorld(filepath.Join("..", "..", "integration", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	for _, cancel := range []bool{false, true} {
		acts := script(w, rand.New(rand.NewPCG(7, 1)), 10, cancel)
		first := map[string]person{}
		metAt := map[string]int{}
		steers := map[string]int{}
		differ := 0
		for _, a := range acts {
			if cancel && !a.at.Before(cancelAt) && a.steer == "" {
				t.Errorf("cancel: %s is sent after the cancel", a)
			}
			steers[a.steer]++
			for _, p := range a.persons {
				switch a.kind {
				case imports.Enrolments:
					if p.agent == firedAgent || (p.agent == sparedAgent && a.at.Before(day(reviewFires[0].at))) {
						t.Errorf("%s: an enrolment signed by %s", a, p.agent)
					}
					if f, ok := first[p.id]; !ok {
						first[p.id] = p
					} else if f.group != p.group {
						differ++
					}
				case imports.Leads:
					if _, ok := metAt[p.id]; !ok {
						for i, e := range heldEvents {
							if e.id == a.event {
								metAt[p.id] = i
							}
						}
					}
				case imports.Outcomes:
					if near(a.at, eventDay(metAt[p.id])) {
						t.Errorf("%s names a lead whose follow-up is given up on within %s of it", a, giveUpMargin)
					}
				}
			}
		}
		if differ == 0 {
			t.Errorf("cancel %v: no duplicate across files differs in its group, so first file wins is untested", cancel)
		}
		x := compute(w, acts)
		if cancel {
			if steers["cancel"] != 1 || x.status != "cancelled" || len(x.reviewPeriods) != 1 {
				t.Errorf("cancel: steers %v, status %s, reviews %v", steers, x.status, x.reviewPeriods)
			}
			for _, e := range x.held {
				if !day(heldEventDate(e)).Before(cancelAt) {
					t.Errorf("cancel: event %s expected held after the cancel", e)
				}
			}
		} else if steers["pause"] != 1 || steers["resume"] != 1 || x.status != "closed" || len(x.reviewPeriods) != 4 {
			t.Errorf("steers %v, status %s, reviews %v", steers, x.status, x.reviewPeriods)
		}
		// The quotas sum up at every level, and the fired agent's went to its commune's other agent.
		sum := map[string]int{}
		for k, v := range allocateQuotas(w, x.target) {
			level, _, _ := strings.Cut(k, "/")
			sum[level] += v
		}
		for _, level := range []string{"district", "commune", "village", "agent"} {
			if sum[level] != x.target {
				t.Errorf("%s quotas sum to %d, not the target %d", level, sum[level], x.target)
			}
		}
		if len(x.transfers) != 1 || x.quotas["agent/"+firedAgent][0] != "0" {
			t.Errorf("transfers %v, the fired agent's quota %v", x.transfers, x.quotas["agent/"+firedAgent])
		}
		if x.agentStatus[firedAgent] != "terminated" || x.agentStatus[sparedAgent] != "active" {
			t.Errorf("agents: %v", x.agentStatus)
		}
	}
}

func heldEventDate(id string) string {
	for _, e := range heldEvents {
		if e.id == id {
			return e.date
		}
	}
	return ""
}
