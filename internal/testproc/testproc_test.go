package testproc_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/jerry-es/jerry/internal/testproc"
)

const roleEnv = "JERRY_TESTPROC_ROLE"

func TestMain(m *testing.M) {
	testproc.Main(roleEnv, func(role string) error {
		switch role {
		case "echo":
			// Print the arguments after the flags, to show they arrive.
			fmt.Println(strings.Join(os.Args[len(os.Args)-2:], " "))
			return nil
		case "fail":
			return errors.New("asked to fail")
		}
		return fmt.Errorf("unknown role %q", role)
	})
	os.Exit(m.Run())
}

// TestMainPlaysRole: a child started with a role plays it instead of
// running the tests, gets the extra arguments, and exits 0.
func TestMainPlaysRole(t *testing.T) {
	out, err := testproc.Command(roleEnv, "echo", "", "a", "b").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != "a b\n" {
		t.Fatalf("child printed %q, want %q", got, "a b\n")
	}
}

// TestMainFails: a role that returns an error exits 1 and says why.
func TestMainFails(t *testing.T) {
	out, err := testproc.Command(roleEnv, "fail", "").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("child ended with %v, want exit status 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "asked to fail") {
		t.Fatalf("child's output %q does not give the error", out)
	}
}

// TestStart: Start starts the child and hands over its standard output.
func TestStart(t *testing.T) {
	cmd := testproc.Command(roleEnv, "echo", "", "c", "d")
	out, err := io.ReadAll(testproc.Start(t, cmd))
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != "c d\n" {
		t.Fatalf("child printed %q, want %q", got, "c d\n")
	}
}

const childEnv = "JERRY_TESTPROC_CHILD"

// TestChildRunsNamedTest: a child started with a test named runs that test
// (only), where Child tells it its role.
func TestChildRunsNamedTest(t *testing.T) {
	if role, ok := testproc.Child(childEnv); ok {
		fmt.Println("child role", role)
		return
	}
	cmd := testproc.Command(childEnv, "x1", "^TestChildRunsNamedTest$", "-test.v")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "child role x1") {
		t.Fatalf("child's output %q lacks its role", out)
	}
	if strings.Contains(string(out), "TestMainPlaysRole") {
		t.Fatalf("child ran other tests:\n%s", out)
	}
}

// TestChildUnset: without the variable a process is not a child.
func TestChildUnset(t *testing.T) {
	t.Setenv(childEnv, "")
	if role, ok := testproc.Child(childEnv); ok {
		t.Fatalf("Child = %q, true with the variable empty", role)
	}
}
