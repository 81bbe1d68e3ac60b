package web

// The register of participants' labels (the campaign page's participants section).
var viRegister = map[string]string{
	"Participants (contributions current)": "Người tham gia (đang đóng)",
	"At the start":                         "Đầu kỳ",
	"Joined":                               "Tham gia mới",
	"Renewed":                              "Đóng tiếp",
	"Returned":                             "Quay lại",
	"Lapsed":                               "Ngừng đóng",
	"At the end":                           "Cuối kỳ",
	"Stock growth":                         "Tăng trưởng",
	"Payments whose amount the rules do not give": "Khoản đóng không đúng mức quy định",
}

func init() {
	for en, v := range viRegister {
		vi[en] = v
	}
}
