package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker/app"
)

// answerTimeout is how long a client may take to take an answer (see
// prepare).
const answerTimeout = 2 * time.Minute

// call is one request as a handler sees it.
type call struct {
	r    *http.Request
	w    http.ResponseWriter // for a route that streams its answer
	who  principal
	body []byte // a write's whole body, read before the handler runs
	// exp is the write's condition: es.Any, or If-Match's exact version.
	exp     es.ExpectedVersion
	ifMatch bool

	svc         *app.Service
	key         string // the Idempotency-Key of a write, "" without one
	fingerprint string
	ticket      *app.RequestTicket // set once begin let a keyed write run
}

// replayed is the stored reply of a write sent again with its
// Idempotency-Key.
type replayed struct{ reply app.Reply }

func (replayed) Error() string { return "replayed" }

// begin is called by every write once it has parsed its request, before it
// writes. With an Idempotency-Key it starts the request in the store
// (app.Service.BeginRequest): a repeat ends here with the first reply, and
// the first run goes on with a context that derives its event IDs from the
// key. A request that fails before begin writes nothing, not even its key.
func (c *call) begin(ctx context.Context) (context.Context, error) {
	if c.key == "" {
		return ctx, nil
	}
	ctx, t, reply, err := c.svc.BeginRequest(ctx, c.key, c.fingerprint)
	if err != nil {
		return ctx, err
	}
	if reply != nil {
		return ctx, replayed{*reply}
	}
	c.ticket = t
	return ctx, nil
}

// result is a handler's answer: a status and a document; a document with
// a "version" field gives the ETag.
type result struct {
	status int
	body   any
	// streamed says the handler wrote its answer itself.
	streamed bool
}

type handlerFunc func(ctx context.Context, c *call) (result, error)

// route is one path with a handler per method.
type route struct {
	methods map[string]endpoint
}

type endpoint struct {
	need app.Role
	h    handlerFunc
}

// handle registers h for method and path (a ServeMux pattern without the
// method). GET needs the read role; everything else writes.
func (s *Server) handle(method, path string, h handlerFunc) {
	need := app.RoleWrite
	if method == http.MethodGet {
		need = app.RoleRead
	}
	rt, ok := s.routeTable[path]
	if !ok {
		rt = &route{methods: map[string]endpoint{}}
		s.routeTable[path] = rt
		s.mux.Handle(path, s.dispatch(rt))
	}
	rt.methods[method] = endpoint{need: need, h: h}
}

// dispatch runs a route: method, authentication, rate limit, role, body,
// conditions, idempotency, then the handler.
func (s *Server) dispatch(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep, ok := rt.methods[r.Method]
		if !ok {
			allowed := make([]string, 0, len(rt.methods))
			for m := range rt.methods {
				allowed = append(allowed, m)
			}
			slices.Sort(allowed)
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeError(w, apiErr(http.StatusMethodNotAllowed, "method_not_allowed", "%s is not allowed here: use %s", r.Method, strings.Join(allowed, " or ")))
			return
		}
		c, err := s.prepare(w, r, ep.need)
		if err != nil {
			writeError(w, err)
			return
		}
		ctx := es.WithMetadata(r.Context(), es.Metadata{Actor: c.who.actor, CorrelationID: es.NewEventID().String()})
		if c.r.URL.Query().Get("force") == "true" {
			ctx = app.Force(ctx)
		}
		res, err := ep.h(ctx, c)
		var rp replayed
		if errors.As(err, &rp) {
			writeReply(w, rp.reply.Code, rp.reply.Body, true)
			return
		}
		if res.streamed {
			return
		}
		var status int
		var body []byte
		if err != nil {
			status, body = problem(err)
		} else {
			status, body = encodeResult(res)
		}
		if c.ticket != nil && status < 500 {
			// The reply is stored even if the client has gone. A reply
			// that cannot be stored is still this request's answer; a
			// server error is not stored at all: whether the write
			// happened is then found out by a repeat (see
			// app.Service.BeginRequest), not fixed by a failure that
			// may pass.
			_ = s.svc.FinishRequest(context.WithoutCancel(ctx), c.ticket, app.Reply{Code: status, Body: body})
		}
		writeReply(w, status, body, false)
	})
}

// prepare checks everything about a request before its handler runs;
// nothing has been written when it fails.
func (s *Server) prepare(w http.ResponseWriter, r *http.Request, need app.Role) (*call, error) {
	who, err := s.authenticate(r)
	if err != nil {
		// Failed attempts count against the address: guessing is slow.
		if !s.lim.allow("addr:" + clientHost(r.RemoteAddr)) {
			return nil, s.tooMany()
		}
		return nil, err
	}
	if !s.lim.allow(who.key) {
		return nil, s.tooMany()
	}
	if !who.role.Allows(need) {
		return nil, apiErr(http.StatusForbidden, "forbidden", "%s's token has role %s: it may not %s", who.actor, who.role, verb(need))
	}
	q := r.URL.Query()
	if f := q.Get("force"); q.Has("force") && f != "true" && f != "false" {
		return nil, app.Usagef("force=%q: want true or false", f)
	}
	if q.Get("force") == "true" && !who.role.Allows(app.RoleAdmin) {
		return nil, apiErr(http.StatusForbidden, "forbidden", "force needs a token with role admin; %s's has %s", who.actor, who.role)
	}
	if need == app.RoleWrite {
		if err := onlyParams(q); err != nil {
			return nil, err
		}
		if err := checkWriter(r, who); err != nil {
			return nil, err
		}
	}
	c := &call{r: r, w: w, who: who, exp: es.Any, svc: s.svc}
	// A client gets Options.BodyTimeout to send its body and
	// answerTimeout to take the answer, so that slow ones cannot hold the server's
	// goroutines; the event stream lifts the second (http.Server's own
	// ReadTimeout and WriteTimeout would end every stream).
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.opts.BodyTimeout))
	_ = rc.SetWriteDeadline(time.Now().Add(answerTimeout))
	r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
	if c.body, err = io.ReadAll(r.Body); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, apiErr(http.StatusRequestTimeout, "timeout", "the request body did not arrive within %s", s.opts.BodyTimeout)
		}
		return nil, err
	}
	_ = rc.SetReadDeadline(time.Time{})
	if len(c.body) > 0 && need != app.RoleWrite {
		return nil, app.Usagef("%s takes no body", r.Method)
	}
	// A write's body is JSON; so is its declared type even when it is
	// empty, so that a form on another site cannot post to a local server.
	if ct := r.Header.Get("Content-Type"); need == app.RoleWrite && (len(c.body) > 0 || ct != "") {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return nil, apiErr(http.StatusUnsupportedMediaType, "unsupported_media_type", "Content-Type %q: send application/json", ct)
		}
	}
	if im := r.Header.Get("If-Match"); im != "" {
		v, err := parseETag(im)
		if err != nil {
			return nil, err
		}
		if need != app.RoleWrite {
			return nil, app.Usagef("If-Match is for writes")
		}
		c.exp, c.ifMatch = es.Exact(v), true
	}
	if key := r.Header.Get("Idempotency-Key"); key != "" && need == app.RoleWrite {
		if len(key) > 200 || strings.ContainsFunc(key, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			return nil, app.Usagef("Idempotency-Key: want 1 to 200 visible ASCII characters")
		}
		sum := sha256.Sum256(c.body)
		c.key = key
		c.fingerprint = fmt.Sprintf("%s %s?%s if-match=%s body=%s", r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("If-Match"), hex.EncodeToString(sum[:]))
	}
	return c, nil
}

func verb(need app.Role) string {
	if need == app.RoleAdmin {
		return "force writes"
	}
	return "write"
}

// parseETag reads If-Match: a version, quoted as ETag gives it ("7") or
// bare (7).
func parseETag(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimPrefix(t, "W/")
	if len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' {
		t = t[1 : len(t)-1]
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v < 0 {
		return 0, app.Usagef("If-Match %q: want a version, as ETag gives it (\"7\")", s)
	}
	return v, nil
}

func encodeResult(res result) (int, []byte) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res.body); err != nil {
		return problem(err)
	}
	status := res.status
	if status == 0 {
		status = http.StatusOK
	}
	return status, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// writeReply writes a status and a JSON document, with the ETag of a
// document that has a version (and its Location, for a created one).
func writeReply(w http.ResponseWriter, status int, body []byte, replayed bool) {
	var doc struct {
		ID      string `json:"id"`
		Version *int64 `json:"version"`
	}
	if status < 300 && len(body) > 0 && body[0] == '{' && json.Unmarshal(body, &doc) == nil && doc.Version != nil {
		w.Header().Set("ETag", strconv.Quote(strconv.FormatInt(*doc.Version, 10)))
		if status == http.StatusCreated && doc.ID != "" {
			w.Header().Set("Location", locationOf(doc.ID))
		}
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, body)
}

func locationOf(id string) string {
	if strings.HasPrefix(id, app.InitiativePrefix) {
		return "/api/initiatives/" + id
	}
	return "/api/items/" + id
}

// decode reads the body into v: one JSON object, no unknown fields. An
// empty body leaves v as it is.
func (c *call) decode(v any) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return app.Usagef("request body: %s", jsonMessage(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return app.Usagef("request body: want one JSON object, found more after it")
	}
	return nil
}

// jsonMessage says what is wrong with a body in terms of the request.
func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field == "" {
			return fmt.Sprintf("want a JSON object, got %s", te.Value)
		}
		return fmt.Sprintf("field %q: want %s, got %s", te.Field, te.Type, te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: it ends too soon"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func (s *Server) tooMany() error {
	return apiErr(http.StatusTooManyRequests, "rate_limited", "too many requests: at most %g a second (burst %d); retry after a second", float64(s.opts.Rate), s.opts.Burst)
}
