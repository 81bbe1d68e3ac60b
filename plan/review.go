package plan

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// DefaultReviewCron reviews agents quarterly: at 00:00 on 1 January, April, July and October.
const DefaultReviewCron = "0 0 1 1,4,7,10 *"

// MaxReviews bounds how often a campaign may review its agents (daily at most, in a year).
const MaxReviews = 366

// MinReviewGap is the least real time between two reviews: a schedule fires on whole seconds.
const MinReviewGap = 2 * time.Second

// ReviewSpec is the plan's review section: when agents are evaluated (a cron expression in
// campaign time) and the policy that turns their figures into decisions.
type ReviewSpec struct {
	Cron   string       `yaml:"cron" json:"cron"`
	Policy ReviewPolicy `yaml:"policy" json:"policy"`
}

// ReviewPolicy decides from an agent's score: reward at or above RewardAt; warn below
// WarnBelow; propose termination below TerminateBelow for TerminateAfter consecutive reviews,
// or for no enrolment in the window while holding open follow-ups. Staff are warned or
// commended, never terminated. A proposed termination waits ApprovalWait (campaign time) for a
// coordinator; without a decision it is escalated, and carried out only with AutoTerminate.
type ReviewPolicy struct {
	RewardAt       float64  `yaml:"reward_at" json:"reward_at"`
	WarnBelow      float64  `yaml:"warn_below" json:"warn_below"`
	TerminateBelow float64  `yaml:"terminate_below" json:"terminate_below"`
	TerminateAfter int      `yaml:"terminate_after" json:"terminate_after"`
	Reward         Reward   `yaml:"reward" json:"reward"`
	ApprovalWait   Duration `yaml:"approval_wait" json:"approval_wait"`
	AutoTerminate  bool     `yaml:"auto_terminate" json:"auto_terminate"`
	CommendTop     int      `yaml:"commend_top" json:"commend_top"`
	// RenewalWeight is the share of the score given to the renewal rate (0 to 1; 0 weighs
	// none): the agent's renewals renewed among those renewed or lapsed in the window.
	RenewalWeight float64 `yaml:"renewal_weight,omitempty" json:"renewal_weight,omitempty"`
}

// Reward is what a rewarded agent receives.
type Reward struct {
	Kind   string `yaml:"kind" json:"kind"`
	Amount int64  `yaml:"amount" json:"amount"` // VND
}

func (r *ReviewSpec) applyDefaults() {
	if r.Cron == "" {
		r.Cron = DefaultReviewCron
	}
	p := &r.Policy
	if p.RewardAt == 0 {
		p.RewardAt = 1.0
	}
	if p.WarnBelow == 0 {
		p.WarnBelow = 0.6
	}
	if p.TerminateBelow == 0 {
		p.TerminateBelow = 0.3
	}
	if p.TerminateAfter == 0 {
		p.TerminateAfter = 2
	}
	if p.Reward.Kind == "" {
		p.Reward = Reward{Kind: "bonus", Amount: 500_000}
	}
	if p.ApprovalWait == 0 {
		p.ApprovalWait = Duration(14 * 24 * time.Hour)
	}
	if p.CommendTop == 0 {
		p.CommendTop = 3
	}
}

func (r ReviewSpec) check(bad func(field, format string, args ...any)) {
	if _, err := ParseReviewCron(r.Cron, time.UTC); err != nil {
		bad("review.cron", "%v", err)
	}
	p := r.Policy
	if math.IsInf(p.RewardAt, 0) {
		// A plan is stored and handed to the workflows as JSON, which has no infinity.
		bad("review.policy.reward_at", "must be a finite score")
	} else if !(p.TerminateBelow >= 0 && p.TerminateBelow <= p.WarnBelow && p.WarnBelow <= p.RewardAt) {
		bad("review.policy", "thresholds must satisfy 0 ≤ terminate_below ≤ warn_below ≤ reward_at (got %g, %g, %g)",
			p.TerminateBelow, p.WarnBelow, p.RewardAt)
	}
	if p.TerminateAfter < 1 {
		bad("review.policy.terminate_after", "must be 1 or more consecutive reviews")
	}
	if p.Reward.Amount < 0 {
		bad("review.policy.reward.amount", "must not be negative")
	}
	if p.ApprovalWait <= 0 {
		bad("review.policy.approval_wait", "must be a positive duration")
	}
	if p.CommendTop < 0 {
		bad("review.policy.commend_top", "must not be negative")
	}
	if !(p.RenewalWeight >= 0 && p.RenewalWeight <= 1) {
		bad("review.policy.renewal_weight", "must be from 0 to 1 (the share of the score given to the renewal rate)")
	}
}

var cronFields = []string{"minute", "hour", "day of month", "month", "day of week"}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseReviewCron parses a review schedule: the standard five fields, a descriptor (@monthly,
// @every 720h…), and an optional CRON_TZ= or TZ= prefix; without one the schedule runs in loc.
// An error names the field at fault.
func ParseReviewCron(expr string, loc *time.Location) (cron.Schedule, error) {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return nil, fmt.Errorf("is empty")
	}
	body := expr
	if strings.HasPrefix(expr, "CRON_TZ=") || strings.HasPrefix(expr, "TZ=") {
		i := strings.IndexByte(expr, ' ')
		if i < 0 {
			return nil, fmt.Errorf("%q: a time zone prefix needs a schedule after it", expr)
		}
		tz := expr[strings.IndexByte(expr, '=')+1 : i]
		if _, err := time.LoadLocation(tz); err != nil {
			return nil, fmt.Errorf("%q: unknown time zone %q", expr, tz)
		}
		body = strings.TrimSpace(expr[i+1:])
	} else if loc != nil {
		expr = "CRON_TZ=" + loc.String() + " " + expr
	}
	s, err := cronParser.Parse(expr)
	if err == nil {
		return s, nil
	}
	if strings.HasPrefix(body, "@") {
		return nil, fmt.Errorf("%q: %v", body, err)
	}
	fields := strings.Fields(body)
	if len(fields) != len(cronFields) {
		return nil, fmt.Errorf("%q has %d fields; want 5 (minute hour day-of-month month day-of-week) or a descriptor such as @monthly", body, len(fields))
	}
	for i, f := range fields {
		probe := []string{"*", "*", "*", "*", "*"}
		probe[i] = f
		if _, perr := cronParser.Parse(strings.Join(probe, " ")); perr != nil {
			return nil, fmt.Errorf("%q: %s field %q: %v", body, cronFields[i], f, perr)
		}
	}
	return nil, fmt.Errorf("%q: %v", body, err)
}

// ReviewPeriod is one review: the window it covers, in campaign time, and its label.
type ReviewPeriod struct {
	Label string    `json:"label"` // 2021-Q1, 2021-03, or the fire date
	Start time.Time `json:"start"`
	End   time.Time `json:"end"` // the fire time; the review runs then
}

// ReviewPeriods lists the reviews of a campaign period: one for each fire of the schedule
// after periodStart up to and including periodEnd, each covering the time since the one
// before (the first from periodStart), and a last one at periodEnd for any time left after the
// last fire. loc is the plan's time zone.
func ReviewPeriods(expr string, loc *time.Location, periodStart, periodEnd time.Time) ([]ReviewPeriod, error) {
	s, err := ParseReviewCron(expr, loc)
	if err != nil {
		return nil, err
	}
	var out []ReviewPeriod
	labels := map[string]bool{}
	add := func(start, end time.Time) {
		label := periodLabel(start.In(loc), end.In(loc))
		if labels[label] {
			// A local time that occurs twice (the hour repeated when daylight saving ends, in
			// which robfig fires twice): the label names a review's workflow, so the second
			// one carries its UTC offset.
			label = end.In(loc).Format("2006-01-02T15:04Z07:00")
		}
		labels[label] = true
		out = append(out, ReviewPeriod{Label: label, Start: start, End: end})
	}
	prev := periodStart
	for t := s.Next(periodStart); !t.IsZero() && !t.After(periodEnd); t = s.Next(t) {
		if len(out) == MaxReviews {
			return nil, fmt.Errorf("%q fires more than %d times in the campaign period; review at most daily", expr, MaxReviews)
		}
		add(prev, t)
		prev = t
	}
	// The time after the last fire (or a cron that never fires in the period) is reviewed at
	// the period's end, by the campaign's final evaluation.
	if prev.Before(periodEnd) {
		add(prev, periodEnd)
	}
	return out, nil
}

// periodLabel names a window: a calendar quarter as 2021-Q1, a month as 2021-03, anything else
// by the date (and time, if not midnight) it ends.
func periodLabel(start, end time.Time) string {
	midnightFirst := func(t time.Time) bool { return t.Day() == 1 && t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 }
	if midnightFirst(start) && midnightFirst(end) {
		switch {
		case start.AddDate(0, 3, 0).Equal(end) && (start.Month()-1)%3 == 0:
			return fmt.Sprintf("%d-Q%d", start.Year(), (start.Month()-1)/3+1)
		case start.AddDate(0, 1, 0).Equal(end):
			return start.Format("2006-01")
		}
	}
	if end.Hour() == 0 && end.Minute() == 0 && end.Second() == 0 {
		return end.Format("2006-01-02")
	}
	return end.Format("2006-01-02T15:04")
}

// RealFire is the real instant at which the schedule starts a period's review: the real
// instant of the period's end truncated to the second (a schedule's resolution). The review's
// workflow then waits the rest, ReviewWait, so that the review runs when the period ends in
// campaign time. (Rounded up instead, a review on the demo's clock ran up to a real second
// late: up to three days of campaign time, 06:47 or 00:44 the next day rather than 00:00.)
func RealFire(clock Clock, p ReviewPeriod) time.Time {
	return clock.RealTime(p.End).Truncate(time.Second)
}

// ReviewWait is how long, in real time, a review started at the real instant now waits for its
// period to end in campaign time: under a second after the schedule's fire; none once it has.
func ReviewWait(clock Clock, p ReviewPeriod, now time.Time) time.Duration {
	end := clock.RealTime(p.End)
	if clock.Scale != 1 {
		// RealTime truncates to the nanosecond, a hair before the end in campaign time
		// (23:59:59.9997 at 262,800): wait for the first real nanosecond at or after it.
		end = clock.Epoch.Add(time.Duration(math.Ceil(float64(p.End.Sub(clock.Start)) / clock.Scale)))
		for clock.CampaignTime(end).Before(p.End) {
			end = end.Add(time.Nanosecond)
		}
	}
	if d := end.Sub(now); d > 0 {
		return d
	}
	return 0
}

// PeriodAt picks the review a schedule's fire at the real instant nominal is for: the latest
// period whose fire (RealFire, at or up to a second before its end) has come by then. ok is
// false before the first fire.
func PeriodAt(clock Clock, periods []ReviewPeriod, nominal time.Time) (ReviewPeriod, bool) {
	var out ReviewPeriod
	ok := false
	for _, p := range periods {
		if !RealFire(clock, p).After(nominal) {
			out, ok = p, true
		}
	}
	return out, ok
}
