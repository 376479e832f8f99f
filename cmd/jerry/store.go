package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/es/natsjs"
	"github.com/jerry-es/jerry/es/postgres"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/board"
)

// store is what jerry needs of a store.
type store interface {
	es.EventStore
	es.LogReader
	es.SnapshotStore
	Close() error
}

// storeDir is the directory name jerry looks for, from the current
// directory upward.
const storeDir = ".jerry"

// resolveStore returns the store URL; see locate.
func resolveStore(flag string) (string, error) {
	w, err := locate(flag)
	return w.store, err
}

// fileStorePath returns the directory of a file store's URL (file:PATH or
// file://PATH), and whether the URL names a file store.
func fileStorePath(url string) (string, bool) {
	scheme, rest, ok := strings.Cut(url, ":")
	if !ok || !strings.EqualFold(scheme, "file") {
		return "", false
	}
	return strings.TrimPrefix(rest, "//"), true
}

// openStore opens the store a URL names. This is the one place that picks
// an adapter:
//
//	file:PATH, file://PATH   the JSON file store in directory PATH
//	postgres://..., postgresql://...   PostgreSQL (schema created or migrated on open)
//	nats://HOST:PORT[?stream=NAME&replicas=N]   NATS JetStream (stream created on open)
func openStore(ctx context.Context, url string) (store, error) {
	scheme, _, ok := strings.Cut(url, ":")
	if !ok {
		return nil, usagef("invalid store URL %q: want file:PATH or postgres://...", url)
	}
	switch strings.ToLower(scheme) {
	case "file":
		path, _ := fileStorePath(url)
		if path == "" {
			return nil, usagef("invalid store URL %q: no path", url)
		}
		return openFileStore(ctx, path)
	case "postgres", "postgresql":
		st, err := postgres.Open(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", redact(url), err)
		}
		return st, nil
	case "nats":
		st, err := natsjs.Open(ctx, url)
		if err != nil {
			return nil, fmt.Errorf("open store %s: %w", redact(url), err)
		}
		return st, nil
	}
	return nil, usagef("invalid store URL %q: unknown scheme %q (want file:PATH, postgres://... or nats://...)", redact(url), scheme)
}

// missingFileStore reports whether url names a file store whose directory
// does not exist.
func missingFileStore(url string) bool {
	scheme, rest, ok := strings.Cut(url, ":")
	if !ok || !strings.EqualFold(scheme, "file") {
		return false
	}
	path := strings.TrimPrefix(rest, "//")
	if path == "" {
		return false // openStore says what is wrong
	}
	_, err := os.Stat(path)
	return errors.Is(err, os.ErrNotExist)
}

// emptyStore is the store a read answers from when there is none: empty,
// in memory, gone when the command ends.
type emptyStore struct{ *memstore.Store }

// Close implements store.
func (emptyStore) Close() error { return nil }

// redact hides a password in a URL.
func redact(url string) string {
	if at := strings.Index(url, "@"); at > 0 {
		if colon := strings.LastIndex(url[:at], ":"); colon > strings.Index(url, "://")+2 {
			return url[:colon+1] + "***" + url[at:]
		}
	}
	return url
}

// openFileStore opens the JSON file store in directory path, creating it
// if needed.
func openFileStore(_ context.Context, path string) (store, error) {
	st, err := jsonfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return st, nil
}

// initStore creates a store directory at path; it is not an error if one is
// there already.
func initStore(ctx context.Context, path string) (created bool, err error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, err
	}
	st, err := openFileStore(ctx, path)
	if err != nil {
		return false, err
	}
	return true, st.Close()
}

// resolveActor returns who acts: the --actor flag, else JERRY_ACTOR, else
// the OS user.
func resolveActor(flag string) string {
	if a := strings.TrimSpace(flag); a != "" {
		return a
	}
	if a := strings.TrimSpace(os.Getenv("JERRY_ACTOR")); a != "" {
		return a
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

// storeCheck adapts a store's own integrity check, if it has one, for
// app.Service.Verify; notes lists the repairs the store made when it
// opened or before its check.
func storeCheck(st store) (check app.StoreCheck, notes func() []string) {
	fs, ok := st.(*jsonfile.Store)
	if !ok {
		return nil, func() []string { return nil }
	}
	notes = func() []string {
		var out []string
		for _, r := range fs.Recovered() {
			out = append(out, "repaired on open: "+r.String())
		}
		return out
	}
	return func(ctx context.Context) ([]error, error) {
		rep, err := fs.Verify(ctx)
		if rep != nil && !rep.OK() {
			problems := rep.Problems
			if more := rep.NumProblems - len(problems); more > 0 {
				problems = append(problems, fmt.Errorf("and %d more problems", more))
			}
			return problems, nil
		}
		return nil, err
	}, notes
}

// buildFileStore makes the file store in dir all or nothing
// (jsonfile.Build): fill runs on a service over a store built aside, which
// takes dir's place once fill has succeeded.
func buildFileStore(ctx context.Context, dir string, fill func(*app.Service) error) error {
	err := jsonfile.Build(ctx, dir, func(st *jsonfile.Store) error { return fill(app.New(st, st, st)) })
	if errors.Is(err, jsonfile.ErrNotEmpty) {
		return fmt.Errorf("%w: %w", app.ErrNotEmpty, err)
	}
	return err
}

// repairStore runs the store's own repair, for verify --repair, and says
// what it did. Only file stores have one; PostgreSQL's constraints keep its
// tables whole.
func repairStore(ctx context.Context, url string) ([]string, error) {
	scheme, rest, ok := strings.Cut(url, ":")
	if !ok || !strings.EqualFold(scheme, "file") {
		return nil, usagef("verify --repair: only file stores can be repaired (store %s)", redact(url))
	}
	recs, err := jsonfile.Repair(ctx, strings.TrimPrefix(rest, "//"))
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.String()
	}
	return out, err
}

// boardPath returns where the store's indexed read model (package
// tracker/board: labels, search, filters, list --as-of, the log's
// filters) lives ("": a temporary one, built from the log by each
// command):
//
//	file store   DIR/readmodels/board.db, beside the events
//	PostgreSQL   a local cache file, USER_CACHE_DIR/jerry/board-HASH.db,
//	             named by the server, database and schema
//
// The PostgreSQL model is local rather than tables on the server: its
// reads cost no round trip and load the shared server with nothing, and
// one SQLite engine (with FTS5) serves every backend; a new machine pays
// one catch-up from the log. A cache built from another store under the
// same name is noticed (the event at its position differs) and rebuilt.
// JERRY_READ_MODEL=off builds a temporary one from the whole log.
func boardPath(st store, url string) (string, error) {
	if v := os.Getenv("JERRY_READ_MODEL"); v != "" {
		switch strings.ToLower(v) {
		case "off", "0", "false", "no":
			return "", nil
		}
	}
	switch st := st.(type) {
	case *jsonfile.Store:
		return filepath.Join(st.Dir(), jsonfile.ModelsDir, app.BoardFile), nil
	case *postgres.Store:
		dir, err := os.UserCacheDir()
		if err != nil {
			return "", nil
		}
		return board.CachePath(dir, redact(url)+"#"+st.Schema()), nil
	}
	return "", nil
}
