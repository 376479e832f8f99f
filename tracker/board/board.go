package board

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// ErrDamaged means the model's database failed an integrity check or
// SQLite reported it corrupt. [Open] and [Board.CatchUp] repair it by
// starting over; errors from queries match it so that a caller can call
// [Board.Repair] and ask again.
var ErrDamaged = errors.New("board: read model damaged")

// Options configure a Board.
type Options struct {
	// Notes, if set, is told in one line of every model that was thrown
	// away and is being rebuilt (damaged, of another format, or built from
	// another store).
	Notes func(msg string)
	// BatchSize is the most events one catch-up transaction applies; 0
	// means 10,000, except that an empty model catching up many events
	// is filled by a bulk load in one transaction (see bulk.go). Each
	// transaction commits its rows and the checkpoint together.
	BatchSize int
	// DependencyStream names the stream of dependency reservations (see
	// tracker.DependencyReserved); "" means "jerry-dependencies".
	DependencyStream string
}

// Board is Jerry's read model in an SQLite database: work items,
// initiatives, their state intervals and the activity feed, indexed. It
// is safe for concurrent use by goroutines and by several processes on
// one file.
type Board struct {
	db   *sql.DB
	path string
	log  es.LogReader
	reg  *es.Registry
	opts Options
	// bulkOK: Options.BatchSize was left 0, so an empty model may be
	// bulk loaded.
	bulkOK bool
	// temp is the directory of a model of OpenTemp's, removed by Close.
	temp string
}

// Open opens (creating it if need be) the model in the database file at
// path, fed from log and decoded with reg (which must know Jerry's events:
// see [tracker.Register]). A file that is not a usable model of this
// format is noted, removed and created anew; it is filled by the next
// [Board.CatchUp]. Open does not read the log.
func Open(ctx context.Context, path string, log es.LogReader, reg *es.Registry, opts Options) (*Board, error) {
	bulkOK := opts.BatchSize <= 0
	if bulkOK {
		opts.BatchSize = 10000
	}
	if opts.DependencyStream == "" {
		opts.DependencyStream = "jerry-dependencies"
	}
	b := &Board{path: path, log: log, reg: reg, opts: opts, bulkOK: bulkOK}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("board: %w", err)
	}
	why := checkFile(path)
	if why == "" {
		err := b.open(ctx)
		if err == nil {
			return b, nil
		}
		if !isDamage(err) {
			return nil, err
		}
		why = err.Error()
	}
	b.note("read model %s ignored (%s); rebuilding it from the events", path, why)
	if err := b.recreate(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *Board) note(format string, args ...any) {
	if b.opts.Notes != nil {
		b.opts.Notes(fmt.Sprintf(format, args...))
	}
}

// Path returns the database file's path.
func (b *Board) Path() string { return b.path }

// Close closes the database.
func (b *Board) Close() error {
	var err error
	if b.db != nil {
		err = b.db.Close()
		b.db = nil
	}
	if b.temp != "" {
		if rerr := os.RemoveAll(b.temp); err == nil {
			err = rerr
		}
		b.temp = ""
	}
	return err
}

// OpenTemp opens a model as [Open] does, in a new temporary directory of
// its own that [Board.Close] removes: for a store whose model cannot be
// kept beside it (a read-only directory, a full disk).
func OpenTemp(ctx context.Context, log es.LogReader, reg *es.Registry, opts Options) (*Board, error) {
	dir, err := os.MkdirTemp("", "jerry-board-")
	if err != nil {
		return nil, fmt.Errorf("board: %w", err)
	}
	b, err := Open(ctx, filepath.Join(dir, "board.db"), log, reg, opts)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	b.temp = dir
	return b, nil
}

// Temporary reports whether b is a model of [OpenTemp]'s.
func (b *Board) Temporary() bool { return b.temp != "" }

func dsn(path string) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(30000)", "journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(OFF)",
		// Statement journals in memory: a batch's multi-row inserts
		// otherwise write each page they touch to a temporary file.
		"temp_store(MEMORY)",
		// Reads from a memory map of the file: a listing touches most of
		// the items table, and a process starts with a cold page cache,
		// so each page read was a system call and a copy. SQLite maps
		// no more than the file holds when a transaction begins.
		"mmap_size(268435456)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// open opens the database and checks its format, creating the tables in a
// new one.
func (b *Board) open(ctx context.Context) error {
	db, err := sql.Open("sqlite", dsn(b.path))
	if err != nil {
		return fmt.Errorf("board: %w", err)
	}
	// One connection: the process's reads and its catch-up take turns,
	// and a transaction never waits on another of the same process.
	db.SetMaxOpenConns(1)
	b.db = db
	if err := b.setUp(ctx); err != nil {
		db.Close()
		b.db = nil
		return err
	}
	return nil
}

func (b *Board) setUp(ctx context.Context) error {
	// Most opens find the model set up: check that without taking the
	// write lock.
	var v sql.NullInt64
	err := b.read(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'format'").Scan(&v)
	})
	if err == nil && v.Int64 == formatVersion {
		return nil
	}
	return b.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'format'").Scan(&v)
		switch {
		case err == nil && v.Int64 == formatVersion:
			return nil
		case err == nil:
			return fmt.Errorf("%w: format version %d, want %d", ErrDamaged, v.Int64, formatVersion)
		case errors.Is(err, sql.ErrNoRows), isNoTable(err):
		default:
			return b.wrap(err)
		}
		if _, err := tx.ExecContext(ctx, schema); err != nil {
			return b.wrap(err)
		}
		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO meta (key, value) VALUES ('format', ?), ('position', 0), ('last_id', ''), ('graph_version', 0)`, formatVersion)
		return b.wrap(err)
	})
}

// recreate removes the database and its journal files and opens a new one.
func (b *Board) recreate(ctx context.Context) error {
	b.Close()
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		if err := os.Remove(b.path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("board: remove damaged model: %w", err)
		}
	}
	return b.open(ctx)
}

// Repair throws the model away and starts a new, empty one; the next
// [Board.CatchUp] fills it. Call it when a query fails with [ErrDamaged].
func (b *Board) Repair(ctx context.Context) error {
	b.note("read model %s ignored (damaged); rebuilding it from the events", b.path)
	return b.recreate(ctx)
}

// checkFile looks at the database file's header without SQLite: a file
// that is not an SQLite database, or is shorter than its header says, is
// damaged. It returns why, or "" if the file is missing or looks whole.
func checkFile(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var h [100]byte
	n, err := io.ReadFull(f, h[:])
	if n == 0 {
		return "" // a new, empty file: SQLite makes it a database
	}
	if err != nil || !bytes.Equal(h[:16], []byte("SQLite format 3\x00")) {
		return "not an SQLite database"
	}
	pageSize := int64(binary.BigEndian.Uint16(h[16:18]))
	if pageSize == 1 {
		pageSize = 65536
	}
	pages := int64(binary.BigEndian.Uint32(h[28:32]))
	// The page count is valid when the change counter matches the
	// version-valid-for number.
	if binary.BigEndian.Uint32(h[24:28]) == binary.BigEndian.Uint32(h[92:96]) {
		if st, err := f.Stat(); err == nil && st.Size() < pages*pageSize {
			return fmt.Sprintf("file is %d bytes, its header says %d", st.Size(), pages*pageSize)
		}
	}
	return ""
}

// isDamage reports whether err says the database is damaged.
func isDamage(err error) bool {
	if errors.Is(err, ErrDamaged) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_FORMAT:
			return true
		}
	}
	return false
}

func isNoTable(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_ERROR && strings.Contains(se.Error(), "no such table")
}

// wrap marks damage reported by SQLite with ErrDamaged.
func (b *Board) wrap(err error) error {
	if err == nil || errors.Is(err, ErrDamaged) {
		return err
	}
	if isDamage(err) {
		return fmt.Errorf("%w: %s: %w", ErrDamaged, b.path, err)
	}
	return fmt.Errorf("board: %w", err)
}

// write runs fn in a write transaction (BEGIN IMMEDIATE: the database's
// one writer, waiting for another process's transaction to end).
func (b *Board) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if b.db == nil {
		return fmt.Errorf("board: %w", es.ErrClosed)
	}
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return b.wrap(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return b.wrap(tx.Commit())
}

// read runs fn in a read transaction: one consistent cut of the model.
func (b *Board) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if b.db == nil {
		return fmt.Errorf("board: %w", es.ErrClosed)
	}
	tx, err := b.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return b.wrap(err)
	}
	defer tx.Rollback()
	return b.wrap(fn(tx))
}

// checkpoint reads the model's position and the ID of the event there.
func checkpoint(ctx context.Context, tx *sql.Tx) (int64, uuid.UUID, error) {
	var pos int64
	var last string
	if err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'position'").Scan(&pos); err != nil {
		return 0, uuid.UUID{}, err
	}
	if err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'last_id'").Scan(&last); err != nil {
		return 0, uuid.UUID{}, err
	}
	id, _ := uuid.Parse(last)
	return pos, id, nil
}

// Position returns the log position the model reflects.
func (b *Board) Position(ctx context.Context) (int64, error) {
	var pos int64
	err := b.read(ctx, func(tx *sql.Tx) error {
		var err error
		pos, _, err = checkpoint(ctx, tx)
		return err
	})
	return pos, err
}

// Progress is told how far a catch-up has come: events applied, the
// position reached, and the log's last position when it started.
type Progress func(done, position, last int64)

// CatchUp applies every event committed after the model's position, in
// transactions of at most Options.BatchSize events, each committing the
// rows it changed and the new position together: every event's effect
// lands exactly once, whatever process dies when. Several processes may
// catch up at once: each transaction reads the position under the
// database's write lock, so none applies an event twice. A model built
// from another store (the event at its position is not the one it
// recorded) or damaged is emptied and rebuilt. It returns the position
// reached. progress, if not nil, is called after each transaction.
func (b *Board) CatchUp(ctx context.Context, progress Progress) (int64, error) {
	pos, err := b.catchUp(ctx, progress)
	if err != nil && isDamage(err) {
		if err := b.Repair(ctx); err != nil {
			return 0, err
		}
		pos, err = b.catchUp(ctx, progress)
	}
	return pos, err
}

// Rebuild empties the model and applies the whole log again, reporting
// progress. An interrupted rebuild leaves a consistent model at some
// position, which the next catch-up carries on from.
func (b *Board) Rebuild(ctx context.Context, progress Progress) (int64, error) {
	if b.bulkOK {
		pos, err := b.rebuild(ctx, progress)
		if err == nil || !isDamage(err) {
			return pos, err
		}
		if err := b.Repair(ctx); err != nil {
			return 0, err
		}
		return b.CatchUp(ctx, progress)
	}
	err := b.write(ctx, func(tx *sql.Tx) error { return reset(ctx, tx) })
	if err != nil {
		if !isDamage(err) {
			return 0, err
		}
		if err := b.Repair(ctx); err != nil {
			return 0, err
		}
	}
	return b.CatchUp(ctx, progress)
}

// rebuild empties the model and bulk loads it again in one transaction:
// until it commits, readers see the model as it was.
func (b *Board) rebuild(ctx context.Context, progress Progress) (int64, error) {
	last, err := b.log.LastPosition(ctx)
	if err != nil {
		return 0, fmt.Errorf("board: %w", err)
	}
	var pos int64
	var n int
	err = b.write(ctx, func(tx *sql.Tx) error {
		if err := reset(ctx, tx); err != nil {
			return b.wrap(err)
		}
		var err error
		pos, n, err = b.bulk(ctx, tx, newApplier(b.reg, b.opts.DependencyStream), last, progress)
		return err
	})
	if err != nil {
		return 0, err
	}
	if progress != nil && n > 0 {
		progress(int64(n), pos, last)
	}
	if _, err := b.db.ExecContext(ctx, "PRAGMA analysis_limit = 1000; ANALYZE"); err != nil {
		return pos, b.wrap(err)
	}
	// Events committed meanwhile.
	return b.CatchUp(ctx, nil)
}

func reset(ctx context.Context, tx *sql.Tx) error {
	for _, t := range tables {
		q := "DELETE FROM " + t
		if t == "search" {
			// The full-text index's own command: a DELETE would remove
			// (and record the removal of) one document at a time.
			q = "INSERT INTO search (search) VALUES ('delete-all')"
		}
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, "UPDATE meta SET value = CASE key WHEN 'last_id' THEN '' ELSE 0 END WHERE key IN ('position', 'last_id', 'graph_version')")
	return err
}

func (b *Board) catchUp(ctx context.Context, progress Progress) (int64, error) {
	last, err := b.log.LastPosition(ctx)
	if err != nil {
		return 0, fmt.Errorf("board: %w", err)
	}
	var done int64
	ap := newApplier(b.reg, b.opts.DependencyStream)
	verified := false
	// Most catch-ups have nothing to do: find that out without taking
	// the write lock.
	var p int64
	var lastID uuid.UUID
	if err := b.read(ctx, func(tx *sql.Tx) error {
		var err error
		p, lastID, err = checkpoint(ctx, tx)
		return err
	}); err != nil {
		return 0, err
	}
	if p > 0 {
		ok, err := b.sameStore(ctx, p, lastID)
		if err != nil {
			return 0, err
		}
		verified = ok // if not, the write below notes it and starts over
	}
	if verified && p >= last {
		return p, nil
	}
	for {
		var pos int64
		var n int
		err := b.write(ctx, func(tx *sql.Tx) error {
			p, lastID, err := checkpoint(ctx, tx)
			if err != nil {
				return b.wrap(err)
			}
			if !verified && p > 0 {
				ok, err := b.sameStore(ctx, p, lastID)
				if err != nil {
					return err
				}
				if !ok {
					b.note("read model %s ignored (it was built from another store: its event at position %d is not in this one); rebuilding it from the events", b.path, p)
					if err := reset(ctx, tx); err != nil {
						return b.wrap(err)
					}
					p = 0
				}
			}
			verified = true
			if p >= last {
				pos = p
				return nil
			}
			if p == 0 && b.bulkOK && last >= bulkMin {
				pos, n, err = b.bulk(ctx, tx, ap, last, progress)
				return err
			}
			pos, n, err = ap.run(ctx, tx, b.log, p, last, b.opts.BatchSize)
			return err
		})
		if err != nil {
			return 0, err
		}
		done += int64(n)
		if progress != nil && n > 0 {
			progress(done, pos, last)
		}
		if pos >= last || n == 0 {
			if done >= 20000 {
				// Many new rows: refresh the planner's statistics
				// (sampled, so it stays cheap).
				if _, err := b.db.ExecContext(ctx, "PRAGMA analysis_limit = 1000; ANALYZE"); err != nil {
					return pos, b.wrap(err)
				}
			}
			return pos, nil
		}
	}
}

// sameStore reports whether the event at position pos of the log is the
// one with ID id, which the model recorded as the last it applied.
func (b *Board) sameStore(ctx context.Context, pos int64, id uuid.UUID) (bool, error) {
	for rec, err := range b.log.ReadLog(ctx, pos) {
		if err != nil {
			return false, fmt.Errorf("board: read the log at %d: %w", pos, err)
		}
		return rec.Position == pos && rec.ID == id, nil
	}
	return false, nil // the log is shorter than the model
}

// micros returns t as microseconds since the Unix epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// idNumber returns the number after the first hyphen of an ID such as
// "J-42", or 0.
func idNumber(id string) int64 {
	i := strings.IndexByte(id, '-')
	if i < 0 {
		return 0
	}
	// The leading digits, as SQLite's CAST reads them: the as-of queries
	// compute it in SQL too.
	d := id[i+1:]
	j := 0
	for j < len(d) && j < 18 && d[j] >= '0' && d[j] <= '9' {
		j++
	}
	n, _ := strconv.ParseInt(d[:j], 10, 64)
	return n
}

var (
	itemPrefix       = tracker.WorkItemType + "-"
	initiativePrefix = tracker.InitiativeType + "-"
)

// CachePath returns where, under dir (a user cache directory), the model
// of the store that identity names is kept: a file named by a hash of it,
// so that each store gets its own model and none is reused for another.
// A model found there that was built from another store is still noticed
// and rebuilt (see [Board.CatchUp]).
func CachePath(dir, identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return filepath.Join(dir, "jerry", "board-"+hex.EncodeToString(sum[:12])+".db")
}

// Check runs SQLite's integrity check over the whole model (it reads
// every page: for jerry verify, not for every command) and returns an
// error matching ErrDamaged if it finds a problem.
func (b *Board) Check(ctx context.Context) error {
	return b.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "PRAGMA quick_check")
		if err != nil {
			return err
		}
		defer rows.Close()
		var problems []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			if s != "ok" {
				problems = append(problems, s)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(problems) > 0 {
			return fmt.Errorf("%w: %s: %s", ErrDamaged, b.path, strings.Join(problems, "; "))
		}
		return nil
	})
}

// Unwritable reports whether err says the model's file cannot be written:
// a read-only file or directory, no permission, a full disk. A caller can
// then answer from a model of its own elsewhere (a temporary file).
func Unwritable(err error) bool {
	if errors.Is(err, fs.ErrPermission) {
		return true
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_FULL, sqlite3.SQLITE_PERM, sqlite3.SQLITE_IOERR:
			return true
		}
	}
	return false
}
