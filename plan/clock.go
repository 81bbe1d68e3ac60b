package plan

import "time"

// Clock maps campaign time onto real time. At Scale 1 the campaign runs on the calendar (Epoch
// equals Start); at Scale N it runs N times faster from Epoch, the instant it was launched. The
// workflows use only this to turn plan dates and durations into timers, so a compressed demo
// runs exactly the code a real year runs.
type Clock struct {
	Epoch time.Time `json:"epoch"` // the real instant at which campaign time is Start
	Start time.Time `json:"start"` // campaign time at Epoch: the period start
	Scale float64   `json:"scale"`
}

// NewClock makes the clock of a campaign launched at the real instant launched.
func NewClock(periodStart time.Time, scale float64, launched time.Time) Clock {
	if scale <= 1 {
		return Clock{Epoch: periodStart, Start: periodStart, Scale: 1}
	}
	return Clock{Epoch: launched, Start: periodStart, Scale: scale}
}

// CampaignTime is the campaign instant at the real instant t.
func (c Clock) CampaignTime(t time.Time) time.Time {
	if c.Scale == 1 {
		return c.Start.Add(t.Sub(c.Epoch))
	}
	return c.Start.Add(time.Duration(float64(t.Sub(c.Epoch)) * c.Scale))
}

// RealTime is the real instant at which campaign time reaches t.
func (c Clock) RealTime(t time.Time) time.Time {
	if c.Scale == 1 {
		return c.Epoch.Add(t.Sub(c.Start))
	}
	return c.Epoch.Add(time.Duration(float64(t.Sub(c.Start)) / c.Scale))
}

// Until is how long in real time from the real instant now until campaign time t; never negative.
func (c Clock) Until(now, t time.Time) time.Duration {
	d := c.RealTime(t).Sub(now)
	if d < 0 {
		return 0
	}
	return d
}

// Day is the campaign's day at the real instant t: its date in loc (the plan's time zone), as
// midnight UTC like the plan's dates.
func (c Clock) Day(t time.Time, loc *time.Location) time.Time {
	now := c.CampaignTime(t).In(loc)
	return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
}
