package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Sign-in attempts are limited per user name and per client address, each by a token bucket:
// a user name may fail signInUserBurst times at once and then once every signInUserEvery; an
// address signInAddrBurst times and then once every signInAddrEvery. While either bucket is
// empty, sign-ins of that name or from that address are answered 429 without checking the
// password. An attempt is taken before the check and given back when the password was right.
const (
	signInUserBurst = 5
	signInUserEvery = 20 * time.Second
	signInAddrBurst = 20
	signInAddrEvery = 3 * time.Second
	// signInKeys bounds the names and addresses remembered; past it, those whose buckets are
	// full again are forgotten, and while it stays full new ones wait.
	signInKeys = 100_000
	// signInWait is how long a sign-in waits for one of the password checks that may run at
	// once (bcrypt is made to be slow) before it is answered 503.
	signInWait = 5 * time.Second
)

// signInGuard keeps the buckets of failed sign-ins and bounds concurrent password checks.
type signInGuard struct {
	now    func() time.Time
	checks chan struct{}
	logKey []byte // keys the hashes of unknown names in the log

	mu    sync.Mutex
	users map[string]*rate.Limiter
	addrs map[string]*rate.Limiter
}

func newSignInGuard(now func() time.Time) *signInGuard {
	if now == nil {
		now = time.Now
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &signInGuard{now: now, checks: make(chan struct{}, max(2, runtime.GOMAXPROCS(0))), logKey: key,
		users: map[string]*rate.Limiter{}, addrs: map[string]*rate.Limiter{}}
}

// userKey is the bucket's key of a user name as typed: case and spaces aside, and cut short
// so that long names cannot grow the map's memory.
func userKey(name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// clientAddr is the address a request came from: the peer's, or, with TrustForwardedFor (the
// server is reached only through a proxy that appends the client's address), the last address
// of X-Forwarded-For. Without it, behind a proxy, every client shares the proxy's bucket.
func (s *Server) clientAddr(r *http.Request) string {
	if s.cfg.TrustForwardedFor {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			parts := strings.Split(xff[len(xff)-1], ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// logName is how the log names who tried to sign in: an account or a user of the users file by name; a
// name that is nobody's (a mistyped name, or a password typed into the name field) by a
// keyed hash of it, which tells the attempts of one name apart without writing it.
func (g *signInGuard) logName(known bool, name string) string {
	if known {
		return name
	}
	m := hmac.New(sha256.New, g.logKey)
	m.Write([]byte(userKey(name)))
	return "unknown:" + hex.EncodeToString(m.Sum(nil)[:6])
}

// attempt takes one attempt from the name's and the address's buckets before the password is
// checked, so that sign-ins sent at once cannot all pass a bucket that has one attempt left.
// It returns how long the sign-in must wait instead (zero: go on), and a function that gives
// the attempt back when the password was right.
func (g *signInGuard) attempt(name, addr string) (wait time.Duration, right func()) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	var taken []*rate.Reservation
	for _, b := range []struct {
		m     map[string]*rate.Limiter
		key   string
		every time.Duration
		burst int
	}{{g.users, userKey(name), signInUserEvery, signInUserBurst}, {g.addrs, addr, signInAddrEvery, signInAddrBurst}} {
		lim := b.m[b.key]
		if lim == nil {
			if len(b.m) >= signInKeys && !g.forget(b.m, now) {
				wait = max(wait, time.Minute)
				continue
			}
			lim = rate.NewLimiter(rate.Every(b.every), b.burst)
			b.m[b.key] = lim
		}
		r := lim.ReserveN(now, 1)
		taken = append(taken, r)
		wait = max(wait, r.DelayFrom(now))
	}
	giveBack := func(at time.Time) {
		for _, r := range taken {
			r.CancelAt(at)
		}
	}
	if wait > 0 {
		giveBack(now) // a sign-in that waits takes nothing
		return wait, nil
	}
	return 0, func() {
		now := g.now()
		g.mu.Lock()
		defer g.mu.Unlock()
		giveBack(now)
	}
}

// forget drops the buckets that are full again (their failures forgiven) and says whether
// that made room.
func (g *signInGuard) forget(m map[string]*rate.Limiter, now time.Time) bool {
	for k, lim := range m {
		if lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(m, k)
		}
	}
	return len(m) < signInKeys
}

// check runs a password check when one of the bounded slots is free; false: none came free
// in time.
func (g *signInGuard) check(r *http.Request, fn func()) bool {
	t := time.NewTimer(signInWait)
	defer t.Stop()
	select {
	case g.checks <- struct{}{}:
	case <-t.C:
		return false
	case <-r.Context().Done():
		return false
	}
	defer func() { <-g.checks }()
	fn()
	return true
}
