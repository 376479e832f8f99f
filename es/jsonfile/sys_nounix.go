//go:build !unix

package jsonfile

import (
	"errors"
	"os"
)

// The store needs flock(2); on systems without it Open fails with this error
// rather than run without a cross-process lock.
var errUnsupported = errors.New("jsonfile: needs flock, which this system lacks")

func flock(*os.File, int) error { return errUnsupported }

const (
	lockEx = iota
	lockSh
	lockUn
)

func datasync(f *os.File) error { return f.Sync() }

func bootID() string { return "" }
