package imports

import "testing"

// The per-line checks without regexps accept exactly what the patterns do.
func TestDigitChecksAreTheirPatterns(t *testing.T) {
	for _, s := range []string{"", "0", "012345678", "123456789012", "12345678901", "1234567890123", "01234567a",
		"0912345678", "091234567", "09123456789", "1912345678", "09123 5678", "０912345678", "１23456789", "12345678\n",
		"\n123456789", "-12345678", "+84912345678", "0x12345678"} {
		if got, want := isCitizenID(s), citizenIDRe.MatchString(s); got != want {
			t.Errorf("isCitizenID(%q) = %v, pattern says %v", s, got, want)
		}
		if got, want := isPhone(s), phoneRe.MatchString(s); got != want {
			t.Errorf("isPhone(%q) = %v, pattern says %v", s, got, want)
		}
	}
}
