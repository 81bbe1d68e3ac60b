package workflows

import (
	"fmt"
	"sort"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"drives/activities"
	"drives/campaign"
	"drives/plan"
)

// DistrictDriveWorkflow runs one district's part of a campaign: it sleeps on a durable timer
// until its next event's date or the period's end, and then holds what is due in one activity,
// which also sweeps the district's open follow-ups as of then. The follow-ups' reminders,
// deadlines and give-up points in between are swept by the campaign, for every district at
// once on the plan's sweep grid, so that a year's sweeps cost the same for 30 districts or 700.
// It never tracks people: the database knows the follow-ups.
func DistrictDriveWorkflow(ctx workflow.Context, in campaign.DistrictInput) (campaign.DistrictClosed, error) {
	d := &districtDrive{in: in}
	if ok, err := loadState(in.State, &d.st); err != nil {
		return campaign.DistrictClosed{}, fmt.Errorf("state carried over: %w", err)
	} else if !ok {
		d.st.Pending = append([]plan.Event(nil), in.Events...)
		sortEvents(d.st.Pending)
	}
	d.log = log.With(workflow.GetLogger(ctx), "campaign", in.CampaignID, "district", in.District.Code)
	return d.run(ctx)
}

type districtDrive struct {
	in        campaign.DistrictInput
	st        districtState
	log       log.Logger
	cancelled bool

	// The timer set for the next wake, kept while a steer does not bring the wake forward:
	// every timer started is an action, and steers come with every event result.
	timer       workflow.Future
	timerAt     time.Time // the campaign time it fires at
	cancelTimer workflow.CancelFunc
}

func sortEvents(es []plan.Event) {
	sort.SliceStable(es, func(i, j int) bool {
		if !es[i].At.Equal(es[j].At) {
			return es[i].At.Before(es[j].At)
		}
		return es[i].ID < es[j].ID
	})
}

func (d *districtDrive) steer(s campaign.DistrictSteer) {
	switch {
	case s.AddEvent != nil:
		d.st.Pending = append(d.st.Pending, *s.AddEvent)
		sortEvents(d.st.Pending)
	case s.CancelEvent != "":
		for i, e := range d.st.Pending {
			if e.ID == s.CancelEvent {
				d.st.Pending = append(d.st.Pending[:i], d.st.Pending[i+1:]...)
				d.st.Cancelled++
				break
			}
		}
	case s.Pause:
		d.st.Paused = true
	case s.Resume:
		d.st.Paused = false
	case s.Cancel:
		d.cancelled = true
	case !s.LeadsDue.IsZero():
		// Sent by campaigns before they swept follow-ups themselves: nothing to do.
	}
}

func (d *districtDrive) run(ctx workflow.Context) (campaign.DistrictClosed, error) {
	steerCh := workflow.GetSignalChannel(ctx, campaign.SignalDistrictSteer)
	actx := activityCtx(ctx, 2*time.Minute)
	end := d.in.PeriodEnd
	for !d.cancelled {
		// What is due is decided in real time, against the instant each timer was set for:
		// converting the real clock back into campaign time rounds, and could leave an event
		// that is due by its timer a few nanoseconds short of it.
		realNow := workflow.Now(ctx)
		due := func(t time.Time) bool { return !d.in.Clock.RealTime(t).After(realNow) }
		now := d.in.Clock.CampaignTime(realNow)
		if !d.st.Paused {
			ended := due(end)
			if ended || now.After(end) {
				now = end
			}
			var hold []string
			for len(d.st.Pending) > 0 && due(d.st.Pending[0].At) {
				if at := d.st.Pending[0].At; at.After(now) {
					now = at
				}
				hold = append(hold, d.st.Pending[0].ID)
				d.st.Pending = d.st.Pending[1:]
			}
			if len(hold) > 0 || ended {
				var res activities.AdvanceResult
				err := workflow.ExecuteActivity(actx, a.AdvanceDistrict, activities.AdvanceInput{
					CampaignID: d.in.CampaignID, District: d.in.District.Code, AsOf: now, Hold: hold, Policy: d.in.Policy,
				}).Get(ctx, &res)
				if err != nil {
					return campaign.DistrictClosed{}, err
				}
				d.st.Held += len(res.Held)
				if len(res.Held) > 0 || res.Sweep.Escalated > 0 || res.Sweep.Unreachable > 0 {
					d.log.Info("district advanced", "held", len(res.Held), "reminded", res.Sweep.Reminded,
						"escalated", res.Sweep.Escalated, "unreachable", res.Sweep.Unreachable)
				}
			}
			if ended {
				break
			}
		}
		if shouldContinueAsNew(ctx, d.in.HistoryLimit) {
			return d.continueAsNew(ctx, steerCh)
		}
		d.wait(ctx, steerCh)
	}
	return d.close(ctx)
}

// close tells the campaign this district has finished.
func (d *districtDrive) close(ctx workflow.Context) (campaign.DistrictClosed, error) {
	closed := campaign.DistrictClosed{District: d.in.District.Code, Held: d.st.Held}
	err := workflow.SignalExternalWorkflow(ctx, campaign.CampaignWorkflowID(d.in.CampaignID), "",
		campaign.SignalDistrictClosed, closed).Get(ctx, nil)
	return closed, err
}

// wait sleeps until the next thing is due or the campaign steers the district. The timer of
// an earlier wait is kept unless the next thing is now due sooner than it fires; one that fires
// early only makes the loop find nothing due and wait again.
func (d *districtDrive) wait(ctx workflow.Context, steerCh workflow.ReceiveChannel) {
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(steerCh, func(c workflow.ReceiveChannel, _ bool) {
		var s campaign.DistrictSteer
		c.Receive(ctx, &s)
		d.steer(s)
	})
	if d.st.Paused {
		d.stopTimer()
	} else {
		wake := d.in.PeriodEnd
		if len(d.st.Pending) > 0 && d.st.Pending[0].At.Before(wake) {
			wake = d.st.Pending[0].At
		}
		if d.timer == nil || wake.Before(d.timerAt) {
			d.stopTimer()
			tctx, cancel := workflow.WithCancel(ctx)
			d.timer, d.timerAt, d.cancelTimer = workflow.NewTimer(tctx, d.in.Clock.Until(workflow.Now(ctx), wake)), wake, cancel
		}
		sel.AddFuture(d.timer, func(workflow.Future) { d.timer = nil })
	}
	sel.Select(ctx)
	// Take every steer that is already waiting before acting on any of them.
	for {
		var s campaign.DistrictSteer
		if !steerCh.ReceiveAsync(&s) {
			break
		}
		d.steer(s)
	}
}

// stopTimer cancels the timer of the next wake, if one is set.
func (d *districtDrive) stopTimer() {
	if d.timer != nil {
		d.cancelTimer()
		d.timer = nil
	}
}

func (d *districtDrive) continueAsNew(ctx workflow.Context, steerCh workflow.ReceiveChannel) (campaign.DistrictClosed, error) {
	for {
		var s campaign.DistrictSteer
		if !steerCh.ReceiveAsync(&s) {
			break
		}
		d.steer(s)
	}
	if d.cancelled {
		return d.close(ctx)
	}
	next := d.in
	st := d.st
	st.Runs++
	raw, err := saveState(st)
	if err != nil {
		return campaign.DistrictClosed{}, err
	}
	next.State = raw
	next.Events = nil
	d.log.Info("district continues as new", "runs", st.Runs, "pending", len(st.Pending))
	return campaign.DistrictClosed{}, workflow.NewContinueAsNewError(ctx, DistrictDriveWorkflow, next)
}
