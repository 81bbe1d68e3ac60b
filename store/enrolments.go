package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// mergeLockClass is the advisory lock class of a campaign's enrolment merges ('enro').
const mergeLockClass = 1701737071

// LockEnrolmentMerges holds, until the transaction ends, the lock that lets one merge of
// enrolments at a time run in a campaign, so that each sees every enrolment committed before it.
func LockEnrolmentMerges(ctx context.Context, db DB, campaignID string) error {
	if _, err := db.Exec(ctx, `select pg_advisory_xact_lock($1, hashtext($2))`, mergeLockClass, campaignID); err != nil {
		return fmt.Errorf("lock enrolment merges of %s: %w", campaignID, err)
	}
	return nil
}

// Enrolment is a person enrolled in a campaign's drive, as a merged batch writes them.
type Enrolment struct {
	CampaignID          string
	CitizenID           string
	FullName            *string
	Phone               *string
	District            string
	Commune             string
	Village             *string
	Agent               string
	TargetGroup         string
	MonthlyIncome       int64
	MonthlyContribution int64
	SubsidyClass        string
	MonthlySubsidy      int64
	PaymentMonths       int32
	EnrolledOn          time.Time
	BatchID             string
	ProspectID          *int64 // the lead they were met as, if any
}

var enrolmentColumns = []string{"campaign_id", "citizen_id", "full_name", "phone", "district_code", "commune_code", "village_code",
	"agent_code", "target_group", "monthly_income", "monthly_contribution", "subsidy_class", "monthly_subsidy",
	"payment_months", "enrolled_on", "batch_id", "prospect_id"}

// CopyEnrolments writes enrolments with COPY: the table's bulk path, with no speculative
// insertion per row. The unique key (campaign, citizen ID) still guards it: one person already
// enrolled fails the whole COPY, so the caller leaves them out first.
func CopyEnrolments(ctx context.Context, db DB, enrolments []Enrolment) (int, error) {
	n, err := db.CopyFrom(ctx, pgx.Identifier{"enrolments"}, enrolmentColumns, pgx.CopyFromSlice(len(enrolments), func(i int) ([]any, error) {
		e := &enrolments[i]
		return []any{e.CampaignID, e.CitizenID, e.FullName, e.Phone, e.District, e.Commune, e.Village, e.Agent, e.TargetGroup,
			e.MonthlyIncome, e.MonthlyContribution, e.SubsidyClass, e.MonthlySubsidy, e.PaymentMonths, e.EnrolledOn, e.BatchID, e.ProspectID}, nil
	}))
	if err != nil {
		return int(n), fmt.Errorf("copy enrolments: %w", err)
	}
	return int(n), nil
}

// LinkEnrolledLeads links the leads of a batch who had enrolled before they were met to their
// enrolment.
func LinkEnrolledLeads(ctx context.Context, db DB, campaignID, batchID string) error {
	if _, err := db.Exec(ctx, `
		update enrolments e set prospect_id = p.id
		from prospects p
		where p.campaign_id = $1 and p.batch_id = $2 and e.campaign_id = p.campaign_id
		  and e.citizen_id = p.citizen_id and e.prospect_id is null`, campaignID, batchID); err != nil {
		return fmt.Errorf("link enrolled leads: %w", err)
	}
	return nil
}
