// Package contribution holds the 2021 rules of voluntary social insurance that every import
// line is checked against: the income range, the contribution rate, the state's support by
// household class and the payment modes. They are the law's rules, not a plan's.
package contribution

import (
	"fmt"
	"strconv"
	"strings"
)

// The 2021 rules of voluntary social insurance (Law on Social Insurance 2014, Decree 134/2015).
const (
	MinMonthlyIncome    = 700_000    // the rural poverty line, VND
	MaxMonthlyIncome    = 29_800_000 // 20 × the base salary of 1,490,000 VND
	Percent             = 22
	MaxAdvanceYears     = 5
	subsidyBasePerMonth = MinMonthlyIncome * Percent / 100 // 154,000 VND
)

// SubsidyPercent is the state's support, as a percentage of the contribution at the minimum
// income, by household class.
var SubsidyPercent = map[string]int64{"poor": 30, "near_poor": 25, "other": 10}

// Monthly is 22% of the monthly income the participant chose, in VND.
func Monthly(income int64) int64 { return income * Percent / 100 }

// MonthlySubsidy is the state's monthly support for a subsidy class, in VND.
func MonthlySubsidy(class string) int64 { return subsidyBasePerMonth * SubsidyPercent[class] / 100 }

// PaymentModes lists the accepted payment_mode values.
const PaymentModes = "monthly, 3m, 6m, 12m, or 2y to 5y in advance"

// PaymentMonths reads a payment mode: monthly, every 3, 6 or 12 months, or several years in
// advance (2y..5y), and gives the months one payment covers.
func PaymentMonths(mode string) (int, error) {
	switch mode {
	case "monthly", "1m":
		return 1, nil
	case "3m", "6m", "12m":
		n, _ := strconv.Atoi(strings.TrimSuffix(mode, "m"))
		return n, nil
	}
	if y, ok := strings.CutSuffix(mode, "y"); ok && len(y) == 1 && y[0] >= '2' && y[0] <= '0'+MaxAdvanceYears {
		return int(y[0]-'0') * 12, nil
	}
	return 0, fmt.Errorf("must be one of %s", PaymentModes)
}

// MonthsPaid says which months a payment may cover: a payment mode's.
const MonthsPaid = "1, 3, 6 or 12 months, or 2 to 5 years (24, 36, 48 or 60 months)"

// ValidMonths says whether a payment may cover n months.
func ValidMonths(n int) bool {
	switch n {
	case 1, 3, 6, 12:
		return true
	}
	return n%12 == 0 && n/12 >= 2 && n/12 <= MaxAdvanceYears
}

// MaxPayment is the most one payment can be: the highest income's contribution for the
// longest advance.
const MaxPayment = MaxMonthlyIncome * Percent / 100 * 12 * MaxAdvanceYears

// Due is what a payment of months should amount to under the rules: 22% of the declared
// monthly income less the state's monthly support for the class, times the months.
func Due(income int64, class string, months int) int64 {
	return (Monthly(income) - MonthlySubsidy(class)) * int64(months)
}
