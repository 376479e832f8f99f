package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/jerry-es/jerry/tracker/app"
)

// emit prints a command's answer: what view returns as one JSON document
// with --json, else what text writes for people. It is the one place that
// chooses. view is called only for JSON: a list of 10,000 items is not
// converted for nothing.
func (c *cli) emit(view func() any, text func(w io.Writer)) error {
	if c.jsonOut {
		return writeJSON(c.out, view())
	}
	text(c.out)
	return nil
}

// writeJSON writes v as one line of JSON, without escaping <, > and &.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// errorJSON is the --json shape of an error on stderr.
type errorJSON struct {
	Error app.Problem `json:"error"`
}

// printError writes err to stderr as app.Explain presents it (as JSON with
// --json), and returns the exit code for it.
func (c *cli) printError(err error) int {
	p := app.Explain(err)
	if store := c.where.store; store != "" && p.Code != "usage" {
		// The error depends on the store: name it.
		if p.Fields == nil {
			p.Fields = map[string]any{}
		}
		p.Fields["store"] = redact(store)
		switch p.Code {
		case "not_found", "error":
			p.Message += " (store " + redact(store) + ")"
		case "corrupt":
			p.Message += " (store " + redact(store) + "; jerry verify reports the damage, jerry verify --repair rebuilds what the log holds)"
		}
	}
	if c.jsonOut {
		writeJSON(c.errOut, errorJSON{p})
	} else {
		fmt.Fprintln(c.errOut, "jerry: "+display(p.Message))
	}
	return p.Class.ExitCode()
}

// wantsJSON reports whether args ask for --json.
func wantsJSON(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "--json=true", "--json=1":
			return true
		}
	}
	return false
}

// runError marks an error returned by a command's own work, as opposed to
// cobra's parsing.
type runError struct{ err error }

func (e runError) Error() string { return e.err.Error() }
func (e runError) Unwrap() error { return e.err }
