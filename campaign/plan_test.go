package campaign

import (
	"fmt"
	"testing"

	"encoding/csv"
	"strings"
)

func TestScratch(t *testing.T) {
	for _, s := range []string{
		"id: x\nperiod:\n  start: 2021-13-01\n",
		"id: x\nfollow_up:\n  deadline: 3x\n",
		"id: x\nfollow_up:\n  deadlinez: 3d\n",
		"idz: x\n",
		"id: x\n---\nid: y\n",
		"id: x\n---\n",
		"id: x\n---\n: : [\n",
		"",
		"- a\n",
		"id: [\n",
		"events: 3\n",
		"id: x\nid: y\n",
	} {
		_, err := DecodePlan("plan.yaml", []byte(s))
		fmt.Printf("%q -> %v\n", s, err)
	}
	r := csv.NewReader(strings.NewReader("a\n\"b\n"))
	fmt.Println(r.Read())
	_, err := r.Read()
	fmt.Println(err)
	_, err = LoadPlan("/tmp/scr/plan.yaml")
	fmt.Println(err)
	for _, d := range []string{"30d", "1d12h", "-5d", "d", "200000d", "3", "0"} {
		v, err := ParseDuration(d)
		fmt.Println(d, v, err)
	}
	for _, m := range []string{"+2y", "02y", "1y", "6y", "2y", "12m", "24m", "monthly"} {
		v, err := PaymentMonths(m)
		fmt.Println(m, v, err)
	}
}
