package main

import (
	"strings"
	"testing"
)

// hostile is text that acts on a terminal when printed raw: OSC 52 writes
// the clipboard, ESC[2J clears the screen, U+202E reverses what follows,
// U+009B is the one-byte CSI of C1.
const hostile = "evil \x1b]52;c;cm0gLXJmIH4=\x07 \x1b[2J \u202eelif.exe \u009b31m end"

// terminalActive reports the first byte or rune of out that a terminal
// would act on, or "".
func terminalActive(out string) string {
	for _, r := range out {
		switch {
		case r == '\n':
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
			return string(r)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return string(r)
		}
	}
	return ""
}

// Human output neutralises control and bidi characters in every field a
// user or agent can write (titles, descriptions, assignees, actors,
// comments, initiative titles, reasons); --json keeps the exact text.
func TestHumanOutputIsTerminalSafe(t *testing.T) {
	e := newEnv(t)
	init := strings.TrimSpace(e.ok("initiative", "create", hostile, "--actor", hostile))
	id := e.create(hostile, "--description", hostile+"\nsecond line", "--initiative", init, "--actor", hostile)
	e.ok("comment", id, hostile, "--actor", hostile)
	e.ok("assign", id, hostile)
	e.ok("status", id, "ready", "--reason", hostile, "--actor", hostile)
	for _, args := range [][]string{
		{"list"}, {"ready"}, {"show", id}, {"history", id}, {"log"},
		{"initiative", "list"}, {"initiative", "show", init}, {"initiative", "history", init},
		{"comment", id, hostile}, {"status", id, "backlog", "--reason", hostile},
	} {
		r := e.run(args...)
		if c := terminalActive(r.stdout + r.stderr); c != "" {
			t.Errorf("jerry %s prints %q raw:\n%s%s", strings.Join(args, " "), c, r.stdout, r.stderr)
		}
	}
	var it struct {
		Title, Assignee, Description string
	}
	e.okJSON(&it, "show", id)
	if it.Title != hostile || it.Assignee != hostile || it.Description != hostile+"\nsecond line" {
		t.Fatalf("--json changed the text: %+v", it)
	}
	// An error naming a hostile ID is neutralised too.
	if r := e.run("show", hostile); terminalActive(r.stderr) != "" {
		t.Errorf("an error prints raw: %q", r.stderr)
	}
}

// A very long actor is cut for display: it must not pad every row of a
// history or a log to its length.
func TestLongActorIsTruncatedForDisplay(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("a", 20000)
	id := e.create("Short", "--actor", long)
	for _, args := range [][]string{{"history", id}, {"log"}} {
		for _, line := range strings.Split(strings.TrimSpace(e.ok(args...)), "\n") {
			if len(line) > 200 {
				t.Errorf("jerry %s: a line of %d bytes: %.120q...", strings.Join(args, " "), len(line), line)
			}
		}
	}
	var h []entry
	e.okJSON(&h, "history", id)
	if len(h) != 1 || h[0].Actor != long {
		t.Fatalf("--json history changed the actor")
	}
}
