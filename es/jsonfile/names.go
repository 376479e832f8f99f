package jsonfile

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxNameLen bounds an encoded stream name, well under the 255 bytes most
// filesystems allow for a file name, leaving room for suffixes.
const maxNameLen = 180

// fileName maps a stream ID to a file name, injectively and safely.
//
// Bytes in [a-z0-9-] stand for themselves; every other byte, '_' included,
// becomes '_' and two lower-case hex digits. The result uses only lower-case
// letters, digits, '-' and '_', so it cannot contain a path separator or be
// "." or "..", and two IDs that differ only in case ("A" is "_41") still get
// names that differ on a case-insensitive filesystem. Because '_' is always
// escaped, the encoding is reversible, hence injective: "a/b" is "a_2fb" and
// "a_b" is "a_5fb".
//
// An encoding longer than maxNameLen is cut at an escape boundary and
// followed by '~' and 32 hex digits of the SHA-256 of the full ID. '~' never
// occurs in an unshortened name, so a shortened name cannot equal an
// unshortened one; two long IDs share a name only if 128 bits of SHA-256
// collide, and even then the store notices, because every record carries
// its full stream ID and readers check it.
func fileName(stream string) string {
	var b strings.Builder
	b.Grow(len(stream) + 8)
	const hexdigits = "0123456789abcdef"
	for i := 0; i < len(stream); i++ {
		c := stream[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteByte(hexdigits[c>>4])
		b.WriteByte(hexdigits[c&15])
	}
	name := b.String()
	if len(name) <= maxNameLen {
		return name
	}
	cut := maxNameLen - 33
	// Do not split an escape: back up to before a '_' that starts one.
	for i := cut - 1; i >= cut-2 && i >= 0; i-- {
		if name[i] == '_' {
			cut = i
			break
		}
	}
	sum := sha256.Sum256([]byte(stream))
	return name[:cut] + "~" + hex.EncodeToString(sum[:16])
}

// streamFromName reverses fileName for names that were not shortened. It
// reports false for shortened or malformed names.
func streamFromName(name string) (string, bool) {
	if strings.IndexByte(name, '~') >= 0 {
		return "", false
	}
	var b []byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-':
			b = append(b, c)
		case c == '_' && i+2 < len(name):
			v, err := hex.DecodeString(name[i+1 : i+3])
			if err != nil {
				return "", false
			}
			b = append(b, v[0])
			i += 2
		default:
			return "", false
		}
	}
	return string(b), true
}
