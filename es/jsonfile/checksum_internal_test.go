package jsonfile

import (
	"bytes"
	"testing"
)

// A flipped bit 5 turns a hex letter into its upper-case twin: a parser
// that folded case would read the same checksum and miss the damage. Every
// such flip in a head's or a line's checksum must be refused.
func TestChecksumCaseFlipsAreSeen(t *testing.T) {
	h := head{size: 978, last: 3, boot: "cc9a7058-e757-4ee0-a576-4bbe5ae0e04f"}
	var enc []byte
	// Find a head whose checksum has a hex letter, so the case matters.
	for ; ; h.last++ {
		enc = h.encode()
		if bytes.ContainsAny(enc[headLen-9:headLen-1], "abcdef") {
			break
		}
	}
	if _, err := parseHead(enc); err != nil {
		t.Fatalf("intact head refused: %v", err)
	}
	for i := headLen - 9; i < headLen-1; i++ {
		if c := enc[i]; c >= 'a' && c <= 'f' {
			bad := bytes.Clone(enc)
			bad[i] ^= 0x20
			if _, err := parseHead(bad); err == nil {
				t.Errorf("head with checksum byte %d flipped to %q accepted", i, bad[i])
			}
		}
	}

	for _, sum := range []string{"1c2d3e4f", "abcdef01"} {
		if _, ok := parseHex32([]byte(sum)); !ok {
			t.Fatalf("parseHex32(%q) refused", sum)
		}
		for i := range sum {
			if c := sum[i]; c >= 'a' && c <= 'f' {
				bad := []byte(sum)
				bad[i] ^= 0x20
				if _, ok := parseHex32(bad); ok {
					t.Errorf("parseHex32(%q) accepted", bad)
				}
			}
		}
	}
}
