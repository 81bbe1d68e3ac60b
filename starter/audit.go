package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"drives/accounts"
	"drives/audit"
)

// auditCommand is `starter audit`, the auditors' commands. It holds verify; more subcommands
// are added to the command it returns.
func auditCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Auditors' commands: check what a campaign's records say happened",
	}
	cmd.AddCommand(auditVerifyCommand(e))
	cmd.AddCommand(auditHistoryCommands(e)...)
	return cmd
}

func auditVerifyCommand(e *env) *cobra.Command {
	var asJSON, accountsChain bool
	cmd := &cobra.Command{
		Use:   "verify <campaign> | --accounts",
		Short: "Check a campaign's audit log against its hash chain; name the first bad row",
		Long: `Recomputes the hash chain of the campaign's audit rows (SHA-256 over the previous row's
hash and the row's canonical form) and says either that the log is intact, with its row count
and head hash, or which row is the first that does not fit: altered, following a deleted row,
or inserted. Exits non-zero when the chain is broken or the campaign is unknown.

Keep the head hash it prints: a later run whose chain does not pass through it means rows at
the end were removed or rewritten. --accounts checks the accounts' chain instead: every change
of an account (starter users), which belongs to no campaign.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if accountsChain == (len(args) == 1) {
				return errors.New("give a campaign or --accounts (one of them)")
			}
			id, what := accounts.AuditChain, "the accounts"
			if !accountsChain {
				var err error
				if id, err = campaignArg(args); err != nil {
					return err
				}
				what = id
			}
			if err := e.connect(cmd.Context(), false); err != nil {
				return err
			}
			res, err := audit.Verify(cmd.Context(), e.db, id)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(out, res)
			}
			if !res.Intact() {
				return fmt.Errorf("audit log of %s is broken: first bad row %d (%s)", what, res.Broken.RowID, res.Broken.Kind)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	cmd.Flags().BoolVar(&accountsChain, "accounts", false, "check the accounts' chain (changes of accounts) instead of a campaign's")
	return cmd
}
