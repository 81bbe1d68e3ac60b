package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"text/tabwriter"

	"drives/store"
)

// CheckOptions says whether format and level are ones Write knows.
func CheckOptions(format, level string) error {
	switch level {
	case "district", "commune", "village", "all":
	default:
		return fmt.Errorf("--level: %q is not district, commune, village or all", level)
	}
	switch format {
	case "table", "csv", "json", "xlsx":
		return nil
	}
	return fmt.Errorf("--format: %q is not table, csv, json or xlsx", format)
}

// Write prints a report as a table, CSV, JSON or a workbook (XLSX, WriteXLSX). level picks
// the units a table or a workbook lists.
func Write(w io.Writer, r *Report, format, level string) error {
	if err := CheckOptions(format, level); err != nil {
		return err
	}
	switch format {
	case "table":
		return writeTable(w, r, level)
	case "csv":
		return writeCSV(w, r, csvHeader, AgentsOf(r))
	case "xlsx":
		return WriteXLSX(w, r, level)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	default:
		return fmt.Errorf("--format: %q is not table, csv, json or xlsx", format)
	}
}

func writeTable(w io.Writer, r *Report, level string) error {
	kind := "live report"
	if r.Final {
		kind = "final report"
	}
	fmt.Fprintf(w, "%s — %s (%s, %s)\n", r.CampaignID, r.Name, r.Status, kind)
	fmt.Fprintf(w, "  enrolled %d of a target of %d: %.2f%% of plan\n", r.Enrolled, r.Target, r.AttainmentPct)
	if len(r.Scope) > 0 {
		fmt.Fprintf(w, "  of units %s (the campaign's prior year, events, follow-ups and target groups are not counted by unit)\n\n", strings.Join(r.Scope, ", "))
		return writeLines(w, r, level)
	}
	fmt.Fprintf(w, "  prior year %d: growth %+d people (%+.2f%%)\n", r.PriorYear, r.Growth, r.GrowthPct)
	fmt.Fprintf(w, "  events: %d held, %d planned, %d cancelled; attendance %d, leads %d\n",
		r.Events.Held, r.Events.Planned, r.Events.Cancelled, r.Events.Attendance, r.Events.Leads)
	f := r.FollowUps
	fmt.Fprintf(w, "  follow-ups: %d — %d enrolled, %d declined, %d unreachable, %d open; %d escalated\n",
		f.Total, f.Enrolled, f.Declined, f.Unreachable, f.Open, f.Escalated)
	if p := r.Participants; p != nil {
		fmt.Fprintf(w, "  participants (contributions current): %d at the start, %d joined, %d returned, %d lapsed: %d at the end (%d renewed)\n",
			p.Start, p.Joined, p.Returned, p.Lapsed, p.End, p.Renewed)
		fmt.Fprintf(w, "  stock growth %+d (%+.2f%%), %.2f%% of the target; %d payments flagged (amount not as the rules give)\n",
			p.Growth, p.GrowthPct, p.TargetPct, p.Flagged)
	}
	fmt.Fprintln(w)
	if err := writeLines(w, r, level); err != nil {
		return err
	}
	return writeParticipants(w, r.Participants)
}

// writeParticipants prints the register's figures by district and by target group.
func writeParticipants(w io.Writer, p *Participants) error {
	if p == nil || len(p.ByDistrict) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "participants by	code	at the start	joined	renewed	returned	lapsed	at the end	")
	for _, part := range []struct {
		by    string
		lines []store.RegisterFigures
	}{{"by district", p.ByDistrict}, {"by target group", p.ByGroup}} {
		for _, l := range part.lines {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", part.by, l.Key, l.Start, l.Joined, l.Renewed, l.Returned, l.Lapsed, l.End)
		}
	}
	return tw.Flush()
}

// writeLines prints a report's units, target groups and agents.
func writeLines(w io.Writer, r *Report, level string) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "level\tcode\tname\ttarget\tenrolled\t% of plan\t")
	for _, u := range r.Units {
		if level == "all" || u.Level == level {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.2f\t\n", u.Level, u.Code, u.Name, u.Target, u.Enrolled, u.Pct)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	if len(r.Scope) > 0 {
		return writeAgents(w, r, level)
	}
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target group\tlikelihood\tleads\tenrolled from leads\tconversion %\tdeclined\tunreachable\tall enrolled\tshare %\t")
	for _, g := range r.Groups {
		fmt.Fprintf(tw, "%s\t%.2f\t%d\t%d\t%.2f\t%d\t%d\t%d\t%.2f\t\n",
			g.Code, g.Likelihood, g.Leads, g.LeadsEnrolled, g.ConversionPct, g.Declined, g.Unreachable, g.Enrolled, g.SharePct)
	}
	tw.Flush()
	fmt.Fprintln(w)
	return writeAgents(w, r, level)
}

func writeAgents(w io.Writer, r *Report, level string) error {
	// Agents: the ten furthest behind and the ten furthest ahead would hide the rest; a table
	// lists them all only when asked for every level.
	if level == "all" {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "agent\tcommune\tkind\tstatus\tquota\tenrolled\t% of quota\topen follow-ups\tescalated\t")
		for _, a := range r.Agents {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%.2f\t%d\t%d\t\n", a.Code, a.Commune, a.Kind, a.Status, a.Quota, a.Enrolled, a.Pct, a.FollowUpsOpen, a.Escalated)
		}
		return tw.Flush()
	}
	var met int
	for _, a := range r.Agents {
		if a.Enrolled >= a.Quota {
			met++
		}
	}
	fmt.Fprintf(w, "agents and staff: %d, of whom %d met their quota (--level all lists each; --format csv has every line)\n", len(r.Agents), met)
	return nil
}

// textCell keeps a text cell (a code or a name, which come from plans and files) from being
// read as a formula by a spreadsheet: one that begins with =, +, -, @, a tab or a carriage
// return is written after an apostrophe, which spreadsheets show as text. Numbers are written
// as they are (a negative growth stays a number).
func textCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvHeader is the CSV's one header: every line has its columns, a line leaving empty those
// its section does not use (the register's six last).
var csvHeader = []string{"section", "level", "code", "name", "parent", "target", "enrolled", "pct", "leads", "declined",
	"unreachable", "open", "escalated", "start", "joined", "renewed", "returned", "lapsed", "end"}

// writeCSV writes the report's CSV under a heading row (csvHeader, or its Vietnamese), its
// agents' lines read from agents. A part's report (Within) has no growth line, and its city
// line leaves empty the leads and follow-ups, which are not counted by unit.
func writeCSV(w io.Writer, r *Report, header []string, agents iter.Seq2[AgentLine, error]) error {
	cw := csv.NewWriter(w)
	itoa, ftoa := strconv.Itoa, func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
	t := textCell
	none := []string{"", "", "", "", "", ""}
	write := func(cells ...string) { _ = cw.Write(append(cells, none...)) }
	_ = cw.Write(header)
	if len(r.Scope) > 0 {
		write("city", "city", t(r.CampaignID), t(r.Name), "", itoa(r.Target), itoa(r.Enrolled), ftoa(r.AttainmentPct), "", "", "", "", "")
	} else {
		write("city", "city", t(r.CampaignID), t(r.Name), "", itoa(r.Target), itoa(r.Enrolled), ftoa(r.AttainmentPct), itoa(r.Events.Leads),
			itoa(r.FollowUps.Declined), itoa(r.FollowUps.Unreachable), itoa(r.FollowUps.Open), itoa(r.FollowUps.Escalated))
		write("growth", "city", t(r.CampaignID), "prior year "+itoa(r.PriorYear), "", itoa(r.PriorYear), itoa(r.Growth), ftoa(r.GrowthPct), "", "", "", "", "")
	}
	for _, u := range r.Units {
		write("unit", u.Level, t(u.Code), t(u.Name), t(u.Parent), itoa(u.Target), itoa(u.Enrolled), ftoa(u.Pct), "", "", "", "", "")
	}
	for _, g := range r.Groups {
		write("group", "group", t(g.Code), t(g.Name), "", "", itoa(g.Enrolled), ftoa(g.ConversionPct), itoa(g.Leads), itoa(g.Declined), itoa(g.Unreachable), "", "")
	}
	n := 0
	for a, err := range agents {
		if err != nil {
			cw.Flush()
			return err
		}
		write("agent", a.Kind, t(a.Code), "", t(a.Commune), itoa(a.Quota), itoa(a.Enrolled), ftoa(a.Pct), "", "", "", itoa(a.FollowUpsOpen), itoa(a.Escalated))
		if n++; n%1000 == 0 {
			if cw.Flush(); cw.Error() != nil {
				return cw.Error()
			}
		}
	}
	if p := r.Participants; p != nil {
		line := func(level string, f store.RegisterFigures) {
			_ = cw.Write([]string{"participants", level, t(f.Key), "", "", "", "", "", "", "", "", "", "",
				itoa(f.Start), itoa(f.Joined), itoa(f.Renewed), itoa(f.Returned), itoa(f.Lapsed), itoa(f.End)})
		}
		all := p.RegisterFigures
		all.Key = r.CampaignID
		line("city", all)
		for _, part := range []struct {
			level string
			lines []store.RegisterFigures
		}{{"district", p.ByDistrict}, {"group", p.ByGroup}, {"agent", p.ByAgent}} {
			for _, f := range part.lines {
				line(part.level, f)
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteUnit prints one unit and what lies below it: a district's communes, or a commune's
// villages and agents.
func WriteUnit(w io.Writer, r *Report, code string) error {
	var self *UnitLine
	for i := range r.Units {
		if r.Units[i].Code == code {
			self = &r.Units[i]
		}
	}
	if self == nil {
		return fmt.Errorf("--unit: campaign %s has no unit %q", r.CampaignID, code)
	}
	fmt.Fprintf(w, "%s %s %s: target %d, enrolled %d (%.2f%%)\n", self.Level, self.Code, self.Name, self.Target, self.Enrolled, self.Pct)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "level\tcode\tname\ttarget\tenrolled\t%\t")
	for _, u := range r.Units {
		if u.Parent == code {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%.2f\t\n", u.Level, u.Code, u.Name, u.Target, u.Enrolled, u.Pct)
		}
	}
	if self.Level == "commune" {
		fmt.Fprintln(tw, "\t\t\t\t\t\t")
		fmt.Fprintln(tw, "agent\tkind\tstatus\tquota\tenrolled\topen follow-ups\t")
		for _, a := range r.Agents {
			if a.Commune == code {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t\n", a.Code, a.Kind, a.Status, a.Quota, a.Enrolled, a.FollowUpsOpen)
			}
		}
	}
	return tw.Flush()
}
