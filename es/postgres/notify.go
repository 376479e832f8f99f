package postgres

import (
	"context"
	"strconv"
	"sync"
)

// hints sends the NOTIFY that wakes other processes' subscriptions, after
// the appends it announces have committed and outside their transactions.
//
// A NOTIFY inside an append's transaction would make every commit of the
// server take PostgreSQL's notification queue lock in turn (and, measured,
// halve a single writer's rate), although a notification is only a hint:
// subscribers read the log itself, and their safety poll finds whatever a
// lost hint did not announce. So an append only records the highest position
// it committed; one goroutine at a time sends it, and appends that commit
// while it is sending are announced together by its next NOTIFY.
type hints struct {
	mu      sync.Mutex
	pending int64     // highest position committed and not yet announced; 0: none
	running bool      // a goroutine is sending
	idle    sync.Cond // L is &mu; broadcast when running turns false
}

// notifyTimeout bounds one NOTIFY: a hint that cannot be sent quickly is
// left to the safety poll.
const notifyTimeout = cancelWait

// hint announces that the log now reaches position last.
func (s *Store) hint(last int64) {
	h := &s.hints
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pending = max(h.pending, last)
	if !h.running {
		h.running = true
		go s.sendHints()
	}
}

// sendHints sends NOTIFY until no position is pending.
func (s *Store) sendHints() {
	h := &s.hints
	h.mu.Lock()
	for h.pending > 0 {
		last := h.pending
		h.pending = 0
		h.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
		// A failure is not reported: nothing was lost but the hint.
		s.pool.Exec(ctx, s.sql.notify, s.channel, strconv.FormatInt(last, 10)) //nolint:errcheck
		cancel()
		h.mu.Lock()
	}
	h.running = false
	h.idle.Broadcast()
	h.mu.Unlock()
}

// flushHints waits until the hints of appends that have returned are sent,
// so that a process that appends once and closes still wakes followers.
func (s *Store) flushHints() {
	h := &s.hints
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.running {
		h.idle.Wait()
	}
}
