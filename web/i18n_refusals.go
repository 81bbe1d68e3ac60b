package web

import (
	"regexp"
	"strings"

	"drives/contribution"
)

// Refusals come from the workflows' validators, the coordinator and the page's own checks in
// English (the CLI's and the API's words). On the Vietnamese page they are shown in Vietnamese,
// saying what to do next where the English does, with the English after them in brackets: the
// words a coordinator would quote to support, or find in the README.

// refusalRule rewrites one English refusal (or a part of one: a wrapper such as "campaign X
// refused: ") into Vietnamese.
type refusalRule struct {
	re *regexp.Regexp
	vi string
}

func rule(pattern, vi string) refusalRule { return refusalRule{regexp.MustCompile(pattern), vi} }

// viRefusals are applied in order: the longer texts before those they begin with.
var viRefusals = []refusalRule{
	// Wrappers.
	rule(`campaign ([a-z0-9-]+) is not running \(no workflow [^)]*\)`, "chiến dịch $1 không còn chạy (đã kết thúc hoặc chưa khởi động): hãy xem báo cáo của chiến dịch"),
	rule(`review ([^: ]+): campaign ([a-z0-9-]+) refused: `, "kỳ đánh giá $1: chiến dịch $2 từ chối: "),
	rule(`campaign ([a-z0-9-]+) refused: `, "chiến dịch $1 từ chối: "),
	rule(`no worker polls task queue (\S+), so campaign (\S+) cannot answer: start one \(make worker-start, or go run \./worker\)`,
		"không có worker nào nhận việc ở hàng đợi $1 nên chiến dịch $2 không trả lời được: hãy khởi động worker (make worker-start, hoặc go run ./worker)"),
	// Reasons, names.
	rule(`reason: say why the event is cancelled`, "lý do: hãy ghi lý do hủy sự kiện"),
	rule(`reason: say why the campaign is cancelled`, "lý do: hãy ghi lý do hủy chiến dịch"),
	rule(`reason: say why the agent leaves`, "lý do: hãy ghi lý do đại lý nghỉ"),
	rule(`reason: say why`, "lý do: hãy ghi lý do"),
	rule(`by: say who [a-z ]+`, "người thực hiện: hãy ghi tên người thực hiện"),
	// Reviews.
	rule(`agent: say which agent`, "đại lý: hãy chọn đại lý"),
	rule(`agent: "([^"]*)" has no termination pending in review (\S+)`, `đại lý: "$1" không có đề nghị thanh lý hợp đồng nào đang chờ trong kỳ đánh giá $2`),
	rule(`agent: "([^"]*)" is already (\S+) in review (\S+); nothing changed`, `đại lý: "$1" đã được quyết định ($2) trong kỳ đánh giá $3; không có gì thay đổi`),
	rule(`agent: "([^"]*)" is not an agent's code`, `đại lý: "$1" không phải là mã đại lý`),
	rule(`the review is still evaluating; try again in a few minutes`, "kỳ đánh giá vẫn đang tính điểm; hãy thử lại sau vài phút"),
	rule(`decision: "([^"]*)" is not approve or reject`, `quyết định: "$1" không phải là phê duyệt hay từ chối`),
	// Events.
	rule(`event_id: unknown event "([^"]*)" \(name a district's event, e\.g\. <round>\.<district>\)`, `mã sự kiện: không có sự kiện "$1" (hãy ghi sự kiện của một quận/huyện, ví dụ <đợt>.<mã quận/huyện>)`),
	rule(`event_id: unknown event "([^"]*)"`, `mã sự kiện: không có sự kiện "$1"`),
	rule(`event_id: event "([^"]*)" is cancelled already`, `mã sự kiện: sự kiện "$1" đã bị hủy từ trước`),
	rule(`event_id: event "([^"]*)" was cancelled`, `mã sự kiện: sự kiện "$1" đã bị hủy`),
	rule(`event_id: event "([^"]*)" was due at ([0-9-]+ [0-9:]+) and is held already`, `mã sự kiện: sự kiện "$1" đến hạn lúc $2 và đã được tổ chức`),
	rule(`event_id: event "([^"]*)" is not held yet \(due ([^)]*)\)`, `mã sự kiện: sự kiện "$1" chưa được tổ chức (đến hạn $2)`),
	rule(`event "([^"]*)" already exists`, `sự kiện "$1" đã có`),
	rule(`attendance: must not be negative`, "số người dự: không được là số âm"),
	rule(`expected: "([^"]*)" is not a whole number`, `số người dự kiến: "$1" không phải là số nguyên`),
	// The campaign's state.
	rule(`campaign is paused already`, "chiến dịch đã tạm dừng rồi"),
	rule(`campaign is not paused`, "chiến dịch không tạm dừng"),
	rule(`campaign is still being prepared; try again in a moment`, "chiến dịch đang được chuẩn bị; hãy thử lại sau giây lát"),
	rule(`campaign is closing: its final figures are being counted[^;]*; no import is taken any more`, "chiến dịch đang kết thúc: số liệu cuối cùng đang được tổng hợp; không nhận thêm tệp nhập"),
	rule(`campaign is closing: its final figures are being counted, field enrolments with them`, "chiến dịch đang kết thúc: số liệu cuối cùng đang được tổng hợp, kể cả số tham gia từ thực địa"),
	rule(`campaign is closed`, "chiến dịch đã kết thúc"),
	rule(`campaign is cancelled`, "chiến dịch đã bị hủy"),
	rule(`campaign is closing`, "chiến dịch đang kết thúc"),
	// Uploads.
	rule(`file: choose a CSV file to upload`, "tệp: hãy chọn một tệp CSV để tải lên"),
	rule(`campaign ([a-z0-9-]+) has no units yet: it is still being prepared`, "chiến dịch $1 chưa có đơn vị: đang được chuẩn bị; hãy thử lại sau giây lát"),
	rule(`(\S+): file is larger than (\d+) MiB`, "$1: tệp lớn hơn $2 MiB; hãy chia thành nhiều tệp nhỏ hơn"),
}

// viLineProblems are a refused file's line problems (imports' checks), each the whole of one
// problem's text: the page lists them by line and field, each in the reader's language.
var viLineProblems = []refusalRule{
	rule(`^the file is not UTF-8 text$`, "tệp không phải văn bản UTF-8: hãy lưu lại dưới dạng CSV UTF-8"),
	rule(`^the file is empty; want "([^"]*)"$`, `tệp trống; dòng đầu phải là tiêu đề "$1"`),
	rule(`^want "([^"]*)"$`, `dòng tiêu đề phải là "$1"`),
	rule(`^has (\d+) fields, want (\d+)$`, "có $1 cột, cần $2 cột"),
	rule(`^bare " in non-quoted-field$`, `có dấu " trong một trường không nằm trong ngoặc kép`),
	rule(`^extraneous or missing " in quoted-field$`, `thừa hoặc thiếu dấu " trong một trường có ngoặc kép`),
	rule(`^the file has a header but no rows$`, "tệp chỉ có dòng tiêu đề, không có dòng dữ liệu nào"),
	rule(`^must be 12 digits \(or 9 for an old identity card\)$`, "phải có 12 chữ số (hoặc 9 chữ số với chứng minh nhân dân cũ)"),
	rule(`^same person as line (\d+)$`, "trùng người với dòng $1"),
	rule(`^same receipt as line (\d+)$`, "trùng biên lai với dòng $1"),
	rule(`^unknown target group( "[^"]*")?$`, "không có nhóm đối tượng$1 trong kế hoạch"),
	rule(`^must be declined or unreachable$`, "phải là declined (từ chối) hoặc unreachable (không liên lạc được)"),
	rule(`^must be 1 to 100 characters$`, "phải có từ 1 đến 100 ký tự"),
	rule(`^must be 10 digits starting with 0$`, "phải có 10 chữ số, bắt đầu bằng 0"),
	rule(`^unknown commune( "[^"]*")?$`, "không có xã/phường$1 trong chiến dịch"),
	rule(`^commune( "[^"]*")? is in district (\S+), not the event's district (\S+)$`, "xã/phường$1 thuộc quận/huyện $2, không phải quận/huyện $3 của sự kiện"),
	rule(`^unknown village( "[^"]*")? in the line's commune$`, "không có thôn/tổ dân phố$1 trong xã/phường của dòng này"),
	rule(`^not a date \(YYYY-MM-DD\)$`, "không phải ngày (YYYY-MM-DD)"),
	rule(`^(\S+) is outside the campaign period (\S+)\.\.(\S+)$`, "$1 nằm ngoài thời gian chiến dịch $2..$3"),
	rule(`^(\S+) is after the campaign's day (\S+): a file reports what has happened$`,
		"$1 sau ngày hiện tại của chiến dịch ($2): tệp chỉ ghi những việc đã xảy ra; hãy nhập dòng này khi đã đến ngày đó"),
	rule(`^(\S+) is outside (\S+)\.\.(\S+)$`, "$1 nằm ngoài khoảng $2..$3"),
	rule(`^unknown or inactive agent( "[^"]*")?$`, "đại lý$1 không có hoặc không còn làm việc"),
	rule(`^agent( "[^"]*")? works in commune (\S+), not (\S+)$`, "đại lý$1 làm việc ở xã/phường $2, không phải $3"),
	rule(`^must be a whole number of VND$`, "phải là số nguyên (đồng)"),
	rule(`^must be a whole number of VND from 1 to (\d+)$`, "phải là số nguyên (đồng) từ 1 đến $1"),
	rule(`^(.+) is outside (\d+)–(\d+) VND$`, "$1 nằm ngoài khoảng $2–$3 VND"),
	rule(`^must be poor, near_poor or other$`, "phải là poor (hộ nghèo), near_poor (hộ cận nghèo) hoặc other (khác)"),
	rule(`^must be one of `+regexp.QuoteMeta(contribution.PaymentModes)+`$`,
		"phải là monthly (hằng tháng), 3m, 6m, 12m (đóng trước 3, 6, 12 tháng) hoặc 2y đến 5y (đóng trước 2 đến 5 năm)"),
	rule(`^must be after joined_on$`, "phải sau ngày joined_on"),
	rule(`^must be `+regexp.QuoteMeta(contribution.MonthsPaid)+`$`, "phải là 1, 3, 6 hoặc 12 tháng, hoặc 2 đến 5 năm (24, 36, 48 hoặc 60 tháng)"),
	rule(`^must be 1 to 40 letters, digits or \. _ / -$`, "phải có 1 đến 40 chữ cái, chữ số hoặc . _ / -"),
	rule(`^no lead of this campaign has this citizen ID$`, "không có người được giới thiệu (lead) nào của chiến dịch có số định danh này"),
	rule(`^nobody in the campaign's register of participants has this citizen ID$`, "không có ai trong danh sách người tham gia của chiến dịch có số định danh này"),
}

// trLineProblem writes a refused file's line problem in the reader's language: in Vietnamese
// with the English after it, in brackets, as refusals are; a text no rule knows is left as it is.
func trLineProblem(lang, s string) string {
	if lang != langVI {
		return s
	}
	for _, r := range viLineProblems {
		if r.re.MatchString(s) {
			return r.re.ReplaceAllString(s, r.vi) + " (" + s + ")"
		}
	}
	return s
}

// trRefusal writes a refusal in Vietnamese with its English words after it, in brackets; a text
// no rule knows is left as it is.
func trRefusal(s string) string {
	prefix, rest := "", s
	for _, p := range []string{vi["Refused:"] + " ", "Refused: "} {
		if strings.HasPrefix(s, p) {
			prefix, rest = vi["Refused:"]+" ", strings.TrimPrefix(s, p)
			break
		}
	}
	out := rest
	for _, r := range viRefusals {
		out = r.re.ReplaceAllString(out, r.vi)
	}
	if out == rest {
		return s
	}
	return prefix + out + " (" + rest + ")"
}
