package store

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Opener opens a connection of its own to the database, for work that runs beside a
// transaction (pgx.ConnectConfig with the pool's configuration); the caller closes it.
type Opener func(ctx context.Context) (*pgx.Conn, error)

// PoolOpener opens connections with pool's configuration.
func PoolOpener(pool *pgxpool.Pool) Opener {
	return func(ctx context.Context) (*pgx.Conn, error) { return pgx.ConnectConfig(ctx, pool.Config().ConnConfig) }
}

// errCopyEnded stops a writer whose COPY has ended.
var errCopyEnded = errors.New("copy ended")

// snapshotID is the form of pg_export_snapshot's identifiers, checked before one is written
// into SET TRANSACTION SNAPSHOT (which takes no parameter).
var snapshotID = regexp.MustCompile(`^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$`)

// copyBeside writes the rows of query into the columns of table within the transaction tx,
// with COPY, while a connection of its own (open) reads them in tx's snapshot: the read and
// the write each take a server process, where INSERT … SELECT runs both in one. The reader
// sees what tx saw when it began the copy (pg_export_snapshot), tx's own writes aside, so it
// must not need them. Rows go through unchanged, in PostgreSQL's binary form, so each of the
// query's columns must have its table column's type exactly: that is checked first, and a
// mismatch is an error naming the column. settings are SET LOCAL on the reader first (memory,
// plan settings). meanwhile, when set, runs in tx while the reader computes its first rows
// (a query that sorts or aggregates before it gives any): other work of the transaction that
// the read does not need; its error ends the copy before it begins. It returns the rows
// written.
func copyBeside(ctx context.Context, tx pgx.Tx, open Opener, settings []string, meanwhile func() error,
	table string, columns []string, query string, args ...any) (int64, error) {
	var snapshot string
	if err := tx.QueryRow(ctx, `select pg_export_snapshot()`).Scan(&snapshot); err != nil {
		return 0, fmt.Errorf("copy into %s: export the snapshot: %w", table, err)
	}
	if !snapshotID.MatchString(snapshot) {
		return 0, fmt.Errorf("copy into %s: unexpected snapshot identifier %q", table, snapshot)
	}
	conn, err := open(ctx)
	if err != nil {
		return 0, fmt.Errorf("copy into %s: open the reader's connection: %w", table, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rtx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return 0, fmt.Errorf("copy into %s: begin the read: %w", table, err)
	}
	defer func() { _ = rtx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := rtx.Exec(ctx, `set transaction snapshot '`+snapshot+`'`); err != nil {
		return 0, fmt.Errorf("copy into %s: take the snapshot: %w", table, err)
	}
	for _, s := range settings {
		if _, err := rtx.Exec(ctx, `set local `+s); err != nil {
			return 0, fmt.Errorf("copy into %s: %w", table, err)
		}
	}
	want, err := columnTypes(ctx, tx, table, columns)
	if err != nil {
		return 0, err
	}
	// The reader, in a goroutine of its own: its query, then its rows as COPY's binary format
	// takes them, each field as the query sent it. A query that sorts or aggregates gives no
	// row for a while: meanwhile runs in tx then.
	pr, pw := io.Pipe()
	written := make(chan error, 1)
	go func() {
		rows, err := rtx.Query(ctx, query, append([]any{pgx.QueryResultFormats{pgx.BinaryFormatCode}}, args...)...)
		if err == nil {
			err = sameTypes(rows.FieldDescriptions(), columns, want)
		}
		if err != nil {
			if rows != nil {
				rows.Close()
			}
			_ = pw.CloseWithError(err)
			written <- err
			return
		}
		written <- writeBinaryCopy(pw, rows, len(columns))
	}()
	var tag pgconn.CommandTag
	if meanwhile != nil {
		err = meanwhile()
	}
	if err == nil {
		tag, err = tx.Conn().PgConn().CopyFrom(ctx, pr,
			`copy `+pgx.Identifier{table}.Sanitize()+` (`+identifiers(columns)+`) from stdin (format binary)`)
		if err != nil {
			err = fmt.Errorf("copy into %s: %w", table, err)
		}
	}
	// A copy that failed, or never began, stops the reader if it is still writing; one that
	// ended has read it all.
	_ = pr.CloseWithError(errCopyEnded)
	if werr := <-written; werr != nil && !errors.Is(werr, errCopyEnded) {
		return 0, fmt.Errorf("copy into %s: read: %w", table, werr)
	}
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// writeBinaryCopy writes rows to w in COPY's binary format (header, one tuple a row, trailer)
// and closes w: with the reader's error, if any.
func writeBinaryCopy(w *io.PipeWriter, rows pgx.Rows, n int) error {
	b := bufio.NewWriterSize(w, 1<<16)
	var u16 [2]byte
	var u32 [4]byte
	write := func() error {
		b.WriteString("PGCOPY\n\xff\r\n\x00")
		b.Write(make([]byte, 8)) // flags and header extension length: none
		binary.BigEndian.PutUint16(u16[:], uint16(n))
		for rows.Next() {
			b.Write(u16[:])
			for _, v := range rows.RawValues() {
				if v == nil {
					b.Write([]byte{0xff, 0xff, 0xff, 0xff})
					continue
				}
				binary.BigEndian.PutUint32(u32[:], uint32(len(v)))
				b.Write(u32[:])
				if _, err := b.Write(v); err != nil {
					return err
				}
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		b.Write([]byte{0xff, 0xff})
		return b.Flush()
	}
	err := write()
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	_ = w.CloseWithError(err)
	return err
}

// sameTypes checks a query's columns are those of the table, of its types.
func sameTypes(fields []pgconn.FieldDescription, columns []string, want []uint32) error {
	if len(fields) != len(columns) {
		return fmt.Errorf("the query gives %d columns for %d", len(fields), len(columns))
	}
	for i, f := range fields {
		if f.DataTypeOID != want[i] {
			return fmt.Errorf("column %s is of type %d, the query's %s of type %d", columns[i], want[i], f.Name, f.DataTypeOID)
		}
	}
	return nil
}

// columnTypes are the type OIDs of table's columns, in the order given.
func columnTypes(ctx context.Context, db DB, table string, columns []string) ([]uint32, error) {
	rows, err := db.Query(ctx, `
		select coalesce(a.atttypid, 0)::oid from unnest($2::text[]) with ordinality c(name, i)
		left join pg_attribute a on a.attrelid = $1::regclass and a.attname = c.name and not a.attisdropped
		order by c.i`, table, columns)
	if err != nil {
		return nil, fmt.Errorf("copy into %s: column types: %w", table, err)
	}
	oids, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		return nil, fmt.Errorf("copy into %s: column types: %w", table, err)
	}
	for i, o := range oids {
		if o == 0 {
			return nil, fmt.Errorf("copy into %s: no column %s", table, columns[i])
		}
	}
	return oids, nil
}

// identifiers is a list of column names, each quoted.
func identifiers(columns []string) string {
	q := make([]string, len(columns))
	for i, c := range columns {
		q[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(q, ", ")
}
