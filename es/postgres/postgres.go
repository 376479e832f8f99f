package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/internal/groupcommit"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Store is an event store and snapshot store on PostgreSQL. It is safe for
// concurrent use by multiple goroutines, and several processes may use the
// same schema at once.
type Store struct {
	pool   *pgxpool.Pool
	owned  bool // Close closes pool
	schema string
	poll   time.Duration

	sql     statements
	channel string // NOTIFY channel of this schema

	signal es.Signal                      // woken by own appends and by the LISTEN goroutine
	group  *groupcommit.Group[*appendReq] // combines concurrent small appends into one commit
	hints  hints                          // NOTIFY after commit, for other processes' subscriptions

	closeMu  sync.RWMutex
	isClosed bool
	life     context.Context // ended by Close, which ends the calls in flight
	endLife  context.CancelFunc
	cancel   context.CancelFunc // ends the LISTEN goroutine; nil until the first Subscribe starts it
	done     chan struct{}      // closed when the LISTEN goroutine has ended
}

var (
	_ es.EventStore    = (*Store)(nil)
	_ es.LogReader     = (*Store)(nil)
	_ es.Subscriber    = (*Store)(nil)
	_ es.SnapshotStore = (*Store)(nil)
)

// Option configures a Store.
type Option func(*options)

type options struct {
	schema string
	poll   time.Duration
}

// WithSchema makes the store keep its tables in the named PostgreSQL schema,
// creating the schema if it does not exist. Without it the store uses the
// first schema of a search_path given in the connection string
// (postgres://host/db?search_path=jerry), creating it if need be, or else
// the connection's current schema (normally public).
func WithSchema(name string) Option { return func(o *options) { o.schema = name } }

// WithPollInterval sets how often a subscription that has caught up reads the
// log even without a NOTIFY wake-up, as a safety net for lost notifications
// (for example while the LISTEN connection is being re-established). The
// default is one second; 0 turns polling off.
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.poll = d } }

// DefaultPollInterval is the safety poll of subscriptions unless
// [WithPollInterval] says otherwise.
const DefaultPollInterval = time.Second

// Open connects to the database at dsn (a PostgreSQL URL or key=value
// connection string, as pgx accepts), creates or migrates the store's schema,
// and returns the store. Close releases the connections.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse connection string: %w", err)
	}
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		// The store's statements are all simple index lookups, and the
		// multi-event append would otherwise be planned afresh on every
		// call: its unnest of array parameters makes PostgreSQL judge a
		// custom plan cheaper than the generic one.
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	}
	// On a cancelled context pgx by default only drops the connection, and
	// the server goes on with the statement: an append waiting for head
	// would commit once it got the lock, after its caller was told it had
	// failed, while its orphaned backend held a server connection. Ask
	// the server to cancel the statement instead, and drop the connection
	// only if it does not answer.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelWait}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s, err := New(ctx, pool, opts...)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// cancelWait is how long a call whose context has ended waits for the
// server to cancel its statement before dropping the connection.
const cancelWait = 2 * time.Second

// New returns a store that uses pool, after creating or migrating its schema.
// Close stops the store's own LISTEN connection but leaves pool open: the
// caller closes it. Appends of several events run faster on connections with
// plan_cache_mode=force_generic_plan, which [Open] sets unless the connection
// string sets it. [Open] also makes a cancelled context cancel the statement
// on the server (pgconn.CancelRequestContextWatcherHandler); with pgx's
// default, which only drops the connection, an append cancelled while it
// waits for another's commit can still commit after it has returned
// ctx.Err().
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	o := options{poll: DefaultPollInterval}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Store{pool: pool, schema: o.schema, poll: o.poll}
	s.life, s.endLife = context.WithCancel(context.Background())
	if s.schema == "" {
		s.schema = firstSearchPath(pool.Config().ConnConfig.RuntimeParams["search_path"])
	}
	if s.schema == "" {
		var cur *string
		if err := pool.QueryRow(ctx, "SELECT current_schema()").Scan(&cur); err != nil {
			return nil, fmt.Errorf("postgres: find current schema: %w", err)
		}
		if cur == nil || *cur == "" {
			return nil, errors.New("postgres: the connection has no current schema: choose one with WithSchema or search_path")
		}
		s.schema = *cur
	}
	// PostgreSQL cuts names to 63 bytes: take the name as it does, so that
	// stores given two names of one schema share its NOTIFY channel and
	// its migration lock, and Schema reports the real name.
	if err := pool.QueryRow(ctx, "SELECT $1::text::name::text", s.schema).Scan(&s.schema); err != nil {
		s.endLife()
		return nil, fmt.Errorf("postgres: schema name: %w", err)
	}
	if err := migrate(ctx, pool, s.schema); err != nil {
		s.endLife()
		return nil, err
	}
	s.sql = newStatements(s.schema)
	s.channel = channelName(s.schema)
	s.hints.idle.L = &s.hints.mu
	s.group = s.newGrouper()
	// The LISTEN connection is opened by the first Subscribe, not here: a
	// one-shot command that appends or reads and exits never needs it.
	return s, nil
}

// startListener starts the LISTEN goroutine unless it runs already or the
// store is closed.
func (s *Store) startListener() {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.isClosed {
		return
	}
	if s.cancel == nil {
		// The listener lives as long as the store, so that later
		// subscriptions do not wait for it to be set up.
		lctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		s.done = make(chan struct{})
		go s.listen(lctx)
	}
}

// Close sends the NOTIFY of appends that have returned, if it is still
// pending, ends subscriptions' wake-ups and the LISTEN connection and, for a
// store made by Open, closes its connections. Calls on a closed store return
// [es.ErrClosed], and so do calls in flight, which Close cancels rather than
// waits for (an append cancelled so may or may not have committed, as with
// a cancelled context). Close is idempotent.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.isClosed {
		s.closeMu.Unlock()
		return nil
	}
	s.isClosed = true
	s.closeMu.Unlock()
	// Send the hints of appends that have returned: a process that
	// appends once and closes must still wake other processes' followers
	// without leaving them to the safety poll.
	s.flushHints()
	s.endLife() // calls in flight end with es.ErrClosed rather than hold Close up
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	s.signal.Notify() // wake followers so that they see the store closed
	if s.owned {
		s.pool.Close()
	}
	return nil
}

// Schema returns the PostgreSQL schema that holds the store's tables.
func (s *Store) Schema() string { return s.schema }

// Pool returns the connection pool the store uses.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// opCtx returns ctx, ended also by Close: a call in flight (an append
// waiting for head's lock, held by another process) must not keep Close
// waiting.
func (s *Store) opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.life, cancel)
	return ctx, func() { stop(); cancel() }
}

func (s *Store) closed() bool {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	return s.isClosed
}

// firstSearchPath returns the first schema named in a search_path setting,
// or "" if there is none or it is PostgreSQL's "$user" placeholder (quoted
// or not). A quoted name keeps its case and may hold commas; "" in it is a
// quote.
func firstSearchPath(path string) string {
	path = strings.TrimSpace(path)
	first, quoted := "", false
	if rest, ok := strings.CutPrefix(path, `"`); ok {
		var b strings.Builder
		for {
			q := strings.IndexByte(rest, '"')
			if q < 0 {
				return "" // unterminated: PostgreSQL would refuse it
			}
			b.WriteString(rest[:q])
			rest = rest[q+1:]
			if !strings.HasPrefix(rest, `"`) {
				break
			}
			b.WriteByte('"')
			rest = rest[1:]
		}
		first, quoted = b.String(), true
	} else {
		first, _, _ = strings.Cut(path, ",")
		first = strings.TrimSpace(first)
	}
	if first == "$user" {
		return ""
	}
	if quoted {
		return first
	}
	// PostgreSQL folds unquoted names to lower case in ASCII only (in a
	// UTF-8 database, which the store's text needs).
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, first)
}

// channelName returns the NOTIFY channel of schema: short enough for
// PostgreSQL's 63-byte identifiers whatever the schema's name.
func channelName(schema string) string {
	h := fnv.New64a()
	h.Write([]byte(schema))
	return "jerry_" + strconv.FormatUint(h.Sum64(), 16)
}

// migrate brings schema up to the latest embedded version. It runs in one
// transaction under an advisory lock, so processes opening the same store at
// once apply each step exactly once.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	steps, err := migrations()
	if err != nil {
		return err
	}
	ident := pgx.Identifier{schema}.Sanitize()
	// Read committed whatever the connection's default, so that each
	// statement after the lock sees what a migration that held it before
	// committed: under repeatable read or serializable the snapshot is
	// taken before the lock is granted.
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", schemaLockKey(schema)); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	// CREATE SCHEMA needs the CREATE privilege on the database; skip it when
	// the schema is there already, so an owner of only the schema can open.
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if !exists {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
			return fmt.Errorf("postgres: migrate: create schema %s: %w", ident, err)
		}
	}
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+ident); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    integer     NOT NULL PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&current); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if latest := steps[len(steps)-1].version; current > latest {
		return fmt.Errorf("postgres: schema %s is at version %d, newer than this program's %d", ident, current, latest)
	}
	for _, st := range steps {
		if st.version <= current {
			continue
		}
		if _, err := tx.Exec(ctx, st.sql); err != nil {
			return fmt.Errorf("postgres: migrate %s to version %d: %w", ident, st.version, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_version (version) VALUES ($1)", st.version); err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// schemaLockKey is the advisory lock under which the store's migration and
// NewCheckpoints set up schema, so that neither sees the other's CREATE
// SCHEMA half done (two sessions creating one schema at once collide on a
// unique index, IF NOT EXISTS or not).
func schemaLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("jerry:" + schema))
	return int64(h.Sum64())
}

type migration struct {
	version int
	sql     string
}

// migrations returns the embedded schema steps, named NNN_what.sql, in order.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(schemaFS, "schema")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("postgres: bad migration file name %q", e.Name())
		}
		b, err := schemaFS.ReadFile("schema/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("postgres: migrations must be numbered 1..n, found %d at %d", m.version, i+1)
		}
	}
	return out, nil
}
