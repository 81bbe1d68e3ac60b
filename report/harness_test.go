package report_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"drives/activities"
	"drives/campaign"
	"drives/imports"
	"drives/internal/fixture"
	"drives/internal/testenv"
	"drives/plan"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// Every test runs on the fixture campaign (internal/fixture): read its package comment for
// what the plan holds.
const (
	campaignID = fixture.CampaignID
	day        = 24 * time.Hour
)

// fixtureRoster is the fixture's roster file, whose names and phones no report may print.
var fixtureRoster = fixture.Roster

// seeded is the fixture campaign, prepared as CampaignWorkflow prepares it, under the short
// names the tests use.
type seeded struct {
	*fixture.Campaign
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
	acts *activities.Activities
	spec plan.Spec
}

func seed(t *testing.T) *seeded {
	t.Helper()
	c := fixture.Seed(t, testenv.NewPool(t))
	return &seeded{Campaign: c, t: t, ctx: c.Ctx, pool: c.Pool, acts: c.Acts, spec: c.Spec}
}

func (s *seeded) count(sql string, args ...any) int {
	s.t.Helper()
	return s.Count(sql, args...)
}

func (s *seeded) run(fn, in, out any) {
	s.t.Helper()
	s.Run(fn, in, out)
}

// holdWithLeads holds an event and records a leads file for it, so its people are leads.
func (s *seeded) holdWithLeads(eventID string, data []byte) {
	s.t.Helper()
	s.HoldWithLeads(eventID, data)
}

// importFile checks, stages and merges an enrolment or outcome file through MergeImport.
func (s *seeded) importFile(kind imports.Kind, data []byte) campaign.ImportResult {
	s.t.Helper()
	batch := s.Stage(kind, "", string(kind)+".csv", data)
	var res campaign.ImportResult
	s.run(s.acts.MergeImport, activities.MergeInput{CampaignID: campaignID, BatchID: batch, By: "tester"}, &res)
	return res
}
