package web_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	// What the rules must say: a change (anything but GET) is a coordinator's, signing in and
	// out aside. Shown failing by declaring the imports route SignedIn.
	rules := web.RouteRules()
	assert.NotEmpty(t, rules)
	for _, r := range rules {
		switch {
		case r.Pattern == "POST /login":
			assert.Equal(t, web.Public, r.Access, r.Pattern)
		case r.Pattern == "POST /logout":
			assert.Equal(t, web.SignedIn, r.Access, r.Pattern)
		case !strings.HasPrefix(r.Pattern, "GET "):
			assert.Equal(t, web.Coordinator, r.Access, "%s changes a campaign", r.Pattern)
		}
	}
}

// routeRoleTable is the route × role table, built from the router's own rules: every route, asked by nobody,
// an auditor and a coordinator (bearer tokens), answers as its rule says. Public routes answer
// everyone; signed-in routes refuse nobody (401, or a page's redirect to the sign-in form) and
// answer both roles; coordinator routes refuse nobody, refuse auditors 403, and are open to
// coordinators (who get the action's own answer: with an empty body, a refusal in words).
// Scopes (units, campaigns) are not yet part of the rules. Shown failing by leaving out the
// guard's role check: every coordinator route took the auditor's request.
// It runs in TestWeb, on its campaign.
func routeRoleTable(t *testing.T, s *site) {
	tokens := map[string]string{"nobody": "", "auditor": "auditor-api-token-0123456789", "coordinator": coordToken}
	fill := strings.NewReplacer("{id}", campaignID, "{event}", "ba-dinh-conference", "{period}", "2021-Q1",
		"{lang}", "en", "{$}", "")
	rules := web.RouteRules()
	cells := 0
	for _, rule := range rules {
		method, path, ok := strings.Cut(rule.Pattern, " ")
		require.True(t, ok, "pattern %q has no method", rule.Pattern)
		code := "00001"
		if strings.Contains(path, "/trace/agent/") {
			code = "DL-00001-1"
		}
		path = strings.ReplaceAll(fill.Replace(path), "{code}", code)
		if strings.HasSuffix(path, "/static/") {
			path += "style.css"
		}
		for role, token := range tokens {
			cells++
			t.Run(rule.Pattern+" as "+role, func(t *testing.T) {
				body, ctype := "", ""
				if method == http.MethodPost {
					body, ctype = "{}", "application/json"
				}
				res := s.api(method, path, token, ctype, strings.NewReader(body))
				// Refused for want of a sign-in (not the sign-in form's own 401 for a wrong password).
				refusedNobody := (res.StatusCode == http.StatusUnauthorized &&
					(res.Header.Get("WWW-Authenticate") != "" || strings.Contains(res.Body, "sign in first"))) ||
					(res.StatusCode == http.StatusSeeOther && strings.HasPrefix(res.Header.Get("Location"), "/login?"))
				switch {
				case rule.Access == web.Public:
					assert.False(t, refusedNobody || res.StatusCode == http.StatusForbidden, "status %d: %s", res.StatusCode, res.Body)
				case role == "nobody":
					assert.True(t, refusedNobody, "status %d: %s", res.StatusCode, res.Body)
				case rule.Access == web.Coordinator && role == "auditor":
					assert.Equal(t, http.StatusForbidden, res.StatusCode, res.Body)
				default:
					assert.False(t, refusedNobody, "status %d: %s", res.StatusCode, res.Body)
					assert.NotEqual(t, http.StatusForbidden, res.StatusCode, res.Body)
					assert.Less(t, res.StatusCode, 500, res.Body)
				}
			})
		}
	}
	t.Logf("%d routes × %d roles = %d cells", len(rules), len(tokens), cells)
}
