package activities_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"drives/activities"
	"drives/internal/testenv"
	"drives/plan"
)

// The Temporal server itself reads the review schedule's calendars as robfig/cron reads the
// plan's cron: the next (up to ten) action times a dev server gives for a schedule made of
// ReviewCalendars are the first review fires. (FuzzReviewCron checks the same against the
// schedule spec as documented, for any cron; this asks the server, for a few that robfig and
// Temporal's own cron would read differently.)
func TestReviewCalendarsFireOnTheServerAtRobfigsTimes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sc := testenv.SharedDevServer(t).Client().ScheduleClient()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// Periods in the future (fires of the past are not next actions), at clock scale 1.
	for i, c := range []struct {
		expr  string
		loc   *time.Location
		start time.Time
	}{
		{plan.DefaultReviewCron, hcm, time.Date(2031, 1, 1, 0, 0, 0, 0, hcm)},
		// robfig ORs a restricted day of month with a restricted day of week.
		{"0 9 1,15 * 1", hcm, time.Date(2031, 1, 1, 0, 0, 0, 0, hcm)},
		// Daylight saving ends on 26 October 2031: 02:00 comes twice, and robfig fires at both.
		{"0 2 * * 0", berlin, time.Date(2031, 9, 20, 0, 0, 0, 0, berlin)},
		// and begins on 30 March: 02:30 does not exist that day.
		{"30 2 * * *", berlin, time.Date(2031, 3, 25, 0, 0, 0, 0, berlin)},
		{"TZ=America/New_York 15 23 28-31 * *", hcm, time.Date(2031, 1, 1, 0, 0, 0, 0, hcm)},
		{"@every 100h", hcm, time.Date(2031, 1, 1, 0, 0, 0, 0, hcm)},
	} {
		t.Run(c.expr, func(t *testing.T) {
			ps, err := plan.ReviewPeriods(c.expr, c.loc, c.start, c.start.AddDate(1, 0, 0))
			if err != nil {
				t.Fatal(err)
			}
			// The first ten reviews (or all but the last, which ends with the period).
			k := min(10, len(ps)-1)
			if k < 3 {
				t.Fatalf("%d review periods, want more", len(ps))
			}
			clock := plan.NewClock(c.start, 1, time.Now())
			id := fmt.Sprintf("calendars-%d-%d", i, time.Now().UnixNano())
			h, err := sc.Create(ctx, client.ScheduleOptions{
				ID:     id,
				Spec:   client.ScheduleSpec{Calendars: activities.ReviewCalendars(clock, ps)},
				Action: &client.ScheduleWorkflowAction{ID: id, Workflow: "never-run", TaskQueue: "no-worker"},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = h.Delete(context.WithoutCancel(ctx)) }()
			d, err := h.Describe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			next := d.Info.NextActionTimes
			if len(next) < k {
				t.Fatalf("the server gives %d next action times, want %d", len(next), k)
			}
			var got, want []string
			for j := range k {
				got = append(got, next[j].UTC().Format(time.RFC3339))
				want = append(want, plan.RealFire(clock, ps[j]).UTC().Format(time.RFC3339))
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("the server fires at\n%s\nrobfig at\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
