//go:build unix && !linux

package jsonfile

import (
	"os"
)

func datasync(f *os.File) error { return f.Sync() }

// bootID is unknown here: derived files are then trusted across reboots,
// which is only as safe as the operating system's write ordering.
func bootID() string { return "" }

// syncFS is missing here: no checkpoint is recorded, and the first open
// after a reboot rebuilds the derived files from the whole log.
func syncFS(*os.File) error { return errNoSyncFS }
