package plan

import (
	"fmt"
	"io/fs"
	"maps"
	"math"
	"regexp"
	"slices"
	"time"

	"drives/allocate"
)

// DefaultTimezone is where the reference drives run.
const DefaultTimezone = "Asia/Ho_Chi_Minh"

var (
	campaignIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)
	// '.' is kept for the events a city-wide event expands into (<event>.<district>).
	eventIDRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	groupCodeRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
)

// ValidCampaignID reports whether id can name a campaign (it becomes part of workflow IDs).
func ValidCampaignID(id string) bool { return campaignIDRe.MatchString(id) }

// ValidEventID reports whether id can name an event.
func ValidEventID(id string) bool { return eventIDRe.MatchString(id) }

// Parse decodes and validates a plan; files it names are read from fsys. name is the plan
// file's name as the user gave it, used in every error. Every problem is listed, in the order
// of the plan's sections, before anything is refused.
func Parse(name string, raw []byte, fsys fs.FS) (*Loaded, error) {
	p, err := Decode(name, raw)
	if err != nil {
		return nil, err
	}
	p.applyDefaults()
	c := &checker{file: name, p: p}
	c.header()
	c.target()
	c.targetGroups()
	c.followUp()
	c.reviews()
	lp := &Loaded{Plan: p, Location: p.Timezone}
	files, unitsOK := c.readFiles(fsys, lp)
	c.events(lp, unitsOK)
	if unitsOK {
		c.overrides(lp)
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	if t := lp.CityTarget(); t <= 0 {
		return nil, Errors{{File: name, Field: "target", Msg: fmt.Sprintf("gives a city target of %d; it must be positive", t)}}
	}
	lp.Hash = hashInputs(append([][]byte{raw}, files...)...)
	return lp, nil
}

// checker collects the problems of one plan; each step checks one section of it.
type checker struct {
	file   string // the plan file's name, as the user gave it
	p      Plan
	errs   Errors
	loc    *time.Location  // the plan's time zone (UTC when it is unknown)
	groups map[string]bool // the target groups' codes
}

func (c *checker) bad(field, format string, args ...any) {
	c.errs = append(c.errs, Error{File: c.file, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// header checks the campaign's ID and name, time zone, period, clock and prior year.
func (c *checker) header() {
	p := c.p
	if !campaignIDRe.MatchString(p.ID) {
		c.bad("id", "must be 2 to 63 lower-case letters, digits or '-', starting with a letter or digit")
	}
	if p.Name == "" {
		c.bad("name", "must not be empty")
	}
	loc, err := time.LoadLocation(p.Timezone)
	if err != nil {
		c.bad("timezone", "unknown time zone %q", p.Timezone)
		loc = time.UTC
	}
	c.loc = loc
	switch {
	case p.Period.Start.IsZero():
		c.bad("period.start", "is required")
	case p.Period.End.IsZero():
		c.bad("period.end", "is required")
	case !p.Period.Start.In(time.UTC).Before(p.Period.End.In(time.UTC)):
		c.bad("period.end", "%s is not after period.start %s", p.Period.End, p.Period.Start)
	case p.Year != 0 && p.Period.Start.Y != p.Year:
		c.bad("year", "%d does not match period.start %s", p.Year, p.Period.Start)
	}
	if !(p.Clock.Scale >= 1) || math.IsInf(p.Clock.Scale, 0) {
		c.bad("clock.scale", "must be 1 (real time) or more (campaign seconds per real second)")
	}
	if p.PriorYearEnrolled < 0 {
		c.bad("prior_year_enrolled", "must not be negative")
	}
	if p.PreviousCampaign != "" {
		switch {
		case !campaignIDRe.MatchString(p.PreviousCampaign):
			c.bad("previous_campaign", "%q is not a campaign id", p.PreviousCampaign)
		case p.PreviousCampaign == p.ID:
			c.bad("previous_campaign", "a campaign cannot follow itself")
		}
		if p.PriorYearEnrolled != 0 {
			c.bad("prior_year_enrolled", "is taken from the register of previous_campaign %s; give one or the other", p.PreviousCampaign)
		}
	}
}

// target checks the target rule and the one figure it uses.
func (c *checker) target() {
	t := c.p.Target
	switch t.Rule {
	case RuleLabourForceShare:
		if !(t.Share > 0 && t.Share <= 1) {
			c.bad("target.share", "must be above 0 and at most 1 (a share of the labour force)")
		}
		if t.Absolute != 0 {
			c.bad("target.absolute", "is not used with rule %s", RuleLabourForceShare)
		}
	case RuleAbsolute:
		if t.Absolute <= 0 {
			c.bad("target.absolute", "must be a positive number of participants, got %d", t.Absolute)
		}
		if t.Share != 0 {
			c.bad("target.share", "is not used with rule %s", RuleAbsolute)
		}
	default:
		c.bad("target.rule", "must be %q or %q, got %q", RuleLabourForceShare, RuleAbsolute, t.Rule)
	}
}

// overrides checks the pinned targets: each names a district or commune of the plan's units
// and is not negative, and a district's pinned communes leave its other communes a share
// that is not negative (or, all pinned, agree with a pinned district).
func (c *checker) overrides(lp *Loaded) {
	pins := c.p.Target.Overrides
	if len(pins) == 0 {
		return
	}
	districts := map[string]bool{}
	for _, d := range lp.Units.Districts {
		districts[d.Code] = true
	}
	communes := lp.Units.CommuneDistricts()
	for _, code := range slices.Sorted(maps.Keys(pins)) {
		if !districts[code] && communes[code] == "" {
			c.bad("target.overrides."+code, "is neither a district nor a commune of the plan's units")
		} else if pins[code] < 0 {
			c.bad("target.overrides."+code, "must not be negative, got %d", pins[code])
		}
	}
	if len(c.errs) > 0 {
		return
	}
	split := allocate.Quotas(lp.Units, lp.Roster, lp.CityTarget(), nil)
	for _, d := range lp.Units.Districts {
		dq, pinnedDistrict := pins[d.Code]
		if !pinnedDistrict {
			dq = split.Districts[d.Code]
		}
		sum, all := 0, true
		for _, cm := range d.Communes {
			n, ok := pins[cm.Code]
			sum += n
			all = all && ok
		}
		switch {
		case all && pinnedDistrict && sum != dq:
			c.bad("target.overrides."+d.Code, "is %d, but every commune of district %s is pinned and they add up to %d", dq, d.Code, sum)
		case !all && sum > dq:
			c.bad("target.overrides", "the pinned communes of district %s add up to %d, more than its target of %d", d.Code, sum, dq)
		}
	}
}

// targetGroups checks the groups and keeps their codes for the events.
func (c *checker) targetGroups() {
	c.groups = map[string]bool{}
	if len(c.p.TargetGroups) == 0 {
		c.bad("target_groups", "at least one target group is required")
	}
	for i, g := range c.p.TargetGroups {
		f := fmt.Sprintf("target_groups[%d]", i)
		switch {
		case !groupCodeRe.MatchString(g.Code):
			c.bad(f+".code", "must be lower-case letters, digits or '_', starting with a letter")
		case c.groups[g.Code]:
			c.bad(f+".code", "duplicate target group %q", g.Code)
		}
		c.groups[g.Code] = true
		if g.Name == "" {
			c.bad(f+".name", "must not be empty")
		}
		if !(g.Likelihood >= 0 && g.Likelihood <= 1) {
			c.bad(f+".likelihood", "must be between 0 and 1")
		}
	}
}

// followUp checks the follow-up policy: reminders in order before the deadline, giving up
// no earlier than it, a positive sweep interval.
func (c *checker) followUp() {
	fu := c.p.FollowUp
	if fu.Deadline <= 0 {
		c.bad("follow_up.deadline", "must be a positive duration")
	}
	for i, r := range fu.Reminders {
		switch {
		case r <= 0 || r >= fu.Deadline:
			c.bad(fmt.Sprintf("follow_up.reminders[%d]", i), "%s must be after 0 and before the deadline %s", r, fu.Deadline)
		case i > 0 && r <= fu.Reminders[i-1]:
			c.bad(fmt.Sprintf("follow_up.reminders[%d]", i), "%s must come after the reminder before it", r)
		}
	}
	if fu.GiveUpAfter < fu.Deadline {
		c.bad("follow_up.give_up_after", "%s must not be before the deadline %s", fu.GiveUpAfter, fu.Deadline)
	}
	if fu.SweepEvery <= 0 {
		c.bad("follow_up.sweep_every", "must be a positive duration")
	}
	r := c.p.Renewals
	day := Duration(24 * time.Hour)
	switch {
	case r.LeadTime < 0 || r.LeadTime%day != 0 || r.LeadTime > 90*day:
		c.bad("renewals.lead_time", "%s must be whole days, from 0d to 90d", r.LeadTime)
	case r.Grace <= 0 || r.Grace%day != 0 || r.Grace > 365*day:
		c.bad("renewals.grace", "%s must be whole days, from 1d to 365d", r.Grace)
	}
}

// reviews checks the review section, and that its periods leave a schedule enough real time
// between two reviews at the plan's clock.
func (c *checker) reviews() {
	p := c.p
	p.Review.check(c.bad)
	if p.Period.Start.IsZero() || p.Period.End.IsZero() {
		return
	}
	periods, err := ReviewPeriods(p.Review.Cron, c.loc, p.Period.Start.In(c.loc), p.Period.End.In(c.loc).AddDate(0, 0, 1))
	if err != nil && len(c.errs) == 0 {
		c.bad("review.cron", "%v", err)
	}
	for _, r := range periods {
		if gap := time.Duration(float64(r.End.Sub(r.Start)) / p.Clock.Scale); p.Clock.Scale >= 1 && gap < MinReviewGap {
			c.bad("review.cron", "review %s comes %s of campaign time after the one before, %s of real time at clock.scale %g; reviews need %s of real time between them",
				r.Label, r.End.Sub(r.Start), gap.Round(time.Millisecond), p.Clock.Scale, MinReviewGap)
			break
		}
	}
}

// readFiles reads the unit register, the villages and the roster into lp, and checks that
// every commune has someone to hold its quota. It returns the files' bytes, for the hash, and
// whether the register could be read (units can be checked against it).
func (c *checker) readFiles(fsys fs.FS, lp *Loaded) (files [][]byte, unitsOK bool) {
	p := c.p
	switch {
	case p.Units.File == "":
		c.bad("units.file", "is required (the register of districts and communes)")
	case p.Units.VillagesFile == "":
		c.bad("units.villages_file", "is required (villages with their labour force)")
	default:
		var raw []byte
		lp.Units, raw, unitsOK = readHierarchy(fsys, p.Units.File, p.Units.VillagesFile, &c.errs)
		files = append(files, raw)
	}
	communes := lp.Units.CommuneDistricts()
	if p.Roster.File == "" {
		c.bad("roster.file", "is required (staff and collection agents)")
		return files, unitsOK
	}
	if len(communes) == 0 {
		return files, unitsOK
	}
	roster, raw, rosterOK := readRoster(fsys, p.Roster.File, communes, &c.errs)
	lp.Roster = roster
	files = append(files, raw)
	covered := map[string]bool{}
	for _, a := range lp.Roster {
		covered[a.Commune] = true
	}
	for _, d := range lp.Units.Districts {
		for _, cm := range d.Communes {
			// A roster that could not be read is one problem, not one per commune.
			if rosterOK && !covered[cm.Code] {
				c.errs = append(c.errs, Error{File: p.Roster.File, Msg: fmt.Sprintf("commune %s (%s) has no agent or staff member to hold its quota", cm.Code, cm.Name)})
			}
		}
	}
	return files, unitsOK
}

// events checks every event's ID, kind, unit, date and groups; units only when the register
// could be read (else every unit would be unknown).
func (c *checker) events(lp *Loaded, unitsOK bool) {
	districts := map[string]bool{}
	for _, d := range lp.Units.Districts {
		districts[d.Code] = true
	}
	communes := lp.Units.CommuneDistricts()
	ids := map[string]bool{}
	for i, e := range c.p.Events {
		f := fmt.Sprintf("events[%d]", i)
		switch {
		case !eventIDRe.MatchString(e.ID):
			c.bad(f+".id", "must be 1 to 63 lower-case letters, digits, '_' or '-'")
		case ids[e.ID]:
			c.bad(f+".id", "duplicate event id %q", e.ID)
		}
		ids[e.ID] = true
		if err := checkEvent(e, c.p.Period, c.groups, districts, communes); err != nil && (unitsOK || err.Field != "unit") {
			c.bad(f+"."+err.Field, "%s", err.Msg)
		}
	}
}

// EventProblem names the field of an event that is wrong and why.
type EventProblem struct{ Field, Msg string }

// checkEvent validates one event against the plan's period, groups and units. The campaign
// workflow's Update validator uses the same rules for events added while it runs.
func checkEvent(e EventSpec, period Period, groups map[string]bool, districts map[string]bool, communes map[string]string) *EventProblem {
	if !slices.Contains(EventKinds, e.Kind) {
		return &EventProblem{"kind", fmt.Sprintf("must be one of %v, got %q", EventKinds, e.Kind)}
	}
	if e.Unit != CityWide && !districts[e.Unit] && communes[e.Unit] == "" {
		return &EventProblem{"unit", fmt.Sprintf("unknown unit %q (a district or commune code, or %q)", e.Unit, CityWide)}
	}
	if e.Date.IsZero() {
		return &EventProblem{"date", "is required"}
	}
	d := e.Date.In(time.UTC)
	if d.Before(period.Start.In(time.UTC)) || d.After(period.End.In(time.UTC)) {
		return &EventProblem{"date", fmt.Sprintf("%s is outside the period %s..%s", e.Date, period.Start, period.End)}
	}
	if len(e.Groups) == 0 {
		return &EventProblem{"groups", "name at least one target group the event is aimed at"}
	}
	for j, g := range e.Groups {
		if !groups[g] {
			return &EventProblem{fmt.Sprintf("groups[%d]", j), fmt.Sprintf("unknown target group %q", g)}
		}
	}
	if e.ExpectedAttendance < 0 {
		return &EventProblem{"expected_attendance", "must not be negative"}
	}
	return nil
}

func (p *Plan) applyDefaults() {
	if p.Timezone == "" {
		p.Timezone = DefaultTimezone
	}
	if p.Clock.Scale == 0 {
		p.Clock.Scale = 1
	}
	if p.FollowUp.SweepEvery == 0 {
		p.FollowUp.SweepEvery = Duration(7 * 24 * time.Hour)
	}
	if p.FollowUp.GiveUpAfter == 0 {
		p.FollowUp.GiveUpAfter = p.FollowUp.Deadline * 2
	}
	if p.Renewals.LeadTime == 0 {
		p.Renewals.LeadTime = DefaultRenewalLead
	}
	if p.Renewals.Grace == 0 {
		p.Renewals.Grace = DefaultRenewalGrace
	}
	p.Review.applyDefaults()
}

// Allocation is the plan's quotas: the city target split down the hierarchy and among the
// roster, with the plan's pinned targets (allocate.Quotas).
func (lp *Loaded) Allocation() allocate.Allocation {
	return allocate.Quotas(lp.Units, lp.Roster, lp.CityTarget(), lp.Plan.Target.Overrides)
}

// CityTarget is the number of participants the city must enrol under the plan's rule.
func (lp *Loaded) CityTarget() int {
	if lp.Plan.Target.Rule == RuleAbsolute {
		return lp.Plan.Target.Absolute
	}
	return int(math.Round(lp.Plan.Target.Share * float64(lp.Units.LabourForce())))
}
