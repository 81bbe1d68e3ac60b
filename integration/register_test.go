package integration

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"drives/campaign"
	"drives/contribution"
	"drives/imports"
	"drives/plan"
	"drives/report"
)

// registerCampaign is the integration plan under another id, a year in about 60 s.
const registerCampaign = "itest-register-2021"

// TestRegisterOnTheDevServer: a compressed year on the dev server with the real worker. Ten
// people enrol on 5 January paying monthly (paid until 5 February); five pay a month more on
// 25 January (until 5 March). Renewals open 15 days before each due day, for the agent who
// enrolled the person, and close as renewed when paid; unpaid, people lapse 60 days after
// their due day (6 April, 4 May). One lapsed person pays again on 1 June and is back, until
// they lapse again on 30 August. The final report's register and the rows agree with that
// computation, dates included.
func TestRegisterOnTheDevServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	s := newStack(t)
	lp := registerPlan(t)
	run, err := s.co.Launch(ctx, lp)
	require.NoError(t, err)
	waitCampaignDay(t, ctx, s, lp.Plan.ID, "2021-01-06")

	people := make([]string, 10)
	agents := []string{"DL-00001-1", "DL-00001-2"}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	require.NoError(t, w.Write(imports.Headers[imports.Enrolments]))
	for i := range people {
		people[i] = fmt.Sprintf("001930%06d", i)
		require.NoError(t, w.Write([]string{people[i], fmt.Sprintf("Người Đóng %d", i), fmt.Sprintf("09%08d", 500+i), "00001", "00001-01",
			agents[i%2], "farmer", "2000000", "other", "monthly", "2021-01-05"}))
	}
	w.Flush()
	res, err := s.im.Enrolments(ctx, lp.Plan.ID, imports.Enrolments, "enrolments.csv", b.Bytes(), "tester")
	require.NoError(t, err)
	require.Equal(t, 10, res.New)

	pay := func(name, day string, who []string, receipt string) campaign.ImportResult {
		t.Helper()
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		require.NoError(t, w.Write(imports.Headers[imports.Payments]))
		for i, id := range who {
			require.NoError(t, w.Write([]string{id, day, "1", fmt.Sprint(contribution.Due(2_000_000, "other", 1)),
				fmt.Sprintf("%s-%d", receipt, i), "DL-00001-1"}))
		}
		w.Flush()
		res, err := s.im.Enrolments(ctx, lp.Plan.ID, imports.Payments, name, b.Bytes(), "tester")
		require.NoError(t, err)
		return res
	}
	// The payments come once the February renewals are open (the sweep of 22 January): on a
	// busy machine the campaign's sweep may run later than its campaign day, and the test waits
	// for what it checks rather than for the clock.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, 10, count(t, s.db, `select count(*) from follow_ups where campaign_id = $1 and kind = 'renewal' and renewal_due = '2021-02-05'`, lp.Plan.ID))
	}, 90*time.Second, 50*time.Millisecond)
	waitCampaignDay(t, ctx, s, lp.Plan.ID, "2021-01-26")
	res = pay("payments-jan.csv", "2021-01-25", people[:5], "JAN")
	require.Equal(t, 5, res.Renewed)
	require.Zero(t, res.Flagged)

	// After the second lapse (4 May) and a sweep: person 0 is lapsed, and pays on 1 June.
	waitCampaignDay(t, ctx, s, lp.Plan.ID, "2021-06-02")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, 10, count(t, s.db, `select count(*) from participants where status = 'lapsed' and campaign_id = $1`, lp.Plan.ID))
	}, 90*time.Second, 50*time.Millisecond)
	res = pay("payments-jun.csv", "2021-06-01", people[:1], "JUN")
	require.Equal(t, 1, res.Returned)

	var closed campaign.CloseResult
	require.NoError(t, run.Get(ctx, &closed))
	require.Equal(t, campaign.StatusClosed, closed.Status)

	// Lapses on their days: the five who paid once on 4 May, the other five on 6 April, the
	// one who came back on 30 August.
	lapses := map[string]int{}
	rows, err := s.db.Query(ctx, `select on_date::text, count(*)::int from participant_changes where campaign_id = $1 and kind = 'lapsed' group by 1`, lp.Plan.ID)
	require.NoError(t, err)
	for rows.Next() {
		var day string
		var n int
		require.NoError(t, rows.Scan(&day, &n))
		lapses[day] = n
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, map[string]int{"2021-04-06": 5, "2021-05-04": 5, "2021-08-30": 1}, lapses)

	// Renewal follow-ups: dated by the rules (opened 15 days before the due day, given up 60
	// days after it), each person's held by the agent who enrolled them; the first due day's
	// of the five payers renewed, the rest lapsed.
	type renewal struct{ due, opened, giveUp, status string }
	got := map[string][]renewal{}
	rows, err = s.db.Query(ctx, `
		select f.citizen_id, f.renewal_due::text, (f.opened_at at time zone 'Asia/Ho_Chi_Minh')::text,
			(f.give_up_at at time zone 'Asia/Ho_Chi_Minh')::text, f.status, f.agent_code = e.agent_code
		from follow_ups f join enrolments e on e.campaign_id = f.campaign_id and e.citizen_id = f.citizen_id
		where f.campaign_id = $1 and f.kind = 'renewal' order by f.citizen_id, f.renewal_due`, lp.Plan.ID)
	require.NoError(t, err)
	for rows.Next() {
		var id string
		var r renewal
		var ownAgent bool
		require.NoError(t, rows.Scan(&id, &r.due, &r.opened, &r.giveUp, &r.status, &ownAgent))
		assert.True(t, ownAgent, "%s's renewal of %s is held by another agent", id, r.due)
		got[id] = append(got[id], r)
	}
	require.NoError(t, rows.Err())
	feb := renewal{"2021-02-05", "2021-01-21 00:00:00", "2021-04-06 00:00:00", "lapsed"}
	febPaid := feb
	febPaid.status = "renewed"
	mar := renewal{"2021-03-05", "2021-02-18 00:00:00", "2021-05-04 00:00:00", "lapsed"}
	jul := renewal{"2021-07-01", "2021-06-16 00:00:00", "2021-08-30 00:00:00", "lapsed"}
	for i, id := range people {
		want := []renewal{feb}
		switch {
		case i == 0:
			want = []renewal{febPaid, mar, jul}
		case i < 5:
			want = []renewal{febPaid, mar}
		}
		assert.Equal(t, want, got[id], "renewals of person %d", i)
	}

	// The unpaid were reminded twice (7 and 21 days after their renewal opened) and escalated
	// to commune staff on their due day, like any follow-up.
	assert.Zero(t, count(t, s.db, `select count(*) from follow_ups where campaign_id = $1 and kind = 'renewal' and status = 'lapsed'
		and (reminders_sent <> 2 or escalated_at is distinct from due_at or escalated_to is null)`, lp.Plan.ID))

	// The final report: nobody at the start, ten joined, five renewed, one returned, eleven
	// lapses, nobody at the end.
	rep, err := report.Load(ctx, s.db, lp.Plan.ID)
	require.NoError(t, err)
	require.True(t, rep.Final)
	require.NotNil(t, rep.Participants)
	p := rep.Participants.RegisterFigures
	p.Key = ""
	assert.Equal(t, struct{ Start, Joined, Renewed, Returned, Lapsed, End int }{0, 10, 5, 1, 11, 0},
		struct{ Start, Joined, Renewed, Returned, Lapsed, End int }{p.Start, p.Joined, p.Renewed, p.Returned, p.Lapsed, p.End})
	// Every import was audited once, and the sweeps that moved the register were audited.
	assert.Equal(t, 3, count(t, s.db, `select count(*) from audit_log where campaign_id = $1 and action = 'import.merge'`, lp.Plan.ID))
	assert.Positive(t, count(t, s.db, `select count(*) from audit_log where campaign_id = $1 and action = 'follow_ups.sweep'`, lp.Plan.ID))
}

// registerPlan is the integration plan under registerCampaign, a year in about 60 s.
func registerPlan(t *testing.T) *plan.Loaded {
	t.Helper()
	return planVariant(t, registerCampaign, 525600, "")
}

// waitCampaignDay waits until the campaign's clock has passed the start of a day.
func waitCampaignDay(t *testing.T, ctx context.Context, s *stack, campaignID, day string) {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	require.NoError(t, err)
	d, err := time.ParseInLocation("2006-01-02", day, loc)
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := s.co.Progress(ctx, campaignID)
		if assert.NoError(c, err) {
			// The Query's own campaign time is its last task's; the clock says what it is now.
			assert.Equal(c, campaign.StatusRunning, p.Status)
			assert.True(c, p.Clock.CampaignTime(time.Now()).After(d), "campaign time %s", p.Clock.CampaignTime(time.Now()))
		}
	}, 90*time.Second, 20*time.Millisecond)
}
