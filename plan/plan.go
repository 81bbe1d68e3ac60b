// Package plan reads and validates a drive's plan and the files it names (the unit register,
// the villages, the roster), and turns it into the Spec the workflows carry: district targets,
// events placed in campaign time, the follow-up policy and the review periods.
//
// The campaign clock (clock.go) and the review schedule and policy (review.go) are here
// because they are the plan's own sections read into time and rules: the clock is the plan's
// `clock.scale` and period, the only way plan dates and durations become timers; the review
// cron and policy are the plan's `review` section, checked with the rest of the plan, and the
// periods they give are part of the Spec. What applies the policy to agents' figures is an
// activity (activities/review.go).
//
// Nothing here does I/O except reading a plan and the files it names; workflows import this
// package for its types and pure functions.
package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"drives/units"
)

// Plan is a campaign drive as a coordinator writes it (YAML). Durations are in campaign time;
// Clock.Scale compresses them for a demo without changing any code path.
type Plan struct {
	ID                string         `yaml:"id" json:"id"`
	Name              string         `yaml:"name" json:"name"`
	Year              int            `yaml:"year" json:"year"`
	Timezone          string         `yaml:"timezone" json:"timezone"`
	Period            Period         `yaml:"period" json:"period"`
	Clock             ClockSpec      `yaml:"clock" json:"clock"`
	PriorYearEnrolled int            `yaml:"prior_year_enrolled" json:"prior_year_enrolled"`
	PreviousCampaign  string         `yaml:"previous_campaign,omitempty" json:"previous_campaign,omitempty"`
	Target            TargetRule     `yaml:"target" json:"target"`
	Units             UnitSources    `yaml:"units" json:"units"`
	Roster            RosterSource   `yaml:"roster" json:"roster"`
	TargetGroups      []TargetGroup  `yaml:"target_groups" json:"target_groups"`
	Events            []EventSpec    `yaml:"events" json:"events"`
	FollowUp          FollowUpPolicy `yaml:"follow_up" json:"follow_up"`
	Renewals          RenewalPolicy  `yaml:"renewals" json:"renewals"`
	Review            ReviewSpec     `yaml:"review" json:"review"`
}

// Period is the campaign year, both dates inclusive, in the plan's time zone.
type Period struct {
	Start Date `yaml:"start" json:"start"`
	End   Date `yaml:"end" json:"end"`
}

// ClockSpec says how campaign time maps onto real time. Scale 1 is a real year (campaign time is
// the calendar); Scale N runs N campaign seconds per real second, starting at launch.
type ClockSpec struct {
	Scale float64 `yaml:"scale" json:"scale"`
}

// TargetRule gives the city target: a share of the working-age informal labour force, or an
// absolute number of participants.
type TargetRule struct {
	Rule     string  `yaml:"rule" json:"rule"` // labour_force_share | absolute
	Share    float64 `yaml:"share,omitempty" json:"share,omitempty"`
	Absolute int     `yaml:"absolute,omitempty" json:"absolute,omitempty"`
	// Overrides pin the targets of districts or communes (by code) in place of the rule's
	// split: how a revision raises one district's target (see allocate.Quotas).
	Overrides map[string]int `yaml:"overrides,omitempty" json:"overrides,omitempty"`
	// AllowBelowEnrolled lets a revision give a unit or agent a target below what it has
	// enrolled already; by default such a revision is refused.
	AllowBelowEnrolled bool `yaml:"allow_below_enrolled,omitempty" json:"allow_below_enrolled,omitempty"`
}

// Target rules.
const (
	RuleLabourForceShare = "labour_force_share"
	RuleAbsolute         = "absolute"
)

// UnitSources names the administrative register (districts and communes, GSO format) and the
// villages file (villages or residential groups with their labour-force baselines).
type UnitSources struct {
	File         string `yaml:"file" json:"file"`
	VillagesFile string `yaml:"villages_file" json:"villages_file"`
}

// RosterSource names the staff and collection agents file.
type RosterSource struct {
	File string `yaml:"file" json:"file"`
}

// TargetGroup is a group of potential participants; groups with a higher likelihood are
// approached first.
type TargetGroup struct {
	Code       string  `yaml:"code" json:"code"`
	Name       string  `yaml:"name" json:"name"`
	Likelihood float64 `yaml:"likelihood" json:"likelihood"`
}

// EventSpec is an outreach event. Unit is a district or commune code, or "city" for a city-wide
// round, which is held once in every district.
type EventSpec struct {
	ID                 string   `yaml:"id" json:"id"`
	Kind               string   `yaml:"kind" json:"kind"`
	Title              string   `yaml:"title,omitempty" json:"title,omitempty"`
	Unit               string   `yaml:"unit" json:"unit"`
	Date               Date     `yaml:"date" json:"date"`
	Groups             []string `yaml:"groups" json:"groups"`
	ExpectedAttendance int      `yaml:"expected_attendance,omitempty" json:"expected_attendance,omitempty"`
}

// Event kinds.
const (
	KindConference      = "conference"
	KindDialogue        = "dialogue"
	KindDoorToDoor      = "door_to_door"
	KindPostOfficeRound = "post_office_round"
)

// EventKinds lists the kinds an event may have.
var EventKinds = []string{KindConference, KindDialogue, KindDoorToDoor, KindPostOfficeRound}

// CityWide is the unit of an event held in every district.
const CityWide = "city"

// FollowUpPolicy says how leads are pursued: a deadline from the lead's creation, reminders
// before it, escalation to commune staff when it passes, and a give-up point after which an
// open follow-up is closed as unreachable.
type FollowUpPolicy struct {
	Deadline    Duration   `yaml:"deadline" json:"deadline"`
	Reminders   []Duration `yaml:"reminders" json:"reminders"`
	GiveUpAfter Duration   `yaml:"give_up_after" json:"give_up_after"`
	SweepEvery  Duration   `yaml:"sweep_every" json:"sweep_every"`
}

// RenewalPolicy says how participants are kept: a renewal follow-up opens for the agent
// holding a person LeadTime before their payment falls due (then reminded, escalated at the
// due day and closed at the end of the grace period like any follow-up), and a person unpaid
// Grace past it has lapsed. Both are whole days.
type RenewalPolicy struct {
	LeadTime Duration `yaml:"lead_time" json:"lead_time"`
	Grace    Duration `yaml:"grace" json:"grace"`
}

// Renewal defaults: a fortnight's notice, and 60 days' grace.
const (
	DefaultRenewalLead  = Duration(15 * 24 * time.Hour)
	DefaultRenewalGrace = Duration(60 * 24 * time.Hour)
)

// Date is a calendar date (YYYY-MM-DD).
type Date struct{ Y, M, D int }

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return Date{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return Date{t.Year(), int(t.Month()), t.Day()}, nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Y, d.M, d.D) }
func (d Date) IsZero() bool   { return d == Date{} }
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Y, time.Month(d.M), d.D, 0, 0, 0, 0, loc)
}

// UnmarshalYAML reads a date written as YYYY-MM-DD.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDate(n.Value)
	if err != nil {
		return lineError(n, err)
	}
	*d = v
	return nil
}

func (d Date) MarshalYAML() (any, error)    { return d.String(), nil }
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// lineError reports a bad scalar the way the YAML decoder reports its own errors: with the
// line, and without stopping the decoder, so every bad value in a plan is listed at once.
func lineError(n *yaml.Node, err error) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
}

// Duration is a campaign-time duration written as Go durations plus days: "30d", "12h", "90m".
type Duration time.Duration

// ParseDuration reads "30d", "1d12h" or any Go duration.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	var days int64
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseInt(s[:i], 10, 32)
		if err != nil || n < 0 || n > 100*366 {
			return 0, fmt.Errorf("%q is not a duration (like 30d, 12h)", s)
		}
		days, s = n, s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		var err error
		if rest, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration (like 30d, 12h)", s)
		}
	}
	return Duration(time.Duration(days)*24*time.Hour + rest), nil
}

func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) String() string {
	t := time.Duration(d)
	if t > 0 && t%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", t/(24*time.Hour))
	}
	return t.String()
}

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return lineError(n, err)
	}
	*d = v
	return nil
}

func (d Duration) MarshalYAML() (any, error)    { return d.String(), nil }
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Error is one thing wrong with a plan: the file, the field path (or line) and why.
type Error struct {
	File  string
	Field string
	Msg   string
}

func (e Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", e.File, e.Field, e.Msg)
}

// Errors is every problem found in a plan, in the order found.
type Errors []Error

func (es Errors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan rejected (%d problem", len(es))
	if len(es) != 1 {
		b.WriteString("s")
	}
	b.WriteString("):")
	for _, e := range es {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Loaded is a plan with the files it names read and checked: the unit hierarchy and the
// roster. Hash identifies the exact inputs (plan text and every file) so a relaunch can tell
// the same plan from a changed one.
type Loaded struct {
	Plan     Plan            `json:"plan"`
	Units    units.Hierarchy `json:"units"`
	Roster   []units.Agent   `json:"roster"`
	Hash     string          `json:"hash"`
	Location string          `json:"location"`
}

// Load reads a plan file and the files it names, and validates everything. Any problem is
// returned as Errors naming the file and field; nothing is written anywhere.
func Load(path string) (*Loaded, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("cannot read: %v", errors.Unwrap(err))}}
	}
	return Parse(path, raw, planDir(filepath.Dir(path)))
}

// planDir reads the files a plan names relative to the plan's folder, or where an absolute
// path says. Unlike os.DirFS it allows "../" so a plan can name a shared register such as
// data/hanoi-admin-units-2021.csv. Its errors carry the path it tried.
type planDir string

func (d planDir) path(name string) string {
	if filepath.IsAbs(name) {
		return filepath.Clean(name)
	}
	return filepath.Join(string(d), name)
}

func (d planDir) Open(name string) (fs.File, error)    { return os.Open(d.path(name)) }
func (d planDir) ReadFile(name string) ([]byte, error) { return os.ReadFile(d.path(name)) }

// Decode parses plan YAML strictly: unknown fields, several documents or malformed YAML are
// refused with the line.
func Decode(name string, raw []byte) (Plan, error) {
	var p Plan
	if line, msg := unreadableYAML(raw); msg != "" {
		return Plan{}, Errors{{File: name, Msg: fmt.Sprintf("line %d: %s", line, msg)}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err == io.EOF {
		return Plan{}, Errors{{File: name, Msg: "the file is empty; a plan is one YAML document"}}
	} else if err != nil {
		return Plan{}, Errors{{File: name, Msg: cleanYAMLError(raw, err)}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		return Plan{}, Errors{{File: name, Msg: "more than one YAML document; a plan is one document"}}
	}
	return p, nil
}

// unreadableYAML finds the first line that is not UTF-8 or holds a character YAML does not
// allow (the decoder says so without a line).
func unreadableYAML(raw []byte) (line int, msg string) {
	line = 1
	for len(raw) > 0 {
		r, n := utf8.DecodeRune(raw)
		switch {
		case r == utf8.RuneError && n <= 1:
			return line, "the file is not UTF-8 text"
		case r == '\n':
			line++
		case r == '\t' || r == '\r' || r == 0x85:
		case r < 0x20 || (r >= 0x7f && r < 0xa0) || (r >= 0xd800 && r < 0xe000) || r == 0xfffe || r == 0xffff:
			return line, fmt.Sprintf("character U+%04X is not allowed in YAML", r)
		}
		raw = raw[n:]
	}
	return 0, ""
}

var anchorRe = regexp.MustCompile(`^(unknown anchor|anchor) '([^']*)'`)

// cleanYAMLError turns the decoder's Go-type wording into the plan's own, with a line: the
// decoder gives none for a syntax error on the first line (its lines count from 0, and 0 means
// unknown), nor for an alias problem, found here by the anchor's name.
func cleanYAMLError(raw []byte, err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	switch m := anchorRe.FindStringSubmatch(msg); {
	case strings.HasPrefix(msg, "line ") || strings.HasPrefix(msg, "unmarshal errors:"):
	case m != nil:
		mark := "&"
		if m[1] == "unknown anchor" {
			mark = "*"
		}
		if i := bytes.Index(raw, []byte(mark+m[2])); i >= 0 {
			msg = fmt.Sprintf("line %d: %s", bytes.Count(raw[:i], []byte("\n"))+1, msg)
		}
	case strings.Contains(msg, "excessive aliasing"), strings.HasPrefix(msg, "invalid map key"), strings.HasPrefix(msg, "map merge"),
		strings.HasPrefix(msg, "!!binary"), strings.HasPrefix(msg, "invalid array"), strings.HasPrefix(msg, "cannot decode node"):
		// Decoding problems the decoder does not place; listed so that they are not put on line 1.
	default:
		msg = "line 1: " + msg
	}
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	msg = strings.ReplaceAll(msg, "\n  ", "; ")
	for _, t := range []string{"plan.Plan", "plan.Period", "plan.ClockSpec", "plan.TargetRule",
		"plan.UnitSources", "plan.RosterSource", "plan.TargetGroup", "plan.EventSpec",
		"plan.FollowUpPolicy", "plan.ReviewSpec", "plan.ReviewPolicy", "plan.Reward"} {
		msg = strings.ReplaceAll(msg, " in type "+t, "")
	}
	msg = strings.ReplaceAll(msg, "field ", "unknown field ")
	msg = strings.ReplaceAll(msg, "not found", "(not part of a plan)")
	return msg
}

func hashInputs(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
