package main

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data, and the metadata needed to read it back, to
// stable storage: what es/jsonfile does after each append.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
