package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Execution names one activity execution: its attempts share these, and the audit log holds at
// most one row for it.
type Execution struct {
	WorkflowID string
	RunID      string
	ActivityID string
}

// LockExecution serialises, until the transaction ends, the attempts of one activity execution
// (a transaction-scoped advisory lock on its names).
func LockExecution(ctx context.Context, db DB, x Execution) error {
	if _, err := db.Exec(ctx, `select pg_advisory_xact_lock(hashtextextended($1, 0))`,
		x.WorkflowID+"/"+x.RunID+"/"+x.ActivityID); err != nil {
		return fmt.Errorf("lock activity %s of %s: %w", x.ActivityID, x.WorkflowID, err)
	}
	return nil
}

// EarlierAttempt returns the action and the stored result of the audit row an earlier attempt
// of the execution committed; ErrNotFound when none did.
func EarlierAttempt(ctx context.Context, db DB, x Execution) (action string, result []byte, err error) {
	err = db.QueryRow(ctx, `select action, result from audit_log where workflow_id = $1 and run_id = $2 and activity_id = $3`,
		x.WorkflowID, x.RunID, x.ActivityID).Scan(&action, &result)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, fmt.Errorf("audit row of activity %s of %s: %w", x.ActivityID, x.WorkflowID, ErrNotFound)
	}
	if err != nil {
		return "", nil, fmt.Errorf("read audit row of activity %s of %s: %w", x.ActivityID, x.WorkflowID, err)
	}
	return action, result, nil
}

// AuditRow is one effect's row of the audit log. Detail and Result are JSON. The row's id,
// time and hash chain are the database's (migration 003). A row written outside an activity
// (an account's change) leaves Execution empty: its workflow, run and activity IDs are NULL,
// so that audit_log_activity_once does not take every such row for the same execution.
type AuditRow struct {
	CampaignID string
	Actor      string
	Action     string
	Entity     string
	EntityKey  string
	Execution
	Attempt int32
	Detail  []byte
	Result  []byte
}

// InsertAuditRow appends an effect's row to the audit log.
func InsertAuditRow(ctx context.Context, db DB, r AuditRow) error {
	if _, err := db.Exec(ctx, `
		insert into audit_log (campaign_id, actor, action, entity, entity_key, workflow_id, run_id, activity_id, attempt, detail, result)
		values ($1, $2, $3, $4, $5, nullif($6, ''), nullif($7, ''), nullif($8, ''), $9, $10, $11)`,
		r.CampaignID, r.Actor, r.Action, r.Entity, r.EntityKey, r.WorkflowID, r.RunID, r.ActivityID, r.Attempt, r.Detail, r.Result); err != nil {
		return fmt.Errorf("insert audit row of %s %s: %w", r.Entity, r.EntityKey, err)
	}
	return nil
}
