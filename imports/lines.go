package imports

import (
	"context"

	"drives/campaign"
	"drives/store"
)

// Lines says which lines of a merged enrolment file enrolled someone new and which named
// people already enrolled (duplicates), by line number.
type Lines struct {
	New       []int `json:"new"`
	Duplicate []int `json:"duplicate"`
}

// EnrolmentLines imports a file of enrolments as Enrolments does, and also says which of its
// lines were new and which duplicates.
func (im *Importer) EnrolmentLines(ctx context.Context, campaignID, name string, data []byte, by string) (campaign.ImportResult, Lines, error) {
	var lines Lines
	batch, rows, err := im.stage(ctx, campaignID, Enrolments, "", name, data, by)
	if err != nil {
		return campaign.ImportResult{}, lines, err
	}
	res, err := update[campaign.ImportResult](ctx, im, campaignID, batch, campaign.UpdateRecordImport, campaign.ImportRequest{BatchID: batch, By: by})
	if err != nil {
		return res, lines, err
	}
	// The merge drops the staged rows: a line is new when its person was enrolled by this batch.
	ids, err := store.CitizensOfBatch(ctx, im.DB, campaignID, batch)
	if err != nil {
		return res, lines, err
	}
	added := make(map[string]bool, len(ids))
	for _, id := range ids {
		added[id] = true
	}
	for _, r := range rows {
		if added[r.CitizenID] {
			lines.New = append(lines.New, r.Line)
		} else {
			lines.Duplicate = append(lines.Duplicate, r.Line)
		}
	}
	return res, lines, nil
}
