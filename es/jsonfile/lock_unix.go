//go:build unix

package jsonfile

import (
	"os"
	"syscall"
)

// flock takes or releases an advisory lock on f. The kernel drops it when
// the holder's file is closed, which includes the holder dying: a process
// killed while holding the lock never blocks the others.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

const (
	lockEx = syscall.LOCK_EX
	lockSh = syscall.LOCK_SH
	lockUn = syscall.LOCK_UN
)
