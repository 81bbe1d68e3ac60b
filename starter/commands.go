package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"drives/campaign"
	"drives/contribution"
	"drives/coordinator"
	"drives/imports"
	"drives/internal/config"
	"drives/plan"
	"drives/report"
)

// env connects lazily, so `--help` and argument errors need no services.
type env struct {
	by *string
	db *pgxpool.Pool
	tc client.Client
}

func (e *env) connect(ctx context.Context, temporal bool) error {
	if e.db == nil {
		db, err := config.Pool(ctx)
		if err != nil {
			return err
		}
		e.db = db
	}
	if temporal && e.tc == nil {
		tc, err := config.Temporal(ctx, nil, keylessWhenUnset)
		if err != nil {
			return err
		}
		e.tc = tc
	}
	return nil
}

func (e *env) coordinator(ctx context.Context) (*coordinator.Coordinator, error) {
	if err := e.connect(ctx, true); err != nil {
		return nil, err
	}
	return &coordinator.Coordinator{DB: e.db, Temporal: e.tc}, nil
}

func (e *env) importer(ctx context.Context) (*imports.Importer, error) {
	if err := e.connect(ctx, true); err != nil {
		return nil, err
	}
	return &imports.Importer{DB: e.db, Temporal: e.tc, MaxMerging: imports.MaxMergingFromEnv()}, nil
}

// campaign checks the campaign argument and connects a coordinator.
func (e *env) campaign(ctx context.Context, args []string) (string, *coordinator.Coordinator, error) {
	id, err := campaignArg(args)
	if err != nil {
		return "", nil, err
	}
	co, err := e.coordinator(ctx)
	return id, co, err
}

func campaignArg(args []string) (string, error) {
	if !plan.ValidCampaignID(args[0]) {
		return "", fmt.Errorf("campaign %q: not a campaign id (lower-case letters, digits and '-')", args[0])
	}
	return args[0], nil
}

func launchCommand(e *env) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "launch <plan.yaml>",
		Short: "Validate a plan and launch its campaign (once)",
		Long: `Validates the plan and the files it names; on any problem prints every one (file and
field) and writes nothing. A valid plan is stored and its CampaignWorkflow started; the same
campaign is never launched twice.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lp, err := plan.Load(args[0])
			if err != nil {
				return err
			}
			co, err := e.coordinator(cmd.Context())
			if err != nil {
				return err
			}
			run, err := co.Launch(cmd.Context(), lp)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "launched campaign %s: target %d participants (workflow %s, run %s)\n",
				lp.Plan.ID, lp.CityTarget(), run.GetID(), run.GetRunID())
			if !wait {
				return nil
			}
			var res campaign.CloseResult
			if err := run.Get(cmd.Context(), &res); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "campaign %s %s: enrolled %d of %d\n", res.CampaignID, res.Status, res.Enrolled, res.Target)
			return nil
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the campaign closes")
	return cmd
}

func statusCommand(e *env) *cobra.Command {
	var unit string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status <campaign>",
		Short: "Show target, enrolled and % by district (--unit CODE to go deeper)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, co, err := e.campaign(cmd.Context(), args)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if unit != "" {
				r, err := report.Build(cmd.Context(), co.DB, id)
				if err != nil {
					return err
				}
				return report.WriteUnit(out, r, unit)
			}
			p, err := co.Progress(cmd.Context(), id)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(out).Encode(p)
			}
			writeProgress(out, p, true)
			pending, escalated, err := co.Attention(cmd.Context(), id)
			if err != nil {
				return err
			}
			if len(pending)+len(escalated) > 0 {
				fmt.Fprintf(out, "\nterminations waiting for a coordinator: %d pending, %d escalated (no decision in time)\n", len(pending), len(escalated))
				writeDecisions(out, append(pending, escalated...))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&unit, "unit", "", "a district or commune code: its communes or villages and agents")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the progress as JSON")
	return cmd
}

func writeProgress(w interface{ Write([]byte) (int, error) }, p campaign.Progress, districts bool) {
	now := p.CampaignTime
	if p.Status == campaign.StatusRunning && p.Clock.Scale > 0 {
		now = p.Clock.CampaignTime(time.Now())
		if now.After(p.PeriodEnd) {
			now = p.PeriodEnd
		}
	}
	fmt.Fprintf(w, "%s  %-9s  campaign date %s  enrolled %d of %d (%.2f%%)  imports %d  districts closed %d/%d\n",
		p.CampaignID, p.Status, now.Format("2006-01-02"), p.Enrolled, p.Target, report.Pct(p.Enrolled, p.Target),
		p.Imports, p.DistrictsClosed, len(p.Districts))
	if !districts {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "district\tname\ttarget\tenrolled\t%\tclosed\t")
	for _, d := range p.Districts {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f\t%v\t\n", d.Code, d.Name, d.Target, d.Enrolled, report.Pct(d.Enrolled, d.Target), d.Closed)
	}
	tw.Flush()
}

func readFile(path string) (string, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", path, errors.Unwrap(err))
	}
	return filepath.Base(path), data, nil
}

// fileCommand is a command that imports one kind of file into a campaign (runImport); long
// follows the file's header line.
func fileCommand(e *env, kind imports.Kind, use, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long:  "Imports a CSV with the header\n  " + strings.Join(imports.Headers[kind], ",") + "\n" + long,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd, e, args, kind)
		},
	}
}

func importCommand(e *env) *cobra.Command {
	return fileCommand(e, imports.Enrolments, "import <campaign> <enrolments.csv>",
		"Import enrolments (idempotent; a file with any bad line is refused whole)",
		`Every line is checked (2021 rules: income 700,000–29,800,000 VND, subsidy class poor|near_poor|other,
payment mode `+contribution.PaymentModes+`; known commune, village, agent and target group; a date
within the period; no person twice). A file with any bad line is refused whole, every bad line
listed, and nothing is written. A good file is merged by the campaign: people already enrolled
count as duplicates, so importing the same file again adds nothing.`)
}

func outcomesCommand(e *env) *cobra.Command {
	return fileCommand(e, imports.Outcomes, "outcomes <campaign> <outcomes.csv>",
		"Record follow-up outcomes (declined, unreachable) reported by agents",
		`Each line closes the open follow-up of a lead as declined or unreachable. Every citizen ID must
be a lead of the campaign. A file with any bad line is refused whole.`)
}

func participantsCommand(e *env) *cobra.Command {
	return fileCommand(e, imports.Participants, "participants <campaign> <participants.csv>",
		"Import a starting register: the people already participating when the register is adopted",
		`into the campaign's register of participants: each line a person already participating, who
joined on joined_on and is paid until paid_until (the first day not covered). The person is
checked as an enrolment is (the 2021 rules, known commune, village, agent and target group).
People already in the register are left as they are, so importing the file again adds nothing.
A file with any bad line is refused whole, every bad line listed, and nothing is written.`)
}

func paymentsCommand(e *env) *cobra.Command {
	return fileCommand(e, imports.Payments, "payments <campaign> <payments.csv>",
		"Import collection records: each payment extends its person's cover",
		`Each receipt extends its person's cover by its months (`+contribution.MonthsPaid+`);
a payment after a lapse starts a new cover on its day, and the person is back. Every person
must be in the campaign's register. A receipt recorded before counts once. An amount other than
the rules give (22% of the person's declared income, less the state's support for their class,
times the months) is recorded and flagged. A file with any bad line is refused whole.`)
}

func runImport(cmd *cobra.Command, e *env, args []string, kind imports.Kind) error {
	id, err := campaignArg(args)
	if err != nil {
		return err
	}
	name, data, err := readFile(args[1])
	if err != nil {
		return err
	}
	im, err := e.importer(cmd.Context())
	if err != nil {
		return err
	}
	im.Progress = importProgress(cmd.ErrOrStderr(), name)
	res, err := im.Enrolments(cmd.Context(), id, kind, name, data, *e.by)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	switch kind {
	case imports.Payments:
		fmt.Fprintf(w, "%s: %s: %d new, %d recorded before; %d flagged (amount not as the rules give); "+
			"%s renewed, %d back from a lapse; %s closed (batch %s)\n",
			name, plural(res.Rows, "receipt", "receipts"), res.New, res.Duplicates, res.Flagged, plural(res.Renewed, "person", "people"),
			res.Returned, plural(res.FollowUpsClosed, "renewal follow-up", "renewal follow-ups"), res.BatchID)
	case imports.Participants:
		fmt.Fprintf(w, "%s: %s: %d joined the register, %d in it already (batch %s)\n",
			name, plural(res.Rows, "person", "people"), res.New, res.Duplicates, res.BatchID)
	default:
		fmt.Fprintf(w, "%s: %s: %d new, %d duplicate, 0 rejected; %s closed (batch %s)\n",
			name, plural(res.Rows, "row", "rows"), res.New, res.Duplicates, plural(res.FollowUpsClosed, "follow-up", "follow-ups"), res.BatchID)
	}
	return nil
}

// plural is n and its noun: one when n is 1, else many ("1 row", "2 rows", "0 people").
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func eventCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "event", Short: "Add or cancel an event, or record a held event's results"}
	var spec plan.EventSpec
	var date, groups string
	add := &cobra.Command{
		Use:   "add <campaign>",
		Short: "Add an event to a running campaign (it reaches the running district)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignArg(args)
			if err != nil {
				return err
			}
			d, err := plan.ParseDate(date)
			if err != nil {
				return fmt.Errorf("--date: %w", err)
			}
			spec.Date = d
			for _, g := range strings.Split(groups, ",") {
				if g = strings.TrimSpace(g); g != "" {
					spec.Groups = append(spec.Groups, g)
				}
			}
			co, err := e.coordinator(cmd.Context())
			if err != nil {
				return err
			}
			ids, err := coordinator.Update[[]string](cmd.Context(), co, id, campaign.UpdateAddEvent,
				campaign.AddEventRequest{Event: spec, By: *e.by})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added %s\n", strings.Join(ids, ", "))
			return nil
		},
	}
	add.Flags().StringVar(&spec.ID, "id", "", "event id (required)")
	add.Flags().StringVar(&spec.Kind, "kind", "", "conference | dialogue | door_to_door | post_office_round (required)")
	add.Flags().StringVar(&spec.Unit, "unit", "", "district or commune code, or city (required)")
	add.Flags().StringVar(&date, "date", "", "YYYY-MM-DD, within the period and ahead of the campaign's clock (required)")
	add.Flags().StringVar(&groups, "groups", "", "target groups it is aimed at, comma-separated (required)")
	add.Flags().IntVar(&spec.ExpectedAttendance, "expected", 0, "expected attendance")
	add.Flags().StringVar(&spec.Title, "title", "", "title")
	for _, f := range []string{"id", "kind", "unit", "date", "groups"} {
		_ = add.MarkFlagRequired(f)
	}

	var reason string
	cancel := &cobra.Command{
		Use:   "cancel <campaign> <event-id>",
		Short: "Cancel a planned event (a city-wide one in every district)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, co, err := e.campaign(cmd.Context(), args)
			if err != nil {
				return err
			}
			ids, err := coordinator.Update[[]string](cmd.Context(), co, id, campaign.UpdateCancelEvent,
				campaign.CancelEventRequest{EventID: args[1], Reason: reason, By: *e.by})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "cancelled %s\n", strings.Join(ids, ", "))
			return nil
		},
	}
	cancel.Flags().StringVar(&reason, "reason", "", "why (required)")
	_ = cancel.MarkFlagRequired("reason")

	var attendance int
	results := &cobra.Command{
		Use:   "results <campaign> <event-id> <leads.csv>",
		Short: "Record a held event's attendance and leads; leads become follow-ups",
		Long: `Records a held event's attendance and its leads, a CSV with the header
  ` + strings.Join(imports.Headers[imports.Leads], ",") + `
Leads must live in the event's district. Each new lead becomes a follow-up task for a collection
agent of its commune, likeliest target groups first. A file with any bad line is refused whole.`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignArg(args)
			if err != nil {
				return err
			}
			if attendance < 0 {
				return errors.New("--attendance: must not be negative")
			}
			name, data, err := readFile(args[2])
			if err != nil {
				return err
			}
			im, err := e.importer(cmd.Context())
			if err != nil {
				return err
			}
			im.Progress = importProgress(cmd.ErrOrStderr(), name)
			res, err := im.EventResults(cmd.Context(), id, args[1], attendance, name, data, *e.by)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d leads: %d new, %d duplicate; %d follow-ups created\n",
				res.EventID, res.Leads, res.New, res.Duplicates, res.FollowUps)
			return nil
		},
	}
	results.Flags().IntVar(&attendance, "attendance", 0, "how many attended (required)")
	_ = results.MarkFlagRequired("attendance")
	cmd.AddCommand(add, cancel, results)
	return cmd
}

func steerCommand(e *env, what string) *cobra.Command {
	var reason string
	update := map[string]string{"pause": campaign.UpdatePause, "resume": campaign.UpdateResume, "cancel": campaign.UpdateCancel}[what]
	short := map[string]string{
		"pause":  "Pause a campaign: no event is held and no follow-up swept until it resumes",
		"resume": "Resume a paused campaign; events that fell due meanwhile are held at once",
		"cancel": "Cancel a campaign: district drives stop and the campaign closes with its report",
	}[what]
	cmd := &cobra.Command{
		Use:   what + " <campaign>",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, co, err := e.campaign(cmd.Context(), args)
			if err != nil {
				return err
			}
			status, err := coordinator.Update[string](cmd.Context(), co, id, update, campaign.SteerRequest{Reason: reason, By: *e.by})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "campaign %s is %s\n", id, status)
			return nil
		},
	}
	reasonHelp := map[string]string{
		"pause":  "why it is paused (optional; recorded in the audit log)",
		"resume": "why it resumes (optional; recorded in the audit log)",
		"cancel": "why it is cancelled (required; recorded in the audit log)",
	}[what]
	cmd.Flags().StringVar(&reason, "reason", "", reasonHelp)
	if what == "cancel" {
		_ = cmd.MarkFlagRequired("reason")
	}
	return cmd
}

func reportCommand(e *env) *cobra.Command {
	var format, level, out string
	var units []string
	cmd := &cobra.Command{
		Use:   "report <campaign>",
		Short: "Achieved vs plan and growth vs the prior year, by unit, target group and agent",
		Long: `Prints the campaign's report: the final one stored when it closed, or a live one while it runs,
with the agent reviews' totals by period. While the campaign runs, its enrolments so far are
given against the prior year's total, and its growth only once it has closed.
Formats: table (default), csv, json, xlsx. --level chooses the units listed (district, commune,
village or all): the table's default is district; csv, json and xlsx hold every level unless
--level is given. xlsx is a workbook with Vietnamese sheets and headings (summary, units, target
groups, agents, participants); it is written to --out FILE, or to stdout when that is not a
terminal. --out writes any format to a file (created or replaced, mode 0644, only once the
report is complete). --unit limits the report to some districts or communes: their totals,
units and agents.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignArg(args)
			if err != nil {
				return err
			}
			if format != "table" && !cmd.Flags().Changed("level") {
				level = "all" // a file for programs or spreadsheets holds every level unless asked
			}
			if err := report.CheckOptions(format, level); err != nil {
				return err
			}
			if format == "xlsx" && out == "" && isTerminal(cmd.OutOrStdout()) {
				return errors.New("--format xlsx: a workbook is not printed to a terminal: name its file with --out FILE (or redirect stdout)")
			}
			w := cmd.OutOrStdout()
			var file *outFile
			if out != "" {
				if file, err = createOut(out); err != nil {
					return err
				}
				defer file.discard()
				w = file
			}
			if err := e.connect(cmd.Context(), false); err != nil {
				return err
			}
			r, err := report.Load(cmd.Context(), e.db, id)
			if err != nil {
				return err
			}
			if len(units) > 0 {
				if r, err = report.Within(r, units); err != nil {
					return err
				}
			}
			if err := report.Write(w, r, format, level); err != nil {
				return err
			}
			if file != nil {
				if err := file.keep(); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "report of %s written to %s\n", id, out)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&units, "unit", nil, "only these districts or communes (repeat or comma-separate): their totals, units and agents")
	cmd.Flags().StringVar(&format, "format", "table", "table | csv | json | xlsx")
	cmd.Flags().StringVar(&level, "level", "district", "units listed: district | commune | village | all (csv, json and xlsx: all unless given)")
	cmd.Flags().StringVar(&out, "out", "", "write the report to this file (created or replaced, mode 0644) instead of stdout; needed for xlsx on a terminal")
	return cmd
}

// outFile is a report's --out file while it is written: a temporary file beside it, renamed
// to it once complete, so that a failure leaves any earlier file of that name as it was.
type outFile struct {
	*os.File
	path string
	done bool
}

// createOut begins the --out file: its folder must exist and be writable.
func createOut(path string) (*outFile, error) {
	dir := filepath.Dir(path)
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("--out %s: is a folder; name a file", path)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("--out %s: cannot write in folder %s: %w", path, dir, err)
	}
	return &outFile{File: f, path: path}, nil
}

// keep closes the file and puts it in place, readable by all (0644).
func (f *outFile) keep() error {
	err := f.Chmod(0o644)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), f.path)
	}
	if err != nil {
		return fmt.Errorf("--out %s: %w", f.path, err)
	}
	f.done = true
	return nil
}

// discard removes the temporary file of a report that was not kept.
func (f *outFile) discard() {
	if !f.done {
		_ = f.Close()
		_ = os.Remove(f.Name())
	}
}
