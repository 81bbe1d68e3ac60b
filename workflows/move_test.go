package workflows_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/mock"

	"drives/activities"
	"drives/campaign"
)

// An agent-moves Update runs AgentMoves once, as of the campaign's time, and answers what it
// did. A request with a code that is not one, a commune that is not one, the agent's own code as
// the new one, no reason or nobody recording it is refused by the validator and runs nothing.
func TestUpdateAgentMoves(t *testing.T) {
	env, _ := newCampaignEnv(t, yearSpec(1), launchBefore)
	var mu sync.Mutex
	var ran []activities.MoveInput
	env.OnActivity(acts.AgentMoves, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.MoveInput) (campaign.MoveResult, error) {
			mu.Lock()
			defer mu.Unlock()
			ran = append(ran, in)
			r := in.Request
			return campaign.MoveResult{Agent: r.Agent, From: "00001", To: r.To, As: r.As, MovedOn: local(2021, 6, 1, 0, 0),
				Handover: campaign.Handover{FollowUpsMoved: 3, QuotaMoved: 9}, QuotaTaken: 4, QuotasChanged: 1}, nil
		})
	move := func(agent, to, as, reason, by string) campaign.MoveRequest {
		return campaign.MoveRequest{Agent: agent, To: to, As: as, Reason: reason, By: by}
	}
	var badAgent, badTo, sameCode, noReason, noBy, ok *outcome
	at(t, env, launchBefore, local(2021, 6, 1, 9, 0), func() {
		badAgent = update(env, campaign.UpdateAgentMoves, move("DL 1", "00002", "DL-00002-9", "x", "coordinator"))
		badTo = update(env, campaign.UpdateAgentMoves, move("DL-00001-2", "Phúc Xá", "DL-00002-9", "x", "coordinator"))
		sameCode = update(env, campaign.UpdateAgentMoves, move("DL-00001-2", "00002", "DL-00001-2", "x", "coordinator"))
		noReason = update(env, campaign.UpdateAgentMoves, move("DL-00001-2", "00002", "DL-00002-9", " ", "coordinator"))
		noBy = update(env, campaign.UpdateAgentMoves, move("DL-00001-2", "00002", "DL-00002-9", "x", ""))
		ok = update(env, campaign.UpdateAgentMoves, move("DL-00001-2", "00002", "DL-00002-9", "commune 00002 has no agent", "coordinator"))
	})
	runYear(t, env, campaign.StatusClosed)

	requireRejected(t, badAgent, `agent: "DL 1" is not an agent's code`)
	requireRejected(t, badTo, `to: "Phúc Xá" is not a commune's code`)
	requireRejected(t, sameCode, "as: a move takes a new code (the old one stays with the contract that ends)")
	requireRejected(t, noReason, "reason: say why the agent moves")
	requireRejected(t, noBy, "by: say who records it")
	var res campaign.MoveResult
	requireDone(t, ok, &res)
	if res.Agent != "DL-00001-2" || res.From != "00001" || res.To != "00002" || res.As != "DL-00002-9" || res.FollowUpsMoved != 3 || res.QuotaTaken != 4 {
		t.Errorf("agent-moves answered %+v", res)
	}
	if len(ran) != 1 {
		t.Fatalf("AgentMoves ran %d times, want once (rejected Updates run nothing)", len(ran))
	}
	if in := ran[0]; in.CampaignID != testCampaignID || in.Request.By != "coordinator" || !in.At.Equal(local(2021, 6, 1, 9, 0)) {
		t.Errorf("AgentMoves input %+v, want the request as of the campaign's time 2021-06-01 09:00", in)
	}
}
