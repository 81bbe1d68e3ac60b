package simulator

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"drives/contribution"
	"drives/imports"
	"drives/store"
)

// The register of participants in the field: a starting register of the people already
// participating when the campaign starts, and each person's payments as they fall due — paid,
// or let lapse.

const (
	// registerPrefix begins the citizen IDs of the starting register's people. No province has
	// the code 000, and person gives IDs beginning 001: they never meet a lead or a walk-in.
	registerPrefix = "000"
	// registerFileLines and paymentFileLines bound the lines of one imported file.
	registerFileLines = 50_000
	paymentFileLines  = 50_000
	// renewalsPage is how many renewals one read of the database returns.
	renewalsPage = 10_000
	// A person pays from earlyDays before their payment falls due to lateDays after it, well
	// within the grace period.
	earlyDays = 7
	lateDays  = 10
	// registerYears is how many years before the period the starting register's people joined
	// over.
	registerYears = 11
)

// takeRegister imports the starting register, unless the campaign's register holds its people
// already (a simulator started again on a running campaign).
func (f *Field) takeRegister(ctx context.Context, st *Stats) error {
	n := f.Config.StartingRegister
	if n <= 0 {
		return nil
	}
	in, err := store.RegisterJoinedBefore(ctx, f.Importer.DB, f.CampaignID)
	if err != nil {
		return err
	}
	if in >= n {
		return nil
	}
	for i, data := range f.registerFiles() {
		res, err := f.importData(ctx, imports.Participants, fmt.Sprintf("field-register-%d.csv", i+1), data)
		if err != nil {
			return fmt.Errorf("starting register: %w", err)
		}
		st.Register += res.New
	}
	return nil
}

// registerFiles writes the starting register: Config.StartingRegister synthetic people dealt to
// the active agents and staff by their quotas (so to the communes by labour force), each in a
// village of the commune and a target group. They joined over the registerYears years before the
// period, more of them lately, and pay monthly or every 3, 6 or 12 months (payMonths); each is
// paid up to a day within one such cycle from the period's first day, so that all are current
// on that day and their payments fall due across the year. Their citizen IDs are distinct:
// registerPrefix and a seeded permutation of 0…999,999,999 applied to their number. The lines
// are in files of at most registerFileLines lines.
func (f *Field) registerFiles() [][]byte {
	counts := f.dealRegister(f.Config.StartingRegister)
	// i ↦ (i·a + b) mod 10⁹ is one-to-one when a has no factor 2 or 5.
	a := uint64(f.u("register", "a")*5e8)*2 + 1
	for a%5 == 0 {
		a += 2
	}
	b := uint64(f.u("register", "b") * 1e9)
	start := f.period[0]
	var files [][]byte
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	lines, i := 0, uint64(0)
	end := func() { // the file so far
		w.Flush()
		files = append(files, bytes.Clone(buf.Bytes()))
		buf.Reset()
		lines = 0
	}
	for hi, h := range f.holders {
		for k := 0; k < counts[hi]; k++ {
			if lines == 0 {
				_ = w.Write(imports.Headers[imports.Participants])
			}
			id := fmt.Sprintf("%s%09d", registerPrefix, (i*a+b)%1_000_000_000)
			i++
			name, phone := f.namePhone(id)
			income, class := f.incomeClass(id)
			// Joined: a year drawn with more weight on recent years (the scheme grew), a day in it.
			year := start.Year() - registerYears + int(float64(registerYears)*math.Sqrt(f.u(id, "joined-year")))
			first := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
			joined := first.AddDate(0, 0, int(f.u(id, "joined-day")*float64(days(first, first.AddDate(1, 0, 0)))))
			if !joined.Before(start) {
				joined = start.AddDate(0, 0, -1)
			}
			cycle := days(start, start.AddDate(0, f.payMonths(id), 0))
			paidUntil := start.AddDate(0, 0, int(f.u(id, "paid-until")*float64(cycle)))
			_ = w.Write([]string{id, name, phone, h.commune, f.pick(f.villages[h.commune], id, "village"), h.code,
				f.pick(f.groups, id, "group"), strconv.FormatInt(income, 10), class,
				joined.Format("2006-01-02"), paidUntil.Format("2006-01-02")})
			if lines++; lines == registerFileLines {
				end()
			}
		}
	}
	if lines > 0 {
		end()
	}
	return files
}

// days is the whole days from a to b.
func days(a, b time.Time) int { return int(b.Sub(a).Hours()/24 + 0.5) }

// dealRegister deals n people to the active agents and staff in proportion to their quotas (all
// alike when no one holds a quota), by largest remainder (ties to the lower code): the counts
// sum to n exactly.
func (f *Field) dealRegister(n int) []int {
	counts := make([]int, len(f.holders))
	if len(f.holders) == 0 || n <= 0 {
		return counts
	}
	var total int64
	for _, h := range f.holders {
		total += int64(h.quota)
	}
	weight := func(i int) int64 {
		if total == 0 {
			return 1
		}
		return int64(f.holders[i].quota)
	}
	if total == 0 {
		total = int64(len(f.holders))
	}
	rems := make([]int, len(f.holders))
	rem := make([]int64, len(f.holders))
	given := 0
	for i := range f.holders {
		q := int64(n) * weight(i)
		counts[i], rem[i], rems[i] = int(q/total), q%total, i
		given += counts[i]
	}
	sort.SliceStable(rems, func(x, y int) bool {
		if rem[rems[x]] != rem[rems[y]] {
			return rem[rems[x]] > rem[rems[y]]
		}
		return f.holders[rems[x]].code < f.holders[rems[y]].code
	})
	for k := 0; given < n; k++ {
		counts[rems[k]]++
		given++
	}
	return counts
}

// payMonths is how many months a person's payments cover: for the starting register's people a
// mix of monthly (20%), 3-month (30%), 6-month (20%) and yearly (30%) payers; everyone else
// keeps the payment mode they enrolled with.
func (f *Field) payMonths(id string) int {
	if strings.HasPrefix(id, registerPrefix) {
		switch r := f.u(id, "register-mode"); {
		case r < 0.2:
			return 1
		case r < 0.5:
			return 3
		case r < 0.7:
			return 6
		}
		return 12
	}
	m, err := contribution.PaymentMonths(f.mode(id))
	if err != nil {
		return 1
	}
	return m
}

// pays says whether a person pays the payment falling due on a day (YYYY-MM-DD): with
// probability RenewShare^(months/12), so that RenewShare of the people keep paying over a year
// whatever their mode.
func (f *Field) pays(id, due string, months int) bool {
	return f.u(id, due, "renew") < math.Pow(f.Config.RenewShare, float64(months)/12)
}

// renewalPass is a pass of the field over the renewals that have fallen due: what it reads of
// the field is taken when it starts, so that it can run beside the field's other work (Config
// and the Field's other settings do not change while it runs).
type renewalPass struct {
	f       *Field
	holders []holder        // the active agents and staff when the pass started
	active  map[string]bool // their codes
	first   time.Time       // the period's first day
	last    time.Time       // the last day paid: the campaign's current day, or the period's last
}

// renewalPass starts a pass as of the campaign time now.
func (f *Field) renewalPass(now time.Time) *renewalPass {
	t := now.In(f.loc)
	last := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if f.period[1].Before(last) {
		last = f.period[1]
	}
	return &renewalPass{f: f, holders: f.holders, active: f.active, first: f.period[0], last: last}
}

// playRenewals runs a pass over the renewals fallen due as of now, and waits for it.
func (f *Field) playRenewals(ctx context.Context, now time.Time, st *Stats) error {
	n, err := f.renewalPass(now).play(ctx)
	st.Payments += n
	return err
}

// renewalDone is what a pass running beside the field's other work did.
type renewalDone struct {
	payments int
	err      error
}

// renew takes the result of the pass over the renewals running beside the field's other work,
// if it has ended, and starts another when none runs and the office's import grid says so
// (as for enrolments: every ImportEvery, and once more when the period is over), so that the
// field's payments and its enrolments, outcomes and event results do not wait on each other.
// wait waits for a running pass and starts none.
func (f *Field) renew(ctx context.Context, now time.Time, st *Stats, wait bool) {
	if f.renewing != nil {
		var d renewalDone
		if wait {
			d = <-f.renewing
		} else {
			select {
			case d = <-f.renewing:
			default:
				return
			}
		}
		f.renewing = nil
		st.Payments += d.payments
		if d.err != nil && ctx.Err() == nil {
			f.Log.Warn("renewal payments failed; trying again", "error", d.err)
			f.renewed = time.Time{}
		}
	}
	every := time.Duration(f.Config.ImportEvery)
	if wait || f.Config.RenewShare <= 0 ||
		(every > 0 && !f.renewed.IsZero() && now.Sub(f.renewed) < every && !now.After(f.period[1])) {
		return
	}
	f.renewed = now
	if every > 0 {
		f.renewed = f.clock.Start.Add(now.Sub(f.clock.Start) / every * every)
	}
	pass, done := f.renewalPass(now), make(chan renewalDone, 1)
	f.renewing = done
	go func() {
		n, err := pass.play(ctx)
		done <- renewalDone{n, err}
	}()
}

// play pays the renewals that have fallen due, or not: for each renewal still unpaid falling due
// by the pass's last day (or a few days on, for those who pay early), its person pays if pays
// says so, on a day from earlyDays before to lateDays after the due day, once that day has come
// (and within the period); in payments files of at most paymentFileLines lines. A payment the
// field records after the person's grace has ended (the field fell behind) is dated before the
// lapse, which it undoes, as a late collection record does. Those who do not pay lapse when
// their grace ends: the campaign's sweep records it. It returns how many payments it recorded.
func (p *renewalPass) play(ctx context.Context) (int, error) {
	f := p.f
	if f.Config.RenewShare <= 0 {
		return 0, nil
	}
	var lines [][]string
	var after store.DueRenewal
	for {
		page, err := store.RenewalsDue(ctx, f.Importer.DB, f.CampaignID, p.last.AddDate(0, 0, earlyDays), after, renewalsPage)
		if err != nil {
			return 0, err
		}
		for _, r := range page {
			lines = append(lines, p.payments(r)...)
		}
		if len(page) < renewalsPage {
			break
		}
		after = page[len(page)-1]
	}
	recorded := 0
	for len(lines) > 0 {
		n := min(len(lines), paymentFileLines)
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write(imports.Headers[imports.Payments])
		_ = w.WriteAll(lines[:n])
		res, err := f.importData(ctx, imports.Payments, "field-payments.csv", buf.Bytes())
		if err != nil {
			return recorded, fmt.Errorf("payments: %w", err)
		}
		recorded += res.New
		lines = lines[n:]
	}
	return recorded, nil
}

// payments are the lines of a payments file for a renewal: nothing when its person does not pay
// it or their day to pay has not come by the pass's last day; otherwise their payment of it and
// of the payments falling due after it that they pay by that day too (the field recording late,
// or a person paying ahead: each is decided as pays and dated as payDay says), so that a person
// is never more than a payment behind when the field falls behind the campaign's sweeps. Each
// line is the months of the person's mode, the amount the rules ask for them, a receipt of the
// person and due day, and the agent holding the renewal (or, if they have left, an active agent
// or staff member of the person's commune).
func (p *renewalPass) payments(r store.DueRenewal) [][]string {
	f := p.f
	agent := r.Agent
	if !p.active[agent] {
		var here []string
		for _, h := range p.holders {
			if h.commune == r.Commune {
				here = append(here, h.code)
			}
		}
		if agent = f.pick(here, r.Citizen, r.Due.Format("2006-01-02"), "agent"); agent == "" {
			return nil
		}
	}
	months := f.payMonths(r.Citizen)
	amount := strconv.FormatInt(contribution.Due(r.Income, r.Class, months), 10)
	var lines [][]string
	for due := r.Due; ; due = addMonths(r.CoverAnchor, r.MonthsPaid+len(lines)*months) {
		on, ok := f.payDay(r.Citizen, due, months)
		if !ok || on.After(p.last) {
			return lines
		}
		if on.Before(p.first) {
			on = p.first
		}
		lines = append(lines, []string{r.Citizen, on.Format("2006-01-02"), strconv.Itoa(months), amount,
			"SIM-" + r.Citizen + "-" + due.Format("20060102"), agent})
	}
}

// payDay is the day a person pays the payment falling due on a day, from earlyDays before it to
// lateDays after; ok is false when they do not pay it (pays).
func (f *Field) payDay(id string, due time.Time, months int) (on time.Time, ok bool) {
	d := due.Format("2006-01-02")
	if !f.pays(id, d, months) {
		return time.Time{}, false
	}
	return due.AddDate(0, 0, -earlyDays+int(f.u(id, d, "paid-on")*float64(earlyDays+lateDays+1))), true
}

// addMonths is a day n months on, as the register counts cover: the same day of the month, or
// the month's last day when it is shorter (31 January + 1 month is 28 February).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	if last := first.AddDate(0, 1, -1).Day(); d > last {
		d = last
	}
	return first.AddDate(0, 0, d-1)
}
