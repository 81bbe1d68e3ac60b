package imports_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"drives/internal/fixture"
	"drives/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// Every test runs on the fixture campaign (internal/fixture): read its package comment for
// what the plan holds.
const campaignID = fixture.CampaignID

// seeded is the fixture campaign, prepared as CampaignWorkflow prepares it, under the short
// names the tests use.
type seeded struct {
	*fixture.Campaign
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
}

func seed(t *testing.T) *seeded {
	t.Helper()
	c := fixture.Seed(t, testenv.NewPool(t))
	return &seeded{Campaign: c, t: t, ctx: c.Ctx, pool: c.Pool}
}

// holdWithLeads holds an event and records a leads file for it, so its people are leads.
func (s *seeded) holdWithLeads(eventID string, data []byte) {
	s.t.Helper()
	s.HoldWithLeads(eventID, data)
}

func (s *seeded) count(sql string, args ...any) int {
	s.t.Helper()
	return s.Count(sql, args...)
}
