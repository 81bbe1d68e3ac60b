package synth

import (
	"fmt"
	"os"
	"path/filepath"

	"drives/plan"
)

// The sample plan hanoi-2021.
const (
	HanoiSeed        uint64 = 2021
	HanoiLabourForce        = 5_200_000 // so that 1% is 52,000, a little above 2020's 48,674
	HanoiPriorYear          = 48_674    // participants in 2020 (real)
	HanoiScale              = 262_800   // a 365-day year in 120 s
)

// Hanoi writes villages.csv, roster.csv and plan.yaml of the sample plan hanoi-2021 into
// outDir, from the real register unitsFile (GSO format, plan.UnitsHeader). The plan names
// the register by its path relative to outDir, so nothing real is copied.
func Hanoi(outDir, unitsFile string, seed uint64) (Summary, error) {
	raw, err := os.ReadFile(unitsFile)
	if err != nil {
		return Summary{}, err
	}
	units, err := readUnits(raw, unitsFile)
	if err != nil {
		return Summary{}, err
	}
	ref, err := relPath(outDir, unitsFile)
	if err != nil {
		return Summary{}, err
	}
	files, sum := hanoiFiles(units, ref, seed)
	return sum, writeFiles(outDir, files)
}

// relPath is target relative to dir, slash-separated, as a plan names its files.
func relPath(dir, target string) (string, error) {
	ad, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	at, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(ad, at)
	if err != nil {
		return "", err
	}
	return filepath.ToSlash(rel), nil
}

func hanoiFiles(units []unit, unitsRef string, seed uint64) (map[string][]byte, Summary) {
	ds := groupDistricts(units)
	villages := makeVillages(units, seed, HanoiLabourForce)
	var roster []member
	for _, u := range units {
		r := stream(seed, "roster", u.CommuneCode)
		roster = append(roster, communeRoster(u.CommuneCode, 2+r.IntN(3), r)...)
	}
	events := hanoiEvents(ds, seed)
	p := plan.Plan{
		ID:                "hanoi-2021",
		Name:              "Vận động người dân tham gia BHXH tự nguyện – Hà Nội 2021",
		Year:              2021,
		Timezone:          plan.DefaultTimezone,
		Period:            plan.Period{Start: date(2021, 1, 1), End: date(2021, 12, 31)},
		Clock:             plan.ClockSpec{Scale: HanoiScale},
		PriorYearEnrolled: HanoiPriorYear,
		Target:            plan.TargetRule{Rule: plan.RuleLabourForceShare, Share: 0.01},
		Units:             plan.UnitSources{File: unitsRef, VillagesFile: "villages.csv"},
		Roster:            plan.RosterSource{File: "roster.csv"},
		TargetGroups:      TargetGroups,
		Events:            events,
		FollowUp:          FollowUp,
		Review:            Review,
	}
	sum := summarize(ds, villages, roster, len(events), p.Target.Share)
	comment := fmt.Sprintf(`Sample plan: the Hà Nội drive to enrol people in voluntary social insurance, 2021.

REAL: the register of units (%s): the %d district-level and
%d commune-level units of Hà Nội with their GSO codes and names (2021); the %s
participants of 2020 (prior_year_enrolled); the 2021 target rule, 1%% of the working-age
labour force in farming and the informal sector.

SYNTHETIC (per-unit figures are not public): villages.csv, roster.csv, the target groups'
likelihoods and every event. Do not read them as facts about Hà Nội.
- villages.csv: %s villages or residential groups, 3 to 8 per commune ("Thôn N" in a xã,
  "Tổ dân phố N" in a phường or thị trấn). Labour force: per village, a lognormal draw around
  a median by commune type (phường 900, thị trấn 1,400, xã 2,200) times a per-commune factor,
  then scaled by largest remainder so that the city total is exactly %s: the target
  is %s, a little above 2020's %s. Every row says source=synthetic.
- roster.csv: per commune one staff member CB-<commune> (weight 0.5) and 2 to 4 collection
  agents DL-<commune>-<n> (weight 1.0; about one in five is a Post Office agent, weight 0.8):
  %d staff, %s agents of whom %d at the Post Office. Names and 09… phone numbers are made up.
- events: per district one conference (district level), two dialogues and two door-to-door
  rounds (in communes), February to November, off Sundays and the Tết holiday, each aimed at
  2 or 3 groups suited to the area; plus two city-wide rounds with the Post Office (May and
  September), as in 2020. %d events in all.

Generated, deterministically (math/rand/v2 PCG, seed %d), by
    go run ./cmd/synth-plan
which rewrites villages.csv, roster.csv and this file: change the generator
(internal/synth), not these files.`,
		unitsRef, sum.Districts, sum.Communes, thousands(HanoiPriorYear),
		thousands(sum.Villages), thousands(sum.LabourForce), thousands(sum.CityTarget), thousands(HanoiPriorYear),
		sum.Staff, thousands(sum.Agents), sum.PostOfficeAgents, sum.Events, seed)
	return map[string][]byte{
		"villages.csv": villagesCSV(villages),
		"roster.csv":   rosterCSV(roster),
		"plan.yaml":    planYAML(comment, p),
	}, sum
}

// hanoiEvents: per district a conference and, in communes, two dialogues and two door-to-door
// rounds; then the two city-wide Post Office rounds.
func hanoiEvents(ds []district, seed uint64) []plan.EventSpec {
	var out []plan.EventSpec
	for _, d := range ds {
		r := stream(seed, "events", d.Code)
		var es []plan.EventSpec
		es = append(es, plan.EventSpec{
			ID: d.Code + "-conference", Kind: plan.KindConference,
			Title: "Hội nghị tuyên truyền chính sách BHXH tự nguyện – " + d.Name,
			Unit:  d.Code, Date: pickDate(r, date(2021, 2, 1), date(2021, 3, 31)),
			Groups: pickGroups(r, suitedGroups(d.Type)), ExpectedAttendance: 150 + r.IntN(151),
		})
		perm := r.Perm(len(d.Communes))
		at := func(i int) unit { return d.Communes[perm[i%len(perm)]] }
		for i := range 2 {
			c := at(i)
			es = append(es, plan.EventSpec{
				ID: fmt.Sprintf("%s-dialogue-%d", d.Code, i+1), Kind: plan.KindDialogue,
				Title: "Đối thoại chính sách BHXH tự nguyện tại khu dân cư – " + c.CommuneName,
				Unit:  c.CommuneCode, Date: pickDate(r, date(2021, 3, 1), date(2021, 10, 31)),
				Groups: pickGroups(r, suitedGroups(c.CommuneType)), ExpectedAttendance: 80 + r.IntN(121),
			})
		}
		for i := range 2 {
			c := at(2 + i)
			es = append(es, plan.EventSpec{
				ID: fmt.Sprintf("%s-door-to-door-%d", d.Code, i+1), Kind: plan.KindDoorToDoor,
				Title: "Tư vấn, vận động tại hộ gia đình – " + c.CommuneName,
				Unit:  c.CommuneCode, Date: pickDate(r, date(2021, 4, 1), date(2021, 11, 30)),
				Groups: pickGroups(r, suitedGroups(c.CommuneType)), ExpectedAttendance: 80 + r.IntN(71),
			})
		}
		sortEvents(es)
		out = append(out, es...)
	}
	out = append(out,
		plan.EventSpec{
			ID: "post-office-round-1", Kind: plan.KindPostOfficeRound,
			Title: "Đợt tuyên truyền phối hợp với Bưu điện Hà Nội – đợt 1",
			Unit:  plan.CityWide, Date: date(2021, 5, 17),
			Groups: []string{"household_business", "small_trader", "farmer"}, ExpectedAttendance: 200,
		},
		plan.EventSpec{
			ID: "post-office-round-2", Kind: plan.KindPostOfficeRound,
			Title: "Đợt tuyên truyền phối hợp với Bưu điện Hà Nội – đợt 2",
			Unit:  plan.CityWide, Date: date(2021, 9, 20),
			Groups: []string{"household_business", "small_trader", "contract_ended"}, ExpectedAttendance: 200,
		},
	)
	return out
}
