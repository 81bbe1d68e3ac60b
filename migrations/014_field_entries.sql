-- What collection agents record on their phones (the field page, /m): an outcome of a
-- follow-up, an enrolment (of a lead or of a person met in the field) or a new lead. Each
-- entry is known by the ID the phone made for it, so that a resend finds it: the first receipt
-- records the entry (its effect, an enrolment, a prospect or a closed follow-up, is written in
-- the same transaction, with the send's audit row) or its refusal, and every later one answers
-- the same. digest is the SHA-256 of what the entry said: the same ID with other contents is
-- refused. The entry keeps no personal data (the person is in enrolments or prospects).
--
-- The campaign workflow learns of recorded enrolments in batches (the Update record-field,
-- sent at most every few seconds while phones send): folded_at is set when the workflow has
-- counted an enrolment into its progress.
create table field_entries (
    id            uuid primary key,
    campaign_id   text not null references campaigns (id),
    agent_code    text not null,
    kind          text not null check (kind in ('outcome', 'enrolment', 'lead')),
    digest        bytea not null,
    follow_up_id  bigint,
    status        text not null check (status in ('recorded', 'refused')),
    field         text,
    error         text,
    reason        text check (char_length(reason) <= 200), -- why unreachable or declined, in the agent's words
    district_code text,
    enrolled      boolean not null default false,
    by_account    text not null,
    received_at   timestamptz not null default now(),
    folded_at     timestamptz,
    check (status = 'refused' or error is null),
    check (not enrolled or district_code is not null)
);

create index field_entries_unfolded on field_entries (campaign_id) where enrolled and folded_at is null;
create index field_entries_agent on field_entries (campaign_id, agent_code, received_at);

grant select, insert, update, delete on field_entries to drives_app;
