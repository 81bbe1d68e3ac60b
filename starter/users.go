package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"drives/accounts"
	"drives/store"
)

// usersListMax is the most accounts `users list` prints at once (--limit).
const usersListMax = 10000

// usersCommand is `starter users`: the accounts of the people who work the drive (package
// accounts). Every change writes its audit row (the accounts' own chain) with the root's --by as actor.
func usersCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Accounts of the people who work the drive: add, list, disable, enable, reset a password, import a roster",
		Long: `Accounts of the people who work the drive, kept in PostgreSQL. Each has one role:

  admin        manages accounts and sees no campaign's data
  coordinator  the city's coordinator: every unit, and acts
  district     a district officer: their districts (--district), where they decide terminations and add events
  commune      commune staff: their communes (--commune), where they add events
  agent        a collection agent: their own work (--agent, their roster code), read only
  auditor      reads every unit, or only some (--district, --commune), and changes nothing

An account is bound to one campaign (--campaign) or to every one. A new account, an imported one
and a reset one get a one-time password, printed once: it signs in only to choose a new password,
which must be done at the first sign-in. Every change is written to the audit log (the accounts'
own chain) with --by as who made it.`,
	}
	actor := func() (string, error) {
		if strings.TrimSpace(*e.by) == "" {
			return "", errors.New("--by: give who makes the change")
		}
		return *e.by, nil
	}
	cmd.AddCommand(usersAdd(e, actor), usersList(e), usersSetDisabled(e, actor, true), usersSetDisabled(e, actor, false),
		usersResetPassword(e, actor), usersImport(e, actor))
	return cmd
}

// accountStore connects to the database and returns its accounts.
func (e *env) accountStore(cmd *cobra.Command) (*accounts.Store, error) {
	if err := e.connect(cmd.Context(), false); err != nil {
		return nil, err
	}
	return &accounts.Store{DB: e.db}, nil
}

// accountChange is what a change of one account needs: the account's name (the argument),
// who makes the change, and the accounts' database.
func (e *env) accountChange(cmd *cobra.Command, args []string, actor func() (string, error)) (name, by string, as *accounts.Store, err error) {
	if name, err = nameArg(args); err != nil {
		return "", "", nil, err
	}
	if by, err = actor(); err != nil {
		return "", "", nil, err
	}
	as, err = e.accountStore(cmd)
	return name, by, as, err
}

// nameArg checks an account name given as the command's argument.
func nameArg(args []string) (string, error) {
	if !accounts.ValidName(args[0]) {
		return "", fmt.Errorf("account %q: not an account name (lower-case letters, digits, '.', '_' or '-', at most 64)", args[0])
	}
	return args[0], nil
}

const oneTimeNote = "shown this once: it signs in only to choose a new password, which must be done at the first sign-in"

func usersAdd(e *env, actor func() (string, error)) *cobra.Command {
	var spec accounts.Spec
	var withToken bool
	cmd := &cobra.Command{
		Use:   "add --name NAME --role ROLE [--campaign ID] [--district CODE]... [--commune CODE]... [--agent CODE] [--with-token]",
		Short: "Add an account and print its one-time password (and API token) once",
		Long: `Adds an account and prints its one-time password once; the password must be changed at the first
sign-in. With --with-token it also gets an API bearer token, printed once too (only its SHA-256 is
kept). The campaign, the units and the agent's code must exist: a bad flag is named and nothing is
written.

  district officers need --district, commune staff --commune, agents --agent (their roster code);
  auditors may be limited to some districts and communes; the other roles are bound to no unit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			by, err := actor()
			if err != nil {
				return err
			}
			var token string
			if withToken {
				token = accounts.NewSecret()
				spec.Token = token
			}
			if err := spec.Check(); err != nil {
				return err
			}
			as, err := e.accountStore(cmd)
			if err != nil {
				return err
			}
			password, err := as.Add(cmd.Context(), by, spec)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			campaign := spec.Campaign
			if campaign == "" {
				campaign = "all"
			}
			fmt.Fprintf(out, "added account %s: role %s, campaign %s, %s\n", spec.Name, spec.Role, campaign,
				scopeText(store.Account{Districts: spec.Districts, Communes: spec.Communes, AgentCode: spec.Agent}))
			fmt.Fprintf(out, "one-time password: %s\n  (%s)\n", password, oneTimeNote)
			if token != "" {
				fmt.Fprintf(out, "API token: %s\n  (shown this once; send it as the header \"Authorization: Bearer <token>\")\n", token)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&spec.Name, "name", "", "account name: lower-case letters, digits, '.', '_' or '-' (required)")
	f.StringVar(&spec.Role, "role", "", strings.Join(accounts.Roles, " | ")+" (required)")
	f.StringVar(&spec.Campaign, "campaign", "", "the one campaign it is bound to (default: every campaign)")
	f.StringSliceVar(&spec.Districts, "district", nil, "a district code it is bound to (repeat or comma-separate)")
	f.StringSliceVar(&spec.Communes, "commune", nil, "a commune code it is bound to (repeat or comma-separate)")
	f.StringVar(&spec.Agent, "agent", "", "an agent's roster code (role agent)")
	f.BoolVar(&withToken, "with-token", false, "also give it an API bearer token, printed once")
	for _, n := range []string{"name", "role"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func usersList(e *env) *cobra.Command {
	var role string
	var limit, offset int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--role ROLE] [--limit N] [--offset N] [--json]",
		Short: "List accounts by name: role, campaign, scope and state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if role != "" && !slices.Contains(accounts.Roles, role) {
				return fmt.Errorf("--role: %q is not one of %s", role, strings.Join(accounts.Roles, ", "))
			}
			if limit < 1 || limit > usersListMax {
				return fmt.Errorf("--limit: %d is not between 1 and %d", limit, usersListMax)
			}
			if offset < 0 {
				return fmt.Errorf("--offset: %d is negative", offset)
			}
			if err := e.connect(cmd.Context(), false); err != nil {
				return err
			}
			accs, err := store.Accounts(cmd.Context(), e.db, store.AccountQuery{Role: role, Offset: offset, Limit: limit})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if accs == nil {
					accs = []store.Account{}
				}
				return json.NewEncoder(out).Encode(accs)
			}
			if err := writeAccounts(out, accs); err != nil {
				return err
			}
			if len(accs) == limit {
				fmt.Fprintf(out, "(there may be more: --offset %d)\n", offset+limit)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&role, "role", "", "only accounts of this role")
	cmd.Flags().IntVar(&limit, "limit", 100, fmt.Sprintf("at most this many accounts (1–%d)", usersListMax))
	cmd.Flags().IntVar(&offset, "offset", 0, "skip this many accounts first")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the accounts as JSON")
	return cmd
}

// writeAccounts prints accounts as a table.
func writeAccounts(w io.Writer, accs []store.Account) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "name\trole\tcampaign\tscope\tstate")
	for _, a := range accs {
		campaign := a.CampaignID
		if campaign == "" {
			campaign = "all"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, a.Role, campaign, scopeText(a), accountState(a))
	}
	return tw.Flush()
}

// scopeText says which units an account is bound to.
func scopeText(a store.Account) string {
	var parts []string
	if len(a.Districts) > 0 {
		parts = append(parts, "districts "+strings.Join(a.Districts, ","))
	}
	if len(a.Communes) > 0 {
		parts = append(parts, "communes "+strings.Join(a.Communes, ","))
	}
	if a.AgentCode != "" {
		parts = append(parts, "agent "+a.AgentCode)
	}
	if len(parts) == 0 {
		return "all units"
	}
	return strings.Join(parts, "; ")
}

// accountState is whether an account signs in: disabled, must change its one-time password,
// or active.
func accountState(a store.Account) string {
	switch {
	case a.Disabled:
		return "disabled"
	case a.MustChange:
		return "must change password"
	}
	return "active"
}

func usersSetDisabled(e *env, actor func() (string, error), disable bool) *cobra.Command {
	use, short := "enable NAME", "Let a disabled account sign in again"
	if disable {
		use, short = "disable NAME", "Stop an account signing in and end its open sessions of the web page"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, by, as, err := e.accountChange(cmd, args, actor)
			if err != nil {
				return err
			}
			if disable {
				if err := as.Disable(cmd.Context(), by, name); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "account %s is disabled: it cannot sign in, and its open sessions are ended\n", name)
				return nil
			}
			if err := as.Enable(cmd.Context(), by, name); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "account %s is enabled: it can sign in again\n", name)
			return nil
		},
	}
}

func usersResetPassword(e *env, actor func() (string, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "reset-password NAME",
		Short: "Give an account a new one-time password, printed once, and end its open sessions",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, by, as, err := e.accountChange(cmd, args, actor)
			if err != nil {
				return err
			}
			password, err := as.ResetPassword(cmd.Context(), by, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "account %s: new one-time password: %s\n  (%s; its open sessions are ended)\n",
				name, password, oneTimeNote)
			return nil
		},
	}
}

// importHeader is the header of the file `users import` writes.
var importHeader = []string{"name", "role", "commune", "one_time_password"}

func usersImport(e *env, actor func() (string, error)) *cobra.Command {
	var outPath string
	cmd := &cobra.Command{
		Use:   "import <campaign> [--out FILE]",
		Short: "Make an account for each active agent and staff member of a campaign's roster",
		Long: `Makes an account for each active agent and staff member of the campaign's roster who has none,
named by their roster code in lower case and bound to the campaign: agents (role agent, their own
work) and staff (role commune, their commune). Each gets a one-time password, which must be changed
at the first sign-in. Those who already have an account are left as they are.

The new accounts and their passwords are written once, as CSV with the header
  ` + strings.Join(importHeader, ",") + `
to --out (a new file readable by you alone; an existing file is not overwritten) or to stdout.
A summary line goes to stderr.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignArg(args)
			if err != nil {
				return err
			}
			by, err := actor()
			if err != nil {
				return err
			}
			as, err := e.accountStore(cmd)
			if err != nil {
				return err
			}
			// The file first: the passwords are shown only once, so there must be somewhere to
			// write them before the accounts are made.
			out, err := openOut(cmd, outPath)
			if err != nil {
				return err
			}
			res, err := as.Import(cmd.Context(), by, id)
			if err != nil {
				out.discard()
				return err
			}
			issued := res.Issued
			werr := writeIssued(out, issued)
			if err := out.close(); werr == nil {
				werr = err
			}
			if werr != nil {
				return fmt.Errorf("campaign %s: %d accounts were added, but their one-time passwords could not be written (%w); give them new ones with `starter users reset-password`",
					id, len(issued), werr)
			}
			errOut := cmd.ErrOrStderr()
			fmt.Fprintf(errOut, "campaign %s: added %d accounts, %d already had an account", id, len(issued), res.Existing)
			if outPath != "" && len(issued) > 0 {
				fmt.Fprintf(errOut, "; one-time passwords in %s (shown this once: hand each to its holder, then delete the file)", outPath)
			}
			fmt.Fprintln(errOut)
			if len(res.Moved) > 0 {
				fmt.Fprintf(errOut, "moved to %s, passwords kept (the same people in the same posts, bound to another campaign): %d: %s\n",
					id, len(res.Moved), strings.Join(res.Moved, ", "))
			}
			if len(res.Differ) > 0 {
				fmt.Fprintf(errOut, "left as they are: %d accounts of roster names whose role or unit differs from the roster's (see `starter users list`): %s\n",
					len(res.Differ), strings.Join(res.Differ, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&outPath, "out", "", "write the accounts and their one-time passwords to this new file (default stdout)")
	return cmd
}

// writeIssued writes the accounts Import made, with their one-time passwords, as CSV.
func writeIssued(w io.Writer, issued []accounts.Issued) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(importHeader)
	for _, it := range issued {
		_ = cw.Write([]string{it.Name, it.Role, it.Unit, it.Password})
	}
	cw.Flush()
	return cw.Error()
}
