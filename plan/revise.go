package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// RevisionTimes are the days a revision is checked against, in the campaign's time zone:
// the campaign's day now, and the day the revision applies from.
type RevisionTimes struct {
	Today, From time.Time
}

// revisable says whether a setting may change while the campaign runs: its name, and its
// targets (the rule, the pinned targets). Everything else (period, clock, time zone, target
// groups, follow-up and review policy, renewals, the previous campaign) shapes the running
// workflows and is fixed at launch.
func revisable(field string) bool {
	return field == "name" || strings.HasPrefix(field, "target.")
}

// CheckRevision lists what a revision of a running campaign's plan may not change, each
// problem named by its field: the campaign's id, its fixed settings, its units and roster (a
// revision changes targets and events, not who and where), events changed in place, events
// added or removed on days already past, held events, and the day it applies from. notPlanned
// holds the campaign's events that are held or cancelled already (plan event IDs, city-wide
// events included).
func CheckRevision(file string, old, revised *Loaded, d Diff, t RevisionTimes, notPlanned map[string]string) Errors {
	var errs Errors
	bad := func(field, format string, args ...any) {
		errs = append(errs, Error{File: file, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if revised.Plan.ID != old.Plan.ID {
		bad("id", "%q is not campaign %s: a revision keeps its campaign's id", revised.Plan.ID, old.Plan.ID)
	}
	if d.Empty() {
		bad("", "changes nothing: it is the plan in force (a revision sent twice is applied once)")
	}
	loc, err := time.LoadLocation(old.Plan.Timezone)
	if err != nil {
		loc = time.UTC
	}
	today := dayOf(t.Today.In(loc))
	from := dayOf(t.From.In(loc))
	end := old.Plan.Period.End.In(loc)
	switch {
	case from.Before(today):
		bad("from", "%s is before the campaign's day (%s): a revision applies from today on", from.Format(time.DateOnly), today.Format(time.DateOnly))
	case from.After(end):
		bad("from", "%s is after the campaign's last day (%s)", from.Format(time.DateOnly), end.Format(time.DateOnly))
	}
	for _, s := range d.Settings {
		if !revisable(s.Field) {
			bad(s.Field, "cannot change while the campaign runs (%s → %s); a revision changes the name, the targets and the events", shownValue(s.Old), shownValue(s.New))
		}
	}
	// The same units and roster in the same order (as a revision of the same files has them)
	// are the same sets: only plans that differ (in a unit's name too: sameUnits) are compared
	// as sets.
	if !sameUnits(old.Units, revised.Units) {
		if added, removed := codeSetDiff(unitCodes(old), unitCodes(revised)); len(added)+len(removed) > 0 {
			bad("units", "a revision keeps the campaign's units: %s", setChange(added, removed))
		}
	}
	if !sameRosterKeys(old, revised) {
		if added, removed := codeSetDiff(rosterKeys(old), rosterKeys(revised)); len(added)+len(removed) > 0 {
			bad("roster", "a revision keeps the campaign's agents and staff where they are (%s); agents join, leave and move with `starter agents join|leave|move`", setChange(added, removed))
		}
	}
	events := map[string]EventSpec{}
	for _, e := range old.Plan.Events {
		events[e.ID] = e
	}
	for _, e := range revised.Plan.Events {
		events[e.ID] = e
	}
	for _, c := range d.Events {
		field := "events." + c.ID
		e := events[c.ID]
		at := e.Date.In(loc).Add(EventHour * time.Hour)
		switch c.What {
		case "changed":
			var fs []string
			for _, f := range c.Fields {
				fs = append(fs, f.Field)
			}
			bad(field, "changes (%s): a revision adds and removes events; remove this one and add its replacement under a new id", strings.Join(fs, ", "))
		case "added":
			if at.Before(from) || !at.After(t.Today) {
				bad(field, "is added on %s, before the revision's first day %s or already past", e.Date, from.Format(time.DateOnly))
			}
		case "removed":
			switch notPlanned[c.ID] {
			case "held":
				bad(field, "was held; a held event stays in the plan")
			case "cancelled":
				// cancelled already: removing it changes nothing
			default:
				if !at.After(t.Today) {
					bad(field, "was due on %s and is held already", e.Date)
				}
			}
		}
	}
	return errs
}

// CheckQuotasKept refuses targets set below what a unit or agent has enrolled already, where
// the plan does not allow it (target.allow_below_enrolled). enrolled is by level, then code.
func CheckQuotasKept(file string, revised *Loaded, changes []TargetChangeAt, enrolled map[string]map[string]int) Errors {
	if revised.Plan.Target.AllowBelowEnrolled {
		return nil
	}
	var errs Errors
	for _, c := range changes {
		if n := enrolled[c.Level][c.Code]; c.New < c.Old && c.New < n {
			errs = append(errs, Error{File: file, Field: "target", Msg: fmt.Sprintf(
				"%s %s would have a target of %d, below the %d it has enrolled already (target.allow_below_enrolled: true allows it)", c.Level, c.Code, c.New, n)})
		}
	}
	return errs
}

// TargetChangeAt is a target change at one level of the hierarchy (city, district, commune,
// village or agent).
type TargetChangeAt struct {
	Level, Code string
	Change
}

func dayOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

func shownValue(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

func unitCodes(lp *Loaded) map[string]bool {
	out := map[string]bool{}
	for _, d := range lp.Units.Districts {
		out[d.Code] = true
		for _, c := range d.Communes {
			out[c.Code] = true
			for _, v := range c.Villages {
				out[v.Code] = true
			}
		}
	}
	return out
}

// sameRosterKeys says two plans' rosters have the same agents, each with the same kind and
// commune, in the same order (then their rosterKeys are the same).
func sameRosterKeys(a, b *Loaded) bool {
	if len(a.Roster) != len(b.Roster) {
		return false
	}
	for i, x := range a.Roster {
		if y := b.Roster[i]; x.Code != y.Code || x.Kind != y.Kind || x.Commune != y.Commune {
			return false
		}
	}
	return true
}

// rosterKeys names each agent with where and what they are: an agent moved to another
// commune, or made staff, is one removed and one added.
func rosterKeys(lp *Loaded) map[string]bool {
	out := map[string]bool{}
	for _, a := range lp.Roster {
		out[a.Code+" ("+a.Kind+", commune "+a.Commune+")"] = true
	}
	return out
}

func codeSetDiff(old, revised map[string]bool) (added, removed []string) {
	for c := range revised {
		if !old[c] {
			added = append(added, c)
		}
	}
	for c := range old {
		if !revised[c] {
			removed = append(removed, c)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

func setChange(added, removed []string) string {
	few := func(cs []string) string {
		if len(cs) > 3 {
			return strings.Join(cs[:3], ", ") + fmt.Sprintf(" and %d more", len(cs)-3)
		}
		return strings.Join(cs, ", ")
	}
	var parts []string
	if len(added) > 0 {
		parts = append(parts, fmt.Sprintf("%d added: %s", len(added), few(added)))
	}
	if len(removed) > 0 {
		parts = append(parts, fmt.Sprintf("%d removed: %s", len(removed), few(removed)))
	}
	return strings.Join(parts, "; ")
}
