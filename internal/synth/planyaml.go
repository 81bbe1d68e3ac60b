package synth

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"drives/plan"
)

// TargetGroups are the groups of potential participants the sample plans approach; the
// campaign approaches those with a higher likelihood first. Likelihoods are synthetic.
var TargetGroups = []plan.TargetGroup{
	{Code: "craft_village", Name: "Lao động làng nghề", Likelihood: 0.45},
	{Code: "rural_part_time", Name: "Lao động nông thôn làm việc không thường xuyên", Likelihood: 0.30},
	{Code: "household_business", Name: "Hộ kinh doanh cá thể", Likelihood: 0.55},
	{Code: "small_trader", Name: "Tiểu thương", Likelihood: 0.50},
	{Code: "contract_ended", Name: "Người lao động bị tạm hoãn, chấm dứt hợp đồng lao động", Likelihood: 0.40},
	{Code: "student", Name: "Học sinh, sinh viên", Likelihood: 0.15},
	{Code: "farmer", Name: "Nông dân", Likelihood: 0.35},
}

// Review is the review section of the sample plans: quarterly, with the default policy.
var Review = plan.ReviewSpec{
	Cron: plan.DefaultReviewCron,
	Policy: plan.ReviewPolicy{
		RewardAt: 1.0, WarnBelow: 0.6, TerminateBelow: 0.3, TerminateAfter: 2,
		Reward:       plan.Reward{Kind: "bonus", Amount: 500_000},
		ApprovalWait: plan.Duration(14 * 24 * time.Hour), CommendTop: 3,
		// An agent's renewal rate weighs a fifth of their score: keeping people counts.
		RenewalWeight: 0.2,
	},
}

// FollowUp is the follow-up policy of the sample plans.
var FollowUp = plan.FollowUpPolicy{
	Deadline:    days(30),
	Reminders:   []plan.Duration{days(7), days(21)},
	GiveUpAfter: days(60),
	SweepEvery:  days(7),
}

func days(n int) plan.Duration { return plan.Duration(int64(n) * 24 * 3600 * 1e9) }

// planYAML writes a plan by hand, so that it reads like one a coordinator would write: comment
// header first, one event per block, groups in flow style.
func planYAML(comment string, p plan.Plan) []byte {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(comment, "\n"), "\n") {
		if line == "" {
			b.WriteString("#\n")
			continue
		}
		b.WriteString("# " + line + "\n")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "id: %s\n", p.ID)
	fmt.Fprintf(&b, "name: %s\n", quote(p.Name))
	fmt.Fprintf(&b, "year: %d\n", p.Year)
	fmt.Fprintf(&b, "timezone: %s\n", p.Timezone)
	fmt.Fprintf(&b, "period:\n  start: %s\n  end: %s\n", p.Period.Start, p.Period.End)
	b.WriteString("# campaign seconds per real second: 365 days × 86,400 s ÷ 262,800 = 120 s, a year in two minutes\n")
	fmt.Fprintf(&b, "clock:\n  scale: %s\n", strconv.FormatFloat(p.Clock.Scale, 'f', -1, 64))
	fmt.Fprintf(&b, "prior_year_enrolled: %d\n", p.PriorYearEnrolled)
	fmt.Fprintf(&b, "target:\n  rule: %s\n", p.Target.Rule)
	if p.Target.Rule == plan.RuleAbsolute {
		fmt.Fprintf(&b, "  absolute: %d\n", p.Target.Absolute)
	} else {
		fmt.Fprintf(&b, "  share: %s\n", strconv.FormatFloat(p.Target.Share, 'f', -1, 64))
	}
	fmt.Fprintf(&b, "units:\n  file: %s\n  villages_file: %s\n", quote(p.Units.File), quote(p.Units.VillagesFile))
	fmt.Fprintf(&b, "roster:\n  file: %s\n", quote(p.Roster.File))
	b.WriteString("target_groups:\n")
	for _, g := range p.TargetGroups {
		fmt.Fprintf(&b, "  - code: %s\n    name: %s\n    likelihood: %s\n", g.Code, quote(g.Name), strconv.FormatFloat(g.Likelihood, 'f', -1, 64))
	}
	b.WriteString("follow_up:\n")
	fmt.Fprintf(&b, "  deadline: %s\n", p.FollowUp.Deadline)
	rs := make([]string, len(p.FollowUp.Reminders))
	for i, r := range p.FollowUp.Reminders {
		rs[i] = r.String()
	}
	fmt.Fprintf(&b, "  reminders: [%s]\n", strings.Join(rs, ", "))
	fmt.Fprintf(&b, "  give_up_after: %s\n", p.FollowUp.GiveUpAfter)
	fmt.Fprintf(&b, "  sweep_every: %s\n", p.FollowUp.SweepEvery)
	r := p.Review
	b.WriteString("# Agents are reviewed on this cron (campaign time, the plan's time zone); see README \"Reviews\".\n")
	fmt.Fprintf(&b, "review:\n  cron: %s\n  policy:\n", quote(r.Cron))
	fmt.Fprintf(&b, "    reward_at: %s\n    warn_below: %s\n    terminate_below: %s\n    terminate_after: %d\n",
		strconv.FormatFloat(r.Policy.RewardAt, 'f', -1, 64), strconv.FormatFloat(r.Policy.WarnBelow, 'f', -1, 64),
		strconv.FormatFloat(r.Policy.TerminateBelow, 'f', -1, 64), r.Policy.TerminateAfter)
	fmt.Fprintf(&b, "    reward: {kind: %s, amount: %d}\n", r.Policy.Reward.Kind, r.Policy.Reward.Amount)
	fmt.Fprintf(&b, "    approval_wait: %s\n    auto_terminate: %t\n    commend_top: %d\n",
		r.Policy.ApprovalWait, r.Policy.AutoTerminate, r.Policy.CommendTop)
	if r.Policy.RenewalWeight > 0 {
		fmt.Fprintf(&b, "    renewal_weight: %s\n", strconv.FormatFloat(r.Policy.RenewalWeight, 'f', -1, 64))
	}
	b.WriteString("events:\n")
	for _, e := range p.Events {
		fmt.Fprintf(&b, "  - id: %s\n", e.ID)
		fmt.Fprintf(&b, "    kind: %s\n", e.Kind)
		if e.Title != "" {
			fmt.Fprintf(&b, "    title: %s\n", quote(e.Title))
		}
		fmt.Fprintf(&b, "    unit: %s\n", quote(e.Unit))
		fmt.Fprintf(&b, "    date: %s\n", e.Date)
		fmt.Fprintf(&b, "    groups: [%s]\n", strings.Join(e.Groups, ", "))
		if e.ExpectedAttendance > 0 {
			fmt.Fprintf(&b, "    expected_attendance: %d\n", e.ExpectedAttendance)
		}
	}
	return []byte(b.String())
}

// quote writes a YAML double-quoted scalar. Go's escapes (\", \\, \n, \xXX, \uXXXX) are all
// valid YAML escapes, and printable UTF-8 is kept as is.
func quote(s string) string { return strconv.Quote(s) }
