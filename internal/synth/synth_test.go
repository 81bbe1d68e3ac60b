package synth

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"drives/plan"
	"drives/units"
)

// hanoiUnits is the real register, relative to this package's folder.
var hanoiUnits = filepath.Join("..", "..", "data", "hanoi-admin-units-2021.csv")

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func sameFiles(t *testing.T, a, b map[string][]byte) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("runs wrote %d and %d files", len(a), len(b))
	}
	for name, x := range a {
		if !bytes.Equal(x, b[name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
}

func TestHanoiDeterministicAndLoads(t *testing.T) {
	root := t.TempDir()
	// Both runs at the same depth, so the relative path to the register is the same.
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	sa, err := Hanoi(a, hanoiUnits, HanoiSeed)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Hanoi(b, hanoiUnits, HanoiSeed)
	if err != nil {
		t.Fatal(err)
	}
	if sa != sb {
		t.Errorf("summaries differ: %v vs %v", sa, sb)
	}
	fa, fb := readDir(t, a), readDir(t, b)
	sameFiles(t, fa, fb)
	for _, n := range []string{"plan.yaml", "villages.csv", "roster.csv"} {
		if len(fa[n]) == 0 {
			t.Errorf("%s not written", n)
		}
	}
	if _, ok := fa["units.csv"]; ok {
		t.Error("the real register must be named, not copied")
	}

	// Another seed gives other synthetic data but the same real units.
	c := filepath.Join(root, "c")
	if _, err := Hanoi(c, hanoiUnits, HanoiSeed+1); err != nil {
		t.Fatal(err)
	}
	if fc := readDir(t, c); bytes.Equal(fc["villages.csv"], fa["villages.csv"]) {
		t.Error("another seed gave the same villages")
	}

	lp, err := plan.Load(filepath.Join(a, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	checkHanoi(t, lp, sa)
}

func checkHanoi(t *testing.T, lp *plan.Loaded, sum Summary) {
	t.Helper()
	if got := len(lp.Units.Districts); got != 30 {
		t.Errorf("districts = %d, want 30", got)
	}
	communes, villages := 0, 0
	for _, d := range lp.Units.Districts {
		for _, c := range d.Communes {
			communes++
			villages += len(c.Villages)
			if n := len(c.Villages); n < 3 || n > 8 {
				t.Errorf("commune %s has %d villages, want 3 to 8", c.Code, n)
			}
			for i, v := range c.Villages {
				want := "Thôn "
				if c.Kind != "Xã" {
					want = "Tổ dân phố "
				}
				if !strings.HasPrefix(v.Name, want) || !v.Synthetic || v.Code != c.Code+"-0"+string(rune('1'+i)) {
					t.Errorf("village %+v of %s %s", v, c.Kind, c.Code)
				}
			}
		}
	}
	if communes != 579 || villages != sum.Villages {
		t.Errorf("communes = %d, villages = %d (summary %d)", communes, villages, sum.Villages)
	}
	if lf := lp.Units.LabourForce(); lf != HanoiLabourForce {
		t.Errorf("labour force = %d, want %d", lf, HanoiLabourForce)
	}
	if got := lp.CityTarget(); got != 52_000 {
		t.Errorf("city target = %d, want 52000", got)
	}

	// Wards have a smaller informal labour force than rural communes, on average.
	var wardLF, wards, xaLF, xas int
	for _, d := range lp.Units.Districts {
		for _, c := range d.Communes {
			switch c.Kind {
			case "Phường":
				wardLF, wards = wardLF+c.LabourForce(), wards+1
			case "Xã":
				xaLF, xas = xaLF+c.LabourForce(), xas+1
			}
		}
	}
	if wardLF/wards >= xaLF/xas {
		t.Errorf("mean ward labour force %d not below mean rural commune %d", wardLF/wards, xaLF/xas)
	}

	perCommune := map[string][2]int{} // staff, agents
	po := 0
	for _, a := range lp.Roster {
		n := perCommune[a.Commune]
		switch {
		case a.Kind == units.AgentKindStaff:
			n[0]++
			if a.Code != "CB-"+a.Commune || a.Weight != 0.5 || a.PostOffice {
				t.Errorf("staff %+v", a)
			}
		case a.PostOffice:
			po++
			n[1]++
			if a.Weight != 0.8 {
				t.Errorf("post office agent %s weight %v", a.Code, a.Weight)
			}
		default:
			n[1]++
			if a.Weight != 1 {
				t.Errorf("agent %s weight %v", a.Code, a.Weight)
			}
		}
		if a.Kind == units.AgentKindAgent && !strings.HasPrefix(a.Code, "DL-"+a.Commune+"-") {
			t.Errorf("agent code %s", a.Code)
		}
		if len(a.Phone) != 10 || !strings.HasPrefix(a.Phone, "09") || len(strings.Fields(a.Name)) != 3 {
			t.Errorf("agent %s: name %q phone %q", a.Code, a.Name, a.Phone)
		}
		perCommune[a.Commune] = n
	}
	for c, n := range perCommune {
		if n[0] != 1 || n[1] < 2 || n[1] > 4 {
			t.Errorf("commune %s: %d staff, %d agents", c, n[0], n[1])
		}
	}
	if len(perCommune) != 579 || sum.Staff != 579 || sum.Agents+sum.Staff != len(lp.Roster) {
		t.Errorf("roster covers %d communes; summary %v; %d rows", len(perCommune), sum, len(lp.Roster))
	}
	if share := float64(po) / float64(sum.Agents); share < 0.15 || share > 0.25 {
		t.Errorf("Post Office agents are %.2f of agents, want about 0.2", share)
	}

	p := lp.Plan
	if p.ID != "hanoi-2021" || p.Clock.Scale != 262800 || p.PriorYearEnrolled != 48674 || p.Timezone != "Asia/Ho_Chi_Minh" {
		t.Errorf("plan header %+v", p)
	}
	kinds := map[string]int{}
	for _, e := range p.Events {
		kinds[e.Kind]++
		if e.Kind == plan.KindPostOfficeRound {
			if e.Unit != plan.CityWide {
				t.Errorf("post office round %s at %s", e.ID, e.Unit)
			}
			continue
		}
		if e.Date.M < 2 || e.Date.M > 11 || len(e.Groups) < 2 || len(e.Groups) > 3 || e.ExpectedAttendance < 80 || e.ExpectedAttendance > 300 {
			t.Errorf("event %+v", e)
		}
	}
	want := map[string]int{plan.KindConference: 30, plan.KindDialogue: 60, plan.KindDoorToDoor: 60, plan.KindPostOfficeRound: 2}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d %s events, want %d", kinds[k], k, n)
		}
	}
	if len(p.Events) != sum.Events {
		t.Errorf("%d events, summary says %d", len(p.Events), sum.Events)
	}
}

// TestCommittedHanoiPlan checks that plans/hanoi-2021 is what the generator writes today.
func TestCommittedHanoiPlan(t *testing.T) {
	dir := filepath.Join("..", "..", "plans", "hanoi-2021")
	if _, err := os.Stat(filepath.Join(dir, "plan.yaml")); err != nil {
		t.Skip("plans/hanoi-2021 not generated yet: go run ./cmd/synth-plan")
	}
	units, err := os.ReadFile(hanoiUnits)
	if err != nil {
		t.Fatal(err)
	}
	us, err := readUnits(units, hanoiUnits)
	if err != nil {
		t.Fatal(err)
	}
	want, sum := hanoiFiles(us, "../../data/hanoi-admin-units-2021.csv", HanoiSeed)
	for name, b := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, b) {
			t.Errorf("plans/hanoi-2021/%s is stale or edited by hand: regenerate with go run ./cmd/synth-plan", name)
		}
	}
	lp, err := plan.Load(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	checkHanoi(t, lp, sum)
}

func TestNational(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and loads a 200,000-agent plan")
	}
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	if err := National(a, 7); err != nil {
		t.Fatal(err)
	}
	if err := National(b, 7); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, readDir(t, a), readDir(t, b))

	lp, err := plan.Load(filepath.Join(a, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	communes, villages := 0, 0
	for _, d := range lp.Units.Districts {
		communes += len(d.Communes)
		for _, c := range d.Communes {
			villages += len(c.Villages)
		}
	}
	staff, agents := 0, 0
	for _, ag := range lp.Roster {
		if ag.Kind == units.AgentKindStaff {
			staff++
		} else {
			agents++
		}
	}
	if len(lp.Units.Districts) != NationalDistricts || communes != NationalCommunes || staff != NationalCommunes || agents != NationalAgents {
		t.Errorf("national plan: %d districts, %d communes, %d staff, %d agents", len(lp.Units.Districts), communes, staff, agents)
	}
	if villages < 3*NationalCommunes || villages > 8*NationalCommunes {
		t.Errorf("%d villages", villages)
	}
	if lf := lp.Units.LabourForce(); lf != NationalLabourForce {
		t.Errorf("labour force %d", lf)
	}
	if got, want := lp.CityTarget(), int(NationalShare*NationalLabourForce); got != want {
		t.Errorf("target %d, want %d", got, want)
	}
	if n := len(lp.Plan.Events); n != NationalProvinces+2 {
		t.Errorf("%d events", n)
	}
	alloc := lp.Allocation()
	sum := 0
	for _, q := range alloc.Agents {
		sum += q
	}
	if sum != lp.CityTarget() || len(alloc.Agents) != len(lp.Roster) {
		t.Errorf("agents' quotas sum to %d over %d agents", sum, len(alloc.Agents))
	}
}

func TestPickDate(t *testing.T) {
	r := stream(1, "test", "dates")
	for range 2000 {
		d := pickDate(r, date(2021, 2, 1), date(2021, 11, 30))
		at := d.In(time.UTC)
		if at.Weekday() == time.Sunday || (d.M == 2 && d.D >= 10 && d.D <= 17) || d.M < 2 || d.M > 11 {
			t.Fatalf("pickDate gave %s", d)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 48674: "48,674", 5200000: "5,200,000", -1234: "-1,234"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
