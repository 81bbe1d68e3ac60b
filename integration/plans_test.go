package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"drives/plan"
)

// planVariant writes the integration plan (testdata) under another campaign id into a
// temporary folder, with its clock at scale when scale is not 0 and extra appended to the plan,
// and loads it: tests that run beside the end-to-end drive keep apart by their ids.
func planVariant(t *testing.T, id string, scale int, extra string) *plan.Loaded {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"plan.yaml", "units.csv", "villages.csv", "roster.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		require.NoError(t, err)
		if f == "plan.yaml" {
			text := strings.Replace(string(b), "id: itest-2021", "id: "+id, 1)
			if scale != 0 {
				text = strings.Replace(text, "scale: 1576800", fmt.Sprintf("scale: %d", scale), 1)
			}
			require.NotEqual(t, string(b), text)
			b = []byte(text + extra)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	lp, err := plan.Load(filepath.Join(dir, "plan.yaml"))
	require.NoError(t, err)
	require.Equal(t, id, lp.Plan.ID)
	return lp
}
