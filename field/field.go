// Package field is what collection agents record on their phones (the web page's /m/, or any
// client of the field API): an agent's list of the day, and the entries they send — outcomes of
// follow-ups, enrolments, people met in the field. Each entry is checked by the CSV import's
// rules (imports.CheckLine), written at once with its effect and its audit row in one
// transaction, and known by the ID the phone made for it, so that a resend answers the first
// receipt's answer and writes nothing. The campaign workflow counts the enrolments into its
// progress later, in batches (the Update record-field).
package field

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"drives/contribution"
	"drives/imports"
	"drives/plan"
	"drives/store"
)

// Entry kinds.
const (
	KindOutcome   = "outcome"
	KindEnrolment = "enrolment"
	KindLead      = "lead"
)

// MaxEntries is the most entries one send may hold.
const MaxEntries = 100

// Entry is one thing an agent recorded. Which fields it has depends on its kind (docs/API.md).
type Entry struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	FollowUp int64  `json:"follow_up,omitempty"`
	// Outcome is declined or unreachable (kind outcome); Reason says why.
	Outcome string `json:"outcome,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// The person (a lead, or a walk-in enrolment): with a follow-up, the lead's are used.
	CitizenID string `json:"citizen_id,omitempty"`
	FullName  string `json:"full_name,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Village   string `json:"village,omitempty"`
	Group     string `json:"group,omitempty"`
	// The enrolment's terms.
	MonthlyIncome int64  `json:"monthly_income,omitempty"`
	SubsidyClass  string `json:"subsidy_class,omitempty"`
	PaymentMode   string `json:"payment_mode,omitempty"`
	// On is the day in campaign time (YYYY-MM-DD); empty: the campaign's day when received.
	On string `json:"on,omitempty"`
}

// Result is what became of an entry.
type Result struct {
	ID     string `json:"id"`
	Status string `json:"status"` // recorded | refused
	// Again: received before; this is the first receipt's answer, and nothing was written.
	Again bool `json:"again,omitempty"`
	// Later: refused for now (the campaign is paused); the entry is not kept, and the same
	// entry is taken when sent again.
	Later bool   `json:"later,omitempty"`
	Field string `json:"field,omitempty"`
	Error string `json:"error,omitempty"`
}

// Recorder writes the entries agents send.
type Recorder struct {
	DB store.Beginner
}

var uuidRe = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// ErrNoAgent is an agent the campaign's roster does not have.
var ErrNoAgent = errors.New("the campaign's roster has no such agent")

// Record writes the entries of one send of an agent of a campaign, in order, in one
// transaction, and answers each. by is the account that sent them, for the send's audit row.
// A campaign's sends are written one at a time (they would otherwise lock the campaign's count
// rows in different orders, and they take turns at its audit chain anyway): one commit for a
// send, not one per entry. An error is the server's own (the database); a refused entry is a
// Result.
func (r *Recorder) Record(ctx context.Context, by, campaignID, agent string, entries []Entry) ([]Result, error) {
	entries = slices.Clone(entries) // their IDs are read in lower case; the caller's stay as sent
	out := make([]Result, len(entries))
	err := pgx.BeginFunc(ctx, r.DB, func(tx pgx.Tx) error {
		// The field's turn, then the campaign's enrolments' (an import's merge takes it too): an
		// entry's checks then see every enrolment, and its writes meet no other's.
		if err := store.LockFieldSends(ctx, tx, campaignID); err != nil {
			return err
		}
		if err := store.LockEnrolmentMerges(ctx, tx, campaignID); err != nil {
			return err
		}
		s, err := newSend(ctx, tx, campaignID, agent)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(entries))
		for i := range entries {
			entries[i].ID = strings.ToLower(strings.TrimSpace(entries[i].ID))
			if uuidRe.MatchString(entries[i].ID) {
				ids = append(ids, entries[i].ID)
			}
		}
		if s.earlier, err = store.EarlierFieldEntries(ctx, tx, ids); err != nil {
			return err
		}
		var kept []store.FieldEntry
		var lines []map[string]any
		for i, e := range entries {
			fe, res, err := s.record(ctx, tx, by, e)
			if err != nil {
				return err
			}
			out[i] = res
			if fe != nil && !res.Again {
				kept = append(kept, *fe)
				s.earlier[fe.ID] = *fe // the same entry twice in one send is the first's
				lines = append(lines, map[string]any{"entry": fe.ID, "kind": fe.Kind, "status": fe.Status,
					"follow_up": fe.FollowUp, "enrolled": fe.Enrolled, "district": fe.District})
			}
		}
		if err := store.InsertFieldEntries(ctx, tx, kept); err != nil {
			return err
		}
		if len(lines) == 0 {
			return nil
		}
		detail, err := json.Marshal(map[string]any{"entries": lines})
		if err != nil {
			return err
		}
		return store.InsertAuditRow(ctx, tx, store.AuditRow{CampaignID: campaignID, Actor: by, Action: "field.send",
			Entity: "agent", EntityKey: agent, Detail: detail})
	})
	return out, err
}

// refusal is an entry refused, in words: the field (if one) and why. A refusal for now (the
// campaign is paused) is not kept: the same entry sent later is taken afresh.
type refusal struct {
	field, msg string
	later      bool
}

func (f refusal) Error() string { return f.msg }

func refuse(field, format string, args ...any) error {
	return refusal{field: field, msg: fmt.Sprintf(format, args...)}
}

// send is what every entry of one send is checked against, read once.
type send struct {
	campaignID, agent string
	campaign          store.FieldCampaign
	place             store.AgentPlace
	ref               *imports.Reference
	// closed refuses every entry of the send (the campaign is not running, the agent's
	// contract has ended); nil when entries are taken.
	closed error
	today  time.Time
	loc    *time.Location
	policy *plan.FollowUpPolicy // read when a lead needs it
	// earlier are the send's entries received before (and, as the send goes, its own).
	earlier map[string]store.FieldEntry
}

func newSend(ctx context.Context, tx pgx.Tx, campaignID, agent string) (*send, error) {
	s := &send{campaignID: campaignID, agent: agent}
	var err error
	if s.campaign, err = store.FieldCampaignOf(ctx, tx, campaignID); err != nil {
		return nil, err
	}
	switch s.campaign.Status {
	case "running":
	case "paused":
		s.closed = refusal{msg: "the campaign is paused: nothing can be recorded until a coordinator resumes it; the entry is kept and sent again later", later: true}
	case "preparing", "planned":
		s.closed = refusal{msg: "the campaign has not started yet; the entry is kept and sent again later", later: true}
	default:
		s.closed = refuse("", "the campaign is over (%s): nothing more can be recorded", s.campaign.Status)
	}
	s.place, err = store.AgentPlaceOf(ctx, tx, campaignID, agent)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("%w: %s", ErrNoAgent, agent)
	case err != nil:
		return nil, err
	case s.closed == nil && s.place.Status != "active":
		s.closed = refuse("", "your contract has ended: your follow-ups were passed to others, and nothing more can be recorded")
	}
	if s.loc, err = time.LoadLocation(s.campaign.Timezone); err != nil {
		s.loc = time.UTC
	}
	s.today = today(s.campaign)
	if s.ref, err = agentReference(ctx, tx, s.campaign, campaignID, s.place); err != nil {
		return nil, err
	}
	return s, nil
}

// record checks one entry and writes its effect, and returns the entry to keep (nil when it
// is not kept) and its answer. Every refusal is found before anything is written.
func (s *send) record(ctx context.Context, tx pgx.Tx, by string, e Entry) (*store.FieldEntry, Result, error) {
	res := Result{ID: e.ID}
	if !uuidRe.MatchString(e.ID) {
		res.Status, res.Field, res.Error = "refused", "id", "id: must be a UUID made on the phone"
		return nil, res, nil
	}
	body, _ := json.Marshal(e)
	digest := sha256.Sum256(body)
	if earlier, ok := s.earlier[e.ID]; ok {
		res.Again = true
		if earlier.CampaignID != s.campaignID || earlier.Agent != s.agent || string(earlier.Digest) != string(digest[:]) {
			res.Status, res.Field, res.Error = "refused", "id", "id: this ID was sent before with another entry; make a new one"
			return nil, res, nil
		}
		res.Status, res.Field, res.Error = earlier.Status, earlier.Field, earlier.Error
		return &earlier, res, nil
	}
	fe := store.FieldEntry{ID: e.ID, CampaignID: s.campaignID, Agent: s.agent, Kind: e.Kind, Digest: digest[:],
		FollowUp: e.FollowUp, Status: "recorded", Reason: strings.TrimSpace(e.Reason), By: by}
	applyErr := s.closed
	if applyErr == nil {
		applyErr = s.apply(ctx, tx, e, &fe)
	}
	var rf refusal
	switch {
	case errors.As(applyErr, &rf):
		res.Status, res.Field, res.Error, res.Later = "refused", rf.field, rf.msg, rf.later
		if rf.later {
			return nil, res, nil
		}
		fe.Status, fe.Field, fe.Error, fe.District, fe.Enrolled, fe.Reason = "refused", rf.field, rf.msg, "", false, ""
		if !knownKind(fe.Kind) {
			fe.Kind = KindOutcome // the table knows three kinds; the refusal says which was wrong
		}
	case applyErr != nil:
		return nil, res, applyErr
	default:
		res.Status = "recorded"
	}
	return &fe, res, nil
}

func knownKind(k string) bool { return k == KindOutcome || k == KindEnrolment || k == KindLead }

// apply checks an entry and writes its effect; a refusal is returned as one.
func (s *send) apply(ctx context.Context, tx pgx.Tx, e Entry, fe *store.FieldEntry) error {
	on := s.today
	if d := strings.TrimSpace(e.On); d != "" {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			return refuse("on", "on: %q is not a date (YYYY-MM-DD)", d)
		}
		if t.After(s.today) {
			// A phone's clock a little ahead (around midnight) is not a mistake to keep.
			return refusal{field: "on", later: true, msg: fmt.Sprintf("on: %s is after the campaign's day %s; the entry is kept and sent again later",
				d, s.today.Format("2006-01-02"))}
		}
		on = t
	}
	at := time.Date(on.Year(), on.Month(), on.Day(), 0, 0, 0, 0, s.loc)
	switch e.Kind {
	case KindOutcome:
		return applyOutcome(ctx, tx, s.campaignID, s.agent, e, s.ref, on, at, fe)
	case KindEnrolment:
		return applyEnrolment(ctx, tx, s.campaignID, s.agent, s.place, e, s.ref, on, at, fe)
	case KindLead:
		if s.policy == nil {
			p, err := followUpPolicy(ctx, tx, s.campaignID)
			if err != nil {
				return err
			}
			s.policy = &p
		}
		return applyLead(ctx, tx, s.campaignID, s.agent, s.place, e, s.ref, on, at, *s.policy)
	}
	return refuse("kind", "kind: %q is not outcome, enrolment or lead", e.Kind)
}

// today is the campaign's day now (in campaign time), within its period.
func today(c store.FieldCampaign) time.Time {
	clock := plan.Clock{Epoch: time.Now(), Start: time.Now(), Scale: 1} // not started: the calendar
	if c.Epoch != nil && c.Start != nil {
		clock = plan.Clock{Epoch: *c.Epoch, Start: *c.Start, Scale: c.Scale}
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		loc = time.UTC
	}
	d := clock.Day(time.Now(), loc)
	if d.After(c.PeriodEnd) {
		return c.PeriodEnd
	}
	return d
}

// agentReference is what an agent's entries are checked against: their commune and its
// villages, themselves, the campaign's groups and period.
func agentReference(ctx context.Context, db store.DB, c store.FieldCampaign, campaignID string, place store.AgentPlace) (*imports.Reference, error) {
	ref := &imports.Reference{CampaignID: campaignID, Communes: map[string]string{place.Commune: place.District},
		Villages: map[string]string{}, Agents: map[string]string{place.Code: place.Commune}, Groups: map[string]bool{},
		PeriodStart: c.PeriodStart, PeriodEnd: c.PeriodEnd}
	villages, err := store.UnitChoices(ctx, db, campaignID, place.Commune)
	if err != nil {
		return nil, err
	}
	for _, v := range villages {
		ref.Villages[v.Code] = place.Commune
	}
	groups, err := store.TargetGroupsByLikelihood(ctx, db, campaignID)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		ref.Groups[g] = true
	}
	return ref, nil
}

// checked turns the import's refusal of a line into the entry's: the first problem, in the
// import's words, on the entry's field.
func checked(errs []imports.LineError) error {
	if len(errs) == 0 {
		return nil
	}
	field := map[string]string{"commune_code": "village", "village_code": "village", "target_group": "group",
		"enrolled_on": "on", "reported_on": "on", "agent_code": ""}
	f, ok := field[errs[0].Field]
	if !ok {
		f = errs[0].Field
	}
	return refuse(f, "%s: %s", errs[0].Field, errs[0].Msg)
}

// lead locks the entry's follow-up and checks it is the agent's and open.
func lead(ctx context.Context, tx pgx.Tx, campaignID, agent string, id int64, enrolling bool) (store.FieldLead, error) {
	if id <= 0 {
		return store.FieldLead{}, refuse("follow_up", "follow_up: give the follow-up's number")
	}
	l, err := store.LockFieldLead(ctx, tx, campaignID, id)
	if errors.Is(err, store.ErrNotFound) {
		return l, refuse("follow_up", "follow-up %d: the campaign has no such follow-up", id)
	}
	if err != nil {
		return l, err
	}
	if l.Agent != agent {
		return l, refuse("follow_up", "follow-up %d was reassigned to another agent: it is no longer yours", id)
	}
	if l.Kind == "renewal" {
		return l, refuse("follow_up", "follow-up %d is a renewal: it closes when the person's payment is recorded from the collection records", id)
	}
	if l.Status != "open" && !(enrolling && l.Status == "unreachable") {
		return l, refuse("follow_up", "follow-up %d is closed already (%s)", id, l.Status)
	}
	return l, nil
}

func applyOutcome(ctx context.Context, tx pgx.Tx, campaignID, agent string, e Entry, ref *imports.Reference, on, at time.Time, fe *store.FieldEntry) error {
	l, err := lead(ctx, tx, campaignID, agent, e.FollowUp, false)
	if err != nil {
		return err
	}
	if _, errs := imports.CheckLine(imports.Outcomes, ref, []string{l.CitizenID, e.Outcome, on.Format("2006-01-02")}); len(errs) > 0 {
		return checked(errs)
	}
	if utf8.RuneCountInString(fe.Reason) > 200 {
		return refuse("reason", "reason: at most 200 characters")
	}
	if e.Outcome == "unreachable" && fe.Reason == "" {
		return refuse("reason", "reason: say why the person could not be reached")
	}
	if _, err := store.CloseFieldFollowUp(ctx, tx, l.FollowUp, e.Outcome, at); err != nil {
		return err
	}
	return nil
}

func applyEnrolment(ctx context.Context, tx pgx.Tx, campaignID, agent string, place store.AgentPlace, e Entry, ref *imports.Reference,
	on, at time.Time, fe *store.FieldEntry) error {
	person := e
	var prospect int64
	if e.FollowUp != 0 {
		l, err := lead(ctx, tx, campaignID, agent, e.FollowUp, true)
		if err != nil {
			return err
		}
		person.CitizenID, person.FullName, person.Phone, person.Village, person.Group = l.CitizenID, l.FullName, l.Phone, l.Village, l.Group
		prospect = l.ProspectID
	}
	rec := []string{person.CitizenID, person.FullName, person.Phone, place.Commune, person.Village, agent, person.Group,
		strconv.FormatInt(e.MonthlyIncome, 10), e.SubsidyClass, e.PaymentMode, on.Format("2006-01-02")}
	row, errs := imports.CheckLine(imports.Enrolments, ref, rec)
	if len(errs) > 0 {
		return checked(errs)
	}
	if who, err := store.EnrolledBy(ctx, tx, campaignID, row.CitizenID); err == nil {
		if who == agent {
			return refuse("citizen_id", "this person is enrolled already (by you)")
		}
		return refuse("citizen_id", "this person was enrolled by another agent meanwhile")
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	district, linked, err := store.InsertFieldEnrolment(ctx, tx, store.FieldEnrolment{CampaignID: campaignID, CitizenID: row.CitizenID,
		FullName: row.FullName, Phone: row.Phone, Commune: place.Commune, Village: row.Village, Agent: agent, Group: row.Group,
		Income: row.Income, Contribution: contribution.Monthly(row.Income), SubsidyClass: row.SubsidyClass,
		Subsidy: contribution.MonthlySubsidy(row.SubsidyClass), PaymentMonths: row.PaymentMonths, On: on, Batch: e.ID, ProspectID: prospect})
	if err != nil {
		return err // enrolled meanwhile cannot be: the send holds the campaign's enrolments (EnrolledBy above)
	}
	if linked != 0 {
		if _, err := store.CloseProspectFollowUp(ctx, tx, linked, at, e.ID); err != nil {
			return err
		}
	}
	fe.District, fe.Enrolled = district, true
	return nil
}

func applyLead(ctx context.Context, tx pgx.Tx, campaignID, agent string, place store.AgentPlace, e Entry, ref *imports.Reference, on, at time.Time,
	policy plan.FollowUpPolicy) error {
	rec := []string{e.CitizenID, e.FullName, e.Phone, place.Commune, e.Village, e.Group}
	row, errs := imports.CheckLine(imports.Leads, ref, rec)
	if len(errs) > 0 {
		return checked(errs)
	}
	if _, errs := imports.CheckLine(imports.Outcomes, ref, []string{row.CitizenID, "declined", on.Format("2006-01-02")}); len(errs) > 0 {
		return checked(errs) // the day, by the import's words
	}
	if _, err := store.EnrolledBy(ctx, tx, campaignID, row.CitizenID); err == nil {
		return refuse("citizen_id", "this person is enrolled already")
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	added, err := store.InsertFieldProspect(ctx, tx, store.FieldProspect{CampaignID: campaignID, CitizenID: row.CitizenID,
		FullName: row.FullName, Phone: row.Phone, Commune: place.Commune, Village: row.Village, Group: row.Group, Agent: agent,
		Batch: e.ID, At: at, DueAt: at.Add(time.Duration(policy.Deadline)), GiveUpAt: at.Add(time.Duration(policy.GiveUpAfter))})
	if err != nil {
		return err
	}
	if !added {
		return refuse("citizen_id", "this person is a lead of the campaign already")
	}
	return nil
}

// followUpPolicy is the campaign's plan's follow-up policy.
func followUpPolicy(ctx context.Context, db store.DB, campaignID string) (plan.FollowUpPolicy, error) {
	raw, _, err := store.CampaignPlan(ctx, db, campaignID)
	if err != nil {
		return plan.FollowUpPolicy{}, err
	}
	var lp plan.Loaded // as coordinator.StorePlan stored it
	if err := json.Unmarshal(raw, &lp); err != nil {
		return plan.FollowUpPolicy{}, fmt.Errorf("campaign %s: read its plan: %w", campaignID, err)
	}
	return lp.Plan.FollowUp, nil
}
