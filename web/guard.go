package web

import (
	"math"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Failed sign-ins are limited per user name and per client address, each by a token bucket:
// a user name may fail signInUserBurst times at once and then once every signInUserEvery; an
// address signInAddrBurst times and then once every signInAddrEvery. While either bucket is
// empty, sign-ins of that name or from that address are answered 429 without checking the
// password. A right password takes nothing from the buckets.
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

	mu    sync.Mutex
	users map[string]*rate.Limiter
	addrs map[string]*rate.Limiter
}

func newSignInGuard(now func() time.Time) *signInGuard {
	if now == nil {
		now = time.Now
	}
	return &signInGuard{now: now, checks: make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
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

// clientAddr is the address a request came from (the peer's; behind a proxy, the proxy's).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// wait says how long a sign-in of name from addr must wait before its password is checked;
// zero: now.
func (g *signInGuard) wait(name, addr string) time.Duration {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	var d time.Duration
	for _, b := range []struct {
		m   map[string]*rate.Limiter
		key string
	}{{g.users, userKey(name)}, {g.addrs, addr}} {
		lim := b.m[b.key]
		if lim == nil {
			if len(b.m) >= signInKeys && !g.forget(b.m, now) {
				d = max(d, time.Minute)
			}
			continue
		}
		if tokens := lim.TokensAt(now); tokens < 1 {
			d = max(d, time.Duration(math.Ceil((1-tokens)/float64(lim.Limit())*1e9)))
		}
	}
	return d
}

// failed takes one attempt from the name's and the address's buckets.
func (g *signInGuard) failed(name, addr string) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	take := func(m map[string]*rate.Limiter, key string, every time.Duration, burst int) {
		lim := m[key]
		if lim == nil {
			lim = rate.NewLimiter(rate.Every(every), burst)
			m[key] = lim
		}
		lim.AllowN(now, 1)
	}
	take(g.users, userKey(name), signInUserEvery, signInUserBurst)
	take(g.addrs, addr, signInAddrEvery, signInAddrBurst)
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
