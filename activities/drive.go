package activities

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/activity"

	"drives/campaign"
	"drives/plan"
	"drives/store"
)

// AddEventInput adds a coordinator's event to a running campaign: one event, or a city-wide
// event's share in every district.
type AddEventInput struct {
	CampaignID string       `json:"campaign_id"`
	Events     []plan.Event `json:"events"`
	Title      string       `json:"title"`
	Expected   int          `json:"expected"`
	By         string       `json:"by"`
}

// AddEvent records an event added through an Update.
func (a *Activities) AddEvent(ctx context.Context, in AddEventInput) (int, error) {
	if len(in.Events) == 0 {
		return 0, permanent(ErrInvalidState, "no event to add")
	}
	first := in.Events[0]
	key := first.ID
	if first.Parent != "" {
		key = first.Parent
	}
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "event.add", entity: "event", entityKey: key, actor: in.By,
		detail: map[string]any{"kind": first.Kind, "events": len(in.Events), "district": first.District, "commune": first.Commune, "at": first.At}},
		func(tx pgx.Tx) (int, error) {
			events := make([]store.Event, len(in.Events))
			for i, e := range in.Events {
				events[i] = eventRow(e, in.Title, in.Expected)
			}
			return len(in.Events), store.InsertEvents(ctx, tx, in.CampaignID, "update", events)
		})
}

// CancelEventInput cancels a planned event.
type CancelEventInput struct {
	CampaignID string `json:"campaign_id"`
	EventID    string `json:"event_id"`
	Reason     string `json:"reason"`
	By         string `json:"by"`
}

// CancelEvent cancels a planned event (a city-wide event in every district); an event already
// held cannot be cancelled.
func (a *Activities) CancelEvent(ctx context.Context, in CancelEventInput) ([]string, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "event.cancel", entity: "event", entityKey: in.EventID, actor: in.By,
		detail: map[string]any{"reason": in.Reason}},
		func(tx pgx.Tx) ([]string, error) {
			ids, err := store.CancelEvents(ctx, tx, in.CampaignID, in.EventID, in.Reason)
			if err != nil {
				return nil, err
			}
			if len(ids) == 0 {
				return nil, permanent(ErrInvalidState, "event %s is not planned any more (held or cancelled already)", in.EventID)
			}
			return ids, nil
		})
}

// AdvanceInput is one wake of a district drive: the events due now and a sweep of follow-ups
// as of the campaign time AsOf.
type AdvanceInput struct {
	CampaignID string             `json:"campaign_id"`
	District   string             `json:"district"`
	AsOf       time.Time          `json:"as_of"`
	Hold       []string           `json:"hold"`
	Policy     plan.FollowUpTimes `json:"policy"`
}

// AdvanceResult says which events were held and what the sweep did.
type AdvanceResult struct {
	Held  []string             `json:"held"`
	Sweep campaign.SweepResult `json:"sweep"`
}

// AdvanceDistrict holds the district's due events and sweeps its open follow-ups: reminders
// whose time has come are recorded, overdue follow-ups escalated to commune staff, and those
// past the give-up point closed as unreachable. All set-based; it returns when the next
// follow-up falls due so the workflow can sleep until then.
func (a *Activities) AdvanceDistrict(ctx context.Context, in AdvanceInput) (AdvanceResult, error) {
	res, err := a.advanceDistrict(ctx, in)
	if err == nil {
		countMetric(ctx, MetricFollowUpsEscalated, res.Sweep.Escalated, nil)
	}
	return res, err
}

func (a *Activities) advanceDistrict(ctx context.Context, in AdvanceInput) (AdvanceResult, error) {
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "district.advance", entity: "district", entityKey: in.District,
		detail: map[string]any{"as_of": in.AsOf, "hold": in.Hold}},
		func(tx pgx.Tx) (AdvanceResult, error) {
			var res AdvanceResult
			if len(in.Hold) > 0 {
				held, err := store.HoldEvents(ctx, tx, in.CampaignID, in.Hold)
				if err != nil {
					return res, err
				}
				res.Held = held
			}
			sw, err := sweep(ctx, tx, in.CampaignID, in.District, in.AsOf, in.Policy)
			res.Sweep = sw
			return res, err
		})
}

// SweepInput is a campaign-wide sweep of open follow-ups as of the campaign time AsOf.
type SweepInput struct {
	CampaignID string             `json:"campaign_id"`
	AsOf       time.Time          `json:"as_of"`
	Policy     plan.FollowUpTimes `json:"policy"`
}

// registerLockWait is how long a sweep waits for the campaign's merge lock before it leaves
// the register to its next grid point.
const registerLockWait = 20 * time.Second

// SweepFollowUps sweeps every open follow-up of a campaign, all districts at once, as the
// campaign's sweep grid comes round: reminders whose time has come are recorded, overdue
// follow-ups escalated to commune staff, and those past the give-up point closed as
// unreachable. Set-based, one transaction; it returns when the next one falls due.
func (a *Activities) SweepFollowUps(ctx context.Context, in SweepInput) (campaign.SweepResult, error) {
	res, err := apply(ctx, a, effect{campaignID: in.CampaignID, action: "follow_ups.sweep", entity: "campaign", entityKey: in.CampaignID,
		detail: map[string]any{"as_of": in.AsOf}},
		func(tx pgx.Tx) (campaign.SweepResult, error) {
			// The register first: renewals falling due open as follow-ups, which the sweep
			// of follow-ups then reminds and escalates like the others.
			t, keeps := specRenewals(in.Policy)
			var reg store.RegisterSweep
			// The register's writers take turns at the campaign's merge lock. A sweep does not
			// wait long for it: while a large import holds it, the follow-ups are swept and the
			// register comes at the next grid point (a demo's campaign once stood five minutes
			// behind a sweep waiting for it).
			locked := false
			if keeps {
				var err error
				if locked, err = store.TryLockEnrolmentMerges(ctx, tx, in.CampaignID, registerLockWait); err != nil {
					return campaign.SweepResult{}, err
				}
			}
			if locked {
				var err error
				if reg, err = store.SweepRegister(ctx, tx, in.CampaignID, in.AsOf, t); err != nil {
					return campaign.SweepResult{}, err
				}
			}
			res, err := sweep(ctx, tx, in.CampaignID, "", in.AsOf, in.Policy)
			if err != nil || !keeps {
				return res, err
			}
			if !locked {
				activity.GetLogger(ctx).Warn("register not swept: the campaign's merges held it; it is swept at the next grid point", "as_of", in.AsOf)
				res.NextDue = earliest(res.NextDue, in.AsOf.Add(time.Nanosecond))
				return res, nil
			}
			res.RenewalsOpened, res.Lapsed = reg.Opened, reg.Lapsed
			next, err := store.NextRegisterDue(ctx, tx, in.CampaignID, in.AsOf, t)
			res.NextDue = earliest(res.NextDue, next)
			return res, err
		})
	if err == nil {
		countMetric(ctx, MetricFollowUpsEscalated, res.Escalated, nil)
	}
	return res, err
}

// sweep sweeps the open follow-ups of one district, or of the whole campaign when district is "".
func sweep(ctx context.Context, tx pgx.Tx, campaignID, district string, asOf time.Time, p plan.FollowUpTimes) (campaign.SweepResult, error) {
	s, err := store.SweepFollowUps(ctx, tx, campaignID, district, asOf, p.Reminders)
	return campaign.SweepResult{Reminded: s.Reminded, Escalated: s.Escalated, Unreachable: s.Unreachable, NextDue: s.NextDue}, err
}

// EventResultInput records a held event's attendance and turns its staged leads into
// follow-ups.
type EventResultInput struct {
	CampaignID string                      `json:"campaign_id"`
	Request    campaign.EventResultRequest `json:"request"`
	Policy     plan.FollowUpTimes          `json:"policy"`
}

// RecordEventResult turns a held event's staged leads into prospects and follow-up tasks for
// the agents of each lead's commune: leads of the likeliest target groups first, dealt round
// the commune's active collection agents (its staff when it has none), least loaded first.
func (a *Activities) RecordEventResult(ctx context.Context, in EventResultInput) (campaign.LeadsResult, error) {
	req := in.Request
	return apply(ctx, a, effect{campaignID: in.CampaignID, action: "event.results", entity: "event", entityKey: req.EventID, actor: req.By,
		detail: map[string]any{"batch": req.BatchID, "attendance": req.Attendance}},
		func(tx pgx.Tx) (campaign.LeadsResult, error) {
			res := campaign.LeadsResult{EventID: req.EventID}
			ev, err := store.LockEvent(ctx, tx, in.CampaignID, req.EventID)
			if errors.Is(err, store.ErrNotFound) {
				return res, permanent(ErrNotFound, "event %s is not part of campaign %s", req.EventID, in.CampaignID)
			}
			if err != nil {
				return res, err
			}
			res.District = ev.District
			if ev.Status != "held" || ev.HeldAt == nil {
				return res, permanent(ErrInvalidState, "event %s is %s; results are recorded for held events only", req.EventID, ev.Status)
			}
			if ev.ResultsBatch != nil {
				return res, permanent(ErrInvalidState, "event %s already has its results (batch %s)", req.EventID, *ev.ResultsBatch)
			}
			heldAt := *ev.HeldAt
			if err := claimBatch(ctx, tx, in.CampaignID, req.BatchID, "leads", req.EventID, &res.Leads); err != nil {
				return res, err
			}
			if res.New, err = store.MergeLeads(ctx, tx, in.CampaignID, req.EventID, req.BatchID, heldAt); err != nil {
				return res, err
			}
			res.Duplicates = res.Leads - res.New
			if res.FollowUps, err = store.CreateFollowUps(ctx, tx, in.CampaignID, req.BatchID, heldAt,
				in.Policy.Deadline, in.Policy.GiveUp); err != nil {
				return res, err
			}
			// People who enrolled before they were met as leads are linked to their lead.
			if err := store.LinkEnrolledLeads(ctx, tx, in.CampaignID, req.BatchID); err != nil {
				return res, err
			}
			if err := store.RecordEventResults(ctx, tx, in.CampaignID, req.EventID, req.Attendance, res.Leads, req.BatchID); err != nil {
				return res, err
			}
			first := in.Policy.Deadline
			if len(in.Policy.Reminders) > 0 {
				first = in.Policy.Reminders[0]
			}
			res.EarliestDue = heldAt.Add(first).UTC()
			return res, store.FinishBatch(ctx, tx, req.BatchID, res)
		})
}

// claimBatch checks a staged batch belongs to the campaign and is of the expected kind, and
// counts its rows; a batch whose staged lines are not all there any more is refused.
func claimBatch(ctx context.Context, tx pgx.Tx, campaignID, batchID, kind, eventID string, rows *int) error {
	b, err := store.LockBatch(ctx, tx, batchID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return permanent(ErrNotFound, "import batch %s is not staged", batchID)
	case err != nil:
		return err
	case b.CampaignID != campaignID:
		return permanent(ErrInvalidImport, "import batch %s belongs to campaign %s, not %s", batchID, b.CampaignID, campaignID)
	case b.Kind != kind:
		return permanent(ErrInvalidImport, "import batch %s holds %s, not %s", batchID, b.Kind, kind)
	case eventID != "" && (b.EventID == nil || *b.EventID != eventID):
		return permanent(ErrInvalidImport, "import batch %s was staged for another event", batchID)
	case b.Status != "staged":
		return permanent(ErrInvalidState, "import batch %s was merged already", batchID)
	}
	*rows = b.Rows
	// Staged lines are not WAL-logged (migration 006): after a database crash they are gone.
	staged, err := store.CountStagedLines(ctx, tx, batchID)
	if err != nil {
		return err
	}
	if staged != b.StagedRows {
		return permanent(ErrInvalidImport, "import batch %s has %d of its %d staged lines (the database restarted since it was staged); import the file again",
			batchID, staged, b.StagedRows)
	}
	return nil
}
