// Command drill runs fault drills: campaigns on a compressed clock, fed by a coordinator with
// generated enrolment, leads and outcome files and steered by a script (terminations approved
// and rejected, a pause and resume, a cancel), and by an agent's phone sending entries to the
// web process (phone.go), while the worker is killed with SIGKILL, PostgreSQL is stopped with
// `pg_ctl stop -m immediate` for ten seconds, the file-backed Temporal dev server is stopped and
// started again, and the web process is killed with SIGKILL as a phone sends, at seeded random
// moments. Afterwards every campaign must have ended as scripted; every set of business keys in
// the database (enrolled citizen IDs, prospects, follow-ups with their final status, review
// decisions, terminations, quotas, transfers, agents, steers) must equal, key by key and value
// by value, the set computed from the files, the script and what the phone was told was
// recorded; the audit rows must match the completed effects in the histories and their hash
// chain must hold; each stored final report must equal the figures computed from the inputs;
// and every entry the phone made must have been answered, be in the database once as answered,
// and be counted by the workflow in batches. It starts everything it needs on free ports in a
// scratch directory and removes it afterwards (it is kept when a check fails). Run it from the
// repository root: make drills. With -plant it plants faults in the database before the checks,
// to see them fail.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"drives/coordinator"
	"drives/imports"
	"drives/internal/devstack"
	"drives/plan"
)

type drill struct {
	s        *stack
	db       *pgxpool.Pool
	tc       client.Client
	co       *coordinator.Coordinator
	im       *imports.Importer
	verbose  bool
	planting bool // plant faults before the checks
	logMu    sync.Mutex
	began    time.Time
	// watch hands the fault injector a phone's send as it begins, when the injector waits for
	// one (to kill the web process under it).
	watch chan *flight
	// faults strikes the rounds, and those the coordinators aim at their sends (revise.go).
	faults *injector
}

func (d *drill) logf(format string, args ...any) {
	d.logMu.Lock()
	defer d.logMu.Unlock()
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(d.began).Seconds(), fmt.Sprintf(format, args...))
}

// config is what the flags set.
type config struct {
	seed        uint64
	rounds      int
	campaigns   int
	year        time.Duration
	gap, pgDown time.Duration
	keep        bool
	plant       bool
	phoneBug    string
	reviseBug   string
	units, cli  string
}

func main() {
	var c config
	flag.Uint64Var(&c.seed, "seed", 0, "seed of the inputs and of the faults' moments and kinds (0: a new one, printed)")
	flag.IntVar(&c.rounds, "rounds", 20, "fault rounds")
	flag.IntVar(&c.campaigns, "campaigns", 2, "campaigns, launched 20 s apart")
	flag.DurationVar(&c.year, "year", 9*time.Minute, "real time a campaign year takes (the first campaign's; each next one's is a minute longer)")
	flag.DurationVar(&c.gap, "gap", 0, "mean real time between two faults (0: spread the rounds over the campaigns' years)")
	flag.DurationVar(&c.pgDown, "pg-down", 10*time.Second, "how long PostgreSQL stays down")
	flag.BoolVar(&c.keep, "keep", false, "keep the scratch directory")
	flag.BoolVar(&c.plant, "plant", false, "plant faults in the database before the checks, to see each check fail (the drill then fails)")
	flag.StringVar(&c.phoneBug, "phone-bug", "", "break the phone or the expected figures on purpose, to see the field's checks fail: "+
		bugNewIDs+" (the phone sends entries again with new IDs after a failure) or "+bugUncounted+" (the expected figures leave out the phone's enrolments)")
	flag.StringVar(&c.reviseBug, "revise-bug", "", "break the plan's revision on purpose, to see its checks fail: "+
		bugTwice+" (the coordinator stages and sends the revision again once it is applied) or "+bugUnrevised+" (the expected figures leave the revision out)")
	flag.StringVar(&c.units, "units", filepath.Join("integration", "testdata"), "directory of units.csv, villages.csv and roster.csv")
	flag.StringVar(&c.cli, "temporal-cli", os.Getenv("TEMPORAL_CLI"), "the Temporal CLI (default $TEMPORAL_CLI, else .tools/bin/temporal)")
	flag.Parse()
	if c.seed == 0 {
		c.seed = uint64(time.Now().UnixNano())
	}
	if c.phoneBug != "" && c.phoneBug != bugNewIDs && c.phoneBug != bugUncounted {
		fmt.Fprintf(os.Stderr, "drill: -phone-bug: %q is not %s or %s\n", c.phoneBug, bugNewIDs, bugUncounted)
		os.Exit(2)
	}
	if c.reviseBug != "" && c.reviseBug != bugTwice && c.reviseBug != bugUnrevised {
		fmt.Fprintf(os.Stderr, "drill: -revise-bug: %q is not %s or %s\n", c.reviseBug, bugTwice, bugUnrevised)
		os.Exit(2)
	}
	if c.cli == "" {
		c.cli = filepath.Join(".tools", "bin", "temporal")
	}
	fmt.Printf("fault drill: seed %d (rerun with -seed %d), %d rounds, %d campaigns\n", c.seed, c.seed, c.rounds, c.campaigns)
	ok, err := run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "drill:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(cfg config) (bool, error) {
	d := &drill{began: time.Now(), planting: cfg.plant, watch: make(chan *flight)}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir, err := os.MkdirTemp("", "drives-drill-")
	if err != nil {
		return false, err
	}
	// The postgres user must reach the data directory inside.
	if err := os.Chmod(dir, 0o755); err != nil {
		return false, err
	}
	passed := false
	defer func() {
		if cfg.keep || !passed {
			fmt.Printf("scratch directory kept: %s (logs: worker.log, web.log, temporal.log, postgres.log)\n", dir)
			return
		}
		_ = os.RemoveAll(dir)
	}()

	w, err := loadWorld(cfg.units)
	if err != nil {
		return false, fmt.Errorf("read the units (run from the repository root or give -units): %w", err)
	}
	s := &stack{dir: dir, cli: cfg.cli, namespace: "drill"}
	d.s = s
	defer s.stop()
	d.logf("starting PostgreSQL and the Temporal dev server in %s", dir)
	if err := s.start(ctx); err != nil {
		return false, err
	}
	for _, p := range []*proc{s.worker, s.web} {
		if err := p.start(); err != nil {
			return false, err
		}
		if err := p.waitHealthy(ctx, 2*time.Minute); err != nil {
			return false, err
		}
	}
	if d.db, err = pgxpool.New(ctx, s.app); err != nil {
		return false, err
	}
	defer d.db.Close()
	if d.tc, err = client.DialContext(ctx, client.Options{HostPort: s.temporalAddress(), Namespace: s.namespace, Logger: devstack.QuietLogger()}); err != nil {
		return false, err
	}
	defer d.tc.Close()
	d.co = &coordinator.Coordinator{DB: d.db, Temporal: d.tc}
	d.im = &imports.Importer{DB: d.db, Temporal: d.tc}

	// Inputs and their expected effects, from the seed alone.
	rng := rand.New(rand.NewPCG(cfg.seed, 1))
	var coords []*coord
	var plans []*plan.Loaded
	var want []*expected
	for i := range cfg.campaigns {
		id := fmt.Sprintf("drill-%c", 'a'+i)
		cancels := i%2 == 1
		acts := script(w, rng, 10+i, cancels)
		pd := filepath.Join(dir, id)
		if err := os.MkdirAll(pd, 0o755); err != nil {
			return false, err
		}
		for _, f := range []string{"units.csv", "villages.csv", "roster.csv"} {
			b, err := os.ReadFile(filepath.Join(cfg.units, f))
			if err != nil {
				return false, err
			}
			if err := os.WriteFile(filepath.Join(pd, f), b, 0o644); err != nil {
				return false, err
			}
		}
		yearReal := cfg.year + time.Duration(i)*time.Minute
		scale := float64(365*24*time.Hour) / float64(yearReal)
		launched := fmt.Sprintf(planTemplate, id, id, scale)
		if err := os.WriteFile(filepath.Join(pd, "plan.yaml"), []byte(launched), 0o644); err != nil {
			return false, err
		}
		lp, err := plan.Load(filepath.Join(pd, "plan.yaml"))
		if err != nil {
			return false, err
		}
		revised, err := revisedPlan(launched)
		if err != nil {
			return false, err
		}
		revisedFile := filepath.Join(pd, "plan-revised.yaml")
		if err := os.WriteFile(revisedFile, []byte(revised), 0o644); err != nil {
			return false, err
		}
		rp, err := plan.Load(revisedFile)
		if err != nil {
			return false, fmt.Errorf("the drill's revised plan: %w", err)
		}
		plans = append(plans, lp)
		coords = append(coords, &coord{d: d, id: id, index: i, acts: acts, cancels: cancels,
			revised: rp, revisedFile: revisedFile, reviseBug: cfg.reviseBug, decided: map[string]string{}})
		expect := acts
		if cfg.reviseBug == bugUnrevised {
			expect = nil
			for _, a := range acts {
				if !a.revise {
					expect = append(expect, a)
				}
			}
		}
		want = append(want, compute(w, expect))
	}

	// The rounds end a little before the last campaign that runs its year does, so that its
	// close is hit too (the second, fourth… campaign is cancelled early in its year).
	last := time.Duration(cfg.campaigns - 1)
	if cfg.campaigns%2 == 0 {
		last--
	}
	until := time.Now().Add(last*20*time.Second + cfg.year + last*time.Minute - 20*time.Second)
	faults := &injector{d: d, rng: rand.New(rand.NewPCG(cfg.seed, 2)), aimRng: rand.New(rand.NewPCG(cfg.seed, 3)),
		rounds: cfg.rounds, gap: cfg.gap, until: until, pgDown: cfg.pgDown}
	d.faults = faults

	// The coordinators, and the faults meanwhile.
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	var wg sync.WaitGroup
	errs := make(chan error, 2*cfg.campaigns+1)
	for i, c := range coords {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i > 0 {
				time.Sleep(time.Duration(i) * 20 * time.Second)
			}
			if err := c.launch(runCtx, plans[i]); err != nil {
				errs <- err
				return
			}
			c.launched = time.Now()
			d.logf("%s: launched (a year in %s)", c.id, cfg.year+time.Duration(i)*time.Minute)
			p, err := d.newPhone(runCtx, c, w, plans[i], i, cfg.seed, cfg.phoneBug)
			if err != nil {
				errs <- err
				return
			}
			pctx, cancel := context.WithCancel(runCtx)
			p.cancel, c.phone = cancel, p
			go p.run(pctx)
			go c.decideTerminations(runCtx)
			if err := c.run(runCtx); err != nil {
				errs <- err
				return
			}
			d.logf("%s: all %d actions done", c.id, len(c.acts))
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := faults.run(runCtx); err != nil {
			errs <- err
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case err := <-errs:
		cancelRun()
		<-done
		return false, err
	}
	select {
	case err := <-errs:
		return false, err
	default:
	}
	if faults.aimErr != nil {
		return false, faults.aimErr
	}

	// Every campaign completes.
	var results []*checked
	for i, c := range coords {
		r, err := d.check(ctx, c, want[i], plans[i])
		if err != nil {
			return false, err
		}
		results = append(results, r)
	}
	passed = d.table(os.Stdout, faults, coords, results)
	return passed, nil
}

// injector breaks the stack rounds times, at random moments, one fault at a time.
type injector struct {
	d      *drill
	mu     sync.Mutex // held while a fault is under way: one at a time
	rng    *rand.Rand
	aimRng *rand.Rand // the aimed rounds' moments (under mu)
	aims   []*aim     // rounds aimed at the coordinators' sends
	aimErr error
	rounds int
	gap    time.Duration // mean wait between rounds; 0: spread them until until
	until  time.Time
	pgDown time.Duration
	counts map[string]int
	took   map[string]time.Duration
	kills  []webKill
}

// webKill is one kill of the web process: the phone's send it waited for (nil: none began
// within killWait), and whether that send was still on its way when the process died.
type webKill struct {
	fl       *flight
	inFlight bool
}

const (
	faultWorker   = "worker killed (SIGKILL)"
	faultPostgres = "PostgreSQL stopped -m immediate"
	faultTemporal = "Temporal dev server restarted"
	faultWeb      = "web process killed (SIGKILL) while a phone sends"
)

var faultKinds = []string{faultWorker, faultPostgres, faultTemporal, faultWeb}

// The web process is killed a moment after a phone has begun a send — a seeded share of the
// phone's median round trip so far (killWithin before it has one), so that the send is mostly
// still on its way, before or after it is written — waiting at most killWait for one to begin.
const (
	killWithin = 10 * time.Millisecond
	killWait   = 10 * time.Second
)

func (f *injector) run(ctx context.Context) error {
	f.counts, f.took = map[string]int{}, map[string]time.Duration{}
	// Each kind in turn, in a seeded order: about a quarter of the rounds each.
	var kinds []string
	for i := range f.rounds {
		kinds = append(kinds, faultKinds[i%len(faultKinds)])
	}
	f.rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	// The first fault waits for the campaigns to be under way.
	select {
	case <-time.After(15 * time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	for round, kind := range kinds {
		gap := f.gap
		if gap == 0 {
			// What is left, less what the remaining faults take (PostgreSQL's outage and
			// recovery, the dev server's restart), shared among the remaining rounds.
			left := time.Until(f.until)
			for _, k := range kinds[round:] {
				switch k {
				case faultPostgres:
					left -= f.pgDown + 5*time.Second
				case faultTemporal:
					left -= 5 * time.Second
				case faultWeb:
					left -= 2 * time.Second
				}
			}
			gap = max(left/time.Duration(len(kinds)-round), time.Second)
		}
		wait := time.Duration(f.rng.Float64() * 2 * float64(gap))
		if f.gap == 0 {
			wait = min(wait, max(time.Until(f.until), 0))
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		f.mu.Lock()
		began := time.Now()
		f.d.logf("round %d/%d: %s", round+1, f.rounds, kind)
		var err error
		switch kind {
		case faultWorker:
			err = f.d.s.worker.kill()
		case faultPostgres:
			err = f.d.s.crashPostgres(ctx, f.pgDown)
		case faultTemporal:
			err = f.d.s.restartTemporal(ctx)
		case faultWeb:
			err = f.killWeb(ctx)
		}
		f.mu.Unlock()
		if err != nil {
			return fmt.Errorf("round %d (%s): %w", round+1, kind, err)
		}
		f.counts[kind]++
		f.took[kind] += time.Since(began)
		f.d.logf("round %d/%d: back after %.1fs", round+1, f.rounds, time.Since(began).Seconds())
	}
	return nil
}

// killWeb waits for a phone to begin a send, kills the web process with SIGKILL a moment
// later, starts a new one and waits until it answers; the phone sends the same entries again to
// it.
func (f *injector) killWeb(ctx context.Context) error {
	var fl *flight
	select {
	case fl = <-f.d.watch:
	case <-time.After(killWait):
	case <-ctx.Done():
		return ctx.Err()
	}
	within := killWithin
	if fl != nil {
		if m := fl.p.medianTook(); m > 0 {
			within = m
		}
	}
	time.Sleep(time.Duration(f.rng.Float64() * float64(within)))
	if err := f.d.s.web.kill(); err != nil {
		return err
	}
	k := webKill{fl: fl}
	if fl != nil {
		select {
		case <-fl.done:
			k.inFlight = fl.err != nil
		case <-time.After(time.Minute):
			k.inFlight = true
		}
	}
	f.kills = append(f.kills, k)
	switch {
	case fl == nil:
		f.d.logf("web process killed: no phone began a send within %s", killWait)
	case k.inFlight:
		f.d.logf("web process killed with a phone's send on its way")
	default:
		f.d.logf("web process killed just after a phone's send was answered")
	}
	return f.d.s.web.waitHealthy(ctx, time.Minute)
}

func (d *drill) table(w io.Writer, f *injector, coords []*coord, results []*checked) bool {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "rounds\t%d\n", f.rounds)
	for _, k := range faultKinds {
		avg := 0.0
		if f.counts[k] > 0 {
			avg = f.took[k].Seconds() / float64(f.counts[k])
		}
		fmt.Fprintf(tw, "  %s\t%d\t(back in %.1f s on average)\n", k, f.counts[k], avg)
	}
	_, restarts := d.s.worker.counts()
	fmt.Fprintf(tw, "worker restarts after exiting by itself\t%d\n", restarts)
	_, restarts = d.s.web.counts()
	fmt.Fprintf(tw, "web process restarts after exiting by itself\t%d\n", restarts)
	var inFlight, written, none int
	for _, k := range f.kills {
		switch {
		case k.fl == nil:
			none++
		case k.inFlight:
			inFlight++
			if k.fl.written.Load() {
				written++
			}
		}
	}
	fmt.Fprintf(tw, "web process kills with a phone's send on its way\t%d of %d\t(%d of them written before the kill: their resend answered \"again\"; %d kills found no send begun)\n",
		inFlight, len(f.kills), written, none)
	var keys, lost, doubled, wrong, problems, retries, approved, rejected, completed int
	for i, r := range results {
		keys += r.keys
		lost += r.lost
		doubled += r.doubled
		wrong += r.wrong
		a, rj := coords[i].decisions()
		approved += a
		rejected += rj
		problems += len(r.problems)
		retries += int(coords[i].retries.Load())
		if r.completed {
			completed++
		}
	}
	fmt.Fprintf(tw, "rounds aimed at a coordinator's send\t%d\t(one fault each, a seeded moment after the send began)\n", len(f.aims))
	for _, a := range f.aimsByWhat() {
		state := "answered just before the fault"
		if a.inFlight {
			state = "on its way"
		}
		fmt.Fprintf(tw, "  %s\t%s %s after the send began, the send %s (back in %.1f s); the struck send: %s\n",
			a.what, a.kind, a.delay.Round(time.Millisecond), state, a.took.Seconds(), errText(a.firstErr))
	}
	for _, c := range coords {
		c.mu.Lock()
		outcome := c.reviseOutcome
		c.mu.Unlock()
		if outcome == "" {
			outcome = "not applied"
		}
		fmt.Fprintf(tw, "  %s plan revision\t%d sends: %s; approval sends: %d\n", c.id, c.reviseSends.Load(), outcome, c.approveSends.Load())
	}
	fmt.Fprintf(tw, "coordinator retries\t%d\n", retries)
	fmt.Fprintf(tw, "terminations approved / rejected by the coordinator\t%d / %d\n", approved, rejected)
	fmt.Fprintf(tw, "campaigns completed\t%d of %d\n", completed, len(results))
	for _, r := range results {
		fmt.Fprintf(tw, "  %s\t%s: %d enrolled of %d target, %d runs, %d audit rows = %d effects (%d committed by a retried attempt), hash chain %s\n",
			r.id, r.status, r.enrolled, r.target, r.runs, r.auditRows, r.effects, r.retried, r.chain)
		if ph := r.phone; ph != nil {
			st := ph.st
			fmt.Fprintf(tw, "  %s phone\t%d entries made (%d enrolments, %d leads): %d recorded (%d enrolments), %d refused, %d unanswered; stopped: %s\n",
				r.id, ph.made, ph.enrolments, ph.leads, ph.recorded, ph.recordedEnrolments, ph.refused, ph.unans, ph.stopped)
			fmt.Fprintf(tw, "  %s phone sends\t%d: %d network errors, %d 5xx, %d other, %d answers lost by the phone; %d sent again and written before (\"again\"), %d not; %d \"later\" answers; round trip %s median, %s p90\n",
				r.id, st.sends, st.netErrors, st.serverErrors, st.otherErrors, st.dropped, st.lostWritten, st.lostUnwritten, st.later,
				ph.medianTook.Round(time.Millisecond), ph.p90Took.Round(time.Millisecond))
			fmt.Fprintf(tw, "  %s field counts\t%d record-field folds (at most %d: %s at one per %s, +%d web processes, +1 at close, +2) counted %d field enrolments\n",
				r.id, r.folds, r.foldBound, r.ran.Round(time.Second), fieldBatchEvery, r.webStarts, r.folded)
		}
	}
	fmt.Fprintf(tw, "keys checked\t%d\n", keys)
	fmt.Fprintf(tw, "lost\t%d\n", lost)
	fmt.Fprintf(tw, "doubled or not in the inputs\t%d\n", doubled)
	fmt.Fprintf(tw, "with other values than the inputs give\t%d\n", wrong)
	fmt.Fprintf(tw, "other problems\t%d\n", problems)
	fmt.Fprintf(tw, "time taken\t%s\n", time.Since(d.began).Round(time.Second))
	tw.Flush()
	ok := lost == 0 && doubled == 0 && wrong == 0 && problems == 0 && completed == len(results)
	for _, r := range results {
		for _, p := range r.problems {
			fmt.Fprintf(w, "FAIL %s: %s\n", r.id, p)
		}
	}
	if ok {
		fmt.Fprintln(w, "PASS: every campaign ended as scripted; every set of keys and values = the inputs'; audit = effects; reports = the inputs' figures")
	} else {
		fmt.Fprintln(w, "FAIL: see above")
	}
	return ok
}

var errNotDone = errors.New("not done")

func joinLines(xs []string) string { return strings.Join(xs, "; ") }
