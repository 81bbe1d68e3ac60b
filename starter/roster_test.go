package main

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"drives/activities"
	"drives/campaign"
	"drives/coordinator"
	"drives/internal/fixture"
	"drives/plan"
	"drives/units"
)

// `starter agents roster` writes the roster as it stands, in the plan's roster format: after
// an agent left and another moved to commune 00002 under a new code, the leaver and the old code
// are not in it and the new code is, in its new commune, with the mover's name and weight; every
// other agent and staff member is there as launched. Next year's plan takes the file as its
// roster. The file is new and its owner's only, never written over; agents with a termination
// still to decide are named on stderr; an unknown campaign is refused by name. Shown failing
// with the roster read without the status (the leaver listed).
func TestAgentsRosterIsTheRosterAsItStands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pool := commandDB(t)
	c := fixture.Seed(t, pool)
	t.Setenv("DRIVES_USER", "coordinator-a")
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2021, 3, 1, 9, 0, 0, 0, loc)
	fixture.MustCall[campaign.LeaveResult](c, c.Acts.AgentLeaves, activities.LeaveInput{CampaignID: fixture.CampaignID, At: at,
		Request: campaign.LeaveRequest{Agent: "DL-00001-2", Reason: "nghỉ việc", By: "coordinator-a"}})
	fixture.MustCall[campaign.MoveResult](c, c.Acts.AgentMoves, activities.MoveInput{CampaignID: fixture.CampaignID, At: at,
		Request: campaign.MoveRequest{Agent: "DL-00001-3", To: "00002", As: "DL-00002-9", Reason: "điều chuyển", By: "coordinator-a"}})

	dir := fixture.PlanDir(t)
	out := filepath.Join(dir, "roster-2022.csv")
	stdout, stderr, err := starterSplit(ctx, "agents", "roster", fixture.CampaignID, "--out", out)
	if err != nil {
		t.Fatalf("agents roster: %v\n%s", err, stderr)
	}
	if stdout != "" {
		t.Errorf("with --out, stdout holds %q", stdout)
	}
	active := c.Count(`select count(*) from agents where campaign_id = $1 and status = 'active' and kind = 'agent'`, fixture.CampaignID)
	staff := c.Count(`select count(*) from agents where campaign_id = $1 and status = 'active' and kind = 'staff'`, fixture.CampaignID)
	if want := count(active, "agent", "agents") + " and " + count(staff, "staff member", "staff members") + " of campaign " +
		fixture.CampaignID + " (running) written to " + out; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not say %q", stderr, want)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the roster file: %v, mode %v; want a file of mode 0600", err, fi.Mode())
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(written), "\n"), "\n")
	if lines[0] != strings.Join(plan.RosterHeader, ",") || len(lines) != 1+active+staff {
		t.Fatalf("the roster: header %q and %d lines; want the plan's header and %d", lines[0], len(lines)-1, active+staff)
	}
	var mover string
	if err := pool.QueryRow(ctx, `select full_name from agents where campaign_id = $1 and code = 'DL-00001-3'`, fixture.CampaignID).Scan(&mover); err != nil {
		t.Fatal(err)
	}
	for _, l := range lines[1:] {
		code := l[:strings.IndexByte(l, ',')]
		if code == "DL-00001-2" || code == "DL-00001-3" {
			t.Errorf("the roster lists %s, whose contract has ended: %q", code, l)
		}
		if code == "DL-00002-9" && !strings.HasPrefix(l, "DL-00002-9,00002,agent,") || code == "DL-00002-9" && !strings.Contains(l, ","+mover+",") {
			t.Errorf("the mover's new contract reads %q; want commune 00002 and the mover's name", l)
		}
	}
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "DL-00002-9,") }) {
		t.Error("the roster does not list the mover's new code DL-00002-9")
	}

	// Next year's plan takes the file as its roster: the same people, where they are now.
	planText, err := os.ReadFile(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	next := strings.Replace(string(planText), "file: roster.csv", "file: roster-2022.csv", 1)
	if next == string(planText) {
		t.Fatal("the fixture plan names no roster.csv")
	}
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(next), 0o644); err != nil {
		t.Fatal(err)
	}
	lp, err := plan.Load(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatalf("next year's plan with the roster as it stands: %v", err)
	}
	if len(lp.Roster) != active+staff || !slices.ContainsFunc(lp.Roster, func(a units.Agent) bool {
		return a.Code == "DL-00002-9" && a.Commune == "00002" && a.Name == mover
	}) {
		t.Errorf("next year's roster: %d agents and staff, the mover %v; want %d and DL-00002-9 in 00002", len(lp.Roster),
			slices.ContainsFunc(lp.Roster, func(a units.Agent) bool { return a.Code == "DL-00002-9" }), active+staff)
	}

	// Never over an existing file; the file stays as it was.
	if _, _, err := starterSplit(ctx, "agents", "roster", fixture.CampaignID, "--out", out); err == nil || !strings.Contains(err.Error(), "the file exists") {
		t.Errorf("a second roster to the same file: %v, want it refused", err)
	}
	if again, _ := os.ReadFile(out); string(again) != string(written) {
		t.Error("a refused roster changed the file")
	}

	// Terminations still to decide are named (their agents are listed: their contracts run).
	ps, err := plan.ReviewPeriods(plan.DefaultReviewCron, loc, c.Spec.PeriodStart, c.Spec.PeriodEnd)
	if err != nil {
		t.Fatal(err)
	}
	pol := plan.ReviewPolicy{RewardAt: 1, WarnBelow: 0.6, TerminateBelow: 0.3, TerminateAfter: 1,
		Reward: plan.Reward{Kind: "bonus", Amount: 500_000}, ApprovalWait: plan.Duration(14 * 24 * time.Hour), CommendTop: 2}
	s := fixture.MustCall[campaign.ReviewSummary](c, c.Acts.EvaluateAgents, activities.EvaluateInput{
		CampaignID: fixture.CampaignID, WorkflowID: campaign.ReviewWorkflowID(fixture.CampaignID, ps[0].Label), Period: ps[0], Policy: pol})
	if s.Proposed == 0 {
		t.Fatal("the review proposed no termination: the test shows nothing")
	}
	stdout, stderr, err = starterSplit(ctx, "agents", "roster", fixture.CampaignID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout, strings.Join(plan.RosterHeader, ",")+"\n") || strings.Count(stdout, "\n") != 1+active+staff {
		t.Errorf("the roster on stdout: %.200q", stdout)
	}
	if !strings.Contains(stderr, "listed with a termination still to decide") || !strings.Contains(stderr, " ("+ps[0].Label+")") {
		t.Errorf("stderr does not name the terminations to decide: %q", stderr)
	}

	if _, _, err := starterSplit(ctx, "agents", "roster", "no-such-campaign"); err == nil || !strings.Contains(err.Error(), `unknown campaign "no-such-campaign"`) {
		t.Errorf("an unknown campaign: %v", err)
	}

	// Next year's campaign, launched with that roster after this one closed: the mover's
	// contracts, from either code, are the one that ended with the move, the one that ran to
	// the close, and next year's, which runs.
	c.Exec(`update campaigns set status = 'closed' where id = $1`, fixture.CampaignID)
	next = strings.NewReplacer("id: test-2021", "id: test-2022", "year: 2021", "year: 2022", "2021-", "2022-",
		"prior_year_enrolled: 80", "previous_campaign: "+fixture.CampaignID).Replace(next)
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(next), 0o644); err != nil {
		t.Fatal(err)
	}
	if lp, err = plan.Load(filepath.Join(dir, "plan.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := coordinator.StorePlan(ctx, pool, lp); err != nil {
		t.Fatal(err)
	}
	in := activities.PlanInput{CampaignID: "test-2022", PlanHash: lp.Hash}
	spec := fixture.MustCall[plan.Spec](c, c.Acts.LoadPlan, in)
	fixture.MustCall[activities.AllocateResult](c, c.Acts.AllocateQuotas, activities.AllocateInput{PlanInput: in,
		Clock: plan.NewClock(spec.PeriodStart, spec.Scale, time.Now())})
	fixture.MustCall[activities.AssignResult](c, c.Acts.AssignAgents, in)
	want := [][]string{
		{"test-2021", "DL-00001-3", "00001", "agent", "2021-01-01", "2021-03-01", "left", "moved to commune 00002 as DL-00002-9: điều chuyển"},
		{"test-2021", "DL-00002-9", "00002", "agent", "2021-03-01", "to the close", "active"},
		{"test-2022", "DL-00002-9", "00002", "agent", "2022-01-01", "runs", "active"},
	}
	for _, code := range []string{"DL-00002-9", "DL-00001-3"} {
		out, err := starter(ctx, "agents", "contracts", "test-2022", code)
		if err != nil {
			t.Fatal(err)
		}
		var got [][]string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			f := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(l), -1)
			got = append(got, f)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("agents contracts test-2022 %s:\n%s\nwant the rows %q", code, out, want)
		}
	}
	if _, err := starter(ctx, "agents", "contracts", "test-2022", "DL-99999-9"); err == nil || !strings.Contains(err.Error(), `agent "DL-99999-9": no contract`) {
		t.Errorf("an agent with no contract: %v", err)
	}
}
