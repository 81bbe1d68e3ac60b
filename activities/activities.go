// Package activities holds every effect of a drive: the only code that decides what the
// workflows change in PostgreSQL. Package store writes it, as it owns every SQL statement: an
// activity opens the transaction, calls store's functions with it and decides from what they
// return. Each effect runs in one transaction together with its audit row, which names the
// workflow, run, activity and attempt; the audit row is written once per activity execution,
// and a retried attempt of an execution that already committed returns the result stored with
// it instead of doing the work again. Business keys with unique constraints make effects
// idempotent across executions too.
package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"drives/store"
)

// Activities are registered on the worker as one struct; its methods are the activities.
type Activities struct {
	Pool *pgxpool.Pool
	// Temporal manages the campaigns' review schedules; only the schedule activities use it.
	Temporal client.Client

	// FailAfterCommit, when set, is called after an effect has committed; an error it returns
	// fails that attempt as a worker crashing right after the commit would. Tests use it to show
	// that the retry changes nothing twice. Nil in production.
	FailAfterCommit func(activityName string, attempt int32) error
}

// Error types the workflows and starters branch on; they are not retried.
const (
	ErrPlanChanged   = "PlanChanged"
	ErrNotFound      = "NotFound"
	ErrInvalidState  = "InvalidState"
	ErrInvalidImport = "InvalidImport"
)

// openBeside opens a connection of its own, with the pool's configuration, for work that runs
// beside an effect's transaction (store.Opener); the caller closes it.
func (a *Activities) openBeside(ctx context.Context) (*pgx.Conn, error) {
	return store.PoolOpener(a.Pool)(ctx)
}

func permanent(kind, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), kind, nil)
}

// effect describes the audit row of one effect.
type effect struct {
	campaignID string
	action     string
	entity     string
	entityKey  string
	actor      string
	detail     any
}

// apply runs fn and writes the effect's audit row in the same transaction. Attempts of one
// activity execution are serialised by an advisory lock, and once one has committed, later
// attempts return its stored result.
func apply[T any](ctx context.Context, a *Activities, e effect, fn func(tx pgx.Tx) (T, error)) (T, error) {
	var zero T
	defer keepAlive(ctx)()
	info := activity.GetInfo(ctx)
	x := store.Execution{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID, ActivityID: info.ActivityID}
	tx, err := a.Pool.Begin(ctx)
	if err != nil {
		return zero, fmt.Errorf("%s: begin: %w", e.action, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit this is a no-op
	if err := store.LockExecution(ctx, tx, x); err != nil {
		return zero, fmt.Errorf("%s: %w", e.action, err)
	}
	storedAction, stored, err := store.EarlierAttempt(ctx, tx, x)
	switch {
	case err == nil && storedAction != e.action:
		return zero, fmt.Errorf("%s: activity %s of %s already recorded a different effect (%s)", e.action, x.ActivityID, x.WorkflowID, storedAction)
	case err == nil:
		var out T
		if err := json.Unmarshal(stored, &out); err != nil {
			return zero, fmt.Errorf("%s: stored result: %w", e.action, err)
		}
		activity.GetLogger(ctx).Info("effect already committed by an earlier attempt", "action", e.action)
		return out, tx.Commit(ctx)
	case !errors.Is(err, store.ErrNotFound):
		return zero, fmt.Errorf("%s: look up earlier attempt: %w", e.action, err)
	}
	out, err := fn(tx)
	if err != nil {
		return zero, err
	}
	result, err := json.Marshal(out)
	if err != nil {
		return zero, fmt.Errorf("%s: encode result: %w", e.action, err)
	}
	detail, err := json.Marshal(e.detail)
	if err != nil {
		return zero, fmt.Errorf("%s: encode detail: %w", e.action, err)
	}
	actor := e.actor
	if actor == "" {
		actor = "workflow"
	}
	if err := store.InsertAuditRow(ctx, tx, store.AuditRow{
		CampaignID: e.campaignID, Actor: actor, Action: e.action, Entity: e.entity, EntityKey: e.entityKey,
		Execution: x, Attempt: info.Attempt, Detail: detail, Result: result,
	}); err != nil {
		return zero, fmt.Errorf("%s: audit: %w", e.action, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return zero, fmt.Errorf("%s: commit: %w", e.action, err)
	}
	if a.FailAfterCommit != nil {
		if err := a.FailAfterCommit(info.ActivityType.Name, info.Attempt); err != nil {
			return zero, err
		}
	}
	return out, nil
}
