package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"drives/accounts"
	"drives/coordinator"
	"drives/plan"
)

// A revision of the running campaign's plan, made as `starter plan revise` makes it, is on
// the campaign's page for the coordinator and the auditor (when it applies, who made it and
// why, the city's and the district's targets before and after) and not for a district officer,
// whose page is their district's.
func planRevisions(t *testing.T, s *site) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := t.TempDir()
	for _, f := range []string{"plan.yaml", "units.csv", "villages.csv", "roster.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		require.NoError(t, err)
		if f == "plan.yaml" {
			b = []byte(strings.Replace(string(b), "  share: 0.01\n", "  share: 0.01\n  overrides: {\"001\": 90}\n", 1))
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	revised, err := plan.Load(filepath.Join(dir, "plan.yaml"))
	require.NoError(t, err)
	old := s.lp.Allocation()
	_, res, err := s.co.Revise(ctx, coordinator.Revision{CampaignID: campaignID, File: "plan.yaml", Revised: revised,
		Reason: "thành phố giao thêm chỉ tiêu", By: "lan"}, false)
	require.NoError(t, err)
	require.Equal(t, 1, res.Number)
	require.Equal(t, 90, res.Districts["001"])

	var v struct {
		Revisions []struct {
			Number    int    `json:"number"`
			By        string `json:"revised_by"`
			Reason    string `json:"reason"`
			City      struct{ Old, New int }
			Districts []struct {
				Code     string
				Old, New int
			} `json:"districts"`
		} `json:"revisions"`
	}
	r := s.api(http.MethodGet, "/api/campaigns/"+campaignID, coordToken, "", nil)
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	require.NoError(t, json.Unmarshal([]byte(r.Body), &v))
	require.NotContains(t, r.Body, `"Old"`, "the revisions' keys are lower snake case, as the API's others")
	require.Contains(t, r.Body, `"old":`)
	require.Len(t, v.Revisions, 1, r.Body)
	got := v.Revisions[0]
	require.Equal(t, 1, got.Number)
	require.Equal(t, "lan", got.By)
	require.Equal(t, "thành phố giao thêm chỉ tiêu", got.Reason)
	require.Equal(t, old.City, got.City.Old)
	require.Equal(t, old.City-old.Districts["001"]+90, got.City.New)
	require.Len(t, got.Districts, 1)
	require.Equal(t, "001", got.Districts[0].Code)
	require.Equal(t, old.Districts["001"], got.Districts[0].Old)
	require.Equal(t, 90, got.Districts[0].New)
	// The page shows the same line.
	page := s.api(http.MethodGet, "/campaigns/"+campaignID+"?lang=en", coordToken, "", nil)
	require.Contains(t, page.Body, `data-testid="revision-row" data-number="1"`)
	require.Contains(t, page.Body, "thành phố giao thêm chỉ tiêu")

	st := &accounts.Store{DB: s.db}
	for _, a := range []struct {
		name string
		spec accounts.Spec
		sees bool
	}{
		{"auditor", accounts.Spec{Role: accounts.RoleAuditor}, true},
		{"district", accounts.Spec{Role: accounts.RoleDistrict, Districts: []string{"001"}}, false},
	} {
		a.spec.Name, a.spec.Token = "rev-"+a.name, "revision-token-of-"+a.name+"-0123456789"
		_, err := st.Add(ctx, "test", a.spec)
		require.NoError(t, err)
		r := s.api(http.MethodGet, "/api/campaigns/"+campaignID, a.spec.Token, "", nil)
		require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
		require.Equal(t, a.sees, strings.Contains(r.Body, `"revised_by"`), "%s: %s", a.name, r.Body)
	}
}
