package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"drives/accounts"
	"drives/store"
)

// csrfOf reads the CSRF token of the password form the session's page shows.
func csrfOf(t *testing.T, g *gate, cookie string) string {
	t.Helper()
	res := g.req(t, http.MethodGet, "/password", cookie, nil, "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	body := readBody(t, res)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "no CSRF token on the password form")
	return m[1]
}

// signInAs posts the sign-in form and returns the answer and the session cookie it set.
func signInAs(t *testing.T, g *gate, name, password string) (*http.Response, string) {
	t.Helper()
	res := g.req(t, http.MethodPost, "/login", "", url.Values{"user": {name}, "password": {password}}, "")
	for _, c := range res.Cookies() {
		if c.Name == "drives_session" && c.Value != "" {
			return res, c.Value
		}
	}
	return res, ""
}

// An account made by `starter users add` signs in with its one-time password only to choose
// its own: every other page sends it to the form (the API refuses it), the one-time password
// then stops working and the chosen one works. Disabling the account refuses its session at
// the next request, even one the disabling did not end. Shown failing by leaving the guard's
// must-change check out (the one-time session read the campaigns) and by an Enabled that
// ignores disabled_at (the disabled account's remaining session was admitted).
func TestAccountSignsInAndChoosesItsPassword(t *testing.T) {
	g := newGate(t)
	ctx := context.Background()
	st := &accounts.Store{DB: g.db}
	once, err := st.Add(ctx, "test", accounts.Spec{Name: "hoa", Role: accounts.RoleCoordinator})
	require.NoError(t, err)

	res, cookie := signInAs(t, g, "hoa", once)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/password", res.Header.Get("Location"), "the first sign-in goes to the password form")
	require.NotEmpty(t, cookie)
	page := g.req(t, http.MethodGet, "/", cookie, nil, "")
	assert.Equal(t, http.StatusSeeOther, page.StatusCode)
	assert.Equal(t, "/password", page.Header.Get("Location"))
	api := g.req(t, http.MethodGet, "/api/campaigns", cookie, nil, "application/json")
	assert.Equal(t, http.StatusForbidden, api.StatusCode)
	assert.Contains(t, readBody(t, api), "choose a new password first")

	csrf := csrfOf(t, g, cookie)
	// A wrong current password, or a short new one, changes nothing.
	res = g.req(t, http.MethodPost, "/password", cookie, url.Values{"csrf": {csrf}, "current": {"not-it-at-all"}, "new": {"hoa-chooses-this-one"}}, "")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	res = g.req(t, http.MethodPost, "/password", cookie, url.Values{"csrf": {csrf}, "current": {once}, "new": {"short"}}, "")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, readBody(t, res), "at least 10 characters")
	assert.Equal(t, http.StatusForbidden, g.req(t, http.MethodGet, "/api/campaigns", cookie, nil, "application/json").StatusCode)

	res = g.req(t, http.MethodPost, "/password", cookie, url.Values{"csrf": {csrf}, "current": {once}, "new": {"hoa-chooses-this-one"}}, "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, readBody(t, res), `data-testid="done"`)
	assert.True(t, g.admitted(t, cookie), "the session reads the campaigns once the password is chosen")

	res, _ = signInAs(t, g, "hoa", once)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "the one-time password works once")
	res, second := signInAs(t, g, "hoa", "hoa-chooses-this-one")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/", res.Header.Get("Location"))

	// Disabled by hand in the table, without ending its sessions: refused all the same.
	require.NoError(t, store.SetAccountDisabled(ctx, g.db, "hoa", true))
	assert.False(t, g.admitted(t, second), "a disabled account's session is refused")
	require.NoError(t, store.SetAccountDisabled(ctx, g.db, "hoa", false))
	assert.True(t, g.admitted(t, second))
	// Disabled as `starter users disable` does: its sessions end too.
	require.NoError(t, st.Disable(ctx, "test", "hoa"))
	require.NoError(t, st.Enable(ctx, "test", "hoa"))
	assert.False(t, g.admitted(t, second), "disabling ended the session")
	assert.False(t, g.admitted(t, cookie))
}

func readBody(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}
