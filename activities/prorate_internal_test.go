package activities

import (
	"slices"
	"testing"
)

// prorateJoin's split: the joiners take their weights' share of the target for the days left,
// the others give exactly as much by weight, and none gives more than it holds (what it cannot
// give, the others give; with nothing left to give, the joiners take what was given).
func TestProrateJoin(t *testing.T) {
	sum := func(s []int) int {
		n := 0
		for _, v := range s {
			n += v
		}
		return n
	}
	for _, tc := range []struct {
		name            string
		target          int
		others, joiners []holder
		left, period    int
		gains, cuts     []int
	}{
		// 100 × 1/4 × 73/365 = 5: the others give 5 by weights 1, 1, 1 (2, 2, 1: ties by code).
		{"a quarter of the weights for a fifth of the period", 100,
			[]holder{{"A", 1, 34}, {"B", 1, 33}, {"C", 1, 33}}, []holder{{"J", 1, 0}}, 73, 365, []int{5}, []int{2, 2, 1}},
		// From the first day, the whole share: 60 × 2/3 = 40, the two joiners by weight 1:1.
		{"two joiners from the first day", 60,
			[]holder{{"A", 1, 60}}, []holder{{"J1", 1, 0}, {"J2", 1, 0}}, 365, 365, []int{20, 20}, []int{40}},
		// B holds 1 only: it gives 1, A gives the rest.
		{"one holds too little", 100,
			[]holder{{"A", 1, 99}, {"B", 1, 1}}, []holder{{"J", 2, 0}}, 365, 365, []int{50}, []int{49, 1}},
		// Nobody holds anything: the joiner takes nothing.
		{"nothing to give", 100,
			[]holder{{"A", 1, 0}}, []holder{{"J", 1, 0}}, 365, 365, []int{0}, []int{0}},
		{"a target of 0", 0,
			[]holder{{"A", 1, 0}}, []holder{{"J", 1, 0}}, 100, 365, []int{0}, []int{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gains, cuts := prorateJoin(tc.target, tc.others, tc.joiners, tc.left, tc.period)
			if !slices.Equal(gains, tc.gains) || !slices.Equal(cuts, tc.cuts) {
				t.Errorf("gains %v cuts %v, want %v %v", gains, cuts, tc.gains, tc.cuts)
			}
			if sum(gains) != sum(cuts) {
				t.Errorf("the joiners take %d, the others give %d", sum(gains), sum(cuts))
			}
			for i, c := range cuts {
				if c > tc.others[i].Quota {
					t.Errorf("%s gives %d of its %d", tc.others[i].Code, c, tc.others[i].Quota)
				}
			}
		})
	}
}
