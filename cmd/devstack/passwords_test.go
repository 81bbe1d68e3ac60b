package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// .dev/web-passwords is a file of shell variables: an older file in sentences (what starter
// serve user and starter users add print) is rewritten as variables, and a shell that sources
// it has each user's password and token.
func TestWebPasswordsFile(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.Mkdir(".dev", 0o755); err != nil {
		t.Fatal(err)
	}
	old := `user coordinator (coordinator) written to .dev/web-users.yaml; password: pw-c_1  API token: tok-C_1
user auditor (auditor) written to .dev/web-users.yaml; password: pw-a_2  API token: tok-A_2
added account ba-vi: role district, campaign all, districts 271
one-time password: once-3
  (shown this once: it signs in only to choose a new password, which must be done at the first sign-in)
`
	if err := os.WriteFile(webPasswords, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := addPasswords(map[string]string{varName("nam.le", "ONE_TIME_PASSWORD"): "once-4"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(webPasswords)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s:\n%s", webPasswords, b)
	if fi, _ := os.Stat(webPasswords); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v; want 0600", fi.Mode().Perm())
	}
	out, err := exec.Command("sh", "-c", `. ./`+webPasswords+` && echo "$WEB_COORDINATOR_PASSWORD $WEB_COORDINATOR_TOKEN $WEB_AUDITOR_PASSWORD $WEB_AUDITOR_TOKEN $WEB_BA_VI_ONE_TIME_PASSWORD $WEB_NAM_LE_ONE_TIME_PASSWORD"`).CombinedOutput()
	if err != nil {
		t.Fatalf("sourcing it: %v: %s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "pw-c_1 tok-C_1 pw-a_2 tok-A_2 once-3 once-4"; got != want {
		t.Errorf("sourced: %q; want %q", got, want)
	}
	// Read again, the file gives the same variables (nothing lost when the demo adds one).
	if v := passwordVars(b); len(v) != 6 || v["WEB_AUDITOR_TOKEN"] != "tok-A_2" {
		t.Errorf("read again: %v", v)
	}
}
