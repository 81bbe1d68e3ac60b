package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"go.temporal.io/sdk/converter"

	"drives/codec"
	"drives/history"
)

// auditHistoryCommands are the auditors' commands over Temporal histories: export, check, trace.
func auditHistoryCommands(e *env) []*cobra.Command {
	var out string
	export := &cobra.Command{
		Use:   "export <campaign> --out DIR",
		Short: "Export every workflow run of a campaign (as temporal workflow show --output json), its audit rows and a manifest of hashes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, co, err := e.campaign(cmd.Context(), args)
			if err != nil {
				return err
			}
			m, err := history.Export(cmd.Context(), co.Temporal, co.DB, id, out)
			if err != nil {
				return err
			}
			events := 0
			for _, r := range m.Runs {
				events += r.Events
			}
			fmt.Fprintf(cmd.OutOrStdout(), "exported %s into %s: %d workflow runs (%d history events), %d audit rows, manifest %s\n",
				id, out, len(m.Runs), events, m.AuditRows, history.ManifestFile)
			return nil
		},
	}
	export.Flags().StringVar(&out, "out", "", "a new, empty folder (required)")
	_ = export.MarkFlagRequired("out")

	var asJSON bool
	check := &cobra.Command{
		Use:   "check <DIR>",
		Short: "Check an export offline: hashes, replay of every history against this code, audit rows against completed activities and back",
		Long: `Checks an export without any server. Encrypted histories are replayed with the keys of
DRIVES_CODEC_KEYS.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := codec.FromEnv()
			if err != nil {
				return err
			}
			// Encrypted histories replay only with their keys: without them every payload
			// fails, which would read as code that no longer replays. Say so and check nothing.
			need, err := history.EncryptionKeys(args[0])
			if err != nil {
				return err
			}
			var have []string
			if c != nil {
				have = c.KeyIDs()
			}
			if missing := slices.DeleteFunc(slices.Clone(need), func(id string) bool { return slices.Contains(have, id) }); len(missing) > 0 {
				return fmt.Errorf("%s: the histories' payloads are encrypted with key %s, which DRIVES_CODEC_KEYS does not hold "+
					"(it holds %s); give it, e.g. DRIVES_CODEC_KEYS=%s:<base64 key> starter audit check %s — nothing was checked",
					args[0], strings.Join(missing, ", "), keysOrNone(have), missing[0], args[0])
			}
			var dc converter.DataConverter
			if c != nil {
				dc = codec.DataConverter(c)
			}
			res, err := history.Check(args[0], dc)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if err := json.NewEncoder(w).Encode(res); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(w, "%s: %d runs (%d events) replayed, %d audit rows, %d effect activities\n",
					res.CampaignID, res.Runs, res.Events, res.AuditRows, res.Effects)
				for _, p := range res.Problems {
					fmt.Fprintln(w, "  ✗", p)
				}
			}
			if len(res.Problems) > 0 {
				return fmt.Errorf("export %s fails its check: %s", args[0], plural(len(res.Problems), "problem", "problems"))
			}
			if !asJSON {
				fmt.Fprintln(w, "  ✓ every history replays; every audited effect has its completed activity and every completed effect its audit row")
			}
			return nil
		},
	}
	check.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")

	var unit, agent, period string
	trace := &cobra.Command{
		Use:   "trace <campaign> --unit CODE | --agent CODE [--period P]",
		Short: "Trace a report figure to the rows behind it and the history events that wrote them",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (unit == "") == (agent == "") {
				return errors.New("name one of --unit or --agent")
			}
			id, co, err := e.campaign(cmd.Context(), args)
			if err != nil {
				return err
			}
			t := &history.Tracer{DB: co.DB, Temporal: co.Temporal}
			var tr *history.Trace
			if unit != "" {
				tr, err = t.Unit(cmd.Context(), id, unit, period)
			} else {
				tr, err = t.Agent(cmd.Context(), id, agent, period)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(tr)
			}
			// Audit rows are stamped in real time; say it in the campaign's time too, as the rest does.
			clock, loc, err := co.Clock(cmd.Context(), id)
			if err != nil {
				tr.Print(cmd.OutOrStdout())
				return nil
			}
			tr.PrintAt(cmd.OutOrStdout(), func(t time.Time) string {
				real := t.UTC().Format(time.RFC3339)
				if t.Before(clock.Epoch) {
					return real + " (real time, UTC; before the campaign's clock started)"
				}
				return clock.CampaignTime(t).In(loc).Format(campaignTimeLayout) + " campaign time (real " + real + ")"
			})
			return nil
		},
	}
	trace.Flags().StringVar(&unit, "unit", "", "a district, commune or village code")
	trace.Flags().StringVar(&agent, "agent", "", "an agent's or staff member's code")
	trace.Flags().StringVar(&period, "period", "", "only a review period's window, e.g. 2021-Q2")
	trace.Flags().BoolVar(&asJSON, "json", false, "print the trace as JSON")
	return []*cobra.Command{export, check, trace}
}

// keysOrNone names key IDs, or says there are none.
func keysOrNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}
