package workflows_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"drives/activities"
	"drives/campaign"
)

// An agents-join Update naming a staged batch runs AgentsJoin once, as of the campaign's time,
// and answers its counts. Without a batch ID, without a name, or with a batch applied already
// it is refused by the validator and runs nothing; a batch whose activity failed is not
// claimed, so it may be sent again.
func TestUpdateAgentsJoin(t *testing.T) {
	const batchJ, batchK = "5d1c9a2e-7b3f-4e8a-9c6d-0a1b2c3d4e5f", "6e2dab3f-8c4a-4f9b-8d7e-1b2c3d4e5f60"
	env, _ := newCampaignEnv(t, yearSpec(1), launchBefore)
	var mu sync.Mutex
	var ran []activities.JoinInput
	failedOnce := false
	env.OnActivity(acts.AgentsJoin, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.JoinInput) (campaign.JoinResult, error) {
			mu.Lock()
			defer mu.Unlock()
			ran = append(ran, in)
			if in.BatchID == batchK && !failedOnce {
				failedOnce = true
				return campaign.JoinResult{}, temporal.NewNonRetryableApplicationError(
					`joining batch refused, nothing written: line 3: code: "DL-00001-1" is already an agent or staff member of the campaign`, activities.ErrInvalidImport, nil)
			}
			return campaign.JoinResult{BatchID: in.BatchID, JoinedOn: local(2021, 4, 16, 0, 0), Agents: 2, Staff: 1, Communes: 2, QuotaTaken: 7, QuotasChanged: 5}, nil
		})
	join := func(batch, by string) campaign.JoinRequest { return campaign.JoinRequest{BatchID: batch, By: by} }
	var badID, noBy, ok, failed, again, retried *outcome
	at(t, env, launchBefore, local(2021, 4, 16, 9, 0), func() {
		badID = update(env, campaign.UpdateAgentsJoin, join("join.csv", "coordinator"))
		noBy = update(env, campaign.UpdateAgentsJoin, join(batchJ, " "))
		ok = update(env, campaign.UpdateAgentsJoin, join(batchJ, "coordinator"))
		failed = update(env, campaign.UpdateAgentsJoin, join(batchK, "coordinator"))
	})
	at(t, env, launchBefore, local(2021, 4, 17, 9, 0), func() {
		again = update(env, campaign.UpdateAgentsJoin, join(batchJ, "coordinator"))
		retried = update(env, campaign.UpdateAgentsJoin, join(batchK, "coordinator")) // fixed and staged again
	})
	runYear(t, env, campaign.StatusClosed)

	requireRejected(t, badID, `batch_id: "join.csv" is not a batch ID`)
	requireRejected(t, noBy, "by: say who records the joining")
	requireRejected(t, again, "batch_id: batch "+batchJ+" was recorded already")
	var res campaign.JoinResult
	requireDone(t, ok, &res)
	if res.BatchID != batchJ || res.Agents != 2 || res.Staff != 1 || res.QuotaTaken != 7 {
		t.Errorf("agents-join answered %+v", res)
	}
	if failed == nil || !failed.accepted || failed.err == nil || !containsFold(failed.err.Error(), "is already an agent or staff member") {
		t.Errorf("a refused batch: want accepted and failed with the activity's error, got %s", failed)
	}
	requireDone(t, retried, nil)

	var batches []string
	for _, in := range ran {
		batches = append(batches, in.BatchID)
		if in.CampaignID != testCampaignID || in.By != "coordinator" {
			t.Errorf("AgentsJoin input %+v", in)
		}
		if in.BatchID == batchJ && !in.At.Equal(local(2021, 4, 16, 9, 0)) {
			t.Errorf("AgentsJoin ran as of %s, want the campaign's time 2021-04-16 09:00", in.At)
		}
	}
	slices.Sort(batches)
	if want := []string{batchJ, batchK, batchK}; !slices.Equal(batches, want) {
		t.Errorf("AgentsJoin ran for %v, want %v (rejected Updates run nothing)", batches, want)
	}
}
