package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"

	"drives/campaign"
	"drives/coordinator"
	"drives/history"
	"drives/imports"
	"drives/plan"
	"drives/simulator"
)

// PlanVariant loads the plan at path under another campaign id and, when scale > 0, another
// clock scale: the same units, roster and events (read where the plan is), so several runs can
// share one database.
func PlanVariant(path, id string, scale float64) (*plan.Loaded, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sc := ""
	if scale > 0 {
		sc = strconv.FormatFloat(scale, 'f', -1, 64)
	}
	if text, err = rewritePlanText(path, text, id, sc); err != nil {
		return nil, err
	}
	return loadPlanText(path, text, filepath.Dir(path), id)
}

// YearIn is the clock scale that runs a campaign year in d of real time.
func YearIn(d time.Duration) float64 { return float64(365*24*time.Hour) / float64(d) }

// CampaignRun is what one campaign cost and how fast it went.
type CampaignRun struct {
	ID      string
	Elapsed time.Duration // launch to close
	Result  campaign.CloseResult
	Actions history.Actions
	Budget  int // 30 × districts + 5 × events + 10 × reviews
	Spec    plan.Spec

	// The districts ran from FirstDistrict (the first started) to LastDistrict (the last
	// closed); ActionTimes are the instants of every action of every run, as Actions counts them;
	// EngineKindTimes those of its workflow starts and activities alone, the kinds of action
	// the engine's ceiling (a) is made of.
	FirstDistrict, LastDistrict time.Time
	ActionTimes                 []time.Time
	EngineKindTimes             []time.Time

	// Progress Query latencies while it ran, when asked for: every Query, those that failed
	// included (their time to the error); QueryFailures counts the failed.
	Queries       []time.Duration
	QueryFailures int
}

// Steps counts the actions of runs that fall between from and to.
func Steps(runs []*CampaignRun, from, to time.Time) int {
	return between(runs, from, to, func(r *CampaignRun) []time.Time { return r.ActionTimes })
}

// EngineKindSteps is Steps of the workflow starts and activities alone: what (a) measures.
func EngineKindSteps(runs []*CampaignRun, from, to time.Time) int {
	return between(runs, from, to, func(r *CampaignRun) []time.Time { return r.EngineKindTimes })
}

func between(runs []*CampaignRun, from, to time.Time, times func(*CampaignRun) []time.Time) int {
	n := 0
	for _, r := range runs {
		for _, t := range times(r) {
			if !t.Before(from) && !t.After(to) {
				n++
			}
		}
	}
	return n
}

// RunOptions says how to run a campaign for a benchmark.
type RunOptions struct {
	Field      *simulator.Config // play the field with the simulator, when set
	QueryEvery time.Duration     // ask for progress this often while it runs, when > 0
}

// RunCampaign launches a plan, plays it to its close and reads what it cost off its histories.
func RunCampaign(ctx context.Context, e *Env, lp *plan.Loaded, o RunOptions) (*CampaignRun, error) {
	spec, err := lp.Spec()
	if err != nil {
		return nil, err
	}
	id := lp.Plan.ID
	co := &coordinator.Coordinator{DB: e.DB, Temporal: e.Temporal}
	began := time.Now()
	run, err := co.Launch(ctx, lp)
	if err != nil {
		return nil, err
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	var simErr error
	if o.Field != nil {
		f := &simulator.Field{Config: *o.Field, CampaignID: id, Log: e.Log,
			Importer: &imports.Importer{DB: e.DB, Temporal: e.Temporal}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, simErr = f.Run(rctx)
		}()
	}
	var queries []time.Duration
	var failures int
	if o.QueryEvery > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(o.QueryEvery)
			defer t.Stop()
			for {
				select {
				case <-rctx.Done():
					return
				case <-t.C:
				}
				start := time.Now()
				_, err := co.Progress(rctx, id)
				if err != nil && rctx.Err() != nil {
					return // asked as the run was stopped: no answer to wait for
				}
				queries = append(queries, time.Since(start))
				if err != nil {
					failures++
				}
			}
		}()
	}
	r := &CampaignRun{ID: id}
	err = run.Get(ctx, &r.Result)
	r.Elapsed = time.Since(began)
	stop()
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("campaign %s: %w", id, err)
	}
	// The field is stopped once the campaign has closed: an error of its own stopping is none.
	if simErr != nil && !errors.Is(simErr, context.Canceled) {
		return nil, fmt.Errorf("field of %s: %w", id, simErr)
	}
	if r.Result.Status != campaign.StatusClosed {
		return nil, fmt.Errorf("campaign %s ended %s", id, r.Result.Status)
	}
	r.Queries, r.QueryFailures, r.Spec = queries, failures, spec
	r.Budget = 30*len(spec.Districts) + 5*len(spec.Events) + 10*len(spec.Reviews)
	if err := r.readHistories(ctx, e, len(spec.Districts)); err != nil {
		return nil, err
	}
	return r, nil
}

// readHistories counts the actions of every run and the steps of the districts' drive. The
// visibility store lists closed runs a moment after they close: it is asked until it lists
// every district.
func (r *CampaignRun) readHistories(ctx context.Context, e *Env, districts int) error {
	var runs []history.Run
	deadline := time.Now().Add(30 * time.Second)
	for {
		var err error
		if runs, err = history.Runs(ctx, e.Temporal, r.ID); err != nil {
			return err
		}
		closed := map[string]bool{}
		for _, run := range runs {
			if run.Status != "RUNNING" {
				closed[run.WorkflowID] = true
			}
		}
		if len(closed) >= districts+1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, run := range runs {
		h, err := history.Fetch(ctx, e.Temporal, run.WorkflowID, run.RunID)
		if err != nil {
			return err
		}
		before := r.Actions.Total()
		for _, ev := range h.Events {
			var one history.Actions
			one.Add(run.WorkflowID, run.Type, &historypb.History{Events: []*historypb.HistoryEvent{ev}})
			t := ev.EventTime.AsTime()
			for range one.Total() {
				r.ActionTimes = append(r.ActionTimes, t)
			}
			for range one.Workflows + one.Activities {
				r.EngineKindTimes = append(r.EngineKindTimes, t)
			}
			if run.Type != campaign.DistrictWorkflowName {
				continue
			}
			switch ev.EventType {
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
				if r.FirstDistrict.IsZero() || t.Before(r.FirstDistrict) {
					r.FirstDistrict = t
				}
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
				if t.After(r.LastDistrict) {
					r.LastDistrict = t
				}
			}
		}
		r.Actions.Add(run.WorkflowID, run.Type, h)
		if got, want := r.Actions.Total()-before, len(r.ActionTimes)-before; got != want {
			return fmt.Errorf("%s: %d actions counted in the history, %d event by event", run.WorkflowID, got, want)
		}
	}
	if r.FirstDistrict.IsZero() || !r.LastDistrict.After(r.FirstDistrict) {
		return errors.New("no district ran")
	}
	return nil
}

// Percentile is the p-th percentile (0–100) of ds, nearest rank.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	k := int(p/100*float64(len(s)) + 0.5)
	if k < 1 {
		k = 1
	}
	if k > len(s) {
		k = len(s)
	}
	return s[k-1]
}
