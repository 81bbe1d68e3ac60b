package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"drives/coordinator"
	"drives/plan"
)

func planCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "plan", Short: "Compare a revised plan with a campaign's plan in force, and revise a running campaign's plan"}
	var all bool
	diff := &cobra.Command{
		Use:   "diff <campaign> <plan.yaml>",
		Short: "Show what a revised plan changes: targets and quotas at every level, events, settings",
		Long: `Reads the campaign's launched plan from the database and the revised plan from its file
(checked as a launch checks it), allocates both, and prints what changes: the city target; at
every level (districts, communes, villages, agents and staff) the lines whose target changes, old
and new side by side, and the level's sums, which stay exact; the events added, removed or
changed; every other setting that differs. Nothing is written. Agents are named by code.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, revised, err := revisedPlanArgs(args)
			if err != nil {
				return err
			}
			if revised.Plan.ID != id {
				return fmt.Errorf("%s: plan id %q is not campaign %s: a revision keeps its campaign's id", args[1], revised.Plan.ID, id)
			}
			if err := e.connect(cmd.Context(), false); err != nil {
				return err
			}
			old, err := coordinator.StoredPlan(cmd.Context(), e.db, id)
			if err != nil {
				return err
			}
			writeDiff(cmd.OutOrStdout(), id, args[1], plan.DiffPlans(old, revised), all)
			return nil
		},
	}
	diff.Flags().BoolVar(&all, "all", false, "list every changed line (default: the first 20 of each level)")
	cmd.AddCommand(diff, reviseCommand(e))
	return cmd
}

// revisedPlanArgs reads a command's <campaign> <plan.yaml> arguments: the campaign's id and
// the revised plan, checked as a launch checks it.
func revisedPlanArgs(args []string) (string, *plan.Loaded, error) {
	id, err := campaignArg(args)
	if err != nil {
		return "", nil, err
	}
	revised, err := plan.Load(args[1])
	return id, revised, err
}

func reviseCommand(e *env) *cobra.Command {
	var from, reason string
	var check, all bool
	cmd := &cobra.Command{
		Use:   "revise <campaign> <plan.yaml> --reason TEXT [--from YYYY-MM-DD]",
		Short: "Revise a running campaign's plan from a day on: targets and events",
		Long: `Checks the revised plan (as a launch checks it) against the running campaign as it stands and,
unless --check, stages it as the campaign's next numbered revision and applies it through the
campaign workflow (Update revise-plan), audited. From --from (default: the campaign's day) the
targets it changes are in force at every level — a district's raised target (target.overrides)
reaches its communes, villages and agents, sums exact — and the reviews judge each part of their
window against the target then in force; events it adds go to their running district drives,
events it removes are cancelled. Enrolments already made stay counted.

A revision changes the name, the targets and the events. It is refused whole, every problem named,
when it changes anything else (period, clock, time zone, target groups, follow-up or review
policy, units, roster), changes an event in place, adds or removes an event on a day already
past, removes a held event, or sets a target below what a unit or agent has enrolled already
(unless the plan says target.allow_below_enrolled: true). Prints the diff first.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, revised, err := revisedPlanArgs(args)
			if err != nil {
				return err
			}
			co, err := e.coordinator(cmd.Context())
			if err != nil {
				return err
			}
			prep, res, err := co.Revise(cmd.Context(), coordinator.Revision{
				CampaignID: id, File: args[1], Revised: revised, From: from, Reason: reason, By: *e.by,
			}, check)
			if prep != nil {
				writeDiff(cmd.OutOrStdout(), id, args[1], prep.Diff, all)
				fmt.Fprintf(cmd.OutOrStdout(), "\nfrom %s: %d targets change (agents as the roster in force shares their communes'), %d events added, %d removed\n",
					prep.From.Format(time.DateOnly), len(prep.Quotas), len(prep.Added), len(prep.Removed))
			}
			if err != nil || check {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revision %d of %s applied from %s: city target %d; %d targets changed, %d district events added, %d events removed\n",
				res.Number, id, res.From.Format(time.DateOnly), res.Target, res.Quotas, len(res.Added), len(res.Removed))
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the first day the revision applies, campaign time (default: the campaign's day)")
	cmd.Flags().StringVar(&reason, "reason", "", "why the plan is revised (required)")
	cmd.Flags().BoolVar(&check, "check", false, "check and show the revision; stage and apply nothing")
	cmd.Flags().BoolVar(&all, "all", false, "list every changed line (default: the first 20 of each level)")
	return cmd
}

// shownLines is how many changed lines of a level a diff lists without --all.
const shownLines = 20

func writeDiff(w io.Writer, id, file string, d plan.Diff, all bool) {
	fmt.Fprintf(w, "plan of %s (in force, %.12s) → %s (%.12s)\n", id, d.OldHash, file, d.NewHash)
	if d.OldHash == d.NewHash {
		fmt.Fprintln(w, "the same plan: nothing changes")
		return
	}
	fmt.Fprintf(w, "city target: %d → %d (%+d)\n", d.City.Old, d.City.New, d.City.Delta())
	plural := map[string]string{"district": "districts", "commune": "communes", "village": "villages", "agent": "agents and staff"}
	for _, l := range d.Levels {
		fmt.Fprintf(w, "\n%s: %d of %d change; sum %d → %d (%+d)\n", plural[l.Level], len(l.Changed), l.Lines, l.Sum.Old, l.Sum.New, l.Sum.Delta())
		if len(l.Changed) == 0 {
			continue
		}
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "code\tname\told\tnew\tchange\t")
		for i, c := range l.Changed {
			if i == shownLines && !all {
				fmt.Fprintf(tw, "… and %d more (--all lists them)\t\t\t\t\t\n", len(l.Changed)-i)
				break
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%+d\t\n", c.Code, c.Name, c.Old, c.New, c.Delta())
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nevents: %d change\n", len(d.Events))
	for _, e := range d.Events {
		fmt.Fprintf(w, "  %s %s", e.What, e.ID)
		var fs []string
		for _, f := range e.Fields {
			fs = append(fs, fmt.Sprintf("%s %s → %s", f.Field, shown(f.Old), shown(f.New)))
		}
		if len(fs) > 0 {
			fmt.Fprintf(w, ": %s", strings.Join(fs, "; "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nsettings: %d change\n", len(d.Settings))
	for _, s := range d.Settings {
		fmt.Fprintf(w, "  %s: %s → %s\n", s.Field, shown(s.Old), shown(s.New))
	}
}

func shown(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}
