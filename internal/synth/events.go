package synth

import (
	"math/rand/v2"
	"slices"
	"time"

	"drives/plan"
)

// Groups suited to an area: wards and inner-city districts have household businesses, traders,
// workers whose contract ended and students; rural communes have farmers, part-time rural
// workers and craft villages; townships and district-level towns have a mix.
var (
	urbanGroups = []string{"household_business", "small_trader", "contract_ended", "student"}
	ruralGroups = []string{"farmer", "rural_part_time", "craft_village", "household_business", "small_trader"}
	townGroups  = []string{"household_business", "small_trader", "contract_ended", "rural_part_time", "farmer"}
)

// suitedGroups picks the groups for a unit type (Quận, Phường, Huyện, Xã, Thị xã, Thị trấn…).
func suitedGroups(unitType string) []string {
	switch unitType {
	case "Quận", "Phường":
		return urbanGroups
	case "Huyện", "Xã":
		return ruralGroups
	default:
		return townGroups
	}
}

// pickGroups draws 2 or 3 distinct groups from suited, written in the plan's group order.
func pickGroups(r *rand.Rand, suited []string) []string {
	n := 2 + r.IntN(2)
	perm := r.Perm(len(suited))
	picked := make([]string, 0, n)
	for _, i := range perm[:min(n, len(suited))] {
		picked = append(picked, suited[i])
	}
	order := func(code string) int {
		return slices.IndexFunc(TargetGroups, func(g plan.TargetGroup) bool { return g.Code == code })
	}
	slices.SortFunc(picked, func(a, b string) int { return order(a) - order(b) })
	return picked
}

// Holidays when no event is held in 2021: Tết Nguyên đán (the Lunar New Year, 10–17 February).
var tet2021 = [2]plan.Date{{Y: 2021, M: 2, D: 10}, {Y: 2021, M: 2, D: 17}}

// pickDate draws a day between from and to (inclusive), moved off Sundays and the Tết holiday.
func pickDate(r *rand.Rand, from, to plan.Date) plan.Date {
	a, b := from.In(time.UTC), to.In(time.UTC)
	span := int(b.Sub(a).Hours()/24) + 1
	d := a.AddDate(0, 0, r.IntN(span))
	for {
		tetStart, tetEnd := tet2021[0].In(time.UTC), tet2021[1].In(time.UTC)
		switch {
		case !d.Before(tetStart) && !d.After(tetEnd):
			d = tetEnd.AddDate(0, 0, 1)
		case d.Weekday() == time.Sunday:
			d = d.AddDate(0, 0, 1)
		default:
			if d.After(b) { // pushed past the window: take the working day before it instead
				d = b
				for d.Weekday() == time.Sunday {
					d = d.AddDate(0, 0, -1)
				}
			}
			return plan.Date{Y: d.Year(), M: int(d.Month()), D: d.Day()}
		}
	}
}

// sortEvents orders events by date, then ID.
func sortEvents(es []plan.EventSpec) {
	slices.SortStableFunc(es, func(a, b plan.EventSpec) int {
		if c := a.Date.In(time.UTC).Compare(b.Date.In(time.UTC)); c != 0 {
			return c
		}
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
}

func date(y, m, d int) plan.Date { return plan.Date{Y: y, M: m, D: d} }
