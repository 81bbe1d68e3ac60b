package workflows

import (
	"encoding/json"
	"time"

	"drives/campaign"
	"drives/plan"
)

// What a workflow run hands the next one when it continues as new. It travels in its input's
// State field (campaign.CampaignInput, DistrictInput, ReviewInput) as JSON only this package
// reads: the workflows' private carry-over, not part of their client contract.

// campaignState is what a campaign run hands to the next one.
type campaignState struct {
	Spec            plan.Spec              `json:"spec"`
	Clock           plan.Clock             `json:"clock"`
	Status          string                 `json:"status"`
	Enrolled        map[string]int         `json:"enrolled"` // by district
	DistrictsClosed map[string]bool        `json:"districts_closed"`
	Imports         int                    `json:"imports"`
	EventsAdded     int                    `json:"events_added"`
	EventsCancelled int                    `json:"events_cancelled"`
	Revisions       int                    `json:"revisions,omitempty"` // plan revisions applied
	Cancelled       *campaign.SteerRequest `json:"cancelled,omitempty"`
	CancelledAt     time.Time              `json:"cancelled_at,omitempty"` // campaign time
	Batches         map[string]bool        `json:"batches"`
	CancelledEvents map[string]bool        `json:"cancelled_events"`
	ChildrenStarted bool                   `json:"children_started"`
	// NextSweep is the next campaign-wide sweep of open follow-ups, in campaign time, on the
	// sweep grid; zero when nothing open falls due before the period ends.
	NextSweep time.Time `json:"next_sweep,omitempty"`
	Runs      int       `json:"runs"`
}

// districtState is what a district run hands to the next one.
type districtState struct {
	Pending   []plan.Event `json:"pending"` // planned, not yet held, in time order
	Held      int          `json:"held"`
	Cancelled int          `json:"cancelled"`
	Paused    bool         `json:"paused"`
	NextSweep time.Time    `json:"next_sweep"` // no longer used: the campaign sweeps follow-ups
	Runs      int          `json:"runs"`
}

// reviewState is a review waiting for decisions, carried into a new run when coordinators'
// decisions have grown its history: the evaluation is not run again.
type reviewState struct {
	Summary   campaign.ReviewSummary `json:"summary"`
	Decided   map[string]string      `json:"decided"`
	Escalated int                    `json:"escalated"`
	Overruled int                    `json:"overruled"`
	Deadline  time.Time              `json:"deadline"` // campaign time
	Runs      int                    `json:"runs"`
}

// loadState reads a run's carry-over; false when there is none (the first run). encoding/json
// is deterministic for these plain structs (workflowcheck cannot tell).
//
//workflowcheck:ignore
func loadState(raw json.RawMessage, st any) (bool, error) {
	if len(raw) == 0 {
		return false, nil
	}
	return true, json.Unmarshal(raw, st)
}

// saveState writes the carry-over for the next run.
//
//workflowcheck:ignore
func saveState(st any) (json.RawMessage, error) { return json.Marshal(st) }
