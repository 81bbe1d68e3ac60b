package web

import "time"

// SignedSession is a session cookie's value for user, expiring at expires, signed with key as
// a server whose Config.SessionKey is key signs it: how a test makes a cookie that has already
// expired without waiting twelve hours. (With sessions kept on the server, this becomes a
// session row with that expiry.)
func SignedSession(key []byte, user string, expires time.Time) string {
	s := newSession(user)
	s.Expires = expires.Unix()
	return newSigner(key).encode(s)
}

// SessionCookie is the session cookie's name.
const SessionCookie = sessionCookie
