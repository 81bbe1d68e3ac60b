package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"drives/audit"
	"drives/campaign"
	"drives/history"
	"drives/plan"
	"drives/report"
)

// checked is what the checks found for one campaign.
type checked struct {
	id               string
	completed        bool
	status           string
	enrolled, target int
	runs             int
	auditRows        int
	effects          int
	chain            string
	keys             int
	retried          int // effects committed by a retried attempt
	lost, doubled    int
	problems         []string
}

func (r *checked) bad(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// check waits for the campaign to complete, then checks its keys, audit and report.
func (d *drill) check(ctx context.Context, c *coord, x *expected, lp *plan.Loaded) (*checked, error) {
	r := &checked{id: c.id}
	clk, err := c.clock(ctx)
	if err != nil {
		return nil, err
	}
	end := clk.RealTime(lp.Plan.Period.End.In(time.UTC).AddDate(0, 0, 1))
	d.logf("%s: waiting for the campaign to complete (its year ends in %s)", c.id, time.Until(end).Round(time.Second))
	wfID := campaign.CampaignWorkflowID(c.id)
	select {
	case <-time.After(time.Until(end)):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	err = c.retry(ctx, "wait for the campaign to complete", func(ctx context.Context) (bool, error) {
		desc, err := d.tc.DescribeWorkflowExecution(ctx, wfID, "")
		if err != nil {
			return false, err
		}
		switch st := desc.WorkflowExecutionInfo.GetStatus(); st {
		case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
			return false, nil
		case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
			return false, errNotDone
		default:
			return true, fmt.Errorf("the campaign workflow ended %s", st)
		}
	})
	if err != nil {
		r.bad("did not complete: %v", err)
		return r, nil
	}
	r.completed = true
	d.logf("%s: completed", c.id)

	// No workflow of the campaign is left running (district drives, reviews).
	var stuck []string
	err = c.retry(ctx, "wait for every workflow of the campaign to finish", func(ctx context.Context) (bool, error) {
		runs, err := history.Runs(ctx, d.tc, c.id)
		if err != nil {
			return false, err
		}
		stuck = stuck[:0]
		for _, run := range runs {
			if run.Status == "RUNNING" {
				stuck = append(stuck, run.WorkflowID)
			}
		}
		if len(stuck) > 0 && time.Since(end) < 2*time.Minute {
			time.Sleep(2 * time.Second)
			return false, errNotDone
		}
		r.runs = len(runs)
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	if len(stuck) > 0 {
		r.bad("workflows still running two minutes after the year ended: %s", joinLines(stuck))
	}

	// The workflow's own count.
	if err := c.retry(ctx, "query progress", func(ctx context.Context) (bool, error) {
		p, err := d.co.Progress(ctx, c.id)
		if err != nil {
			return false, err
		}
		r.status = p.Status
		if p.Status != campaign.StatusClosed {
			r.bad("progress says %s, not closed", p.Status)
		}
		if p.Enrolled != x.enrolled {
			r.bad("progress counts %d enrolled; the files give %d", p.Enrolled, x.enrolled)
		}
		return false, nil
	}); err != nil {
		return nil, err
	}

	if err := d.checkKeys(ctx, c.id, x, r); err != nil {
		return nil, err
	}
	if err := d.checkAudit(ctx, c.id, r); err != nil {
		return nil, err
	}
	if err := d.checkReport(ctx, c.id, x, r); err != nil {
		return nil, err
	}
	return r, nil
}

// checkKeys counts each business key (rows and distinct keys) against what the files give.
func (d *drill) checkKeys(ctx context.Context, id string, x *expected, r *checked) error {
	var agents, units int
	if err := d.db.QueryRow(ctx, `select (select count(*) from agents where campaign_id = $1), (select count(*) from units where campaign_id = $1)`, id).
		Scan(&agents, &units); err != nil {
		return err
	}
	leads := 0
	for _, n := range x.leads {
		leads += n
	}
	checks := []struct {
		what string
		sql  string // rows, distinct keys
		want int
	}{
		{"enrolments (campaign, citizen ID)", `select count(*), count(distinct citizen_id) from enrolments where campaign_id = $1`, x.enrolled},
		{"prospects (campaign, citizen ID)", `select count(*), count(distinct citizen_id) from prospects where campaign_id = $1`, leads},
		{"follow-ups (prospect)", `select count(*), count(distinct prospect_id) from follow_ups where campaign_id = $1`, x.followUps["total"]},
		{"events held (campaign, event)", `select count(*), count(distinct id) from events where campaign_id = $1 and status = 'held'`, len(heldEvents)},
		{"event results (event)", `select count(*), count(distinct entity_key) from audit_log where campaign_id = $1 and action = 'event.results'`, len(heldEvents)},
		{"reviews (campaign, period)", `select count(*), count(distinct period) from reviews where campaign_id = $1`, 4},
		{"review decisions (period, agent)", `select count(*), count(distinct (period, agent_code)) from review_decisions where campaign_id = $1`, 4 * agents},
		{"quotas (level, unit or agent)", `select count(*), count(distinct (level, code)) from quotas where campaign_id = $1`, 1 + units + agents},
		{"quota transfers (period, from, to)", `select count(*), count(distinct (period, from_agent, to_agent)) from quota_transfers where campaign_id = $1`, 0},
		{"new enrolments counted by merged batches", `select coalesce(sum((result->>'new')::int), 0), count(*) from import_batches where campaign_id = $1 and kind = 'enrolments' and status = 'merged'`, x.enrolled},
		{"merges audited (batch)", `select count(*), count(distinct entity_key) from audit_log where campaign_id = $1 and action = 'import.merge'`, -1},
		{"final reports (campaign)", `select count(*), count(distinct campaign_id) from reports where campaign_id = $1`, 1},
	}
	for _, k := range checks {
		var rows, distinct int
		if err := d.db.QueryRow(ctx, k.sql, id).Scan(&rows, &distinct); err != nil {
			return fmt.Errorf("%s: %s: %w", id, k.what, err)
		}
		want := k.want
		if want < 0 { // one audited merge per merged batch of enrolments or outcomes
			if err := d.db.QueryRow(ctx, `select count(*) from import_batches where campaign_id = $1 and kind <> 'leads' and status = 'merged'`, id).Scan(&want); err != nil {
				return err
			}
		}
		if k.what == "new enrolments counted by merged batches" {
			distinct = rows // a sum, not a key count
		}
		r.keys += want
		switch {
		case rows != distinct:
			r.doubled += rows - distinct
			r.bad("%s: %d rows for %d keys", k.what, rows, distinct)
		case rows < want:
			r.lost += want - rows
			r.bad("%s: %d, the inputs give %d", k.what, rows, want)
		case rows > want:
			r.doubled += rows - want
			r.bad("%s: %d, the inputs give %d", k.what, rows, want)
		}
	}
	return nil
}

// checkAudit exports the histories with the audit rows and checks them as an auditor would:
// every audit row against its completed activity and back, and the hash chain.
func (d *drill) checkAudit(ctx context.Context, id string, r *checked) error {
	dir := filepath.Join(d.s.dir, "export-"+id)
	if _, err := history.Export(ctx, d.tc, d.db, id, dir); err != nil {
		return fmt.Errorf("%s: export histories: %w", id, err)
	}
	res, err := history.Check(dir, nil)
	if err != nil {
		return fmt.Errorf("%s: check the export: %w", id, err)
	}
	r.effects = res.Effects
	var withActivity int
	if err := d.db.QueryRow(ctx, `select count(*) from audit_log where campaign_id = $1 and activity_id is not null`, id).Scan(&withActivity); err != nil {
		return err
	}
	r.auditRows = withActivity
	if err := d.db.QueryRow(ctx, `select count(*) from audit_log where campaign_id = $1 and attempt > 1`, id).Scan(&r.retried); err != nil {
		return err
	}
	if withActivity != res.Effects {
		r.bad("audit rows written by activities: %d; completed effect activities in the histories: %d", withActivity, res.Effects)
		if withActivity < res.Effects {
			r.lost += res.Effects - withActivity
		} else {
			r.doubled += withActivity - res.Effects
		}
	}
	for _, p := range res.Problems {
		r.bad("audit check: %s", p)
	}
	v, err := audit.Verify(ctx, d.db, id)
	if err != nil {
		return fmt.Errorf("%s: verify the audit chain: %w", id, err)
	}
	r.chain = "intact"
	if !v.Intact() {
		r.chain = "BROKEN"
		r.bad("%s", v)
	}
	return nil
}

// checkReport compares the stored final report with the figures computed from the files.
func (d *drill) checkReport(ctx context.Context, id string, x *expected, r *checked) error {
	rep, err := report.Load(ctx, d.db, id)
	if err != nil {
		return fmt.Errorf("%s: load the report: %w", id, err)
	}
	r.enrolled, r.target = rep.Enrolled, rep.Target
	eq := func(what string, got, want int) {
		if got != want {
			r.bad("report %s: %d, the files give %d", what, got, want)
		}
	}
	if !rep.Final || rep.Status != campaign.StatusClosed {
		r.bad("report is not the final report of a closed campaign (status %s, final %v)", rep.Status, rep.Final)
	}
	eq("enrolled", rep.Enrolled, x.enrolled)
	eq("target", rep.Target, x.target)
	eq("prior year", rep.PriorYear, x.priorYear)
	eq("growth", rep.Growth, x.enrolled-x.priorYear)
	seen := map[string]bool{}
	for _, u := range rep.Units {
		eq(u.Level+" "+u.Code+" enrolled", u.Enrolled, x.byUnit[u.Code])
		seen[u.Code] = true
	}
	for _, g := range rep.Groups {
		eq("group "+g.Code+" enrolled", g.Enrolled, x.byGroup[g.Code])
		eq("group "+g.Code+" leads", g.Leads, x.leads[g.Code])
		eq("group "+g.Code+" leads enrolled", g.LeadsEnrolled, x.leadsEnrolled[g.Code])
		eq("group "+g.Code+" declined", g.Declined, x.declined[g.Code])
		eq("group "+g.Code+" unreachable", g.Unreachable, x.unreachable[g.Code])
		seen[g.Code] = true
	}
	for _, a := range rep.Agents {
		eq("agent "+a.Code+" enrolled", a.Enrolled, x.byAgent[a.Code])
		seen[a.Code] = true
		if a.Status != "active" {
			r.bad("report: agent %s is %s, though every termination was rejected", a.Code, a.Status)
		}
	}
	for _, m := range []map[string]int{x.byUnit, x.byGroup, x.byAgent} {
		for _, k := range sortedKeys(m) {
			if !seen[k] {
				r.bad("report has no line for %s, which the files name", k)
			}
		}
	}
	f := x.followUps
	eq("follow-ups", rep.FollowUps.Total, f["total"])
	eq("follow-ups open", rep.FollowUps.Open, f["open"])
	eq("follow-ups enrolled", rep.FollowUps.Enrolled, f["enrolled"])
	eq("follow-ups declined", rep.FollowUps.Declined, f["declined"])
	eq("follow-ups unreachable", rep.FollowUps.Unreachable, f["unreachable"])
	eq("events held", rep.Events.Held, len(heldEvents))
	eq("events planned", rep.Events.Planned, 0)
	eq("events cancelled", rep.Events.Cancelled, 0)
	eq("event attendance", rep.Events.Attendance, x.attendance)
	eq("event leads", rep.Events.Leads, x.eventLeads)
	return nil
}
