package bench

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"drives/allocate"
	"drives/plan"
)

// The benchmark's check of (e), sums exact at every level, on the Hà Nội plan: it passes on
// the allocation and fails on one planted fault at each level (the faults planted below are
// how it was shown failing).
func TestAllocationCheckCatchesAWrongSum(t *testing.T) {
	lp, err := plan.Load("../../plans/hanoi-2021/plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	target := lp.CityTarget()
	good := func() allocate.Allocation { return allocate.Quotas(lp.Units, lp.Roster, target) }
	if err := checkAllocation(lp, good(), target); err != nil {
		t.Fatalf("the allocation itself: %v", err)
	}
	first := func(m map[string]int) string { return slices.Sorted(maps.Keys(m))[0] }
	for _, c := range []struct {
		name, want string
		plant      func(*allocate.Allocation)
	}{
		{"a village one over", "parts sum to", func(a *allocate.Allocation) { a.Villages[first(a.Villages)]++ }},
		{"an agent one under", "parts sum to", func(a *allocate.Allocation) { a.Agents[first(a.Agents)]-- }},
		{"a district one over", "parts sum to", func(a *allocate.Allocation) { a.Districts[first(a.Districts)]++ }},
		{"the city one under", "target", func(a *allocate.Allocation) { a.City-- }},
		{"a commune missing", "has no quota", func(a *allocate.Allocation) { delete(a.Communes, first(a.Communes)) }},
	} {
		a := good()
		c.plant(&a)
		err := checkAllocation(lp, a, target)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: check says %v, want an error saying %q", c.name, err, c.want)
		}
	}
}
