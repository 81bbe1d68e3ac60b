package activities_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/activities"
	"drives/campaign"
	"drives/contribution"
	"drives/imports"
	"drives/plan"
	"drives/store"
)

// The register of participants on the fixture campaign (renewals by the plan's defaults: a
// renewal opens 15 days before a payment falls due, a person lapses 60 days after it).

type payment struct {
	id, on  string
	months  int
	amount  int64
	receipt string
	agent   string
}

func paymentsCSV(ps ...payment) []byte {
	var b strings.Builder
	b.WriteString(strings.Join(imports.Headers[imports.Payments], ",") + "\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "%s,%s,%d,%d,%s,%s\n", p.id, p.on, p.months, p.amount, p.receipt, p.agent)
	}
	return []byte(b.String())
}

// mergeWithPolicy merges a staged batch as the campaign workflow does, with its policy.
func (d *drive) mergeWithPolicy(batch string) campaign.ImportResult {
	d.t.Helper()
	return mustCall[campaign.ImportResult](d, d.acts.MergeImport, activities.MergeInput{
		CampaignID: campaignID, BatchID: batch, By: "coordinator-a", Policy: d.spec.Policy})
}

func (d *drive) sweepAt(day string) campaign.SweepResult {
	d.t.Helper()
	return mustCall[campaign.SweepResult](d, d.acts.SweepFollowUps, activities.SweepInput{
		CampaignID: campaignID, AsOf: local(d.t, day), Policy: d.spec.Policy})
}

// local is the start of a day in the campaign's time zone.
func local(t *testing.T, day string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation("2006-01-02", day, hcm)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// participant reads a person's state in the register.
func (d *drive) participant(id string) (paidUntil, status string) {
	d.t.Helper()
	if err := d.pool.QueryRow(d.ctx, `select paid_until::text, status from participants where citizen_id = $1`, id).
		Scan(&paidUntil, &status); err != nil {
		d.t.Fatalf("participant %s: %v", id, err)
	}
	return paidUntil, status
}

func TestRegisterFollowsPaymentsRenewalsAndLapses(t *testing.T) {
	d := newDrive(t)
	a := enrolment{person: lead(1, "00001", "", "trader"), agent: "DL-00001-1", income: 1_500_000, class: "other", mode: "monthly", on: "2021-01-31"}
	b := enrolment{person: lead(2, "00001", "", "trader"), agent: "DL-00001-2", income: 2_000_000, class: "poor", mode: "3m", on: "2021-02-10"}
	c := enrolment{person: lead(3, "00010", "", "student"), agent: "DL-00010-1", income: 1_000_000, class: "near_poor", mode: "12m", on: "2021-03-01"}
	res := d.mergeWithPolicy(d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(a, b, c)))
	if res.New != 3 {
		t.Fatalf("enrolled %d, want 3", res.New)
	}
	// An enrolment is the first payment: cover for its payment mode's months from the day.
	// 31 January + 1 month is 28 February (the month's end, not 3 March).
	for _, w := range []struct{ id, until string }{{a.id, "2021-02-28"}, {b.id, "2021-05-10"}, {c.id, "2022-03-01"}} {
		if until, status := d.participant(w.id); until != w.until || status != "active" {
			t.Errorf("%s: paid until %s (%s), want %s (active)", w.id, until, status, w.until)
		}
	}
	if n := d.count(`select count(*) from participant_changes where kind = 'joined'`); n != 3 {
		t.Fatalf("%d joined, want 3", n)
	}
	// The register's next due day reached the workflow: A's renewal opens 15 days before
	// 28 February.
	if want := local(t, "2021-02-13"); !res.NextDue.Equal(want) {
		t.Errorf("next due %s, want %s", res.NextDue, want)
	}

	// 14 February: A's renewal is open, for the agent who enrolled them, dated by the rules.
	sw := d.sweepAt("2021-02-14")
	if sw.RenewalsOpened != 1 || sw.Lapsed != 0 {
		t.Fatalf("sweep of 14 February: %+v, want 1 renewal opened", sw)
	}
	var agent string
	var opened, due, giveUp time.Time
	if err := d.pool.QueryRow(d.ctx, `select agent_code, opened_at, due_at, give_up_at from follow_ups
		where kind = 'renewal' and citizen_id = $1 and status = 'open'`, a.id).Scan(&agent, &opened, &due, &giveUp); err != nil {
		t.Fatal(err)
	}
	if agent != a.agent || !opened.Equal(local(t, "2021-02-13")) || !due.Equal(local(t, "2021-02-28")) || !giveUp.Equal(local(t, "2021-04-29")) {
		t.Errorf("renewal: %s opened %s due %s give up %s; want %s, 13 Feb, 28 Feb, 29 Apr", agent, opened, due, giveUp, a.agent)
	}
	// Sweeping the same day again opens nothing more.
	if sw := d.sweepAt("2021-02-14"); sw.RenewalsOpened != 0 {
		t.Errorf("second sweep opened %d renewals", sw.RenewalsOpened)
	}

	// A pays a month (the right amount); B pays three months short: recorded, flagged.
	pays := paymentsCSV(
		payment{a.id, "2021-02-25", 1, contribution.Due(a.income, a.class, 1), "R-1", a.agent},
		payment{b.id, "2021-03-01", 3, contribution.Due(b.income, b.class, 3) - 1000, "R-2", b.agent},
	)
	res = d.mergeWithPolicy(d.stage(imports.Payments, "", "payments.csv", pays))
	if res.New != 2 || res.Flagged != 1 || res.Renewed != 2 || res.Returned != 0 || res.FollowUpsClosed != 1 {
		t.Fatalf("payments: %+v, want 2 new, 1 flagged, 2 renewed, A's renewal closed", res)
	}
	// Months count from the first day covered: 31 January + 2 months is 31 March.
	if until, _ := d.participant(a.id); until != "2021-03-31" {
		t.Errorf("A paid until %s, want 2021-03-31", until)
	}
	if until, _ := d.participant(b.id); until != "2021-08-10" {
		t.Errorf("B paid until %s, want 2021-08-10", until)
	}
	if n := d.count(`select count(*) from follow_ups where kind = 'renewal' and status = 'renewed' and citizen_id = $1`, a.id); n != 1 {
		t.Errorf("A's renewal not closed as renewed")
	}
	// The same receipts again: counted once.
	res = d.mergeWithPolicy(d.stage(imports.Payments, "", "payments-again.csv", pays))
	if res.New != 0 || res.Duplicates != 2 || res.Renewed != 0 {
		t.Errorf("payments again: %+v, want 0 new, 2 duplicates", res)
	}
	if until, _ := d.participant(a.id); until != "2021-03-31" {
		t.Errorf("A paid until %s after the same receipts again, want 2021-03-31", until)
	}

	// 1 June: A's renewal (due 31 March) went unanswered; 60 days later, on 30 May, A lapsed.
	sw = d.sweepAt("2021-06-01")
	if sw.Lapsed != 1 {
		t.Fatalf("sweep of 1 June: %+v, want 1 lapsed", sw)
	}
	if _, status := d.participant(a.id); status != "lapsed" {
		t.Errorf("A is %s, want lapsed", status)
	}
	if n := d.count(`select count(*) from participant_changes where kind = 'lapsed' and citizen_id = $1 and on_date = '2021-05-30'`, a.id); n != 1 {
		t.Errorf("A's lapse not dated 30 May")
	}
	if n := d.count(`select count(*) from follow_ups where kind = 'renewal' and citizen_id = $1 and renewal_due = '2021-03-31' and status = 'lapsed'`, a.id); n != 1 {
		t.Errorf("A's renewal of 31 March not closed as lapsed")
	}

	// A pays again on 1 July: back, with a new cover from that day.
	res = d.mergeWithPolicy(d.stage(imports.Payments, "", "payments-july.csv",
		paymentsCSV(payment{a.id, "2021-07-01", 3, contribution.Due(a.income, a.class, 3), "R-3", a.agent})))
	if res.Returned != 1 || res.Renewed != 0 {
		t.Fatalf("A's return: %+v", res)
	}
	if until, status := d.participant(a.id); until != "2021-10-01" || status != "active" {
		t.Errorf("A after return: paid until %s (%s), want 2021-10-01 (active)", until, status)
	}

	// B's cover ends 10 August; unpaid, B lapses on 9 October. A payment made on 1 October but
	// recorded after the sweep undoes the lapse: it was a renewal.
	if sw := d.sweepAt("2021-10-15"); sw.Lapsed != 1 {
		t.Fatalf("sweep of 15 October: %+v, want B lapsed", sw)
	}
	res = d.mergeWithPolicy(d.stage(imports.Payments, "", "payments-late.csv",
		paymentsCSV(payment{b.id, "2021-10-01", 6, contribution.Due(b.income, b.class, 6), "R-4", b.agent})))
	if res.Renewed != 1 || res.Returned != 0 {
		t.Fatalf("B's late-recorded payment: %+v, want a renewal", res)
	}
	if until, status := d.participant(b.id); until != "2022-02-10" || status != "active" {
		t.Errorf("B: paid until %s (%s), want 2022-02-10 (active)", until, status)
	}
	if n := d.count(`select count(*) from participant_changes where kind = 'lapsed' and citizen_id = $1`, b.id); n != 0 {
		t.Errorf("B's undone lapse still counted")
	}

	// The year's figures: nobody before; 3 joined, A lapsed and came back, A and B renewed.
	figs, err := store.RegisterFiguresOf(d.ctx, d.pool, campaignID, local(t, "2022-01-01"), true)
	if err != nil {
		t.Fatal(err)
	}
	want := store.RegisterFigures{Start: 0, Joined: 3, Renewed: 2, Returned: 1, Lapsed: 1, End: 3}
	if figs.All != want {
		t.Errorf("figures %+v, want %+v", figs.All, want)
	}
	// By agent: each change where it was made. A's agent enrolled A, who lapsed and came back.
	byAgent := map[string]store.RegisterFigures{}
	for _, f := range figs.ByAgent {
		byAgent[f.Key] = f
	}
	if f := byAgent[a.agent]; f.Joined != 1 || f.Lapsed != 1 || f.Returned != 1 || f.End != 1 {
		t.Errorf("agent %s: %+v, want 1 joined, 1 lapsed, 1 returned, 1 at the end", a.agent, f)
	}
	if len(figs.ByDistrict) != 2 || len(figs.ByGroup) != 2 {
		t.Errorf("by district %+v, by group %+v: want 2 lines each", figs.ByDistrict, figs.ByGroup)
	}
}

// Shown failing: a return keeping the old cover (cover_anchor not reset) and a renewal given
// up as unreachable instead of lapsed each fail TestRegisterFollowsPaymentsRenewalsAndLapses.

// A payment extends its person's cover however it is written (the payments' trigger): a
// receipt copied straight into the table, as a load of old collection records would write it,
// renews its person, logs the renewal and closes their renewal follow-up, as the import does;
// the same receipt again changes nothing.
func TestPaymentsWrittenAnyWayApplyToTheRegister(t *testing.T) {
	d := newDrive(t)
	a := enrolment{person: lead(1, "00001", "", "trader"), agent: "DL-00001-1", income: 1_500_000, class: "other", mode: "monthly", on: "2021-01-31"}
	d.mergeWithPolicy(d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(a)))
	if sw := d.sweepAt("2021-02-14"); sw.RenewalsOpened != 1 {
		t.Fatalf("sweep of 14 February: %+v, want A's renewal opened", sw)
	}
	var register string
	if err := d.pool.QueryRow(d.ctx, `select register_id from campaigns where id = $1`, campaignID).Scan(&register); err != nil {
		t.Fatal(err)
	}
	const batch = "6f1c2a3e-0000-4000-8000-000000000001"
	due := contribution.Due(a.income, a.class, 2)
	row := []any{register, "R-OLD-1", a.id, local(t, "2021-02-25"), int32(2), due, due, a.agent, campaignID, batch}
	cols := []string{"register_id", "receipt_no", "citizen_id", "paid_on", "months", "amount", "expected", "agent_code", "campaign_id", "batch_id"}
	tx, err := d.pool.Begin(d.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(d.ctx)
	if _, err := tx.CopyFrom(d.ctx, pgx.Identifier{"payments"}, cols, pgx.CopyFromRows([][]any{row})); err != nil {
		t.Fatal(err)
	}
	var applied string
	if err := tx.QueryRow(d.ctx, `select current_setting('drives.payments_applied')`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != "1 0 1" {
		t.Errorf("applied %q, want 1 renewed, 0 returned, 1 follow-up closed", applied)
	}
	if err := tx.Commit(d.ctx); err != nil {
		t.Fatal(err)
	}
	// 31 January + 1 month (the enrolment) + 2 months is 30 April.
	if until, status := d.participant(a.id); until != "2021-04-30" || status != "active" {
		t.Errorf("A paid until %s (%s), want 2021-04-30 (active)", until, status)
	}
	if n := d.count(`select count(*) from participant_changes where kind = 'renewed' and citizen_id = $1 and on_date = '2021-02-25'`, a.id); n != 1 {
		t.Errorf("%d renewals of A logged on 25 February, want 1", n)
	}
	if n := d.count(`select count(*) from follow_ups where kind = 'renewal' and citizen_id = $1 and status = 'renewed' and closed_by_batch = $2`, a.id, batch); n != 1 {
		t.Errorf("A's renewal not closed as renewed by the copied receipt's batch")
	}

	// The same receipt again, as a load run twice writes it: skipped, nothing applied.
	if _, err := d.pool.Exec(d.ctx, `insert into payments (`+strings.Join(cols, ", ")+`)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) on conflict do nothing`, row...); err != nil {
		t.Fatal(err)
	}
	if until, _ := d.participant(a.id); until != "2021-04-30" {
		t.Errorf("A paid until %s after the same receipt again, want 2021-04-30", until)
	}
	if n := d.count(`select count(*) from participant_changes where kind = 'renewed' and citizen_id = $1`, a.id); n != 1 {
		t.Errorf("%d renewals of A logged after the same receipt again, want 1", n)
	}
}

// Every payment mode of every subsidy class is due 22% of the declared income less the
// state's support, times the months: the amounts the rules give are not flagged, and what
// the database expects is what contribution.Due says.
func TestPaymentAmountsFollowTheRules(t *testing.T) {
	d := newDrive(t)
	var es []enrolment
	for i, class := range []string{"poor", "near_poor", "other"} {
		es = append(es, enrolment{person: lead(10+i, "00001", "", "trader"), agent: "DL-00001-1", income: 3_100_000, class: class, mode: "monthly", on: "2021-01-05"})
	}
	d.mergeWithPolicy(d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(es...)))
	var ps []payment
	for _, e := range es {
		for _, months := range []int{1, 3, 6, 12, 24, 36, 48, 60} {
			ps = append(ps, payment{e.id, "2021-01-20", months, contribution.Due(e.income, e.class, months),
				fmt.Sprintf("%s-%s-%d", "R", e.class, months), e.agent})
		}
	}
	res := d.mergeWithPolicy(d.stage(imports.Payments, "", "payments.csv", paymentsCSV(ps...)))
	if res.New != len(ps) || res.Flagged != 0 {
		t.Fatalf("payments: %+v, want %d new, none flagged", res, len(ps))
	}
	// 22% of 3,100,000 is 682,000 a month; the state pays 30%, 25% or 10% of 154,000.
	for class, monthly := range map[string]int64{"poor": 682_000 - 46_200, "near_poor": 682_000 - 38_500, "other": 682_000 - 15_400} {
		if got := contribution.Due(3_100_000, class, 12); got != 12*monthly {
			t.Errorf("Due(%s, 12 months) = %d, want %d", class, got, 12*monthly)
		}
		if n := d.count(`select count(*) from payments y join participants p using (register_id, citizen_id)
			where p.subsidy_class = $1 and y.expected = $2 * y.months`, class, monthly); n != 8 {
			t.Errorf("%s: %d payments expected %d a month, want 8", class, n, monthly)
		}
	}
	// Months paid add up: 1 (enrolment) + 1+3+6+12+24+36+48+60 = 191 months from 5 January 2021.
	if until, _ := d.participant(es[0].id); until != "2036-12-05" {
		t.Errorf("paid until %s, want 2036-12-05", until)
	}
}

// Paid-until counts whole months from the first day covered, so month ends and leap days
// never drift.
func TestPaidUntilAcrossMonthEndsAndLeapYears(t *testing.T) {
	d := newDrive(t)
	for i, c := range []struct {
		anchor string
		months int
		want   string
	}{
		{"2021-01-31", 1, "2021-02-28"},
		{"2021-01-31", 2, "2021-03-31"},
		{"2024-01-31", 1, "2024-02-29"},
		{"2024-02-29", 12, "2025-02-28"},
		{"2024-02-29", 48, "2028-02-29"},
		{"2021-12-15", 3, "2022-03-15"},
	} {
		id := citizen(900 + i)
		d.exec(`insert into participants (register_id, citizen_id, full_name, phone, district_code, commune_code, target_group,
			agent_code, monthly_income, subsidy_class, joined_on, cover_anchor, months_paid, campaign_id)
			values ($1, $2, 'x', '0900000000', '001', '00001', 'trader', 'DL-00001-1', 1000000, 'other', $3, $3, $4, $1)`,
			campaignID, id, c.anchor, c.months)
		if until, _ := d.participant(id); until != c.want {
			t.Errorf("%s + %d months: paid until %s, want %s", c.anchor, c.months, until, c.want)
		}
	}
}

// A starting register joins the people already participating; figures start from it; a bad
// file, or payments of people not in the register, are refused whole and write nothing.
func TestStartingRegisterAndRefusedFiles(t *testing.T) {
	d := newDrive(t)
	head := strings.Join(imports.Headers[imports.Participants], ",") + "\n"
	good := head +
		citizen(20) + ",Người Cũ Một,0911111111,00001,,DL-00001-1,trader,1500000,other,2019-05-01,2021-03-01\n" +
		citizen(21) + ",Người Cũ Hai,0911111112,00010,,DL-00010-2,student,1500000,poor,2020-01-10,2020-12-01\n"
	res := d.mergeWithPolicy(d.stage(imports.Participants, "", "register.csv", []byte(good)))
	if res.New != 2 {
		t.Fatalf("register: %+v, want 2 joined", res)
	}
	if res = d.mergeWithPolicy(d.stage(imports.Participants, "", "register-again.csv", []byte(good))); res.New != 0 || res.Duplicates != 2 {
		t.Errorf("register again: %+v, want 0 new", res)
	}
	// The second was paid until 1 December 2020: at the start of 2021 still in grace, current.
	stock, err := store.RegisterStock(d.ctx, d.pool, campaignID, local(t, "2021-01-01"))
	if err != nil || stock != 2 {
		t.Errorf("stock on 1 January: %d (%v), want 2", stock, err)
	}
	// Its grace ends 30 January: the first sweep after it records the lapse on that day.
	if sw := d.sweepAt("2021-02-01"); sw.Lapsed != 1 {
		t.Errorf("sweep of 1 February: %+v, want 1 lapsed", sw)
	}

	ref, err := imports.LoadReference(d.ctx, d.pool, campaignID, "")
	if err != nil {
		t.Fatal(err)
	}
	bad := head +
		citizen(22) + ",Người Ba,0911111113,00001,,DL-00010-1,trader,1500000,other,2019-05-01,2019-04-01\n" +
		citizen(23) + ",Người Bốn,0911111114,00001,,DL-00001-1,trader,1500000,rich,2019-05-01,2021-06-01\n"
	_, err = imports.Parse(imports.Participants, "bad.csv", []byte(bad), ref)
	var rej *imports.Rejected
	if !errors.As(err, &rej) {
		t.Fatalf("bad register: %v, want refused", err)
	}
	got := fmt.Sprint(rej.Errors)
	for _, w := range []string{`line 2: agent_code: agent "DL-00010-1" works in commune 00010, not 00001`, "line 2: paid_until: must be after joined_on",
		"line 3: subsidy_class: must be poor, near_poor or other"} {
		if !strings.Contains(got, w) {
			t.Errorf("refusal %s does not say %s", got, w)
		}
	}
	badPays := paymentsCSV(payment{citizen(20), "2021-02-20", 5, 100, "R 1", "DL-00001-1"},
		payment{citizen(20), "2021-02-21", 1, 100, "R-9", "DL-00001-1"}, payment{citizen(20), "2021-02-21", 1, 100, "R-9", "nobody"})
	_, err = imports.Parse(imports.Payments, "pays.csv", badPays, ref)
	if !errors.As(err, &rej) {
		t.Fatalf("bad payments: %v, want refused", err)
	}
	got = fmt.Sprint(rej.Errors)
	for _, w := range []string{"line 2: months: must be", "line 2: receipt_no: must be", "line 4: receipt_no: same receipt as line 3",
		`line 4: agent_code: unknown or inactive agent "nobody"`} {
		if !strings.Contains(got, w) {
			t.Errorf("refusal %s does not say %s", got, w)
		}
	}
	// A payment of someone not in the register: the file is refused at staging, nothing kept.
	unknown := paymentsCSV(payment{citizen(20), "2021-02-20", 1, 100, "R-10", "DL-00001-1"},
		payment{citizen(99), "2021-02-20", 1, 100, "R-11", "DL-00001-1"})
	rows, err := imports.Parse(imports.Payments, "unknown.csv", unknown, ref)
	if err != nil {
		t.Fatal(err)
	}
	before := d.count(`select count(*) from import_batches`)
	_, err = imports.Stage(d.ctx, d.pool, campaignID, imports.Payments, "", "unknown.csv", unknown, rows, "tester")
	if !errors.As(err, &rej) || len(rej.Errors) != 1 || rej.Errors[0].Line != 3 || rej.Errors[0].Field != "citizen_id" {
		t.Fatalf("payment of someone not in the register: %v, want line 3 refused", err)
	}
	if strings.Contains(err.Error(), citizen(99)) {
		t.Errorf("refusal quotes the citizen ID: %v", err)
	}
	if n := d.count(`select count(*) from import_batches`); n != before {
		t.Errorf("a refused file left a batch")
	}
	if n := d.count(`select count(*) from payments`); n != 0 {
		t.Errorf("%d payments written", n)
	}
}

// A review that weighs renewals: DL-00001-1 enrolled four monthly payers on 2 January; three
// paid on 1 February (renewed) and none again, so their March renewals lapsed on 1 May with
// the fourth's February one on 3 April. Over the half year: 3 renewed, 4 lapsed. The score
// gives the renewal rate its weight, and the rationale says so in English and Vietnamese.
// Shown failing with renewals counted as leads (the agent's leads were 7, not 0).
func TestReviewWeighsRenewals(t *testing.T) {
	d := newDrive(t)
	var es []enrolment
	for i := range 4 {
		es = append(es, enrolment{person: lead(40+i, "00001", "", "trader"), agent: "DL-00001-1", income: 2_000_000, class: "other", mode: "monthly", on: "2021-01-02"})
	}
	d.mergeWithPolicy(d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(es...)))
	d.sweepAt("2021-01-20")
	var ps []payment
	for i, e := range es[:3] {
		ps = append(ps, payment{e.id, "2021-02-01", 1, contribution.Due(e.income, e.class, 1), fmt.Sprintf("H-%d", i), e.agent})
	}
	if res := d.mergeWithPolicy(d.stage(imports.Payments, "", "payments.csv", paymentsCSV(ps...))); res.Renewed != 3 {
		t.Fatalf("payments: %+v", res)
	}
	for _, day := range []string{"2021-02-20", "2021-04-10", "2021-05-05"} {
		d.sweepAt(day)
	}
	policy := d.spec.Review.Policy
	policy.RenewalWeight = 0.5
	half := plan.ReviewPeriod{Label: "2021-H1", Start: local(t, "2021-01-01"), End: local(t, "2021-07-01")}
	d.evaluate(half, policy)

	var renewed, lapsed, leads int
	var rate, score, attainment, onTime float64
	var en, vi string
	if err := d.pool.QueryRow(d.ctx, `select renewals_renewed, renewals_lapsed, leads, renewal_rate, score, attainment, on_time_rate,
			review_rationale(r), review_rationale_vi(r)
		from review_decisions r where campaign_id = $1 and period = '2021-H1' and agent_code = 'DL-00001-1'`, campaignID).
		Scan(&renewed, &lapsed, &leads, &rate, &score, &attainment, &onTime, &en, &vi); err != nil {
		t.Fatal(err)
	}
	if renewed != 3 || lapsed != 4 || leads != 0 {
		t.Errorf("renewals %d renewed, %d lapsed, %d leads; want 3, 4 and no leads", renewed, lapsed, leads)
	}
	if want := 0.5*(0.8*attainment+0.2*onTime) + 0.5*3.0/7; math.Abs(score-want) > 1e-9 || math.Abs(rate-3.0/7) > 1e-9 {
		t.Errorf("score %v (renewal rate %v), want %v", score, rate, want)
	}
	if !strings.Contains(en, "+ 0.5 × renewal rate 0.43 (3 renewed, 4 lapsed)") || !strings.HasPrefix(en, "score ") || !strings.Contains(en, "= 0.4 × attainment") {
		t.Errorf("rationale: %s", en)
	}
	if !strings.Contains(vi, "+ 0,5 × tỷ lệ tái tục 0,43 (3 đóng tiếp, 4 ngừng đóng)") || !strings.HasPrefix(vi, "điểm ") {
		t.Errorf("Vietnamese rationale: %s", vi)
	}
	t.Logf("rationale: %s", en)
	t.Logf("lý do: %s", vi)
}

// A sweep does not wait long for a campaign's merge lock: while another transaction holds it,
// the try gives up after its wait and the sweep's transaction goes on; once it is free, it is
// taken. Shown failing with the try waiting without a lock_timeout (the test hung on it).
func TestTryLockEnrolmentMerges(t *testing.T) {
	d := newDrive(t)
	holder, err := d.pool.Begin(d.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(d.ctx) //nolint:errcheck
	if err := store.LockEnrolmentMerges(d.ctx, holder, campaignID); err != nil {
		t.Fatal(err)
	}
	tx, err := d.pool.Begin(d.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(d.ctx) //nolint:errcheck
	if ok, err := store.TryLockEnrolmentMerges(d.ctx, tx, campaignID, 100*time.Millisecond); ok || err != nil {
		t.Fatalf("while another holds it: took %v (%v), want not taken", ok, err)
	}
	var one int
	if err := tx.QueryRow(d.ctx, `select 1`).Scan(&one); err != nil {
		t.Fatalf("the sweep's transaction after the try: %v", err)
	}
	if err := holder.Rollback(d.ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := store.TryLockEnrolmentMerges(d.ctx, tx, campaignID, 100*time.Millisecond); !ok || err != nil {
		t.Fatalf("once free: took %v (%v), want taken", ok, err)
	}
}
