package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"

	"drives/accounts"
	"drives/store"
)

func jsonDecoder(r io.Reader) *json.Decoder {
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	dec.DisallowUnknownFields()
	return dec
}

// LoginView is the sign-in form.
type LoginView struct {
	Next  string
	Error string
	User  string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if v, _ := s.viewer(r); v != nil {
		http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login.html", &LoginView{Next: localPath(r.URL.Query().Get("next"))})
}

// login checks a name and password against the accounts (and the users file) and starts a
// session. (The login
// form carries no CSRF token: there is no session yet; Cross-Origin Protection and the
// SameSite=Lax cookie keep other sites from posting it.)
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	name, password, next := r.FormValue("user"), r.FormValue("password"), localPath(r.FormValue("next"))
	addr := s.clientAddr(r)
	who := s.guard.logName(s.known(r, name), name)
	wait, right := s.guard.attempt(name, addr)
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		s.log.Warn("sign-in throttled", "user", who, "addr", addr, "retry_after_s", secs)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.render(w, r, http.StatusTooManyRequests, "login.html", &LoginView{Next: next, User: name,
			Error: fmt.Sprintf("Too many failed sign-ins. Try again in %d seconds.", secs)})
		return
	}
	var u *viewer
	var err error
	if !s.guard.check(r, func() { u, err = s.checkPassword(r, name, password) }) {
		right() // not checked: not a failure
		s.log.Warn("sign-in not checked: every password check busy", "addr", addr)
		w.Header().Set("Retry-After", "5")
		s.render(w, r, http.StatusServiceUnavailable, "login.html", &LoginView{Next: next, User: name,
			Error: "The server is busy. Try again in a few seconds."})
		return
	}
	if err != nil {
		right()
		s.fail(w, r, err)
		return
	}
	if u == nil {
		s.log.Info("sign-in refused", "user", who, "addr", addr)
		s.render(w, r, http.StatusUnauthorized, "login.html", &LoginView{Next: next, User: name, Error: "Wrong user or password."})
		return
	}
	right()
	// A sign-in from a browser that has a session already replaces it: the old one ends.
	if err := s.endSession(r); err != nil {
		s.fail(w, r, err)
		return
	}
	cookie, hash, csrf := newSessionID()
	if err := store.CreateWebSession(r.Context(), s.cfg.DB, hash, u.Name, csrf, sessionTTL); err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: cookie, Path: "/",
		MaxAge: int(sessionTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	s.log.Info("signed in", "user", u.Name, "role", u.Role)
	if u.MustChange {
		next = "/password"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout ends the session on the server, so that its cookie no longer signs anyone in
// wherever it was copied, and clears it in the browser.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.endSession(r); err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// endSession ends, on the server, the session the request's cookie names, if it names one.
func (s *Server) endSession(r *http.Request) error {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	hash, ok := sessionHash(c.Value)
	if !ok {
		return nil
	}
	return store.EndWebSession(r.Context(), s.cfg.DB, hash)
}

// checkPassword returns the enabled account of this name and password, or else the users
// file's user of them; nil: neither.
func (s *Server) checkPassword(r *http.Request, name, password string) (*viewer, error) {
	a, err := accounts.SignIn(r.Context(), s.cfg.DB, name, password)
	if err != nil || a != nil {
		return viewerOfAccount(a), err
	}
	if u := s.cfg.Users.checkPassword(name, password); u != nil {
		if _, err := store.AccountByName(r.Context(), s.cfg.DB, name); err == nil {
			return nil, nil // an account of the name, disabled or with another password, wins
		}
		return &viewer{Name: u.Name, Role: u.Role}, nil
	}
	return nil, nil
}

// known says whether a name is an account's or the users file's, for the log.
func (s *Server) known(r *http.Request, name string) bool {
	if s.cfg.Users.byName(name) != nil {
		return true
	}
	_, err := store.AccountByName(r.Context(), s.cfg.DB, name)
	return err == nil
}

// PasswordView is the form that replaces a password.
type PasswordView struct {
	MustChange bool
	Error      string
	Done       bool
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	s.render(w, r, http.StatusOK, "password.html", &PasswordView{MustChange: v.MustChange})
}

// changePassword replaces the signed-in account's password, checked against the current one.
// A wrong current password counts as a failed sign-in of the name.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	v := viewerOf(r.Context())
	current, chosen := r.FormValue("current"), r.FormValue("new")
	view := &PasswordView{MustChange: v.MustChange}
	addr := s.clientAddr(r)
	wait, right := s.guard.attempt(v.Name, addr)
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		view.Error = fmt.Sprintf("Too many failed sign-ins. Try again in %d seconds.", secs)
		s.render(w, r, http.StatusTooManyRequests, "password.html", view)
		return
	}
	var err error
	if !s.guard.check(r, func() { err = (&accounts.Store{DB: s.cfg.DB}).ChangePassword(r.Context(), v.Name, current, chosen) }) {
		right()
		w.Header().Set("Retry-After", "5")
		view.Error = "The server is busy. Try again in a few seconds."
		s.render(w, r, http.StatusServiceUnavailable, "password.html", view)
		return
	}
	switch {
	case errors.Is(err, accounts.ErrWrongPassword):
		s.log.Info("password change refused", "user", v.Name, "addr", addr)
		view.Error = "The current password is not right."
		s.render(w, r, http.StatusUnprocessableEntity, "password.html", view)
		return
	case err != nil && internalFailure(err):
		right()
		s.fail(w, r, err)
		return
	case err != nil:
		right()
		view.Error = err.Error()
		s.render(w, r, http.StatusUnprocessableEntity, "password.html", view)
		return
	}
	right()
	s.log.Info("password changed", "user", v.Name)
	view.MustChange, view.Done = false, true
	v.MustChange = false
	s.render(w, r, http.StatusOK, "password.html", view)
}
