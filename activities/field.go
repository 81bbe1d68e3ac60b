package activities

import (
	"context"

	"github.com/jackc/pgx/v5"

	"drives/campaign"
	"drives/plan"
	"drives/store"
)

// FieldInput asks for the enrolments recorded in the field and not yet counted.
type FieldInput struct {
	CampaignID string `json:"campaign_id"`
	By         string `json:"by"`
	// Closing is the close's last count: in the same transaction the campaign is marked
	// closing, so that no send is taken after it (a send reads the status in its turn).
	Closing bool `json:"closing,omitempty"`
	// Policy's renewal rules say when the people enrolled join the register's due days.
	Policy plan.FollowUpTimes `json:"policy"`
}

// FoldFieldEnrolments marks the enrolments agents recorded in the field (package field) since
// the last fold as counted, and returns them by district, for the campaign's progress, with
// when the earliest open follow-up falls due (leads met in the field open follow-ups). Each is
// counted once: the marks and the audit row, which keeps the result for a retried attempt, are
// one transaction.
func (a *Activities) FoldFieldEnrolments(ctx context.Context, in FieldInput) (campaign.FieldResult, error) {
	res, err := apply(ctx, a, effect{campaignID: in.CampaignID, action: "field.fold", entity: "campaign", entityKey: in.CampaignID, actor: in.By},
		func(tx pgx.Tx) (campaign.FieldResult, error) {
			var res campaign.FieldResult
			if in.Closing {
				if err := store.LockFieldSends(ctx, tx, in.CampaignID); err != nil {
					return res, err
				}
				if err := store.MarkClosing(ctx, tx, in.CampaignID); err != nil {
					return res, err
				}
			}
			by, err := store.FoldFieldEnrolments(ctx, tx, in.CampaignID)
			if err != nil {
				return res, err
			}
			res.ByDistrict = by
			for _, n := range by {
				res.Enrolled += n
			}
			// Leads met in the field open follow-ups: the campaign's sweep must come for them.
			if res.NextDue, err = store.NextOpenFollowUpDue(ctx, tx, in.CampaignID); err != nil || res.Enrolled == 0 {
				return res, err
			}
			// People enrolled join the register: their payments fall due.
			next, err := registerDue(ctx, tx, in.CampaignID, in.Policy)
			res.NextDue = earliest(res.NextDue, next)
			return res, err
		})
	if err == nil {
		countMetric(ctx, MetricEnrolmentsImported, res.Enrolled, nil)
	}
	return res, err
}
