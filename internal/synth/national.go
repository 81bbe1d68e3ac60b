package synth

import (
	"fmt"
	"math"
	"math/rand/v2"

	"drives/allocate"
	"drives/plan"
)

// Sizes of the synthetic national plan, about those of Việt Nam in 2021. The nation takes the
// place of the city: its 63 provinces only group districts (into names and conferences); the
// plan's hierarchy stays district → commune → village.
const (
	NationalProvinces   = 63
	NationalDistricts   = 705
	NationalCommunes    = 10_599
	NationalAgents      = 200_000 // collection agents; one staff member per commune comes on top
	NationalLabourForce = 33_000_000
	NationalShare       = 0.04
	NationalPriorYear   = 1_130_000
)

// placeSyllables make synthetic place names such as "Phú Hòa".
var placeSyllables = []string{"An", "Bình", "Phú", "Tân", "Hòa", "Thạnh", "Long", "Đông", "Tây", "Nam", "Bắc", "Sơn",
	"Hưng", "Thành", "Lộc", "Phước", "Xuân", "Mỹ", "Vĩnh", "Quang", "Hải", "Trung", "Yên", "Thái", "Hiệp", "Đức"}

func placeName(r *rand.Rand) string {
	a := placeSyllables[r.IntN(len(placeSyllables))]
	b := placeSyllables[r.IntN(len(placeSyllables))]
	return a + " " + b
}

// National writes a synthetic national plan (plan.yaml, units.csv, villages.csv, roster.csv)
// into dir, for benchmarks: 705 districts, 10,599 communes, 3 to 8 villages each, 200,000
// collection agents plus one staff member per commune, a conference per province and two
// city-wide Post Office rounds. Every name, code and figure is synthetic; the same seed gives
// the same bytes.
func National(dir string, seed uint64) error {
	_, err := WriteNational(dir, seed)
	return err
}

// WriteNational is National, and says what it wrote.
func WriteNational(dir string, seed uint64) (Summary, error) {
	files, sum := nationalFiles(seed)
	return sum, writeFiles(dir, files)
}

func nationalFiles(seed uint64) (map[string][]byte, Summary) {
	r := stream(seed, "national", "units")
	// Communes per district: at least 1, the rest in proportion to lognormal sizes.
	sizes := make([]allocate.Share, NationalDistricts)
	for i := range sizes {
		sizes[i] = allocate.Share{Code: fmt.Sprintf("%03d", i+1), Weight: int64(math.Round(1000 * lognormal(r, 0.5)))}
	}
	perDistrict := allocate.LargestRemainder(NationalCommunes-NationalDistricts, sizes)
	var units []unit
	commune := 0
	for i := range NationalDistricts {
		province := i*NationalProvinces/NationalDistricts + 1
		dtype := "Huyện"
		switch x := r.Float64(); {
		case x < 0.07:
			dtype = "Quận"
		case x < 0.13:
			dtype = "Thị xã"
		case x < 0.19:
			dtype = "Thành phố"
		}
		dname := fmt.Sprintf("%s %s (tỉnh %02d)", dtype, placeName(r), province)
		for j := range 1 + perDistrict[i] {
			commune++
			ctype := "Xã"
			switch {
			case dtype == "Quận":
				ctype = "Phường"
			case dtype == "Huyện" && j == 0:
				ctype = "Thị trấn"
			case dtype != "Huyện" && r.Float64() < 0.6:
				ctype = "Phường"
			}
			units = append(units, unit{
				DistrictCode: sizes[i].Code, DistrictName: dname, DistrictType: dtype,
				CommuneCode: fmt.Sprintf("%05d", commune), CommuneName: ctype + " " + placeName(r), CommuneType: ctype,
			})
		}
	}
	ds := groupDistricts(units)
	villages := makeVillages(units, seed, NationalLabourForce)

	// Agents per commune: at least 2, the rest in proportion to the commune's labour force.
	lf := map[string]int64{}
	for _, v := range villages {
		lf[v.Commune] += int64(v.LabourForce)
	}
	shares := make([]allocate.Share, len(units))
	for i, u := range units {
		shares[i] = allocate.Share{Code: u.CommuneCode, Weight: lf[u.CommuneCode]}
	}
	extra := allocate.LargestRemainder(NationalAgents-2*len(units), shares)
	var roster []member
	for i, u := range units {
		rr := stream(seed, "roster", u.CommuneCode)
		roster = append(roster, communeRoster(u.CommuneCode, 2+extra[i], rr)...)
	}

	var events []plan.EventSpec
	seen := map[int]bool{}
	for i, d := range ds {
		province := i*NationalProvinces/NationalDistricts + 1
		if seen[province] {
			continue
		}
		seen[province] = true
		er := stream(seed, "events", d.Code)
		events = append(events, plan.EventSpec{
			ID: fmt.Sprintf("province-%02d-conference", province), Kind: plan.KindConference,
			Title: fmt.Sprintf("Hội nghị tuyên truyền chính sách BHXH tự nguyện – tỉnh %02d", province),
			Unit:  d.Code, Date: pickDate(er, date(2021, 2, 1), date(2021, 11, 30)),
			Groups: pickGroups(er, suitedGroups(d.Type)), ExpectedAttendance: 150 + er.IntN(151),
		})
	}
	sortEvents(events)
	events = append(events,
		plan.EventSpec{ID: "post-office-round-1", Kind: plan.KindPostOfficeRound, Unit: plan.CityWide,
			Date: date(2021, 5, 17), Groups: []string{"household_business", "small_trader", "farmer"}, ExpectedAttendance: 200},
		plan.EventSpec{ID: "post-office-round-2", Kind: plan.KindPostOfficeRound, Unit: plan.CityWide,
			Date: date(2021, 9, 20), Groups: []string{"household_business", "small_trader", "contract_ended"}, ExpectedAttendance: 200},
	)

	p := plan.Plan{
		ID:                "national-2021",
		Name:              "Vận động tham gia BHXH tự nguyện toàn quốc 2021 (giả lập)",
		Year:              2021,
		Timezone:          plan.DefaultTimezone,
		Period:            plan.Period{Start: date(2021, 1, 1), End: date(2021, 12, 31)},
		Clock:             plan.ClockSpec{Scale: HanoiScale},
		PriorYearEnrolled: NationalPriorYear,
		Target:            plan.TargetRule{Rule: plan.RuleLabourForceShare, Share: NationalShare},
		Units:             plan.UnitSources{File: "units.csv", VillagesFile: "villages.csv"},
		Roster:            plan.RosterSource{File: "roster.csv"},
		TargetGroups:      TargetGroups,
		Events:            events,
		FollowUp:          FollowUp,
		Review:            Review,
	}
	sum := summarize(ds, villages, roster, len(events), p.Target.Share)
	comment := fmt.Sprintf(`Synthetic NATIONAL plan, for benchmarks only: every unit, name, code and figure in it
and in the files it names is made up. Sizes are about those of Việt Nam in 2021:
%d districts grouped into %d provinces, %s communes, %s villages (labour force
%s in all, target %s), %s staff and %s collection agents, %d events (a conference
per province, two city-wide Post Office rounds).

Generated deterministically (math/rand/v2 PCG, seed %d) by
    go run ./cmd/synth-plan -national <dir>`,
		sum.Districts, NationalProvinces, thousands(sum.Communes), thousands(sum.Villages), thousands(sum.LabourForce),
		thousands(sum.CityTarget), thousands(sum.Staff), thousands(sum.Agents), sum.Events, seed)
	return map[string][]byte{
		"units.csv":    unitsCSV(units),
		"villages.csv": villagesCSV(villages),
		"roster.csv":   rosterCSV(roster),
		"plan.yaml":    planYAML(comment, p),
	}, sum
}
