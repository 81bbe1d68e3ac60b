package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/activities"
	"drives/campaign"
	"drives/contribution"
	"drives/imports"
	"drives/plan"
)

// payment is one collection record of (r): a month paid 20 days after the person enrolled, or
// on the period's last day.
func (g *enrolmentGen) payment(r *enrolmentRow, i int) (paidOn time.Time, receipt string, amount int64) {
	on, last := r.on.AddDate(0, 0, 20), g.start.AddDate(0, 0, g.days-1)
	if on.After(last) {
		on = last
	}
	return on, "BENCH-" + strconv.Itoa(i), contribution.Due(r.income, r.class, 1)
}

// Register is (r), run on what (d) leaves: the campaign whose register (d)'s million
// enrolments joined, and the two raw copies' registers. Through the product's path
// (imports.Importer: check, stage, merge by the record-import Update), a payment for every
// participant, which extends each one's cover; as a ratio to a raw COPY of the same rows into
// the same indexed payments table, whose trigger applies them to the raw register's people.
// Then one renewal sweep of the million (the campaign's SweepFollowUps activity, as its
// workflow runs it on the sweep grid): renewals opened and lapses recorded, set-based, in one
// activity whatever the number of participants. Its checks:
// every payment recorded once and none flagged, each person's cover one month longer, the
// sweep's renewals and lapses equal to a count from the register's own dates.
func Register(ctx context.Context, e *Env, lp *plan.Loaded, gen *enrolmentGen, n int) ([]Figure, error) {
	id, rawID := lp.Plan.ID, e.ID("import-raw-2")
	data, err := gen.paymentsCSV(n)
	if err != nil {
		return nil, err
	}
	months := func(campaignID string) (int, error) {
		var m int
		err := e.DB.QueryRow(ctx, `select coalesce(sum(months_paid), 0)::int from participants p join campaigns c on c.register_id = p.register_id
			where c.id = $1`, campaignID).Scan(&m)
		return m, err
	}
	before, err := months(id)
	if err != nil {
		return nil, err
	}

	// A year of enrolments (and their payments) goes into a campaign at its first days.
	im := &imports.Importer{DB: e.DB, Temporal: e.Temporal, DatesAhead: true}
	start := time.Now()
	res, err := im.Enrolments(ctx, id, imports.Payments, "payments.csv", data, "bench")
	took := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("payments: %w", err)
	}
	if res.New != n || res.Flagged != 0 || res.Renewed != n {
		return nil, fmt.Errorf("payments: %d new, %d flagged, %d renewed; want %d new, none flagged, %d renewed", res.New, res.Flagged, res.Renewed, n, n)
	}
	after, err := months(id)
	if err != nil {
		return nil, err
	}
	if after != before+n {
		return nil, fmt.Errorf("payments: %d months paid in all after, %d before: want %d more", after, before, n)
	}
	phases, err := importPhases(ctx, e, res.BatchID, start, start.Add(took))
	if err != nil {
		return nil, err
	}
	e.Log.Info("register: payments", "took", took.Round(time.Millisecond), "phases", phases)

	// The raw copy's rows are payments too: the payments' trigger applies them to the raw
	// register's people as it applies the import's, so the ratio is of like to like.
	rawBefore, err := months(rawID)
	if err != nil {
		return nil, err
	}
	rawTook, err := rawPayments(ctx, e, gen, n, rawID)
	if err != nil {
		return nil, err
	}
	if rawAfter, err := months(rawID); err != nil {
		return nil, err
	} else if rawAfter != rawBefore+n {
		return nil, fmt.Errorf("raw payments: %d months paid in all after, %d before: want %d more", rawAfter, rawBefore, n)
	}
	e.Log.Info("register: raw copy of payments", "took", rawTook.Round(time.Millisecond))

	// Two sweeps, as the campaign's grid runs them: as of 1 July, the first of the year (it
	// catches up half a year of the register at once), then as of 8 July, a week's renewals and
	// lapses, the sweep's steady state, which the target is about (the tables as a week's
	// autovacuum leaves them).
	var spec plan.Spec
	if spec, err = lp.Spec(); err != nil {
		return nil, err
	}
	lead, grace, _ := spec.Policy.RenewalDays()
	type sweepRun struct {
		asOf time.Time
		res  campaign.SweepResult
		took time.Duration
	}
	var runs []sweepRun
	for i, asOf := range []time.Time{spec.PeriodStart.AddDate(0, 6, 0), spec.PeriodStart.AddDate(0, 6, 7)} {
		if i > 0 {
			// A week passes between the sweeps, and autovacuum with it: after the catch-up's
			// writes (hundreds of thousands of follow-ups opened and people lapsed) it vacuums
			// and analyses the register's tables, which it would otherwise be doing during the
			// measured sweep, on the same two cores.
			if _, err := e.DB.Exec(ctx, `vacuum (analyze) participants, participant_changes, follow_ups`); err != nil {
				return nil, fmt.Errorf("the week between the sweeps: %w", err)
			}
		}
		// What the register's own dates say the sweep must do.
		var wantOpen, wantLapse int
		if err := e.DB.QueryRow(ctx, `
			select count(*) filter (where paid_until <= $2::date + $3::int and renewal_opened_for is distinct from paid_until)::int,
				count(*) filter (where paid_until <= $2::date - $4::int)::int
			from participants p join campaigns c on c.register_id = p.register_id
			where c.id = $1 and p.status = 'active'`, id, asOf.Format("2006-01-02"), lead, grace).Scan(&wantOpen, &wantLapse); err != nil {
			return nil, err
		}
		sw, took, err := runActivity[campaign.SweepResult](ctx, e, e.ID("register"), "SweepFollowUps",
			activities.SweepInput{CampaignID: id, AsOf: asOf, Policy: spec.Policy}, 10*time.Minute)
		if err != nil {
			return nil, err
		}
		if sw.Lapsed != wantLapse || sw.RenewalsOpened != wantOpen {
			return nil, fmt.Errorf("sweep as of %s: %d lapsed, %d renewals opened; the register's dates say %d and %d",
				asOf.Format("2006-01-02"), sw.Lapsed, sw.RenewalsOpened, wantLapse, wantOpen)
		}
		e.Log.Info("register: sweep", "as_of", asOf.Format("2006-01-02"), "took", took.Round(time.Millisecond),
			"opened", sw.RenewalsOpened, "lapsed", sw.Lapsed)
		runs = append(runs, sweepRun{asOf, sw, took})
	}
	first, week := runs[0], runs[1]
	ratio := rawTook.Seconds() / took.Seconds()
	return []Figure{
		{ID: "r", Name: "import " + thousands(n) + " payments, end to end", Value: rate(n, took), Unit: "rows/s",
			Note: fmt.Sprintf("file → recorded and applied in %.1f s: %s; each person's cover extended, a renewal and a change row each", took.Seconds(), phases)},
		{ID: "r.ratio", Name: "payments import vs raw COPY of the same rows", Value: ratio, Unit: "ratio", Target: "≥ 0.7", Met: Check(ratio >= 0.7),
			Note: fmt.Sprintf("raw pgx CopyFrom into the same indexed payments table, its trigger applying them to the register: %.1f s (%.0f rows/s)", rawTook.Seconds(), rate(n, rawTook))},
		{ID: "r.sweep", Name: "renewal sweep, a week of " + thousands(n) + " participants", Value: week.took.Seconds(), Unit: "s",
			Target: "≤ 5 s", Met: Check(week.took <= 5*time.Second),
			Note: fmt.Sprintf("SweepFollowUps as of %s on the worker (one activity, round trip included): %d renewals opened, %d lapsed; "+
				"one activity per sweep whatever the number of participants", week.asOf.Format("2006-01-02"), week.res.RenewalsOpened, week.res.Lapsed)},
		{ID: "r.catchup", Name: "the year's first renewal sweep (half a year at once)", Value: first.took.Seconds(), Unit: "s",
			Note: fmt.Sprintf("as of %s: %d renewals opened, %d lapsed", first.asOf.Format("2006-01-02"), first.res.RenewalsOpened, first.res.Lapsed)},
	}, nil
}

// paymentsCSV is the file of a payment for each of the n enrolments.
func (g *enrolmentGen) paymentsCSV(n int) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(imports.Headers[imports.Payments]); err != nil {
		return nil, err
	}
	rec := make([]string, 6)
	i := 0
	err := g.each(n, func(r *enrolmentRow) error {
		on, receipt, amount := g.payment(r, i)
		i++
		rec[0], rec[1], rec[2], rec[3], rec[4], rec[5] = r.citizen, on.Format("2006-01-02"), "1", strconv.FormatInt(amount, 10), receipt, r.agent
		return w.Write(rec)
	})
	if err != nil {
		return nil, err
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// rawPayments COPYs the same payments into the payments table under the register of campaign
// id (whose raw copy of the enrolments put the same people in it), as raw as pgx does it.
func rawPayments(ctx context.Context, e *Env, g *enrolmentGen, n int, id string) (time.Duration, error) {
	var register string
	if err := e.DB.QueryRow(ctx, `select register_id from campaigns where id = $1`, id).Scan(&register); err != nil {
		return 0, fmt.Errorf("raw payments: %w", err)
	}
	type row struct {
		citizen, receipt, agent string
		on                      time.Time
		amount                  int64
	}
	rows := make([]row, 0, n)
	i := 0
	if err := g.each(n, func(r *enrolmentRow) error {
		on, receipt, amount := g.payment(r, i)
		i++
		rows = append(rows, row{r.citizen, receipt, r.agent, on, amount})
		return nil
	}); err != nil {
		return 0, err
	}
	start := time.Now()
	got, err := e.DB.CopyFrom(ctx, pgx.Identifier{"payments"}, []string{"register_id", "receipt_no", "citizen_id", "paid_on", "months",
		"amount", "expected", "agent_code", "campaign_id", "batch_id"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := &rows[i]
			return []any{register, r.receipt, r.citizen, r.on, int32(1), r.amount, r.amount, r.agent, id, rawBatch}, nil
		}))
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("raw payments: %w", err)
	}
	if got != int64(n) {
		return took, fmt.Errorf("raw payments: %d rows, want %d", got, n)
	}
	return took, nil
}
