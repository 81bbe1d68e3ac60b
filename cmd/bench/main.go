// Command bench measures the drives on real services in one run and prints one table: the
// engine's ceiling on this machine, campaign steps as a ratio to it, Temporal actions and the
// largest history per campaign (Hà Nội and a synthetic national plan), the bulk import, the
// national quota allocation, a national review, and progress Query latency. It starts its own
// private PostgreSQL and Temporal dev server, and stops them at the end.
//
//	make bench                         # everything: about 15 minutes on 2 cores
//	go run ./cmd/bench -only a,b,c     # some of it
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"drives/internal/bench"
	"drives/internal/synth"
	"drives/internal/testenv"
	"drives/simulator"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	only     map[string]bool
	noop     int
	hanoi    string
	field    string
	national time.Duration
	drives   int
	year     time.Duration
	rows     int
	phones   int
	entries  int
	out      string
}

func (o options) want(id string) bool { return len(o.only) == 0 || o.only[id] }

func run() error {
	var o options
	var only, dir string
	flag.StringVar(&only, "only", "", "comma-separated figures to measure (a,b,c,d,e,f,g,m,p,u; p needs f; u alone starts no server); all when empty")
	flag.IntVar(&o.noop, "noop", 400, "no-op workflows for the engine's ceiling (a)")
	flag.StringVar(&o.hanoi, "hanoi", "plans/hanoi-2021/plan.yaml", "the Hà Nội plan")
	flag.StringVar(&o.field, "field", "plans/hanoi-2021/field-sim.yaml", "the field simulator's config for the Hà Nội run")
	flag.DurationVar(&o.national, "national-year", 2*time.Minute, "real time a year of the national campaign takes (c)")
	flag.IntVar(&o.drives, "drives", 8, "Hà Nội campaigns run at once for the campaign steps (b)")
	flag.DurationVar(&o.year, "year", 10*time.Second, "real time a year of each of those campaigns takes (b)")
	flag.IntVar(&o.rows, "import-rows", bench.ImportRows, "enrolments the import imports (d)")
	flag.IntVar(&o.phones, "phones", 2000, "agents whose phones send at once (m)")
	flag.IntVar(&o.entries, "phone-entries", 10, "entries each phone sends (m)")
	flag.StringVar(&dir, "dir", "", "scratch directory (default: a new temporary one, removed at the end)")
	flag.StringVar(&o.out, "out", "", "also write the table as Markdown to this file")
	var so bench.Options
	flag.StringVar(&so.TemporalAddress, "temporal", "", "use this Temporal frontend (host:port) instead of a dev server of its own")
	flag.StringVar(&so.Namespace, "namespace", bench.Namespace, "the namespace on -temporal (with the drives' search attributes)")
	flag.IntVar(&so.Workers, "workers", 1, "workers polling each task queue")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; see -h)", flag.Arg(0))
	}
	if only != "" {
		o.only = map[string]bool{}
		for _, id := range strings.Split(only, ",") {
			id = strings.TrimSpace(id)
			if len(id) != 1 || (id < "a" || id > "g") && id != "m" && id != "p" && id != "u" {
				return fmt.Errorf("-only: %q is not one of a, b, c, d, e, f, g, m, p, u (p reads what f leaves)", id)
			}
			o.only[id] = true
		}
	}
	if so.Workers < 1 {
		return fmt.Errorf("-workers: %d must be at least 1", so.Workers)
	}
	if o.noop < 1 {
		return fmt.Errorf("-noop: %d must be at least 1", o.noop)
	}
	for _, d := range []struct {
		flag string
		d    time.Duration
	}{{"-national-year", o.national}, {"-year", o.year}} {
		if d.d < 8*time.Second {
			return fmt.Errorf("%s: %s is too short: quarterly reviews need 2 s between them", d.flag, d.d)
		}
	}
	if o.rows < 1 {
		return fmt.Errorf("-import-rows: %d must be at least 1", o.rows)
	}
	if o.drives < 1 {
		return fmt.Errorf("-drives: %d must be at least 1", o.drives)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	began := time.Now()
	// (u) runs first, before any server or worker: the heap it measures is then the upload's.
	var upload []bench.Figure
	if o.want("u") {
		progress("(u) a 64 MiB upload's peak heap growth")
		var err error
		if upload, err = bench.Upload(); err != nil {
			return fmt.Errorf("(u): %w", err)
		}
	}
	figs, err := upload, error(nil)
	if len(o.only) != 1 || !o.only["u"] {
		figs, err = startAndMeasure(ctx, so, o, dir, log)
		figs = append(figs, upload...)
	}
	if len(figs) > 0 {
		server := "a Temporal dev server"
		if so.TemporalAddress != "" {
			server = "the Temporal server at " + so.TemporalAddress
		}
		if len(o.only) == 1 && o.only["u"] {
			server = "no server"
		}
		header := fmt.Sprintf("drives benchmark, %s, %d cores, %s, %s, %d worker(s), %s in all", time.Now().UTC().Format("2006-01-02 15:04 UTC"),
			runtime.NumCPU(), runtime.Version(), server, so.Workers, time.Since(began).Round(time.Second))
		fmt.Println()
		writeTable(os.Stdout, header, figs)
		if o.out != "" {
			f, ferr := os.Create(o.out)
			if ferr != nil {
				return ferr
			}
			writeMarkdown(f, header, figs)
			if ferr := f.Close(); ferr != nil {
				return ferr
			}
		}
	}
	return err
}

// startAndMeasure starts the servers and measures every figure but (u) on them.
func startAndMeasure(ctx context.Context, so bench.Options, o options, dir string, log *slog.Logger) ([]bench.Figure, error) {
	cli, err := testenv.TemporalCLI()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		if dir, err = bench.ScratchDir(); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	so.Dir, so.TemporalCLI = dir, cli
	if so.TemporalAddress == "" {
		progress("starting PostgreSQL and a Temporal dev server in %s", dir)
	} else {
		progress("starting PostgreSQL in %s; Temporal at %s", dir, so.TemporalAddress)
	}
	e, err := bench.Start(ctx, so, log)
	if err != nil {
		return nil, err
	}
	defer e.Stop()
	return measure(ctx, e, o, dir)
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func measure(ctx context.Context, e *bench.Env, o options, dir string) ([]bench.Figure, error) {
	var figs []bench.Figure
	var engine bench.EngineResult
	if o.want("a") || o.want("b") {
		progress("(a) %d no-op workflows of 5 activities", o.noop)
		var err error
		if engine, err = bench.Engine(ctx, e, o.noop); err != nil {
			return figs, fmt.Errorf("(a): %w", err)
		}
		figs = append(figs,
			bench.Figure{ID: "a", Name: "engine ceiling: no-op workflows of 5 activities", Value: engine.WorkflowsPerS, Unit: "workflows/s",
				Note: fmt.Sprintf("%d workflows in %.1f s, 16 at a time", engine.Workflows, engine.Elapsed.Seconds())},
			bench.Figure{ID: "a", Name: "engine ceiling: activities", Value: engine.ActivitiesPerS, Unit: "activities/s"},
			bench.Figure{ID: "a", Name: "engine ceiling: actions (a start and 5 activities a workflow)", Value: engine.ActionsPerS(), Unit: "actions/s"})
	}
	if o.want("b") {
		progress("(b) %d Hà Nội campaigns at once, a year in %s each, no field", o.drives, o.year)
		runs := make([]*bench.CampaignRun, o.drives)
		errs := make(chan error, o.drives)
		for i := range runs {
			go func() {
				lp, err := bench.PlanVariant(o.hanoi, e.ID(fmt.Sprintf("steps-%d", i+1)), bench.YearIn(o.year))
				if err == nil {
					runs[i], err = bench.RunCampaign(ctx, e, lp, bench.RunOptions{})
				}
				errs <- err
			}()
		}
		for range runs {
			if err := <-errs; err != nil {
				return figs, fmt.Errorf("(b): %w", err)
			}
		}
		from, to := runs[0].FirstDistrict, runs[0].LastDistrict
		for _, r := range runs[1:] {
			if r.FirstDistrict.Before(from) {
				from = r.FirstDistrict
			}
			if r.LastDistrict.After(to) {
				to = r.LastDistrict
			}
		}
		// The ratio is of like to like: the campaigns' workflow starts and activities against
		// the ceiling's, which is made of nothing else. Timers, signals and Updates, cheaper for
		// the engine than activities, are counted in the steps but kept out of the ratio.
		steps := bench.Steps(runs, from, to)
		perS := float64(steps) / to.Sub(from).Seconds()
		same := bench.EngineKindSteps(runs, from, to)
		samePerS := float64(same) / to.Sub(from).Seconds()
		ratio := samePerS / engine.ActionsPerS()
		figs = append(figs,
			bench.Figure{ID: "b", Name: "campaign steps (actions of every kind) while the districts run", Value: perS, Unit: "steps/s",
				Note: fmt.Sprintf("%d steps in %.1f s: %d campaigns of %d districts at once", steps, to.Sub(from).Seconds(), o.drives, len(runs[0].Spec.Districts))},
			bench.Figure{ID: "b", Name: "campaign workflow starts and activities while the districts run", Value: samePerS, Unit: "actions/s",
				Note: fmt.Sprintf("%d of the %d steps", same, steps)},
			bench.Figure{ID: "b", Name: "campaign starts and activities ÷ engine ceiling actions (starts and activities)", Value: ratio, Unit: "ratio",
				Target: "≥ 0.8", Met: bench.Check(ratio >= 0.8),
				Note: fmt.Sprintf("the campaigns run up to %d districts at a time, (a) 16 workflows", o.drives*len(runs[0].Spec.Districts))})
	}
	if o.want("c") || o.want("g") {
		progress("(c, g) the Hà Nội campaign with its field simulator, progress asked every 50 ms")
		field, err := simulator.LoadConfig(o.field)
		if err != nil {
			return figs, err
		}
		lp, err := bench.PlanVariant(o.hanoi, e.ID("hanoi"), 0)
		if err != nil {
			return figs, err
		}
		r, err := bench.RunCampaign(ctx, e, lp, bench.RunOptions{Field: &field, QueryEvery: 50 * time.Millisecond})
		if err != nil {
			return figs, fmt.Errorf("(c): %w", err)
		}
		progress("Hà Nội: %s; enrolled %d of %d", r.Actions, r.Result.Enrolled, r.Result.Target)
		if o.want("c") {
			figs = append(figs, actionFigures("Hà Nội", r)...)
		}
		if o.want("g") {
			p50, p99 := bench.Percentile(r.Queries, 50), bench.Percentile(r.Queries, 99)
			figs = append(figs,
				bench.Figure{ID: "g", Name: "progress Query latency p50 while Hà Nội runs", Value: ms(p50), Unit: "ms",
					Note: fmt.Sprintf("%d queries, %d failed (counted at their time to the error)", len(r.Queries), r.QueryFailures)},
				bench.Figure{ID: "g", Name: "progress Query latency p99 while Hà Nội runs", Value: ms(p99), Unit: "ms",
					Target: "≤ 50 ms, none failed", Met: bench.Check(p99 <= 50*time.Millisecond && r.QueryFailures == 0)})
		}
	}
	if o.want("c") {
		progress("(c) the synthetic national campaign, a year in %s", o.national)
		ndir := filepath.Join(dir, "national")
		if _, err := synth.WriteNational(ndir, 2021); err != nil {
			return figs, err
		}
		lp, err := bench.PlanVariant(filepath.Join(ndir, "plan.yaml"), e.ID("national"), bench.YearIn(o.national))
		if err != nil {
			return figs, err
		}
		r, err := bench.RunCampaign(ctx, e, lp, bench.RunOptions{})
		if err != nil {
			return figs, fmt.Errorf("(c): %w", err)
		}
		progress("national: %s", r.Actions)
		figs = append(figs, actionFigures("national", r)...)
	}
	if o.want("m") {
		progress("(m) %d phones sending %d field entries each at once", o.phones, o.entries)
		r, err := bench.Field(ctx, e, o.hanoi, o.phones, o.entries)
		if err != nil {
			return figs, fmt.Errorf("(m): %w", err)
		}
		figs = append(figs, fieldFigures(r)...)
	}
	importN := func(ctx context.Context, e *bench.Env) ([]bench.Figure, error) { return bench.Import(ctx, e, o.rows) }
	for _, b := range []struct {
		id  string
		run func(context.Context, *bench.Env) ([]bench.Figure, error)
	}{{"d", importN}, {"e", bench.Allocation}, {"f", bench.Review}, {"p", bench.Pages}} {
		if !o.want(b.id) {
			continue
		}
		progress("(%s)", b.id)
		fs, err := b.run(ctx, e)
		figs = append(figs, fs...)
		if err != nil {
			return figs, fmt.Errorf("(%s): %w", b.id, err)
		}
	}
	return figs, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fieldFigures are (m)'s lines: nothing lost or doubled, a send's time, and what the
// workflow's count of the field cost in Temporal.
func fieldFigures(r *bench.FieldRun) []bench.Figure {
	want := r.Agents * r.EntriesEach
	lost := want - r.InDB
	p50, p99 := bench.Percentile(r.Sends, 50), bench.Percentile(r.Sends, 99)
	return []bench.Figure{
		{ID: "m", Name: "field entries lost", Value: float64(lost), Unit: "entries", Target: "0", Met: bench.Check(lost == 0),
			Note: fmt.Sprintf("%d phones × %d entries at once over loopback HTTP: %d recorded, %d refused, %d in the database; %.1f s in all; %d sends told to come back (503) and sent again",
				r.Agents, r.EntriesEach, r.Recorded, r.Refused, r.InDB, r.Elapsed.Seconds(), r.Busy)},
		{ID: "m", Name: "people enrolled or made leads twice", Value: float64(r.Doubled), Unit: "people", Target: "0", Met: bench.Check(r.Doubled == 0)},
		{ID: "m", Name: "everything sent again: answered as before, nothing written", Value: float64(r.AgainRecorded), Unit: "entries",
			Target: fmt.Sprintf("%d, no write", r.Recorded), Met: bench.Check(r.AgainRecorded == r.Recorded && !r.AgainWrote)},
		{ID: "m", Name: "a send of entries p50", Value: ms(p50), Unit: "ms"},
		{ID: "m", Name: "a send of entries p99", Value: ms(p99), Unit: "ms", Note: "2 cores: the server, PostgreSQL and the phones"},
		{ID: "m", Name: "record-field Updates for the burst", Value: float64(r.Updates), Unit: "Updates",
			Note: fmt.Sprintf("counting %d enrolments into the progress; %d history events in all", r.Folded, r.HistoryEvents)},
	}
}

func actionFigures(name string, r *bench.CampaignRun) []bench.Figure {
	a := r.Actions
	return []bench.Figure{
		{ID: "c", Name: "Temporal actions per campaign, " + name, Value: float64(a.Total()), Unit: "actions",
			Target: fmt.Sprintf("≤ %d", r.Budget), Met: bench.Check(a.Total() <= r.Budget),
			Note: fmt.Sprintf("%d workflow starts, %d activities, %d timers, %d signals, %d updates, %d schedule actions, %d other; %d runs",
				a.Workflows, a.Activities, a.Timers, a.Signals, a.Updates, a.ScheduleActions, a.Markers+a.Upserts, a.Runs)},
		{ID: "c", Name: "largest history of any run, " + name, Value: float64(a.LargestHistory), Unit: "events",
			Target: "< 4096", Met: bench.Check(a.LargestHistory < 4096), Note: a.LargestRun},
	}
}

func format(f bench.Figure) (value, met string) {
	switch {
	case f.Unit == "ratio":
		value = fmt.Sprintf("%.2f", f.Value)
	case f.Value >= 100 || f.Value == float64(int64(f.Value)):
		value = fmt.Sprintf("%.0f %s", f.Value, f.Unit)
	default:
		value = fmt.Sprintf("%.2f %s", f.Value, f.Unit)
	}
	switch {
	case f.Met == nil:
	case *f.Met:
		met = "yes"
	default:
		met = "NO"
	}
	return value, met
}

func writeTable(w io.Writer, header string, figs []bench.Figure) {
	fmt.Fprintln(w, header)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tfigure\tvalue\ttarget\tmet\tnote")
	for _, f := range figs {
		v, m := format(f)
		fmt.Fprintf(tw, "(%s)\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Name, v, f.Target, m, f.Note)
	}
	tw.Flush()
}

func writeMarkdown(w io.Writer, header string, figs []bench.Figure) {
	fmt.Fprintf(w, "%s\n\n| | figure | value | target | met | note |\n|---|---|---|---|---|---|\n", header)
	for _, f := range figs {
		v, m := format(f)
		fmt.Fprintf(w, "| (%s) | %s | %s | %s | %s | %s |\n", f.ID, f.Name, v, f.Target, m, f.Note)
	}
}
