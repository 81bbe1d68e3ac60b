package testenv

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Querier is what Fingerprint reads through: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Fingerprint is every table of the database's current schema, by name: its row count and a
// checksum of all its rows, every column. Two fingerprints are equal when no row was written,
// changed or deleted in between, whichever table: the check that bad input writes nothing.
// (Sequences are left out: a refused insert may still have drawn a number.)
func Fingerprint(t testing.TB, db Querier) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := db.Query(ctx, `select table_name::text from information_schema.tables
		where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`)
	if err != nil {
		t.Fatalf("testenv: list tables: %v", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("testenv: list tables: %v", err)
	}
	if len(tables) == 0 {
		t.Fatal("testenv: no tables to fingerprint in the current schema")
	}
	out := make(map[string]string, len(tables))
	for _, tb := range tables {
		var n int64
		var sum string
		q := fmt.Sprintf(`select count(*), coalesce(md5(string_agg(t::text, '|' order by t::text)), '') from %s t`,
			pgx.Identifier{tb}.Sanitize())
		if err := db.QueryRow(ctx, q).Scan(&n, &sum); err != nil {
			t.Fatalf("testenv: fingerprint of %s: %v", tb, err)
		}
		out[tb] = fmt.Sprintf("%d rows, md5 %s", n, sum)
	}
	return out
}
