// Package allocate splits a drive's city target into quotas: down the unit hierarchy by labour
// force, and each commune's quota among its agents and staff by weight, by largest remainder,
// with exact sums at every level. Pure integer arithmetic, no I/O.
package allocate

import (
	"fmt"
	"math"
	"sort"

	"drives/units"
)

// Share is one claimant in a split: a unit or an agent with its weight.
type Share struct {
	Code   string
	Weight int64
}

// LargestRemainder splits total among shares in proportion to their weights, exactly: every
// share gets the floor of its proportional part, and the units left over go to the largest
// remainders. Ties break by larger weight, then by code, so the result depends only on the
// inputs. Integer arithmetic throughout, so the sum is always total. With all weights zero the
// split is even.
func LargestRemainder(total int, shares []Share) []int {
	out := make([]int, len(shares))
	if len(shares) == 0 || total <= 0 {
		return out
	}
	var sum int64
	for _, s := range shares {
		if s.Weight < 0 {
			panic(fmt.Sprintf("campaign: negative weight for %s", s.Code))
		}
		sum += s.Weight
	}
	weight := func(i int) int64 { return shares[i].Weight }
	if sum == 0 {
		weight = func(int) int64 { return 1 }
		sum = int64(len(shares))
	}
	rem := make([]int64, len(shares))
	given := 0
	for i := range shares {
		p := int64(total) * weight(i)
		out[i] = int(p / sum)
		rem[i] = p % sum
		given += out[i]
	}
	order := make([]int, len(shares))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		i, j := order[a], order[b]
		if rem[i] != rem[j] {
			return rem[i] > rem[j]
		}
		if weight(i) != weight(j) {
			return weight(i) > weight(j)
		}
		return shares[i].Code < shares[j].Code
	})
	for k := 0; given < total; k++ {
		out[order[k%len(order)]]++
		given++
	}
	return out
}

// Allocation is the quota of every unit and every agent or staff member. Each level sums
// exactly to the level above it: districts to the city, communes to their district, villages
// to their commune, and the commune's agents and staff to their commune.
type Allocation struct {
	City      int            `json:"city"`
	Districts map[string]int `json:"districts"`
	Communes  map[string]int `json:"communes"`
	Villages  map[string]int `json:"villages"`
	Agents    map[string]int `json:"agents"`
}

// AgentWeightScale turns an agent's decimal weight into the integer weights of a split.
const AgentWeightScale = 1000

// AgentShare is an agent's integer weight in its commune's split.
func AgentShare(a units.Agent) Share {
	return Share{Code: a.Code, Weight: int64(math.Round(a.Weight * AgentWeightScale))}
}

// Quotas splits the city target down the hierarchy by labour force, and each commune's
// quota among its agents and staff by their weights. Pinned targets (a plan's
// target.overrides, by district or commune code) replace what the split would give: a pinned
// district's communes share its pinned target; a pinned commune takes its target out of its
// district's, and the district's other communes share the rest (nothing, when the pins take
// more: the plan's check refuses that); a district whose communes are all pinned has their
// sum. The city is the sum of its districts, so every level stays exact.
func Quotas(h units.Hierarchy, roster []units.Agent, cityTarget int, pinned map[string]int) Allocation {
	a := Allocation{
		Districts: map[string]int{},
		Communes:  map[string]int{},
		Villages:  map[string]int{},
		Agents:    map[string]int{},
	}
	byCommune := map[string][]Share{}
	for _, ag := range roster {
		byCommune[ag.Commune] = append(byCommune[ag.Commune], AgentShare(ag))
	}
	ds := make([]Share, len(h.Districts))
	for i, d := range h.Districts {
		ds[i] = Share{d.Code, int64(d.LabourForce())}
	}
	for i, dq := range LargestRemainder(cityTarget, ds) {
		d := h.Districts[i]
		if n, ok := pinned[d.Code]; ok {
			dq = n
		}
		var free []Share
		var freeAt []int
		rest, allPinned := dq, true
		for j, c := range d.Communes {
			if n, ok := pinned[c.Code]; ok {
				a.Communes[c.Code] = n
				rest -= n
				continue
			}
			allPinned = false
			free = append(free, Share{c.Code, int64(c.LabourForce())})
			freeAt = append(freeAt, j)
		}
		if allPinned && len(d.Communes) > 0 {
			dq = dq - rest
		}
		for k, cq := range LargestRemainder(max(rest, 0), free) {
			a.Communes[d.Communes[freeAt[k]].Code] = cq
		}
		a.Districts[d.Code] = dq
		a.City += dq
		for _, c := range d.Communes {
			cq := a.Communes[c.Code]
			vs := make([]Share, len(c.Villages))
			for k, v := range c.Villages {
				vs[k] = Share{v.Code, int64(v.LabourForce)}
			}
			for k, vq := range LargestRemainder(cq, vs) {
				a.Villages[c.Villages[k].Code] = vq
			}
			agents := byCommune[c.Code]
			for k, q := range LargestRemainder(cq, agents) {
				a.Agents[agents[k].Code] = q
			}
		}
	}
	return a
}
