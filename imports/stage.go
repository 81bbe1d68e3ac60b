package imports

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"drives/campaign"
	"drives/coordinator"
	"drives/plan"
	"drives/store"
)

// ErrUnknownCampaign is returned for a campaign the database does not know.
var ErrUnknownCampaign = errors.New("unknown campaign")

// LoadReference reads what a campaign's lines are checked against. For leads, eventID names
// the event; its district bounds the communes leads may come from.
func LoadReference(ctx context.Context, db *pgxpool.Pool, campaignID, eventID string) (*Reference, error) {
	ref := &Reference{CampaignID: campaignID, Communes: map[string]string{}, Villages: map[string]string{},
		Agents: map[string]string{}, Groups: map[string]bool{}}
	var err error
	ref.PeriodStart, ref.PeriodEnd, _, err = store.CampaignPeriod(ctx, db, campaignID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w %q", ErrUnknownCampaign, campaignID)
	}
	if err != nil {
		return nil, err
	}
	if ref.Today, err = campaignDay(ctx, db, campaignID); err != nil {
		return nil, err
	}
	if err := store.ForEachUnit(ctx, db, campaignID, func(u store.UnitRef) error {
		switch u.Level {
		case "commune":
			ref.Communes[u.Code] = u.District
		case "village":
			ref.Villages[u.Code] = u.Parent
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if len(ref.Communes) == 0 {
		return nil, fmt.Errorf("campaign %s has no units yet: it is still being prepared", campaignID)
	}
	if ref.Agents, err = store.ActiveAgentCommunes(ctx, db, campaignID); err != nil {
		return nil, err
	}
	groups, err := store.TargetGroupsByLikelihood(ctx, db, campaignID)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		ref.Groups[g] = true
	}
	if eventID != "" {
		ref.District, err = store.EventDistrict(ctx, db, campaignID, eventID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("campaign %s has no event %q", campaignID, eventID)
		}
		if err != nil {
			return nil, err
		}
	}
	return ref, nil
}

// campaignDay is a campaign's day now by its clock, or zero before its clock starts.
func campaignDay(ctx context.Context, db store.DB, campaignID string) (time.Time, error) {
	cc, err := store.ClockOf(ctx, db, campaignID)
	if err != nil || cc.Epoch == nil || cc.Start == nil {
		return time.Time{}, err
	}
	loc, err := time.LoadLocation(cc.Timezone)
	if err != nil {
		return time.Time{}, fmt.Errorf("campaign %s: time zone %q: %w", campaignID, cc.Timezone, err)
	}
	return plan.Clock{Epoch: *cc.Epoch, Start: *cc.Start, Scale: cc.Scale}.Day(time.Now(), loc), nil
}

// NewBatchID is a new import batch's ID (a random UUID).
func NewBatchID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Stage writes a checked file as a batch in one transaction: the batch row and its lines by
// COPY (for enrolments, those of people not enrolled yet). Outcomes are also checked against the campaign's leads here; a file naming a person who
// is not a lead is refused whole and the transaction rolled back.
func Stage(ctx context.Context, db *pgxpool.Pool, campaignID string, kind Kind, eventID, fileName string, data []byte, rows []Row, by string) (string, error) {
	batchID := NewBatchID()
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
	if err := store.InsertImportBatch(ctx, tx, store.ImportBatch{ID: batchID, CampaignID: campaignID, Kind: string(kind),
		EventID: eventID, FileName: fileName, FileSHA256: hex.EncodeToString(sum[:]), Rows: all, StagedRows: len(rows), CreatedBy: by}); err != nil {
		return "", err
	}
	i := 0
	if _, err := store.CopyImportRows(ctx, tx, batchID, func() (*Row, error) {
		if i == len(rows) {
			return nil, nil
		}
		i++
		return &rows[i-1], nil
	}); err != nil {
		return "", err
	}
	if err := refuseUnknownPeople(ctx, tx, kind, batchID, campaignID, fileName, len(rows)); err != nil {
		return "", err
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("stage: commit: %w", err)
	}
	return batchID, nil
}

// refuseUnknownPeople checks a staged batch's people against the database, where a line's
// checks cannot: an outcome must name a lead of the campaign, a payment a person of its
// register. A file naming anyone else is refused whole (*Rejected; the caller rolls back).
func refuseUnknownPeople(ctx context.Context, tx pgx.Tx, kind Kind, batchID, campaignID, fileName string, rows int) error {
	var lines []int
	var err error
	var msg string
	switch kind {
	case Outcomes:
		lines, err = store.UnknownLeadLines(ctx, tx, batchID, campaignID)
		msg = "no lead of this campaign has this citizen ID"
	case Payments:
		lines, err = store.UnknownParticipantLines(ctx, tx, batchID, campaignID)
		msg = "nobody in the campaign's register of participants has this citizen ID"
	}
	if err != nil || len(lines) == 0 {
		return err
	}
	rej := &Rejected{File: fileName, Rows: rows}
	for _, l := range lines {
		rej.Errors = append(rej.Errors, LineError{Line: l, Field: "citizen_id", Msg: msg})
	}
	return rej
}

// notEnrolled leaves out the lines of people the campaign has enrolled already, which a merge
// would leave out too (enrolments are never removed): a file imported again stages nothing.
// The campaign's enrolled citizen IDs are read only when they are not many more than the
// file's lines, so a small file into a large campaign costs no more than before.
func notEnrolled(ctx context.Context, db *pgxpool.Pool, campaignID string, rows []Row) ([]Row, error) {
	enrolled, err := store.CountEnrolments(ctx, db, campaignID)
	if err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	if enrolled == 0 || enrolled > 4*len(rows) {
		return rows, nil
	}
	in := make(map[string]int, len(rows))
	for i := range rows {
		in[rows[i].CitizenID] = i
	}
	drop := make([]bool, len(rows))
	dropped := 0
	if err := store.ForEachEnrolledCitizen(ctx, db, campaignID, func(id string) error {
		if i, ok := in[id]; ok {
			drop[i] = true
			dropped++
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("stage: %w", err)
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
	return store.DiscardStagedBatch(ctx, db, batchID)
}

// Importer takes files into running campaigns: check, stage, and hand to the workflow.
type Importer struct {
	DB       *pgxpool.Pool
	Temporal client.Client
	// MaxMerging is how many imports may be staged and merged at once, across every process
	// importing into the database (CLI and web); 0 is DefaultMaxMerging.
	MaxMerging int
	// Progress, when set, is told how far an import has got.
	Progress func(Progress)
	// DatesAhead accepts lines dated after the campaign's day (within its period): only for
	// loading a whole year of synthetic data into a campaign at its first days, as the
	// benchmarks do. No command or page sets it: a file reports what has happened.
	DatesAhead bool
}

// checkedFile is what an import keeps of a file it has checked: each person's key and line
// (negated once found enrolled already), not the rows, which are read again from the file.
type checkedFile struct {
	lines   int
	staged  int
	byKey   map[uint64]int
	dropped int
}

func (im *Importer) stage(ctx context.Context, campaignID string, kind Kind, eventID, name string, data []byte, by string) (string, *checkedFile, error) {
	if len(data) > MaxFileBytes {
		return "", nil, fmt.Errorf("%s: file is larger than %d MiB", name, MaxFileBytes>>20)
	}
	ref, err := LoadReference(ctx, im.DB, campaignID, eventID)
	if err != nil {
		return "", nil, err
	}
	if im.DatesAhead {
		ref.Today = time.Time{}
	}
	im.report(Progress{Phase: PhaseReading, Total: len(data)})
	cf := &checkedFile{byKey: make(map[uint64]int, len(data)/100)}
	if cf.lines, err = checkReporting(kind, name, data, ref, cf.byKey, nil, func(done int) {
		im.report(Progress{Phase: PhaseReading, Done: done, Total: len(data)})
	}); err != nil {
		return "", nil, err
	}
	im.report(Progress{Phase: PhaseReading, Done: len(data), Total: len(data)})
	if kind == Enrolments {
		if err := notEnrolledKeys(ctx, im.DB, campaignID, cf); err != nil {
			return "", nil, err
		}
	}
	cf.staged = len(cf.byKey) - cf.dropped
	if kind == Payments { // a person may pay more than once in a file: every line is staged
		cf.staged = cf.lines
	}
	batch, err := stageStream(ctx, im, campaignID, kind, eventID, name, data, ref, cf, by)
	return batch, cf, err
}

// notEnrolledKeys marks the people of a checked file the campaign has enrolled already, which
// a merge would leave out too (see notEnrolled).
func notEnrolledKeys(ctx context.Context, db *pgxpool.Pool, campaignID string, cf *checkedFile) error {
	enrolled, err := store.CountEnrolments(ctx, db, campaignID)
	if err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	if enrolled == 0 || enrolled > 4*len(cf.byKey) {
		return nil
	}
	if err := store.ForEachEnrolledCitizen(ctx, db, campaignID, func(id string) error {
		if !isCitizenID(id) {
			return nil
		}
		k := citizenKey(id)
		if l, ok := cf.byKey[k]; ok && l > 0 {
			cf.byKey[k] = -l
			cf.dropped++
		}
		return nil
	}); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	return nil
}

// rows reads a checked file's rows again, one at a time, leaving out those of people enrolled
// already; next returns nil after the last. stop must be called.
func (cf *checkedFile) rows(kind Kind, name string, data []byte, ref *Reference) (next func() (*Row, error), stop func()) {
	pull, stop := iter.Pull2(func(yield func(*Row, error) bool) {
		_, err := check(kind, name, data, ref, nil, func(r *Row) bool {
			if cf.dropped > 0 && cf.byKey[citizenKey(r.CitizenID)] < 0 {
				return true
			}
			return yield(r, nil)
		})
		if err != nil {
			yield(nil, err)
		}
	})
	return func() (*Row, error) {
		r, err, ok := pull()
		if !ok {
			return nil, nil
		}
		return r, err
	}, stop
}

// stageStream stages a checked file as Stage does, reading its rows again from the file and
// streaming them into COPY, so that no more than one row is held at a time.
func stageStream(ctx context.Context, im *Importer, campaignID string, kind Kind, eventID, fileName string, data []byte,
	ref *Reference, cf *checkedFile, by string) (string, error) {
	batchID := NewBatchID()
	sum := sha256.Sum256(data)
	tx, err := im.DB.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("stage: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
	if err := store.InsertImportBatch(ctx, tx, store.ImportBatch{ID: batchID, CampaignID: campaignID, Kind: string(kind),
		EventID: eventID, FileName: fileName, FileSHA256: hex.EncodeToString(sum[:]), Rows: cf.lines, StagedRows: cf.staged, CreatedBy: by}); err != nil {
		return "", err
	}
	next, stop := cf.rows(kind, fileName, data, ref)
	defer stop()
	done := 0
	if _, err := store.CopyImportRows(ctx, tx, batchID, func() (*Row, error) {
		r, err := next()
		if r == nil || err != nil {
			return nil, err
		}
		if done++; done%50_000 == 0 {
			im.report(Progress{Phase: PhaseStaging, Done: done, Total: cf.staged})
		}
		return r, nil
	}); err != nil {
		return "", err
	}
	im.report(Progress{Phase: PhaseStaging, Done: cf.staged, Total: cf.staged})
	if err := refuseUnknownPeople(ctx, tx, kind, batchID, campaignID, fileName, cf.lines); err != nil {
		return "", err
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("stage: commit: %w", err)
	}
	return batchID, nil
}

// update hands a staged batch to the campaign by an Update (the coordinator's own path) and
// waits for its result; a refused Update discards the batch.
func update[T any](ctx context.Context, im *Importer, campaignID, batchID, name string, arg any) (T, error) {
	co := &coordinator.Coordinator{DB: im.DB, Temporal: im.Temporal}
	im.report(Progress{Phase: PhaseMerging})
	res, err := coordinator.Update[T](ctx, co, campaignID, name, arg)
	if err != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if derr := Discard(dctx, im.DB, batchID); derr != nil {
			return res, fmt.Errorf("%w (and the staged batch %s could not be discarded: %v)", err, batchID, derr)
		}
		return res, err
	}
	im.report(Progress{Phase: PhaseMerged})
	return res, nil
}

// Enrolments imports a file of enrolments (or, by kind, of follow-up outcomes, a starting
// register of participants, or payments).
func (im *Importer) Enrolments(ctx context.Context, campaignID string, kind Kind, name string, data []byte, by string) (campaign.ImportResult, error) {
	var res campaign.ImportResult
	switch kind {
	case Enrolments, Outcomes, Participants, Payments:
	default:
		return res, fmt.Errorf("kind %q is not imported this way", kind)
	}
	err := im.withSlot(ctx, func() error {
		batch, _, err := im.stage(ctx, campaignID, kind, "", name, data, by)
		if err != nil {
			return err
		}
		res, err = update[campaign.ImportResult](ctx, im, campaignID, batch, campaign.UpdateRecordImport, campaign.ImportRequest{BatchID: batch, By: by})
		return err
	})
	return res, err
}

// EventResults records a held event's attendance and its leads file.
func (im *Importer) EventResults(ctx context.Context, campaignID, eventID string, attendance int, name string, data []byte, by string) (campaign.LeadsResult, error) {
	var res campaign.LeadsResult
	err := im.withSlot(ctx, func() error {
		batch, _, err := im.stage(ctx, campaignID, Leads, eventID, name, data, by)
		if err != nil {
			return err
		}
		res, err = update[campaign.LeadsResult](ctx, im, campaignID, batch, campaign.UpdateRecordEventResult,
			campaign.EventResultRequest{EventID: eventID, Attendance: attendance, BatchID: batch, By: by})
		return err
	})
	return res, err
}
