package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/campaign"
	"drives/contribution"
	"drives/report"
)

// MergeInput asks for a staged batch to be merged.
type MergeInput struct {
	CampaignID string `json:"campaign_id"`
	BatchID    string `json:"batch_id"`
	By         string `json:"by"`
}

// MergeImport merges a staged enrolment or outcome batch. Enrolments of people not enrolled
// yet go in (one merge per campaign at a time; the key (campaign, citizen ID) is unique), so a
// file imported twice adds nothing the second time; a new
// enrolment closes its person's follow-up as enrolled. Outcomes close open follow-ups as
// declined or unreachable.
func (a *Activities) MergeImport(ctx context.Context, in MergeInput) (campaign.ImportResult, error) {
	res, err := a.mergeImport(ctx, in)
	if err == nil && len(res.ByDistrict) > 0 { // an outcome batch has no districts: it enrols nobody
		countMetric(ctx, MetricEnrolmentsImported, res.New, nil)
	}
	return res, err
}

func (a *Activities) mergeImport(ctx context.Context, in MergeInput) (campaign.ImportResult, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "import.merge", entity: "import_batch", entityKey: in.BatchID, actor: in.By},
		func(tx pgx.Tx) (campaign.ImportResult, error) {
			res := campaign.ImportResult{BatchID: in.BatchID, ByDistrict: map[string]int{}}
			var kind string
			if err := tx.QueryRow(ctx, `select kind from import_batches where id = $1`, in.BatchID).Scan(&kind); err != nil {
				return res, permanent(ErrNotFound, "import batch %s is not staged", in.BatchID)
			}
			if kind == "leads" {
				return res, permanent(ErrInvalidImport, "import batch %s holds leads; record them as an event's results", in.BatchID)
			}
			if err := claimBatch(ctx, tx, in.CampaignID, in.BatchID, kind, "", &res.Rows); err != nil {
				return res, err
			}
			var err error
			if kind == "enrolments" {
				err = mergeEnrolments(ctx, tx, in, &res)
			} else {
				err = mergeOutcomes(ctx, tx, in, &res)
			}
			if err != nil {
				return res, err
			}
			return res, finishBatch(ctx, tx, in.BatchID, res)
		})
}

// mergeLockClass is the advisory lock class of a campaign's enrolment merges ('enro'): one at
// a time per campaign, so that each sees every enrolment committed before it.
const mergeLockClass = 1701737071

// largeMerge is the size of file above which a merge's joins are hash joins, whatever the
// statistics say.
const largeMerge = 10_000

// mergeChunk is how many staged lines a merge fetches and COPYs at a time.
const mergeChunk = 50_000

var enrolmentColumns = []string{"campaign_id", "citizen_id", "full_name", "phone", "district_code", "commune_code", "village_code",
	"agent_code", "target_group", "monthly_income", "monthly_contribution", "subsidy_class", "monthly_subsidy",
	"payment_months", "enrolled_on", "batch_id", "prospect_id"}

func mergeEnrolments(ctx context.Context, tx pgx.Tx, in MergeInput, res *campaign.ImportResult) error {
	// Under the lock, people already enrolled are left out by an anti-join, and the rest go in
	// by COPY, in line order, a chunk at a time: no speculative insertion per line, and the
	// bulk path of the table. The unique key (campaign, citizen ID) stays the guard.
	if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock($1, hashtext($2))`, mergeLockClass, in.CampaignID); err != nil {
		return fmt.Errorf("merge enrolments: lock: %w", err)
	}
	subsidy := map[string]int64{}
	for _, c := range []string{"poor", "near_poor", "other"} {
		subsidy[c] = contribution.MonthlySubsidy(c)
	}
	var leads []int64        // prospects who enrolled: their follow-ups close
	var leadDays []time.Time // and the day each enrolled
	// One pass over the staged lines through a cursor, planned for all its rows; each chunk
	// fetched is COPYed before the next. The cursor's snapshot predates the COPYs, which is
	// right: a file names each person once.
	if _, err := tx.Exec(ctx, `set local cursor_tuple_fraction = 1`); err != nil {
		return fmt.Errorf("merge enrolments: %w", err)
	}
	// The statistics may not know yet what was just written (the units of a campaign launched
	// a moment ago, a large file just staged): estimating a handful of rows, the planner joins
	// by nested loops, which for a large file means scanning whole tables once per line (a
	// 1,000,000-line merge ran for more than ten minutes). A large file is joined by hashes.
	if res.Rows > largeMerge {
		if _, err := tx.Exec(ctx, `set local enable_nestloop = off`); err != nil {
			return fmt.Errorf("merge enrolments: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `
		declare merge_lines no scroll cursor for
		select r.citizen_id, r.full_name, r.phone, u.district_code, r.commune_code, r.village_code,
			r.agent_code, r.target_group, r.monthly_income, r.subsidy_class, r.payment_months, r.enrolled_on, p.id
		from import_rows r
		join units u on u.campaign_id = $1 and u.code = r.commune_code
		left join prospects p on p.campaign_id = $1 and p.citizen_id = r.citizen_id
		where r.batch_id = $2
		  and not exists (select 1 from enrolments x where x.campaign_id = $1 and x.citizen_id = r.citizen_id)
		order by r.line`, in.CampaignID, in.BatchID); err != nil {
		return fmt.Errorf("merge enrolments: read staged lines: %w", err)
	}
	var chunk [][]any
	for {
		rows, err := tx.Query(ctx, fmt.Sprintf(`fetch forward %d from merge_lines`, mergeChunk))
		if err != nil {
			return fmt.Errorf("merge enrolments: read staged lines: %w", err)
		}
		chunk = chunk[:0]
		var citizen, district, commune, agent, group, class string
		var name, phone, village *string
		var income int64
		var months int32
		var on time.Time
		var prospect *int64
		if _, err := pgx.ForEachRow(rows, []any{&citizen, &name, &phone, &district, &commune, &village, &agent, &group,
			&income, &class, &months, &on, &prospect}, func() error {
			sub, ok := subsidy[class]
			if !ok {
				sub = subsidy["other"]
			}
			var pid any
			if prospect != nil {
				pid = *prospect
				leads, leadDays = append(leads, *prospect), append(leadDays, on)
			}
			chunk = append(chunk, []any{in.CampaignID, citizen, name, phone, district, commune, village, agent, group,
				income, income * contribution.Percent / 100, class, sub, months, on, in.BatchID, pid})
			res.ByDistrict[district]++
			return nil
		}); err != nil {
			return fmt.Errorf("merge enrolments: read staged lines: %w", err)
		}
		if len(chunk) == 0 {
			break
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"enrolments"}, enrolmentColumns, pgx.CopyFromRows(chunk)); err != nil {
			return fmt.Errorf("merge enrolments: %w", err)
		}
		res.New += len(chunk)
		if len(chunk) < mergeChunk {
			break
		}
	}
	if _, err := tx.Exec(ctx, `close merge_lines`); err != nil {
		return fmt.Errorf("merge enrolments: %w", err)
	}
	res.Duplicates = res.Rows - res.New
	if len(leads) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `
		select f.id from follow_ups f
		where f.prospect_id = any($1::bigint[]) and f.status in ('open', 'unreachable')
		order by f.id for update of f`, leads); err != nil {
		return fmt.Errorf("lock follow-ups: %w", err)
	}
	tag, err := tx.Exec(ctx, `
		update follow_ups f set status = 'enrolled', closed_at = e.enrolled_on::timestamp at time zone c.timezone, closed_by_batch = $2
		from unnest($3::bigint[], $4::date[]) as e(prospect_id, enrolled_on), campaigns c
		where e.prospect_id = f.prospect_id and c.id = $1 and f.status in ('open', 'unreachable')`,
		in.CampaignID, in.BatchID, leads, leadDays)
	if err != nil {
		return fmt.Errorf("close enrolled follow-ups: %w", err)
	}
	res.FollowUpsClosed = int(tag.RowsAffected())
	return nil
}

func mergeOutcomes(ctx context.Context, tx pgx.Tx, in MergeInput, res *campaign.ImportResult) error {
	if _, err := tx.Exec(ctx, `
		select f.id from follow_ups f join prospects p on p.id = f.prospect_id join import_rows r on r.citizen_id = p.citizen_id
		where r.batch_id = $2 and p.campaign_id = $1 and f.status = 'open'
		order by f.id for update of f`, in.CampaignID, in.BatchID); err != nil {
		return fmt.Errorf("lock follow-ups: %w", err)
	}
	tag, err := tx.Exec(ctx, `
		update follow_ups f set status = r.outcome, closed_at = r.enrolled_on::timestamp at time zone c.timezone, closed_by_batch = $2
		from import_rows r, prospects p, campaigns c
		where r.batch_id = $2 and p.campaign_id = $1 and p.citizen_id = r.citizen_id
		  and f.prospect_id = p.id and f.status = 'open' and c.id = $1`, in.CampaignID, in.BatchID)
	if err != nil {
		return fmt.Errorf("merge outcomes: %w", err)
	}
	res.New = int(tag.RowsAffected())
	res.FollowUpsClosed = res.New
	res.Duplicates = res.Rows - res.New
	return nil
}

// StatusInput records a change of a campaign's status (pause, resume, cancel, closing).
type StatusInput struct {
	CampaignID string `json:"campaign_id"`
	Status     string `json:"status"`
	Reason     string `json:"reason"`
	By         string `json:"by"`
}

// SetStatus records a campaign's new status.
func (a *Activities) SetStatus(ctx context.Context, in StatusInput) (string, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "campaign." + in.Status, entity: "campaign", entityKey: in.CampaignID,
		actor: in.By, detail: map[string]any{"reason": in.Reason}},
		func(tx pgx.Tx) (string, error) {
			if _, err := tx.Exec(ctx, `update campaigns set status = $2 where id = $1`, in.CampaignID, in.Status); err != nil {
				return "", fmt.Errorf("set campaign status: %w", err)
			}
			return in.Status, nil
		})
}

// CloseInput closes a campaign.
type CloseInput struct {
	CampaignID string    `json:"campaign_id"`
	Status     string    `json:"status"` // closed | cancelled
	AsOf       time.Time `json:"as_of"`  // campaign time of the close
}

// CloseCampaign builds the final report from the rows, stores it, and marks the campaign
// closed (or cancelled).
func (a *Activities) CloseCampaign(ctx context.Context, in CloseInput) (campaign.CloseResult, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "campaign.close", entity: "campaign", entityKey: in.CampaignID,
		detail: map[string]any{"status": in.Status, "as_of": in.AsOf}},
		func(tx pgx.Tx) (campaign.CloseResult, error) {
			if _, err := tx.Exec(ctx, `update campaigns set status = $2, closed_at = now() where id = $1`, in.CampaignID, in.Status); err != nil {
				return campaign.CloseResult{}, fmt.Errorf("close campaign: %w", err)
			}
			r, err := report.Build(ctx, tx, in.CampaignID)
			if err != nil {
				return campaign.CloseResult{}, err
			}
			if err := report.Store(ctx, tx, r); err != nil {
				return campaign.CloseResult{}, err
			}
			return campaign.CloseResult{CampaignID: in.CampaignID, Status: in.Status, Target: r.Target, Enrolled: r.Enrolled, PriorYear: r.PriorYear}, nil
		})
}
