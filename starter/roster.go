package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"drives/coordinator"
	"drives/plan"
	"drives/store"
)

// privateOut is where a command writes what holds names, phones or passwords: the new file --out
// names, which only its owner may read and which is never an existing one, or stdout.
type privateOut struct {
	io.Writer
	file *os.File
	path string
}

// openOut opens --out's file (path), or stdout when path is "".
func openOut(cmd *cobra.Command, path string) (*privateOut, error) {
	if path == "" {
		return &privateOut{Writer: cmd.OutOrStdout()}, nil
	}
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("--out %s: the file exists; give a new file (it is never overwritten)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("--out %s: %w", path, errors.Unwrap(err))
	}
	return &privateOut{Writer: file, file: file, path: path}, nil
}

// close closes the file, if any.
func (o *privateOut) close() error {
	if o.file == nil {
		return nil
	}
	return o.file.Close()
}

// discard closes and deletes the file, if any: what it holds is not to be used.
func (o *privateOut) discard() {
	if o.file != nil {
		_ = o.file.Close()
		_ = os.Remove(o.path)
	}
}

// shownUndecided is how many agents with a termination to decide the roster names on stderr.
const shownUndecided = 10

func rosterCommand(e *env) *cobra.Command {
	var outPath string
	cmd := &cobra.Command{
		Use:   "roster <campaign> [--out FILE]",
		Short: "The roster as it stands: every agent and staff member whose contract runs, as a plan's roster file",
		Long: `Writes the agents and staff of a campaign whose contracts run — those launched with it and those
who joined or moved since, without those who left or were terminated — in the plan's roster
format (code,commune_code,kind,post_office,full_name,phone,weight), by code, each in the commune
and with the weight they have now. Next year's plan names the file as its roster (roster.file),
so the drive goes on with the people it has: contracts belong to the agents, not to one
campaign. Run it once the campaign has closed and its terminations are decided: an agent with a
termination still pending or escalated is listed (their contract runs until it is decided) and
named on stderr. The file holds names and phone numbers: --out writes a new file readable by its
owner only (never an existing one); without it the roster goes to stdout.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignArg(args)
			if err != nil {
				return err
			}
			if err := e.connect(cmd.Context(), false); err != nil { // the database alone
				return err
			}
			co := &coordinator.Coordinator{DB: e.db}
			c, err := store.ReadPredecessor(cmd.Context(), co.DB, id)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w %q", coordinator.ErrNoCampaign, id)
			}
			if err != nil {
				return err
			}
			pending, escalated, err := co.Attention(cmd.Context(), id)
			if err != nil {
				return err
			}
			out, err := openOut(cmd, outPath)
			if err != nil {
				return err
			}
			agents, staff, err := writeRoster(cmd, out, co, id)
			if cerr := out.close(); err == nil {
				err = cerr
			}
			if err != nil {
				out.discard()
				return err
			}
			errOut := cmd.ErrOrStderr()
			fmt.Fprintf(errOut, "%s and %s of campaign %s (%s)", count(agents, "agent", "agents"), count(staff, "staff member", "staff members"), id, c.Status)
			if outPath != "" {
				fmt.Fprintf(errOut, " written to %s", outPath)
			}
			fmt.Fprintln(errOut)
			if undecided := append(pending, escalated...); len(undecided) > 0 {
				var codes []string
				for _, d := range undecided[:min(len(undecided), shownUndecided)] {
					codes = append(codes, d.Agent+" ("+d.Period+")")
				}
				if more := len(undecided) - len(codes); more > 0 {
					codes = append(codes, fmt.Sprintf("and %d more (starter review list %s)", more, id))
				}
				fmt.Fprintf(errOut, "listed with a termination still to decide (review approve|reject, then write the roster again): %s\n", strings.Join(codes, ", "))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&outPath, "out", "", "write the roster to this new file, mode 0600 (default stdout)")
	return cmd
}

// writeRoster writes a campaign's roster as it stands, as CSV with the plan's roster header,
// streaming it from the database; it returns how many agents and staff it wrote.
func writeRoster(cmd *cobra.Command, w io.Writer, co *coordinator.Coordinator, id string) (agents, staff int, err error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(plan.RosterHeader); err != nil {
		return 0, 0, err
	}
	err = store.ForEachActiveAgent(cmd.Context(), co.DB, id, func(l store.RosterLine) error {
		post := "no"
		if l.PostOffice {
			post = "yes"
		}
		if l.Kind == "staff" {
			staff++
		} else {
			agents++
		}
		return cw.Write([]string{l.Code, l.Commune, l.Kind, post, l.FullName, l.Phone, strconv.FormatFloat(l.Weight, 'f', -1, 64)})
	})
	if err != nil {
		return 0, 0, err
	}
	cw.Flush()
	return agents, staff, cw.Error()
}

func contractsCommand(e *env) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "contracts <campaign> <agent-code> [--json]",
		Short: "An agent's contracts through this campaign and the ones before it: where, from, until, why they ended",
		Long: `Lists the contracts of an agent or staff member, the oldest first, through the campaign and the
campaigns before it (each plan's previous_campaign): in each campaign, the code, commune and kind,
the day the contract started (the campaign's first day for the roster it was launched with, or
the day they joined or moved there), the day it ended and why (left, terminated; a move names
the commune and the code the agent went on under), or that it runs. Moves are followed both ways,
so any of an agent's codes gives all of their contracts. No names or phones are shown.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignArg(args)
			if err != nil {
				return err
			}
			if err := e.connect(cmd.Context(), false); err != nil {
				return err
			}
			cs, err := store.AgentContracts(cmd.Context(), e.db, id, args[1])
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w %q", coordinator.ErrNoCampaign, id)
			}
			if err != nil {
				return err
			}
			if len(cs) == 0 {
				return fmt.Errorf("agent %q: no contract in campaign %s or the campaigns before it", args[1], id)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"campaign": id, "agent": args[1], "contracts": cs})
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "campaign\tcode\tcommune\tkind\tfrom\tuntil\tstatus\treason")
			for _, c := range cs {
				until := "runs"
				switch {
				case c.Until != nil:
					until = c.Until.Format(time.DateOnly)
				case c.CampaignStatus == "closed":
					until = "to the close"
				case c.CampaignStatus == "cancelled":
					until = "to the cancellation"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Campaign, c.Code, c.Commune, c.Kind, c.From.Format(time.DateOnly), until, c.Status, c.Reason)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "the contracts as JSON")
	return cmd
}
