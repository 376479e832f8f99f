// Package testproc lets a test run parts of itself in child processes: the
// test binary starts itself again with an environment variable that tells
// the new process which role to play, so that tests can kill a writer with
// SIGKILL, race separate processes on one store, or drop privileges,
// without a helper binary to build.
//
// [Command] builds the child's command; [Main], called first in TestMain
// (or [Child], called first in a test that [Command] names), makes the
// child play its role instead of running the tests. A child started with
// no test named runs no tests: whatever its role does, it does before the
// testing framework starts.
//
// Only tests use this package.
package testproc

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
)

// Command returns a command that runs the current test binary again with
// the environment variable env set to role, on top of this process's
// environment. The child runs only the tests that the -test.run pattern
// run matches, or none when run is empty; args follow the flags on its
// command line. The caller sets the command's standard streams and starts
// it.
func Command(env, role, run string, args ...string) *exec.Cmd {
	if run == "" {
		run = "^$"
	}
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=" + run}, args...)...)
	cmd.Env = append(os.Environ(), env+"="+role)
	return cmd
}

// Start starts cmd, with its standard error going to this process's unless
// the caller set it, and returns the child's standard output; if either
// step fails, it ends the test with t.Fatal. Set up any other pipe (such as
// cmd.StdinPipe) before calling it.
func Start(t testing.TB, cmd *exec.Cmd) io.ReadCloser {
	t.Helper()
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Child reports the role that the environment variable env gives this
// process, and whether it is a child started with that variable set (to
// anything but the empty string).
func Child(env string) (role string, ok bool) {
	role = os.Getenv(env)
	return role, role != ""
}

// Main makes a child process play its role: if the environment variable
// env is set, it calls play with its value, then exits, with status 0 if
// play returned nil and otherwise with status 1 after printing the error
// to standard error. If env is unset, Main returns at once. Call it first
// in TestMain.
func Main(env string, play func(role string) error) {
	role, ok := Child(env)
	if !ok {
		return
	}
	if err := play(role); err != nil {
		fmt.Fprintf(os.Stderr, "%s=%s: %v\n", env, role, err)
		os.Exit(1)
	}
	os.Exit(0)
}
