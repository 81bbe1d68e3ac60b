package web

import (
	"context"
	"slices"

	"drives/report"
	"drives/store"
)

// The scope's checks of what a page or an action names: an event, the units an event may be
// held in, a unit or an agent. Out of scope is answered as not there (404).

// scopeReport is the report of a scope's part of a campaign (report.Within): its units'
// totals and lines, or an agent's own quota and enrolments. A campaign that has none of the
// scope's units, or not its agent, is not found.
func (s *Server) scopeReport(ctx context.Context, id string, sc store.Scope) (*report.Report, error) {
	rep, err := s.reports.Load(ctx, s.cfg.DB, id)
	if err != nil || sc.Whole() {
		return rep, err
	}
	if sc.Agent == "" {
		codes := scopeUnits(rep, sc)
		if len(codes) == 0 {
			return nil, errNotFound{"no campaign " + id}
		}
		return report.Within(rep, codes)
	}
	part := &report.Report{CampaignID: rep.CampaignID, Name: rep.Name, Status: rep.Status, Final: rep.Final,
		GeneratedAt: rep.GeneratedAt, Scope: []string{sc.Agent}, Units: []report.UnitLine{}}
	lines, _, err := store.AgentsPage(ctx, s.cfg.DB, id, store.AgentQuery{Scope: sc, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 {
		return nil, errNotFound{"no campaign " + id}
	}
	for _, a := range lines {
		l := report.AgentLineOf(a.AgentFigures)
		part.Agents = []report.AgentLine{l}
		part.Target, part.Enrolled, part.AttainmentPct = l.Quota, l.Enrolled, l.Pct
	}
	return part, nil
}

// unitInScope says whether a unit of the report lies in a scope: is one of its districts or
// communes, or below one.
func unitInScope(units []report.UnitLine, sc store.Scope, code string) bool {
	if sc.Whole() {
		return true
	}
	for code != "" && sc.Agent == "" {
		if slices.Contains(sc.Districts, code) || slices.Contains(sc.Communes, code) {
			return true
		}
		i := slices.IndexFunc(units, func(u report.UnitLine) bool { return u.Code == code })
		if i < 0 {
			return false
		}
		code = units[i].Parent
	}
	return false
}

// scopeUnits are the scope's districts and communes that the campaign has (an account of
// every campaign may name units some campaigns do not have).
func scopeUnits(rep *report.Report, sc store.Scope) []string {
	var out []string
	for _, c := range append(slices.Clone(sc.Districts), sc.Communes...) {
		if slices.ContainsFunc(rep.Units, func(u report.UnitLine) bool { return u.Code == c }) {
			out = append(out, c)
		}
	}
	return out
}

// checkCampaignScope answers 404 for a campaign that has nothing of a part's scope: none of
// its units, or not its agent.
func (s *Server) checkCampaignScope(ctx context.Context, id string, sc store.Scope) error {
	if sc.Whole() {
		return nil
	}
	if sc.Agent != "" {
		ok, err := store.AgentInScope(ctx, s.cfg.DB, id, sc.Agent, sc)
		if err == nil && !ok {
			err = errNotFound{"no campaign " + id}
		}
		return err
	}
	rep, err := s.reports.Load(ctx, s.cfg.DB, id)
	if err == nil && len(scopeUnits(rep, sc)) == 0 {
		err = errNotFound{"no campaign " + id}
	}
	return err
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
