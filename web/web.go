// Package web is the coordinators' and auditors' web page over the drives: html/template
// pages and the JSON API under them, served by `starter serve`. It reads figures as the CLI
// does (package report, history's tracer, the coordinator's Queries and decisions) and acts
// only through the coordinator's Updates and the imports package — never around the
// workflows. Users come from a users file (LoadUsers): coordinators act, auditors read. Every
// request is authenticated (session cookie or bearer token), every form carries a CSRF token,
// and nothing changes on GET. Assets are embedded.
package web

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"drives/coordinator"
	"drives/imports"
	"drives/report"
)

//go:embed templates static
var assets embed.FS

// Config is what the server needs.
type Config struct {
	DB       *pgxpool.Pool
	Temporal client.Client
	// Users is the users file, which bootstraps the first coordinators and auditors (nil:
	// none); everyone else signs in with an account (package accounts).
	Users *Users
	// TemporalUI is the base URL of the Temporal Web UI (e.g. http://127.0.0.1:8233); empty: no links.
	TemporalUI string
	// Namespace is the Temporal namespace of the drives, for links into the Web UI.
	Namespace string
	// SecureCookies marks cookies Secure (serve behind HTTPS).
	SecureCookies bool
	// Logger logs requests by route pattern, never their personal data.
	Logger *slog.Logger
	// MaxUpload bounds an uploaded file (default 64 MiB).
	MaxUpload int64
	// Now is the clock that failed sign-ins are forgiven by (nil: time.Now).
	Now func() time.Time
	// FieldBatchEvery is how long the field's entries wait to be counted by their campaign's
	// workflow, in one Update (default 10 s).
	FieldBatchEvery time.Duration
	// TrustForwardedFor takes a client's address, which failed sign-ins are limited by, from
	// the last address of X-Forwarded-For: set it only when the server is reached through a
	// proxy that appends it (and by nothing else).
	TrustForwardedFor bool
	// DownloadPage is how many lines a download of a list reads per query (default 5,000).
	DownloadPage int
}

// Server is the web page and its API.
type Server struct {
	cfg   Config
	co    *coordinator.Coordinator
	im    *imports.Importer
	pages map[string]*template.Template
	mux   *http.ServeMux
	log   *slog.Logger
	// reports keeps each campaign's report until the campaign changes.
	reports report.Cache
	// guard limits failed sign-ins and concurrent password checks.
	guard *signInGuard
	// rules are the routes' access rules, as registered.
	rules []RouteRule
	// fieldBatch counts field entries into their campaigns' workflows in batches.
	fieldBatch *fieldBatcher
	// fieldSends holds a token for each field send being written.
	fieldSends chan struct{}
	downloads  chan struct{}
}

// New returns the page and API as one handler.
func New(cfg Config) (http.Handler, error) {
	if cfg.DB == nil || cfg.Temporal == nil {
		return nil, errors.New("web: DB and Temporal are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxUpload == 0 {
		cfg.MaxUpload = 64 << 20
	}
	cfg.TemporalUI = strings.TrimRight(cfg.TemporalUI, "/")
	s := &Server{cfg: cfg, co: &coordinator.Coordinator{DB: cfg.DB, Temporal: cfg.Temporal},
		im:    &imports.Importer{DB: cfg.DB, Temporal: cfg.Temporal},
		pages: map[string]*template.Template{}, mux: http.NewServeMux(), log: cfg.Logger, guard: newSignInGuard(cfg.Now)}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	if cfg.FieldBatchEvery <= 0 {
		cfg.FieldBatchEvery = 10 * time.Second
	}
	s.fieldBatch = &fieldBatcher{every: cfg.FieldBatchEvery, send: s.sendFieldCount, armed: map[string]bool{}}
	s.fieldSends = make(chan struct{}, fieldSendsAtOnce)
	s.downloads = make(chan struct{}, downloadsAtOnce)
	s.routes()
	cop := http.NewCrossOriginProtection()
	return s.logged(cop.Handler(s.mux)), nil
}

func (s *Server) parseTemplates() error {
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return err
	}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(assets, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("web: template %s: %w", base, err)
		}
		s.pages[base] = t
	}
	return nil
}

var funcs = template.FuncMap{
	"t":     tr,
	"line":  trLineProblem,
	"num":   formatInt,
	"pct":   formatPct,
	"vnd":   formatVND,
	"date":  formatDate,
	"ratio": ratio,
	"fnum":  func(f float64) string { return fmt.Sprintf("%g", f) },
	"score": func(lang string, f float64) string {
		s := fmt.Sprintf("%.2f", f)
		if lang == langVI {
			s = strings.Replace(s, ".", ",", 1)
		}
		return s
	},
	"dateIn": func(t time.Time, tz string) string {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			loc = time.UTC
		}
		return formatDate(t.In(loc))
	},
	"dateTime": func(t time.Time) string { return formatDateTime(t, vietnam) },
	"join":     strings.Join,
	"path":     url.PathEscape,
	"list":     func(s ...string) []string { return s },
	"download": downloadLink,
	// sortLink is the link (this page, another query) that orders a list by key: ascending,
	// or the other way when the list is already ordered by it. The whole "?…" is the link: a
	// template writing "?{{…}}" had its query escaped as one value (?order%3dasc%26sort%3d…).
	"sortLink": func(query, key, sort, order string) string {
		q, _ := url.ParseQuery(query)
		q.Set("sort", key)
		q.Set("order", "asc")
		if key == sort && order == "asc" {
			q.Set("order", "desc")
		}
		return "?" + q.Encode()
	},
}

// vietnam is where the office works: real times (audit rows) are shown in its zone.
var vietnam = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}()

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

func (s *Server) routes() {
	s.handle("GET /healthz", Public, NoData, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) }))
	static, _ := fs.Sub(assets, "static")
	s.handle("GET /static/", Public, NoData, http.StripPrefix("/static/", http.FileServerFS(static)))
	s.handle("GET /login", Public, NoData, http.HandlerFunc(s.loginPage))
	s.handle("POST /login", Public, NoData, http.HandlerFunc(s.login))
	s.handle("POST /logout", SignedIn, NoData, http.HandlerFunc(s.logout))
	s.handle("GET /lang/{lang}", Public, NoData, http.HandlerFunc(s.setLang))
	s.handle("GET /password", SignedIn, NoData, http.HandlerFunc(s.passwordPage))
	s.handle("POST /password", SignedIn, NoData, http.HandlerFunc(s.changePassword))

	s.route("/{$}", "campaigns.html", CampaignList, s.campaigns)
	s.handle("GET /api/campaigns", SignedIn, CampaignList, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := s.campaigns(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, data)
	}))
	s.route("/campaigns/{id}", "campaign.html", InCampaign, s.campaign)
	s.route("/campaigns/{id}/units/{code}", "unit.html", InUnit, s.unit)
	s.route("/campaigns/{id}/agents", "agents.html", InCampaign, s.agents)
	s.route("/campaigns/{id}/events", "events.html", InCampaign, s.events)
	s.route("/campaigns/{id}/reviews", "reviews.html", InCampaign, s.reviews)
	s.route("/campaigns/{id}/imports", "imports.html", InCampaign, s.importsPage)
	s.route("/campaigns/{id}/trace/agent/{code}", "trace.html", InAgent, s.traceAgent)
	s.route("/campaigns/{id}/trace/unit/{code}", "trace.html", InUnit, s.traceUnit)
	s.downloadRoutes()

	// Actions: the page's forms post here too; a form post is answered with a redirect back
	// to the page (or, for an upload, the page with the result), an API call with JSON. Each
	// checks what it changes (an event's unit, a decision's agent) against the scope.
	s.handle("POST /api/campaigns/{id}/events", Schedule, InCampaign, http.HandlerFunc(s.addEvent))
	s.handle("POST /api/campaigns/{id}/events/{event}/cancel", Schedule, InCampaign, http.HandlerFunc(s.cancelEvent))
	s.handle("POST /api/campaigns/{id}/reviews/{period}/decisions", Decide, InCampaign, http.HandlerFunc(s.decide))
	s.handle("POST /api/campaigns/{id}/imports", Upload, InCampaign, http.HandlerFunc(s.upload))
	s.fieldRoutes()
}

// statusWriter remembers the status a handler wrote, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// logged logs each request by its route pattern (codes and names stay out of the log).
func (s *Server) logged(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(context.WithValue(r.Context(), reqInfoKey{}, &reqInfo{}))
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "same-origin")
		csp := "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; frame-ancestors 'none'"
		if strings.HasPrefix(r.URL.Path, "/m/") {
			csp = fieldCSP
		}
		w.Header().Set("Content-Security-Policy", csp)
		next.ServeHTTP(sw, r)
		pattern := r.Pattern
		if pattern == "" {
			pattern = r.Method + " (unmatched)"
		}
		s.log.Info("request", "route", pattern, "status", sw.status, "ms", time.Since(began).Milliseconds())
	})
}

// langOf is the page language: the cookie's, else Vietnamese.
func langOf(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && c.Value == langEN {
		return langEN
	}
	return langVI
}

func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if lang != langVI && lang != langEN {
		http.NotFound(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		SameSite: http.SameSiteLaxMode, HttpOnly: true, Secure: s.cfg.SecureCookies})
	http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// localPath keeps a redirect target on this site: a path of its own, or "/". Browsers drop
// tabs and newlines from a URL and read a backslash as a slash, so "/\t/evil.example" or
// "/\evil.example" would leave the site: a target with any control character, space or
// backslash is refused, as is one that parses to a scheme or host.
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\ \x7f") ||
		strings.IndexFunc(p, func(r rune) bool { return r < 0x20 }) >= 0 {
		return "/"
	}
	if u, err := url.Parse(p); err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return p
}

// page is what every template gets.
type page struct {
	Lang   string
	Viewer *viewer
	Flash  *flash
	Path   string
	Head   *campaignHead
	Data   any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, tmpl string, data any) {
	t := s.pages[tmpl]
	if t == nil {
		http.Error(w, "no template "+tmpl, http.StatusInternalServerError)
		return
	}
	p := page{Lang: langOf(r), Viewer: viewerOf(r.Context()), Path: r.URL.RequestURI(), Data: data}
	if r.Method == http.MethodGet {
		p.Flash = takeFlash(w, r)
	}
	if h, ok := data.(headed); ok {
		p.Head = h.head()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout", p); err != nil {
		s.log.Error("render", "template", tmpl, "err", err)
	}
}

type apiError struct {
	Error string `json:"error"`
	// Lines lists a refused file's bad lines.
	Lines []imports.LineError `json:"lines,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// wantsHTML says whether a request came from the page (a form, or a browser) rather than an
// API client, which sends Accept: application/json.
func wantsHTML(r *http.Request) bool {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		return false
	}
	ct := r.Header.Get("Content-Type")
	if r.Method == http.MethodGet {
		return !isAPI(r)
	}
	return strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data")
}

// errNotFound is a campaign, unit, agent or page that does not exist.
type errNotFound struct{ what string }

func (e errNotFound) Error() string { return e.what }

// errBadRequest is a list's filter, order or page that cannot be read.
type errBadRequest struct{ what string }

func (e errBadRequest) Error() string { return e.what }

func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	var nf errNotFound
	var br errBadRequest
	if errors.As(err, &nf) || errors.Is(err, report.ErrUnknownCampaign) || errors.Is(err, coordinator.ErrNoCampaign) {
		status = http.StatusNotFound
	} else if errors.As(err, &br) {
		status = http.StatusBadRequest
	}
	msg := err.Error()
	if status == http.StatusInternalServerError {
		// What failed (a database's address, user and name among it) goes to the log, under
		// an ID the user can quote; the user reads only that something failed.
		id := requestID()
		s.log.Error("request failed", "route", r.Pattern, "request_id", id, "err", err)
		msg = fmt.Sprintf("Something went wrong on the server (request %s). Try again later; if it keeps failing, quote the request to the operators.", id)
	}
	if isAPI(r) {
		writeJSON(w, status, apiError{Error: msg})
		return
	}
	s.render(w, r, status, "error.html", msg)
}

// requestID names one failed request in the log and on the page that reports it.
func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// parseForm reads a form body, multipart or not, and returns what went wrong reading it
// (r.FormValue drops that error).
func parseForm(r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return r.ParseMultipartForm(32 << 20)
	}
	return r.ParseForm()
}

// isTooLarge says a request body went over the limit http.MaxBytesReader set.
func isTooLarge(err error) bool {
	var m *http.MaxBytesError
	return errors.As(err, &m)
}

// tooLarge answers an upload over the limit: 413, saying the limit.
func (s *Server) tooLarge(w http.ResponseWriter, r *http.Request) {
	msg := "The file is larger than the upload limit of " + byteSize(s.cfg.MaxUpload) + "."
	if isAPI(r) && !wantsHTML(r) {
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: msg})
		return
	}
	s.keepViewer(r)
	s.render(w, r, http.StatusRequestEntityTooLarge, "error.html", msg)
}

// byteSize writes a limit in the largest whole unit that names it exactly.
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// keepViewer puts the request's user, if any is found, on the request for the page's header
// (a refusal's page is rendered before the middleware kept it).
func (s *Server) keepViewer(r *http.Request) {
	if v, err := s.viewer(r); err == nil {
		setViewer(r, v)
	}
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, msg string) {
	if isAPI(r) && !wantsHTML(r) {
		writeJSON(w, http.StatusForbidden, apiError{Error: msg})
		return
	}
	s.keepViewer(r)
	s.render(w, r, http.StatusForbidden, "error.html", msg)
}
