package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"drives/store"
)

// Downloads: the report, and the web page's lists, as a workbook (XLSX) or a CSV file with
// Vietnamese headings, for the office's spreadsheets. A workbook is written a row at a time
// through excelize's StreamWriter, which keeps at most 16 MB of a sheet in memory and the
// rest in a temporary file: a national campaign's 200,000 agents build no document in
// memory. Numbers are written as numbers; text (codes and names, which come from plans and
// files) goes through textCell, as in the CSV. Enumerated values (a unit's level, an agent's
// kind and status) are the codes the CSV and JSON use, so that a filter on them is the same in
// every format; the headings say what they are.

// The report's sheets.
const (
	SheetSummary      = "Tổng hợp"
	SheetUnits        = "Đơn vị"
	SheetGroups       = "Nhóm đối tượng"
	SheetAgents       = "Đại lý thu"
	SheetParticipants = "Người tham gia"
	SheetReviews      = "Đánh giá"
)

// Headings of the report's sheets, in their columns' order.
var (
	SummaryHeadings      = []string{"Mục", "Giá trị", "Khóa"}
	UnitHeadings         = []string{"Cấp", "Mã", "Tên", "Đơn vị cấp trên", "Chỉ tiêu", "Đã tham gia", "Tỷ lệ hoàn thành (%)"}
	GroupHeadings        = []string{"Mã nhóm", "Tên nhóm", "Khả năng tham gia", "Người tiềm năng", "Tham gia từ người tiềm năng", "Tỷ lệ chuyển đổi (%)", "Từ chối", "Không liên lạc được", "Tổng số đã tham gia", "Tỷ trọng (%)"}
	AgentHeadings        = []string{"Mã", "Xã/phường", "Loại", "Điểm Bưu điện", "Trạng thái", "Chỉ tiêu giao", "Đã tham gia", "Tỷ lệ hoàn thành (%)", "Theo dõi đang mở", "Chuyển cấp trên"}
	ParticipantsHeadings = []string{"Theo", "Mã", "Đầu kỳ", "Tham gia mới", "Đóng tiếp", "Tham gia lại", "Ngừng đóng", "Cuối kỳ"}
	ReviewHeadings       = []string{"Kỳ đánh giá", "Đã đánh giá", "Khen thưởng", "Biểu dương", "Giữ nguyên", "Nhắc nhở", "Đề nghị thanh lý",
		"Thanh lý đã phê duyệt", "Thanh lý đã từ chối", "Thanh lý chuyển cấp trên"}
)

// csvHeaderVI is csvHeader's Vietnamese heading row, column for column (WriteCSVVI).
var csvHeaderVI = []string{"Phần", "Cấp", "Mã", "Tên", "Đơn vị cấp trên", "Chỉ tiêu", "Đã tham gia", "Tỷ lệ (%)", "Người tiềm năng",
	"Từ chối", "Không liên lạc được", "Theo dõi đang mở", "Chuyển cấp trên", "Đầu kỳ", "Tham gia mới", "Đóng tiếp", "Tham gia lại",
	"Ngừng đóng", "Cuối kỳ", "Năm trước", "Tăng trưởng", "Tăng trưởng (%)",
	"Đã đánh giá", "Khen thưởng", "Biểu dương", "Giữ nguyên", "Nhắc nhở", "Đề nghị thanh lý", "Thanh lý đã phê duyệt",
	"Thanh lý đã từ chối", "Thanh lý chuyển cấp trên"}

// AgentsOf is the report's own agents' lines, as WriteXLSXStream and WriteCSVVI take them.
func AgentsOf(r *Report) iter.Seq2[AgentLine, error] {
	return func(yield func(AgentLine, error) bool) {
		for _, a := range r.Agents {
			if !yield(a, nil) {
				return
			}
		}
	}
}

// WriteXLSX writes a report as a workbook: its summary, units (those of level, as the table
// lists them: district, commune, village or all), target groups, agents and register of
// participants, each a sheet under Vietnamese headings. A part's report (Within) has no
// target groups or register, and its summary no prior year, events or follow-ups.
func WriteXLSX(w io.Writer, r *Report, level string) error {
	return WriteXLSXStream(w, r, level, AgentsOf(r))
}

// WriteXLSXStream is WriteXLSX with the agents' lines read from agents as the sheet is written
// (e.g. a page of the database at a time) rather than from the report.
func WriteXLSXStream(w io.Writer, r *Report, level string, agents iter.Seq2[AgentLine, error]) (err error) {
	if err := CheckOptions("xlsx", level); err != nil {
		return err
	}
	b, err := NewWorkbook(r.Name + " — " + r.CampaignID)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.Close()) }()
	if err := writeSheets(b, r, level, agents); err != nil {
		return err
	}
	return b.Write(w)
}

func writeSheets(b *Workbook, r *Report, level string, agents iter.Seq2[AgentLine, error]) error {
	if err := b.Sheet(SheetSummary, SummaryHeadings...); err != nil {
		return err
	}
	kind := "báo cáo tạm thời"
	if r.Final {
		kind = "báo cáo cuối cùng"
	}
	type item struct {
		label string
		value any
		key   string
	}
	items := []item{
		{"Mã chiến dịch", r.CampaignID, "campaign_id"},
		{"Tên chiến dịch", r.Name, "name"},
		{"Trạng thái", r.Status, "status"},
		{"Loại báo cáo", kind, "final"},
	}
	if len(r.Scope) > 0 {
		items = append(items, item{"Phạm vi (đơn vị)", strings.Join(r.Scope, ", "), "scope"})
	}
	items = append(items,
		item{"Thời điểm lập (UTC)", r.GeneratedAt.UTC(), "generated_at"},
		item{"Chỉ tiêu", r.Target, "target"},
		item{"Đã tham gia", r.Enrolled, "enrolled"},
		item{"Tỷ lệ hoàn thành (%)", r.AttainmentPct, "attainment_pct"})
	if len(r.Scope) == 0 {
		e, f := r.Events, r.FollowUps
		growth := "Tăng trưởng so với năm trước"
		if r.GrowthSoFar() {
			growth += " (đến nay, chiến dịch đang chạy)" // so far: this year's enrolments to date
		}
		items = append(items,
			item{"Số tham gia năm trước", r.PriorYear, "prior_year"},
			item{growth, r.Growth, "growth"},
			item{growth + " (%)", r.GrowthPct, "growth_pct"},
			item{"Sự kiện đã tổ chức", e.Held, "events.held"},
			item{"Sự kiện theo kế hoạch", e.Planned, "events.planned"},
			item{"Sự kiện đã hủy", e.Cancelled, "events.cancelled"},
			item{"Số người dự sự kiện", e.Attendance, "events.attendance"},
			item{"Người tiềm năng từ sự kiện", e.Leads, "events.leads"},
			item{"Việc theo dõi", f.Total, "follow_ups.total"},
			item{"Việc theo dõi: đã tham gia", f.Enrolled, "follow_ups.enrolled"},
			item{"Việc theo dõi: từ chối", f.Declined, "follow_ups.declined"},
			item{"Việc theo dõi: không liên lạc được", f.Unreachable, "follow_ups.unreachable"},
			item{"Việc theo dõi: đang mở", f.Open, "follow_ups.open"},
			item{"Việc theo dõi: chuyển cấp trên", f.Escalated, "follow_ups.escalated"})
	}
	if p := r.Participants; p != nil {
		items = append(items,
			item{"Người tham gia đầu kỳ", p.Start, "participants.start"},
			item{"Tham gia mới", p.Joined, "participants.joined"},
			item{"Đóng tiếp", p.Renewed, "participants.renewed"},
			item{"Tham gia lại", p.Returned, "participants.returned"},
			item{"Ngừng đóng", p.Lapsed, "participants.lapsed"},
			item{"Người tham gia cuối kỳ", p.End, "participants.end"},
			item{"Tăng trưởng số người tham gia", p.Growth, "participants.growth"},
			item{"Tăng trưởng số người tham gia (%)", p.GrowthPct, "participants.growth_pct"},
			item{"Tăng trưởng số người tham gia so với chỉ tiêu (%)", p.TargetPct, "participants.target_pct"},
			item{"Khoản đóng bị đánh dấu (số tiền không đúng quy định)", p.Flagged, "participants.payments_flagged"})
	}
	for _, it := range items {
		if err := b.Row(it.label, it.value, it.key); err != nil {
			return err
		}
	}

	if err := b.Sheet(SheetUnits, UnitHeadings...); err != nil {
		return err
	}
	for _, u := range r.Units {
		if level == "all" || u.Level == level {
			if err := b.Row(u.Level, u.Code, u.Name, u.Parent, u.Target, u.Enrolled, u.Pct); err != nil {
				return err
			}
		}
	}
	if len(r.Scope) == 0 {
		if err := b.Sheet(SheetGroups, GroupHeadings...); err != nil {
			return err
		}
		for _, g := range r.Groups {
			if err := b.Row(g.Code, g.Name, g.Likelihood, g.Leads, g.LeadsEnrolled, g.ConversionPct, g.Declined, g.Unreachable,
				g.Enrolled, g.SharePct); err != nil {
				return err
			}
		}
	}
	if err := b.Sheet(SheetAgents, AgentHeadings...); err != nil {
		return err
	}
	for a, err := range agents {
		if err != nil {
			return err
		}
		if err := b.Row(a.Code, a.Commune, a.Kind, a.PostOffice, a.Status, a.Quota, a.Enrolled, a.Pct, a.FollowUpsOpen, a.Escalated); err != nil {
			return err
		}
	}
	if p := r.Participants; p != nil {
		if err := b.Sheet(SheetParticipants, ParticipantsHeadings...); err != nil {
			return err
		}
		line := func(by string, f store.RegisterFigures) error {
			return b.Row(by, f.Key, f.Start, f.Joined, f.Renewed, f.Returned, f.Lapsed, f.End)
		}
		all := p.RegisterFigures
		all.Key = r.CampaignID
		if err := line("city", all); err != nil {
			return err
		}
		for _, part := range []struct {
			by    string
			lines []store.RegisterFigures
		}{{"district", p.ByDistrict}, {"group", p.ByGroup}, {"agent", p.ByAgent}} {
			for _, f := range part.lines {
				if err := line(part.by, f); err != nil {
					return err
				}
			}
		}
	}
	if len(r.Reviews) > 0 {
		if err := b.Sheet(SheetReviews, ReviewHeadings...); err != nil {
			return err
		}
		for _, v := range r.Reviews {
			if err := b.Row(v.Period, v.Agents, v.Rewarded, v.Commended, v.Retained, v.Warned, v.Proposed, v.Approved, v.Rejected, v.Escalated); err != nil {
				return err
			}
		}
	}
	return nil
}

// WriteCSVVI writes a report as the CSV does (Write's csv: one table, its sections in the
// first column), under the Vietnamese heading row and after a UTF-8 byte-order mark, so that
// a spreadsheet opens its Vietnamese as UTF-8: the CSV downloaded from the web page. The
// agents' lines are read from agents. `starter report --format csv` keeps the English column
// keys, for programs.
func WriteCSVVI(w io.Writer, r *Report, agents iter.Seq2[AgentLine, error]) error {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return err
	}
	return writeCSV(w, r, csvHeaderVI, agents)
}

// utf8BOM begins a CSV meant for a spreadsheet: without it, Excel reads the file in the
// machine's legacy code page and garbles Vietnamese.
const utf8BOM = "\ufeff"

// Table is a download's table written a row at a time: a sheet of a Workbook, or a CSV file
// (CSVTable). A cell is text (string, written through textCell; empty leaves the cell empty),
// a number (int, int64, float64), a moment (time.Time), a day (Day) or yes/no (bool).
type Table interface {
	Row(cells ...any) error
}

// Day is a date without its time of day, as a download writes it: a date cell of a workbook,
// YYYY-MM-DD in a CSV.
type Day time.Time

// Workbook is an XLSX file written a sheet at a time and a row at a time. Close it when done:
// it removes the temporary files of its sheets.
type Workbook struct {
	f       *excelize.File
	sw      *excelize.StreamWriter
	sheet   string
	rows    int
	heading int // style of a heading row
	moment  int // style of a time.Time: dd/mm/yyyy hh:mm
	day     int // style of a Day: dd/mm/yyyy
}

// NewWorkbook begins a workbook of the title.
func NewWorkbook(title string) (*Workbook, error) {
	f := excelize.NewFile()
	b := &Workbook{f: f}
	var err error
	dayFmt, momentFmt := "dd/mm/yyyy", "dd/mm/yyyy hh:mm"
	if b.heading, err = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}); err == nil {
		if b.day, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dayFmt}); err == nil {
			b.moment, err = f.NewStyle(&excelize.Style{CustomNumFmt: &momentFmt})
		}
	}
	if err == nil {
		err = f.SetDocProps(&excelize.DocProperties{Title: title, Creator: "drives", Language: "vi-VN"})
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("workbook: %w", err)
	}
	return b, nil
}

// Sheet begins a sheet under its heading row (bold, and kept in view as the rows scroll),
// and ends the sheet before it. Its name is at most 31 characters, none of []:*?/\.
func (b *Workbook) Sheet(name string, headings ...string) error {
	if err := b.endSheet(); err != nil {
		return err
	}
	var err error
	if b.sheet == "" { // the new file's one sheet
		err = b.f.SetSheetName(b.f.GetSheetName(0), name)
	} else if i, _ := b.f.GetSheetIndex(name); i >= 0 {
		err = errors.New("the workbook has a sheet of that name")
	} else {
		_, err = b.f.NewSheet(name)
	}
	if err != nil {
		return fmt.Errorf("workbook: sheet %q: %w", name, err)
	}
	if b.sw, err = b.f.NewStreamWriter(name); err != nil {
		return fmt.Errorf("workbook: sheet %q: %w", name, err)
	}
	b.sheet, b.rows = name, 0
	for i, h := range headings {
		width := float64(len([]rune(h))) + 2
		width = min(max(width, 10), 40)
		if err := b.sw.SetColWidth(i+1, i+1, width); err != nil {
			return fmt.Errorf("workbook: sheet %q: %w", name, err)
		}
	}
	if err := b.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("workbook: sheet %q: %w", name, err)
	}
	cells := make([]any, len(headings))
	for i, h := range headings {
		cells[i] = excelize.Cell{StyleID: b.heading, Value: h}
	}
	return b.setRow(cells)
}

// Row writes a row of the current sheet.
func (b *Workbook) Row(cells ...any) error {
	if b.sw == nil {
		return errors.New("workbook: a row before its sheet")
	}
	vals := make([]any, len(cells))
	for i, c := range cells {
		switch v := c.(type) {
		case nil:
		case string:
			if v != "" {
				vals[i] = textCell(v)
			}
		case int, int64, float64, bool:
			vals[i] = v
		case time.Time:
			if !v.IsZero() {
				vals[i] = excelize.Cell{StyleID: b.moment, Value: v}
			}
		case Day:
			if t := time.Time(v); !t.IsZero() {
				vals[i] = excelize.Cell{StyleID: b.day, Value: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}
			}
		default:
			return fmt.Errorf("workbook: sheet %q, row %d, column %d: a %T is not text, a number, a time or yes/no", b.sheet, b.rows+1, i+1, c)
		}
	}
	return b.setRow(vals)
}

func (b *Workbook) setRow(vals []any) error {
	b.rows++
	cell, err := excelize.CoordinatesToCellName(1, b.rows)
	if err == nil {
		err = b.sw.SetRow(cell, vals)
	}
	if err != nil {
		return fmt.Errorf("workbook: sheet %q, row %d: %w", b.sheet, b.rows, err)
	}
	return nil
}

func (b *Workbook) endSheet() error {
	if b.sw == nil {
		return nil
	}
	sw := b.sw
	b.sw = nil
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("workbook: sheet %q: %w", b.sheet, err)
	}
	return nil
}

// Write ends the last sheet and writes the workbook to w, its first sheet the one shown.
func (b *Workbook) Write(w io.Writer) error {
	if err := b.endSheet(); err != nil {
		return err
	}
	b.f.SetActiveSheet(0)
	if err := b.f.Write(w); err != nil {
		return fmt.Errorf("workbook: write: %w", err)
	}
	return nil
}

// Close removes the workbook's temporary files.
func (b *Workbook) Close() error {
	if err := b.f.Close(); err != nil {
		return fmt.Errorf("workbook: %w", err)
	}
	return nil
}

// CSVTable is a CSV file for a spreadsheet: a UTF-8 byte-order mark, one heading row, and
// its rows, each cell as Workbook writes it (text through textCell, numbers as they are,
// times in RFC 3339, days as YYYY-MM-DD, yes/no as true/false).
type CSVTable struct {
	cw   *csv.Writer
	rows int
}

// NewCSVTable writes the byte-order mark and the heading row.
func NewCSVTable(w io.Writer, headings ...string) (*CSVTable, error) {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return nil, err
	}
	t := &CSVTable{cw: csv.NewWriter(w)}
	h := make([]any, len(headings))
	for i, s := range headings {
		h[i] = s
	}
	return t, t.Row(h...)
}

// Row writes a row; it is flushed to the writer every 1,000 rows and by Flush.
func (t *CSVTable) Row(cells ...any) error {
	rec := make([]string, len(cells))
	for i, c := range cells {
		switch v := c.(type) {
		case nil:
		case string:
			rec[i] = textCell(v)
		case int:
			rec[i] = strconv.Itoa(v)
		case int64:
			rec[i] = strconv.FormatInt(v, 10)
		case float64:
			rec[i] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			rec[i] = strconv.FormatBool(v)
		case time.Time:
			if !v.IsZero() {
				rec[i] = v.Format(time.RFC3339)
			}
		case Day:
			if !time.Time(v).IsZero() {
				rec[i] = time.Time(v).Format(time.DateOnly)
			}
		default:
			return fmt.Errorf("csv: row %d, column %d: a %T is not text, a number, a time or yes/no", t.rows+1, i+1, c)
		}
	}
	t.rows++
	if err := t.cw.Write(rec); err != nil {
		return err
	}
	if t.rows%1000 == 0 {
		return t.Flush()
	}
	return nil
}

// Flush writes what is buffered.
func (t *CSVTable) Flush() error {
	t.cw.Flush()
	return t.cw.Error()
}
