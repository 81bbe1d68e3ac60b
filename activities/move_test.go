package activities_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"drives/activities"
	"drives/campaign"
	"drives/imports"
	"drives/store"
)

func (d *drive) move(agent, to, as string, at time.Time) (campaign.MoveResult, error) {
	d.t.Helper()
	return call[campaign.MoveResult](d, d.acts.AgentMoves, activities.MoveInput{CampaignID: campaignID, At: at,
		Request: campaign.MoveRequest{Agent: agent, To: to, As: as, Reason: "commune 00002 has no agent", By: "coordinator-a"}})
}

// An agent of commune 00001 moves on 16 April to commune 00002, which has only its staff member
// (weight 0.5): in commune 00001 the contract ends and the work is handed on as a leaving's is
// (follow-ups, the rest of the quota, the people held), the commune's sum unchanged; in commune
// 00002 the same person starts under the new code with the joining's share (0.8 of the weights
// 0.5 + 0.8, for the 260 days of 365 left), taken from the staff member, the commune's sum
// unchanged. One audit row, no names in it. The second quarter's review judges the old code
// until the move (its day included) and the new one from it. Shown failing with the new contract given no quota (the
// joining's share left out).
func TestAnAgentMovesToAnotherCommune(t *testing.T) {
	d := newDrive(t)
	at := d.hold("conf-001")
	d.recordLeads("conf-001", 10, lead(61, "00001", "", "trader"), lead(62, "00001", "", "trader"), lead(63, "00001", "", "trader"))
	d.mergeWithPolicy(d.stage(imports.Enrolments, "", "enrolments.csv", enrolmentsCSV(
		enrolment{person: lead(64, "00001", "", "trader"), agent: "DL-00001-2", income: 2_000_000, class: "other", mode: "12m", on: "2021-02-01"})))
	if at.After(local(t, "2021-04-16")) {
		t.Fatalf("conf-001 is held on %s, after the move's day", at)
	}
	open := d.count(`select count(*) from follow_ups where agent_code = 'DL-00001-2' and status = 'open'`)
	if open == 0 {
		t.Fatal("DL-00001-2 holds no open follow-up: the test shows nothing")
	}
	from, to := d.quota("commune", "00001"), d.quota("commune", "00002")
	oldQuota, staffQuota := d.quota("agent", "DL-00001-2"), d.quota("agent", "CB-00002")

	res, err := d.move("DL-00001-2", "00002", "DL-00002-9", local(t, "2021-04-16").Add(9*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	exact := float64(to) * 0.8 / 1.3 * 260 / 365
	want := int(math.Round(exact))
	if want == 0 {
		t.Fatalf("commune 00002's target %d gives the new contract nothing: the test shows nothing", to)
	}
	if res.From != "00001" || res.To != "00002" || res.As != "DL-00002-9" || !res.MovedOn.Equal(local(t, "2021-04-16")) ||
		res.FollowUpsMoved != open || res.ParticipantsMoved != 1 || res.QuotaMoved == 0 || res.QuotaTaken != want || res.QuotasChanged != 1 {
		t.Errorf("move: %+v; want from 00001 to 00002 on 2021-04-16, %d follow-ups and 1 participant handed on, %d (%.2f) taken from 1 other",
			res, open, want, exact)
	}
	if n := d.count(`select count(*) from agents where code = 'DL-00001-2' and status = 'left'
		and termination_reason = 'moved to commune 00002 as DL-00002-9: commune 00002 has no agent'`); n != 1 {
		t.Error("DL-00001-2's contract has not ended with the move's reason")
	}
	if n := d.count(`select count(*) from follow_ups where agent_code = 'DL-00001-2' and status = 'open'`); n != 0 {
		t.Errorf("%d open follow-ups left with the old contract", n)
	}
	// The same person, kind, post office and weight under the new code, from the move's day.
	if n := d.count(`select count(*) from agents n join agents o on o.campaign_id = n.campaign_id and o.code = 'DL-00001-2'
		where n.campaign_id = $1 and n.code = 'DL-00002-9' and n.status = 'active' and n.commune_code = '00002' and n.district_code = '001'
		  and n.joined_on = '2021-04-16' and n.full_name = o.full_name and n.phone = o.phone and n.kind = o.kind
		  and n.post_office = o.post_office and n.weight = o.weight
		  and (select target from quotas where campaign_id = $1 and level = 'agent' and code = n.code) = $2`, campaignID, want); n != 1 {
		t.Error("DL-00002-9 is not DL-00001-2's person, active in commune 00002 from 2021-04-16 with its share")
	}
	if got := d.quota("agent", "CB-00002"); got != staffQuota-want {
		t.Errorf("CB-00002's quota %d, want %d − %d", got, staffQuota, want)
	}
	for c, target := range map[string]int{"00001": from, "00002": to} {
		if got := d.agentsQuota(c); got != target {
			t.Errorf("commune %s's agents and staff hold %d, its target is %d", c, got, target)
		}
		if got := d.quota("commune", c); got != target {
			t.Errorf("commune %s's target changed: %d → %d", c, target, got)
		}
	}
	if n := d.count(`select count(*) from quota_targets_by_day where campaign_id = $1 and level = 'agent' and code = 'DL-00002-9'
		and ((valid_from = '2020-12-31' and target = 0) or (valid_from = '2021-04-16' and target = $2))`, campaignID, want); n != 2 {
		t.Errorf("DL-00002-9's quota by day: %d of the 2 rows wanted", n)
	}
	rows := d.audit(`action = 'agent.move' and entity_key = 'DL-00001-2'`)
	if len(rows) != 1 || rows[0].Actor != "coordinator-a" {
		t.Fatalf("audit rows of the move: %+v, want 1 by coordinator-a", rows)
	}
	if n := d.count(`select count(*) from agents a join audit_log l on l.action = 'agent.move'
		and (l.result::text like '%' || a.full_name || '%' or l.result::text like '%' || a.phone || '%' or l.detail::text like '%' || a.phone || '%')
		where a.code = 'DL-00001-2'`); n != 0 {
		t.Error("the move's audit row names the agent's person")
	}

	// The quota handed on in Phúc Xá is traced to the move's audit row.
	trace, err := store.AgentQuotaWrites(d.ctx, d.pool, campaignID, "DL-00001-2")
	if err != nil {
		t.Fatal(err)
	}
	moveRow := int64(d.count(`select id from audit_log where action = 'agent.move' and entity_key = 'DL-00001-2'`))
	traced := 0
	for _, w := range trace {
		if strings.HasPrefix(w.What, "transfer row: a quota of ") && strings.Contains(w.What, " moved from DL-00001-2 to ") && w.AuditID == moveRow {
			traced++
		}
	}
	if traced == 0 {
		t.Errorf("no transfer of DL-00001-2's quota is traced to the move's audit row %d: %+v", moveRow, trace)
	}
	// And the new contract's share, taken in Trúc Bạch, to the same row.
	if trace, err = store.AgentQuotaWrites(d.ctx, d.pool, campaignID, "DL-00002-9"); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(trace, func(w store.TraceWrite) bool {
		return w.AuditID == moveRow && w.What == fmt.Sprintf("move of DL-00001-2: quota %d from 2021-04-16", want)
	}) {
		t.Errorf("DL-00002-9's quota %d is not traced to the move (audit row %d): %+v", want, moveRow, trace)
	}

	// Reviews: the old code on Q2's days until its contract ended, the move's day included: 15
	// at the quota it held, the 16th at what it had enrolled (what it kept of its quota); the new
	// one on its 76 days from the move.
	ps := reviewPeriods(t, d)
	d.evaluate(ps[0], policy())
	d.evaluate(ps[1], policy())
	if share, ok := d.quotaShare("2021-Q2", "DL-00002-9"); !ok || math.Abs(share-float64(want)*76/365) > 1e-9 {
		t.Errorf("DL-00002-9's Q2 quota share %v (reviewed %v), want %d × 76 ÷ 365", share, ok, want)
	}
	if share, ok := d.quotaShare("2021-Q2", "DL-00001-2"); !ok || math.Abs(share-float64(oldQuota*15+1)/365) > 1e-9 {
		t.Errorf("DL-00001-2's Q2 quota share %v (reviewed %v), want (%d × 15 + 1 enrolled × 1) ÷ 365", share, ok, oldQuota)
	}
}

// A move that cannot be made is refused and writes nothing: an agent not active (or unknown), a
// commune the campaign does not have, the commune the agent works in, a code the campaign has
// had (given once, even to the same person).
func TestAMoveThatCannotBeMadeWritesNothing(t *testing.T) {
	d := newDrive(t)
	at := local(t, "2021-03-01")
	snapshot := func() int {
		return d.count(`select count(*) from agents where status = 'active'`)*1000 + d.count(`select count(*) from audit_log where action = 'agent.move'`)
	}
	before := snapshot()
	for _, c := range []struct {
		agent, to, as, kind, msg string
	}{
		{"DL-99999-1", "00002", "DL-00002-9", activities.ErrNotFound, "no active agent"},
		{"DL-00001-2", "99999", "DL-99999-9", activities.ErrNotFound, "no commune 99999"},
		{"DL-00001-2", "00001", "DL-00001-9", activities.ErrInvalidState, "works in commune 00001 already"},
		{"DL-00001-2", "00002", "CB-00001", activities.ErrInvalidState, "CB-00001 is already"},
	} {
		_, err := d.move(c.agent, c.to, c.as, at)
		wantErrType(t, err, c.kind)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("move %s to %s as %s: %v, want it to say %q", c.agent, c.to, c.as, err, c.msg)
		}
		if after := snapshot(); after != before {
			t.Errorf("move %s to %s as %s wrote something: %d → %d", c.agent, c.to, c.as, before, after)
		}
	}
	// A moved agent's old code is no longer active: it cannot move again.
	if _, err := d.move("DL-00001-2", "00002", "DL-00002-9", at); err != nil {
		t.Fatal(err)
	}
	_, err := d.move("DL-00001-2", "00003", "DL-00003-9", at)
	wantErrType(t, err, activities.ErrNotFound)
}
