// Package synth generates the synthetic parts of sample campaign plans: villages with their
// labour-force baselines, the roster of staff and collection agents, and the plan itself with
// its target groups and events.
//
// Everything is deterministic: the same seed and the same register give byte-identical files.
// Each commune and district draws from its own PCG stream (math/rand/v2), seeded from the
// plan's seed and the unit's code, so one unit's numbers do not depend on how many units came
// before it.
package synth

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"drives/allocate"
	"drives/plan"
	"drives/units"
)

// unit is one line of a register in the GSO format of plan.UnitsHeader.
type unit struct {
	DistrictCode, DistrictName, DistrictType string
	CommuneCode, CommuneName, CommuneType    string
}

// district groups the register's lines by district, in register order.
type district struct {
	Code, Name, Type string
	Communes         []unit
}

func groupDistricts(units []unit) []district {
	var out []district
	at := map[string]int{}
	for _, u := range units {
		i, ok := at[u.DistrictCode]
		if !ok {
			i = len(out)
			at[u.DistrictCode] = i
			out = append(out, district{Code: u.DistrictCode, Name: u.DistrictName, Type: u.DistrictType})
		}
		out[i].Communes = append(out[i].Communes, u)
	}
	return out
}

// readUnits reads a register with exactly plan.UnitsHeader.
func readUnits(raw []byte, name string) ([]unit, error) {
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = len(plan.UnitsHeader)
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty", name)
	}
	recs[0][0] = strings.TrimPrefix(recs[0][0], "\ufeff")
	if !slices.Equal(recs[0], plan.UnitsHeader) {
		return nil, fmt.Errorf("%s: line 1: header must be %s", name, strings.Join(plan.UnitsHeader, ","))
	}
	out := make([]unit, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		out = append(out, unit{rec[0], rec[1], rec[2], rec[3], rec[4], rec[5]})
	}
	return out, nil
}

func unitsCSV(units []unit) []byte {
	rows := make([][]string, 0, len(units))
	for _, u := range units {
		rows = append(rows, []string{u.DistrictCode, u.DistrictName, u.DistrictType, u.CommuneCode, u.CommuneName, u.CommuneType})
	}
	return csvBytes(plan.UnitsHeader, rows)
}

// stream is the random stream of one purpose ("villages", "roster", ...) for one key (a unit
// code): a PCG seeded from the plan's seed and a hash of both.
func stream(seed uint64, purpose, key string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// lognormal draws exp(sigma·N(0,1)): a positive factor with median 1.
func lognormal(r *rand.Rand, sigma float64) float64 { return math.Exp(sigma * r.NormFloat64()) }

// village is a generated village or residential group.
type village struct {
	Commune, Code, Name string
	LabourForce         int
}

// villageName is "Tổ dân phố N" in wards and townships, "Thôn N" in rural communes.
func villageName(communeType string, n int) string {
	if communeType == "Xã" {
		return fmt.Sprintf("Thôn %d", n)
	}
	return fmt.Sprintf("Tổ dân phố %d", n)
}

// villageBase is the median raw labour force of one village by commune type: the informal and
// farming labour force of an urban ward is smaller than that of a rural commune.
func villageBase(communeType string) float64 {
	switch communeType {
	case "Phường":
		return 900
	case "Thị trấn":
		return 1400
	default:
		return 2200
	}
}

// makeVillages gives every commune 3 to 8 villages with raw labour forces, then scales them so
// the total is exactly total (largest remainder, so no rounding drift).
func makeVillages(units []unit, seed uint64, total int) []village {
	var out []village
	var shares []allocate.Share
	for _, u := range units {
		r := stream(seed, "villages", u.CommuneCode)
		n := 3 + r.IntN(6)
		commune := lognormal(r, 0.35) // some communes are larger than others
		for i := 1; i <= n; i++ {
			v := village{Commune: u.CommuneCode, Code: fmt.Sprintf("%s-%02d", u.CommuneCode, i), Name: villageName(u.CommuneType, i)}
			w := villageBase(u.CommuneType) * commune * lognormal(r, 0.3)
			out = append(out, v)
			shares = append(shares, allocate.Share{Code: v.Code, Weight: int64(math.Round(w * 100))})
		}
	}
	for i, q := range allocate.LargestRemainder(total, shares) {
		out[i].LabourForce = q
	}
	return out
}

func villagesCSV(vs []village) []byte {
	rows := make([][]string, 0, len(vs))
	for _, v := range vs {
		rows = append(rows, []string{v.Commune, v.Code, v.Name, strconv.Itoa(v.LabourForce), "synthetic"})
	}
	return csvBytes(plan.VillagesHeader, rows)
}

// Synthetic Vietnamese names. Family names are drawn with rough real frequencies.
var (
	familyNames   = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Phan", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đào", "Đinh", "Trịnh", "Lương", "Tạ", "Chu"}
	familyWeights = []int{38, 11, 9, 7, 5, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1}
	maleMiddle    = []string{"Văn", "Hữu", "Đức", "Minh", "Quang", "Thế", "Xuân", "Tiến", "Công", "Mạnh"}
	femaleMiddle  = []string{"Thị", "Thu", "Ngọc", "Thanh", "Hồng", "Kim", "Phương", "Minh", "Diệu", "Bích"}
	maleGiven     = []string{"An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hải", "Hiếu", "Hùng", "Huy", "Khánh", "Long", "Nam", "Nghĩa", "Phong", "Quân", "Sơn", "Thắng", "Toàn", "Trung", "Tuấn", "Việt"}
	femaleGiven   = []string{"Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hoa", "Hương", "Lan", "Linh", "Loan", "Mai", "Ngân", "Nhung", "Oanh", "Phượng", "Quyên", "Thảo", "Trang", "Vân", "Yến"}
)

func pickWeighted(r *rand.Rand, items []string, weights []int) string {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return items[i]
		}
		n -= w
	}
	return items[len(items)-1]
}

func fullName(r *rand.Rand) string {
	family := pickWeighted(r, familyNames, familyWeights)
	if r.IntN(2) == 0 {
		return family + " " + maleMiddle[r.IntN(len(maleMiddle))] + " " + maleGiven[r.IntN(len(maleGiven))]
	}
	return family + " " + femaleMiddle[r.IntN(len(femaleMiddle))] + " " + femaleGiven[r.IntN(len(femaleGiven))]
}

// phone is a synthetic mobile number, 09 and eight digits.
func phone(r *rand.Rand) string { return fmt.Sprintf("09%08d", r.IntN(100_000_000)) }

// member is a generated staff member or collection agent.
type member struct {
	Code, Commune, Kind string
	PostOffice          bool
	Name, Phone         string
	Weight              float64
}

// Roster weights: a commune staff member carries half an agent's quota; a Post Office agent,
// who also runs a counter, carries 0.8.
const (
	staffWeight      = 0.5
	agentWeight      = 1.0
	postOfficeWeight = 0.8
	postOfficeShare  = 0.2
)

// communeRoster is one staff member CB-<commune> and agents DL-<commune>-<n>, n = 1..agents.
func communeRoster(commune string, agents int, r *rand.Rand) []member {
	out := []member{{Code: "CB-" + commune, Commune: commune, Kind: units.AgentKindStaff, Name: fullName(r), Phone: phone(r), Weight: staffWeight}}
	for n := 1; n <= agents; n++ {
		m := member{Code: fmt.Sprintf("DL-%s-%d", commune, n), Commune: commune, Kind: units.AgentKindAgent, Name: fullName(r), Phone: phone(r), Weight: agentWeight}
		if r.Float64() < postOfficeShare {
			m.PostOffice, m.Weight = true, postOfficeWeight
		}
		out = append(out, m)
	}
	return out
}

func rosterCSV(ms []member) []byte {
	rows := make([][]string, 0, len(ms))
	for _, m := range ms {
		po := "no"
		if m.PostOffice {
			po = "yes"
		}
		rows = append(rows, []string{m.Code, m.Commune, m.Kind, po, m.Name, m.Phone, strconv.FormatFloat(m.Weight, 'f', 1, 64)})
	}
	return csvBytes(plan.RosterHeader, rows)
}

func csvBytes(header []string, rows [][]string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(header)
	w.WriteAll(rows) // flushes; a bytes.Buffer does not fail
	return b.Bytes()
}

// Summary counts what a generator wrote.
type Summary struct {
	Districts        int
	Communes         int
	Villages         int
	Staff            int
	Agents           int // collection agents, Post Office agents included
	PostOfficeAgents int
	Events           int // as written in the plan; a city-wide event counts once
	LabourForce      int
	CityTarget       int
}

func (s Summary) String() string {
	return fmt.Sprintf("%d districts, %d communes, %d villages (labour force %d, target %d), %d staff, %d agents (%d Post Office), %d events",
		s.Districts, s.Communes, s.Villages, s.LabourForce, s.CityTarget, s.Staff, s.Agents, s.PostOfficeAgents, s.Events)
}

func summarize(ds []district, vs []village, ms []member, events int, share float64) Summary {
	s := Summary{Districts: len(ds), Villages: len(vs), Events: events}
	for _, d := range ds {
		s.Communes += len(d.Communes)
	}
	for _, v := range vs {
		s.LabourForce += v.LabourForce
	}
	for _, m := range ms {
		switch {
		case m.Kind == units.AgentKindStaff:
			s.Staff++
		case m.PostOffice:
			s.PostOfficeAgents++
			s.Agents++
		default:
			s.Agents++
		}
	}
	s.CityTarget = int(math.Round(share * float64(s.LabourForce)))
	return s
}

// writeFiles writes name → content under dir, creating it; names are written in sorted order.
func writeFiles(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !fs.ValidPath(n) {
			return fmt.Errorf("synth: bad file name %q", n)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(n)), files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// thousands writes n with comma separators: 5,200,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
