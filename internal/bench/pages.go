package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/accounts"
	"drives/web"
)

// Pages is (p): the web page and its JSON API at national scale, on the campaign (f) leaves
// (210,599 agents and staff, 1,000,000 enrolments, 400,000 follow-ups, a review of 2021-Q1).
// Each page is asked N times through the handler in process (httptest), with varied filters,
// orders and pages, and its server time is taken from request to the last byte written: as the
// city coordinator, then as a district officer, whose pages are filtered to their district.
func Pages(ctx context.Context, e *Env) ([]Figure, error) {
	id := e.ID("national-review")
	const token = "bench-api-token-0123456789abcdef"
	u, err := web.NewUser("bench", web.RoleCoordinator, "bench-password-0123", token)
	if err != nil {
		return nil, err
	}
	h, err := web.New(web.Config{DB: e.DB, Temporal: e.Temporal, Users: &web.Users{Users: []web.User{u}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	var districts, communes []string
	rows, err := e.DB.Query(ctx, `select code, level from units where campaign_id = $1 and level in ('district', 'commune') order by random() limit 400`, id)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var code, level string
		if err := rows.Scan(&code, &level); err != nil {
			return nil, err
		}
		if level == "district" {
			districts = append(districts, code)
		} else {
			communes = append(communes, code)
		}
	}
	if rows.Err() != nil || len(districts) == 0 || len(communes) == 0 {
		return nil, fmt.Errorf("pages: campaign %s has no units: run (f) first (%v)", id, rows.Err())
	}
	// A district officer of one district: the same pages, filtered to the district (web's
	// scope), as they open them.
	officer := districts[0]
	officerToken := "bench-officer-token-" + e.Run + "-0123456789"
	if _, err := (&accounts.Store{DB: e.DB}).Add(ctx, "bench", accounts.Spec{Name: "bench-officer-" + strings.ToLower(e.Run),
		Role: accounts.RoleDistrict, Campaign: id, Districts: []string{officer}, Token: officerToken}); err != nil {
		return nil, fmt.Errorf("pages: district officer's account: %w", err)
	}
	var officerCommunes []string
	crows, err := e.DB.Query(ctx, `select code from units where campaign_id = $1 and level = 'commune' and parent_code = $2`, id, officer)
	if err != nil {
		return nil, err
	}
	if officerCommunes, err = pgx.CollectRows(crows, pgx.RowTo[string]); err != nil || len(officerCommunes) == 0 {
		return nil, fmt.Errorf("pages: district %s has no communes (%v)", officer, err)
	}
	rnd := rand.New(rand.NewPCG(7, 7))
	pick := func(xs []string) string { return xs[rnd.IntN(len(xs))] }
	sorts := []string{"code", "name", "commune", "quota", "status"}
	base := "/campaigns/" + id
	type page struct {
		name  string
		path  func(i int) string
		token string // "": the city coordinator's
	}
	pages := []page{
		{"campaigns (JSON)", func(int) string { return "/api/campaigns" }, ""},
		{"campaign page (HTML)", func(int) string { return base }, ""},
		{"campaign (JSON)", func(int) string { return "/api" + base }, ""},
		{"district (HTML)", func(int) string { return base + "/units/" + pick(districts) }, ""},
		{"commune (JSON)", func(int) string { return "/api" + base + "/units/" + pick(communes) }, ""},
		{"agents, paged (HTML)", func(i int) string {
			return base + "/agents?sort=" + sorts[i%len(sorts)] + "&offset=" + strconv.Itoa(rnd.IntN(4000)*50)
		}, ""},
		{"agents, filtered (JSON)", func(i int) string {
			switch i % 3 {
			case 0:
				return "/api" + base + "/agents?district=" + pick(districts) + "&sort=quota&order=desc"
			case 1:
				return "/api" + base + "/agents?commune=" + pick(communes)
			default:
				return "/api" + base + "/agents?status=active&kind=staff&offset=" + strconv.Itoa(rnd.IntN(200)*50)
			}
		}, ""},
		{"reviews, paged (HTML)", func(i int) string {
			return base + "/reviews?period=2021-Q1&offset=" + strconv.Itoa(rnd.IntN(4000)*50)
		}, ""},
		{"reviews, filtered (JSON)", func(i int) string {
			ds := []string{"reward", "retain", "warn", "terminate", "commend"}
			switch i % 2 {
			case 0:
				return "/api" + base + "/reviews?period=2021-Q1&district=" + pick(districts) + "&decision=" + ds[rnd.IntN(len(ds))]
			default:
				return "/api" + base + "/reviews?period=2021-Q1&commune=" + pick(communes)
			}
		}, ""},
		{"events (JSON)", func(int) string { return "/api" + base + "/events" }, ""},
		{"imports (HTML)", func(int) string { return base + "/imports" }, ""},
		{"district officer: campaign page (HTML)", func(int) string { return base }, officerToken},
		{"district officer: their district (HTML)", func(int) string { return base + "/units/" + officer }, officerToken},
		{"district officer: a commune (HTML)", func(int) string { return base + "/units/" + pick(officerCommunes) }, officerToken},
		{"district officer: agents, paged (HTML)", func(i int) string {
			return base + "/agents?sort=" + sorts[i%len(sorts)] + "&offset=" + strconv.Itoa(rnd.IntN(5)*50)
		}, officerToken},
		{"district officer: reviews (HTML)", func(i int) string { return base + "/reviews?period=2021-Q1" }, officerToken},
		{"district officer: events (HTML)", func(int) string { return base + "/events" }, officerToken},
		{"district officer: imports (HTML)", func(int) string { return base + "/imports" }, officerToken},
	}
	const n = 20
	var figs []Figure
	for _, p := range pages {
		var took []time.Duration
		var first time.Duration
		for i := range n {
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, p.path(i), nil)
			tok := token
			if p.token != "" {
				tok = p.token
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, req)
			d := time.Since(start)
			if rec.Code != http.StatusOK {
				return figs, fmt.Errorf("pages: %s: %d %s", req.URL, rec.Code, rec.Body.String())
			}
			if i == 0 {
				first = d
			}
			took = append(took, d)
		}
		slices.Sort(took)
		p50, p95 := took[n/2], took[n*95/100-1]
		e.Log.Info("pages", "page", p.name, "p50", p50, "p95", p95, "first", first)
		figs = append(figs,
			Figure{ID: "p", Name: p.name + " p50", Value: ms(p50), Unit: "ms"},
			Figure{ID: "p", Name: p.name + " p95", Value: ms(p95), Unit: "ms", Target: "≤ 300 ms", Met: Check(p95 <= 300*time.Millisecond),
				Note: fmt.Sprintf("%d requests in process, varied filters and pages; first %.0f ms", n, ms(first))})
	}
	return figs, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
