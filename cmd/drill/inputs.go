package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"drives/imports"
)

// The drill's campaigns run the integration tests' units and roster (two districts of Hà Nội,
// five communes, eleven agents and staff) under a plan written here, with the clock compressed
// so that the year lasts yearSeconds of real time.
const planTemplate = `# Written by the fault drill.
id: %s
name: "Fault drill %s"
year: 2021
period:
  start: 2021-01-01
  end: 2021-12-31
clock:
  scale: %g
prior_year_enrolled: 300
target:
  rule: labour_force_share
  share: 0.01
units:
  file: units.csv
  villages_file: villages.csv
roster:
  file: roster.csv
target_groups:
  - code: household_business
    name: "Hộ kinh doanh cá thể"
    likelihood: 0.55
  - code: farmer
    name: "Nông dân"
    likelihood: 0.35
  - code: student
    name: "Học sinh, sinh viên"
    likelihood: 0.15
follow_up:
  deadline: 30d
  reminders: [7d, 21d]
  # Longer than the rest of the year after the first event: a follow-up ends only by the
  # drill's own files, so its outcome follows from them alone.
  give_up_after: 320d
  sweep_every: 7d
events:
  - id: ba-dinh-conference
    kind: conference
    unit: "001"
    date: 2021-03-01
    groups: [household_business, student]
    expected_attendance: 60
  - id: phu-thuong-dialogue
    kind: dialogue
    unit: "00091"
    date: 2021-04-12
    groups: [farmer]
    expected_attendance: 40
  - id: nhat-tan-door-to-door
    kind: door_to_door
    unit: "00094"
    date: 2021-06-07
    groups: [household_business, farmer]
    expected_attendance: 30
  - id: post-office-round
    kind: post_office_round
    unit: city
    date: 2021-09-06
    groups: [household_business, farmer, student]
    expected_attendance: 50
`

// heldEvents are the district events the plan expands to, with the communes whose people come.
var heldEvents = []struct {
	id, district string
	date         string
	groups       []string
}{
	{"ba-dinh-conference", "001", "2021-03-01", []string{"household_business", "student"}},
	{"phu-thuong-dialogue", "003", "2021-04-12", []string{"farmer"}},
	{"nhat-tan-door-to-door", "003", "2021-06-07", []string{"household_business", "farmer"}},
	{"post-office-round.001", "001", "2021-09-06", []string{"household_business", "farmer", "student"}},
	{"post-office-round.003", "003", "2021-09-06", []string{"household_business", "farmer", "student"}},
}

var groups = []string{"household_business", "farmer", "student"}

// place is a commune with its district, villages and the people who may sign enrolments there.
type place struct {
	commune, district string
	villages          []string
	agents            []string // active agents, else staff
}

type world struct {
	places      []place
	byDistrict  map[string][]place
	labourForce int
}

// loadWorld reads the units, villages and roster files the plan uses.
func loadWorld(dir string) (*world, error) {
	read := func(name string) ([][]string, error) {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return recs[1:], nil
	}
	units, err := read("units.csv")
	if err != nil {
		return nil, err
	}
	villages, err := read("villages.csv")
	if err != nil {
		return nil, err
	}
	roster, err := read("roster.csv")
	if err != nil {
		return nil, err
	}
	w := &world{byDistrict: map[string][]place{}}
	idx := map[string]int{}
	for _, u := range units {
		idx[u[3]] = len(w.places)
		w.places = append(w.places, place{commune: u[3], district: u[0]})
	}
	for _, v := range villages {
		p := &w.places[idx[v[0]]]
		p.villages = append(p.villages, v[1])
		n, err := strconv.Atoi(v[3])
		if err != nil {
			return nil, fmt.Errorf("villages.csv: labour_force %q", v[3])
		}
		w.labourForce += n
	}
	staff := map[string][]string{}
	for _, r := range roster {
		if r[2] == "agent" {
			w.places[idx[r[1]]].agents = append(w.places[idx[r[1]]].agents, r[0])
		} else {
			staff[r[1]] = append(staff[r[1]], r[0])
		}
	}
	for i := range w.places {
		if len(w.places[i].agents) == 0 {
			w.places[i].agents = staff[w.places[i].commune]
		}
		w.byDistrict[w.places[i].district] = append(w.byDistrict[w.places[i].district], w.places[i])
	}
	return w, nil
}

// person is one generated citizen: where they live, their group, and the agent of their
// commune who enrols them if they do.
type person struct {
	id, name, phone          string
	commune, village, agent  string
	district, group, subsidy string
}

// action is one thing the coordinator does, at a campaign date, with the file it sends.
type action struct {
	at      time.Time // campaign time (UTC midnight of the date; the plan's zone is ahead)
	kind    imports.Kind
	event   string // leads: the event
	attend  int    // leads: attendance
	name    string
	data    []byte
	persons []person // the file's people, in file order
	outcome []string // outcomes: declined | unreachable, by person
}

func (a action) String() string {
	if a.kind == imports.Leads {
		return fmt.Sprintf("results of %s (%s)", a.event, a.name)
	}
	return fmt.Sprintf("%s import %s", a.kind, a.name)
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// script generates a campaign's coordinator actions from the seed: four enrolment files (some
// people in two of them), the results of each of the five events (some leads already enrolled,
// some met at two events), an outcome file after each event, and later enrolments of some leads.
func script(w *world, rng *rand.Rand, salt int) []action {
	serial := 0
	newPerson := func(p place, group string) person {
		serial++
		n := serial
		return person{
			id:   fmt.Sprintf("0019%02d%06d", salt, n),
			name: fmt.Sprintf("Người Diễn Tập %d", n), phone: fmt.Sprintf("09%08d", salt*1_000_000+n),
			commune: p.commune, village: p.villages[rng.IntN(len(p.villages))], agent: p.agents[rng.IntN(len(p.agents))],
			district: p.district, group: group, subsidy: []string{"poor", "near_poor", "other"}[rng.IntN(3)],
		}
	}
	var enrolled []person // everyone in an enrolment file so far
	var leads []person    // everyone in a leads file so far
	pickFrom := func(list []person, share float64) []person {
		var out []person
		for _, p := range list {
			if rng.Float64() < share {
				out = append(out, p)
			}
		}
		return out
	}
	unique := func(list []person) []person {
		seen := map[string]bool{}
		var out []person
		for _, p := range list {
			if !seen[p.id] {
				seen[p.id] = true
				out = append(out, p)
			}
		}
		return out
	}
	var acts []action
	enrol := func(date string, fresh int) {
		var ps []person
		for range fresh {
			ps = append(ps, newPerson(w.places[rng.IntN(len(w.places))], groups[rng.IntN(len(groups))]))
		}
		ps = append(ps, pickFrom(enrolled, 0.08)...) // enrolled before: duplicates across files
		ps = append(ps, pickFrom(leads, 0.3)...)     // leads who sign up
		ps = unique(ps)
		rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
		enrolled = append(enrolled, ps...)
		var b bytes.Buffer
		cw := csv.NewWriter(&b)
		_ = cw.Write(imports.Headers[imports.Enrolments])
		for _, p := range ps {
			_ = cw.Write([]string{p.id, p.name, p.phone, p.commune, p.village, p.agent, p.group,
				strconv.Itoa(1_500_000 + 100_000*rng.IntN(20)), p.subsidy, []string{"monthly", "3m", "12m"}[rng.IntN(3)], date})
		}
		cw.Flush()
		acts = append(acts, action{at: day(date), kind: imports.Enrolments, name: "enrolments-" + date + ".csv", data: b.Bytes(), persons: ps})
	}
	results := func(ev int, date string, fresh int) []person {
		e := heldEvents[ev]
		var ps []person
		for range fresh {
			pl := w.byDistrict[e.district][rng.IntN(len(w.byDistrict[e.district]))]
			ps = append(ps, newPerson(pl, e.groups[rng.IntN(len(e.groups))]))
		}
		for _, p := range append(pickFrom(enrolled, 0.05), pickFrom(leads, 0.1)...) { // met again
			if p.district == e.district {
				ps = append(ps, p)
			}
		}
		ps = unique(ps)
		rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
		var b bytes.Buffer
		cw := csv.NewWriter(&b)
		_ = cw.Write(imports.Headers[imports.Leads])
		for _, p := range ps {
			_ = cw.Write([]string{p.id, p.name, p.phone, p.commune, p.village, p.group})
		}
		cw.Flush()
		leads = append(leads, ps...)
		acts = append(acts, action{at: day(date), kind: imports.Leads, event: e.id, attend: len(ps) + 10 + rng.IntN(40),
			name: "leads-" + e.id + ".csv", data: b.Bytes(), persons: ps})
		return ps
	}
	outcomes := func(date string, of []person) {
		var ps []person
		var out []string
		for _, p := range of {
			if rng.Float64() < 0.35 {
				ps = append(ps, p)
				out = append(out, []string{"declined", "unreachable"}[rng.IntN(2)])
			}
		}
		if len(ps) == 0 {
			return
		}
		var b bytes.Buffer
		cw := csv.NewWriter(&b)
		_ = cw.Write(imports.Headers[imports.Outcomes])
		for i, p := range ps {
			_ = cw.Write([]string{p.id, out[i], date})
		}
		cw.Flush()
		acts = append(acts, action{at: day(date), kind: imports.Outcomes, name: "outcomes-" + date + ".csv", data: b.Bytes(), persons: ps, outcome: out})
	}

	enrol("2021-02-10", 120+rng.IntN(60))
	l := results(0, "2021-03-03", 40+rng.IntN(30))
	outcomes("2021-03-10", l)
	l = results(1, "2021-04-14", 30+rng.IntN(30))
	enrol("2021-04-20", 100+rng.IntN(60))
	outcomes("2021-04-25", l)
	l = results(2, "2021-06-09", 30+rng.IntN(20))
	outcomes("2021-06-20", l)
	enrol("2021-07-15", 100+rng.IntN(60))
	l = results(3, "2021-09-08", 40+rng.IntN(20))
	l = append(l, results(4, "2021-09-08", 40+rng.IntN(20))...)
	outcomes("2021-09-15", l)
	enrol("2021-10-05", 80+rng.IntN(40))
	return acts
}

// expected are the figures that follow from the files alone, replayed in the order the
// coordinator sends them: a person is enrolled once (the first file that names them), a lead
// once (the first event that meets them) and followed up if not enrolled by then; a follow-up
// ends as enrolled when its person enrols while it is open or unreachable, and as declined or
// unreachable when an outcome names it while it is open.
type expected struct {
	target, priorYear int
	enrolled          int
	byUnit            map[string]int // district, commune and village codes
	byAgent           map[string]int
	byGroup           map[string]int
	leads             map[string]int // by group
	leadsEnrolled     map[string]int
	declined          map[string]int
	unreachable       map[string]int
	followUps         map[string]int // by status, and "total"
	events            int
	attendance        int
	eventLeads        int
	files             map[imports.Kind]int
}

func compute(w *world, acts []action) *expected {
	x := &expected{
		target: int(math.Round(float64(w.labourForce) * 0.01)), priorYear: 300,
		byUnit: map[string]int{}, byAgent: map[string]int{}, byGroup: map[string]int{},
		leads: map[string]int{}, leadsEnrolled: map[string]int{}, declined: map[string]int{}, unreachable: map[string]int{},
		followUps: map[string]int{}, files: map[imports.Kind]int{},
	}
	enrolled := map[string]bool{}
	leadGroup := map[string]string{} // prospect -> group
	status := map[string]string{}    // follow-up of a prospect -> status
	for _, a := range acts {
		x.files[a.kind]++
		switch a.kind {
		case imports.Enrolments:
			for _, p := range a.persons {
				if enrolled[p.id] {
					continue
				}
				enrolled[p.id] = true
				x.enrolled++
				x.byUnit[p.district]++
				x.byUnit[p.commune]++
				x.byUnit[p.village]++
				x.byAgent[p.agent]++
				x.byGroup[p.group]++
				if s, ok := status[p.id]; ok && (s == "open" || s == "unreachable") {
					status[p.id] = "enrolled"
				}
			}
		case imports.Leads:
			x.events++
			x.attendance += a.attend
			x.eventLeads += len(a.persons)
			for _, p := range a.persons {
				if _, ok := leadGroup[p.id]; ok {
					continue
				}
				leadGroup[p.id] = p.group
				if !enrolled[p.id] {
					status[p.id] = "open"
				}
			}
		case imports.Outcomes:
			for i, p := range a.persons {
				if status[p.id] == "open" {
					status[p.id] = a.outcome[i]
				}
			}
		}
	}
	for id, g := range leadGroup {
		x.leads[g]++
		if s, ok := status[id]; ok {
			x.followUps["total"]++
			x.followUps[s]++
			switch s {
			case "enrolled":
				x.leadsEnrolled[g]++
			case "declined":
				x.declined[g]++
			case "unreachable":
				x.unreachable[g]++
			}
		}
	}
	return x
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
