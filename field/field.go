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
	Again bool   `json:"again,omitempty"`
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

// Record writes each entry of an agent of a campaign in a transaction of its own, in order,
// and answers each. by is the account that sent them, for the audit rows. An error is the
// server's own (the database); a refused entry is a Result.
func (r *Recorder) Record(ctx context.Context, by, campaignID, agent string, entries []Entry) ([]Result, error) {
	out := make([]Result, 0, len(entries))
	for _, e := range entries {
		res, err := r.record(ctx, by, campaignID, agent, e)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// refusal is an entry refused, in words: the field (if one) and why.
type refusal struct{ field, msg string }

func (f refusal) Error() string { return f.msg }

func refuse(field, format string, args ...any) error {
	return refusal{field: field, msg: fmt.Sprintf(format, args...)}
}

func (r *Recorder) record(ctx context.Context, by, campaignID, agent string, e Entry) (Result, error) {
	e.ID = strings.ToLower(strings.TrimSpace(e.ID))
	res := Result{ID: e.ID}
	if !uuidRe.MatchString(e.ID) {
		res.Status, res.Field, res.Error = "refused", "id", "id: must be a UUID made on the phone"
		return res, nil
	}
	body, _ := json.Marshal(e)
	digest := sha256.Sum256(body)
	err := pgx.BeginFunc(ctx, r.DB, func(tx pgx.Tx) error {
		if err := store.LockFieldEntry(ctx, tx, e.ID); err != nil {
			return err
		}
		earlier, err := store.EarlierFieldEntry(ctx, tx, e.ID)
		if err == nil {
			res.Again = true
			if earlier.CampaignID != campaignID || earlier.Agent != agent || string(earlier.Digest) != string(digest[:]) {
				res.Status, res.Field, res.Error = "refused", "id", "id: this ID was sent before with another entry; make a new one"
				return nil
			}
			res.Status, res.Field, res.Error = earlier.Status, earlier.Field, earlier.Error
			return nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		fe := store.FieldEntry{ID: e.ID, CampaignID: campaignID, Agent: agent, Kind: e.Kind, Digest: digest[:],
			FollowUp: e.FollowUp, Status: "recorded", Reason: strings.TrimSpace(e.Reason), By: by}
		// The effect runs under a savepoint: a refusal found while writing it (the person
		// enrolled meanwhile) undoes it, and the entry is recorded as refused.
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		applyErr := apply(ctx, sp, campaignID, agent, e, &fe)
		var rf refusal
		switch {
		case errors.As(applyErr, &rf):
			if err := sp.Rollback(ctx); err != nil {
				return err
			}
			fe.Status, fe.Field, fe.Error, fe.District, fe.Enrolled, fe.Reason = "refused", rf.field, rf.msg, "", false, ""
			if !knownKind(fe.Kind) {
				fe.Kind = KindOutcome // the table knows three kinds; the refusal says which was wrong
			}
		case applyErr != nil:
			return applyErr
		default:
			if err := sp.Commit(ctx); err != nil {
				return err
			}
		}
		if err := store.InsertFieldEntry(ctx, tx, fe); err != nil {
			return err
		}
		res.Status, res.Field, res.Error = fe.Status, fe.Field, fe.Error
		if fe.Status != "recorded" {
			return nil
		}
		detail, _ := json.Marshal(map[string]any{"entry": e.ID, "kind": fe.Kind, "follow_up": fe.FollowUp,
			"enrolled": fe.Enrolled, "district": fe.District})
		return store.InsertAuditRow(ctx, tx, store.AuditRow{CampaignID: campaignID, Actor: by, Action: "field." + fe.Kind,
			Entity: "agent", EntityKey: agent, Detail: detail})
	})
	return res, err
}

func knownKind(k string) bool { return k == KindOutcome || k == KindEnrolment || k == KindLead }

// apply checks an entry and writes its effect; a refusal is returned as one.
func apply(ctx context.Context, tx pgx.Tx, campaignID, agent string, e Entry, fe *store.FieldEntry) error {
	c, err := store.FieldCampaignOf(ctx, tx, campaignID)
	if err != nil {
		return err
	}
	switch c.Status {
	case "running":
	case "paused":
		return refuse("", "the campaign is paused: nothing can be recorded until a coordinator resumes it; keep the entry and send it again later")
	case "preparing", "planned":
		return refuse("", "the campaign has not started yet")
	default:
		return refuse("", "the campaign is over (%s): nothing more can be recorded", c.Status)
	}
	place, err := store.AgentPlaceOf(ctx, tx, campaignID, agent)
	if errors.Is(err, store.ErrNotFound) {
		return refuse("", "the campaign's roster has no agent %s", agent)
	}
	if err != nil {
		return err
	}
	if place.Status != "active" {
		return refuse("", "your contract has ended: your follow-ups were passed to others, and nothing more can be recorded")
	}
	today := today(c)
	on := today
	if s := strings.TrimSpace(e.On); s != "" {
		d, err := time.Parse("2006-01-02", s)
		if err != nil {
			return refuse("on", "on: %q is not a date (YYYY-MM-DD)", s)
		}
		if d.After(today) {
			return refuse("on", "on: %s is after the campaign's day %s", s, today.Format("2006-01-02"))
		}
		on = d
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		loc = time.UTC
	}
	at := time.Date(on.Year(), on.Month(), on.Day(), 0, 0, 0, 0, loc)
	ref, err := agentReference(ctx, tx, c, campaignID, place)
	if err != nil {
		return err
	}
	switch e.Kind {
	case KindOutcome:
		return applyOutcome(ctx, tx, campaignID, agent, e, ref, on, at, fe)
	case KindEnrolment:
		return applyEnrolment(ctx, tx, campaignID, agent, place, e, ref, on, at, fe)
	case KindLead:
		return applyLead(ctx, tx, campaignID, agent, place, e, ref, on, at)
	}
	return refuse("kind", "kind: %q is not outcome, enrolment or lead", e.Kind)
}

// today is the campaign's day now (in campaign time), within its period.
func today(c store.FieldCampaign) time.Time {
	now := time.Now()
	if c.Epoch != nil && c.Start != nil {
		now = plan.Clock{Epoch: *c.Epoch, Start: *c.Start, Scale: c.Scale}.CampaignTime(now)
	}
	if loc, err := time.LoadLocation(c.Timezone); err == nil {
		now = now.In(loc)
	}
	d := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
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
	if errors.Is(err, store.ErrAlreadyEnrolled) {
		return refuse("citizen_id", "this person was enrolled by another agent meanwhile")
	}
	if err != nil {
		return err
	}
	if linked != 0 {
		if _, err := store.CloseProspectFollowUp(ctx, tx, linked, at, e.ID); err != nil {
			return err
		}
	}
	fe.District, fe.Enrolled = district, true
	return nil
}

func applyLead(ctx context.Context, tx pgx.Tx, campaignID, agent string, place store.AgentPlace, e Entry, ref *imports.Reference, on, at time.Time) error {
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
	policy, err := followUpPolicy(ctx, tx, campaignID)
	if err != nil {
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
