package plan

import (
	"fmt"
	"sort"
	"time"
)

// Spec is the validated plan as the workflows need it: units, targets, events and the
// follow-up policy, without any personal data.
type Spec struct {
	CampaignID  string         `json:"campaign_id"`
	Name        string         `json:"name"`
	PeriodStart time.Time      `json:"period_start"` // campaign time
	PeriodEnd   time.Time      `json:"period_end"`   // campaign time, exclusive
	Scale       float64        `json:"scale"`
	Target      int            `json:"target"`
	PriorYear   int            `json:"prior_year"`
	Groups      []string       `json:"groups"`
	Districts   []DistrictSpec `json:"districts"`
	Events      []Event        `json:"events"`
	Policy      FollowUpTimes  `json:"policy"`
	Review      ReviewSpec     `json:"review"`
	Reviews     []ReviewPeriod `json:"reviews"`
}

// DistrictSpec is a district with its quota and communes.
type DistrictSpec struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Target   int      `json:"target"`
	Communes []string `json:"communes"`
}

// Event is an event as a district drive holds it. A city-wide event is one Event per
// district, with Parent naming the plan's event.
type Event struct {
	ID       string    `json:"id"`
	Parent   string    `json:"parent,omitempty"`
	Kind     string    `json:"kind"`
	District string    `json:"district"`
	Commune  string    `json:"commune,omitempty"`
	At       time.Time `json:"at"` // campaign time
	Groups   []string  `json:"groups"`
}

// FollowUpTimes is the follow-up policy in campaign durations.
type FollowUpTimes struct {
	Deadline   time.Duration   `json:"deadline"`
	Reminders  []time.Duration `json:"reminders"`
	GiveUp     time.Duration   `json:"give_up"`
	SweepEvery time.Duration   `json:"sweep_every"`
	// Renewals (renewals.lead_time, renewals.grace); zero in the specs of campaigns launched
	// before the register, which keep none.
	RenewalLead time.Duration `json:"renewal_lead,omitempty"`
	Grace       time.Duration `json:"grace,omitempty"`
}

// RenewalDays are the renewal rules in whole days: the lead time and the grace period; ok is
// false for a spec that keeps no register (launched before it).
func (p FollowUpTimes) RenewalDays() (lead, grace int, ok bool) {
	day := 24 * time.Hour
	return int(p.RenewalLead / day), int(p.Grace / day), p.Grace > 0
}

// EventHour is the local hour at which an event on a date is held.
const EventHour = 9

// Spec turns a loaded plan into what the workflows carry: district targets, events expanded
// (a city-wide event becomes one event per district) and placed in campaign time, and the
// follow-up policy. It holds no personal data.
func (lp *Loaded) Spec() (Spec, error) {
	loc, err := time.LoadLocation(lp.Plan.Timezone)
	if err != nil {
		return Spec{}, fmt.Errorf("plan time zone: %w", err)
	}
	p := lp.Plan
	alloc := lp.Allocation()
	s := Spec{
		CampaignID:  p.ID,
		Name:        p.Name,
		PeriodStart: p.Period.Start.In(loc),
		PeriodEnd:   p.Period.End.In(loc).AddDate(0, 0, 1),
		Scale:       p.Clock.Scale,
		Target:      alloc.City,
		PriorYear:   p.PriorYearEnrolled,
		Policy: FollowUpTimes{
			Deadline:    p.FollowUp.Deadline.Std(),
			GiveUp:      p.FollowUp.GiveUpAfter.Std(),
			SweepEvery:  p.FollowUp.SweepEvery.Std(),
			RenewalLead: p.Renewals.LeadTime.Std(),
			Grace:       p.Renewals.Grace.Std(),
		},
	}
	s.Review = p.Review
	if s.Reviews, err = ReviewPeriods(p.Review.Cron, loc, s.PeriodStart, s.PeriodEnd); err != nil {
		return Spec{}, fmt.Errorf("review.cron: %w", err)
	}
	for _, r := range p.FollowUp.Reminders {
		s.Policy.Reminders = append(s.Policy.Reminders, r.Std())
	}
	for _, g := range p.TargetGroups {
		s.Groups = append(s.Groups, g.Code)
	}
	for _, d := range lp.Units.Districts {
		ds := DistrictSpec{Code: d.Code, Name: d.Name, Target: alloc.Districts[d.Code]}
		for _, c := range d.Communes {
			ds.Communes = append(ds.Communes, c.Code)
		}
		s.Districts = append(s.Districts, ds)
	}
	s.Events = PlaceEvents(p.Events, loc, s.Districts, lp.Units.CommuneDistricts())
	return s, nil
}

// PlaceEvents places planned events in campaign time (ExpandEvent: a city-wide one once per
// district) in the Spec's order: by time, then ID (a stable sort, so the plan's order breaks
// ties).
func PlaceEvents(specs []EventSpec, loc *time.Location, districts []DistrictSpec, communes map[string]string) []Event {
	var events []Event
	for _, e := range specs {
		events = append(events, ExpandEvent(e, loc, districts, communes)...)
	}
	sort.SliceStable(events, func(i, j int) bool {
		if !events[i].At.Equal(events[j].At) {
			return events[i].At.Before(events[j].At)
		}
		return events[i].ID < events[j].ID
	})
	return events
}

// ExpandEvent places a planned event in campaign time, once per district for a city-wide event
// (IDs <event>.<district>).
func ExpandEvent(e EventSpec, loc *time.Location, districts []DistrictSpec, communes map[string]string) []Event {
	at := e.Date.In(loc).Add(EventHour * time.Hour)
	ev := Event{ID: e.ID, Kind: e.Kind, At: at, Groups: e.Groups}
	switch {
	case e.Unit == CityWide:
		out := make([]Event, 0, len(districts))
		for _, d := range districts {
			x := ev
			x.ID, x.Parent, x.District = e.ID+"."+d.Code, e.ID, d.Code
			out = append(out, x)
		}
		return out
	case communes[e.Unit] != "":
		ev.District, ev.Commune = communes[e.Unit], e.Unit
	default:
		ev.District = e.Unit
	}
	return []Event{ev}
}

// CheckAddedEvent validates an event a coordinator adds to a running campaign: the plan's
// rules, plus it must not already exist and must lie ahead of the campaign's clock.
func CheckAddedEvent(e EventSpec, s Spec, existing map[string]bool, now time.Time) *EventProblem {
	if !ValidEventID(e.ID) {
		return &EventProblem{"id", "must be 1 to 63 lower-case letters, digits, '_' or '-'"}
	}
	if existing[e.ID] {
		return &EventProblem{"id", fmt.Sprintf("event %q already exists", e.ID)}
	}
	groups := map[string]bool{}
	for _, g := range s.Groups {
		groups[g] = true
	}
	districts := map[string]bool{}
	communes := map[string]string{}
	for _, d := range s.Districts {
		districts[d.Code] = true
		for _, c := range d.Communes {
			communes[c] = d.Code
		}
	}
	loc := s.PeriodStart.Location()
	period := Period{
		Start: Date{s.PeriodStart.Year(), int(s.PeriodStart.Month()), s.PeriodStart.Day()},
		End:   dateOf(s.PeriodEnd.AddDate(0, 0, -1)),
	}
	if p := checkEvent(e, period, groups, districts, communes); p != nil {
		return p
	}
	if at := e.Date.In(loc).Add(EventHour * time.Hour); !at.After(now) {
		return &EventProblem{"date", fmt.Sprintf("%s is already past in campaign time (now %s)", e.Date, now.In(loc).Format("2006-01-02 15:04"))}
	}
	return nil
}

func dateOf(t time.Time) Date { return Date{t.Year(), int(t.Month()), t.Day()} }
