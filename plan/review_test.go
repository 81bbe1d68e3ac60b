package plan_test

// Tests of the review schedule as a plan states it: the cron (robfig/cron v3, five fields or a
// descriptor, in campaign time), the review periods it makes of a campaign's year, their
// translation into the exact calendars of the Temporal Schedule (activities.ReviewCalendars),
// and the choice of the period a schedule's fire is for (PeriodAt).

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the plans' time zones, whatever the machine has installed

	"go.temporal.io/sdk/client"

	"drives/activities"

	"drives/plan"
)

var hcmLoc = mustLoad("Asia/Ho_Chi_Minh")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// The sample plan's year: 1 January 2021 to 31 December 2021 inclusive, so the period ends
// (exclusive) at midnight on 1 January 2022, Hà Nội time.
var (
	year2021Start = time.Date(2021, 1, 1, 0, 0, 0, 0, hcmLoc)
	year2021End   = time.Date(2022, 1, 1, 0, 0, 0, 0, hcmLoc)
)

// demoScale is the sample plan's clock: a year in two minutes.
const demoScale = 262800

// demoLaunch is a fixed real instant, deliberately not on a whole second, at which a compressed
// campaign is launched.
var demoLaunch = time.Date(2024, 6, 3, 3, 30, 12, 345_678_901, time.UTC)

func hcmDate(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, hcmLoc) }

func TestParseReviewCronAccepts(t *testing.T) {
	from := time.Date(2021, 1, 1, 0, 0, 0, 0, hcmLoc)
	for _, tc := range []struct {
		expr string
		next time.Time // the first fire after from
	}{
		{plan.DefaultReviewCron, hcmDate(2021, 4, 1)},
		{"@monthly", hcmDate(2021, 2, 1)},
		{"@weekly", hcmDate(2021, 1, 3)}, // 1 January 2021 is a Friday; @weekly is Sunday midnight
		{"@every 720h", from.Add(720 * time.Hour)},
		{"CRON_TZ=Asia/Ho_Chi_Minh 0 0 1 * *", hcmDate(2021, 2, 1)},
		// The prefix overrides the plan's zone: 02:30 UTC on Friday 1 January is 09:30 in Hà Nội.
		{"TZ=UTC 30 2 * * 1-5", time.Date(2021, 1, 1, 2, 30, 0, 0, time.UTC)},
		{"  0 0 1 1,4,7,10 *  ", hcmDate(2021, 4, 1)}, // surrounding blanks are ignored
	} {
		t.Run(tc.expr, func(t *testing.T) {
			s, err := plan.ParseReviewCron(tc.expr, hcmLoc)
			if err != nil {
				t.Fatalf("ParseReviewCron(%q): %v", tc.expr, err)
			}
			if got := s.Next(from); !got.Equal(tc.next) {
				t.Errorf("first fire after %s: got %s, want %s", from, got.In(hcmLoc), tc.next.In(hcmLoc))
			}
		})
	}
}

// Without a prefix the cron runs in the plan's zone: the default quarterly review fires at
// midnight in Hà Nội (17:00 UTC the day before), not at midnight UTC.
func TestParseReviewCronRunsInThePlanZone(t *testing.T) {
	s, err := plan.ParseReviewCron(plan.DefaultReviewCron, hcmLoc)
	if err != nil {
		t.Fatal(err)
	}
	got := s.Next(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)).UTC()
	if want := time.Date(2021, 3, 31, 17, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("first quarterly fire = %s UTC, want %s UTC (midnight 1 April in Hà Nội)", got, want)
	}
}

func TestParseReviewCronNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string // all must appear in the error
	}{
		{"0 0 1 13 *", []string{"month field", `"13"`}},
		{"61 * * * *", []string{"minute field", `"61"`}},
		{"* 25 * * *", []string{"hour field", `"25"`}},
		{"* * 0 * *", []string{"day of month field", `"0"`}},
		{"* * * * 8", []string{"day of week field", `"8"`}},
		{"0 0 1 1,4,7,10 * 2021", []string{"6 fields", "want 5"}},
		{"0 0 1 *", []string{"4 fields", "want 5"}},
		{"CRON_TZ=Mars/Base 0 0 * * *", []string{"unknown time zone", "Mars/Base"}},
		{"TZ=Mars/Base 0 0 * * *", []string{"unknown time zone", "Mars/Base"}},
		{"CRON_TZ=Asia/Ho_Chi_Minh", []string{"needs a schedule after it"}},
		{"@fortnightly", []string{"@fortnightly"}},
		{"", []string{"empty"}},
		{"   ", []string{"empty"}},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			for _, loc := range []*time.Location{hcmLoc, time.UTC} {
				s, err := plan.ParseReviewCron(tc.expr, loc)
				if err == nil {
					t.Fatalf("ParseReviewCron(%q, %s) accepted it (next fire %s); want an error", tc.expr, loc, s.Next(year2021Start))
				}
				for _, w := range tc.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("ParseReviewCron(%q, %s) = %q; want it to mention %q", tc.expr, loc, err, w)
					}
				}
			}
			// A plan with the cron is refused by its validation with the same words.
			_, err := plan.ReviewPeriods(tc.expr, hcmLoc, year2021Start, year2021End)
			if err == nil || !strings.Contains(err.Error(), tc.want[0]) {
				t.Errorf("ReviewPeriods(%q) = %v; want an error mentioning %q", tc.expr, err, tc.want[0])
			}
		})
	}
}

// Only the field at fault is named.
func TestParseReviewCronNamesOnlyTheBadField(t *testing.T) {
	_, err := plan.ParseReviewCron("0 0 1 13 *", hcmLoc)
	if err == nil {
		t.Fatal("month 13 accepted")
	}
	for _, other := range []string{"minute field", "hour field", "day of month field", "day of week field"} {
		if strings.Contains(err.Error(), other) {
			t.Errorf("error %q names the %s too", err, other)
		}
	}
}

func reviewYear(t *testing.T, expr string) []plan.ReviewPeriod {
	t.Helper()
	ps, err := plan.ReviewPeriods(expr, hcmLoc, year2021Start, year2021End)
	if err != nil {
		t.Fatalf("ReviewPeriods(%q): %v", expr, err)
	}
	return ps
}

// checkChain checks the windows follow one another from the period start, each ending at a
// fire of the cron, the last by the period end.
func checkChain(t *testing.T, expr string, ps []plan.ReviewPeriod) {
	t.Helper()
	if len(ps) == 0 {
		t.Fatalf("%q: no reviews", expr)
	}
	s, err := plan.ParseReviewCron(expr, hcmLoc)
	if err != nil {
		t.Fatal(err)
	}
	if !ps[0].Start.Equal(year2021Start) {
		t.Errorf("%q: first window starts %s, want the period start %s", expr, ps[0].Start, year2021Start)
	}
	labels := map[string]int{}
	prev := year2021Start
	for i, p := range ps {
		if !p.Start.Equal(prev) {
			t.Errorf("%q: window %d (%s) starts %s, want %s where the one before ended", expr, i, p.Label, p.Start, prev)
		}
		if !p.End.After(p.Start) {
			t.Errorf("%q: window %d (%s) is empty: %s..%s", expr, i, p.Label, p.Start, p.End)
		}
		// Every window ends at the next fire, but the last: with the time after the last fire
		// it ends at the period's end.
		want := s.Next(prev)
		if i == len(ps)-1 && want.After(year2021End) {
			want = year2021End
		}
		if !p.End.Equal(want) {
			t.Errorf("%q: window %d (%s) ends %s, want %s", expr, i, p.Label, p.End, want)
		}
		if p.End.After(year2021End) {
			t.Errorf("%q: window %d (%s) ends %s after the period end", expr, i, p.Label, p.End)
		}
		if j, dup := labels[p.Label]; dup {
			t.Errorf("%q: windows %d and %d are both labelled %s", expr, j, i, p.Label)
		}
		labels[p.Label] = i
		prev = p.End
	}
	if next := s.Next(prev); !next.After(year2021End) {
		t.Errorf("%q: the fire at %s, within the period, has no review", expr, next)
	}
}

func TestReviewPeriodsQuarterly(t *testing.T) {
	ps := reviewYear(t, plan.DefaultReviewCron)
	want := []plan.ReviewPeriod{
		{Label: "2021-Q1", Start: hcmDate(2021, 1, 1), End: hcmDate(2021, 4, 1)},
		{Label: "2021-Q2", Start: hcmDate(2021, 4, 1), End: hcmDate(2021, 7, 1)},
		{Label: "2021-Q3", Start: hcmDate(2021, 7, 1), End: hcmDate(2021, 10, 1)},
		{Label: "2021-Q4", Start: hcmDate(2021, 10, 1), End: hcmDate(2022, 1, 1)}, // the fire at the period end is included
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d reviews %v, want %d", len(ps), ps, len(want))
	}
	for i := range want {
		if ps[i].Label != want[i].Label || !ps[i].Start.Equal(want[i].Start) || !ps[i].End.Equal(want[i].End) {
			t.Errorf("review %d = %s %s..%s, want %s %s..%s", i, ps[i].Label, ps[i].Start.In(hcmLoc), ps[i].End.In(hcmLoc),
				want[i].Label, want[i].Start, want[i].End)
		}
	}
	checkChain(t, plan.DefaultReviewCron, ps)
	if !ps[len(ps)-1].End.Equal(year2021End) {
		t.Errorf("the last window ends %s, want the period end %s", ps[len(ps)-1].End, year2021End)
	}
}

func TestReviewPeriodsMonthly(t *testing.T) {
	ps := reviewYear(t, "@monthly")
	if len(ps) != 12 {
		t.Fatalf("got %d monthly reviews, want 12: %v", len(ps), ps)
	}
	for i, p := range ps {
		if want := fmt.Sprintf("2021-%02d", i+1); p.Label != want {
			t.Errorf("review %d labelled %s, want %s", i, p.Label, want)
		}
		if want := hcmDate(2021, time.Month(i+1), 1); !p.Start.Equal(want) {
			t.Errorf("review %s starts %s, want %s", p.Label, p.Start.In(hcmLoc), want)
		}
	}
	checkChain(t, "@monthly", ps)
	if !ps[11].End.Equal(year2021End) {
		t.Errorf("December's review ends %s, want %s", ps[11].End.In(hcmLoc), year2021End)
	}
}

func TestReviewPeriodsDaily(t *testing.T) {
	ps := reviewYear(t, "0 0 * * *")
	if len(ps) != 365 {
		t.Fatalf("got %d daily reviews in 2021, want 365", len(ps))
	}
	checkChain(t, "0 0 * * *", ps)
	// A day is labelled by the date its review runs.
	if ps[0].Label != "2021-01-02" || ps[364].Label != "2022-01-01" {
		t.Errorf("labels run %s..%s, want 2021-01-02..2022-01-01", ps[0].Label, ps[364].Label)
	}
	// 2021-02-28 → 2021-03-01 is still one day, not a "month".
	for _, p := range ps {
		if got := p.End.Sub(p.Start); got != 24*time.Hour {
			t.Errorf("review %s covers %s, want a day", p.Label, got)
		}
	}
}

func TestReviewPeriodsWeeklyChain(t *testing.T) {
	for _, expr := range []string{"@weekly", "CRON_TZ=Asia/Ho_Chi_Minh 30 8 * * 1"} {
		ps := reviewYear(t, expr)
		// 52 weeks, and the days after the last week's review up to the period's end.
		if len(ps) != 53 || !ps[52].End.Equal(year2021End) {
			t.Errorf("%q: %d weekly reviews in 2021, want 52 and the rest of the year", expr, len(ps))
		}
		checkChain(t, expr, ps)
	}
}

// A leap year's daily reviews (366) are still allowed: "at most daily".
func TestReviewPeriodsDailyInALeapYear(t *testing.T) {
	ps, err := plan.ReviewPeriods("0 0 * * *", hcmLoc, hcmDate(2024, 1, 1), hcmDate(2025, 1, 1))
	if err != nil || len(ps) != plan.MaxReviews {
		t.Fatalf("daily reviews of 2024: %d, %v; want %d", len(ps), err, plan.MaxReviews)
	}
}

func TestReviewPeriodsRefusesMoreThanDaily(t *testing.T) {
	for _, expr := range []string{"@every 1h", "@hourly", "0 */12 * * *"} {
		ps, err := plan.ReviewPeriods(expr, hcmLoc, year2021Start, year2021End)
		if err == nil {
			t.Errorf("%q: %d reviews accepted; want a refusal", expr, len(ps))
			continue
		}
		if !strings.Contains(err.Error(), fmt.Sprint(plan.MaxReviews)) {
			t.Errorf("%q: error %q does not name the limit %d", expr, err, plan.MaxReviews)
		}
	}
}

// fireTimes are the next n fires of expr after from, as robfig/cron computes them.
func fireTimes(t *testing.T, expr string, from time.Time, n int) []time.Time {
	t.Helper()
	s, err := plan.ParseReviewCron(expr, hcmLoc)
	if err != nil {
		t.Fatalf("ParseReviewCron(%q): %v", expr, err)
	}
	var out []time.Time
	for next := s.Next(from); len(out) < n; next = s.Next(next) {
		if next.IsZero() {
			t.Fatalf("%q stops firing after %d fires", expr, len(out))
		}
		out = append(out, next)
	}
	return out
}

// calendarInstant is the single instant (UTC, the schedule's default zone) a calendar of the
// Temporal Schedule matches, after checking it matches exactly one.
func calendarInstant(t *testing.T, c client.ScheduleCalendarSpec) time.Time {
	t.Helper()
	one := func(name string, r []client.ScheduleRange) int {
		t.Helper()
		if len(r) != 1 || (r[0].End != 0 && r[0].End != r[0].Start) || r[0].Step > 1 {
			t.Fatalf("%s: calendar %s matches %+v, want a single value", c.Comment, name, r)
		}
		return r[0].Start
	}
	at := time.Date(one("year", c.Year), time.Month(one("month", c.Month)), one("day of month", c.DayOfMonth),
		one("hour", c.Hour), one("minute", c.Minute), one("second", c.Second), 0, time.UTC)
	// The weekday must not restrict the date (Temporal would AND it with the day of month).
	if len(c.DayOfWeek) != 0 && !(len(c.DayOfWeek) == 1 && c.DayOfWeek[0].Start == 0 && c.DayOfWeek[0].End == 6 && c.DayOfWeek[0].Step <= 1) {
		t.Errorf("%s: calendar day of week %+v restricts the date", c.Comment, c.DayOfWeek)
	}
	return at
}

// The Temporal Schedule fires at exactly robfig's times: at clock scale 1 each period's calendar
// (UTC, exact to the second) is the robfig fire that ends the period.
func TestReviewCalendarsMatchRobfigFires(t *testing.T) {
	from := year2021Start
	clock := plan.NewClock(from, 1, demoLaunch) // scale 1: the calendar
	for _, expr := range []string{
		"CRON_TZ=Asia/Ho_Chi_Minh 0 0 1 1,4,7,10 *",
		"CRON_TZ=Asia/Ho_Chi_Minh 30 8 * * 1",
		"CRON_TZ=UTC 0 */6 * * *",
		// robfig ORs a restricted day of month with a restricted day of week; Temporal's own cron
		// would not. Exact calendars keep robfig's reading.
		"CRON_TZ=Asia/Ho_Chi_Minh 0 9 1,15 * 1",
		// A zone with daylight saving: both readers agree on the instants, written in UTC.
		"CRON_TZ=Europe/Berlin 30 1 * 3,10 0",
		"TZ=America/New_York 15 23 28-31 * *",
	} {
		t.Run(expr, func(t *testing.T) {
			const n = 40
			fires := fireTimes(t, expr, from, n)
			ps, err := plan.ReviewPeriods(expr, hcmLoc, from, fires[n-1])
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != n {
				t.Fatalf("%d review periods up to the %dth fire, want %d", len(ps), n, n)
			}
			cals := activities.ReviewCalendars(clock, ps)
			if len(cals) != n {
				t.Fatalf("%d calendars for %d periods", len(cals), n)
			}
			for i, c := range cals {
				if !ps[i].End.Equal(fires[i]) {
					t.Errorf("period %s ends %s, robfig fires at %s", ps[i].Label, ps[i].End, fires[i])
				}
				got := calendarInstant(t, c)
				if want := fires[i].UTC(); !got.Equal(want) {
					t.Errorf("calendar %d (%s) fires %s UTC, robfig's fire is %s UTC", i, c.Comment, got, want)
				}
				if rf := plan.RealFire(clock, ps[i]); !got.Equal(rf) {
					t.Errorf("calendar %d fires %s, RealFire is %s", i, got, rf)
				}
				if !strings.Contains(c.Comment, ps[i].Label) {
					t.Errorf("calendar %d comment %q does not name its review %s", i, c.Comment, ps[i].Label)
				}
			}
			if t.Failed() {
				return
			}
			// The reading of robfig the test relies on, spelled out for two of them.
			switch expr {
			case "CRON_TZ=Asia/Ho_Chi_Minh 0 9 1,15 * 1":
				// Friday 1 January (the 1st), Monday 4 and 11 January (Mondays), Friday 15 January.
				want := []time.Time{time.Date(2021, 1, 1, 9, 0, 0, 0, hcmLoc), time.Date(2021, 1, 4, 9, 0, 0, 0, hcmLoc),
					time.Date(2021, 1, 11, 9, 0, 0, 0, hcmLoc), time.Date(2021, 1, 15, 9, 0, 0, 0, hcmLoc)}
				if !fires[0].Equal(want[0]) || !fires[1].Equal(want[1]) || !fires[2].Equal(want[2]) || !fires[3].Equal(want[3]) {
					t.Errorf("fires %v do not OR day of month and day of week", fires[:4])
				}
			case "CRON_TZ=Asia/Ho_Chi_Minh 30 8 * * 1":
				if got := calendarInstant(t, cals[0]); !got.Equal(time.Date(2021, 1, 4, 1, 30, 0, 0, time.UTC)) {
					t.Errorf("first Monday 08:30 in Hà Nội written as %s UTC, want 2021-01-04 01:30 UTC", got)
				}
			}
		})
	}
}

// On a compressed clock the calendars are the real instants of the fires, truncated to the
// second (a schedule's resolution; the review's workflow waits the rest), and each review keeps
// a second of its own.
func TestReviewCalendarsCompressedClock(t *testing.T) {
	clock := plan.NewClock(year2021Start, demoScale, demoLaunch)
	for _, expr := range []string{
		plan.DefaultReviewCron,
		"@monthly",
		"CRON_TZ=Asia/Ho_Chi_Minh 30 8 * * 1",
	} {
		t.Run(expr, func(t *testing.T) {
			ps := reviewYear(t, expr)
			cals := activities.ReviewCalendars(clock, ps)
			if len(cals) != len(ps) {
				t.Fatalf("%d calendars for %d reviews", len(cals), len(ps))
			}
			var prev time.Time
			for i, c := range cals {
				got := calendarInstant(t, c)
				exact := clock.RealTime(ps[i].End)
				if got.After(exact) || exact.Sub(got) >= time.Second || got.Nanosecond() != 0 {
					t.Errorf("review %s: calendar %s is not the real fire %s truncated to the second", ps[i].Label, got, exact)
				}
				if rf := plan.RealFire(clock, ps[i]); !got.Equal(rf) {
					t.Errorf("review %s: calendar %s, RealFire %s", ps[i].Label, got, rf)
				}
				if !got.After(prev) {
					t.Errorf("review %s: calendar %s is not after the one before (%s)", ps[i].Label, got, prev)
				}
				prev = got
			}
			// A year takes two minutes: the last review fires 120 s after the launch.
			if last := clock.RealTime(ps[len(ps)-1].End).Sub(demoLaunch); ps[len(ps)-1].End.Equal(year2021End) &&
				(last < 119*time.Second || last > 121*time.Second) {
				t.Errorf("the year's last review fires %s after the launch, want 120s", last)
			}
		})
	}
}

// Each schedule fire reviews its own period: at the nominal time of a period's calendar,
// PeriodAt picks that period — on the calendar and on the demo's compressed clock.
func TestEachFireReviewsItsOwnPeriod(t *testing.T) {
	for _, expr := range []string{plan.DefaultReviewCron, "@monthly", "CRON_TZ=Asia/Ho_Chi_Minh 30 8 * * 1"} {
		ps := reviewYear(t, expr)
		for _, clock := range []plan.Clock{
			plan.NewClock(year2021Start, 1, demoLaunch),
			plan.NewClock(year2021Start, demoScale, demoLaunch),
		} {
			for i, c := range activities.ReviewCalendars(clock, ps) {
				nominal := calendarInstant(t, c)
				got, ok := plan.PeriodAt(clock, ps, nominal)
				if !ok || got.Label != ps[i].Label {
					t.Errorf("%q at scale %g: the fire of %s (%s) picks %q (ok=%v)", expr, clock.Scale, ps[i].Label, nominal, got.Label, ok)
				}
			}
		}
	}
}

// Reviews as often as the plan allows (daily) on the sample plan's clock (262,800: a day of
// campaign time is a third of a real second). A user expects the plan either refused, naming
// review.cron, or each day's review run once by the schedule, and never before its day has
// ended. (Found at commit 043166a: the plan was accepted, about three fires rounded up to the
// same second, so ReviewCalendars wrote the same calendar for them and the schedule fired once,
// and PeriodAt's second of slack handed that fire a day whose window had not ended yet.)
func TestDailyReviewsOnTheDemoClock(t *testing.T) {
	files := testFiles()
	edit(t, files, "plan.yaml", "clock:\n  scale: 1\n", "clock:\n  scale: 262800\n")
	files["plan.yaml"] += "review:\n  cron: \"0 0 * * *\"\n"
	lp, err := parse(files)
	if err != nil {
		if !strings.Contains(err.Error(), "review.cron") {
			t.Fatalf("plan refused, but not for its review.cron: %v", err)
		}
		return // refused, naming the cron: what the user needs
	}
	spec, err := lp.Spec()
	if err != nil {
		t.Fatal(err)
	}
	ps := spec.Reviews
	if len(ps) != 365 {
		t.Fatalf("%d daily reviews, want 365", len(ps))
	}
	clock := plan.NewClock(spec.PeriodStart, spec.Scale, demoLaunch)
	seen := map[time.Time]string{}
	dups := 0
	for i, c := range activities.ReviewCalendars(clock, ps) {
		at := calendarInstant(t, c)
		if other, dup := seen[at]; dup {
			if dups++; dups <= 3 {
				t.Errorf("reviews %s and %s have the same calendar %s: the schedule fires once for both", other, ps[i].Label, at)
			}
		}
		seen[at] = ps[i].Label
	}
	if dups > 3 {
		t.Errorf("… %d reviews in all share a calendar with another", dups)
	}
	reviewed := map[string]bool{}
	early := 0
	fires := slices.SortedFunc(maps.Keys(seen), time.Time.Compare)
	for _, at := range fires {
		p, ok := plan.PeriodAt(clock, ps, at)
		if !ok {
			continue
		}
		reviewed[p.Label] = true
		if end := clock.RealTime(p.End); end.After(at) {
			if early++; early <= 3 {
				t.Errorf("the fire at %s reviews %s, whose window ends %s later (%s of campaign time)",
					at.Format("15:04:05"), p.Label, end.Sub(at), clock.CampaignTime(end).Sub(clock.CampaignTime(at)).Round(time.Minute))
			}
		}
	}
	if early > 3 {
		t.Errorf("… %d fires in all review a day that has not ended", early)
	}
	if len(reviewed) != len(ps) {
		t.Errorf("%d of the %d daily reviews are never run by the schedule", len(ps)-len(reviewed), len(ps))
	}
}

func TestPeriodAt(t *testing.T) {
	ps := reviewYear(t, plan.DefaultReviewCron)
	for _, clock := range []plan.Clock{
		plan.NewClock(year2021Start, 1, demoLaunch),
		plan.NewClock(year2021Start, demoScale, demoLaunch),
	} {
		t.Run(fmt.Sprintf("scale %g", clock.Scale), func(t *testing.T) {
			real := func(campaignTime time.Time) time.Time { return clock.RealTime(campaignTime) }
			fire := func(i int) time.Time { return plan.RealFire(clock, ps[i]) }
			between := func(i int) time.Time { return fire(i).Add(fire(i+1).Sub(fire(i)) / 2) }
			for _, tc := range []struct {
				name    string
				nominal time.Time
				want    string // "" : nothing to review
			}{
				{"at the launch", real(year2021Start), ""},
				{"mid-quarter before the first fire", real(hcmDate(2021, 2, 15)), ""},
				{"two real seconds before the first fire", fire(0).Add(-2 * time.Second), ""},
				{"at the first fire", fire(0), "2021-Q1"},
				{"at Q1's exact campaign end (before rounding)", real(ps[0].End), "2021-Q1"},
				{"between the first two fires", between(0), "2021-Q1"},
				{"two real seconds before the second fire", fire(1).Add(-2 * time.Second), "2021-Q1"},
				// A coordinator's trigger ("the review due now") just before Q2's fire: on the
				// demo clock up to three days of Q2 are still to come. (From the fire on, Q2 is
				// picked, and its review waits for Q2's end: TestReviewRunsAtItsCampaignTime.)
				{"a trigger just before Q2's fire", fire(1).Add(-time.Nanosecond), "2021-Q1"},
				{"at the second fire", fire(1), "2021-Q2"},
				{"between the third and fourth fires", between(2), "2021-Q3"},
				{"at the last fire", fire(3), "2021-Q4"},
				{"a year after the last fire (catch-up)", fire(3).Add(365 * 24 * time.Hour), "2021-Q4"},
			} {
				p, ok := plan.PeriodAt(clock, ps, tc.nominal)
				switch {
				case tc.want == "" && ok:
					t.Errorf("%s (%s): picked %s, want nothing to review", tc.name, tc.nominal, p.Label)
				case tc.want != "" && (!ok || p.Label != tc.want):
					t.Errorf("%s (%s): picked %q (ok=%v), want %s", tc.name, tc.nominal, p.Label, ok, tc.want)
				}
			}
		})
	}
	if _, ok := plan.PeriodAt(plan.NewClock(year2021Start, 1, demoLaunch), nil, demoLaunch); ok {
		t.Error("PeriodAt without periods picked one")
	}
}

// A quarterly review on the demo's clock runs at 00:00 of its day in campaign time: the
// schedule fires on the whole second before the period's end (a second is three campaign days
// at 262,800) and the review's workflow waits the rest. (Rounded up, with no wait, the reviews
// ran at 06:47, or 00:44 the next day.)
func TestReviewRunsAtItsCampaignTime(t *testing.T) {
	for _, launch := range []time.Time{demoLaunch, demoLaunch.Add(123456789), demoLaunch.Add(987654321)} {
		clock := plan.NewClock(year2021Start, demoScale, launch)
		for _, p := range reviewYear(t, plan.DefaultReviewCron) {
			fire := plan.RealFire(clock, p)
			exact := clock.RealTime(p.End)
			if fire.Nanosecond() != 0 || fire.After(exact) || exact.Sub(fire) >= time.Second {
				t.Errorf("%s: RealFire %s is not the real end %s truncated to the second", p.Label, fire, exact)
			}
			if at := clock.CampaignTime(fire); at.After(p.End) {
				t.Errorf("%s: the schedule fires at %s campaign time, after the period's end %s", p.Label, at, p.End)
			}
			runs := clock.CampaignTime(fire.Add(plan.ReviewWait(clock, p, fire))).In(hcmLoc)
			if got, want := runs.Format("2006-01-02 15:04"), p.End.In(hcmLoc).Format("2006-01-02")+" 00:00"; got != want {
				t.Errorf("%s (launched %s): the review runs at %s campaign time, want %s", p.Label, launch.Format(time.RFC3339Nano), got, want)
			}
			if w := plan.ReviewWait(clock, p, exact.Add(time.Millisecond)); w != 0 {
				t.Errorf("%s: a review started after its end waits %s", p.Label, w)
			}
		}
	}
}

// RealFire truncates to the whole second: on the calendar a midnight fire is already whole.
func TestRealFireOnTheCalendar(t *testing.T) {
	p := plan.ReviewPeriod{Label: "x", Start: year2021Start, End: hcmDate(2021, 4, 1)}
	// On the calendar a midnight fire is already whole.
	c1 := plan.NewClock(year2021Start, 1, demoLaunch)
	if got := plan.RealFire(c1, p); !got.Equal(p.End) {
		t.Errorf("RealFire at scale 1 = %s, want %s", got, p.End)
	}
}

// A cron that never fires in the period still leaves the campaign's final review.
func TestReviewPeriodsNeverFiringLeavesTheFinalReview(t *testing.T) {
	ps := reviewYear(t, "0 0 30 2 *")
	if len(ps) != 1 || !ps[0].Start.Equal(year2021Start) || !ps[0].End.Equal(year2021End) {
		t.Fatalf("got %+v, want one review of the whole period", ps)
	}
}

// When daylight saving ends, 02:00 occurs twice in Berlin and robfig fires at both; each fire
// is a review of its own, so each has a label of its own (the label names its workflow).
// (Found by FuzzReviewCron: both were labelled 2020-10-25T02:00.)
func TestReviewPeriodsRepeatedHourHasDistinctLabels(t *testing.T) {
	berlin := mustLoad("Europe/Berlin")
	ps, err := plan.ReviewPeriods("0 2 * * 0", berlin, time.Date(2020, 10, 20, 0, 0, 0, 0, berlin), time.Date(2020, 10, 27, 0, 0, 0, 0, berlin))
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, p := range ps {
		labels = append(labels, p.Label)
	}
	want := []string{"2020-10-25T02:00", "2020-10-25T02:00+01:00", "2020-10-27"}
	if !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
}
