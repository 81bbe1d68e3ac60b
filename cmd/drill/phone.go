package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"drives/accounts"
	"drives/field"
	"drives/plan"
	"drives/web"
)

// An agent's phone in the field, one per campaign: it sends entries to the web process
// (`starter serve`, POST /api/field/entries with its account's bearer token) while the faults
// go on, as the field page does. Every few hundred milliseconds it makes one to five entries —
// walk-in enrolments, and some leads — and sends what it has not had answered yet (at most
// phoneBatch at once). On a network error or a 5xx it sends the same entries again (same IDs,
// same contents) until they are answered; an entry answered "later" (the campaign is paused,
// or not started) is sent again a second later; an answer "again" is the first receipt's. It
// stops making entries when one is refused because the campaign is over, sends what it still
// has (each is refused so, in words), and stops. Its entries follow from the seed: the n-th is
// the same person with the same ID on every run; only when it is made (its date) depends on
// the run, and so whether it is a lead.
//
// Its people's citizen IDs are 0019<phoneSalt+i><serial> (campaign i), clear of the files'
// 0019<10+i><serial>.
const (
	phoneSalt  = 90
	phoneBatch = 50
	// phoneDrop is the share of answers the phone loses after they arrive, as a phone whose
	// network fails between sending and hearing back: it sends the same entries again, which
	// must be answered "again" and written once.
	phoneDrop = 0.04
	// phoneLead is the share of its entries that are leads, on the days a lead's give-up falls
	// well clear of the campaign's end (else the entry is an enrolment).
	phoneLead = 0.2
)

// phoneBug, set by -phone-bug, breaks the phone or the expected figures on purpose, to see the
// field's checks fail (see main.go).
const (
	bugNewIDs    = "new-ids"   // the phone sends entries again with new IDs after a failure
	bugUncounted = "uncounted" // the expected figures leave out the phone's enrolments
)

// phoneEntry is one entry the phone made, and what became of it.
type phoneEntry struct {
	e         field.Entry
	on        time.Time // its date (campaign day)
	status    string    // "": not answered (yet); recorded | refused
	again     bool      // its final answer was a resend's
	err       string    // a refusal's words
	later     int       // answers "later"
	notBefore time.Time // not sent again before (after a "later")
}

// flight is one send on its way, for the fault injector to kill the web process under.
type flight struct {
	p       *phone
	done    chan struct{}
	err     error       // the send's network error, set before done is closed; nil: it had an answer
	written atomic.Bool // the resend of its entries answered "again": it had been written before
}

// batch is the entries one send carries, sent again as they are until answered.
type batch struct {
	entries  []*phoneEntry
	failures int
	flights  []*flight
}

type phoneStats struct {
	sends                                int
	netErrors, serverErrors, otherErrors int
	dropped                              int // answers the phone lost on purpose
	later, again                         int
	lostWritten, lostUnwritten           int // sends answered only after a failure: written before it, or not
	took                                 []time.Duration
}

type phone struct {
	d      *drill
	c      *coord
	bug    string
	agent  string
	pl     place
	token  string
	salt   int
	rng    *rand.Rand // the entries
	trng   *rand.Rand // the pacing and the lost answers
	client *http.Client
	clk    plan.Clock
	loc    *time.Location
	// lastDay is the period's last day (the campaign's day after it); end is when the script
	// ends the campaign (as compute has it): leads are made only on days whose give-up falls
	// giveUpMargin clear of it, so that their final status follows from the date alone.
	lastDay, end time.Time
	done         chan struct{}
	cancel       context.CancelFunc

	mu       sync.Mutex
	entries  []*phoneEntry
	queue    []*phoneEntry
	stopped  string // why it stopped
	st       phoneStats
	problems []string
}

// phoneAgent picks the phone's agent: an active agent of a commune the steering leaves alone
// (not the fired or the spared agent's, nor the commune whose agent takes over).
func phoneAgent(w *world, rng *rand.Rand) (string, place, error) {
	type cand struct {
		code string
		pl   place
	}
	var cs []cand
	for _, p := range w.places {
		if p.commune == "00001" || p.commune == "00004" {
			continue
		}
		for _, m := range w.roster {
			if m.commune == p.commune && m.kind == "agent" {
				cs = append(cs, cand{m.code, p})
			}
		}
	}
	if len(cs) == 0 {
		return "", place{}, fmt.Errorf("roster.csv: the phone needs an agent outside communes 00001 and 00004")
	}
	c := cs[rng.IntN(len(cs))]
	return c.code, c.pl, nil
}

// newPhone makes the agent's account with an API token, once the campaign is prepared.
func (d *drill) newPhone(ctx context.Context, c *coord, w *world, lp *plan.Loaded, i int, seed uint64, bug string) (*phone, error) {
	p := &phone{d: d, c: c, bug: bug, salt: phoneSalt + i, done: make(chan struct{}),
		rng: rand.New(rand.NewPCG(seed, uint64(10+i))), trng: rand.New(rand.NewPCG(seed, uint64(20+i))),
		client: &http.Client{Timeout: 30 * time.Second}}
	var err error
	if p.agent, p.pl, err = phoneAgent(w, p.rng); err != nil {
		return nil, err
	}
	if p.loc, err = time.LoadLocation(lp.Plan.Timezone); err != nil {
		return nil, err
	}
	e := lp.Plan.Period.End.In(time.UTC)
	p.lastDay = time.Date(e.Year(), e.Month(), e.Day(), 0, 0, 0, 0, time.UTC)
	p.end = day("2022-01-01")
	if c.cancels {
		p.end = cancelAt
	}
	if p.clk, err = c.clock(ctx); err != nil {
		return nil, err
	}
	p.token = accounts.NewSecret()
	spec := accounts.Spec{Name: "phone-" + c.id, Role: accounts.RoleAgent, Agent: p.agent, Campaign: c.id, Token: p.token}
	err = c.retry(ctx, "make the phone's agent account", func(ctx context.Context) (bool, error) {
		_, err := (&accounts.Store{DB: d.db}).Add(ctx, "drill", spec)
		if err != nil && strings.Contains(err.Error(), "exists already") {
			// Made by an earlier try whose answer was lost: its token is that try's, which is
			// this one's too.
			return false, nil
		}
		return false, err
	})
	if err != nil {
		return nil, err
	}
	d.logf("%s: the phone of agent %s sends through the web process", c.id, p.agent)
	return p, nil
}

// today is the campaign's day now, as the server reckons it (at most the period's last day).
func (p *phone) today() time.Time {
	t := p.clk.CampaignTime(time.Now()).In(p.loc)
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if d.After(p.lastDay) {
		return p.lastDay
	}
	return d
}

// leadsOn says whether a lead made on a day has a give-up clear of the campaign's end.
func (p *phone) leadsOn(on time.Time) bool {
	g := on.Add(giveUpAfter)
	return g.Before(p.end.Add(-giveUpMargin)) || g.After(p.end.Add(giveUpMargin))
}

// leadStatus is the final status of the follow-up of a lead made on a day: given up on
// (unreachable) when its give-up comes before the campaign ends, else open.
func (p *phone) leadStatus(on time.Time) string {
	if !on.Add(giveUpAfter).After(p.end) {
		return "unreachable"
	}
	return "open"
}

func (p *phone) newID(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(a>>32), uint16(a>>16), uint16(a)&0xfff, uint16(b>>48)&0xfff, b&0xffffffffffff)
}

// make makes k entries and queues them.
func (p *phone) make(k int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range k {
		n := len(p.entries) + 1
		on := p.today()
		village := p.pl.villages[p.rng.IntN(len(p.pl.villages))]
		group := groups[p.rng.IntN(len(groups))]
		income := int64(1_500_000 + 100_000*p.rng.IntN(20))
		subsidy := []string{"poor", "near_poor", "other"}[p.rng.IntN(3)]
		pay := []string{"monthly", "3m", "12m"}[p.rng.IntN(3)]
		lead := p.rng.Float64() < phoneLead
		e := field.Entry{ID: p.newID(p.rng), Kind: field.KindEnrolment, CitizenID: fmt.Sprintf("0019%02d%06d", p.salt, n),
			FullName: fmt.Sprintf("Người Gặp Ngoài Đồng %d", n), Phone: fmt.Sprintf("09%08d", p.salt*1_000_000+n),
			Village: village, Group: group, On: on.Format("2006-01-02")}
		if lead && p.leadsOn(on) {
			e.Kind = field.KindLead
		} else {
			e.MonthlyIncome, e.SubsidyClass, e.PaymentMode = income, subsidy, pay
		}
		pe := &phoneEntry{e: e, on: on}
		p.entries = append(p.entries, pe)
		p.queue = append(p.queue, pe)
	}
}

// take is the next send: the oldest entries not answered, at most phoneBatch.
func (p *phone) take() *batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	b := &batch{}
	var rest []*phoneEntry
	for _, e := range p.queue {
		if len(b.entries) < phoneBatch && !e.notBefore.After(now) {
			b.entries = append(b.entries, e)
		} else {
			rest = append(rest, e)
		}
	}
	p.queue = rest
	if len(b.entries) == 0 {
		return nil
	}
	return b
}

// run sends until the campaign is over and everything is answered, or ctx ends.
func (p *phone) run(ctx context.Context) {
	defer close(p.done)
	var b *batch
	making := true
	for {
		p.mu.Lock()
		idle := !making && b == nil && len(p.queue) == 0
		p.mu.Unlock()
		if idle {
			p.stop("the campaign is over")
			return
		}
		select {
		case <-ctx.Done():
			p.stop("the drill ended first")
			return
		case <-time.After(time.Duration(300+p.trng.IntN(400)) * time.Millisecond):
		}
		if making {
			p.make(1 + p.trng.IntN(5))
		}
		if b == nil {
			b = p.take()
		}
		if b == nil {
			continue
		}
		answered, over := p.send(ctx, b)
		if over {
			making = false
		}
		if answered {
			b = nil
		}
	}
}

func (p *phone) stop(why string) {
	p.mu.Lock()
	p.stopped = why
	p.mu.Unlock()
	p.d.logf("%s: the phone stopped: %s", p.c.id, why)
}

// send sends a batch once; answered says it had its answers, over that the campaign is over.
func (p *phone) send(ctx context.Context, b *batch) (answered, over bool) {
	entries := make([]field.Entry, len(b.entries))
	for i, e := range b.entries {
		entries[i] = e.e
	}
	body, err := json.Marshal(web.FieldSend{Campaign: p.c.id, Entries: entries})
	if err != nil {
		panic(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.d.s.webURL()+"/api/field/entries", bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Authorization", "Bearer "+p.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	fl := &flight{p: p, done: make(chan struct{})}
	select {
	case p.d.watch <- fl: // the injector waits to kill the web process under a send
	default:
	}
	began := time.Now()
	resp, err := p.client.Do(req)
	var raw []byte
	if err == nil {
		raw, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	fl.err = err
	close(fl.done)
	took := time.Since(began)
	drop := p.trng.Float64() < phoneDrop

	p.mu.Lock()
	defer p.mu.Unlock()
	p.st.sends++
	fail := func() (bool, bool) {
		b.failures++
		b.flights = append(b.flights, fl)
		if p.bug == bugNewIDs {
			// Shown failing: a phone that makes new IDs for entries it sends again after a
			// failure has entries written twice over — refused the second time ("enrolled
			// already (by you)") while the first is in the database, which the field's checks
			// report as refusals of another kind and as people not in the inputs.
			for _, e := range b.entries {
				e.e.ID = p.newID(p.trng)
			}
		}
		return false, false
	}
	switch {
	case err != nil:
		p.st.netErrors++
		return fail()
	case resp.StatusCode >= 500:
		p.st.serverErrors++
		return fail()
	case resp.StatusCode != http.StatusOK:
		p.st.otherErrors++
		if p.st.otherErrors <= 3 {
			p.d.logf("%s: the phone's send was answered %d: %.200s", p.c.id, resp.StatusCode, raw)
		}
		return fail()
	case drop:
		p.st.dropped++
		return fail()
	}
	var out struct {
		Results []field.Result `json:"results"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out.Results) != len(b.entries) {
		p.problems = append(p.problems, fmt.Sprintf("a send of %d entries was answered with %d results (%v)", len(b.entries), len(out.Results), err))
		return fail()
	}
	p.st.took = append(p.st.took, took)
	written := false
	for i, r := range out.Results {
		e := b.entries[i]
		if r.ID != e.e.ID {
			p.problems = append(p.problems, "a send's results are not in the order of its entries")
		}
		if r.Later {
			p.st.later++
			e.later++
			e.notBefore = time.Now().Add(time.Second)
			p.queue = append(p.queue, e)
			continue
		}
		e.status, e.err, e.again = r.Status, r.Error, r.Again
		if r.Again {
			p.st.again++
			written = true
		}
		if r.Status == "refused" && strings.Contains(r.Error, "the campaign is over") {
			over = true
		}
	}
	if b.failures > 0 {
		if written {
			p.st.lostWritten++
		} else {
			p.st.lostUnwritten++
		}
		for _, f := range b.flights {
			f.written.Store(written)
		}
	}
	return true, over
}

// medianTook is the median round trip of the phone's answered sends so far (0: none yet).
func (p *phone) medianTook() time.Duration {
	p.mu.Lock()
	took := slices.Clone(p.st.took)
	p.mu.Unlock()
	if len(took) == 0 {
		return 0
	}
	slices.Sort(took)
	return took[len(took)/2]
}

// phoneSummary is what the phone did, for the table and the checks.
type phoneSummary struct {
	made, enrolments, leads  int
	recorded, refused, unans int
	otherRefusals            map[string]int
	stopped                  string
	st                       phoneStats
	medianTook, p90Took      time.Duration
	problems                 []string
	recordedEnrolments       int
}

func (p *phone) summary() phoneSummary {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := phoneSummary{made: len(p.entries), otherRefusals: map[string]int{}, stopped: p.stopped, st: p.st,
		problems: slices.Clone(p.problems)}
	for _, e := range p.entries {
		if e.e.Kind == field.KindLead {
			s.leads++
		} else {
			s.enrolments++
		}
		switch e.status {
		case "recorded":
			s.recorded++
			if e.e.Kind == field.KindEnrolment {
				s.recordedEnrolments++
			}
		case "refused":
			s.refused++
			if !strings.Contains(e.err, "the campaign is over") {
				s.otherRefusals[e.err]++
			}
		default:
			s.unans++
		}
	}
	took := slices.Clone(p.st.took)
	sort.Slice(took, func(i, j int) bool { return took[i] < took[j] })
	if len(took) > 0 {
		s.medianTook, s.p90Took = took[len(took)/2], took[len(took)*9/10]
	}
	return s
}

// addPhone adds the entries the phone was told were recorded to what the database must hold:
// each walk-in enrolled once by the phone's agent in its commune, as the entry says; each lead
// a prospect of its group whose follow-up ends as its date says.
func (x *expected) addPhone(p *phone) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pe := range p.entries {
		if pe.status != "recorded" {
			continue
		}
		e := pe.e
		switch e.Kind {
		case field.KindEnrolment:
			x.enrolments[e.CitizenID] = []string{p.agent, p.pl.commune, e.Village, e.Group}
			if p.bug == bugUncounted {
				// Shown failing: the expected figures without the phone's enrolments, which the
				// workflow's progress and the final report count.
				continue
			}
			x.enrolled++
			x.fieldEnrolled++
			x.byUnit[p.pl.district]++
			x.byUnit[p.pl.commune]++
			x.byUnit[e.Village]++
			x.byAgent[p.agent]++
			x.byGroup[e.Group]++
		case field.KindLead:
			st := p.leadStatus(pe.on)
			x.prospects[e.CitizenID] = []string{e.Group}
			x.followUpOf[e.CitizenID] = []string{st}
			x.leads[e.Group]++
			x.followUps["total"]++
			x.followUps[st]++
			if st == "unreachable" {
				x.unreachable[e.Group]++
			}
		}
	}
}
