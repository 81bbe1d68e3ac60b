package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/campaign"
	"drives/plan"
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
			var r eventRows
			for _, e := range in.Events {
				r.add(e, in.Title, in.Expected)
			}
			return len(in.Events), r.insert(ctx, tx, in.CampaignID, "update")
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
			rows, err := tx.Query(ctx, `
				update events set status = 'cancelled', cancel_reason = $3
				where campaign_id = $1 and (id = $2 or parent_id = $2) and status = 'planned'
				returning id`, in.CampaignID, in.EventID, in.Reason)
			if err != nil {
				return nil, fmt.Errorf("cancel event: %w", err)
			}
			ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return nil, fmt.Errorf("cancel event: %w", err)
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
				rows, err := tx.Query(ctx, `
					update events set status = 'held', held_at = scheduled_at
					where campaign_id = $1 and id = any($2) and status = 'planned' returning id`, in.CampaignID, in.Hold)
				if err != nil {
					return res, fmt.Errorf("hold events: %w", err)
				}
				if res.Held, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
					return res, fmt.Errorf("hold events: %w", err)
				}
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

// SweepFollowUps sweeps every open follow-up of a campaign, all districts at once, as the
// campaign's sweep grid comes round: reminders whose time has come are recorded, overdue
// follow-ups escalated to commune staff, and those past the give-up point closed as
// unreachable. Set-based, one transaction; it returns when the next one falls due.
func (a *Activities) SweepFollowUps(ctx context.Context, in SweepInput) (campaign.SweepResult, error) {
	res, err := apply(ctx, a, effect{campaignID: in.CampaignID, action: "follow_ups.sweep", entity: "campaign", entityKey: in.CampaignID,
		detail: map[string]any{"as_of": in.AsOf}},
		func(tx pgx.Tx) (campaign.SweepResult, error) {
			return sweep(ctx, tx, in.CampaignID, "", in.AsOf, in.Policy)
		})
	if err == nil {
		countMetric(ctx, MetricFollowUpsEscalated, res.Escalated, nil)
	}
	return res, err
}

func seconds(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = d.Seconds()
	}
	return out
}

// sweep sweeps the open follow-ups of one district, or of the whole campaign when district is "".
func sweep(ctx context.Context, tx pgx.Tx, campaignID, district string, asOf time.Time, p plan.FollowUpTimes) (campaign.SweepResult, error) {
	var r campaign.SweepResult
	offsets := seconds(p.Reminders)
	// Lock the district's open follow-ups in id order first, as every writer of follow-ups
	// does, so concurrent sweeps and merges queue instead of deadlocking.
	if _, err := tx.Exec(ctx, `select id from follow_ups where campaign_id = $1 and ($2 = '' or district_code = $2) and status = 'open'
		order by id for update`, campaignID, district); err != nil {
		return r, fmt.Errorf("sweep: lock follow-ups: %w", err)
	}
	tag, err := tx.Exec(ctx, `
		update follow_ups f set reminders_sent = r.n, last_reminded_at = $3
		from (select f2.id, (select count(*) from unnest($4::float8[]) o
		                     where f2.opened_at + o * interval '1 second' <= $3)::int as n
		      from follow_ups f2
		      where f2.campaign_id = $1 and ($2 = '' or f2.district_code = $2) and f2.status = 'open') r
		where f.id = r.id and r.n > f.reminders_sent`, campaignID, district, asOf, offsets)
	if err != nil {
		return r, fmt.Errorf("sweep reminders: %w", err)
	}
	r.Reminded = int(tag.RowsAffected())
	tag, err = tx.Exec(ctx, `
		update follow_ups f set escalated_at = f.due_at,
			-- the commune's staff; where it has none, the district's
			escalated_to = (select s.code from agents s
			                where s.campaign_id = f.campaign_id and s.district_code = f.district_code
			                  and s.kind = 'staff' and s.status = 'active'
			                order by s.commune_code = f.commune_code desc, s.code limit 1)
		where f.campaign_id = $1 and ($2 = '' or f.district_code = $2) and f.status = 'open'
		  and f.escalated_at is null and f.due_at <= $3`, campaignID, district, asOf)
	if err != nil {
		return r, fmt.Errorf("sweep escalations: %w", err)
	}
	r.Escalated = int(tag.RowsAffected())
	tag, err = tx.Exec(ctx, `
		update follow_ups set status = 'unreachable', closed_at = give_up_at
		where campaign_id = $1 and ($2 = '' or district_code = $2) and status = 'open' and give_up_at <= $3`,
		campaignID, district, asOf)
	if err != nil {
		return r, fmt.Errorf("sweep give-ups: %w", err)
	}
	r.Unreachable = int(tag.RowsAffected())
	var next *time.Time
	if err := tx.QueryRow(ctx, `
		select min(least(
			case when f.escalated_at is null then f.due_at end,
			f.give_up_at,
			(select min(f.opened_at + o * interval '1 second') from unnest($4::float8[]) o
			 where f.opened_at + o * interval '1 second' > $3)))
		from follow_ups f
		where f.campaign_id = $1 and ($2 = '' or f.district_code = $2) and f.status = 'open'`,
		campaignID, district, asOf, offsets).Scan(&next); err != nil {
		return r, fmt.Errorf("sweep next due: %w", err)
	}
	if next != nil {
		r.NextDue = next.UTC()
	}
	return r, nil
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
			var status string
			var heldAt *time.Time
			var results *string
			err := tx.QueryRow(ctx, `
				select district_code, status, held_at, results_batch::text from events
				where campaign_id = $1 and id = $2 for update`, in.CampaignID, req.EventID).
				Scan(&res.District, &status, &heldAt, &results)
			if errors.Is(err, pgx.ErrNoRows) {
				return res, permanent(ErrNotFound, "event %s is not part of campaign %s", req.EventID, in.CampaignID)
			}
			if err != nil {
				return res, fmt.Errorf("read event: %w", err)
			}
			if status != "held" || heldAt == nil {
				return res, permanent(ErrInvalidState, "event %s is %s; results are recorded for held events only", req.EventID, status)
			}
			if results != nil {
				return res, permanent(ErrInvalidState, "event %s already has its results (batch %s)", req.EventID, *results)
			}
			if err := claimBatch(ctx, tx, in.CampaignID, req.BatchID, "leads", req.EventID, &res.Leads); err != nil {
				return res, err
			}
			err = tx.QueryRow(ctx, `
				with ins as (
					insert into prospects (campaign_id, citizen_id, full_name, phone, district_code, commune_code, village_code, target_group, event_id, batch_id, created_at)
					select $1, r.citizen_id, r.full_name, r.phone, u.district_code, r.commune_code, r.village_code, r.target_group, $2, $3, $4
					from import_rows r join units u on u.campaign_id = $1 and u.code = r.commune_code
					where r.batch_id = $3
					order by r.line
					on conflict (campaign_id, citizen_id) do nothing
					returning id)
				select count(*) from ins`, in.CampaignID, req.EventID, req.BatchID, *heldAt).Scan(&res.New)
			if err != nil {
				return res, fmt.Errorf("insert prospects: %w", err)
			}
			res.Duplicates = res.Leads - res.New
			tag, err := tx.Exec(ctx, `
				with leads as (
					select p.id, p.commune_code, p.district_code, g.likelihood,
						row_number() over (partition by p.commune_code order by g.likelihood desc, p.id) - 1 as rn
					from prospects p join target_groups g on g.campaign_id = p.campaign_id and g.code = p.target_group
					where p.campaign_id = $1 and p.batch_id = $2
					  and not exists (select 1 from follow_ups f where f.prospect_id = p.id)
					  -- someone already enrolled is not chased
					  and not exists (select 1 from enrolments e where e.campaign_id = p.campaign_id and e.citizen_id = p.citizen_id)),
				holders as (
					select a.code, a.commune_code,
						row_number() over (partition by a.commune_code order by
							(select count(*) from follow_ups f where f.campaign_id = a.campaign_id and f.agent_code = a.code and f.status = 'open'),
							a.code) - 1 as an,
						count(*) over (partition by a.commune_code) as n
					from agents a
					where a.campaign_id = $1 and a.status = 'active'
					  and a.commune_code in (select commune_code from leads)
					  and (a.kind = 'agent' or not exists (
						select 1 from agents b where b.campaign_id = a.campaign_id and b.commune_code = a.commune_code
						  and b.kind = 'agent' and b.status = 'active')))
				insert into follow_ups (campaign_id, prospect_id, district_code, commune_code, agent_code, priority, opened_at, due_at, give_up_at)
				select $1, l.id, l.district_code, l.commune_code, h.code, l.likelihood, $3::timestamptz,
					$3::timestamptz + $4::float8 * interval '1 second', $3::timestamptz + $5::float8 * interval '1 second'
				from leads l join holders h on h.commune_code = l.commune_code and h.an = l.rn % h.n`,
				in.CampaignID, req.BatchID, *heldAt, in.Policy.Deadline.Seconds(), in.Policy.GiveUp.Seconds())
			if err != nil {
				return res, fmt.Errorf("create follow-ups: %w", err)
			}
			res.FollowUps = int(tag.RowsAffected())
			// People who enrolled before they were met as leads are linked to their lead.
			if _, err := tx.Exec(ctx, `
				update enrolments e set prospect_id = p.id
				from prospects p
				where p.campaign_id = $1 and p.batch_id = $2 and e.campaign_id = p.campaign_id
				  and e.citizen_id = p.citizen_id and e.prospect_id is null`, in.CampaignID, req.BatchID); err != nil {
				return res, fmt.Errorf("link enrolled leads: %w", err)
			}
			if _, err := tx.Exec(ctx, `
				update events set attendance = $3, leads = $4, results_batch = $5 where campaign_id = $1 and id = $2`,
				in.CampaignID, req.EventID, req.Attendance, res.Leads, req.BatchID); err != nil {
				return res, fmt.Errorf("record event results: %w", err)
			}
			first := in.Policy.Deadline
			if len(in.Policy.Reminders) > 0 {
				first = in.Policy.Reminders[0]
			}
			res.EarliestDue = heldAt.Add(first).UTC()
			return res, finishBatch(ctx, tx, req.BatchID, res)
		})
}

// claimBatch checks a staged batch belongs to the campaign and is of the expected kind, and
// counts its rows; a batch whose staged lines are not all there any more is refused.
func claimBatch(ctx context.Context, tx pgx.Tx, campaignID, batchID, kind, eventID string, rows *int) error {
	var gotCampaign, gotKind, status string
	var gotEvent *string
	var want int
	err := tx.QueryRow(ctx, `select campaign_id, kind, event_id, status, rows, coalesce(staged_rows, rows) from import_batches where id = $1 for update`, batchID).
		Scan(&gotCampaign, &gotKind, &gotEvent, &status, rows, &want)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return permanent(ErrNotFound, "import batch %s is not staged", batchID)
	case err != nil:
		return fmt.Errorf("read import batch: %w", err)
	case gotCampaign != campaignID:
		return permanent(ErrInvalidImport, "import batch %s belongs to campaign %s, not %s", batchID, gotCampaign, campaignID)
	case gotKind != kind:
		return permanent(ErrInvalidImport, "import batch %s holds %s, not %s", batchID, gotKind, kind)
	case eventID != "" && (gotEvent == nil || *gotEvent != eventID):
		return permanent(ErrInvalidImport, "import batch %s was staged for another event", batchID)
	case status != "staged":
		return permanent(ErrInvalidState, "import batch %s was merged already", batchID)
	}
	// Staged lines are not WAL-logged (migration 006): after a database crash they are gone.
	var staged int
	if err := tx.QueryRow(ctx, `select count(*) from import_rows where batch_id = $1`, batchID).Scan(&staged); err != nil {
		return fmt.Errorf("count staged lines: %w", err)
	}
	if staged != want {
		return permanent(ErrInvalidImport, "import batch %s has %d of its %d staged lines (the database restarted since it was staged); import the file again",
			batchID, staged, want)
	}
	return nil
}

// finishBatch marks a batch merged with its result and drops its staged rows.
func finishBatch(ctx context.Context, tx pgx.Tx, batchID string, result any) error {
	if _, err := tx.Exec(ctx, `update import_batches set status = 'merged', merged_at = now(), result = $2 where id = $1`, batchID, result); err != nil {
		return fmt.Errorf("mark batch merged: %w", err)
	}
	if _, err := tx.Exec(ctx, `delete from import_rows where batch_id = $1`, batchID); err != nil {
		return fmt.Errorf("drop staged rows: %w", err)
	}
	return nil
}
