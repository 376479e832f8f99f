package main

import (
	"strings"
	"testing"

	"github.com/jerry-es/jerry/tracker/app"
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

// Human output neutralises what a terminal would act on: C0 and C1
// controls (ESC starts OSC 52, which writes the clipboard, and ESC[2J,
// which clears the screen) and bidi controls (U+202E turns text around).
// It shows them escaped instead, so that nothing is hidden either.
func TestDisplayNeutralisesControls(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                        "plain",
		"\x1b]52;c;ZXZpbA==\x07title":  `\x1b]52;c;ZXZpbA==\x07title`,
		"\x1b[2Jgone":                  `\x1b[2Jgone`,
		"abc\u202edef":                 `abc\u202edef`,
		"\u2066isolate\u2069":          `\u2066isolate\u2069`,
		"c1 \u009b2J csi":              `c1 \u009b2J csi`,
		"bad \xff utf-8":               "bad \ufffd utf-8",
		"zero\u200bwidth\u200fmark":    `zero\u200bwidth\u200fmark`,
		"ünïcode ✓ 修复":                 "ünïcode ✓ 修复",
		"tab\tand\rreturn\x7f":         "tab\tand\\rreturn\\x7f",
		"\u061carabic letter mark":     `\u061carabic letter mark`,
		"line\u2028separator\u2029end": `line\u2028separator\u2029end`,
	} {
		if got := display(in); got != want {
			t.Errorf("display(%q) = %q, want %q", in, got, want)
		}
	}
}

// Tables align by display width: a CJK character takes two columns.
func TestColumnsDisplayWidth(t *testing.T) {
	var b strings.Builder
	columns(&b, [][]string{{"ASSIGNEE", "TITLE"}, {"李雷", "one"}, {"bob", "two"}})
	want := "ASSIGNEE  TITLE\n李雷      one\nbob       two\n"
	if b.String() != want {
		t.Fatalf("columns:\n%s\nwant\n%s", b.String(), want)
	}
	if w := displayWidth("修复登录 ok"); w != 11 {
		t.Errorf("displayWidth = %d, want 11", w)
	}
}

// Cutting to a width counts display columns, and never splits a wide
// character.
func TestOneLineCutsByDisplayWidth(t *testing.T) {
	got := oneLine(strings.Repeat("修", 50), 72)
	if w := displayWidth(got); w > 72 || !strings.HasSuffix(got, "...") {
		t.Fatalf("oneLine of 100 columns of CJK: %q is %d columns wide, want at most 72 ending in ...", got, w)
	}
	if got := oneLine("\x1b[2J title", 72); strings.ContainsRune(got, 0x1b) {
		t.Fatalf("oneLine kept an escape: %q", got)
	}
}

// The exit codes jerry documents are the ones app gives each class of
// error.
func TestExitCodes(t *testing.T) {
	for class, want := range map[app.Class]int{app.Failure: exitFailure, app.Invalid: exitUsage, app.Conflict: exitConflict, app.NotFound: exitNotFound} {
		if got := class.ExitCode(); got != want {
			t.Errorf("class %d: exit code %d, want %d", class, got, want)
		}
	}
}
