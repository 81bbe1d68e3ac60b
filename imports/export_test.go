package imports

import "context"

// StageStreaming stages a file as an import does (checked, then streamed into COPY), without
// the merge, and returns the batch and how many of its lines it staged.
func (im *Importer) StageStreaming(ctx context.Context, campaignID string, kind Kind, eventID, name string, data []byte, by string) (string, int, error) {
	batch, cf, err := im.stage(ctx, campaignID, kind, eventID, name, data, by)
	if err != nil {
		return "", 0, err
	}
	return batch, cf.staged, nil
}
