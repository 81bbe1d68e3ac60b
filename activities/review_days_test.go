package activities_test

import (
	"math"
	"testing"
	"time"

	"drives/activities"
	"drives/campaign"
	"drives/imports"
)

// quotaShare is a review's quota share of an agent; false when the review did not review it.
func (d *drive) quotaShare(period, agent string) (float64, bool) {
	d.t.Helper()
	var f float64
	err := d.pool.QueryRow(d.ctx, `select quota_share from review_decisions where campaign_id = $1 and period = $2 and agent_code = $3`,
		campaignID, period, agent).Scan(&f)
	return f, err == nil
}

// Reviews judge an agent whose contract ended during the window on the days it was active, and
// do not review one who left before the window; one who has left is not proposed for
// termination. Shown failing without DecideAgents' active days: the leaver was not reviewed.
func TestReviewsJudgeALeaverOnItsDays(t *testing.T) {
	d := newDrive(t)
	ps := reviewPeriods(t, d)
	// DL-00010-2 enrols two people in March (so it keeps a quota of 2 when it leaves) and leaves
	// on 11 May at 09:00 (41 days of Q2 active, 11 May included); DL-00001-3 leaves on 1
	// February (not active in Q2).
	d.merge(d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(
		enrolment{lead(1, "00010", "00010-01", "student"), "DL-00010-2", 700_000, "poor", "6m", "2021-03-11"},
		enrolment{lead(2, "00010", "00010-02", "trader"), "DL-00010-2", 1_500_000, "other", "monthly", "2021-03-12"},
	)))
	mustCall[campaign.LeaveResult](d, d.acts.AgentLeaves, activities.LeaveInput{CampaignID: campaignID, At: local(t, "2021-05-11").Add(9 * time.Hour),
		Request: campaign.LeaveRequest{Agent: "DL-00010-2", Reason: "moved", By: "coordinator-a"}})
	mustCall[campaign.LeaveResult](d, d.acts.AgentLeaves, activities.LeaveInput{CampaignID: campaignID, At: local(t, "2021-02-01"),
		Request: campaign.LeaveRequest{Agent: "DL-00001-3", Reason: "moved", By: "coordinator-a"}})
	kept := d.quota("agent", "DL-00010-2")
	if kept != 2 {
		t.Fatalf("DL-00010-2 keeps a quota of %d after leaving, want the 2 it enrolled", kept)
	}
	pol := policy()
	pol.TerminateAfter = 1
	s := d.evaluate(ps[1], pol)
	share, ok := d.quotaShare("2021-Q2", "DL-00010-2")
	if want := float64(kept) * 41 / 365; !ok || math.Abs(share-want) > 1e-9 {
		t.Errorf("DL-00010-2's Q2 quota share %v (reviewed %v), want %v (%d × 41 days active ÷ 365)", share, ok, want, kept)
	}
	if dec, _, why := d.decision("2021-Q2", "DL-00010-2"); dec == "terminate" {
		t.Errorf("DL-00010-2, who has left, is proposed for termination (%s)", why)
	}
	if _, ok := d.quotaShare("2021-Q2", "DL-00001-3"); ok {
		t.Error("Q2 reviewed DL-00001-3, who left in Q1")
	}
	if s.Agents != 10 {
		t.Errorf("Q2 reviewed %d, want the 10 active in it (11 less the one who left in Q1)", s.Agents)
	}
}
