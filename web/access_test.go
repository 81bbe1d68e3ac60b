package web_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"drives/accounts"
	"drives/store"
	"drives/web"
)

// Every route is registered through Server.handle with an access rule: no call of the mux's
// Handle or HandleFunc stands anywhere else in the package. Shown failing by registering
// /healthz with s.mux.HandleFunc again: "web.go: s.mux.HandleFunc outside handle".
func TestEveryRouteHasAnAccessRule(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil || fn.Name.Name == "handle" {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc") {
					return true
				}
				if inner, ok := sel.X.(*ast.SelectorExpr); ok && inner.Sel.Name == "mux" {
					t.Errorf("%s: s.mux.%s outside handle, in %s: register routes with s.handle and an access rule",
						fset.Position(call.Pos()), sel.Sel.Name, fn.Name.Name)
				}
				return true
			})
		}
	}
	// What the rules must say: a change (anything but GET) is for the roles that act, signing
	// in and out and one's own password aside, and names a campaign in the scope. Shown failing
	// by declaring the imports route SignedIn.
	rules := web.RouteRules()
	assert.NotEmpty(t, rules)
	for _, r := range rules {
		switch {
		case r.Pattern == "POST /login":
			assert.Equal(t, web.Public, r.Access, r.Pattern)
		case r.Pattern == "POST /logout" || r.Pattern == "POST /password":
			assert.Equal(t, web.SignedIn, r.Access, r.Pattern)
		case r.Access == web.Field:
			assert.Contains(t, []web.Scope{web.NoData, web.AgentWork}, r.Scope, "%s is an agent's own", r.Pattern)
		case !strings.HasPrefix(r.Pattern, "GET "):
			assert.Contains(t, []web.Access{web.Decide, web.Schedule, web.Upload}, r.Access, "%s changes a campaign", r.Pattern)
			assert.Equal(t, web.InCampaign, r.Scope, r.Pattern)
		case strings.Contains(r.Pattern, "{id}"):
			assert.Contains(t, []web.Scope{web.InCampaign, web.InUnit, web.InAgent}, r.Scope, "%s shows a campaign's data", r.Pattern)
		}
	}
}

// scopeCase is a role as the route × role table signs in: its account's token and, for each
// kind of thing a route names, one in its scope and one outside it ("" where it has none).
type scopeCase struct {
	role, token       string
	whole             bool     // sees every unit of the campaign
	unitIn, unitOut   string   // a unit (commune)
	agentIn, agentOut string   // an agent
	eventIn, eventOut string   // an event
	foreign           []string // codes (quoted, as JSON writes them) no page of its scope names
}

// routeRoleTable is the route × role table, built from the router's own rules: every route,
// asked by nobody and by an account of every role (bearer tokens), in and out of the
// account's scope, answers as its rule says. Public routes answer everyone; the others refuse
// nobody (401, or a page's redirect to the sign-in form); a role the rule is not for is
// refused 403; an administrator sees no campaign (404); a unit, agent or event outside the
// scope answers 404, as one that does not exist, and a list or report of the scope names no
// unit or agent outside it. Shown failing by leaving out the guard's role check (the
// auditor's event was let through), by dropping the scope from the agents' query (the
// district officer's agents page named 00091 and 00094), by a unitInScope true for every
// unit (each scoped role's unit of another district or commune answered 200) and by a
// checkInScope that lets every agent through (the other district's agent's trace answered),
// and by linking every viewer's campaign to the Temporal Web UI (the district officer's pages
// linked to the whole campaign's histories). A download is read for its cells: shown failing
// by reading the report's agents for a download without the viewer's scope (the district
// officer's report.xlsx and report.csv named DL-00091-1).
// It runs in TestWeb, on its campaign.
func routeRoleTable(t *testing.T, s *site) {
	ctx := context.Background()
	st := &accounts.Store{DB: s.db}
	cases := []scopeCase{
		{role: "coordinator", whole: true, unitIn: "00001", unitOut: "00091", agentIn: "DL-00001-1", agentOut: "DL-00091-1",
			eventIn: "ba-dinh-conference", eventOut: "phu-thuong-dialogue"},
		{role: "auditor", whole: true, unitIn: "00001", unitOut: "00091", agentIn: "DL-00001-1", agentOut: "DL-00091-1"},
		{role: "district", unitIn: "00001", unitOut: "00091", agentIn: "DL-00001-1", agentOut: "DL-00091-1",
			eventIn: "ba-dinh-conference", eventOut: "phu-thuong-dialogue", foreign: []string{"00091", "00094", "00097", "DL-00091-1"}},
		{role: "commune", unitIn: "00001", unitOut: "00004", agentIn: "DL-00001-1", agentOut: "DL-00004-1",
			eventOut: "ba-dinh-conference", foreign: []string{"00004", "00091", "DL-00004-1", "DL-00091-1"}},
		{role: "agent", unitOut: "00001", agentIn: "DL-00001-1", agentOut: "DL-00001-2",
			foreign: []string{"DL-00001-2", "CB-00001", "00004", "00091"}},
		{role: "auditor-of-tay-ho", unitIn: "00091", unitOut: "00001", agentIn: "DL-00091-1", agentOut: "DL-00001-1",
			foreign: []string{"00001", "00004", "DL-00001-1"}},
		{role: "admin"},
	}
	specs := map[string]accounts.Spec{
		"coordinator":       {Role: accounts.RoleCoordinator},
		"auditor":           {Role: accounts.RoleAuditor},
		"district":          {Role: accounts.RoleDistrict, Districts: []string{"001"}},
		"commune":           {Role: accounts.RoleCommune, Communes: []string{"00001"}},
		"agent":             {Role: accounts.RoleAgent, Agent: "DL-00001-1", Campaign: campaignID},
		"auditor-of-tay-ho": {Role: accounts.RoleAuditor, Districts: []string{"003"}},
		"admin":             {Role: accounts.RoleAdmin},
	}
	for i := range cases {
		c := &cases[i]
		spec := specs[c.role]
		spec.Name, spec.Token = "table-"+c.role, "table-token-of-"+c.role+"-0123456789"
		_, err := st.Add(ctx, "test", spec)
		require.NoError(t, err, c.role)
		c.token = spec.Token
	}
	fill := strings.NewReplacer("{id}", campaignID, "{period}", "2021-Q1", "{lang}", "en", "{$}", "", "{file}", "app.js")
	rules := web.RouteRules()
	cells := 0
	for _, rule := range rules {
		method, pattern, ok := strings.Cut(rule.Pattern, " ")
		require.True(t, ok, "pattern %q has no method", rule.Pattern)
		// nobody
		cells++
		t.Run(rule.Pattern+" as nobody", func(t *testing.T) {
			res := s.api(method, path(pattern, fill, "00001", "DL-00001-1", "ba-dinh-conference"), "", jsonType(method), body(rule.Pattern, "", ""))
			if rule.Access == web.Public {
				assert.False(t, refusedNobody(res) || res.StatusCode == http.StatusForbidden, "status %d: %s", res.StatusCode, res.Body)
			} else {
				assert.True(t, refusedNobody(res), "status %d: %s", res.StatusCode, res.Body)
			}
		})
		for _, c := range cases {
			for _, in := range []bool{true, false} {
				unit, agent, event := c.unitIn, c.agentIn, c.eventIn
				if !in {
					unit, agent, event = c.unitOut, c.agentOut, c.eventOut
				}
				// What the route names of the scope, and whether it lies in it.
				named, inScope := "", true
				switch {
				case rule.Scope == web.InUnit || rule.Pattern == "POST /api/campaigns/{id}/events":
					named = unit
				case rule.Scope == web.InAgent || strings.HasSuffix(rule.Pattern, "/decisions"):
					named = agent
				case strings.HasSuffix(rule.Pattern, "/cancel"):
					named = event
				default:
					if !in {
						continue // a route that names nothing of the scope has no cell outside it
					}
					named = "-"
				}
				if named == "" {
					if in {
						continue // nothing of this kind lies in the role's scope
					}
					named = "00091" // the role's scope has none of its own: any is outside
				}
				inScope = in || c.whole
				u, a, e := named, named, named
				where := map[bool]string{true: "in scope", false: "out of scope"}[in]
				cells++
				t.Run(fmt.Sprintf("%s as %s %s", rule.Pattern, c.role, where), func(t *testing.T) {
					res := s.api(method, path(pattern, fill, u, a, e), c.token, jsonType(method), body(rule.Pattern, u, a))
					allowed := rule.Access == web.Public || rule.Access == web.SignedIn ||
						(rule.Access == web.Decide && (c.role == "coordinator" || c.role == "district")) ||
						(rule.Access == web.Schedule && (c.role == "coordinator" || c.role == "district" || c.role == "commune")) ||
						(rule.Access == web.Upload && c.role == "coordinator") ||
						(rule.Access == web.Field && c.role == "agent")
					switch {
					case rule.Access == web.Public:
						assert.False(t, refusedNobody(res) || res.StatusCode == http.StatusForbidden, "status %d: %s", res.StatusCode, res.Body)
					case !allowed:
						assert.Equal(t, http.StatusForbidden, res.StatusCode, res.Body)
					case rule.Scope == web.NoData:
						assert.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}, res.StatusCode, res.Body)
						assert.Less(t, res.StatusCode, 500, res.Body)
					case rule.Scope == web.CampaignList:
						require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
						listed := strings.Contains(res.Body, `"id": "`+campaignID+`"`)
						assert.Equal(t, c.role != "admin", listed, "the campaign is listed: %s", res.Body)
					case c.role == "admin" || !inScope:
						assert.Equal(t, http.StatusNotFound, res.StatusCode, res.Body)
					default:
						assert.NotContains(t, []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound}, res.StatusCode, res.Body)
						assert.Less(t, res.StatusCode, 500, res.Body)
						if method == http.MethodGet && res.StatusCode == http.StatusOK {
							body := res.Body
							if isDownload(pattern) { // its cells, quoted as JSON's strings are
								body = readDownload(t, pattern, body).quoted()
							}
							for _, f := range c.foreign {
								assert.NotContains(t, body, `"`+f+`"`, "a page of %s's scope names %s", c.role, f)
							}
							if !c.whole { // the Web UI shows the whole campaign: no links to it
								assert.NotContains(t, res.Body, temporalUI, "a page of %s's scope links to the Web UI", c.role)
							}
						}
					}
				})
			}
		}
	}
	t.Logf("%d routes; %d cells (nobody, and %d roles in and out of their scope)", len(rules), cells, len(cases))
}

// path fills a route's pattern: the campaign, and the unit, agent or event it names.
func path(pattern string, fill *strings.Replacer, unit, agent, event string) string {
	p := fill.Replace(pattern)
	if strings.Contains(p, "/trace/agent/") {
		p = strings.ReplaceAll(p, "{code}", agent)
	}
	p = strings.ReplaceAll(strings.ReplaceAll(p, "{code}", unit), "{event}", event)
	if strings.HasSuffix(p, "/static/") {
		p += "style.css"
	}
	// A page's JSON twin, so that its body can be read for what it names (a download is read
	// as it is: its cells).
	if !strings.HasPrefix(p, "/api/") && !isDownload(p) && (strings.HasPrefix(p, "/campaigns/") || p == "/") {
		if p == "/" {
			return "/api/campaigns"
		}
		p = "/api" + p
	}
	return p
}

func jsonType(method string) string {
	if method == http.MethodPost {
		return "application/json"
	}
	return ""
}

// body is a change's request: it names the unit (an event's) or the agent (a decision's),
// and is refused by the change's own checks when let through (no date, no reason).
func body(pattern, unit, agent string) io.Reader {
	switch {
	case !strings.HasPrefix(pattern, "POST /api/"):
		return strings.NewReader("")
	case strings.HasSuffix(pattern, "/events"):
		return strings.NewReader(fmt.Sprintf(`{"unit": %q}`, unit))
	case strings.HasSuffix(pattern, "/decisions"):
		return strings.NewReader(fmt.Sprintf(`{"agent": %q, "decision": "approve"}`, agent))
	}
	return strings.NewReader("{}")
}

// refusedNobody says a request was refused for want of a sign-in (not the sign-in form's own
// 401 for a wrong password).
func refusedNobody(res response) bool {
	return (res.StatusCode == http.StatusUnauthorized &&
		(res.Header.Get("WWW-Authenticate") != "" || strings.Contains(res.Body, "sign in first"))) ||
		(res.StatusCode == http.StatusSeeOther && strings.HasPrefix(res.Header.Get("Location"), "/login?"))
}

// An account of every campaign bound to a district a campaign does not have (one of another
// city's) finds nothing of it: the campaign is not listed, and its pages answer 404 as for a
// campaign that does not exist. Shown failing by a scopeUnits that keeps every code (the
// campaign page answered 500: the report has no unit 271).
func partOfAnotherCity(t *testing.T, s *site) {
	const token = "token-of-an-officer-of-ba-vi-0123456789"
	// Made in the table directly: `starter users add` refuses a district no campaign has.
	require.NoError(t, store.InsertAccount(context.Background(), s.db, store.Account{Name: "ba-vi", Role: accounts.RoleDistrict,
		Districts: []string{"271"}, TokenSHA256: accounts.TokenHash(token)}))
	res := s.api(http.MethodGet, "/api/campaigns", token, "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	assert.NotContains(t, res.Body, campaignID)
	for _, p := range []string{"", "/agents", "/reviews", "/events", "/imports", "/units/001", "/trace/agent/DL-00001-1"} {
		res := s.api(http.MethodGet, "/api/campaigns/"+campaignID+p, token, "", nil)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, "%s: %s", p, res.Body)
	}
}
