package web_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"golang.org/x/net/html"

	"drives/internal/testenv"
	"drives/web"
)

// These checks need no campaign: sessions and redirects are decided before any figure is
// read. The Temporal client is lazy and never dialled; the database is real but empty.

var sessionKey = []byte("session-key-of-the-test-server-0123456789")

// gate is a server with a known session key. Requests go straight to its transport: they carry
// exactly the cookies they are given, and a redirect is returned as the server wrote it (a
// client would refuse to parse some of the Location headers tried here).
type gate struct {
	t   *testing.T
	url string
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
	h, err := web.New(web.Config{DB: testenv.NewPool(t), Temporal: tc, Users: &web.Users{Users: []web.User{coord}},
		Namespace: testenv.Namespace, SessionKey: sessionKey, Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Hour)
			return clock
		}})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &gate{t: t, url: srv.URL}
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

// An expired, tampered, foreign or garbage session cookie signs no one in.
//
// Shown failing on purpose: with decode's expiry test removed (time.Now().Unix() > v.Expires)
// both expired cookies were admitted; with the signature compared with itself
// (hmac.Equal(got, got)) the changed and cut signatures, the other key's cookie and the bodies
// put under the real signature were admitted.
func TestSessionCookiesAreChecked(t *testing.T) {
	g := newGate(t)
	good := g.signIn()
	require.True(t, g.admitted(t, good), "setup: the cookie the sign-in set opens the pages")
	body, sig, ok := strings.Cut(good, ".")
	require.True(t, ok, "setup: a session cookie is body.signature")

	// flip changes one character of s at i to another of the base64url alphabet.
	flip := func(s string, i int) string {
		c := byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	other := []byte("another-server-key-0123456789abcdefghij")
	otherBody, _, _ := strings.Cut(web.SignedSession(other, "lan", time.Now().Add(24*time.Hour)), ".")
	later, _, _ := strings.Cut(web.SignedSession(sessionKey, "lan", time.Now().Add(365*24*time.Hour)), ".")

	for name, cookie := range map[string]string{
		"expired an hour ago":                web.SignedSession(sessionKey, "lan", time.Now().Add(-time.Hour)),
		"expired a second ago":               web.SignedSession(sessionKey, "lan", time.Now().Add(-2*time.Second)),
		"a user not in the users file":       web.SignedSession(sessionKey, "someone-else", time.Now().Add(time.Hour)),
		"body changed":                       flip(body, len(body)/2) + "." + sig,
		"body of a longer session":           later + "." + sig,
		"body of another server's session":   otherBody + "." + sig,
		"signature changed":                  body + "." + flip(sig, len(sig)/2),
		"signature cut short":                body + "." + sig[:len(sig)-4],
		"no signature":                       body,
		"signed with another key":            web.SignedSession(other, "lan", time.Now().Add(time.Hour)),
		"garbage":                            "garbage",
		"garbage with a dot":                 "bm90LWpzb24.c2lnbmF0dXJl",
		"two dots":                           body + "." + sig + "." + sig,
		"the bearer token put in the cookie": coordToken,
	} {
		t.Run(name, func(t *testing.T) { assert.False(t, g.admitted(t, cookie)) })
	}
	// A cookie that has not expired yet, signed with the server's key, still opens the pages:
	// the refusals above are about the cookies, not the server.
	assert.True(t, g.admitted(t, web.SignedSession(sessionKey, "lan", time.Now().Add(time.Minute))))
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
