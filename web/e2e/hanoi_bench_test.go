package e2e_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"drives/campaign"
	"drives/internal/browser"
	"drives/plan"
	"drives/simulator"
)

// The Hà Nội demo campaign's page, as `make demo` leaves it: the sample plan (30 districts,
// 579 communes, 2,294 agents and staff) played through its compressed year by the field
// simulator, then its page loaded in Chromium. Reported: the median whole load in the browser
// (navigation start to the load event) and the server's part of it, over 10 loads; ns/op is
// the page's GET over HTTP from Go, signed in.
//
//	go test -run '^$' -bench HanoiCampaignPage -benchtime 20x ./web/e2e
func BenchmarkHanoiCampaignPage(b *testing.B) {
	r := browser.Require(b)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	lp, err := plan.Load(filepath.Join("..", "..", "plans", "hanoi-2021", "plan.yaml"))
	require.NoError(b, err)
	s := newStack(b, ctx, lp.Plan.ID)
	cfg, err := simulator.LoadConfig(filepath.Join("..", "..", "plans", "hanoi-2021", "field-sim.yaml"))
	require.NoError(b, err)

	began := time.Now()
	run, err := s.co.Launch(ctx, lp)
	require.NoError(b, err)
	simCtx, stopSim := context.WithCancel(ctx)
	field := &simulator.Field{Config: cfg, CampaignID: lp.Plan.ID, Importer: s.im, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	simDone := make(chan struct{})
	go func() {
		defer close(simDone)
		_, _ = field.Run(simCtx)
	}()
	var closed campaign.CloseResult
	require.NoError(b, run.Get(ctx, &closed))
	stopSim()
	<-simDone
	b.Logf("Hà Nội drive played in %v: %s, enrolled %d of %d", time.Since(began).Round(time.Second), closed.Status, closed.Enrolled, closed.Target)

	srv := httptest.NewServer(newWeb(b, s, coordinatorUser))
	defer srv.Close()
	page := "/campaigns/" + lp.Plan.ID

	res, err := r.Run(ctx, b, "pageload.mjs", map[string]any{"baseURL": srv.URL, "user": coordinatorUser.Name,
		"password": coordinatorUser.Password, "path": page, "loads": 10, "shot": "hanoi-campaign"})
	require.NoError(b, err)
	var seen struct {
		Loads []struct{ ServerMs, LoadMs, Bytes float64 }
	}
	require.NoError(b, res.Decode(&seen))
	var server, load []float64
	for _, l := range seen.Loads {
		server, load = append(server, l.ServerMs), append(load, l.LoadMs)
	}
	b.Logf("browser loads (ms): %v; server part (ms): %v", load, server)

	jar, err := cookiejar.New(nil)
	require.NoError(b, err)
	hc := &http.Client{Jar: jar}
	resp, err := hc.PostForm(srv.URL+"/login", url.Values{"user": {coordinatorUser.Name}, "password": {coordinatorUser.Password}})
	require.NoError(b, err)
	resp.Body.Close()
	get := func() {
		resp, err := hc.Get(srv.URL + page)
		require.NoError(b, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(b, http.StatusOK, resp.StatusCode)
		require.Equal(b, page, resp.Request.URL.Path, "signed in: no redirect to the login form")
	}
	get()
	for b.Loop() {
		get()
	}
	b.ReportMetric(median(load), "browser-load-ms")
	b.ReportMetric(median(server), "browser-server-ms")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
