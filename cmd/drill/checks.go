package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"drives/audit"
	"drives/campaign"
	"drives/history"
	"drives/imports"
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
	wrong            int // keys with other values than the inputs give
	problems         []string

	// The field: what the phone did, and what counting its enrolments cost the workflow.
	phone                    *phoneSummary
	folds, foldBound, folded int
	webStarts                int
	ran                      time.Duration // from the launch to the campaign's completion
}

// fieldBatchEvery is how often at most the web process has a campaign's workflow count the
// field's enrolments (web.Config.FieldBatchEvery, whose default `starter serve` runs with).
const fieldBatchEvery = 10 * time.Second

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
	if c.cancels {
		end = clk.RealTime(cancelAt)
	}
	d.logf("%s: waiting for the campaign to complete (it ends in %s)", c.id, time.Until(end).Round(time.Second))
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
	completedAt := time.Now()
	d.logf("%s: completed", c.id)

	// The phone stops once its entries are refused because the campaign is over; what it was
	// told is recorded is part of what the figures must count.
	if p := c.phone; p != nil {
		select {
		case <-p.done:
		case <-time.After(2 * time.Minute):
			r.bad("the phone was still sending two minutes after the campaign completed")
			p.cancel()
			<-p.done
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		x.addPhone(p)
	}

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
		if p.Status != x.status {
			r.bad("progress says %s, not %s", p.Status, x.status)
		}
		if p.Enrolled != x.enrolled {
			r.bad("progress counts %d enrolled; the files and the phone give %d", p.Enrolled, x.enrolled)
		}
		if p.Revisions != len(x.revisions) {
			r.bad("progress counts %d plan revisions applied; the script sends %d", p.Revisions, len(x.revisions))
		}
		return false, nil
	}); err != nil {
		return nil, err
	}

	if d.planting {
		if err := d.plant(ctx, c.id); err != nil {
			return nil, err
		}
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
	if err := d.checkField(ctx, c, r, completedAt); err != nil {
		return nil, err
	}
	return r, nil
}

// queryRows reads rows of a key and its values, as strings.
func (d *drill) queryRows(ctx context.Context, sql string, args ...any) ([]row, error) {
	rs, err := d.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		vals, err := rs.Values()
		if err != nil {
			return nil, err
		}
		rw := row{key: fmt.Sprint(vals[0])}
		for _, v := range vals[1:] {
			rw.vals = append(rw.vals, fmt.Sprint(v))
		}
		out = append(out, rw)
	}
	return out, rs.Err()
}

// checkField checks the phone's entries against the database and the workflow's counts: every
// entry answered (recorded, or refused in words — only because the campaign was over); every
// entry answered in field_entries once, as answered; every person it was told is recorded
// enrolled or a lead exactly once, and no other of its people; every field enrolment counted
// by the workflow (its progress and the report are checked against figures that include them,
// by check and checkReport), as many as the phone was told; and the counts batched: at most one
// record-field Update per fieldBatchEvery of the campaign's run, and a few more (one per web
// process started, which arms its own timer, and the close's), not one per send.
//
// Shown failing: -phone-bug new-ids (the phone sends entries again with new IDs after a
// failure) and -phone-bug uncounted (the expected figures leave out the phone's enrolments).
func (d *drill) checkField(ctx context.Context, c *coord, r *checked, completedAt time.Time) error {
	p := c.phone
	if p == nil {
		return nil
	}
	s := p.summary()
	r.phone = &s
	for _, pr := range s.problems {
		r.bad("phone: %s", pr)
	}
	if s.unans > 0 {
		if s.stopped == "the drill ended first" {
			r.bad("the drill ended before %d of the phone's entries were answered", s.unans)
		} else {
			r.bad("%d of the phone's entries were never answered", s.unans)
		}
		r.lost += s.unans
	}
	for _, msg := range sortedKeys(s.otherRefusals) {
		r.bad("%d of the phone's entries refused, not because the campaign was over: %s", s.otherRefusals[msg], msg)
		r.wrong += s.otherRefusals[msg]
	}

	entries, people := map[string][]string{}, map[string][]string{}
	p.mu.Lock()
	for _, e := range p.entries {
		if e.status == "" {
			continue
		}
		entries[e.e.ID] = []string{e.status, e.e.Kind}
		if e.status == "recorded" {
			people[e.e.CitizenID] = []string{e.e.Kind}
		}
	}
	p.mu.Unlock()
	got, err := d.queryRows(ctx, `select id::text, status, kind from field_entries where campaign_id = $1`, c.id)
	if err != nil {
		return fmt.Errorf("%s: field entries: %w", c.id, err)
	}
	r.note(compareSet("field entries by ID", []string{"status", "kind"}, entries, got))
	got, err = d.queryRows(ctx, `select citizen_id, 'enrolment' from enrolments where campaign_id = $1 and citizen_id like $2
		union all select citizen_id, 'lead' from prospects where campaign_id = $1 and citizen_id like $2`, c.id, fmt.Sprintf("0019%02d%%", p.salt))
	if err != nil {
		return fmt.Errorf("%s: the phone's people: %w", c.id, err)
	}
	r.note(compareSet("the phone's people (enrolments and leads) by citizen ID", []string{"kind"}, people, got))

	var unfolded int
	if err := d.db.QueryRow(ctx, `select count(*) from field_entries where campaign_id = $1 and enrolled and folded_at is null`, c.id).Scan(&unfolded); err != nil {
		return err
	}
	if unfolded > 0 {
		// The close counts the field once more, then marks the campaign closed in another
		// activity; until then the database says running, and a send is taken.
		var gap time.Duration
		_ = d.db.QueryRow(ctx, `select coalesce((select max(recorded_at) from audit_log where campaign_id = $1 and action = 'campaign.close')
			- (select max(recorded_at) from audit_log where campaign_id = $1 and action = 'field.fold'), interval '0')`, c.id).Scan(&gap)
		r.bad("%d field enrolments were never counted by the workflow: recorded after its last count (the close's, %s before the campaign.close row), so the report has them and the progress does not",
			unfolded, gap.Round(time.Millisecond))
		r.lost += unfolded
	}
	if err := d.db.QueryRow(ctx, `select count(*), coalesce(sum((result->>'enrolled')::int), 0) from audit_log
		where campaign_id = $1 and action = 'field.fold'`, c.id).Scan(&r.folds, &r.folded); err != nil {
		return err
	}
	if r.folded != s.recordedEnrolments {
		r.bad("the workflow's counts of the field (field.fold) counted %d enrolments; the phone was told %d were recorded", r.folded, s.recordedEnrolments)
	}
	r.webStarts, _ = d.s.web.counts()
	r.ran = completedAt.Sub(c.launched)
	r.foldBound = int(r.ran/fieldBatchEvery) + r.webStarts + 1 + 2
	if r.folds > r.foldBound {
		r.bad("counting the field took %d record-field Updates (field.fold) in %s; batched every %s, at most %d", r.folds, r.ran.Round(time.Second), fieldBatchEvery, r.foldBound)
	}
	return nil
}

// checkKeys compares each set of business keys in the database, with the values the report
// and the reviews rest on, against the set computed from the files and the script alone: a key
// lost and a wrong one added do not cancel out, and a key with a wrong value counts too.
//
// Shown failing: TestChecksCatchPlantedFaults plants, in rows as the database returns them, a
// lost enrolment with a made-up one in its place, a doubled key, the later file's group for a
// duplicate (first file wins), a follow-up's status, a decision's status, a quota and a review
// of an agent terminated before it; and `go run ./cmd/drill -plant` plants such faults in the
// database itself before the checks, each of which then fails.
func (d *drill) checkKeys(ctx context.Context, id string, x *expected, r *checked) error {
	rows := func(sql string) ([]row, error) { return d.queryRows(ctx, sql, id) }
	set := func(keys []string) map[string][]string {
		m := map[string][]string{}
		for _, k := range keys {
			m[k] = []string{}
		}
		return m
	}
	quotas := map[string][]string{}
	for k, v := range x.quotas {
		if k == "city/" {
			k = "city/" + id
		}
		quotas[k] = v
	}
	history := map[string][]string{}
	for k, v := range x.quotaHistory {
		if rest, ok := strings.CutPrefix(k, "city/#"); ok {
			k = "city/" + id + "#" + rest
		}
		history[k] = v
	}
	revisionRows := map[string][]string{}
	for n := range x.revisions {
		revisionRows[id+"#"+n] = []string{"1"}
	}
	heldOnce := map[string][]string{}
	for _, e := range x.held {
		heldOnce[e] = []string{"1"}
	}
	decidedOnce := map[string][]string{}
	for k, v := range x.terminations {
		action := map[string]string{"approved": "review.terminate", "rejected": "review.reject"}[v[0]]
		decidedOnce[k+"/"+action] = []string{"1"}
	}
	checks := []struct {
		kind   string
		fields []string
		sql    string // key, then the values
		want   map[string][]string
		others string // the value every key not in want must have; "" for none
	}{
		{"enrolments by citizen ID", enrolmentFields,
			`select citizen_id, agent_code, commune_code, coalesce(village_code, ''), target_group from enrolments where campaign_id = $1`, x.enrolments, ""},
		{"prospects by citizen ID", groupField, `select citizen_id, target_group from prospects where campaign_id = $1`, x.prospects, ""},
		{"follow-ups of leads by the prospect's citizen ID", statusField,
			`select coalesce(p.citizen_id, 'no prospect ' || f.prospect_id), f.status from follow_ups f left join prospects p on p.id = f.prospect_id
			 where f.campaign_id = $1 and f.kind = 'lead'`, x.followUpOf, ""},
		{"events held", noFields, `select id from events where campaign_id = $1 and status = 'held'`, set(x.held), ""},
		{"event results by event", noFields, `select entity_key from audit_log where campaign_id = $1 and action = 'event.results'`, set(x.leadsFiles), ""},
		{"reviews by period", noFields, `select period from reviews where campaign_id = $1`, set(x.reviewPeriods), ""},
		{"review decisions by period and agent", noFields, `select period || '/' || agent_code from review_decisions where campaign_id = $1`, x.decisions, ""},
		{"proposed terminations by period and agent", statusField,
			`select period || '/' || agent_code, status from review_decisions where campaign_id = $1 and decision = 'terminate'`, x.terminations, "rejected"},
		{"quotas by level and code", targetField, `select level || '/' || code, target from quotas where campaign_id = $1`, quotas, ""},
		{"quota transfers by period, from and to", amountField,
			`select period || '/' || from_agent || '/' || to_agent, amount from quota_transfers where campaign_id = $1`, x.transfers, ""},
		{"agents by code", statusField, `select code, status from agents where campaign_id = $1`, x.agents(), ""},
		{"steers (pause, resume, cancel) by status", []string{"count"},
			`select action, count(*) from audit_log where campaign_id = $1 and actor = 'drill'
			 and action in ('campaign.paused', 'campaign.running', 'campaign.closing') group by action`, x.steerCounts(), ""},
		{"final reports", noFields, `select campaign_id from reports where campaign_id = $1`, set([]string{id}), ""},
		// The plan's revision: applied once, audited once, its targets kept by day (the rows
		// of the targets they replaced are a handover's too: not compared), the event it adds held once (by one district step) and the one
		// it removes cancelled by it; and each termination decided once.
		{"plan revisions applied by number", noFields,
			`select number::text from plan_revisions where campaign_id = $1 and applied_at is not null`, x.revisions, ""},
		{"plan.revise audit rows by revision", []string{"rows"},
			`select entity_key, count(*) from audit_log where campaign_id = $1 and action = 'plan.revise' group by entity_key`, revisionRows, ""},
		{"quota history by level, code and revision", targetField,
			`select level || '/' || code || '#' || revision, target from quota_history where campaign_id = $1 and revision > 0`, history, ""},
		{"events removed by the revision", []string{"cancel reason"},
			`select id, cancel_reason from events where campaign_id = $1 and cancel_reason like 'removed by revision%'`, x.removed, ""},
		{"events held, by the district steps that held them", []string{"steps"},
			`select h, count(*) from audit_log a, jsonb_array_elements_text(case jsonb_typeof(a.result->'held') when 'array' then a.result->'held' else '[]'::jsonb end) h
			 where a.campaign_id = $1 and a.action = 'district.advance' group by h`, heldOnce, ""},
		{"termination decisions audited by period, agent and decision", []string{"rows"},
			`select (detail->>'period') || '/' || entity_key || '/' || action, count(*) from audit_log
			 where campaign_id = $1 and action in ('review.terminate', 'review.reject') group by 1`, decidedOnce, "1"},
	}
	for _, k := range checks {
		got, err := rows(k.sql)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", id, k.kind, err)
		}
		want := k.want
		if k.others != "" {
			want = map[string][]string{}
			for key, v := range k.want {
				want[key] = v
			}
			for _, g := range got {
				if _, ok := want[g.key]; !ok {
					want[g.key] = []string{k.others}
				}
			}
		}
		r.note(compareSet(k.kind, k.fields, want, got))
	}

	// Counts the merges give, against the files sent.
	var newSum, merges, mergeKeys int
	if err := d.db.QueryRow(ctx, `select coalesce(sum((result->>'new')::int), 0) from import_batches
		where campaign_id = $1 and kind = 'enrolments' and status = 'merged'`, id).Scan(&newSum); err != nil {
		return err
	}
	if files := x.enrolled - x.fieldEnrolled; newSum != files {
		r.bad("new enrolments counted by merged batches: %d, the files give %d", newSum, files)
		r.lost += max(files-newSum, 0)
		r.doubled += max(newSum-files, 0)
	}
	if err := d.db.QueryRow(ctx, `select count(*), count(distinct entity_key) from audit_log where campaign_id = $1 and action = 'import.merge'`, id).
		Scan(&merges, &mergeKeys); err != nil {
		return err
	}
	files := x.files[imports.Enrolments] + x.files[imports.Outcomes]
	r.keys += files
	if merges != files || mergeKeys != files {
		r.bad("merges audited: %d rows for %d batches; the coordinator sent %d enrolment and outcome files", merges, mergeKeys, files)
		r.lost += max(files-mergeKeys, 0)
		r.doubled += max(merges-files, 0)
	}
	return nil
}

// note adds a set comparison to the findings.
func (r *checked) note(d setDiff) {
	r.keys += d.want
	r.lost += d.missing
	r.doubled += d.doubled + d.extra
	r.wrong += d.wrong
	if !d.ok() {
		r.bad("%s", d)
	}
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
	if !rep.Final || rep.Status != x.status {
		r.bad("report is not the final report of a %s campaign (status %s, final %v)", x.status, rep.Status, rep.Final)
	}
	eq("enrolled", rep.Enrolled, x.enrolled)
	eq("target", rep.Target, x.target)
	eq("prior year", rep.PriorYear, x.priorYear)
	eq("growth", rep.Growth, x.enrolled-x.priorYear)
	seen := map[string]bool{}
	quota := func(key string) int {
		if len(x.quotas[key]) == 0 {
			return -1
		}
		n, _ := strconv.Atoi(x.quotas[key][0])
		return n
	}
	for _, u := range rep.Units {
		eq(u.Level+" "+u.Code+" enrolled", u.Enrolled, x.byUnit[u.Code])
		eq(u.Level+" "+u.Code+" target", u.Target, quota(u.Level+"/"+u.Code))
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
		eq("agent "+a.Code+" quota", a.Quota, quota("agent/"+a.Code))
		if a.Status != x.agentStatus[a.Code] {
			r.bad("report: agent %s is %s; the script leaves it %s", a.Code, a.Status, x.agentStatus[a.Code])
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
	eq("events held", rep.Events.Held, len(x.held))
	eq("events not held (planned or cancelled)", rep.Events.Planned+rep.Events.Cancelled, x.eventsTotal-len(x.held))
	eq("event attendance", rep.Events.Attendance, x.attendance)
	eq("event leads", rep.Events.Leads, x.eventLeads)
	return nil
}
