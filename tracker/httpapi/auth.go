package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/jerry-es/jerry/tracker/app"
)

// principal is who sends a request: the actor its events record, its
// role, and the key its rate limit is kept under.
type principal struct {
	actor string
	role  app.Role
	token string // the token's ID, "" without one
	key   string // rate limit key
	// cookie says the token came in the session cookie, which a browser
	// sends by itself: its writes are checked for another site's origin.
	cookie bool
}

// authenticate finds who sends r: the bearer token's actor, else the
// session cookie's (see Session), else the local user for a loopback
// client.
func (s *Server) authenticate(r *http.Request) (principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
			who, err := s.byToken(r.Context(), c.Value, "session cookie")
			who.cookie = true
			return who, err
		}
		if !loopback(r) {
			return principal{}, apiErr(http.StatusUnauthorized, "unauthorized", "a bearer token is required from %s (only loopback clients may omit it; a browser signs in at /login)", clientHost(r.RemoteAddr))
		}
		return principal{actor: s.opts.Actor, role: app.RoleAdmin, key: "addr:" + clientHost(r.RemoteAddr)}, nil
	}
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return principal{}, apiErr(http.StatusUnauthorized, "unauthorized", `malformed Authorization header: want "Bearer TOKEN"`)
	}
	return s.byToken(r.Context(), strings.TrimSpace(secret), "token")
}

// byToken finds the working token whose secret is secret; what names
// where it came from in the error.
func (s *Server) byToken(ctx context.Context, secret, what string) (principal, error) {
	t, err := s.svc.Authenticate(ctx, secret)
	if errors.Is(err, app.ErrUnauthorized) {
		return principal{}, apiErr(http.StatusUnauthorized, "unauthorized", "unknown or revoked %s", what)
	}
	if err != nil {
		return principal{}, err
	}
	return principal{actor: t.Actor, role: t.Role, token: t.ID, key: "token:" + t.ID}, nil
}

// proxyHeaders are the headers a reverse proxy adds to name the client it
// forwards for.
var proxyHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"}

// loopback reports whether r comes from the machine itself. A request
// that a proxy forwarded does not, even though the proxy connects from
// loopback: behind nginx on the same machine, every client on the
// internet would otherwise be the local user.
func loopback(r *http.Request) bool {
	for _, h := range proxyHeaders {
		if _, ok := r.Header[http.CanonicalHeaderKey(h)]; ok {
			return false
		}
	}
	a, err := netip.ParseAddr(clientHost(r.RemoteAddr))
	return err == nil && a.Unmap().IsLoopback()
}

func clientHost(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}

// limiters keeps a token bucket per client. Buckets idle for a while are
// dropped, so that many clients do not grow it without bound.
type limiters struct {
	limit rate.Limit
	burst int

	mu    sync.Mutex
	m     map[string]*bucket
	swept time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

func newLimiters(limit rate.Limit, burst int) *limiters {
	return &limiters{limit: limit, burst: burst, m: map[string]*bucket{}, swept: time.Now()}
}

// allow reports whether the client key may make a request now.
func (l *limiters) allow(key string) bool {
	if l.limit == rate.Inf {
		return true
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.m {
			if now.Sub(b.used) > time.Minute {
				delete(l.m, k)
			}
		}
		l.swept = now
	}
	b := l.m[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.m[key] = b
	}
	b.used = now
	return b.lim.AllowN(now, 1)
}

// checkWriter refuses a write that a page of another site could have made
// the browser send: one without a token (sameOrigin), or one whose token
// came in the session cookie (ownPage). A bearer token is never sent by a
// browser on its own, so a request with one is the client's own.
func checkWriter(r *http.Request, who principal) error {
	switch {
	case who.token == "":
		return sameOrigin(r)
	case who.cookie:
		return ownPage(r)
	}
	return nil
}

// ownPage refuses a request that the browser says comes from a page other
// than this server's. The session cookie is SameSite=Strict, so another
// site's page cannot send it; this also refuses a sibling host of the same
// site (SameSite lets those through).
func ownPage(r *http.Request) error {
	forbid := func(why string) error {
		return apiErr(http.StatusForbidden, "forbidden", "a write with the session cookie must come from this server's own pages: %s", why)
	}
	if sf := r.Header.Get("Sec-Fetch-Site"); sf != "" && sf != "same-origin" && sf != "none" {
		return forbid(fmt.Sprintf("the browser says it is %s", sf))
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return forbid(fmt.Sprintf("Origin %q is not this server", o))
		}
	}
	return nil
}

// sameOrigin refuses a write without a token that a web page of another
// site could have made the browser send: the loopback client that may omit
// a token is the local user, not every site the user's browser visits. The
// browser names the page's origin (Origin, Sec-Fetch-Site), and the Host it
// asked for must be a loopback name, not a name of the attacker's that
// resolves to 127.0.0.1.
func sameOrigin(r *http.Request) error {
	forbid := func(why string) error {
		return apiErr(http.StatusForbidden, "forbidden", "a write without a token must come from this machine's own pages: %s", why)
	}
	if !LoopbackHost(r.Host) {
		return forbid(fmt.Sprintf("Host %q is not a loopback address", r.Host))
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return forbid("the browser says it is cross-site")
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return forbid(fmt.Sprintf("Origin %q is not this server", o))
		}
	}
	return nil
}

// LoopbackHost reports whether host (a Host header or a listen address,
// with or without a port) names this machine by a loopback name or
// address. An empty host, which listens on every interface, is not.
func LoopbackHost(host string) bool {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.Unmap().IsLoopback()
}
