package revision

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"unicode/utf8"

	"drives/units"
)

// RosterMD5 is the MD5 (hex) of a roster as PostgreSQL writes it as text once stored as jsonb
// (store.PlanInForceWithoutRoster): an agent's keys by length then bytes, ", " between
// elements and ": " after keys, strings with only '"', '\' and control characters escaped,
// numbers as encoding/json writes them. It equals the stored roster's digest when the two
// rosters are the same; a roster it writes otherwise (a number in exponent form, invalid UTF-8)
// only fails to match, and is then compared decoded.
func RosterMD5(roster []units.Agent) string {
	b := make([]byte, 0, 160*len(roster)+2)
	b = append(b, '[')
	for i, a := range roster {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, `{"code": `...)
		b = appendPGString(b, a.Code)
		b = append(b, `, "kind": `...)
		b = appendPGString(b, a.Kind)
		b = append(b, `, "name": `...)
		b = appendPGString(b, a.Name)
		b = append(b, `, "phone": `...)
		b = appendPGString(b, a.Phone)
		b = append(b, `, "weight": `...)
		b = strconv.AppendFloat(b, a.Weight, 'f', -1, 64)
		b = append(b, `, "commune": `...)
		b = appendPGString(b, a.Commune)
		b = append(b, `, "post_office": `...)
		b = strconv.AppendBool(b, a.PostOffice)
		b = append(b, '}')
	}
	b = append(b, ']')
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// appendPGString writes s as PostgreSQL's escape_json does.
func appendPGString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		// encoding/json stored it with U+FFFD in place of the invalid bytes: never the same.
		return append(b, "\x00invalid"...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		default:
			if c < ' ' {
				const hexDigits = "0123456789abcdef"
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}
