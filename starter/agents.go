package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"drives/campaign"
	"drives/coordinator"
)

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
	cmd.AddCommand(leave)
	return cmd
}
