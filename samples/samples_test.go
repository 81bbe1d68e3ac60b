package samples_test

import (
	"encoding/csv"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"drives/contribution"
	"drives/imports"
	"drives/plan"
)

const planFile = "../plans/hanoi-2021/plan.yaml"

// leadsEvent is the sample plan's event the leads sample reports on (README: starter event
// results <campaign> 001-conference --attendance 180 samples/leads.csv).
const leadsEvent = "001-conference"

// reference is what a campaign launched from the sample plan checks lines against, as
// imports.LoadReference reads it from the database: communes, villages, the roster's agents
// and staff, target groups and the period.
func reference(t *testing.T, lp *plan.Loaded) *imports.Reference {
	t.Helper()
	ref := &imports.Reference{CampaignID: lp.Plan.ID, Communes: map[string]string{}, Villages: map[string]string{},
		Agents: map[string]string{}, Groups: map[string]bool{}}
	for _, d := range lp.Units.Districts {
		for _, c := range d.Communes {
			ref.Communes[c.Code] = d.Code
			for _, v := range c.Villages {
				ref.Villages[v.Code] = c.Code
			}
		}
	}
	for _, a := range lp.Roster {
		ref.Agents[a.Code] = a.Commune
	}
	for _, g := range lp.Plan.TargetGroups {
		ref.Groups[g.Code] = true
	}
	ref.PeriodStart = day(t, lp.Plan.Period.Start.String())
	ref.PeriodEnd = day(t, lp.Plan.Period.End.String())
	return ref
}

func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// column reads one column of a sample by its header name.
func column(t *testing.T, name, field string) []string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(string(read(t, name)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.Index(recs[0], field)
	if i < 0 {
		t.Fatalf("%s has no %s column", name, field)
	}
	var out []string
	for _, r := range recs[1:] {
		out = append(out, r[i])
	}
	return out
}

// Each valid sample passes the importer's file check against the sample plan, and each invalid
// one is refused with exactly the lines and fields README "Sample files" lists — naming no
// personal data of the file.
func TestSamples(t *testing.T) {
	lp, err := plan.Load(planFile)
	if err != nil {
		t.Fatal(err)
	}
	ref := reference(t, lp)
	var event *plan.EventSpec
	for i, e := range lp.Plan.Events {
		if e.ID == leadsEvent {
			event = &lp.Plan.Events[i]
		}
	}
	if event == nil {
		t.Fatalf("the sample plan has no event %s", leadsEvent)
	}
	leadsRef := *ref
	leadsRef.District = event.Unit // a district-level event
	if _, ok := ref.Communes[event.Unit]; ok {
		leadsRef.District = ref.Communes[event.Unit]
	}

	for _, c := range []struct {
		kind imports.Kind
		file string
		ref  *imports.Reference
		bad  []string // "line field" of each problem, in order; none for a valid file
	}{
		{imports.Enrolments, "enrolments.csv", ref, nil},
		{imports.Enrolments, "enrolments-invalid.csv", ref, []string{
			"2 citizen_id",
			"3 phone", "3 village_code", "3 agent_code",
			"4 monthly_income", "4 subsidy_class", "4 payment_mode", "4 enrolled_on", "4 target_group",
			"5 citizen_id", "5 commune_code", "5 enrolled_on",
		}},
		{imports.Leads, "leads.csv", &leadsRef, nil},
		{imports.Leads, "leads-invalid.csv", &leadsRef, []string{
			"2 commune_code",
			"3 full_name", "3 target_group",
			"4 phone", "4 village_code",
		}},
		{imports.Outcomes, "outcomes.csv", ref, nil},
		{imports.Outcomes, "outcomes-invalid.csv", ref, []string{
			"2 outcome",
			"3 reported_on",
			"4 citizen_id", "4 reported_on",
		}},
		{imports.Participants, "participants.csv", ref, nil},
		{imports.Participants, "participants-invalid.csv", ref, []string{
			"2 agent_code", "2 joined_on",
			"3 paid_until",
		}},
		{imports.Payments, "payments.csv", ref, nil},
		{imports.Payments, "payments-invalid.csv", ref, []string{
			"2 paid_on", "2 months", "2 amount",
			"3 receipt_no", "3 agent_code",
		}},
	} {
		t.Run(c.file, func(t *testing.T) {
			data := read(t, c.file)
			rows, err := imports.Parse(c.kind, c.file, data, c.ref)
			if c.bad == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(rows) == 0 {
					t.Fatal("no rows")
				}
				return
			}
			rej, ok := err.(*imports.Rejected)
			if !ok {
				t.Fatalf("error %v (%T); want the file refused line by line", err, err)
			}
			var got []string
			for _, e := range rej.Errors {
				got = append(got, fmt.Sprintf("%d %s", e.Line, e.Field))
			}
			slices.Sort(got)
			want := slices.Clone(c.bad)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("problems %v\nwant %v\n%v", got, want, err)
			}
			// The refusal quotes no one's ID, name or phone.
			msg := err.Error()
			for _, f := range []string{"citizen_id", "full_name", "phone"} {
				if !slices.Contains(imports.Headers[c.kind], f) {
					continue
				}
				for _, v := range column(t, c.file, f) {
					if len(v) >= 4 && strings.Contains(msg, v) {
						t.Errorf("the refusal quotes %s %q:\n%s", f, v, msg)
					}
				}
			}
			t.Logf("refused as it should be:\n%s", msg)
		})
	}
}

// The samples go together as README "Sample files" imports them: the outcomes are of the
// leads' people (whose follow-ups they close), the payments of the starting register's, each
// paying what the rules give (not flagged).
func TestSamplesGoTogether(t *testing.T) {
	leads := column(t, "leads.csv", "citizen_id")
	for _, id := range column(t, "outcomes.csv", "citizen_id") {
		if !slices.Contains(leads, id) {
			t.Errorf("outcomes.csv: %s is not a lead of leads.csv", id)
		}
	}
	people := column(t, "participants.csv", "citizen_id")
	income := column(t, "participants.csv", "monthly_income")
	class := column(t, "participants.csv", "subsidy_class")
	ids, months, amounts := column(t, "payments.csv", "citizen_id"), column(t, "payments.csv", "months"), column(t, "payments.csv", "amount")
	for i, id := range ids {
		j := slices.Index(people, id)
		if j < 0 {
			t.Errorf("payments.csv: %s is not in participants.csv (a payment of anyone else is refused)", id)
			continue
		}
		inc, _ := strconv.ParseInt(income[j], 10, 64)
		m, _ := strconv.Atoi(months[i])
		if want := contribution.Due(inc, class[j], m); amounts[i] != strconv.FormatInt(want, 10) {
			t.Errorf("payments.csv line %d: amount %s, the rules give %d (it would be flagged)", i+2, amounts[i], want)
		}
	}
}

// README's steps launch a running copy of the sample plan for the samples and the steering
// examples: the plan they make reads.
func TestTryPlan(t *testing.T) {
	raw := string(read(t, planFile))
	for _, r := range [][2]string{{"\nid: hanoi-2021\n", "\nid: hanoi-try\n"}, {"\n  scale: 262800\n", "\n  scale: 26280\n"}} {
		if !strings.Contains(raw, r[0]) {
			t.Fatalf("the sample plan has no line %q for README's sed to change", strings.TrimSpace(r[0]))
		}
		raw = strings.Replace(raw, r[0], r[1], 1)
	}
	lp, err := plan.Parse("plans/hanoi-2021/try.yaml", []byte(raw), dirFS(filepath.Dir(planFile)))
	if err != nil {
		t.Fatal(err)
	}
	if lp.Plan.ID != "hanoi-try" || lp.Plan.Clock.Scale != 26280 {
		t.Errorf("plan %s at scale %g", lp.Plan.ID, lp.Plan.Clock.Scale)
	}
}

// dirFS opens a plan's files relative to its folder, "../" included (as plan.Load does).
type dirFS string

func (d dirFS) Open(name string) (fs.File, error) { return os.Open(filepath.Join(string(d), name)) }
