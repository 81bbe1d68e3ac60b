package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"drives/internal/config"
	"drives/report"
	"drives/web"
)

// BenchmarkCampaignPage measures the server time to render a seeded campaign's pages, e.g. the
// demo's Hà Nội drive after `make demo`:
//
//	. .dev/env && BENCH_CAMPAIGN=hanoi-2021 go test -run '^$' -bench CampaignPage ./web/
//
// "campaign" is /campaigns/<id> as it is (the stored final report once the drive has closed);
// "live-report" is the report a running drive's page computes on every load.
func BenchmarkCampaignPage(b *testing.B) {
	id := os.Getenv("BENCH_CAMPAIGN")
	if id == "" {
		b.Skip("set BENCH_CAMPAIGN to a seeded campaign, with DATABASE_URL and TEMPORAL_ADDRESS (. .dev/env after make demo)")
	}
	ctx := context.Background()
	db, err := config.Pool(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tc, err := config.Temporal(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tc.Close()
	const token = "benchmark-token-0123456789"
	u, err := web.NewUser("bench", web.RoleAuditor, "benchmark-password", token)
	if err != nil {
		b.Fatal(err)
	}
	h, err := web.New(web.Config{DB: db, Temporal: tc, Users: &web.Users{Users: []web.User{u}}, TemporalUI: "http://127.0.0.1:8233", Namespace: "enrolment-drives"})
	if err != nil {
		b.Fatal(err)
	}
	for _, page := range []struct{ name, path string }{
		{"campaign", "/campaigns/" + id}, {"agents", "/campaigns/" + id + "/agents"}, {"district", "/campaigns/" + id + "/units/271"},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, page.path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", page.path, rec.Code, rec.Body)
				}
			}
		})
	}
	b.Run("live-report", func(b *testing.B) {
		for b.Loop() {
			if _, err := report.Build(ctx, db, id); err != nil {
				b.Fatal(err)
			}
		}
	})
}
