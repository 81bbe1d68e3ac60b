package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"drives/accounts"
	"drives/report"
	"drives/web"
)

// isDownload says whether a path is a download (a workbook or a CSV file).
func isDownload(p string) bool {
	p, _, _ = strings.Cut(p, "?")
	return strings.HasSuffix(p, ".xlsx") || strings.HasSuffix(p, ".csv")
}

// book is a download read back: its sheets (a CSV file is one, "csv") as rows of cells, raw
// values (numbers as written, not formatted).
type book map[string][][]string

func readDownload(t *testing.T, path, body string) book {
	t.Helper()
	p, _, _ := strings.Cut(path, "?")
	if strings.HasSuffix(p, ".csv") {
		text, ok := strings.CutPrefix(body, "\ufeff")
		require.True(t, ok, "%s: a CSV for spreadsheets begins with a byte-order mark", path)
		rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
		require.NoError(t, err, "%s: the CSV does not read back", path)
		return book{"csv": rows}
	}
	f, err := excelize.OpenReader(strings.NewReader(body))
	require.NoError(t, err, "%s: not a workbook", path)
	defer f.Close()
	b := book{}
	for _, name := range f.GetSheetList() {
		rows, err := f.GetRows(name, excelize.Options{RawCellValue: true})
		require.NoError(t, err, "%s: sheet %s", path, name)
		b[name] = rows
	}
	return b
}

// quoted is every cell of a download, each in double quotes as JSON writes a string: what the
// route × role table looks for codes of another part in.
func (b book) quoted() string {
	var out strings.Builder
	for _, rows := range b {
		for _, row := range rows {
			for _, c := range row {
				fmt.Fprintf(&out, "%q ", c)
			}
		}
	}
	return out.String()
}

// has says whether a cell of the download equals s.
func (b book) has(s string) bool {
	for _, rows := range b {
		for _, row := range rows {
			if slices.Contains(row, s) {
				return true
			}
		}
	}
	return false
}

// column is the values of a sheet's column (headings aside) whose heading is h.
func (b book) column(t *testing.T, sheet, h string) []string {
	t.Helper()
	rows := b[sheet]
	require.NotEmpty(t, rows, "no sheet %s", sheet)
	i := slices.Index(rows[0], h)
	require.GreaterOrEqual(t, i, 0, "sheet %s has no column %q: %v", sheet, h, rows[0])
	out := []string{}
	for _, r := range rows[1:] {
		v := ""
		if i < len(r) {
			v = r[i]
		}
		out = append(out, v)
	}
	return out
}

// summary is a report workbook's summary: value by key.
func (b book) summary() map[string]string {
	out := map[string]string{}
	for _, r := range b[report.SheetSummary] {
		if len(r) == 3 {
			out[r[2]] = r[1]
		}
	}
	return out
}

// rosterPeople are the test roster's names and phones: personal data.
func rosterPeople(t *testing.T) (names map[string]string, phones []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "roster.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	names = map[string]string{}
	for _, r := range rows[1:] {
		names[r[0]] = r[4]
		phones = append(phones, r[5])
	}
	return names, phones
}

// download gets a download with a bearer token and checks what every download's answer says:
// 200, its type, an attachment of a safe name, and no caching.
func download(t *testing.T, s *site, token, path, wantName string) book {
	t.Helper()
	res := s.api(http.MethodGet, path, token, "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "GET %s: %s", path, res.Body)
	ctype := "text/csv; charset=utf-8"
	if strings.HasSuffix(wantName, ".xlsx") {
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	assert.Equal(t, ctype, res.Header.Get("Content-Type"), path)
	assert.Equal(t, "attachment; filename="+wantName, res.Header.Get("Content-Disposition"), path)
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"), path)
	return readDownload(t, path, res.Body)
}

// Downloads hold the figures and lines of the page they download, for the viewer's part of
// the campaign, every line of a list (the server reads them 3 at a time here: Config's
// DownloadPage in the harness), and personal data only where the page shows it. Shown failing
// by ending a list's walk after its first page (every agent's column: 3 codes, and "the
// agents' list names DL-00091-1" false), by reading the report's agents without the viewer's
// scope ("the district officer's report.xlsx names DL-00091-1", and the route × role table's
// district and commune cells), by giving a part the whole campaign's report (target "300",
// want "120"), by reading the decisions without the viewer's scope (the district officer's
// reviews.csv named commune 00091), and by dropping Cache-Control ("no-store" expected).
func testDownloads(t *testing.T, s *site, coord *browser) {
	ctx := context.Background()
	id := campaignID
	names, phones := rosterPeople(t)
	personal := func(t *testing.T, what string, b book, namesShown bool) {
		t.Helper()
		for code, n := range names {
			assert.Equal(t, namesShown, b.has(n) || strings.Contains(b.quoted(), n), "%s names %s (%s)", what, code, n)
		}
		for _, p := range phones {
			assert.NotContains(t, b.quoted(), p, "%s holds a phone number", what)
		}
	}

	want, err := report.Build(ctx, s.db, id)
	require.NoError(t, err)

	t.Run("the report's workbook and CSV hold the report's figures", func(t *testing.T) {
		b := download(t, s, coordToken, "/campaigns/"+id+"/report.xlsx", id+"-report.xlsx")
		sum := b.summary()
		for key, v := range map[string]int{"target": want.Target, "enrolled": want.Enrolled, "prior_year": want.PriorYear,
			"growth": want.Growth, "follow_ups.total": want.FollowUps.Total, "events.held": want.Events.Held,
			"participants.joined": want.Participants.Joined, "participants.end": want.Participants.End} {
			assert.Equal(t, strconv.Itoa(v), sum[key], "summary %s", key)
		}
		var codes, enrolled []string
		for _, u := range want.Units {
			codes = append(codes, u.Code)
			enrolled = append(enrolled, strconv.Itoa(u.Enrolled))
		}
		assert.Equal(t, codes, b.column(t, report.SheetUnits, "Mã"), "every unit, in the report's order")
		assert.Equal(t, enrolled, b.column(t, report.SheetUnits, "Đã tham gia"))
		var agents, agentEnrolled []string
		for _, a := range want.Agents {
			agents = append(agents, a.Code)
			agentEnrolled = append(agentEnrolled, strconv.Itoa(a.Enrolled))
		}
		assert.Equal(t, agents, b.column(t, report.SheetAgents, "Mã"), "every agent, read 3 at a time")
		assert.Equal(t, agentEnrolled, b.column(t, report.SheetAgents, "Đã tham gia"))
		personal(t, "the report's workbook", b, false)

		// The page's figures: the campaign's, its districts' and their participants'.
		page := coord.page("/campaigns/" + id)
		assert.Equal(t, page.value("city-enrolled"), sum["enrolled"])
		assert.Equal(t, page.value("city-target"), sum["target"])
		for i, code := range codes {
			if want.Units[i].Level == "district" {
				assert.Equal(t, page.row("district-row", "data-unit", code).one(t, "enrolled").attr("data-value"), enrolled[i], code)
			}
		}
		byDistrict := map[string]string{}
		reg := b[report.SheetParticipants]
		require.NotEmpty(t, reg)
		for _, r := range reg[1:] {
			if r[0] == "district" {
				byDistrict[r[1]] = r[7]
			}
		}
		for _, d := range want.Participants.ByDistrict {
			assert.Equal(t, strconv.Itoa(d.End), byDistrict[d.Key], "participants of district %s at the end", d.Key)
		}
		assert.Equal(t, "/campaigns/"+id+"/report.xlsx", page.one("download-xlsx").attr("href"))
		assert.Equal(t, "/campaigns/"+id+"/report.csv", page.one("download-csv").attr("href"))

		c := download(t, s, coordToken, "/campaigns/"+id+"/report.csv", id+"-report.csv")["csv"]
		assert.Equal(t, []string{"Phần", "Cấp", "Mã", "Tên"}, c[0][:4], "Vietnamese headings")
		assert.Equal(t, []string{"city", "city", id}, c[1][:3])
		assert.Equal(t, strconv.Itoa(want.Enrolled), c[1][6])
		n := 0
		for _, r := range c {
			if r[0] == "agent" {
				n++
			}
		}
		assert.Equal(t, len(want.Agents), n, "every agent's line")
		personal(t, "the report's CSV", book{"csv": c}, false)
	})

	// A district officer's downloads hold their district and nothing of another.
	const officer = "download-officer-token-0123456789"
	_, err = (&accounts.Store{DB: s.db}).Add(ctx, "test", accounts.Spec{Name: "download-officer", Role: accounts.RoleDistrict,
		Districts: []string{"001"}, Token: officer})
	require.NoError(t, err)
	part, err := report.Within(want, []string{"001"})
	require.NoError(t, err)
	foreign := []string{"003", "00091", "00094", "00097", "DL-00091-1", "DL-00091-2", "CB-00091", "CB-00094", "CB-00097", "DL-00097-1"}
	t.Run("a district officer's downloads hold their district only", func(t *testing.T) {
		b := download(t, s, officer, "/campaigns/"+id+"/report.xlsx", id+"-report.xlsx")
		sum := b.summary()
		assert.Equal(t, strconv.Itoa(part.Target), sum["target"])
		assert.Equal(t, strconv.Itoa(part.Enrolled), sum["enrolled"])
		assert.Equal(t, "001", sum["scope"])
		assert.NotContains(t, sum, "prior_year", "the campaign's prior year is not counted by unit")
		var codes, agents []string
		for _, u := range part.Units {
			codes = append(codes, u.Code)
		}
		for _, a := range part.Agents {
			agents = append(agents, a.Code)
		}
		assert.Equal(t, codes, b.column(t, report.SheetUnits, "Mã"))
		assert.Equal(t, agents, b.column(t, report.SheetAgents, "Mã"))
		assert.NotContains(t, b, report.SheetParticipants, "the register is the whole campaign's")
		c := download(t, s, officer, "/campaigns/"+id+"/report.csv", id+"-report.csv")
		l := download(t, s, officer, "/campaigns/"+id+"/agents.xlsx", id+"-agents.xlsx")
		assert.Equal(t, agents, l.column(t, report.SheetAgents, "Mã"))
		r := download(t, s, officer, "/campaigns/"+id+"/reviews.csv?period=2021-Q1", id+"-reviews-2021-Q1.csv")
		for _, commune := range r.column(t, "csv", "Xã/phường") {
			assert.Contains(t, []string{"00001", "00004"}, commune)
		}
		assert.Len(t, r["csv"], len(agents)+1, "a decision for each of the district's agents")
		for _, f := range foreign {
			for what, b := range map[string]book{"report.xlsx": b, "report.csv": c, "agents.xlsx": l, "reviews.csv": r} {
				assert.False(t, b.has(f), "the district officer's %s names %s", what, f)
			}
		}
	})

	t.Run("a list's download is the page's list, filters and order, every line", func(t *testing.T) {
		pageOf := func(query string) []map[string]any {
			res := s.api(http.MethodGet, "/api/campaigns/"+id+"/agents?limit=500&"+query, coordToken, "", nil)
			require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
			var v struct {
				Agents []map[string]any `json:"agents"`
			}
			require.NoError(t, json.Unmarshal([]byte(res.Body), &v))
			return v.Agents
		}
		for _, query := range []string{"", "sort=quota&order=desc", "status=active&kind=agent", "district=003&sort=name"} {
			lines := pageOf(query)
			codes, quotas, agentNames := []string{}, []string{}, []string{}
			for _, a := range lines {
				codes = append(codes, a["code"].(string))
				quotas = append(quotas, strconv.Itoa(int(a["quota"].(float64))))
				agentNames = append(agentNames, a["name"].(string))
			}
			for _, format := range []string{"xlsx", "csv"} {
				path := "/campaigns/" + id + "/agents." + format + "?" + query
				b := download(t, s, coordToken, path, id+"-agents."+format)
				sheet := report.SheetAgents
				if format == "csv" {
					sheet = "csv"
				}
				assert.Equal(t, codes, b.column(t, sheet, "Mã"), path)
				assert.Equal(t, quotas, b.column(t, sheet, "Chỉ tiêu giao"), path)
				assert.Equal(t, agentNames, b.column(t, sheet, "Họ và tên"), "%s: the names the page shows", path)
			}
		}
		// The page links to its list's download with its filters.
		d := coord.page("/campaigns/" + id + "/agents?district=003&sort=name")
		assert.Equal(t, "/campaigns/"+id+"/agents.xlsx?district=003&sort=name", d.one("download-xlsx").attr("href"))
		// Its column headings order it: the query kept whole (it was once escaped as one value,
		// ?order%3dasc%26sort%3dname), the list's own order turned round.
		assert.Equal(t, "?district=003&order=desc&sort=name", d.one("sort-name").attr("href"))
		assert.Equal(t, "?district=003&order=asc&sort=quota", d.one("sort-quota").attr("href"))
		// Names are in the agents' list, as on its page: the terminated agent's too.
		b := download(t, s, coordToken, "/campaigns/"+id+"/agents.xlsx", id+"-agents.xlsx")
		personal(t, "the agents' list", b, true)
		assert.Equal(t, names["DL-00001-1"], b[report.SheetAgents][slices.Index(b.column(t, report.SheetAgents, "Mã"), "DL-00001-1")+1][1])

		res := s.api(http.MethodGet, "/campaigns/"+id+"/agents.xlsx?sort=phone", coordToken, "", nil)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, "a bad order is refused, as on the page")
		assert.NotContains(t, res.Header.Get("Content-Disposition"), "attachment")
	})

	t.Run("the decisions' download is the period's decisions with the page's filters", func(t *testing.T) {
		decisions := func(query string) []map[string]any {
			res := s.api(http.MethodGet, "/api/campaigns/"+id+"/reviews?limit=500&"+query, coordToken, "", nil)
			require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
			var v struct {
				Decisions []map[string]any `json:"decisions"`
			}
			require.NoError(t, json.Unmarshal([]byte(res.Body), &v))
			return v.Decisions
		}
		for _, query := range []string{"period=2021-Q1", "period=2021-Q1&decision=terminate", "period=2021-Q1&commune=00091&status=pending"} {
			agents, statuses := []string{}, []string{}
			for _, d := range decisions(query) {
				agents = append(agents, d["agent"].(string))
				statuses = append(statuses, d["status"].(string))
			}
			for _, format := range []string{"xlsx", "csv"} {
				path := "/campaigns/" + id + "/reviews." + format + "?" + query
				b := download(t, s, coordToken, path, id+"-reviews-2021-Q1."+format)
				sheet := "Quyết định đánh giá"
				if format == "csv" {
					sheet = "csv"
				}
				assert.Equal(t, agents, b.column(t, sheet, "Mã"), path)
				assert.Equal(t, statuses, b.column(t, sheet, "Trạng thái"), path)
				personal(t, path, b, false)
			}
		}
		// Without a period, the page's: the latest, which names the file; the page links to it.
		b := download(t, s, coordToken, "/campaigns/"+id+"/reviews.xlsx", id+"-reviews-2021-Q1.xlsx")
		assert.Len(t, b["Quyết định đánh giá"], len(names)+1)
		d := coord.page("/campaigns/" + id + "/reviews?decision=terminate")
		assert.Equal(t, "/campaigns/"+id+"/reviews.csv?decision=terminate&period=2021-Q1", d.one("download-csv").attr("href"))
	})
}

// A download answers as a file only once it has its first bytes: a failure before them (here
// within the first 64 KiB, which are kept back) is answered as a page's failure, with a request
// ID and no attachment; a failure after them ends the connection, so that the client sees a
// failed download, not a short file that looks whole. Shown failing by returning instead of
// ending the connection (the short file of 200,000 bytes read back without error), and by
// sending each write at once (the failure after 1 KiB was a file, cut off, not a page).
func TestADownloadThatFailsIsNotAFile(t *testing.T) {
	log := &syncBuffer{}
	var write func(w io.Writer) error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.SendDownload(w, r, "x-agents.csv", slog.New(slog.NewJSONHandler(log, nil)), write)
	}))
	t.Cleanup(srv.Close)
	get := func() (*http.Response, []byte, error) {
		t.Helper()
		res, err := http.Get(srv.URL + "/campaigns/x/agents.csv")
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		return res, body, err
	}
	boom := errors.New("read agents: connection lost")

	write = func(w io.Writer) error {
		_, _ = w.Write(bytes.Repeat([]byte("DL-1,Tên\n"), 100)) // 1 KiB, kept back
		return boom
	}
	res, body, err := get()
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Empty(t, res.Header.Get("Content-Disposition"))
	assert.Regexp(t, `request [0-9a-f]{16}`, string(body))
	assert.NotContains(t, string(body), "DL-1", "nothing of the file")

	write = func(w io.Writer) error {
		_, _ = w.Write(bytes.Repeat([]byte("DL-1,Tên\n"), 20000)) // 180 KiB: sent
		return boom
	}
	res, body, err = get()
	assert.Equal(t, http.StatusOK, res.StatusCode, "the headers were sent with the first bytes")
	assert.Error(t, err, "the client sees the download fail (%d bytes read)", len(body))
	assert.Contains(t, log.String(), "read agents: connection lost")

	write = func(w io.Writer) error { return nil }
	res, body, err = get()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "attachment; filename=x-agents.csv", res.Header.Get("Content-Disposition"))
	assert.Empty(t, body, "an empty file is still a download")
}
