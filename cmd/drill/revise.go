package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"drives/campaign"
	"drives/coordinator"
	"drives/plan"
	"drives/store"
)

// The plan's revision: on reviseAt, once the first review's terminations are decided, the
// coordinator revises each campaign's plan with `starter plan revise`'s code
// (coordinator.Revise): the city raises Ba Đình's target (district 001 pinned at 400, and
// Trúc Bạch, commune 00004, at 150 of it, by target.overrides), the door-to-door round of
// 7 June in Tây Hồ is removed and a dialogue in Trúc Bạch on 14 June added, whose results the
// coordinator sends on addedResultsOn. The second campaign is cancelled before the added
// event, which is then never held.
var (
	reviseAt       = day("2021-05-03")
	addedResultsOn = "2021-06-16"
	revisionPins   = map[string]int{"001": 400, "00004": 150}
	addedEvent     = districtEvent{"truc-bach-dialogue", "001", "2021-06-14", []string{"household_business", "farmer"}}
)

const removedEvent = "nhat-tan-door-to-door"

type campaignRevision = campaign.RevisionResult

// The -revise-bug values: break the revision on purpose, to see its checks fail.
const (
	bugTwice     = "twice"     // the coordinator stages and sends the revision again once it is applied
	bugUnrevised = "unrevised" // the expected figures leave the revision out
)

var removedEventBlock = regexp.MustCompile(`(?s)  - id: ` + removedEvent + `\n.*?(\n  - id: |\z)`)

// revisedPlan is the launched plan's text revised as the script says: its name, the pins, one
// event out and one in.
func revisedPlan(launched string) (string, error) {
	s := launched
	replace := func(old, new string) error {
		if strings.Count(s, old) != 1 {
			return fmt.Errorf("revise the drill's plan: %q is not in it once", old)
		}
		s = strings.Replace(s, old, new, 1)
		return nil
	}
	if err := replace(`name: "Fault drill `, `name: "Fault drill (revised) `); err != nil {
		return "", err
	}
	var pins strings.Builder
	pins.WriteString("  share: 0.01\n  overrides:\n")
	codes := sortedKeys(revisionPins)
	for _, c := range codes {
		fmt.Fprintf(&pins, "    %q: %d\n", c, revisionPins[c])
	}
	if err := replace("  share: 0.01\n", pins.String()); err != nil {
		return "", err
	}
	if n := len(removedEventBlock.FindAllStringIndex(s, -1)); n != 1 {
		return "", fmt.Errorf("revise the drill's plan: event %s is in it %d times", removedEvent, n)
	}
	s = removedEventBlock.ReplaceAllString(s, "$1")
	e := addedEvent
	s = strings.TrimRight(s, "\n") + fmt.Sprintf(`
  - id: %s
    kind: dialogue
    unit: "00004"
    date: %s
    groups: [%s]
    expected_attendance: 35
`, e.id, e.date, strings.Join(e.groups, ", "))
	return s, nil
}

// revise sends the plan's revision once the first review's terminations are decided (the
// expected quotas move the fired agent's quota first, then revise). A retry after an unknown
// outcome must not apply it twice: before sending again it reads the plan in force (the
// revision applied, by an earlier try whose answer was lost) and the campaign's progress (the
// workflow has taken revision 1 and its activity is applying it: wait); the workflow's
// validator refuses a number already taken.
func (c *coord) revise(ctx context.Context) (bool, error) {
	ds, err := c.d.co.Decisions(ctx, c.id, firstReview)
	if err != nil {
		return false, err
	}
	decided := false
	for _, d := range ds {
		if d.Agent == firedAgent && d.Decision == "terminate" && d.Status == "approved" {
			decided = true
		}
	}
	if !decided {
		return false, errNotDone
	}
	if done, err := c.revisionApplied(ctx); done || err != nil {
		return false, err
	}
	var res campaignRevision
	send := func() error {
		_, res, err = c.d.co.Revise(ctx, c.revision(), false)
		return err
	}
	if c.reviseSends.Add(1) == 1 {
		// The first send meets a fault of its own.
		c.d.faults.strikeDuring(ctx, c.id+": revise the plan", aimedKind(c.index, "revise"), aimWithin["revise"], send)
	} else {
		_ = send()
	}
	var refused plan.Errors
	if errors.As(err, &refused) {
		return true, fmt.Errorf("the revision was refused: %w", err)
	}
	if err != nil {
		return false, err
	}
	c.noteRevise(fmt.Sprintf("applied by send %d", c.reviseSends.Load()))
	c.d.logf("%s: revise the plan: revision %d applied from %s (%d targets changed, events added %d, removed %v)",
		c.id, res.Number, res.From.Format(time.DateOnly), res.Quotas, len(res.Added), res.Removed)
	return false, nil
}

// revisionApplied says whether the revision is in force, applied by an earlier try; while the
// workflow has taken its number but not yet committed it, it is not done.
func (c *coord) revisionApplied(ctx context.Context) (bool, error) {
	_, _, n, err := store.PlanInForce(ctx, c.d.db, c.id)
	if err != nil {
		return false, err
	}
	if n >= 1 {
		c.noteRevise(fmt.Sprintf("applied by an earlier send (of %d) whose answer was lost: found in force, not sent again", c.reviseSends.Load()))
		c.d.logf("%s: revise the plan: revision %d is in force, applied by an earlier try", c.id, n)
		return true, nil
	}
	p, err := c.d.co.Progress(ctx, c.id)
	if err != nil {
		return false, err
	}
	if p.Revisions >= 1 {
		return false, errNotDone
	}
	return false, nil
}

func (c *coord) revision() coordinator.Revision {
	return coordinator.Revision{CampaignID: c.id, File: c.revisedFile, Revised: c.revised,
		Reason: "the drill's script: the city raises Ba Đình's target", By: "drill"}
}

func (c *coord) noteRevise(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reviseOutcome == "" {
		c.reviseOutcome = s
	}
}

// reviseAgain is -revise-bug twice: once the revision is applied, the coordinator stages it
// and sends it again, as a careless retry would. The product refuses it (a revision that
// changes nothing, staged against the plan it replaced); were it taken as revision 2, the
// checks of the applied revisions, the plan.revise rows and the progress's count would fail.
func (c *coord) reviseAgain(ctx context.Context) error {
	return c.retry(ctx, "revise the plan again (-revise-bug twice)", func(ctx context.Context) (bool, error) {
		_, res, err := c.d.co.Revise(ctx, c.revision(), false)
		var refused plan.Errors
		switch {
		case err == nil:
			c.d.logf("%s: revise the plan again (-revise-bug twice): applied as revision %d", c.id, res.Number)
		case errors.As(err, &refused):
			c.d.logf("%s: revise the plan again (-revise-bug twice): refused: %v", c.id, refused)
			return true, nil
		}
		return false, err
	})
}

// aim is a fault round aimed at a coordinator's send: the fault strikes a seeded moment after
// the send begins, with no other fault under way.
type aim struct {
	what, kind string
	delay      time.Duration // after the send began
	inFlight   bool          // the send was not answered yet when the fault struck
	took       time.Duration // until the stack was back
	firstErr   error         // the struck send's answer
}

// aimWithin bounds the moment an aimed fault strikes after the send begins: about a send's
// round trip (a revision reads the plan and the campaign's state, stages it and waits for the
// Update; a decision reads its status and waits for the Update).
var aimWithin = map[string]time.Duration{"revise": 250 * time.Millisecond, "approve": 80 * time.Millisecond}

// aimedKind is the fault aimed at a campaign's revision or approval: the first campaign's
// revision meets a killed worker and its approval a crashed PostgreSQL, the second's the other
// way round, and so on.
func aimedKind(campaign int, what string) string {
	if (campaign%2 == 0) == (what == "revise") {
		return faultWorker
	}
	return faultPostgres
}

// strikeDuring begins send and strikes a fault of kind a seeded moment later, as a round of its
// own (one fault at a time: it waits for a round under way to end); it returns when the stack
// is back and the send answered.
func (f *injector) strikeDuring(ctx context.Context, what, kind string, within time.Duration, send func() error) *aim {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := &aim{what: what, kind: kind, delay: time.Duration(f.aimRng.Float64() * float64(within))}
	answered := make(chan error, 1)
	go func() { answered <- send() }()
	time.Sleep(a.delay)
	select {
	case err := <-answered:
		a.firstErr = err
		answered = nil
	default:
		a.inFlight = true
	}
	began := time.Now()
	f.d.logf("aimed round: %s %s after %s began", kind, a.delay.Round(time.Millisecond), what)
	var err error
	switch kind {
	case faultWorker:
		err = f.d.s.worker.kill()
	case faultPostgres:
		err = f.d.s.crashPostgres(ctx, f.pgDown)
	}
	a.took = time.Since(began)
	if err != nil {
		f.d.logf("aimed round: %s: %v", kind, err)
		f.aimErr = errors.Join(f.aimErr, fmt.Errorf("aimed round (%s during %s): %w", kind, what, err))
	}
	if answered != nil {
		a.firstErr = <-answered
	}
	f.d.logf("aimed round: back after %.1fs; the struck send answered: %s", a.took.Seconds(), errText(a.firstErr))
	f.aims = append(f.aims, a)
	return a
}

func errText(err error) string {
	if err == nil {
		return "done"
	}
	return firstLine(err)
}

// aimsByWhat lists the aimed rounds in a stable order for the table.
func (f *injector) aimsByWhat() []*aim {
	out := append([]*aim(nil), f.aims...)
	sort.Slice(out, func(i, j int) bool { return out[i].what < out[j].what })
	return out
}
