package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// The field page's reads and writes (table field_entries, migration 014): an agent's list of
// the day, and each entry a phone sends, written with its effect.

// AgentPlace is where an agent or staff member works, and whether they still do.
type AgentPlace struct {
	Code, Kind, Commune, District, Status string
}

// AgentPlaceOf reads an agent's commune, district, kind and status; ErrNotFound when the
// campaign has no agent of the code.
func AgentPlaceOf(ctx context.Context, db DB, campaignID, code string) (AgentPlace, error) {
	p := AgentPlace{Code: code}
	err := db.QueryRow(ctx, `select kind, commune_code, district_code, status from agents where campaign_id = $1 and code = $2`,
		campaignID, code).Scan(&p.Kind, &p.Commune, &p.District, &p.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("agent %s: %w", code, ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("read agent %s: %w", code, err)
	}
	return p, nil
}

// UnitChoices are the units below a unit (a commune's villages), by code.
func UnitChoices(ctx context.Context, db DB, campaignID, parent string) ([]Choice, error) {
	return choices(ctx, db, `select code, name from units where campaign_id = $1 and parent_code = $2 order by code`, campaignID, parent)
}

// FieldFollowUp is an open follow-up on an agent's list: the lead, where they live, the event
// they came from, and when it falls due; or a renewal: a participant the agent holds whose
// payment falls due on RenewalDue.
type FieldFollowUp struct {
	ID          int64     `json:"id"`
	Kind        string    `json:"kind"` // lead | renewal
	RenewalDue  string    `json:"renewal_due,omitempty"`
	Name        string    `json:"name"`
	Phone       string    `json:"phone"`
	Village     string    `json:"village,omitempty"`
	VillageName string    `json:"village_name,omitempty"`
	Group       string    `json:"group"`
	GroupName   string    `json:"group_name"`
	Likelihood  float64   `json:"likelihood"`
	Event       string    `json:"event,omitempty"`
	EventTitle  string    `json:"event_title,omitempty"`
	DueAt       time.Time `json:"due_at"`
	GiveUpAt    time.Time `json:"give_up_at"`
	Escalated   bool      `json:"escalated"`
}

// MaxFieldList is the most follow-ups an agent's list holds at once.
const MaxFieldList = 500

// FieldFollowUps lists an agent's open follow-ups: those due by dueBy first, by when they
// fell due, then the rest by their target group's likelihood.
func FieldFollowUps(ctx context.Context, db DB, campaignID, agent string, dueBy time.Time) ([]FieldFollowUp, error) {
	rows, err := db.Query(ctx, `
		with c as (select register_id from campaigns where id = $1)
		select f.id, f.kind, coalesce(f.renewal_due::text, ''), coalesce(p.full_name, r.full_name, ''), coalesce(p.phone, r.phone, ''),
			coalesce(p.village_code, r.village_code, ''), coalesce(v.name, ''), coalesce(p.target_group, r.target_group, ''),
			coalesce(g.name, ''), coalesce(g.likelihood, 1), coalesce(p.event_id, ''), coalesce(e.title, ''),
			f.due_at, f.give_up_at, f.escalated_at is not null
		from follow_ups f
		cross join c
		left join prospects p on p.id = f.prospect_id
		left join participants r on f.kind = 'renewal' and r.register_id = c.register_id and r.citizen_id = f.citizen_id
		left join target_groups g on g.campaign_id = f.campaign_id and g.code = coalesce(p.target_group, r.target_group)
		left join units v on v.campaign_id = f.campaign_id and v.code = coalesce(p.village_code, r.village_code)
		left join events e on e.campaign_id = f.campaign_id and e.id = p.event_id
		where f.campaign_id = $1 and f.agent_code = $2 and f.status = 'open'
		order by f.due_at <= $3 desc, case when f.due_at <= $3 then f.due_at end, f.kind = 'renewal' desc,
			coalesce(g.likelihood, 1) desc, f.due_at, f.id
		limit $4`, campaignID, agent, dueBy, MaxFieldList)
	if err != nil {
		return nil, fmt.Errorf("read follow-ups: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FieldFollowUp, error) {
		var f FieldFollowUp
		return f, r.Scan(&f.ID, &f.Kind, &f.RenewalDue, &f.Name, &f.Phone, &f.Village, &f.VillageName, &f.Group, &f.GroupName, &f.Likelihood,
			&f.Event, &f.EventTitle, &f.DueAt, &f.GiveUpAt, &f.Escalated)
	})
	if err != nil {
		return nil, fmt.Errorf("read follow-ups: %w", err)
	}
	return out, nil
}

// FieldEntry is an entry a phone sent, as recorded.
type FieldEntry struct {
	ID         string
	CampaignID string
	Agent      string
	Kind       string // outcome | enrolment | lead
	Digest     []byte
	FollowUp   int64
	Status     string // recorded | refused
	Field      string // the refused field, if one
	Error      string // the refusal in words
	Reason     string // an outcome's, in the agent's words
	District   string // a recorded enrolment's
	Enrolled   bool
	By         string
}

// EarlierFieldEntries reads the entries among these IDs received before, by ID.
func EarlierFieldEntries(ctx context.Context, db DB, ids []string) (map[string]FieldEntry, error) {
	rows, err := db.Query(ctx, `select id::text, campaign_id, agent_code, kind, digest, coalesce(follow_up_id, 0), status,
			coalesce(field, ''), coalesce(error, ''), coalesce(district_code, ''), enrolled, by_account
		from field_entries where id = any($1::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("read field entries: %w", err)
	}
	out := map[string]FieldEntry{}
	var e FieldEntry
	if _, err := pgx.ForEachRow(rows, []any{&e.ID, &e.CampaignID, &e.Agent, &e.Kind, &e.Digest, &e.FollowUp, &e.Status, &e.Field,
		&e.Error, &e.District, &e.Enrolled, &e.By}, func() error {
		out[e.ID] = e
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read field entries: %w", err)
	}
	return out, nil
}

// LockFieldSends serialises, until the transaction ends, the field's sends of a campaign.
func LockFieldSends(ctx context.Context, db DB, campaignID string) error {
	if _, err := db.Exec(ctx, `select pg_advisory_xact_lock(hashtextextended('field-sends:' || $1, 0))`, campaignID); err != nil {
		return fmt.Errorf("take the field's turn of %s: %w", campaignID, err)
	}
	return nil
}

// InsertFieldEntries records entries and what became of them, by COPY.
func InsertFieldEntries(ctx context.Context, db DB, es []FieldEntry) error {
	if len(es) == 0 {
		return nil
	}
	if _, err := db.CopyFrom(ctx, pgx.Identifier{"field_entries"},
		[]string{"id", "campaign_id", "agent_code", "kind", "digest", "follow_up_id", "status", "field", "error", "reason",
			"district_code", "enrolled", "by_account"},
		pgx.CopyFromSlice(len(es), func(i int) ([]any, error) {
			e := es[i]
			var followUp *int64
			if e.FollowUp != 0 {
				followUp = &e.FollowUp
			}
			return []any{e.ID, e.CampaignID, e.Agent, e.Kind, e.Digest, followUp, e.Status, nullIfEmpty(e.Field), nullIfEmpty(e.Error),
				nullIfEmpty(e.Reason), nullIfEmpty(e.District), e.Enrolled, e.By}, nil
		})); err != nil {
		return fmt.Errorf("record field entries: %w", err)
	}
	return nil
}

// FieldLead is the person and state of a follow-up, locked for an entry that closes it.
type FieldLead struct {
	FollowUp   int64
	Agent      string
	Status     string
	Kind       string // lead | renewal (a renewal has no prospect: the fields below are empty)
	ProspectID int64
	CitizenID  string
	FullName   string
	Phone      string
	Commune    string
	Village    string
	Group      string
}

// LockFieldLead reads a follow-up of a campaign and its prospect, and locks the follow-up;
// ErrNotFound when the campaign has none of the ID.
func LockFieldLead(ctx context.Context, db DB, campaignID string, followUp int64) (FieldLead, error) {
	l := FieldLead{FollowUp: followUp}
	err := db.QueryRow(ctx, `
		select f.agent_code, f.status, f.kind, coalesce(p.id, 0), coalesce(p.citizen_id, ''), coalesce(p.full_name, ''),
			coalesce(p.phone, ''), coalesce(p.commune_code, ''), coalesce(p.village_code, ''), coalesce(p.target_group, '')
		from follow_ups f left join prospects p on p.id = f.prospect_id
		where f.campaign_id = $1 and f.id = $2 for update of f`, campaignID, followUp).
		Scan(&l.Agent, &l.Status, &l.Kind, &l.ProspectID, &l.CitizenID, &l.FullName, &l.Phone, &l.Commune, &l.Village, &l.Group)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, fmt.Errorf("follow-up %d: %w", followUp, ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("read follow-up %d: %w", followUp, err)
	}
	return l, nil
}

// CloseFieldFollowUp closes an open (or, for an enrolment, unreachable) follow-up with an
// outcome at a campaign instant (not before it opened: a day's midnight may be); false when it
// was no longer open.
func CloseFieldFollowUp(ctx context.Context, db DB, followUp int64, outcome string, at time.Time) (bool, error) {
	tag, err := db.Exec(ctx, `update follow_ups set status = $2, closed_at = greatest($3, opened_at)
		where id = $1 and (status = 'open' or ($2 = 'enrolled' and status = 'unreachable'))`, followUp, outcome, at)
	if err != nil {
		return false, fmt.Errorf("close follow-up %d: %w", followUp, err)
	}
	return tag.RowsAffected() == 1, nil
}

// FieldEnrolment is an enrolment an agent recorded, with the contribution rules' figures.
type FieldEnrolment struct {
	CampaignID, CitizenID, FullName, Phone string
	Commune, Village, Agent, Group         string
	Income, Contribution, Subsidy          int64
	SubsidyClass                           string
	PaymentMonths                          int
	On                                     time.Time
	Batch                                  string // the entry's ID
	ProspectID                             int64  // 0: a person met in the field
}

// EnrolledBy is the agent who enrolled a person of a campaign already; ErrNotFound when
// nobody has.
func EnrolledBy(ctx context.Context, db DB, campaignID, citizenID string) (string, error) {
	var agent string
	err := db.QueryRow(ctx, `select agent_code from enrolments where campaign_id = $1 and citizen_id = $2`, campaignID, citizenID).Scan(&agent)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return agent, err
}

// InsertFieldEnrolment enrols a person, linked to the prospect they were met as (a person met
// in the field who was a lead of the campaign is linked too), and returns the district. The
// caller holds the campaign's enrolments (LockEnrolmentMerges) and has found the person not
// enrolled (EnrolledBy).
func InsertFieldEnrolment(ctx context.Context, db DB, e FieldEnrolment) (district string, prospect int64, err error) {
	err = db.QueryRow(ctx, `
		insert into enrolments (campaign_id, citizen_id, full_name, phone, district_code, commune_code, village_code,
			agent_code, target_group, monthly_income, monthly_contribution, subsidy_class, monthly_subsidy,
			payment_months, enrolled_on, batch_id, prospect_id)
		select $1, $2, $3, $4, u.district_code, $5, nullif($6, ''), $7, $8, $9, $10, $11, $12, $13, $14, $15,
			coalesce(nullif($16, 0), (select id from prospects where campaign_id = $1 and citizen_id = $2))
		from units u where u.campaign_id = $1 and u.code = $5
		returning district_code, coalesce(prospect_id, 0)`,
		e.CampaignID, e.CitizenID, e.FullName, e.Phone, e.Commune, e.Village, e.Agent, e.Group, e.Income, e.Contribution,
		e.SubsidyClass, e.Subsidy, e.PaymentMonths, e.On, e.Batch, e.ProspectID).Scan(&district, &prospect)
	if err != nil {
		return "", 0, fmt.Errorf("enrol: %w", err)
	}
	return district, prospect, nil
}

// CloseProspectFollowUp closes as enrolled, at a campaign instant, the open or unreachable
// follow-up of a prospect who enrolled; false when there was none.
func CloseProspectFollowUp(ctx context.Context, db DB, prospect int64, at time.Time, batch string) (bool, error) {
	tag, err := db.Exec(ctx, `update follow_ups set status = 'enrolled', closed_at = greatest($2, opened_at), closed_by_batch = $3
		where prospect_id = $1 and status in ('open', 'unreachable')`, prospect, at, batch)
	if err != nil {
		return false, fmt.Errorf("close follow-up of prospect %d: %w", prospect, err)
	}
	return tag.RowsAffected() == 1, nil
}

// FieldProspect is a person an agent met in the field, to be followed up by them.
type FieldProspect struct {
	CampaignID, CitizenID, FullName, Phone string
	Commune, Village, Group, Agent         string
	Batch                                  string // the entry's ID
	At, DueAt, GiveUpAt                    time.Time
}

// InsertFieldProspect makes a prospect of a person met in the field and opens their follow-up,
// held by the agent who met them; false when the campaign has them as a prospect already.
func InsertFieldProspect(ctx context.Context, db DB, p FieldProspect) (bool, error) {
	tag, err := db.Exec(ctx, `
		with ins as (
			insert into prospects (campaign_id, citizen_id, full_name, phone, district_code, commune_code, village_code, target_group, batch_id, created_at)
			select $1, $2, $3, $4, u.district_code, $5, nullif($6, ''), $7, $8, $9
			from units u where u.campaign_id = $1 and u.code = $5
			on conflict (campaign_id, citizen_id) do nothing
			returning id, district_code)
		insert into follow_ups (campaign_id, prospect_id, district_code, commune_code, agent_code, priority, opened_at, due_at, give_up_at)
		select $1, ins.id, ins.district_code, $5, $10, g.likelihood, $9, $11, $12
		from ins join target_groups g on g.campaign_id = $1 and g.code = $7`,
		p.CampaignID, p.CitizenID, p.FullName, p.Phone, p.Commune, p.Village, p.Group, p.Batch, p.At, p.Agent, p.DueAt, p.GiveUpAt)
	if err != nil {
		return false, fmt.Errorf("add lead: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// FoldFieldEnrolments marks the recorded enrolments of a campaign not yet counted by its
// workflow as counted, and returns how many there were by district.
func FoldFieldEnrolments(ctx context.Context, db DB, campaignID string) (map[string]int, error) {
	rows, err := db.Query(ctx, `
		with f as (
			update field_entries set folded_at = now()
			where campaign_id = $1 and enrolled and folded_at is null
			returning district_code)
		select district_code, count(*)::int from f group by 1`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("fold field entries: %w", err)
	}
	out := map[string]int{}
	var d string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&d, &n}, func() error { out[d] = n; return nil }); err != nil {
		return nil, fmt.Errorf("fold field entries: %w", err)
	}
	return out, nil
}

// UnitName is a unit's name; ErrNotFound when the campaign has no unit of the code.
func UnitName(ctx context.Context, db DB, campaignID, code string) (string, error) {
	var name string
	err := db.QueryRow(ctx, `select name from units where campaign_id = $1 and code = $2`, campaignID, code).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("unit %s: %w", code, ErrNotFound)
	}
	return name, err
}

// MarkClosing marks a running or paused campaign closing: field sends read it in their turn
// and take nothing more.
func MarkClosing(ctx context.Context, db DB, campaignID string) error {
	if _, err := db.Exec(ctx, `update campaigns set status = 'closing' where id = $1 and status in ('running', 'paused')`, campaignID); err != nil {
		return fmt.Errorf("mark %s closing: %w", campaignID, err)
	}
	return nil
}

// NextOpenFollowUpDue is when a campaign's earliest open follow-up falls due; zero when none
// is open.
func NextOpenFollowUpDue(ctx context.Context, db DB, campaignID string) (time.Time, error) {
	var t *time.Time
	if err := db.QueryRow(ctx, `select min(due_at) from follow_ups where campaign_id = $1 and status = 'open'`, campaignID).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("next follow-up due: %w", err)
	}
	if t == nil {
		return time.Time{}, nil
	}
	return *t, nil
}
