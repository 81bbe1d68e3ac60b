package main

import (
	"bytes"
	"strings"
	"testing"
)

func runStarter(args ...string) (string, error) {
	root := rootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// A command that records who acted refuses to run when nobody is named (no --by, DRIVES_USER or
// USER), rather than recording a made-up name; one that only reads runs as before.
func TestActorNeeded(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("DRIVES_USER", "")
	t.Setenv("USER", "")
	for _, args := range [][]string{
		{"pause", "hanoi-2021"},
		{"cancel", "hanoi-2021", "--reason", "x"},
		{"import", "hanoi-2021", "actor_test.go"},
		{"review", "approve", "hanoi-2021", "2021-Q1", "DL-1", "--reason", "x"},
	} {
		_, err := runStarter(args...)
		if err == nil || !strings.Contains(err.Error(), "give --by NAME, or set DRIVES_USER") {
			t.Errorf("%v: error %v; want a request for --by", args, err)
		}
	}
	// Named, the command gets as far as the database.
	if _, err := runStarter("pause", "hanoi-2021", "--by", "lan"); err == nil || strings.Contains(err.Error(), "--by") {
		t.Errorf("pause --by lan: error %v; want one about the connection, not --by", err)
	}
	t.Setenv("USER", "lan")
	if _, err := runStarter("pause", "hanoi-2021"); err == nil || strings.Contains(err.Error(), "--by") {
		t.Errorf("pause as $USER: error %v; want one about the connection, not --by", err)
	}
	if _, err := runStarter("status", "hanoi-2021"); err == nil || strings.Contains(err.Error(), "--by") {
		t.Errorf("status: error %v; want one about the connection, not --by", err)
	}
}

// Each steering command's help says what --reason is for it.
func TestSteerReasonHelp(t *testing.T) {
	for cmd, want := range map[string]string{
		"pause":  "why it is paused (optional",
		"resume": "why it resumes (optional",
		"cancel": "why it is cancelled (required",
	} {
		out, err := runStarter(cmd, "--help")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, want) || strings.Contains(out, "required to cancel") {
			t.Errorf("%s --help:\n%s\nwant --reason %q", cmd, out, want)
		}
	}
}
