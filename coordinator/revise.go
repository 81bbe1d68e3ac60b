package coordinator

import (
	"context"
	"fmt"
	"strings"
	"time"

	"drives/campaign"
	"drives/plan"
	"drives/revision"
)

// Revision is a coordinator's revision of a running campaign's plan.
type Revision struct {
	CampaignID string
	File       string // the revised plan's file, as the coordinator named it
	Revised    *plan.Loaded
	From       string // the first day it applies (YYYY-MM-DD, campaign time); "" for today
	Reason, By string
}

// Revise checks a revised plan against the running campaign as it stands (today's campaign
// day, what it has enrolled, the events held): a revision that breaks a rule is refused whole
// with every problem (plan.Errors), and nothing is written. With check only, it returns what
// the revision would change. Otherwise it stages the revision, numbered, and applies it through
// the campaign workflow's revise-plan Update, whose activity checks it again as it applies it.
func (c *Coordinator) Revise(ctx context.Context, r Revision, check bool) (*revision.Prepared, campaign.RevisionResult, error) {
	var res campaign.RevisionResult
	if strings.TrimSpace(r.Reason) == "" && !check {
		return nil, res, fmt.Errorf("reason: say why the plan is revised (--reason)")
	}
	p, err := c.Progress(ctx, r.CampaignID)
	if err != nil {
		return nil, res, err
	}
	if p.Status != campaign.StatusRunning && p.Status != campaign.StatusPaused {
		return nil, res, fmt.Errorf("campaign %s is %s: only a running campaign's plan is revised", r.CampaignID, p.Status)
	}
	// The campaign's time now, by its clock: a Query answers with the time of the workflow's
	// last task, which may be days of campaign time behind.
	today := p.CampaignTime
	if p.Clock.Scale > 0 {
		today = p.Clock.CampaignTime(time.Now())
	}
	loc := p.PeriodStart.Location()
	from := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, loc)
	if r.From != "" {
		if from, err = time.ParseInLocation(time.DateOnly, r.From, loc); err != nil {
			return nil, res, fmt.Errorf("--from %q: a day as YYYY-MM-DD", r.From)
		}
	}
	prep, err := revision.Prepare(ctx, c.DB, r.File, r.CampaignID, r.Revised, today, from)
	if err != nil || check {
		return prep, res, err
	}
	n, err := prep.Stage(ctx, c.DB, r.Reason, r.By)
	if err != nil {
		return prep, res, err
	}
	res, err = Update[campaign.RevisionResult](ctx, c, r.CampaignID, campaign.UpdateRevisePlan, campaign.ReviseRequest{Number: n, By: r.By})
	return prep, res, err
}
