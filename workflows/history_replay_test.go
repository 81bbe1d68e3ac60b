package workflows_test

import (
	"os"
	"path/filepath"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"drives/campaign"
	"drives/workflows"
)

// The histories in testdata were recorded on a real dev server, from synthetic plans, without
// the payload codec (so they can be read):
//
//   - campaign_itest_2021*, review_itest_2021_*: a year of the integration drive with its field,
//     by `go test ./integration -run TestDriveEndToEnd -record`;
//   - *_replay_2021*: a drive whose campaign, district drives and hand-taken review continue as
//     new, and whose reviews' proposed terminations are approved, rejected, escalated and carried
//     out by the policy, with the schedule's workflows that started one of them and found
//     another under review already, and a retention of staged imports, by
//     `go test ./integration -run TestReviewsAndContinueAsNew -record`.
//
// Re-record them when a change to the workflows is meant to change their commands (and make
// sure no run of the old code is still open, or version the change).

// TestReplayRecordedHistories replays every recorded history against the current workflow code:
// a change that would make running drives non-deterministic fails here. It does, for changes
// only the *_replay_2021* histories reach: a review that escalates without carrying out the
// auto-terminations (review.escalate returning after EscalateUndecided) fails
// review_replay_2021_2021_Q1 and review_replay_2021_2021_Q2_run2 ("lookup failed for
// scheduledEventID to activityID"); one that escalates where it continued as new fails
// review_replay_2021_2021_Q2_run1 ("extra replay command for ScheduleActivityTask …
// EscalateUndecided"); a campaign that no longer continues as new from its loop fails
// campaign_replay_2021_run2 ("replay workflow doesn't return the same result as the last event").
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("want the recorded campaign and district histories in testdata, found %d files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			workflows.Register(r, nil)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("%s does not replay: %v", f, err)
			}
		})
	}
}

// facts is what TestRecordedHistoriesCoverEveryShape reads off one recorded history.
type facts struct {
	workflowType   string
	continued      bool // the run was started by a continue-as-new
	continuesAsNew bool // the run ended by continuing as new
	completed      bool
	scheduled      bool // started by a Temporal Schedule
	childStarted   bool
	childRefused   bool // a child's start failed (its workflow ID was taken)
	timerFired     bool
	updates        map[string]int // accepted Updates by name
	completedActs  map[string]int // completed activities by type
	afterEscalate  map[string]int // activities scheduled after an EscalateUndecided completed
}

func readFacts(t *testing.T, file string) facts {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	x := facts{updates: map[string]int{}, completedActs: map[string]int{}, afterEscalate: map[string]int{}}
	scheduled := map[int64]string{}
	escalated := false
	for _, e := range h.Events {
		switch a := e.Attributes.(type) {
		case *historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes:
			x.workflowType = a.WorkflowExecutionStartedEventAttributes.WorkflowType.GetName()
			x.continued = a.WorkflowExecutionStartedEventAttributes.ContinuedExecutionRunId != ""
			_, x.scheduled = a.WorkflowExecutionStartedEventAttributes.GetSearchAttributes().GetIndexedFields()["TemporalScheduledStartTime"]
		case *historypb.HistoryEvent_WorkflowExecutionUpdateAcceptedEventAttributes:
			x.updates[a.WorkflowExecutionUpdateAcceptedEventAttributes.GetAcceptedRequest().GetInput().GetName()]++
		case *historypb.HistoryEvent_ActivityTaskScheduledEventAttributes:
			typ := a.ActivityTaskScheduledEventAttributes.ActivityType.GetName()
			scheduled[e.EventId] = typ
			if escalated {
				x.afterEscalate[typ]++
			}
		case *historypb.HistoryEvent_ActivityTaskCompletedEventAttributes:
			typ := scheduled[a.ActivityTaskCompletedEventAttributes.ScheduledEventId]
			x.completedActs[typ]++
			if typ == "EscalateUndecided" {
				escalated = true
			}
		case *historypb.HistoryEvent_ChildWorkflowExecutionStartedEventAttributes:
			x.childStarted = true
		case *historypb.HistoryEvent_StartChildWorkflowExecutionFailedEventAttributes:
			x.childRefused = true
		case *historypb.HistoryEvent_TimerFiredEventAttributes:
			x.timerFired = true
		}
	}
	switch h.Events[len(h.Events)-1].EventType {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		x.continuesAsNew = true
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
		x.completed = true
	}
	return x
}

// TestRecordedHistoriesCoverEveryShape names the shapes of run the replay test must see, and
// fails, naming the shape, when no recorded history has it: deleting or re-recording a history
// cannot quietly leave a path of the workflow code without a replay.
func TestRecordedHistoriesCoverEveryShape(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all []facts
	for _, f := range files {
		all = append(all, readFacts(t, f))
	}
	const (
		cw = campaign.CampaignWorkflowName
		dw = campaign.DistrictWorkflowName
		rw = campaign.ReviewWorkflowName
		sw = campaign.ScheduledReviewWorkflowName
	)
	shapes := []struct {
		name string
		has  func(x facts) bool
	}{
		{"a campaign run that continues as new", func(x facts) bool { return x.workflowType == cw && x.continuesAsNew }},
		{"a campaign run continued from another that continues as new again (from its loop)",
			func(x facts) bool { return x.workflowType == cw && x.continued && x.continuesAsNew }},
		{"a continued campaign run that completes", func(x facts) bool { return x.workflowType == cw && x.continued && x.completed }},
		{"a campaign run steered by Updates", func(x facts) bool {
			return x.workflowType == cw && x.updates[campaign.UpdateAddEvent] > 0 && x.updates[campaign.UpdateCancelEvent] > 0
		}},
		{"a district run that continues as new", func(x facts) bool { return x.workflowType == dw && x.continuesAsNew }},
		{"a continued district run that completes", func(x facts) bool { return x.workflowType == dw && x.continued && x.completed }},
		{"a review started by the schedule's workflow", func(x facts) bool { return x.workflowType == sw && x.scheduled && x.childStarted && x.completed }},
		{"a review started by the schedule's workflow for a period under review already (a trigger)", func(x facts) bool {
			return x.workflowType == sw && x.scheduled && x.childRefused && x.completed
		}},
		{"a review whose approval wait ran out with terminations approved and rejected, escalated and carried out by the policy",
			func(x facts) bool {
				return x.workflowType == rw && !x.continued && x.completed && x.timerFired &&
					x.updates[campaign.UpdateApproveTermination] > 0 && x.updates[campaign.UpdateRejectTermination] > 0 &&
					x.completedActs["EscalateUndecided"] > 0 && x.afterEscalate["DecideTermination"] > 0
			}},
		{"a review that continues as new after a decision", func(x facts) bool {
			return x.workflowType == rw && x.continuesAsNew && x.updates[campaign.UpdateApproveTermination]+x.updates[campaign.UpdateRejectTermination] > 0
		}},
		{"a continued review that escalates and carries out a termination", func(x facts) bool {
			return x.workflowType == rw && x.continued && x.completed && x.completedActs["EscalateUndecided"] > 0 && x.afterEscalate["DecideTermination"] > 0
		}},
		{"a review that proposes nothing (the campaign's final review)", func(x facts) bool {
			return x.workflowType == rw && x.completed && !x.timerFired && len(x.updates) == 0 && x.completedActs["EvaluateAgents"] == 1
		}},
		{"a campaign that waits for its final review", func(x facts) bool { return x.workflowType == cw && x.completed && x.childStarted }},
		{"a retention of staged imports that expires a campaign's batches", func(x facts) bool {
			return x.workflowType == workflows.ImportRetentionWorkflowName && x.completed && x.completedActs["ExpireImports"] > 0
		}},
	}
	for _, s := range shapes {
		n := 0
		for _, x := range all {
			if s.has(x) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("no recorded history is %s: re-record with `go test ./integration -run TestReviewsAndContinueAsNew -record`", s.name)
		}
	}
}
