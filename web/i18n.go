package web

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Languages of the page: Vietnamese by default, English by a switch.
const (
	langVI = "vi"
	langEN = "en"
)

// messages holds the page's labels in English; vi holds their Vietnamese.
var vi = map[string]string{
	"Campaigns":                             "Chiến dịch",
	"Previous":                              "Trang trước",
	"Next":                                  "Trang sau",
	"of":                                    "trên",
	"Filter":                                "Lọc",
	"Download the report":                   "Tải báo cáo về",
	"Download the list":                     "Tải danh sách về",
	"None.":                                 "Không có.",
	"District":                              "Quận/huyện",
	"Campaign":                              "Chiến dịch",
	"Status":                                "Trạng thái",
	"Target":                                "Chỉ tiêu",
	"Enrolled":                              "Đã tham gia",
	"Attainment":                            "Tỷ lệ hoàn thành",
	"Period":                                "Thời gian",
	"Sign in":                               "Đăng nhập",
	"Sign out":                              "Đăng xuất",
	"User":                                  "Tài khoản",
	"Password":                              "Mật khẩu",
	"Wrong user or password.":               "Sai tài khoản hoặc mật khẩu.",
	"Overview":                              "Tổng quan",
	"Agents":                                "Đại lý thu",
	"Reviews":                               "Đánh giá",
	"Imports":                               "Nhập dữ liệu",
	"City":                                  "Thành phố",
	"Districts":                             "Quận/huyện/thị xã",
	"Communes":                              "Xã/phường/thị trấn",
	"Villages":                              "Thôn/tổ dân phố",
	"Code":                                  "Mã",
	"Name":                                  "Tên",
	"Trace":                                 "Truy vết",
	"Enrolments over time":                  "Số người tham gia theo thời gian",
	"enrolled (cumulative)":                 "đã tham gia (lũy kế)",
	"plan (pro rata)":                       "kế hoạch (theo tiến độ)",
	"target":                                "chỉ tiêu",
	"Progress by target group":              "Tiến độ theo nhóm đối tượng",
	"Target group":                          "Nhóm đối tượng",
	"Leads":                                 "Người tiềm năng",
	"Enrolled from leads":                   "Tham gia từ người tiềm năng",
	"Conversion":                            "Tỷ lệ chuyển đổi",
	"Share":                                 "Tỷ trọng",
	"Declined":                              "Từ chối",
	"Unreachable":                           "Không liên lạc được",
	"Prior year":                            "Năm trước",
	"Growth":                                "Tăng trưởng",
	"Plan revisions":                        "Điều chỉnh kế hoạch",
	"From":                                  "Áp dụng từ",
	"City target":                           "Chỉ tiêu thành phố",
	"Changed":                               "Thay đổi",
	"Events":                                "Sự kiện",
	"district":                              "quận/huyện",
	"commune":                               "xã/phường",
	"village":                               "thôn/tổ dân phố",
	"Workflow in Temporal Web UI":           "Workflow trên Temporal Web UI",
	"Campaign date":                         "Ngày của chiến dịch",
	"Commune":                               "Xã/phường",
	"Kind":                                  "Loại",
	"Quota":                                 "Chỉ tiêu giao",
	"Open follow-ups":                       "Theo dõi đang mở",
	"Overdue follow-ups":                    "Theo dõi quá hạn",
	"Last review decision":                  "Quyết định đánh giá gần nhất",
	"agent":                                 "đại lý thu",
	"staff":                                 "cán bộ",
	"active":                                "đang hoạt động",
	"terminated":                            "đã thanh lý hợp đồng",
	"Upcoming events":                       "Sự kiện sắp tới",
	"Held events":                           "Sự kiện đã tổ chức",
	"Cancelled events":                      "Sự kiện đã hủy",
	"Date":                                  "Ngày",
	"Unit":                                  "Địa bàn",
	"Title":                                 "Tiêu đề",
	"Groups":                                "Nhóm đối tượng",
	"Attendance":                            "Số người dự",
	"Expected":                              "Dự kiến",
	"Add an event":                          "Thêm sự kiện",
	"Add":                                   "Thêm",
	"Cancel":                                "Hủy",
	"Reason":                                "Lý do",
	"Pending terminations":                  "Đề nghị thanh lý hợp đồng chờ quyết định",
	"Escalated (no decision in time)":       "Đã chuyển cấp trên (quá hạn quyết định)",
	"Approve":                               "Phê duyệt",
	"Reject":                                "Từ chối",
	"Score":                                 "Điểm",
	"Decision":                              "Quyết định",
	"Rationale":                             "Căn cứ",
	"Decisions per period":                  "Quyết định theo kỳ",
	"Reviewed":                              "Đã đánh giá",
	"Rewarded":                              "Khen thưởng",
	"Commended":                             "Biểu dương",
	"Retained":                              "Giữ nguyên",
	"Warned":                                "Nhắc nhở",
	"Termination proposed":                  "Đề nghị thanh lý",
	"Approved":                              "Đã phê duyệt",
	"Rejected":                              "Đã từ chối",
	"Escalated":                             "Chuyển cấp trên",
	"Decisions of":                          "Quyết định kỳ",
	"Nothing pending.":                      "Không có đề nghị nào chờ quyết định.",
	"Upload enrolments (CSV)":               "Tải lên danh sách tham gia (CSV)",
	"Upload":                                "Tải lên",
	"Header":                                "Dòng tiêu đề",
	"New":                                   "Mới",
	"Duplicate":                             "Trùng",
	"Lines":                                 "Dòng",
	"Line":                                  "Dòng",
	"Field":                                 "Trường",
	"Problem":                               "Lỗi",
	"File refused: nothing was written.":    "Tệp bị từ chối: không có dữ liệu nào được ghi.",
	"Earlier imports":                       "Các lần nhập trước",
	"File":                                  "Tệp",
	"Rows":                                  "Số dòng",
	"By":                                    "Người nhập",
	"Recorded":                              "Thời điểm",
	"Figure":                                "Số liệu",
	"Value":                                 "Giá trị",
	"Written by":                            "Ghi bởi",
	"Action":                                "Thao tác",
	"Actor":                                 "Người thực hiện",
	"Audit row":                             "Dòng nhật ký",
	"History events":                        "Sự kiện lịch sử",
	"Read-only view (auditor).":             "Chế độ chỉ xem (kiểm toán viên).",
	"Read-only view.":                       "Chế độ chỉ xem.",
	"Change your password":                  "Đổi mật khẩu",
	"Change password":                       "Đổi mật khẩu",
	"Current password":                      "Mật khẩu hiện tại",
	"New password (at least 10 characters)": "Mật khẩu mới (ít nhất 10 ký tự)",
	"The password you were given works only once: choose your own to go on.": "Mật khẩu được cấp chỉ dùng một lần: hãy đặt mật khẩu của riêng bạn để tiếp tục.",
	"Your password is changed.":          "Mật khẩu đã được đổi.",
	"The current password is not right.": "Mật khẩu hiện tại không đúng.",
	"Your part of the campaign":          "Phần việc của bạn trong chiến dịch",
	"Units":                              "Đơn vị",
	"Planned":                            "Kế hoạch",
	"Held":                               "Đã tổ chức",
	"Cancelled":                          "Đã hủy",
	"running":                            "đang chạy",
	"paused":                             "tạm dừng",
	"preparing":                          "đang chuẩn bị",
	"closing":                            "đang kết thúc",
	"closed":                             "đã kết thúc",
	"cancelled":                          "đã hủy",
	"planned":                            "kế hoạch",
	"held":                               "đã tổ chức",
	"pending":                            "chờ quyết định",
	"approved":                           "đã phê duyệt",
	"rejected":                           "đã từ chối",
	"escalated":                          "chuyển cấp trên",
	"final":                              "chính thức",
	"auto_terminated":                    "tự động thanh lý",
	"reward":                             "khen thưởng",
	"commend":                            "biểu dương",
	"retain":                             "giữ nguyên",
	"warn":                               "nhắc nhở",
	"terminate":                          "đề nghị thanh lý",
	"conference":                         "hội nghị",
	"dialogue":                           "đối thoại",
	"door_to_door":                       "tư vấn tận nhà",
	"post_office_round":                  "đợt tuyên truyền cùng Bưu điện",
	"Event added":                        "Đã thêm sự kiện",
	"Event cancelled":                    "Đã hủy sự kiện",
	"Termination approved: contract ended for": "Đã phê duyệt thanh lý hợp đồng:",
	"Termination rejected for":                 "Đã từ chối đề nghị thanh lý:",
	"Already decided:":                         "Đã quyết định trước đó:",
	"Refused:":                                 "Bị từ chối:",
	"live report":                              "báo cáo tạm thời",
	"final report":                             "báo cáo cuối cùng",
	"of target":                                "so với chỉ tiêu",
	"Back":                                     "Quay lại",
	"Not found":                                "Không tìm thấy",
	"Forbidden":                                "Không được phép",
	"Show":                                     "Xem",
	"Campaign progress is not available now:": "Hiện chưa lấy được tiến độ từ workflow:",
	"follow-ups moved":                        "việc theo dõi được chuyển",
	"quota moved":                             "chỉ tiêu được chuyển",
	"date format: YYYY-MM-DD":                 "định dạng ngày: YYYY-MM-DD",
	"imported":                                "đã nhập",
	"merged":                                  "đã hợp nhất",
	"staged":                                  "đang chờ",
}

// tr translates a label into lang; English labels are the keys. On the Vietnamese page a text
// that is no label is tried as a refusal (trRefusal).
func tr(lang, s string) string {
	if lang == langVI {
		if v, ok := vi[s]; ok {
			return v
		}
		return trRefusal(s)
	}
	return s
}

// groupDigits writes n with sep between groups of three digits.
func groupDigits(n int64, sep string) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// formatInt writes a count as Vietnam writes it (51.189), or as English does (51,189).
func formatInt(lang string, n int) string {
	if lang == langEN {
		return groupDigits(int64(n), ",")
	}
	return groupDigits(int64(n), ".")
}

// formatPct writes a percentage with one decimal: 98,4 % in Vietnamese, 98.4% in English.
func formatPct(lang string, pct float64) string {
	v := math.Round(pct*10) / 10
	whole := int64(v)
	frac := int64(math.Round(math.Abs(v-float64(whole)) * 10))
	sign := ""
	if v < 0 && whole == 0 {
		sign = "-"
	}
	if lang == langEN {
		return sign + groupDigits(whole, ",") + "." + strconv.FormatInt(frac, 10) + "%"
	}
	return sign + groupDigits(whole, ".") + "," + strconv.FormatInt(frac, 10) + " %"
}

// formatVND writes an amount of đồng: 500.000 ₫.
func formatVND(lang string, n int64) string {
	if lang == langEN {
		return groupDigits(n, ",") + " VND"
	}
	return groupDigits(n, ".") + " ₫"
}

// formatDate writes dd/mm/yyyy, as Vietnam writes dates in either language.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("02/01/2006")
}

// formatDateTime writes dd/mm/yyyy hh:mm in the given zone.
func formatDateTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("02/01/2006 15:04")
}

// ratio is enrolled/target as a decimal with a dot, unrounded: a figure's data-value.
func ratio(n, of int) string {
	if of == 0 {
		return "0"
	}
	return strconv.FormatFloat(float64(n)/float64(of), 'f', -1, 64)
}
