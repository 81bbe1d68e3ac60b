package web

import "time"

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
