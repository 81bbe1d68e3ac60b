package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// mergeLockClass is the advisory lock class of a campaign's enrolment merges ('enro').
const mergeLockClass = 1701737071

// LockEnrolmentMerges holds, until the transaction ends, the lock that lets one merge of
// enrolments at a time run in a campaign, so that each sees every enrolment committed before it.
func LockEnrolmentMerges(ctx context.Context, db DB, campaignID string) error {
	if _, err := db.Exec(ctx, `select pg_advisory_xact_lock($1, hashtext($2))`, mergeLockClass, campaignID); err != nil {
		return fmt.Errorf("lock enrolment merges of %s: %w", campaignID, err)
	}
	return nil
}

// TryLockEnrolmentMerges takes the lock LockEnrolmentMerges takes if it comes free within wait
// (whole milliseconds), and says whether it did; the transaction goes on either way (the wait
// runs under a savepoint). For work that can come back later rather than hold up its caller.
func TryLockEnrolmentMerges(ctx context.Context, db Beginner, campaignID string, wait time.Duration) (bool, error) {
	sp, err := db.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("lock enrolment merges of %s: %w", campaignID, err)
	}
	if _, err := sp.Exec(ctx, `select set_config('lock_timeout', $1, true)`, fmt.Sprintf("%dms", wait.Milliseconds())); err != nil {
		_ = sp.Rollback(ctx)
		return false, fmt.Errorf("lock enrolment merges of %s: %w", campaignID, err)
	}
	_, err = sp.Exec(ctx, `select pg_advisory_xact_lock($1, hashtext($2))`, mergeLockClass, campaignID)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "55P03" { // lock_not_available
		return false, sp.Rollback(ctx)
	}
	if err != nil {
		_ = sp.Rollback(ctx)
		return false, fmt.Errorf("lock enrolment merges of %s: %w", campaignID, err)
	}
	// The lock stays with the transaction; the savepoint's lock_timeout goes with it.
	if _, err := sp.Exec(ctx, `select set_config('lock_timeout', '0', true)`); err != nil {
		_ = sp.Rollback(ctx)
		return false, fmt.Errorf("lock enrolment merges of %s: %w", campaignID, err)
	}
	return true, sp.Commit(ctx)
}

// LinkEnrolledLeads links the leads of a batch who had enrolled before they were met to their
// enrolment.
func LinkEnrolledLeads(ctx context.Context, db DB, campaignID, batchID string) error {
	if _, err := db.Exec(ctx, `
		update enrolments e set prospect_id = p.id
		from prospects p
		where p.campaign_id = $1 and p.batch_id = $2 and e.campaign_id = p.campaign_id
		  and e.citizen_id = p.citizen_id and e.prospect_id is null`, campaignID, batchID); err != nil {
		return fmt.Errorf("link enrolled leads: %w", err)
	}
	return nil
}
