package main

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"drives/internal/testenv"
)

// commandDB is a new database of the test's own, named by DATABASE_URL for the commands the
// test runs, with a pool on it for the test's own reads.
func commandDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	dbURL := testenv.NewDB(t)
	t.Setenv("DATABASE_URL", dbURL)
	db, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}
