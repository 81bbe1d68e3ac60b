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
// (migration 027), written on a connection of its own (open) while the transaction sets the
// quotas (from their new targets copied into a temporary table): copied into (COPY), keyed and
// its statistics taken, and committed unattached (migration 032), so that the two take a
// server process each. The transaction then attaches it to quota_history, which checks its
// foreign key by one query. It writes exactly what ChangeQuotas and KeepQuotaHistory write,
// the rows' written_by aside.
//
// Until the transaction commits, the table is no campaign's targets (quota_history does not
// read it); a transaction that does not commit leaves it so, and the revision's next apply
// makes it again.
func ReviseQuotas(ctx context.Context, db DB, open Opener, campaignID string, by QuotaSource, periodStart, from time.Time, changes []QuotaChange) error {
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
	// Each change's new target from its day, with the target before it on its first change,
	// written beside.
	fromDay, err := time.Parse(time.DateOnly, day) // the day as COPY writes it (midnight UTC)
	if err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	revision, action, auditKey := int32(by.Revision), by.action(), by.key()
	line, i := make([]any, 10), 0
	lines := pgx.CopyFromFunc(func() ([]any, error) {
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
	})
	besideCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	written := make(chan error, 1)
	go func() { written <- writeRevisionTable(besideCtx, open, campaignID, by.Revision, lines) }()
	// Meanwhile, the rows of the revision's day are replaced, and the quotas take their new
	// targets (with memory to hash a quarter of a million of them: the default spills them to
	// disk; the setting before is restored after).
	err = func() error {
		var workMem string
		if err := db.QueryRow(ctx, `select current_setting('work_mem'), set_config('work_mem', '64MB', true)`).
			Scan(&workMem, new(string)); err != nil {
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
		// The quotas' new targets are copied into a table of the transaction's own and taken
		// from there: a quarter of a million of them as array parameters took 0.2 s to encode.
		if _, err := db.Exec(ctx, `create temporary table revised_targets (level text, code text, target int) on commit drop`); err != nil {
			return fmt.Errorf("change quotas: %w", err)
		}
		if _, err := db.CopyFrom(ctx, pgx.Identifier{"pg_temp", "revised_targets"}, []string{"level", "code", "target"},
			pgx.CopyFromSlice(len(changes), func(i int) ([]any, error) {
				return []any{changes[i].Level, changes[i].Code, int32(changes[i].New)}, nil
			})); err != nil {
			return fmt.Errorf("change quotas: copy: %w", err)
		}
		if _, err := db.Exec(ctx, `
			with set_quotas as (
				update quotas q set target = t.target from pg_temp.revised_targets t
				where q.campaign_id = $1 and q.level = t.level and q.code = t.code)
			update campaigns set target = $2 where id = $1 and $2::int is not null`,
			campaignID, cityTarget(changes)); err != nil {
			return fmt.Errorf("change quotas: %w", err)
		}
		if _, err := db.Exec(ctx, `select set_config('work_mem', $1, true)`, workMem); err != nil {
			return fmt.Errorf("change quotas: %w", err)
		}
		return nil
	}()
	if err != nil {
		cancel()
		<-written
		return err
	}
	if err := <-written; err != nil {
		return err
	}
	if _, err := db.Exec(ctx, `select quota_history_attach($1, $2)`, campaignID, by.Revision); err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	return nil
}

// writeRevisionTable writes the table of a revision's targets by day (ReviseQuotas) on a
// connection of its own, and commits it unattached: its rows copied in, then its primary key
// built from them at once and its statistics taken (for the next review's reads).
func writeRevisionTable(ctx context.Context, open Opener, campaignID string, revision int, lines pgx.CopyFromSource) error {
	conn, err := open(ctx)
	if err != nil {
		return fmt.Errorf("keep quotas in force: open a connection: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// Memory to sort a quarter of a million rows for the primary key (the default spills them
	// to disk), built by this process alone (on two cores, workers sorting beside it made it
	// slower: 0.6-1.2 s, 0.3 s without them, for 233,486 rows).
	if _, err := tx.Exec(ctx, `select set_config('maintenance_work_mem', '256MB', true),
		set_config('max_parallel_maintenance_workers', '0', true)`); err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	var table string
	if err := tx.QueryRow(ctx, `select quota_history_revision_table($1, $2)`, campaignID, revision).Scan(&table); err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table},
		[]string{"campaign_id", "level", "code", "valid_from", "target", "revision", "audit_action", "audit_key", "written_by", "previous"},
		lines); err != nil {
		return fmt.Errorf("keep quotas in force: copy: %w", err)
	}
	if _, err := tx.Exec(ctx, `select quota_history_revision_key($1, $2), analyze_quota_history($1, $2)`, campaignID, revision); err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("keep quotas in force: %w", err)
	}
	return nil
}
