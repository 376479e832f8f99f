package natsjs_test

import "syscall"

// childAttr makes a child server process die with the test binary, so that
// a test that crashes leaves no server behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
