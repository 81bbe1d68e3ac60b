-- Sessions of the web page, kept by the server so that they outlive a restart of the web
-- process, are shared by every web process on the database, end on sign-out, and can all be
-- ended for a user at once (starter serve end-sessions). A session is known by the SHA-256 of
-- its cookie's random value: the value itself is never stored, so reading this table signs
-- nobody in. Each session has its own CSRF token.
create table web_sessions (
    id_hash    bytea primary key,
    user_name  text not null,
    csrf       text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    ended_at   timestamptz,
    check (expires_at > created_at)
);

create index web_sessions_open on web_sessions (user_name) where ended_at is null;

grant select, insert, update, delete on web_sessions to drives_app;
