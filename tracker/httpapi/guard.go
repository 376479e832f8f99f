package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker/app"
)

// Guard puts another face served beside the API (the web board, mounted at
// "/") behind the API's rules: the same tokens, loopback rule, rate limit
// per client, body size limit and cross-site checks. GET and HEAD need
// the read role, other methods the write role. A browser asking for a
// page without a working token gets the sign-in form (see Session) with
// the 401. The handler finds who acts
// in its request's context (es.MetadataFrom(r.Context()).Actor), as every
// app.Service call made with that context records it.
func (s *Server) Guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		need := app.RoleWrite
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			need = app.RoleRead
		}
		who, err := s.authenticate(r)
		if err != nil {
			if !s.lim.allow("addr:" + clientHost(r.RemoteAddr)) {
				err = s.tooMany()
			}
			if ae := (*apiError)(nil); errors.As(err, &ae) && ae.status == http.StatusUnauthorized && need == app.RoleRead &&
				strings.Contains(r.Header.Get("Accept"), "text/html") {
				// A person's browser: the sign-in form, still as a 401.
				sessionPage(w, ae.status, true, ae.msg)
				return
			}
			writeError(w, err)
			return
		}
		switch {
		case !s.lim.allow(who.key):
			writeError(w, s.tooMany())
			return
		case !who.role.Allows(need):
			writeError(w, apiErr(http.StatusForbidden, "forbidden", "%s's token has role %s: it may not %s", who.actor, who.role, verb(need)))
			return
		case need == app.RoleWrite:
			if err := checkWriter(r, who); err != nil {
				writeError(w, err)
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
		ctx := es.WithMetadata(r.Context(), es.Metadata{Actor: who.actor, CorrelationID: es.NewEventID().String()})
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
