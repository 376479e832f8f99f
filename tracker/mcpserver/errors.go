package mcpserver

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/jerry-es/jerry/tracker/app"
)

// callError marks an error returned by a tool's handler, as opposed to
// the SDK's refusal of arguments that do not fit the schema.
type callError struct{ err error }

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

// errorMiddleware gives every failed tools/call result jerry's error shape.
// The SDK turns a handler's error, and arguments that do not fit the input
// schema, into a result with isError set and the error's text; this puts
// app.Explain's code, message and fields in the text, as JSON.
func errorMiddleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		res, err := next(ctx, method, req)
		r, ok := res.(*mcp.CallToolResult)
		if err != nil || !ok || !r.IsError {
			return res, err
		}
		text, merr := json.Marshal(map[string]app.Problem{"error": explain(r.GetError())})
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

// explain presents err as every face does. An error that is not a
// handler's is the SDK's refusal of the arguments: a usage error.
func explain(err error) app.Problem {
	var ce *callError
	switch {
	case errors.As(err, &ce):
		return app.Explain(ce.err)
	case err == nil:
		return app.Explain(app.Usagef("invalid arguments"))
	}
	return app.Explain(app.Usagef("invalid arguments: %w", err))
}
