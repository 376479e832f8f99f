package jsonfile

import (
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// datasync makes f's data durable. fdatasync skips the inode's timestamps,
// which the store never needs, but still writes the size of a grown file.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}

// bootID identifies the running kernel boot. Derived files written without
// fsync are trusted only within the boot that wrote them.
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// syncFS flushes every file of the filesystem that holds f: the derived
// files every writer wrote, in one call.
func syncFS(f *os.File) error {
	for {
		err := unix.Syncfs(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}
