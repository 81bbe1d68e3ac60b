package store

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"drives/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// besideDB is a fresh database with a table to copy into, and an Opener on it.
func besideDB(t *testing.T) (context.Context, *pgxpool.Pool, Opener) {
	t.Helper()
	ctx := context.Background()
	pool := testenv.NewPool(t)
	if _, err := pool.Exec(ctx, `create table copied (n int not null primary key, label text, at timestamptz, share float8 not null)`); err != nil {
		t.Fatal(err)
	}
	return ctx, pool, PoolOpener(pool)
}

// A query's rows are copied into the table within the transaction, nulls and all, as the query
// gives them in the transaction's snapshot.
func TestCopyBesideCopiesAQuerysRows(t *testing.T) {
	ctx, pool, open := besideDB(t)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	at := time.Date(2021, 3, 10, 9, 30, 0, 0, time.UTC)
	n, err := copyBeside(ctx, tx, open, []string{`work_mem = '8MB'`}, nil, "copied", []string{"n", "label", "at", "share"}, `
		select g, case when g % 3 = 0 then null else $1 || g end, case when g % 5 = 0 then null else $2::timestamptz end, g / 7.0::float8
		from generate_series(1, $3::int) g order by g`, "row ", at, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	if n != 100_000 {
		t.Fatalf("copied %d rows, want 100000", n)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var rows, nullLabels, nullAts, wrong int
	if err := pool.QueryRow(ctx, `select count(*), count(*) filter (where label is null), count(*) filter (where at is null),
			count(*) filter (where (label is not null and label <> 'row ' || n) or (at is not null and at <> $1) or share <> n / 7.0::float8)
		from copied`, at).Scan(&rows, &nullLabels, &nullAts, &wrong); err != nil {
		t.Fatal(err)
	}
	if rows != 100_000 || nullLabels != 33_333 || nullAts != 20_000 || wrong != 0 {
		t.Errorf("table holds %d rows, %d null labels, %d null times, %d not as the query gave them; want 100000, 33333, 20000, 0",
			rows, nullLabels, nullAts, wrong)
	}
}

// The reader reads in the transaction's snapshot: a row another connection commits after the
// transaction began its copy is not read.
func TestCopyBesideReadsInTheTransactionsSnapshot(t *testing.T) {
	ctx, pool, open := besideDB(t)
	if _, err := pool.Exec(ctx, `create table source (n int); insert into source values (1), (2)`); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck
	// The opener runs after the snapshot is exported and before the reader takes it: what is
	// committed there is after the snapshot.
	late := func(ctx context.Context) (*pgx.Conn, error) {
		if _, err := pool.Exec(ctx, `insert into source values (3)`); err != nil {
			return nil, err
		}
		return open(ctx)
	}
	n, err := copyBeside(ctx, tx, late, nil, nil, "copied", []string{"n", "share"}, `select n, 0::float8 from source`)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("copied %d rows, want the 2 of the snapshot", n)
	}
}

// A query whose columns are not of the table's types is refused before a row is written, the
// column named; so is a column the table does not have; and a read that fails on the way fails
// the copy.
func TestCopyBesideRefusesWhatDoesNotFit(t *testing.T) {
	ctx, pool, open := besideDB(t)
	for _, c := range []struct {
		name    string
		columns []string
		query   string
		want    string
	}{
		{"a bigint for an int", []string{"n", "share"}, `select g::bigint, 1::float8 from generate_series(1, 10) g`, "column n is of type"},
		{"a numeric for a float8", []string{"n", "share"}, `select g, g / 7.0 from generate_series(1, 10) g`, "column share is of type"},
		{"an unknown column", []string{"n", "shares"}, `select g, 1::float8 from generate_series(1, 10) g`, "no column shares"},
		{"too few columns", []string{"n", "share"}, `select g from generate_series(1, 10) g`, "gives 1 columns for 2"},
		{"a read that fails", []string{"n", "share"}, `select g, 1 / (50000 - g)::float8 from generate_series(1, 100000) g`, "division by zero"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx) //nolint:errcheck
			_, err = copyBeside(ctx, tx, open, nil, nil, "copied", c.columns, c.query)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("copy: %v; want an error saying %q", err, c.want)
			}
		})
	}
	var n int
	if err := pool.QueryRow(ctx, `select count(*) from copied`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d rows written (%v), want none", n, err)
	}
}

// meanwhile runs in the transaction while the reader computes: what it writes commits with
// the copied rows; when it fails, nothing is copied and the copy says why.
func TestCopyBesideRunsMeanwhileInTheTransaction(t *testing.T) {
	ctx, pool, open := besideDB(t)
	if _, err := pool.Exec(ctx, `create table other (n int)`); err != nil {
		t.Fatal(err)
	}
	query := `select g, 0::float8 from generate_series(1, 50000) g order by g desc`
	for _, fail := range []bool{false, true} {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		meanwhile := func() error {
			if fail {
				return errors.New("meanwhile failed")
			}
			_, err := tx.Exec(ctx, `insert into other values (1)`)
			return err
		}
		n, err := copyBeside(ctx, tx, open, nil, meanwhile, "copied", []string{"n", "share"}, query)
		switch {
		case fail && (err == nil || !strings.Contains(err.Error(), "meanwhile failed")):
			t.Fatalf("copy after a failing meanwhile: %d rows, %v; want its error", n, err)
		case !fail && (err != nil || n != 50000):
			t.Fatalf("copy: %d rows, %v; want 50000", n, err)
		}
		if !fail {
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		_ = tx.Rollback(ctx)
	}
	var copied, other int
	if err := pool.QueryRow(ctx, `select (select count(*) from copied), (select count(*) from other)`).Scan(&copied, &other); err != nil {
		t.Fatal(err)
	}
	if copied != 50000 || other != 1 {
		t.Errorf("%d rows copied and %d written meanwhile; want 50000 and 1", copied, other)
	}
}
