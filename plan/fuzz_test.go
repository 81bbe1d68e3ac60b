package plan_test

// Fuzz targets of the plan parser and of the review cron (run them with `make fuzz`; the seed
// corpora in testdata/fuzz run with every `go test`). Each checks what a user relies on, not
// only that nothing panics: a refused plan or cron names the file, field or line at fault; an
// accepted plan survives the JSON trip to the workflows unchanged and gives a spec with exact
// quota sums; an accepted cron gives review windows that chain, and the Temporal Schedule's
// calendars fire exactly at robfig's times.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.temporal.io/sdk/client"

	"drives/activities"

	"drives/plan"
)

// A plan-file problem without a field must still say where: a YAML line, or one of the few
// problems of a whole file.
var (
	nineDigits       = regexp.MustCompile(`[0-9]{9,}`)
	lineRe           = regexp.MustCompile(`\bline [0-9]+\b`)
	fieldRe          = regexp.MustCompile(`^(line [0-9]+(: [a-z_]+)?|[a-z_]+(\[[0-9]+\])?(\.[a-z_]+(\[[0-9]+\])?)*)$`)
	wholeFileProblem = []string{"more than one YAML document", "the file is empty", "cannot read", "has no villages", "has no agent or staff member"}
)

func safeParsePlan(files map[string][]byte) (lp *plan.Loaded, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("ParsePlan panicked: %v", p)
		}
	}()
	fsys := fstest.MapFS{}
	for n, b := range files {
		fsys[n] = &fstest.MapFile{Data: b}
	}
	return plan.Parse("plan.yaml", files["plan.yaml"], fsys)
}

// FuzzParsePlan feeds ParsePlan — what LoadPlan runs on a plan file and the files it names —
// a plan and its three CSV files.
//
// Refused: the error is PlanErrors, each problem in the plan or a file it names and saying where
// (a field path, a line, or a whole-file problem), never quoting a roster member's name or
// phone number. Accepted: the plan is what the coordinator stores as JSON and the workflow
// reads back (activities.loadPlan), so the JSON trip gives back the same plan and the same
// spec; the spec's district targets sum to the city target, which is positive; every commune
// has villages and someone to hold its quota; the same input always gives the same hash.
func FuzzParsePlan(f *testing.F) {
	base := testFiles()
	f.Add([]byte(base["plan.yaml"]), []byte(base["units.csv"]), []byte(base["villages.csv"]), []byte(base["roster.csv"]))
	f.Fuzz(func(t *testing.T, planYAML, units, villages, roster []byte) {
		files := map[string][]byte{"plan.yaml": planYAML, "units.csv": units, "villages.csv": villages, "roster.csv": roster}
		lp, err := safeParsePlan(files)
		if err != nil {
			checkPlanRefusal(t, err, planYAML, roster)
			return
		}
		checkAcceptedPlan(t, lp, files)
	})
}

func checkPlanRefusal(t *testing.T, err error, planYAML, roster []byte) {
	t.Helper()
	var errs plan.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("refused with %T, not PlanErrors: %v", err, err)
	}
	if len(errs) == 0 {
		t.Fatalf("refused with no problem listed: %v", err)
	}
	for _, e := range errs {
		// The plan file, or a file it names.
		if e.File != "plan.yaml" && (e.File == "" || !bytes.Contains(planYAML, []byte(e.File))) {
			t.Errorf("problem names file %q, which the plan does not name: %v", e.File, e)
		}
		if e.Msg == "" {
			t.Errorf("problem without a reason: %+v", e)
		}
		switch {
		case e.Field != "":
			if !fieldRe.MatchString(e.Field) {
				t.Errorf("problem's field %q is not a field path or a line: %v", e.Field, e)
			}
		case lineRe.MatchString(e.Msg):
		case slices.ContainsFunc(wholeFileProblem, func(s string) bool { return strings.Contains(e.Msg, s) }):
		default:
			t.Errorf("problem does not say where (no field, no line): %v", e)
		}
	}
	// A roster member's name and phone number stay out of the error, wherever a shifted
	// column put them.
	text := err.Error()
	for _, e := range errs {
		if d := nineDigits.FindString(e.Error()); e.File == "roster.csv" && d != "" {
			t.Errorf("roster problem repeats %s, which may be a phone number: %v", d, e)
		}
	}
	for _, v := range rosterPersonalData(roster) {
		if strings.Contains(text, v) {
			t.Errorf("error quotes roster personal data %q:\n%s", v, text)
		}
	}
}

// rosterPersonalData lists the names and phone numbers of a roster, as far as its lines can be
// read, that are long enough to be told apart from a code.
func rosterPersonalData(roster []byte) []string {
	var out []string
	for i, l := range strings.Split(string(roster), "\n") {
		if i == 0 {
			continue
		}
		f := strings.Split(l, ",")
		for _, j := range []int{4, 5} { // full_name, phone
			if j < len(f) {
				if v := strings.TrimSpace(f[j]); len(v) >= 6 && !strings.ContainsAny(v, `"`) {
					out = append(out, v)
				}
			}
		}
	}
	return out
}

func checkAcceptedPlan(t *testing.T, lp *plan.Loaded, files map[string][]byte) {
	t.Helper()
	spec, err := lp.Spec()
	if err != nil {
		t.Fatalf("accepted plan gives no spec: %v", err)
	}
	// The trip through the campaigns table and the workflow's LoadPlan activity.
	body, err := json.Marshal(lp)
	if err != nil {
		t.Fatalf("accepted plan cannot be stored as JSON: %v", err)
	}
	var back plan.Loaded
	if err := json.Unmarshal(body, &back); err != nil {
		t.Fatalf("stored plan does not decode: %v\n%s", err, body)
	}
	if !reflect.DeepEqual(&back, lp) {
		t.Fatalf("stored plan decodes differently:\n got %+v\nwant %+v", back.Plan, lp.Plan)
	}
	spec2, err := back.Spec()
	if err != nil || !reflect.DeepEqual(spec2, spec) {
		t.Fatalf("stored plan gives a different spec (%v)", err)
	}
	// The spec is a workflow payload (JSON) too.
	sb, err := json.Marshal(spec)
	if err != nil {
		t.Fatalf("spec cannot be a payload: %v", err)
	}
	var specBack plan.Spec
	if err := json.Unmarshal(sb, &specBack); err != nil {
		t.Fatalf("spec payload does not decode: %v", err)
	}
	if sb2, _ := json.Marshal(specBack); string(sb2) != string(sb) {
		t.Fatalf("spec payload changes in a round trip:\n%s\n%s", sb, sb2)
	}

	if spec.Target <= 0 || spec.Target != lp.CityTarget() {
		t.Fatalf("spec target %d, city target %d", spec.Target, lp.CityTarget())
	}
	sum := 0
	for _, d := range spec.Districts {
		if d.Target < 0 {
			t.Fatalf("district %s target %d", d.Code, d.Target)
		}
		sum += d.Target
	}
	if sum != spec.Target {
		t.Fatalf("district targets sum to %d, city target %d", sum, spec.Target)
	}
	holders := map[string]bool{}
	for _, a := range lp.Roster {
		holders[a.Commune] = true
	}
	for _, d := range lp.Units.Districts {
		for _, c := range d.Communes {
			if len(c.Villages) == 0 || !holders[c.Code] {
				t.Fatalf("commune %s accepted with %d villages, holder %v", c.Code, len(c.Villages), holders[c.Code])
			}
		}
	}
	if len(spec.Reviews) == 0 || !spec.Reviews[len(spec.Reviews)-1].End.Equal(spec.PeriodEnd) {
		t.Fatalf("the reviews do not end with the period: %+v", spec.Reviews)
	}
	labels := map[string]bool{}
	for _, r := range spec.Reviews {
		if labels[r.Label] {
			t.Fatalf("two reviews labelled %s (one workflow ID)", r.Label)
		}
		labels[r.Label] = true
	}
	for _, e := range spec.Events {
		if e.At.Before(spec.PeriodStart) || !e.At.Before(spec.PeriodEnd) {
			t.Fatalf("event %s at %s, outside the period", e.ID, e.At)
		}
	}
	again, err := safeParsePlan(files)
	if err != nil || again.Hash != lp.Hash {
		t.Fatalf("the same input parsed again: %v, hash %v vs %s", err, again, lp.Hash)
	}
}

// Cron ------------------------------------------------------------------------------------

// cronZones are the plan time zones the cron target picks from: the reference zone, UTC, and
// zones with daylight saving (some hours occur twice or never).
var cronZones = []string{"Asia/Ho_Chi_Minh", "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago"}

// cronScales are the clocks the cron target picks from: the calendar, and compressed clocks up
// to the demo's (a year in two minutes).
var cronScales = []float64{1, 60, 8760, 262800}

// A refused cron names where it is wrong (a descriptor's error starts with it, quoted).
var cronWhere = []string{"minute field", "hour field", "day of month field", "month field", "day of week field",
	"fields; want 5", "unknown time zone", "needs a schedule after it", "is empty"}

// FuzzReviewCron feeds the review cron of a plan (an expression, its zone, the campaign period
// and clock) through ParseReviewCron, ReviewPeriods and activities.ReviewCalendars.
//
// Refused: the error names the field (or the prefix, the descriptor, the count of fields), and
// ReviewPeriods refuses it with the same words. Accepted: the review windows chain from the
// period start to its end, each ending at robfig's next fire, with distinct labels; and the
// Temporal Schedule's calendars, read as Temporal reads them (every range, its defaults, the
// day of week ANDed, in UTC), fire at exactly the real instants of those fires through the
// campaign clock, rounded up to the second — once each, in order.
func FuzzReviewCron(f *testing.F) {
	for _, s := range []string{plan.DefaultReviewCron, "@monthly", "@every 720h", "CRON_TZ=Europe/Berlin 30 2 * * *",
		"0 9 1,15 * 1", "* * 0 * *", "0 0 1 13 *"} {
		f.Add(s, uint8(0), uint16(0), uint16(365), uint8(0))
	}
	f.Fuzz(func(t *testing.T, expr string, zone uint8, startDay, days uint16, scale uint8) {
		loc := mustLoad(cronZones[int(zone)%len(cronZones)])
		start := time.Date(2020, 1, 1, 0, 0, 0, 0, loc).AddDate(0, 0, int(startDay%1500))
		end := start.AddDate(0, 0, 1+int(days%400))
		clock := plan.NewClock(start, cronScales[int(scale)%len(cronScales)], demoLaunch)

		s, err := plan.ParseReviewCron(expr, loc)
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, `"@`) && !slices.ContainsFunc(cronWhere, func(w string) bool { return strings.Contains(msg, w) }) {
				t.Fatalf("ParseReviewCron(%q) = %q: does not say where", expr, msg)
			}
			if _, perr := plan.ReviewPeriods(expr, loc, start, end); perr == nil || perr.Error() != msg {
				t.Fatalf("ReviewPeriods(%q) = %v; ParseReviewCron said %q", expr, perr, msg)
			}
			return
		}
		ps, err := plan.ReviewPeriods(expr, loc, start, end)
		if err != nil {
			if !strings.Contains(err.Error(), fmt.Sprintf("fires more than %d times", plan.MaxReviews)) {
				t.Fatalf("ReviewPeriods(%q) refused a cron ParseReviewCron accepts: %v", expr, err)
			}
			return
		}
		checkWindows(t, expr, s, ps, start, end)
		checkCalendars(t, clock, ps)
	})
}

// checkWindows: the windows chain from start to end; every one but the last ends at robfig's
// next fire, the last at the next fire or the period's end; labels are distinct (each is a
// review's workflow ID).
func checkWindows(t *testing.T, expr string, s interface{ Next(time.Time) time.Time }, ps []plan.ReviewPeriod, start, end time.Time) {
	t.Helper()
	if len(ps) == 0 || len(ps) > plan.MaxReviews+1 {
		t.Fatalf("%q: %d review windows", expr, len(ps))
	}
	prev := start
	labels := map[string]int{}
	for i, p := range ps {
		next := s.Next(prev)
		want := next
		if i == len(ps)-1 && (next.IsZero() || next.After(end)) {
			want = end
		}
		if !p.Start.Equal(prev) || !p.End.Equal(want) || !p.End.After(p.Start) {
			t.Fatalf("%q: window %d (%s) is %s..%s, want %s..%s", expr, i, p.Label, p.Start, p.End, prev, want)
		}
		if j, dup := labels[p.Label]; dup {
			t.Fatalf("%q: windows %d (%s..%s) and %d (%s..%s) are both labelled %s", expr,
				j, ps[j].Start, ps[j].End, i, p.Start, p.End, p.Label)
		}
		labels[p.Label] = i
		prev = p.End
	}
	if next := s.Next(prev); !next.IsZero() && !next.After(end) {
		t.Fatalf("%q: the fire at %s, within the period, has no review", expr, next)
	}
}

// checkCalendars reads the schedule's calendars as Temporal does and compares the instants
// they match with the review fires through the clock.
func checkCalendars(t *testing.T, clock plan.Clock, ps []plan.ReviewPeriod) {
	t.Helper()
	cals := activities.ReviewCalendars(clock, ps)
	if len(cals) != len(ps) {
		t.Fatalf("%d calendars for %d reviews", len(cals), len(ps))
	}
	lo := clock.RealTime(ps[0].Start).Add(-time.Second)
	hi := clock.RealTime(ps[len(ps)-1].End).Add(2 * time.Second)
	var prev time.Time
	for i, c := range cals {
		exact := clock.RealTime(ps[i].End)
		want := exact.Truncate(time.Second) // the review's workflow waits the rest
		got := calendarFires(t, c, lo, hi)
		if len(got) != 1 || !got[0].Equal(want) {
			t.Fatalf("calendar %d (%s) fires at %v; the review fires at %s (campaign time %s)", i, c.Comment, got, want, ps[i].End)
		}
		// Fires at least MinReviewGap apart (what ParsePlan demands of a plan) keep their order.
		if i > 0 && exact.Sub(clock.RealTime(ps[i-1].End)) >= plan.MinReviewGap && !got[0].After(prev) {
			t.Fatalf("calendar %d fires at %s, not after the one before (%s)", i, got[0], prev)
		}
		prev = got[0]
	}
}

// calendarFires lists the instants in [lo, hi] a calendar of a Temporal Schedule matches, as
// the schedule spec defines them (no time zone named: UTC; a missing second, minute or hour
// matches 0; a missing day, month, year or weekday matches all; a range's End defaults to
// its Start, its Step to 1; the day of month and the day of week must both match).
func calendarFires(t *testing.T, c client.ScheduleCalendarSpec, lo, hi time.Time) []time.Time {
	t.Helper()
	values := func(rs []client.ScheduleRange, def []client.ScheduleRange, lowest, highest int) []int {
		if len(rs) == 0 {
			rs = def
		}
		var out []int
		for _, r := range rs {
			end, step := r.End, r.Step
			if end < r.Start {
				end = r.Start
			}
			if step <= 0 {
				step = 1
			}
			for v := max(r.Start, lowest); v <= end && v <= highest; v += step {
				if (v-r.Start)%step == 0 {
					out = append(out, v)
				}
			}
		}
		return out
	}
	all := func(a, b int) []client.ScheduleRange { return []client.ScheduleRange{{Start: a, End: b}} }
	zero := all(0, 0)
	years := values(c.Year, all(lo.UTC().Year(), hi.UTC().Year()), lo.UTC().Year(), hi.UTC().Year())
	months := values(c.Month, all(1, 12), 1, 12)
	days := values(c.DayOfMonth, all(1, 31), 1, 31)
	hours := values(c.Hour, zero, 0, 23)
	minutes := values(c.Minute, zero, 0, 59)
	seconds := values(c.Second, zero, 0, 59)
	weekdays := values(c.DayOfWeek, all(0, 6), 0, 6)
	if n := len(years) * len(months) * len(days) * len(hours) * len(minutes) * len(seconds); n > 1_000_000 {
		t.Fatalf("calendar %s matches %d instants a window", c.Comment, n)
	}
	var out []time.Time
	for _, y := range years {
		for _, mo := range months {
			for _, d := range days {
				if time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Day() != d {
					continue // 30 February and the like
				}
				if !slices.Contains(weekdays, int(time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC).Weekday())) {
					continue
				}
				for _, h := range hours {
					for _, mi := range minutes {
						for _, s := range seconds {
							at := time.Date(y, time.Month(mo), d, h, mi, s, 0, time.UTC)
							if !at.Before(lo) && !at.After(hi) {
								out = append(out, at)
							}
						}
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// The valid plans of FuzzParsePlan's seed corpus are accepted, so the target's checks of an
// accepted plan run on them with every `go test`.
func TestFuzzCorpusValidPlansAreAccepted(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzParsePlan", "valid-*"))
	if err != nil || len(files) < 3 {
		t.Fatalf("valid seeds: %v %v", files, err)
	}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if len(lines) != 5 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s is not a seed of four files", file)
		}
		files := map[string][]byte{}
		for i, name := range []string{"plan.yaml", "units.csv", "villages.csv", "roster.csv"} {
			s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[i+1], "[]byte("), ")"))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			files[name] = []byte(s)
		}
		if _, err := safeParsePlan(files); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
}
