package simulator

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"drives/activities"
	"drives/campaign"
	"drives/contribution"
	"drives/imports"
	"drives/internal/fixture"
	"drives/internal/testenv"
	"drives/store"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The field's register on the fixture campaign (internal/fixture: 5 communes, 11 agents and
// staff, renewals by the plan's defaults: opened 15 days before a payment falls due, lapsed 60
// days after it), imported and merged by the product's own check, stage and merge, without a
// workflow.

// newField is a field of the seeded fixture campaign, loaded as Run loads it, whose imports
// stage the file as `starter import` does and merge it as the campaign workflow does.
func newField(t *testing.T, c *fixture.Campaign, cfg Config) *Field {
	t.Helper()
	f := &Field{Config: cfg, CampaignID: fixture.CampaignID, Importer: &imports.Importer{DB: c.Pool},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.importFile = func(ctx context.Context, kind imports.Kind, name string, data []byte) (campaign.ImportResult, error) {
		batch := c.Stage(kind, "", name, data)
		return fixture.Call[campaign.ImportResult](c, c.Acts.MergeImport, activities.MergeInput{
			CampaignID: fixture.CampaignID, BatchID: batch, By: "field-simulator", Policy: c.Spec.Policy})
	}
	if _, err := f.load(c.Ctx); err != nil {
		t.Fatal(err)
	}
	if f.clock.Start.IsZero() || len(f.holders) != 11 {
		t.Fatalf("field not loaded: clock %v, %d holders", f.clock, len(f.holders))
	}
	return f
}

func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

var hcm = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		panic(err)
	}
	return loc
}()

func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation("2006-01-02", s, hcm)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The starting register is the same file for the same seed, another for another seed; its
// people are distinct, cannot be the field's leads or walk-ins, are dealt to the agents and
// staff by quota, joined over 2010–2020 and are all current on 1 January, due across the
// year; the import takes it whole, once.
func TestStartingRegister(t *testing.T) {
	c := fixture.Seed(t, testenv.NewPool(t))
	const n = 2000
	f := newField(t, c, Config{Seed: 2021, StartingRegister: n, RenewShare: 0.8})
	files := f.registerFiles()
	if len(files) != 1 {
		t.Fatalf("%d files, want 1", len(files))
	}
	if again := newField(t, c, Config{Seed: 2021, StartingRegister: n}).registerFiles(); len(again) != 1 || !bytes.Equal(again[0], files[0]) {
		t.Error("the same seed wrote another register")
	}
	if other := newField(t, c, Config{Seed: 7, StartingRegister: n}).registerFiles(); bytes.Equal(other[0], files[0]) {
		t.Error("another seed wrote the same register")
	}

	recs := readCSV(t, files[0])
	if strings.Join(recs[0], ",") != strings.Join(imports.Headers[imports.Participants], ",") || len(recs) != n+1 {
		t.Fatalf("header %v and %d lines, want the participants header and %d lines", recs[0], len(recs)-1, n)
	}
	ids := map[string]bool{}
	byAgent := map[string]int{}
	byMonths := map[int]int{}
	dueByMonth := map[time.Month]int{}
	for _, r := range recs[1:] {
		id := r[0]
		if ids[id] || len(id) != 12 || !strings.HasPrefix(id, registerPrefix) {
			t.Fatalf("citizen ID %s: twice, or not 12 digits beginning %s", id, registerPrefix)
		}
		ids[id] = true
		byAgent[r[5]]++
		joined, err1 := time.Parse("2006-01-02", r[9])
		until, err2 := time.Parse("2006-01-02", r[10])
		if err1 != nil || err2 != nil {
			t.Fatalf("dates %s, %s", r[9], r[10])
		}
		if joined.Year() < 2010 || joined.Year() > 2020 {
			t.Errorf("%s joined on %s, want 2010–2020", id, r[9])
		}
		months := f.payMonths(id)
		byMonths[months]++
		start := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
		if until.Before(start) || !until.Before(start.AddDate(0, months, 0)) {
			t.Errorf("%s (every %d months) paid until %s, want within %d months of 1 January", id, months, r[10], months)
		}
		dueByMonth[until.Month()]++
	}
	// The field's own people (person) begin 001: never one of these.
	for i := 0; i < 1000; i++ {
		if id, _, _ := f.person("walk-in:x#" + strconv.Itoa(i)); strings.HasPrefix(id, registerPrefix) {
			t.Fatalf("person gave %s", id)
		}
	}
	// Dealt by quota: each holder within one of n × quota / total quota.
	total := 0
	for _, h := range f.holders {
		total += h.quota
	}
	for _, h := range f.holders {
		if want := float64(n*h.quota) / float64(total); math.Abs(float64(byAgent[h.code])-want) >= 1 {
			t.Errorf("%s holds %d, want about %.1f (quota %d of %d)", h.code, byAgent[h.code], want, h.quota, total)
		}
	}
	// A mix of modes, and payments falling due in every month.
	for _, m := range []int{1, 3, 6, 12} {
		if byMonths[m] < n/10 {
			t.Errorf("%d people pay every %d months, want a tenth at least", byMonths[m], m)
		}
	}
	if len(dueByMonth) != 12 {
		t.Errorf("paid until in %d months of the year, want every month: %v", len(dueByMonth), dueByMonth)
	}

	// Taken in whole by the import; a second start of the field takes nothing again.
	var st Stats
	if err := f.takeRegister(c.Ctx, &st); err != nil {
		t.Fatal(err)
	}
	if st.Register != n {
		t.Fatalf("register: %d taken in, want %d", st.Register, n)
	}
	if got := c.Count(`select count(*) from participants where status = 'active' and paid_until >= '2021-01-01'`); got != n {
		t.Errorf("%d current participants, want %d", got, n)
	}
	st = Stats{}
	if err := newField(t, c, f.Config).takeRegister(c.Ctx, &st); err != nil || st.Register != 0 {
		t.Errorf("register taken again: %d (%v)", st.Register, err)
	}
	if got := c.Count(`select count(*) from import_batches where kind = 'participants'`); got != 1 {
		t.Errorf("%d register imports, want 1", got)
	}
	figs, err := store.RegisterFiguresOf(c.Ctx, c.Pool, fixture.CampaignID, day(t, "2021-01-01"), false)
	if err != nil || figs.All.End != n {
		t.Errorf("stock on 1 January %+v (%v), want %d", figs.All, err, n)
	}
}

// A register larger than a file is imported in files of registerFileLines lines.
func TestStartingRegisterFiles(t *testing.T) {
	c := fixture.Seed(t, testenv.NewPool(t))
	f := newField(t, c, Config{Seed: 2021, StartingRegister: registerFileLines + 3})
	files := f.registerFiles()
	if len(files) != 2 || len(readCSV(t, files[0])) != registerFileLines+1 || len(readCSV(t, files[1])) != 4 {
		t.Fatalf("%d files, want one of %d lines and one of 3", len(files), registerFileLines)
	}
}

// A renewal pass pays the renewals whose people the seed chooses — renew_share^(months/12) of
// them, by their mode — on days around their due day, up to the day of the pass, for the
// amounts the rules ask; the rest stay open and lapse when their grace ends.
func TestRenewalsPaidOrLapsed(t *testing.T) {
	c := fixture.Seed(t, testenv.NewPool(t))
	const share = 0.5 // far from 1, so that a wrong share shows
	f := newField(t, c, Config{Seed: 2021, StartingRegister: 3000, RenewShare: share})
	var st Stats
	if err := f.takeRegister(c.Ctx, &st); err != nil {
		t.Fatal(err)
	}
	// 1 March: renewals open for the payments falling due by 16 March.
	fixture.MustCall[campaign.SweepResult](c, c.Acts.SweepFollowUps, activities.SweepInput{
		CampaignID: fixture.CampaignID, AsOf: day(t, "2021-03-01"), Policy: c.Spec.Policy})
	open, err := store.RenewalsDue(c.Ctx, c.Pool, fixture.CampaignID, time.Date(2021, 12, 31, 0, 0, 0, 0, time.UTC), store.DueRenewal{}, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) < 500 {
		t.Fatalf("%d renewals open, want hundreds", len(open))
	}
	// The read pages in order without losing or repeating a renewal.
	var paged []store.DueRenewal
	for after := (store.DueRenewal{}); ; {
		page, err := store.RenewalsDue(c.Ctx, c.Pool, fixture.CampaignID, time.Date(2021, 12, 31, 0, 0, 0, 0, time.UTC), after, 97)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if len(page) < 97 {
			break
		}
		after = page[len(page)-1]
	}
	if len(paged) != len(open) {
		t.Fatalf("paged read gave %d renewals, one read %d", len(paged), len(open))
	}

	asOf := day(t, "2021-03-01")
	if err := f.playRenewals(c.Ctx, asOf, &st); err != nil {
		t.Fatal(err)
	}
	last := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	type pay struct {
		id               string
		on               time.Time
		months           int
		amount, expected int64
		by               string
	}
	byReceipt := map[string]pay{}
	rows, err := c.Pool.Query(c.Ctx, `select receipt_no, citizen_id, paid_on, months, amount, expected, agent_code from payments`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var receipt string
		var p pay
		if err := rows.Scan(&receipt, &p.id, &p.on, &p.months, &p.amount, &p.expected, &p.by); err != nil {
			t.Fatal(err)
		}
		byReceipt[receipt] = p
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if st.Payments != len(byReceipt) || len(byReceipt) == 0 {
		t.Fatalf("%d payments recorded, %d in the database", st.Payments, len(byReceipt))
	}

	// Each renewal: paid if and only if chosen and its day has come, and so each payment falling
	// due after it, reckoned as the register reckons cover; by mode, the share chosen among the
	// renewals whose days have all passed is share^(months/12).
	chosen, settled := map[int]int{}, map[int]int{}
	payers, receipts, ahead := 0, 0, 0
	for _, r := range open {
		months := f.payMonths(r.Citizen)
		due, n := r.Due, 0
		for {
			p, ok := byReceipt["SIM-"+r.Citizen+"-"+due.Format("20060102")]
			on, choose := f.payDay(r.Citizen, due, months)
			if want := choose && !on.After(last); ok != want {
				t.Errorf("%s due %s: paid %v, want %v", r.Citizen, due.Format("2006-01-02"), ok, want)
				break
			}
			if !ok {
				break
			}
			wantOn := on
			if wantOn.Before(f.period[0]) {
				wantOn = f.period[0] // a payment is dated in the period
			}
			if !p.on.Equal(wantOn) || on.Before(due.AddDate(0, 0, -earlyDays)) || on.After(due.AddDate(0, 0, lateDays)) {
				t.Errorf("%s due %s paid on %s (drawn %s)", r.Citizen, due.Format("2006-01-02"), p.on.Format("2006-01-02"), on.Format("2006-01-02"))
			}
			if want := contribution.Due(r.Income, r.Class, months); p.id != r.Citizen || p.months != months || p.amount != want || p.expected != want || p.by != r.Agent {
				t.Errorf("%s due %s: payment %+v, want %d months, %d VND as expected, by %s", r.Citizen, due.Format("2006-01-02"), p, months, want, r.Agent)
			}
			n++
			due = addMonths(r.CoverAnchor, r.MonthsPaid+n*months)
		}
		receipts += n
		if n > 0 {
			payers++
		}
		if n > 1 {
			ahead++
		}
		// The register's cover reaches the next payment's due day, as the field reckons it.
		var until time.Time
		if err := c.Pool.QueryRow(c.Ctx, `select paid_until from participants where citizen_id = $1`, r.Citizen).Scan(&until); err != nil {
			t.Fatal(err)
		}
		if !until.Equal(due) {
			t.Errorf("%s: paid until %s, the field reckons %s", r.Citizen, until.Format("2006-01-02"), due.Format("2006-01-02"))
		}
		if !r.Due.AddDate(0, 0, lateDays).After(last) {
			settled[months]++
			if n > 0 {
				chosen[months]++
			}
		}
	}
	if receipts != len(byReceipt) {
		t.Errorf("%d receipts of the renewals read, %d in the database", receipts, len(byReceipt))
	}
	if ahead == 0 {
		t.Error("nobody paid a second payment that fell due since their renewal opened")
	}
	for _, m := range []int{1, 3, 6, 12} {
		n := settled[m]
		want := math.Pow(share, float64(m)/12)
		if n < 30 {
			t.Errorf("%d renewals of %d-month payers settled, want 30 at least", n, m)
			continue
		}
		sd := math.Sqrt(want * (1 - want) / float64(n))
		if got := float64(chosen[m]) / float64(n); math.Abs(got-want) > 4*sd {
			t.Errorf("%d-month payers: %.3f of %d paid, want %.3f", m, got, n, want)
		}
		t.Logf("%d-month payers: %d of %d paid (%.3f, want %.3f)", m, chosen[m], n, float64(chosen[m])/float64(n), want)
	}
	if got := c.Count(`select count(*) from follow_ups where kind = 'renewal' and status = 'renewed'`); got != payers {
		t.Errorf("%d renewals closed as renewed, want %d", got, payers)
	}
	paid := map[string]bool{}
	for _, p := range byReceipt {
		paid[p.id] = true
	}

	// The same pass again pays nothing twice.
	before := st.Payments
	if err := f.playRenewals(c.Ctx, asOf, &st); err != nil {
		t.Fatal(err)
	}
	if st.Payments != before {
		t.Errorf("a second pass recorded %d more payments", st.Payments-before)
	}

	// 20 May: the field has fallen behind. The sweep finds the unpaid renewals due by 21 March
	// past their grace: all lapse, those chosen to pay too.
	fixture.MustCall[campaign.SweepResult](c, c.Acts.SweepFollowUps, activities.SweepInput{
		CampaignID: fixture.CampaignID, AsOf: day(t, "2021-05-20"), Policy: c.Spec.Policy})
	lateFor := map[string]bool{}
	for _, r := range open {
		if !paid[r.Citizen] && !r.Due.After(time.Date(2021, 3, 21, 0, 0, 0, 0, time.UTC)) {
			if n := c.Count(`select count(*) from participants where citizen_id = $1 and status = 'lapsed'`, r.Citizen); n != 1 {
				t.Fatalf("%s due %s unpaid and not lapsed on 20 May", r.Citizen, r.Due.Format("2006-01-02"))
			}
			if f.pays(r.Citizen, r.Due.Format("2006-01-02"), f.payMonths(r.Citizen)) {
				lateFor[r.Citizen] = true
			}
		}
	}
	if len(lateFor) == 0 {
		t.Fatal("nobody chosen to pay lapsed before the field paid")
	}
	// The field's pass of 20 May records their payments, dated before their lapse, which they
	// undo; the others stay lapsed from the last day of their grace.
	st = Stats{}
	if err := f.playRenewals(c.Ctx, day(t, "2021-05-20"), &st); err != nil {
		t.Fatal(err)
	}
	lapsed := 0
	for _, r := range open {
		if r.Due.After(time.Date(2021, 3, 21, 0, 0, 0, 0, time.UTC)) {
			continue
		}
		graceEnd := r.Due.AddDate(0, 0, 60)
		if f.pays(r.Citizen, r.Due.Format("2006-01-02"), f.payMonths(r.Citizen)) {
			if n := c.Count(`select count(*) from participant_changes where citizen_id = $1 and kind = 'lapsed' and on_date <= $2`,
				r.Citizen, graceEnd); n != 0 {
				t.Errorf("%s chosen to pay (late: %v) and lapsed for it", r.Citizen, lateFor[r.Citizen])
			}
			if n := c.Count(`select count(*) from payments where receipt_no = $1`, "SIM-"+r.Citizen+"-"+r.Due.Format("20060102")); n != 1 {
				t.Errorf("%s chosen to pay (late: %v) and no receipt", r.Citizen, lateFor[r.Citizen])
			}
			continue
		}
		lapsed++
		if n := c.Count(`select count(*) from participant_changes where citizen_id = $1 and kind = 'lapsed' and on_date = $2`,
			r.Citizen, graceEnd); n != 1 {
			t.Errorf("%s due %s did not pay and has not lapsed on %s", r.Citizen, r.Due.Format("2006-01-02"), graceEnd.Format("2006-01-02"))
		}
	}
	if lapsed == 0 {
		t.Error("nobody lapsed")
	}
	if got := c.Count(`select count(*) from participant_changes where kind = 'returned'`); got != 0 {
		t.Errorf("%d returned: a late record of a payment made in the grace is a renewal", got)
	}
}

// Cover counts whole months from its first day, as the register's paid_until does.
func TestAddMonths(t *testing.T) {
	for _, c := range []struct {
		from string
		n    int
		want string
	}{{"2021-01-31", 1, "2021-02-28"}, {"2021-01-31", 2, "2021-03-31"}, {"2020-02-29", 12, "2021-02-28"},
		{"2020-02-29", 48, "2024-02-29"}, {"2021-12-15", 1, "2022-01-15"}, {"2021-05-31", 6, "2021-11-30"}, {"2021-03-10", 0, "2021-03-10"}} {
		from, _ := time.Parse("2006-01-02", c.from)
		if got := addMonths(from, c.n).Format("2006-01-02"); got != c.want {
			t.Errorf("%s + %d months = %s, want %s", c.from, c.n, got, c.want)
		}
	}
}
