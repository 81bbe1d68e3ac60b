package web

import (
	"strings"
	"testing"
)

// The Vietnamese page shows a coordinator's refusals in Vietnamese (the English after them, in
// brackets); the English page shows them as they are.
func TestRefusalsInVietnamese(t *testing.T) {
	for _, c := range []struct{ en, vi string }{
		{"campaign hanoi-2021 refused: reason: say why", "chiến dịch hanoi-2021 từ chối: lý do: hãy ghi lý do"},
		{"review 2021-Q1: campaign hanoi-2021 refused: reason: say why", "kỳ đánh giá 2021-Q1: chiến dịch hanoi-2021 từ chối: lý do: hãy ghi lý do"},
		{"campaign hanoi-2021 refused: reason: say why the event is cancelled", "lý do: hãy ghi lý do hủy sự kiện"},
		{"campaign hanoi-2021 refused: reason: say why the campaign is cancelled", "lý do: hãy ghi lý do hủy chiến dịch"},
		{`campaign hanoi-2021 refused: event_id: unknown event "no-such-event"`, `mã sự kiện: không có sự kiện "no-such-event"`},
		{`review 2021-Q1: campaign hanoi-2021 refused: agent: "NO-SUCH" has no termination pending in review 2021-Q1`, `đại lý: "NO-SUCH" không có đề nghị thanh lý hợp đồng nào đang chờ trong kỳ đánh giá 2021-Q1`},
		{`campaign hanoi-2021 refused: agent: "DL-1" is already approved in review 2021-Q1; nothing changed`, `đại lý: "DL-1" đã được quyết định (approved) trong kỳ đánh giá 2021-Q1; không có gì thay đổi`},
		{"campaign hanoi-2021 is not running (no workflow campaign:hanoi-2021)", "chiến dịch hanoi-2021 không còn chạy (đã kết thúc hoặc chưa khởi động): hãy xem báo cáo"},
		{"campaign hanoi-2021 refused: campaign is paused already", "chiến dịch đã tạm dừng rồi"},
		{"campaign hanoi-2021 refused: campaign is closing: its final figures are being counted; no import is taken any more", "không nhận thêm tệp nhập"},
		{`campaign hanoi-2021 refused: event_id: event "hop-dan.001" was due at 2021-03-04 08:00 and is held already`, `sự kiện "hop-dan.001" đến hạn lúc 2021-03-04 08:00 và đã được tổ chức`},
		{"file: choose a CSV file to upload", "tệp: hãy chọn một tệp CSV để tải lên"},
		{"campaign hanoi-2021 has no units yet: it is still being prepared", "chiến dịch hanoi-2021 chưa có đơn vị: đang được chuẩn bị; hãy thử lại sau giây lát"},
		{"big.csv: file is larger than 64 MiB", "big.csv: tệp lớn hơn 64 MiB; hãy chia thành nhiều tệp nhỏ hơn"},
		{`expected: "ten" is not a whole number`, `số người dự kiến: "ten" không phải là số nguyên`},
		{`decision: "maybe" is not approve or reject`, `quyết định: "maybe" không phải là phê duyệt hay từ chối`},
	} {
		flash := tr(langVI, "Refused:") + " " + c.en // as the page's refusal makes it
		got := tr(langVI, flash)
		if !strings.HasPrefix(got, "Bị từ chối: ") || !strings.Contains(got, c.vi) {
			t.Errorf("%q\n  reads %q\n  want it to say %q", c.en, got, c.vi)
		}
		if !strings.HasSuffix(got, " ("+c.en+")") {
			t.Errorf("%q reads %q: want the English words after it, in brackets", c.en, got)
		}
		// Outside the brackets no English is left.
		head := strings.TrimSuffix(got, " ("+c.en+")")
		for _, w := range []string{"say why", "refused", "campaign ", "unknown", "review ", "is not", "already", "choose"} {
			if strings.Contains(head, w) {
				t.Errorf("%q reads %q: English %q left in the Vietnamese", c.en, head, w)
			}
		}
		if en := tr(langEN, "Refused: "+c.en); en != "Refused: "+c.en {
			t.Errorf("English page: %q, want it unchanged", en)
		}
	}
	// A text no rule knows is left as it is; labels still translate.
	if got := tr(langVI, "Bị từ chối: something new"); got != "Bị từ chối: something new" {
		t.Errorf("unknown refusal: %q", got)
	}
	if got := tr(langVI, "Enrolled"); got != "Đã tham gia" {
		t.Errorf("label: %q", got)
	}
}
