package allocate_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"drives/units"

	"drives/allocate"
)

func shares(kv ...any) []allocate.Share {
	var out []allocate.Share
	for i := 0; i < len(kv); i += 2 {
		out = append(out, allocate.Share{Code: kv[i].(string), Weight: int64(kv[i+1].(int))})
	}
	return out
}

func TestLargestRemainderExamples(t *testing.T) {
	for _, c := range []struct {
		name   string
		total  int
		shares []allocate.Share
		want   []int
	}{
		{"even, tie to the first code", 10, shares("a", 1, "b", 1, "c", 1), []int{4, 3, 3}},
		{"even, tie to the first code in any order", 10, shares("c", 1, "b", 1, "a", 1), []int{3, 3, 4}},
		{"two left over", 11, shares("b", 1, "a", 1, "c", 1), []int{4, 4, 3}},
		{"largest remainder wins", 7, shares("a", 5, "b", 3, "c", 2), []int{4, 2, 1}},      // 3.5, 2.1, 1.4
		{"remainder beats code", 10, shares("a", 2, "b", 2, "z", 3), []int{3, 3, 4}},       // 2.86, 2.86, 4.29
		{"tie on remainder goes to larger weight", 2, shares("a", 1, "b", 3), []int{0, 2}}, // 0.5, 1.5
		{"exact split", 100, shares("a", 50, "b", 30, "c", 20), []int{50, 30, 20}},
		{"zero weight gets nothing", 5, shares("a", 0, "b", 1, "c", 0), []int{0, 5, 0}},
		{"all weights zero: even split", 5, shares("b", 0, "a", 0), []int{2, 3}},
		{"single share takes all", 42, shares("x", 7), []int{42}},
		{"total zero", 0, shares("a", 1, "b", 2), []int{0, 0}},
		{"negative total gives nothing", -3, shares("a", 1), []int{0}},
		{"no shares", 10, nil, []int{}},
		{"fewer units than shares", 2, shares("a", 1, "b", 1, "c", 1, "d", 1), []int{1, 1, 0, 0}},
		{"labour-force sized weights", 52_000, shares("001", 2_600_000, "002", 1_733_333, "003", 866_667), []int{26_000, 17_333, 8_667}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := allocate.LargestRemainder(c.total, c.shares)
			if !slices.Equal(got, c.want) {
				t.Errorf("LargestRemainder(%d, %v) = %v, want %v", c.total, c.shares, got, c.want)
			}
		})
	}
}

func TestLargestRemainderNegativeWeightPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("a negative weight did not panic")
		}
	}()
	allocate.LargestRemainder(10, shares("a", 1, "b", -1))
}

// randomShares draws n shares with unique codes; weights include zeros, ties and large values.
func randomShares(r *rand.Rand, n int) []allocate.Share {
	out := make([]allocate.Share, n)
	codes := r.Perm(100) // unique codes, in an order unrelated to the shares' order
	for i := range out {
		var w int64
		switch r.IntN(5) {
		case 0:
			w = 0
		case 1:
			w = int64(1 + r.IntN(3)) // many ties
		case 2:
			w = int64(r.IntN(1_000_000))
		default:
			w = int64(r.IntN(5000))
		}
		out[i] = allocate.Share{Code: fmt.Sprintf("c%02d", codes[i]), Weight: w}
	}
	return out
}

func TestLargestRemainderProperties(t *testing.T) {
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 42))
		n := r.IntN(12)
		if seed%10 == 0 {
			n = 1
		}
		ss := randomShares(r, n)
		total := r.IntN(200)
		if seed%7 == 0 {
			total = r.IntN(10_000_000)
		}
		got := allocate.LargestRemainder(total, ss)
		if len(got) != n {
			t.Fatalf("seed %d: %d quotas for %d shares", seed, len(got), n)
		}
		var sum, wsum int64
		for _, s := range ss {
			wsum += s.Weight
		}
		for i, q := range got {
			sum += int64(q)
			if q < 0 {
				t.Fatalf("seed %d: negative quota %d", seed, q)
			}
			// Within one of the exact proportional part.
			w, ws := ss[i].Weight, wsum
			if ws == 0 {
				w, ws = 1, int64(n)
			}
			exact := float64(total) * float64(w) / float64(ws)
			if float64(q) < exact-1 || float64(q) > exact+1 {
				t.Fatalf("seed %d: share %v got %d, exact part %.3f", seed, ss[i], q, exact)
			}
		}
		if n > 0 && sum != int64(total) {
			t.Fatalf("seed %d: quotas sum to %d, want %d", seed, sum, total)
		}
		if again := allocate.LargestRemainder(total, ss); !slices.Equal(again, got) {
			t.Fatalf("seed %d: two calls differ", seed)
		}
		// Any order of the same shares gives each code the same quota.
		byCode := map[string]int{}
		for i, s := range ss {
			byCode[s.Code] = got[i]
		}
		for range 3 {
			perm := slices.Clone(ss)
			r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			for i, q := range allocate.LargestRemainder(total, perm) {
				if byCode[perm[i].Code] != q {
					t.Fatalf("seed %d: %s gets %d in one order and %d in another", seed, perm[i].Code, byCode[perm[i].Code], q)
				}
			}
		}
	}
}

// randomHierarchy builds a hierarchy of random shape: single children, zero labour forces
// (whole communes and districts at zero), and 1 to 5 agents and staff per commune.
func randomHierarchy(r *rand.Rand) (units.Hierarchy, []units.Agent) {
	var h units.Hierarchy
	var roster []units.Agent
	nd := 1 + r.IntN(6)
	for d := range nd {
		dist := units.District{Code: fmt.Sprintf("%03d", d+1), Name: "D"}
		zeroDistrict := r.IntN(8) == 0
		for c := range 1 + r.IntN(6) {
			com := units.Commune{Code: fmt.Sprintf("%03d%02d", d+1, c), Name: "C"}
			zeroCommune := zeroDistrict || r.IntN(6) == 0
			for v := range 1 + r.IntN(5) {
				lf := 0
				if !zeroCommune && r.IntN(5) != 0 {
					lf = r.IntN(20_000)
				}
				com.Villages = append(com.Villages, units.Village{Code: fmt.Sprintf("%s-%02d", com.Code, v+1), LabourForce: lf})
			}
			for a := range 1 + r.IntN(5) {
				ag := units.Agent{Code: fmt.Sprintf("DL-%s-%d", com.Code, a+1), Commune: com.Code, Kind: units.AgentKindAgent, Weight: 1}
				switch r.IntN(4) {
				case 0:
					ag.Kind, ag.Weight = units.AgentKindStaff, 0.5
				case 1:
					ag.PostOffice, ag.Weight = true, 0.8
				case 2:
					ag.Weight = 0.1 + 3*r.Float64()
				}
				roster = append(roster, ag)
			}
			dist.Communes = append(dist.Communes, com)
		}
		h.Districts = append(h.Districts, dist)
	}
	// Roster order should not matter to the sums; shuffle it.
	r.Shuffle(len(roster), func(i, j int) { roster[i], roster[j] = roster[j], roster[i] })
	return h, roster
}

func TestAllocateProperties(t *testing.T) {
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, 2021))
		h, roster := randomHierarchy(r)
		target := r.IntN(5000)
		if seed%25 == 0 {
			target = 0
		}
		a := allocate.Quotas(h, roster, target, nil)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d: "+format, append([]any{seed}, args...)...)
		}
		if a.City != target {
			fail("city %d, want %d", a.City, target)
		}
		sumD := 0
		for _, d := range h.Districts {
			dq := a.Districts[d.Code]
			sumD += dq
			sumC := 0
			for _, c := range d.Communes {
				cq := a.Communes[c.Code]
				sumC += cq
				sumV := 0
				for _, v := range c.Villages {
					sumV += a.Villages[v.Code]
				}
				if sumV != cq {
					fail("villages of %s sum to %d, commune quota %d", c.Code, sumV, cq)
				}
				sumA := 0
				for _, ag := range roster {
					if ag.Commune == c.Code {
						sumA += a.Agents[ag.Code]
					}
				}
				if sumA != cq {
					fail("agents of %s sum to %d, commune quota %d", c.Code, sumA, cq)
				}
			}
			if sumC != dq {
				fail("communes of %s sum to %d, district quota %d", d.Code, sumC, dq)
			}
		}
		if sumD != target {
			fail("districts sum to %d, city %d", sumD, target)
		}
		for _, m := range []map[string]int{a.Districts, a.Communes, a.Villages, a.Agents} {
			for code, q := range m {
				if q < 0 {
					fail("negative quota %d for %s", q, code)
				}
			}
		}
		if len(a.Agents) != len(roster) {
			fail("%d agent quotas for %d people", len(a.Agents), len(roster))
		}
		// A unit with labour force gets a share in proportion; when its siblings have labour
		// force and it has none, it gets nothing.
		if lf := h.LabourForce(); lf > 0 {
			for _, d := range h.Districts {
				if d.LabourForce() == 0 && a.Districts[d.Code] != 0 {
					fail("district %s without labour force got %d", d.Code, a.Districts[d.Code])
				}
			}
		}
		if again := allocate.Quotas(h, roster, target, nil); !reflect.DeepEqual(a, again) {
			fail("two calls differ")
		}
		// The roster's order does not change anyone's quota.
		shuffled := slices.Clone(roster)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if b := allocate.Quotas(h, shuffled, target, nil); !reflect.DeepEqual(a, b) {
			fail("roster order changes the allocation")
		}
	}
}

// TestAllocateByWeight: a commune's quota splits by the roster's weights (staff 0.5, Post
// Office agent 0.8, agent 1).
func TestAllocateByWeight(t *testing.T) {
	h := units.Hierarchy{Districts: []units.District{{Code: "001", Communes: []units.Commune{{
		Code: "00001", Villages: []units.Village{{Code: "v1", LabourForce: 700}, {Code: "v2", LabourForce: 300}},
	}}}}}
	roster := []units.Agent{
		{Code: "CB-00001", Commune: "00001", Kind: "staff", Weight: 0.5},
		{Code: "DL-00001-1", Commune: "00001", Kind: "agent", Weight: 1},
		{Code: "DL-00001-2", Commune: "00001", Kind: "agent", PostOffice: true, Weight: 0.8},
	}
	a := allocate.Quotas(h, roster, 23, nil)
	// 23 × 0.5/2.3 = 5, 23 × 1/2.3 = 10, 23 × 0.8/2.3 = 8.
	want := map[string]int{"CB-00001": 5, "DL-00001-1": 10, "DL-00001-2": 8}
	if !reflect.DeepEqual(a.Agents, want) {
		t.Errorf("agents %v, want %v", a.Agents, want)
	}
	// 23 × 0.7 = 16.1, 23 × 0.3 = 6.9 → 16, 7.
	if a.Villages["v1"] != 16 || a.Villages["v2"] != 7 {
		t.Errorf("villages %v", a.Villages)
	}
	if allocate.AgentShare(roster[2]).Weight != 800 {
		t.Errorf("AgentShare(0.8) = %v", allocate.AgentShare(roster[2]))
	}
}
