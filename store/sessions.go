package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// WebSession is a signed-in session of the web page (table web_sessions).
type WebSession struct {
	User string
	CSRF string
}

// sessionsKept is how long the rows of ended and expired sessions stay, for whoever looks
// into who was signed in when; CreateWebSession deletes older ones.
const sessionsKept = 30 * 24 * time.Hour

// CreateWebSession records a session, known by the hash of its cookie, that lasts ttl from
// the database's clock, and deletes the sessions that ended or expired long ago.
func CreateWebSession(ctx context.Context, db DB, idHash []byte, user, csrf string, ttl time.Duration) error {
	if _, err := db.Exec(ctx, `delete from web_sessions where coalesce(ended_at, expires_at) < now() - make_interval(secs => $1)`,
		sessionsKept.Seconds()); err != nil {
		return fmt.Errorf("delete old sessions: %w", err)
	}
	if _, err := db.Exec(ctx, `insert into web_sessions (id_hash, user_name, csrf, expires_at)
		values ($1, $2, $3, now() + make_interval(secs => $4))`, idHash, user, csrf, ttl.Seconds()); err != nil {
		return fmt.Errorf("record session: %w", err)
	}
	return nil
}

// OpenWebSession reads a session that has neither ended nor expired; ErrNotFound otherwise.
func OpenWebSession(ctx context.Context, db DB, idHash []byte) (WebSession, error) {
	var s WebSession
	err := db.QueryRow(ctx, `select user_name, csrf from web_sessions
		where id_hash = $1 and ended_at is null and expires_at > now()`, idHash).Scan(&s.User, &s.CSRF)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fmt.Errorf("session: %w", ErrNotFound)
	}
	if err != nil {
		return s, fmt.Errorf("read session: %w", err)
	}
	return s, nil
}

// EndWebSession ends one session (a sign-out).
func EndWebSession(ctx context.Context, db DB, idHash []byte) error {
	if _, err := db.Exec(ctx, `update web_sessions set ended_at = now() where id_hash = $1 and ended_at is null`, idHash); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// EndUserWebSessions ends every open session of a user and says how many it ended.
func EndUserWebSessions(ctx context.Context, db DB, user string) (int, error) {
	tag, err := db.Exec(ctx, `update web_sessions set ended_at = now()
		where user_name = $1 and ended_at is null and expires_at > now()`, user)
	if err != nil {
		return 0, fmt.Errorf("end sessions of %s: %w", user, err)
	}
	return int(tag.RowsAffected()), nil
}
