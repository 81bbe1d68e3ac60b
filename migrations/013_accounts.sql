-- Accounts of the people who work the drive, and the part of it each may see and act on.
--
-- An account has one role: admin (accounts), coordinator (the city's drive: every unit, acts),
-- district (a district officer: one or more districts), commune (commune staff: one or more
-- communes), agent (a collection agent: their own work, known by their roster code) or auditor
-- (reads, every unit or only some). campaign_id binds it to one campaign; null: every campaign.
-- The units of a district officer, commune staff or limited auditor are in account_units.
--
-- A password is kept as its bcrypt hash, a bearer token as its SHA-256; neither in the clear.
-- must_change marks a one-time password, printed once by `starter users add|import|
-- reset-password`: it signs in only to choose a new one. A disabled account signs nobody in.
-- Every change of an account writes an audit row in its transaction (campaign_id '' is the
-- accounts' own chain: no campaign's ID is empty).
create table accounts (
    name          text primary key check (name ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    role          text not null check (role in ('admin', 'coordinator', 'district', 'commune', 'agent', 'auditor')),
    campaign_id   text references campaigns (id),
    agent_code    text,
    password_hash text,
    token_sha256  text check (token_sha256 ~ '^[0-9a-f]{64}$'),
    must_change   boolean not null default false,
    disabled_at   timestamptz,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    check ((role = 'agent') = (agent_code is not null)),
    check (password_hash is not null or token_sha256 is not null)
);

create unique index accounts_token on accounts (token_sha256) where token_sha256 is not null;

create table account_units (
    account text not null references accounts (name) on delete cascade,
    level   text not null check (level in ('district', 'commune')),
    code    text not null,
    primary key (account, level, code)
);

grant select, insert, update on accounts to drives_app;
grant select, insert, update, delete on account_units to drives_app;
