package plan_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"drives/internal/synth"
	"drives/plan"
)

// BenchmarkDiffNational diffs the synthetic national plan (705 districts, 10,599 communes,
// 58,187 villages, 210,599 agents and staff) against a revision of its target, as
// `starter plan diff` does once its two plans are read: both allocated, every level compared.
func BenchmarkDiffNational(b *testing.B) {
	dir := b.TempDir()
	if _, err := synth.WriteNational(dir, 2021); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "plan.yaml")
	old, err := plan.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	revisedText := strings.Replace(string(text), "share: 0.04\n", "share: 0.045\n", 1)
	if revisedText == string(text) {
		b.Fatal("the national plan's target share is not 0.04")
	}
	if err := os.WriteFile(path, []byte(revisedText), 0o644); err != nil {
		b.Fatal(err)
	}
	revised, err := plan.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		d := plan.DiffPlans(old, revised)
		if d.City.Old == d.City.New {
			b.Fatal("the revision changes nothing")
		}
	}
}
