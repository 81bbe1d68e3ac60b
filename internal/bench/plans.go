package bench

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"drives/internal/synth"
	"drives/plan"
)

// nationalSeed makes the synthetic national plan, as activities' BenchmarkReviewNational does.
const nationalSeed = 2021

// nationalPlan writes the synthetic national plan (internal/synth) under dir with the campaign
// id given, so that benchmarks sharing one database keep apart, and loads it.
func nationalPlan(dir, id string) (*plan.Loaded, synth.Summary, error) {
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
func rewritePlan(path, id, scale string) (*plan.Loaded, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if text, err = rewritePlanText(path, text, id, scale); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, text, 0o644); err != nil {
		return nil, err
	}
	return loadPlanText(path, text, filepath.Dir(path), id)
}

func rewritePlanText(path string, text []byte, id, scale string) ([]byte, error) {
	if !planIDLine.Match(text) || (scale != "" && !planScaleLine.Match(text)) {
		return nil, fmt.Errorf("%s: no id or clock scale line to rewrite", path)
	}
	text = planIDLine.ReplaceAll(text, []byte("id: "+id))
	if scale != "" {
		text = planScaleLine.ReplaceAll(text, []byte("  scale: "+scale))
	}
	return text, nil
}

// loadPlanText parses plan text whose files are read relative to dir ("../" allowed, as
// plan.Load reads them).
func loadPlanText(name string, text []byte, dir, id string) (*plan.Loaded, error) {
	lp, err := plan.Parse(name, text, filesIn(dir))
	if err != nil {
		return nil, err
	}
	if lp.Plan.ID != id {
		return nil, fmt.Errorf("%s: plan id is %s after the rewrite, want %s", name, lp.Plan.ID, id)
	}
	return lp, nil
}

// filesIn opens names relative to a folder, "../" included.
type filesIn string

func (d filesIn) Open(name string) (fs.File, error) { return os.Open(filepath.Join(string(d), name)) }
