package activities

import (
	"context"

	"go.temporal.io/sdk/activity"
)

// Domain counters, reported through the SDK's metrics handler (the worker's Prometheus
// endpoint) beside the SDK's own.
const (
	MetricEnrolmentsImported = "drives_enrolments_imported"
	MetricFollowUpsEscalated = "drives_follow_ups_escalated"
	MetricReviewDecisions    = "drives_review_decisions"
)

func countMetric(ctx context.Context, name string, n int, tags map[string]string) {
	if n <= 0 {
		return
	}
	h := activity.GetMetricsHandler(ctx)
	if len(tags) > 0 {
		h = h.WithTags(tags)
	}
	h.Counter(name).Inc(int64(n))
}
