package main

import (
	"context"
	"fmt"
	"io"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"drives/history"
	"drives/internal/config"
)

// stepCount is what the histories of a campaign's workflow runs say about its steps.
type stepCount struct {
	Runs, Open       int
	Activities       int // ActivityTaskCompleted events
	ActivityFailures int // ActivityTaskFailed and ActivityTaskTimedOut events (final attempts)
	Retries          int // attempts beyond the first of started activities (earlier ones failed or timed out)
	WorkflowTasks    int // WorkflowTaskCompleted events
	Events           int
	MaxEvents        int
	First, Last      time.Time
}

// Span is the wall time from the first event of any run to the last.
func (s stepCount) Span() time.Duration { return s.Last.Sub(s.First) }

// countSteps reads every workflow run of a campaign (found by its CampaignId search
// attribute) and counts its completed activities and workflow tasks.
func countSteps(ctx context.Context, tc client.Client, campaignID string) (stepCount, error) {
	var s stepCount
	runs, err := history.Runs(ctx, tc, campaignID)
	if err != nil {
		return s, err
	}
	if len(runs) == 0 {
		return s, fmt.Errorf("no workflow runs of campaign %q on this server", campaignID)
	}
	for _, r := range runs {
		h, err := history.Fetch(ctx, tc, r.WorkflowID, r.RunID)
		if err != nil {
			return s, err
		}
		s.Runs++
		if r.Status == "RUNNING" {
			s.Open++
		}
		s.Events += len(h.Events)
		s.MaxEvents = max(s.MaxEvents, len(h.Events))
		for _, e := range h.Events {
			t := e.GetEventTime().AsTime()
			if s.First.IsZero() || t.Before(s.First) {
				s.First = t
			}
			if t.After(s.Last) {
				s.Last = t
			}
			switch e.GetEventType() {
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
				s.Activities++
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
				if a := e.GetActivityTaskStartedEventAttributes().GetAttempt(); a > 1 {
					s.Retries += int(a - 1)
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED, enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
				s.ActivityFailures++
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				s.WorkflowTasks++
			}
		}
	}
	return s, nil
}

func (s stepCount) print(w io.Writer, campaignID string) {
	secs := s.Span().Seconds()
	fmt.Fprintf(w, "%s: %d workflow runs (%d still open), %d history events (largest run %d)\n",
		campaignID, s.Runs, s.Open, s.Events, s.MaxEvents)
	fmt.Fprintf(w, "  activities completed   %d (attempts retried after a failure or timeout: %d; activities failed for good: %d)\n",
		s.Activities, s.Retries, s.ActivityFailures)
	fmt.Fprintf(w, "  workflow tasks         %d\n", s.WorkflowTasks)
	fmt.Fprintf(w, "  wall time              %.1f s (%s → %s, first to last history event)\n",
		secs, s.First.UTC().Format("15:04:05.000"), s.Last.UTC().Format("15:04:05.000"))
	if secs > 0 {
		fmt.Fprintf(w, "  campaign steps/s       %.1f activities/s, %.1f workflow tasks/s\n",
			float64(s.Activities)/secs, float64(s.WorkflowTasks)/secs)
	}
}

// add sums two counts; the span covers both.
func (s stepCount) add(o stepCount) stepCount {
	s.Runs += o.Runs
	s.Open += o.Open
	s.Activities += o.Activities
	s.ActivityFailures += o.ActivityFailures
	s.Retries += o.Retries
	s.WorkflowTasks += o.WorkflowTasks
	s.Events += o.Events
	s.MaxEvents = max(s.MaxEvents, o.MaxEvents)
	if s.First.IsZero() || (!o.First.IsZero() && o.First.Before(s.First)) {
		s.First = o.First
	}
	if o.Last.After(s.Last) {
		s.Last = o.Last
	}
	return s
}

// steps prints the steps per second of campaigns (each, and all of them together when there
// are several: campaigns run at the same time share the wall time) from their histories, on
// the server of the TEMPORAL_* environment (load .dev/temporal-pg/env first).
func steps(ctx context.Context, out io.Writer, campaignIDs []string) error {
	tc, err := config.Temporal(ctx, nil)
	if err != nil {
		return err
	}
	defer tc.Close()
	var total stepCount
	for _, id := range campaignIDs {
		s, err := countSteps(ctx, tc, id)
		if err != nil {
			return err
		}
		s.print(out, id)
		total = total.add(s)
	}
	if len(campaignIDs) > 1 {
		total.print(out, fmt.Sprintf("all %d campaigns together", len(campaignIDs)))
	}
	return nil
}
