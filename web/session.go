package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"drives/store"
)

const (
	sessionCookie = "drives_session"
	flashCookie   = "drives_flash"
	langCookie    = "drives_lang"
	sessionTTL    = 12 * time.Hour
)

// A session cookie holds 32 random bytes (base64url); the server keeps the session under
// their SHA-256 (store.CreateWebSession), with its user, expiry and CSRF token.
const sessionIDLen = 43

// newSessionID makes a session cookie's value, the hash it is kept under, and the session's
// CSRF token.
func newSessionID() (cookie string, hash []byte, csrf string) {
	cookie = randomToken(32)
	sum := sha256.Sum256([]byte(cookie))
	return cookie, sum[:], randomToken(32)
}

// sessionHash is the hash a cookie's session is kept under; false: the cookie cannot be one.
func sessionHash(cookie string) ([]byte, bool) {
	if len(cookie) != sessionIDLen {
		return nil, false
	}
	if _, err := base64.RawURLEncoding.DecodeString(cookie); err != nil {
		return nil, false
	}
	sum := sha256.Sum256([]byte(cookie))
	return sum[:], true
}

// sameToken compares a CSRF token in constant time; an empty one never matches.
func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// viewer is the signed-in user of a request.
type viewer struct {
	Name  string
	Role  string
	Scope store.Scope
	// MustChange: signed in with a one-time password, which they must replace first.
	MustChange bool
	CSRF       string // empty for bearer-token requests, which carry no cookie to forge
	Bearer     bool
}

// CanAct says the viewer may decide terminations (the reviews page's forms).
func (v *viewer) CanAct() bool { return v != nil && v.may(Decide) }

// CanSchedule says the viewer may add and cancel events (the events page's forms).
func (v *viewer) CanSchedule() bool { return v != nil && v.may(Schedule) }

// CanUpload says the viewer may import enrolments (the imports page's form).
func (v *viewer) CanUpload() bool { return v != nil && v.may(Upload) }

// ReadOnly says the viewer changes nothing.
func (v *viewer) ReadOnly() bool { return !v.CanAct() && !v.CanSchedule() && !v.CanUpload() }

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
