package plan

import (
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"slices"
	"time"
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
// file's name as the user gave it, used in every error.
func Parse(name string, raw []byte, fsys fs.FS) (*Loaded, error) {
	p, err := Decode(name, raw)
	if err != nil {
		return nil, err
	}
	p.applyDefaults()
	var errs Errors
	bad := func(field, format string, args ...any) {
		errs = append(errs, Error{File: name, Field: field, Msg: fmt.Sprintf(format, args...)})
	}

	if !campaignIDRe.MatchString(p.ID) {
		bad("id", "must be 2 to 63 lower-case letters, digits or '-', starting with a letter or digit")
	}
	if p.Name == "" {
		bad("name", "must not be empty")
	}
	loc, err := time.LoadLocation(p.Timezone)
	if err != nil {
		bad("timezone", "unknown time zone %q", p.Timezone)
		loc = time.UTC
	}
	switch {
	case p.Period.Start.IsZero():
		bad("period.start", "is required")
	case p.Period.End.IsZero():
		bad("period.end", "is required")
	case !p.Period.Start.In(time.UTC).Before(p.Period.End.In(time.UTC)):
		bad("period.end", "%s is not after period.start %s", p.Period.End, p.Period.Start)
	case p.Year != 0 && p.Period.Start.Y != p.Year:
		bad("year", "%d does not match period.start %s", p.Year, p.Period.Start)
	}
	if !(p.Clock.Scale >= 1) || math.IsInf(p.Clock.Scale, 0) {
		bad("clock.scale", "must be 1 (real time) or more (campaign seconds per real second)")
	}
	if p.PriorYearEnrolled < 0 {
		bad("prior_year_enrolled", "must not be negative")
	}
	switch p.Target.Rule {
	case RuleLabourForceShare:
		if !(p.Target.Share > 0 && p.Target.Share <= 1) {
			bad("target.share", "must be above 0 and at most 1 (a share of the labour force)")
		}
		if p.Target.Absolute != 0 {
			bad("target.absolute", "is not used with rule %s", RuleLabourForceShare)
		}
	case RuleAbsolute:
		if p.Target.Absolute <= 0 {
			bad("target.absolute", "must be a positive number of participants, got %d", p.Target.Absolute)
		}
		if p.Target.Share != 0 {
			bad("target.share", "is not used with rule %s", RuleAbsolute)
		}
	default:
		bad("target.rule", "must be %q or %q, got %q", RuleLabourForceShare, RuleAbsolute, p.Target.Rule)
	}

	groups := map[string]bool{}
	if len(p.TargetGroups) == 0 {
		bad("target_groups", "at least one target group is required")
	}
	for i, g := range p.TargetGroups {
		f := fmt.Sprintf("target_groups[%d]", i)
		switch {
		case !groupCodeRe.MatchString(g.Code):
			bad(f+".code", "must be lower-case letters, digits or '_', starting with a letter")
		case groups[g.Code]:
			bad(f+".code", "duplicate target group %q", g.Code)
		}
		groups[g.Code] = true
		if g.Name == "" {
			bad(f+".name", "must not be empty")
		}
		if !(g.Likelihood >= 0 && g.Likelihood <= 1) {
			bad(f+".likelihood", "must be between 0 and 1")
		}
	}

	fu := p.FollowUp
	if fu.Deadline <= 0 {
		bad("follow_up.deadline", "must be a positive duration")
	}
	for i, r := range fu.Reminders {
		switch {
		case r <= 0 || r >= fu.Deadline:
			bad(fmt.Sprintf("follow_up.reminders[%d]", i), "%s must be after 0 and before the deadline %s", r, fu.Deadline)
		case i > 0 && r <= fu.Reminders[i-1]:
			bad(fmt.Sprintf("follow_up.reminders[%d]", i), "%s must come after the reminder before it", r)
		}
	}
	if fu.GiveUpAfter < fu.Deadline {
		bad("follow_up.give_up_after", "%s must not be before the deadline %s", fu.GiveUpAfter, fu.Deadline)
	}
	if fu.SweepEvery <= 0 {
		bad("follow_up.sweep_every", "must be a positive duration")
	}

	p.Review.check(bad)
	if !p.Period.Start.IsZero() && !p.Period.End.IsZero() {
		periods, err := ReviewPeriods(p.Review.Cron, loc, p.Period.Start.In(loc), p.Period.End.In(loc).AddDate(0, 0, 1))
		if err != nil && len(errs) == 0 {
			bad("review.cron", "%v", err)
		}
		for _, r := range periods {
			if gap := time.Duration(float64(r.End.Sub(r.Start)) / p.Clock.Scale); p.Clock.Scale >= 1 && gap < MinReviewGap {
				bad("review.cron", "review %s comes %s of campaign time after the one before, %s of real time at clock.scale %g; reviews need %s of real time between them",
					r.Label, r.End.Sub(r.Start), gap.Round(time.Millisecond), p.Clock.Scale, MinReviewGap)
				break
			}
		}
	}

	lp := &Loaded{Plan: p, Location: p.Timezone}
	var files [][]byte
	unitsOK := false // the register was read: units can be checked against it
	switch {
	case p.Units.File == "":
		bad("units.file", "is required (the register of districts and communes)")
	case p.Units.VillagesFile == "":
		bad("units.villages_file", "is required (villages with their labour force)")
	default:
		var raw []byte
		lp.Units, raw, unitsOK = readHierarchy(fsys, p.Units.File, p.Units.VillagesFile, &errs)
		files = append(files, raw)
	}
	communes := lp.Units.CommuneDistricts()
	if p.Roster.File == "" {
		bad("roster.file", "is required (staff and collection agents)")
	} else if len(communes) > 0 {
		var raw []byte
		var rosterOK bool
		lp.Roster, raw, rosterOK = readRoster(fsys, p.Roster.File, communes, &errs)
		files = append(files, raw)
		covered := map[string]bool{}
		for _, a := range lp.Roster {
			covered[a.Commune] = true
		}
		for _, d := range lp.Units.Districts {
			for _, c := range d.Communes {
				// A roster that could not be read is one problem, not one per commune.
				if rosterOK && !covered[c.Code] {
					errs = append(errs, Error{File: p.Roster.File, Msg: fmt.Sprintf("commune %s (%s) has no agent or staff member to hold its quota", c.Code, c.Name)})
				}
			}
		}
	}

	districts := map[string]bool{}
	for _, d := range lp.Units.Districts {
		districts[d.Code] = true
	}
	eventIDs := map[string]bool{}
	for i, e := range p.Events {
		f := fmt.Sprintf("events[%d]", i)
		switch {
		case !eventIDRe.MatchString(e.ID):
			bad(f+".id", "must be 1 to 63 lower-case letters, digits, '_' or '-'")
		case eventIDs[e.ID]:
			bad(f+".id", "duplicate event id %q", e.ID)
		}
		eventIDs[e.ID] = true
		if err := checkEvent(e, p.Period, groups, districts, communes); err != nil && (unitsOK || err.Field != "unit") {
			bad(f+"."+err.Field, "%s", err.Msg)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if t := lp.CityTarget(); t <= 0 {
		return nil, Errors{{File: name, Field: "target", Msg: fmt.Sprintf("gives a city target of %d; it must be positive", t)}}
	}
	_ = loc
	lp.Hash = hashInputs(append([][]byte{raw}, files...)...)
	return lp, nil
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
	p.Review.applyDefaults()
}

// CityTarget is the number of participants the city must enrol under the plan's rule.
func (lp *Loaded) CityTarget() int {
	if lp.Plan.Target.Rule == RuleAbsolute {
		return lp.Plan.Target.Absolute
	}
	return int(math.Round(lp.Plan.Target.Share * float64(lp.Units.LabourForce())))
}
