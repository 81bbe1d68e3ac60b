package coordinator_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"drives/coordinator"
	"drives/internal/fixture"
	"drives/internal/testenv"
	"drives/plan"
	"drives/units"
)

// nextYear writes the fixture plan as next year's campaign, naming the fixture's campaign as
// its previous one instead of a typed prior-year figure, and loads it.
func nextYear(t *testing.T, id string) *plan.Loaded {
	t.Helper()
	dir := fixture.PlanDir(t)
	b, err := os.ReadFile(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(b), "id: test-2021", "id: "+id, 1)
	text = strings.Replace(text, "prior_year_enrolled: 80", "previous_campaign: "+fixture.CampaignID, 1)
	if text == string(b) {
		t.Fatal("the fixture plan changed: its id or prior_year_enrolled line is not there")
	}
	if err := os.WriteFile(filepath.Join(dir, "plan.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	lp, err := plan.Load(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return lp
}

// A plan naming its previous campaign takes over that campaign's register once it has
// closed: the same register, and the prior-year figure is the register's stock at the previous
// campaign's end (three people current on 31 December, one lapsed in the year). Launching it
// while the previous campaign runs, after another campaign took the register over, or naming
// a campaign nobody launched is refused with the reason, and stores nothing.
func TestNextYearTakesOverTheRegister(t *testing.T) {
	c := fixture.Seed(t, testenv.NewPool(t))
	c.Exec(`insert into participants (register_id, citizen_id, full_name, phone, district_code, commune_code, target_group,
		agent_code, monthly_income, subsidy_class, joined_on, cover_anchor, months_paid, campaign_id)
		select $1, lpad(g::text, 12, '0'), 'x', '0900000000', '001', '00001', 'trader', 'DL-00001-1', 2000000, 'other',
			'2021-03-01', '2021-03-01', 12, $1
		from generate_series(1, 4) g`, fixture.CampaignID)
	c.Exec(`insert into participant_changes (register_id, citizen_id, kind, on_date, campaign_id, district_code, commune_code, target_group, agent_code)
		select $1, citizen_id, 'joined', joined_on, $1, district_code, commune_code, target_group, agent_code from participants where register_id = $1`,
		fixture.CampaignID)
	c.Exec(`insert into participant_changes (register_id, citizen_id, kind, on_date, campaign_id, district_code, commune_code, target_group, agent_code)
		values ($1, '000000000004', 'lapsed', '2021-11-20', $1, '001', '00001', 'trader', 'DL-00001-1')`, fixture.CampaignID)

	next := nextYear(t, "test-2022")
	err := coordinator.StorePlan(c.Ctx, c.Pool, next)
	if err == nil || !strings.Contains(err.Error(), "previous_campaign: campaign test-2021 is running; its register passes on when it has closed") {
		t.Fatalf("launch while the previous campaign runs: %v", err)
	}
	if n := c.Count(`select count(*) from campaigns where id = 'test-2022'`); n != 0 {
		t.Fatalf("a refused launch stored the campaign")
	}

	c.Exec(`update campaigns set status = 'closed' where id = $1`, fixture.CampaignID)
	if err := coordinator.StorePlan(c.Ctx, c.Pool, next); err != nil {
		t.Fatal(err)
	}
	var register string
	var prior int
	if err := c.Pool.QueryRow(c.Ctx, `select register_id, prior_year_enrolled from campaigns where id = 'test-2022'`).Scan(&register, &prior); err != nil {
		t.Fatal(err)
	}
	if register != fixture.CampaignID || prior != 3 {
		t.Errorf("next year: register %q, prior year %d; want the register of %s and 3", register, prior, fixture.CampaignID)
	}

	// A second successor is refused; so is a previous campaign nobody launched.
	err = coordinator.StorePlan(c.Ctx, c.Pool, nextYear(t, "test-2022b"))
	if err == nil || !strings.Contains(err.Error(), "campaign test-2022 already follows test-2021") {
		t.Errorf("a second successor: %v", err)
	}
	other := nextYear(t, "test-2023")
	other.Plan.PreviousCampaign = "test-1999"
	if err := coordinator.StorePlan(c.Ctx, c.Pool, other); err == nil || !strings.Contains(err.Error(), "previous_campaign: no campaign test-1999") {
		t.Errorf("an unknown previous campaign: %v", err)
	}
	if n := c.Count(`select count(*) from campaigns where id in ('test-2022b', 'test-2023')`); n != 0 {
		t.Errorf("refused launches stored %d campaigns", n)
	}
}

// Next year's roster may not list a code whose contract ended in the previous campaign (an
// agent who left, one terminated): codes are given once, so whoever is hired again is listed
// under a new code. The refusal names each code with how and when its contract ended, and
// stores nothing; the roster as it stands (without them) is taken. Shown failing with the check
// left out (the plan with the ended codes was stored).
func TestNextYearsRosterListsNoEndedContract(t *testing.T) {
	c := fixture.Seed(t, testenv.NewPool(t))
	c.Exec(`update agents set status = 'left', terminated_at = '2021-05-10 09:00:00+07', termination_reason = 'nghỉ việc'
		where campaign_id = $1 and code = 'DL-00001-2'`, fixture.CampaignID)
	c.Exec(`update agents set status = 'terminated', terminated_at = '2021-07-02 00:30:00+07', termination_reason = 'review 2021-Q2'
		where campaign_id = $1 and code = 'DL-00001-3'`, fixture.CampaignID)
	c.Exec(`update campaigns set status = 'closed' where id = $1`, fixture.CampaignID)

	next := nextYear(t, "test-2022")
	err := coordinator.StorePlan(c.Ctx, c.Pool, next)
	if err == nil || !strings.Contains(err.Error(), "roster: 2 of its codes ended their contracts in test-2021") ||
		!strings.Contains(err.Error(), "DL-00001-2 (left 2021-05-10), DL-00001-3 (terminated 2021-07-02)") {
		t.Fatalf("next year's roster with ended contracts: %v", err)
	}
	if n := c.Count(`select count(*) from campaigns where id = 'test-2022'`); n != 0 {
		t.Fatal("a refused launch stored the campaign")
	}
	next.Roster = slices.DeleteFunc(next.Roster, func(a units.Agent) bool { return a.Code == "DL-00001-2" || a.Code == "DL-00001-3" })
	if err := coordinator.StorePlan(c.Ctx, c.Pool, next); err != nil {
		t.Fatalf("the roster as it stands: %v", err)
	}
}
