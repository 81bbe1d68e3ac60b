package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"drives/campaign"
	"drives/coordinator"
)

// A joining and a move record who acts in the audit log, as a leaving does.
func init() { acting["agents join"], acting["agents move"] = true, true }

func agentsCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "agents", Short: "Changes to a running campaign's roster"}
	var reason string
	leave := &cobra.Command{
		Use:   "leave <campaign> <agent-code> --reason TEXT",
		Short: "An agent or staff member leaves (resigns): their contract ends today and their work is handed on",
		Long: `Ends the contract of an agent or staff member who resigns, on the campaign's day, with the
reason; in the same audited transaction their open follow-ups go to the commune's active agents
(least loaded first), the rest of their quota to them by largest remainder on their weights (to
the commune's staff, flagged, when no agent is left), and the people of the register they held
to those who take over — as an approved termination's work is handed on.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, co, err := e.campaign(cmd.Context(), args)
			if err != nil {
				return err
			}
			res, err := coordinator.Update[campaign.LeaveResult](cmd.Context(), co, id, campaign.UpdateAgentLeaves,
				campaign.LeaveRequest{Agent: args[1], Reason: reason, By: *e.by})
			if err != nil {
				return err
			}
			to := "the commune's agents"
			if res.ToStaff {
				to = "the commune's staff (no agent is left)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s left commune %s: %d open follow-ups, %d of its quota and %d participants handed to %s\n",
				res.Agent, res.Commune, res.FollowUpsMoved, res.QuotaMoved, res.ParticipantsMoved, to)
			return nil
		},
	}
	leave.Flags().StringVar(&reason, "reason", "", "why they leave (required)")
	cmd.AddCommand(leave, moveCommand(e), joinCommand(e), rosterCommand(e), contractsCommand(e))
	return cmd
}

func moveCommand(e *env) *cobra.Command {
	var to, as, reason string
	cmd := &cobra.Command{
		Use:   "move <campaign> <agent-code> --to COMMUNE --as NEW-CODE --reason TEXT",
		Short: "An agent or staff member moves to another commune today: work handed on there, a new contract here",
		Long: `Moves an agent or staff member to another commune of the campaign on the campaign's day, in one
audited transaction (Update agent-moves): their contract in the commune they leave ends (status
left, the reason saying where they went) and their work there is handed on as a leaving's is —
open follow-ups, the rest of their quota and the people of the register they held, to that
commune's active agents; a new contract starts in the new commune under the new code (a code the
campaign has never had: codes are given once), the same person, kind and weight, with a prorated
quota taken from the commune's others as a joining's is. The communes' targets stay the same;
reviews judge the old code until the move and the new code from it.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, co, err := e.campaign(cmd.Context(), args)
			if err != nil {
				return err
			}
			res, err := coordinator.Update[campaign.MoveResult](cmd.Context(), co, id, campaign.UpdateAgentMoves,
				campaign.MoveRequest{Agent: args[1], To: to, As: as, Reason: reason, By: *e.by})
			if err != nil {
				return err
			}
			left := "the commune's agents"
			if res.ToStaff {
				left = "the commune's staff (no agent is left)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s moved from commune %s to %s as %s on %s: %d open follow-ups, %d of its quota and %d participants handed to %s; a quota of %d taken from %s in %s (the communes' targets unchanged)\n",
				res.Agent, res.From, res.To, res.As, res.MovedOn.Format(time.DateOnly), res.FollowUpsMoved, res.QuotaMoved, res.ParticipantsMoved, left,
				res.QuotaTaken, count(res.QuotasChanged, "other", "others"), res.To)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the commune's code (required)")
	cmd.Flags().StringVar(&as, "as", "", "the new contract's code, one the campaign has never had (required)")
	cmd.Flags().StringVar(&reason, "reason", "", "why they move (required)")
	return cmd
}

func joinCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "join <campaign> <roster.csv>",
		Short: "Agents or staff join a running campaign's communes today, each with a prorated quota",
		Long: `Adds agents and staff to their communes from today, in campaign time. The file has the plan's
roster format (code,commune_code,kind,post_office,full_name,phone,weight) and is checked whole
first: a file with any bad line — a code already in the campaign or twice in the file, an unknown
commune, a bad kind, post_office, phone or weight, an empty name — is refused, every problem named
by line and field (never a name or phone), and nothing is written. A good file is staged in the
database and applied by the campaign's agents-join Update (its batch ID only), in one audited
transaction: each joiner's quota is its commune's target × its weight ÷ the weights of the
commune's active agents and staff and the joiners × the share of the period left, taken from the
commune's others by largest remainder on their weights, so the commune's target stays the same;
each quota changed is kept by day for the reviews, which judge a joiner on its days only. The staged
lines are deleted once applied (or after the imports' retention when never applied).`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignArg(args)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(args[1])
			if err != nil {
				return err
			}
			im, err := e.importer(cmd.Context())
			if err != nil {
				return err
			}
			res, err := im.Join(cmd.Context(), id, filepath.Base(args[1]), data, *e.by)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s joined campaign %s on %s in %s, with quotas of %d in all taken from %s there (the communes' targets unchanged; batch %s)\n",
				joiners(res.Agents, res.Staff), id, res.JoinedOn.Format(time.DateOnly), count(res.Communes, "commune", "communes"),
				res.QuotaTaken, count(res.QuotasChanged, "other", "others"), res.BatchID)
			return nil
		},
	}
}

// joiners says how many agents and staff members joined.
func joiners(agents, staff int) string {
	var parts []string
	if agents > 0 || staff == 0 {
		parts = append(parts, count(agents, "agent", "agents"))
	}
	if staff > 0 {
		parts = append(parts, count(staff, "staff member", "staff members"))
	}
	return strings.Join(parts, " and ")
}

func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
