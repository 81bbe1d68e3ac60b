package activities_test

import (
	"testing"

	"drives/activities"
	"drives/campaign"
	"drives/imports"
)

// An agent who resigns leaves the drive as an approved termination does: status left, the
// day and the reason; their open follow-ups, the rest of their quota and the people of the
// register they held go to the commune's other agents, the commune's quota unchanged; one
// audit row. Leaving again is refused: they are no longer active. Shown failing with the
// contract ended but nothing handed on (the follow-ups stayed with the leaver).
func TestAnAgentLeaves(t *testing.T) {
	d := newDrive(t)
	at := d.hold("conf-001")
	d.recordLeads("conf-001", 10, lead(61, "00001", "", "trader"), lead(62, "00001", "", "trader"), lead(63, "00001", "", "trader"))
	d.mergeWithPolicy(d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(
		enrolment{person: lead(64, "00001", "", "trader"), agent: "DL-00001-2", income: 2_000_000, class: "other", mode: "12m", on: "2021-02-01"})))
	open := d.count(`select count(*) from follow_ups where agent_code = 'DL-00001-2' and status = 'open'`)
	if open == 0 {
		t.Fatal("DL-00001-2 holds no open follow-up: the test shows nothing")
	}
	communeQuota := func() int {
		return d.count(`select coalesce(sum(q.target), 0) from quotas q join agents a on a.campaign_id = q.campaign_id and a.code = q.code
			where q.campaign_id = $1 and q.level = 'agent' and a.commune_code = '00001'`, campaignID)
	}
	before := communeQuota()
	res := mustCall[campaign.LeaveResult](d, d.acts.AgentLeaves, activities.LeaveInput{CampaignID: campaignID, At: at,
		Request: campaign.LeaveRequest{Agent: "DL-00001-2", Reason: "moved to Đà Nẵng", By: "coordinator-a"}})
	if res.Commune != "00001" || res.FollowUpsMoved != open || res.ParticipantsMoved != 1 || res.QuotaMoved == 0 || res.ToStaff {
		t.Errorf("leave: %+v, want %d follow-ups, 1 participant and quota moved to the commune's agents", res, open)
	}
	if n := d.count(`select count(*) from agents where code = 'DL-00001-2' and status = 'left' and termination_reason = 'moved to Đà Nẵng'`); n != 1 {
		t.Error("DL-00001-2 has not left with its reason")
	}
	if n := d.count(`select count(*) from follow_ups where agent_code = 'DL-00001-2' and status = 'open'`); n != 0 {
		t.Errorf("%d open follow-ups left with the leaver", n)
	}
	// Its quota less what it enrolled went to the others; the commune's sum is as it was.
	if after := communeQuota(); after != before {
		t.Errorf("commune 00001's quotas sum %d after, %d before", after, before)
	}
	if n := d.count(`select count(*) from audit_log where action = 'agent.leave' and entity_key = 'DL-00001-2' and actor = 'coordinator-a'`); n != 1 {
		t.Errorf("%d audit rows of the leaving, want 1", n)
	}
	_, err := call[campaign.LeaveResult](d, d.acts.AgentLeaves, activities.LeaveInput{CampaignID: campaignID, At: at,
		Request: campaign.LeaveRequest{Agent: "DL-00001-2", Reason: "again", By: "coordinator-a"}})
	wantErrType(t, err, activities.ErrNotFound)
}
