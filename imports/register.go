package imports

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"drives/contribution"
)

// checkHolder checks the fields an enrolment and a starting register's line share: the agent
// who enrolled or holds the person (an active agent of the line's commune), the declared
// monthly income and the subsidy class (f(5), f(7), f(8)).
func (ref *Reference) checkHolder(line int, f func(int) string, row *Row, bad func(int, string, string, ...any)) {
	row.Agent = f(5)
	if c, ok := ref.Agents[row.Agent]; !ok {
		bad(line, "agent_code", "unknown or inactive agent%s", quote(row.Agent))
	} else if row.Commune != "" && c != row.Commune && ref.Communes[row.Commune] != "" {
		bad(line, "agent_code", "agent%s works in commune %s, not %s", quote(row.Agent), c, row.Commune)
	}
	income, err := strconv.ParseInt(strings.ReplaceAll(f(7), "_", ""), 10, 64)
	switch {
	case err != nil:
		bad(line, "monthly_income", "must be a whole number of VND")
	case income < contribution.MinMonthlyIncome || income > contribution.MaxMonthlyIncome:
		// The amount is repeated only when it cannot be a citizen ID or phone number that a
		// shifted column put here.
		amount := "the amount"
		if len(strings.ReplaceAll(f(7), "_", "")) <= 8 {
			amount = fmt.Sprintf("%d VND", income)
		}
		bad(line, "monthly_income", "%s is outside %d–%d VND", amount, contribution.MinMonthlyIncome, contribution.MaxMonthlyIncome)
	}
	row.Income = income
	row.SubsidyClass = f(8)
	if _, ok := contribution.SubsidyPercent[row.SubsidyClass]; !ok {
		bad(line, "subsidy_class", "must be poor, near_poor or other")
	}
}

// firstScheme is the first day anyone can have joined voluntary social insurance (1 January
// 2008, Law on Social Insurance 2006).
var firstScheme = time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC)

// checkParticipant checks a line of a starting register: the person as an enrolment names
// them, the day they joined (from the scheme's start to the campaign's last day) and the day
// they are paid until (after they joined, at most five years past the campaign).
func (ref *Reference) checkParticipant(line int, f func(int) string, row *Row, dates map[string]time.Time, bad func(int, string, string, ...any)) {
	ref.checkPerson(line, f, row, bad)
	ref.checkHolder(line, f, row, bad)
	row.Group = f(6)
	if !ref.Groups[row.Group] {
		bad(line, "target_group", "unknown target group%s", quote(row.Group))
	}
	row.On = checkDay(line, "joined_on", f(9), firstScheme, ref.lastDay(), dates, bad)
	row.PaidUntil = checkDay(line, "paid_until", f(10), firstScheme, ref.PeriodEnd.AddDate(contribution.MaxAdvanceYears, 0, 0), dates, bad)
	if !row.On.IsZero() && !row.PaidUntil.IsZero() && !row.PaidUntil.After(row.On) {
		bad(line, "paid_until", "must be after joined_on")
	}
}

// checkPayment checks a line of collection records: the day paid (in the campaign's period),
// the months paid (a payment mode's), the amount in VND, the receipt (once in a file) and the
// agent who collected it.
func (ref *Reference) checkPayment(line int, f func(int) string, row *Row, receipts map[string]int, dates map[string]time.Time, bad func(int, string, string, ...any)) {
	row.On = ref.checkDate(line, "paid_on", f(1), dates, bad)
	months, err := strconv.Atoi(f(2))
	if err != nil || !contribution.ValidMonths(months) {
		bad(line, "months", "must be %s", contribution.MonthsPaid)
	}
	row.PaymentMonths = months
	amount, err := strconv.ParseInt(strings.ReplaceAll(f(3), "_", ""), 10, 64)
	if err != nil || amount <= 0 || amount > contribution.MaxPayment {
		bad(line, "amount", "must be a whole number of VND from 1 to %d", int64(contribution.MaxPayment))
	}
	row.Amount = amount
	row.Receipt = f(4)
	switch first, dup := receipts[row.Receipt]; {
	case !receiptRe.MatchString(row.Receipt):
		bad(line, "receipt_no", "must be 1 to 40 letters, digits or . _ / -")
	case dup:
		bad(line, "receipt_no", "same receipt as line %d", first)
	case receipts != nil:
		receipts[row.Receipt] = line
	}
	row.Agent = f(5)
	if _, ok := ref.Agents[row.Agent]; !ok {
		bad(line, "agent_code", "unknown or inactive agent%s", quote(row.Agent))
	}
}

var receiptRe = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,40}$`)

// checkDay reads a date from min to max, both included.
func checkDay(line int, field, s string, min, max time.Time, seen map[string]time.Time, bad func(int, string, string, ...any)) time.Time {
	d, ok := seen[s]
	if !ok {
		var err error
		if d, err = time.Parse("2006-01-02", s); err != nil {
			bad(line, field, "not a date (YYYY-MM-DD)")
			return time.Time{}
		}
		seen[s] = d
	}
	if d.Before(min) || d.After(max) {
		bad(line, field, "%s is outside %s..%s", s, min.Format("2006-01-02"), max.Format("2006-01-02"))
		return time.Time{}
	}
	return d
}
