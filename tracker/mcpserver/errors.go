package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// ErrorBody is what a failed tool call returns, as {"error": ErrorBody} in
// the text of a result with isError set.
type ErrorBody struct {
	// Code is the kind of failure, as jerry --json names it: conflict,
	// not_found, invalid_input, invalid_transition, blocked, corrupt or
	// error.
	Code string `json:"code"`
	// Message says what went wrong, for a person or a model.
	Message string `json:"message"`
	// Holder is, in a claim conflict, the agent that holds the item.
	Holder string `json:"holder,omitempty"`
	// ExpectedVersion and ActualVersion are, in a version conflict, the
	// version the call expected and the one the item is at.
	ExpectedVersion *int64 `json:"expected_version,omitempty"`
	ActualVersion   *int64 `json:"actual_version,omitempty"`
}

// callError marks an error returned by a tool's handler, as opposed to
// the SDK's refusal of arguments that do not fit the schema.
type callError struct{ err error }

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// errorMiddleware gives every failed tools/call result jerry's error shape.
// The SDK turns a handler's error, and arguments that do not fit the input
// schema, into a result with isError set and the error's text; this puts
// the code and fields in the text, as JSON.
func errorMiddleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		r, ok := res.(*mcp.CallToolResult)
		if err != nil || !ok || !r.IsError {
			return res, err
		}
		body := present(r.GetError())
		text, merr := json.Marshal(map[string]ErrorBody{"error": body})
		if merr != nil {
			return res, err
		}
		// The error goes in the text only: structured content must fit the
		// tool's output schema, which describes a success.
		r.Content = []mcp.Content{&mcp.TextContent{Text: string(text)}}
		r.StructuredContent = nil
		return r, nil
	}
}

// present maps an error to its code, message and fields.
// TODO(app): use the app layer's one presentation for all faces when it lands.
func present(err error) ErrorBody {
	var ce *callError
	if err == nil || !errors.As(err, &ce) {
		// The SDK refused the arguments before any handler ran.
		msg := "invalid arguments"
		if err != nil {
			msg = "invalid arguments: " + oneLine(err.Error())
		}
		return ErrorBody{Code: "invalid_input", Message: msg}
	}
	err = ce.err
	b := ErrorBody{Code: code(err), Message: oneLine(strings.TrimPrefix(err.Error(), "es: "))}
	var cc *es.ConcurrencyError
	if errors.As(err, &cc) {
		b.ActualVersion = &cc.Actual
		if v, ok := cc.Expected.Version(); ok {
			b.ExpectedVersion = &v
		}
		what := strings.TrimPrefix(cc.Stream, tracker.WorkItemType+"-")
		b.Message = "conflict: " + what + " is at version " + strconv.FormatInt(cc.Actual, 10) + ", not " + cc.Expected.String()
	}
	var he *holderError
	if errors.As(err, &he) {
		b.Holder = he.holder
	}
	return b
}

// code is jerry's name for the kind of err, as jerry --json prints it.
func code(err error) string {
	var nf *app.NotFoundError
	switch {
	case errors.Is(err, es.ErrConcurrency), errors.Is(err, tracker.ErrClaimed):
		return "conflict"
	case errors.As(err, &nf), errors.Is(err, es.ErrNotFound), errors.Is(err, tracker.ErrNotBlocker), errors.Is(err, tracker.ErrNotMember):
		return "not_found"
	case errors.Is(err, tracker.ErrInvalidInput), errors.Is(err, es.ErrInvalidInput):
		return "invalid_input"
	case errors.Is(err, tracker.ErrInvalidTransition):
		return "invalid_transition"
	case errors.Is(err, tracker.ErrBlocked):
		return "blocked"
	case errors.Is(err, es.ErrCorrupt):
		return "corrupt"
	}
	return "error"
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
