package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Batch is an import batch: a file's lines staged in import_rows under one ID until a merge
// takes them in.
type Batch struct {
	CampaignID string
	Kind       string  // enrolments | leads | outcomes
	EventID    *string // a leads batch's event
	Status     string  // staged | merged
	Rows       int     // the file's lines
	StagedRows int     // the lines staged: Rows unless the file was staged in part
}

// BatchKind returns what an import batch holds; ErrNotFound when there is no such batch.
func BatchKind(ctx context.Context, db DB, batchID string) (string, error) {
	var kind string
	err := db.QueryRow(ctx, `select kind from import_batches where id = $1`, batchID).Scan(&kind)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("import batch %s: %w", batchID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read import batch %s: %w", batchID, err)
	}
	return kind, nil
}

// LockBatch reads an import batch and locks its row until the transaction ends; ErrNotFound
// when there is no such batch.
func LockBatch(ctx context.Context, db DB, batchID string) (Batch, error) {
	var b Batch
	err := db.QueryRow(ctx, `select campaign_id, kind, event_id, status, rows, coalesce(staged_rows, rows) from import_batches where id = $1 for update`, batchID).
		Scan(&b.CampaignID, &b.Kind, &b.EventID, &b.Status, &b.Rows, &b.StagedRows)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, fmt.Errorf("import batch %s: %w", batchID, ErrNotFound)
	}
	if err != nil {
		return b, fmt.Errorf("read import batch: %w", err)
	}
	return b, nil
}

// CountStagedLines counts the lines of a batch that are in import_rows now. They are not
// WAL-logged (migration 006): after a database crash they are gone.
func CountStagedLines(ctx context.Context, db DB, batchID string) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `select count(*) from import_rows where batch_id = $1`, batchID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count staged lines: %w", err)
	}
	return n, nil
}

// FinishBatch marks a batch merged with its result (stored as JSON) and drops its staged lines.
func FinishBatch(ctx context.Context, db DB, batchID string, result any) error {
	if _, err := db.Exec(ctx, `update import_batches set status = 'merged', merged_at = now(), result = $2 where id = $1`, batchID, result); err != nil {
		return fmt.Errorf("mark batch merged: %w", err)
	}
	if _, err := db.Exec(ctx, `delete from import_rows where batch_id = $1`, batchID); err != nil {
		return fmt.Errorf("drop staged rows: %w", err)
	}
	return nil
}

// MergeLeads makes a prospect of every staged lead of an event's batch, met when the event was
// held, in line order; a person who is a prospect of the campaign already is left as they
// are. It returns how many prospects it made.
func MergeLeads(ctx context.Context, db DB, campaignID, eventID, batchID string, heldAt time.Time) (int, error) {
	var n int
	if err := db.QueryRow(ctx, `
		with ins as (
			insert into prospects (campaign_id, citizen_id, full_name, phone, district_code, commune_code, village_code, target_group, event_id, batch_id, created_at)
			select $1, r.citizen_id, r.full_name, r.phone, u.district_code, r.commune_code, r.village_code, r.target_group, $2, $3, $4
			from import_rows r join units u on u.campaign_id = $1 and u.code = r.commune_code
			where r.batch_id = $3
			order by r.line
			on conflict (campaign_id, citizen_id) do nothing
			returning id)
		select count(*) from ins`, campaignID, eventID, batchID, heldAt).Scan(&n); err != nil {
		return 0, fmt.Errorf("insert prospects: %w", err)
	}
	return n, nil
}

// MergeOutcomes closes the open follow-ups of the people of an outcomes batch with the
// outcome and on the day each line gives (in the campaign's time zone), and returns how many
// it closed.
func MergeOutcomes(ctx context.Context, db DB, campaignID, batchID string) (int, error) {
	if _, err := db.Exec(ctx, `
		select f.id from follow_ups f join prospects p on p.id = f.prospect_id join import_rows r on r.citizen_id = p.citizen_id
		where r.batch_id = $2 and p.campaign_id = $1 and f.status = 'open'
		order by f.id for update of f`, campaignID, batchID); err != nil {
		return 0, fmt.Errorf("lock follow-ups: %w", err)
	}
	tag, err := db.Exec(ctx, `
		update follow_ups f set status = r.outcome, closed_at = r.enrolled_on::timestamp at time zone c.timezone, closed_by_batch = $2
		from import_rows r, prospects p, campaigns c
		where r.batch_id = $2 and p.campaign_id = $1 and p.citizen_id = r.citizen_id
		  and f.prospect_id = p.id and f.status = 'open' and c.id = $1`, campaignID, batchID)
	if err != nil {
		return 0, fmt.Errorf("merge outcomes: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// EnrolmentTerms are the contribution rules a merge computes each enrolment's figures by:
// the monthly contribution is the income times Percent / 100 (rounded down), and the monthly
// subsidy is the class's (a class other than poor and near-poor is other).
type EnrolmentTerms struct {
	Percent                      int64
	PoorSubsidy, NearPoorSubsidy int64
	OtherSubsidy                 int64
}

// MergedEnrolments is what merging an enrolment batch wrote: the new enrolments by district,
// and the prospects among them (the leads who enrolled) with the day each enrolled.
type MergedEnrolments struct {
	New        int
	ByDistrict map[string]int
	Prospects  []int64
	Days       []time.Time
}

// largeMerge is the size of file above which a merge's joins are hash joins, whatever the
// statistics say.
const largeMerge = 10_000

// MergeEnrolments enrols, in one INSERT … SELECT run in the database, the people of a staged
// enrolment batch the campaign has not enrolled yet, in line order, each with its commune's
// district, the prospect they were met as (if any) and the figures terms gives. The staged
// lines never leave the server. lines is how many the batch stages. The caller holds the
// campaign's merge lock (LockEnrolmentMerges): people enrolled already are left out by an
// anti-join, with no speculative insertion per line, and the unique key (campaign, citizen
// ID) stays the guard.
func MergeEnrolments(ctx context.Context, db DB, campaignID, batchID string, lines int, terms EnrolmentTerms) (MergedEnrolments, error) {
	out := MergedEnrolments{ByDistrict: map[string]int{}}
	// The statistics may not know yet what was just written (the units of a campaign launched
	// a moment ago, a large file just staged): estimating a handful of rows, the planner joins
	// by nested loops, which for a large file means scanning whole tables once per line (a
	// 1,000,000-line merge ran for more than ten minutes). A large file is joined by hashes.
	if lines > largeMerge {
		if _, err := db.Exec(ctx, `set local enable_nestloop = off`); err != nil {
			return out, fmt.Errorf("plan the merge: %w", err)
		}
	}
	rows, err := db.Query(ctx, `
		with ins as (
			insert into enrolments (campaign_id, citizen_id, full_name, phone, district_code, commune_code, village_code,
				agent_code, target_group, monthly_income, monthly_contribution, subsidy_class, monthly_subsidy,
				payment_months, enrolled_on, batch_id, prospect_id)
			select $1, r.citizen_id, r.full_name, r.phone, u.district_code, r.commune_code, r.village_code,
				r.agent_code, r.target_group, r.monthly_income, r.monthly_income * $3::bigint / 100, r.subsidy_class,
				case r.subsidy_class when 'poor' then $4::bigint when 'near_poor' then $5::bigint else $6::bigint end,
				r.payment_months, r.enrolled_on, $2, p.id
			from import_rows r
			join units u on u.campaign_id = $1 and u.code = r.commune_code
			left join prospects p on p.campaign_id = $1 and p.citizen_id = r.citizen_id
			where r.batch_id = $2
			  and not exists (select 1 from enrolments x where x.campaign_id = $1 and x.citizen_id = r.citizen_id)
			order by r.line
			returning district_code, prospect_id, enrolled_on)
		select district_code, count(*)::int,
			coalesce(array_agg(prospect_id) filter (where prospect_id is not null), '{}'),
			coalesce(array_agg(enrolled_on) filter (where prospect_id is not null), '{}')
		from ins group by district_code`,
		campaignID, batchID, terms.Percent, terms.PoorSubsidy, terms.NearPoorSubsidy, terms.OtherSubsidy)
	if err != nil {
		return out, fmt.Errorf("merge enrolments: %w", err)
	}
	var district string
	var n int
	var prospects []int64
	var days []time.Time
	if _, err := pgx.ForEachRow(rows, []any{&district, &n, &prospects, &days}, func() error {
		out.ByDistrict[district] = n
		out.New += n
		out.Prospects = append(out.Prospects, prospects...)
		out.Days = append(out.Days, days...)
		return nil
	}); err != nil {
		return out, fmt.Errorf("merge enrolments: %w", err)
	}
	return out, nil
}
