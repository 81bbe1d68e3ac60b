package main

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"drives/activities"
)

// What an operator's Prometheus scrapes: a drive's counter, counted through the SDK's metrics
// handler as the activities count it, appears on /metrics with its tag, and the SDK's own
// metrics are named with Prometheus's separator. Shown failing by counting under another name.
func TestMetricsEndpointServesTheDrivesCounters(t *testing.T) {
	m := newMetrics()
	m.handler.WithTags(map[string]string{"decision": "reward"}).Counter(activities.MetricReviewDecisions).Inc(3)
	m.handler.Counter("temporal_request").Inc(1)

	want := activities.MetricReviewDecisions + `_total{decision="reward"} 3`
	var body string
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec := httptest.NewRecorder()
		m.reporter.HTTPHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		b, _ := io.ReadAll(rec.Body)
		body = string(b)
		// tally reports to Prometheus on its interval (a second): wait for the first report.
		if strings.Contains(body, want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(body, want) {
		t.Fatalf("/metrics lacks %q:\n%s", want, body)
	}
	if !strings.Contains(body, "temporal_request_total 1") {
		t.Errorf("/metrics lacks the SDK's temporal_request counter:\n%s", body)
	}
}
