package browser_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"drives/internal/browser"
)

const page = `<!doctype html><html lang="vi"><meta charset="utf-8"><title>Thử</title>
<p>Đã tham gia: <span data-testid="city-enrolled" data-value="51189">51.189</span></p>`

// The runner drives the real Chromium: it opens a page, reads a figure's data-value and its
// Vietnamese text, and saves a screenshot that exists afterwards.
func TestRunReadsPageAndSavesScreenshot(t *testing.T) {
	r := browser.Require(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	res, err := r.Run(ctx, t, "smoke.mjs", map[string]string{"url": srv.URL, "testid": "city-enrolled"})
	require.NoError(t, err)
	var got struct{ Text, Value string }
	require.NoError(t, res.Decode(&got))
	assert.Equal(t, "51.189", got.Text)
	assert.Equal(t, "51189", got.Value)
	require.Len(t, res.Screenshots, 1)
	st, err := os.Stat(res.Screenshots[0])
	require.NoError(t, err)
	assert.Greater(t, st.Size(), int64(1000), "a PNG of the page")
	t.Logf("browser script ran in %v", res.Elapsed.Round(time.Millisecond))
}

// A script that fails says why, with what it printed, and leaves a screenshot of the page.
func TestRunReportsFailure(t *testing.T) {
	r := browser.Require(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(page))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	res, err := r.Run(ctx, t, "smoke.mjs", map[string]any{"url": srv.URL, "testid": "no-such-figure", "timeoutMs": 1000})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no-such-figure")
	require.NotNil(t, res)
	require.Len(t, res.Screenshots, 1)
	assert.FileExists(t, res.Screenshots[0])
}
