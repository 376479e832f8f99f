package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// listenerName is the application_name of LISTEN connections, which tells
// them apart in pg_stat_activity.
const listenerName = "jerry-listen"

// listen holds a connection of its own that LISTENs on the schema's channel
// and wakes subscriptions on every notification, until ctx ends (Close). If
// the connection fails it reconnects with backoff; as notifications may have
// been missed meanwhile, it wakes subscriptions on every (re)connect, and the
// safety poll covers the time it is down.
func (s *Store) listen(ctx context.Context) {
	defer close(s.done)
	cfg := s.pool.Config().ConnConfig
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		if s.listenOnce(ctx, cfg) {
			backoff = 50 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// listenOnce connects, listens and waits for notifications until the
// connection fails or ctx ends. It reports whether it got to listening.
func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) (listened bool) {
	cfg = cfg.Copy()
	cfg.RuntimeParams["application_name"] = listenerName
	// Close ends the wait for a notification by ending ctx: drop the
	// connection at once rather than ask the server to cancel a query
	// that is not running (Open's handler would wait for an answer).
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(cctx) //nolint:errcheck // nothing to do about a failed goodbye
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		return false
	}
	s.signal.Notify()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true
		}
		s.signal.Notify()
	}
}
