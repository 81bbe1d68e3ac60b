package activities

import (
	"context"

	"github.com/jackc/pgx/v5"

	"drives/campaign"
	"drives/store"
)

// FieldInput asks for the enrolments recorded in the field and not yet counted.
type FieldInput struct {
	CampaignID string `json:"campaign_id"`
	By         string `json:"by"`
}

// FoldFieldEnrolments marks the enrolments agents recorded in the field (package field) since
// the last fold as counted, and returns them by district, for the campaign's progress. Each
// is counted once: the marks and the audit row, which keeps the result for a retried attempt,
// are one transaction.
func (a *Activities) FoldFieldEnrolments(ctx context.Context, in FieldInput) (campaign.FieldResult, error) {
	res, err := apply(ctx, a, effect{campaignID: in.CampaignID, action: "field.fold", entity: "campaign", entityKey: in.CampaignID, actor: in.By},
		func(tx pgx.Tx) (campaign.FieldResult, error) {
			by, err := store.FoldFieldEnrolments(ctx, tx, in.CampaignID)
			res := campaign.FieldResult{ByDistrict: by}
			for _, n := range by {
				res.Enrolled += n
			}
			return res, err
		})
	if err == nil {
		countMetric(ctx, MetricEnrolmentsImported, res.Enrolled, nil)
	}
	return res, err
}
