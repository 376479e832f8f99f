package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/view"
)

// events streams the global log as server-sent events: each event's id is
// its position and its data a log record. It starts after Last-Event-ID
// (a client reconnecting), else at ?from=, else with the next event to
// commit; comments keep the connection open; it ends when the client goes
// or the server shuts down, or with an "error" event whose data is the
// error document when the log cannot be read.
func (s *Server) events(ctx context.Context, c *call) (result, error) {
	from, err := s.eventsFrom(ctx, c)
	if err != nil {
		return result{}, err
	}
	w := c.w
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives any write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, ": jerry log from position %d\n\n", from)
	if err := rc.Flush(); err != nil {
		return result{streamed: true}, nil
	}
	ctx, cancel := s.closing(ctx)
	defer cancel()
	recs := make(chan es.Record)
	failed := make(chan error, 1)
	go func() {
		defer close(recs)
		for rec, err := range s.svc.Follow(ctx, from) {
			if err != nil {
				if ctx.Err() == nil {
					failed <- err // the log could not be read: say why
				}
				return
			}
			select {
			case recs <- rec:
			case <-ctx.Done():
				return
			}
		}
	}()
	tick := time.NewTicker(s.opts.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case rec, ok := <-recs:
			if !ok {
				select {
				case err := <-failed:
					// The stream was sent as 200 already: the failure is
					// its last event, and the client reconnects from the
					// last id it got.
					_, body := problem(err)
					fmt.Fprintf(w, "event: error\ndata: %s\n\n", body)
					rc.Flush()
				default:
				}
				return result{streamed: true}, nil
			}
			data, err := json.Marshal(view.LogRecordOf(rec))
			if err != nil {
				return result{streamed: true}, nil // cannot happen: a record's data is JSON
			}
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", rec.Position, rec.Type, data)
		case <-tick.C:
			fmt.Fprint(w, ": heartbeat\n\n")
		case <-ctx.Done():
			return result{streamed: true}, nil
		}
		if err := rc.Flush(); err != nil {
			return result{streamed: true}, nil
		}
	}
}

// eventsFrom is where a stream of events starts: after Last-Event-ID,
// else at ?from=, else after the last event.
func (s *Server) eventsFrom(ctx context.Context, c *call) (int64, error) {
	q := c.r.URL.Query()
	if err := onlyParams(q, "from"); err != nil {
		return 0, err
	}
	if id := c.r.Header.Get("Last-Event-ID"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n < 0 {
			return 0, app.Usagef("Last-Event-ID %q: want a log position", id)
		}
		return n + 1, nil
	}
	if q.Has("from") {
		n, err := intParam(q, "from", 1)
		if err != nil {
			return 0, err
		}
		if n < 1 {
			return 0, app.Usagef("from=%d: positions start at 1", n)
		}
		return n, nil
	}
	last, err := s.svc.LastPosition(ctx)
	return last + 1, err
}
