package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"drives/campaign"
)

// activityQueue is the task queue of the one-activity workflows the benchmarks run: the
// workflow runs here, its activity on the drives' queue, in the project's worker.
const activityQueue = "drives-bench"

const oneActivityWorkflow = "bench.OneActivity"

// oneActivity runs one activity of the project's worker by name, once (no retry), with a
// start-to-close timeout, and returns its result as JSON. Each benchmark run of an activity is
// its own workflow execution, so the audit row apply() writes is keyed apart from every other.
func oneActivity(ctx workflow.Context, name string, in json.RawMessage, timeout time.Duration) (json.RawMessage, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           campaign.TaskQueue,
		StartToCloseTimeout: timeout,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	var out json.RawMessage
	err := workflow.ExecuteActivity(ctx, name, in).Get(ctx, &out)
	return out, err
}

// runActivity runs the activity name of the project's worker with in, through a workflow
// benchID on the bench queue, and returns its result and the time from start to result.
func runActivity[T any](ctx context.Context, e *Env, benchID, name string, in any, timeout time.Duration) (T, time.Duration, error) {
	var out T
	raw, err := json.Marshal(in)
	if err != nil {
		return out, 0, err
	}
	w := worker.New(e.Temporal, activityQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(oneActivity, workflow.RegisterOptions{Name: oneActivityWorkflow})
	if err := w.Start(); err != nil {
		return out, 0, err
	}
	defer w.Stop()
	id := fmt.Sprintf("%s:%s:%d", benchID, name, time.Now().UnixNano())
	start := time.Now()
	run, err := e.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: activityQueue},
		oneActivityWorkflow, name, json.RawMessage(raw), timeout)
	if err != nil {
		return out, 0, fmt.Errorf("start %s: %w", name, err)
	}
	var res json.RawMessage
	if err := run.Get(ctx, &res); err != nil {
		return out, time.Since(start), fmt.Errorf("%s: %w", name, err)
	}
	took := time.Since(start)
	if err := json.Unmarshal(res, &out); err != nil {
		return out, took, fmt.Errorf("%s: result: %w", name, err)
	}
	return out, took, nil
}
