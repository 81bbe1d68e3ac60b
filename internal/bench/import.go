package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/campaign"
	"drives/contribution"
	"drives/coordinator"
	"drives/imports"
	"drives/plan"
	"drives/store"
	"drives/units"
)

// ImportRows is how many enrolments (d) imports in `make bench` (cmd/bench's -import-rows).
const ImportRows = 1_000_000

// importSeed draws the enrolments' agents and villages.
const importSeed = 2021

// importPlan is the plan (d) launches: the Hà Nội plan with its clock at twice real time, so
// that the campaign runs, on its first days, for the whole benchmark.
const importPlan = "plans/hanoi-2021/plan.yaml"

// Import is (d): importing a file of n enrolments (ImportRows in `make bench`) into a running
// campaign through the product's own path (imports.Importer: read and check the whole file,
// stage it with COPY, merge it by the campaign's record-import Update), end to end; the same
// rows COPYed raw into the same indexed enrolments table under other campaigns, before and
// after, for comparison; and the same file imported again, which must add nothing. Its checks:
// the campaign's enrolments are exactly the file's people (fileCitizens), the raw copy holds
// the same rows with the same figures (sameEnrolments), and the second import stored none
// (addedNone), besides the counts each import reports.
func Import(ctx context.Context, e *Env, n int) ([]Figure, error) {
	if n < 1 {
		return nil, fmt.Errorf("import: %d rows: at least 1", n)
	}
	src, err := findRepoFile(importPlan)
	if err != nil {
		return nil, err
	}
	lp, err := PlanVariant(src, e.ID("import"), 2)
	if err != nil {
		return nil, err
	}
	var rawPlans []*plan.Loaded
	for _, id := range []string{e.ID("import-raw"), e.ID("import-raw-2")} {
		rp, err := PlanVariant(src, id, 2)
		if err != nil {
			return nil, err
		}
		rawPlans = append(rawPlans, rp)
	}
	co := &coordinator.Coordinator{DB: e.DB, Temporal: e.Temporal}
	run, err := co.Launch(ctx, lp)
	if err != nil {
		return nil, err
	}
	// At the end the campaign is cancelled as a coordinator cancels it, and closes (its report
	// built) before the next benchmark starts.
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		defer cancel()
		if _, err := coordinator.Update[string](cctx, co, e.ID("import"), campaign.UpdateCancel,
			campaign.SteerRequest{Reason: "benchmark done", By: "bench"}); err != nil {
			e.Log.Warn("import: cancel the campaign", "err", err)
			return
		}
		if err := run.Get(cctx, nil); err != nil {
			e.Log.Warn("import: the cancelled campaign did not close", "err", err)
		}
	}()
	if err := waitRunning(ctx, co, e.ID("import")); err != nil {
		return nil, err
	}
	for _, rp := range rawPlans {
		if err := coordinator.StorePlan(ctx, e.DB, rp); err != nil {
			return nil, err
		}
	}

	gen := newEnrolmentGen(lp)
	data, err := gen.csv(n)
	if err != nil {
		return nil, err
	}
	e.Log.Info("import: file written", "rows", n, "MiB", len(data)>>20)
	if err := os.WriteFile(filepath.Join(e.Dir, e.ID("import")+".csv"), data, 0o644); err != nil {
		return nil, err
	}

	rows, err := gen.rows(n)
	if err != nil {
		return nil, err
	}
	rawBefore, err := rawCopy(ctx, e, rows, e.ID("import-raw"))
	if err != nil {
		return nil, err
	}

	// Through the product's path, end to end.
	// A year of enrolments (and their payments) goes into a campaign at its first days.
	im := &imports.Importer{DB: e.DB, Temporal: e.Temporal, DatesAhead: true}
	start := time.Now()
	res, err := im.Enrolments(ctx, e.ID("import"), imports.Enrolments, "enrolments.csv", data, "bench")
	took := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if res.New != n || res.Duplicates != 0 || res.Rows != n {
		return nil, fmt.Errorf("import: %d rows, %d new, %d duplicates; want %d new", res.Rows, res.New, res.Duplicates, n)
	}
	if err := fileCitizens(ctx, e.DB, e.ID("import"), data); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	phases, err := importPhases(ctx, e, res.BatchID, start, start.Add(took))
	if err != nil {
		return nil, err
	}
	e.Log.Info("import: product path", "took", took.Round(time.Millisecond), "phases", phases)

	// The same rows by a raw COPY into the same table, after the import as before it: the
	// mean of the two is the figure, the table having grown by the import's rows between them.
	rawAfter, err := rawCopy(ctx, e, rows, e.ID("import-raw-2"))
	if err != nil {
		return nil, err
	}
	rows = nil
	rawTook := (rawBefore + rawAfter) / 2
	if err := sameEnrolments(ctx, e.DB, e.ID("import"), e.ID("import-raw")); err != nil {
		return nil, err
	}
	e.Log.Info("import: raw copy", "before", rawBefore.Round(time.Millisecond), "after", rawAfter.Round(time.Millisecond))

	// The same file again: nothing new.
	start = time.Now()
	again, err := im.Enrolments(ctx, e.ID("import"), imports.Enrolments, "enrolments-again.csv", data, "bench")
	againTook := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("import again: %w", err)
	}
	if again.New != 0 || again.Duplicates != n {
		return nil, fmt.Errorf("import again: %d new, %d duplicates; want 0 new", again.New, again.Duplicates)
	}
	if err := addedNone(ctx, e.DB, again.BatchID); err != nil {
		return nil, fmt.Errorf("import again: %w", err)
	}
	if err := fileCitizens(ctx, e.DB, e.ID("import"), data); err != nil {
		return nil, fmt.Errorf("import again: %w", err)
	}
	againPhases, err := importPhases(ctx, e, again.BatchID, start, start.Add(againTook))
	if err != nil {
		return nil, err
	}
	e.Log.Info("import: again", "took", againTook.Round(time.Millisecond), "phases", againPhases)

	ratio := rawTook.Seconds() / took.Seconds()
	reg, err := Register(ctx, e, lp, gen, n)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	return append([]Figure{
		{ID: "d", Name: "import " + thousands(n) + " enrolments, end to end", Value: rate(n, took), Unit: "rows/s",
			Note: fmt.Sprintf("file → merged rows in %.1f s: %s", took.Seconds(), phases)},
		{ID: "d.ratio", Name: "import vs raw COPY of the same rows", Value: ratio, Unit: "ratio", Target: "≥ 0.7", Met: Check(ratio >= 0.7),
			Note: fmt.Sprintf("raw pgx CopyFrom into the same indexed enrolments table: %.1f s (%.0f rows/s), mean of %.1f s before the import and %.1f s after",
				rawTook.Seconds(), rate(n, rawTook), rawBefore.Seconds(), rawAfter.Seconds())},
		{ID: "d.again", Name: "import the same file again (0 new)", Value: rate(n, againTook), Unit: "rows/s",
			Target: "≥ 100000 rows/s", Met: Check(rate(n, againTook) >= 100_000),
			Note: fmt.Sprintf("0 new of %d in %.1f s: %s", n, againTook.Seconds(), againPhases)},
	}, reg...), nil
}

// rawCopy COPYs rows into the enrolments table under campaign id, as raw as pgx does it.
func rawCopy(ctx context.Context, e *Env, rows []enrolmentRow, id string) (time.Duration, error) {
	start := time.Now()
	n, err := e.DB.CopyFrom(ctx, pgx.Identifier{"enrolments"}, []string{"campaign_id", "citizen_id", "full_name", "phone",
		"district_code", "commune_code", "village_code", "agent_code", "target_group", "monthly_income", "monthly_contribution",
		"subsidy_class", "monthly_subsidy", "payment_months", "enrolled_on", "batch_id", "prospect_id"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := &rows[i]
			return []any{id, r.citizen, r.name, r.phone, r.district, r.commune, r.village, r.agent, r.group,
				r.income, contribution.Monthly(r.income), r.class, contribution.MonthlySubsidy(r.class), int32(r.months),
				r.on, rawBatch, nil}, nil
		}))
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("raw copy: %w", err)
	}
	if n != int64(len(rows)) {
		return took, fmt.Errorf("raw copy: %d rows, want %d", n, len(rows))
	}
	return took, nil
}

// rawBatch is the batch ID of the raw COPY's rows.
const rawBatch = "00000000-0000-4000-8000-000000000000"

// waitRunning waits until a launched campaign is prepared and running.
func waitRunning(ctx context.Context, co *coordinator.Coordinator, id string) error {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		p, err := co.Progress(ctx, id)
		if err == nil && p.Status == campaign.StatusRunning {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("campaign %s is not running after 5 minutes (status %q, %v)", id, p.Status, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// importPhases splits an import's time by when its stage and merge transactions began:
// read and check (file → stage), stage (COPY, and the Update reaching the merge), merge
// (and its result coming back).
func importPhases(ctx context.Context, e *Env, batch string, start, end time.Time) (string, error) {
	var staged, merged time.Time
	if err := e.DB.QueryRow(ctx, `select b.recorded_at, a.recorded_at from import_batches b
		join audit_log a on a.campaign_id = b.campaign_id and a.action = 'import.merge' and a.entity_key = b.id::text
		where b.id = $1`, batch).Scan(&staged, &merged); err != nil {
		return "", fmt.Errorf("import phases: %w", err)
	}
	return fmt.Sprintf("read and check %.1f s, stage %.1f s, merge %.1f s",
		staged.Sub(start).Seconds(), merged.Sub(staged).Seconds(), end.Sub(merged).Seconds()), nil
}

// fileCitizens checks that the campaign's enrolments are exactly the people of the file: the
// same set of citizen IDs, each once, compared ID by ID (not by counts).
func fileCitizens(ctx context.Context, db store.DB, campaignID string, file []byte) error {
	want, err := citizensOf(file)
	if err != nil {
		return err
	}
	rows, err := db.Query(ctx, `select citizen_id from enrolments where campaign_id = $1 order by citizen_id collate "C"`, campaignID)
	if err != nil {
		return fmt.Errorf("citizens enrolled: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("citizens enrolled: %w", err)
	}
	var missing, extra []string
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || i < len(want) && want[i] < got[j]:
			missing = append(missing, want[i])
			i++
		case i == len(want) || got[j] < want[i]:
			extra = append(extra, got[j])
			j++
		default:
			i++
			j++
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		return fmt.Errorf("enrolments of %s are not the file's: %d of the file's %d people not enrolled %s, %d enrolled not in it %s",
			campaignID, len(missing), len(want), firstFew(missing), len(extra), firstFew(extra))
	}
	return nil
}

// citizensOf is the citizen IDs of an enrolment file, sorted bytewise (duplicates kept).
func citizensOf(file []byte) ([]string, error) {
	r := csv.NewReader(bytes.NewReader(file))
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("the file's header: %w", err)
	}
	col := slices.Index(head, "citizen_id")
	if col < 0 {
		return nil, fmt.Errorf("the file has no citizen_id column: %v", head)
	}
	var ids []string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the file: %w", err)
		}
		ids = append(ids, strings.Clone(rec[col]))
	}
	slices.Sort(ids)
	return ids, nil
}

func firstFew(ids []string) string {
	if len(ids) > 3 {
		return fmt.Sprint(ids[:3], "…")
	}
	return fmt.Sprint(ids)
}

// sameEnrolments checks that campaigns a and b (the product's import and the raw COPY) stored
// the same people with the same figures: no row of either is missing from the other.
func sameEnrolments(ctx context.Context, db store.DB, a, b string) error {
	const cols = `citizen_id, full_name, phone, district_code, commune_code, village_code, agent_code, target_group,
		monthly_income, monthly_contribution, subsidy_class, monthly_subsidy, payment_months, enrolled_on`
	var onlyA, onlyB int
	err := db.QueryRow(ctx, `
		select (select count(*) from (select `+cols+` from enrolments where campaign_id = $1
				except all select `+cols+` from enrolments where campaign_id = $2) d),
			(select count(*) from (select `+cols+` from enrolments where campaign_id = $2
				except all select `+cols+` from enrolments where campaign_id = $1) d)`, a, b).Scan(&onlyA, &onlyB)
	if err != nil {
		return fmt.Errorf("compare imports: %w", err)
	}
	if onlyA != 0 || onlyB != 0 {
		return fmt.Errorf("import and raw copy differ: %d enrolments of %s not in %s, %d of %s not in %s", onlyA, a, b, onlyB, b, a)
	}
	return nil
}

// addedNone checks that an import batch stored no enrolment.
func addedNone(ctx context.Context, db store.DB, batch string) error {
	var n int
	if err := db.QueryRow(ctx, `select count(*) from enrolments where batch_id = $1`, batch).Scan(&n); err != nil {
		return fmt.Errorf("enrolments of batch %s: %w", batch, err)
	}
	if n != 0 {
		return fmt.Errorf("batch %s stored %d enrolments, want none", batch, n)
	}
	return nil
}

// thousands writes n with a comma between each three digits: 1,000,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// findRepoFile finds rel in the working directory or the nearest parent holding it.
func findRepoFile(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("%s not found here or in a parent directory: run from the project", rel)
		}
		dir = up
	}
}

// enrolmentGen makes synthetic enrolments in a plan's communes and villages, each by an agent or
// staff member of the commune, deterministically.
type enrolmentGen struct {
	agents   []units.Agent
	villages map[string][]string // commune → villages
	district map[string]string   // commune → district
	groups   []string
	start    time.Time
	days     int
}

type enrolmentRow struct {
	citizen, name, phone                     string
	district, commune, village, agent, group string
	income                                   int64
	class, mode                              string
	months                                   int
	on                                       time.Time
}

func newEnrolmentGen(lp *plan.Loaded) *enrolmentGen {
	g := &enrolmentGen{agents: lp.Roster, villages: map[string][]string{}, district: map[string]string{}}
	for _, d := range lp.Units.Districts {
		for _, c := range d.Communes {
			g.district[c.Code] = d.Code
			for _, v := range c.Villages {
				g.villages[c.Code] = append(g.villages[c.Code], v.Code)
			}
		}
	}
	for _, t := range lp.Plan.TargetGroups {
		g.groups = append(g.groups, t.Code)
	}
	g.start = lp.Plan.Period.Start.In(time.UTC)
	g.days = int(lp.Plan.Period.End.In(time.UTC).Sub(g.start).Hours()/24) + 1
	return g
}

var (
	genIncomes = []int64{1_500_000, 2_000_000, 2_000_000, 2_500_000, 3_000_000, 3_000_000, 4_000_000, 5_000_000, 7_000_000}
	genClasses = []string{"poor", "near_poor", "other", "other", "other", "other", "other", "other", "other", "other"}
	genModes   = []string{"monthly", "monthly", "monthly", "3m", "6m", "12m"}
)

// each calls fn with the n enrolments in order.
func (g *enrolmentGen) each(n int, fn func(r *enrolmentRow) error) error {
	rnd := rand.New(rand.NewPCG(importSeed, 4))
	var r enrolmentRow
	for i := range n {
		ag := &g.agents[rnd.IntN(len(g.agents))]
		vs := g.villages[ag.Commune]
		if len(vs) == 0 {
			return fmt.Errorf("agent %s: commune %s has no villages", ag.Code, ag.Commune)
		}
		r = enrolmentRow{
			citizen: fmt.Sprintf("%012d", 300_000_000_000+i), name: "Người Tham Gia " + strconv.Itoa(i),
			phone: fmt.Sprintf("09%08d", i), district: g.district[ag.Commune], commune: ag.Commune,
			village: vs[rnd.IntN(len(vs))], agent: ag.Code, group: g.groups[rnd.IntN(len(g.groups))],
			income: genIncomes[rnd.IntN(len(genIncomes))], class: genClasses[rnd.IntN(len(genClasses))],
			mode: genModes[rnd.IntN(len(genModes))], on: g.start.AddDate(0, 0, rnd.IntN(g.days)),
		}
		var err error
		if r.months, err = contribution.PaymentMonths(r.mode); err != nil {
			return err
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

// csv is the file of the n enrolments.
func (g *enrolmentGen) csv(n int) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(imports.Headers[imports.Enrolments]); err != nil {
		return nil, err
	}
	rec := make([]string, 11)
	err := g.each(n, func(r *enrolmentRow) error {
		rec[0], rec[1], rec[2], rec[3], rec[4], rec[5], rec[6] = r.citizen, r.name, r.phone, r.commune, r.village, r.agent, r.group
		rec[7], rec[8], rec[9], rec[10] = strconv.FormatInt(r.income, 10), r.class, r.mode, r.on.Format("2006-01-02")
		return w.Write(rec)
	})
	if err != nil {
		return nil, err
	}
	w.Flush()
	return b.Bytes(), errors.Join(w.Error())
}

// rows are the n enrolments in memory.
func (g *enrolmentGen) rows(n int) ([]enrolmentRow, error) {
	out := make([]enrolmentRow, 0, n)
	err := g.each(n, func(r *enrolmentRow) error { out = append(out, *r); return nil })
	return out, err
}
