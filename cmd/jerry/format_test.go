package main

import (
	"strings"
	"testing"
)

func TestColumns(t *testing.T) {
	var b strings.Builder
	columns(&b, [][]string{{"ID", "STATUS", "TITLE"}, {"J-1", "in_progress", "Fix"}, {"J-10", "döne", "Ship it"}})
	want := "ID    STATUS       TITLE\nJ-1   in_progress  Fix\nJ-10  döne         Ship it\n"
	if b.String() != want {
		t.Fatalf("columns:\n%s\nwant\n%s", b.String(), want)
	}
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain title":           "plain title",
		" two\nlines \t here ":  "two lines here",
		"a  b":                  "a b",
		strings.Repeat("x", 80): strings.Repeat("x", 69) + "...",
	} {
		if got := oneLine(in, 72); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
