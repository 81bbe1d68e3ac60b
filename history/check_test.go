package history_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"drives/history"
)

// The recorded run of an agent review: workflow review:itest-2021:2021-Q1, its one activity
// (ID 5) EvaluateAgents, completed.
const (
	reviewFile  = "review_itest_2021_2021_Q1.json"
	reviewWF    = "review:itest-2021:2021-Q1"
	reviewRun   = "01a227cd-7538-7003-ba58-4c1f17e4679f"
	reviewEvent = 11
)

func ptr[T any](v T) *T { return &v }

// evaluated is the audit row EvaluateAgents wrote for the recorded review.
func evaluated(id int64) history.AuditRow {
	return history.AuditRow{ID: id, CampaignID: "itest-2021", RecordedAt: time.Date(2021, 4, 1, 0, 0, 0, 0, time.UTC),
		Actor: "system", Action: "review.evaluate", Entity: "review", EntityKey: "2021-Q1",
		WorkflowID: ptr(reviewWF), RunID: ptr(reviewRun), ActivityID: ptr("5"), Attempt: ptr[int32](1),
		Detail: json.RawMessage(`{}`), Result: json.RawMessage(`null`)}
}

// export is an export on disk, written as Export writes one: histories, audit rows, manifest.
type export struct {
	t       *testing.T
	dir     string
	history []byte
	rows    []history.AuditRow
}

func newExport(t *testing.T) *export {
	return &export{t: t, dir: t.TempDir(), history: load(t, reviewFile).raw, rows: []history.AuditRow{evaluated(1)}}
}

// write writes the files and a manifest that agrees with them.
func (e *export) write() {
	e.t.Helper()
	must := func(err error) {
		if err != nil {
			e.t.Fatal(err)
		}
	}
	m := history.Manifest{CampaignID: "itest-2021", ExportedAt: time.Now().UTC(), AuditRows: len(e.rows)}
	put := func(rel string, b []byte) {
		must(os.MkdirAll(filepath.Dir(filepath.Join(e.dir, rel)), 0o755))
		must(os.WriteFile(filepath.Join(e.dir, rel), b, 0o644))
		sum := sha256.Sum256(b)
		m.Files = append(m.Files, history.File{Path: rel, SHA256: hex.EncodeToString(sum[:]), Bytes: len(b)})
	}
	run := history.Run{WorkflowID: reviewWF, RunID: reviewRun, Type: "AgentReviewWorkflow", Status: "COMPLETED",
		Events: reviewEvent, File: filepath.Join(history.HistoryDir, "review_itest-2021_2021-Q1__"+reviewRun+".json")}
	put(run.File, e.history)
	m.Runs = []history.Run{run}
	rows, err := json.MarshalIndent(e.rows, "", "  ")
	must(err)
	put(history.AuditFile, rows)
	mb, err := json.MarshalIndent(m, "", "  ")
	must(err)
	must(os.WriteFile(filepath.Join(e.dir, history.ManifestFile), mb, 0o644))
}

func (e *export) check() *history.CheckResult {
	e.t.Helper()
	res, err := history.Check(e.dir, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// problems are the check's problems as text.
func problems(res *history.CheckResult) string {
	var s []string
	for _, p := range res.Problems {
		s = append(s, p.String())
	}
	return strings.Join(s, "\n")
}

// An intact export passes: one run replayed, its one effect matched to its audit row.
func TestCheckPassesAnIntactExport(t *testing.T) {
	e := newExport(t)
	e.write()
	res := e.check()
	if len(res.Problems) != 0 {
		t.Fatalf("problems in an intact export:\n%s", problems(res))
	}
	if res.CampaignID != "itest-2021" || res.Runs != 1 || res.Events != reviewEvent || res.AuditRows != 1 || res.Effects != 1 {
		t.Errorf("result %+v, want 1 run of %d events, 1 audit row, 1 effect", res, reviewEvent)
	}
}

// Every way an export can disagree with itself is found, and said where.
//
// Shown failing on purpose: with Check no longer comparing file hashes, "a history changed
// after export" found nothing; with the completed-activity-without-row loop removed, "an audit
// row deleted" found nothing; with the replay's error ignored, "a history the workflow code
// did not write" no longer said it does not replay.
func TestCheckFindsEachTampering(t *testing.T) {
	for _, c := range []struct {
		name  string
		spoil func(e *export) // changes the export after (or before) it is written
		want  []string        // each a problem's text, in part
	}{
		{"a history changed after export", func(e *export) {
			e.write()
			f := filepath.Join(e.dir, history.HistoryDir, "review_itest-2021_2021-Q1__"+reviewRun+".json")
			b, _ := os.ReadFile(f)
			_ = os.WriteFile(f, bytes.Replace(b, []byte(`"attempt": 1`), []byte(`"attempt": 2`), 1), 0o644)
		}, []string{"content differs from the manifest"}},
		{"the audit file changed after export", func(e *export) {
			e.write()
			f := filepath.Join(e.dir, history.AuditFile)
			b, _ := os.ReadFile(f)
			_ = os.WriteFile(f, bytes.Replace(b, []byte(`"system"`), []byte(`"someone"`), 1), 0o644)
		}, []string{history.AuditFile + ": content differs from the manifest"}},
		{"a file not in the manifest", func(e *export) {
			e.write()
			_ = os.WriteFile(filepath.Join(e.dir, history.HistoryDir, "extra.json"), []byte(`{}`), 0o644)
		}, []string{filepath.Join(history.HistoryDir, "extra.json") + ": not in the manifest"}},
		{"a history file missing", func(e *export) {
			e.write()
			_ = os.Remove(filepath.Join(e.dir, history.HistoryDir, "review_itest-2021_2021-Q1__"+reviewRun+".json"))
		}, []string{"missing", "no completed activity 5 in the history of " + reviewWF}},
		{"an audit row deleted", func(e *export) {
			e.rows = nil
			e.write()
		}, []string{"completed activity 5 (EvaluateAgents) has no audit row"}},
		{"an audit row for an activity that never ran", func(e *export) {
			r := evaluated(2)
			r.ActivityID = ptr("99")
			e.rows = append(e.rows, r)
			e.write()
		}, []string{"row 2 (review.evaluate): no completed activity 99"}},
		{"an audit row written twice", func(e *export) {
			e.rows = append(e.rows, evaluated(2))
			e.write()
		}, []string{"row 2 (review.evaluate): a second audit row for activity 5"}},
		{"an audit row of another effect", func(e *export) {
			e.rows[0].Action = "review.terminate"
			e.write()
		}, []string{"activity 5 of " + reviewWF + " is EvaluateAgents, which does not write review.terminate"}},
		{"a history the workflow code did not write", func(e *export) {
			e.history = bytes.ReplaceAll(e.history, []byte(`"EvaluateAgents"`), []byte(`"EvaluateAgentsLater"`))
			e.write()
		}, []string{"does not replay against the current workflow code", "is EvaluateAgentsLater, which does not write review.evaluate"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newExport(t)
			c.spoil(e)
			got := problems(e.check())
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("problems do not say %q:\n%s", w, got)
				}
			}
		})
	}
}

// An export without its manifest is refused with the manifest's name.
func TestCheckWithoutManifest(t *testing.T) {
	_, err := history.Check(t.TempDir(), nil)
	if err == nil || !strings.Contains(err.Error(), history.ManifestFile) {
		t.Errorf("error %v, want one naming %s", err, history.ManifestFile)
	}
}
