package web

import (
	"context"
	"slices"

	"drives/store"
)

// The scope's checks of what a page or an action names: an event, the units an event may be
// held in, a unit or an agent. Out of scope is answered as not there (404).

// eventsInScope are a campaign's events held in the scope's units: a district officer's
// districts' (district-wide or in one of their communes), commune staff's communes', and an
// agent's commune's.
func (s *Server) eventsInScope(ctx context.Context, id string, sc store.Scope) ([]EventLine, error) {
	all, err := store.Events(ctx, s.cfg.DB, id)
	if err != nil || sc.Whole() {
		return all, err
	}
	communes := sc.Communes
	if sc.Agent != "" {
		lines, _, err := store.AgentsPage(ctx, s.cfg.DB, id, store.AgentQuery{Scope: sc, Limit: 1})
		if err != nil {
			return nil, err
		}
		communes = nil
		for _, a := range lines {
			communes = append(communes, a.Commune)
		}
	}
	out := []EventLine{}
	for _, e := range all {
		if slices.Contains(sc.Districts, e.District) || (e.Commune != "" && slices.Contains(communes, e.Commune)) {
			out = append(out, e)
		}
	}
	return out, nil
}

// eventUnits are the districts and communes of the scope an event may be held in.
func (s *Server) eventUnits(ctx context.Context, id string, sc store.Scope) ([]Choice, error) {
	all, err := store.EventUnits(ctx, s.cfg.DB, id)
	if err != nil || sc.Whole() {
		return all, err
	}
	rep, err := s.reports.Load(ctx, s.cfg.DB, id)
	if err != nil {
		return nil, err
	}
	out := []Choice{}
	for _, c := range all {
		if unitInScope(rep.Units, sc, c.Code) {
			out = append(out, c)
		}
	}
	return out, nil
}

// checkInScope answers 404 for a unit or an agent ("unit" | "agent") outside the viewer's scope.
func (s *Server) checkInScope(ctx context.Context, id, kind, code string) error {
	sc := viewerOf(ctx).Scope
	if sc.Whole() {
		return nil
	}
	ok := false
	if kind == "agent" {
		var err error
		if ok, err = store.AgentInScope(ctx, s.cfg.DB, id, code, sc); err != nil {
			return err
		}
	} else {
		rep, err := s.reports.Load(ctx, s.cfg.DB, id)
		if err != nil {
			return err
		}
		ok = unitInScope(rep.Units, sc, code)
	}
	if !ok {
		return errNotFound{"campaign " + id + " has no " + kind + " " + code}
	}
	return nil
}
