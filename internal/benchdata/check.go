package benchdata

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"drives/campaign"
	"drives/plan"
)

// CheckReview checks what a review of field data must be, whatever its speed: one decision per
// active agent and staff member (wantActive of them), a summary that adds up and matches the
// stored decisions, no staff rewarded or proposed for termination, figures that account for
// every row loaded in the window, the policy's number of commended units, and a mix of
// decisions. It returns every problem found, joined, or nil; and the stored decisions by kind.
func CheckReview(ctx context.Context, pool *pgxpool.Pool, campaignID string, period string, pol plan.ReviewPolicy,
	got campaign.ReviewSummary, loaded Loaded, wantActive int) (map[string]int, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	count := func(sql string, args ...any) int {
		var n int
		if err := pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
			bad("%s: %v", sql, err)
		}
		return n
	}
	active := count(`select count(*) from agents where campaign_id = $1 and status = 'active'`, campaignID)
	if active != wantActive || got.Agents != wantActive {
		bad("reviewed %d, %d active; want %d agents and staff", got.Agents, active, wantActive)
	}
	if n := count(`select count(*) from review_decisions where campaign_id = $1 and period = $2`, campaignID, period); n != active {
		bad("%d decisions for %d active agents and staff", n, active)
	}
	if n := count(`select count(*) from agents a where a.campaign_id = $1 and a.status = 'active' and not exists (
		select 1 from review_decisions d where d.campaign_id = a.campaign_id and d.period = $2 and d.agent_code = a.code)`, campaignID, period); n != 0 {
		bad("%d active agents without a decision", n)
	}
	if sum := got.Rewarded + got.Commended + got.Retained + got.Warned + got.Proposed; sum != got.Agents {
		bad("summary %d rewarded + %d commended + %d retained + %d warned + %d proposed = %d, not the %d reviewed",
			got.Rewarded, got.Commended, got.Retained, got.Warned, got.Proposed, sum, got.Agents)
	}
	kinds, err := DecisionsByKind(ctx, pool, campaignID, period)
	if err != nil {
		return nil, err
	}
	for k, n := range map[string]int{"reward": got.Rewarded, "commend": got.Commended, "retain": got.Retained,
		"warn": got.Warned, "terminate": got.Proposed} {
		if kinds[k] != n {
			bad("%d %s decisions stored, the summary says %d", kinds[k], k, n)
		}
	}
	if n := count(`select count(*) from review_decisions where campaign_id = $1 and period = $2 and kind = 'staff'
		and decision not in ('commend', 'retain', 'warn')`, campaignID, period); n != 0 {
		bad("%d staff rewarded or proposed for termination", n)
	}
	// The figures account for every row loaded in the window.
	if n := count(`select coalesce(sum(enrolled), 0) from review_decisions where campaign_id = $1 and period = $2`, campaignID, period); n != loaded.EnrolledInWindow {
		bad("decisions count %d enrolments, %d were loaded in the window", n, loaded.EnrolledInWindow)
	}
	if n := count(`select coalesce(sum(leads), 0) from review_decisions where campaign_id = $1 and period = $2`, campaignID, period); n != loaded.OpenedInWindow {
		bad("decisions count %d leads, %d follow-ups were opened in the window", n, loaded.OpenedInWindow)
	}
	if n := count(`select coalesce(sum(open_work), 0) from review_decisions where campaign_id = $1 and period = $2`, campaignID, period); n != loaded.ByStatus["open"] {
		bad("decisions count %d open follow-ups, %d were loaded open", n, loaded.ByStatus["open"])
	}
	if got.CommunesCommended != pol.CommendTop || got.DistrictsCommended != pol.CommendTop {
		bad("commended %d communes and %d districts, want commend_top = %d of each", got.CommunesCommended, got.DistrictsCommended, pol.CommendTop)
	}
	if got.Proposed == 0 || got.Rewarded == 0 || got.Warned == 0 {
		bad("a quarter of mixed field data decided %v; want rewards, warnings and proposals", kinds)
	}
	return kinds, errors.Join(errs...)
}

// DecisionsByKind counts a review's stored decisions by kind (reward, commend, …).
func DecisionsByKind(ctx context.Context, pool *pgxpool.Pool, campaignID, period string) (map[string]int, error) {
	rows, err := pool.Query(ctx, `select decision, count(*) from review_decisions where campaign_id = $1 and period = $2 group by 1`,
		campaignID, period)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	var k string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error { out[k] = n; return nil }); err != nil {
		return nil, fmt.Errorf("decisions by kind: %w", err)
	}
	return out, nil
}
