//go:build unix

package jsonfile

import (
	"os"
	"syscall"
)

// lockModelFile takes an exclusive flock(2) on the file at path, creating
// it. The kernel drops the lock if the process dies.
func lockModelFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil // closing releases the lock
}
