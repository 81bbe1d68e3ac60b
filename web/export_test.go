package web

// SessionCookie is the session cookie's name.
const SessionCookie = sessionCookie

// SessionHash is the hash the server keeps a session cookie's session under: how a test finds
// the row of a session to expire it without waiting twelve hours.
func SessionHash(cookie string) []byte {
	h, _ := sessionHash(cookie)
	return h
}
