package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// UnitRef is a unit as import lines are checked against it.
type UnitRef struct {
	Code, Level, Parent, District string
}

// ForEachUnit calls fn with each of a campaign's units (Parent "" for a district).
func ForEachUnit(ctx context.Context, db DB, campaignID string, fn func(UnitRef) error) error {
	rows, err := db.Query(ctx, `select code, level, coalesce(parent_code, ''), district_code from units where campaign_id = $1`, campaignID)
	if err != nil {
		return fmt.Errorf("read units: %w", err)
	}
	var u UnitRef
	if _, err := pgx.ForEachRow(rows, []any{&u.Code, &u.Level, &u.Parent, &u.District}, func() error { return fn(u) }); err != nil {
		return fmt.Errorf("read units: %w", err)
	}
	return nil
}

// ActiveAgentCommunes maps a campaign's active agents and staff to their communes.
func ActiveAgentCommunes(ctx context.Context, db DB, campaignID string) (map[string]string, error) {
	rows, err := db.Query(ctx, `select code, commune_code from agents where campaign_id = $1 and status = 'active'`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	out := map[string]string{}
	var code, commune string
	if _, err := pgx.ForEachRow(rows, []any{&code, &commune}, func() error { out[code] = commune; return nil }); err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	return out, nil
}

// EventDistrict returns the district of a campaign's event, or ErrNotFound.
func EventDistrict(ctx context.Context, db DB, campaignID, eventID string) (string, error) {
	var d string
	err := db.QueryRow(ctx, `select district_code from events where campaign_id = $1 and id = $2`, campaignID, eventID).Scan(&d)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read event: %w", err)
	}
	return d, nil
}

// CountEnrolments counts a campaign's enrolments, from their counts by target group (migration
// 010), exact as enrolments are written.
func CountEnrolments(ctx context.Context, db DB, campaignID string) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `select coalesce(sum(n), 0)::int from enrolment_group_counts where campaign_id = $1`, campaignID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count enrolments: %w", err)
	}
	return n, nil
}

// ForEachEnrolledCitizen calls fn with the citizen ID of each of a campaign's enrolments
// (personal data: keep it out of errors and logs).
func ForEachEnrolledCitizen(ctx context.Context, db DB, campaignID string, fn func(citizenID string) error) error {
	rows, err := db.Query(ctx, `select citizen_id from enrolments where campaign_id = $1`, campaignID)
	if err != nil {
		return fmt.Errorf("read enrolments: %w", err)
	}
	var id string
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error { return fn(id) }); err != nil {
		return fmt.Errorf("read enrolments: %w", err)
	}
	return nil
}

// CitizensOfBatch lists the citizen IDs a merged batch enrolled.
func CitizensOfBatch(ctx context.Context, db DB, campaignID, batchID string) ([]string, error) {
	return queryStrings(ctx, db, "read merged lines", `select citizen_id from enrolments where campaign_id = $1 and batch_id = $2`, campaignID, batchID)
}

// ImportBatch is a staged file's batch row.
type ImportBatch struct {
	ID, CampaignID, Kind string
	EventID              string // "" for none
	FileName, FileSHA256 string
	Rows, StagedRows     int
	CreatedBy            string
}

// InsertImportBatch writes a batch row, status staged.
func InsertImportBatch(ctx context.Context, db DB, b ImportBatch) error {
	if _, err := db.Exec(ctx, `
		insert into import_batches (id, campaign_id, kind, event_id, file_name, file_sha256, rows, staged_rows, created_by)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		b.ID, b.CampaignID, b.Kind, nullable(b.EventID), b.FileName, b.FileSHA256, b.Rows, b.StagedRows, b.CreatedBy); err != nil {
		return fmt.Errorf("stage batch: %w", err)
	}
	return nil
}

// ImportRow is one checked line of an import file, as it is staged.
type ImportRow struct {
	Line          int
	CitizenID     string
	FullName      string
	Phone         string
	Commune       string
	Village       string
	Agent         string
	Group         string
	Income        int64
	SubsidyClass  string
	PaymentMonths int
	On            time.Time // enrolled_on, reported_on, joined_on (starting register) or paid_on (payments)
	Outcome       string
	PaidUntil     time.Time // starting register
	Amount        int64     // payments
	Receipt       string    // payments
}

var importRowColumns = []string{"batch_id", "line", "citizen_id", "full_name", "phone", "commune_code", "village_code",
	"agent_code", "target_group", "monthly_income", "subsidy_class", "payment_months", "enrolled_on", "outcome",
	"paid_until", "amount", "receipt_no"}

// rowSource streams rows into COPY as next hands them over, holding one at a time.
type rowSource struct {
	batchID string
	next    func() (*ImportRow, error)
	row     *ImportRow
	err     error
}

func (s *rowSource) Next() bool {
	if s.err != nil {
		return false
	}
	s.row, s.err = s.next()
	return s.err == nil && s.row != nil
}

func (s *rowSource) Values() ([]any, error) {
	r := s.row
	v := []any{s.batchID, r.Line, r.CitizenID, nullable(r.FullName), nullable(r.Phone), nullable(r.Commune), nullable(r.Village),
		nullable(r.Agent), nullable(r.Group), nil, nullable(r.SubsidyClass), nil, nil, nullable(r.Outcome),
		nil, nil, nullable(r.Receipt)}
	if r.Income != 0 {
		v[9] = r.Income
	}
	if r.PaymentMonths != 0 {
		v[11] = r.PaymentMonths
	}
	if !r.On.IsZero() {
		v[12] = r.On
	}
	if !r.PaidUntil.IsZero() {
		v[14] = r.PaidUntil
	}
	if r.Amount != 0 {
		v[15] = r.Amount
	}
	return v, nil
}

func (s *rowSource) Err() error { return s.err }

// CopyImportRows stages a batch's lines by COPY, streaming: next returns each line in turn and
// nil after the last. A line's fields its kind leaves unset are staged as null.
func CopyImportRows(ctx context.Context, db DB, batchID string, next func() (*ImportRow, error)) (int64, error) {
	n, err := db.CopyFrom(ctx, pgx.Identifier{"import_rows"}, importRowColumns,
		&rowSource{batchID: batchID, next: next})
	if err != nil {
		return n, fmt.Errorf("stage rows: %w", err)
	}
	return n, nil
}

// UnknownLeadLines lists the lines of a staged outcomes batch whose person is no lead of the
// campaign.
func UnknownLeadLines(ctx context.Context, db DB, batchID, campaignID string) ([]int, error) {
	rows, err := db.Query(ctx, `
		select r.line from import_rows r
		where r.batch_id = $1 and not exists (
			select 1 from prospects p where p.campaign_id = $2 and p.citizen_id = r.citizen_id)
		order by r.line`, batchID, campaignID)
	if err != nil {
		return nil, fmt.Errorf("check outcomes: %w", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("check outcomes: %w", err)
	}
	return lines, nil
}

// DiscardStagedBatch drops a batch still staged (its rows go with it).
func DiscardStagedBatch(ctx context.Context, db DB, batchID string) error {
	if _, err := db.Exec(ctx, `delete from import_batches where id = $1 and status = 'staged'`, batchID); err != nil {
		return fmt.Errorf("discard batch %s: %w", batchID, err)
	}
	return nil
}

// importSlotClass is the first key of the advisory locks that are import slots ("IMPT").
const importSlotClass = 0x494D5054

// TryImportSlot takes the first free of import slots 1..n, a session advisory lock held by the
// connection db until ReleaseImportSlot or the connection's end, and returns it; 0 when every
// slot is taken.
func TryImportSlot(ctx context.Context, db DB, n int) (int, error) {
	for slot := 1; slot <= n; slot++ {
		var ok bool
		if err := db.QueryRow(ctx, `select pg_try_advisory_lock($1, $2)`, int32(importSlotClass), int32(slot)).Scan(&ok); err != nil {
			return 0, fmt.Errorf("take an import slot: %w", err)
		}
		if ok {
			return slot, nil
		}
	}
	return 0, nil
}

// ReleaseImportSlot gives back a slot TryImportSlot took on the same connection.
func ReleaseImportSlot(ctx context.Context, db DB, slot int) error {
	if _, err := db.Exec(ctx, `select pg_advisory_unlock($1, $2)`, int32(importSlotClass), int32(slot)); err != nil {
		return fmt.Errorf("release import slot %d: %w", slot, err)
	}
	return nil
}
