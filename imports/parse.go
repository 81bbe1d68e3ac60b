// Package imports takes field data into a running campaign: enrolments, the leads taken at a
// held event, and the outcomes of follow-ups (declined, unreachable). A file is read and checked
// whole first; a file with any bad line is refused whole, with every bad line named, and
// nothing is written. A good file is staged (COPY into import_rows under a new batch ID) and
// handed to the campaign workflow by an Update, whose activity merges it idempotently. Errors
// never quote a citizen ID, name or phone number: they name the line and the column.
package imports

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"drives/contribution"
	"drives/store"
)

// Kind is what a file holds.
type Kind string

// Kinds of import.
const (
	Enrolments Kind = "enrolments"
	Leads      Kind = "leads"
	Outcomes   Kind = "outcomes"
	// Participants is a starting register: the people already participating when the
	// register is adopted, with the day each joined and the day they are paid until.
	Participants Kind = "participants"
	// Payments are collection records: each receipt extends its person's cover.
	Payments Kind = "payments"
)

// Headers are the exact first lines of each kind of file.
var Headers = map[Kind][]string{
	Enrolments: {"citizen_id", "full_name", "phone", "commune_code", "village_code", "agent_code", "target_group",
		"monthly_income", "subsidy_class", "payment_mode", "enrolled_on"},
	Leads:    {"citizen_id", "full_name", "phone", "commune_code", "village_code", "target_group"},
	Outcomes: {"citizen_id", "outcome", "reported_on"},
	Participants: {"citizen_id", "full_name", "phone", "commune_code", "village_code", "agent_code", "target_group",
		"monthly_income", "subsidy_class", "joined_on", "paid_until"},
	Payments: {"citizen_id", "paid_on", "months", "amount", "receipt_no", "agent_code"},
}

// Row is one checked line of a file. Only the fields of its kind are set.
type Row = store.ImportRow

// LineError is one bad line: where and why, never the personal data in it.
type LineError struct {
	Line  int    `json:"line"`
	Field string `json:"field"`
	Msg   string `json:"msg"`
}

func (e LineError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d: %s: %s", e.Line, e.Field, e.Msg)
}

// Rejected is a refused file: every bad line, in order. Nothing of the file was written.
type Rejected struct {
	File   string      `json:"file"`
	Rows   int         `json:"rows"`
	Errors []LineError `json:"errors"`
}

// MaxListedErrors bounds how many bad lines an error message lists; Rejected.Errors has all.
const MaxListedErrors = 50

func (r *Rejected) Error() string {
	var b strings.Builder
	lines := map[int]bool{}
	for _, e := range r.Errors {
		lines[e.Line] = true
	}
	fmt.Fprintf(&b, "%s: refused, nothing imported: %s on %s", r.File, plural(len(r.Errors), "problem"), plural(len(lines), "line"))
	if r.Rows > 0 {
		fmt.Fprintf(&b, " (%s read)", plural(r.Rows, "data line"))
	}
	for i, e := range r.Errors {
		if i == MaxListedErrors {
			fmt.Fprintf(&b, "\n  … and %d more", len(r.Errors)-i)
			break
		}
		fmt.Fprintf(&b, "\n  %s: %s", r.File, e.Error())
	}
	return b.String()
}

// plural is n and a noun, plural unless n is 1: "1 problem", "8 problems".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// Reference is what lines are checked against: the campaign's units, agents, groups and
// period, and for leads the event's district.
type Reference struct {
	CampaignID  string
	Communes    map[string]string // commune -> district
	Villages    map[string]string // village -> commune
	Agents      map[string]string // active agent or staff code -> commune
	Groups      map[string]bool
	PeriodStart time.Time // first day
	PeriodEnd   time.Time // last day
	// Today is the campaign's day when the file is checked: no line may be dated after it (a
	// file reports what happened). Zero before the campaign's clock starts: the period bounds.
	Today    time.Time
	District string // leads: the event's district
}

// lastDay is the last day a line may be dated: the campaign's day, within the period.
func (ref *Reference) lastDay() time.Time {
	if !ref.Today.IsZero() && ref.Today.Before(ref.PeriodEnd) {
		return ref.Today
	}
	return ref.PeriodEnd
}

var (
	citizenIDRe = regexp.MustCompile(`^([0-9]{9}|[0-9]{12})$`)
	phoneRe     = regexp.MustCompile(`^0[0-9]{9}$`)
)

// isCitizenID is citizenIDRe.MatchString and isPhone phoneRe's, without a regexp per line.
func isCitizenID(s string) bool { return (len(s) == 9 || len(s) == 12) && allDigits(s) }
func isPhone(s string) bool     { return len(s) == 10 && s[0] == '0' && allDigits(s) }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// gcEvery is how many bytes of a file are read between collections (see check).
const gcEvery = 16 << 20

// MaxFileBytes is the largest file accepted (about 2 million enrolment lines).
const MaxFileBytes = 512 << 20

// Parse reads and checks a whole file of the given kind. On any bad line it returns *Rejected.
func Parse(kind Kind, name string, data []byte, ref *Reference) ([]Row, error) {
	// Sized for lines of about 100 bytes, as enrolment files have: a million-line file is not
	// regrown on the way.
	rows := make([]Row, 0, len(data)/100)
	if _, err := check(kind, name, data, ref, map[uint64]int{}, func(r *Row) bool {
		rows = append(rows, *r)
		return true
	}); err != nil {
		return nil, err
	}
	return rows, nil
}

// citizenKey is a citizen ID (9 or 12 digits, checked) as a number, the length told apart:
// a file's people are told apart in 8 bytes each rather than by their strings.
func citizenKey(id string) uint64 {
	var k uint64
	for i := 0; i < len(id); i++ {
		k = k*10 + uint64(id[i]-'0')
	}
	if len(id) == 12 {
		k |= 1 << 62
	}
	return k
}

// check reads and checks a file in one streaming pass, handing each good row to each (which
// may stop the pass by returning false) and returning the number of lines. seen, when not
// nil, collects each person's key and line, to refuse a person named twice; a second pass
// over a file already checked passes nil. On any bad line it returns *Rejected.
func check(kind Kind, name string, data []byte, ref *Reference, seen map[uint64]int, each func(*Row) bool) (int, error) {
	return checkReporting(kind, name, data, ref, seen, each, nil)
}

// checkReporting is check, telling read how many bytes it has read every MiB or so.
func checkReporting(kind Kind, name string, data []byte, ref *Reference, seen map[uint64]int, each func(*Row) bool, read func(int)) (int, error) {
	header, ok := Headers[kind]
	if !ok {
		return 0, fmt.Errorf("unknown import kind %q", kind)
	}
	rej := &Rejected{File: name}
	bad := func(line int, field, format string, args ...any) {
		rej.Errors = append(rej.Errors, LineError{Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if !utf8.Valid(data) {
		bad(1, "", "the file is not UTF-8 text")
		return 0, rej
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = len(header)
	r.ReuseRecord = true
	got, err := r.Read()
	if err == io.EOF {
		bad(1, "header", "the file is empty; want %q", strings.Join(header, ","))
		return 0, rej
	}
	if err != nil || !slices.Equal(trimBOM(got), header) {
		bad(1, "header", "want %q", strings.Join(header, ","))
		return 0, rej
	}
	good := 0
	dates := map[string]time.Time{} // a file has few distinct dates: each is parsed once
	var receipts map[string]int     // payments: each receipt once in a file
	if seen != nil && kind == Payments {
		receipts = map[string]int{}
	}
	// One row, reused line after line: each hands it over and must not keep it.
	row := new(Row)
	// Each line leaves its text behind as garbage, and the collector lets garbage grow as
	// large as the live heap, the file included: a collection every gcEvery bytes read keeps
	// a large import's growth within the file's size.
	nextGC := int64(gcEvery)
	nextReport := int64(1 << 20)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if errors.Is(pe.Err, csv.ErrFieldCount) {
					bad(pe.StartLine, "", "has %d fields, want %d", len(rec), len(header))
					continue
				}
				bad(pe.StartLine, "", "%v", pe.Err)
			} else {
				bad(rej.Rows+2, "", "%v", err)
			}
			break
		}
		line, _ := r.FieldPos(0)
		if off := r.InputOffset(); off >= nextReport {
			if off >= nextGC {
				runtime.GC()
				nextGC = off + gcEvery
			}
			if read != nil {
				read(int(off))
			}
			nextReport = off + 1<<20
		}
		rej.Rows++
		n := len(rej.Errors)
		ref.checkRecord(kind, line, rec, row, seen, receipts, dates, bad)
		if len(rej.Errors) == n {
			good++
			if len(rej.Errors) == 0 && each != nil && !each(row) {
				return rej.Rows, nil
			}
		}
	}
	if len(rej.Errors) > 0 {
		return 0, rej
	}
	if good == 0 {
		bad(2, "", "the file has a header but no rows")
		return 0, rej
	}
	return rej.Rows, nil
}

// checkRecord checks one line's fields (rec, in the kind's header order) into row, telling bad
// of each problem. seen, when given, finds a person named by an earlier line of the file (a
// payments file may name a person more than once; receipts, when given, finds its receipt on
// an earlier line instead).
func (ref *Reference) checkRecord(kind Kind, line int, rec []string, row *Row, seen map[uint64]int, receipts map[string]int,
	dates map[string]time.Time, bad func(int, string, string, ...any)) {
	f := func(i int) string { return strings.TrimSpace(rec[i]) }
	*row = Row{Line: line, CitizenID: f(0)}
	if !isCitizenID(row.CitizenID) {
		bad(line, "citizen_id", "must be 12 digits (or 9 for an old identity card)")
	} else if seen != nil && kind != Payments {
		k := citizenKey(row.CitizenID)
		if first, dup := seen[k]; dup {
			bad(line, "citizen_id", "same person as line %d", first)
		} else {
			seen[k] = line
		}
	}
	switch kind {
	case Payments:
		ref.checkPayment(line, f, row, receipts, dates, bad)
		return
	case Participants:
		ref.checkParticipant(line, f, row, dates, bad)
		return
	}
	switch kind {
	case Enrolments, Leads:
		ref.checkPerson(line, f, row, bad)
		group := f(5)
		if kind == Enrolments {
			ref.checkHolder(line, f, row, bad)
			group = f(6)
			var err error
			if row.PaymentMonths, err = contribution.PaymentMonths(f(9)); err != nil {
				bad(line, "payment_mode", "%v", err)
			}
			row.On = ref.checkDate(line, "enrolled_on", f(10), dates, bad)
		}
		row.Group = group
		if !ref.Groups[group] {
			bad(line, "target_group", "unknown target group%s", quote(group))
		}
	case Outcomes:
		row.Outcome = f(1)
		if row.Outcome != "declined" && row.Outcome != "unreachable" {
			bad(line, "outcome", "must be declined or unreachable")
		}
		row.On = ref.checkDate(line, "reported_on", f(2), dates, bad)
	}
}

// CheckLine checks one line of a kind (its fields in the header's order) as a file's lines are
// checked: the same rules, the same words. It returns the line read, or its problems.
func CheckLine(kind Kind, ref *Reference, rec []string) (Row, []LineError) {
	var errs []LineError
	bad := func(line int, field, format string, args ...any) {
		errs = append(errs, LineError{Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	var row Row
	if len(rec) != len(Headers[kind]) {
		bad(1, "", "has %d fields, want %d", len(rec), len(Headers[kind]))
		return row, errs
	}
	ref.checkRecord(kind, 1, rec, &row, nil, nil, map[string]time.Time{}, bad)
	return row, errs
}

var codeLike = regexp.MustCompile(`^[A-Za-z0-9._-]{1,40}$`)

// quote gives " \"value\"" for a value that looks like a code, to help find it, and nothing
// for anything else: a refusal never repeats a citizen ID, phone number or name that a shifted
// column put where a code belongs.
func quote(v string) string {
	if !codeLike.MatchString(v) || citizenIDRe.MatchString(v) || phoneRe.MatchString(v) || digitRun.MatchString(v) {
		return ""
	}
	return fmt.Sprintf(" %q", v)
}

var digitRun = regexp.MustCompile(`[0-9]{9,}`)

func trimBOM(rec []string) []string {
	if len(rec) > 0 {
		rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
	}
	return rec
}

// checkPerson checks the fields that name a person and where they live, the same in
// enrolments, leads and a starting register (f(1) to f(4)): full name, phone, commune, village.
func (ref *Reference) checkPerson(line int, f func(int) string, row *Row, bad func(int, string, string, ...any)) {
	row.FullName, row.Phone, row.Commune, row.Village = f(1), f(2), f(3), f(4)
	if row.FullName == "" || utf8.RuneCountInString(row.FullName) > 100 {
		bad(line, "full_name", "must be 1 to 100 characters")
	}
	if !isPhone(row.Phone) {
		bad(line, "phone", "must be 10 digits starting with 0")
	}
	ref.checkUnit(row, bad)
}

func (ref *Reference) checkUnit(row *Row, bad func(int, string, string, ...any)) {
	district, ok := ref.Communes[row.Commune]
	switch {
	case !ok:
		bad(row.Line, "commune_code", "unknown commune%s", quote(row.Commune))
	case ref.District != "" && district != ref.District:
		bad(row.Line, "commune_code", "commune%s is in district %s, not the event's district %s", quote(row.Commune), district, ref.District)
	}
	if row.Village != "" && ref.Villages[row.Village] != row.Commune {
		bad(row.Line, "village_code", "unknown village%s in the line's commune", quote(row.Village))
	}
}

func (ref *Reference) checkDate(line int, field, s string, seen map[string]time.Time, bad func(int, string, string, ...any)) time.Time {
	d, ok := seen[s]
	var err error
	if !ok {
		if d, err = time.Parse("2006-01-02", s); err == nil {
			seen[s] = d
		}
	}
	switch {
	case err != nil:
		bad(line, field, "not a date (YYYY-MM-DD)")
	case d.Before(ref.PeriodStart) || d.After(ref.PeriodEnd):
		bad(line, field, "%s is outside the campaign period %s..%s", s, ref.PeriodStart.Format("2006-01-02"), ref.PeriodEnd.Format("2006-01-02"))
	case d.After(ref.lastDay()):
		bad(line, field, "%s is after the campaign's day %s: a file reports what has happened", s, ref.lastDay().Format("2006-01-02"))
	}
	return d
}
