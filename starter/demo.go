package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"drives/campaign"
	"drives/coordinator"
	"drives/internal/config"
	"drives/plan"
	"drives/report"
	"drives/simulator"
)

func simulateCommand(e *env) *cobra.Command {
	var sim string
	cmd := &cobra.Command{
		Use:   "simulate <campaign>",
		Short: "Play the field for a running campaign (demo only): event results, enrolments, outcomes",
		Long: `Plays agents and participants for a running campaign, deterministically from the seed in the
simulator config, through the same imports and Updates a real office uses. For demos and tests;
never for a real drive.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignArg(args)
			if err != nil {
				return err
			}
			cfg, err := simulator.LoadConfig(sim)
			if err != nil {
				return err
			}
			im, err := e.importer(cmd.Context())
			if err != nil {
				return err
			}
			f := &simulator.Field{Config: cfg, CampaignID: id, Importer: im, Log: config.Logger()}
			st, err := f.Run(cmd.Context())
			fmt.Fprintf(cmd.OutOrStdout(), "field: %d events reported, %d leads, %d enrolled, %d declined; starting register %d, %d renewal payments\n",
				st.EventsReported, st.Leads, st.Enrolled, st.Declined, st.Register, st.Payments)
			return err
		},
	}
	cmd.Flags().StringVar(&sim, "sim", "plans/hanoi-2021/field-sim.yaml", "simulator config")
	return cmd
}

func demoCommand(e *env) *cobra.Command {
	var planFile, sim string
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Launch the sample drive, play the field, show progress, and print the final report",
		Long: `Launches the plan's campaign (or follows it if it is already running), plays the field with
the simulator, prints progress while the compressed year runs, and ends with the final report.
A campaign that has already finished is not run again: its report is printed instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			began := time.Now()
			lp, err := plan.Load(planFile)
			if err != nil {
				return err
			}
			cfg, err := simulator.LoadConfig(sim)
			if err != nil {
				return err
			}
			co, err := e.coordinator(ctx)
			if err != nil {
				return err
			}
			id := lp.Plan.ID
			run, err := co.Launch(ctx, lp)
			var again *coordinator.AlreadyLaunchedError
			switch {
			case errors.As(err, &again) && again.Running:
				fmt.Fprintf(out, "campaign %s is already running: following it\n", id)
				run = co.Temporal.GetWorkflow(ctx, campaign.CampaignWorkflowID(id), "")
			case errors.As(err, &again):
				fmt.Fprintf(out, "campaign %s has already run to its end; here is its report.\n"+
					"To run the demo afresh: make clean && make demo\n\n", id)
				r, err := report.Load(ctx, co.DB, id)
				if err != nil {
					return err
				}
				writeRegisterLine(out, r)
				return printReport(ctx, out, co, r)
			case err != nil:
				return err
			default:
				fmt.Fprintf(out, "launched %s: %s — target %d participants (1%% of a synthetic informal labour force of %d), %d districts, %d communes\n",
					id, lp.Plan.Name, lp.CityTarget(), lp.Units.LabourForce(), len(lp.Units.Districts), len(lp.Units.CommuneDistricts()))
				fmt.Fprintf(out, "a year of campaign time runs in about %s of real time\n",
					time.Duration(float64(365*24*time.Hour)/lp.Plan.Clock.Scale).Round(time.Second))
			}

			im, err := e.importer(ctx)
			if err != nil {
				return err
			}
			simCtx, stopSim := context.WithCancel(ctx)
			defer stopSim()
			field := &simulator.Field{Config: cfg, CampaignID: id, Importer: im,
				Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
			type simDone struct {
				st  simulator.Stats
				err error
			}
			simCh := make(chan simDone, 1)
			go func() {
				st, err := field.Run(simCtx)
				simCh <- simDone{st, err}
			}()

			doneCh := make(chan error, 1)
			var res campaign.CloseResult
			go func() { doneCh <- run.Get(ctx, &res) }()
			tick := time.NewTicker(every)
			defer tick.Stop()
			for waiting := true; waiting; {
				select {
				case err := <-doneCh:
					if err != nil {
						return fmt.Errorf("campaign %s: %w", id, err)
					}
					waiting = false
				case <-tick.C:
					if p, err := co.Progress(ctx, id); err == nil && p.Status != campaign.StatusPreparing {
						writeProgress(out, p, false)
					}
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			stopSim()
			sd := <-simCh
			if sd.err != nil {
				fmt.Fprintf(out, "field simulator: %v\n", sd.err)
			}
			fmt.Fprintf(out, "\ncampaign %s %s after %s: enrolled %d of %d\n", id, res.Status, time.Since(began).Round(time.Second), res.Enrolled, res.Target)
			fmt.Fprintf(out, "field: %d event results reported, %d leads, %d enrolled by the field, %d declined; "+
				"a starting register of %d taken in, %d renewal payments recorded\n",
				sd.st.EventsReported, sd.st.Leads, sd.st.Enrolled, sd.st.Declined, sd.st.Register, sd.st.Payments)
			r, err := report.Load(ctx, co.DB, id)
			if err != nil {
				return err
			}
			writeRegisterLine(out, r)
			return printReport(ctx, out, co, r)
		},
	}
	cmd.Flags().StringVar(&planFile, "plan", "plans/hanoi-2021/plan.yaml", "the plan to launch")
	cmd.Flags().StringVar(&sim, "sim", "plans/hanoi-2021/field-sim.yaml", "the field simulator's config")
	cmd.Flags().DurationVar(&every, "every", 5*time.Second, "how often to print progress")
	return cmd
}

// writeRegisterLine prints the register of participants' stock over the period, from the
// report, and a blank line.
func writeRegisterLine(out io.Writer, r *report.Report) {
	if p := r.Participants; p != nil {
		fmt.Fprintf(out, "register of participants: start %d, joined %d, renewed %d, returned %d, lapsed %d, end %d (stock %+d)\n",
			p.Start, p.Joined, p.Renewed, p.Returned, p.Lapsed, p.End, p.End-p.Start)
	}
	fmt.Fprintln(out)
}

func printReport(ctx context.Context, out io.Writer, co *coordinator.Coordinator, r *report.Report) error {
	// The report's table ends with the agent reviews' totals (report.Report.Reviews).
	return report.Write(out, r, "table", "district")
}
