package workflows

import "encoding/json"

// The workflows' carry-over, for the tests of continue-as-new.
type (
	CampaignState = campaignState
	DistrictState = districtState
	ReviewState   = reviewState
)

// Carried decodes the state a run handed the next one; nil when it handed none.
func Carried[T any](raw json.RawMessage) *T {
	if len(raw) == 0 {
		return nil
	}
	st := new(T)
	if err := json.Unmarshal(raw, st); err != nil {
		panic(err)
	}
	return st
}
