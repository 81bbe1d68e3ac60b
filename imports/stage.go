package imports

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"drives/campaign"
	"drives/coordinator"
)

// ErrUnknownCampaign is returned for a campaign the database does not know.
var ErrUnknownCampaign = errors.New("unknown campaign")

// LoadReference reads what a campaign's lines are checked against. For leads, eventID names
// the event; its district bounds the communes leads may come from.
func LoadReference(ctx context.Context, db *pgxpool.Pool, campaignID, eventID string) (*Reference, error) {
	ref := &Reference{CampaignID: campaignID, Communes: map[string]string{}, Villages: map[string]string{},
		Agents: map[string]string{}, Groups: map[string]bool{}}
	err := db.QueryRow(ctx, `select period_start, period_end from campaigns where id = $1`, campaignID).
		Scan(&ref.PeriodStart, &ref.PeriodEnd)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w %q", ErrUnknownCampaign, campaignID)
	}
	if err != nil {
		return nil, fmt.Errorf("read campaign: %w", err)
	}
	rows, _ := db.Query(ctx, `select code, level, coalesce(parent_code, ''), district_code from units where campaign_id = $1`, campaignID)
	var code, level, parent, district string
	if _, err := pgx.ForEachRow(rows, []any{&code, &level, &parent, &district}, func() error {
		switch level {
		case "commune":
			ref.Communes[code] = district
		case "village":
			ref.Villages[code] = parent
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read units: %w", err)
	}
	if len(ref.Communes) == 0 {
		return nil, fmt.Errorf("campaign %s has no units yet: it is still being prepared", campaignID)
	}
	rows, _ = db.Query(ctx, `select code, commune_code from agents where campaign_id = $1 and status = 'active'`, campaignID)
	if _, err := pgx.ForEachRow(rows, []any{&code, &parent}, func() error {
		ref.Agents[code] = parent
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read agents: %w", err)
	}
	rows, _ = db.Query(ctx, `select code from target_groups where campaign_id = $1`, campaignID)
	if _, err := pgx.ForEachRow(rows, []any{&code}, func() error {
		ref.Groups[code] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read target groups: %w", err)
	}
	if eventID != "" {
		err := db.QueryRow(ctx, `select district_code from events where campaign_id = $1 and id = $2`, campaignID, eventID).Scan(&ref.District)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("campaign %s has no event %q", campaignID, eventID)
		}
		if err != nil {
			return nil, fmt.Errorf("read event: %w", err)
		}
	}
	return ref, nil
}

func newBatchID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

var stageColumns = []string{"batch_id", "line", "citizen_id", "full_name", "phone", "commune_code", "village_code",
	"agent_code", "target_group", "monthly_income", "subsidy_class", "payment_months", "enrolled_on", "outcome"}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Stage writes a checked file as a batch in one transaction: the batch row and its lines by
// COPY (for enrolments, those of people not enrolled yet). Outcomes are also checked against the campaign's leads here; a file naming a person who
// is not a lead is refused whole and the transaction rolled back.
func Stage(ctx context.Context, db *pgxpool.Pool, campaignID string, kind Kind, eventID, fileName string, data []byte, rows []Row, by string) (string, error) {
	batchID := newBatchID()
	sum := sha256.Sum256(data)
	all := len(rows)
	if kind == Enrolments {
		var err error
		if rows, err = notEnrolled(ctx, db, campaignID, rows); err != nil {
			return "", err
		}
	}
	tx, err := db.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("stage: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
	if _, err := tx.Exec(ctx, `
		insert into import_batches (id, campaign_id, kind, event_id, file_name, file_sha256, rows, staged_rows, created_by)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		batchID, campaignID, string(kind), nullable(eventID), fileName, hex.EncodeToString(sum[:]), all, len(rows), by); err != nil {
		return "", fmt.Errorf("stage batch: %w", err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"import_rows"}, stageColumns, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		r := &rows[i]
		v := []any{batchID, r.Line, r.CitizenID, nullable(r.FullName), nullable(r.Phone), nullable(r.Commune), nullable(r.Village),
			nullable(r.Agent), nullable(r.Group), nil, nullable(r.SubsidyClass), nil, nil, nullable(r.Outcome)}
		if kind == Enrolments {
			v[9], v[11] = r.Income, r.PaymentMonths
		}
		if !r.On.IsZero() {
			v[12] = r.On
		}
		return v, nil
	}))
	if err != nil {
		return "", fmt.Errorf("stage rows: %w", err)
	}
	if kind == Outcomes {
		unknown, err := tx.Query(ctx, `
			select r.line from import_rows r
			where r.batch_id = $1 and not exists (
				select 1 from prospects p where p.campaign_id = $2 and p.citizen_id = r.citizen_id)
			order by r.line`, batchID, campaignID)
		if err != nil {
			return "", fmt.Errorf("check outcomes: %w", err)
		}
		lines, err := pgx.CollectRows(unknown, pgx.RowTo[int])
		if err != nil {
			return "", fmt.Errorf("check outcomes: %w", err)
		}
		if len(lines) > 0 {
			rej := &Rejected{File: fileName, Rows: len(rows)}
			for _, l := range lines {
				rej.Errors = append(rej.Errors, LineError{Line: l, Field: "citizen_id", Msg: "no lead of this campaign has this citizen ID"})
			}
			return "", rej
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("stage: commit: %w", err)
	}
	return batchID, nil
}

// notEnrolled leaves out the lines of people the campaign has enrolled already, which a merge
// would leave out too (enrolments are never removed): a file imported again stages nothing.
// The campaign's enrolled citizen IDs are read only when they are not many more than the
// file's lines, so a small file into a large campaign costs no more than before.
func notEnrolled(ctx context.Context, db *pgxpool.Pool, campaignID string, rows []Row) ([]Row, error) {
	var enrolled int
	if err := db.QueryRow(ctx, `select count(*) from enrolments where campaign_id = $1`, campaignID).Scan(&enrolled); err != nil {
		return nil, fmt.Errorf("stage: count enrolments: %w", err)
	}
	if enrolled == 0 || enrolled > 4*len(rows) {
		return rows, nil
	}
	in := make(map[string]int, len(rows))
	for i := range rows {
		in[rows[i].CitizenID] = i
	}
	drop := make([]bool, len(rows))
	q, err := db.Query(ctx, `select citizen_id from enrolments where campaign_id = $1`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("stage: read enrolments: %w", err)
	}
	var id string
	dropped := 0
	if _, err := pgx.ForEachRow(q, []any{&id}, func() error {
		if i, ok := in[id]; ok {
			drop[i] = true
			dropped++
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("stage: read enrolments: %w", err)
	}
	if dropped == 0 {
		return rows, nil
	}
	out := make([]Row, 0, len(rows)-dropped)
	for i := range rows {
		if !drop[i] {
			out = append(out, rows[i])
		}
	}
	return out, nil
}

// Discard drops a staged batch that the campaign refused, so a refused import leaves nothing.
func Discard(ctx context.Context, db *pgxpool.Pool, batchID string) error {
	_, err := db.Exec(ctx, `delete from import_batches where id = $1 and status = 'staged'`, batchID)
	return err
}

// Importer takes files into running campaigns: check, stage, and hand to the workflow.
type Importer struct {
	DB       *pgxpool.Pool
	Temporal client.Client
}

func (im *Importer) stage(ctx context.Context, campaignID string, kind Kind, eventID, name string, data []byte, by string) (string, []Row, error) {
	if len(data) > MaxFileBytes {
		return "", nil, fmt.Errorf("%s: file is larger than %d MiB", name, MaxFileBytes>>20)
	}
	ref, err := LoadReference(ctx, im.DB, campaignID, eventID)
	if err != nil {
		return "", nil, err
	}
	rows, err := Parse(kind, name, data, ref)
	if err != nil {
		return "", nil, err
	}
	batch, err := Stage(ctx, im.DB, campaignID, kind, eventID, name, data, rows, by)
	return batch, rows, err
}

// update hands a staged batch to the campaign by an Update (the coordinator's own path) and
// waits for its result; a refused Update discards the batch.
func update[T any](ctx context.Context, im *Importer, campaignID, batchID, name string, arg any) (T, error) {
	co := &coordinator.Coordinator{DB: im.DB, Temporal: im.Temporal}
	res, err := coordinator.Update[T](ctx, co, campaignID, name, arg)
	if err != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if derr := Discard(dctx, im.DB, batchID); derr != nil {
			return res, fmt.Errorf("%w (and the staged batch %s could not be discarded: %v)", err, batchID, derr)
		}
		return res, err
	}
	return res, nil
}

// Enrolments imports a file of enrolments (or, with kind Outcomes, of follow-up outcomes).
func (im *Importer) Enrolments(ctx context.Context, campaignID string, kind Kind, name string, data []byte, by string) (campaign.ImportResult, error) {
	var res campaign.ImportResult
	if kind != Enrolments && kind != Outcomes {
		return res, fmt.Errorf("kind %q is not imported this way", kind)
	}
	batch, _, err := im.stage(ctx, campaignID, kind, "", name, data, by)
	if err != nil {
		return res, err
	}
	return update[campaign.ImportResult](ctx, im, campaignID, batch, campaign.UpdateRecordImport, campaign.ImportRequest{BatchID: batch, By: by})
}

// EventResults records a held event's attendance and its leads file.
func (im *Importer) EventResults(ctx context.Context, campaignID, eventID string, attendance int, name string, data []byte, by string) (campaign.LeadsResult, error) {
	var res campaign.LeadsResult
	batch, _, err := im.stage(ctx, campaignID, Leads, eventID, name, data, by)
	if err != nil {
		return res, err
	}
	return update[campaign.LeadsResult](ctx, im, campaignID, batch, campaign.UpdateRecordEventResult,
		campaign.EventResultRequest{EventID: eventID, Attendance: attendance, BatchID: batch, By: by})
}
