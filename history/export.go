// Package history gives auditors a drive's Temporal side: it exports every workflow run of a
// campaign (campaign, district drives, reviews; every run a continue-as-new made) in the JSON
// `temporal workflow show --output json` writes, with the campaign's audit rows and a manifest
// of hashes; checks an export offline (the files against the manifest, every history replayed
// against the current workflow code, every audited effect against its completed activity and
// back); and traces a report figure to the rows behind it and the history events that wrote
// them.
package history

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"drives/campaign"
	"drives/store"
)

// Manifest lists an export's files with their SHA-256.
type Manifest struct {
	CampaignID string    `json:"campaign_id"`
	ExportedAt time.Time `json:"exported_at"`
	Runs       []Run     `json:"runs"`
	AuditRows  int       `json:"audit_rows"`
	Files      []File    `json:"files"`
}

// Run is one exported workflow run.
type Run struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Type       string `json:"type"`
	Status     string `json:"status"`
	Events     int    `json:"events"`
	File       string `json:"file"`
}

// File is one exported file and its hash.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int    `json:"bytes"`
}

// AuditRow is an audit_log row as exported.
type AuditRow = store.ExportedAuditRow

// ManifestFile and AuditFile are the fixed names in an export.
const (
	ManifestFile = "manifest.json"
	AuditFile    = "audit_log.json"
	HistoryDir   = "histories"
)

// Runs lists every workflow run of a campaign, found by its CampaignId search attribute.
func Runs(ctx context.Context, tc client.Client, campaignID string) ([]Run, error) {
	var out []Run
	query := fmt.Sprintf("%s = %q", campaign.SearchCampaignID.GetName(), campaignID)
	var token []byte
	for {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list workflows of %s: %w", campaignID, err)
		}
		for _, e := range resp.Executions {
			out = append(out, Run{WorkflowID: e.Execution.WorkflowId, RunID: e.Execution.RunId, Type: e.Type.GetName(),
				Status: strings.TrimPrefix(e.Status.String(), "WORKFLOW_EXECUTION_STATUS_")})
		}
		if token = resp.NextPageToken; len(token) == 0 {
			break
		}
	}
	sortRuns(out)
	return out, nil
}

// Fetch reads one run's full history.
func Fetch(ctx context.Context, tc client.Client, workflowID, runID string) (*historypb.History, error) {
	h := &historypb.History{}
	it := tc.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s run %s: %w", workflowID, runID, err)
		}
		h.Events = append(h.Events, e)
	}
	return h, nil
}

func fileName(r Run) string {
	clean := strings.NewReplacer(":", "_", "/", "_").Replace(r.WorkflowID)
	return filepath.Join(HistoryDir, clean+"__"+r.RunID+".json")
}

// Export writes a campaign's histories, audit rows and manifest into dir (created if missing;
// it must be empty).
func Export(ctx context.Context, tc client.Client, db *pgxpool.Pool, campaignID, dir string) (*Manifest, error) {
	known, err := store.CampaignExists(ctx, db, campaignID)
	if err != nil {
		return nil, err
	}
	if !known {
		return nil, fmt.Errorf("unknown campaign %q", campaignID)
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("--out %s: not empty; export into a new folder", dir)
	}
	if err := os.MkdirAll(filepath.Join(dir, HistoryDir), 0o755); err != nil {
		return nil, err
	}
	runs, err := Runs(ctx, tc, campaignID)
	if err != nil {
		return nil, err
	}
	rows, err := AuditRows(ctx, db, campaignID)
	if err != nil {
		return nil, err
	}
	if runs, err = withAuditedRuns(ctx, tc, runs, rows); err != nil {
		return nil, err
	}
	m := &Manifest{CampaignID: campaignID, ExportedAt: time.Now().UTC()}
	write := func(path string, b []byte) error {
		if err := os.WriteFile(filepath.Join(dir, path), b, 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m.Files = append(m.Files, File{Path: path, SHA256: hex.EncodeToString(sum[:]), Bytes: len(b)})
		return nil
	}
	for _, r := range runs {
		h, err := Fetch(ctx, tc, r.WorkflowID, r.RunID)
		if err != nil {
			return nil, err
		}
		b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
		if err != nil {
			return nil, err
		}
		r.Events, r.File = len(h.Events), fileName(r)
		if err := write(r.File, b); err != nil {
			return nil, err
		}
		m.Runs = append(m.Runs, r)
	}
	b, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		return nil, err
	}
	m.AuditRows = len(rows)
	if err := write(AuditFile, b); err != nil {
		return nil, err
	}
	mb, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return m, os.WriteFile(filepath.Join(dir, ManifestFile), mb, 0o644)
}

// withAuditedRuns adds to runs every run an audit row of the campaign names that the listing
// by search attribute did not find: the import retention's, which serves every campaign and
// carries none of their IDs.
func withAuditedRuns(ctx context.Context, tc client.Client, runs []Run, rows []AuditRow) ([]Run, error) {
	listed := map[string]bool{}
	for _, r := range runs {
		listed[r.WorkflowID+"\x00"+r.RunID] = true
	}
	added := false
	for _, a := range rows {
		if a.ActivityID == nil || a.WorkflowID == nil || a.RunID == nil || listed[*a.WorkflowID+"\x00"+*a.RunID] {
			continue
		}
		listed[*a.WorkflowID+"\x00"+*a.RunID] = true
		d, err := tc.DescribeWorkflowExecution(ctx, *a.WorkflowID, *a.RunID)
		if err != nil {
			return nil, fmt.Errorf("run %s of %s, named by audit row %d: %w", *a.RunID, *a.WorkflowID, a.ID, err)
		}
		info := d.WorkflowExecutionInfo
		runs = append(runs, Run{WorkflowID: *a.WorkflowID, RunID: *a.RunID, Type: info.Type.GetName(),
			Status: strings.TrimPrefix(info.Status.String(), "WORKFLOW_EXECUTION_STATUS_")})
		added = true
	}
	if added {
		sortRuns(runs)
	}
	return runs, nil
}

func sortRuns(runs []Run) {
	sort.Slice(runs, func(i, j int) bool {
		if runs[i].WorkflowID != runs[j].WorkflowID {
			return runs[i].WorkflowID < runs[j].WorkflowID
		}
		return runs[i].RunID < runs[j].RunID
	})
}

// AuditRows reads a campaign's audit rows in order.
func AuditRows(ctx context.Context, db *pgxpool.Pool, campaignID string) ([]AuditRow, error) {
	return store.ExportedAuditRows(ctx, db, campaignID)
}
