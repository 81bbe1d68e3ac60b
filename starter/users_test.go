package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"drives/accounts"
	"drives/internal/fixture"
	"drives/internal/testenv"
	"drives/store"
)

// starterSplit runs a command line of the CLI in this process and returns its stdout and
// stderr apart.
func starterSplit(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	root := rootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// secretAfter is the secret printed after a label ("one-time password: …").
func secretAfter(t *testing.T, out, label string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(label) + `: ([A-Za-z0-9_-]{20,})\n`).FindStringSubmatch(out)
	require.NotNil(t, m, "no %q in\n%s", label, out)
	return m[1]
}

// The administrator's commands end to end on the fixture campaign: an account added (its
// one-time password and token printed once, and that it must be changed said), listed,
// disabled (it no longer signs in, its session ends, the list says so), its password reset,
// the roster imported to a new private file that is never overwritten; and bad flags named
// with nothing written. Shown failing by listing a disabled account by its one-time password
// ("must change password" checked before "disabled"), by opening --out without O_EXCL (the
// file of the first import was overwritten by the second), by leaving the file of a refused
// import behind, and by the --by default leaving out $USER (the audit rows said "coordinator").
func TestUsersCommands(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dbURL := testenv.NewDB(t)
	db, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	fixture.Seed(t, db)
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("DRIVES_USER", "")
	t.Setenv("USER", "ops-lan")
	const cid = fixture.CampaignID
	actors := func() []string {
		rows, err := db.Query(ctx, `select actor || ' ' || action || ' ' || entity_key from audit_log where campaign_id = '' order by id`)
		require.NoError(t, err)
		var out []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			out = append(out, s)
		}
		require.NoError(t, rows.Err())
		return out
	}

	// Add.
	out, err := starter(ctx, "users", "add", "--name", "lan", "--role", "district", "--campaign", cid,
		"--district", "001", "--with-token")
	require.NoError(t, err, out)
	assert.Contains(t, out, "added account lan: role district, campaign "+cid+", districts 001\n")
	assert.Contains(t, out, "must be done at the first sign-in")
	pw, token := secretAfter(t, out, "one-time password"), secretAfter(t, out, "API token")
	a, err := accounts.SignIn(ctx, db, "lan", pw)
	require.NoError(t, err)
	require.NotNil(t, a, "the printed password does not sign in")
	assert.True(t, a.MustChange)
	assert.Equal(t, []string{"001"}, a.Districts)
	byToken, err := accounts.ByToken(ctx, db, token)
	require.NoError(t, err)
	require.NotNil(t, byToken, "the printed token finds no account")
	assert.Equal(t, "lan", byToken.Name)
	out, err = starter(ctx, "users", "add", "--name", "hoa", "--role", "coordinator", "--by", "admin-minh")
	require.NoError(t, err, out)
	assert.NotContains(t, out, "API token", "a token given unasked")
	assert.Equal(t, []string{"ops-lan account.add lan", "admin-minh account.add hoa"}, actors())

	// Bad flags: each named, nothing written.
	before := testenv.Fingerprint(t, db)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"users", "add", "--name", "minh", "--role", "district", "--campaign", cid, "--district", "999"},
			"--district: campaign " + cid + " has no district 999"},
		{[]string{"users", "add", "--name", "minh", "--role", "boss"}, `--role: "boss" is not one of admin, coordinator`},
		{[]string{"users", "add", "--name", "minh"}, `required flag(s) "role" not set`},
		{[]string{"users", "add", "--name", "lan", "--role", "auditor"}, `--name: an account "lan" exists already`},
		{[]string{"users", "add", "--name", "minh", "--role", "auditor", "--by", " "}, "--by: give who makes the change"},
		{[]string{"users", "list", "--role", "boss"}, `--role: "boss" is not one of`},
		{[]string{"users", "list", "--limit", "0"}, "--limit: 0 is not between 1 and 10000"},
		{[]string{"users", "list", "--offset", "-1"}, "--offset: -1 is negative"},
		{[]string{"users", "disable"}, "accepts 1 arg(s), received 0"},
		{[]string{"users", "disable", "nobody"}, `no account "nobody"`},
		{[]string{"users", "enable", "Lan Anh"}, `account "Lan Anh": not an account name`},
		{[]string{"users", "reset-password", "lan", "hoa"}, "accepts 1 arg(s), received 2"},
		{[]string{"users", "import", "Test 2021"}, `campaign "Test 2021": not a campaign id`},
		{[]string{"users", "import", "nope-2021"}, `no campaign "nope-2021"`},
	} {
		out, err := starter(ctx, c.args...)
		if assert.Error(t, err, "%v accepted: %s", c.args, out) {
			assert.Contains(t, err.Error(), c.want, c.args)
		}
	}
	missing := filepath.Join(t.TempDir(), "none.csv")
	_, err = starter(ctx, "users", "import", "nope-2021", "--out", missing)
	require.Error(t, err)
	assert.NoFileExists(t, missing, "a refused import left its file")
	assert.Equal(t, before, testenv.Fingerprint(t, db), "a refused command wrote")

	// List, disable, list.
	out, err = starter(ctx, "users", "list")
	require.NoError(t, err, out)
	assert.Equal(t, `name  role         campaign   scope          state
hoa   coordinator  all        all units      must change password
lan   district     test-2021  districts 001  must change password
`, out)
	h := [32]byte{1}
	require.NoError(t, store.CreateWebSession(ctx, db, h[:], "lan", "csrf", time.Hour))
	out, err = starter(ctx, "users", "disable", "lan", "--by", "admin-minh")
	require.NoError(t, err, out)
	assert.Contains(t, out, "account lan is disabled")
	a, err = accounts.SignIn(ctx, db, "lan", pw)
	require.NoError(t, err)
	assert.Nil(t, a, "a disabled account signs in")
	_, err = store.OpenWebSession(ctx, db, h[:])
	assert.ErrorIs(t, err, store.ErrNotFound, "a disabled account's session is open")
	out, err = starter(ctx, "users", "list", "--role", "district", "--json")
	require.NoError(t, err, out)
	var listed []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &listed), out)
	require.Len(t, listed, 1)
	assert.Equal(t, "lan", listed[0]["name"])
	assert.Equal(t, true, listed[0]["disabled"])
	assert.NotContains(t, out, "$2a$", "the list shows a password hash")
	out, err = starter(ctx, "users", "list", "--limit", "1", "--offset", "1")
	require.NoError(t, err, out)
	assert.Equal(t, `name  role      campaign   scope          state
lan   district  test-2021  districts 001  disabled
(there may be more: --offset 2)
`, out)

	// Enable and reset.
	_, err = starter(ctx, "users", "enable", "lan")
	require.NoError(t, err)
	out, err = starter(ctx, "users", "reset-password", "lan")
	require.NoError(t, err, out)
	reset := secretAfter(t, out, "new one-time password")
	assert.Contains(t, out, "must be done at the first sign-in")
	a, err = accounts.SignIn(ctx, db, "lan", pw)
	require.NoError(t, err)
	assert.Nil(t, a, "the old password signs in after a reset")
	a, err = accounts.SignIn(ctx, db, "lan", reset)
	require.NoError(t, err)
	assert.NotNil(t, a, "the reset password does not sign in")

	// Import to a new private file, then again: never over the file, and nothing added.
	file := filepath.Join(t.TempDir(), "passwords.csv")
	stdout, stderr, err := starterSplit(ctx, "users", "import", cid, "--out", file)
	require.NoError(t, err, stderr)
	assert.Empty(t, stdout, "passwords on stdout with --out")
	assert.Contains(t, stderr, "campaign "+cid+": added 11 accounts, 0 already had an account")
	fi, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 12)
	assert.Equal(t, []string{"name", "role", "commune", "one_time_password"}, recs[0])
	assert.Equal(t, []string{"cb-00001", "commune", "00001"}, recs[1][:3])
	assert.Equal(t, []string{"dl-00011-1", "agent", "00011"}, recs[11][:3])
	a, err = accounts.SignIn(ctx, db, recs[1][0], recs[1][3])
	require.NoError(t, err)
	require.NotNil(t, a, "an imported password does not sign in")
	assert.Equal(t, []string{"00001"}, a.Communes)

	before = testenv.Fingerprint(t, db)
	_, _, err = starterSplit(ctx, "users", "import", cid, "--out", file)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--out "+file+": the file exists")
	assert.Equal(t, before, testenv.Fingerprint(t, db), "an import refused for its file wrote")
	again, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, string(raw), string(again), "the passwords file was overwritten")

	stdout, stderr, err = starterSplit(ctx, "users", "import", cid)
	require.NoError(t, err, stderr)
	assert.Equal(t, "name,role,commune,one_time_password\n", stdout)
	assert.Contains(t, stderr, "added 0 accounts, 11 already had an account")
	assert.Equal(t, "ops-lan account.import "+cid, actors()[len(actors())-1])
	if strings.Contains(stderr, recs[1][3]) || strings.Contains(stdout, recs[1][3]) {
		t.Error("a second import printed a password again")
	}

	// The accounts' audit rows chain as a campaign's do: `starter audit verify --accounts`.
	out, err = starter(ctx, "audit", "verify", "--accounts")
	require.NoError(t, err, out)
	assert.Contains(t, out, fmt.Sprintf("audit log of the accounts: intact, %d rows", len(actors())))
	_, err = starter(ctx, "audit", "verify", cid, "--accounts")
	require.ErrorContains(t, err, "give a campaign or --accounts (one of them)")
}
