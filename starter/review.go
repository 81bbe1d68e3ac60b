package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"drives/campaign"
	"drives/coordinator"
	"drives/plan"
	"drives/store"
)

func reviewCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "review",
		Short: "Agent reviews: preview a schedule, manage it, decide proposed terminations, list decisions",
		Long: `Each campaign reviews its agents on the plan's review cron (default quarterly, ` + plan.DefaultReviewCron + `
in the plan's time zone), through the Temporal Schedule review:<campaign>. Each review covers the time
since the one before, decides reward / retain / warn / propose termination by the plan's policy, and
waits for a coordinator to approve or reject each proposed termination.`,
	}
	cmd.AddCommand(reviewPreview(), reviewSchedule(e), reviewPause(e, true), reviewPause(e, false),
		reviewTrigger(e), reviewBackfill(e), reviewDecide(e, true), reviewDecide(e, false), reviewList(e))
	return cmd
}

func reviewPreview() *cobra.Command {
	var expr, from, tz string
	var count int
	cmd := &cobra.Command{
		Use:   "preview --cron EXPR",
		Short: "Print the next reviews a cron expression gives and the window each covers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			loc, err := time.LoadLocation(tz)
			if err != nil {
				return fmt.Errorf("--tz: unknown time zone %q", tz)
			}
			start := time.Now().In(loc)
			if from != "" {
				d, err := plan.ParseDate(from)
				if err != nil {
					return fmt.Errorf("--from: %w", err)
				}
				start = d.In(loc)
			}
			fires, err := coordinator.Preview(expr, loc, start, count)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "review\truns at\tcovers from\tto")
			for _, f := range fires {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Period.Label, f.At.Format("2006-01-02 15:04 MST"),
					f.Period.Start.Format("2006-01-02 15:04"), f.Period.End.Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&expr, "cron", plan.DefaultReviewCron, "five fields, a descriptor (@monthly), optionally after CRON_TZ=Zone")
	cmd.Flags().IntVar(&count, "count", 4, "how many reviews")
	cmd.Flags().StringVar(&from, "from", "", "list reviews after this date (YYYY-MM-DD; default now)")
	cmd.Flags().StringVar(&tz, "tz", plan.DefaultTimezone, "time zone of an expression without CRON_TZ=")
	return cmd
}

func reviewSchedule(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "schedule <campaign>",
		Short: "Show the campaign's review schedule: its reviews in campaign and real time, state and recent runs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, co, err := e.campaign(cmd.Context(), args)
			if err != nil {
				return err
			}
			d, err := co.DescribeSchedule(cmd.Context(), id)
			if err != nil {
				return err
			}
			clock, loc, err := co.Clock(cmd.Context(), id)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			state := "active"
			if d.Schedule.State.Paused {
				state = "paused"
			}
			fmt.Fprintf(out, "schedule %s: %s — %s\n", campaign.ReviewScheduleID(id), state, d.Schedule.State.Note)
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "review\tcampaign time\treal time (UTC)")
			for _, c := range d.Schedule.Spec.Calendars {
				at := time.Date(c.Year[0].Start, time.Month(c.Month[0].Start), c.DayOfMonth[0].Start, c.Hour[0].Start, c.Minute[0].Start, c.Second[0].Start, 0, time.UTC)
				// The schedule fires on the second before the review's time, which its
				// workflow waits for; the comment names that time ("review 2021-Q1 at …").
				label, when, _ := strings.Cut(strings.TrimPrefix(c.Comment, "review "), " at ")
				runs := clock.CampaignTime(at)
				if t, err := time.Parse(time.RFC3339, when); err == nil {
					runs = t
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", label, runs.In(loc).Format("2006-01-02 15:04"), at.Format(time.RFC3339))
			}
			tw.Flush()
			for _, a := range d.Info.RecentActions {
				fmt.Fprintf(out, "ran %s (scheduled %s)\n", a.StartWorkflowResult.WorkflowID, a.ScheduleTime.UTC().Format(time.RFC3339))
			}
			for _, t := range d.Info.NextActionTimes {
				fmt.Fprintf(out, "next at %s (campaign time %s)\n", t.UTC().Format(time.RFC3339), clock.CampaignTime(t).In(loc).Format("2006-01-02 15:04"))
			}
			return nil
		},
	}
}

func reviewPause(e *env, pause bool) *cobra.Command {
	var note string
	use, short := "resume", "Resume the campaign's reviews"
	if pause {
		use, short = "pause", "Pause the campaign's reviews (a paused schedule takes no review until resumed)"
	}
	cmd := &cobra.Command{
		Use:   use + " <campaign>",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, co, err := e.campaign(cmd.Context(), args)
			if err != nil {
				return err
			}
			n := fmt.Sprintf("%sd by %s: %s", use, *e.by, note)
			if pause {
				err = co.PauseSchedule(cmd.Context(), id, n)
			} else {
				err = co.ResumeSchedule(cmd.Context(), id, n)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "reviews of %s %sd\n", id, use)
			return nil
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why")
	return cmd
}

func reviewTrigger(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "trigger <campaign>",
		Short: "Run the review due now (the latest period that has ended); a period reviewed already is left alone",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, co, err := e.campaign(cmd.Context(), args)
			if err != nil {
				return err
			}
			if err := co.TriggerReview(cmd.Context(), id); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "review of %s triggered; see `starter review list %s`\n", id, id)
			return nil
		},
	}
}

func reviewBackfill(e *env) *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "backfill <campaign>",
		Short: "Take every review the schedule would have taken in a time range (default: since launch); none twice",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, co, err := e.campaign(cmd.Context(), args)
			if err != nil {
				return err
			}
			clock, loc, err := co.Clock(cmd.Context(), id)
			if err != nil {
				return err
			}
			start, end := clock.Epoch, time.Now()
			if from != "" {
				if start, err = time.Parse(time.RFC3339, from); err != nil {
					return fmt.Errorf("--from: %q is not an RFC 3339 time", from)
				}
			}
			if to != "" {
				if end, err = time.Parse(time.RFC3339, to); err != nil {
					return fmt.Errorf("--to: %q is not an RFC 3339 time", to)
				}
			}
			if err := co.BackfillReviews(cmd.Context(), id, start, end); err != nil {
				return err
			}
			// The schedule runs in real time; say the range in the campaign's time too, as status does.
			fmt.Fprintf(cmd.OutOrStdout(), "reviews of %s backfilled from %s to %s of campaign time (real time, UTC: %s to %s)\n", id,
				clock.CampaignTime(start).In(loc).Format(campaignTimeLayout), clock.CampaignTime(end).In(loc).Format(campaignTimeLayout),
				start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "start, real time (RFC 3339; default: the campaign's launch)")
	cmd.Flags().StringVar(&to, "to", "", "end, real time (RFC 3339; default: now)")
	return cmd
}

func reviewDecide(e *env, approve bool) *cobra.Command {
	var reason string
	use, short := "reject", "Reject a proposed termination: the agent stays"
	if approve {
		use, short = "approve", "Approve a proposed termination: the contract ends and the agent's work passes to the commune"
	}
	cmd := &cobra.Command{
		Use:   use + " <campaign> <period> <agent> --reason TEXT",
		Short: short,
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, co, err := e.campaign(cmd.Context(), args)
			if err != nil {
				return err
			}
			if strings.TrimSpace(reason) == "" {
				return errors.New("--reason: say why")
			}
			res, err := co.Decide(cmd.Context(), id, args[1], approve, campaign.TerminationDecision{Agent: args[2], Reason: reason, By: *e.by})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			switch {
			case res.Already:
				fmt.Fprintf(out, "agent %s: already %s in review %s; nothing changed\n", res.Agent, res.Status, args[1])
			case res.Status == "approved":
				to := "the commune's agents"
				if res.ToStaff {
					to = "the commune's staff (no agent left)"
				}
				fmt.Fprintf(out, "agent %s: contract terminated; %d follow-ups and a quota of %d passed to %s\n", res.Agent, res.FollowUpsMoved, res.QuotaMoved, to)
			default:
				fmt.Fprintf(out, "agent %s: termination %s\n", res.Agent, res.Status)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (required)")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func reviewList(e *env) *cobra.Command {
	var period, format string
	cmd := &cobra.Command{
		Use:   "list <campaign>",
		Short: "List review decisions with their scores and rationale",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignArg(args)
			if err != nil {
				return err
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format: %q is not table or json", format)
			}
			if err := e.connect(cmd.Context(), false); err != nil {
				return err
			}
			co := &coordinator.Coordinator{DB: e.db}
			ds, err := co.Decisions(cmd.Context(), id, period)
			if err != nil {
				return err
			}
			if len(ds) == 0 && period != "" {
				if _, _, err := store.ReviewWindow(cmd.Context(), e.db, id, period); errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("--period: campaign %s has no review %q", id, period)
				} else if err != nil {
					return err
				}
			}
			if format == "json" {
				// The object the web API's reviews answer holds too: totals per period, then the decisions.
				totals, err := co.ReviewTotals(cmd.Context(), id)
				if err != nil {
					return err
				}
				list := reviewListJSON{Campaign: id, Period: period, Totals: []coordinator.ReviewTotal{}, Decisions: ds}
				for _, t := range totals {
					if period == "" || t.Period == period {
						list.Totals = append(list.Totals, t)
					}
				}
				if list.Decisions == nil {
					list.Decisions = []coordinator.Decision{}
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			writeDecisions(cmd.OutOrStdout(), ds)
			return nil
		},
	}
	cmd.Flags().StringVar(&period, "period", "", "one period, e.g. 2021-Q2")
	cmd.Flags().StringVar(&format, "format", "table", "table | json")
	return cmd
}

// reviewListJSON is `starter review list --format json`: the campaign, the period asked for
// (none: every period), each period's totals and the decisions, in the order of their windows.
type reviewListJSON struct {
	Campaign  string                    `json:"campaign"`
	Period    string                    `json:"period,omitempty"`
	Totals    []coordinator.ReviewTotal `json:"totals"`
	Decisions []coordinator.Decision    `json:"decisions"`
}

// campaignTimeLayout is how a moment of campaign time is printed: in the campaign's zone, with its offset.
const campaignTimeLayout = "2006-01-02 15:04 -07:00"

func writeDecisions(w io.Writer, ds []coordinator.Decision) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "period\tagent\tkind\tcommune\tscore\tdecision\tstatus\trationale")
	for _, d := range ds {
		why := d.Rationale
		if d.DecidedBy != "" {
			why += fmt.Sprintf(" — %s by %s: %s", d.Status, d.DecidedBy, d.Reason)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%s\n", d.Period, d.Agent, d.Kind, d.Commune, d.Score, d.Decision, d.Status, why)
	}
	tw.Flush()
}
