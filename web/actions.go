package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/api/serviceerror"

	"drives/campaign"
	"drives/coordinator"
	"drives/imports"
	"drives/plan"
	"drives/store"
)

// Actions change a campaign, each through the coordinator's Update the CLI sends (or the
// imports package, which ends in one): the page's forms and API clients post the same fields
// to the same handlers. A form post is answered with a redirect back to its page and a flash
// message (success or the refusal in words); an API call with JSON (422 with "error" when
// refused).

// done answers a successful action.
func (s *Server) done(w http.ResponseWriter, r *http.Request, back, msg string, result any) {
	if wantsHTML(r) {
		setFlash(w, flash{Kind: "ok", Msg: msg})
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, result)
}

// refused answers an action that was refused; nothing was changed. A failure of the server's
// own (the database or Temporal unreachable) is answered as one, without its detail.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, back string, err error) {
	if internalFailure(err) {
		s.fail(w, r, err)
		return
	}
	if wantsHTML(r) {
		setFlash(w, flash{Kind: "error", Msg: tr(langOf(r), "Refused:") + " " + err.Error()})
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: err.Error()})
}

// internalFailure says an error is the server's own, not a refusal of what was asked: the
// database's or Temporal's, or the network to them. Its words (addresses, user and database
// names) are for the log.
func internalFailure(err error) bool {
	var (
		pg          *pgconn.PgError
		connect     *pgconn.ConnectError
		network     net.Error
		unavailable *serviceerror.Unavailable
		internal    *serviceerror.Internal
		deadline    *serviceerror.DeadlineExceeded
	)
	return err != nil && (errors.As(err, &pg) || errors.As(err, &connect) || errors.As(err, &network) ||
		errors.As(err, &unavailable) || errors.As(err, &internal) || errors.As(err, &deadline) ||
		errors.Is(err, context.DeadlineExceeded))
}

// bodyFields reads a JSON body into v, or leaves a form to r.FormValue.
func jsonBody(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/json"
}

func decodeJSON(r *http.Request, v any) error {
	dec := jsonDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

// AddEvent is the body of POST /api/campaigns/{id}/events.
type AddEvent struct {
	ID       string   `json:"id"`
	Kind     string   `json:"kind"`
	Unit     string   `json:"unit"`
	Date     string   `json:"date"` // YYYY-MM-DD
	Groups   []string `json:"groups"`
	Expected int      `json:"expected_attendance"`
	Title    string   `json:"title"`
}

func (s *Server) addEvent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	back := "/campaigns/" + pathEscape(id) + "/events"
	var in AddEvent
	if jsonBody(r) {
		if err := decodeJSON(r, &in); err != nil {
			s.refused(w, r, back, err)
			return
		}
	} else {
		in.ID, in.Kind, in.Unit, in.Date, in.Title = r.FormValue("id"), r.FormValue("kind"), r.FormValue("unit"), r.FormValue("date"), r.FormValue("title")
		for _, g := range r.Form["groups"] {
			for _, x := range strings.Split(g, ",") {
				if x = strings.TrimSpace(x); x != "" {
					in.Groups = append(in.Groups, x)
				}
			}
		}
		if e := strings.TrimSpace(r.FormValue("expected")); e != "" {
			n, err := strconv.Atoi(e)
			if err != nil {
				s.refused(w, r, back, fmt.Errorf("expected: %q is not a whole number", e))
				return
			}
			in.Expected = n
		}
	}
	unit := strings.TrimSpace(in.Unit)
	if err := s.checkInScope(r.Context(), id, "unit", unit); err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := plan.ParseDate(strings.TrimSpace(in.Date))
	if err != nil {
		s.refused(w, r, back, fmt.Errorf("date: %w", err))
		return
	}
	spec := plan.EventSpec{ID: strings.TrimSpace(in.ID), Kind: in.Kind, Title: in.Title, Unit: unit,
		Date: d, Groups: in.Groups, ExpectedAttendance: in.Expected}
	ids, err := coordinator.Update[[]string](r.Context(), s.co, id, campaign.UpdateAddEvent,
		campaign.AddEventRequest{Event: spec, By: viewerOf(r.Context()).Name})
	if err != nil {
		s.refused(w, r, back, err)
		return
	}
	s.done(w, r, back, tr(langOf(r), "Event added")+": "+strings.Join(ids, ", "), map[string]any{"added": ids})
}

// CancelEvent is the body of POST /api/campaigns/{id}/events/{event}/cancel.
type CancelEvent struct {
	Reason string `json:"reason"`
}

func (s *Server) cancelEvent(w http.ResponseWriter, r *http.Request) {
	id, event := r.PathValue("id"), r.PathValue("event")
	back := "/campaigns/" + pathEscape(id) + "/events"
	var in CancelEvent
	if jsonBody(r) {
		if err := decodeJSON(r, &in); err != nil {
			s.refused(w, r, back, err)
			return
		}
	} else {
		in.Reason = r.FormValue("reason")
	}
	if sc := viewerOf(r.Context()).Scope; !sc.Whole() {
		events, err := store.EventsIn(r.Context(), s.cfg.DB, id, sc)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !slices.ContainsFunc(events, func(e EventLine) bool { return e.ID == event }) {
			s.fail(w, r, errNotFound{"campaign " + id + " has no event " + event})
			return
		}
	}
	ids, err := coordinator.Update[[]string](r.Context(), s.co, id, campaign.UpdateCancelEvent,
		campaign.CancelEventRequest{EventID: event, Reason: in.Reason, By: viewerOf(r.Context()).Name})
	if err != nil {
		s.refused(w, r, back, err)
		return
	}
	s.done(w, r, back, tr(langOf(r), "Event cancelled")+": "+strings.Join(ids, ", "), map[string]any{"cancelled": ids})
}

// DecideRequest is the body of POST /api/campaigns/{id}/reviews/{period}/decisions.
type DecideRequest struct {
	Agent    string `json:"agent"`
	Decision string `json:"decision"` // approve | reject
	Reason   string `json:"reason"`
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request) {
	id, period := r.PathValue("id"), r.PathValue("period")
	back := "/campaigns/" + pathEscape(id) + "/reviews"
	var in DecideRequest
	if jsonBody(r) {
		if err := decodeJSON(r, &in); err != nil {
			s.refused(w, r, back, err)
			return
		}
	} else {
		in.Agent, in.Decision, in.Reason = r.FormValue("agent"), r.FormValue("decision"), r.FormValue("reason")
	}
	if in.Decision != "approve" && in.Decision != "reject" {
		s.refused(w, r, back, fmt.Errorf("decision: %q is not approve or reject", in.Decision))
		return
	}
	if err := s.checkInScope(r.Context(), id, "agent", in.Agent); err != nil {
		s.fail(w, r, err)
		return
	}
	// The reason is checked by the review's validator, whose words the page shows.
	res, err := s.co.Decide(r.Context(), id, period, in.Decision == "approve",
		campaign.TerminationDecision{Agent: in.Agent, Reason: in.Reason, By: viewerOf(r.Context()).Name})
	if err != nil {
		s.refused(w, r, back, err)
		return
	}
	lang := langOf(r)
	var msg string
	switch {
	case res.Already:
		msg = fmt.Sprintf("%s %s — %s", tr(lang, "Already decided:"), res.Agent, tr(lang, res.Status))
	case res.Status == "approved":
		msg = fmt.Sprintf("%s %s (%s: %s; %s: %s)", tr(lang, "Termination approved: contract ended for"), res.Agent,
			tr(lang, "follow-ups moved"), formatInt(lang, res.FollowUpsMoved), tr(lang, "quota moved"), formatInt(lang, res.QuotaMoved))
	default:
		msg = fmt.Sprintf("%s %s", tr(lang, "Termination rejected for"), res.Agent)
	}
	s.done(w, r, back, msg, res)
}

// upload imports an enrolment file: multipart (field "file") from the page or an API client,
// or the CSV itself as the body (Content-Type text/csv, ?name=FILE).
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	name, data, err := readUpload(w, r, s.cfg.MaxUpload)
	if isTooLarge(err) {
		s.tooLarge(w, r)
		return
	}
	res := &ImportResult{File: name}
	if err == nil {
		var out campaign.ImportResult
		var lines imports.Lines
		out, lines, err = s.im.EnrolmentLines(r.Context(), id, name, data, viewerOf(r.Context()).Name)
		if err == nil {
			res.Result, res.Lines = &out, &lines
		}
	}
	if internalFailure(err) {
		s.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if err != nil {
		status = http.StatusUnprocessableEntity
		var rej *imports.Rejected
		if errors.As(err, &rej) {
			res.Rejected = rej
		}
		res.Error = err.Error()
	}
	if !wantsHTML(r) {
		writeJSON(w, status, res)
		return
	}
	v, verr := s.importsPage(r)
	if verr != nil {
		s.fail(w, r, verr)
		return
	}
	v.(*ImportsView).Upload = res
	s.render(w, r, status, "imports.html", v)
}

func readUpload(w http.ResponseWriter, r *http.Request, limit int64) (string, []byte, error) {
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		f, hdr, err := r.FormFile("file")
		if isTooLarge(err) {
			return "", nil, err
		}
		if err != nil {
			return "", nil, errors.New("file: choose a CSV file to upload")
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return hdr.Filename, nil, fmt.Errorf("file: %w", err)
		}
		return filepath.Base(hdr.Filename), data, nil
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return "", nil, fmt.Errorf("body: %w", err)
	}
	name := filepath.Base(r.URL.Query().Get("name"))
	if name == "." || name == "/" {
		name = "upload.csv"
	}
	return name, data, nil
}
