package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"golang.org/x/net/html"

	"drives/activities"
	"drives/campaign"
	"drives/coordinator"
	"drives/imports"
	"drives/internal/testenv"
	"drives/plan"
	"drives/web"
	"drives/workflows"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

const (
	campaignID = "web-2021"
	temporalUI = "http://temporal-ui.test"
	coordToken = "coordinator-api-token-0123456789"
)

// site is a launched campaign with a worker, served by the web handler.
type site struct {
	t   *testing.T
	db  *pgxpool.Pool
	tc  client.Client
	co  *coordinator.Coordinator
	srv *httptest.Server
	lp  *plan.Loaded
	log *syncBuffer // the server's log
}

// syncBuffer is a log the server's goroutines write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newSite(t *testing.T) *site {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dev := testenv.SharedDevServer(t)
	s := &site{t: t, db: testenv.NewPool(t), tc: dev.Client(), log: &syncBuffer{}}
	w := worker.New(s.tc, campaign.TaskQueue, worker.Options{})
	workflows.Register(w, &activities.Activities{Pool: s.db, Temporal: s.tc})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	s.co = &coordinator.Coordinator{DB: s.db, Temporal: s.tc}

	lp, err := plan.Load(filepath.Join("testdata", "plan.yaml"))
	require.NoError(t, err)
	s.lp = lp
	_, err = s.co.Launch(ctx, lp)
	require.NoError(t, err)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		p, err := s.co.Progress(ctx, campaignID)
		if assert.NoError(c, err) {
			assert.Equal(c, campaign.StatusRunning, p.Status)
		}
	}, 30*time.Second, 100*time.Millisecond)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.tc.TerminateWorkflow(ctx, campaign.CampaignWorkflowID(campaignID), "", "test over")
		_ = s.tc.ScheduleClient().GetHandle(ctx, campaign.ReviewScheduleID(campaignID)).Delete(ctx)
	})

	coord, err := web.NewUser("lan", web.RoleCoordinator, "coordinator-password", coordToken)
	require.NoError(t, err)
	aud, err := web.NewUser("minh", web.RoleAuditor, "auditor-password", "auditor-api-token-0123456789")
	require.NoError(t, err)
	h, err := web.New(web.Config{DB: s.db, Temporal: s.tc, Users: &web.Users{Users: []web.User{coord, aud}},
		TemporalUI: temporalUI, Namespace: testenv.Namespace, Logger: slog.New(slog.NewJSONHandler(s.log, nil)),
		FieldBatchEvery: 200 * time.Millisecond, DownloadPage: 3})
	require.NoError(t, err)
	s.srv = httptest.NewServer(h)
	t.Cleanup(s.srv.Close)
	return s
}

// count runs a query that returns one number.
func (s *site) count(sql string, args ...any) int {
	s.t.Helper()
	var n int
	require.NoError(s.t, s.db.QueryRow(context.Background(), sql, args...).Scan(&n), sql)
	return n
}

// fingerprint is what any change would change: every table's rows (testenv.Fingerprint).
// It once counted rows of nine tables; shown to see more by planting an update of one
// agent's quota between a refused request and its check: the check failed on quotas.
func (s *site) fingerprint() map[string]string {
	s.t.Helper()
	return testenv.Fingerprint(s.t, s.db)
}

// browser is a signed-in (or anonymous) client with its own cookies; it does not follow
// redirects by itself, so tests see them.
type browser struct {
	t *testing.T
	s *site
	c *http.Client
}

func (s *site) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: s.t, s: s, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// login signs in through the form and returns the browser.
func (s *site) login(user, password string) *browser {
	b := s.browser()
	res := b.postForm("/login", url.Values{"user": {user}, "password": {password}})
	require.Equal(s.t, http.StatusSeeOther, res.StatusCode, "sign-in of %s", user)
	require.Equal(s.t, "/", res.Header.Get("Location"))
	return b
}

type response struct {
	*http.Response
	Body string
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	res, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	return response{Response: res, Body: string(body)}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.s.srv.URL+path, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

// page gets a page that must answer 200 and parses it.
func (b *browser) page(path string) *doc {
	b.t.Helper()
	res := b.get(path)
	require.Equal(b.t, http.StatusOK, res.StatusCode, "GET %s: %s", path, res.Body)
	return parse(b.t, res.Body)
}

func (b *browser) postForm(path string, form url.Values) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.s.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// follow posts a form and follows its redirect back to the page, which it parses.
func (b *browser) follow(path string, form url.Values) *doc {
	b.t.Helper()
	res := b.postForm(path, form)
	require.Equal(b.t, http.StatusSeeOther, res.StatusCode, "POST %s: %s", path, res.Body)
	return b.page(res.Header.Get("Location"))
}

func (b *browser) upload(path, csrf, name string, data []byte) response {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(b.t, mw.WriteField("csrf", csrf))
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(b.t, err)
	_, _ = fw.Write(data)
	require.NoError(b.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, b.s.srv.URL+path, &body)
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// api calls the JSON API with a bearer token.
func (s *site) api(method, path, token, contentType string, body io.Reader) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	require.NoError(s.t, err)
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return s.browser().do(req)
}

// doc is a parsed page.
type doc struct {
	t    *testing.T
	root *html.Node
	text string
}

func parse(t *testing.T, body string) *doc {
	t.Helper()
	n, err := html.Parse(strings.NewReader(body))
	require.NoError(t, err)
	return &doc{t: t, root: n, text: body}
}

// el is an element found on a page.
type el struct{ n *html.Node }

func (e el) attr(name string) string {
	for _, a := range e.n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func (e el) text() string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(e.n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// all finds the elements under e with data-testid = id.
func (e el) all(id string) []el {
	var out []el
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (el{n}).attr("data-testid") == id {
			out = append(out, el{n})
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(e.n)
	return out
}

func (e el) one(t *testing.T, id string) el {
	t.Helper()
	got := e.all(id)
	require.Len(t, got, 1, "elements with data-testid=%q", id)
	return got[0]
}

func (d *doc) all(id string) []el     { return el{d.root}.all(id) }
func (d *doc) one(id string) el       { d.t.Helper(); return el{d.root}.one(d.t, id) }
func (d *doc) value(id string) string { d.t.Helper(); return d.one(id).attr("data-value") }

// row finds the one element with data-testid = id and attribute key = val.
func (d *doc) row(id, key, val string) el {
	d.t.Helper()
	var found []el
	for _, e := range d.all(id) {
		if e.attr(key) == val {
			found = append(found, e)
		}
	}
	require.Len(d.t, found, 1, "%s with %s=%q", id, key, val)
	return found[0]
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the page's forms.
func (d *doc) csrf() string {
	d.t.Helper()
	m := csrfInput.FindStringSubmatch(d.text)
	require.NotNil(d.t, m, "the page has no CSRF token")
	return m[1]
}

// enrolmentFile writes n enrolments in the plan's communes with agents who work there.
func enrolmentFile(t *testing.T, n int, salt string) []byte {
	t.Helper()
	communes := [][3]string{{"00001", "00001-01", "DL-00001-1"}, {"00004", "00004-01", "DL-00004-1"},
		{"00091", "00091-02", "DL-00091-2"}, {"00094", "00094-01", "CB-00094"}, {"00097", "00097-01", "DL-00097-1"}}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	require.NoError(t, w.Write(imports.Headers[imports.Enrolments]))
	for i := 0; i < n; i++ {
		c := communes[i%len(communes)]
		require.NoError(t, w.Write([]string{fmt.Sprintf("00190%s%06d", salt, i), "Người Tham Gia " + fmt.Sprint(i), fmt.Sprintf("09%08d", i),
			c[0], c[1], c[2], "farmer", "1500000", []string{"poor", "near_poor", "other"}[i%3], "monthly", "2021-01-01"}))
	}
	w.Flush()
	return b.Bytes()
}
