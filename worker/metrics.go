package main

import (
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	"github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
)

// metrics reports the SDK's metrics and the activities' domain counters to Prometheus, through
// the SDK's tally integration.
type metrics struct {
	reporter prometheus.Reporter
	handler  client.MetricsHandler
}

func newMetrics() metrics {
	registry := prom.NewRegistry()
	reporter := prometheus.NewReporter(prometheus.Options{Registerer: registry, Gatherer: registry,
		DefaultTimerType: prometheus.HistogramTimerType})
	scope, _ := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       prometheus.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	return metrics{reporter: reporter, handler: sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope))}
}
