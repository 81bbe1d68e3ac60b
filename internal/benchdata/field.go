// Package benchdata generates and bulk-loads the field data the review benchmarks run on
// (activities' BenchmarkReviewNational and the review figure of `make bench`): prospects with
// their follow-ups in mixed states, and enrolments, over a review window of a prepared plan.
// This is benchmark setup, not code under test: it writes the rows the imports and sweeps would
// have written by the end of the window, as they would have written them, without going
// through them.
//
// Everything is synthetic and deterministic (math/rand/v2 PCG from the seed given).
package benchdata

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"drives/allocate"
	"drives/contribution"
	"drives/plan"
	"drives/units"
)

// Sizes says how much field data to load.
type Sizes struct {
	Enrolments int // in all, those of enrolled follow-ups included
	FollowUps  int // one prospect each
}

// Loaded counts what was loaded.
type Loaded struct {
	Prospects, FollowUps, Enrolments int
	FromFollowUps                    int // enrolments of leads (the rest walked in)
	ByStatus                         map[string]int
	Escalated                        int
	OpenedInWindow                   int
	EnrolledInWindow                 int
}

// Follow-up outcomes as a benchmark draws them.
const (
	fuOpen = iota
	fuEnrolled
	fuDeclined
	fuUnreachable
)

var fuStatus = [...]string{fuOpen: "open", fuEnrolled: "enrolled", fuDeclined: "declined", fuUnreachable: "unreachable"}

// benchFollowUp is one generated prospect and its follow-up, compactly.
type benchFollowUp struct {
	agent     int32 // index into World.agents
	village   int32 // index into the commune's villages
	group     int8
	status    int8
	escalated bool
	reminders int8
	openDay   int16 // day of the window (0 = its first day)
	closeDay  int16 // day of the window it closed (enrolled, declined), if it closed that way
	name      int32 // seed of the synthetic name and phone
}

type benchCommune struct {
	code, district string
	staff          string // its staff member's code ("" when it has none)
	villages       []string
	groups         []int8 // target groups suited to the commune, indexes into benchGroups
}

type benchAgent struct {
	code    string
	commune int32
	staff   bool
	weight  float64 // enrolment propensity: 0 for an agent who enrols nobody in the window
}

// World is what the generator needs of the plan: its units, roster and follow-up policy, and
// the window the data falls in.
type World struct {
	campaignID string
	loc        *time.Location
	start      time.Time // first day of the window, 00:00 in loc
	days       int       // days in the window
	followUp   plan.FollowUpTimes
	communes   []benchCommune
	agents     []benchAgent
	collectors []int32 // indexes of the collection agents (kind agent), who get the leads
}

// benchGroups are the plan's target groups (synth.TargetGroups) with their likelihoods.
var benchGroups = []struct {
	code string
	like float64
}{
	{"craft_village", 0.45}, {"rural_part_time", 0.30}, {"household_business", 0.55}, {"small_trader", 0.50},
	{"contract_ended", 0.40}, {"student", 0.15}, {"farmer", 0.35},
}

func groupIndexes(codes ...string) []int8 {
	var out []int8
	for _, c := range codes {
		for i, g := range benchGroups {
			if g.code == c {
				out = append(out, int8(i))
			}
		}
	}
	return out
}

var (
	urbanBenchGroups = groupIndexes("household_business", "small_trader", "contract_ended", "student")
	ruralBenchGroups = groupIndexes("farmer", "rural_part_time", "craft_village", "household_business", "small_trader")
	townBenchGroups  = groupIndexes("household_business", "small_trader", "contract_ended", "rural_part_time", "farmer")
)

// NewWorld reads a prepared plan's units and roster for field data over window; seed draws the
// agents' enrolment propensities.
func NewWorld(lp *plan.Loaded, spec plan.Spec, window plan.ReviewPeriod, seed uint64) (*World, error) {
	loc, err := time.LoadLocation(lp.Plan.Timezone)
	if err != nil {
		return nil, err
	}
	s := window.Start.In(loc)
	e := window.End.In(loc)
	w := &World{
		campaignID: lp.Plan.ID, loc: loc, followUp: spec.Policy,
		start: time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, loc),
	}
	w.days = int(math.Round(time.Date(e.Year(), e.Month(), e.Day(), 0, 0, 0, 0, loc).Sub(w.start).Hours() / 24))
	if w.days < 7 {
		return nil, fmt.Errorf("window %s is too short for field data (%d days)", window.Label, w.days)
	}
	communeAt := map[string]int32{}
	for _, d := range lp.Units.Districts {
		for _, c := range d.Communes {
			bc := benchCommune{code: c.Code, district: d.Code}
			for _, v := range c.Villages {
				bc.villages = append(bc.villages, v.Code)
			}
			switch c.Kind {
			case "Phường":
				bc.groups = urbanBenchGroups
			case "Xã":
				bc.groups = ruralBenchGroups
			default:
				bc.groups = townBenchGroups
			}
			communeAt[c.Code] = int32(len(w.communes))
			w.communes = append(w.communes, bc)
		}
	}
	// Enrolment propensity: one agent in ten enrols nobody in the window; the others are
	// spread wide (lognormal, σ = 1.2), so that attainment ranges from far below to far above
	// the quota share. Staff enrol a little, on the side.
	r := rand.New(rand.NewPCG(seed, 1))
	for _, ag := range lp.Roster {
		ci, ok := communeAt[ag.Commune]
		if !ok {
			return nil, fmt.Errorf("agent %s: commune %s not in the plan", ag.Code, ag.Commune)
		}
		ba := benchAgent{code: ag.Code, commune: ci, staff: ag.Kind == units.AgentKindStaff}
		switch {
		case ba.staff:
			ba.weight = 0.3 * math.Exp(0.8*r.NormFloat64())
			if w.communes[ci].staff == "" {
				w.communes[ci].staff = ag.Code
			}
		case r.Float64() < 0.10:
			ba.weight = 0
		default:
			ba.weight = ag.Weight * math.Exp(1.2*r.NormFloat64())
		}
		if !ba.staff {
			w.collectors = append(w.collectors, int32(len(w.agents)))
		}
		w.agents = append(w.agents, ba)
	}
	if len(w.collectors) == 0 {
		return nil, fmt.Errorf("the roster has no collection agents")
	}
	return w, nil
}

// dayWeights is the relative activity of each day of the window: rising as the drive gets
// going, little on Sundays, next to nothing over Tết (10–17 February).
func (w *World) dayWeights(from int) []allocate.Share {
	out := make([]allocate.Share, 0, w.days)
	for d := from; d < w.days; d++ {
		t := w.start.AddDate(0, 0, d)
		x := 0.5 + float64(d)/float64(w.days)
		switch {
		case t.Month() == time.February && t.Day() >= 10 && t.Day() <= 17:
			x *= 0.05
		case t.Weekday() == time.Sunday:
			x *= 0.3
		}
		out = append(out, allocate.Share{Code: fmt.Sprintf("%03d", d), Weight: int64(x * 1e6)})
	}
	return out
}

// campaign instants of the window
func (w *World) midnight(day int) time.Time { return w.start.AddDate(0, 0, day) }
func (w *World) date(day int) time.Time {
	t := w.start.AddDate(0, 0, day)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
func (w *World) opened(day int) time.Time {
	return w.midnight(day).Add(plan.EventHour * time.Hour)
}
func (w *World) end() time.Time { return w.midnight(w.days) }

// followUps draws n leads met at events from the window's fourth day on, dealt to collection
// agents, with what became of them by the end of the window: enrolled or declined (closed at
// midnight of the outcome file's day, as a merge does), unreachable at the give-up point, or
// still open; escalated to the commune's staff at the deadline when they were still open then;
// reminded at each reminder offset passed while open.
func (w *World) followUps(n int, seed uint64) []benchFollowUp {
	r := rand.New(rand.NewPCG(seed, 2))
	perDay := allocate.LargestRemainder(n, w.dayWeights(3))
	out := make([]benchFollowUp, 0, n)
	end := w.end()
	for i, k := range perDay {
		day := 3 + i
		opened := w.opened(day)
		due, giveUp := opened.Add(w.followUp.Deadline), opened.Add(w.followUp.GiveUp)
		for range k {
			ai := w.collectors[r.IntN(len(w.collectors))]
			ag := w.agents[ai]
			c := w.communes[ag.commune]
			f := benchFollowUp{agent: ai, village: int32(r.IntN(len(c.villages))), group: c.groups[r.IntN(len(c.groups))],
				openDay: int16(day), name: int32(r.Uint32() >> 1)}
			pEnrol := 0.30
			if ag.weight == 0 {
				pEnrol = 0 // an agent who enrols nobody enrols none of its leads either
			}
			closedAt := end // still open at the end of the window, unless it closed
			switch x := r.Float64(); {
			case x < pEnrol || x < pEnrol+0.22:
				outcome := int8(fuDeclined)
				if x < pEnrol {
					outcome = fuEnrolled
				}
				cd := day + 1 + int(r.ExpFloat64()*12)
				if cd < w.days {
					f.status, f.closeDay, closedAt = outcome, int16(cd), w.midnight(cd)
				}
			default: // no answer: given up on at the give-up point
				if !giveUp.After(end) {
					f.status, closedAt = fuUnreachable, giveUp
				}
			}
			f.escalated = !due.After(closedAt) && !due.After(end)
			for _, o := range w.followUp.Reminders {
				if t := opened.Add(o); !t.After(closedAt) && !t.After(end) {
					f.reminders++
				}
			}
			out = append(out, f)
		}
	}
	return out
}

// synthetic people
var (
	benchFamily = []string{"Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Phan", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"}
	benchMiddle = []string{"Văn", "Thị", "Hữu", "Thu", "Đức", "Ngọc", "Minh", "Thanh"}
	benchGiven  = []string{"An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hương", "Lan", "Linh", "Long", "Mai", "Nam", "Phong", "Thảo", "Trang", "Tuấn", "Yến"}
)

func benchName(n uint32) string {
	return benchFamily[n%uint32(len(benchFamily))] + " " + benchMiddle[(n/16)%uint32(len(benchMiddle))] + " " +
		benchGiven[(n/128)%uint32(len(benchGiven))]
}

func benchPhone(n uint32) string { return fmt.Sprintf("09%08d", n%100_000_000) }

// batchID is a deterministic import batch id for a kind of file and a day.
func batchID(kind byte, day int) [16]byte {
	var u [16]byte
	u[0], u[1], u[2] = 'b', kind, byte(day)
	u[6] = 0x40 // version 4 layout, variant 10: a well-formed UUID
	u[8] = 0x80
	u[15] = byte(day >> 8)
	return u
}

const (
	prospectCitizenBase = 100_000_000_000 // citizen IDs of leads: 12 digits
	walkInCitizenBase   = 200_000_000_000 // of people who enrolled without being a lead
)

// Load COPYs the prospects, their follow-ups and the enrolments into the campaign's tables,
// then vacuums and analyses them, as autovacuum would have by the end of a quarter.
func (w *World) Load(ctx context.Context, pool *pgxpool.Pool, sizes Sizes, seed uint64) (Loaded, error) {
	res := Loaded{ByStatus: map[string]int{}}
	fus := w.followUps(sizes.FollowUps, seed)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return res, err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit this is a no-op

	// Prospects, ids base+1..base+n in the order they were met: base is the highest id already
	// taken, so the data can go into a database other campaigns use too.
	var base int64
	if err := tx.QueryRow(ctx, `select coalesce(max(id), 0) from prospects`).Scan(&base); err != nil {
		return res, fmt.Errorf("prospects: %w", err)
	}
	i := 0
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"prospects"},
		[]string{"id", "campaign_id", "citizen_id", "full_name", "phone", "district_code", "commune_code", "village_code",
			"target_group", "event_id", "batch_id", "created_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(fus) {
				return nil, nil
			}
			f := &fus[i]
			i++
			c := &w.communes[w.agents[f.agent].commune]
			return []any{base + int64(i), w.campaignID, fmt.Sprintf("%012d", prospectCitizenBase+i), benchName(uint32(f.name)),
				benchPhone(uint32(f.name)), c.district, c.code, c.villages[f.village], benchGroups[f.group].code, nil,
				batchID('L', int(f.openDay)), w.opened(int(f.openDay))}, nil
		}))
	if err != nil {
		return res, fmt.Errorf("copy prospects: %w", err)
	}
	res.Prospects = int(n)

	end := w.end()
	i = 0
	n, err = tx.CopyFrom(ctx, pgx.Identifier{"follow_ups"},
		[]string{"campaign_id", "prospect_id", "district_code", "commune_code", "agent_code", "priority", "status",
			"opened_at", "due_at", "give_up_at", "reminders_sent", "last_reminded_at", "escalated_at", "escalated_to",
			"closed_at", "closed_by_batch"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(fus) {
				return nil, nil
			}
			f := &fus[i]
			i++
			ag := &w.agents[f.agent]
			c := &w.communes[ag.commune]
			opened := w.opened(int(f.openDay))
			due, giveUp := opened.Add(w.followUp.Deadline), opened.Add(w.followUp.GiveUp)
			var lastReminded, escalatedAt, closedAt *time.Time
			var escalatedTo *string
			var closedBy any
			if f.reminders > 0 {
				t := opened.Add(w.followUp.Reminders[f.reminders-1])
				lastReminded = &t
			}
			if f.escalated && c.staff != "" {
				escalatedAt, escalatedTo = &due, &c.staff
			}
			switch f.status {
			case fuEnrolled, fuDeclined:
				t := w.midnight(int(f.closeDay))
				closedAt = &t
				kind := byte('E')
				if f.status == fuDeclined {
					kind = 'O'
				}
				closedBy = batchID(kind, int(f.closeDay))
			case fuUnreachable:
				closedAt = &giveUp
			}
			res.ByStatus[fuStatus[f.status]]++
			if escalatedAt != nil {
				res.Escalated++
			}
			if opened.Before(end) {
				res.OpenedInWindow++
			}
			return []any{w.campaignID, base + int64(i), c.district, c.code, ag.code, benchGroups[f.group].like, fuStatus[f.status],
				opened, due, giveUp, int32(f.reminders), lastReminded, escalatedAt, escalatedTo, closedAt, closedBy}, nil
		}))
	if err != nil {
		return res, fmt.Errorf("copy follow-ups: %w", err)
	}
	res.FollowUps = int(n)

	// Enrolments, day by day as the files were merged: the day's enrolled leads, then the
	// people who walked in, each with an agent drawn by enrolment propensity.
	leadsOn := make([][]int32, w.days)
	for k := range fus {
		if fus[k].status == fuEnrolled {
			leadsOn[fus[k].closeDay] = append(leadsOn[fus[k].closeDay], int32(k))
			res.FromFollowUps++
		}
	}
	walkIns := sizes.Enrolments - res.FromFollowUps
	if walkIns < 0 {
		walkIns = 0
	}
	walkPerDay := allocate.LargestRemainder(walkIns, w.dayWeights(0))
	cum := make([]float64, len(w.agents))
	total := 0.0
	for k, a := range w.agents {
		total += a.weight
		cum[k] = total
	}
	r := rand.New(rand.NewPCG(seed, 3))
	day, lead, walk, walker := 0, 0, 0, 0
	n, err = tx.CopyFrom(ctx, pgx.Identifier{"enrolments"},
		[]string{"campaign_id", "citizen_id", "full_name", "phone", "district_code", "commune_code", "village_code",
			"agent_code", "target_group", "monthly_income", "monthly_contribution", "subsidy_class", "monthly_subsidy",
			"payment_months", "enrolled_on", "batch_id", "prospect_id"},
		pgx.CopyFromFunc(func() ([]any, error) {
			for day < w.days && lead == len(leadsOn[day]) && walk == walkPerDay[day] {
				day, lead, walk = day+1, 0, 0
			}
			if day == w.days {
				return nil, nil
			}
			var ag *benchAgent
			var citizen, village, group string
			var name uint32
			var prospect any
			if lead < len(leadsOn[day]) {
				k := leadsOn[day][lead]
				lead++
				f := &fus[k]
				ag = &w.agents[f.agent]
				c := &w.communes[ag.commune]
				citizen, village, group = fmt.Sprintf("%012d", prospectCitizenBase+int(k)+1), c.villages[f.village], benchGroups[f.group].code
				name, prospect = uint32(f.name), base+int64(k)+1
			} else {
				walk++
				walker++
				x := r.Float64() * total
				lo, hi := 0, len(cum)-1
				for lo < hi {
					if mid := (lo + hi) / 2; cum[mid] > x {
						hi = mid
					} else {
						lo = mid + 1
					}
				}
				ag = &w.agents[lo]
				c := &w.communes[ag.commune]
				citizen = fmt.Sprintf("%012d", walkInCitizenBase+walker)
				village, group = c.villages[r.IntN(len(c.villages))], benchGroups[c.groups[r.IntN(len(c.groups))]].code
				name = r.Uint32()
			}
			c := &w.communes[ag.commune]
			income := int64([]int{1_500_000, 2_000_000, 2_000_000, 2_500_000, 3_000_000, 3_000_000, 4_000_000, 5_000_000, 7_000_000}[name%9])
			class := "other"
			switch name % 100 {
			case 0, 1, 2, 3, 4, 5:
				class = "poor"
			case 6, 7, 8, 9, 10, 11, 12, 13, 14:
				class = "near_poor"
			}
			months := []int32{1, 1, 1, 1, 1, 3, 3, 6, 6, 12}[(name/100)%10]
			return []any{w.campaignID, citizen, benchName(name), benchPhone(name), c.district, c.code, village,
				ag.code, group, income, contribution.Monthly(income), class, contribution.MonthlySubsidy(class),
				months, w.date(day), batchID('E', day), prospect}, nil
		}))
	if err != nil {
		return res, fmt.Errorf("copy enrolments: %w", err)
	}
	res.Enrolments = int(n)
	res.EnrolledInWindow = res.Enrolments // every enrolment day is a day of the window
	if _, err := tx.Exec(ctx, `select setval(pg_get_serial_sequence('prospects', 'id'), (select max(id) from prospects))`); err != nil {
		return res, err
	}
	if err := tx.Commit(ctx); err != nil {
		return res, err
	}
	if _, err := conn.Exec(ctx, `vacuum (analyze) prospects, follow_ups, enrolments, agents, quotas, units`); err != nil {
		return res, fmt.Errorf("vacuum: %w", err)
	}
	return res, nil
}
