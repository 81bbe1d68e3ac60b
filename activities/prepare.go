package activities

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/plan"
	"drives/store"
	"drives/units"
)

// loadPlan reads the plan the starter stored for a campaign and checks it is the one the
// workflow was started with.
func loadPlan(ctx context.Context, db store.DB, campaignID, planHash string) (*plan.Loaded, error) {
	raw, hash, err := store.CampaignPlan(ctx, db, campaignID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, permanent(ErrNotFound, "campaign %s has no stored plan", campaignID)
	}
	if err != nil {
		return nil, err
	}
	if hash != planHash {
		return nil, permanent(ErrPlanChanged, "campaign %s: stored plan %.12s is not the launched plan %.12s", campaignID, hash, planHash)
	}
	var lp plan.Loaded
	if err := json.Unmarshal(raw, &lp); err != nil {
		return nil, permanent(ErrPlanChanged, "campaign %s: stored plan does not decode: %v", campaignID, err)
	}
	return &lp, nil
}

// PlanInput names a campaign's stored plan.
type PlanInput struct {
	CampaignID string `json:"campaign_id"`
	PlanHash   string `json:"plan_hash"`
}

// LoadPlan reads and checks the stored plan and returns the spec the workflows run on.
func (a *Activities) LoadPlan(ctx context.Context, in PlanInput) (plan.Spec, error) {
	defer keepAlive(ctx)()
	lp, err := loadPlan(ctx, a.Pool, in.CampaignID, in.PlanHash)
	if err != nil {
		return plan.Spec{}, err
	}
	spec, err := lp.Spec()
	if err != nil {
		return plan.Spec{}, permanent(ErrPlanChanged, "campaign %s: %v", in.CampaignID, err)
	}
	return spec, nil
}

// AllocateInput starts a campaign's clock and allocates its quotas.
type AllocateInput struct {
	PlanInput
	Clock plan.Clock `json:"clock"`
}

// AllocateResult counts what allocation wrote.
type AllocateResult struct {
	Units  int `json:"units"`
	Events int `json:"events"`
	Target int `json:"target"`
}

// AllocateQuotas writes the unit hierarchy, target groups, events and every unit's quota
// (largest remainder, exact at every level), and starts the campaign's clock.
func (a *Activities) AllocateQuotas(ctx context.Context, in AllocateInput) (AllocateResult, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "quotas.allocate", entity: "campaign", entityKey: in.CampaignID},
		func(tx pgx.Tx) (AllocateResult, error) {
			lp, err := loadPlan(ctx, tx, in.CampaignID, in.PlanHash)
			if err != nil {
				return AllocateResult{}, err
			}
			spec, err := lp.Spec()
			if err != nil {
				return AllocateResult{}, err
			}
			alloc := lp.Allocation()
			var units []store.Unit
			for _, d := range lp.Units.Districts {
				units = append(units, store.Unit{Code: d.Code, Level: "district", District: d.Code, Name: d.Name, Kind: d.Kind,
					LabourForce: d.LabourForce(), Synthetic: true})
				for _, c := range d.Communes {
					units = append(units, store.Unit{Code: c.Code, Level: "commune", Parent: d.Code, District: d.Code, Name: c.Name, Kind: c.Kind,
						LabourForce: c.LabourForce(), Synthetic: true})
					for _, v := range c.Villages {
						units = append(units, store.Unit{Code: v.Code, Level: "village", Parent: c.Code, District: d.Code, Name: v.Name,
							LabourForce: v.LabourForce, Synthetic: v.Synthetic})
					}
				}
			}
			if err := store.InsertUnits(ctx, tx, in.CampaignID, units); err != nil {
				return AllocateResult{}, err
			}
			groups := make([]store.TargetGroup, len(lp.Plan.TargetGroups))
			for i, t := range lp.Plan.TargetGroups {
				groups[i] = store.TargetGroup{Code: t.Code, Name: t.Name, Likelihood: t.Likelihood}
			}
			if err := store.InsertTargetGroups(ctx, tx, in.CampaignID, groups); err != nil {
				return AllocateResult{}, err
			}
			quotas := []store.Quota{{Level: "city", Code: in.CampaignID, Target: alloc.City}}
			for _, d := range lp.Units.Districts {
				quotas = append(quotas, store.Quota{Level: "district", Code: d.Code, Target: alloc.Districts[d.Code]})
				for _, c := range d.Communes {
					quotas = append(quotas, store.Quota{Level: "commune", Code: c.Code, Target: alloc.Communes[c.Code]})
					for _, v := range c.Villages {
						quotas = append(quotas, store.Quota{Level: "village", Code: v.Code, Target: alloc.Villages[v.Code]})
					}
				}
			}
			if err := store.InsertQuotas(ctx, tx, in.CampaignID, quotas); err != nil {
				return AllocateResult{}, err
			}
			titles := map[string]plan.EventSpec{}
			for _, e := range lp.Plan.Events {
				titles[e.ID] = e
			}
			events := make([]store.Event, len(spec.Events))
			for i, e := range spec.Events {
				src := titles[e.ID]
				if e.Parent != "" {
					src = titles[e.Parent]
				}
				events[i] = eventRow(e, src.Title, src.ExpectedAttendance)
			}
			if err := store.InsertEvents(ctx, tx, in.CampaignID, "plan", events); err != nil {
				return AllocateResult{}, err
			}
			if err := store.StartCampaign(ctx, tx, in.CampaignID, alloc.City, in.Clock.Epoch, in.Clock.Start, in.Clock.Scale); err != nil {
				return AllocateResult{}, err
			}
			return AllocateResult{Units: len(units), Events: len(spec.Events), Target: alloc.City}, nil
		})
}

// AssignResult counts the agents and staff given quotas.
type AssignResult struct {
	Agents int `json:"agents"`
	Staff  int `json:"staff"`
	// RenewalsDue is when the register the campaign took over from its previous campaign
	// first needs a sweep (zero: nobody in it, or no register kept).
	RenewalsDue time.Time `json:"renewals_due,omitzero"`
}

// AssignAgents writes the roster and each agent's and staff member's share of their
// commune's quota.
func (a *Activities) AssignAgents(ctx context.Context, in PlanInput) (AssignResult, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "agents.assign", entity: "campaign", entityKey: in.CampaignID},
		func(tx pgx.Tx) (AssignResult, error) {
			lp, err := loadPlan(ctx, tx, in.CampaignID, in.PlanHash)
			if err != nil {
				return AssignResult{}, err
			}
			alloc := lp.Allocation()
			districts := lp.Units.CommuneDistricts()
			agents := make([]store.Agent, len(lp.Roster))
			quotas := make([]store.Quota, len(lp.Roster))
			var res AssignResult
			for i, ag := range lp.Roster {
				agents[i] = store.Agent{Code: ag.Code, Commune: ag.Commune, District: districts[ag.Commune], Kind: ag.Kind,
					FullName: ag.Name, Phone: ag.Phone, PostOffice: ag.PostOffice, Weight: ag.Weight}
				quotas[i] = store.Quota{Level: "agent", Code: ag.Code, Target: alloc.Agents[ag.Code]}
				if ag.Kind == units.AgentKindStaff {
					res.Staff++
				} else {
					res.Agents++
				}
			}
			// The quotas first: each agent's row is written with its quota (InsertAgents).
			if err := store.InsertQuotas(ctx, tx, in.CampaignID, quotas); err != nil {
				return AssignResult{}, err
			}
			if err := store.InsertAgents(ctx, tx, in.CampaignID, agents); err != nil {
				return AssignResult{}, err
			}
			res.RenewalsDue, err = registerDue(ctx, tx, in.CampaignID,
				plan.FollowUpTimes{RenewalLead: lp.Plan.Renewals.LeadTime.Std(), Grace: lp.Plan.Renewals.Grace.Std()})
			if err != nil {
				return res, err
			}
			// The plan's rows are written (units, quotas and events by AllocateQuotas, the
			// roster here): the campaign's first statements, a review among them, are planned
			// knowing them, not on statistics from before the launch.
			refreshStatistics(ctx, tx, "the plan", store.AnalyzePlan)
			return res, nil
		})
}

// eventRow is the row of an event, with its title and expected attendance.
func eventRow(e plan.Event, title string, expected int) store.Event {
	return store.Event{ID: e.ID, Parent: e.Parent, Kind: e.Kind, Title: title, District: e.District, Commune: e.Commune,
		At: e.At, Groups: e.Groups, Expected: expected}
}
