package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"drives/campaign"
	"drives/coordinator"
	"drives/field"
	"drives/plan"
)

// The field page: each collection agent's phone page (/m/, which works offline: a service
// worker keeps the page, IndexedDB the agent's list and what they record) and the API it
// reads and writes through (/api/field/…; docs/API.md). Only agents' accounts use them, each
// for their own work in the campaign their account is bound to.

// fieldCSP lets the field page run its own scripts and its service worker, and nothing else.
const fieldCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'"

// fieldAssets are the field page's files, served under /m/.
var fieldAssets = map[string]bool{"app.js": true, "app.css": true, "sw.js": true, "manifest.webmanifest": true, "icon.svg": true}

// maxFieldBody bounds a send of entries.
const maxFieldBody = 256 << 10

// fieldSendsAtOnce bounds the sends a web process writes at once, and fieldSendWait how long a
// send waits for its turn before it is answered 503 (the phone sends it again).
const (
	fieldSendsAtOnce = 32
	fieldSendWait    = 20 * time.Second
)

func init() { _ = mime.AddExtensionType(".webmanifest", "application/manifest+json") }

func (s *Server) fieldRoutes() {
	s.handle("GET /m/{$}", Field, NoData, http.HandlerFunc(s.fieldPage))
	s.handle("GET /m/{file}", Public, NoData, http.HandlerFunc(s.fieldAsset))
	s.handle("GET /api/field/today", Field, AgentWork, http.HandlerFunc(s.fieldToday))
	s.handle("POST /api/field/entries", Field, AgentWork, http.HandlerFunc(s.fieldEntries))
}

// fieldPage is the page's shell; everything else it shows comes from its API (or, offline,
// from what the phone keeps).
func (s *Server) fieldPage(w http.ResponseWriter, r *http.Request) {
	s.serveFieldFile(w, r, "index.html")
}

func (s *Server) fieldAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if !fieldAssets[name] {
		http.NotFound(w, r)
		return
	}
	s.serveFieldFile(w, r, name)
}

func (s *Server) serveFieldFile(w http.ResponseWriter, r *http.Request, name string) {
	body, err := fs.ReadFile(assets, "static/m/"+name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ctype := mime.TypeByExtension(name[strings.LastIndex(name, "."):])
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	// The service worker keeps the page offline; online, each load asks whether it changed.
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}

// fieldCampaign is the campaign a field request is about: named, or the one the agent's
// account is bound to; not found outside the account's scope.
func (s *Server) fieldCampaign(ctx context.Context, v *viewer, named string) (string, error) {
	id := strings.TrimSpace(named)
	if id == "" {
		id = v.Scope.Campaign
	}
	if id == "" {
		return "", errBadRequest{"campaign: name the campaign (the account is not bound to one)"}
	}
	if !plan.ValidCampaignID(id) || !v.seesCampaign(id) {
		return "", errNotFound{"no campaign " + id}
	}
	if err := s.checkCampaignScope(ctx, id, v.Scope); err != nil {
		return "", err
	}
	return id, nil
}

func (s *Server) fieldToday(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	id, err := s.fieldCampaign(r.Context(), v, r.URL.Query().Get("campaign"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := field.TodayOf(r.Context(), s.cfg.DB, id, v.Scope.Agent)
	if errors.Is(err, field.ErrNoAgent) {
		err = errNotFound{"your account's agent is not on the roster of campaign " + id}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t.CSRF = v.CSRF
	writeJSON(w, http.StatusOK, t)
}

// FieldSend is the body of POST /api/field/entries.
type FieldSend struct {
	Campaign string        `json:"campaign"`
	Entries  []field.Entry `json:"entries"`
}

func (s *Server) fieldEntries(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, maxFieldBody)
	var in FieldSend
	if err := decodeJSON(r, &in); err != nil {
		if isTooLarge(err) {
			s.tooLarge(w, r)
			return
		}
		s.fail(w, r, errBadRequest{err.Error()})
		return
	}
	switch {
	case len(in.Entries) == 0:
		s.fail(w, r, errBadRequest{"entries: none sent"})
		return
	case len(in.Entries) > field.MaxEntries:
		s.fail(w, r, errBadRequest{fmt.Sprintf("entries: at most %d at once (%d sent)", field.MaxEntries, len(in.Entries))})
		return
	}
	id, err := s.fieldCampaign(r.Context(), v, in.Campaign)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// At most fieldSendsAtOnce sends are written at a time by this process (they take turns at
	// the campaign anyway); a phone that waits too long for its turn is told to come back.
	release, ok := turn(r.Context(), s.fieldSends, fieldSendWait)
	if !ok {
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "the server is busy with other phones' entries: send them again in a few seconds"})
		return
	}
	defer release()
	results, err := (&field.Recorder{DB: s.cfg.DB}).Record(r.Context(), v.Name, id, v.Scope.Agent, in.Entries)
	if errors.Is(err, field.ErrNoAgent) {
		err = errNotFound{"your account's agent is not on the roster of campaign " + id}
	}
	recorded := 0
	for _, res := range results {
		if res.Status == "recorded" && !res.Again {
			recorded++
		}
	}
	if err != nil {
		var nf errNotFound
		if !errors.As(err, &nf) && internalFailure(err) {
			// The database is away: nothing was written; the phone sends the same entries again.
			s.log.Error("field send failed", "err", err)
			w.Header().Set("Retry-After", "5")
			writeJSON(w, http.StatusServiceUnavailable, apiError{Error: "the server cannot write entries now: nothing was written; send them again in a few seconds"})
			return
		}
		s.fail(w, r, err)
		return
	}
	if recorded > 0 {
		s.fieldBatch.touch(id)
	}
	s.log.Info("field entries", "sent", len(in.Entries), "recorded", recorded)
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// fieldBatcher tells a campaign's workflow of its field entries in batches: the first entry
// recorded after a quiet spell arms a timer, and when it fires one Update (record-field)
// counts everything recorded meanwhile. An Update lost with the process is made up by the
// next one, or by the campaign's close: the entries are in the database, and the count takes
// whatever is not counted yet.
type fieldBatcher struct {
	every time.Duration
	send  func(campaignID string)

	mu    sync.Mutex
	armed map[string]bool
}

func (b *fieldBatcher) touch(campaignID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.armed[campaignID] {
		return
	}
	b.armed[campaignID] = true
	time.AfterFunc(b.every, func() {
		b.mu.Lock()
		delete(b.armed, campaignID)
		b.mu.Unlock()
		b.send(campaignID)
	})
}

// sendFieldCount sends a campaign's record-field Update; a failure is logged (the next
// count makes it up).
func (s *Server) sendFieldCount(campaignID string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := coordinator.Update[campaign.FieldResult](ctx, s.co, campaignID, campaign.UpdateRecordField,
		campaign.FieldRequest{By: "field-page"})
	if err != nil {
		s.log.Warn("field count not sent", "campaign", campaignID, "err", err)
		return
	}
	s.log.Info("field count sent", "campaign", campaignID, "enrolled", res.Enrolled)
}
