package web

import (
	"regexp"
	"strings"
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
