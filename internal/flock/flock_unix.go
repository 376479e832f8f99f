//go:build unix

package flock

import (
	"os"
	"syscall"
)

func how(m Mode) int {
	if m == Exclusive {
		return syscall.LOCK_EX
	}
	return syscall.LOCK_SH
}

func lock(f *os.File, m Mode) error {
	for {
		err := syscall.Flock(int(f.Fd()), how(m))
		if err != syscall.EINTR {
			if err != nil {
				return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}

func tryLock(f *os.File, m Mode) error {
	for {
		err := syscall.Flock(int(f.Fd()), how(m)|syscall.LOCK_NB)
		switch err {
		case syscall.EINTR:
			continue
		case syscall.EWOULDBLOCK:
			return ErrWouldBlock
		case nil:
			return nil
		}
		return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
}

func unlock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		if err != syscall.EINTR {
			if err != nil {
				return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}
