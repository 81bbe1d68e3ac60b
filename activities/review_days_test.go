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
// The quota it is judged on is the one in force on each of its days: the handover of its work
// keeps its quotas by day (before that, judged at the quota it kept, a terminated agent who had
// enrolled nobody had a share of 0 and was rewarded).
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
	assigned := d.count(`select target from quota_targets_by_day where campaign_id = $1 and level = 'agent' and code = 'DL-00010-2' and valid_from = '2020-12-31'`, campaignID)
	kept := d.quota("agent", "DL-00010-2")
	if kept != 2 {
		t.Fatalf("DL-00010-2 keeps a quota of %d after leaving, want the 2 it enrolled", kept)
	}
	pol := policy()
	pol.TerminateAfter = 1
	// DL-00001-3 enrolled nobody in its month: judged at the quota it had then, not rewarded.
	d.evaluate(ps[0], pol)
	if dec, _, why := d.decision("2021-Q1", "DL-00001-3"); dec == "reward" || dec == "terminate" {
		t.Errorf("DL-00001-3, who left on 1 February having enrolled nobody, is decided %s (%s)", dec, why)
	}
	s := d.evaluate(ps[1], pol)
	share, ok := d.quotaShare("2021-Q2", "DL-00010-2")
	// Judged on the quota it had while it worked: its assigned quota until 10 May, the 2 it
	// kept on its last day.
	if want := float64(assigned*40+kept*1) / 365; assigned <= kept || !ok || math.Abs(share-want) > 1e-9 {
		t.Errorf("DL-00010-2's Q2 quota share %v (reviewed %v), want %v (%d × 40 days + %d × its last day, ÷ 365)", share, ok, want, assigned, kept)
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
