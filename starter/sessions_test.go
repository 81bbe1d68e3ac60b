package main

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"drives/store"
)

// An administrator ends all of a user's sessions of the web page, and only theirs.
func TestEndSessions(t *testing.T) {
	ctx := context.Background()
	db := commandDB(t)
	for i, user := range []string{"lan", "lan", "minh"} {
		h := sha256.Sum256([]byte{byte(i)})
		if err := store.CreateWebSession(ctx, db, h[:], user, "csrf", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	open := func(user string) (n int) {
		if err := db.QueryRow(ctx, `select count(*) from web_sessions where user_name = $1 and ended_at is null`, user).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	if out, err := starter(ctx, "serve", "end-sessions"); err == nil || !strings.Contains(err.Error(), "--user") {
		t.Fatalf("no --user: %v\n%s", err, out)
	}
	out, err := starter(ctx, "serve", "end-sessions", "--user", "lan")
	if err != nil || !strings.Contains(out, "ended 2 open session(s) of lan") {
		t.Fatalf("end-sessions: %v\n%s", err, out)
	}
	if open("lan") != 0 || open("minh") != 1 {
		t.Errorf("open sessions after: lan %d (want 0), minh %d (want 1)", open("lan"), open("minh"))
	}
	if out, err = starter(ctx, "serve", "end-sessions", "--user", "lan"); err != nil || !strings.Contains(out, "ended 0 open session(s)") {
		t.Fatalf("again: %v\n%s", err, out)
	}
}
