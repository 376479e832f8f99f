// Package atomicfile replaces whole files so that a crash leaves either the
// old content or the new, never a mix, and a call that returned survives
// power loss.
//
// WriteFile writes the new content to a temporary file in the same
// directory (a unique name, so concurrent writers never share one), fsyncs
// it, renames it over the target, and fsyncs the directory. The order is the
// point: without the first fsync the rename can reach the disk before the
// data, leaving an empty or partial file under the final name; without the
// second the rename itself can be undone by a crash after the call returned.
// With NoSync both fsyncs are skipped: the replacement is still atomic for
// readers and across a crash of the process, but not across a crash of the
// machine.
//
// Local filesystems only: rename and fsync are not atomic or durable on
// every network filesystem.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Option changes how WriteFile writes.
type Option func(*options)

type options struct {
	noSync bool
	perm   os.FileMode
	prefix string
}

// NoSync skips both fsyncs; see the package documentation for what it risks.
func NoSync() Option { return func(o *options) { o.noSync = true } }

// Perm sets the permission bits of the new file (default 0644, before umask).
func Perm(p os.FileMode) Option { return func(o *options) { o.perm = p } }

// TempPrefix sets the name prefix of the temporary file (default ".tmp-"),
// so that a reader of the directory can tell temporary files from its own.
func TempPrefix(p string) Option { return func(o *options) { o.prefix = p } }

// WriteFile replaces path with data: atomically, and durably unless NoSync.
// On error the target is unchanged and the temporary file removed.
func WriteFile(path string, data []byte, opts ...Option) (err error) {
	o := options{perm: 0o644, prefix: ".tmp-"}
	for _, opt := range opts {
		opt(&o)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, o.prefix+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(o.perm); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if !o.noSync {
		// The data must be on disk before the rename can be.
		if err = tmp.Sync(); err != nil {
			return err
		}
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if o.noSync {
		return nil
	}
	// The rename lives in the directory: sync it so that it survives.
	return SyncDir(dir)
}

// SyncDir fsyncs the directory dir, making the creation, removal and
// renaming of its entries durable. Syncing a file does not do that.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
