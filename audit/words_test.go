package audit_test

import (
	"strings"
	"testing"

	"drives/audit"
)

// Row ids are numbered across every campaign's log, so a campaign's 609 rows may end at id
// 610: the sentence must not read as a row missing ("609 rows, verified to row 610" did).
func TestResultDoesNotReadAnIDAsACount(t *testing.T) {
	s := audit.Result{CampaignID: "hanoi-2021", Rows: 609, Verified: 609, HeadID: 610, Head: "ab12"}.String()
	want := "audit log of hanoi-2021: intact, 609 rows; the hash chain is verified through its last row, id 610 " +
		"(ids are numbered across all campaigns' logs), head ab12"
	if s != want {
		t.Errorf("%q\nwant %q", s, want)
	}
	if s := (audit.Result{CampaignID: "c", Rows: 1, Verified: 1, HeadID: 7, Head: "cd"}).String(); !strings.Contains(s, "intact, 1 row;") {
		t.Errorf("one row: %q", s)
	}
}
