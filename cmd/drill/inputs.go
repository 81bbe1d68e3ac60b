package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
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
  # Follow-ups nobody closes are given up on (unreachable) sixty days after their event; the
  # drill's files keep clear of those moments (see script), so each outcome follows from them.
  give_up_after: 60d
  sweep_every: 7d
review:
  policy:
    # Long enough that a coordinator slowed by an outage still decides before the escalation.
    approval_wait: 40d
events:
  - id: ba-dinh-conference
    kind: conference
    unit: "001"
    date: 2021-02-15
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

// districtEvent is a district event the plan expands to, with the groups whose people come.
type districtEvent struct {
	id, district string
	date         string
	groups       []string
}

// heldEvents are the district events the launched plan expands to (removedEvent is taken out
// of it by the revision, and addedEvent put in; see revise.go).
var heldEvents = []districtEvent{
	{"ba-dinh-conference", "001", "2021-02-15", []string{"household_business", "student"}},
	{"phu-thuong-dialogue", "003", "2021-04-12", []string{"farmer"}},
	{"nhat-tan-door-to-door", "003", "2021-06-07", []string{"household_business", "farmer"}},
	{"post-office-round.001", "001", "2021-09-06", []string{"household_business", "farmer", "student"}},
	{"post-office-round.003", "003", "2021-09-06", []string{"household_business", "farmer", "student"}},
}

var groups = []string{"household_business", "farmer", "student"}

// The drill's steering: the coordinator's script beyond the files. Every campaign's first
// review proposes to terminate two agents, by construction of the files: firedAgent and
// sparedAgent hold follow-ups from the first event and enrol nobody in the first quarter
// (firedAgent never enrols anyone). The coordinator approves the first and rejects the second,
// and every other proposal. The first campaign is paused and resumed; the second is cancelled.
const (
	firedAgent   = "DL-00001-2" // commune 00001 keeps DL-00001-1, who takes its work and quota
	sparedAgent  = "DL-00004-1" // the only agent of commune 00004
	firstReview  = "2021-Q1"
	giveUpAfter  = 60 * 24 * time.Hour // the plan's follow_up.give_up_after
	giveUpMargin = 25 * 24 * time.Hour // no outcome or cancel this close to a give-up
)

// approves says whether the drill's coordinator approves a proposed termination.
func approves(period, agent string) bool { return period == firstReview && agent == firedAgent }

// reviewFires are the plan's review periods (the default quarterly cron) and the campaign date
// each is taken on; the last is the campaign's final evaluation.
var reviewFires = []struct{ period, at string }{
	{"2021-Q1", "2021-04-01"}, {"2021-Q2", "2021-07-01"}, {"2021-Q3", "2021-10-01"}, {"2021-Q4", "2022-01-01"},
}

// The steering dates: a pause and resume in the first campaign (over an enrolment and an
// outcome file), and the second campaign's cancellation, between the give-ups of the first
// two events' follow-ups, well clear of both.
var (
	pauseAt, resumeAt = day("2021-04-16"), day("2021-04-28")
	cancelAt          = day("2021-05-25")
)

// place is a commune with its district, villages and the people who may sign enrolments there.
type place struct {
	commune, district string
	villages          []string
	agents            []string // active agents, else staff
	staff             []string
}

// member is a line of the roster.
type member struct {
	code, commune, kind string
	weight              float64
}

type world struct {
	places      []place
	byDistrict  map[string][]place
	labourForce int
	// What the quotas follow: labour force by village, villages by commune, communes by
	// district (in file order), and the roster.
	villageLF map[string]int
	districts []string
	roster    []member
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
	w := &world{byDistrict: map[string][]place{}, villageLF: map[string]int{}}
	idx := map[string]int{}
	for _, u := range units {
		idx[u[3]] = len(w.places)
		w.places = append(w.places, place{commune: u[3], district: u[0]})
		if len(w.districts) == 0 || w.districts[len(w.districts)-1] != u[0] {
			w.districts = append(w.districts, u[0])
		}
	}
	for _, v := range villages {
		p := &w.places[idx[v[0]]]
		p.villages = append(p.villages, v[1])
		n, err := strconv.Atoi(v[3])
		if err != nil {
			return nil, fmt.Errorf("villages.csv: labour_force %q", v[3])
		}
		w.labourForce += n
		w.villageLF[v[1]] = n
	}
	for _, r := range roster {
		wt, err := strconv.ParseFloat(r[6], 64)
		if err != nil {
			return nil, fmt.Errorf("roster.csv: weight %q", r[6])
		}
		w.roster = append(w.roster, member{code: r[0], commune: r[1], kind: r[2], weight: wt})
		p := &w.places[idx[r[1]]]
		if r[2] == "agent" {
			p.agents = append(p.agents, r[0])
		} else {
			p.staff = append(p.staff, r[0])
		}
	}
	for i := range w.places {
		if len(w.places[i].agents) == 0 {
			w.places[i].agents = w.places[i].staff
		}
		w.byDistrict[w.places[i].district] = append(w.byDistrict[w.places[i].district], w.places[i])
	}
	// The steering needs its two agents where it expects them.
	for _, need := range []struct{ code, commune string }{{firedAgent, "00001"}, {sparedAgent, "00004"}} {
		i, ok := idx[need.commune]
		if !ok || !contains(w.places[i].agents, need.code) {
			return nil, fmt.Errorf("roster.csv: the drill's steering needs agent %s in commune %s", need.code, need.commune)
		}
	}
	if p := w.places[idx["00001"]]; len(p.agents) < 2 {
		return nil, fmt.Errorf("roster.csv: commune 00001 needs a second agent to take over from %s", firedAgent)
	}
	return w, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// signers are who may sign an enrolment of a commune's resident on a date: its agents but
// firedAgent, and sparedAgent only from the first review on; its staff when none is left.
func (p place) signers(date time.Time) []string {
	var out []string
	for _, a := range p.agents {
		if a == firedAgent || (a == sparedAgent && date.Before(day(reviewFires[0].at))) {
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		out = p.staff
	}
	return out
}

// person is one generated citizen: where they live, their group, and the agent who enrols them
// (as the file that does says).
type person struct {
	id, name, phone          string
	commune, village, agent  string
	district, group, subsidy string
}

// action is one thing the coordinator does, at a campaign date: send a file, or steer.
type action struct {
	at      time.Time // campaign time (UTC midnight of the date; the plan's zone is ahead)
	kind    imports.Kind
	steer   string // pause | resume | cancel; no file
	revise  bool   // revise the plan (revise.go); no file
	event   string // leads: the event
	attend  int    // leads: attendance
	name    string
	data    []byte
	persons []person // the file's people, in file order
	outcome []string // outcomes: declined | unreachable, by person
}

func (a action) String() string {
	switch {
	case a.steer != "":
		return fmt.Sprintf("%s the campaign", a.steer)
	case a.revise:
		return "revise the plan"
	case a.kind == imports.Leads:
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

// eventDay is the day of a district event of the launched plan or of the revision's.
func eventDay(id string) time.Time {
	for _, e := range append(heldEvents[:len(heldEvents):len(heldEvents)], addedEvent) {
		if e.id == id {
			return day(e.date)
		}
	}
	panic("no event " + id)
}

// near says whether t falls within giveUpMargin of the give-up of a follow-up opened at opened.
func near(t, opened time.Time) bool {
	d := t.Sub(opened.Add(giveUpAfter))
	return d > -giveUpMargin && d < giveUpMargin
}

// script generates a campaign's coordinator actions from the seed: four enrolment files (some
// people in two of them, the later line with another target group and village, so that the
// first file must win), the results of each of the five events (some leads already enrolled,
// some met at two events), an outcome file after each event, and later enrolments of some
// leads; with cancel, the campaign is cancelled on cancelAt and nothing after is sent, else it
// is paused and resumed. An outcome never names someone whose follow-up is given up on within
// giveUpMargin of it: which of the two comes first would depend on the faults.
func script(w *world, rng *rand.Rand, salt int, cancel bool) []action {
	serial := 0
	newPerson := func(p place, group string) person {
		serial++
		n := serial
		return person{
			id:   fmt.Sprintf("0019%02d%06d", salt, n),
			name: fmt.Sprintf("Người Diễn Tập %d", n), phone: fmt.Sprintf("09%08d", salt*1_000_000+n),
			commune: p.commune, village: p.villages[rng.IntN(len(p.villages))],
			district: p.district, group: group, subsidy: []string{"poor", "near_poor", "other"}[rng.IntN(3)],
		}
	}
	placeOf := map[string]place{}
	for _, p := range w.places {
		placeOf[p.commune] = p
	}
	var enrolled []person // everyone in an enrolment file so far, as first written
	isEnrolled := map[string]bool{}
	var leads []person              // everyone in a leads file so far
	metAt := map[string]time.Time{} // a lead's first event
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
		at := day(date)
		var ps []person
		for range fresh {
			ps = append(ps, newPerson(w.places[rng.IntN(len(w.places))], groups[rng.IntN(len(groups))]))
		}
		again := map[string]bool{}
		for _, p := range pickFrom(enrolled, 0.08) { // enrolled before: duplicates across files
			again[p.id] = true
			ps = append(ps, p)
		}
		ps = append(ps, pickFrom(leads, 0.3)...) // leads who sign up
		ps = unique(ps)
		rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
		for i := range ps {
			p := &ps[i]
			signers := placeOf[p.commune].signers(at)
			p.agent = signers[rng.IntN(len(signers))]
			if again[p.id] || isEnrolled[p.id] {
				// The later line says otherwise where the report looks: another group, and
				// another village where the commune has one.
				p.group = groups[(slices.Index(groups, p.group)+1)%len(groups)]
				if vs := placeOf[p.commune].villages; len(vs) > 1 {
					p.village = vs[(slices.Index(vs, p.village)+1)%len(vs)]
				}
			} else {
				isEnrolled[p.id] = true
				enrolled = append(enrolled, *p)
			}
		}
		var b bytes.Buffer
		cw := csv.NewWriter(&b)
		_ = cw.Write(imports.Headers[imports.Enrolments])
		for _, p := range ps {
			_ = cw.Write([]string{p.id, p.name, p.phone, p.commune, p.village, p.agent, p.group,
				strconv.Itoa(1_500_000 + 100_000*rng.IntN(20)), p.subsidy, []string{"monthly", "3m", "12m"}[rng.IntN(3)], date})
		}
		cw.Flush()
		acts = append(acts, action{at: at, kind: imports.Enrolments, name: "enrolments-" + date + ".csv", data: b.Bytes(), persons: ps})
	}
	results := func(e districtEvent, date string, fresh int) []person {
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
			if _, ok := metAt[p.id]; !ok {
				metAt[p.id] = day(e.date)
			}
		}
		cw.Flush()
		leads = append(leads, ps...)
		acts = append(acts, action{at: day(date), kind: imports.Leads, event: e.id, attend: len(ps) + 10 + rng.IntN(40),
			name: "leads-" + e.id + ".csv", data: b.Bytes(), persons: ps})
		return ps
	}
	outcomes := func(date string, of []person) {
		at := day(date)
		var ps []person
		var out []string
		for _, p := range of {
			if rng.Float64() < 0.35 && !near(at, metAt[p.id]) {
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
		acts = append(acts, action{at: at, kind: imports.Outcomes, name: "outcomes-" + date + ".csv", data: b.Bytes(), persons: ps, outcome: out})
	}

	enrol("2021-02-10", 120+rng.IntN(60))
	// The conference's results come six weeks before the first review, which proposes the
	// fired agent for termination because it has their leads open: a PostgreSQL crash loses a
	// staged file, and the file staged again, after the retries' waits, came 37 s (32 campaign
	// days) late, past a review 29 days after (2021-03-03 then).
	l := results(heldEvents[0], "2021-02-17", 40+rng.IntN(30))
	outcomes("2021-03-10", l)
	l = results(heldEvents[1], "2021-04-14", 30+rng.IntN(30))
	enrol("2021-04-20", 100+rng.IntN(60))
	outcomes("2021-04-25", l)
	// The revision (revise.go) takes out the door-to-door round of 7 June (removedEvent) and
	// puts in a dialogue of 14 June (addedEvent), whose results are sent instead.
	acts = append(acts, action{at: reviseAt, revise: true})
	l = results(addedEvent, addedResultsOn, 30+rng.IntN(20))
	outcomes("2021-06-28", l)
	enrol("2021-07-15", 100+rng.IntN(60))
	l = results(heldEvents[3], "2021-09-08", 40+rng.IntN(20))
	l = append(l, results(heldEvents[4], "2021-09-08", 40+rng.IntN(20))...)
	outcomes("2021-09-15", l)
	enrol("2021-10-05", 80+rng.IntN(40))

	var steer []action
	if cancel {
		var kept []action
		for _, a := range acts {
			if a.at.Before(cancelAt) {
				kept = append(kept, a)
			}
		}
		acts = kept
		steer = []action{{at: cancelAt, steer: "cancel"}}
	} else {
		steer = []action{{at: pauseAt, steer: "pause"}, {at: resumeAt, steer: "resume"}}
	}
	acts = append(acts, steer...)
	sort.SliceStable(acts, func(i, j int) bool { return acts[i].at.Before(acts[j].at) })
	return acts
}

// expected is what follows from the files and the steering script alone, replayed in the
// order the coordinator sends them: a person is enrolled once, as the first file that names
// them says; a lead once (the first event that meets them) and followed up if not enrolled by
// then; a follow-up ends as enrolled when its person enrols while it is open or unreachable,
// as declined or unreachable when an outcome names it while it is open, and as unreachable
// when it is still open giveUpAfter after its event, unless the campaign ended before.
type expected struct {
	target, priorYear int
	status            string // closed | cancelled
	enrolled          int
	fieldEnrolled     int            // of enrolled, by the phone (addPhone)
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
	held              []string // the district events held
	eventsTotal       int      // the district events the campaign has: the launched plan's and the revision's
	leadsFiles        []string // the events whose results were sent
	files             map[imports.Kind]int

	// The sets the database must hold, by key; values are compared too.
	enrolments    map[string][]string // citizen ID → agent, commune, village, group
	prospects     map[string][]string // citizen ID → group
	followUpOf    map[string][]string // citizen ID of the prospect → final status
	decisions     map[string][]string // period/agent → "" (every active agent, every review taken)
	terminations  map[string][]string // period/agent → approved | rejected, for the two planned
	quotas        map[string][]string // level/code → target
	transfers     map[string][]string // period/from/to → amount
	agentStatus   map[string]string   // code → active | terminated
	steers        map[string]int      // pause, resume, cancel
	reviewPeriods []string

	// The plan's revision (revise.go): applied once, its targets kept by day with the ones
	// they replaced, the event it removes cancelled by it and never held.
	revisions    map[string][]string // number → "" (the revisions applied)
	quotaHistory map[string][]string // level/code#revision → target (0: the target it replaced)
	removed      map[string][]string // event → its cancel reason
}

// Field names of the sets' values, for the diagnostics.
var (
	enrolmentFields = []string{"agent", "commune", "village", "target group"}
	groupField      = []string{"target group"}
	statusField     = []string{"status"}
	noFields        = []string{}
	targetField     = []string{"target"}
	amountField     = []string{"amount"}
)

func compute(w *world, acts []action) *expected {
	x := &expected{
		target: int(math.Round(float64(w.labourForce) * 0.01)), priorYear: 300, status: "closed",
		byUnit: map[string]int{}, byAgent: map[string]int{}, byGroup: map[string]int{},
		leads: map[string]int{}, leadsEnrolled: map[string]int{}, declined: map[string]int{}, unreachable: map[string]int{},
		followUps: map[string]int{}, files: map[imports.Kind]int{},
		enrolments: map[string][]string{}, prospects: map[string][]string{}, followUpOf: map[string][]string{},
		decisions: map[string][]string{}, terminations: map[string][]string{}, transfers: map[string][]string{},
		agentStatus: map[string]string{}, steers: map[string]int{},
		revisions: map[string][]string{}, quotaHistory: map[string][]string{}, removed: map[string][]string{},
	}
	end := day("2022-01-01")
	for _, a := range acts {
		if a.steer == "cancel" {
			end = a.at
			x.status = "cancelled"
		}
	}
	enrolled := map[string]bool{}
	leadGroup := map[string]string{} // prospect -> group
	status := map[string]string{}    // follow-up of a prospect -> status
	opened := map[string]time.Time{} // follow-up of a prospect -> its event's day
	giveUps := func(asOf time.Time) {
		for id, s := range status {
			if s == "open" && !opened[id].Add(giveUpAfter).After(asOf) {
				status[id] = "unreachable"
			}
		}
	}
	revised := false
	for _, a := range acts {
		giveUps(a.at)
		if a.revise {
			revised = true
			continue
		}
		if a.steer != "" {
			x.steers[a.steer]++
			continue
		}
		x.files[a.kind]++
		switch a.kind {
		case imports.Enrolments:
			for _, p := range a.persons {
				if enrolled[p.id] {
					continue
				}
				enrolled[p.id] = true
				x.enrolments[p.id] = []string{p.agent, p.commune, p.village, p.group}
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
			x.leadsFiles = append(x.leadsFiles, a.event)
			x.events++
			x.attendance += a.attend
			x.eventLeads += len(a.persons)
			held := eventDay(a.event)
			for _, p := range a.persons {
				if _, ok := leadGroup[p.id]; ok {
					continue
				}
				leadGroup[p.id] = p.group
				if !enrolled[p.id] {
					status[p.id], opened[p.id] = "open", held
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
	giveUps(end)
	events := heldEvents
	if revised {
		// The revision adds and removes events before their days (revise.go).
		events = []districtEvent{addedEvent}
		for _, e := range heldEvents {
			if e.id == removedEvent {
				x.removed[e.id] = []string{"removed by revision 1 of the plan"}
			} else {
				events = append(events, e)
			}
		}
		x.eventsTotal = 1
	}
	x.eventsTotal += len(heldEvents)
	for _, e := range events {
		if day(e.date).Before(end) {
			x.held = append(x.held, e.id)
		}
	}
	for id, g := range leadGroup {
		x.leads[g]++
		x.prospects[id] = []string{g}
		if s, ok := status[id]; ok {
			x.followUpOf[id] = []string{s}
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

	// Reviews: each one taken before the end, of every agent and staff member still active;
	// the first one's two planned proposals decided as the script says.
	quotas := allocateQuotas(w, x.target, nil)
	fired, prev := false, "" // prev: the review before this one
	for _, r := range reviewFires {
		if x.status == "cancelled" && !day(r.at).Before(end) {
			break
		}
		x.reviewPeriods = append(x.reviewPeriods, r.period)
		for _, m := range w.roster {
			// The fired agent is terminated a moment after the first review: the next one
			// judges it on the days it was active in its window (from the window's first
			// day to its termination), later ones not at all.
			if m.code == firedAgent && fired && prev != firstReview {
				continue
			}
			x.decisions[r.period+"/"+m.code] = []string{}
		}
		prev = r.period
		if r.period == firstReview {
			for _, ag := range []string{firedAgent, sparedAgent} {
				st := "rejected"
				if approves(r.period, ag) {
					st = "approved"
				}
				x.terminations[r.period+"/"+ag] = []string{st}
			}
			// The fired agent, who enrolled nobody, keeps a quota of 0; the rest of it goes
			// to the commune's other agent.
			fired = true
			if q := quotas["agent/"+firedAgent]; q > 0 {
				taker := ""
				for _, m := range w.roster {
					if m.commune == "00001" && m.kind == "agent" && m.code != firedAgent {
						taker = m.code
					}
				}
				quotas["agent/"+taker] += q
				quotas["agent/"+firedAgent] = 0
				x.transfers[r.period+"/"+firedAgent+"/"+taker] = []string{strconv.Itoa(q)}
			}
		}
	}
	if revised {
		// The revision comes after the first review's decisions (the coordinator waits for
		// them, revise.go) and no later review moves a quota, so it applies to the quotas as
		// they stand after the transfer.
		x.target = x.reviseQuotas(w, quotas, x.target, fired)
		x.revisions["1"] = []string{}
	}
	x.quotas = map[string][]string{}
	for k, q := range quotas {
		x.quotas[k] = []string{strconv.Itoa(q)}
	}
	for _, m := range w.roster {
		x.agentStatus[m.code] = "active"
	}
	if fired {
		x.agentStatus[firedAgent] = "terminated"
	}
	return x
}

// agents is the set of agents and staff with their final status.
func (x *expected) agents() map[string][]string {
	m := map[string][]string{}
	for code, st := range x.agentStatus {
		m[code] = []string{st}
	}
	return m
}

// steerCounts is how many times the campaign's status is set by each steer the script sends:
// once each, however often an outage made the coordinator try.
func (x *expected) steerCounts() map[string][]string {
	m := map[string][]string{}
	for steer, action := range map[string]string{"pause": "campaign.paused", "resume": "campaign.running", "cancel": "campaign.closing"} {
		if n := x.steers[steer]; n > 0 {
			m[action] = []string{strconv.Itoa(n)}
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
