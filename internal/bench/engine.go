package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// engineQueue is the task queue of the engine's ceiling, apart from the drives' own.
const engineQueue = "bench-engine"

// NoopWorkflow runs five activities that do nothing, one after another: the least a workflow
// of activities can cost the engine.
func NoopWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for i := 0; i < 5; i++ {
		if err := workflow.ExecuteActivity(ctx, NoopActivity).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

// NoopActivity does nothing.
func NoopActivity(context.Context) error { return nil }

// EngineResult is the engine's ceiling on this server and worker.
type EngineResult struct {
	Workflows      int
	Elapsed        time.Duration
	WorkflowsPerS  float64
	ActivitiesPerS float64
}

// ActionsPerS is the rate of Temporal actions: each workflow is a start and five activities.
func (r EngineResult) ActionsPerS() float64 { return 6 * r.WorkflowsPerS }

// Engine starts n no-op workflows of five activities each, from 16 goroutines at once, on a
// worker of default options like the drives' own (or as many as the drives have), and times them from the first start to the
// last completion.
func Engine(ctx context.Context, e *Env, n int) (EngineResult, error) {
	for range e.Workers {
		w := worker.New(e.Temporal, engineQueue, worker.Options{})
		w.RegisterWorkflow(NoopWorkflow)
		w.RegisterActivity(NoopActivity)
		if err := w.Start(); err != nil {
			return EngineResult{}, err
		}
		defer w.Stop()
	}

	// Warm up: the first workflow pays for connections and caches.
	if err := runNoop(ctx, e, e.ID("engine-warmup")); err != nil {
		return EngineResult{}, err
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := runNoop(ctx, e, e.ID(fmt.Sprintf("engine-%d", i))); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return EngineResult{}, fmt.Errorf("no-op workflow: %w", err)
	}
	el := time.Since(start)
	return EngineResult{Workflows: n, Elapsed: el, WorkflowsPerS: rate(n, el), ActivitiesPerS: rate(5*n, el)}, nil
}

func runNoop(ctx context.Context, e *Env, id string) error {
	run, err := e.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: engineQueue}, NoopWorkflow)
	if err != nil {
		return err
	}
	return run.Get(ctx, nil)
}
