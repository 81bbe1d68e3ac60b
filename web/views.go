package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"drives/campaign"
	"drives/coordinator"
	"drives/history"
	"drives/imports"
	"drives/plan"
	"drives/report"
	"drives/store"
)

func pathEscape(s string) string { return url.PathEscape(s) }

// CampaignsView is the list of campaigns.
type CampaignsView struct {
	Campaigns []report.CampaignLine `json:"campaigns"`
}

// campaigns lists the campaigns in the viewer's scope, each with the scope's totals.
func (s *Server) campaigns(r *http.Request) (any, error) {
	v := viewerOf(r.Context())
	all, err := s.reports.Campaigns(r.Context(), s.cfg.DB)
	if err != nil {
		return nil, err
	}
	out := &CampaignsView{Campaigns: []report.CampaignLine{}}
	for _, c := range all {
		if !v.seesCampaign(c.ID) {
			continue
		}
		if !v.Scope.Whole() {
			part, err := s.scopeReport(r.Context(), c.ID, v.Scope)
			var nf errNotFound
			if errors.As(err, &nf) {
				continue // none of the scope's units or agent is in this campaign
			}
			if err != nil {
				return nil, err
			}
			c.Target, c.Enrolled, c.AttainmentPct = part.Target, part.Enrolled, part.AttainmentPct
		}
		out.Campaigns = append(out.Campaigns, c)
	}
	return out, nil
}

// CampaignView is a campaign's page: the report (as `starter report` gives it, down to its
// districts), the workflow's progress while it runs, and enrolments by day for the chart.
type CampaignView struct {
	Campaign      *campaignHead      `json:"campaign"`
	Report        *CampaignReport    `json:"report"`
	Progress      *campaign.Progress `json:"progress,omitempty"`
	ProgressError string             `json:"progress_error,omitempty"`
	Days          []report.DayCount  `json:"days"`
	Chart         template.HTML      `json:"-"`
	// Revisions are the plan's revisions applied, oldest first, with what each changed (for
	// an account of the whole campaign: coordinators and auditors).
	Revisions []RevisionLine `json:"revisions"`
}

// RevisionLine is a revision of the campaign's plan as its page shows it: when it applies
// from, who made it and why, and what it changed (the city target, the districts' targets,
// each level's count of changed lines and its sums, the events added and removed).
type RevisionLine struct {
	Number        int                 `json:"number"`
	From          time.Time           `json:"effective_from"`
	By            string              `json:"revised_by"`
	Reason        string              `json:"reason"`
	AppliedAt     *time.Time          `json:"applied_at"`
	City          plan.Change         `json:"city"`
	Districts     []plan.TargetChange `json:"districts"`
	Levels        []RevisionLevel     `json:"levels"`
	EventsAdded   []string            `json:"events_added"`
	EventsRemoved []string            `json:"events_removed"`
}

// RevisionLevel is one level of a revision: how many of its lines changed, and its sums.
type RevisionLevel struct {
	Level   string      `json:"level"`
	Changed int         `json:"changed"`
	Sum     plan.Change `json:"sum"`
}

// revisionLines reads a campaign's applied revisions and what each changed.
func revisionLines(ctx context.Context, db store.DB, campaignID string) ([]RevisionLine, error) {
	revs, err := store.Revisions(ctx, db, campaignID)
	if err != nil {
		return nil, err
	}
	out := make([]RevisionLine, 0, len(revs))
	for _, r := range revs {
		var d plan.Diff
		if err := json.Unmarshal(r.Summary, &d); err != nil {
			return nil, fmt.Errorf("revision %d of %s: its summary does not read: %w", r.Number, campaignID, err)
		}
		l := RevisionLine{Number: r.Number, From: r.From, By: r.By, Reason: r.Reason, AppliedAt: r.AppliedAt, City: d.City,
			Districts: []plan.TargetChange{}, EventsAdded: []string{}, EventsRemoved: []string{}}
		for _, lv := range d.Levels {
			l.Levels = append(l.Levels, RevisionLevel{Level: lv.Level, Changed: len(lv.Changed), Sum: lv.Sum})
			if lv.Level == "district" {
				l.Districts = append(l.Districts, lv.Changed...)
			}
		}
		for _, e := range d.Events {
			switch e.What {
			case "added":
				l.EventsAdded = append(l.EventsAdded, e.ID)
			case "removed":
				l.EventsRemoved = append(l.EventsRemoved, e.ID)
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// CampaignReport is the report as the campaign's page shows it: the campaign's figures, its
// target groups, follow-ups, events and districts. A district's communes and a commune's
// villages and agents are on their unit's page; all agents a page at a time on the agents'
// page. At national scale the whole report (70,000 units, 200,000 agents) would be tens of
// megabytes for every load of the page.
type CampaignReport struct {
	*report.Report
	// Units are the districts.
	Units []report.UnitLine `json:"units"`
	// Agents hides the report's agents' lines: never set, and so left out.
	Agents []report.AgentLine `json:"agents,omitempty"`
}

func (v *CampaignView) head() *campaignHead { return v.Campaign }

func (s *Server) campaign(r *http.Request) (any, error) {
	ctx := r.Context()
	h, err := s.loadHead(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	v := &CampaignView{Campaign: h, Revisions: []RevisionLine{}}
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
	if !closed && viewerOf(ctx).Scope.Whole() { // the workflow's figures are the whole campaign's
		go func() {
			p, err := s.co.Progress(qctx, h.ID)
			progress <- answer{p, err}
		}()
	}
	sc := viewerOf(ctx).Scope
	rep, err := s.scopeReport(ctx, h.ID, sc)
	if err != nil {
		return nil, err
	}
	v.Report = &CampaignReport{Report: rep, Units: []report.UnitLine{}}
	for _, u := range rep.Units {
		// The districts, or a part's own units (a commune staff's communes).
		if (sc.Whole() && u.Level == "district") || slices.Contains(rep.Scope, u.Code) {
			v.Report.Units = append(v.Report.Units, u)
		}
	}
	if sc.Whole() {
		v.Days, err = s.reports.Daily(ctx, s.cfg.DB, h.ID)
	} else {
		v.Days, err = report.Kept(ctx, &s.reports, s.cfg.DB, h.ID, "days\x00"+sc.Key(),
			func() ([]report.DayCount, error) { return report.DailyIn(ctx, s.cfg.DB, h.ID, sc) })
	}
	if err != nil {
		return nil, err
	}
	if v.Days == nil {
		v.Days = []report.DayCount{} // "days": [] (an array, as docs/API.md says), not null, before any enrolment
	}
	if sc.Whole() && !closed && !v.Report.Final {
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
	if sc.Whole() {
		if v.Revisions, err = revisionLines(ctx, s.cfg.DB, h.ID); err != nil {
			return nil, err
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
	rep, err := s.reports.Load(ctx, s.cfg.DB, h.ID)
	if err != nil {
		return nil, err
	}
	code := r.PathValue("code")
	sc := viewerOf(ctx).Scope
	if !unitInScope(rep.Units, sc, code) {
		return nil, errNotFound{"campaign " + h.ID + " has no unit " + code}
	}
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
		if u.Code == v.Unit.Parent && unitInScope(rep.Units, sc, u.Code) {
			p := u
			v.Parent = &p
		}
	}
	if v.Unit.Level == "commune" {
		// The commune's agents, through the agents' commune index (the cached report has no
		// agents' lines).
		lines, _, err := store.AgentsPage(ctx, s.cfg.DB, h.ID, store.AgentQuery{Commune: code, Limit: maxPageSize})
		if err != nil {
			return nil, err
		}
		for _, a := range lines {
			v.Agents = append(v.Agents, report.AgentLineOf(a.AgentFigures))
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

// Page is where a paged list is: its first line (from 0), how many lines a page holds, and
// how many lines the filters select in all (exact).
type Page struct {
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
	Total  int `json:"total"`
	// For the page's links.
	From, To   int    `json:"-"`
	Prev, Next string `json:"-"`
	Query      string `json:"-"` // the filters and order, without offset
}

const (
	pageSize    = 50
	maxPageSize = 500
)

// pageOf reads offset and limit from the query (limit 1..500, default 50).
func pageOf(q url.Values) (offset, limit int, err error) {
	limit = pageSize
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxPageSize {
			return 0, 0, errBadRequest{fmt.Sprintf("limit %q: a number from 1 to %d", v, maxPageSize)}
		}
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, errBadRequest{fmt.Sprintf("offset %q: a number from 0", v)}
		}
	}
	return offset, limit, nil
}

// paged fills a page's links: keep keys are the query's filters and order.
func paged(q url.Values, keep []string, offset, limit, total, shown int) Page {
	p := Page{Offset: offset, Limit: limit, Total: total}
	if shown > 0 {
		p.From, p.To = offset+1, offset+shown
	}
	f := url.Values{}
	for _, k := range keep {
		if v := q.Get(k); v != "" {
			f.Set(k, v)
		}
	}
	if limit != pageSize {
		f.Set("limit", strconv.Itoa(limit))
	}
	p.Query = f.Encode()
	link := func(off int) string {
		g := url.Values{}
		for k, v := range f {
			g[k] = v
		}
		if off > 0 {
			g.Set("offset", strconv.Itoa(off))
		}
		return "?" + g.Encode()
	}
	if offset > 0 {
		p.Prev = link(max(0, offset-limit))
	}
	if offset+limit < total {
		p.Next = link(offset + limit)
	}
	return p
}

// AgentsView is a page of the agents' table, filtered and ordered as asked.
type AgentsView struct {
	Campaign *campaignHead `json:"campaign"`
	District string        `json:"district,omitempty"`
	Commune  string        `json:"commune,omitempty"`
	Status   string        `json:"status,omitempty"`
	Kind     string        `json:"kind,omitempty"`
	Sort     string        `json:"sort"`
	Order    string        `json:"order"`
	Page     Page          `json:"page"`
	Agents   []AgentRow    `json:"agents"`
}

func (v *AgentsView) head() *campaignHead { return v.Campaign }

var agentFilters = []string{"district", "commune", "status", "kind", "sort", "order"}

// agentQueryOf reads the agents' list's filters and order from a request, as the page and its
// downloads take them (the page's window aside), for the viewer's scope.
func agentQueryOf(r *http.Request) (store.AgentQuery, error) {
	q := r.URL.Query()
	aq := store.AgentQuery{District: q.Get("district"), Commune: q.Get("commune"), Status: q.Get("status"), Kind: q.Get("kind"),
		Sort: q.Get("sort"), Scope: viewerOf(r.Context()).Scope, Lang: langOf(r)}
	if aq.Sort == "" {
		aq.Sort = "code"
	}
	if _, ok := store.AgentSorts[aq.Sort]; !ok {
		return aq, errBadRequest{fmt.Sprintf("sort %q: one of code, name, commune, quota, status", aq.Sort)}
	}
	switch order := q.Get("order"); order {
	case "", "asc":
	case "desc":
		aq.Desc = true
	default:
		return aq, errBadRequest{fmt.Sprintf("order %q: asc or desc", order)}
	}
	return aq, nil
}

func (s *Server) agents(r *http.Request) (any, error) {
	ctx := r.Context()
	h, err := s.loadHead(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	aq, err := agentQueryOf(r)
	if err != nil {
		return nil, err
	}
	v := &AgentsView{Campaign: h, District: aq.District, Commune: aq.Commune, Status: aq.Status, Kind: aq.Kind, Sort: aq.Sort,
		Order: "asc", Agents: []AgentRow{}}
	if aq.Desc {
		v.Order = "desc"
	}
	offset, limit, err := pageOf(q)
	if err != nil {
		return nil, err
	}
	aq.Offset, aq.Limit = offset, limit
	// The exact total, counted once per change of the campaign for these filters and scope.
	total, err := report.Kept(ctx, &s.reports, s.cfg.DB, h.ID, "agents\x00"+strings.Join([]string{aq.District, aq.Commune, aq.Status, aq.Kind, aq.Scope.Key()}, "\x00"),
		func() (int, error) { return store.CountAgents(ctx, s.cfg.DB, h.ID, aq) })
	if err != nil {
		return nil, err
	}
	lines, err := store.AgentLines(ctx, s.cfg.DB, h.ID, aq)
	if err != nil {
		return nil, err
	}
	for _, a := range lines {
		v.Agents = append(v.Agents, AgentRow{AgentLine: report.AgentLineOf(a.AgentFigures), Name: a.Name, Overdue: a.Overdue,
			LastDecision: a.LastDecision, LastStatus: a.LastStatus, LastPeriod: a.LastPeriod, LastRationale: a.LastRationale})
	}
	v.Page = paged(q, agentFilters, offset, limit, total, len(lines))
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
	all, err := store.EventsIn(ctx, s.cfg.DB, h.ID, viewerOf(ctx).Scope)
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
	if v.Units, err = store.EventUnitsIn(ctx, s.cfg.DB, h.ID, viewerOf(ctx).Scope); err != nil {
		return nil, err
	}
	if v.Groups, err = store.TargetGroupChoices(ctx, s.cfg.DB, h.ID); err != nil {
		return nil, err
	}
	return v, nil
}

// ReviewsView is the campaign's reviews: totals per period, what waits on a coordinator, and
// a page of one period's decisions, filtered as asked. Pending and escalated terminations are
// listed a page at a time too, with their exact totals.
type ReviewsView struct {
	Campaign       *campaignHead             `json:"campaign"`
	Totals         []coordinator.ReviewTotal `json:"totals"`
	Pending        []store.DecisionLine      `json:"pending"`
	PendingTotal   int                       `json:"pending_total"`
	Escalated      []store.DecisionLine      `json:"escalated"`
	EscalatedTotal int                       `json:"escalated_total"`
	Period         string                    `json:"period,omitempty"`
	District       string                    `json:"district,omitempty"`
	Commune        string                    `json:"commune,omitempty"`
	Status         string                    `json:"status,omitempty"`
	Decision       string                    `json:"decision,omitempty"`
	Page           Page                      `json:"page"`
	Decisions      []store.DecisionLine      `json:"decisions"`
}

func (v *ReviewsView) head() *campaignHead { return v.Campaign }

var decisionFilters = []string{"period", "district", "commune", "status", "decision"}

func (s *Server) reviews(r *http.Request) (any, error) {
	ctx := r.Context()
	h, err := s.loadHead(ctx, r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	v := &ReviewsView{Campaign: h, Period: q.Get("period"), District: q.Get("district"), Commune: q.Get("commune"),
		Status: q.Get("status"), Decision: q.Get("decision")}
	offset, limit, err := pageOf(q)
	if err != nil {
		return nil, err
	}
	// Totals and the lists' exact totals are counted once per change of the campaign; the
	// lists' lines are read for each page.
	sc := viewerOf(ctx).Scope
	if v.Totals, err = report.Kept(ctx, &s.reports, s.cfg.DB, h.ID, "review-totals\x00"+sc.Key(),
		func() ([]coordinator.ReviewTotal, error) { return store.ReviewTotalsIn(ctx, s.cfg.DB, h.ID, sc) }); err != nil {
		return nil, err
	}
	count := func(dq store.DecisionQuery) (int, error) {
		dq.Scope = sc
		key := "decisions\x00" + strings.Join([]string{dq.Period, dq.District, dq.Commune, dq.Status, dq.Decision, dq.Agent, sc.Key()}, "\x00")
		return report.Kept(ctx, &s.reports, s.cfg.DB, h.ID, key, func() (int, error) { return store.CountDecisions(ctx, s.cfg.DB, h.ID, dq) })
	}
	pending := store.DecisionQuery{Status: "pending", Limit: maxPageSize, Scope: sc, Lang: langOf(r)}
	if v.PendingTotal, err = count(pending); err != nil {
		return nil, err
	}
	if v.Pending, err = store.DecisionLines(ctx, s.cfg.DB, h.ID, pending); err != nil {
		return nil, err
	}
	escalated := store.DecisionQuery{Status: "escalated", Limit: maxPageSize, Scope: sc, Lang: langOf(r)}
	if v.EscalatedTotal, err = count(escalated); err != nil {
		return nil, err
	}
	if v.Escalated, err = store.DecisionLines(ctx, s.cfg.DB, h.ID, escalated); err != nil {
		return nil, err
	}
	if v.Period == "" && len(v.Totals) > 0 {
		v.Period = v.Totals[len(v.Totals)-1].Period
	} else if v.Period != "" && !slices.ContainsFunc(v.Totals, func(t coordinator.ReviewTotal) bool { return t.Period == v.Period }) {
		// A period none of the scope's decisions is of: one the campaign never reviewed is not found.
		if _, _, err := store.ReviewWindow(ctx, s.cfg.DB, h.ID, v.Period); errors.Is(err, store.ErrNotFound) {
			return nil, errNotFound{"campaign " + h.ID + " has no review period " + strconv.Quote(v.Period)}
		} else if err != nil {
			return nil, err
		}
	}
	if v.Period != "" {
		dq := store.DecisionQuery{Period: v.Period, District: v.District, Commune: v.Commune, Status: v.Status,
			Decision: v.Decision, Offset: offset, Limit: limit, Scope: sc, Lang: langOf(r)}
		if v.Page.Total, err = count(dq); err != nil {
			return nil, err
		}
		if v.Decisions, err = store.DecisionLines(ctx, s.cfg.DB, h.ID, dq); err != nil {
			return nil, err
		}
	}
	if v.Period != "" {
		q.Set("period", v.Period) // the page's links (and its downloads') name the period it shows
	}
	v.Page = paged(q, decisionFilters, offset, limit, v.Page.Total, len(v.Decisions))
	if v.Pending == nil {
		v.Pending = []store.DecisionLine{}
	}
	if v.Escalated == nil {
		v.Escalated = []store.DecisionLine{}
	}
	if v.Decisions == nil {
		v.Decisions = []store.DecisionLine{}
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
	if v.Batches, err = store.RecentBatchesIn(ctx, s.cfg.DB, h.ID, viewerOf(ctx).Scope); err != nil {
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
	if err := s.checkInScope(ctx, h.ID, kind, code); err != nil {
		return nil, err
	}
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
	if h.TemporalURL == "" { // no links into the Web UI for a part's viewer (loadHead)
		return v, nil
	}
	for _, f := range tr.Figures {
		for _, w := range f.Writes {
			if u := s.workflowURL(w.WorkflowID, w.RunID); u != "" {
				v.Links[w.AuditID] = u
			}
		}
	}
	return v, nil
}
