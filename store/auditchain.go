package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// Reader is what a read that stands alone needs: the pool, a connection or a transaction (a
// snapshot, for a read that must see one state).
type Reader interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// AuditChainRow is an audit row as its hash chain covers it: detail and result as stored text,
// recorded_at nil when it is not a finite time.
type AuditChainRow struct {
	ID         int64
	CampaignID string
	RecordedAt *time.Time
	Actor      string
	Action     string
	Entity     string
	EntityKey  string
	WorkflowID *string
	RunID      *string
	ActivityID *string
	Attempt    *int32
	Detail     *string
	Result     *string
	PrevHash   []byte
	Hash       []byte
}

// ForEachAuditChainRow calls fn with each of a campaign's audit rows, in id order, without
// holding them all. The row passed is reused from one call to the next.
func ForEachAuditChainRow(ctx context.Context, db Reader, campaignID string, fn func(r *AuditChainRow) error) error {
	rows, err := db.Query(ctx, `
		select id, campaign_id, recorded_at, actor, action, entity, entity_key, workflow_id, run_id,
		       activity_id, attempt, detail::text, result::text, prev_hash, hash
		from audit_log where campaign_id = $1 order by id`, campaignID)
	if err != nil {
		return fmt.Errorf("read the audit log of %s: %w", campaignID, err)
	}
	var r AuditChainRow
	var at pgtype.Timestamptz
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.CampaignID, &at, &r.Actor, &r.Action, &r.Entity, &r.EntityKey,
		&r.WorkflowID, &r.RunID, &r.ActivityID, &r.Attempt, &r.Detail, &r.Result, &r.PrevHash, &r.Hash}, func() error {
		r.RecordedAt = nil
		if at.Valid && at.InfinityModifier == pgtype.Finite {
			t := at.Time
			r.RecordedAt = &t
		}
		return fn(&r)
	})
	if err != nil {
		return fmt.Errorf("read the audit log of %s: %w", campaignID, err)
	}
	return nil
}

// CampaignExists says whether a campaign is stored.
func CampaignExists(ctx context.Context, db Reader, campaignID string) (bool, error) {
	var known bool
	if err := db.QueryRow(ctx, `select exists (select 1 from campaigns where id = $1)`, campaignID).Scan(&known); err != nil {
		return false, fmt.Errorf("look up campaign %s: %w", campaignID, err)
	}
	return known, nil
}
