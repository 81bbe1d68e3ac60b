package accounts_test

// The accounts as their administrator and their holders use them, against a real PostgreSQL
// holding the fixture campaign (internal/fixture: districts 001 and 002, communes 00001–00003,
// 00010 and 00011, four staff and seven agents). Each test checks what a person would: who can
// sign in with what, which sessions are still open, what the audit log says, and that a refused
// change wrote nothing.

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"drives/accounts"
	"drives/audit"
	"drives/internal/fixture"
	"drives/internal/testenv"
	"drives/store"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const campaignID = fixture.CampaignID

// env is a fresh database with the fixture campaign and its accounts' store.
type env struct {
	t    *testing.T
	ctx  context.Context
	pool *pgxpool.Pool
	as   *accounts.Store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := fixture.Seed(t, testenv.NewPool(t))
	return &env{t: t, ctx: c.Ctx, pool: c.Pool, as: &accounts.Store{DB: c.Pool}}
}

// add adds an account that must be accepted and returns its one-time password.
func (e *env) add(spec accounts.Spec) string {
	e.t.Helper()
	pw, err := e.as.Add(e.ctx, "admin-minh", spec)
	require.NoError(e.t, err, "add %s", spec.Name)
	require.NotEmpty(e.t, pw)
	return pw
}

// signIn signs in as the web page does; nil when refused.
func (e *env) signIn(name, password string) *accounts.Account {
	e.t.Helper()
	a, err := accounts.SignIn(e.ctx, e.pool, name, password)
	require.NoError(e.t, err)
	return a
}

// auditRow is an account's audit row as an auditor reads it.
type auditRow struct {
	Campaign, Actor, Action, Entity, Key, Detail string
}

// auditRows are the audit log's rows of the accounts' chain, in order.
func (e *env) auditRows() []auditRow {
	e.t.Helper()
	rows, err := e.pool.Query(e.ctx, `select campaign_id, actor, action, entity, entity_key, detail::text
		from audit_log where entity = 'account' or campaign_id = '' order by id`)
	require.NoError(e.t, err)
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		require.NoError(e.t, rows.Scan(&r.Campaign, &r.Actor, &r.Action, &r.Entity, &r.Key, &r.Detail))
		out = append(out, r)
	}
	require.NoError(e.t, rows.Err())
	return out
}

// lastAudit is the latest row of the accounts' chain, after checking that there are n.
func (e *env) lastAudit(n int) auditRow {
	e.t.Helper()
	rows := e.auditRows()
	require.Len(e.t, rows, n, "audit rows of accounts: %+v", rows)
	return rows[n-1]
}

// chainIntact checks the accounts' hash chain as `starter audit verify` does.
func (e *env) chainIntact() {
	e.t.Helper()
	res, err := audit.Verify(e.ctx, e.pool, accounts.AuditChain)
	require.NoError(e.t, err)
	require.True(e.t, res.Intact(), res.String())
}

// passwordHash is the stored hash of an account's password.
func (e *env) passwordHash(name string) string {
	e.t.Helper()
	a, err := store.AccountByName(e.ctx, e.pool, name)
	require.NoError(e.t, err)
	require.NotEmpty(e.t, a.PasswordHash)
	return a.PasswordHash
}

// scopeOf is an account's scope with no unit lists as nil (the database reads them as empty).
func scopeOf(a accounts.Account) store.Scope {
	s := accounts.ScopeOf(a)
	if len(s.Districts) == 0 {
		s.Districts = nil
	}
	if len(s.Communes) == 0 {
		s.Communes = nil
	}
	return s
}

// session opens a session of the web page for a user, as signing in does; it returns its key.
func (e *env) session(user string, n byte) []byte {
	e.t.Helper()
	h := sha256.Sum256([]byte{n})
	require.NoError(e.t, store.CreateWebSession(e.ctx, e.pool, h[:], user, "csrf", time.Hour))
	return h[:]
}

// open says whether a session is still open.
func (e *env) open(key []byte) bool {
	e.t.Helper()
	_, err := store.OpenWebSession(e.ctx, e.pool, key)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	require.NoError(e.t, err)
	return true
}

// A new account signs in with its one-time password, which it must change; the audit log
// says who added it, bound to what, and holds neither the password nor its hash. Shown
// failing with Add storing MustChange false (the account signed in as if its password were
// its own), and with the password hash put into the audit row's detail. It found that a
// second account could not be added: every account's audit row had the same empty
// workflow, run and activity IDs, which audit_log_activity_once allows once (now NULL).
func TestAccountAdd(t *testing.T) {
	e := newEnv(t)
	pw := e.add(accounts.Spec{Name: "lan", Role: accounts.RoleDistrict, Campaign: campaignID, Districts: []string{"002", "001"}})

	a := e.signIn("lan", pw)
	require.NotNil(t, a, "the one-time password signs in")
	assert.True(t, a.MustChange, "a one-time password must be changed at the first sign-in")
	assert.False(t, a.Disabled)
	assert.Equal(t, accounts.RoleDistrict, a.Role)
	assert.Equal(t, store.Scope{Campaign: campaignID, Districts: []string{"001", "002"}}, scopeOf(*a))
	assert.Nil(t, e.signIn("lan", pw+"x"), "a wrong password signs nobody in")
	assert.Nil(t, e.signIn("nobody", pw), "an unknown name signs nobody in")

	row := e.lastAudit(1)
	assert.Equal(t, auditRow{Campaign: "", Actor: "admin-minh", Action: "account.add", Entity: "account", Key: "lan"},
		auditRow{Campaign: row.Campaign, Actor: row.Actor, Action: row.Action, Entity: row.Entity, Key: row.Key})
	var detail map[string]any
	require.NoError(t, json.Unmarshal([]byte(row.Detail), &detail))
	assert.Equal(t, "district", detail["role"])
	assert.Equal(t, campaignID, detail["campaign"])
	assert.ElementsMatch(t, []any{"001", "002"}, detail["districts"])
	hash := e.passwordHash("lan")
	for _, secret := range []string{pw, hash, "$2a$", "$2b$"} {
		assert.NotContains(t, row.Detail, secret, "the audit row holds a password or its hash")
	}
	e.chainIntact()

	// Every campaign, no unit: a coordinator of the city.
	pw2 := e.add(accounts.Spec{Name: "hoa.nguyen", Role: accounts.RoleCoordinator})
	c := e.signIn("hoa.nguyen", pw2)
	require.NotNil(t, c)
	assert.True(t, accounts.ScopeOf(*c).Whole())
	assert.True(t, accounts.ScopeOf(*c).HasCampaign("any-2030"))
	assert.Nil(t, e.signIn("hoa.nguyen", pw), "another account's password")
	e.lastAudit(2)
	e.chainIntact()
}

// A bad spec is refused with the flag to fix named, and writes nothing: every table, the
// accounts, their units and the audit log among them, is as it was. Shown failing by letting
// Add commit an account whose units were reported missing (the errors stayed right; the
// accounts and account_units tables changed), and by dropping Check's district-officer rule
// (an officer without --district was added).
func TestAccountBadSpecsWriteNothing(t *testing.T) {
	e := newEnv(t)
	e.add(accounts.Spec{Name: "lan", Role: accounts.RoleCoordinator, Campaign: campaignID})
	cases := []struct {
		name string
		spec accounts.Spec
		want string
	}{
		{"unknown role", accounts.Spec{Name: "minh", Role: "boss"}, `--role: "boss" is not one of admin, coordinator`},
		{"district officer without district", accounts.Spec{Name: "minh", Role: accounts.RoleDistrict, Campaign: campaignID},
			"a district officer needs --district"},
		{"unknown district", accounts.Spec{Name: "minh", Role: accounts.RoleDistrict, Campaign: campaignID, Districts: []string{"001", "999"}},
			"--district: campaign " + campaignID + " has no district 999"},
		{"a commune given as a district", accounts.Spec{Name: "minh", Role: accounts.RoleDistrict, Districts: []string{"00001"}},
			"--district: any campaign has no district 00001"},
		{"unknown commune", accounts.Spec{Name: "minh", Role: accounts.RoleCommune, Campaign: campaignID, Communes: []string{"00099"}},
			"--commune: campaign " + campaignID + " has no commune 00099"},
		{"unknown campaign", accounts.Spec{Name: "minh", Role: accounts.RoleCoordinator, Campaign: "hanoi-2030"},
			`--campaign: no campaign "hanoi-2030"`},
		{"unknown agent", accounts.Spec{Name: "minh", Role: accounts.RoleAgent, Campaign: campaignID, Agent: "DL-99999-9"},
			`--agent: the roster of campaign ` + campaignID + ` has no agent "DL-99999-9"`},
		{"agent without code", accounts.Spec{Name: "minh", Role: accounts.RoleAgent}, "--agent: an agent's account names their roster code"},
		{"name taken", accounts.Spec{Name: "lan", Role: accounts.RoleAuditor}, `--name: an account "lan" exists already`},
		{"bad name", accounts.Spec{Name: "Lan Anh", Role: accounts.RoleAuditor}, `--name: "Lan Anh" is not lower-case letters`},
		{"short token", accounts.Spec{Name: "minh", Role: accounts.RoleAuditor, Token: "abc"}, "--token: use at least 20 characters"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := testenv.Fingerprint(t, e.pool)
			require.Contains(t, before, "accounts")
			require.Contains(t, before, "account_units")
			pw, err := e.as.Add(e.ctx, "admin-minh", c.spec)
			require.Error(t, err, "accepted")
			assert.Contains(t, err.Error(), c.want)
			assert.Empty(t, pw, "a refused account has no password")
			assert.Equal(t, before, testenv.Fingerprint(t, e.pool), "a refused account changed the database")
		})
	}
	e.lastAudit(1)
}

// A disabled account signs nobody in and its open sessions end; enabled, it signs in again;
// each writes an audit row. Shown failing by leaving out the ending of sessions in Disable
// (its two sessions stayed open) and by SignIn no longer refusing a disabled account.
func TestAccountDisableEnable(t *testing.T) {
	e := newEnv(t)
	pw := e.add(accounts.Spec{Name: "lan", Role: accounts.RoleCoordinator})
	s1, s2 := e.session("lan", 1), e.session("lan", 2)
	other := e.session("minh", 3)
	require.True(t, e.open(s1) && e.open(s2) && e.open(other))

	require.NoError(t, e.as.Disable(e.ctx, "admin-minh", "lan"))
	assert.Nil(t, e.signIn("lan", pw), "a disabled account signed in")
	en, err := accounts.Enabled(e.ctx, e.pool, "lan")
	require.NoError(t, err)
	assert.Nil(t, en, "a disabled account is still enabled for its sessions")
	assert.False(t, e.open(s1), "a disabled account's session is still open")
	assert.False(t, e.open(s2), "a disabled account's session is still open")
	assert.True(t, e.open(other), "another user's session was ended")
	row := e.lastAudit(2)
	assert.Equal(t, []string{"", "admin-minh", "account.disable", "account", "lan"},
		[]string{row.Campaign, row.Actor, row.Action, row.Entity, row.Key})
	assert.JSONEq(t, `{"sessions_ended": 2}`, row.Detail)

	// Again: nothing to change, nothing written.
	require.NoError(t, e.as.Disable(e.ctx, "admin-minh", "lan"))
	e.lastAudit(2)

	require.NoError(t, e.as.Enable(e.ctx, "admin-lan", "lan"))
	a := e.signIn("lan", pw)
	require.NotNil(t, a, "an enabled account cannot sign in")
	assert.False(t, a.Disabled)
	assert.False(t, e.open(s1), "enabling reopened an ended session")
	row = e.lastAudit(3)
	assert.Equal(t, []string{"admin-lan", "account.enable", "lan"}, []string{row.Actor, row.Action, row.Key})

	before := testenv.Fingerprint(t, e.pool)
	err = e.as.Disable(e.ctx, "admin-minh", "nobody")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no account "nobody"`)
	assert.Equal(t, before, testenv.Fingerprint(t, e.pool))
	e.chainIntact()
}

// A reset password replaces the old one, is one-time again and ends the account's sessions;
// a person changes their own password only with the current one, and a chosen password is
// no longer one-time. Shown failing by ChangePassword no longer comparing the current
// password (a wrong one was taken), and by it keeping MustChange set.
func TestAccountPasswords(t *testing.T) {
	e := newEnv(t)
	old := e.add(accounts.Spec{Name: "lan", Role: accounts.RoleAuditor, Districts: []string{"001"}, Communes: []string{"00010"}})
	s := e.session("lan", 1)

	reset, err := e.as.ResetPassword(e.ctx, "admin-minh", "lan")
	require.NoError(t, err)
	require.NotEqual(t, old, reset)
	assert.Nil(t, e.signIn("lan", old), "the old password still signs in")
	a := e.signIn("lan", reset)
	require.NotNil(t, a, "the new one-time password does not sign in")
	assert.True(t, a.MustChange)
	assert.Equal(t, store.Scope{Districts: []string{"001"}, Communes: []string{"00010"}}, scopeOf(*a))
	assert.False(t, e.open(s), "a reset left a session open")
	row := e.lastAudit(2)
	assert.Equal(t, []string{"admin-minh", "account.reset-password", "lan"}, []string{row.Actor, row.Action, row.Key})
	assert.NotContains(t, row.Detail, reset)
	assert.NotContains(t, row.Detail, e.passwordHash("lan"))

	// Refused changes write nothing.
	chosen := "a long chosen password"
	before := testenv.Fingerprint(t, e.pool)
	err = e.as.ChangePassword(e.ctx, "lan", "not the password", chosen)
	assert.ErrorIs(t, err, accounts.ErrWrongPassword)
	err = e.as.ChangePassword(e.ctx, "lan", reset, "short")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "new password: use at least 10 characters")
	err = e.as.ChangePassword(e.ctx, "nobody", reset, chosen)
	require.Error(t, err)
	assert.NotErrorIs(t, err, accounts.ErrWrongPassword)
	assert.Equal(t, before, testenv.Fingerprint(t, e.pool), "a refused change of password wrote")
	assert.NotNil(t, e.signIn("lan", reset), "a refused change of password changed it")

	require.NoError(t, e.as.ChangePassword(e.ctx, "lan", reset, chosen))
	assert.Nil(t, e.signIn("lan", reset), "the one-time password still signs in")
	a = e.signIn("lan", chosen)
	require.NotNil(t, a, "the chosen password does not sign in")
	assert.False(t, a.MustChange, "a chosen password is still one-time")
	row = e.lastAudit(3)
	assert.Equal(t, []string{"lan", "account.change-password", "lan"}, []string{row.Actor, row.Action, row.Key})
	for _, secret := range []string{reset, chosen, e.passwordHash("lan")} {
		assert.NotContains(t, row.Detail, secret)
	}

	// A disabled account's holder cannot change its password either.
	require.NoError(t, e.as.Disable(e.ctx, "admin-minh", "lan"))
	assert.ErrorIs(t, e.as.ChangePassword(e.ctx, "lan", chosen, "another chosen password"), accounts.ErrWrongPassword)
	e.chainIntact()
}

// A campaign's roster becomes one account per active agent and staff member, each bound to
// their own work or commune, with a one-time password; imported again, it adds none and
// counts them. Last year's accounts of the same people in the same posts are moved to the
// campaign with their passwords; an account of a roster name in another post is left alone and
// named. Shown failing by Import no longer skipping names already taken (the second import
// failed on a duplicate name), by importing staff as agents, and by moving every account of a
// roster name (the agent whose account is commune staff's was moved).
func TestAccountImportRoster(t *testing.T) {
	e := newEnv(t)
	// A terminated agent gets no account.
	_, err := e.pool.Exec(e.ctx, `update agents set status = 'terminated' where campaign_id = $1 and code = 'DL-00001-3'`, campaignID)
	require.NoError(t, err)
	// One of the roster already has an account, made by hand.
	e.add(accounts.Spec{Name: "dl-00010-2", Role: accounts.RoleAgent, Campaign: campaignID, Agent: "DL-00010-2"})
	// Last year's campaign, with the same units and roster: CB-00001's account is bound to it
	// (moved), and DL-00003-1's name is a commune staff account there (left alone).
	_, err = e.pool.Exec(e.ctx, `insert into campaigns
		select (jsonb_populate_record(c, '{"id": "last-year-2020"}')).* from campaigns c where c.id = $1`, campaignID)
	require.NoError(t, err)
	_, err = e.pool.Exec(e.ctx, `insert into units
		select (jsonb_populate_record(u, '{"campaign_id": "last-year-2020"}')).* from units u where u.campaign_id = $1`, campaignID)
	require.NoError(t, err)
	lastYear := e.add(accounts.Spec{Name: "cb-00001", Role: accounts.RoleCommune, Campaign: "last-year-2020", Communes: []string{"00001"}})
	e.add(accounts.Spec{Name: "dl-00003-1", Role: accounts.RoleCommune, Campaign: "last-year-2020", Communes: []string{"00003"}})

	res, err := e.as.Import(e.ctx, "admin-minh", campaignID)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Existing)
	assert.Equal(t, []string{"cb-00001"}, res.Moved)
	assert.Equal(t, []string{"dl-00003-1"}, res.Differ)
	var names []string
	for _, it := range res.Issued {
		names = append(names, it.Name+" "+it.Role+" "+it.Unit)
	}
	assert.Equal(t, []string{
		"cb-00002 commune 00002", "cb-00003 commune 00003", "cb-00010 commune 00010",
		"dl-00001-1 agent 00001", "dl-00001-2 agent 00001", "dl-00010-1 agent 00010", "dl-00011-1 agent 00011",
	}, names)
	for _, it := range res.Issued {
		a := e.signIn(it.Name, it.Password)
		require.NotNil(t, a, "%s does not sign in with its one-time password", it.Name)
		assert.True(t, a.MustChange, it.Name)
		assert.Equal(t, campaignID, a.CampaignID, it.Name)
		want := store.Scope{Campaign: campaignID, Communes: []string{it.Unit}}
		if it.Role == accounts.RoleAgent {
			want = store.Scope{Campaign: campaignID, Agent: strings.ToUpper(it.Name)}
		}
		assert.Equal(t, want, scopeOf(*a), it.Name)
	}
	moved := e.signIn("cb-00001", lastYear)
	require.NotNil(t, moved, "the moved account's password no longer works")
	assert.Equal(t, campaignID, moved.CampaignID)
	left, err := store.AccountByName(e.ctx, e.pool, "dl-00003-1")
	require.NoError(t, err)
	assert.Equal(t, "last-year-2020", left.CampaignID)
	assert.Equal(t, accounts.RoleCommune, left.Role)
	_, err = store.AccountByName(e.ctx, e.pool, "dl-00001-3")
	assert.ErrorIs(t, err, store.ErrNotFound, "a terminated agent got an account")
	row := e.lastAudit(4)
	assert.Equal(t, []string{"", "admin-minh", "account.import", campaignID}, []string{row.Campaign, row.Actor, row.Action, row.Key})
	assert.JSONEq(t, `{"campaign": "`+campaignID+`", "added": 7, "moved": ["cb-00001"], "existing": 1, "differ": ["dl-00003-1"]}`, row.Detail)
	for _, it := range res.Issued {
		assert.NotContains(t, row.Detail, it.Password)
	}

	// Again: nothing added or moved, every one counted, the accounts as they were.
	accountsBefore := testenv.Fingerprint(t, e.pool)
	res, err = e.as.Import(e.ctx, "admin-minh", campaignID)
	require.NoError(t, err)
	assert.Empty(t, res.Issued)
	assert.Empty(t, res.Moved)
	assert.Equal(t, 9, res.Existing)
	assert.Equal(t, []string{"dl-00003-1"}, res.Differ)
	accountsAfter := testenv.Fingerprint(t, e.pool)
	for _, tb := range []string{"accounts", "account_units"} {
		assert.Equal(t, accountsBefore[tb], accountsAfter[tb], tb)
	}
	row = e.lastAudit(5)
	assert.JSONEq(t, `{"campaign": "`+campaignID+`", "added": 0, "moved": null, "existing": 9, "differ": ["dl-00003-1"]}`, row.Detail)

	// A campaign there is not: refused, nothing written.
	before := testenv.Fingerprint(t, e.pool)
	_, err = e.as.Import(e.ctx, "admin-minh", "nope-2021")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `no campaign "nope-2021"`)
	assert.Equal(t, before, testenv.Fingerprint(t, e.pool))
	e.chainIntact()
}

// An API token finds its account while it is enabled; only its SHA-256 is kept, and the audit
// row says there is one without holding it. Shown failing by ByToken no longer refusing a
// disabled account.
func TestAccountByToken(t *testing.T) {
	e := newEnv(t)
	token := accounts.NewSecret()
	e.add(accounts.Spec{Name: "robot", Role: accounts.RoleAuditor, Campaign: campaignID, Token: token})
	e.add(accounts.Spec{Name: "lan", Role: accounts.RoleCoordinator})

	a, err := accounts.ByToken(e.ctx, e.pool, token)
	require.NoError(t, err)
	require.NotNil(t, a, "the token finds no account")
	assert.Equal(t, "robot", a.Name)
	assert.Equal(t, accounts.TokenHash(token), a.TokenSHA256)
	assert.NotContains(t, a.TokenSHA256, token)
	for _, other := range []string{accounts.NewSecret(), "", accounts.TokenHash(token)} {
		a, err := accounts.ByToken(e.ctx, e.pool, other)
		require.NoError(t, err)
		assert.Nil(t, a, "token %q found an account", other)
	}
	rows := e.auditRows()
	require.Len(t, rows, 2)
	assert.Contains(t, rows[0].Detail, `"token": true`)
	assert.Contains(t, rows[1].Detail, `"token": false`)
	assert.NotContains(t, rows[0].Detail, token)
	assert.NotContains(t, rows[0].Detail, accounts.TokenHash(token))

	require.NoError(t, e.as.Disable(e.ctx, "admin-minh", "robot"))
	a, err = accounts.ByToken(e.ctx, e.pool, token)
	require.NoError(t, err)
	assert.Nil(t, a, "a disabled account's token still finds it")

	require.NoError(t, e.as.Enable(e.ctx, "admin-minh", "robot"))
	a, err = accounts.ByToken(e.ctx, e.pool, token)
	require.NoError(t, err)
	assert.NotNil(t, a, "an enabled account's token finds nothing")
}
