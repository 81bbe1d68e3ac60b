// Package audit checks a campaign's audit log against its hash chain.
//
// Every audit_log row carries prev_hash, the hash of the campaign's row before it (Genesis for
// its first row), and hash = SHA-256(prev_hash || Canonical(row)). The database computes them
// when a row is inserted (migrations/003_audit_chain.sql, where the canonical form is defined
// once more); Verify recomputes them here, independently, and names the first row that does
// not fit: one whose content was altered, one that follows a deleted row, or an inserted one.
//
// What a chain cannot show on its own: the loss of a campaign's last rows, or a chain
// recomputed from some row to its end by someone who rewrote the rows and their hashes.
// Against both, keep the head hash Verify reports (with the row count) outside the database,
// and compare later runs with it.
package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"drives/store"
)

// AppRole is the database role the worker and the starter connect as; migration
// 003_audit_chain.sql creates it and grants it what it needs, and no UPDATE, DELETE or
// TRUNCATE of audit_log.
const AppRole = "drives_app"

// CanonicalVersion starts every canonical form; a new form gets a new version.
const CanonicalVersion = "audit_log.v1;"

// Genesis is the prev_hash of a campaign's first row: 32 zero bytes.
var Genesis = make([]byte, sha256.Size)

// ErrUnknownCampaign is returned by Verify for a campaign with no campaign row and no audit rows.
var ErrUnknownCampaign = errors.New("unknown campaign")

// Row is an audit_log row as the chain covers it. Detail and Result hold the jsonb values as
// PostgreSQL prints them (jsonb::text); RecordedAt is nil when the stored time is not finite.
type Row = store.AuditChainRow

// TimeLayout is recorded_at in the canonical form, in UTC: to_char's
// 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'.
const TimeLayout = "2006-01-02T15:04:05.000000Z"

// Canonical is the text a row's hash covers: CanonicalVersion, then each column in a fixed
// order as F(NULL) = "N;" or F(v) = len(v) ":" v ";" (len in bytes of UTF-8), with id and
// attempt in decimal, recorded_at in TimeLayout, detail and result as jsonb::text.
func Canonical(r Row) string {
	var b strings.Builder
	b.WriteString(CanonicalVersion)
	field := func(v *string) {
		if v == nil {
			b.WriteString("N;")
			return
		}
		b.WriteString(strconv.Itoa(len(*v)))
		b.WriteByte(':')
		b.WriteString(*v)
		b.WriteByte(';')
	}
	text := func(s string) { field(&s) }
	text(strconv.FormatInt(r.ID, 10))
	text(r.CampaignID)
	if r.RecordedAt != nil {
		text(r.RecordedAt.UTC().Format(TimeLayout))
	} else {
		field(nil)
	}
	text(r.Actor)
	text(r.Action)
	text(r.Entity)
	text(r.EntityKey)
	field(r.WorkflowID)
	field(r.RunID)
	field(r.ActivityID)
	if r.Attempt != nil {
		text(strconv.FormatInt(int64(*r.Attempt), 10))
	} else {
		field(nil)
	}
	field(r.Detail)
	field(r.Result)
	return b.String()
}

// Hash is SHA-256(prev || Canonical(r)).
func Hash(prev []byte, r Row) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write([]byte(Canonical(r)))
	return h.Sum(nil)
}

// Kind says what is wrong with the first bad row.
type Kind string

const (
	// Altered: the row's content (or its stored hash) no longer matches its hash.
	Altered Kind = "altered"
	// BrokenLink: the row is intact but names as its predecessor a row that is not in the log:
	// a row before it was deleted (or rewritten with a new hash).
	BrokenLink Kind = "broken-link"
	// Inserted: the row is not part of the chain; the chain goes on past it.
	Inserted Kind = "inserted"
)

// Break is the first row that does not fit the chain.
type Break struct {
	RowID int64 `json:"row_id"`
	Kind  Kind  `json:"kind"`
	// AfterID is the last row that fits the chain before it; 0 at the chain's start.
	AfterID int64  `json:"after_id"`
	Reason  string `json:"reason"`
}

// Result is what Verify found.
type Result struct {
	CampaignID string `json:"campaign_id"`
	// Rows is the number of the campaign's audit rows.
	Rows int `json:"rows"`
	// Verified rows fit the chain before the first bad one (all of them when intact).
	Verified int `json:"verified"`
	// HeadID and Head are the last verified row and its hash (hex); empty with no rows.
	HeadID int64  `json:"head_id,omitempty"`
	Head   string `json:"head,omitempty"`
	// Broken is nil when the chain is intact.
	Broken *Break `json:"broken,omitempty"`
}

// Intact says whether every row fits the chain.
func (r Result) Intact() bool { return r.Broken == nil }

// String says what Verify found in a sentence.
func (r Result) String() string {
	of := r.CampaignID
	if of == "" {
		of = "the accounts" // their changes' chain belongs to no campaign
	}
	if r.Intact() {
		if r.Rows == 0 {
			return fmt.Sprintf("audit log of %s: intact, 0 rows", of)
		}
		// Row ids are numbered across every campaign's log: the last row's id is not a count.
		return fmt.Sprintf("audit log of %s: intact, %s; the hash chain is verified through its last row, id %d "+
			"(ids are numbered across all campaigns' logs), head %s", of, rowsOf(r.Rows), r.HeadID, r.Head)
	}
	return fmt.Sprintf("audit log of %s: BROKEN at row %d (%s): %s; %d of its %s verified before it",
		of, r.Broken.RowID, r.Broken.Kind, r.Broken.Reason, r.Verified, rowsOf(r.Rows))
}

// rowsOf is "1 row" or "n rows".
func rowsOf(n int) string {
	if n == 1 {
		return "1 row"
	}
	return strconv.Itoa(n) + " rows"
}

// Querier is what Verify reads through: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// link is what the walk keeps of a row.
type link struct {
	id         int64
	prev, hash []byte
	selfOK     bool // hash = Hash(prev, row)
}

// Verify recomputes the hash chain of a campaign's audit rows, in id order, in one snapshot.
// A broken chain is not an error: Result.Broken names the first bad row. A campaign with
// neither a campaign row nor audit rows is ErrUnknownCampaign.
func Verify(ctx context.Context, db Querier, campaignID string) (Result, error) {
	res := Result{CampaignID: campaignID}
	var links []link
	err := store.ForEachAuditChainRow(ctx, db, campaignID, func(sr *store.AuditChainRow) error {
		r := *sr
		l := link{id: r.ID, prev: bytes.Clone(r.PrevHash), hash: bytes.Clone(r.Hash)}
		l.selfOK = l.prev != nil && l.hash != nil && bytes.Equal(Hash(l.prev, r), l.hash)
		links = append(links, l)
		return nil
	})
	if err != nil {
		return res, err
	}
	res.Rows = len(links)
	if len(links) == 0 {
		known, err := store.CampaignExists(ctx, db, campaignID)
		if err != nil {
			return res, err
		}
		if !known {
			return res, fmt.Errorf("%w %q: no such campaign and no audit rows", ErrUnknownCampaign, campaignID)
		}
		return res, nil
	}
	res.Broken = walk(links, &res)
	return res, nil
}

// walk follows the chain from Genesis and returns its first break, if any.
func walk(links []link, res *Result) *Break {
	// Where each hash is named as a predecessor: to tell an inserted row (the chain goes on
	// after it) from an altered one.
	namedBy := map[string][]int{}
	for i, l := range links {
		if l.selfOK {
			namedBy[string(l.prev)] = append(namedBy[string(l.prev)], i)
		}
	}
	continuesAfter := func(prev []byte, i int) (int, bool) {
		for _, j := range namedBy[string(prev)] {
			if j > i {
				return j, true
			}
		}
		return 0, false
	}
	good := map[string]int{string(Genesis): -1} // hash of a verified row → its index
	expect, afterID := Genesis, int64(0)
	for i, l := range links {
		linkOK := bytes.Equal(l.prev, expect)
		if linkOK && l.selfOK {
			good[string(l.hash)] = i
			expect, afterID = l.hash, l.id
			res.Verified++
			res.HeadID, res.Head = l.id, hex.EncodeToString(l.hash)
			continue
		}
		brk := &Break{RowID: l.id, AfterID: afterID}
		after := "the start of the chain"
		if afterID != 0 {
			after = "row " + strconv.FormatInt(afterID, 10)
		}
		switch j, ok := continuesAfter(expect, i); {
		case l.prev == nil || l.hash == nil:
			brk.Kind, brk.Reason = Inserted, "it has no chain hashes (written with the audit triggers disabled)"
		case ok:
			brk.Kind = Inserted
			brk.Reason = fmt.Sprintf("it is not part of the chain: row %d follows %s", links[j].id, after)
		case linkOK:
			brk.Kind = Altered
			brk.Reason = "its content no longer matches its hash (altered after it was written, or forged)"
		case l.selfOK:
			if k, ok := good[string(l.prev)]; ok && k < i-1 {
				// The chain skips the rows after k: they were slipped in.
				// Rows k+1… were counted as verified; they are not.
				res.Verified, res.HeadID, res.Head = k+1, 0, ""
				brk = &Break{RowID: links[k+1].id, Kind: Inserted}
				brk.Reason = fmt.Sprintf("it is not part of the chain: row %d starts it", l.id)
				if k >= 0 {
					brk.AfterID = links[k].id
					res.HeadID, res.Head = links[k].id, hex.EncodeToString(links[k].hash)
					brk.Reason = fmt.Sprintf("it is not part of the chain: row %d follows row %d", l.id, brk.AfterID)
				}
				return brk
			}
			brk.Kind = BrokenLink
			if afterID == 0 {
				brk.Reason = "the row it follows is not in the log: a row before it was deleted"
			} else {
				brk.Reason = fmt.Sprintf("the row it follows is not in the log: a row between %s and it was deleted, or %s was rewritten with a new hash", after, after)
			}
		default:
			brk.Kind = Altered
			brk.Reason = "neither its content nor its link to " + after + " matches (altered or forged)"
		}
		return brk
	}
	return nil
}
