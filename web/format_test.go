package web

import (
	"strings"
	"testing"
	"time"
)

// Numbers and dates as Vietnam writes them, and as English does after the switch.
func TestFormats(t *testing.T) {
	cases := []struct{ got, want string }{
		{formatInt(langVI, 51189), "51.189"},
		{formatInt(langEN, 51189), "51,189"},
		{formatInt(langVI, 999), "999"},
		{formatInt(langVI, -1234567), "-1.234.567"},
		{formatPct(langVI, 98.43), "98,4 %"},
		{formatPct(langEN, 98.43), "98.4%"},
		{formatPct(langVI, 101.96), "102,0 %"},
		{formatPct(langVI, 1234.5), "1.234,5 %"},
		{formatPct(langVI, -0.4), "-0,4 %"},
		{formatVND(langVI, 29800000), "29.800.000 ₫"},
		{formatVND(langEN, 700000), "700,000 VND"},
		{formatDate(time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC)), "29/11/2026"},
		{ratio(51189, 52000), "0.9844038461538461"},
		{ratio(3, 0), "0"},
		{tr(langVI, "Enrolled"), "Đã tham gia"},
		{tr(langEN, "Enrolled"), "Enrolled"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// A users file is checked whole: every bad entry named.
func TestParseUsers(t *testing.T) {
	_, err := ParseUsers("users.yaml", []byte(`users:
  - name: Lan
    role: boss
    password_bcrypt: plain
  - name: minh
    role: auditor
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`users[0]: name: "Lan"`, `role: "boss" is not coordinator or auditor`,
		"password_bcrypt: not a bcrypt hash", "users[1] (minh): give password_bcrypt or token_sha256"} {
		if !contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if _, err := ParseUsers("users.yaml", []byte("users:\n  - name: x\n    rol: auditor\n")); err == nil || !contains(err.Error(), "field rol not found") {
		t.Errorf("an unknown field: %v", err)
	}
	u, err := NewUser("lan", RoleCoordinator, "a long password", "tok")
	if err != nil {
		t.Fatal(err)
	}
	us := &Users{Users: []User{u}}
	if us.checkPassword("lan", "a long password") == nil || us.checkPassword("lan", "wrong password") != nil || us.checkPassword("nobody", "a long password") != nil {
		t.Error("password check")
	}
	if us.checkToken("tok") == nil || us.checkToken("tok2") != nil {
		t.Error("token check")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
