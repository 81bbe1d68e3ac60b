// Command synth-plan writes the sample plan hanoi-2021 (the real register of Hà Nội's units
// with synthetic villages, roster and events), or a synthetic national plan for benchmarks.
//
//	go run ./cmd/synth-plan                      # plans/hanoi-2021/{plan.yaml,villages.csv,roster.csv}
//	go run ./cmd/synth-plan -national DIR        # DIR/{plan.yaml,units.csv,villages.csv,roster.csv}
//
// Output is deterministic: the same seed gives byte-identical files. Run it from the module
// root (the defaults are relative to it).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"drives/internal/synth"
	"drives/plan"
)

func main() {
	out := flag.String("out", filepath.Join("plans", "hanoi-2021"), "folder to write the Hà Nội sample plan into")
	units := flag.String("units", filepath.Join("data", "hanoi-admin-units-2021.csv"), "register of Hà Nội's districts and communes (GSO format)")
	national := flag.String("national", "", "write the synthetic national plan into this folder instead")
	seed := flag.Uint64("seed", synth.HanoiSeed, "seed of the generator")
	check := flag.Bool("check", true, "load the written plan with plan.Load")
	flag.Parse()
	if flag.NArg() > 0 {
		fail(fmt.Errorf("unexpected arguments %q", flag.Args()))
	}

	dir := *out
	var sum synth.Summary
	var err error
	if *national != "" {
		dir = *national
		sum, err = synth.WriteNational(dir, *seed)
	} else {
		sum, err = synth.Hanoi(dir, *units, *seed)
	}
	if err != nil {
		fail(err)
	}
	fmt.Printf("wrote %s: %s\n", dir, sum)
	if *check {
		lp, err := plan.Load(filepath.Join(dir, "plan.yaml"))
		if err != nil {
			fail(err)
		}
		fmt.Printf("plan %s loads: city target %d, hash %s\n", lp.Plan.ID, lp.CityTarget(), lp.Hash[:12])
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "synth-plan:", err)
	os.Exit(1)
}
