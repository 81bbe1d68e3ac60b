package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"drives/campaign"
	"drives/coordinator"
	"drives/history"
	"drives/imports"
	"drives/plan"
	"drives/report"
)

func pathEscape(s string) string { return url.PathEscape(s) }

// CampaignsView is the list of campaigns.
type CampaignsView struct {
	Campaigns []report.CampaignLine `json:"campaigns"`
}

func (s *Server) campaigns(r *http.Request) (any, error) {
	cs, err := report.Campaigns(r.Context(), s.cfg.DB)
	return &CampaignsView{Campaigns: cs}, err
}

// CampaignView is a campaign's page: the report (as `starter report` gives it), the
// workflow's progress while it runs, and enrolments by day for the chart.
type CampaignView struct {
	Campaign      *campaignHead      `json:"campaign"`
	Report        *report.Report     `json:"report"`
	Progress      *campaign.Progress `json:"progress,omitempty"`
	ProgressError string             `json:"progress_error,omitempty"`
	Days          []report.DayCount  `json:"days"`
	Districts     []report.UnitLine  `json:"-"`
	Chart         template.HTML      `json:"-"`
}

func (v *CampaignView) head() *campaignHead { return v.Campaign }

func (s *Server) campaign(r *http.Request) (any, error) {
	ctx := r.Context()
	h, err := s.loadHead(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	v := &CampaignView{Campaign: h}
	// The workflow's own view, through its progress Query, asked while the report is read; the
	// page does without it when the workflow cannot answer at once (or has closed).
	type answer struct {
		p   campaign.Progress
		err error
	}
	progress := make(chan answer, 1)
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	closed := h.Status == campaign.StatusClosed || h.Status == campaign.StatusCancelled
	if !closed {
		go func() {
			p, err := s.co.Progress(qctx, h.ID)
			progress <- answer{p, err}
		}()
	}
	if v.Report, err = report.Load(ctx, s.cfg.DB, h.ID); err != nil {
		return nil, err
	}
	if v.Days, err = report.Daily(ctx, s.cfg.DB, h.ID); err != nil {
		return nil, err
	}
	for _, u := range v.Report.Units {
		if u.Level == "district" {
			v.Districts = append(v.Districts, u)
		}
	}
	if !closed && !v.Report.Final {
		a := <-progress
		if p, err := a.p, a.err; err != nil {
			v.ProgressError = err.Error()
		} else {
			if p.Status == campaign.StatusRunning && p.Clock.Scale > 0 {
				if now := p.Clock.CampaignTime(time.Now()); now.Before(p.PeriodEnd) {
					p.CampaignTime = now
				} else {
					p.CampaignTime = p.PeriodEnd
				}
			}
			v.Progress = &p
		}
	}
	end := h.PeriodEnd.AddDate(0, 0, 1)
	v.Chart = enrolmentChart(langOf(r), v.Days, h.PeriodStart, end, v.Report.Target)
	return v, nil
}

// UnitView is a district's communes or a commune's villages (and its agents).
type UnitView struct {
	Campaign *campaignHead      `json:"campaign"`
	Unit     report.UnitLine    `json:"unit"`
	Parent   *report.UnitLine   `json:"parent,omitempty"`
	Children []report.UnitLine  `json:"children"`
	Agents   []report.AgentLine `json:"agents,omitempty"`
}

func (v *UnitView) head() *campaignHead { return v.Campaign }

func (s *Server) unit(r *http.Request) (any, error) {
	ctx := r.Context()
	h, err := s.loadHead(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	rep, err := report.Load(ctx, s.cfg.DB, h.ID)
	if err != nil {
		return nil, err
	}
	code := r.PathValue("code")
	v := &UnitView{Campaign: h, Children: []report.UnitLine{}}
	found := false
	for _, u := range rep.Units {
		if u.Code == code {
			v.Unit, found = u, true
		}
		if u.Parent == code {
			v.Children = append(v.Children, u)
		}
	}
	if !found {
		return nil, errNotFound{"campaign " + h.ID + " has no unit " + code}
	}
	for _, u := range rep.Units {
		if u.Code == v.Unit.Parent {
			p := u
			v.Parent = &p
		}
	}
	if v.Unit.Level == "commune" {
		for _, a := range rep.Agents {
			if a.Commune == code {
				v.Agents = append(v.Agents, a)
			}
		}
	}
	return v, nil
}

// AgentRow is an agent's line: the report's figures, overdue follow-ups and the last review
// decision.
type AgentRow struct {
	report.AgentLine
	Name          string `json:"name"`
	Overdue       int    `json:"follow_ups_overdue"`
	LastDecision  string `json:"last_decision,omitempty"`
	LastStatus    string `json:"last_decision_status,omitempty"`
	LastPeriod    string `json:"last_decision_period,omitempty"`
	LastRationale string `json:"last_decision_rationale,omitempty"`
}

// AgentsView is the agents' table, of one commune when asked.
type AgentsView struct {
	Campaign *campaignHead `json:"campaign"`
	Commune  string        `json:"commune,omitempty"`
	Agents   []AgentRow    `json:"agents"`
}

func (v *AgentsView) head() *campaignHead { return v.Campaign }

func (s *Server) agents(r *http.Request) (any, error) {
	ctx := r.Context()
	h, err := s.loadHead(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	rep, err := report.Load(ctx, s.cfg.DB, h.ID)
	if err != nil {
		return nil, err
	}
	overdue, err := report.OverdueByAgent(ctx, s.cfg.DB, h.ID)
	if err != nil {
		return nil, err
	}
	decisions, err := s.co.Decisions(ctx, h.ID, "")
	if err != nil {
		return nil, err
	}
	last := map[string]coordinator.Decision{} // decisions come in window order: the last wins
	for _, d := range decisions {
		last[d.Agent] = d
	}
	names, err := s.agentNames(ctx, h.ID)
	if err != nil {
		return nil, err
	}
	v := &AgentsView{Campaign: h, Commune: r.URL.Query().Get("commune"), Agents: []AgentRow{}}
	// A live report's agents are the current ones; a stored final report's status is as it closed.
	for _, a := range rep.Agents {
		if v.Commune != "" && a.Commune != v.Commune {
			continue
		}
		row := AgentRow{AgentLine: a, Name: names[a.Code], Overdue: overdue[a.Code]}
		if d, ok := last[a.Code]; ok {
			row.LastDecision, row.LastStatus, row.LastPeriod, row.LastRationale = d.Decision, d.Status, d.Period, d.Rationale
		}
		v.Agents = append(v.Agents, row)
	}
	return v, nil
}

// EventsView is the campaign's events and what an event may name.
type EventsView struct {
	Campaign  *campaignHead `json:"campaign"`
	Upcoming  []EventLine   `json:"upcoming"`
	Held      []EventLine   `json:"held"`
	Cancelled []EventLine   `json:"cancelled"`
	Kinds     []string      `json:"kinds"`
	Units     []Choice      `json:"units"`
	Groups    []Choice      `json:"groups"`
}

func (v *EventsView) head() *campaignHead { return v.Campaign }

func (s *Server) events(r *http.Request) (any, error) {
	ctx := r.Context()
	h, err := s.loadHead(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	all, err := s.loadEvents(ctx, h.ID)
	if err != nil {
		return nil, err
	}
	v := &EventsView{Campaign: h, Upcoming: []EventLine{}, Held: []EventLine{}, Cancelled: []EventLine{},
		Kinds: []string{plan.KindConference, plan.KindDialogue, plan.KindDoorToDoor, plan.KindPostOfficeRound}}
	for _, e := range all {
		switch e.Status {
		case "held":
			v.Held = append(v.Held, e)
		case "cancelled":
			v.Cancelled = append(v.Cancelled, e)
		default:
			v.Upcoming = append(v.Upcoming, e)
		}
	}
	slices.Reverse(v.Held) // latest first
	if v.Units, err = s.choices(ctx, `select code, name from units where campaign_id = $1 and level in ('district', 'commune')
		order by district_code, level desc, code`, h.ID); err != nil {
		return nil, err
	}
	if v.Groups, err = s.choices(ctx, `select code, name from target_groups where campaign_id = $1 order by likelihood desc, code`, h.ID); err != nil {
		return nil, err
	}
	return v, nil
}

// ReviewsView is the campaign's reviews: totals per period, what waits on a coordinator, and
// one period's decisions.
type ReviewsView struct {
	Campaign  *campaignHead             `json:"campaign"`
	Totals    []coordinator.ReviewTotal `json:"totals"`
	Pending   []coordinator.Decision    `json:"pending"`
	Escalated []coordinator.Decision    `json:"escalated"`
	Period    string                    `json:"period,omitempty"`
	Decisions []coordinator.Decision    `json:"decisions"`
}

func (v *ReviewsView) head() *campaignHead { return v.Campaign }

func (s *Server) reviews(r *http.Request) (any, error) {
	ctx := r.Context()
	h, err := s.loadHead(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	v := &ReviewsView{Campaign: h, Period: r.URL.Query().Get("period")}
	if v.Totals, err = s.co.ReviewTotals(ctx, h.ID); err != nil {
		return nil, err
	}
	if v.Pending, v.Escalated, err = s.co.Attention(ctx, h.ID); err != nil {
		return nil, err
	}
	if v.Period == "" && len(v.Totals) > 0 {
		v.Period = v.Totals[len(v.Totals)-1].Period
	}
	if v.Period != "" {
		if v.Decisions, err = s.co.Decisions(ctx, h.ID, v.Period); err != nil {
			return nil, err
		}
	}
	if v.Pending == nil {
		v.Pending = []coordinator.Decision{}
	}
	if v.Escalated == nil {
		v.Escalated = []coordinator.Decision{}
	}
	if v.Decisions == nil {
		v.Decisions = []coordinator.Decision{}
	}
	return v, nil
}

// ImportResult is what an upload did: lines new and duplicate, or every bad line.
type ImportResult struct {
	File     string                 `json:"file"`
	Result   *campaign.ImportResult `json:"result,omitempty"`
	Lines    *imports.Lines         `json:"lines,omitempty"`
	Rejected *imports.Rejected      `json:"rejected,omitempty"`
	Error    string                 `json:"error,omitempty"`
}

// ImportsView is the upload form, an upload's result, and earlier imports.
type ImportsView struct {
	Campaign *campaignHead `json:"campaign"`
	Header   string        `json:"header"`
	Upload   *ImportResult `json:"upload,omitempty"`
	Batches  []BatchLine   `json:"batches"`
}

func (v *ImportsView) head() *campaignHead { return v.Campaign }

func (s *Server) importsPage(r *http.Request) (any, error) {
	ctx := r.Context()
	h, err := s.loadHead(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	v := &ImportsView{Campaign: h, Header: strings.Join(imports.Headers[imports.Enrolments], ",")}
	if v.Batches, err = s.loadBatches(ctx, h.ID); err != nil {
		return nil, err
	}
	return v, nil
}

// TraceView is a unit's or an agent's figures traced to rows, audit rows and history events,
// as `starter audit trace` gives them.
type TraceView struct {
	Campaign *campaignHead    `json:"campaign"`
	Kind     string           `json:"kind"` // agent | unit
	Code     string           `json:"code"`
	Trace    *history.Trace   `json:"trace"`
	Links    map[int64]string `json:"workflow_links,omitempty"` // audit row → its run in the Web UI
}

func (v *TraceView) head() *campaignHead { return v.Campaign }

func (s *Server) traceAgent(r *http.Request) (any, error) { return s.trace(r, "agent") }
func (s *Server) traceUnit(r *http.Request) (any, error)  { return s.trace(r, "unit") }

func (s *Server) trace(r *http.Request, kind string) (any, error) {
	ctx := r.Context()
	h, err := s.loadHead(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	code, period := r.PathValue("code"), r.URL.Query().Get("period")
	t := &history.Tracer{DB: s.cfg.DB, Temporal: s.cfg.Temporal}
	var tr *history.Trace
	if kind == "agent" {
		tr, err = t.Agent(ctx, h.ID, code, period)
	} else {
		tr, err = t.Unit(ctx, h.ID, code, period)
	}
	if err != nil {
		if strings.HasPrefix(err.Error(), "--") { // no such unit, agent or period
			return nil, errNotFound{err.Error()}
		}
		return nil, err
	}
	v := &TraceView{Campaign: h, Kind: kind, Code: code, Trace: tr, Links: map[int64]string{}}
	for _, f := range tr.Figures {
		for _, w := range f.Writes {
			if u := s.workflowURL(w.WorkflowID, w.RunID); u != "" {
				v.Links[w.AuditID] = u
			}
		}
	}
	return v, nil
}
