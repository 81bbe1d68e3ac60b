package activities_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"drives/activities"
	"drives/campaign"
	"drives/imports"
	"drives/internal/testenv"
	"drives/plan"
	"drives/store"
)

// reviews of the fixture campaign: quarterly, default policy.
func reviewPeriods(t *testing.T, d *drive) []plan.ReviewPeriod {
	t.Helper()
	ps, err := plan.ReviewPeriods(plan.DefaultReviewCron, hcm, d.spec.PeriodStart, d.spec.PeriodEnd)
	if err != nil || len(ps) != 4 {
		t.Fatalf("review periods: %v %v", ps, err)
	}
	return ps
}

func (d *drive) evaluate(p plan.ReviewPeriod, policy plan.ReviewPolicy) campaign.ReviewSummary {
	d.t.Helper()
	return mustCall[campaign.ReviewSummary](d, d.acts.EvaluateAgents, activities.EvaluateInput{
		CampaignID: campaignID, WorkflowID: campaign.ReviewWorkflowID(campaignID, p.Label), Period: p, Policy: policy})
}

func (d *drive) decision(period, agent string) (decision, status, rationale string) {
	d.t.Helper()
	if err := d.pool.QueryRow(d.ctx, `select decision, status, review_rationale(r) from review_decisions r
		where campaign_id = $1 and period = $2 and agent_code = $3`, campaignID, period, agent).Scan(&decision, &status, &rationale); err != nil {
		d.t.Fatalf("decision on %s in %s: %v", agent, period, err)
	}
	return
}

func policy() plan.ReviewPolicy {
	return plan.ReviewPolicy{RewardAt: 1, WarnBelow: 0.6, TerminateBelow: 0.3, TerminateAfter: 2,
		Reward: plan.Reward{Kind: "bonus", Amount: 500_000}, ApprovalWait: plan.Duration(14 * 24 * time.Hour), CommendTop: 2}
}

// A year of reviews of the fixture's agents: the policy table, the consecutive-period rule,
// idempotent re-runs, and terminations whose work and quota pass to the commune, exactly.
func TestReviewDecisionsAndTerminations(t *testing.T) {
	d := newDrive(t)
	ps := reviewPeriods(t, d)
	pol := policy()

	// Q1: DL-00001-1 enrols well above its share; a lead is open with DL-00001-2 and one with
	// DL-00003-1; nobody else enrols.
	var quota int
	if err := d.pool.QueryRow(d.ctx, `select target from quotas where campaign_id = $1 and level = 'agent' and code = 'DL-00001-1'`, campaignID).Scan(&quota); err != nil {
		t.Fatal(err)
	}
	var es []enrolment
	for i := 0; i < quota; i++ {
		es = append(es, enrolment{person: lead(100+i, "00001", "00001-01", "trader"), agent: "DL-00001-1",
			income: 1_000_000, class: "other", mode: "monthly", on: "2021-02-10"})
	}
	d.merge(d.stage(imports.Enrolments, "", "q1.csv", enrolmentsCSV(es...)))
	d.hold("conf-001")
	d.recordLeads("conf-001", 10, lead(1, "00001", "00001-01", "trader"), lead(2, "00001", "00001-02", "trader"),
		lead(3, "00001", "00001-01", "student"), lead(4, "00003", "00003-01", "trader"))

	q1 := d.evaluate(ps[0], pol)
	if q1.Period != "2021-Q1" || q1.Agents != 11 || q1.Rewarded != 1 {
		t.Fatalf("Q1 summary %+v", q1)
	}
	dec, status, why := d.decision("2021-Q1", "DL-00001-1")
	if dec != "reward" || status != "final" {
		t.Errorf("DL-00001-1 in Q1: %s/%s (%s), want reward", dec, status, why)
	}
	var kind string
	var amount int64
	if err := d.pool.QueryRow(d.ctx, `select reward_kind, reward_amount from review_decisions where period = '2021-Q1' and agent_code = 'DL-00001-1'`).Scan(&kind, &amount); err != nil || kind != "bonus" || amount != 500_000 {
		t.Errorf("reward recorded as %q %d (%v), want bonus 500000", kind, amount, err)
	}
	// An agent holding open work with no enrolment in the window is proposed at once.
	holders := map[string]bool{}
	var holding []string
	if err := d.pool.QueryRow(d.ctx, `select coalesce(array_agg(distinct agent_code), '{}') from follow_ups where status = 'open'`).Scan(&holding); err != nil {
		t.Fatal(err)
	}
	for _, a := range holding {
		holders[a] = true
	}
	proposed := d.proposed("2021-Q1")
	for _, a := range proposed {
		if !holders[a] {
			t.Errorf("Q1 proposes %s, who holds no open work and had no earlier review", a)
		}
	}
	if len(proposed) == 0 {
		t.Errorf("Q1 proposes nobody; agents %v hold open work without enrolling", holders)
	}
	if q1.Proposed != len(proposed) {
		t.Errorf("Q1 summary counts %d proposals, review_decisions holds %d (%v)", q1.Proposed, len(proposed), proposed)
	}
	// Staff are warned, never proposed.
	if dec, _, why := d.decision("2021-Q1", "CB-00002"); dec != "warn" {
		t.Errorf("staff CB-00002 in Q1: %s (%s), want warn", dec, why)
	}
	// An agent with nothing enrolled and nothing open is only warned in its first low review.
	if dec, _, why := d.decision("2021-Q1", "DL-00010-2"); dec != "warn" {
		t.Errorf("DL-00010-2 in Q1: %s (%s), want warn", dec, why)
	}
	if c := d.count(`select count(*) from commendations where period = '2021-Q1' and level = 'commune'`); c != 2 {
		t.Errorf("%d communes commended, want commend_top = 2", c)
	}
	if c := d.count(`select count(*) from commendations where period = '2021-Q1' and level = 'commune' and rank = 1 and unit_code = '00001'`); c != 1 {
		t.Errorf("commune 00001 (the only enrolments) is not ranked first")
	}

	// A re-run or a backfilled duplicate changes nothing.
	again := d.evaluate(ps[0], pol)
	if fmt.Sprint(again) != fmt.Sprint(q1) {
		t.Errorf("re-run of Q1: %+v, want %+v", again, q1)
	}
	if n := d.count(`select count(*) from review_decisions where period = '2021-Q1'`); n != 11 {
		t.Errorf("%d Q1 decisions after a re-run, want 11", n)
	}

	// Q2: nobody enrols. A second low review in a row proposes DL-00010-2 (no open work: the
	// consecutive rule); DL-00001-1, rewarded in Q1 but now holding a lead without enrolling
	// anyone, is proposed by the open-work rule.
	q2 := d.evaluate(ps[1], pol)
	if dec, _, why := d.decision("2021-Q2", "DL-00010-2"); dec != "terminate" || !strings.Contains(why, "for 2 consecutive reviews") {
		t.Errorf("DL-00010-2 in Q2: %s (%s), want terminate after two low reviews", dec, why)
	}
	if dec, _, why := d.decision("2021-Q2", "DL-00001-1"); dec != "terminate" || !strings.Contains(why, "no enrolment in the window while holding 1 open") {
		t.Errorf("DL-00001-1 in Q2: %s (%s), want terminate for holding open work without enrolling", dec, why)
	}
	if dec, _, _ := d.decision("2021-Q2", "CB-00001"); dec == "terminate" {
		t.Error("staff proposed for termination")
	}

	// A commune's quota is held by its active agents and staff, plus what its terminated agents
	// enrolled before they left (they keep that much, no more): the terminated agents' quotas
	// are counted by their enrolments, not by their quota rows.
	communeSum := func(c string) (held, commune int) {
		t.Helper()
		if err := d.pool.QueryRow(d.ctx, `select
			(select coalesce(sum(q.target), 0) from quotas q join agents a on a.campaign_id = q.campaign_id and a.code = q.code
			 where q.campaign_id = $1 and q.level = 'agent' and a.commune_code = $2 and a.status = 'active')
			+ (select count(*) from enrolments e join agents a on a.campaign_id = e.campaign_id and a.code = e.agent_code
			 where e.campaign_id = $1 and a.commune_code = $2 and a.status = 'terminated'),
			(select target from quotas where campaign_id = $1 and level = 'commune' and code = $2)`, campaignID, c).Scan(&held, &commune); err != nil {
			t.Fatalf("quotas of commune %s: %v", c, err)
		}
		return
	}
	// activeQuota sums the quotas of a commune's active agents and staff.
	activeQuota := func(c string) int {
		t.Helper()
		return d.count(`select coalesce(sum(q.target), 0) from quotas q join agents a on a.campaign_id = q.campaign_id and a.code = q.code
			where q.campaign_id = $1 and q.level = 'agent' and a.commune_code = $2 and a.status = 'active'`, campaignID, c)
	}

	// Approving DL-00001-2's termination hands its follow-up and remaining quota to the other
	// agents of commune 00001, in one transaction; the commune's quota still sums exactly.
	// What is to move is known before the call: the agent's quota less what it enrolled.
	// Shown failing by making DecideTermination move nothing (its remaining quota taken as 0):
	// the old checks, transfers against the result and a sum that counted the terminated
	// agent's own quota, passed; these fail.
	openBefore := d.count(`select count(*) from follow_ups where agent_code = 'DL-00001-2' and status = 'open'`)
	quotaBefore := d.count(`select target from quotas where campaign_id = $1 and level = 'agent' and code = 'DL-00001-2'`, campaignID)
	enrolledBefore := d.count(`select count(*) from enrolments where campaign_id = $1 and agent_code = 'DL-00001-2'`, campaignID)
	othersBefore := activeQuota("00001") - quotaBefore
	wantMoved := max(quotaBefore-enrolledBefore, 0)
	if wantMoved == 0 {
		t.Fatalf("DL-00001-2 has quota %d and %d enrolments: nothing to move, the test shows nothing", quotaBefore, enrolledBefore)
	}
	// Two people of the register the agent holds (beside any it enrolled): held by the takers after.
	d.exec(`insert into participants (register_id, citizen_id, full_name, phone, district_code, commune_code, target_group,
		agent_code, monthly_income, subsidy_class, joined_on, cover_anchor, months_paid, campaign_id)
		select $1, '00888888888' || g, 'x', '0900000000', '001', '00001', 'trader', 'DL-00001-2', 2000000, 'other', '2020-01-01', '2021-01-01', 12, $1
		from generate_series(1, 2) g`, campaignID)
	heldBefore := d.count(`select count(*) from participants where agent_code = 'DL-00001-2'`)
	res := mustCall[campaign.DecisionResult](d, d.acts.DecideTermination, activities.DecideInput{
		CampaignID: campaignID, Period: "2021-Q2", Approve: true, At: ps[1].End,
		Decision: campaign.TerminationDecision{Agent: "DL-00001-2", Reason: "no enrolment in two quarters", By: "coordinator-a"}})
	if res.ParticipantsMoved != heldBefore || d.count(`select count(*) from participants p join agents a on a.campaign_id = p.campaign_id and a.code = p.agent_code
		where p.citizen_id like '00888888888%' and a.commune_code = '00001' and a.kind = 'agent' and a.status = 'active'`) != 2 {
		t.Errorf("approve DL-00001-2: %d of its %d participants moved; want all, to the commune's active agents", res.ParticipantsMoved, heldBefore)
	}
	if res.Status != "approved" || res.FollowUpsMoved != openBefore || res.ToStaff {
		t.Errorf("approve DL-00001-2: %+v, want approved, %d follow-ups moved to agents", res, openBefore)
	}
	if n := d.count(`select count(*) from agents where code = 'DL-00001-2' and status = 'terminated' and termination_reason = 'no enrolment in two quarters'`); n != 1 {
		t.Error("DL-00001-2 is not terminated with its reason")
	}
	if n := d.count(`select count(*) from follow_ups where agent_code = 'DL-00001-2' and status = 'open'`); n != 0 {
		t.Errorf("%d open follow-ups left with the terminated agent", n)
	}
	if n := d.count(`select count(*) from follow_ups f join agents a on a.campaign_id = f.campaign_id and a.code = f.agent_code
		where f.reassigned_from = 'DL-00001-2' and (a.commune_code <> '00001' or a.kind <> 'agent' or a.status <> 'active')`); n != 0 {
		t.Errorf("%d follow-ups went to someone outside the commune's active agents", n)
	}
	if res.QuotaMoved != wantMoved {
		t.Errorf("the result moves %d of DL-00001-2's quota, want %d (quota %d less %d enrolled)", res.QuotaMoved, wantMoved, quotaBefore, enrolledBefore)
	}
	if moved := d.count(`select coalesce(sum(amount), 0) from quota_transfers where from_agent = 'DL-00001-2'`); moved != wantMoved {
		t.Errorf("quota transfers from DL-00001-2 sum to %d, want %d", moved, wantMoved)
	}
	if kept := d.count(`select target from quotas where campaign_id = $1 and level = 'agent' and code = 'DL-00001-2'`, campaignID); kept != enrolledBefore {
		t.Errorf("DL-00001-2 keeps a quota of %d, want the %d it enrolled", kept, enrolledBefore)
	}
	if others := activeQuota("00001"); others != othersBefore+wantMoved {
		t.Errorf("commune 00001's active agents hold %d, want %d + %d moved", others, othersBefore, wantMoved)
	}
	if a, c := communeSum("00001"); a != c {
		t.Errorf("commune 00001: agents' quotas sum to %d, commune quota %d", a, c)
	}
	// A second approval changes nothing and says so.
	res = mustCall[campaign.DecisionResult](d, d.acts.DecideTermination, activities.DecideInput{
		CampaignID: campaignID, Period: "2021-Q2", Approve: true, At: ps[1].End,
		Decision: campaign.TerminationDecision{Agent: "DL-00001-2", Reason: "again", By: "coordinator-b"}})
	if !res.Already || res.Status != "approved" {
		t.Errorf("second approval: %+v, want already approved", res)
	}

	// DL-00003-1 is commune 00003's only agent: its work goes to the commune's staff, flagged.
	if dec, status, _ := d.decision("2021-Q2", "DL-00003-1"); dec == "terminate" && status == "pending" {
		res = mustCall[campaign.DecisionResult](d, d.acts.DecideTermination, activities.DecideInput{
			CampaignID: campaignID, Period: "2021-Q2", Approve: true, At: ps[1].End,
			Decision: campaign.TerminationDecision{Agent: "DL-00003-1", Reason: "left the area", By: "coordinator-a"}})
		if !res.ToStaff {
			t.Errorf("DL-00003-1's work: %+v, want to staff", res)
		}
		if n := d.count(`select count(*) from follow_ups where reassigned_from = 'DL-00003-1' and (agent_code <> 'CB-00003' or not held_by_staff)`); n != 0 {
			t.Errorf("%d of DL-00003-1's follow-ups are not with staff CB-00003, flagged", n)
		}
		if a, c := communeSum("00003"); a != c {
			t.Errorf("commune 00003: quotas sum to %d, commune quota %d", a, c)
		}
	} else {
		t.Errorf("DL-00003-1 holds an open follow-up and enrolled nobody: want a pending termination in Q2")
	}

	// Rejecting keeps the agent; what nobody decides is escalated at the end of the wait.
	res = mustCall[campaign.DecisionResult](d, d.acts.DecideTermination, activities.DecideInput{
		CampaignID: campaignID, Period: "2021-Q2", Approve: false, At: ps[1].End,
		Decision: campaign.TerminationDecision{Agent: "DL-00010-2", Reason: "new in the job", By: "coordinator-a"}})
	if res.Status != "rejected" || d.count(`select count(*) from agents where code = 'DL-00010-2' and status = 'active'`) != 1 {
		t.Errorf("reject DL-00010-2: %+v; the agent must stay active", res)
	}
	var pendingLeft []string
	if err := d.pool.QueryRow(d.ctx, `select coalesce(array_agg(agent_code order by agent_code), '{}') from review_decisions
		where period = '2021-Q2' and status = 'pending'`).Scan(&pendingLeft); err != nil {
		t.Fatal(err)
	}
	if len(pendingLeft) == 0 {
		t.Fatal("nothing left pending in Q2 to escalate")
	}
	// With auto_terminate the workflow asks for the codes, as it terminates each.
	escalated := mustCall[activities.EscalateResult](d, d.acts.EscalateUndecided, activities.EscalateInput{
		CampaignID: campaignID, Period: "2021-Q2", At: ps[1].End.Add(14 * 24 * time.Hour), ListAgents: true})
	if escalated.Escalated != len(pendingLeft) || !slices.Equal(escalated.Agents, pendingLeft) {
		t.Errorf("escalated %+v, want the %v still pending", escalated, pendingLeft)
	}
	if n := d.count(`select count(*) from review_decisions where period = '2021-Q2' and status = 'escalated' and agent_code = any($1)`, pendingLeft); n != len(pendingLeft) {
		t.Errorf("%d of the %d pending are escalated in review_decisions", n, len(pendingLeft))
	}
	// A coordinator may still decide an escalated agent; the result says it overrules the escalation.
	res = mustCall[campaign.DecisionResult](d, d.acts.DecideTermination, activities.DecideInput{
		CampaignID: campaignID, Period: "2021-Q2", Approve: false, At: ps[1].End.Add(15 * 24 * time.Hour),
		Decision: campaign.TerminationDecision{Agent: pendingLeft[0], Reason: "late, but improving", By: "coordinator-a"}})
	if res.Status != "rejected" || !res.WasEscalated || res.Already {
		t.Errorf("rejecting escalated %s: %+v, want rejected, was escalated", pendingLeft[0], res)
	}
	if n := d.count(`select count(*) from agents a join review_decisions r on r.agent_code = a.code
		where r.period = '2021-Q2' and r.status = 'escalated' and a.status <> 'active'`); n != 0 {
		t.Errorf("%d escalated agents were terminated without auto_terminate", n)
	}
	if q2.Agents != 11 || q2.Proposed != len(d.proposed("2021-Q2")) {
		t.Errorf("Q2 reviewed %d and proposed %d; want 11, and the %d review_decisions proposes", q2.Agents, q2.Proposed, len(d.proposed("2021-Q2")))
	}
}

// proposed lists the agents whose termination a period's review proposed.
func (d *drive) proposed(period string) []string {
	d.t.Helper()
	var out []string
	if err := d.pool.QueryRow(d.ctx, `select coalesce(array_agg(agent_code order by agent_code), '{}') from review_decisions
		where campaign_id = $1 and period = $2 and decision = 'terminate'`, campaignID, period).Scan(&out); err != nil {
		d.t.Fatal(err)
	}
	return out
}

// A decision on an agent whose termination was not proposed in the period — never reviewed,
// rewarded, or proposed in another period — fails, not retried, with the coordinator's words,
// and writes nothing: no decision, no termination, no audit row.
func TestDecideTerminationRefusesAnAgentNotProposed(t *testing.T) {
	d := newDrive(t)
	ps := reviewPeriods(t, d)
	pol := policy()
	d.hold("conf-001")
	d.recordLeads("conf-001", 10, lead(1, "00001", "00001-02", "trader"))
	d.evaluate(ps[0], pol)
	holder := d.proposed("2021-Q1")
	if len(holder) == 0 {
		t.Fatal("Q1 proposes nobody; the test needs one proposal")
	}
	var notProposed string
	if err := d.pool.QueryRow(d.ctx, `select agent_code from review_decisions where period = '2021-Q1' and decision <> 'terminate'
		and kind = 'agent' order by agent_code limit 1`).Scan(&notProposed); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ name, period, agent string }{
		{"an agent reviewed but not proposed", "2021-Q1", notProposed},
		{"an agent unknown", "2021-Q1", "DL-99999-9"},
		{"an agent proposed in another period", "2021-Q2", holder[0]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := testenv.Fingerprint(t, d.pool)
			for _, approve := range []bool{true, false} {
				_, err := call[campaign.DecisionResult](d, d.acts.DecideTermination, activities.DecideInput{
					CampaignID: campaignID, Period: tc.period, Approve: approve, At: ps[0].End,
					Decision: campaign.TerminationDecision{Agent: tc.agent, Reason: "no enrolment", By: "coordinator-a"}})
				wantErrType(t, err, activities.ErrNotFound)
				var app *temporal.ApplicationError
				if !errors.As(err, &app) || !app.NonRetryable() {
					t.Errorf("approve=%v: %v; want a non-retryable application error", approve, err)
				}
				if want := fmt.Sprintf("agent: %q has no termination pending in review %s", tc.agent, tc.period); !strings.Contains(err.Error(), want) {
					t.Errorf("approve=%v: error %q, want %q", approve, err, want)
				}
			}
			// Shown failing by planting an update of one agent's quota after the calls.
			if after := testenv.Fingerprint(t, d.pool); !maps.Equal(after, before) {
				t.Errorf("refused decisions changed the database: %v, was %v", after, before)
			}
		})
	}
}

// A bad quarter of a large campaign proposes thousands of agents: the evaluation's result and
// the escalation's stay small (counts, not lists), in Temporal and in the audit log, and the
// escalation is one statement over every proposal still undecided.
func TestReviewWithThousandsOfProposalsReturnsCounts(t *testing.T) {
	const extra = 5000
	d := newDrive(t)
	ps := reviewPeriods(t, d)
	pol := policy()
	pol.TerminateAfter = 1 // one low review proposes
	// 5,000 more agents in commune 00001, each with a quota and no enrolment: all score below
	// terminate_below.
	d.exec(`insert into agents (campaign_id, code, commune_code, district_code, kind, post_office, full_name, phone, weight)
		select a.campaign_id, 'DL-X' || lpad(g::text, 5, '0'), a.commune_code, a.district_code, 'agent', false, 'synthetic', '', 1
		from agents a, generate_series(1, $2::int) g where a.campaign_id = $1 and a.code = 'DL-00001-1'`, campaignID, extra)
	d.exec(`insert into quotas (campaign_id, level, code, target)
		select campaign_id, 'agent', code, 40 from agents where campaign_id = $1 and code like 'DL-X%'`, campaignID)

	s := d.evaluate(ps[0], pol)
	stored := len(d.proposed("2021-Q1"))
	if stored < extra || s.Proposed != stored {
		t.Fatalf("summary proposes %d, review_decisions %d; want at least the %d added agents", s.Proposed, stored, extra)
	}
	small := func(what string, v any) {
		t.Helper()
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 512 {
			t.Errorf("%s is %d bytes of JSON for %d proposals; it must not grow with them", what, len(b), stored)
		}
	}
	small("EvaluateAgents' result", s)
	if n := d.count(`select max(length(result::text)) from audit_log where campaign_id = $1 and action = 'review.evaluate'`, campaignID); n > 512 {
		t.Errorf("the evaluation's audit row stores a result of %d bytes", n)
	}

	// Two coordinators' decisions, then the wait ends: every other proposal is escalated at once.
	for i, approve := range []bool{true, false} {
		mustCall[campaign.DecisionResult](d, d.acts.DecideTermination, activities.DecideInput{
			CampaignID: campaignID, Period: "2021-Q1", Approve: approve, At: ps[0].End,
			Decision: campaign.TerminationDecision{Agent: fmt.Sprintf("DL-X%05d", i+1), Reason: "no enrolment", By: "coordinator-a"}})
	}
	e := mustCall[activities.EscalateResult](d, d.acts.EscalateUndecided, activities.EscalateInput{
		CampaignID: campaignID, Period: "2021-Q1", At: ps[0].End.Add(14 * 24 * time.Hour)})
	if e.Escalated != stored-2 || e.Agents != nil {
		t.Errorf("escalation returned %d escalated and %d codes; want %d and no list", e.Escalated, len(e.Agents), stored-2)
	}
	small("EscalateUndecided's result", e)
	if n := d.count(`select count(*) from review_decisions where period = '2021-Q1' and status = 'escalated'`); n != stored-2 {
		t.Errorf("%d escalated in review_decisions, want %d", n, stored-2)
	}
	if n := d.count(`select count(*) from review_decisions where period = '2021-Q1' and status in ('approved', 'rejected')`); n != 2 {
		t.Errorf("the escalation touched the decided: %d approved or rejected left, want 2", n)
	}
	if n := d.count(`select count(*) from audit_log where campaign_id = $1 and action = 'review.escalate'`, campaignID); n != 1 {
		t.Errorf("%d escalation audit rows, want one for the whole period", n)
	}
}

// The decisions a review copies in beside its transaction (a connection of its own computes
// them) are, row for row, those the single INSERT … SELECT records (the way of a period decided
// already): the same figures, scores, decisions and types, on a drive with enrolments, open
// leads and an earlier review.
func TestReviewDecisionsCopiedBesideAreThoseOfOneStatement(t *testing.T) {
	d := newDrive(t)
	ps := reviewPeriods(t, d)
	pol := policy()
	var es []enrolment
	for i := 0; i < 30; i++ {
		agent := []string{"DL-00001-1", "DL-00001-2"}[i%2] // DL-00003-1 enrols nobody, and holds a lead
		commune := agent[3:8]
		es = append(es, enrolment{person: lead(100+i, commune, commune+"-01", "trader"), agent: agent,
			income: 1_000_000, class: "other", mode: "monthly", on: fmt.Sprintf("2021-%02d-10", 2+i%5)})
	}
	d.merge(d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(es...)))
	d.hold("conf-001")
	d.recordLeads("conf-001", 10, lead(1, "00001", "00001-01", "trader"), lead(2, "00001", "00001-02", "trader"),
		lead(4, "00003", "00003-01", "trader"))
	d.evaluate(ps[0], pol) // an earlier review, which the next one's streaks read

	p := ps[1]
	ev := store.Evaluation{CampaignID: campaignID, WindowStart: p.Start, WindowEnd: p.End, QuotaShare: 0.25,
		FromDay: time.Date(2021, 4, 1, 0, 0, 0, 0, time.UTC), ToDay: time.Date(2021, 7, 1, 0, 0, 0, 0, time.UTC),
		AttainmentCap: 2, AttainmentWeight: 0.7, OnTimeWeight: 0.2, RenewalWeight: 0.1,
		RewardAt: 0.5, WarnBelow: 0.6, TerminateBelow: 0.3, TerminateAfter: 2, RewardKind: "bonus", RewardAmount: 500_000,
		PeriodDays: 365}
	open := store.PoolOpener(d.pool)
	for _, run := range []struct {
		period string
		open   store.Opener
	}{{"copied", open}, {"one-statement", nil}} {
		tx, err := d.pool.Begin(d.ctx)
		if err != nil {
			t.Fatal(err)
		}
		ev.Period = run.period
		if err := store.InsertReview(d.ctx, tx, campaignID, ev.Period, p.Start, p.End, "test"); err != nil {
			t.Fatal(err)
		}
		if err := store.DecideAgents(d.ctx, tx, run.open, ev, nil); err != nil {
			t.Fatalf("%s: %v", run.period, err)
		}
		if err := tx.Commit(d.ctx); err != nil {
			t.Fatal(err)
		}
	}
	var copied, differ int
	var decisions []string
	if err := d.pool.QueryRow(d.ctx, `
		with c as (select (r.*)::review_decisions as r from review_decisions r where period = 'copied'),
		     o as (select (r.*)::review_decisions as r from review_decisions r where period = 'one-statement'),
		     cj as (select (r).agent_code, to_jsonb(r) - 'period' as j from c),
		     oj as (select (r).agent_code, to_jsonb(r) - 'period' as j from o)
		select (select count(*) from c)::int,
			(select count(*) from cj full join oj using (agent_code) where cj.j is distinct from oj.j)::int,
			(select array_agg(distinct (r).decision order by (r).decision) from c)`).Scan(&copied, &differ, &decisions); err != nil {
		t.Fatal(err)
	}
	if copied != 11 || differ != 0 {
		t.Errorf("%d decisions copied, %d of them differ from the one statement's; want 11 and none", copied, differ)
	}
	if len(decisions) < 3 {
		t.Errorf("decisions %v: the comparison needs several kinds of decision", decisions)
	}
}
