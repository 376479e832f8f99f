//go:build !unix

package jsonfile

import (
	"os"
)

func datasync(f *os.File) error { return f.Sync() }

func bootID() string { return "" }

func syncFS(*os.File) error { return errNoSyncFS }
