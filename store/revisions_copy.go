package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReviseQuotas is ChangeQuotas followed by KeepQuotaHistory for a plan revision (by.Revision >
// 0), which may change many targets at once (every target of the national plan: 233,486),
// within the caller's transaction. The targets by day go into a table of the revision's own
// (migration 027), copied into it (COPY) and then attached to quota_history, which builds its
// primary key from the rows at once and checks its foreign key by one query; the quotas take
// their new targets from it. It writes exactly what ChangeQuotas and KeepQuotaHistory write,
// the rows' written_by aside.
func ReviseQuotas(ctx context.Context, db DB, campaignID string, by QuotaSource, periodStart, from time.Time, changes []QuotaChange) error {
	if len(changes) == 0 {
		return nil
	}
	if by.Revision <= 0 {
		return fmt.Errorf("change quotas: revision %d: not a plan revision", by.Revision)
	}
	// Revisions write one at a time, whichever their campaign: the attach below locks campaigns
	// against writes until the transaction ends (for the foreign key's check), and two revisions
	// that had each written their campaign's target would each wait there for the other. The
	// lock is taken first, here; it leaves campaigns readable, and the foreign keys of other
	// tables checkable, meanwhile.
	if _, err := db.Exec(ctx, `lock table campaigns in share row exclusive mode`); err != nil {
		return fmt.Errorf("change quotas: %w", err)
	}
	before, day := periodStart.AddDate(0, 0, -1).Format(time.DateOnly), from.Format(time.DateOnly)
	// Which targets have rows already: those with the target before their first change (a
	// row from the day before the period, or a previous target on a row: migration 030) have
	// changed before, and those with a row from the revision's day have it replaced (its
	// previous target, if it has one, handed on to the row replacing it).
	type key struct{ level, code string }
	rows, err := db.Query(ctx, `
		select level, code, valid_from = $3::date, previous from quota_history
		where campaign_id = $1 and (valid_from in ($2::date, $3::date) or previous is not null)`, campaignID, before, day)
	if err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	changed, sameDay := map[key]bool{}, map[key]*int32{}
	var k key
	var onDay bool
	var previous *int32
	if _, err := pgx.ForEachRow(rows, []any{&k.level, &k.code, &onDay, &previous}, func() error {
		if onDay {
			sameDay[k] = previous
		}
		if !onDay || previous != nil {
			changed[k] = true
		}
		return nil
	}); err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	// Memory to hash a quarter of a million changes and to sort them for the primary key
	// (the defaults spill them to disk), and the primary key built by this process alone (on
	// two cores, workers sorting beside it made it slower: 0.6-1.2 s, 0.3 s without them, for
	// 233,486 rows), for these statements only: the settings before are restored after them.
	var workMem, sortMem, sortWorkers string
	if err := db.QueryRow(ctx, `select current_setting('work_mem'), current_setting('maintenance_work_mem'),
		current_setting('max_parallel_maintenance_workers'),
		set_config('work_mem', '64MB', true), set_config('maintenance_work_mem', '256MB', true),
		set_config('max_parallel_maintenance_workers', '0', true)`).
		Scan(&workMem, &sortMem, &sortWorkers, new(string), new(string), new(string)); err != nil {
		return fmt.Errorf("change quotas: %w", err)
	}
	if len(sameDay) > 0 {
		var level, code []string
		for k := range sameDay {
			level, code = append(level, k.level), append(code, k.code)
		}
		if _, err := db.Exec(ctx, `
			delete from quota_history h using unnest($2::text[], $3::text[]) as c(level, code)
			where h.campaign_id = $1 and h.valid_from = $4::date and h.level = c.level and h.code = c.code`,
			campaignID, level, code, day); err != nil {
			return fmt.Errorf("keep quotas in force: %w", err)
		}
	}
	// Each change's new target from its day, with the target before it on its first change.
	var table string
	if err := db.QueryRow(ctx, `select quota_history_revision_table($1, $2)`, campaignID, by.Revision).Scan(&table); err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	fromDay, err := time.Parse(time.DateOnly, day) // the day as COPY writes it (midnight UTC)
	if err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	revision, action, auditKey := int32(by.Revision), by.action(), by.key()
	line, i := make([]any, 10), 0
	if _, err := db.CopyFrom(ctx, pgx.Identifier{table},
		[]string{"campaign_id", "level", "code", "valid_from", "target", "revision", "audit_action", "audit_key", "written_by", "previous"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(changes) {
				return nil, nil
			}
			c := changes[i]
			i++
			k := key{c.Level, c.Code}
			var prev *int32 // the row's previous target
			if p, ok := sameDay[k]; ok && p != nil {
				prev = p
			} else if !changed[k] {
				old := int32(c.Old)
				prev = &old
			}
			line[0], line[1], line[2], line[3], line[4], line[5], line[6], line[7], line[8], line[9] =
				campaignID, c.Level, c.Code, fromDay, int32(c.New), revision, action, auditKey, revision, prev
			return line, nil
		})); err != nil {
		return fmt.Errorf("keep quotas in force: copy: %w", err)
	}
	if _, err := db.Exec(ctx, `select analyze_quota_history($1, $2)`, campaignID, by.Revision); err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	// As ChangeQuotas: the quotas, the city's on the campaign.
	if _, err := db.Exec(ctx, `
		with set_quotas as (
			update quotas q set target = t.target
			from `+pgx.Identifier{table}.Sanitize()+` t
			where q.campaign_id = $1 and q.level = t.level and q.code = t.code
			returning q.level, q.target)
		update campaigns set target = s.target from set_quotas s where s.level = 'city' and id = $1`,
		campaignID); err != nil {
		return fmt.Errorf("change quotas: %w", err)
	}
	if _, err := db.Exec(ctx, `select quota_history_attach($1, $2)`, campaignID, by.Revision); err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	if _, err := db.Exec(ctx, `select set_config('work_mem', $1, true), set_config('maintenance_work_mem', $2, true),
		set_config('max_parallel_maintenance_workers', $3, true)`, workMem, sortMem, sortWorkers); err != nil {
		return fmt.Errorf("change quotas: %w", err)
	}
	return nil
}
