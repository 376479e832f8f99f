package httpapi

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// Signing in from a browser. A browser cannot add a bearer header to a
// link or to the board's live stream (EventSource), so a person on another
// machine signs in once: POST /login with a token's secret stores it in a
// cookie that Guard and the API accept as they accept the header. The
// cookie is HttpOnly (no script reads it), SameSite=Strict (no other
// site's page makes the browser send it), Secure over HTTPS, and lasts
// until the browser closes or the person signs out; revoking the token
// ends it too, as the secret is checked on every request.

// CookieName is the name of the session cookie, which holds a token's
// secret.
const CookieName = "jerry_token"

// Session returns the handler of the sign-in pages, to be mounted beside
// the API and the board at /login and /logout, outside Guard:
//
//	GET  /login   a form asking for a token's secret
//	POST /login   token=SECRET (a form): sets the session cookie and
//	              sends the browser to /; 401 and the form again for an
//	              unknown or revoked token
//	GET  /logout  a form with one button
//	POST /logout  clears the session cookie and sends the browser to /login
//
// Sign-in attempts share the rate limit of the client's address, as failed
// token attempts do elsewhere, and its body the API's size limit.
func (s *Server) Session() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimSuffix(r.URL.Path, "/")
		if path != "/login" && path != "/logout" {
			writeError(w, apiErr(http.StatusNotFound, "not_found", "no page at %s", r.URL.Path))
			return
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead:
			sessionPage(w, http.StatusOK, path == "/login", "")
		case http.MethodPost:
			if !s.lim.allow("addr:" + clientHost(r.RemoteAddr)) {
				writeError(w, s.tooMany())
				return
			}
			if err := ownPage(r); err != nil {
				writeError(w, err)
				return
			}
			if path == "/login" {
				s.login(w, r)
			} else {
				http.SetCookie(w, sessionCookie(r, "", -1))
				http.Redirect(w, r, "/login", http.StatusSeeOther)
			}
		default:
			w.Header().Set("Allow", "GET, HEAD, POST")
			writeError(w, apiErr(http.StatusMethodNotAllowed, "method_not_allowed", "%s is not allowed here: use GET or POST", r.Method))
		}
	})
}

// login checks the secret a sign-in form sent, and on success stores it in
// the session cookie.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	// As for the API's writes: a slow sender cannot hold the goroutine.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.opts.BodyTimeout)) // ErrNotSupported: no deadline to keep
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
	if err := r.ParseForm(); err != nil {
		writeError(w, apiErr(http.StatusBadRequest, "invalid_input", "unreadable sign-in form: %v", err))
		return
	}
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	if secret == "" {
		sessionPage(w, http.StatusUnauthorized, true, "Give a token's secret (jerry token create prints it).")
		return
	}
	if _, err := s.byToken(r.Context(), secret, "token"); err != nil {
		if e := (*apiError)(nil); errors.As(err, &e) && e.status == http.StatusUnauthorized {
			sessionPage(w, http.StatusUnauthorized, true, "Unknown or revoked token.")
			return
		}
		writeError(w, err)
		return
	}
	http.SetCookie(w, sessionCookie(r, secret, 0))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// sessionCookie is the session cookie holding secret; maxAge -1 deletes it.
func sessionCookie(r *http.Request, secret string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: CookieName, Value: secret, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		// Behind a proxy that ends TLS the request itself is plain HTTP.
		Secure: r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"),
	}
}

var sessionTmpl = template.Must(template.New("session").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Jerry: {{if .Login}}sign in{{else}}sign out{{end}}</title></head>
<body><main>
{{if .Login}}<h1>Sign in to Jerry</h1>
{{with .Message}}<p role="alert">{{.}}</p>{{end}}
<form method="post" action="/login"><label>Token <input type="password" name="token" autocomplete="off" required autofocus></label> <button>Sign in</button></form>
{{else}}<h1>Sign out of Jerry</h1>
<form method="post" action="/logout"><button>Sign out</button></form>
{{end}}</main></body></html>
`))

// sessionPage writes the sign-in (login) or sign-out page.
func sessionPage(w http.ResponseWriter, status int, login bool, message string) {
	var buf bytes.Buffer
	if err := sessionTmpl.Execute(&buf, struct {
		Login   bool
		Message string
	}{login, message}); err != nil {
		writeError(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
