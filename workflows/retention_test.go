package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"drives/activities"
	"drives/store"
	"drives/workflows"
)

// The retention workflow takes its cut-off from workflow time, expires each campaign that has
// old staged batches with that cut-off, and sums what was deleted.
func TestImportRetentionWorkflowExpiresEachCampaignAtOneCutOff(t *testing.T) {
	env := newSuiteEnv(t)
	now := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	env.SetStartTime(now)
	want := now.Add(-48 * time.Hour)
	var a *activities.Activities
	env.OnActivity(a.CampaignsWithExpiredImports, mock.Anything, mock.Anything).Return(
		func(_ context.Context, before time.Time) ([]string, error) {
			if !before.Equal(want) {
				t.Errorf("listed before %v, want %v", before, want)
			}
			return []string{"a-2021", "b-2021"}, nil
		})
	var expired []string
	env.OnActivity(a.ExpireImports, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ExpireImportsInput) (activities.ExpireImportsResult, error) {
			if !in.Before.Equal(want) || in.Retention != 48*time.Hour {
				t.Errorf("expire %s before %v (retention %v), want %v (48h)", in.CampaignID, in.Before, in.Retention, want)
			}
			expired = append(expired, in.CampaignID)
			if in.CampaignID == "b-2021" { // emptied meanwhile
				return activities.ExpireImportsResult{CampaignID: in.CampaignID}, nil
			}
			return activities.ExpireImportsResult{CampaignID: in.CampaignID, Rows: 30,
				Batches: []store.ExpiredBatch{{ID: "x"}, {ID: "y"}}}, nil
		})
	env.ExecuteWorkflow(workflows.ImportRetentionWorkflowName, workflows.ImportRetentionInput{Retention: 48 * time.Hour})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res workflows.ImportRetentionResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(expired) != 2 || expired[0] != "a-2021" || expired[1] != "b-2021" {
		t.Errorf("expired %v, want a-2021 then b-2021", expired)
	}
	if !res.StagedBefore.Equal(want) || res.Batches != 2 || res.Rows != 30 || len(res.Campaigns) != 1 || res.Campaigns[0].CampaignID != "a-2021" {
		t.Errorf("result %+v, want cut-off %v, 2 batches, 30 rows, of a-2021 only", res, want)
	}
}

// Nothing to expire: no expiry activity runs; no retention given: the default applies.
func TestImportRetentionWorkflowWithNothingStaleDoesNothing(t *testing.T) {
	env := newSuiteEnv(t)
	now := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	env.SetStartTime(now)
	var a *activities.Activities
	env.OnActivity(a.CampaignsWithExpiredImports, mock.Anything, now.Add(-activities.DefaultImportRetention)).Return([]string(nil), nil)
	env.ExecuteWorkflow(workflows.ImportRetentionWorkflowName, workflows.ImportRetentionInput{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	env.AssertNotCalled(t, "ExpireImports", mock.Anything, mock.Anything)
}
