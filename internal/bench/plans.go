package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"drives/campaign"
	"drives/internal/synth"
)

// nationalSeed makes the synthetic national plan, as activities' BenchmarkReviewNational does.
const nationalSeed = 2021

// nationalPlan writes the synthetic national plan (internal/synth) under dir with the campaign
// id given, so that benchmarks sharing one database keep apart, and loads it.
func nationalPlan(dir, id string) (*campaign.LoadedPlan, synth.Summary, error) {
	sum, err := synth.WriteNational(dir, nationalSeed)
	if err != nil {
		return nil, sum, err
	}
	lp, err := rewritePlan(filepath.Join(dir, "plan.yaml"), id, "")
	return lp, sum, err
}

var (
	planIDLine    = regexp.MustCompile(`(?m)^id: .*$`)
	planScaleLine = regexp.MustCompile(`(?m)^  scale: .*$`)
)

// rewritePlan gives the plan file at path a new id and, unless scale is "", a new clock scale,
// and loads it.
func rewritePlan(path, id, scale string) (*campaign.LoadedPlan, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !planIDLine.Match(text) || (scale != "" && !planScaleLine.Match(text)) {
		return nil, fmt.Errorf("%s: no id or clock scale line to rewrite", path)
	}
	text = planIDLine.ReplaceAll(text, []byte("id: "+id))
	if scale != "" {
		text = planScaleLine.ReplaceAll(text, []byte("  scale: "+scale))
	}
	if err := os.WriteFile(path, text, 0o644); err != nil {
		return nil, err
	}
	lp, err := campaign.LoadPlan(path)
	if err != nil {
		return nil, err
	}
	if lp.Plan.ID != id || !bytes.Contains(text, []byte("id: "+id)) {
		return nil, fmt.Errorf("%s: plan id is %s after the rewrite, want %s", path, lp.Plan.ID, id)
	}
	return lp, nil
}
