package codec

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/converter"
)

const (
	// MinTokenLength is the shortest bearer token the codec server accepts.
	MinTokenLength = 16
	// SessionCookie names the cookie /login sets for the Web UI (see ServerOptions).
	SessionCookie = "drives_codec_session"

	sessionTTL   = 12 * time.Hour
	maxBodyBytes = 64 << 20
)

// ServerOptions configures the codec server's HTTP handler.
type ServerOptions struct {
	// Token is the secret that /encode and /decode require as "Authorization: Bearer <token>"
	// (at least MinTokenLength characters).
	Token string
	// UIOrigins are the Web UI origins (scheme://host:port) that CORS lets call /encode and
	// /decode from a browser. At least one.
	UIOrigins []string
	// Now is the clock that session cookies expire by (nil: time.Now).
	Now func() time.Time
}

// NewHTTPHandler serves the codec for the Temporal Web UI and CLI (the remote codec protocol:
// POST …/encode and …/decode with JSON payloads):
//
//   - /encode and /decode need "Authorization: Bearer <Token>", or, from a browser page of a
//     UI origin, the session cookie that /login sets. The Web UI sends a bearer token only
//     when it has a login of its own (and over HTTPS), so a browser signs in once at /login
//     with the token, and the UI's codec settings include cross-origin credentials.
//   - CORS: the UI origins may call them with the headers Content-Type, Authorization and
//     X-Namespace, with credentials; preflights (OPTIONS) need no authentication; other
//     origins get no CORS headers.
//   - GET /healthz answers "ok" without authentication.
func NewHTTPHandler(c *Codec, opts ServerOptions) (http.Handler, error) {
	if c == nil {
		return nil, errors.New("codec server: no codec (DRIVES_CODEC_KEYS is not set)")
	}
	if opts.Token == "" {
		return nil, errors.New("codec server: no bearer token given")
	}
	if len(opts.Token) < MinTokenLength {
		return nil, fmt.Errorf("codec server: the bearer token is %d characters; use at least %d (random)", len(opts.Token), MinTokenLength)
	}
	if len(opts.UIOrigins) == 0 {
		return nil, errors.New("codec server: no Web UI origin given")
	}
	h := &server{
		codec:   converter.NewPayloadCodecHTTPHandler(c),
		token:   []byte(opts.Token),
		origins: map[string]bool{},
		now:     opts.Now,
	}
	if h.now == nil {
		h.now = time.Now
	}
	for _, o := range opts.UIOrigins {
		norm, err := NormalizeOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("codec server: Web UI origin %q: %w", o, err)
		}
		h.origins[norm] = true
		h.originList = append(h.originList, norm)
	}
	mac := hmac.New(sha256.New, h.token)
	mac.Write([]byte("drives-codec-session/v2"))
	h.sessionKey = mac.Sum(nil)
	return h, nil
}

// NormalizeOrigin checks that s is an origin, scheme://host[:port] with scheme http or https,
// and returns it in the form browsers send (lower case, no trailing slash).
func NormalizeOrigin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errors.New("want http://host:port or https://host:port")
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("want only scheme://host:port, no path")
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

type server struct {
	codec      http.Handler
	token      []byte
	sessionKey []byte // signs session cookies; derived from the token
	now        func() time.Time
	origins    map[string]bool
	originList []string
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == "/healthz":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	case path == "/login":
		s.login(w, r)
	case strings.HasSuffix(path, "/encode") || strings.HasSuffix(path, "/decode"):
		s.serveCodec(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *server) serveCodec(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	allowed := origin != "" && s.origins[strings.ToLower(origin)]
	w.Header().Add("Vary", "Origin")
	if r.Method == http.MethodOptions {
		s.preflight(w, r, origin, allowed)
		return
	}
	if allowed {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "method not allowed: POST payloads as JSON", http.StatusMethodNotAllowed)
		return
	}
	if !s.authorized(r, allowed) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="drives-codec"`)
		http.Error(w, "unauthorized: send Authorization: Bearer <codec token> (a browser signs in at /login)", http.StatusUnauthorized)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	s.codec.ServeHTTP(w, r)
}

// preflight answers a CORS preflight: the UI origins get the allowed methods and headers;
// others get no CORS headers, which makes the browser refuse the request.
func (s *server) preflight(w http.ResponseWriter, r *http.Request, origin string, allowed bool) {
	w.Header().Add("Vary", "Access-Control-Request-Method")
	w.Header().Add("Vary", "Access-Control-Request-Headers")
	if !allowed {
		http.Error(w, fmt.Sprintf("origin %q may not call the codec server (allowed: %s)", origin, strings.Join(s.originList, ", ")), http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Namespace")
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Max-Age", "600")
	// The UI and the codec server both run on loopback; Chrome asks before private-network calls.
	if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
		h.Set("Access-Control-Allow-Private-Network", "true")
	}
	w.WriteHeader(http.StatusNoContent)
}

// authorized: the bearer token, or the session cookie on a request from a UI origin.
func (s *server) authorized(r *http.Request, fromUI bool) bool {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, tok, ok := strings.Cut(auth, " ")
		return ok && strings.EqualFold(scheme, "Bearer") &&
			subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), s.token) == 1
	}
	if fromUI {
		if c, err := r.Cookie(SessionCookie); err == nil {
			return s.validSession(c.Value)
		}
	}
	return false
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drives codec server</title>
<style>body{font-family:sans-serif;max-width:40em;margin:3em auto;line-height:1.4}input{font-size:1em}</style></head>
<body><h1>Drives codec server</h1>
{{if .Message}}<p><strong>{{.Message}}</strong></p>{{end}}
{{if .SignedIn}}
<p>This browser may now decode payloads in the Temporal Web UI ({{range $i, $o := .Origins}}{{if $i}}, {{end}}<a href="{{$o}}">{{$o}}</a>{{end}}) for 12 hours.</p>
<p>In the Web UI, open <em>Configure Codec Server</em>, enter this server's address as the
browser endpoint, and tick <em>Include cross-origin credentials</em> and
<em>Use my browser setting and ignore …-level setting</em>.</p>
{{else}}
<form method="post" action="/login">
<p><label>Codec token (<code>.dev/codec-token</code>, or <code>DRIVES_CODEC_TOKEN</code>):<br>
<input type="password" name="token" size="50" autocomplete="off" autofocus></label></p>
<p><button type="submit">Sign in</button></p>
</form>
{{end}}
</body></html>
`))

type loginData struct {
	Message  string
	SignedIn bool
	Origins  []string
}

// login lets a browser exchange the token for the session cookie that the Web UI's
// cross-origin requests then carry.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	data := loginData{Origins: s.originList}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if c, err := r.Cookie(SessionCookie); err == nil && s.validSession(c.Value) {
			data.SignedIn, data.Message = true, "Signed in."
		}
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 4096)
		tok := strings.TrimSpace(r.PostFormValue("token"))
		if subtle.ConstantTimeCompare([]byte(tok), s.token) != 1 {
			w.WriteHeader(http.StatusUnauthorized)
			data.Message = "Wrong token."
			break
		}
		http.SetCookie(w, &http.Cookie{
			Name: SessionCookie, Value: s.newSession(), Path: "/",
			MaxAge: int(sessionTTL / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode,
			Secure: r.TLS != nil,
		})
		data.SignedIn, data.Message = true, "Signed in."
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	_ = loginPage.Execute(w, data)
}

// newSession makes a session cookie's value: its expiry (Unix seconds), a random nonce, and
// their signature, so that every sign-in has its own cookie and the server, not only the
// browser, ends it after sessionTTL.
func (s *server) newSession() string {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	payload := strconv.FormatInt(s.now().Add(sessionTTL).Unix(), 10) + "." + hex.EncodeToString(nonce[:])
	return payload + "." + s.sign(payload)
}

// validSession says a cookie's value is a session this server signed and not yet expired.
func (s *server) validSession(v string) bool {
	i := strings.LastIndexByte(v, '.')
	if i < 0 {
		return false
	}
	payload, sig := v[:i], v[i+1:]
	if subtle.ConstantTimeCompare([]byte(sig), []byte(s.sign(payload))) != 1 {
		return false
	}
	expStr, _, ok := strings.Cut(payload, ".")
	exp, err := strconv.ParseInt(expStr, 10, 64)
	return ok && err == nil && s.now().Unix() < exp
}

func (s *server) sign(payload string) string {
	mac := hmac.New(sha256.New, s.sessionKey)
	mac.Write([]byte(payload))
	return hex.EncodeToString(mac.Sum(nil))
}
