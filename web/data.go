package web

import (
	"context"
	"errors"
	"fmt"
	"time"

	"drives/campaign"
	"drives/plan"
	"drives/store"
)

// The page's own reads (store/pages.go): what the report, coordinator and history packages do
// not give — a campaign's header, its events, the units and groups an event may name, agents'
// names, and earlier imports. Figures come from those packages, never from here.

// campaignHead is the campaign every campaign page is about.
type campaignHead struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Status      string         `json:"status"`
	PeriodStart time.Time      `json:"period_start"`
	PeriodEnd   time.Time      `json:"period_end"`
	Timezone    string         `json:"timezone"`
	WorkflowID  string         `json:"workflow_id"`
	TemporalURL string         `json:"temporal_url,omitempty"`
	loc         *time.Location `json:"-"`
}

// headed is a view about one campaign.
type headed interface{ head() *campaignHead }

func (s *Server) loadHead(ctx context.Context, id string) (*campaignHead, error) {
	if !plan.ValidCampaignID(id) {
		return nil, errNotFound{fmt.Sprintf("campaign %q: not a campaign id", id)}
	}
	c, err := store.CampaignHeaderOf(ctx, s.cfg.DB, id)
	if errors.Is(err, store.ErrNoCampaign) {
		return nil, errNotFound{fmt.Sprintf("no campaign %q", id)}
	}
	if err != nil {
		return nil, err
	}
	h := &campaignHead{ID: id, WorkflowID: campaign.CampaignWorkflowID(id), Name: c.Name, Status: c.Status,
		PeriodStart: c.PeriodStart, PeriodEnd: c.PeriodEnd, Timezone: c.Timezone}
	if h.loc, err = time.LoadLocation(h.Timezone); err != nil {
		h.loc = time.UTC
	}
	if v := viewerOf(ctx); v == nil || v.Scope.Whole() {
		// The Web UI shows the whole campaign's histories: linked for those who see all of it.
		h.TemporalURL = s.workflowURL(h.WorkflowID, "")
	}
	return h, nil
}

// workflowURL links to a workflow (and a run's history) in the Temporal Web UI.
func (s *Server) workflowURL(workflowID, runID string) string {
	if s.cfg.TemporalUI == "" || workflowID == "" {
		return ""
	}
	u := s.cfg.TemporalUI + "/namespaces/" + pathEscape(s.cfg.Namespace) + "/workflows/" + pathEscape(workflowID)
	if runID != "" {
		u += "/" + pathEscape(runID) + "/history"
	}
	return u
}

// EventLine is an event of the campaign as the events page lists it.
type EventLine = store.EventLine

// Choice is a code and its name, for a form's choices.
type Choice = store.Choice

// BatchLine is an earlier import.
type BatchLine = store.BatchLine
