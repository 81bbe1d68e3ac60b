package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"drives/internal/testenv"
	"drives/web"
)

// bareSite serves the web handler on a database of its own, with no campaign launched:
// enough for what happens before any campaign is read.
func bareSite(t *testing.T, dbURL string, maxUpload int64) *site {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s := &site{t: t, db: pool, tc: testenv.SharedDevServer(t).Client(), log: &syncBuffer{}}
	coord, err := web.NewUser("lan", web.RoleCoordinator, "coordinator-password", coordToken)
	require.NoError(t, err)
	h, err := web.New(web.Config{DB: s.db, Temporal: s.tc, Users: &web.Users{Users: []web.User{coord}},
		Namespace: testenv.Namespace, MaxUpload: maxUpload, Logger: slog.New(slog.NewJSONHandler(s.log, nil))})
	require.NoError(t, err)
	s.srv = httptest.NewServer(h)
	t.Cleanup(s.srv.Close)
	return s
}

var requestIDIn = regexp.MustCompile(`request ([0-9a-f]{16})`)

// A failure of the server's own (here: its database is not there) tells the user that
// something failed and under which request ID; the database's name, address and user, and
// the driver's words, go to the log under that ID and nowhere else. Shown failing by putting
// the error's text back into the message: every secret was found on the page and in the JSON.
func TestServerFailuresShowNoDetail(t *testing.T) {
	u, err := url.Parse(testenv.NewDB(t))
	require.NoError(t, err)
	u.Path = "/drives_missing_db_7f3a"
	s := bareSite(t, u.String(), 0)
	secrets := []string{"drives_missing_db_7f3a", u.Host, u.User.Username(), "SQLSTATE", "does not exist", "pgx"}

	check := func(t *testing.T, body string) string {
		t.Helper()
		for _, secret := range secrets {
			assert.NotContains(t, body, secret)
		}
		m := requestIDIn.FindStringSubmatch(body)
		require.NotNil(t, m, "the answer names no request ID: %s", body)
		var logged bool
		for _, line := range strings.Split(s.log.String(), "\n") {
			if strings.Contains(line, m[1]) {
				logged = true
				assert.Contains(t, line, "drives_missing_db_7f3a", "the log keeps the detail")
			}
		}
		assert.True(t, logged, "request %s is not in the log", m[1])
		return m[1]
	}

	res := s.api(http.MethodGet, "/api/campaigns", coordToken, "", nil)
	require.Equal(t, http.StatusInternalServerError, res.StatusCode, res.Body)
	var apiErr struct{ Error string }
	require.NoError(t, json.Unmarshal([]byte(res.Body), &apiErr), res.Body)
	first := check(t, apiErr.Error)

	// A page (signed in by token: a sign-in needs the database too).
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+"/", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+coordToken)
	page := s.browser().do(req)
	require.Equal(t, http.StatusInternalServerError, page.StatusCode, page.Body)
	second := check(t, page.Body)
	assert.NotEqual(t, first, second, "each failure has its own ID")

	// An action (an upload), whose failure is the server's own, not a refusal of the file.
	res = s.api(http.MethodPost, "/api/campaigns/any/imports?name=a.csv", coordToken, "text/csv", strings.NewReader("a,b\n1,2\n"))
	require.Equal(t, http.StatusInternalServerError, res.StatusCode, res.Body)
	require.NoError(t, json.Unmarshal([]byte(res.Body), &apiErr), res.Body)
	check(t, apiErr.Error)

	// The sign-in form, whose session cannot be recorded.
	res = s.browser().postForm("/login", url.Values{"user": {"lan"}, "password": {"coordinator-password"}})
	require.Equal(t, http.StatusInternalServerError, res.StatusCode, res.Body)
	check(t, res.Body)
}

// An upload over the limit is refused with 413 and the limit, whether it comes from the
// page (a multipart form, whose CSRF token sits in the same body) or from the API, and
// nothing is read into the database. Shown failing by ignoring the limit where the CSRF check
// reads the form: the page's upload answered 403 (its token unread), not 413.
func TestUploadsOverTheLimitAre413(t *testing.T) {
	s := bareSite(t, testenv.NewDB(t), 4<<10)
	b := s.login("lan", "coordinator-password")
	before := s.fingerprint()
	big := bytes.Repeat([]byte("0123456789abcdef,"), 1<<10) // 17 KiB

	res := s.api(http.MethodPost, "/api/campaigns/any/imports?name=big.csv", coordToken, "text/csv", bytes.NewReader(big))
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode, res.Body)
	assert.Contains(t, res.Body, "4 KiB")

	csrf := b.page("/").csrf()
	res = b.upload("/api/campaigns/any/imports", csrf, "big.csv", big)
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode, res.Body)
	assert.Contains(t, res.Body, "4 KiB")

	// Under the limit the same routes read the upload (and refuse it for what it says).
	res = b.upload("/api/campaigns/any/imports", csrf, "small.csv", []byte("a,b\n1,2\n"))
	assert.NotEqual(t, http.StatusRequestEntityTooLarge, res.StatusCode)
	assert.NotEqual(t, http.StatusForbidden, res.StatusCode, res.Body)
	assert.Equal(t, before, s.fingerprint())
}
