package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An export whose histories are encrypted (here with key k1), checked without that key: the
// check says which key it needs and how to give it, in one error, and checks nothing (it once
// printed about 1,400 lines of panics and called every history one the code no longer replays).
func TestAuditCheckNamesTheKeyItNeeds(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "histories"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A payload's metadata as an export writes it: base64 of "binary/encrypted" and of "k1".
	history := `{"events":[{"eventId":"1","workflowExecutionStartedEventAttributes":{"input":{"payloads":[
		{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA==","encryption-key-id":"azE="},"data":"AAAA"}]}}}]}`
	if err := os.WriteFile(filepath.Join(dir, "histories", "campaign_x__run.json"), []byte(history), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(`{"campaign_id":"x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, keys := range []string{"", "k2:" + strings.Repeat("A", 43) + "="} {
		t.Setenv("DRIVES_CODEC_KEYS", keys)
		out, err := starter(context.Background(), "audit", "check", dir)
		if err == nil || !strings.Contains(err.Error(), "the histories' payloads are encrypted with key k1, which DRIVES_CODEC_KEYS does not hold") ||
			!strings.Contains(err.Error(), "DRIVES_CODEC_KEYS=k1:<base64 key> starter audit check") {
			t.Errorf("keys %q: %v", keys, err)
		}
		if strings.Contains(out, "panic") || strings.Contains(out, "replay") {
			t.Errorf("keys %q: the check went on: %s", keys, out)
		}
	}
}
