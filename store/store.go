// Package store owns every SQL statement of the drives and the row types they read and
// write. The rest of the code calls its typed functions; none of it writes SQL (tests and dev
// tooling aside, and migrations/, which holds the schema).
//
// Each function takes a DB: a pgx.Tx when the caller's effect spans several statements (the
// activities open the transaction and write the audit row in it), or the pool for a read
// that stands alone. Files are by table family: campaigns.go and launch.go, units.go,
// quotas.go, agents.go, events.go, followups.go, enrolments.go, batches.go, staging.go and
// retention.go (imports), reviews.go and decisions.go, auditlog.go and auditchain.go,
// roles.go, accounts.go (people's accounts and their units), sessions.go, fieldentries.go
// (what agents' phones send), participants.go (the register of participants: payments,
// renewals, lapses and its figures); read models that join many of them have files of their own
// (report.go, overview.go, pages.go for the web page's lists, with scope.go for an account's
// part of them, trace.go, field.go and renewals.go for the simulator).
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNotFound is returned, wrapped, by a function that reads or locks one row when there is
// no such row; callers that branch on it test errors.Is(err, store.ErrNotFound).
var ErrNotFound = errors.New("not found")

// DB is what the store's functions run their statements on: a *pgxpool.Pool, a *pgx.Conn
// or a pgx.Tx.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Beginner is a DB that can open a transaction (the pool, a connection, or a transaction for a
// savepoint).
type Beginner interface {
	DB
	Begin(ctx context.Context) (pgx.Tx, error)
}

// queryStrings runs a statement of one text column and returns its values; what names the
// read in an error.
func queryStrings(ctx context.Context, db DB, what, sql string, args ...any) ([]string, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// analyze runs call, one of the security-definer functions that refresh the planner's
// statistics of tables the application role does not own (migrations 011, 015, 017, 024, 025).
func analyze(ctx context.Context, db DB, what, call string, args ...any) error {
	if _, err := db.Exec(ctx, call, args...); err != nil {
		return fmt.Errorf("analyze %s: %w", what, err)
	}
	return nil
}
