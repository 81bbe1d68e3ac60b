package store

import (
	"context"
	"fmt"
	"time"
)

// ExpiredBatch is an import batch staged but never merged, deleted with its staged lines by
// the retention of staged imports. It holds no personal data: that was in import_rows.
type ExpiredBatch struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	EventID    string    `json:"event_id,omitempty"`
	FileName   string    `json:"file_name"`
	FileSHA256 string    `json:"file_sha256"`
	Rows       int       `json:"rows"`
	CreatedBy  string    `json:"created_by"`
	RecordedAt time.Time `json:"recorded_at"`
}

// CampaignsWithExpiredBatches lists, in order, the campaigns that have batches staged before
// before and never merged.
func CampaignsWithExpiredBatches(ctx context.Context, db DB, before time.Time) ([]string, error) {
	rows, err := db.Query(ctx, `
		select distinct campaign_id from import_batches
		where status = 'staged' and recorded_at < $1
		order by campaign_id`, before)
	if err != nil {
		return nil, fmt.Errorf("campaigns with expired import batches: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("campaigns with expired import batches: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("campaigns with expired import batches: %w", err)
	}
	return ids, nil
}

// DeleteExpiredBatches deletes a campaign's batches staged before before and never merged,
// and their staged lines (import_rows cascade), and returns what it deleted, oldest first. A
// batch being merged at the same moment (its row locked by the merge) is left for the next run.
func DeleteExpiredBatches(ctx context.Context, db DB, campaignID string, before time.Time) ([]ExpiredBatch, error) {
	rows, err := db.Query(ctx, `
		with expired as (
			select id from import_batches
			where campaign_id = $1 and status = 'staged' and recorded_at < $2
			for update skip locked
		)
		delete from import_batches b using expired
		where b.id = expired.id
		returning b.id::text, b.kind, coalesce(b.event_id, ''), b.file_name, b.file_sha256, b.rows, b.created_by, b.recorded_at`,
		campaignID, before)
	if err != nil {
		return nil, fmt.Errorf("delete expired import batches: %w", err)
	}
	defer rows.Close()
	var out []ExpiredBatch
	for rows.Next() {
		var b ExpiredBatch
		if err := rows.Scan(&b.ID, &b.Kind, &b.EventID, &b.FileName, &b.FileSHA256, &b.Rows, &b.CreatedBy, &b.RecordedAt); err != nil {
			return nil, fmt.Errorf("delete expired import batches: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("delete expired import batches: %w", err)
	}
	for i := 1; i < len(out); i++ { // oldest first, by insertion (a handful of rows)
		for j := i; j > 0 && (out[j].RecordedAt.Before(out[j-1].RecordedAt) ||
			out[j].RecordedAt.Equal(out[j-1].RecordedAt) && out[j].ID < out[j-1].ID); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}
