package natsjs

import (
	"strings"
	"testing"
)

// TestValidStreamName: 1 to 32 ASCII letters, digits, '-' or '_', nothing else.
func TestValidStreamName(t *testing.T) {
	for name, want := range map[string]bool{
		"JERRY":                 true,
		"a":                     true,
		"lost_x-1":              true,
		"Z9_-":                  true,
		strings.Repeat("a", 32): true,
		"":                      false,
		strings.Repeat("a", 33): false,
		"a.b":                   false,
		"a b":                   false,
		"a*":                    false,
		"a>":                    false,
		"é":                     false,
		"a\n":                   false,
	} {
		if got := validStreamName(name); got != want {
			t.Errorf("validStreamName(%q) = %v, want %v", name, got, want)
		}
	}
}
