package report_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"drives/activities"
	"drives/campaign"
	"drives/imports"
	"drives/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// The plan of every test: 2 districts, 5 communes, 9 villages (labour force 12,734, so a
// city target of 127 at 1%), 11 people, 2 target groups, 4 planned events of which one is
// city-wide (5 events once expanded per district).
//
//   - commune 00001: staff CB-00001 and three agents;
//   - commune 00002: staff only (CB-00002), so its leads go to its staff;
//   - commune 00003: staff and one agent;
//   - commune 00010: staff and two agents;
//   - commune 00011: one agent and no staff.
const (
	fixtureUnits = `district_code,district_name,district_type,commune_code,commune_name,commune_type
001,Quận Một,Quận,00001,Phường An,Phường
001,Quận Một,Quận,00002,Phường Bình,Phường
001,Quận Một,Quận,00003,Phường Cầu,Phường
002,Huyện Hai,Huyện,00010,Xã Cao,Xã
002,Huyện Hai,Huyện,00011,Thị trấn Đông,Thị trấn
`
	fixtureVillages = `commune_code,village_code,village_name,labour_force,source
00001,00001-01,Tổ dân phố 1,1000,synthetic
00001,00001-02,Tổ dân phố 2,500,synthetic
00002,00002-01,Tổ dân phố 1,1500,synthetic
00003,00003-01,Tổ dân phố 1,700,synthetic
00003,00003-02,Tổ dân phố 2,800,measured
00010,00010-01,Thôn 1,3000,synthetic
00010,00010-02,Thôn 2,2000,measured
00011,00011-01,Tổ dân phố 1,2000,synthetic
00011,00011-02,Tổ dân phố 2,1234,synthetic
`
	fixtureRoster = `code,commune_code,kind,post_office,full_name,phone,weight
CB-00001,00001,staff,no,Nguyễn Văn An,0900000001,0.5
DL-00001-1,00001,agent,no,Trần Thị Bình,0900000002,1.0
DL-00001-2,00001,agent,yes,Lê Văn Cường,0900000003,0.8
DL-00001-3,00001,agent,no,Phạm Thị Dung,0900000004,1.0
CB-00002,00002,staff,no,Hoàng Văn Em,0900000005,0.5
CB-00003,00003,staff,no,Vũ Thị Giang,0900000006,0.5
DL-00003-1,00003,agent,no,Đặng Văn Hải,0900000007,1.0
CB-00010,00010,staff,no,Bùi Thị Hoa,0900000008,0.5
DL-00010-1,00010,agent,yes,Đỗ Văn Khánh,0900000009,0.8
DL-00010-2,00010,agent,no,Ngô Thị Lan,0900000010,1.0
DL-00011-1,00011,agent,no,Dương Văn Minh,0900000011,1.0
`
	fixturePlan = `id: test-2021
name: Test drive
year: 2021
timezone: Asia/Ho_Chi_Minh
period:
  start: 2021-01-01
  end: 2021-12-31
clock:
  scale: 1
prior_year_enrolled: 80
target:
  rule: labour_force_share
  share: 0.01
units:
  file: units.csv
  villages_file: villages.csv
roster:
  file: roster.csv
target_groups:
  - code: trader
    name: Hộ kinh doanh, tiểu thương
    likelihood: 0.45
  - code: student
    name: Học sinh, sinh viên
    likelihood: 0.15
events:
  - id: conf-001
    kind: conference
    title: Hội nghị quận Một
    unit: "001"
    date: 2021-03-01
    groups: [trader]
    expected_attendance: 120
  - id: d2d-00010
    kind: door_to_door
    unit: "00010"
    date: 2021-04-01
    groups: [trader, student]
  - id: po-1
    kind: post_office_round
    title: Đợt tuyên truyền cùng Bưu điện
    unit: city
    date: 2021-03-22
    groups: [trader, student]
  - id: dlg-00002
    kind: dialogue
    unit: "00002"
    date: 2021-06-01
    groups: [student]
follow_up:
  deadline: 30d
  reminders: [7d, 21d]
  give_up_after: 60d
  sweep_every: 7d
`
	campaignID = "test-2021"
	day        = 24 * time.Hour
)

// seeded is a campaign prepared as CampaignWorkflow prepares it, with the activity
// environment its activities run in (one per test: it numbers activity IDs).
type seeded struct {
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
	acts *activities.Activities
	env  *testsuite.TestActivityEnvironment
	spec campaign.CampaignSpec
}

func seed(t *testing.T) *seeded {
	t.Helper()
	ctx := context.Background()
	pool := testenv.NewPool(t)
	dir := t.TempDir()
	for name, text := range map[string]string{"plan.yaml": fixturePlan, "units.csv": fixtureUnits, "villages.csv": fixtureVillages, "roster.csv": fixtureRoster} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lp, err := campaign.LoadPlan(filepath.Join(dir, "plan.yaml"))
	if err != nil {
		t.Fatalf("fixture plan: %v", err)
	}
	// The campaigns row, exactly as coordinator.Launch stores it.
	p := lp.Plan
	body, err := json.Marshal(lp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		insert into campaigns (id, name, year, plan_hash, plan, prior_year_enrolled, period_start, period_end, timezone, clock_scale, workflow_id)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict (id) do nothing`,
		p.ID, p.Name, p.Period.Start.Y, lp.Hash, body, p.PriorYearEnrolled, p.Period.Start.String(), p.Period.End.String(),
		p.Timezone, p.Clock.Scale, campaign.CampaignWorkflowID(p.ID)); err != nil {
		t.Fatalf("store plan: %v", err)
	}
	s := &seeded{t: t, ctx: ctx, pool: pool, acts: &activities.Activities{Pool: pool}}
	suite := &testsuite.WorkflowTestSuite{}
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	s.env = suite.NewTestActivityEnvironment()
	s.env.SetTestTimeout(2 * time.Minute)
	s.env.RegisterActivity(s.acts)
	plan := activities.PlanInput{CampaignID: p.ID, PlanHash: lp.Hash}
	s.run(s.acts.LoadPlan, plan, &s.spec)
	s.run(s.acts.AllocateQuotas, activities.AllocateInput{PlanInput: plan, Clock: campaign.NewClock(s.spec.PeriodStart, s.spec.Scale, time.Now())}, nil)
	s.run(s.acts.AssignAgents, plan, nil)
	return s
}

func (s *seeded) run(fn, in, out any) {
	s.t.Helper()
	v, err := s.env.ExecuteActivity(fn, in)
	if err != nil {
		s.t.Fatalf("activity: %v", err)
	}
	if out != nil {
		if err := v.Get(out); err != nil {
			s.t.Fatal(err)
		}
	}
}

// holdWithLeads holds an event and records a leads file for it, so its people are leads.
func (s *seeded) holdWithLeads(eventID string, data []byte) {
	s.t.Helper()
	var ev campaign.Event
	for _, e := range s.spec.Events {
		if e.ID == eventID {
			ev = e
		}
	}
	s.run(s.acts.AdvanceDistrict, activities.AdvanceInput{CampaignID: campaignID, District: ev.District, AsOf: ev.At,
		Hold: []string{eventID}, Policy: s.spec.Policy}, nil)
	ref, err := imports.LoadReference(s.ctx, s.pool, campaignID, eventID)
	if err != nil {
		s.t.Fatal(err)
	}
	rows, err := imports.Parse(imports.Leads, "leads.csv", data, ref)
	if err != nil {
		s.t.Fatal(err)
	}
	batch, err := imports.Stage(s.ctx, s.pool, campaignID, imports.Leads, eventID, "leads.csv", data, rows, "tester")
	if err != nil {
		s.t.Fatal(err)
	}
	s.run(s.acts.RecordEventResult, activities.EventResultInput{CampaignID: campaignID, Policy: s.spec.Policy,
		Request: campaign.EventResultRequest{EventID: eventID, Attendance: 10, BatchID: batch, By: "tester"}}, nil)
}

func (s *seeded) count(sql string, args ...any) int {
	s.t.Helper()
	var n int
	if err := s.pool.QueryRow(s.ctx, sql, args...).Scan(&n); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// importFile checks, stages and merges an enrolment or outcome file through MergeImport.
func (s *seeded) importFile(kind imports.Kind, data []byte) campaign.ImportResult {
	s.t.Helper()
	ref, err := imports.LoadReference(s.ctx, s.pool, campaignID, "")
	if err != nil {
		s.t.Fatal(err)
	}
	rows, err := imports.Parse(kind, string(kind)+".csv", data, ref)
	if err != nil {
		s.t.Fatal(err)
	}
	batch, err := imports.Stage(s.ctx, s.pool, campaignID, kind, "", string(kind)+".csv", data, rows, "tester")
	if err != nil {
		s.t.Fatal(err)
	}
	var res campaign.ImportResult
	s.run(s.acts.MergeImport, activities.MergeInput{CampaignID: campaignID, BatchID: batch, By: "tester"}, &res)
	return res
}
