package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/jerry-es/jerry/tracker/app"
)

// apiError is a failure of the API itself (not of a use case): its code
// and HTTP status are its own.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func apiErr(status int, code, format string, args ...any) error {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// preconditionError marks a conflict of a write that had If-Match: 412.
type preconditionError struct{ err error }

func (e preconditionError) Error() string { return e.err.Error() }
func (e preconditionError) Unwrap() error { return e.err }

// statusOf is the HTTP status of a problem's code; see the package doc.
func statusOf(code string) int {
	switch code {
	case "usage", "invalid_input":
		return http.StatusBadRequest
	case "not_found":
		return http.StatusNotFound
	case "conflict", "claimed":
		return http.StatusConflict
	case "cycle", "blocked", "invalid_transition":
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// problem turns err into a status and the error document.
func problem(err error) (int, []byte) {
	var ae *apiError
	var p app.Problem
	status := 0
	if errors.As(err, &ae) {
		p = app.Problem{Code: ae.code, Message: ae.msg}
		status = ae.status
	} else {
		p = app.Explain(err)
		status = statusOf(p.Code)
		var pe preconditionError
		if p.Code == "conflict" && errors.As(err, &pe) {
			status = http.StatusPreconditionFailed
		}
		var me *http.MaxBytesError
		if errors.As(err, &me) {
			status, p = http.StatusRequestEntityTooLarge, app.Problem{Code: "too_large",
				Message: fmt.Sprintf("request body larger than %d bytes", me.Limit)}
		}
	}
	body, merr := json.Marshal(struct {
		Error app.Problem `json:"error"`
	}{p})
	if merr != nil {
		return http.StatusInternalServerError, []byte(`{"error":{"code":"error","message":"cannot encode the error"}}`)
	}
	return status, body
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
	w.Write([]byte("\n"))
}

func writeError(w http.ResponseWriter, err error) {
	status, body := problem(err)
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, body)
}
