package activities

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/store"
)

// DefaultImportRetention is how long a batch staged but never merged (the import's process
// died between staging and its Update) keeps its lines, with citizen IDs, names and phones,
// in import_rows. A week leaves time to notice and import the file again; the worker's
// DRIVES_IMPORT_RETENTION changes it.
const DefaultImportRetention = 7 * 24 * time.Hour

// ExpireImportsInput asks for the batches staged before Before and never merged to be deleted.
// The workflow computes Before from its own clock, so that a retry deletes the same set.
type ExpireImportsInput struct {
	CampaignID string        `json:"campaign_id"`
	Before     time.Time     `json:"before"`
	Retention  time.Duration `json:"retention"`
}

// ExpireImportsResult is what a run deleted: batches and their staged lines.
type ExpireImportsResult struct {
	CampaignID string               `json:"campaign_id"`
	Batches    []store.ExpiredBatch `json:"batches,omitempty"`
	Rows       int                  `json:"rows"`
}

// CampaignsWithExpiredImports lists the campaigns that have batches staged before before and
// never merged.
func (a *Activities) CampaignsWithExpiredImports(ctx context.Context, before time.Time) ([]string, error) {
	return store.CampaignsWithExpiredBatches(ctx, a.Pool, before)
}

// ExpireImports deletes a campaign's batches staged before in.Before and never merged, with
// their staged lines, and records it in the audit log in the same transaction (action
// import.expire; the batches' IDs, kinds, file names and hashes, no personal data). A campaign
// with nothing to delete is left alone: no transaction and no audit row.
func (a *Activities) ExpireImports(ctx context.Context, in ExpireImportsInput) (ExpireImportsResult, error) {
	if in.CampaignID == "" || in.Before.IsZero() {
		return ExpireImportsResult{}, permanent(ErrInvalidState, "expire imports: campaign and cut-off are required")
	}
	ids, err := store.CampaignsWithExpiredBatches(ctx, a.Pool, in.Before)
	if err != nil {
		return ExpireImportsResult{}, err
	}
	found := false
	for _, id := range ids {
		found = found || id == in.CampaignID
	}
	if !found {
		return ExpireImportsResult{CampaignID: in.CampaignID}, nil
	}
	before := in.Before.UTC().Format(time.RFC3339)
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "import.expire", entity: "import_batches",
		entityKey: "staged-before:" + before, actor: "retention",
		detail: map[string]any{"staged_before": before, "retention": in.Retention.String()}},
		func(tx pgx.Tx) (ExpireImportsResult, error) {
			batches, err := store.DeleteExpiredBatches(ctx, tx, in.CampaignID, in.Before)
			if err != nil {
				return ExpireImportsResult{}, fmt.Errorf("expire imports of %s: %w", in.CampaignID, err)
			}
			res := ExpireImportsResult{CampaignID: in.CampaignID, Batches: batches}
			for _, b := range batches {
				res.Rows += b.Rows
			}
			return res, nil
		})
}
