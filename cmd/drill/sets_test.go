package main

import (
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// rowsOf is what a database that holds exactly the expected set returns, in key order.
func rowsOf(want map[string][]string) []row {
	var out []row
	for _, k := range sortedKeys(want) {
		out = append(out, row{key: k, vals: append([]string(nil), want[k]...)})
	}
	return out
}

// The set checks catch what totals hide. Each planted fault is one the old checks (totals and
// rows ≠ distinct keys) let through or could not see; the same faults, planted in the database
// by `cmd/drill -plant`, made the drill fail.
func TestChecksCatchPlantedFaults(t *testing.T) {
	w, err := loadWorld(filepath.Join("..", "..", "integration", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	x := compute(w, script(w, rand.New(rand.NewPCG(3, 1)), 10, false))
	ids := sortedKeys(x.enrolments)
	fus := sortedKeys(x.followUpOf)
	cases := []struct {
		name   string
		kind   string
		fields []string
		want   map[string][]string
		plant  func([]row) []row
		// what the diff must count
		missing, extra, doubled, wrong int
	}{
		{"an enrolment lost and a made-up one added: same total", "enrolments by citizen ID", enrolmentFields, x.enrolments,
			func(rs []row) []row { rs[0].key = "999" + rs[0].key; return rs }, 1, 1, 0, 0},
		{"a duplicate's later line won (group)", "enrolments by citizen ID", enrolmentFields, x.enrolments,
			func(rs []row) []row { rs[len(rs)-1].vals[3] = other(rs[len(rs)-1].vals[3]); return rs }, 0, 0, 0, 1},
		{"an enrolment signed by another agent", "enrolments by citizen ID", enrolmentFields, x.enrolments,
			func(rs []row) []row { rs[1].vals[0] = "DL-00001-1x"; return rs }, 0, 0, 0, 1},
		{"an enrolment doubled", "enrolments by citizen ID", enrolmentFields, x.enrolments,
			func(rs []row) []row { return append(rs, rs[2]) }, 0, 0, 1, 0},
		{"a follow-up with another final status", "follow-ups", statusField, x.followUpOf,
			func(rs []row) []row {
				rs[0].vals[0] = map[string]string{"unreachable": "declined"}[rs[0].vals[0]] + "x"
				return rs
			}, 0, 0, 0, 1},
		{"a follow-up lost and another prospect's added", "follow-ups", statusField, x.followUpOf,
			func(rs []row) []row { rs[0].key = "999" + rs[0].key; return rs }, 1, 1, 0, 0},
		{"the approved termination rejected", "terminations", statusField, x.terminations,
			func(rs []row) []row {
				for i := range rs {
					if rs[i].vals[0] == "approved" {
						rs[i].vals[0] = "rejected"
					}
				}
				return rs
			}, 0, 0, 0, 1},
		{"a review of the fired agent in a window after the one of its termination", "review decisions", noFields, x.decisions,
			func(rs []row) []row { return append(rs, row{key: "2021-Q3/" + firedAgent}) }, 0, 1, 0, 0},
		{"a review decision lost", "review decisions", noFields, x.decisions,
			func(rs []row) []row { return rs[1:] }, 1, 0, 0, 0},
		{"one quota moved between two agents: same total", "quotas", targetField, x.quotas,
			func(rs []row) []row {
				for i := range rs {
					switch rs[i].key {
					case "agent/CB-00001":
						rs[i].vals[0] += "1"
					case "agent/DL-00001-1":
						rs[i].vals[0] = "0"
					}
				}
				return rs
			}, 0, 0, 0, 2},
		{"the quota transfer lost", "transfers", amountField, x.transfers,
			func(rs []row) []row { return nil }, 1, 0, 0, 0},
		{"a pause recorded twice", "steers", []string{"count"}, x.steerCounts(),
			func(rs []row) []row { rs[0].vals[0] = "2"; return rs }, 0, 0, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if d := compareSet(c.kind, c.fields, c.want, rowsOf(c.want)); !d.ok() {
				t.Fatalf("the expected set itself fails: %s", d)
			}
			d := compareSet(c.kind, c.fields, c.want, c.plant(rowsOf(c.want)))
			if d.ok() {
				t.Fatalf("planted fault not caught")
			}
			if d.missing != c.missing || d.extra != c.extra || d.doubled != c.doubled || d.wrong != c.wrong {
				t.Errorf("counted %d missing, %d extra, %d doubled, %d wrong; want %d, %d, %d, %d (%s)",
					d.missing, d.extra, d.doubled, d.wrong, c.missing, c.extra, c.doubled, c.wrong, d)
			}
			// The diagnostic names the kind of key and counts, never a key.
			msg := d.String()
			for _, id := range append(ids[:3:3], fus[:3]...) {
				if strings.Contains(msg, id) {
					t.Errorf("the diagnostic names a citizen ID: %s", msg)
				}
			}
			if !strings.HasPrefix(msg, c.kind+":") {
				t.Errorf("the diagnostic does not name the kind of key: %s", msg)
			}
		})
	}
	// The sets are not empty where the drill relies on them.
	for what, n := range map[string]int{"enrolments": len(x.enrolments), "follow-ups": len(x.followUpOf),
		"terminations": len(x.terminations), "decisions": len(x.decisions), "quotas": len(x.quotas), "transfers": len(x.transfers)} {
		if n == 0 {
			t.Errorf("no expected %s", what)
		}
	}
	statuses := map[string]int{}
	for _, v := range x.followUpOf {
		statuses[v[0]]++
	}
	var got []string
	for s := range statuses {
		got = append(got, s)
	}
	sort.Strings(got)
	if strings.Join(got, ",") != "declined,enrolled,unreachable" {
		t.Errorf("follow-ups end %v; want declined, enrolled and unreachable (given up) ones", statuses)
	}
}

func other(group string) string {
	if group == "farmer" {
		return "student"
	}
	return "farmer"
}
