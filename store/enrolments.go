package store

import (
	"context"
	"fmt"
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
