package field

import (
	"context"
	"errors"
	"fmt"
	"time"

	"drives/contribution"
	"drives/store"
)

// Today is an agent's list of the day, and what the page records entries with.
type Today struct {
	Campaign  TodayCampaign         `json:"campaign"`
	Agent     TodayAgent            `json:"agent"`
	CSRF      string                `json:"csrf,omitempty"` // the session's, for the page's sends
	FollowUps []store.FieldFollowUp `json:"follow_ups"`
	Choices   Choices               `json:"choices"`
}

// TodayCampaign is the campaign and its day.
type TodayCampaign struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Status      string    `json:"status"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Today       string    `json:"today"`    // YYYY-MM-DD, campaign time
	Timezone    string    `json:"timezone"` // the campaign's days are this zone's
}

// TodayAgent is the agent's quota, results and the review's last word on them.
type TodayAgent struct {
	Code               string `json:"code"`
	Commune            string `json:"commune"`
	CommuneName        string `json:"commune_name"`
	Quota              int    `json:"quota"`
	Enrolled           int    `json:"enrolled"`
	LastDecision       string `json:"last_decision,omitempty"`
	LastDecisionStatus string `json:"last_decision_status,omitempty"`
	LastDecisionPeriod string `json:"last_decision_period,omitempty"`
}

// Choices are what an entry's fields may be.
type Choices struct {
	Groups         []store.Choice `json:"groups"`
	Villages       []store.Choice `json:"villages"`
	SubsidyClasses []string       `json:"subsidy_classes"`
	PaymentModes   []string       `json:"payment_modes"`
	IncomeMin      int64          `json:"income_min"`
	IncomeMax      int64          `json:"income_max"`
}

// TodayOf reads an agent's list of the day; ErrNoAgent when the campaign's roster does not
// have them.
func TodayOf(ctx context.Context, db store.DB, campaignID, agent string) (*Today, error) {
	h, err := store.CampaignHeaderOf(ctx, db, campaignID)
	if err != nil {
		return nil, err
	}
	c, err := store.FieldCampaignOf(ctx, db, campaignID)
	if err != nil {
		return nil, err
	}
	place, err := store.AgentPlaceOf(ctx, db, campaignID, agent)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrNoAgent, agent)
	}
	if err != nil {
		return nil, err
	}
	day := today(c)
	t := &Today{Campaign: TodayCampaign{ID: campaignID, Name: h.Name, Status: c.Status, PeriodStart: c.PeriodStart,
		PeriodEnd: c.PeriodEnd, Today: day.Format("2006-01-02"), Timezone: c.Timezone},
		Agent: TodayAgent{Code: agent, Commune: place.Commune},
		Choices: Choices{SubsidyClasses: []string{"poor", "near_poor", "other"},
			PaymentModes: []string{"monthly", "3m", "6m", "12m", "2y", "3y", "4y", "5y"},
			IncomeMin:    contribution.MinMonthlyIncome, IncomeMax: contribution.MaxMonthlyIncome}}
	if t.Agent.CommuneName, err = store.UnitName(ctx, db, campaignID, place.Commune); err != nil {
		return nil, err
	}
	lines, _, err := store.AgentsPage(ctx, db, campaignID, store.AgentQuery{Scope: store.Scope{Agent: agent}, Limit: 1})
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		t.Agent.Quota, t.Agent.Enrolled = l.Quota, l.Enrolled
		t.Agent.LastDecision, t.Agent.LastDecisionStatus, t.Agent.LastDecisionPeriod = l.LastDecision, l.LastStatus, l.LastPeriod
	}
	// Due by the end of the campaign's day (its local midnight).
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		loc = time.UTC
	}
	dueBy := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
	if t.FollowUps, err = store.FieldFollowUps(ctx, db, campaignID, agent, dueBy); err != nil {
		return nil, err
	}
	if t.FollowUps == nil {
		t.FollowUps = []store.FieldFollowUp{}
	}
	if t.Choices.Groups, err = store.TargetGroupChoices(ctx, db, campaignID); err != nil {
		return nil, err
	}
	if t.Choices.Villages, err = store.UnitChoices(ctx, db, campaignID, place.Commune); err != nil {
		return nil, err
	}
	return t, nil
}
