package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"drives/accounts"
	"drives/store"
)

// Access follows the organisation. Every route has a rule (RouteRules): who may use it
// (Access, by role) and what of a campaign it shows or changes (Scope). A signed-in person
// sees the campaigns, units, agents, events, reviews and imports within their account's scope
// (store.Scope): a campaign, unit, agent or event outside it answers 404, as one that does
// not exist; lists hold only the scope's rows and reports the scope's totals. A role that may
// not use a route at all is answered 403.

// Access says who may use a route.
type Access string

const (
	// Public routes need no sign-in: the sign-in form, health, static files, the language.
	Public Access = "public"
	// SignedIn routes are for everyone signed in, each seeing their scope: the pages and
	// their JSON, signing out, changing one's password.
	SignedIn Access = "signed-in"
	// Decide routes approve or reject terminations: city coordinators, and district officers
	// for their districts' agents.
	Decide Access = "decide"
	// Schedule routes add and cancel events: city coordinators, district officers and commune
	// staff, each in their units.
	Schedule Access = "schedule"
	// Upload routes import enrolments for the whole campaign: city coordinators.
	Upload Access = "upload"
	// Field routes are the field page and its API: agents, for their own work.
	Field Access = "field"
)

// accessRoles are the roles each Access other than Public and SignedIn lets in.
var accessRoles = map[Access][]string{
	Decide:   {accounts.RoleCoordinator, accounts.RoleDistrict},
	Schedule: {accounts.RoleCoordinator, accounts.RoleDistrict, accounts.RoleCommune},
	Upload:   {accounts.RoleCoordinator},
	Field:    {accounts.RoleAgent},
}

// Scope says what of a campaign a route shows or changes, and so what it checks of the
// signed-in person's scope.
type Scope string

const (
	// NoData routes show no campaign's data.
	NoData Scope = "none"
	// CampaignList lists the campaigns in the scope.
	CampaignList Scope = "campaigns"
	// InCampaign routes are of the campaign {id}, which must be in the scope; their lists and
	// figures are the scope's.
	InCampaign Scope = "campaign"
	// InUnit routes are of the unit {code} of the campaign {id}: it must lie in the scope.
	InUnit Scope = "unit"
	// InAgent routes are of the agent {code} of the campaign {id}: in the scope.
	InAgent Scope = "agent"
	// AgentWork routes are an agent's own work in a campaign the request names (or the one
	// their account is bound to), which must be in the scope.
	AgentWork Scope = "agent-work"
)

// RouteRule is a route's pattern, who may use it and what of the scope it checks.
type RouteRule struct {
	Pattern string
	Access  Access
	Scope   Scope
}

// RouteRules are the access rules of every route the server serves, in the order registered.
func RouteRules() []RouteRule {
	s := &Server{mux: http.NewServeMux()}
	s.routes()
	return s.rules
}

// handle serves a route behind its access rule: the only way a route is registered.
func (s *Server) handle(pattern string, access Access, scope Scope, h http.Handler) {
	s.rules = append(s.rules, RouteRule{Pattern: pattern, Access: access, Scope: scope})
	if access != Public {
		h = s.guarded(access, scope, h)
	}
	s.mux.Handle(pattern, h)
}

// route registers a page (GET path) and its JSON twin (GET /api/path) on one loader.
func (s *Server) route(path, tmpl string, scope Scope, load func(r *http.Request) (any, error)) {
	s.handle("GET "+path, SignedIn, scope, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := load(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, tmpl, data)
	}))
	s.handle("GET /api"+path, SignedIn, scope, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := load(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, data)
	}))
}

// guarded finds the request's user (bearer token or session cookie), refuses the
// unauthenticated, sends one who must choose a password to the form for it, refuses a role
// the route is not for, checks the CSRF token of a cookie session's POST, and refuses a
// campaign outside the user's scope as one that does not exist. Units, agents and events are
// checked against the scope by the route's own loader, which reads them.
func (s *Server) guarded(access Access, scope Scope, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.viewer(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if v == nil {
			if h := r.Header.Get("Authorization"); h != "" {
				// A program's credentials were given and are wrong: say so, rather than "sign in".
				msg := "the bearer token is not valid (unknown, revoked or mistyped): give the token starter users add --with-token printed"
				if !strings.HasPrefix(h, "Bearer ") {
					msg = "the Authorization header is not a bearer token: send Authorization: Bearer <token>"
				}
				w.Header().Set("WWW-Authenticate", `Bearer realm="drives", error="invalid_token"`)
				if isAPI(r) && !wantsHTML(r) {
					writeJSON(w, http.StatusUnauthorized, apiError{Error: msg})
				} else {
					http.Error(w, msg, http.StatusUnauthorized)
				}
				return
			}
			if isAPI(r) && !wantsHTML(r) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="drives"`)
				writeJSON(w, http.StatusUnauthorized, apiError{Error: "sign in first: a session cookie from POST /login, or Authorization: Bearer <token>"})
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		setViewer(r, v) // for the header of a refusal's page too
		if v.MustChange && !strings.HasSuffix(r.Pattern, " /password") && r.Pattern != "POST /logout" {
			if r.Method == http.MethodGet && !isAPI(r) {
				http.Redirect(w, r, "/password", http.StatusSeeOther)
				return
			}
			s.forbidden(w, r, "choose a new password first (the one you were given works only once): /password")
			return
		}
		if !v.may(access) {
			s.forbidden(w, r, "your role ("+v.Role+") may not do this")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !v.Bearer {
			token := r.Header.Get("X-CSRF-Token")
			if token == "" {
				r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxUpload)
				if err := parseForm(r); isTooLarge(err) {
					s.tooLarge(w, r)
					return
				}
				token = r.FormValue("csrf")
			}
			if !sameToken(token, v.CSRF) {
				s.forbidden(w, r, "missing or wrong CSRF token: reload the page and try again")
				return
			}
		}
		if scope == InCampaign || scope == InUnit || scope == InAgent {
			id := r.PathValue("id")
			if !v.seesCampaign(id) {
				s.fail(w, r, errNotFound{"no campaign " + id})
				return
			}
			if err := s.checkCampaignScope(r.Context(), id, v.Scope); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// viewer finds the request's user: by bearer token, or by the session its cookie names, which
// must be open (not ended, not expired) and of an enabled account (or of the users file);
// nil: nobody signed in. The account is read at every request, so that disabling it or
// changing its scope takes effect at once. Once the middleware has found it, it is kept on
// the request.
func (s *Server) viewer(r *http.Request) (*viewer, error) {
	if v := viewerOf(r.Context()); v != nil {
		return v, nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, nil
		}
		tok = strings.TrimSpace(tok)
		a, err := accounts.ByToken(r.Context(), s.cfg.DB, tok)
		if err != nil {
			return nil, err
		}
		if a != nil {
			v := viewerOfAccount(a)
			v.Bearer, v.MustChange = true, false // a token was made for a program, not a person
			return v, nil
		}
		if u := s.cfg.Users.checkToken(tok); u != nil {
			return &viewer{Name: u.Name, Role: u.Role, Bearer: true}, nil
		}
		return nil, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	hash, ok := sessionHash(c.Value)
	if !ok {
		return nil, nil
	}
	sess, err := store.OpenWebSession(r.Context(), s.cfg.DB, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := s.principal(r, sess.User)
	if v != nil {
		v.CSRF = sess.CSRF
	}
	return v, err
}

// principal is the enabled account of a name, or the users file's user of it; nil: neither.
func (s *Server) principal(r *http.Request, name string) (*viewer, error) {
	a, err := accounts.Enabled(r.Context(), s.cfg.DB, name)
	if err != nil || a != nil {
		return viewerOfAccount(a), err
	}
	if u := s.cfg.Users.byName(name); u != nil {
		return &viewer{Name: u.Name, Role: u.Role}, nil
	}
	return nil, nil
}

func viewerOfAccount(a *accounts.Account) *viewer {
	if a == nil {
		return nil
	}
	return &viewer{Name: a.Name, Role: a.Role, Scope: accounts.ScopeOf(*a), MustChange: a.MustChange}
}

// may says whether the viewer's role may use routes of an access.
func (v *viewer) may(a Access) bool {
	if a == Public || a == SignedIn {
		return true
	}
	return slices.Contains(accessRoles[a], v.Role)
}

// seesCampaign says whether a campaign is in the viewer's scope (an administrator's has none).
func (v *viewer) seesCampaign(id string) bool {
	return v.Role != accounts.RoleAdmin && v.Scope.HasCampaign(id)
}
