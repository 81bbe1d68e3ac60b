package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"drives/activities"
	"drives/campaign"
	"drives/internal/fixture"
	"drives/plan"
)

// After a review, `starter review list --format json` is the object docs/API.md shows — the
// campaign, each period's totals and the decisions — not a bare array; an unknown period is
// refused by name; and `starter report` holds the review totals in its table, JSON and CSV
// (they were printed by `starter demo` only).
func TestReviewListAndReportHoldTheReviews(t *testing.T) {
	ctx := context.Background()
	pool := commandDB(t)
	c := fixture.Seed(t, pool)
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := plan.ReviewPeriods(plan.DefaultReviewCron, loc, c.Spec.PeriodStart, c.Spec.PeriodEnd)
	if err != nil || len(ps) == 0 {
		t.Fatalf("review periods: %v %v", ps, err)
	}
	pol := plan.ReviewPolicy{RewardAt: 1, WarnBelow: 0.6, TerminateBelow: 0.3, TerminateAfter: 1,
		Reward: plan.Reward{Kind: "bonus", Amount: 500_000}, ApprovalWait: plan.Duration(14 * 24 * time.Hour), CommendTop: 2}
	s := fixture.MustCall[campaign.ReviewSummary](c, c.Acts.EvaluateAgents, activities.EvaluateInput{
		CampaignID: fixture.CampaignID, WorkflowID: campaign.ReviewWorkflowID(fixture.CampaignID, ps[0].Label), Period: ps[0], Policy: pol})
	reviewed := s.Rewarded + s.Commended + s.Retained + s.Warned + s.Proposed
	if reviewed == 0 {
		t.Fatal("the review decided nothing")
	}

	out, err := starter(ctx, "review", "list", fixture.CampaignID, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Campaign string `json:"campaign"`
		Totals   []struct {
			Period   string `json:"period"`
			Agents   int    `json:"agents"`
			Proposed int    `json:"proposed"`
		} `json:"totals"`
		Decisions []struct {
			Period string `json:"period"`
			Agent  string `json:"agent"`
		} `json:"decisions"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("review list --format json is not an object: %v\n%.200s", err, out)
	}
	if list.Campaign != fixture.CampaignID || len(list.Totals) != 1 || list.Totals[0].Period != ps[0].Label ||
		list.Totals[0].Agents != reviewed || list.Totals[0].Proposed != s.Proposed || len(list.Decisions) != reviewed {
		t.Errorf("review list: campaign %q, totals %+v, %d decisions; want %s, one period %s of %d agents (%d proposed), %d decisions",
			list.Campaign, list.Totals, len(list.Decisions), fixture.CampaignID, ps[0].Label, reviewed, s.Proposed, reviewed)
	}
	if _, err := starter(ctx, "review", "list", fixture.CampaignID, "--period", "2099-Q9"); err == nil ||
		!strings.Contains(err.Error(), `has no review "2099-Q9"`) {
		t.Errorf("review list of an unknown period: %v, want it refused by name", err)
	}

	table, err := starter(ctx, "report", fixture.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table, "agent reviews (starter review list") || !strings.Contains(table, ps[0].Label) {
		t.Errorf("the report's table has no review totals:\n%s", table)
	}
	js, err := starter(ctx, "report", fixture.CampaignID, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Reviews []struct {
			Period string `json:"period"`
			Agents int    `json:"agents"`
		} `json:"reviews"`
	}
	if err := json.Unmarshal([]byte(js), &r); err != nil || len(r.Reviews) != 1 || r.Reviews[0].Agents != reviewed {
		t.Errorf("the report's JSON reviews: %+v %v, want %s of %d agents", r.Reviews, err, ps[0].Label, reviewed)
	}
	out, err = starter(ctx, "report", fixture.CampaignID, "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, rec := range recs[1:] {
		line := map[string]string{}
		for i, col := range recs[0] {
			line[col] = rec[i]
		}
		if line["section"] == "review" && line["code"] == ps[0].Label && line["reviewed"] != "" {
			found = line["reviewed"] == strconv.Itoa(reviewed)
		}
	}
	if !found {
		t.Errorf("the report's CSV has no review line of %s with %d reviewed:\n%s", ps[0].Label, reviewed, out)
	}
}
