// Package report computes a campaign's report from its rows — achieved against plan by unit,
// target group and agent, and growth against the prior year — and writes it as a table, CSV or
// JSON. The closing activity stores the final report; `starter report` reads it, or computes a
// live one while the campaign runs.
package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"drives/store"
)

// DB is what the report reads through: a pool, a connection or a transaction.
type DB = store.DB

// Report is a campaign's achieved-vs-plan report. It names agents by code only.
type Report struct {
	CampaignID string `json:"campaign_id"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Final      bool   `json:"final"`
	// Scope names the units a part's report is of (Within); empty: the whole campaign's.
	Scope         []string    `json:"scope,omitempty"`
	GeneratedAt   time.Time   `json:"generated_at"`
	Target        int         `json:"target"`
	Enrolled      int         `json:"enrolled"`
	AttainmentPct float64     `json:"attainment_pct"`
	PriorYear     int         `json:"prior_year"`
	Growth        int         `json:"growth"`
	GrowthPct     float64     `json:"growth_pct"`
	Units         []UnitLine  `json:"units"`
	Groups        []GroupLine `json:"groups"`
	Agents        []AgentLine `json:"agents"`
	FollowUps     FollowUps   `json:"follow_ups"`
	Events        Events      `json:"events"`
	// Participants is the register over the period (nil in a part's report).
	Participants *Participants `json:"participants,omitempty"`
	// Reviews are the agent reviews' totals, a line per period in order, as they are when the
	// report is read (a decision taken after the close counts); none in a part's report.
	Reviews []store.ReviewTotal `json:"reviews,omitempty"`
}

// GrowthSoFar says whether Growth is of a campaign still running: this year's enrolments so
// far against the prior year's whole total, not the year's growth.
func (r *Report) GrowthSoFar() bool { return !r.Final }

// Participants is the campaign's register over its period: the stock of people whose
// contributions are current at its start and end, and what changed in between; growth is
// stock against stock, beside the enrolment counts. Each change is counted in the district,
// target group and agent where it was made.
type Participants struct {
	store.RegisterFigures
	Growth     int                     `json:"growth"`     // End - Start
	GrowthPct  float64                 `json:"growth_pct"` // of Start
	TargetPct  float64                 `json:"target_pct"` // Growth against the target
	Flagged    int                     `json:"payments_flagged"`
	ByDistrict []store.RegisterFigures `json:"by_district"`
	ByGroup    []store.RegisterFigures `json:"by_group"`
	ByAgent    []store.RegisterFigures `json:"by_agent,omitempty"`
}

// UnitLine is a district, commune or village.
type UnitLine struct {
	Level    string  `json:"level"`
	Code     string  `json:"code"`
	Name     string  `json:"name"`
	Parent   string  `json:"parent,omitempty"`
	Target   int     `json:"target"`
	Enrolled int     `json:"enrolled"`
	Pct      float64 `json:"pct"`
}

// GroupLine is a target group: its figures (leads taken, how they ended, and enrolments) and
// the shares the report computes from them.
type GroupLine struct {
	store.GroupFigures
	SharePct      float64 `json:"share_pct"`
	ConversionPct float64 `json:"conversion_pct"`
}

// AgentLine is an agent's or staff member's quota and results.
type AgentLine struct {
	Code          string  `json:"code"`
	Commune       string  `json:"commune"`
	Kind          string  `json:"kind"`
	PostOffice    bool    `json:"post_office"`
	Status        string  `json:"status"`
	Quota         int     `json:"quota"`
	Enrolled      int     `json:"enrolled"`
	Pct           float64 `json:"pct"`
	FollowUpsOpen int     `json:"follow_ups_open"`
	Escalated     int     `json:"escalated"`
}

// FollowUps counts follow-up tasks by outcome.
type FollowUps struct {
	Total       int `json:"total"`
	Open        int `json:"open"`
	Enrolled    int `json:"enrolled"`
	Declined    int `json:"declined"`
	Unreachable int `json:"unreachable"`
	Escalated   int `json:"escalated"`
}

// Events counts events and what they reached.
type Events struct {
	Planned    int `json:"planned"`
	Held       int `json:"held"`
	Cancelled  int `json:"cancelled"`
	Attendance int `json:"attendance"`
	Leads      int `json:"leads"`
}

// ErrUnknownCampaign is returned for a campaign the database does not know.
var ErrUnknownCampaign = errors.New("unknown campaign")

// Pct is n as a percentage of of, rounded to two decimals (0 when of is 0): every percentage
// of the report, and starter status's, is rounded by it.
func Pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(n)*10000/float64(of)) / 100
}

func pct(n, of int) float64 { return Pct(n, of) }

// Build computes the report from the rows as they are now.
func Build(ctx context.Context, db DB, campaignID string) (*Report, error) {
	return build(ctx, db, campaignID, true)
}

// Summary is Build without the agents' lines (Agents is nil): a national campaign's 200,000
// agents are read a page at a time (store.AgentsPage), not all at once with the report.
func Summary(ctx context.Context, db DB, campaignID string) (*Report, error) {
	return build(ctx, db, campaignID, false)
}

func build(ctx context.Context, db DB, campaignID string, withAgents bool) (*Report, error) {
	r := &Report{CampaignID: campaignID, GeneratedAt: time.Now().UTC()}
	h, err := store.ReportHeadOf(ctx, db, campaignID)
	if errors.Is(err, store.ErrNoCampaign) {
		return nil, fmt.Errorf("%w %q", ErrUnknownCampaign, campaignID)
	}
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r.Name, r.Status, r.Target, r.PriorYear, r.Enrolled = h.Name, h.Status, h.Target, h.PriorYear, h.Enrolled
	r.Final = r.Status == "closed" || r.Status == "cancelled"
	r.AttainmentPct = pct(r.Enrolled, r.Target)
	r.Growth = r.Enrolled - r.PriorYear
	r.GrowthPct = pct(r.Growth, r.PriorYear)

	units, err := store.UnitsFigures(ctx, db, campaignID)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	for _, u := range units {
		r.Units = append(r.Units, UnitLine{Level: u.Level, Code: u.Code, Name: u.Name, Parent: u.Parent,
			Target: u.Target, Enrolled: u.Enrolled, Pct: pct(u.Enrolled, u.Target)})
	}
	groups, err := store.GroupsFigures(ctx, db, campaignID)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	for _, g := range groups {
		r.Groups = append(r.Groups, GroupLine{GroupFigures: g, SharePct: pct(g.Enrolled, r.Enrolled), ConversionPct: pct(g.LeadsEnrolled, g.Leads)})
	}
	if withAgents {
		agents, err := store.AgentsFigures(ctx, db, campaignID)
		if err != nil {
			return nil, fmt.Errorf("report: %w", err)
		}
		for _, a := range agents {
			r.Agents = append(r.Agents, AgentLineOf(a))
		}
	}
	f, err := store.CountFollowUps(ctx, db, campaignID)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r.FollowUps = FollowUps(f)
	e, err := store.CountEvents(ctx, db, campaignID)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	r.Events = Events(e)
	if r.Participants, err = participants(ctx, db, campaignID, r.Target, withAgents); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if err := withReviews(ctx, db, r); err != nil {
		return nil, err
	}
	return r, nil
}

// withReviews sets a report's review totals as they are now.
func withReviews(ctx context.Context, db DB, r *Report) error {
	totals, err := store.ReviewTotals(ctx, db, r.CampaignID)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	r.Reviews = totals
	return nil
}

// allDays is a day after any campaign's period: the register's figures up to the period's end.
var allDays = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func participants(ctx context.Context, db DB, campaignID string, target int, withAgents bool) (*Participants, error) {
	b, err := store.RegisterFiguresOf(ctx, db, campaignID, allDays, withAgents)
	if err != nil {
		return nil, err
	}
	p := &Participants{RegisterFigures: b.All, ByDistrict: b.ByDistrict, ByGroup: b.ByGroup, ByAgent: b.ByAgent}
	p.Growth = p.End - p.Start
	p.GrowthPct = pct(p.Growth, p.Start)
	p.TargetPct = pct(p.Growth, target)
	if p.Flagged, err = store.FlaggedPayments(ctx, db, campaignID); err != nil {
		return nil, err
	}
	return p, nil
}

// AgentLineOf is an agent's figures as the report shows them.
func AgentLineOf(a store.AgentFigures) AgentLine {
	return AgentLine{Code: a.Code, Commune: a.Commune, Kind: a.Kind, PostOffice: a.PostOffice, Status: a.Status,
		Quota: a.Quota, Enrolled: a.Enrolled, Pct: pct(a.Enrolled, a.Quota), FollowUpsOpen: a.FollowUpsOpen, Escalated: a.Escalated}
}

// Store saves a campaign's final report.
func Store(ctx context.Context, db DB, r *Report) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("report: encode: %w", err)
	}
	if err := store.SaveReport(ctx, db, r.CampaignID, r.Status, body); err != nil {
		return fmt.Errorf("report: store: %w", err)
	}
	return nil
}

// Load returns the stored final report, or a live one while the campaign has none.
func Load(ctx context.Context, db DB, campaignID string) (*Report, error) {
	body, ok, err := store.StoredReport(ctx, db, campaignID)
	if err != nil {
		return nil, fmt.Errorf("report: load: %w", err)
	}
	if !ok {
		return Build(ctx, db, campaignID)
	}
	var r Report
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("report: decode stored report: %w", err)
	}
	if err := withReviews(ctx, db, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Cache keeps each campaign's report, computed once per change of the campaign (its stamp:
// status and last audit row), so that a page read many times between two imports does not
// count a national campaign's million enrolments each time. Totals stay exact: any effect
// on the campaign changes the stamp. The report it keeps is the Summary, without the agents'
// lines; a stored final report is read as Load reads it, and its agents' lines are dropped.
type Cache struct {
	mu       sync.Mutex
	reports  map[string]cached
	enrolled map[string]count
	kept     map[[2]string]keptValue
}

type keptValue struct {
	stamp string
	v     any
}

// Kept is what compute gives for a campaign, computed once per change of the campaign (its
// stamp) and kept under key: e.g. the exact number of agents a list's filters select, which
// stays exact for as long as the stamp does.
func Kept[T any](ctx context.Context, c *Cache, db DB, campaignID, key string, compute func() (T, error)) (T, error) {
	var zero T
	stamp, err := store.ReportStamp(ctx, db, campaignID)
	if errors.Is(err, store.ErrNoCampaign) {
		return zero, fmt.Errorf("%w %q", ErrUnknownCampaign, campaignID)
	}
	if err != nil {
		return zero, fmt.Errorf("report: %w", err)
	}
	k := [2]string{campaignID, key}
	c.mu.Lock()
	e, ok := c.kept[k]
	c.mu.Unlock()
	if ok && e.stamp == stamp {
		return e.v.(T), nil
	}
	v, err := compute()
	if err != nil {
		return zero, err
	}
	c.mu.Lock()
	if c.kept == nil {
		c.kept = map[[2]string]keptValue{}
	}
	if _, ok := c.kept[k]; !ok && len(c.kept) >= MaxKept {
		c.makeRoom(campaignID, stamp)
	}
	c.kept[k] = keptValue{stamp: stamp, v: v}
	c.mu.Unlock()
	return v, nil
}

// MaxKept bounds the values a Cache keeps: the keys come from requests (a list's filters), so
// a client naming ever new filters must not grow the server's memory without end.
const MaxKept = 10_000

// makeRoom drops every value but those of campaignID's current stamp; if those alone fill
// the cache, all of them (they are counted again when asked for). Called with c.mu held.
func (c *Cache) makeRoom(campaignID, stamp string) {
	for k, e := range c.kept {
		if k[0] != campaignID || e.stamp != stamp {
			delete(c.kept, k)
		}
	}
	if len(c.kept) >= MaxKept {
		clear(c.kept)
	}
}

// KeptLen is how many values the cache keeps.
func (c *Cache) KeptLen() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.kept)
}

type cached struct {
	stamp string
	r     *Report
	days  []DayCount
}

type count struct {
	stamp string
	n     int
}

// Load is Load through the cache, without the agents' lines (see Summary).
func (c *Cache) Load(ctx context.Context, db DB, campaignID string) (*Report, error) {
	stamp, err := store.ReportStamp(ctx, db, campaignID)
	if errors.Is(err, store.ErrNoCampaign) {
		return nil, fmt.Errorf("%w %q", ErrUnknownCampaign, campaignID)
	}
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	c.mu.Lock()
	if e, ok := c.reports[campaignID]; ok && e.stamp == stamp {
		c.mu.Unlock()
		return e.r, nil
	}
	c.mu.Unlock()
	r, err := loadSummary(ctx, db, campaignID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.reports == nil {
		c.reports = map[string]cached{}
	}
	c.reports[campaignID] = cached{stamp: stamp, r: r}
	c.mu.Unlock()
	return r, nil
}

// loadSummary is Load without the agents' lines: the stored final report, else a live Summary.
func loadSummary(ctx context.Context, db DB, campaignID string) (*Report, error) {
	body, ok, err := store.StoredReport(ctx, db, campaignID)
	if err != nil {
		return nil, fmt.Errorf("report: load: %w", err)
	}
	if !ok {
		return Summary(ctx, db, campaignID)
	}
	var r Report
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("report: decode stored report: %w", err)
	}
	r.Agents = nil
	if err := withReviews(ctx, db, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Daily is Daily through the cache, kept with the report under the same stamp.
func (c *Cache) Daily(ctx context.Context, db DB, campaignID string) ([]DayCount, error) {
	stamp, err := store.ReportStamp(ctx, db, campaignID)
	if errors.Is(err, store.ErrNoCampaign) {
		return nil, fmt.Errorf("%w %q", ErrUnknownCampaign, campaignID)
	}
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	c.mu.Lock()
	if e, ok := c.reports[campaignID]; ok && e.stamp == stamp && e.days != nil {
		c.mu.Unlock()
		return e.days, nil
	}
	c.mu.Unlock()
	days, err := Daily(ctx, db, campaignID)
	if err != nil || days == nil {
		return days, err
	}
	c.mu.Lock()
	if e, ok := c.reports[campaignID]; ok && e.stamp == stamp {
		e.days = days
		c.reports[campaignID] = e
	}
	c.mu.Unlock()
	return days, nil
}

// Campaigns is Campaigns through the cache: each campaign's enrolments are counted once per
// change of the campaign (its stamp), as its report is.
func (c *Cache) Campaigns(ctx context.Context, db DB) ([]CampaignLine, error) {
	cs, err := store.CampaignHeads(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	out := make([]CampaignLine, 0, len(cs))
	for _, h := range cs {
		c.mu.Lock()
		e, ok := c.enrolled[h.ID]
		c.mu.Unlock()
		if !ok || e.stamp != h.Stamp {
			e = count{stamp: h.Stamp}
			if e.n, err = store.CountEnrolments(ctx, db, h.ID); err != nil {
				return nil, fmt.Errorf("report: %w", err)
			}
			c.mu.Lock()
			if c.enrolled == nil {
				c.enrolled = map[string]count{}
			}
			c.enrolled[h.ID] = e
			c.mu.Unlock()
		}
		s := h.CampaignSummary
		out = append(out, CampaignLine{ID: s.ID, Name: s.Name, Year: s.Year, Status: s.Status, PeriodStart: s.PeriodStart,
			PeriodEnd: s.PeriodEnd, Target: s.Target, Enrolled: e.n, AttainmentPct: pct(e.n, s.Target)})
	}
	return out, nil
}
