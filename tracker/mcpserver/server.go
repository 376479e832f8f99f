// Package mcpserver serves Jerry's use cases to AI agents as Model Context
// Protocol tools, over any transport of the official Go SDK (jerry mcp uses
// stdio).
//
// It is a face, like the jerry command: each tool parses its typed input,
// calls one use case of [app.Service] and returns a typed output. It holds
// no rule of its own, so a tool and the jerry command that does the same
// thing always agree.
//
// # Guarantees
//
//   - Every tool has an input and an output schema derived from its Go types,
//     every field described; unknown fields are refused.
//   - The actor recorded on every event is the one given to [New], fixed for
//     the server's life: no tool takes it as an argument.
//   - A tool that fails returns a tool error (a result with isError set), not
//     a protocol error, so that the agent reads it. Its text is
//     {"error":{"code":..,"message":..,...}}: app.Explain's presentation,
//     the same codes and fields as jerry --json (claimed with holder and
//     expires_at, conflict with expected_version and actual_version,
//     blocked with the blockers, not_found, invalid_input, cycle, ...).
//     Arguments that do not fit the schema (a wrong type, a missing or
//     unknown field) are code usage. A failed call writes nothing.
//   - Lists are cut to a limit (default 20, at most 500) and say how many
//     matched in all.
//   - ready with claim inherits app.Service.ClaimReady's guarantee: agents
//     claiming at once, through one server or many on one store, each get a
//     different item. Claims carry leases: heartbeat, or any write by the
//     holder, renews them.
//
// The workflow an agent should follow is in [Workflow], served as the
// server's instructions, as the resource jerry://workflow and as the prompt
// "workflow".
package mcpserver

import (
	"context"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// Options configures a server.
type Options struct {
	// Actor is who acts: recorded on every event the server writes.
	Actor string
	// Store names the store, for whoami (give it without secrets).
	Store string
	// Version is jerry's version, for the protocol's handshake and whoami.
	Version string
	// Limit is how many entries a list returns when the call gives no limit
	// (default 20).
	Limit int
}

// MaxLimit is the most entries one list returns, whatever limit is asked.
const MaxLimit = 500

// server is the state the tools share.
type server struct {
	svc  *app.Service
	opts Options
}

// New returns an MCP server whose tools run on svc as opts.Actor. Serve it
// with its Run method on a transport, such as &mcp.StdioTransport{}.
func New(svc *app.Service, opts Options) *mcp.Server {
	if opts.Limit <= 0 {
		opts.Limit = 20
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	s := &server{svc: svc, opts: opts}
	srv := mcp.NewServer(&mcp.Implementation{Name: "jerry", Title: "Jerry work tracker", Version: opts.Version},
		&mcp.ServerOptions{Instructions: Workflow})
	srv.AddReceivingMiddleware(errorMiddleware)
	s.addTools(srv)
	addWorkflow(srv)
	return srv
}

// context returns ctx carrying the server's actor and a correlation ID for
// this call, so that every event a call records says who and which call.
func (s *server) context(ctx context.Context) context.Context {
	return es.WithMetadata(ctx, es.Metadata{Actor: s.opts.Actor, CorrelationID: es.NewEventID().String()})
}

// limit returns the number of entries to return for a call's limit.
func (s *server) limit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, app.Usagef("limit %d: want 1 or more, or leave it out", n)
	case n == 0:
		return s.opts.Limit, nil
	}
	return min(n, MaxLimit), nil
}

// expected returns a write's condition: the version given, or es.Any
// (retry on a race).
func expected(v *int64) (es.ExpectedVersion, error) {
	switch {
	case v == nil:
		return es.Any, nil
	case *v < 0:
		return es.Any, app.Usagef("expect_version %d: versions are 0 or more", *v)
	}
	return es.Exact(*v), nil
}

// write runs fn, a write of one work item, with w's condition and returns
// its answer; a bad expect_version fails before fn runs.
func (w WriteIn) write(fn func(exp es.ExpectedVersion) (app.Result[tracker.Item], error)) (Written, error) {
	exp, err := expected(w.ExpectVersion)
	if err != nil {
		return Written{}, err
	}
	return written(fn(exp))
}

// parseTime reads an RFC 3339 time argument; "" is the zero time.
func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, app.Usagef("%s %q: want an RFC 3339 time like 2026-11-20T10:00:00Z", field, v)
	}
	return t, nil
}

// parseLease reads a lease argument in Go's duration syntax; "" is 0 (the
// default).
func parseLease(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, app.Usagef("lease %q: want a duration like 30m or 2h", v)
	}
	return d, nil
}

// tool describes one tool for add.
type tool struct {
	name, title, desc string
	readOnly          bool
}

// add registers a tool whose handler fn runs with the server's actor. An
// error from fn becomes a tool error with jerry's code (errorMiddleware).
func add[In, Out any](srv *mcp.Server, s *server, t tool, fn func(ctx context.Context, in In) (Out, error)) {
	ann := &mcp.ToolAnnotations{Title: t.title, ReadOnlyHint: t.readOnly, OpenWorldHint: new(false)}
	if !t.readOnly {
		ann.DestructiveHint = new(false) // every write is an event added; nothing is ever lost
	}
	mcp.AddTool(srv, &mcp.Tool{Name: t.name, Title: t.title, Description: t.desc, Annotations: ann},
		func(ctx context.Context, _ *mcp.CallToolRequest, in In) (*mcp.CallToolResult, Out, error) {
			out, err := fn(s.context(ctx), in)
			if err != nil {
				return nil, out, &callError{err}
			}
			return nil, out, nil
		})
}

// written is the answer of a tool that wrote one work item.
func written(r app.Result[tracker.Item], err error) (Written, error) {
	if err != nil {
		return Written{}, err
	}
	changes := make([]string, len(r.Events))
	for i, e := range r.Events {
		changes[i] = tracker.Describe(e)
	}
	return Written{Item: summaryOf(r.State, app.ClaimAt(r.State, es.Now())), Changes: changes}, nil
}

// cut returns the first n of s, whether it cut, and len(s).
func cut[T any](s []T, n int) ([]T, bool, int) {
	if len(s) > n {
		return s[:n], true, len(s)
	}
	return s, false, len(s)
}

func cardSummaries(cards []app.Card) []Summary {
	out := make([]Summary, len(cards))
	for i, c := range cards {
		out[i] = summaryOf(c.Item, c.Claim)
	}
	return out
}
