//go:build !unix

package flock

import "os"

func tryLock(*os.File, Mode) error { return ErrUnsupported }

func lock(*os.File, Mode) error { return ErrUnsupported }

func unlock(*os.File) error { return ErrUnsupported }
