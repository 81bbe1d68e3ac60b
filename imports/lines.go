package imports

import (
	"context"
	"slices"

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
	lines := Lines{New: []int{}, Duplicate: []int{}} // [] in JSON when none, not null
	var res campaign.ImportResult
	var batch string
	var cf *checkedFile
	err := im.withSlot(ctx, func() error {
		var err error
		if batch, cf, err = im.stage(ctx, campaignID, Enrolments, "", name, data, by); err != nil {
			return err
		}
		res, err = update[campaign.ImportResult](ctx, im, campaignID, batch, campaign.UpdateRecordImport, campaign.ImportRequest{BatchID: batch, By: by})
		return err
	})
	if err != nil {
		return res, lines, err
	}
	// The merge drops the staged rows: a line is new when its person was enrolled by this batch.
	ids, err := store.CitizensOfBatch(ctx, im.DB, campaignID, batch)
	if err != nil {
		return res, lines, err
	}
	added := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		if isCitizenID(id) {
			added[citizenKey(id)] = true
		}
	}
	for k, line := range cf.byKey {
		switch {
		case line < 0: // enrolled before this file: left out of the batch
			lines.Duplicate = append(lines.Duplicate, -line)
		case added[k]:
			lines.New = append(lines.New, line)
		default:
			lines.Duplicate = append(lines.Duplicate, line)
		}
	}
	slices.Sort(lines.New)
	slices.Sort(lines.Duplicate)
	return res, lines, nil
}
