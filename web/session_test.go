package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"golang.org/x/net/html"

	"drives/internal/testenv"
	"drives/store"
	"drives/web"
)

// These checks need no campaign: sessions and redirects are decided before any figure is
// read. The Temporal client is lazy and never dialled; the database is real but empty.

// gate is a server on a database of its own. Requests go straight to its transport: they carry
// exactly the cookies they are given, and a redirect is returned as the server wrote it (a
// client would refuse to parse some of the Location headers tried here).
type gate struct {
	t   *testing.T
	url string
	db  *pgxpool.Pool
}

func newGate(t *testing.T) *gate {
	t.Helper()
	tc, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Namespace: testenv.Namespace})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	coord, err := web.NewUser("lan", web.RoleCoordinator, "coordinator-password", coordToken)
	require.NoError(t, err)
	// The sign-in limits run on a clock that moves an hour each time it is read, so that they
	// forgive every wrong password at once: this test's refused sign-ins check the form's
	// next, and TestSignInGuessingIsSlowedDown the limits.
	var mu sync.Mutex
	clock := time.Now()
	db := testenv.NewPool(t)
	h, err := web.New(web.Config{DB: db, Temporal: tc, Users: &web.Users{Users: []web.User{coord}},
		Namespace: testenv.Namespace, Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Hour)
			return clock
		}})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &gate{t: t, url: srv.URL, db: db}
}

// req sends a request with the session cookie (if any) and a form body (if any).
func (g *gate) req(t *testing.T, method, path, cookie string, form url.Values, accept string) *http.Response {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r, err := http.NewRequest(method, g.url+path, body)
	require.NoError(t, err)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: cookie})
	}
	res, err := http.DefaultTransport.RoundTrip(r)
	require.NoError(t, err)
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	res.Body = io.NopCloser(bytes.NewReader(b))
	return res
}

// signIn signs in through the form and returns the session cookie the server set.
func (g *gate) signIn() string {
	g.t.Helper()
	res := g.req(g.t, http.MethodPost, "/login", "", url.Values{"user": {"lan"}, "password": {"coordinator-password"}}, "")
	require.Equal(g.t, http.StatusSeeOther, res.StatusCode)
	for _, c := range res.Cookies() {
		if c.Name == web.SessionCookie && c.Value != "" {
			return c.Value
		}
	}
	g.t.Fatal("the sign-in set no session cookie")
	return ""
}

// admitted says whether the cookie opens a page and the JSON API; refused cookies must be
// sent to the sign-in page (pages) and answered 401 (API), and see nothing.
func (g *gate) admitted(t *testing.T, cookie string) bool {
	t.Helper()
	page := g.req(t, http.MethodGet, "/campaigns/web-2021/agents", cookie, nil, "")
	api := g.req(t, http.MethodGet, "/api/campaigns", cookie, nil, "application/json")
	if api.StatusCode == http.StatusOK {
		return true
	}
	assert.Equal(t, http.StatusSeeOther, page.StatusCode, "a refused cookie's page request")
	assert.Equal(t, "/login?next=%2Fcampaigns%2Fweb-2021%2Fagents", page.Header.Get("Location"))
	assert.Equal(t, http.StatusUnauthorized, api.StatusCode, "a refused cookie's API request")
	return false
}

// An expired, ended, altered or made-up session cookie signs no one in.
//
// Shown failing on purpose: with OpenWebSession's "expires_at > now()" removed both expired
// sessions were admitted; with its "ended_at is null" removed the signed-out one was.
func TestSessionCookiesAreChecked(t *testing.T) {
	g := newGate(t)
	ctx := context.Background()
	good := g.signIn()
	require.True(t, g.admitted(t, good), "setup: the cookie the sign-in set opens the pages")

	// flip changes one character of s at i to another of the base64url alphabet.
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	// expired is a session of lan's whose row expired ago.
	expired := func(ago time.Duration) string {
		c := g.signIn()
		_, err := g.db.Exec(ctx, `update web_sessions set created_at = now() - interval '1 day', expires_at = now() - make_interval(secs => $2)
			where id_hash = $1`, web.SessionHash(c), ago.Seconds())
		require.NoError(t, err)
		return c
	}
	signedOut := g.signIn()
	res := g.req(t, http.MethodGet, "/", signedOut, nil, "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	b, _ := io.ReadAll(res.Body)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(b))
	require.NotNil(t, csrf, "setup: the page has the sign-out form")
	require.Equal(t, http.StatusSeeOther, g.req(t, http.MethodPost, "/logout", signedOut, url.Values{"csrf": {csrf[1]}}, "").StatusCode)
	// A session of a user the users file no longer has.
	gone := strings.Repeat("Z", len(good))
	_, err := g.db.Exec(ctx, `insert into web_sessions (id_hash, user_name, csrf, expires_at) values ($1, 'someone-else', 'x', now() + interval '1 hour')`,
		web.SessionHash(gone))
	require.NoError(t, err)
	var stored []byte
	require.NoError(t, g.db.QueryRow(ctx, `select id_hash from web_sessions where id_hash = $1`, web.SessionHash(good)).Scan(&stored))

	for name, cookie := range map[string]string{
		"expired an hour ago":                expired(time.Hour),
		"expired a second ago":               expired(time.Second),
		"signed out":                         signedOut,
		"a user not in the users file":       gone,
		"one character changed":              flip(good, len(good)/2),
		"cut short":                          good[:len(good)-1],
		"one character more":                 good + "A",
		"the hash the server keeps":          base64.RawURLEncoding.EncodeToString(stored),
		"made up":                            strings.Repeat("A", len(good)),
		"garbage":                            "garbage",
		"not base64":                         strings.Repeat("*", len(good)),
		"the bearer token put in the cookie": coordToken,
	} {
		t.Run(name, func(t *testing.T) { assert.False(t, g.admitted(t, cookie)) })
	}
	// The sign-in's own cookie still opens the pages: the refusals above are about the
	// cookies, not the server.
	assert.True(t, g.admitted(t, good))
}

// Sessions are the server's, in PostgreSQL: a web process started later (a restart) and
// another one beside it (behind a load balancer) know them; a sign-out on one ends the
// session on all; an administrator ends all of a user's sessions at once. Shown failing with
// the signed cookies that came before (a key of each process): the second process refused
// the first one's session.
func TestSessionsAreSharedAndEnded(t *testing.T) {
	g := newGate(t)
	ctx := context.Background()
	tc, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Namespace: testenv.Namespace})
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	coord, err := web.NewUser("lan", web.RoleCoordinator, "coordinator-password", coordToken)
	require.NoError(t, err)
	h2, err := web.New(web.Config{DB: g.db, Temporal: tc, Users: &web.Users{Users: []web.User{coord}}, Namespace: testenv.Namespace})
	require.NoError(t, err)
	srv2 := httptest.NewServer(h2)
	t.Cleanup(srv2.Close)
	g2 := &gate{t: t, url: srv2.URL, db: g.db}

	first, second := g.signIn(), g.signIn()
	require.NotEqual(t, first, second, "each sign-in has a session of its own")
	assert.True(t, g2.admitted(t, first), "the other process knows a session")

	// Signing out on the second process ends the session on the first.
	res := g2.req(t, http.MethodGet, "/", first, nil, "")
	b, _ := io.ReadAll(res.Body)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(b))
	require.NotNil(t, csrf)
	require.Equal(t, http.StatusSeeOther, g2.req(t, http.MethodPost, "/logout", first, url.Values{"csrf": {csrf[1]}}, "").StatusCode)
	assert.False(t, g.admitted(t, first), "signed out on the other process")
	assert.True(t, g.admitted(t, second), "another session of the same user stays")

	// The CSRF token is the session's: another session's token is refused.
	res = g.req(t, http.MethodPost, "/logout", second, url.Values{"csrf": {csrf[1]}}, "")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "a signed-out session's CSRF token on another session")

	third := g2.signIn()
	n, err := store.EndUserWebSessions(ctx, g.db, "lan")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "lan's open sessions")
	assert.False(t, g.admitted(t, second))
	assert.False(t, g2.admitted(t, third))

	// Signing in again from a browser that has a session replaces it: the old one ends.
	fourth := g.signIn()
	res = g.req(t, http.MethodPost, "/login", fourth, url.Values{"user": {"lan"}, "password": {"coordinator-password"}}, "")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.False(t, g.admitted(t, fourth), "the session a new sign-in replaced")
}

// onSite resolves a redirect target as a browser does (tabs and newlines dropped, leading and
// trailing spaces and controls trimmed, a backslash read as a slash) and says whether it stays
// on base's scheme and host.
func onSite(base *url.URL, target string) bool {
	t := strings.TrimFunc(target, func(r rune) bool { return r <= ' ' })
	t = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(t)
	u, err := url.Parse(t)
	if err != nil {
		return false
	}
	r := base.ResolveReference(u)
	return r.Scheme == base.Scheme && r.Host == base.Host
}

// Redirect targets, as the server sees them once the query or form is decoded. The first
// ones are on other sites (or no site) in a browser and must become "/".
var offSite = []string{
	"/\t/evil.example",      // ?next=/%09/evil.example: a browser drops the tab
	"/\n/evil.example",      // ?next=/%0A/evil.example
	"/\r\n/evil.example",    // ?next=/%0D%0A/evil.example
	"//evil.example",        // scheme-relative
	"///evil.example",       // ?next=/%2F%2Fevil.example
	`/\evil.example`,        // a browser reads \ as /
	`/\/evil.example`,       //
	`\\evil.example`,        //
	"https://evil.example/", // absolute
	"javascript:alert(1)",   // not a page at all
	" /x",                   // leading space: trimmed by a browser, but not a path here
	" //evil.example",       //
	"/\x00/evil.example",    //
	"",                      // nothing
}

// Shown failing on purpose: before localPath refused control characters,
// "/\t/evil.example" was sent back as the Location (a browser goes to evil.example); with
// localPath returning p unchecked every off-site target failed.
func TestRedirectsStayOnSite(t *testing.T) {
	g := newGate(t)
	base, err := url.Parse(g.url)
	require.NoError(t, err)
	cookie := g.signIn()

	// where asks every redirecting entry point to go to next and returns where each went.
	where := func(t *testing.T, next string) map[string]string {
		q := "?next=" + url.QueryEscape(next)
		got := map[string]string{
			"GET /lang/en":            g.req(t, http.MethodGet, "/lang/en"+q, "", nil, "").Header.Get("Location"),
			"GET /login (signed in)":  g.req(t, http.MethodGet, "/login"+q, cookie, nil, "").Header.Get("Location"),
			"POST /login (good)":      g.req(t, http.MethodPost, "/login", "", url.Values{"user": {"lan"}, "password": {"coordinator-password"}, "next": {next}}, "").Header.Get("Location"),
			"GET /login (form field)": loginFormNext(t, g, q),
		}
		// A refused sign-in shows the form again with the same guarded next.
		got["POST /login (refused)"] = loginFormNextAfter(t, g, url.Values{"user": {"lan"}, "password": {"wrong"}, "next": {next}})
		return got
	}

	for _, next := range offSite {
		t.Run(url.QueryEscape(next), func(t *testing.T) {
			for entry, loc := range where(t, next) {
				assert.True(t, onSite(base, loc), "%s with next %q went to %q", entry, next, loc)
				assert.Equal(t, "/", loc, "%s with next %q", entry, next)
			}
		})
	}
	// Targets that look odd but are this site's paths are kept as they are.
	for _, next := range []string{"/campaigns/x?y=1", "/campaigns/web-2021/agents?sort=name&order=desc", "/%09/evil.example", "/%2F%2Fevil.example"} {
		t.Run("kept "+url.QueryEscape(next), func(t *testing.T) {
			for entry, loc := range where(t, next) {
				assert.True(t, onSite(base, loc), "%s with next %q went to %q", entry, next, loc)
				assert.Equal(t, next, loc, "%s", entry)
			}
		})
	}
}

// loginFormNext is the hidden next field of the sign-in form at /login+query.
func loginFormNext(t *testing.T, g *gate, query string) string {
	t.Helper()
	res := g.req(t, http.MethodGet, "/login"+query, "", nil, "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	return formNext(t, res)
}

func loginFormNextAfter(t *testing.T, g *gate, form url.Values) string {
	t.Helper()
	res := g.req(t, http.MethodPost, "/login", "", form, "")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	return formNext(t, res)
}

func formNext(t *testing.T, res *http.Response) string {
	t.Helper()
	n, err := html.Parse(res.Body)
	require.NoError(t, err)
	var values []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if e := (el{n}); n.Type == html.ElementNode && n.Data == "input" && e.attr("name") == "next" {
			values = append(values, e.attr("value"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	require.Len(t, values, 1, "the sign-in form's next field")
	return values[0]
}
