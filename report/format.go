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
// the units each format lists: district, commune, village or all.
func Write(w io.Writer, r *Report, format, level string) error {
	if err := CheckOptions(format, level); err != nil {
		return err
	}
	switch format {
	case "table":
		return writeTable(w, r, level)
	case "csv":
		return writeCSV(w, AtLevel(r, level), csvHeader, AgentsOf(r))
	case "xlsx":
		return WriteXLSX(w, r, level)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(AtLevel(r, level))
	default:
		return fmt.Errorf("--format: %q is not table, csv, json or xlsx", format)
	}
}

// AtLevel is the report with only the units of a level (all: every unit), as the CSV and the
// JSON list them; r itself is left as it is.
func AtLevel(r *Report, level string) *Report {
	if level == "all" {
		return r
	}
	out := *r
	out.Units = make([]UnitLine, 0, len(r.Units))
	for _, u := range r.Units {
		if u.Level == level {
			out.Units = append(out.Units, u)
		}
	}
	return &out
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
	if r.GrowthSoFar() {
		// This year's enrolments so far against last year's whole total is no growth yet.
		fmt.Fprintf(w, "  prior year %d: so far %.2f%% of it enrolled this year (the year's growth is given when the campaign closes)\n",
			r.PriorYear, Pct(r.Enrolled, r.PriorYear))
	} else {
		fmt.Fprintf(w, "  prior year %d: growth %+d people (%+.2f%%)\n", r.PriorYear, r.Growth, r.GrowthPct)
	}
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
	if err := writeParticipants(w, r.Participants); err != nil {
		return err
	}
	return writeReviews(w, r)
}

// writeReviews prints the agent reviews' totals, a line per period.
func writeReviews(w io.Writer, r *Report) error {
	if len(r.Reviews) == 0 {
		return nil
	}
	fmt.Fprintf(w, "\nagent reviews (starter review list %s has each decision and its rationale):\n", r.CampaignID)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "period\treviewed\trewarded\tcommended\tretained\twarned\ttermination proposed\tapproved\trejected\tescalated\t")
	for _, t := range r.Reviews {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", t.Period, t.Agents, t.Rewarded, t.Commended, t.Retained,
			t.Warned, t.Proposed, t.Approved, t.Rejected, t.Escalated)
	}
	return tw.Flush()
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
// its section does not use. Each section has columns of its own for figures of its own: the
// register's (start … end), growth's (prior_year, growth, growth_pct) and the reviews'
// (reviewed … terminations_escalated).
var csvHeader = []string{"section", "level", "code", "name", "parent", "target", "enrolled", "pct", "leads", "declined",
	"unreachable", "open", "escalated", "start", "joined", "renewed", "returned", "lapsed", "end",
	"prior_year", "growth", "growth_pct",
	"reviewed", "rewarded", "commended", "retained", "warned", "terminations_proposed", "terminations_approved",
	"terminations_rejected", "terminations_escalated"}

// csvColumn is each of csvHeader's columns by name.
var csvColumn = func() map[string]int {
	m := make(map[string]int, len(csvHeader))
	for i, c := range csvHeader {
		m[c] = i
	}
	return m
}()

// csvLine is a line of the CSV: its cells by column name, the rest left empty.
type csvLine map[string]string

func (l csvLine) cells() []string {
	out := make([]string, len(csvHeader))
	for k, v := range l {
		i, ok := csvColumn[k]
		if !ok {
			panic("report: no CSV column " + k)
		}
		out[i] = v
	}
	return out
}

// writeCSV writes the report's CSV under a heading row (csvHeader, or its Vietnamese), its
// agents' lines read from agents. A part's report (Within) has no growth or review lines, and
// its city line leaves empty the leads and follow-ups, which are not counted by unit. The
// growth line's name says whether its figures are final or, while the campaign runs, so far.
func writeCSV(w io.Writer, r *Report, header []string, agents iter.Seq2[AgentLine, error]) error {
	cw := csv.NewWriter(w)
	itoa, ftoa := strconv.Itoa, func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }
	t := textCell
	write := func(l csvLine) { _ = cw.Write(l.cells()) }
	_ = cw.Write(header)
	city := csvLine{"section": "city", "level": "city", "code": t(r.CampaignID), "name": t(r.Name),
		"target": itoa(r.Target), "enrolled": itoa(r.Enrolled), "pct": ftoa(r.AttainmentPct)}
	if len(r.Scope) == 0 {
		city["leads"], city["declined"], city["unreachable"] = itoa(r.Events.Leads), itoa(r.FollowUps.Declined), itoa(r.FollowUps.Unreachable)
		city["open"], city["escalated"] = itoa(r.FollowUps.Open), itoa(r.FollowUps.Escalated)
	}
	write(city)
	if len(r.Scope) == 0 {
		name := "final"
		if r.GrowthSoFar() {
			name = "so far (campaign running): enrolled to date against the prior year's total"
		}
		write(csvLine{"section": "growth", "level": "city", "code": t(r.CampaignID), "name": name,
			"prior_year": itoa(r.PriorYear), "growth": itoa(r.Growth), "growth_pct": ftoa(r.GrowthPct)})
	}
	for _, u := range r.Units {
		write(csvLine{"section": "unit", "level": u.Level, "code": t(u.Code), "name": t(u.Name), "parent": t(u.Parent),
			"target": itoa(u.Target), "enrolled": itoa(u.Enrolled), "pct": ftoa(u.Pct)})
	}
	for _, g := range r.Groups {
		write(csvLine{"section": "group", "level": "group", "code": t(g.Code), "name": t(g.Name), "enrolled": itoa(g.Enrolled),
			"pct": ftoa(g.ConversionPct), "leads": itoa(g.Leads), "declined": itoa(g.Declined), "unreachable": itoa(g.Unreachable)})
	}
	n := 0
	for a, err := range agents {
		if err != nil {
			cw.Flush()
			return err
		}
		write(csvLine{"section": "agent", "level": a.Kind, "code": t(a.Code), "parent": t(a.Commune), "target": itoa(a.Quota),
			"enrolled": itoa(a.Enrolled), "pct": ftoa(a.Pct), "open": itoa(a.FollowUpsOpen), "escalated": itoa(a.Escalated)})
		if n++; n%1000 == 0 {
			if cw.Flush(); cw.Error() != nil {
				return cw.Error()
			}
		}
	}
	if p := r.Participants; p != nil {
		line := func(level string, f store.RegisterFigures) {
			write(csvLine{"section": "participants", "level": level, "code": t(f.Key), "start": itoa(f.Start), "joined": itoa(f.Joined),
				"renewed": itoa(f.Renewed), "returned": itoa(f.Returned), "lapsed": itoa(f.Lapsed), "end": itoa(f.End)})
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
	if len(r.Scope) == 0 {
		for _, v := range r.Reviews {
			write(csvLine{"section": "review", "level": "period", "code": t(v.Period), "reviewed": itoa(v.Agents),
				"rewarded": itoa(v.Rewarded), "commended": itoa(v.Commended), "retained": itoa(v.Retained), "warned": itoa(v.Warned),
				"terminations_proposed": itoa(v.Proposed), "terminations_approved": itoa(v.Approved),
				"terminations_rejected": itoa(v.Rejected), "terminations_escalated": itoa(v.Escalated)})
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
