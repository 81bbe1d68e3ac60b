package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"drives/imports"
	"drives/plan"
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
		metAt := map[string]string{}
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
						metAt[p.id] = a.event
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
				if !eventDay(e).Before(cancelAt) {
					t.Errorf("cancel: event %s expected held after the cancel", e)
				}
			}
		} else if steers["pause"] != 1 || steers["resume"] != 1 || x.status != "closed" || len(x.reviewPeriods) != 4 {
			t.Errorf("steers %v, status %s, reviews %v", steers, x.status, x.reviewPeriods)
		}
		// The quotas sum up at every level, and the fired agent's went to its commune's other
		// agent; after the revision too, with the pins in place.
		sum := map[string]int{}
		for k, v := range allocateQuotas(w, 300, nil) {
			level, _, _ := strings.Cut(k, "/")
			sum[level] += v
		}
		for _, level := range []string{"district", "commune", "village", "agent"} {
			if sum[level] != 300 {
				t.Errorf("%s quotas sum to %d, not the target %d", level, sum[level], 300)
			}
		}
		sum = map[string]int{}
		for k, v := range x.quotas {
			level, _, _ := strings.Cut(k, "/")
			n, _ := strconv.Atoi(v[0])
			sum[level] += n
		}
		for _, level := range []string{"district", "commune", "village", "agent"} {
			if sum[level] != x.target || x.target != 580 {
				t.Errorf("revised: %s quotas sum to %d, the target is %d, not 580 (400 pinned for 001, 180 for 003)", level, sum[level], x.target)
			}
		}
		for code, pin := range revisionPins {
			level := "district"
			if len(code) == 5 {
				level = "commune"
			}
			if got := x.quotas[level+"/"+code]; got[0] != strconv.Itoa(pin) {
				t.Errorf("revised: %s %s has %v, not its pin %d", level, code, got, pin)
			}
		}
		if len(x.revisions) != 1 || len(x.removed) != 1 || slices.Contains(x.held, removedEvent) || slices.Contains(x.held, addedEvent.id) == cancel {
			t.Errorf("revision: %v applied, %v removed, held %v", x.revisions, x.removed, x.held)
		}
		if len(x.transfers) != 1 || x.quotas["agent/"+firedAgent][0] != "0" {
			t.Errorf("transfers %v, the fired agent's quota %v", x.transfers, x.quotas["agent/"+firedAgent])
		}
		if x.agentStatus[firedAgent] != "terminated" || x.agentStatus[sparedAgent] != "active" {
			t.Errorf("agents: %v", x.agentStatus)
		}
	}
}

// The revised plan loads, the product's revision check takes it on the script's day (one event
// removed before its day, one added after it), and the drill's own split with the pins is the
// one the product's allocation gives (two computations of the same rule that must agree).
func TestRevisedPlan(t *testing.T) {
	w, err := loadWorld(filepath.Join("..", "..", "integration", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range []string{"units.csv", "villages.csv", "roster.csv"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "integration", "testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	launched := fmt.Sprintf(planTemplate, "drill-t", "drill-t", 87600.0)
	revised, err := revisedPlan(launched)
	if err != nil {
		t.Fatal(err)
	}
	load := func(name, text string) *plan.Loaded {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		lp, err := plan.Load(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return lp
	}
	old, rev := load("plan.yaml", launched), load("plan-revised.yaml", revised)
	d := plan.DiffPlans(old, rev)
	today := reviseAt.Add(12 * time.Hour)
	if errs := plan.CheckRevision("plan-revised.yaml", old, rev, d, plan.RevisionTimes{Today: today, From: today}, map[string]string{}); len(errs) > 0 {
		t.Fatalf("the revision is refused: %v", errs)
	}
	var added, removed []string
	for _, e := range d.Events {
		switch e.What {
		case "added":
			added = append(added, e.ID)
		case "removed":
			removed = append(removed, e.ID)
		default:
			t.Errorf("event %s %s", e.ID, e.What)
		}
	}
	if !slices.Equal(added, []string{addedEvent.id}) || !slices.Equal(removed, []string{removedEvent}) {
		t.Errorf("events added %v, removed %v", added, removed)
	}
	mine := allocateQuotas(w, 300, revisionPins)
	theirs := rev.Allocation()
	if mine["city/"] != theirs.City {
		t.Errorf("city: %d, the product's allocation %d", mine["city/"], theirs.City)
	}
	for level, m := range map[string]map[string]int{"district": theirs.Districts, "commune": theirs.Communes, "village": theirs.Villages, "agent": theirs.Agents} {
		for code, q := range m {
			if mine[level+"/"+code] != q {
				t.Errorf("%s %s: %d, the product's allocation %d", level, code, mine[level+"/"+code], q)
			}
		}
	}
}
