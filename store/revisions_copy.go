package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReviseQuotas is ChangeQuotas followed by KeepQuotaHistory, for the many targets a revision may
// change at once (every target of the national plan: 233,486), within the caller's
// transaction: the changes are copied into a temporary table (COPY) that each statement reads,
// instead of arrays sent again with each, and the statements get the memory to join and sort
// them in one pass. It writes exactly what ChangeQuotas and KeepQuotaHistory write.
func ReviseQuotas(ctx context.Context, db DB, campaignID string, by QuotaSource, periodStart, from time.Time, changes []QuotaChange) error {
	if len(changes) == 0 {
		return nil
	}
	// Memory to hash and sort a quarter of a million changes (the default 4 MB spills them to
	// disk), for these statements only: the setting before is restored after them.
	var workMem string
	if err := db.QueryRow(ctx, `select current_setting('work_mem'), set_config('work_mem', '64MB', true)`).Scan(&workMem, new(string)); err != nil {
		return fmt.Errorf("change quotas: %w", err)
	}
	if _, err := db.Exec(ctx, `create temp table revised_quotas (level text not null, code text not null, old int not null, target int not null) on commit drop`); err != nil {
		return fmt.Errorf("change quotas: %w", err)
	}
	if _, err := db.CopyFrom(ctx, pgx.Identifier{"revised_quotas"}, []string{"level", "code", "old", "target"},
		pgx.CopyFromSlice(len(changes), func(i int) ([]any, error) {
			c := changes[i]
			return []any{c.Level, c.Code, int32(c.Old), int32(c.New)}, nil
		})); err != nil {
		return fmt.Errorf("change quotas: copy: %w", err)
	}
	if _, err := db.Exec(ctx, `analyze revised_quotas`); err != nil {
		return fmt.Errorf("change quotas: %w", err)
	}
	// As ChangeQuotas: the quotas, the city's on the campaign, the agents' on their rows.
	if _, err := db.Exec(ctx, `
		with set_quotas as (
			update quotas q set target = c.target
			from revised_quotas c
			where q.campaign_id = $1 and q.level = c.level and q.code = c.code
			returning q.level, q.code, q.target),
		set_city as (
			update campaigns set target = s.target from set_quotas s where s.level = 'city' and id = $1)
		update agents a set quota = s.target from set_quotas s
		where s.level = 'agent' and a.campaign_id = $1 and a.code = s.code`, campaignID); err != nil {
		return fmt.Errorf("change quotas: %w", err)
	}
	// As KeepQuotaHistory: the target each had before, on its first change, then the new one.
	if _, err := db.Exec(ctx, `
		insert into quota_history (campaign_id, level, code, valid_from, target, revision)
		select $1, c.level, c.code, $2::date - 1, c.old, 0 from revised_quotas c
		order by 2, 3
		on conflict do nothing`, campaignID, periodStart.Format(time.DateOnly)); err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	if _, err := db.Exec(ctx, `
		insert into quota_history (campaign_id, level, code, valid_from, target, revision, audit_action, audit_key)
		select $1, c.level, c.code, $2::date, c.target, $3, $4, $5 from revised_quotas c
		order by 2, 3
		on conflict (campaign_id, level, code, valid_from) do update
		set target = excluded.target, revision = excluded.revision, audit_action = excluded.audit_action, audit_key = excluded.audit_key`,
		campaignID, from.Format(time.DateOnly), by.Revision, by.action(), by.key()); err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	if _, err := db.Exec(ctx, `drop table revised_quotas`); err != nil {
		return fmt.Errorf("change quotas: %w", err)
	}
	if _, err := db.Exec(ctx, `select set_config('work_mem', $1, true)`, workMem); err != nil {
		return fmt.Errorf("change quotas: %w", err)
	}
	return nil
}
