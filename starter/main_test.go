package main

import (
	"bytes"
	"strings"
	"testing"
)

// Bad command lines are refused before anything is contacted, with the flag or argument named.
func TestBadCommandLines(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("DRIVES_WEB_USERS", "")
	t.Setenv("DRIVES_USER", "tester") // TestActorNeeded checks the refusal without one
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"status", "Hanoi 2021"}, `campaign "Hanoi 2021": not a campaign id`},
		{[]string{"status"}, "accepts 1 arg(s), received 0"},
		{[]string{"report", "hanoi-2021", "--format", "xml"}, `--format: "xml" is not table, csv, json or xlsx`},
		{[]string{"report", "hanoi-2021", "--level", "province"}, `--level: "province" is not district, commune, village or all`},
		{[]string{"report", "hanoi-2021", "--format", "xlsx", "--level", "province"}, `--level: "province" is not district, commune, village or all`},
		{[]string{"report", "hanoi-2021", "--format", "xlsx", "--out", "no-such-folder/r.xlsx"}, "--out no-such-folder/r.xlsx: cannot write in folder no-such-folder: no such file or directory"},
		{[]string{"report", "hanoi-2021", "--out", "."}, "--out .: is a folder; name a file"},
		{[]string{"event", "add", "hanoi-2021", "--id", "x", "--kind", "dialogue", "--unit", "001", "--groups", "farmer"}, `required flag(s) "date" not set`},
		{[]string{"event", "add", "hanoi-2021", "--id", "x", "--kind", "dialogue", "--unit", "001", "--groups", "farmer", "--date", "2021-13-01"}, `--date: "2021-13-01" is not a date`},
		{[]string{"event", "cancel", "hanoi-2021", "x"}, `required flag(s) "reason" not set`},
		{[]string{"cancel", "hanoi-2021"}, `required flag(s) "reason" not set`},
		{[]string{"event", "results", "hanoi-2021", "x", "leads.csv", "--attendance", "-3"}, "--attendance: must not be negative"},
		{[]string{"import", "hanoi-2021", "no-such-file.csv"}, "no-such-file.csv: no such file or directory"},
		{[]string{"launch", "no-such-plan.yaml"}, "no-such-plan.yaml: cannot read: no such file or directory"},
		{[]string{"launch", "../plans/hanoi-2021/plan.yaml"}, "DATABASE_URL is not set"},
		{[]string{"launch", "--no-such-flag"}, "unknown flag: --no-such-flag"},
		{[]string{"serve"}, "DATABASE_URL is not set"},
		{[]string{"serve", "--users", "no-such-users.yaml"}, "users file: open no-such-users.yaml: no such file or directory"},
		{[]string{"serve", "user", "--users", "u.yaml", "--name", "Lan Anh"}, `--name: "Lan Anh" is not lower-case letters`},
		{[]string{"serve", "user", "--users", "u.yaml", "--name", "lan", "--role", "admin"}, `--role: "admin" is not coordinator or auditor`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			root := rootCommand()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(c.args)
			err := root.Execute()
			if err == nil {
				t.Fatalf("accepted; output %q", out.String())
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
		})
	}
}
