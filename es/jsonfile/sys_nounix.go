//go:build !unix

package jsonfile

import (
	"errors"
	"os"
)

func datasync(f *os.File) error { return f.Sync() }

func bootID() string { return "" }

func syncFS(*os.File) error { return errNoSyncFS }

var errNoSyncFS = errors.New("jsonfile: syncfs is not available on this system")
