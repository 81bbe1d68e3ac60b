package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"drives/campaign"
	"drives/coordinator"
	"drives/imports"
	"drives/plan"
)

// coord is a coordinator at work on one campaign: it launches it, sends its files and steers
// it (pause, resume, cancel) when the campaign's clock reaches their dates, and decides every
// proposed termination as the script says (approves), through the same code as the CLI.
// Through an outage it retries patiently, as a person at the CLI would.
type coord struct {
	d        *drill
	id       string
	index    int // of the campaigns, from 0
	acts     []action
	cancels  bool // the script cancels the campaign
	retries  atomic.Int32
	done     atomic.Int32 // actions done
	launched time.Time    // when the launch was answered
	phone    *phone       // the agent's phone sending entries in the field

	// The plan's revision (revise.go): the revised plan, its sends, how it was applied.
	revised       *plan.Loaded
	revisedFile   string
	reviseBug     string
	reviseSends   atomic.Int32
	approveSends  atomic.Int32 // approvals sent (each Decide call that approves)
	mu            sync.Mutex
	reviseOutcome string
	decided       map[string]string // period/agent → approved | rejected, as the coordinator was answered
}

// decisions counts the terminations the coordinator approved and rejected, each once however
// many tries it took (a decision found taken by an earlier try counts as that try's).
func (c *coord) decisions() (approved, rejected int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.decided {
		switch st {
		case "approved":
			approved++
		case "rejected":
			rejected++
		}
	}
	return approved, rejected
}

// patience is how long a coordinator keeps retrying one action.
const patience = 5 * time.Minute

// retry runs fn until it succeeds, fails for good, or patience runs out.
func (c *coord) retry(ctx context.Context, what string, fn func(ctx context.Context) (final bool, err error)) error {
	deadline := time.Now().Add(patience)
	wait := 500 * time.Millisecond
	for {
		actx, cancel := context.WithTimeout(ctx, time.Minute)
		final, err := fn(actx)
		cancel()
		if err == nil {
			return nil
		}
		if final {
			return fmt.Errorf("%s: %s: %w", c.id, what, err)
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("%s: %s: gave up after %s: %w", c.id, what, patience, err)
		}
		if errors.Is(err, errNotDone) {
			time.Sleep(time.Second)
			continue
		}
		c.retries.Add(1)
		c.d.logf("%s: %s: %v (retrying in %s)", c.id, what, firstLine(err), wait)
		time.Sleep(wait)
		wait = min(2*wait, 5*time.Second)
	}
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// launch stores the plan and starts the campaign; a launch whose answer was lost is found
// running on the next try.
func (c *coord) launch(ctx context.Context, lp *plan.Loaded) error {
	return c.retry(ctx, "launch", func(ctx context.Context) (bool, error) {
		_, err := c.d.co.Launch(ctx, lp)
		var again *coordinator.AlreadyLaunchedError
		if errors.As(err, &again) && again.Running {
			return false, nil
		}
		return false, err
	})
}

// clock reads the campaign's clock once it is prepared.
func (c *coord) clock(ctx context.Context) (plan.Clock, error) {
	var clk plan.Clock
	err := c.retry(ctx, "read the campaign clock", func(ctx context.Context) (bool, error) {
		var err error
		clk, _, err = c.d.co.Clock(ctx, c.id)
		if err == nil && clk.Scale == 0 {
			err = errors.New("not prepared yet")
		}
		return false, err
	})
	return clk, err
}

// run sends the campaign's files in order, each once its date has come in campaign time.
func (c *coord) run(ctx context.Context) error {
	clk, err := c.clock(ctx)
	if err != nil {
		return err
	}
	for _, a := range c.acts {
		if wait := clk.Until(time.Now(), a.at); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := c.retry(ctx, a.String(), func(ctx context.Context) (bool, error) { return c.send(ctx, a) }); err != nil {
			return err
		}
		if a.revise && c.reviseBug == bugTwice {
			if err := c.reviseAgain(ctx); err != nil {
				return err
			}
		}
		c.done.Add(1)
	}
	return nil
}

// send does one action. A refused file is a drill bug (final); an event whose results are in
// already, or a steer the campaign says it has had, was done by an earlier try whose answer
// was lost (done); everything else — an outage, a worker gone, an event not yet marked held —
// is tried again.
func (c *coord) send(ctx context.Context, a action) (bool, error) {
	if a.steer != "" {
		return c.steer(ctx, a)
	}
	if a.revise {
		return c.revise(ctx)
	}
	var err error
	switch a.kind {
	case imports.Leads:
		_, err = c.d.im.EventResults(ctx, c.id, a.event, a.attend, a.name, a.data, "drill")
		if err != nil && strings.Contains(err.Error(), "already has its results") {
			c.d.logf("%s: %s: recorded by an earlier try", c.id, a)
			return false, nil
		}
	default:
		_, err = c.d.im.Enrolments(ctx, c.id, a.kind, a.name, a.data, "drill")
	}
	var rej *imports.Rejected
	if errors.As(err, &rej) {
		return true, err
	}
	if err != nil && (strings.Contains(err.Error(), "is closed") || strings.Contains(err.Error(), "is cancelled")) {
		return true, fmt.Errorf("the campaign ended before the coordinator could send this: %w", err)
	}
	return false, err
}

// steer pauses, resumes or cancels the campaign. The validator's refusal of a second pause,
// of a resume when not paused, or of a cancel when the campaign is closing or cancelled says an
// earlier try took effect.
func (c *coord) steer(ctx context.Context, a action) (bool, error) {
	name, already := map[string]string{"pause": campaign.UpdatePause, "resume": campaign.UpdateResume, "cancel": campaign.UpdateCancel}[a.steer],
		map[string][]string{"pause": {"is paused already"}, "resume": {"is not paused"}, "cancel": {"is closing", "is cancelled"}}[a.steer]
	_, err := coordinator.Update[string](ctx, c.d.co, c.id, name, campaign.SteerRequest{Reason: "the drill's script", By: "drill"})
	if err != nil {
		for _, s := range already {
			if strings.Contains(err.Error(), s) {
				c.d.logf("%s: %s: done by an earlier try", c.id, a)
				return false, nil
			}
		}
	}
	if err == nil {
		c.d.logf("%s: %s: done", c.id, a)
	}
	return false, err
}

// decideTerminations answers every termination the reviews propose, as the script says
// (approves), until ctx ends. Errors (an outage, a decision already taken) are left for the
// next look.
func (c *coord) decideTerminations(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		pending, escalated, err := c.d.co.Attention(actx, c.id)
		for _, p := range append(pending, escalated...) {
			if err != nil {
				break
			}
			yes := approves(p.Period, p.Agent)
			var res campaign.DecisionResult
			var derr error
			decide := func() error {
				res, derr = c.d.co.Decide(actx, c.id, p.Period, yes, campaign.TerminationDecision{
					Agent: p.Agent, By: "drill", Reason: "the drill's script"})
				return derr
			}
			switch {
			case !yes:
				_ = decide()
			case c.approveSends.Add(1) == 1:
				// The first approval meets a fault of its own.
				c.d.faults.strikeDuring(actx, c.id+": approve the termination of "+p.Agent, aimedKind(c.index, "approve"), aimWithin["approve"], decide)
			default:
				_ = decide()
			}
			if derr == nil && (res.Status == "approved" || res.Status == "rejected") {
				c.mu.Lock()
				c.decided[p.Period+"/"+p.Agent] = res.Status
				c.mu.Unlock()
			}
		}
		cancel()
	}
}
