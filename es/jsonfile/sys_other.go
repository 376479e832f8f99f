//go:build unix && !linux

package jsonfile

import "os"

func datasync(f *os.File) error { return f.Sync() }

// bootID is unknown here: derived files are then trusted across reboots,
// which is only as safe as the operating system's write ordering.
func bootID() string { return "" }
