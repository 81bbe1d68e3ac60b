package history

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every audit action an activity writes is known to the audit check, which matches each audit
// row to the completed activity that wrote it: an action it does not know reads as a row no
// activity wrote ("… which does not write …"). Two were missed this way (agent.leave,
// plan.revise) until a dev-server test exported and checked a campaign that used them.
func TestEveryActivityActionIsKnownToTheCheck(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "activities", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	action := regexp.MustCompile(`action:\s*"([a-z_.]+)"|action = "([a-z_.]+)"`)
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range action.FindAllStringSubmatch(string(src), -1) {
			name := m[1] + m[2]
			seen++
			if name == "campaign." { // SetStatus: campaign.<status>
				name = "campaign.paused"
			}
			if activityOf(name) == "" {
				t.Errorf("%s: audit action %q is not known to the audit check (history.activityOf)", filepath.Base(f), name)
			}
		}
	}
	if seen < 20 {
		t.Fatalf("found %d audit actions in the activities; the pattern no longer matches them", seen)
	}
}
