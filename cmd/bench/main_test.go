package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"drives/internal/bench"
)

// make bench's own correctness checks, at a small scale, in make test: a wrong result fails
// CI, not only a benchmark run someone reads. (a) and (b) play campaigns to their close (a
// campaign that ends otherwise is an error) and count every run's actions twice, whole and
// event by event, failing when the two differ; (e) checks the national allocation exact at
// every level and every share within one of its proportional part, and the quotas the
// AllocateQuotas activity stored against it. Timings are measured but not judged: CI's
// machine is no benchmark machine. Shown failing by making allocate.Quotas give one more to
// the first village of each commune (e: "commune …: parts sum to …"), and by keeping the
// stored quotas of villages one over their computation in store.InsertQuotas (e: "stored
// village quota …").
func TestBenchChecksAtSmallScale(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and a Temporal dev server of its own")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	e := bench.StartForTest(t, ctx)
	o := options{
		only: map[string]bool{"a": true, "b": true, "e": true}, noop: 10, drives: 1, year: 9 * time.Second,
		hanoi: "../../plans/hanoi-2021/plan.yaml",
	}
	figs, err := measure(ctx, e, o, e.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range figs {
		ids = append(ids, f.ID)
		if f.Value <= 0 {
			t.Errorf("(%s) %s: %v", f.ID, f.Name, f.Value)
		}
	}
	for _, want := range []string{"a", "b", "e", "e.activity"} {
		if !slices.Contains(ids, want) {
			t.Errorf("no figure (%s) among %v", want, ids)
		}
	}
}
