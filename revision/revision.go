// Package revision checks a revised plan against its running campaign as it stands and works
// out what applying it writes: the targets at every level (agents' as the roster in force
// shares them), the events added and removed. The same preparation serves `starter plan
// revise` before it stages anything and the workflow's activity that applies it, so what the
// coordinator is shown is what is applied.
package revision

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"drives/allocate"
	"drives/plan"
	"drives/store"
	"drives/units"
)

// Prepared is a revision checked against its campaign, and what applying it writes.
type Prepared struct {
	CampaignID  string
	Old         *plan.Loaded // the plan in force
	OldRevision int          // its number (0: the launched plan)
	Revised     *plan.Loaded
	Alloc       allocate.Allocation // the revised plan's
	Diff        plan.Diff
	From        time.Time // the day it applies from (campaign time, midnight)
	// Quotas are the targets it changes at every level: the city, districts, communes and
	// villages as the revised plan allocates them; in a commune whose target changes, its
	// active agents and staff share the commune's target, less what those who left keep, by
	// weight.
	Quotas []store.QuotaChange
	// Roster is the number of changes the campaign's roster had had when its agents' targets
	// were shared (store.RosterChanges).
	Roster  int64
	Added   []plan.EventSpec
	Removed []string
	// staged: prepared from what was prepared when it was staged (PrepareStaged), its diff
	// without the agents' targets and its allocation with the changed units' only.
	staged bool
}

// Prepare checks revised against the campaign's plan in force and its state (what it has
// enrolled, the events held), as of the campaign's day today, to apply from the day from. A
// revision that breaks a rule is refused whole with every problem (plan.Errors).
func Prepare(ctx context.Context, db store.DB, file, campaignID string, revised *plan.Loaded, today, from time.Time) (*Prepared, error) {
	// The revised plan is allocated, and its roster digested, while the plan in force is read.
	allocated := make(chan allocate.Allocation, 1)
	go func() { allocated <- revised.Allocation() }()
	digested := make(chan string, 1)
	go func() { digested <- RosterMD5(revised.Roster) }()
	raw, rosterSum, hash, number, err := store.PlanInForceWithoutRoster(ctx, db, campaignID)
	if err != nil {
		return nil, err
	}
	var old plan.Loaded
	if err := json.Unmarshal(raw, &old); err != nil {
		return nil, fmt.Errorf("campaign %s: its plan in force does not read: %w", campaignID, err)
	}
	if rosterSum == <-digested {
		// The same roster, as stored: the revised plan's is the plan in force's.
		old.Roster = revised.Roster
	} else {
		// Another roster (or one written otherwise): the plan in force, whole.
		if raw, hash, number, err = store.PlanInForce(ctx, db, campaignID); err != nil {
			return nil, err
		}
		old = plan.Loaded{}
		if err := json.Unmarshal(raw, &old); err != nil {
			return nil, fmt.Errorf("campaign %s: its plan in force does not read: %w", campaignID, err)
		}
	}
	raw = nil
	old.Hash = hash
	a := old.Allocation()
	return prepare(ctx, db, file, campaignID, &old, number, revised, a, <-allocated, today, from)
}

// Stage stages the prepared revision for its campaign workflow to apply, numbered after the
// plan in force it was checked against (store.StageRevision), with what was prepared (the
// targets it changes at every level, the city's always, and its diff: migration 031; the
// agents' with the roster they were shared among: migration 033), and returns its number.
func (p *Prepared) Stage(ctx context.Context, db store.DB, reason, by string) (int, error) {
	if p.staged {
		return 0, fmt.Errorf("stage revision of %s: prepared from a staged revision", p.CampaignID)
	}
	body, err := json.Marshal(p.Revised)
	if err != nil {
		return 0, fmt.Errorf("encode plan: %w", err)
	}
	summary, err := json.Marshal(p.Diff)
	if err != nil {
		return 0, fmt.Errorf("encode diff: %w", err)
	}
	targets := p.Quotas
	if p.Diff.City.Old == p.Diff.City.New {
		targets = append([]store.QuotaChange{{Level: "city", Code: p.CampaignID, Old: p.Diff.City.Old, New: p.Diff.City.New}}, targets...)
	}
	return store.StageRevision(ctx, db, store.NewRevision{CampaignID: p.CampaignID, Base: p.OldRevision, Hash: p.Revised.Hash,
		Plan: body, Prepared: targets, PreparedRoster: p.Roster, Summary: summary, From: p.From, Reason: reason, By: by})
}

// UnreadableError is a staged revision whose plan does not decode.
type UnreadableError struct{ Err error }

func (e *UnreadableError) Error() string { return e.Err.Error() }
func (e *UnreadableError) Unwrap() error { return e.Err }

// PrepareStaged is Prepare for the revision staged as number, read beside the plan in force
// (store.StagedBeside): a staged plan that does not decode is an *UnreadableError. A revision
// staged prepared (Prepared.Stage) on the plan still in force is not prepared again: both plans
// are read without their units and roster, and the targets it changes above the agents' are
// those prepared then, which follow from the two plans alone; the agents' are those prepared
// then while the roster has not changed since (store.RosterChanges), and otherwise each
// changed commune's target is shared among its agents as they are now. What else may have
// moved since is checked again (the campaign's day, its events held, what it has enrolled). A
// revision staged otherwise is prepared whole, both plans read whole.
func PrepareStaged(ctx context.Context, db store.DB, file, campaignID string, number int, today, from time.Time) (*Prepared, error) {
	st, err := store.StagedBeside(ctx, db, campaignID, number)
	if err != nil {
		return nil, err
	}
	var revised plan.Loaded
	decoded := make(chan error, 1)
	allocated := make(chan allocate.Allocation, 1)
	go func() {
		err := json.Unmarshal(st.Plan, &revised)
		decoded <- err
		if err == nil && st.Prepared == nil {
			allocated <- revised.Allocation()
		}
	}()
	var old plan.Loaded
	oldErr := json.Unmarshal(st.InForce, &old)
	st.InForce = nil
	// A staged plan that does not read is refused before anything else.
	if err := <-decoded; err != nil {
		return nil, &UnreadableError{err}
	}
	st.Plan = nil
	if oldErr != nil {
		return nil, fmt.Errorf("campaign %s: its plan in force does not read: %w", campaignID, oldErr)
	}
	revised.Hash, old.Hash = st.Hash, st.InForceHash
	if st.Prepared != nil {
		return preparedStaged(ctx, db, file, campaignID, number, &old, st, &revised, today, from)
	}
	a := old.Allocation()
	return prepare(ctx, db, file, campaignID, &old, st.InForceNumber, &revised, a, <-allocated, today, from)
}

// preparedStaged is PrepareStaged for a revision staged prepared on the plan in force, old and
// revised read without their units and roster.
func preparedStaged(ctx context.Context, db store.DB, file, campaignID string, number int, old *plan.Loaded, st store.Staged,
	revised *plan.Loaded, today, from time.Time) (*Prepared, error) {
	// The events and settings the revision changes, from the plans alone; the targets, as
	// prepared.
	d := plan.DiffAllocated(old, revised, allocate.Allocation{}, allocate.Allocation{})
	d.Levels = nil
	b := allocate.Allocation{Districts: map[string]int{}, Communes: map[string]int{}}
	var units, agents []store.QuotaChange
	for _, c := range st.Prepared {
		if c.Level == "agent" {
			agents = append(agents, c)
			continue
		}
		switch c.Level {
		case "city":
			d.City, b.City = plan.Change{Old: c.Old, New: c.New}, c.New
		case "district":
			b.Districts[c.Code] = c.New
		case "commune":
			b.Communes[c.Code] = c.New
		}
		if c.Old == c.New {
			continue // the city's, unchanged
		}
		units = append(units, c)
		if n := len(d.Levels); n == 0 || d.Levels[n-1].Level != c.Level {
			d.Levels = append(d.Levels, plan.LevelDiff{Level: c.Level})
		}
		l := &d.Levels[len(d.Levels)-1]
		l.Changed = append(l.Changed, plan.TargetChange{Code: c.Code, Change: plan.Change{Old: c.Old, New: c.New}})
	}
	// The agents' targets as prepared, while the roster they were shared among is as it was.
	roster, err := store.RosterChanges(ctx, db, campaignID)
	if err != nil {
		return nil, err
	}
	agentsStaged := st.PreparedRoster != nil && *st.PreparedRoster == roster
	p, err := check(ctx, db, file, &Prepared{CampaignID: campaignID, Old: old, OldRevision: st.InForceNumber, Revised: revised,
		Alloc: b, Diff: d, Roster: roster, staged: true}, units, agents, agentsStaged, today, from)
	if err != nil || len(p.Added) == 0 {
		return p, err
	}
	// Events it adds are placed in the revised plan's districts and communes.
	raw, err := store.StagedUnits(ctx, db, campaignID, number)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &revised.Units); err != nil {
		return nil, &UnreadableError{err}
	}
	return p, nil
}

// prepare checks revised against old, the plan in force (revision number), given both plans'
// allocations (a is old's, b revised's).
func prepare(ctx context.Context, db store.DB, file, campaignID string, old *plan.Loaded, number int, revised *plan.Loaded,
	a, b allocate.Allocation, today, from time.Time) (*Prepared, error) {
	p := &Prepared{CampaignID: campaignID, Old: old, OldRevision: number, Revised: revised, Alloc: b}
	p.Diff = plan.DiffAllocated(old, revised, a, b)
	return check(ctx, db, file, p, unitChanges(campaignID, p.Diff), nil, false, today, from)
}

// unitChanges are the targets a diff changes at every level but the agents'.
func unitChanges(campaignID string, d plan.Diff) []store.QuotaChange {
	var out []store.QuotaChange
	if d.City.Old != d.City.New {
		out = append(out, store.QuotaChange{Level: "city", Code: campaignID, Old: d.City.Old, New: d.City.New})
	}
	for _, l := range d.Levels {
		if l.Level == "agent" {
			continue
		}
		for _, c := range l.Changed {
			out = append(out, store.QuotaChange{Level: l.Level, Code: c.Code, Old: c.Old, New: c.New})
		}
	}
	return out
}

// check completes p, whose plans, allocation (Alloc: the revised plan's; Communes has at least
// the communes whose target changes) and diff are set, with units, the targets it changes at
// every level but the agents', and the agents' (agents, when agentsStaged; otherwise each
// changed commune's target is shared among its agents now, and p.Roster set to the roster's
// changes then): it checks the revision against the campaign as it stands, as of its day
// today, to apply from the day from.
func check(ctx context.Context, db store.DB, file string, p *Prepared, units, agents []store.QuotaChange, agentsStaged bool,
	today, from time.Time) (*Prepared, error) {
	loc, err := time.LoadLocation(p.Old.Plan.Timezone)
	if err != nil {
		return nil, fmt.Errorf("campaign %s: time zone: %w", p.CampaignID, err)
	}
	from = from.In(loc)
	p.From = time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, loc)
	notPlanned, err := store.HeldEvents(ctx, db, p.CampaignID)
	if err != nil {
		return nil, err
	}
	errs := plan.CheckRevision(file, p.Old, p.Revised, p.Diff, plan.RevisionTimes{Today: today, From: p.From}, notPlanned)
	if len(errs) > 0 {
		return nil, errs
	}
	if !agentsStaged {
		var communes []string
		for _, c := range units {
			if c.Level == "commune" {
				communes = append(communes, c.Code)
			}
		}
		// The roster's changes are read before the roster: one that commits in between makes
		// the count differ when the revision is applied, which then shares the targets again.
		if p.Roster, err = store.RosterChanges(ctx, db, p.CampaignID); err != nil {
			return nil, err
		}
		if agents, err = agentQuotas(ctx, db, p.CampaignID, communes, p.Alloc.Communes); err != nil {
			return nil, err
		}
	}
	p.Quotas = slices.Concat(units, agents)
	changes := make([]plan.TargetChangeAt, len(p.Quotas))
	for i, c := range p.Quotas {
		changes[i] = plan.TargetChangeAt{Level: c.Level, Code: c.Code, Change: plan.Change{Old: c.Old, New: c.New}}
	}
	enrolled, err := store.UnitsEnrolled(ctx, db, p.CampaignID)
	if err != nil {
		return nil, err
	}
	if errs := plan.CheckQuotasKept(file, p.Revised, changes, enrolled); len(errs) > 0 {
		return nil, errs
	}
	specs := map[string]plan.EventSpec{}
	for _, e := range p.Revised.Plan.Events {
		specs[e.ID] = e
	}
	for _, e := range p.Diff.Events {
		switch e.What {
		case "added":
			p.Added = append(p.Added, specs[e.ID])
		case "removed":
			if notPlanned[e.ID] != "cancelled" {
				p.Removed = append(p.Removed, e.ID)
			}
		}
	}
	return p, nil
}

// agentQuotas shares each changed commune's new target among its active agents and staff by
// weight, after what those no longer active keep (their quota stays as it is), and returns
// the agents whose quota changes.
func agentQuotas(ctx context.Context, db store.DB, campaignID string, communes []string, targets map[string]int) ([]store.QuotaChange, error) {
	if len(communes) == 0 {
		return nil, nil
	}
	agents, err := store.AgentsOfCommunes(ctx, db, campaignID, communes)
	if err != nil {
		return nil, err
	}
	var out []store.QuotaChange
	for i := 0; i < len(agents); {
		j := i
		for j < len(agents) && agents[j].Commune == agents[i].Commune {
			j++
		}
		group := agents[i:j]
		target := targets[group[0].Commune]
		var active []allocate.Share
		var at []int
		for k, a := range group {
			if !a.Active {
				target -= a.Quota
				continue
			}
			active = append(active, allocate.AgentShare(units.Agent{Code: a.Code, Weight: a.Weight}))
			at = append(at, k)
		}
		for k, q := range allocate.LargestRemainder(max(target, 0), active) {
			a := group[at[k]]
			if q != a.Quota {
				out = append(out, store.QuotaChange{Level: "agent", Code: a.Code, Old: a.Quota, New: q})
			}
		}
		i = j
	}
	return out, nil
}

// Apply writes a prepared revision, numbered number: the targets from its first day on (with
// the targets they replace kept by day, written on a connection of open's beside: see
// store.ReviseQuotas), the events added (for the workflow to hand to their districts) and
// those removed, cancelled. The caller holds the transaction and its audit row.
func Apply(ctx context.Context, db store.DB, open store.Opener, p *Prepared, number int, periodStart time.Time) ([]plan.Event, error) {
	if len(p.Quotas) > 0 {
		if err := store.ReviseQuotas(ctx, db, open, p.CampaignID, store.QuotaSource{Revision: number}, periodStart, p.From, p.Quotas); err != nil {
			return nil, err
		}
	}
	added, err := p.addedEvents()
	if err != nil {
		return nil, err
	}
	if len(added) > 0 {
		rows := make([]store.Event, len(added))
		for i, e := range added {
			s := p.eventSpec(e)
			rows[i] = store.Event{ID: e.ID, Parent: e.Parent, Kind: e.Kind, Title: s.Title, District: e.District, Commune: e.Commune,
				At: e.At, Groups: e.Groups, Expected: s.ExpectedAttendance}
		}
		if err := store.InsertEvents(ctx, db, p.CampaignID, "plan", rows); err != nil {
			return nil, err
		}
	}
	for _, id := range p.Removed {
		if _, err := store.CancelEvents(ctx, db, p.CampaignID, id, fmt.Sprintf("removed by revision %d of the plan", number)); err != nil {
			return nil, err
		}
	}
	// A revision staged prepared has its diff already.
	var summary []byte
	if !p.staged {
		if summary, err = json.Marshal(p.Diff); err != nil {
			return nil, err
		}
	}
	return added, store.FinishRevision(ctx, db, p.CampaignID, number, p.From, summary)
}

func (p *Prepared) eventSpec(e plan.Event) plan.EventSpec {
	id := e.ID
	if e.Parent != "" {
		id = e.Parent
	}
	for _, s := range p.Added {
		if s.ID == id {
			return s
		}
	}
	return plan.EventSpec{}
}

// addedEvents are the events the revision adds as the revised plan's Spec places them (a
// city-wide one once per district), in its order, without the rest of the Spec (which
// allocates the plan again).
func (p *Prepared) addedEvents() ([]plan.Event, error) {
	if len(p.Added) == 0 {
		return nil, nil
	}
	lp := p.Revised
	loc, err := time.LoadLocation(lp.Plan.Timezone)
	if err != nil {
		return nil, fmt.Errorf("plan time zone: %w", err)
	}
	districts := make([]plan.DistrictSpec, 0, len(lp.Units.Districts))
	for _, d := range lp.Units.Districts {
		districts = append(districts, plan.DistrictSpec{Code: d.Code, Name: d.Name})
	}
	var specs []plan.EventSpec
	for _, e := range lp.Plan.Events {
		if slices.ContainsFunc(p.Added, func(s plan.EventSpec) bool { return s.ID == e.ID }) {
			specs = append(specs, e)
		}
	}
	return plan.PlaceEvents(specs, loc, districts, lp.Units.CommuneDistricts()), nil
}
