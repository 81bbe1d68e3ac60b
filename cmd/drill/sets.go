package main

import (
	"fmt"
	"strings"
)

// row is one key the database holds, with the values compared.
type row struct {
	key  string
	vals []string
}

// setDiff is how a set in the database differs from the set the inputs give: keys missing
// (lost), keys there that should not be (extra), keys there more than once (doubled), and keys
// whose values differ, by field. It never holds a key itself, so it may be printed: keys are
// citizen IDs in places.
type setDiff struct {
	kind         string // the kind of key, as diagnostics name it
	want, got    int    // keys expected; rows found
	missing      int
	extra        int
	doubled      int
	wrong        int
	wrongByField map[string]int
	fields       []string
}

func (d setDiff) ok() bool { return d.missing == 0 && d.extra == 0 && d.doubled == 0 && d.wrong == 0 }

func (d setDiff) String() string {
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{d.missing, "missing"}, {d.extra, "not in the inputs"}, {d.doubled, "doubled"}, {d.wrong, "with other values"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if d.wrong > 0 {
		var fs []string
		for _, f := range d.fields {
			if n := d.wrongByField[f]; n > 0 {
				fs = append(fs, fmt.Sprintf("%s differs in %d", f, n))
			}
		}
		parts = append(parts, "("+strings.Join(fs, ", ")+")")
	}
	return fmt.Sprintf("%s: %d rows for %d expected keys: %s", d.kind, d.got, d.want, strings.Join(parts, ", "))
}

// compareSet compares the rows found with the set the inputs give, key by key and value by
// value; fields names the values.
func compareSet(kind string, fields []string, want map[string][]string, got []row) setDiff {
	d := setDiff{kind: kind, want: len(want), got: len(got), wrongByField: map[string]int{}, fields: fields}
	seen := map[string]int{}
	for _, r := range got {
		seen[r.key]++
		if seen[r.key] > 1 {
			d.doubled++
			continue
		}
		w, ok := want[r.key]
		if !ok {
			d.extra++
			continue
		}
		bad := false
		for i, f := range fields {
			var g string
			if i < len(r.vals) {
				g = r.vals[i]
			}
			if i >= len(w) || w[i] != g {
				d.wrongByField[f]++
				bad = true
			}
		}
		if bad {
			d.wrong++
		}
	}
	for k := range want {
		if seen[k] == 0 {
			d.missing++
		}
	}
	return d
}
