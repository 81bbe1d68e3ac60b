package history

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"drives/codec"
)

// keyIDRe finds the key an encrypted payload names, in a history's JSON (metadata values are
// base64).
var keyIDRe = regexp.MustCompile(`"` + regexp.QuoteMeta(codec.MetadataKeyID) + `"\s*:\s*"([A-Za-z0-9+/=]+)"`)

// EncryptionKeys lists the keys an export's histories are encrypted with (their IDs, sorted),
// so that a check can say which keys it needs before it replays anything: replaying without
// them fails on every payload.
func EncryptionKeys(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, HistoryDir, "*.json"))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, m := range keyIDRe.FindAllSubmatch(b, -1) {
			id, err := base64.StdEncoding.DecodeString(string(m[1]))
			if err == nil {
				seen[string(id)] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for id := range seen {
		out = append(out, id)
	}
	slices.Sort(out)
	return out, nil
}
