package workflows

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"drives/activities"
	"drives/campaign"
	"drives/plan"
)

// CampaignWorkflow runs a campaign drive: load and check the plan, allocate quotas, assign
// agents, run one DistrictDriveWorkflow per district until the period ends, and close with a
// report. Coordinators steer it only through Updates with validators and read it through the
// progress Query.
func CampaignWorkflow(ctx workflow.Context, in campaign.CampaignInput) (campaign.CloseResult, error) {
	c := &campaignDrive{in: in}
	if ok, err := loadState(in.State, &c.st); err != nil {
		return campaign.CloseResult{}, fmt.Errorf("state carried over: %w", err)
	} else if !ok {
		c.st = campaignState{
			Status:          campaign.StatusPreparing,
			Enrolled:        map[string]int{},
			DistrictsClosed: map[string]bool{},
			Batches:         map[string]bool{},
			CancelledEvents: map[string]bool{},
		}
	}
	c.log = log.With(workflow.GetLogger(ctx), "campaign", in.CampaignID)
	if err := c.setup(ctx); err != nil {
		return campaign.CloseResult{}, err
	}
	return c.run(ctx)
}

type campaignDrive struct {
	in  campaign.CampaignInput
	st  campaignState
	log log.Logger
	// actx runs the Updates' activities: made once in setup, from the workflow's context.
	actx workflow.Context
	// counting: CloseCampaign counts the figures; no import may land after the count.
	counting bool
	// closedAt is the campaign time the campaign closes as of (the period's end, or when it was
	// cancelled): the progress Query's campaign time from then on.
	closedAt time.Time
}

// updateAttempts bounds the retries of an Update's activity (about four minutes of backoff).
const updateAttempts = 12

var batchIDRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func (c *campaignDrive) now(ctx workflow.Context) time.Time {
	if c.st.Clock.Scale == 0 {
		return time.Time{}
	}
	return c.st.Clock.CampaignTime(workflow.Now(ctx))
}

// steerable says whether coordinators may steer the campaign now.
func (c *campaignDrive) steerable() error {
	switch c.st.Status {
	case campaign.StatusRunning, campaign.StatusPaused:
		return nil
	case campaign.StatusPreparing:
		return errors.New("campaign is still being prepared; try again in a moment")
	default:
		return fmt.Errorf("campaign is %s", c.st.Status)
	}
}

func (c *campaignDrive) eventIDs() map[string]bool {
	m := map[string]bool{}
	for _, e := range c.st.Spec.Events {
		m[e.ID] = true
		if e.Parent != "" {
			m[e.Parent] = true
		}
	}
	return m
}

// cancelled says whether an event was cancelled, itself or as a share of a city-wide round.
func (c *campaignDrive) cancelled(e plan.Event) bool {
	return c.st.CancelledEvents[e.ID] || (e.Parent != "" && c.st.CancelledEvents[e.Parent])
}

// eventsOf returns the district events an ID names: the event itself, or every district's
// share of a city-wide event.
func (c *campaignDrive) eventsOf(id string) []plan.Event {
	var out []plan.Event
	for _, e := range c.st.Spec.Events {
		if e.ID == id || e.Parent == id {
			out = append(out, e)
		}
	}
	return out
}

func (c *campaignDrive) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, campaign.QueryProgress, c.progress(ctx)); err != nil {
		return err
	}
	c.actx = activityCtx(ctx, 2*time.Minute, updateAttempts)
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdateAddEvent, c.addEvent,
		workflow.UpdateHandlerOptions{Validator: c.validateAddEvent}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdateCancelEvent, c.cancelEvent,
		workflow.UpdateHandlerOptions{Validator: c.validateCancelEvent}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdatePause, c.pause,
		workflow.UpdateHandlerOptions{Validator: c.validatePause}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdateResume, c.resume,
		workflow.UpdateHandlerOptions{Validator: c.validateResume}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdateCancel, c.cancel,
		workflow.UpdateHandlerOptions{Validator: c.validateCancel}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdateRecordImport, c.recordImport,
		workflow.UpdateHandlerOptions{Validator: c.validateRecordImport}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdateAgentLeaves, c.agentLeaves,
		workflow.UpdateHandlerOptions{Validator: c.validateAgentLeaves}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdateAgentMoves, c.agentMoves,
		workflow.UpdateHandlerOptions{Validator: c.validateAgentMoves}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdateRecordField, c.recordField,
		workflow.UpdateHandlerOptions{Validator: c.validateRecordField}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdateRecordEventResult, c.recordEventResult,
		workflow.UpdateHandlerOptions{Validator: c.validateRecordEventResult}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdateRevisePlan, c.revisePlan,
		workflow.UpdateHandlerOptions{Validator: c.validateRevisePlan}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, campaign.UpdateAgentsJoin, c.agentsJoin,
		workflow.UpdateHandlerOptions{Validator: c.validateAgentsJoin}); err != nil {
		return err
	}
	return nil
}

// revisePlan applies a staged revision of the plan: its activity checks it against the
// campaign as it stands and writes it; the workflow takes the new targets into its progress
// and hands the events added or removed to their running district drives.
func (c *campaignDrive) revisePlan(ctx workflow.Context, r campaign.ReviseRequest) (campaign.RevisionResult, error) {
	// Claim the number before blocking, so a second Update with it is refused.
	c.st.Revisions = r.Number
	var res campaign.RevisionResult
	if err := workflow.ExecuteActivity(c.actx, a.ApplyRevision, activities.ReviseInput{
		CampaignID: c.in.CampaignID, Number: r.Number, Today: c.now(ctx), By: r.By,
	}).Get(ctx, &res); err != nil {
		c.st.Revisions = r.Number - 1
		return res, err
	}
	c.st.Spec.Target = res.Target
	for i, d := range c.st.Spec.Districts {
		if t, ok := res.Districts[d.Code]; ok {
			c.st.Spec.Districts[i].Target = t
		}
	}
	added := map[string]bool{}
	for _, e := range res.Added {
		c.st.Spec.Events = append(c.st.Spec.Events, e)
		added[cmp.Or(e.Parent, e.ID)] = true
	}
	c.st.EventsAdded += len(added)
	for _, id := range res.Removed {
		c.st.CancelledEvents[id] = true
		c.st.EventsCancelled++
	}
	for _, e := range res.Added {
		if err := c.signalDistrict(ctx, e.District, campaign.DistrictSteer{AddEvent: &e}); err != nil {
			return res, err
		}
	}
	for _, id := range res.Removed {
		for _, e := range c.eventsOf(id) {
			if err := c.signalDistrict(ctx, e.District, campaign.DistrictSteer{CancelEvent: e.ID}); err != nil {
				return res, err
			}
		}
	}
	c.log.Info("plan revised", "revision", res.Number, "target", res.Target, "quotas", res.Quotas,
		"events_added", len(res.Added), "events_removed", len(res.Removed))
	return res, nil
}

// validateRevisePlan refuses a revision out of its order, one without a name, or one sent when
// the campaign cannot be steered.
func (c *campaignDrive) validateRevisePlan(ctx workflow.Context, r campaign.ReviseRequest) error {
	if err := c.steerable(); err != nil {
		return err
	}
	if r.Number != c.st.Revisions+1 {
		return fmt.Errorf("number: revision %d is not the next one (%d applied); stage the revision again with starter plan revise", r.Number, c.st.Revisions)
	}
	if strings.TrimSpace(r.By) == "" {
		return errors.New("by: say who revises the plan")
	}
	return nil
}

// addEvent adds an event (one per district for a city-wide round), records it and tells the
// districts.
func (c *campaignDrive) addEvent(ctx workflow.Context, r campaign.AddEventRequest) ([]string, error) {
	loc := c.st.Spec.PeriodStart.Location()
	communes := map[string]string{}
	for _, d := range c.st.Spec.Districts {
		for _, cc := range d.Communes {
			communes[cc] = d.Code
		}
	}
	if c.eventIDs()[r.Event.ID] {
		return nil, fmt.Errorf("event %q already exists", r.Event.ID)
	}
	events := plan.ExpandEvent(r.Event, loc, c.st.Spec.Districts, communes)
	// Claim the ID before blocking, so a second Update with it is refused.
	c.st.Spec.Events = append(c.st.Spec.Events, events...)
	c.st.EventsAdded++
	if err := workflow.ExecuteActivity(c.actx, a.AddEvent, activities.AddEventInput{
		CampaignID: c.in.CampaignID, Events: events, Title: r.Event.Title, Expected: r.Event.ExpectedAttendance, By: r.By,
	}).Get(ctx, nil); err != nil {
		// Forget this Update's events only: another Update may have added its own meanwhile.
		c.st.Spec.Events = slices.DeleteFunc(c.st.Spec.Events, func(e plan.Event) bool {
			return e.ID == r.Event.ID || e.Parent == r.Event.ID
		})
		c.st.EventsAdded--
		return nil, err
	}
	var ids []string
	for _, e := range events {
		e := e
		if err := c.signalDistrict(ctx, e.District, campaign.DistrictSteer{AddEvent: &e}); err != nil {
			return ids, err
		}
		ids = append(ids, e.ID)
	}
	return ids, nil
}

// validateAddEvent refuses an event the plan would refuse, or one added when the campaign
// cannot be steered.
func (c *campaignDrive) validateAddEvent(ctx workflow.Context, r campaign.AddEventRequest) error {
	if err := c.steerable(); err != nil {
		return err
	}
	if strings.TrimSpace(r.By) == "" {
		return errors.New("by: say who adds the event")
	}
	if p := plan.CheckAddedEvent(r.Event, c.st.Spec, c.eventIDs(), c.now(ctx)); p != nil {
		return fmt.Errorf("event.%s: %s", p.Field, p.Msg)
	}
	return nil
}

// cancelEvent cancels a planned event (every share of a city-wide round) and tells its districts.
func (c *campaignDrive) cancelEvent(ctx workflow.Context, r campaign.CancelEventRequest) ([]string, error) {
	c.st.CancelledEvents[r.EventID] = true
	c.st.EventsCancelled++
	var ids []string
	if err := workflow.ExecuteActivity(c.actx, a.CancelEvent, activities.CancelEventInput{
		CampaignID: c.in.CampaignID, EventID: r.EventID, Reason: r.Reason, By: r.By,
	}).Get(ctx, &ids); err != nil {
		delete(c.st.CancelledEvents, r.EventID)
		c.st.EventsCancelled--
		return nil, err
	}
	for _, e := range c.eventsOf(r.EventID) {
		if err := c.signalDistrict(ctx, e.District, campaign.DistrictSteer{CancelEvent: e.ID}); err != nil {
			return ids, err
		}
	}
	return ids, nil
}

// validateCancelEvent refuses an unknown, cancelled or already held event, and a cancellation
// without a reason or a name.
func (c *campaignDrive) validateCancelEvent(ctx workflow.Context, r campaign.CancelEventRequest) error {
	if err := c.steerable(); err != nil {
		return err
	}
	events := c.eventsOf(r.EventID)
	switch {
	case len(events) == 0:
		return fmt.Errorf("event_id: unknown event %q", r.EventID)
	case c.cancelled(events[0]) || c.st.CancelledEvents[r.EventID]:
		return fmt.Errorf("event_id: event %q is cancelled already", r.EventID)
	case strings.TrimSpace(r.Reason) == "":
		return errors.New("reason: say why the event is cancelled")
	case strings.TrimSpace(r.By) == "":
		return errors.New("by: say who cancels the event")
	}
	for _, e := range events {
		if !e.At.After(c.now(ctx)) {
			return fmt.Errorf("event_id: event %q was due at %s and is held already", e.ID, e.At.Format("2006-01-02 15:04"))
		}
	}
	return nil
}

// pause pauses the campaign and its district drives.
func (c *campaignDrive) pause(ctx workflow.Context, r campaign.SteerRequest) (string, error) {
	return c.steer(ctx, c.actx, campaign.StatusPaused, r, campaign.DistrictSteer{Pause: true})
}

// validatePause refuses pausing a campaign that is paused already or cannot be steered.
func (c *campaignDrive) validatePause(ctx workflow.Context, r campaign.SteerRequest) error {
	if err := c.steerable(); err != nil {
		return err
	}
	if c.st.Status == campaign.StatusPaused {
		return errors.New("campaign is paused already")
	}
	return needBy(r)
}

// resume resumes a paused campaign and its district drives.
func (c *campaignDrive) resume(ctx workflow.Context, r campaign.SteerRequest) (string, error) {
	return c.steer(ctx, c.actx, campaign.StatusRunning, r, campaign.DistrictSteer{Resume: true})
}

// validateResume refuses resuming a campaign that is not paused.
func (c *campaignDrive) validateResume(ctx workflow.Context, r campaign.SteerRequest) error {
	if err := c.steerable(); err != nil {
		return err
	}
	if c.st.Status != campaign.StatusPaused {
		return errors.New("campaign is not paused")
	}
	return needBy(r)
}

// cancel cancels the campaign: its district drives stop and it closes.
func (c *campaignDrive) cancel(ctx workflow.Context, r campaign.SteerRequest) (string, error) {
	return c.steer(ctx, c.actx, campaign.StatusClosing, r, campaign.DistrictSteer{Cancel: true})
}

// validateCancel refuses a cancellation without a reason or a name.
func (c *campaignDrive) validateCancel(ctx workflow.Context, r campaign.SteerRequest) error {
	if err := c.steerable(); err != nil {
		return err
	}
	if strings.TrimSpace(r.Reason) == "" {
		return errors.New("reason: say why the campaign is cancelled")
	}
	return needBy(r)
}

// recordImport merges a staged enrolment batch and counts its new enrolments by district.
func (c *campaignDrive) recordImport(ctx workflow.Context, r campaign.ImportRequest) (campaign.ImportResult, error) {
	c.st.Batches[r.BatchID] = true
	var res campaign.ImportResult
	if err := workflow.ExecuteActivity(activityCtx(ctx, 10*time.Minute, updateAttempts), a.MergeImport, activities.MergeInput{
		CampaignID: c.in.CampaignID, BatchID: r.BatchID, By: r.By, Policy: c.st.Spec.Policy,
	}).Get(ctx, &res); err != nil {
		delete(c.st.Batches, r.BatchID)
		return res, err
	}
	c.st.Imports++
	for _, d := range sortedKeys(res.ByDistrict) {
		c.st.Enrolled[d] += res.ByDistrict[d]
	}
	c.dueSweep(ctx, res.NextDue) // the register's payments fall due
	return res, nil
}

// agentLeaves ends the contract of an agent or staff member who resigns, today in campaign
// time, and hands their work on (AgentLeaves). Their commune's quota and the district's stay as
// they were: nothing of the campaign's own state changes.
func (c *campaignDrive) agentLeaves(ctx workflow.Context, r campaign.LeaveRequest) (campaign.LeaveResult, error) {
	var res campaign.LeaveResult
	err := workflow.ExecuteActivity(c.actx, a.AgentLeaves, activities.LeaveInput{CampaignID: c.in.CampaignID, Request: r, At: c.now(ctx)}).
		Get(ctx, &res)
	return res, err
}

// validateAgentLeaves takes a leaving while the campaign runs or is paused, naming an agent by
// a code, why, and who records it; whether the agent is on the roster and active is the
// activity's to check (the workflow does not hold the roster).
func (c *campaignDrive) validateAgentLeaves(ctx workflow.Context, r campaign.LeaveRequest) error {
	if err := c.steerable(); err != nil {
		return err
	}
	switch {
	case !agentCodeRe.MatchString(r.Agent):
		return fmt.Errorf("agent: %q is not an agent's code", r.Agent)
	case strings.TrimSpace(r.Reason) == "":
		return errors.New("reason: say why the agent leaves")
	case strings.TrimSpace(r.By) == "":
		return errors.New("by: say who records it")
	}
	return nil
}

// agentMoves moves an agent or staff member to another commune today, in campaign time
// (AgentMoves): their work in the commune they leave is handed on and a new contract starts in
// the new one with a prorated quota. Communes' targets stay as they were: nothing of the
// campaign's own state changes.
func (c *campaignDrive) agentMoves(ctx workflow.Context, r campaign.MoveRequest) (campaign.MoveResult, error) {
	var res campaign.MoveResult
	err := workflow.ExecuteActivity(c.actx, a.AgentMoves, activities.MoveInput{CampaignID: c.in.CampaignID, Request: r, At: c.now(ctx)}).
		Get(ctx, &res)
	return res, err
}

// validateAgentMoves takes a move while the campaign runs or is paused: an agent's code, a
// commune's, a new code, why, and who records it; whether they exist is the activity's to check.
func (c *campaignDrive) validateAgentMoves(ctx workflow.Context, r campaign.MoveRequest) error {
	if err := c.steerable(); err != nil {
		return err
	}
	switch {
	case !agentCodeRe.MatchString(r.Agent):
		return fmt.Errorf("agent: %q is not an agent's code", r.Agent)
	case !communeCodeRe.MatchString(r.To):
		return fmt.Errorf("to: %q is not a commune's code", r.To)
	case !agentCodeRe.MatchString(r.As):
		return fmt.Errorf("as: %q is not an agent's code", r.As)
	case r.As == r.Agent:
		return errors.New("as: a move takes a new code (the old one stays with the contract that ends)")
	case strings.TrimSpace(r.Reason) == "":
		return errors.New("reason: say why the agent moves")
	case strings.TrimSpace(r.By) == "":
		return errors.New("by: say who records it")
	}
	return nil
}

// communeCodeRe is the form of a commune's code (plan/files.go).
var communeCodeRe = regexp.MustCompile(`^[0-9]{3,8}$`)

// agentsJoin adds the agents and staff of a staged joining batch to their communes today, in
// campaign time, each with a prorated quota taken from their commune's others (AgentsJoin).
// The communes' targets stay as they were, so nothing of the campaign's own state changes but
// the batch, claimed so that it is applied once.
func (c *campaignDrive) agentsJoin(ctx workflow.Context, r campaign.JoinRequest) (campaign.JoinResult, error) {
	// Claim the batch before blocking, so a second Update with it is refused.
	c.st.Batches[r.BatchID] = true
	var res campaign.JoinResult
	if err := workflow.ExecuteActivity(c.actx, a.AgentsJoin, activities.JoinInput{
		CampaignID: c.in.CampaignID, BatchID: r.BatchID, By: r.By, At: c.now(ctx),
	}).Get(ctx, &res); err != nil {
		delete(c.st.Batches, r.BatchID)
		return res, err
	}
	c.log.Info("agents joined", "batch", r.BatchID, "agents", res.Agents, "staff", res.Staff, "communes", res.Communes)
	return res, nil
}

// validateAgentsJoin takes a joining while the campaign runs or is paused, naming a staged
// batch not applied yet and who records it; what the batch holds is the activity's to check.
func (c *campaignDrive) validateAgentsJoin(ctx workflow.Context, r campaign.JoinRequest) error {
	if err := c.steerable(); err != nil {
		return err
	}
	switch {
	case !batchIDRe.MatchString(r.BatchID):
		return fmt.Errorf("batch_id: %q is not a batch ID", r.BatchID)
	case c.st.Batches[r.BatchID]:
		return fmt.Errorf("batch_id: batch %s was recorded already", r.BatchID)
	case strings.TrimSpace(r.By) == "":
		return errors.New("by: say who records the joining")
	}
	return nil
}

// agentCodeRe is the form of a roster's codes (plan/files.go).
var agentCodeRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$`)

// recordField counts the enrolments agents recorded in the field since the last count into
// the progress. Phones' entries are in the database already; this is how the workflow learns
// of them, in batches (the web page sends at most one per campaign every few seconds).
func (c *campaignDrive) recordField(ctx workflow.Context, r campaign.FieldRequest) (campaign.FieldResult, error) {
	var res campaign.FieldResult
	if err := workflow.ExecuteActivity(activityCtx(ctx, 2*time.Minute, updateAttempts), a.FoldFieldEnrolments, activities.FieldInput{
		CampaignID: c.in.CampaignID, By: r.By, Policy: c.st.Spec.Policy,
	}).Get(ctx, &res); err != nil {
		return res, err
	}
	for _, d := range sortedKeys(res.ByDistrict) {
		c.st.Enrolled[d] += res.ByDistrict[d]
	}
	c.dueSweep(ctx, res.NextDue) // leads met in the field are followed up, payments fall due
	return res, nil
}

// validateRecordField takes a count while the campaign runs, is paused or closes (until its
// final count, which counts the field's enrolments itself).
func (c *campaignDrive) validateRecordField(ctx workflow.Context, r campaign.FieldRequest) error {
	if c.counting {
		return errors.New("campaign is closing: its final figures are being counted, field enrolments with them")
	}
	switch c.st.Status {
	case campaign.StatusRunning, campaign.StatusPaused, campaign.StatusClosing:
	default:
		if err := c.steerable(); err != nil {
			return err
		}
	}
	if strings.TrimSpace(r.By) == "" {
		return errors.New("by: say who sends the count")
	}
	return nil
}

// validateRecordImport refuses a batch recorded already, a bad batch ID, or one without a name.
func (c *campaignDrive) validateRecordImport(ctx workflow.Context, r campaign.ImportRequest) error {
	return c.checkBatch(r.BatchID, r.By)
}

// recordEventResult records a held event's attendance and leads; new follow-ups may bring the
// next sweep forward.
func (c *campaignDrive) recordEventResult(ctx workflow.Context, r campaign.EventResultRequest) (campaign.LeadsResult, error) {
	c.st.Batches[r.BatchID] = true
	var res campaign.LeadsResult
	if err := workflow.ExecuteActivity(c.actx, a.RecordEventResult, activities.EventResultInput{
		CampaignID: c.in.CampaignID, Request: r, Policy: c.st.Spec.Policy,
	}).Get(ctx, &res); err != nil {
		delete(c.st.Batches, r.BatchID)
		return res, err
	}
	if res.FollowUps > 0 {
		c.dueSweep(ctx, res.EarliestDue)
	}
	return res, nil
}

// validateRecordEventResult refuses a result for an unknown, cancelled or not yet held event.
func (c *campaignDrive) validateRecordEventResult(ctx workflow.Context, r campaign.EventResultRequest) error {
	if err := c.checkBatch(r.BatchID, r.By); err != nil {
		return err
	}
	events := c.eventsOf(r.EventID)
	switch {
	case len(events) != 1 || events[0].ID != r.EventID:
		return fmt.Errorf("event_id: unknown event %q (name a district's event, e.g. <round>.<district>)", r.EventID)
	case c.cancelled(events[0]):
		return fmt.Errorf("event_id: event %q was cancelled", r.EventID)
	case events[0].At.After(c.now(ctx)):
		return fmt.Errorf("event_id: event %q is not held yet (due %s)", r.EventID, events[0].At.Format("2006-01-02 15:04"))
	case r.Attendance < 0:
		return errors.New("attendance: must not be negative")
	}
	return nil
}

func needBy(r campaign.SteerRequest) error {
	if strings.TrimSpace(r.By) == "" {
		return errors.New("by: say who steers the campaign")
	}
	return nil
}

func (c *campaignDrive) checkBatch(batchID, by string) error {
	if c.counting {
		return errors.New("campaign is closing: its final figures are being counted; no import is taken any more")
	}
	switch c.st.Status {
	case campaign.StatusRunning, campaign.StatusPaused, campaign.StatusClosing:
	default:
		if err := c.steerable(); err != nil {
			return err
		}
	}
	switch {
	case !batchIDRe.MatchString(batchID):
		return fmt.Errorf("batch_id: %q is not a batch ID", batchID)
	case c.st.Batches[batchID]:
		return fmt.Errorf("batch_id: batch %s was recorded already", batchID)
	case strings.TrimSpace(by) == "":
		return errors.New("by: say who imports the batch")
	}
	return nil
}

// steer records a status change and passes it to every district still running.
func (c *campaignDrive) steer(ctx, actx workflow.Context, status string, r campaign.SteerRequest, s campaign.DistrictSteer) (string, error) {
	// Take the new status before blocking, so a second steer is judged against it; give it
	// back if it could not be recorded, and tell the districts nothing.
	was, wasCancelled, wasAt := c.st.Status, c.st.Cancelled, c.st.CancelledAt
	c.st.Status = status
	if s.Cancel {
		c.st.Cancelled, c.st.CancelledAt = &r, c.now(ctx)
	}
	if err := workflow.ExecuteActivity(actx, a.SetStatus, activities.StatusInput{
		CampaignID: c.in.CampaignID, Status: status, Reason: r.Reason, By: r.By,
	}).Get(ctx, nil); err != nil {
		c.st.Status, c.st.Cancelled, c.st.CancelledAt = was, wasCancelled, wasAt
		return "", err
	}
	for _, d := range c.st.Spec.Districts {
		if !c.st.DistrictsClosed[d.Code] {
			if err := c.signalDistrict(ctx, d.Code, s); err != nil {
				return "", err
			}
		}
	}
	return status, nil
}

// dueSweep makes sure a sweep comes by t: at t rounded up to the sweep grid (period start + k ×
// sweep_every), so that many people's due times share one sweep; what is due already (leads
// reported late) waits for the next grid point. What falls due at or after the period's end is
// swept by the districts as they close.
func (c *campaignDrive) dueSweep(ctx workflow.Context, t time.Time) {
	if t.IsZero() {
		return
	}
	if now := c.now(ctx); t.Before(now) {
		t = now
	}
	t = gridUp(c.st.Spec.PeriodStart, c.st.Spec.Policy.SweepEvery, t)
	if !t.Before(c.st.Spec.PeriodEnd) {
		return
	}
	if c.st.NextSweep.IsZero() || t.Before(c.st.NextSweep) {
		c.st.NextSweep = t
	}
}

// sweepIfDue runs the campaign-wide sweep of follow-ups, as of now in campaign time, when its
// grid point has come and the campaign runs, and sets the next one from what it found still open.
func (c *campaignDrive) sweepIfDue(ctx, actx workflow.Context) error {
	at := c.st.NextSweep
	if at.IsZero() || c.st.Status != campaign.StatusRunning || c.st.Clock.RealTime(at).After(workflow.Now(ctx)) {
		return nil
	}
	// A timer can fire a rounding short of its campaign instant, and a paused campaign sweeps
	// when it resumes: the sweep is as of the later of the two.
	if now := c.now(ctx); now.After(at) {
		at = now
	}
	if at.After(c.st.Spec.PeriodEnd) {
		at = c.st.Spec.PeriodEnd
	}
	var res campaign.SweepResult
	if err := workflow.ExecuteActivity(actx, a.SweepFollowUps, activities.SweepInput{
		CampaignID: c.in.CampaignID, AsOf: at, Policy: c.st.Spec.Policy,
	}).Get(ctx, &res); err != nil {
		return err
	}
	c.st.NextSweep = time.Time{}
	c.dueSweep(ctx, res.NextDue)
	if res.Escalated > 0 || res.Unreachable > 0 || res.RenewalsOpened > 0 || res.Lapsed > 0 {
		c.log.Info("follow-ups swept", "as_of", at, "reminded", res.Reminded, "escalated", res.Escalated, "unreachable", res.Unreachable,
			"renewals_opened", res.RenewalsOpened, "lapsed", res.Lapsed)
	}
	return nil
}

// gridUp rounds t up to the sweep grid start + k × every (t itself when every is not set).
func gridUp(start time.Time, every time.Duration, t time.Time) time.Time {
	if t.IsZero() || every <= 0 {
		return t
	}
	k := (t.Sub(start) + every - 1) / every
	return start.Add(k * every)
}

func (c *campaignDrive) signalDistrict(ctx workflow.Context, district string, s campaign.DistrictSteer) error {
	if c.st.DistrictsClosed[district] {
		return nil
	}
	return workflow.SignalExternalWorkflow(ctx, campaign.DistrictWorkflowID(c.in.CampaignID, district), "",
		campaign.SignalDistrictSteer, s).Get(ctx, nil)
}

func (c *campaignDrive) progress(ctx workflow.Context) func() (campaign.Progress, error) {
	return func() (campaign.Progress, error) {
		// The campaign's clock stops at the period's end, or at the close of a cancelled one:
		// a closing or closed campaign's date does not run on with the real clock.
		now := c.now(ctx)
		if !c.closedAt.IsZero() {
			now = c.closedAt
		} else if now.After(c.st.Spec.PeriodEnd) {
			now = c.st.Spec.PeriodEnd
		}
		p := campaign.Progress{
			CampaignID: c.in.CampaignID, Status: c.st.Status, CampaignTime: now, Clock: c.st.Clock,
			PeriodStart: c.st.Spec.PeriodStart, PeriodEnd: c.st.Spec.PeriodEnd,
			Target: c.st.Spec.Target, PriorYear: c.st.Spec.PriorYear, Imports: c.st.Imports,
			Events: len(c.st.Spec.Events), EventsAdded: c.st.EventsAdded, EventsCancelled: c.st.EventsCancelled,
			DistrictsClosed: len(c.st.DistrictsClosed), Revisions: c.st.Revisions,
		}
		for _, d := range c.st.Spec.Districts {
			p.Enrolled += c.st.Enrolled[d.Code]
			p.Districts = append(p.Districts, campaign.DistrictProgress{
				Code: d.Code, Name: d.Name, Target: d.Target, Enrolled: c.st.Enrolled[d.Code], Closed: c.st.DistrictsClosed[d.Code],
			})
		}
		return p, nil
	}
}

func (c *campaignDrive) run(ctx workflow.Context) (campaign.CloseResult, error) {
	actx := activityCtx(ctx, 5*time.Minute)
	pin := activities.PlanInput{CampaignID: c.in.CampaignID, PlanHash: c.in.PlanHash}
	if c.st.Spec.CampaignID == "" {
		if err := workflow.ExecuteActivity(actx, a.LoadPlan, pin).Get(ctx, &c.st.Spec); err != nil {
			return campaign.CloseResult{}, err
		}
		c.st.Clock = plan.NewClock(c.st.Spec.PeriodStart, c.st.Spec.Scale, workflow.Now(ctx))
		if err := workflow.ExecuteActivity(actx, a.AllocateQuotas, activities.AllocateInput{PlanInput: pin, Clock: c.st.Clock}).Get(ctx, nil); err != nil {
			return campaign.CloseResult{}, err
		}
		var assigned activities.AssignResult
		if err := workflow.ExecuteActivity(actx, a.AssignAgents, pin).Get(ctx, &assigned); err != nil {
			return campaign.CloseResult{}, err
		}
		// A register taken over from the previous campaign: its payments fall due.
		c.dueSweep(ctx, assigned.RenewalsDue)
		if len(c.st.Spec.Reviews) > 0 {
			if err := workflow.ExecuteActivity(actx, a.CreateReviewSchedule, activities.ScheduleInput{
				CampaignID: c.in.CampaignID, Cron: c.st.Spec.Review.Cron, Clock: c.st.Clock, Periods: c.st.Spec.Reviews,
				PeriodEnd: c.st.Spec.PeriodEnd, Policy: c.st.Spec.Review.Policy,
			}).Get(ctx, nil); err != nil {
				return campaign.CloseResult{}, err
			}
		}
		c.st.Status = campaign.StatusRunning
	}
	closedCh := workflow.GetSignalChannel(ctx, campaign.SignalDistrictClosed)
	receive := func(m campaign.DistrictClosed) { c.st.DistrictsClosed[m.District] = true }
	if !c.st.ChildrenStarted {
		if err := c.startDistricts(ctx); err != nil {
			return campaign.CloseResult{}, err
		}
		c.st.ChildrenStarted = true
		// Each district brings two events into the run that started it when it closes: its
		// signal and its completion as a child. Where they would not fit under the history
		// limit (a national plan's 700 districts), continue as new now: the next run gets only
		// the signals.
		if workflow.GetInfo(ctx).GetCurrentHistoryLength()+2*len(c.st.Spec.Districts) >= historyLimit(c.in.HistoryLimit) {
			return c.continueAsNew(ctx, closedCh, receive)
		}
	}
	// The signals are taken from the channel by this coroutine only, as it checks whether to
	// wake: a goroutine blocked on the channel would take a signal that arrives in the same task
	// as the decision to continue as new, and the next run would wait for that district for ever.
	drain := func() {
		var m campaign.DistrictClosed
		for closedCh.ReceiveAsync(&m) {
			receive(m)
		}
	}
	allClosed := func() bool { drain(); return len(c.st.DistrictsClosed) >= len(c.st.Spec.Districts) }
	// Until every district has closed: sweep the follow-ups when the sweep grid comes round.
	for !allClosed() {
		if shouldContinueAsNew(ctx, c.in.HistoryLimit) {
			return c.continueAsNew(ctx, closedCh, receive)
		}
		if err := c.sweepIfDue(ctx, actx); err != nil {
			return campaign.CloseResult{}, err
		}
		armed, status := c.st.NextSweep, c.st.Status
		// Wake for the sweep, or sooner when a steer brings it forward, pauses or resumes.
		woken := func() bool {
			return allClosed() || shouldContinueAsNew(ctx, c.in.HistoryLimit) || c.st.Status != status ||
				(!c.st.NextSweep.IsZero() && (armed.IsZero() || c.st.NextSweep.Before(armed)))
		}
		var err error
		if armed.IsZero() || status != campaign.StatusRunning {
			err = workflow.Await(ctx, woken)
		} else {
			_, err = workflow.AwaitWithTimeout(ctx, c.st.Clock.Until(workflow.Now(ctx), armed), woken)
		}
		if err != nil {
			return campaign.CloseResult{}, err
		}
	}

	status := campaign.StatusClosed
	if c.st.Cancelled != nil {
		status = campaign.StatusCancelled
	}
	c.st.Status = campaign.StatusClosing
	asOf := c.now(ctx)
	if asOf.After(c.st.Spec.PeriodEnd) {
		asOf = c.st.Spec.PeriodEnd
	}
	c.closedAt = asOf
	// Let Updates already accepted (an import in flight) finish before the review and report.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return campaign.CloseResult{}, err
	}
	// A cancelled campaign with follow-ups still to sweep sweeps once more, as of its
	// cancellation: a follow-up past its give-up before it is closed as unreachable, also when
	// the last sweep of its grid ran late (as of a day long past, behind a database outage) and
	// the cancellation came before the next; none after it (the drive's end may come days of
	// campaign time later, once its districts have closed).
	if status == campaign.StatusCancelled && !c.st.NextSweep.IsZero() && !c.st.CancelledAt.IsZero() &&
		workflow.GetVersion(ctx, "sweep-at-cancel", workflow.DefaultVersion, 1) >= 1 {
		if err := workflow.ExecuteActivity(actx, a.SweepFollowUps, activities.SweepInput{
			CampaignID: c.in.CampaignID, AsOf: c.st.CancelledAt, Policy: c.st.Spec.Policy,
		}).Get(ctx, nil); err != nil {
			return campaign.CloseResult{}, err
		}
	}
	if err := c.finalReview(ctx, actx, status); err != nil {
		return campaign.CloseResult{}, err
	}
	// Imports accepted during the final review land before the count, and none after it: the
	// closing figures are the rows'. (Campaigns that reached this point on earlier code count
	// as they did then.)
	if workflow.GetVersion(ctx, "count-after-imports", workflow.DefaultVersion, 1) >= 1 {
		c.counting = true
		if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
			return campaign.CloseResult{}, err
		}
	}
	// The field's enrolments not yet counted are counted into the progress before it closes;
	// the same count marks the campaign closing in the database, so no send is taken after it.
	if workflow.GetVersion(ctx, "fold-field-at-close", workflow.DefaultVersion, 1) >= 1 {
		var field campaign.FieldResult
		if err := workflow.ExecuteActivity(actx, a.FoldFieldEnrolments, activities.FieldInput{
			CampaignID: c.in.CampaignID, By: "workflow", Closing: true, Policy: c.st.Spec.Policy,
		}).Get(ctx, &field); err != nil {
			return campaign.CloseResult{}, err
		}
		for _, d := range sortedKeys(field.ByDistrict) {
			c.st.Enrolled[d] += field.ByDistrict[d]
		}
	}
	var res campaign.CloseResult
	if err := workflow.ExecuteActivity(actx, a.CloseCampaign, activities.CloseInput{
		CampaignID: c.in.CampaignID, Status: status, AsOf: asOf, Policy: c.st.Spec.Policy,
	}).Get(ctx, &res); err != nil {
		return res, err
	}
	c.st.Status = status
	c.log.Info("campaign closed", "status", status, "target", res.Target, "enrolled", res.Enrolled)
	return res, nil
}

// finalReview stops the review schedule and, for a campaign that ran to its end, runs the
// review of the last period — the one that ends with the campaign — as its final evaluation.
func (c *campaignDrive) finalReview(ctx, actx workflow.Context, status string) error {
	reviews := c.st.Spec.Reviews
	if len(reviews) == 0 {
		return nil
	}
	if err := workflow.ExecuteActivity(actx, a.StopReviewSchedule, c.in.CampaignID, "campaign "+status).Get(ctx, nil); err != nil {
		return err
	}
	last := reviews[len(reviews)-1]
	if status != campaign.StatusClosed || last.End.Before(c.st.Spec.PeriodEnd) {
		return nil
	}
	res, err := startReview(ctx, campaign.ReviewInput{
		CampaignID: c.in.CampaignID, Period: last, Clock: c.st.Clock, Policy: c.st.Spec.Review.Policy,
	}, true)
	if err == nil {
		c.log.Info("final review done", "period", res.Period, "already", res.AlreadyReviewed)
	}
	return err
}

func (c *campaignDrive) startDistricts(ctx workflow.Context) error {
	byDistrict := map[string][]plan.Event{}
	for _, e := range c.st.Spec.Events {
		byDistrict[e.District] = append(byDistrict[e.District], e)
	}
	var starts []workflow.ChildWorkflowFuture
	for _, d := range c.st.Spec.Districts {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: campaign.DistrictWorkflowID(c.in.CampaignID, d.Code),
			// District drives outlive a campaign run that continues as new; they report back by signal.
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				campaign.SearchCampaignID.ValueSet(c.in.CampaignID), campaign.SearchUnitCode.ValueSet(d.Code)),
		})
		starts = append(starts, workflow.ExecuteChildWorkflow(cctx, DistrictDriveWorkflow, campaign.DistrictInput{
			CampaignID: c.in.CampaignID, District: d, Clock: c.st.Clock, PeriodEnd: c.st.Spec.PeriodEnd,
			Policy: c.st.Spec.Policy, Events: byDistrict[d.Code], HistoryLimit: c.in.HistoryLimit,
		}))
	}
	for i, f := range starts {
		if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			return fmt.Errorf("start district %s: %w", c.st.Spec.Districts[i].Code, err)
		}
	}
	return nil
}

func (c *campaignDrive) continueAsNew(ctx workflow.Context, closedCh workflow.ReceiveChannel, receive func(campaign.DistrictClosed)) (campaign.CloseResult, error) {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return campaign.CloseResult{}, err
	}
	for {
		var m campaign.DistrictClosed
		if !closedCh.ReceiveAsync(&m) {
			break
		}
		receive(m)
	}
	next := c.in
	st := c.st
	st.Runs++
	raw, err := saveState(st)
	if err != nil {
		return campaign.CloseResult{}, err
	}
	next.State = raw
	c.log.Info("campaign continues as new", "runs", st.Runs)
	return campaign.CloseResult{}, workflow.NewContinueAsNewError(ctx, CampaignWorkflow, next)
}
