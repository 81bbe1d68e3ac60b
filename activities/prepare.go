package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/allocate"
	"drives/plan"
	"drives/units"
)

// loadPlan reads the plan the starter stored for a campaign and checks it is the one the
// workflow was started with.
func loadPlan(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, campaignID, planHash string) (*plan.Loaded, error) {
	var raw []byte
	var hash string
	err := q.QueryRow(ctx, `select plan, plan_hash from campaigns where id = $1`, campaignID).Scan(&raw, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, permanent(ErrNotFound, "campaign %s has no stored plan", campaignID)
	}
	if err != nil {
		return nil, fmt.Errorf("read plan of %s: %w", campaignID, err)
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
			alloc := allocate.Quotas(lp.Units, lp.Roster, lp.CityTarget())
			var u unitRows
			for _, d := range lp.Units.Districts {
				u.add(d.Code, "district", "", d.Code, d.Name, d.Kind, d.LabourForce(), true)
				for _, c := range d.Communes {
					u.add(c.Code, "commune", d.Code, d.Code, c.Name, c.Kind, c.LabourForce(), true)
					for _, v := range c.Villages {
						u.add(v.Code, "village", c.Code, d.Code, v.Name, "", v.LabourForce, v.Synthetic)
					}
				}
			}
			if _, err := tx.Exec(ctx, `
				insert into units (campaign_id, code, level, parent_code, district_code, name, kind, labour_force, synthetic)
				select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::bool[])
				on conflict do nothing`,
				in.CampaignID, u.code, u.level, u.parent, u.district, u.name, u.kind, u.labour, u.synthetic); err != nil {
				return AllocateResult{}, fmt.Errorf("insert units: %w", err)
			}
			var g struct {
				code, name []string
				like       []float64
			}
			for _, t := range lp.Plan.TargetGroups {
				g.code, g.name, g.like = append(g.code, t.Code), append(g.name, t.Name), append(g.like, t.Likelihood)
			}
			if _, err := tx.Exec(ctx, `
				insert into target_groups (campaign_id, code, name, likelihood)
				select $1, * from unnest($2::text[], $3::text[], $4::float8[]) on conflict do nothing`,
				in.CampaignID, g.code, g.name, g.like); err != nil {
				return AllocateResult{}, fmt.Errorf("insert target groups: %w", err)
			}
			q := quotaRows{}
			q.add("city", in.CampaignID, alloc.City)
			for _, d := range lp.Units.Districts {
				q.add("district", d.Code, alloc.Districts[d.Code])
				for _, c := range d.Communes {
					q.add("commune", c.Code, alloc.Communes[c.Code])
					for _, v := range c.Villages {
						q.add("village", v.Code, alloc.Villages[v.Code])
					}
				}
			}
			if err := q.insert(ctx, tx, in.CampaignID); err != nil {
				return AllocateResult{}, err
			}
			titles := map[string]plan.EventSpec{}
			for _, e := range lp.Plan.Events {
				titles[e.ID] = e
			}
			var ev eventRows
			for _, e := range spec.Events {
				src := titles[e.ID]
				if e.Parent != "" {
					src = titles[e.Parent]
				}
				ev.add(e, src.Title, src.ExpectedAttendance)
			}
			if err := ev.insert(ctx, tx, in.CampaignID, "plan"); err != nil {
				return AllocateResult{}, err
			}
			if _, err := tx.Exec(ctx, `
				update campaigns set target = $2, clock_epoch = $3, clock_start = $4, clock_scale = $5,
					status = 'running', launched_at = coalesce(launched_at, now())
				where id = $1`, in.CampaignID, alloc.City, in.Clock.Epoch, in.Clock.Start, in.Clock.Scale); err != nil {
				return AllocateResult{}, fmt.Errorf("start campaign clock: %w", err)
			}
			return AllocateResult{Units: len(u.code), Events: len(spec.Events), Target: alloc.City}, nil
		})
}

// AssignResult counts the agents and staff given quotas.
type AssignResult struct {
	Agents int `json:"agents"`
	Staff  int `json:"staff"`
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
			alloc := allocate.Quotas(lp.Units, lp.Roster, lp.CityTarget())
			districts := lp.Units.CommuneDistricts()
			var r struct {
				code, commune, district, kind, name, phone []string
				po                                         []bool
				weight                                     []float64
			}
			q := quotaRows{}
			var res AssignResult
			for _, ag := range lp.Roster {
				r.code = append(r.code, ag.Code)
				r.commune = append(r.commune, ag.Commune)
				r.district = append(r.district, districts[ag.Commune])
				r.kind = append(r.kind, ag.Kind)
				r.name = append(r.name, ag.Name)
				r.phone = append(r.phone, ag.Phone)
				r.po = append(r.po, ag.PostOffice)
				r.weight = append(r.weight, ag.Weight)
				q.add("agent", ag.Code, alloc.Agents[ag.Code])
				if ag.Kind == units.AgentKindStaff {
					res.Staff++
				} else {
					res.Agents++
				}
			}
			if _, err := tx.Exec(ctx, `
				insert into agents (campaign_id, code, commune_code, district_code, kind, full_name, phone, post_office, weight)
				select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bool[], $9::float8[])
				on conflict do nothing`,
				in.CampaignID, r.code, r.commune, r.district, r.kind, r.name, r.phone, r.po, r.weight); err != nil {
				return AssignResult{}, fmt.Errorf("insert agents: %w", err)
			}
			return res, q.insert(ctx, tx, in.CampaignID)
		})
}

type unitRows struct {
	code, level, parent, district, name, kind []string
	labour                                    []int32
	synthetic                                 []bool
}

func (u *unitRows) add(code, level, parent, district, name, kind string, labour int, synthetic bool) {
	u.code, u.level, u.parent, u.district = append(u.code, code), append(u.level, level), append(u.parent, parent), append(u.district, district)
	u.name, u.kind, u.labour, u.synthetic = append(u.name, name), append(u.kind, kind), append(u.labour, int32(labour)), append(u.synthetic, synthetic)
}

type quotaRows struct {
	level, code []string
	target      []int32
}

func (q *quotaRows) add(level, code string, target int) {
	q.level, q.code, q.target = append(q.level, level), append(q.code, code), append(q.target, int32(target))
}

func (q *quotaRows) insert(ctx context.Context, tx pgx.Tx, campaignID string) error {
	if _, err := tx.Exec(ctx, `
		insert into quotas (campaign_id, level, code, target)
		select $1, * from unnest($2::text[], $3::text[], $4::int[]) on conflict do nothing`,
		campaignID, q.level, q.code, q.target); err != nil {
		return fmt.Errorf("insert quotas: %w", err)
	}
	return nil
}

type eventRows struct {
	id, parent, kind, title, district, commune []*string
	at                                         []time.Time
	groups                                     []string // JSON arrays, one per event
	expected                                   []int32
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (r *eventRows) add(e plan.Event, title string, expected int) {
	g, _ := json.Marshal(e.Groups)
	r.id, r.parent, r.kind = append(r.id, ptr(e.ID)), append(r.parent, ptr(e.Parent)), append(r.kind, ptr(e.Kind))
	t := title
	r.title, r.district, r.commune = append(r.title, &t), append(r.district, ptr(e.District)), append(r.commune, ptr(e.Commune))
	r.at, r.groups, r.expected = append(r.at, e.At), append(r.groups, string(g)), append(r.expected, int32(expected))
}

// insert writes events; an event already there is left as it is.
func (r *eventRows) insert(ctx context.Context, tx pgx.Tx, campaignID, source string) error {
	_, err := tx.Exec(ctx, `
		insert into events (campaign_id, id, parent_id, kind, title, district_code, commune_code, scheduled_at, groups, expected_attendance, source)
		select $1, e.id, e.parent, e.kind, e.title, e.district, e.commune, e.at,
			array(select jsonb_array_elements_text(e.groups::jsonb)), e.expected, $11
		from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::text[], $10::int[])
			as e(id, parent, kind, title, district, commune, at, groups, expected)
		on conflict do nothing`,
		campaignID, r.id, r.parent, r.kind, r.title, r.district, r.commune, r.at, r.groups, r.expected, source)
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	return nil
}
