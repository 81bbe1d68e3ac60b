package main

import (
	"maps"
	"math"
	"sort"
	"strconv"
	"strings"
)

// share is one claimant in a split: a unit by labour force, or an agent by weight.
type share struct {
	code string
	w    int64
}

// split divides total among shares in proportion to their weights by largest remainder (ties
// to the larger weight, then the smaller code); with no weights, evenly.
func split(total int, shares []share) []int {
	res := make([]int, len(shares))
	if len(shares) == 0 || total <= 0 {
		return res
	}
	var sum int64
	for _, s := range shares {
		sum += s.w
	}
	if sum == 0 { // no weights: an even split
		for i := range shares {
			shares[i].w = 1
		}
		sum = int64(len(shares))
	}
	rem := make([]int64, len(shares))
	given := 0
	for i, s := range shares {
		res[i] = int(int64(total) * s.w / sum)
		rem[i] = int64(total) * s.w % sum
		given += res[i]
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
		if shares[i].w != shares[j].w {
			return shares[i].w > shares[j].w
		}
		return shares[i].code < shares[j].code
	})
	for k := 0; given < total; k++ {
		res[order[k%len(order)]]++
		given++
	}
	return res
}

// agentWeight is a roster member's integer weight in its commune's split.
func agentWeight(m member) int64 { return int64(math.Round(m.weight * 1000)) }

// allocateQuotas splits the city target down the units by labour force, and each commune's
// quota among its agents and staff by weight, each split by largest remainder (ties to the
// larger weight, then the smaller code): the plan's rule, computed here on its own from the
// files. pins are a plan's target.overrides, as its documentation says they work: a pinned
// district's communes share its pinned target, not the rule's share of the city; a pinned
// commune takes its pin out of its district's target and the district's other communes share
// the rest; a district whose communes are all pinned has their sum; the city is the sum of its
// districts. Keys are level/code; the city's code is the campaign's, filled in by the check.
func allocateQuotas(w *world, target int, pins map[string]int) map[string]int {
	out := map[string]int{}
	communeLF := func(p place) int64 {
		var n int64
		for _, v := range p.villages {
			n += int64(w.villageLF[v])
		}
		return n
	}
	var ds []share
	for _, d := range w.districts {
		var n int64
		for _, p := range w.byDistrict[d] {
			n += communeLF(p)
		}
		ds = append(ds, share{d, n})
	}
	city := 0
	for i, dq := range split(target, ds) {
		d := ds[i].code
		if pin, ok := pins[d]; ok {
			dq = pin
		}
		rest, pinned := dq, 0
		var free []share
		for _, p := range w.byDistrict[d] {
			if pin, ok := pins[p.commune]; ok {
				out["commune/"+p.commune] = pin
				rest -= pin
				pinned++
				continue
			}
			free = append(free, share{p.commune, communeLF(p)})
		}
		if pinned == len(w.byDistrict[d]) && pinned > 0 {
			dq -= rest // the sum of the pins
		}
		for j, cq := range split(max(rest, 0), free) {
			out["commune/"+free[j].code] = cq
		}
		out["district/"+d] = dq
		city += dq
		for _, p := range w.byDistrict[d] {
			cq := out["commune/"+p.commune]
			var vs []share
			for _, v := range p.villages {
				vs = append(vs, share{v, int64(w.villageLF[v])})
			}
			for k, vq := range split(cq, vs) {
				out["village/"+vs[k].code] = vq
			}
			var as []share
			for _, m := range w.roster {
				if m.commune == p.commune {
					as = append(as, share{m.code, agentWeight(m)})
				}
			}
			for k, aq := range split(cq, as) {
				out["agent/"+as[k].code] = aq
			}
		}
	}
	out["city/"] = city
	return out
}

// reviseQuotas applies the revision's pins to the quotas as they stand (after the first
// review's transfer), as the README says a revision does: every unit takes the revised plan's
// target; in a commune whose target changes, its active agents and staff share the commune's
// new target, less what those who left keep (the fired agent, whose quota went to its
// successor, keeps 0), by weight; agents of other communes keep theirs. It notes each changed
// target (quota_history, revision 1) and returns the city's.
func (x *expected) reviseQuotas(w *world, quotas map[string]int, launched int, fired bool) int {
	before := maps.Clone(quotas)
	after := allocateQuotas(w, launched, revisionPins)
	for k, q := range after {
		if !strings.HasPrefix(k, "agent/") {
			quotas[k] = q
		}
	}
	for _, p := range w.places {
		c := "commune/" + p.commune
		if after[c] == before[c] {
			continue
		}
		left := 0
		var as []share
		for _, m := range w.roster {
			switch {
			case m.commune != p.commune:
			case m.code == firedAgent && fired:
				left += quotas["agent/"+m.code]
			default:
				as = append(as, share{m.code, agentWeight(m)})
			}
		}
		for k, q := range split(max(after[c]-left, 0), as) {
			quotas["agent/"+as[k].code] = q
		}
	}
	for k, q := range quotas {
		if q != before[k] {
			x.quotaHistory[k+"#1"] = []string{strconv.Itoa(q)}
		}
	}
	return quotas["city/"]
}
