package web_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rosterCounts reads the test plan's roster and units files: every agent's code, and how many
// agents each district, commune and kind has — the totals the lists must give, counted here
// from the files and not by the product's queries.
func rosterCounts(t *testing.T) (codes []string, byDistrict, byCommune, byKind map[string]int) {
	t.Helper()
	read := func(name string) [][]string {
		f, err := os.Open(filepath.Join("testdata", name))
		require.NoError(t, err)
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		require.NoError(t, err)
		return rows[1:]
	}
	district := map[string]string{}
	for _, u := range read("units.csv") {
		district[u[3]] = u[0]
	}
	byDistrict, byCommune, byKind = map[string]int{}, map[string]int{}, map[string]int{}
	for _, a := range read("roster.csv") {
		codes = append(codes, a[0])
		byCommune[a[1]]++
		byDistrict[district[a[1]]]++
		byKind[a[2]]++
	}
	slices.Sort(codes)
	return codes, byDistrict, byCommune, byKind
}

type agentsAnswer struct {
	Page   struct{ Offset, Limit, Total int } `json:"page"`
	Agents []struct {
		Code    string `json:"code"`
		Commune string `json:"commune"`
		Kind    string `json:"kind"`
		Quota   int    `json:"quota"`
	} `json:"agents"`
}

func testListsPaged(t *testing.T, s *site, coord *browser) {
	codes, byDistrict, byCommune, byKind := rosterCounts(t)
	get := func(query string) agentsAnswer {
		t.Helper()
		res := s.api("GET", "/api/campaigns/"+campaignID+"/agents"+query, coordToken, "", nil)
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		var a agentsAnswer
		require.NoError(t, json.Unmarshal([]byte(res.Body), &a))
		return a
	}

	// Pages of 3 by code, walked to the end: every agent once, in order, with the exact total.
	var seen []string
	for off := 0; off < len(codes)+3; off += 3 {
		a := get("?limit=3&offset=" + strconv.Itoa(off))
		assert.Equal(t, len(codes), a.Page.Total)
		assert.Equal(t, off, a.Page.Offset)
		assert.LessOrEqual(t, len(a.Agents), 3)
		for _, x := range a.Agents {
			seen = append(seen, x.Code)
		}
	}
	assert.Equal(t, codes, seen, "pages of 3 by code give every agent once")

	desc := get("?sort=code&order=desc&limit=500")
	got := []string{}
	for _, x := range desc.Agents {
		got = append(got, x.Code)
	}
	want := slices.Clone(codes)
	slices.Reverse(want)
	assert.Equal(t, want, got)

	byQuota := get("?sort=quota&order=desc&limit=500")
	for i := 1; i < len(byQuota.Agents); i++ {
		assert.GreaterOrEqual(t, byQuota.Agents[i-1].Quota, byQuota.Agents[i].Quota, "by quota, largest first")
	}
	checkQuotas(t, s)

	for d, n := range byDistrict {
		a := get("?district=" + d + "&limit=1")
		assert.Equal(t, n, a.Page.Total, "district %s", d)
		assert.Len(t, a.Agents, 1)
	}
	for c, n := range byCommune {
		a := get("?commune=" + c)
		assert.Equal(t, n, a.Page.Total, "commune %s", c)
		for _, x := range a.Agents {
			assert.Equal(t, c, x.Commune)
		}
	}
	for k, n := range byKind {
		assert.Equal(t, n, get("?kind="+k).Page.Total, "kind %s", k)
	}
	assert.Equal(t, 0, get("?commune=nowhere").Page.Total)

	for _, bad := range []string{"?sort=phone", "?order=up", "?limit=0", "?limit=100000", "?offset=-1"} {
		res := s.api("GET", "/api/campaigns/"+campaignID+"/agents"+bad, coordToken, "", nil)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, bad)
	}

	// The page says where it is: "1–3 of N", and links to the next page.
	d := coord.page("/campaigns/" + campaignID + "/agents?limit=3&sort=code")
	p := d.all("pager")[0] // above the table and below it
	assert.Equal(t, strconv.Itoa(len(codes)), p.attr("data-total"))
	assert.Equal(t, "1", p.attr("data-from"))
	assert.Equal(t, "3", p.attr("data-to"))
	assert.Len(t, d.all("agent-row"), 3)
	assert.Equal(t, "?limit=3&offset=3&sort=code", d.all("page-next")[0].attr("href"))
}

// testDecisionsPaged reads a review period's decisions (one per agent and staff member of the
// roster, all active when the first review runs) a page at a time and filtered.
func testDecisionsPaged(t *testing.T, s *site, period string) {
	codes, byDistrict, byCommune, _ := rosterCounts(t)
	type answer struct {
		Page      struct{ Offset, Limit, Total int } `json:"page"`
		Decisions []struct {
			Agent    string `json:"agent"`
			Commune  string `json:"commune"`
			Decision string `json:"decision"`
		} `json:"decisions"`
	}
	get := func(query string) answer {
		t.Helper()
		res := s.api("GET", "/api/campaigns/"+campaignID+"/reviews?period="+period+query, coordToken, "", nil)
		require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
		var a answer
		require.NoError(t, json.Unmarshal([]byte(res.Body), &a))
		return a
	}
	var seen []string
	for off := 0; off < len(codes)+4; off += 4 {
		a := get("&limit=4&offset=" + strconv.Itoa(off))
		assert.Equal(t, len(codes), a.Page.Total)
		for _, d := range a.Decisions {
			seen = append(seen, d.Agent)
		}
	}
	slices.Sort(seen)
	assert.Equal(t, codes, seen, "pages of 4 give every decision once")
	for d, n := range byDistrict {
		assert.Equal(t, n, get("&district="+d).Page.Total, "district %s", d)
	}
	for c, n := range byCommune {
		a := get("&commune=" + c)
		assert.Equal(t, n, a.Page.Total, "commune %s", c)
		for _, d := range a.Decisions {
			assert.Equal(t, c, d.Commune)
		}
	}
	sum := 0
	for _, k := range []string{"reward", "commend", "retain", "warn", "terminate"} {
		a := get("&decision=" + k)
		sum += a.Page.Total
		for _, d := range a.Decisions {
			assert.Equal(t, k, d.Decision)
		}
	}
	assert.Equal(t, len(codes), sum, "every decision is of one kind")
}

// checkQuotas reads every agent's line and checks that the quota it shows is the agent's quota
// as the quota rows have it (the list is ordered by the copy on the agent's row).
func checkQuotas(t *testing.T, s *site) {
	t.Helper()
	res := s.api("GET", "/api/campaigns/"+campaignID+"/agents?sort=quota&limit=500", coordToken, "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	var a agentsAnswer
	require.NoError(t, json.Unmarshal([]byte(res.Body), &a))
	require.NotEmpty(t, a.Agents)
	for i, x := range a.Agents {
		want := s.count(`select coalesce((select target from quotas where campaign_id = $1 and level = 'agent' and code = $2), 0)`, campaignID, x.Code)
		assert.Equal(t, want, x.Quota, "agent %s's quota", x.Code)
		if i > 0 {
			assert.LessOrEqual(t, a.Agents[i-1].Quota, x.Quota, "by quota, smallest first")
		}
	}
}

// agentsTotal is the exact total of the agents' list with these filters.
func agentsTotal(t *testing.T, s *site, query string) int {
	t.Helper()
	res := s.api("GET", "/api/campaigns/"+campaignID+"/agents"+query, coordToken, "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	var a agentsAnswer
	require.NoError(t, json.Unmarshal([]byte(res.Body), &a))
	return a.Page.Total
}

// pendingTotal is the reviews page's exact number of terminations waiting on a coordinator.
func pendingTotal(t *testing.T, s *site) int {
	t.Helper()
	res := s.api("GET", "/api/campaigns/"+campaignID+"/reviews", coordToken, "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	var v struct {
		PendingTotal int `json:"pending_total"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.Body), &v))
	return v.PendingTotal
}
