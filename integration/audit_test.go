package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"

	"drives/history"
	"drives/report"
)

// checkAudit exports a finished campaign, checks the export, tampers with it in the ways an
// auditor must catch, and traces a report figure back to its rows and history events.
func checkAudit(t *testing.T, ctx context.Context, s *stack, campaignID string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "export")
	m, err := history.Export(ctx, s.tc, s.db, campaignID, dir)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(m.Runs), 3+4, "the campaign, two districts and four reviews at least")
	res, err := history.Check(dir, s.dc)
	require.NoError(t, err)
	require.Empty(t, res.Problems)
	require.Equal(t, count(t, s.db, `select count(*) from audit_log where campaign_id = $1 and activity_id is not null`, campaignID), res.Effects)

	// No personal data went into Temporal: every payload of every exported history is decoded
	// (and decrypted, where the codec encrypted it) and searched for the citizen ID, name and
	// phone of every person and agent of the campaign.
	var files []string
	for _, r := range m.Runs {
		files = append(files, r.File)
	}
	payloads := exportedPayloads(t, s.dc, dir, files)
	require.Greater(t, len(payloads), 100, "the histories' payloads were found and decoded")
	rows, err := s.db.Query(ctx, `select citizen_id, full_name, phone from enrolments where campaign_id = $1
		union all select citizen_id, full_name, phone from prospects where campaign_id = $1
		union all select '', full_name, phone from agents where campaign_id = $1`, campaignID)
	require.NoError(t, err)
	var people []person
	for rows.Next() {
		var p person
		require.NoError(t, rows.Scan(&p.citizenID, &p.name, &p.phone))
		people = append(people, p)
	}
	require.NoError(t, rows.Err())
	require.Greater(t, len(people), 40)
	require.Empty(t, personalDataIn(payloads, people), "personal data in the histories' payloads")

	// The control: a history with one person's name planted in an Update's argument, encoded
	// (and encrypted) like every payload of the run, must be caught; so must one with a citizen
	// ID in an activity's result.
	require.NotEmpty(t, people[1].citizenID, "person 1 is an enrolment or a prospect")
	planted := plantedHistory(t, s.dc, people[0].name, people[1].citizenID)
	found := personalDataIn(decodedPayloads(t, s.dc, "planted", planted), people)
	require.Contains(t, found, "the name of person 0", "the check finds a name planted in a payload")
	require.Contains(t, found, "the citizen ID of person 1", "the check finds a citizen ID planted in a payload")
	if s.dc != nil {
		raw, err := protojson.Marshal(planted)
		require.NoError(t, err)
		require.NotContains(t, string(raw), people[0].name, "the planted payload is encrypted: only decoding finds it")
	}

	// A history altered after the export: its hash no longer matches.
	tampered := filepath.Join(t.TempDir(), "tampered")
	require.NoError(t, os.CopyFS(tampered, os.DirFS(dir)))
	f := filepath.Join(tampered, m.Runs[0].File)
	b, err := os.ReadFile(f)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(f, append(b, ' '), 0o644))
	res, err = history.Check(tampered, s.dc)
	require.NoError(t, err)
	require.NotEmpty(t, res.Problems)
	require.Contains(t, res.Problems[0].String(), "content differs from the manifest")

	// An audit row removed, and the manifest rewritten to hide it: the completed activity
	// without its row gives it away.
	tampered2 := filepath.Join(t.TempDir(), "tampered2")
	require.NoError(t, os.CopyFS(tampered2, os.DirFS(dir)))
	var audit []history.AuditRow
	ab, err := os.ReadFile(filepath.Join(tampered2, history.AuditFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(ab, &audit))
	var dropped history.AuditRow
	for i, a := range audit {
		if a.Action == "import.merge" {
			dropped = a
			audit = append(audit[:i], audit[i+1:]...)
			break
		}
	}
	ab, err = json.Marshal(audit)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tampered2, history.AuditFile), ab, 0o644))
	var man history.Manifest
	mb, err := os.ReadFile(filepath.Join(tampered2, history.ManifestFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(mb, &man))
	sum := sha256.Sum256(ab)
	for i := range man.Files {
		if man.Files[i].Path == history.AuditFile {
			man.Files[i].SHA256 = hex.EncodeToString(sum[:])
		}
	}
	man.AuditRows--
	mb, err = json.Marshal(man)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(tampered2, history.ManifestFile), mb, 0o644))
	res, err = history.Check(tampered2, s.dc)
	require.NoError(t, err)
	require.Len(t, res.Problems, 1)
	require.Contains(t, res.Problems[0].String(), "completed activity "+*dropped.ActivityID+" (MergeImport) has no audit row")

	// From a report figure to its rows and history events.
	rep, err := report.Load(ctx, s.db, campaignID)
	require.NoError(t, err)
	var district report.UnitLine
	for _, u := range rep.Units {
		if u.Code == "001" {
			district = u
		}
	}
	tr, err := (&history.Tracer{DB: s.db, Temporal: s.tc}).Unit(ctx, campaignID, "001", "")
	require.NoError(t, err)
	require.Equal(t, district.Target, tr.Figures[0].Value)
	require.Equal(t, district.Enrolled, tr.Figures[1].Value)
	for _, w := range tr.Figures[1].Writes {
		require.Equal(t, "import.merge", w.Action)
		require.NotZero(t, w.CompletedEventID, "each merge is placed in its workflow history")
		require.Greater(t, w.CompletedEventID, w.ScheduledEventID)
	}
}
