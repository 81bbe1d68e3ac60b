package integration

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"drives/campaign"
	"drives/coordinator"
	"drives/history"
	"drives/imports"
	"drives/plan"
	"drives/report"
	"drives/store"
)

// reviseCampaign is the integration plan under another id, a year in about 60 s.
const reviseCampaign = "itest-revise-2021"

// TestRevisionOnTheDevServer: a compressed year on the dev server with the real worker. In
// February the coordinator revises the plan from 1 April: Tây Hồ's target is raised by 20, an
// event is added in Phú Thượng in August and Nhật Tân's June round is removed; in May an agent
// of Phú Thượng resigns; in June an agent joins Nhật Tân; in July an agent of Phúc Xá moves to
// Trúc Bạch. The final report, the quotas, the reviews, the events and the audit
// agree with a computation from the two plans and the day the revision applied from.
func TestRevisionOnTheDevServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t)
	lp := planVariant(t, reviseCampaign, 525600, "")
	run, err := s.co.Launch(ctx, lp)
	require.NoError(t, err)
	waitCampaignDay(t, ctx, s, reviseCampaign, "2021-01-10")

	var b bytes.Buffer
	w := csv.NewWriter(&b)
	require.NoError(t, w.Write(imports.Headers[imports.Enrolments]))
	for i := range 4 {
		require.NoError(t, w.Write([]string{fmt.Sprintf("001940%06d", i), fmt.Sprintf("Người Thử %d", i), fmt.Sprintf("09%08d", 700+i),
			"00097", "00097-01", "DL-00097-1", "farmer", "2000000", "other", "monthly", "2021-01-08"}))
	}
	w.Flush()
	res, err := s.im.Enrolments(ctx, reviseCampaign, imports.Enrolments, "enrolments.csv", b.Bytes(), "tester")
	require.NoError(t, err)
	require.Equal(t, 4, res.New)

	// The revision, from 1 April.
	old := lp.Allocation()
	revised := revisedVariant(t, lp, [][2]string{
		{"  share: 0.01\n", fmt.Sprintf("  share: 0.01\n  overrides: {\"003\": %d}\n", old.Districts["003"]+20)},
		{"  - id: nhat-tan-door-to-door\n    kind: door_to_door\n    unit: \"00094\"\n    date: 2021-06-07\n    groups: [household_business, farmer]\n    expected_attendance: 30\n",
			"  - id: phu-thuong-extra\n    kind: dialogue\n    unit: \"00091\"\n    date: 2021-08-02\n    groups: [farmer]\n    expected_attendance: 25\n"},
	})
	now := revised.Allocation()
	require.Equal(t, old.City+20, now.City)
	waitCampaignDay(t, ctx, s, reviseCampaign, "2021-02-01")
	prep, rev, err := s.co.Revise(ctx, coordinator.Revision{CampaignID: reviseCampaign, File: "revised.yaml", Revised: revised,
		From: "2021-04-01", Reason: "quận Tây Hồ được giao thêm chỉ tiêu", By: "tester"}, false)
	require.NoError(t, err)
	require.Equal(t, 1, rev.Number)
	require.Equal(t, []string{"nhat-tan-door-to-door"}, rev.Removed)
	require.Len(t, rev.Added, 1)
	from := rev.From // 1 April, or the campaign's day if the revision reached the worker later
	require.False(t, from.Before(prep.From))

	// An agent of Phú Thượng resigns in May.
	waitCampaignDay(t, ctx, s, reviseCampaign, "2021-05-10")
	left, err := coordinator.Update[campaign.LeaveResult](ctx, s.co, reviseCampaign, campaign.UpdateAgentLeaves,
		campaign.LeaveRequest{Agent: "DL-00091-2", Reason: "chuyển công tác", By: "tester"})
	require.NoError(t, err)
	require.Equal(t, "00091", left.Commune)

	// A collection agent joins Nhật Tân (until then its staff member's alone) in June.
	waitCampaignDay(t, ctx, s, reviseCampaign, "2021-06-10")
	staffBefore := count(t, s.db, `select target from quotas where campaign_id = $1 and level = 'agent' and code = 'CB-00094'`, reviseCampaign)
	joined, err := s.im.Join(ctx, reviseCampaign, "join.csv", []byte(strings.Join(plan.RosterHeader, ",")+"\nDL-00094-1,00094,agent,no,Người Mới,0912000099,1\n"), "tester")
	require.NoError(t, err)
	require.Equal(t, 1, joined.Agents)
	joinedOn := joined.JoinedOn

	// In July Phúc Xá's post-office agent moves to Trúc Bạch under a new code: its work in Phúc
	// Xá is handed on, and it takes a share of Trúc Bạch's target from the agents there.
	waitCampaignDay(t, ctx, s, reviseCampaign, "2021-07-12")
	truc := func() int {
		return count(t, s.db, `select sum(target) from quotas where campaign_id = $1 and level = 'agent' and code in ('CB-00004', 'DL-00004-1')`, reviseCampaign)
	}
	trucBefore := truc()
	moved, err := coordinator.Update[campaign.MoveResult](ctx, s.co, reviseCampaign, campaign.UpdateAgentMoves,
		campaign.MoveRequest{Agent: "DL-00001-2", To: "00004", As: "DL-00004-2", Reason: "điều chuyển sang phường Trúc Bạch", By: "tester"})
	require.NoError(t, err)
	require.Equal(t, "00001", moved.From)
	require.Positive(t, moved.QuotaTaken)
	assert.Equal(t, trucBefore-moved.QuotaTaken, truc(), "Trúc Bạch's others gave the mover's share")
	movedOn := moved.MovedOn

	var closed campaign.CloseResult
	require.NoError(t, run.Get(ctx, &closed))
	require.Equal(t, campaign.StatusClosed, closed.Status)

	// The report's targets are the revised plan's, at every level, sums exact.
	rep, err := report.Load(ctx, s.db, reviseCampaign)
	require.NoError(t, err)
	require.True(t, rep.Final)
	assert.Equal(t, now.City, rep.Target)
	for _, u := range rep.Units {
		switch u.Level {
		case "district":
			assert.Equal(t, now.Districts[u.Code], u.Target, "district %s", u.Code)
		case "commune":
			assert.Equal(t, now.Communes[u.Code], u.Target, "commune %s", u.Code)
		}
	}
	assert.Zero(t, count(t, s.db, `select count(*) from units u join quotas q on q.campaign_id = u.campaign_id and q.level = 'commune' and q.code = u.code
		where u.campaign_id = $1 and u.level = 'commune' and q.target <> (select sum(k.target) from agents a join quotas k on k.campaign_id = a.campaign_id and k.level = 'agent' and k.code = a.code
			where a.campaign_id = $1 and a.commune_code = u.code)`,
		reviseCampaign), "a commune whose agents' quotas do not add up to its target")

	// The reviews judge each day of their windows against the target then in force: Tứ Liên's
	// agent (nobody left there) had the launched quota before the revision's day and the
	// revised one from it.
	loc, err := time.LoadLocation(lp.Plan.Timezone)
	require.NoError(t, err)
	periods, err := plan.ReviewPeriods(plan.DefaultReviewCron, loc, time.Date(2021, 1, 1, 0, 0, 0, 0, loc), time.Date(2022, 1, 1, 0, 0, 0, 0, loc))
	require.NoError(t, err)
	agent := "DL-00097-1"
	require.NotEqual(t, old.Agents[agent], now.Agents[agent])
	for _, p := range periods {
		want := 0.0
		for d := p.Start; d.Before(p.End); d = d.AddDate(0, 0, 1) {
			if d.Before(from) {
				want += float64(old.Agents[agent])
			} else {
				want += float64(now.Agents[agent])
			}
		}
		want /= 365
		var got float64
		require.NoError(t, s.db.QueryRow(ctx, `select quota_share from review_decisions where campaign_id = $1 and period = $2 and agent_code = $3`,
			reviseCampaign, p.Label, agent).Scan(&got), p.Label)
		assert.InDelta(t, want, got, 1e-9, "%s: %s's quota share", p.Label, agent)
	}

	// The joiner took its quota from Nhật Tân's staff member, the commune's target unchanged;
	// it is reviewed on the days it worked only, not at all before it joined.
	joinerQuota := count(t, s.db, `select target from quotas where campaign_id = $1 and level = 'agent' and code = 'DL-00094-1'`, reviseCampaign)
	require.Positive(t, joinerQuota)
	assert.Equal(t, staffBefore-joinerQuota, count(t, s.db, `select target from quotas where campaign_id = $1 and level = 'agent' and code = 'CB-00094'`, reviseCampaign))
	for _, p := range periods {
		var got float64
		err := s.db.QueryRow(ctx, `select quota_share from review_decisions where campaign_id = $1 and period = $2 and agent_code = 'DL-00094-1'`,
			reviseCampaign, p.Label).Scan(&got)
		if !p.End.After(joinedOn) {
			assert.Error(t, err, "%s: the joiner was reviewed before it joined", p.Label)
			continue
		}
		require.NoError(t, err, p.Label)
		days := 0
		for d := p.Start; d.Before(p.End); d = d.AddDate(0, 0, 1) {
			if !d.Before(joinedOn) {
				days++
			}
		}
		assert.InDelta(t, float64(joinerQuota*days)/365, got, 1e-9, "%s: the joiner's quota share", p.Label)
	}

	// The mover: its old code reviewed until the move (its day included), the new one from it.
	assert.Equal(t, 1, count(t, s.db, `select count(*) from agents n join agents o on o.campaign_id = n.campaign_id and o.code = 'DL-00001-2'
		where n.campaign_id = $1 and n.code = 'DL-00004-2' and n.status = 'active' and n.commune_code = '00004' and o.status = 'left'
		  and n.full_name = o.full_name and n.weight = o.weight`, reviseCampaign))
	for _, p := range periods {
		var n int
		require.NoError(t, s.db.QueryRow(ctx, `select count(*) from review_decisions where campaign_id = $1 and period = $2 and agent_code = 'DL-00004-2'`,
			reviseCampaign, p.Label).Scan(&n))
		assert.Equal(t, p.End.After(movedOn), n == 1, "%s: the new code reviewed (%d) only once it worked", p.Label, n)
		require.NoError(t, s.db.QueryRow(ctx, `select count(*) from review_decisions where campaign_id = $1 and period = $2 and agent_code = 'DL-00001-2'`,
			reviseCampaign, p.Label).Scan(&n))
		assert.Equal(t, !p.Start.After(movedOn), n == 1, "%s: the old code reviewed (%d) only until the move", p.Label, n)
	}
	assert.Equal(t, 1, count(t, s.db, `select count(*) from audit_log where campaign_id = $1 and action = 'agent.move' and entity_key = 'DL-00001-2'`, reviseCampaign))

	// The event added was held, once; the one removed never was.
	assert.Equal(t, 1, count(t, s.db, `select count(*) from events where campaign_id = $1 and id = 'phu-thuong-extra' and status = 'held'`, reviseCampaign))
	assert.Equal(t, 1, count(t, s.db, `select count(*) from events where campaign_id = $1 and id = 'nhat-tan-door-to-door' and status = 'cancelled'`, reviseCampaign))
	assert.Equal(t, "left", strings.TrimSpace(fmt.Sprint(queryString(t, s, `select status from agents where campaign_id = $1 and code = 'DL-00091-2'`))))

	// The audit: one revision, applied once, traced from the district's target; the histories
	// replay and every activity's write has its audit row.
	assert.Equal(t, 1, count(t, s.db, `select count(*) from audit_log where campaign_id = $1 and action = 'plan.revise'`, reviseCampaign))
	assert.Equal(t, 1, count(t, s.db, `select count(*) from plan_revisions where campaign_id = $1 and applied_at is not null`, reviseCampaign))
	trace, err := store.UnitTargetWrites(ctx, s.db, reviseCampaign, "district", "003")
	require.NoError(t, err)
	require.Len(t, trace, 2)
	assert.Equal(t, fmt.Sprintf("revision 1: target %d from %s", now.Districts["003"], from.In(loc).Format(time.DateOnly)), trace[1].What)
	dir := filepath.Join(t.TempDir(), "export")
	_, err = history.Export(ctx, s.tc, s.db, reviseCampaign, dir)
	require.NoError(t, err)
	checked, err := history.Check(dir, s.dc)
	require.NoError(t, err)
	require.Empty(t, checked.Problems)
	require.Equal(t, count(t, s.db, `select count(*) from audit_log where campaign_id = $1 and activity_id is not null`, reviseCampaign), checked.Effects)
}

// revisedVariant writes a campaign's plan folder again with edits to its plan (each old text
// found once) and loads it.
func revisedVariant(t *testing.T, lp *plan.Loaded, edits [][2]string) *plan.Loaded {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"plan.yaml", "units.csv", "villages.csv", "roster.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		require.NoError(t, err)
		if f == "plan.yaml" {
			text := strings.Replace(string(b), "id: itest-2021", "id: "+lp.Plan.ID, 1)
			text = strings.Replace(text, "scale: 1576800", fmt.Sprintf("scale: %d", int(math.Round(lp.Plan.Clock.Scale))), 1)
			for _, e := range edits {
				require.Equal(t, 1, strings.Count(text, e[0]), "plan: %q", e[0])
				text = strings.Replace(text, e[0], e[1], 1)
			}
			b = []byte(text)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	revised, err := plan.Load(filepath.Join(dir, "plan.yaml"))
	require.NoError(t, err)
	return revised
}

func queryString(t *testing.T, s *stack, sql string, args ...any) string {
	t.Helper()
	var out string
	require.NoError(t, s.db.QueryRow(context.Background(), sql, append([]any{reviseCampaign}, args...)...).Scan(&out))
	return out
}
