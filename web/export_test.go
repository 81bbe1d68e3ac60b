package web

import (
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// SessionCookie is the session cookie's name.
const SessionCookie = sessionCookie

// SessionHash is the hash the server keeps a session cookie's session under: how a test finds
// the row of a session to expire it without waiting twelve hours.
func SessionHash(cookie string) []byte {
	h, _ := sessionHash(cookie)
	return h
}

// FieldBatcher is the field's batcher, for a test of how it coalesces: touch arms a send
// after every, and touches meanwhile join it.
type FieldBatcher struct{ b *fieldBatcher }

// NewFieldBatcher makes a batcher that calls send.
func NewFieldBatcher(every time.Duration, send func(campaignID string)) FieldBatcher {
	return FieldBatcher{&fieldBatcher{every: every, send: send, armed: map[string]bool{}}}
}

// Touch says the campaign has new entries.
func (f FieldBatcher) Touch(campaignID string) { f.b.touch(campaignID) }

// SendDownload answers a request with what write writes, as a download route does once it
// has read its campaign: a server with the page's templates and no database.
func SendDownload(w http.ResponseWriter, r *http.Request, name string, log *slog.Logger, write func(io.Writer) error) {
	s := &Server{log: log, pages: map[string]*template.Template{}}
	if err := s.parseTemplates(); err != nil {
		panic(err)
	}
	s.sendDownload(w, r, name, csvType, func(d *downloadWriter) error { return write(d) })
}
