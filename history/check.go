package history

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"

	"drives/workflows"
)

// Problem is one thing an export check found wrong.
type Problem struct {
	Where string `json:"where"`
	What  string `json:"what"`
}

func (p Problem) String() string { return p.Where + ": " + p.What }

// CheckResult is what Check found.
type CheckResult struct {
	CampaignID string    `json:"campaign_id"`
	Runs       int       `json:"runs"`
	Events     int       `json:"events"`
	AuditRows  int       `json:"audit_rows"`
	Effects    int       `json:"effects"` // completed effect-writing activities
	Problems   []Problem `json:"problems"`
}

// activityOf names the activity that writes an audit action.
func activityOf(action string) string {
	switch action {
	case "quotas.allocate":
		return "AllocateQuotas"
	case "agents.assign":
		return "AssignAgents"
	case "review.schedule":
		return "CreateReviewSchedule"
	case "review.schedule_stop":
		return "StopReviewSchedule"
	case "event.add":
		return "AddEvent"
	case "event.cancel":
		return "CancelEvent"
	case "district.advance":
		return "AdvanceDistrict"
	case "follow_ups.sweep":
		return "SweepFollowUps"
	case "event.results":
		return "RecordEventResult"
	case "import.merge":
		return "MergeImport"
	case "field.fold":
		return "FoldFieldEnrolments"
	case "campaign.close":
		return "CloseCampaign"
	case "review.evaluate":
		return "EvaluateAgents"
	case "review.terminate", "review.reject":
		return "DecideTermination"
	case "review.escalate":
		return "EscalateUndecided"
	case "import.expire":
		return "ExpireImports"
	case "plan.revise":
		return "ApplyRevision"
	case "agent.leave":
		return "AgentLeaves"
	case "agent.move":
		return "AgentMoves"
	case "agents.join":
		return "AgentsJoin"
	}
	if strings.HasPrefix(action, "campaign.") {
		return "SetStatus"
	}
	return ""
}

// readOnly are the activities that write nothing, so have no audit row.
var readOnly = map[string]bool{"LoadPlan": true}

// Check checks an export in dir without any server: every file against the manifest, every
// history replayed against the current workflow code, every audited effect against its
// completed activity in the histories, and every completed effect-writing activity against its
// audit row.
//
// dc decodes the payloads for the replay: the payload codec's data converter when the histories
// were encrypted, nil otherwise.
func Check(dir string, dc converter.DataConverter) (*CheckResult, error) {
	mb, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestFile, err)
	}
	var m Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestFile, err)
	}
	res := &CheckResult{CampaignID: m.CampaignID, Runs: len(m.Runs)}
	bad := func(where, format string, args ...any) {
		res.Problems = append(res.Problems, Problem{Where: where, What: fmt.Sprintf(format, args...)})
	}

	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Path] = true
		b, err := os.ReadFile(filepath.Join(dir, f.Path))
		if err != nil {
			bad(f.Path, "missing: %v", err)
			continue
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f.SHA256 {
			bad(f.Path, "content differs from the manifest (sha256 %s, manifest %.16s…)", hex.EncodeToString(sum[:])[:16], f.SHA256)
		}
	}
	extra, _ := filepath.Glob(filepath.Join(dir, HistoryDir, "*.json"))
	for _, p := range extra {
		rel, _ := filepath.Rel(dir, p)
		if !listed[rel] {
			bad(rel, "not in the manifest")
		}
	}

	// Completed activities of every run, by workflow/run/activity ID. The import retention's
	// runs serve every campaign: of their activities, only those audited for this campaign
	// belong to it.
	completed := map[string]string{}
	shared := map[string]bool{}
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc})
	if err != nil {
		return nil, err
	}
	workflows.Register(replayer, nil)
	for _, r := range m.Runs {
		b, err := os.ReadFile(filepath.Join(dir, r.File))
		if err != nil {
			continue // reported above
		}
		h, err := client.HistoryFromJSON(bytes.NewReader(b), client.HistoryJSONOptions{})
		if err != nil {
			bad(r.File, "not a history: %v", err)
			continue
		}
		res.Events += len(h.Events)
		typ := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()
		if typ != r.Type {
			bad(r.File, "a %s history, the manifest says %s", typ, r.Type)
		}
		if typ == workflows.ImportRetentionWorkflowName {
			shared[r.WorkflowID+"\x00"+r.RunID] = true
		}
		if len(h.Events) != r.Events {
			bad(r.File, "%d events, the manifest says %d", len(h.Events), r.Events)
		}
		if err := replayer.ReplayWorkflowHistory(nil, h); err != nil {
			bad(r.File, "does not replay against the current workflow code: %v", err)
		}
		for k, v := range completedActivities(r.WorkflowID, r.RunID, h) {
			completed[k] = v
		}
	}

	ab, err := os.ReadFile(filepath.Join(dir, AuditFile))
	if err != nil {
		bad(AuditFile, "missing: %v", err)
		return res, nil
	}
	var rows []AuditRow
	if err := json.Unmarshal(ab, &rows); err != nil {
		bad(AuditFile, "not audit rows: %v", err)
		return res, nil
	}
	res.AuditRows = len(rows)
	if len(rows) != m.AuditRows {
		bad(AuditFile, "%d rows, the manifest says %d", len(rows), m.AuditRows)
	}
	audited := map[string]bool{}
	for _, a := range rows {
		if a.ActivityID == nil {
			continue // written by a person's command (a staged import), not by an activity
		}
		where := fmt.Sprintf("%s row %d (%s)", AuditFile, a.ID, a.Action)
		k := key(deref(a.WorkflowID), deref(a.RunID), *a.ActivityID)
		if audited[k] {
			bad(where, "a second audit row for activity %s of %s run %s", *a.ActivityID, deref(a.WorkflowID), deref(a.RunID))
		}
		audited[k] = true
		typ, ok := completed[k]
		switch {
		case !ok:
			bad(where, "no completed activity %s in the history of %s run %s", *a.ActivityID, deref(a.WorkflowID), deref(a.RunID))
		case typ != activityOf(a.Action):
			bad(where, "activity %s of %s is %s, which does not write %s", *a.ActivityID, deref(a.WorkflowID), typ, a.Action)
		}
	}
	keys := make([]string, 0, len(completed))
	for k := range completed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts := strings.SplitN(k, "\x00", 3)
		if readOnly[completed[k]] || (shared[parts[0]+"\x00"+parts[1]] && !audited[k]) {
			continue
		}
		res.Effects++
		if !audited[k] {
			bad(fmt.Sprintf("history of %s run %s", parts[0], parts[1]), "completed activity %s (%s) has no audit row", parts[2], completed[k])
		}
	}
	return res, nil
}

func key(workflowID, runID, activityID string) string {
	return workflowID + "\x00" + runID + "\x00" + activityID
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// completedActivities maps each completed activity of a run to its type.
func completedActivities(workflowID, runID string, h *historypb.History) map[string]string {
	scheduled := map[int64][2]string{}
	out := map[string]string{}
	for _, e := range h.Events {
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
			scheduled[e.EventId] = [2]string{a.ActivityId, a.ActivityType.GetName()}
		}
		if a := e.GetActivityTaskCompletedEventAttributes(); a != nil {
			s := scheduled[a.ScheduledEventId]
			out[key(workflowID, runID, s[0])] = s[1]
		}
	}
	return out
}
