// Package simulator plays the field for a demo: the people who come to events, the agents who
// follow them up, the participants who enrol, decline or cannot be reached, and the people of
// the register of participants who pay again when their payment falls due or let it lapse. It
// is seeded and deterministic — who enrols, declines, goes silent or pays, and when, depends
// only on the seed and the people's synthetic IDs — and it acts only through the public paths a
// real office uses: event results, enrolment, outcome, starting register and payment imports
// (package imports), which reach the campaign through its Updates. It reads the database as an
// agent's app would (held events, open follow-ups, renewals due) and never writes to it
// directly. Production never runs this code.
package simulator

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"os"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"drives/campaign"
	"drives/contribution"
	"drives/imports"
	"drives/plan"
	"drives/store"
)

// Config is the field's behaviour. Every rate is a probability in [0, 1].
type Config struct {
	Seed uint64 `yaml:"seed"`
	// Attendance at an event as a share of its expected attendance.
	AttendanceMin float64 `yaml:"attendance_min"`
	AttendanceMax float64 `yaml:"attendance_max"`
	// LeadShare of attendees leave their contact and become leads.
	LeadShare float64 `yaml:"lead_share"`
	// Conversion of a lead into an enrolment, by target group.
	Conversion map[string]float64 `yaml:"conversion"`
	// DeclineShare of the leads who do not enrol say no; the rest go silent and are given up
	// as unreachable by the follow-up policy.
	DeclineShare float64 `yaml:"decline_share"`
	// A lead answers between ResponseMinDays and ResponseMaxDays after the event.
	ResponseMinDays int `yaml:"response_min_days"`
	ResponseMaxDays int `yaml:"response_max_days"`
	// WalkInShare of each commune's quota is enrolled by its agents door to door over the year,
	// outside any event.
	WalkInShare float64 `yaml:"walk_in_share"`
	// Tick is how often (real time) the field acts.
	Tick time.Duration `yaml:"tick"`
	// ImportEvery is how often, in campaign time, the office imports the enrolments, outcomes
	// and payments its agents have collected (each import is an Update and an activity); event
	// results are reported as the events are held. Zero imports every tick.
	ImportEvery plan.Duration `yaml:"import_every"`
	// StartingRegister is how many people already participate when the campaign starts: a
	// synthetic register of them is imported as the campaign's clock starts (0: none).
	StartingRegister int `yaml:"starting_register"`
	// RenewShare is the share of participants who keep paying over a year. When a payment
	// falls due (an open renewal follow-up), the person pays with probability
	// RenewShare^(months/12), months being what their payments cover, so that monthly and
	// yearly payers keep paying alike; the others lapse when their grace ends.
	RenewShare float64 `yaml:"renew_share"`
}

// LoadConfig reads a simulator config strictly.
func LoadConfig(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, errors.Unwrap(err))
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("%s: %v", path, err)
	}
	if c.Tick <= 0 {
		c.Tick = time.Second
	}
	if c.ResponseMaxDays < c.ResponseMinDays {
		return Config{}, fmt.Errorf("%s: response_max_days is below response_min_days", path)
	}
	if c.StartingRegister < 0 {
		return Config{}, fmt.Errorf("%s: starting_register must not be negative", path)
	}
	if c.RenewShare < 0 || c.RenewShare > 1 {
		return Config{}, fmt.Errorf("%s: renew_share must be from 0 to 1", path)
	}
	return c, nil
}

// Field is a running simulation of one campaign.
type Field struct {
	Config     Config
	CampaignID string
	Importer   *imports.Importer
	Log        *slog.Logger

	clock      plan.Clock
	loc        *time.Location
	acted      map[string]bool // citizen IDs whose outcome was played
	walkIns    map[string]int  // agent or staff member -> walk-ins enrolled so far
	holders    []holder        // active agents and staff with their current quotas
	active     map[string]bool // their codes
	villages   map[string][]string
	groups     []string
	period     [2]time.Time
	imported   time.Time // campaign time of the last import
	registered bool      // the starting register is in
	renewed    time.Time // campaign time of the last pass over the renewals due
	renewing   chan renewalDone

	// importFile takes a file into the campaign; nil is the Importer's import (tests stage
	// and merge without a workflow).
	importFile func(ctx context.Context, kind imports.Kind, name string, data []byte) (campaign.ImportResult, error)
}

// holder is an active agent or staff member and the quota they hold now.
type holder struct {
	code, commune string
	quota         int
}

// Stats counts what the field did.
type Stats struct {
	EventsReported int
	Leads          int
	Enrolled       int
	Declined       int
	Register       int // people of the starting register taken in
	Payments       int // renewal payments recorded
}

// Run plays the field until the campaign closes or ctx ends.
func (f *Field) Run(ctx context.Context) (st Stats, err error) {
	f.acted, f.walkIns = map[string]bool{}, map[string]int{}
	// A pass over the renewals still running is waited for (ctx ending ends it).
	defer f.renew(ctx, time.Time{}, &st, true)
	t := time.NewTicker(f.Config.Tick)
	defer t.Stop()
	for {
		status, err := f.load(ctx)
		if err != nil {
			return st, err
		}
		if status == campaign.StatusClosed || status == campaign.StatusCancelled {
			return st, nil
		}
		if status == campaign.StatusRunning && !f.clock.Start.IsZero() {
			if err := f.step(ctx, &st); err != nil && ctx.Err() == nil {
				f.Log.Warn("field step failed; trying again next tick", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return st, nil
		case <-t.C:
		}
	}
}

// load reads the campaign's clock and status, and once its roster.
func (f *Field) load(ctx context.Context) (string, error) {
	db := f.Importer.DB
	c, err := store.FieldCampaignOf(ctx, db, f.CampaignID)
	if err != nil {
		return "", err
	}
	status, tz, epoch, start, scale := c.Status, c.Timezone, c.Epoch, c.Start, c.Scale
	f.period = [2]time.Time{c.PeriodStart, c.PeriodEnd}
	if epoch == nil {
		return status, nil
	}
	if f.villages != nil {
		// Reviews terminate agents and move their quota: only active ones take enrolments.
		return status, f.loadHolders(ctx)
	}
	f.clock = plan.Clock{Epoch: *epoch, Start: *start, Scale: scale}
	if f.loc, err = time.LoadLocation(tz); err != nil {
		return "", err
	}
	f.villages = map[string][]string{}
	if err := f.loadHolders(ctx); err != nil {
		return "", err
	}
	villages, err := store.UnitsOfLevel(ctx, db, f.CampaignID, "village")
	if err != nil {
		return "", err
	}
	for _, v := range villages {
		f.villages[v.Parent] = append(f.villages[v.Parent], v.Code)
	}
	if f.groups, err = store.TargetGroupsByLikelihood(ctx, db, f.CampaignID); err != nil {
		return "", err
	}
	return status, nil
}

// loadHolders reads the active agents and staff with the quotas they hold now.
func (f *Field) loadHolders(ctx context.Context) error {
	hs, err := store.ActiveQuotaHolders(ctx, f.Importer.DB, f.CampaignID)
	if err != nil {
		return err
	}
	f.holders = make([]holder, len(hs))
	f.active = make(map[string]bool, len(hs))
	for i, h := range hs {
		f.holders[i] = holder{code: h.Code, commune: h.Commune, quota: h.Quota}
		f.active[h.Code] = true
	}
	return nil
}

// effort is how much of their share of walk-ins an agent or staff member brings in: most do
// 75–110%; about one in twenty-five hardly works, which is what reviews are for.
func (f *Field) effort(code string) float64 {
	if f.u(code, "idle") < 0.04 {
		return 0.05
	}
	return 0.75 + 0.35*f.u(code, "effort")
}

// u is a deterministic uniform number in [0, 1) from the seed and the given keys.
func (f *Field) u(keys ...string) float64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], f.Config.Seed)
	h.Write(b[:])
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
	}
	return float64(h.Sum64()>>11) / (1 << 53)
}

func (f *Field) pick(list []string, keys ...string) string {
	if len(list) == 0 {
		return ""
	}
	return list[int(f.u(keys...)*float64(len(list)))]
}

// person is a synthetic participant: a citizen ID, a name and a phone derived from a key. Its
// IDs begin with 001 (Hà Nội's code), those of the starting register with 000 (registerPrefix).
func (f *Field) person(key string) (id, name, phone string) {
	id = fmt.Sprintf("001%09d", int(f.u(key, "id")*1e9))
	name, phone = f.namePhone(key)
	return id, name, phone
}

// namePhone is a synthetic name and phone number derived from a key.
func (f *Field) namePhone(key string) (name, phone string) {
	name = fmt.Sprintf("%s %s %s", f.pick(familyNames, key, "family"), f.pick(middleNames, key, "middle"), f.pick(givenNames, key, "given"))
	phone = fmt.Sprintf("09%08d", int(f.u(key, "phone")*1e8))
	return name, phone
}

// eventsPerTick bounds the event results reported in one tick, so that on a slow machine the
// enrolments and outcomes of the tick are not held up behind them.
const eventsPerTick = 8

func (f *Field) step(ctx context.Context, st *Stats) error {
	if !f.registered {
		if err := f.takeRegister(ctx, st); err != nil {
			return err
		}
		f.registered = true
	}
	now := f.clock.CampaignTime(time.Now())
	// The office imports on its own grid (every ImportEvery from the period's start), and once
	// more when the period is over; its payments go in beside the rest (renew).
	f.renew(ctx, now, st, false)
	every := time.Duration(f.Config.ImportEvery)
	if every <= 0 || f.imported.IsZero() || now.Sub(f.imported) >= every || now.After(f.period[1]) {
		if err := f.playOutcomes(ctx, now, st); err != nil {
			return err
		}
		f.imported = now
		if every > 0 {
			f.imported = f.clock.Start.Add(now.Sub(f.clock.Start) / every * every)
		}
	}
	return f.reportEvents(ctx, st)
}

// reportEvents records the results of held events that have none yet, the oldest first.
func (f *Field) reportEvents(ctx context.Context, st *Stats) error {
	events, err := store.HeldEventsWithoutResults(ctx, f.Importer.DB, f.CampaignID, eventsPerTick)
	if err != nil {
		return err
	}
	var communesOf map[string][]string
	for _, e := range events {
		if communesOf == nil {
			communesOf = map[string][]string{}
			communes, err := store.UnitsOfLevel(ctx, f.Importer.DB, f.CampaignID, "commune")
			if err != nil {
				return err
			}
			for _, c := range communes {
				communesOf[c.Parent] = append(communesOf[c.Parent], c.Code)
			}
		}
		factor := f.Config.AttendanceMin + f.u(e.ID, "attendance")*(f.Config.AttendanceMax-f.Config.AttendanceMin)
		attendance := int(math.Round(float64(e.Expected) * factor))
		leads := int(math.Round(float64(attendance) * f.Config.LeadShare))
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write(imports.Headers[imports.Leads])
		seen := map[string]bool{}
		for i := 0; i < leads; i++ {
			key := e.ID + "#" + strconv.Itoa(i)
			id, name, phone := f.person(key)
			if seen[id] {
				continue
			}
			seen[id] = true
			commune := f.pick(communesOf[e.District], key, "commune")
			if e.Commune != nil {
				commune = *e.Commune
			}
			_ = w.Write([]string{id, name, phone, commune, f.pick(f.villages[commune], key, "village"), f.pick(e.Groups, key, "group")})
		}
		w.Flush()
		if len(seen) == 0 {
			continue
		}
		res, err := f.Importer.EventResults(ctx, f.CampaignID, e.ID, attendance, "field-"+e.ID+".csv", buf.Bytes(), "field-simulator")
		if err != nil {
			return fmt.Errorf("event %s results: %w", e.ID, err)
		}
		st.EventsReported++
		st.Leads += res.New
	}
	return nil
}

type lead struct {
	citizen, name, phone, commune, group, agent string
	village                                     *string
	opened                                      time.Time
}

// playOutcomes enrols or declines the leads whose answer has come, and enrols the walk-ins
// agents find door to door, in one enrolment file and one outcome file a tick.
func (f *Field) playOutcomes(ctx context.Context, now time.Time, st *Stats) error {
	var enrol, decline []lead
	var enrolOn = map[string]time.Time{}
	if err := store.ForEachOpenLead(ctx, f.Importer.DB, f.CampaignID, func(ol store.OpenLead) error {
		l := lead{citizen: ol.Citizen, name: ol.Name, phone: ol.Phone, commune: ol.Commune, village: ol.Village,
			group: ol.Group, agent: ol.Agent, opened: ol.Opened}
		if f.acted[l.citizen] {
			return nil
		}
		days := f.Config.ResponseMinDays + int(f.u(l.citizen, "response")*float64(f.Config.ResponseMaxDays-f.Config.ResponseMinDays+1))
		at := l.opened.Add(time.Duration(days) * 24 * time.Hour)
		if at.After(now) {
			return nil
		}
		switch r := f.u(l.citizen, "outcome"); {
		case r < f.Config.Conversion[l.group]:
			enrol = append(enrol, l)
			enrolOn[l.citizen] = at
		case f.u(l.citizen, "decline") < f.Config.DeclineShare:
			decline = append(decline, l)
			enrolOn[l.citizen] = at
		default:
			f.acted[l.citizen] = true // goes silent: the follow-up policy gives up on them
		}
		return nil
	}); err != nil {
		return err
	}

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(imports.Headers[imports.Enrolments])
	seen := map[string]bool{}
	n := 0
	day := func(t time.Time) string {
		if t.Before(f.period[0]) {
			t = f.period[0]
		}
		d := t.In(f.loc).Format("2006-01-02")
		if last := f.period[1].Format("2006-01-02"); d > last {
			d = last
		}
		return d
	}
	for _, l := range enrol {
		seen[l.citizen] = true
		v := ""
		if l.village != nil {
			v = *l.village
		}
		_ = w.Write(f.enrolment(l.citizen, l.name, l.phone, l.commune, v, l.agent, l.group, day(enrolOn[l.citizen])))
		n++
	}
	// Walk-ins: by campaign time now, each agent and staff member has enrolled their share of
	// the year's walk-ins, as their effort goes.
	frac := now.Sub(f.clock.Start).Seconds() / f.period[1].AddDate(0, 0, 1).Sub(f.period[0]).Seconds()
	frac = math.Max(0, math.Min(1, frac))
	before := map[string]int{}
	for _, h := range f.holders {
		due := int(float64(h.quota) * f.Config.WalkInShare * f.effort(h.code) * frac)
		for i := f.walkIns[h.code]; i < due; i++ {
			key := "walk-in:" + h.code + "#" + strconv.Itoa(i)
			id, name, phone := f.person(key)
			if seen[id] {
				continue
			}
			seen[id] = true
			_ = w.Write(f.enrolment(id, name, phone, h.commune, f.pick(f.villages[h.commune], key, "village"), h.code,
				f.pick(f.groups, key, "group"), day(now)))
			n++
		}
		if due > f.walkIns[h.code] {
			before[h.code] = f.walkIns[h.code]
			f.walkIns[h.code] = due
		}
	}
	w.Flush()
	if n > 0 {
		res, err := f.importData(ctx, imports.Enrolments, "field-enrolments.csv", buf.Bytes())
		if err != nil {
			for code, n := range before {
				f.walkIns[code] = n // try them again next tick
			}
			return fmt.Errorf("enrolments: %w", err)
		}
		st.Enrolled += res.New
		for _, l := range enrol {
			f.acted[l.citizen] = true
		}
	}
	if len(decline) > 0 {
		buf.Reset()
		w := csv.NewWriter(&buf)
		_ = w.Write(imports.Headers[imports.Outcomes])
		for _, l := range decline {
			_ = w.Write([]string{l.citizen, "declined", day(enrolOn[l.citizen])})
		}
		w.Flush()
		res, err := f.importData(ctx, imports.Outcomes, "field-outcomes.csv", buf.Bytes())
		if err != nil {
			return fmt.Errorf("outcomes: %w", err)
		}
		st.Declined += res.New
		for _, l := range decline {
			f.acted[l.citizen] = true
		}
	}
	return nil
}

// importData takes a file into the campaign, as the office's import does.
func (f *Field) importData(ctx context.Context, kind imports.Kind, name string, data []byte) (campaign.ImportResult, error) {
	if f.importFile != nil {
		return f.importFile(ctx, kind, name, data)
	}
	return f.Importer.Enrolments(ctx, f.CampaignID, kind, name, data, "field-simulator")
}

// enrolment is one line of an enrolment file; income, subsidy class and payment mode are drawn
// from the person's key.
func (f *Field) enrolment(id, name, phone, commune, village, agent, group, on string) []string {
	income, class := f.incomeClass(id)
	return []string{id, name, phone, commune, village, agent, group, strconv.FormatInt(income, 10), class, f.mode(id), on}
}

// incomeClass is the monthly income a person declares and their household's subsidy class,
// drawn from their citizen ID.
func (f *Field) incomeClass(id string) (int64, string) {
	income := contribution.MinMonthlyIncome + int64(f.u(id, "income")*f.u(id, "income2")*4_000_000)/50_000*50_000
	class := "other"
	switch r := f.u(id, "class"); {
	case r < 0.08:
		class = "poor"
	case r < 0.18:
		class = "near_poor"
	}
	return income, class
}

// mode is the payment mode a person enrols with, drawn from their citizen ID.
func (f *Field) mode(id string) string {
	return []string{"monthly", "3m", "6m", "12m", "12m", "2y"}[int(f.u(id, "mode")*6)]
}

var (
	familyNames = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"}
	middleNames = []string{"Văn", "Thị", "Hữu", "Đức", "Minh", "Thu", "Ngọc", "Quang", "Thanh", "Xuân", "Hồng", "Kim"}
	givenNames  = []string{"An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phong", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Việt", "Yến"}
)
