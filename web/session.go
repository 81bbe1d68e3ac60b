package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

const (
	sessionCookie = "drives_session"
	flashCookie   = "drives_flash"
	langCookie    = "drives_lang"
	sessionTTL    = 12 * time.Hour
)

// session is what the signed session cookie holds: who, until when, and a nonce from which
// the session's CSRF token is derived.
type session struct {
	User    string `json:"u"`
	Expires int64  `json:"e"`
	Nonce   string `json:"n"`
}

// signer signs cookies and derives CSRF tokens with a key of the server.
type signer struct{ key []byte }

func newSigner(key []byte) signer {
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	return signer{key: key}
}

func (s signer) mac(parts ...string) []byte {
	m := hmac.New(sha256.New, s.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}

func (s signer) encode(v session) string {
	body, _ := json.Marshal(v)
	b := base64.RawURLEncoding.EncodeToString(body)
	return b + "." + base64.RawURLEncoding.EncodeToString(s.mac("session", b))
}

func (s signer) decode(c string) (session, bool) {
	var v session
	b, sig, ok := strings.Cut(c, ".")
	if !ok {
		return v, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac("session", b)) {
		return v, false
	}
	body, err := base64.RawURLEncoding.DecodeString(b)
	if err != nil || json.Unmarshal(body, &v) != nil || time.Now().Unix() > v.Expires {
		return session{}, false
	}
	return v, true
}

// csrf is the session's CSRF token.
func (s signer) csrf(v session) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", v.User, v.Nonce))
}

func (s signer) checkCSRF(v session, token string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	return err == nil && token != "" && hmac.Equal(got, s.mac("csrf", v.User, v.Nonce))
}

func newSession(user string) session {
	var n [16]byte
	_, _ = rand.Read(n[:])
	return session{User: user, Expires: time.Now().Add(sessionTTL).Unix(), Nonce: base64.RawURLEncoding.EncodeToString(n[:])}
}

// viewer is the signed-in user of a request.
type viewer struct {
	Name   string
	Role   string
	CSRF   string // empty for bearer-token requests, which carry no cookie to forge
	Bearer bool
}

func (v *viewer) CanAct() bool { return v != nil && v.Role == RoleCoordinator }

// reqInfo is what the middleware learns of a request: who made it. The request passes down
// unchanged, so that the log sees the route pattern the mux set on it.
type reqInfo struct{ viewer *viewer }

type reqInfoKey struct{}

func viewerOf(ctx context.Context) *viewer {
	if i, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
		return i.viewer
	}
	return nil
}

func setViewer(r *http.Request, v *viewer) {
	if i, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
		i.viewer = v
	}
}

// flash is a one-time message shown on the page a POST redirects to.
type flash struct {
	Kind string `json:"k"` // ok | error
	Msg  string `json:"m"`
}

func setFlash(w http.ResponseWriter, f flash) {
	body, _ := json.Marshal(f)
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(body), Path: "/",
		MaxAge: 120, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// takeFlash reads and clears the flash message, if any.
func takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	body, err := base64.RawURLEncoding.DecodeString(c.Value)
	var f flash
	if err != nil || json.Unmarshal(body, &f) != nil || f.Msg == "" {
		return nil
	}
	return &f
}
