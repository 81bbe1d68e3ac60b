package report

import (
	"fmt"
	"slices"
	"strings"
)

// Within is the part of a report that lies in some units (districts or communes): its target
// and enrolled are the units' sums, its Units the named units and every unit below them, its
// Agents those of the communes within. The campaign's prior year, target groups, follow-ups
// and events are not counted by unit, and are left out (Scope says the figures are a part's).
// A unit named within another named one is counted once.
func Within(r *Report, codes []string) (*Report, error) {
	byCode := make(map[string]int, len(r.Units))
	for i, u := range r.Units {
		byCode[u.Code] = i
	}
	var missing []string
	for _, c := range codes {
		if _, ok := byCode[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("--unit: campaign %s has no unit %s", r.CampaignID, strings.Join(missing, ", "))
	}
	// in says whether a unit is one of the named ones or lies below one; named says which.
	in := func(code string) (named string, ok bool) {
		for code != "" {
			if slices.Contains(codes, code) {
				named = code
				ok = true
			}
			i, found := byCode[code]
			if !found {
				break
			}
			code = r.Units[i].Parent
		}
		return named, ok
	}
	out := &Report{CampaignID: r.CampaignID, Name: r.Name, Status: r.Status, Final: r.Final, GeneratedAt: r.GeneratedAt,
		Scope: slices.Clone(codes), Units: []UnitLine{}, Groups: []GroupLine{}, Agents: []AgentLine{}}
	communes := map[string]bool{}
	for _, u := range r.Units {
		named, ok := in(u.Code)
		if !ok {
			continue
		}
		out.Units = append(out.Units, u)
		if named == u.Code {
			if _, above := in(u.Parent); !above {
				out.Target += u.Target
				out.Enrolled += u.Enrolled
			}
		}
		if u.Level == "commune" {
			communes[u.Code] = true
		}
	}
	for _, a := range r.Agents {
		if communes[a.Commune] {
			out.Agents = append(out.Agents, a)
		}
	}
	out.AttainmentPct = pct(out.Enrolled, out.Target)
	return out, nil
}
