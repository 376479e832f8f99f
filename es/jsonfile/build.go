package jsonfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/jerry-es/jerry/internal/atomicfile"
	"github.com/jerry-es/jerry/internal/flock"
)

// ErrNotEmpty means Build found events in the store it was to make.
var ErrNotEmpty = errors.New("jsonfile: not an empty store")

// Build makes the store in dir all at once, for an import: fill writes into
// a new store built aside, in the directory dir+".build" (opened with NoSync
// and opts), and once fill returns nil every file there is made durable and
// the directory takes dir's place in one rename. dir must not exist, or be
// a store without events, which the new one replaces (nobody may write to
// it meanwhile: a write that waits for its lock then goes to the store
// replaced, and is lost). Files in dir that are not the store's (a
// project's config) are kept.
//
// Until that rename nothing in dir changes, so a process killed midway, a
// full disk or a failing fill leave dir as it was (absent or empty): fill's
// error is returned and the directory built aside removed; one a killed
// Build left is removed by the next. Builds of one dir exclude each other
// through the lock file dir+".build.lock", there while one runs (a Build
// killed just after its rename may leave it, and the empty store it
// replaced, dir+".replaced": harmless, and removed by the next Build).
func Build(ctx context.Context, dir string, fill func(*Store) error, opts ...Option) error {
	dir = filepath.Clean(dir)
	stage, old := dir+".build", dir+".replaced"
	unlock, err := lockBuild(dir + ".build.lock")
	if err != nil {
		return err
	}
	defer unlock()
	// What a killed build left.
	if err := removeAll(stage, old); err != nil {
		return err
	}
	if err := checkEmpty(dir); err != nil {
		return err
	}
	if err := buildAside(ctx, stage, fill, opts); err != nil {
		if rerr := os.RemoveAll(stage); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return err
	}
	return replace(dir, stage, old)
}

// lockBuild takes the build lock at path, or fails if another build holds
// it; unlock removes the file and releases the lock.
func lockBuild(path string) (unlock func(), err error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("jsonfile: build lock: %w", err)
		}
		if err := flock.TryLock(f, flock.Exclusive); err != nil {
			f.Close()
			if errors.Is(err, flock.ErrWouldBlock) {
				return nil, fmt.Errorf("jsonfile: %s: another build of this store is running", path)
			}
			return nil, fmt.Errorf("jsonfile: build lock: %w", err)
		}
		// The holder before removed the file once done: the lock taken
		// must be on the file now at path.
		held, herr := f.Stat()
		at, aerr := os.Stat(path)
		if herr == nil && aerr == nil && os.SameFile(held, at) {
			return func() { os.Remove(path); f.Close() }, nil
		}
		f.Close()
		if herr != nil {
			return nil, herr
		}
	}
}

func removeAll(dirs ...string) error {
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("jsonfile: remove %s, left by a build cut short: %w", d, err)
		}
	}
	return nil
}

// checkEmpty returns nil if dir does not exist or holds a store without
// events, and an error matching ErrNotEmpty if it holds anything else.
func checkEmpty(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s is a file", ErrNotEmpty, dir)
	}
	log, err := os.Stat(filepath.Join(dir, logName))
	if errors.Is(err, fs.ErrNotExist) {
		// Not a store: a directory of files that are not a store's (a
		// project's config) will do; they are kept (see replace).
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, e := range ents {
			if storeNames[e.Name()] {
				return fmt.Errorf("%w: %s holds %s but no log", ErrNotEmpty, dir, e.Name())
			}
		}
		return nil
	}
	if err != nil {
		return err
	}
	if log.Size() > 0 {
		return fmt.Errorf("%w: %s holds %d bytes of events", ErrNotEmpty, dir, log.Size())
	}
	return nil
}

// buildAside makes a new store in stage, runs fill on it, and makes every
// file durable.
func buildAside(ctx context.Context, stage string, fill func(*Store) error, opts []Option) error {
	st, err := Open(stage, append(opts[:len(opts):len(opts)], NoSync())...)
	if err != nil {
		return err
	}
	err = fill(st)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Reopened synced, a checkpoint makes the derived files durable and
	// records that in the head, so that the first open after a reboot
	// indexes nothing again; the log and the directories go with it.
	st, err = Open(stage, opts...)
	if err != nil {
		return err
	}
	defer st.Close()
	st.flockMu.Lock()
	defer st.flockMu.Unlock()
	err = st.withLock(flock.Exclusive, func() error {
		if err := st.syncLocked(); err != nil {
			return err
		}
		return st.checkpoint()
	})
	if errors.Is(err, errNoSyncFS) {
		return syncTree(stage)
	}
	return err
}

// syncTree fsyncs every file and directory under dir, where syncfs(2) is
// not to be had.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}

// replace puts the store built in stage in dir's place: dir, if it is there
// (an empty store), is renamed to old first, under its lock, and removed
// after.
func replace(dir, stage, old string) error {
	parent := filepath.Dir(dir)
	if _, err := os.Stat(dir); err == nil {
		lock, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		defer lock.Close()
		if err := flock.Lock(lock, flock.Exclusive, 5*time.Second, nil); err != nil {
			return fmt.Errorf("jsonfile: lock %s: %w", dir, err)
		}
		if err := checkEmpty(dir); err != nil {
			return err // written to meanwhile
		}
		if err := keepOthers(dir, stage); err != nil {
			return err
		}
		if err := os.Rename(dir, old); err != nil {
			return err
		}
	}
	if err := os.Rename(stage, dir); err != nil {
		return err
	}
	// The rename is what makes the build visible: durable before Build
	// returns.
	if err := atomicfile.SyncDir(parent); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// storeNames are the names a store's directory holds of its own, and the
// directories of read models and checkpoints kept in it: anything else
// there (a project's config) is not the store's.
var storeNames = map[string]bool{
	lockName: true, logName: true, headName: true, positionsName: true, streamsDir: true,
	snapshotsDir: true, tableName: true, repairsName: true, ModelsDir: true, CheckpointsDir: true,
}

// keepOthers copies into stage the files of dir that are not the store's
// (a project's config), so that replacing dir keeps them; it syncs what it
// copied.
func keepOthers(dir, stage string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if storeNames[e.Name()] || !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(filepath.Join(stage, e.Name()), b, atomicfile.Perm(info.Mode().Perm())); err != nil {
			return fmt.Errorf("jsonfile: keep %s: %w", e.Name(), err)
		}
	}
	return nil
}

// errNoSyncFS is what syncFS returns where the system has no syncfs(2).
var errNoSyncFS = errors.New("jsonfile: syncfs is not available on this system")
