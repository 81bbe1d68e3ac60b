package workflows_test

import (
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"drives/activities"
	"drives/campaign"
	"drives/plan"
	"drives/workflows"
)

// Coordinators steer a running campaign through Updates with validators and read it through the
// progress Query. Each test runs a whole calendar year (Scale 1, launched a few days before the
// period) with three real district drives and sends its Updates at noon on chosen days, so they
// never coincide with an event (09:00) or a sweep (00:00).

const (
	batchA = "0f8e2a4c-3b1d-4c5e-9a7f-1b2c3d4e5f60"
	batchB = "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d"
	batchC = "c0ffee00-1234-4abc-8def-0123456789ab"
	batchD = "d1e2f3a4-b5c6-4d7e-8f90-a1b2c3d4e5f6"
)

// runYear runs the campaign to its end and checks it closed with the given status.
func runYear(t *testing.T, env interface {
	ExecuteWorkflow(any, ...any)
	IsWorkflowCompleted() bool
	GetWorkflowError() error
	GetWorkflowResult(any) error
}, status string) campaign.CloseResult {
	t.Helper()
	env.ExecuteWorkflow(workflows.CampaignWorkflow, campaign.CampaignInput{CampaignID: testCampaignID, PlanHash: "sha256:test"})
	if !env.IsWorkflowCompleted() {
		t.Fatal("campaign did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("campaign failed: %v", err)
	}
	var res campaign.CloseResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Status != status {
		t.Fatalf("campaign ended %q, want %q", res.Status, status)
	}
	return res
}

// requireHeldOnce checks the event was held exactly once, by district, as of when.
func requireHeldOnce(t *testing.T, r *recorder, district, id string, when time.Time) {
	t.Helper()
	holds := r.holdsOf(district)[id]
	if len(holds) != 1 || !holds[0].AsOf.Equal(when) {
		t.Errorf("event %s: held %v, want once by %s as of %s", id, holds, district, when)
	}
}

func TestUpdateAddEvent(t *testing.T) {
	spec := yearSpec(1)
	env, r := newCampaignEnv(t, spec, launchBefore)

	commune := campaign.AddEventRequest{By: "coordinator", Event: plan.EventSpec{
		ID: "001-extra", Kind: plan.KindDialogue, Title: "Đối thoại với tiểu thương", Unit: "00004",
		Date: plan.Date{Y: 2021, M: 6, D: 7}, Groups: []string{"student"}, ExpectedAttendance: 80,
	}}
	city := campaign.AddEventRequest{By: "coordinator", Event: plan.EventSpec{
		ID: "post-3", Kind: plan.KindPostOfficeRound, Unit: plan.CityWide,
		Date: plan.Date{Y: 2021, M: 11, D: 5}, Groups: []string{"farmer"},
	}}
	bad := func(mut func(*campaign.AddEventRequest)) campaign.AddEventRequest {
		r := campaign.AddEventRequest{By: "coordinator", Event: plan.EventSpec{
			ID: "002-new", Kind: plan.KindConference, Unit: "002",
			Date: plan.Date{Y: 2021, M: 7, D: 1}, Groups: []string{"small_trader"},
		}}
		mut(&r)
		return r
	}
	rejections := []struct {
		req  campaign.AddEventRequest
		want string
	}{
		{bad(func(r *campaign.AddEventRequest) { r.Event.Unit = "999" }), `event.unit: unknown unit "999" (a district or commune code, or "city")`},
		{bad(func(r *campaign.AddEventRequest) { r.Event.Date = plan.Date{Y: 2022, M: 2, D: 1} }), "event.date: 2022-02-01 is outside the period 2021-01-01..2021-12-31"},
		{bad(func(r *campaign.AddEventRequest) { r.Event.Date = plan.Date{Y: 2020, M: 12, D: 31} }), "event.date: 2020-12-31 is outside the period 2021-01-01..2021-12-31"},
		{bad(func(r *campaign.AddEventRequest) { r.Event.Date = plan.Date{Y: 2021, M: 1, D: 20} }), "event.date: 2021-01-20 is already past in campaign time (now 2021-02-01 12:00)"},
		{bad(func(r *campaign.AddEventRequest) { r.Event.Date = plan.Date{Y: 2021, M: 2, D: 1} }), "event.date: 2021-02-01 is already past in campaign time (now 2021-02-01 12:00)"}, // today, 09:00 < noon
		{bad(func(r *campaign.AddEventRequest) { r.Event.ID = "001-conference" }), `event.id: event "001-conference" already exists`},
		{bad(func(r *campaign.AddEventRequest) { r.Event.ID = "post-1" }), `event.id: event "post-1" already exists`}, // a city-wide round's own ID
		{bad(func(r *campaign.AddEventRequest) { r.Event.Groups = []string{"small_trader", "astronaut"} }), `event.groups[1]: unknown target group "astronaut"`},
		{bad(func(r *campaign.AddEventRequest) { r.Event.Groups = nil }), "event.groups: name at least one target group the event is aimed at"},
		{bad(func(r *campaign.AddEventRequest) { r.Event.Kind = "party" }), `event.kind: must be one of [conference dialogue door_to_door post_office_round], got "party"`},
		{bad(func(r *campaign.AddEventRequest) { r.Event.ID = "Bad ID" }), "event.id: must be 1 to 63 lower-case letters, digits, '_' or '-'"},
		{bad(func(r *campaign.AddEventRequest) { r.By = " " }), "by: say who adds the event"},
	}

	var okCommune, okCity, again *outcome
	var rejected []*outcome
	var before, after campaign.Progress
	at(t, env, launchBefore, local(2021, 2, 1, 12, 0), func() {
		before = queryProgress(t, env)
		for _, x := range rejections {
			rejected = append(rejected, update(env, campaign.UpdateAddEvent, x.req))
		}
		okCommune = update(env, campaign.UpdateAddEvent, commune)
		okCity = update(env, campaign.UpdateAddEvent, city)
	})
	at(t, env, launchBefore, local(2021, 2, 2, 12, 0), func() {
		after = queryProgress(t, env)
		again = update(env, campaign.UpdateAddEvent, commune) // its ID exists now
	})
	runYear(t, env, campaign.StatusClosed)

	for i, o := range rejected {
		requireRejected(t, o, rejections[i].want)
	}
	requireRejected(t, again, `event.id: event "001-extra" already exists`)
	var gotIDs []string
	requireDone(t, okCommune, &gotIDs)
	if !slices.Equal(gotIDs, []string{"001-extra"}) {
		t.Errorf("add-event (commune) returned %v", gotIDs)
	}
	requireDone(t, okCity, &gotIDs)
	if !slices.Equal(gotIDs, []string{"post-3.001", "post-3.002", "post-3.016"}) {
		t.Errorf("add-event (city-wide) returned %v", gotIDs)
	}

	// Only the two valid Updates reached the database.
	if len(r.added) != 2 {
		t.Fatalf("AddEvent ran %d times, want 2 (rejected Updates run nothing): %+v", len(r.added), r.added)
	}
	slices.SortFunc(r.added, func(x, y activities.AddEventInput) int { return len(x.Events) - len(y.Events) })
	a0 := r.added[0]
	if a0.CampaignID != testCampaignID || a0.By != "coordinator" || a0.Title != commune.Event.Title || a0.Expected != 80 || len(a0.Events) != 1 {
		t.Errorf("AddEvent input %+v", a0)
	} else if e := a0.Events[0]; e.ID != "001-extra" || e.District != "001" || e.Commune != "00004" || !e.At.Equal(eventAt(2021, 6, 7)) || e.Parent != "" {
		t.Errorf("added event %+v, want 001-extra in 001/00004 at 2021-06-07 09:00", e)
	}
	if a1 := r.added[1]; len(a1.Events) != 3 || a1.Events[0].Parent != "post-3" || a1.Events[2].District != "016" {
		t.Errorf("AddEvent input for the city-wide round %+v", a1)
	}

	// The districts hold the added events on their dates, once.
	requireHeldOnce(t, r, "001", "001-extra", eventAt(2021, 6, 7))
	for _, d := range testDistricts {
		requireHeldOnce(t, r, d.Code, "post-3."+d.Code, eventAt(2021, 11, 5))
	}
	// ... and every planned event still exactly once.
	for _, e := range spec.Events {
		requireHeldOnce(t, r, e.District, e.ID, e.At)
	}

	if before.Events != 14 || before.EventsAdded != 0 {
		t.Errorf("progress before: %d events, %d added", before.Events, before.EventsAdded)
	}
	if after.Events != 18 || after.EventsAdded != 2 {
		t.Errorf("progress after two adds: %d events, %d added; want 18, 2", after.Events, after.EventsAdded)
	}
}

// TestUpdateAddEventActivityFails: when the database refuses the event, the Update fails, the
// campaign forgets the event (its ID may be used again) and no district ever holds it.
func TestUpdateAddEventActivityFails(t *testing.T) {
	env, r := newCampaignEnv(t, yearSpec(1), launchBefore)
	r.addEvent = func(in activities.AddEventInput) error {
		if in.Events[0].At.Equal(eventAt(2021, 6, 7)) { // the first attempt
			return temporal.NewNonRetryableApplicationError("unit 00004 is not part of the campaign", activities.ErrInvalidState, nil)
		}
		return nil
	}
	req := campaign.AddEventRequest{By: "coordinator", Event: plan.EventSpec{
		ID: "001-extra", Kind: plan.KindDialogue, Unit: "00004", Date: plan.Date{Y: 2021, M: 6, D: 7}, Groups: []string{"student"},
	}}
	var first, retry *outcome
	var mid campaign.Progress
	at(t, env, launchBefore, local(2021, 2, 1, 12, 0), func() { first = update(env, campaign.UpdateAddEvent, req) })
	at(t, env, launchBefore, local(2021, 2, 2, 12, 0), func() {
		mid = queryProgress(t, env)
		req.Event.Date = plan.Date{Y: 2021, M: 6, D: 8}
		retry = update(env, campaign.UpdateAddEvent, req)
	})
	runYear(t, env, campaign.StatusClosed)

	if first == nil || !first.accepted || !first.completed || first.err == nil || !containsFold(first.err.Error(), "not part of the campaign") {
		t.Fatalf("first add-event: want accepted and failed with the activity's error, got %s", first)
	}
	if mid.Events != 14 || mid.EventsAdded != 0 {
		t.Errorf("after the failed add: %d events, %d added; want 14, 0", mid.Events, mid.EventsAdded)
	}
	requireDone(t, retry, nil)
	requireHeldOnce(t, r, "001", "001-extra", eventAt(2021, 6, 8))
}

func TestUpdateCancelEvent(t *testing.T) {
	spec := yearSpec(1)
	env, r := newCampaignEnv(t, spec, launchBefore)
	cancel := func(id, reason, by string) campaign.CancelEventRequest {
		return campaign.CancelEventRequest{EventID: id, Reason: reason, By: by}
	}
	var unknown, noReason, noBy, held, share, single, city, single2, city2 *outcome
	var mid campaign.Progress
	at(t, env, launchBefore, local(2021, 3, 1, 12, 0), func() {
		unknown = update(env, campaign.UpdateCancelEvent, cancel("nope", "mưa bão", "coordinator"))
		noReason = update(env, campaign.UpdateCancelEvent, cancel("002-door-1", "  ", "coordinator"))
		noBy = update(env, campaign.UpdateCancelEvent, cancel("002-door-1", "mưa bão", ""))
		held = update(env, campaign.UpdateCancelEvent, cancel("002-conference", "mưa bão", "coordinator")) // Feb 15: held
		single = update(env, campaign.UpdateCancelEvent, cancel("002-door-1", "mưa bão", "coordinator"))
		city = update(env, campaign.UpdateCancelEvent, cancel("post-2", "bưu điện không bố trí được", "coordinator"))
	})
	at(t, env, launchBefore, local(2021, 3, 2, 12, 0), func() {
		mid = queryProgress(t, env)
		single2 = update(env, campaign.UpdateCancelEvent, cancel("002-door-1", "again", "coordinator"))
		city2 = update(env, campaign.UpdateCancelEvent, cancel("post-2", "again", "coordinator"))
		share = update(env, campaign.UpdateCancelEvent, cancel("001-dialogue-1", "trùng lịch", "coordinator"))
	})
	runYear(t, env, campaign.StatusClosed)

	requireRejected(t, unknown, `event_id: unknown event "nope"`)
	requireRejected(t, noReason, "reason: say why the event is cancelled")
	requireRejected(t, noBy, "by: say who cancels the event")
	requireRejected(t, held, `event_id: event "002-conference" was due at 2021-02-15 09:00 and is held already`)
	requireRejected(t, single2, `event_id: event "002-door-1" is cancelled already`)
	requireRejected(t, city2, `event_id: event "post-2" is cancelled already`)
	var got []string
	requireDone(t, single, &got)
	if !slices.Equal(got, []string{"002-door-1"}) {
		t.Errorf("cancel-event 002-door-1 returned %v", got)
	}
	requireDone(t, city, &got)
	if !slices.Equal(got, []string{"post-2.001", "post-2.002", "post-2.016"}) {
		t.Errorf("cancel-event post-2 returned %v", got)
	}
	requireDone(t, share, nil)

	if len(r.cancels) != 3 {
		t.Fatalf("CancelEvent ran %d times, want 3 (rejected Updates run nothing): %+v", len(r.cancels), r.cancels)
	}
	if !slices.Contains(r.cancels, activities.CancelEventInput{CampaignID: testCampaignID, EventID: "002-door-1", Reason: "mưa bão", By: "coordinator"}) ||
		!slices.Contains(r.cancels, activities.CancelEventInput{CampaignID: testCampaignID, EventID: "post-2", Reason: "bưu điện không bố trí được", By: "coordinator"}) {
		t.Errorf("CancelEvent inputs %+v", r.cancels)
	}
	for _, id := range []string{"002-door-1", "post-2.001", "post-2.002", "post-2.016", "001-dialogue-1"} {
		if r.heldAnywhere(id) {
			t.Errorf("cancelled event %s was passed to AdvanceDistrict", id)
		}
	}
	// Ba Đình's door-to-door round shared its instant with post-2: it alone is held then.
	for _, c := range r.advancesOf("001") {
		if c.AsOf.Equal(eventAt(2021, 9, 15)) && !slices.Equal(c.Hold, []string{"001-door-1"}) {
			t.Errorf("Sep 15 in 001: held %v, want only 001-door-1", c.Hold)
		}
	}
	for _, e := range spec.Events {
		if e.ID != "002-door-1" && e.Parent != "post-2" && e.ID != "001-dialogue-1" {
			requireHeldOnce(t, r, e.District, e.ID, e.At)
		}
	}
	if mid.EventsCancelled != 2 {
		t.Errorf("progress: %d events cancelled, want 2", mid.EventsCancelled)
	}
}

func TestUpdatePauseAndResume(t *testing.T) {
	spec := yearSpec(1)
	env, r := newCampaignEnv(t, spec, launchBefore)
	pausedAt, resumedAt := local(2021, 4, 1, 12, 0), local(2021, 6, 1, 12, 0)
	steer := campaign.SteerRequest{Reason: "giãn cách xã hội", By: "coordinator"}
	var noBy, resumeRunning, pause, pauseAgain, resume *outcome
	var during, afterResume campaign.Progress
	at(t, env, launchBefore, pausedAt, func() {
		noBy = update(env, campaign.UpdatePause, campaign.SteerRequest{Reason: "x"})
		resumeRunning = update(env, campaign.UpdateResume, steer)
		pause = update(env, campaign.UpdatePause, steer)
	})
	at(t, env, launchBefore, local(2021, 4, 2, 12, 0), func() {
		during = queryProgress(t, env)
		pauseAgain = update(env, campaign.UpdatePause, steer)
	})
	at(t, env, launchBefore, resumedAt, func() { resume = update(env, campaign.UpdateResume, steer) })
	at(t, env, launchBefore, local(2021, 6, 2, 12, 0), func() { afterResume = queryProgress(t, env) })
	runYear(t, env, campaign.StatusClosed)

	requireRejected(t, noBy, "by: say who steers the campaign")
	requireRejected(t, resumeRunning, "campaign is not paused")
	requireRejected(t, pauseAgain, "campaign is paused already")
	requireDone(t, pause, nil)
	requireDone(t, resume, nil)
	wantStatuses := []activities.StatusInput{
		{CampaignID: testCampaignID, Status: campaign.StatusPaused, Reason: steer.Reason, By: steer.By},
		{CampaignID: testCampaignID, Status: campaign.StatusRunning, Reason: steer.Reason, By: steer.By},
	}
	if !slices.Equal(r.statuses, wantStatuses) {
		t.Errorf("SetStatus calls %+v, want %+v", r.statuses, wantStatuses)
	}
	if during.Status != campaign.StatusPaused || afterResume.Status != campaign.StatusRunning {
		t.Errorf("status while paused %q, after resume %q", during.Status, afterResume.Status)
	}

	// Nothing is held while paused; on resume each district holds what fell due meanwhile.
	wantOnResume := map[string][]string{
		"001": {"001-dialogue-1", "post-1.001"},
		"002": {"post-1.002"},
		"016": {"016-conference", "post-1.016"},
	}
	for _, d := range testDistricts {
		var onResume []advanceCall
		for _, c := range r.advancesOf(d.Code) {
			if c.AsOf.After(pausedAt) && c.AsOf.Before(resumedAt) {
				t.Errorf("district %s advanced while paused: %v", d.Code, c)
			}
			if c.AsOf.Equal(resumedAt) {
				onResume = append(onResume, c)
			}
		}
		if len(onResume) != 1 || !slices.Equal(onResume[0].Hold, wantOnResume[d.Code]) || !onResume[0].Real.Equal(resumedAt) {
			t.Errorf("district %s on resume: %v, want one call holding %v", d.Code, onResume, wantOnResume[d.Code])
		}
	}
	// Every event is still held exactly once: on its date, or on resume if it fell in the pause.
	for _, e := range spec.Events {
		when := e.At
		if e.At.After(pausedAt) && e.At.Before(resumedAt) {
			when = resumedAt
		}
		requireHeldOnce(t, r, e.District, e.ID, when)
	}
}

func TestUpdateCancelCampaign(t *testing.T) {
	spec := yearSpec(1)
	env, r := newCampaignEnv(t, spec, launchBefore)
	cancelledAt := local(2021, 7, 1, 12, 0)
	var noReason, noBy, cancel, pauseAfter *outcome
	at(t, env, launchBefore, cancelledAt, func() {
		noReason = update(env, campaign.UpdateCancel, campaign.SteerRequest{By: "director"})
		noBy = update(env, campaign.UpdateCancel, campaign.SteerRequest{Reason: "ngân sách bị cắt"})
		cancel = update(env, campaign.UpdateCancel, campaign.SteerRequest{Reason: "ngân sách bị cắt", By: "director"})
		pauseAfter = update(env, campaign.UpdatePause, campaign.SteerRequest{Reason: "x", By: "coordinator"})
	})
	res := runYear(t, env, campaign.StatusCancelled)

	requireRejected(t, noReason, "reason: say why the campaign is cancelled")
	requireRejected(t, noBy, "by: say who steers the campaign")
	requireRejected(t, pauseAfter, "campaign is closing")
	requireDone(t, cancel, nil)
	if res.CampaignID != testCampaignID || res.Enrolled != 4242 {
		t.Errorf("result %+v is not CloseCampaign's", res)
	}
	if len(r.closes) != 1 || r.closes[0].Status != campaign.StatusCancelled || !r.closes[0].AsOf.Equal(cancelledAt) {
		t.Errorf("CloseCampaign %+v, want once, cancelled, as of %s", r.closes, cancelledAt)
	}
	if !r.closedAt[0].Equal(cancelledAt) {
		t.Errorf("closed at %s, want right after the cancel at %s", r.closedAt[0], cancelledAt)
	}
	if len(r.statuses) != 1 || r.statuses[0].Reason != "ngân sách bị cắt" || r.statuses[0].By != "director" {
		t.Errorf("SetStatus calls %+v, want one carrying the reason", r.statuses)
	}
	for _, d := range testDistricts {
		for _, c := range r.advancesOf(d.Code) {
			if c.AsOf.After(cancelledAt) {
				t.Errorf("district %s advanced after the cancel: %v", d.Code, c)
			}
		}
	}
	for _, e := range spec.Events {
		if e.At.Before(cancelledAt) {
			requireHeldOnce(t, r, e.District, e.ID, e.At)
		}
	}
	if p := queryProgress(t, env); p.Status != campaign.StatusCancelled || p.DistrictsClosed != 3 {
		t.Errorf("final progress: status %q, %d districts closed", p.Status, p.DistrictsClosed)
	}
}

func TestUpdateRecordImport(t *testing.T) {
	env, r := newCampaignEnv(t, yearSpec(1), launchBefore)
	byBatch := map[string]map[string]int{batchA: {"001": 120, "016": 30}, batchB: {"001": 5, "002": 7}, batchD: {"016": 1}}
	failedOnce := false
	r.merge = func(in activities.MergeInput) (campaign.ImportResult, error) {
		if in.BatchID == batchC && !failedOnce {
			failedOnce = true
			return campaign.ImportResult{}, temporal.NewNonRetryableApplicationError("batch is not staged", activities.ErrNotFound, nil)
		}
		n := 0
		for _, v := range byBatch[in.BatchID] {
			n += v
		}
		return campaign.ImportResult{BatchID: in.BatchID, Rows: n + 10, New: n, Duplicates: 10, ByDistrict: byBatch[in.BatchID]}, nil
	}
	imp := func(batch, by string) campaign.ImportRequest { return campaign.ImportRequest{BatchID: batch, By: by} }
	var badID, upper, noBy, a, a2, b, c, c2 *outcome
	var p0, p1, p2 campaign.Progress
	at(t, env, launchBefore, local(2021, 3, 1, 12, 0), func() {
		p0 = queryProgress(t, env)
		badID = update(env, campaign.UpdateRecordImport, imp("batch-1", "coordinator"))
		upper = update(env, campaign.UpdateRecordImport, imp("0F8E2A4C-3B1D-4C5E-9A7F-1B2C3D4E5F60", "coordinator"))
		noBy = update(env, campaign.UpdateRecordImport, imp(batchA, ""))
		a = update(env, campaign.UpdateRecordImport, imp(batchA, "coordinator"))
		c = update(env, campaign.UpdateRecordImport, imp(batchC, "coordinator"))
	})
	at(t, env, launchBefore, local(2021, 3, 2, 12, 0), func() {
		p1 = queryProgress(t, env)
		a2 = update(env, campaign.UpdateRecordImport, imp(batchA, "coordinator"))
		b = update(env, campaign.UpdateRecordImport, imp(batchB, "coordinator"))
		c2 = update(env, campaign.UpdateRecordImport, imp(batchC, "coordinator")) // fixed and staged again
	})
	at(t, env, launchBefore, local(2021, 3, 3, 12, 0), func() { p2 = queryProgress(t, env) })
	runYear(t, env, campaign.StatusClosed)

	requireRejected(t, badID, `batch_id: "batch-1" is not a batch ID`)
	requireRejected(t, upper, `batch_id: "0F8E2A4C-3B1D-4C5E-9A7F-1B2C3D4E5F60" is not a batch ID`)
	requireRejected(t, noBy, "by: say who imports the batch")
	requireRejected(t, a2, "batch_id: batch 0f8e2a4c-3b1d-4c5e-9a7f-1b2c3d4e5f60 was recorded already")
	var res campaign.ImportResult
	requireDone(t, a, &res)
	if res.BatchID != batchA || res.New != 150 || res.ByDistrict["001"] != 120 {
		t.Errorf("record-import returned %+v", res)
	}
	requireDone(t, b, nil)
	if c == nil || !c.accepted || c.err == nil || !containsFold(c.err.Error(), "not staged") {
		t.Errorf("failing import: want accepted and failed with the activity's error, got %s", c)
	}
	requireDone(t, c2, nil)

	var merged []string
	for _, m := range r.merges {
		if m.CampaignID != testCampaignID || m.By != "coordinator" {
			t.Errorf("MergeImport input %+v", m)
		}
		merged = append(merged, m.BatchID)
	}
	// Updates sent together run their activities concurrently: compare as a multiset.
	slices.Sort(merged)
	want := []string{batchA, batchB, batchC, batchC}
	slices.Sort(want)
	if !slices.Equal(merged, want) {
		t.Errorf("MergeImport ran for %v, want %v (rejected Updates run nothing)", merged, want)
	}

	if p0.Enrolled != 0 || p0.Imports != 0 {
		t.Errorf("progress before imports: %+v", p0)
	}
	enrolled := func(p campaign.Progress) map[string]int {
		m := map[string]int{}
		for _, d := range p.Districts {
			m[d.Code] = d.Enrolled
		}
		return m
	}
	if p1.Enrolled != 150 || p1.Imports != 1 || enrolled(p1)["001"] != 120 || enrolled(p1)["016"] != 30 || enrolled(p1)["002"] != 0 {
		t.Errorf("progress after batch A: enrolled %d by %v, %d imports", p1.Enrolled, enrolled(p1), p1.Imports)
	}
	if p2.Enrolled != 162 || p2.Imports != 3 || enrolled(p2)["001"] != 125 || enrolled(p2)["002"] != 7 {
		t.Errorf("progress after batches B and C: enrolled %d by %v, %d imports", p2.Enrolled, enrolled(p2), p2.Imports)
	}
	if p2.Target != 7000 || p2.PriorYear != 48674 || p2.Status != campaign.StatusRunning || len(p2.Districts) != 3 ||
		!p2.PeriodStart.Equal(periodStart) || !p2.PeriodEnd.Equal(periodEnd) || !p2.CampaignTime.Equal(local(2021, 3, 3, 12, 0)) {
		t.Errorf("progress %+v", p2)
	}
}

func TestUpdateRecordEventResult(t *testing.T) {
	env, r := newCampaignEnv(t, yearSpec(1), launchBefore)
	earliest := eventAt(2021, 2, 15).Add(7 * 24 * time.Hour) // first reminder: Feb 22 09:00
	r.eventResult = func(in activities.EventResultInput) (campaign.LeadsResult, error) {
		return campaign.LeadsResult{EventID: in.Request.EventID, District: "002", Leads: 35, New: 33, Duplicates: 2, FollowUps: 33, EarliestDue: earliest}, nil
	}
	req := func(id, batch string, attendance int) campaign.EventResultRequest {
		return campaign.EventResultRequest{EventID: id, Attendance: attendance, BatchID: batch, By: "agent-lead"}
	}
	var unknown, parent, notYet, badBatch, negative, ok, reused *outcome
	at(t, env, launchBefore, local(2021, 2, 16, 12, 0), func() {
		unknown = update(env, campaign.UpdateRecordEventResult, req("nope", batchA, 10))
		parent = update(env, campaign.UpdateRecordEventResult, req("post-1", batchA, 10))
		notYet = update(env, campaign.UpdateRecordEventResult, req("001-conference", batchA, 10))
		badBatch = update(env, campaign.UpdateRecordEventResult, req("002-conference", "leads.csv", 10))
		negative = update(env, campaign.UpdateRecordEventResult, req("002-conference", batchA, -1))
		ok = update(env, campaign.UpdateRecordEventResult, req("002-conference", batchA, 140))
	})
	at(t, env, launchBefore, local(2021, 3, 23, 12, 0), func() {
		reused = update(env, campaign.UpdateRecordEventResult, req("001-conference", batchA, 60))
	})
	runYear(t, env, campaign.StatusClosed)

	requireRejected(t, unknown, `event_id: unknown event "nope" (name a district's event, e.g. <round>.<district>)`)
	requireRejected(t, parent, `event_id: unknown event "post-1" (name a district's event, e.g. <round>.<district>)`)
	requireRejected(t, notYet, `event_id: event "001-conference" is not held yet (due 2021-03-22 09:00)`)
	requireRejected(t, badBatch, `batch_id: "leads.csv" is not a batch ID`)
	requireRejected(t, negative, "attendance: must not be negative")
	requireRejected(t, reused, "batch_id: batch 0f8e2a4c-3b1d-4c5e-9a7f-1b2c3d4e5f60 was recorded already")
	var res campaign.LeadsResult
	requireDone(t, ok, &res)
	if res.FollowUps != 33 || res.EventID != "002-conference" {
		t.Errorf("record-event-result returned %+v", res)
	}
	if len(r.results) != 1 {
		t.Fatalf("RecordEventResult ran %d times, want 1 (rejected Updates run nothing)", len(r.results))
	}
	if in := r.results[0]; in.CampaignID != testCampaignID || in.Request != req("002-conference", batchA, 140) ||
		in.Policy.SweepEvery != 7*24*time.Hour || in.Policy.Deadline != 30*24*time.Hour {
		t.Errorf("RecordEventResult input %+v", in)
	}
	// The new follow-ups bring the campaign's sweep to the grid point after the first reminder
	// (Jan 1 + 8 weeks = Feb 26 00:00), on time, for every district at once; no district is
	// woken for them.
	wake := local(2021, 2, 26, 0, 0)
	if len(r.sweeps) != 1 || !r.sweeps[0].AsOf.Equal(wake) || !r.sweeps[0].Real.Equal(wake) || r.sweeps[0].Policy.SweepEvery != 7*24*time.Hour {
		t.Errorf("campaign sweeps %+v, want one as of %s", r.sweeps, wake)
	}
	for _, d := range []string{"001", "002", "016"} {
		for _, c := range r.advancesOf(d) {
			if len(c.Hold) == 0 && c.AsOf.Before(periodEnd) {
				t.Errorf("district %s woken with no event to hold: %v", d, c)
			}
		}
	}
}

// record-field counts the field's enrolments (folded by the activity) into the progress, by
// district, without a by refused; the close folds once more, and what it finds is counted too.
// Shown failing by leaving the fold at close out (three folds, not four) and by adding the
// fold's result to no district (the progress stayed at 0).
func TestUpdateRecordField(t *testing.T) {
	env, r := newCampaignEnv(t, yearSpec(1), launchBefore)
	folds := []map[string]int{{"001": 3, "016": 1}, {}, {"002": 2}, {"001": 1}}
	r.field = func(in activities.FieldInput) campaign.FieldResult {
		by := folds[len(r.folds)-1]
		res := campaign.FieldResult{ByDistrict: by}
		for _, n := range by {
			res.Enrolled += n
		}
		return res
	}
	var noBy, first, second, third *outcome
	var p0, p1, p2 campaign.Progress
	at(t, env, launchBefore, local(2021, 3, 1, 12, 0), func() {
		p0 = queryProgress(t, env)
		noBy = update(env, campaign.UpdateRecordField, campaign.FieldRequest{})
		first = update(env, campaign.UpdateRecordField, campaign.FieldRequest{By: "web"})
	})
	at(t, env, launchBefore, local(2021, 3, 2, 12, 0), func() {
		p1 = queryProgress(t, env)
		second = update(env, campaign.UpdateRecordField, campaign.FieldRequest{By: "web"})
		third = update(env, campaign.UpdateRecordField, campaign.FieldRequest{By: "web"})
	})
	at(t, env, launchBefore, local(2021, 3, 3, 12, 0), func() { p2 = queryProgress(t, env) })
	runYear(t, env, campaign.StatusClosed)

	requireRejected(t, noBy, "by: say who sends the count")
	var res campaign.FieldResult
	requireDone(t, first, &res)
	if res.Enrolled != 4 || res.ByDistrict["001"] != 3 {
		t.Errorf("record-field returned %+v", res)
	}
	requireDone(t, second, nil)
	requireDone(t, third, nil)
	if len(r.folds) != 4 {
		t.Fatalf("FoldFieldEnrolments ran %d times, want 3 Updates and the close's", len(r.folds))
	}
	if last := r.folds[3]; last.By != "workflow" || last.CampaignID != testCampaignID || !last.Closing {
		t.Errorf("the close's fold: %+v, want the workflow's, closing the campaign to the field", last)
	}
	for _, f := range r.folds[:3] {
		if f.Closing {
			t.Errorf("an Update's fold closes the campaign to the field: %+v", f)
		}
	}
	if p0.Enrolled != 0 || p1.Enrolled != 4 || p2.Enrolled != 6 {
		t.Errorf("progress: %d, %d, %d enrolled; want 0, 4, 6", p0.Enrolled, p1.Enrolled, p2.Enrolled)
	}
}
