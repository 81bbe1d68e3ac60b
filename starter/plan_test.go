package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"drives/internal/fixture"
)

// `starter plan diff` against the fixture campaign's launched plan: a revision of its target
// prints the city's change, each level's sums and lines, and the setting; a plan of another
// campaign, or a campaign nobody launched, is refused with the reason.
func TestPlanDiff(t *testing.T) {
	ctx := context.Background()
	pool := commandDB(t)
	fixture.Seed(t, pool)

	dir := fixture.PlanDir(t)
	path := filepath.Join(dir, "plan.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	revised := strings.Replace(string(b), "share: 0.01", "share: 0.02", 1)
	if revised == string(b) {
		t.Fatal("the fixture plan's share is not 0.01")
	}
	if err := os.WriteFile(path, []byte(revised), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := starter(ctx, "plan", "diff", fixture.CampaignID, path)
	if err != nil {
		t.Fatalf("plan diff: %v\n%s", err, out)
	}
	t.Logf("starter plan diff %s %s:\n%s", fixture.CampaignID, path, out)
	// 1% and 2% of the fixture's 12,734 people of working age.
	for _, want := range []string{"city target: 127 → 255 (+128)", "districts: 2 of 2 change; sum 127 → 255 (+128)",
		"communes: 5 of 5 change; sum 127 → 255", "agents and staff: ", "target.share: 0.01 → 0.02", "events: 0 change"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan diff does not say %q:\n%s", want, out)
		}
	}

	other := strings.Replace(revised, "id: test-2021", "id: test-2022", 1)
	if err := os.WriteFile(path, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := starter(ctx, "plan", "diff", fixture.CampaignID, path); err == nil || !strings.Contains(err.Error(), `plan id "test-2022" is not campaign test-2021`) {
		t.Errorf("a plan of another campaign: %v\n%s", err, out)
	}
	if out, err := starter(ctx, "plan", "diff", "test-2022", path); err == nil || !strings.Contains(err.Error(), `unknown campaign "test-2022"`) {
		t.Errorf("a campaign nobody launched: %v\n%s", err, out)
	}
}
