package field_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"drives/field"
	"drives/internal/fixture"
	"drives/internal/testenv"
	"drives/store"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const (
	campaignID = fixture.CampaignID
	agent      = "DL-00001-1"
	other      = "DL-00001-2"
)

type env struct {
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
	rec  *field.Recorder
	n    int
}

// newEnv is the fixture campaign, prepared and running, on a database of its own.
func newEnv(t *testing.T) *env {
	pool := testenv.NewPool(t)
	c := fixture.Seed(t, pool)
	c.Exec(`update campaigns set status = 'running' where id = $1`, campaignID)
	return &env{t: t, ctx: context.Background(), pool: pool, rec: &field.Recorder{DB: pool}}
}

// id makes an entry ID as a phone would (a UUID), a new one each time.
func (e *env) id() string {
	e.n++
	return fmt.Sprintf("00000000-0000-4000-8000-%012d", e.n)
}

func (e *env) send(who string, entries ...field.Entry) []field.Result {
	e.t.Helper()
	res, err := e.rec.Record(e.ctx, strings.ToLower(who), campaignID, who, entries)
	require.NoError(e.t, err)
	require.Len(e.t, res, len(entries))
	return res
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.pool.QueryRow(e.ctx, sql, args...).Scan(&n), sql)
	return n
}

func person(n int) field.Entry {
	return field.Entry{CitizenID: fmt.Sprintf("0010900%05d", n), FullName: fmt.Sprintf("Người Gặp %d", n),
		Phone: fmt.Sprintf("09%08d", n), Village: "00001-01", Group: "trader"}
}

func recorded(t *testing.T, rs []field.Result) {
	t.Helper()
	for _, r := range rs {
		assert.Equal(t, "recorded", r.Status, "%s: %s", r.ID, r.Error)
	}
}

// An agent's day in the field: three people met become their leads (the list of the day
// shows them); one declines, one cannot be reached (refused without a reason first), one
// enrols (refused with an income outside the rules first, in the import's words); a person
// met in the field enrols at once. Each entry is written with its effect and an audit row that
// names no one; sent again, every entry answers as it did and nothing changes. Shown failing
// by a Recorder that does not look for an earlier receipt (the resend failed on the entries'
// key), and by an enrolment that closes no follow-up (the lead's stayed open).
func TestAnAgentsDay(t *testing.T) {
	e := newEnv(t)
	leads := []field.Entry{person(1), person(2), person(3)}
	for i := range leads {
		leads[i].ID, leads[i].Kind = e.id(), field.KindLead
	}
	recorded(t, e.send(agent, leads...))

	today, err := field.TodayOf(e.ctx, e.pool, campaignID, agent)
	require.NoError(t, err)
	require.Len(t, today.FollowUps, 3)
	assert.Equal(t, "00001", today.Agent.Commune)
	assert.NotEmpty(t, today.Choices.Villages)
	fu := map[string]int64{}
	for _, f := range today.FollowUps {
		fu[f.Name] = f.ID
		assert.Equal(t, "00001-01", f.Village)
	}

	declined := field.Entry{ID: e.id(), Kind: field.KindOutcome, FollowUp: fu["Người Gặp 1"], Outcome: "declined"}
	noReason := field.Entry{ID: e.id(), Kind: field.KindOutcome, FollowUp: fu["Người Gặp 2"], Outcome: "unreachable"}
	unreachable := field.Entry{ID: e.id(), Kind: field.KindOutcome, FollowUp: fu["Người Gặp 2"], Outcome: "unreachable", Reason: "Số máy không liên lạc được"}
	tooPoor := field.Entry{ID: e.id(), Kind: field.KindEnrolment, FollowUp: fu["Người Gặp 3"], MonthlyIncome: 100, SubsidyClass: "other", PaymentMode: "monthly"}
	enrols := field.Entry{ID: e.id(), Kind: field.KindEnrolment, FollowUp: fu["Người Gặp 3"], MonthlyIncome: 2_000_000, SubsidyClass: "near_poor", PaymentMode: "3m"}
	walkIn := person(4)
	walkIn.ID, walkIn.Kind, walkIn.MonthlyIncome, walkIn.SubsidyClass, walkIn.PaymentMode = e.id(), field.KindEnrolment, 3_000_000, "other", "monthly"
	sent := []field.Entry{declined, noReason, unreachable, tooPoor, enrols, walkIn}
	res := e.send(agent, sent...)
	recorded(t, []field.Result{res[0], res[2], res[4], res[5]})
	assert.Equal(t, field.Result{ID: noReason.ID, Status: "refused", Field: "reason", Error: "reason: say why the person could not be reached"}, res[1])
	assert.Equal(t, "refused", res[3].Status)
	assert.Equal(t, "monthly_income", res[3].Field)
	assert.Contains(t, res[3].Error, "monthly_income: 100 VND is outside")

	status := func(id int64) string {
		var s string
		require.NoError(t, e.pool.QueryRow(e.ctx, `select status from follow_ups where id = $1`, id).Scan(&s))
		return s
	}
	assert.Equal(t, "declined", status(fu["Người Gặp 1"]))
	assert.Equal(t, "unreachable", status(fu["Người Gặp 2"]))
	assert.Equal(t, "enrolled", status(fu["Người Gặp 3"]))
	assert.Equal(t, 2, e.count(`select count(*) from enrolments where campaign_id = $1 and agent_code = $2`, campaignID, agent))
	assert.Equal(t, 1, e.count(`select count(*) from enrolments e join prospects p on p.id = e.prospect_id
		where e.campaign_id = $1 and p.full_name = 'Người Gặp 3' and e.monthly_contribution = 2000000 * 22 / 100 and e.payment_months = 3`, campaignID))
	// Audit rows: one per send, naming the agent, the entries and no person.
	rows, err := e.pool.Query(e.ctx, `select action, entity_key, detail::text from audit_log where campaign_id = $1 and action like 'field.%' order by id`, campaignID)
	require.NoError(t, err)
	var sends []string
	for rows.Next() {
		var action, key, detail string
		require.NoError(t, rows.Scan(&action, &key, &detail))
		sends = append(sends, action+" "+key)
		for _, p := range []field.Entry{person(1), person(2), person(3), walkIn} {
			assert.NotContains(t, detail, p.CitizenID)
			assert.NotContains(t, detail, p.Phone)
			assert.NotContains(t, detail, p.FullName)
		}
		if len(sends) == 2 {
			for _, en := range sent {
				assert.Contains(t, detail, en.ID, "the send's audit row names each entry")
			}
		}
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, []string{"field.send " + agent, "field.send " + agent}, sends)

	// Sent again, all of it: the same answers, nothing written.
	before := testenv.Fingerprint(t, e.pool)
	again := e.send(agent, append(leads, sent...)...)
	for i, r := range again {
		assert.True(t, r.Again, "entry %d", i)
	}
	assert.Equal(t, res[1].Error, again[len(leads)+1].Error)
	assert.Equal(t, "recorded", again[len(leads)+5].Status, "the walk-in's enrolment, sent again")
	assert.Equal(t, before, testenv.Fingerprint(t, e.pool))

	// The campaign's workflow counts the two enrolments once.
	by, err := store.FoldFieldEnrolments(e.ctx, e.pool, campaignID)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"001": 2}, by)
	by, err = store.FoldFieldEnrolments(e.ctx, e.pool, campaignID)
	require.NoError(t, err)
	assert.Empty(t, by)
}

// What went on meanwhile comes back in words, and the refused entry writes nothing but its
// record: the person was enrolled by another agent; the follow-up was passed to another agent;
// the campaign is paused (for now: the entry is not kept, and taken when sent again); the
// entry's ID was used for another entry; the agent's contract has ended. Shown failing by taking a follow-up whoever holds it (the reassigned one was closed).
func TestConflictsComeBackInWords(t *testing.T) {
	e := newEnv(t)
	walkIn := func(n int, id string) field.Entry {
		p := person(n)
		p.ID, p.Kind, p.MonthlyIncome, p.SubsidyClass, p.PaymentMode = id, field.KindEnrolment, 3_000_000, "other", "monthly"
		return p
	}
	recorded(t, e.send(other, walkIn(7, e.id())))
	res := e.send(agent, walkIn(7, e.id()))
	assert.Equal(t, "this person was enrolled by another agent meanwhile", res[0].Error)

	lead := person(8)
	lead.ID, lead.Kind = e.id(), field.KindLead
	recorded(t, e.send(agent, lead))
	today, err := field.TodayOf(e.ctx, e.pool, campaignID, agent)
	require.NoError(t, err)
	require.Len(t, today.FollowUps, 1)
	fu := today.FollowUps[0].ID
	_, err = e.pool.Exec(e.ctx, `update follow_ups set agent_code = $2 where id = $1`, fu, other)
	require.NoError(t, err)
	res = e.send(agent, field.Entry{ID: e.id(), Kind: field.KindOutcome, FollowUp: fu, Outcome: "declined"})
	assert.Equal(t, fmt.Sprintf("follow-up %d was reassigned to another agent: it is no longer yours", fu), res[0].Error)
	var status string
	require.NoError(t, e.pool.QueryRow(e.ctx, `select status from follow_ups where id = $1`, fu).Scan(&status))
	assert.Equal(t, "open", status)

	_, err = e.pool.Exec(e.ctx, `update campaigns set status = 'paused' where id = $1`, campaignID)
	require.NoError(t, err)
	paused := walkIn(9, e.id())
	res = e.send(other, paused)
	assert.Contains(t, res[0].Error, "the campaign is paused")
	assert.True(t, res[0].Later, "refused for now")
	_, err = e.pool.Exec(e.ctx, `update campaigns set status = 'running' where id = $1`, campaignID)
	require.NoError(t, err)
	// Sent again once the campaign runs: taken.
	res = e.send(other, paused)
	assert.Equal(t, field.Result{ID: paused.ID, Status: "recorded"}, res[0])

	first := walkIn(10, e.id())
	recorded(t, e.send(agent, first))
	changed := first
	changed.MonthlyIncome = 4_000_000
	res = e.send(agent, changed)
	assert.Equal(t, "id: this ID was sent before with another entry; make a new one", res[0].Error)

	bad := e.send(agent, field.Entry{ID: "not-a-uuid", Kind: field.KindLead}, field.Entry{ID: e.id(), Kind: "gossip"})
	assert.Equal(t, "id", bad[0].Field)
	assert.Equal(t, field.Result{ID: bad[1].ID, Status: "refused", Field: "kind", Error: `kind: "gossip" is not outcome, enrolment or lead`}, bad[1])

	_, err = e.pool.Exec(e.ctx, `update agents set status = 'terminated' where campaign_id = $1 and code = $2`, campaignID, agent)
	require.NoError(t, err)
	res = e.send(agent, walkIn(11, e.id()))
	assert.Contains(t, res[0].Error, "your contract has ended")

	// Each refusal is kept, so that a resend answers the same (an ID that is not a UUID, the
	// resend of another entry's ID and a refusal for now are not kept): the other agent's
	// person, the reassigned follow-up, the kind, the contract.
	var refused int
	require.NoError(t, e.pool.QueryRow(e.ctx, `select count(*) from field_entries where status = 'refused'`).Scan(&refused))
	assert.Equal(t, 4, refused)
	assert.Equal(t, 3, e.count(`select count(*) from enrolments where campaign_id = $1`, campaignID))
	raw, _ := json.Marshal(bad)
	t.Logf("refusals: %s", raw)

	// The close's last count marks the campaign closing: nothing is taken after it.
	require.NoError(t, store.MarkClosing(e.ctx, e.pool, campaignID))
	res = e.send(other, walkIn(12, e.id()))
	assert.Equal(t, "the campaign is over (closing): nothing more can be recorded", res[0].Error)
	assert.False(t, res[0].Later)
}

// BenchmarkSend is one send of ten walk-in enrolments, one phone at a time: what a send costs
// the database with nothing else running.
//
//	go test -run '^$' -bench Send ./field
func BenchmarkSend(b *testing.B) {
	pool := testenv.NewPool(b)
	c := fixture.Seed(b, pool)
	c.Exec(`update campaigns set status = 'running' where id = $1`, campaignID)
	rec := &field.Recorder{DB: pool}
	n := 0
	for b.Loop() {
		entries := make([]field.Entry, 10)
		for j := range entries {
			n++
			p := person(n)
			p.ID = fmt.Sprintf("00000000-0000-4000-9000-%012d", n)
			p.Kind, p.MonthlyIncome, p.SubsidyClass, p.PaymentMode = field.KindEnrolment, 3_000_000, "other", "monthly"
			entries[j] = p
		}
		if _, err := rec.Record(context.Background(), "bench", campaignID, agent, entries); err != nil {
			b.Fatal(err)
		}
	}
}

// A person the agent enrolled in the field joins the register with the agent holding them;
// when their payment falls due, the renewal is on the agent's list (name, phone, due day),
// and the phone cannot close it: a payment does, from the collection records. Shown failing
// with the list joined to prospects only (the renewal was missing from it).
func TestRenewalsReachTheAgentsList(t *testing.T) {
	e := newEnv(t)
	walkIn := person(7)
	walkIn.ID, walkIn.Kind, walkIn.MonthlyIncome, walkIn.SubsidyClass, walkIn.PaymentMode = e.id(), field.KindEnrolment, 3_000_000, "other", "monthly"
	walkIn.On = "2021-01-05"
	recorded(t, e.send(agent, walkIn))
	assert.Equal(t, 1, e.count(`select count(*) from participants where citizen_id = $1 and agent_code = $2 and paid_until = '2021-02-05'`,
		walkIn.CitizenID, agent))

	hcm, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	require.NoError(t, err)
	sw, err := store.SweepRegister(e.ctx, e.pool, campaignID, time.Date(2021, 1, 25, 0, 0, 0, 0, hcm), store.RegisterTimes{LeadDays: 15, GraceDays: 60})
	require.NoError(t, err)
	require.Equal(t, 1, sw.Opened)

	today, err := field.TodayOf(e.ctx, e.pool, campaignID, agent)
	require.NoError(t, err)
	require.Len(t, today.FollowUps, 1)
	r := today.FollowUps[0]
	assert.Equal(t, "renewal", r.Kind)
	assert.Equal(t, "2021-02-05", r.RenewalDue)
	assert.Equal(t, walkIn.FullName, r.Name)
	assert.Equal(t, walkIn.Phone, r.Phone)
	assert.Equal(t, "00001-01", r.Village)

	res := e.send(agent, field.Entry{ID: e.id(), Kind: field.KindOutcome, FollowUp: r.ID, Outcome: "declined"})
	assert.Equal(t, "refused", res[0].Status)
	assert.Contains(t, res[0].Error, "is a renewal: it closes when the person's payment is recorded")
	assert.Equal(t, 1, e.count(`select count(*) from follow_ups where id = $1 and status = 'open'`, r.ID))
}
