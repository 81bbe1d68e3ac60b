package activities_test

import (
	"context"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"drives/activities"
	"drives/imports"
	"drives/internal/testenv"
	"drives/workflows"
)

// A batch staged longer ago than the retention and never merged is deleted with its lines and
// an audit row; a recent batch and an old merged one stay; a second run changes nothing.
func TestExpireImportsDeletesOldUnmergedBatchesOnly(t *testing.T) {
	d := newDrive(t)
	file := func(n int) []byte {
		return enrolmentsCSV(enrolment{lead(n, "00010", "00010-01", "student"), "DL-00010-2", 700_000, "poor", "6m", "2021-03-11"})
	}
	old := d.stage(imports.Enrolments, "", "old.csv", file(901))
	recent := d.stage(imports.Enrolments, "", "recent.csv", file(902))
	merged := d.stage(imports.Enrolments, "", "merged.csv", file(903))
	d.merge(merged)
	d.exec(`update import_batches set recorded_at = now() - interval '8 days' where id = any($1::uuid[])`, []string{old, merged})

	before := time.Now().Add(-activities.DefaultImportRetention)
	ids := mustCall[[]string](d, d.acts.CampaignsWithExpiredImports, before)
	if len(ids) != 1 || ids[0] != campaignID {
		t.Fatalf("campaigns with expired imports: %v, want [%s]", ids, campaignID)
	}
	in := activities.ExpireImportsInput{CampaignID: campaignID, Before: before, Retention: activities.DefaultImportRetention}
	d.pin.set("import-retention", "run-1", "expire-1", 1)
	res := mustCall[activities.ExpireImportsResult](d, d.acts.ExpireImports, in)
	if len(res.Batches) != 1 || res.Batches[0].ID != old || res.Batches[0].FileName != "old.csv" || res.Rows != 1 {
		t.Fatalf("expired %+v, want the batch %s (old.csv, 1 line)", res, old)
	}
	if n := d.count(`select count(*) from import_batches where id = $1`, old); n != 0 {
		t.Errorf("the old unmerged batch is still there")
	}
	if n := d.count(`select count(*) from import_rows where batch_id = $1`, old); n != 0 {
		t.Errorf("%d staged lines of the old batch are still there", n)
	}
	if n := d.count(`select count(*) from import_rows where batch_id = $1`, recent); n != 1 {
		t.Errorf("%d staged lines of the recent batch, want 1", n)
	}
	if n := d.count(`select count(*) from import_batches where id = any($1::uuid[])`, []string{recent, merged}); n != 2 {
		t.Errorf("%d of the recent and merged batches remain, want 2", n)
	}
	if n := d.count(`select count(*) from audit_log where campaign_id = $1 and action = 'import.expire'
		and actor = 'retention' and workflow_id = 'import-retention' and result->'batches'->0->>'id' = $2`, campaignID, old); n != 1 {
		t.Errorf("%d audit rows of the expiry, want 1", n)
	}
	if n := d.count(`select count(*) from audit_log where result::text like '%' || $1 || '%'`, "Người Thử"); n != 0 {
		t.Errorf("the audit log holds a name")
	}

	// A second run: nothing to expire, nothing written.
	if ids := mustCall[[]string](d, d.acts.CampaignsWithExpiredImports, before); len(ids) != 0 {
		t.Errorf("campaigns with expired imports after the run: %v, want none", ids)
	}
	d.pin.set("import-retention", "run-2", "expire-1", 1)
	if res := mustCall[activities.ExpireImportsResult](d, d.acts.ExpireImports, in); len(res.Batches) != 0 {
		t.Errorf("second run expired %+v, want nothing", res)
	}
	if n := d.count(`select count(*) from audit_log where action = 'import.expire'`); n != 1 {
		t.Errorf("%d expiry audit rows after the second run, want 1", n)
	}
	if n := d.count(`select count(*) from import_batches where campaign_id = $1`, campaignID); n != 2 {
		t.Errorf("%d batches after the second run, want 2", n)
	}
}

// The worker creates the retention schedule at every start: the first creates it, a later one
// with another retention updates it, and neither fails.
func TestImportRetentionScheduleIsCreatedOnceAndUpdated(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := testenv.SharedDevServer(t).Client()
	t.Cleanup(func() {
		_ = c.ScheduleClient().GetHandle(context.Background(), workflows.ImportRetentionScheduleID).Delete(context.Background())
	})
	for _, retention := range []time.Duration{activities.DefaultImportRetention, activities.DefaultImportRetention, 72 * time.Hour} {
		if err := workflows.EnsureImportRetentionSchedule(ctx, c, retention); err != nil {
			t.Fatalf("ensure with %v: %v", retention, err)
		}
		d, err := c.ScheduleClient().GetHandle(ctx, workflows.ImportRetentionScheduleID).Describe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if iv := d.Schedule.Spec.Intervals; len(iv) != 1 || iv[0].Every != workflows.ImportRetentionEvery {
			t.Errorf("intervals %+v, want every %v", iv, workflows.ImportRetentionEvery)
		}
		act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
		if !ok || len(act.Args) != 1 {
			t.Fatalf("action %#v, want the retention workflow with one argument", d.Schedule.Action)
		}
		var in workflows.ImportRetentionInput
		if err := converter.GetDefaultDataConverter().FromPayload(act.Args[0].(*commonpb.Payload), &in); err != nil {
			t.Fatal(err)
		}
		if in.Retention != retention {
			t.Errorf("schedule's retention %v, want %v", in.Retention, retention)
		}
	}
}
