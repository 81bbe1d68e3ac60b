package plan

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"drives/allocate"
	"drives/units"
)

// Diff is what a revised plan changes in a campaign's plan: the targets and quotas at every
// level (old and new side by side; each level's sums, which the allocation keeps exact), the
// events added, removed or changed, and every other setting that differs.
type Diff struct {
	OldHash  string          `json:"old_hash"`
	NewHash  string          `json:"new_hash"`
	City     Change          `json:"city"`
	Levels   []LevelDiff     `json:"levels"`
	Events   []EventChange   `json:"events"`
	Settings []SettingChange `json:"settings"`
}

// Empty says the revised plan changes no target, event or setting.
func (d Diff) Empty() bool {
	for _, l := range d.Levels {
		if len(l.Changed) > 0 {
			return false
		}
	}
	return d.City.Old == d.City.New && len(d.Events) == 0 && len(d.Settings) == 0
}

// Change is a target before and after.
type Change struct {
	Old int `json:"old"`
	New int `json:"new"`
}

// Delta is New - Old.
func (c Change) Delta() int { return c.New - c.Old }

// LevelDiff is one level of the hierarchy: its lines whose target changes (a unit or agent
// only one plan has counts 0 in the other), and the level's sums.
type LevelDiff struct {
	Level   string         `json:"level"` // district | commune | village | agent
	Lines   int            `json:"lines"` // units or agents in either plan
	Sum     Change         `json:"sum"`
	Changed []TargetChange `json:"changed"`
}

// TargetChange is one unit's or agent's target before and after. Agents are named by code
// only: their names are personal data.
type TargetChange struct {
	Code string `json:"code"`
	Name string `json:"name,omitempty"`
	Change
}

// EventChange is an event a revision adds, removes or changes (with the fields that differ).
type EventChange struct {
	ID     string          `json:"id"`
	What   string          `json:"what"` // added | removed | changed
	Fields []SettingChange `json:"fields,omitempty"`
}

// SettingChange is a setting whose value differs, by its path in the plan (e.g.
// "follow_up.deadline", "review.policy.warn_below").
type SettingChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// DiffPlans compares a campaign's launched plan with a revision of it.
func DiffPlans(old, revised *Loaded) Diff {
	return DiffAllocated(old, revised, old.Allocation(), revised.Allocation())
}

// DiffAllocated is DiffPlans with the two plans' allocations given (a is old's, b revised's),
// for a caller that needs them too and should not allocate the plans twice.
func DiffAllocated(old, revised *Loaded, a, b allocate.Allocation) Diff {
	d := Diff{OldHash: old.Hash, NewHash: revised.Hash}
	d.City = Change{a.City, b.City}
	var names map[string]string
	name := func(code string) string {
		if names == nil {
			// The revised plan's names, then the old plan's for units only it has.
			names = unitNames(revised)
			if old != revised && !sameUnits(old.Units, revised.Units) {
				for code, n := range unitNames(old) {
					if _, ok := names[code]; !ok {
						names[code] = n
					}
				}
			}
		}
		return names[code]
	}
	for _, l := range []struct {
		level    string
		old, new map[string]int
	}{{"district", a.Districts, b.Districts}, {"commune", a.Communes, b.Communes}, {"village", a.Villages, b.Villages}, {"agent", a.Agents, b.Agents}} {
		ld := LevelDiff{Level: l.level}
		// The lines whose target changes (a line in one plan only counts 0 in the other),
		// listed by code: only they are sorted.
		both := 0 // the old plan's lines the revised plan has too
		for c, n := range l.old {
			ld.Sum.Old += n
			m, ok := l.new[c]
			if ok {
				both++
			}
			if !ok || m != n {
				ld.Changed = append(ld.Changed, TargetChange{Code: c, Change: Change{n, m}})
			}
		}
		ld.Lines = len(l.old)
		for c, n := range l.new {
			ld.Sum.New += n
			if both == len(l.new) {
				continue // every revised line is an old one
			}
			if _, ok := l.old[c]; !ok {
				ld.Changed = append(ld.Changed, TargetChange{Code: c, Change: Change{0, n}})
				ld.Lines++
			}
		}
		slices.SortFunc(ld.Changed, func(x, y TargetChange) int { return strings.Compare(x.Code, y.Code) })
		if l.level != "agent" {
			for i := range ld.Changed {
				ld.Changed[i].Name = name(ld.Changed[i].Code)
			}
		}
		d.Levels = append(d.Levels, ld)
	}
	d.Events = diffEvents(old.Plan.Events, revised.Plan.Events)
	d.Settings = diffSettings(old.Plan, revised.Plan)
	return d
}

// sameUnits says two hierarchies are the same units, in the same order, with the same names.
func sameUnits(a, b units.Hierarchy) bool {
	if len(a.Districts) != len(b.Districts) {
		return false
	}
	for i, d := range a.Districts {
		e := b.Districts[i]
		if d.Code != e.Code || d.Name != e.Name || len(d.Communes) != len(e.Communes) {
			return false
		}
		for j, c := range d.Communes {
			f := e.Communes[j]
			if c.Code != f.Code || c.Name != f.Name || len(c.Villages) != len(f.Villages) {
				return false
			}
			for k, v := range c.Villages {
				if w := f.Villages[k]; v.Code != w.Code || v.Name != w.Name {
					return false
				}
			}
		}
	}
	return true
}

func unitNames(lp *Loaded) map[string]string {
	out := make(map[string]string, 1<<16)
	for _, dist := range lp.Units.Districts {
		out[dist.Code] = dist.Name
		for _, c := range dist.Communes {
			out[c.Code] = c.Name
			for _, v := range c.Villages {
				out[v.Code] = v.Name
			}
		}
	}
	return out
}

func sortedCodes(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func diffEvents(old, revised []EventSpec) []EventChange {
	byID := func(es []EventSpec) map[string]EventSpec {
		m := make(map[string]EventSpec, len(es))
		for _, e := range es {
			m[e.ID] = e
		}
		return m
	}
	a, b := byID(old), byID(revised)
	ids := map[string]bool{}
	for id := range a {
		ids[id] = true
	}
	for id := range b {
		ids[id] = true
	}
	var out []EventChange
	for _, id := range sortedCodes(ids) {
		o, inOld := a[id]
		n, inNew := b[id]
		switch {
		case !inOld:
			out = append(out, EventChange{ID: id, What: "added"})
		case !inNew:
			out = append(out, EventChange{ID: id, What: "removed"})
		case !reflect.DeepEqual(o, n):
			out = append(out, EventChange{ID: id, What: "changed", Fields: diffValues("", o, n)})
		}
	}
	return out
}

// diffSettings compares every setting of two plans but their events and the contents of the
// files they name (which the allocation's lines show).
func diffSettings(old, revised Plan) []SettingChange {
	old.Events, revised.Events = nil, nil
	old.Units, revised.Units = UnitSources{}, UnitSources{}
	old.Roster, revised.Roster = RosterSource{}, RosterSource{}
	return diffValues("", old, revised)
}

// diffValues lists the leaves (by their JSON paths) whose values differ between a and b.
func diffValues(prefix string, a, b any) []SettingChange {
	fa, fb := map[string]string{}, map[string]string{}
	flatten(prefix, toJSON(a), fa)
	flatten(prefix, toJSON(b), fb)
	keys := map[string]bool{}
	for k := range fa {
		keys[k] = true
	}
	for k := range fb {
		keys[k] = true
	}
	var out []SettingChange
	for _, k := range sortedCodes(keys) {
		if fa[k] != fb[k] {
			out = append(out, SettingChange{Field: k, Old: fa[k], New: fb[k]})
		}
	}
	return out
}

func toJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return string(b)
	}
	return out
}

func flatten(prefix string, v any, out map[string]string) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			flatten(join(k), x[k], out)
		}
	case []any:
		if len(x) == 0 {
			out[prefix] = "[]"
		}
		for i, e := range x {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), e, out)
		}
	case nil:
		out[prefix] = ""
	case string:
		out[prefix] = x
	default:
		out[prefix] = strings.TrimSpace(fmt.Sprint(x))
	}
}
