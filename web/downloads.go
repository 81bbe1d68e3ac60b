package web

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"drives/report"
	"drives/store"
)

// Downloads: the campaign's report and the agents' and review decisions' lists as a workbook
// (XLSX) or a CSV file with Vietnamese headings, behind the access rule and scope of the page
// each downloads: a part's viewer gets their part (the report's report.Within, the lists'
// rows of their store.Scope). A list takes the page's filters and order and holds every line
// they select, read a page of DownloadPage lines at a time in one read-only snapshot of the
// database (REPEATABLE READ), so that its pages are of one moment and 200,000 lines are never
// held at once. A workbook is written in full before its first byte is sent (its sheets stream
// to temporary files); a CSV file is sent as its lines are read. A failure before the first
// byte is answered as a page's; one after it ends the connection, so that the client sees a
// failed download rather than a short file.

// defaultDownloadPage is how many lines a download reads per query, unless Config says.
const defaultDownloadPage = 5000

// downloadsAtOnce bounds the downloads a web process writes at once (each holds a database
// connection and its snapshot while it runs), and downloadWait how long one waits for its turn
// before it is answered 503.
const (
	downloadsAtOnce = 4
	downloadWait    = 10 * time.Second
)

const (
	xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	csvType  = "text/csv; charset=utf-8"
)

// Headings of the lists' downloads, in their columns' order.
var (
	agentListHeadings = []string{"Mã", "Họ và tên", "Xã/phường", "Loại", "Điểm Bưu điện", "Trạng thái", "Chỉ tiêu giao",
		"Đã tham gia", "Tỷ lệ hoàn thành (%)", "Theo dõi đang mở", "Theo dõi quá hạn", "Chuyển cấp trên",
		"Kỳ đánh giá gần nhất", "Quyết định gần nhất", "Trạng thái quyết định", "Căn cứ"}
	decisionHeadings = []string{"Kỳ đánh giá", "Mã", "Loại", "Xã/phường", "Điểm", "Quyết định", "Trạng thái", "Căn cứ",
		"Người quyết định", "Lý do", "Cuối kỳ đánh giá", "Hình thức thưởng", "Tiền thưởng (đồng)"}
)

// downloadRoutes registers the downloads, each as its page's route is: signed in, of a
// campaign in the scope.
func (s *Server) downloadRoutes() {
	for _, format := range []string{"xlsx", "csv"} {
		s.handle("GET /campaigns/{id}/report."+format, SignedIn, InCampaign, s.download(format, "report", s.reportDownload))
		s.handle("GET /campaigns/{id}/agents."+format, SignedIn, InCampaign, s.download(format, "agents", s.agentsDownload))
		s.handle("GET /campaigns/{id}/reviews."+format, SignedIn, InCampaign, s.download(format, "reviews", s.reviewsDownload))
	}
}

// downloadFunc writes a download of a campaign in a format to w, reading through db (the
// download's snapshot); it may name the file otherwise (w.name) before its first byte.
type downloadFunc func(r *http.Request, db store.DB, h *campaignHead, format string, w *downloadWriter) error

// download serves one kind of download in one format.
func (s *Server) download(format, kind string, write downloadFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		h, err := s.loadHead(ctx, r.PathValue("id"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		release, ok := turn(ctx, s.downloads, downloadWait)
		if !ok {
			w.Header().Set("Retry-After", "10")
			http.Error(w, "The server is busy with other downloads: try again in a few seconds.", http.StatusServiceUnavailable)
			return
		}
		defer release()
		tx, err := s.cfg.DB.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			s.fail(w, r, fmt.Errorf("download: begin a snapshot: %w", err))
			return
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		ctype := csvType
		if format == "xlsx" {
			ctype = xlsxType
		}
		s.sendDownload(w, r, fileName(h.ID+"-"+kind)+"."+format, ctype, func(out *downloadWriter) error {
			return write(r, tx, h, format, out)
		})
	})
}

// sendDownload answers a request with the file write writes: as an attachment of the name
// (unless write renames it), once its first bytes are out of the buffer; a failure before
// that is answered as a page's, one after it ends the connection.
func (s *Server) sendDownload(w http.ResponseWriter, r *http.Request, name, ctype string, write func(*downloadWriter) error) {
	out := newDownloadWriter(w, name, ctype)
	err := write(out)
	if err == nil {
		err = out.buf.Flush()
	}
	switch {
	case err == nil:
		out.begin() // an empty file is still the download
	case !out.started:
		s.fail(w, r, err)
	default:
		// The file is partly sent: end the connection, so the client sees a failed download
		// rather than a short file.
		if r.Context().Err() != nil {
			s.log.Info("download abandoned", "route", r.Pattern, "err", err)
		} else {
			s.log.Error("download failed after its first bytes", "route", r.Pattern, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// downloadWriter sends a download's headers with its first byte. What is written is kept in
// a buffer of 64 KiB first, so that a failure early in a CSV file (its first page of lines) is
// still answered as a page's.
type downloadWriter struct {
	w           http.ResponseWriter
	name, ctype string
	started     bool
	buf         *bufio.Writer
}

func newDownloadWriter(w http.ResponseWriter, name, ctype string) *downloadWriter {
	d := &downloadWriter{w: w, name: name, ctype: ctype}
	d.buf = bufio.NewWriterSize(sendWriter{d}, 64<<10)
	return d
}

// sendWriter sends the buffer's bytes, after the headers.
type sendWriter struct{ d *downloadWriter }

func (s sendWriter) Write(p []byte) (int, error) {
	s.d.begin()
	return s.d.w.Write(p)
}

func (d *downloadWriter) begin() {
	if d.started {
		return
	}
	d.started = true
	hd := d.w.Header()
	hd.Set("Content-Type", d.ctype)
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.name}))
	hd.Set("Cache-Control", "no-store") // personal data: names, decisions
	d.w.WriteHeader(http.StatusOK)
}

func (d *downloadWriter) Write(p []byte) (int, error) { return d.buf.Write(p) }

// downloadLink is the path of a campaign's download (file: e.g. agents.xlsx) with a page's
// filters and order (an encoded query, or empty), as one URL for the template: a query
// written after a literal '?' in a template would be escaped as a value.
func downloadLink(id, file, query string) string {
	p := "/campaigns/" + url.PathEscape(id) + "/" + file
	if query != "" {
		p += "?" + query
	}
	return p
}

// fileName keeps a file's name to ASCII letters, digits, '-', '_' and '.', each other
// character written as '_'.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// writeTable writes one table as a workbook of one sheet or as CSV, its rows from rows.
func writeTable(w io.Writer, format, title, sheet string, headings []string, rows func(report.Table) error) (err error) {
	if format == "csv" {
		t, err := report.NewCSVTable(w, headings...)
		if err != nil {
			return err
		}
		if err := rows(t); err != nil {
			return err
		}
		return t.Flush()
	}
	b, err := report.NewWorkbook(title)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.Close()) }()
	if err := b.Sheet(sheet, headings...); err != nil {
		return err
	}
	if err := rows(b); err != nil {
		return err
	}
	return b.Write(w)
}

// pages walks a list a page at a time: read gets the lines from an offset (at most limit), and
// the walk ends at a page that is not full.
func pages[T any](limit int, read func(offset, limit int) ([]T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for offset := 0; ; offset += limit {
			lines, err := read(offset, limit)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, l := range lines {
				if !yield(l, nil) {
					return
				}
			}
			if len(lines) < limit {
				return
			}
		}
	}
}

func (s *Server) downloadPage() int {
	if s.cfg.DownloadPage > 0 {
		return s.cfg.DownloadPage
	}
	return defaultDownloadPage
}

// reportDownload is the campaign's report as the viewer's scope has it (the page's figures,
// every unit of them, and the agents' lines read a page at a time): a workbook of sheets, or
// the report's CSV under the Vietnamese heading row.
func (s *Server) reportDownload(r *http.Request, db store.DB, h *campaignHead, format string, w *downloadWriter) error {
	ctx := r.Context()
	sc := viewerOf(ctx).Scope
	rep, err := s.scopeReport(ctx, h.ID, sc)
	if err != nil {
		return err
	}
	agents := func(yield func(report.AgentLine, error) bool) {
		for a, err := range pages(s.downloadPage(), func(offset, limit int) ([]store.AgentListLine, error) {
			return store.AgentLines(ctx, db, h.ID, store.AgentQuery{Scope: sc, Sort: "code", Offset: offset, Limit: limit, Lang: langVI})
		}) {
			if !yield(report.AgentLineOf(a.AgentFigures), err) || err != nil {
				return
			}
		}
	}
	if format == "csv" {
		return report.WriteCSVVI(w, rep, agents)
	}
	return report.WriteXLSXStream(w, rep, "all", agents)
}

// agentsDownload is the agents' list with the page's filters and order: every line they
// select, with the agents' names as the page shows them.
func (s *Server) agentsDownload(r *http.Request, db store.DB, h *campaignHead, format string, w *downloadWriter) error {
	ctx := r.Context()
	aq, err := agentQueryOf(r)
	if err != nil {
		return err
	}
	aq.Lang = langVI // the rationale, under Vietnamese headings
	lines := pages(s.downloadPage(), func(offset, limit int) ([]store.AgentListLine, error) {
		q := aq
		q.Offset, q.Limit = offset, limit
		return store.AgentLines(ctx, db, h.ID, q)
	})
	return writeTable(w, format, h.Name+" — "+report.SheetAgents, report.SheetAgents, agentListHeadings, func(t report.Table) error {
		for a, err := range lines {
			if err != nil {
				return err
			}
			l := report.AgentLineOf(a.AgentFigures)
			if err := t.Row(l.Code, a.Name, l.Commune, l.Kind, l.PostOffice, l.Status, l.Quota, l.Enrolled, l.Pct,
				l.FollowUpsOpen, a.Overdue, l.Escalated, a.LastPeriod, a.LastDecision, a.LastStatus, a.LastRationale); err != nil {
				return err
			}
		}
		return nil
	})
}

// reviewsDownload is a review period's decisions with the page's filters (the period the
// page shows: the latest unless asked), every line they select.
func (s *Server) reviewsDownload(r *http.Request, db store.DB, h *campaignHead, format string, w *downloadWriter) error {
	ctx := r.Context()
	q := r.URL.Query()
	sc := viewerOf(ctx).Scope
	dq := store.DecisionQuery{Period: q.Get("period"), District: q.Get("district"), Commune: q.Get("commune"), Status: q.Get("status"),
		Decision: q.Get("decision"), Scope: sc, Lang: langVI}
	if dq.Period == "" {
		totals, err := store.ReviewTotalsIn(ctx, db, h.ID, sc)
		if err != nil {
			return err
		}
		if len(totals) > 0 {
			dq.Period = totals[len(totals)-1].Period
		}
	}
	if dq.Period != "" {
		w.name = fileName(h.ID+"-reviews-"+dq.Period) + "." + format
	}
	const sheet = "Quyết định đánh giá"
	return writeTable(w, format, h.Name+" — "+sheet+" "+dq.Period, sheet, decisionHeadings, func(t report.Table) error {
		if dq.Period == "" {
			return nil // no review yet: the headings alone
		}
		for d, err := range pages(s.downloadPage(), func(offset, limit int) ([]store.DecisionLine, error) {
			q := dq
			q.Offset, q.Limit = offset, limit
			return store.DecisionLines(ctx, db, h.ID, q)
		}) {
			if err != nil {
				return err
			}
			var reward any
			if d.Reward != 0 {
				reward = d.Reward
			}
			if err := t.Row(d.Period, d.Agent, d.Kind, d.Commune, d.Score, d.Decision, d.Status, d.Rationale, d.DecidedBy, d.Reason,
				report.Day(d.WindowEnd), d.RewardKind, reward); err != nil {
				return err
			}
		}
		return nil
	})
}
