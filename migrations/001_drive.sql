-- The system of record of enrolment drives. Times named *_at are campaign time unless the
-- column says recorded_at (real time); a compressed demo keeps the two apart.

create table campaigns (
    id                  text primary key,
    name                text not null,
    year                int not null,
    plan_hash           text not null,
    plan                jsonb not null,
    status              text not null default 'planned'
        check (status in ('planned', 'preparing', 'running', 'paused', 'closing', 'closed', 'cancelled')),
    target              int,
    prior_year_enrolled int not null,
    period_start        date not null,
    period_end          date not null,
    timezone            text not null,
    clock_scale         double precision not null,
    clock_epoch         timestamptz,
    clock_start         timestamptz,
    workflow_id         text not null,
    created_at          timestamptz not null default now(),
    launched_at         timestamptz,
    closed_at           timestamptz
);

create table units (
    campaign_id  text not null references campaigns (id),
    code         text not null,
    level        text not null check (level in ('district', 'commune', 'village')),
    parent_code  text,
    district_code text not null,
    name         text not null,
    kind         text not null,
    labour_force int not null check (labour_force >= 0),
    synthetic    boolean not null,
    primary key (campaign_id, code)
);
create index units_parent on units (campaign_id, parent_code);

create table target_groups (
    campaign_id text not null references campaigns (id),
    code        text not null,
    name        text not null,
    likelihood  double precision not null,
    primary key (campaign_id, code)
);

-- Every quota: the city, each unit, each agent or staff member. level 'agent' rows name agents.
create table quotas (
    campaign_id text not null references campaigns (id),
    level       text not null check (level in ('city', 'district', 'commune', 'village', 'agent')),
    code        text not null,
    target      int not null check (target >= 0),
    primary key (campaign_id, level, code)
);

create table agents (
    campaign_id   text not null references campaigns (id),
    code          text not null,
    commune_code  text not null,
    district_code text not null,
    kind          text not null check (kind in ('agent', 'staff')),
    post_office   boolean not null,
    full_name     text not null,
    phone         text not null,
    weight        double precision not null,
    status        text not null default 'active' check (status in ('active', 'terminated')),
    primary key (campaign_id, code),
    foreign key (campaign_id, commune_code) references units (campaign_id, code)
);
create index agents_commune on agents (campaign_id, commune_code);

create table events (
    campaign_id         text not null references campaigns (id),
    id                  text not null,
    parent_id           text,
    kind                text not null,
    title               text not null default '',
    district_code       text not null,
    commune_code        text,
    scheduled_at        timestamptz not null,
    groups              text[] not null,
    expected_attendance int not null default 0,
    source              text not null check (source in ('plan', 'update')),
    status              text not null default 'planned' check (status in ('planned', 'held', 'cancelled')),
    held_at             timestamptz,
    attendance          int,
    leads               int,
    results_batch       uuid,
    cancel_reason       text,
    primary key (campaign_id, id)
);
create index events_district on events (campaign_id, district_code, status);

-- An import file, staged row by row in import_rows, then merged by the campaign workflow.
create table import_batches (
    id           uuid primary key,
    campaign_id  text not null references campaigns (id),
    kind         text not null check (kind in ('enrolments', 'leads', 'outcomes')),
    event_id     text,
    file_name    text not null,
    file_sha256  text not null,
    rows         int not null,
    status       text not null default 'staged' check (status in ('staged', 'merged')),
    created_by   text not null,
    recorded_at  timestamptz not null default now(),
    merged_at    timestamptz,
    result       jsonb
);

-- Staged rows of every kind of import; each kind uses its own columns.
create table import_rows (
    batch_id       uuid not null references import_batches (id) on delete cascade,
    line           int not null,
    citizen_id     text not null,
    full_name      text,
    phone          text,
    commune_code   text,
    village_code   text,
    agent_code     text,
    target_group   text,
    monthly_income bigint,
    subsidy_class  text,
    payment_months int,
    enrolled_on    date,
    outcome        text,
    primary key (batch_id, line)
);

create table prospects (
    id            bigserial primary key,
    campaign_id   text not null references campaigns (id),
    citizen_id    text not null,
    full_name     text not null,
    phone         text not null,
    district_code text not null,
    commune_code  text not null,
    village_code  text,
    target_group  text not null,
    event_id      text,
    batch_id      uuid not null,
    created_at    timestamptz not null,
    unique (campaign_id, citizen_id)
);

create table follow_ups (
    id               bigserial primary key,
    campaign_id      text not null references campaigns (id),
    prospect_id      bigint not null unique references prospects (id),
    district_code    text not null,
    commune_code     text not null,
    agent_code       text not null,
    priority         double precision not null,
    status           text not null default 'open' check (status in ('open', 'enrolled', 'declined', 'unreachable')),
    opened_at        timestamptz not null,
    due_at           timestamptz not null,
    give_up_at       timestamptz not null,
    reminders_sent   int not null default 0,
    last_reminded_at timestamptz,
    escalated_at     timestamptz,
    escalated_to     text,
    closed_at        timestamptz,
    closed_by_batch  uuid
);
create index follow_ups_open on follow_ups (campaign_id, district_code) where status = 'open';
create index follow_ups_agent on follow_ups (campaign_id, agent_code, status);

create table enrolments (
    id                   bigserial primary key,
    campaign_id          text not null references campaigns (id),
    citizen_id           text not null,
    full_name            text not null,
    phone                text not null,
    district_code        text not null,
    commune_code         text not null,
    village_code         text,
    agent_code           text not null,
    target_group         text not null,
    monthly_income       bigint not null,
    monthly_contribution bigint not null,
    subsidy_class        text not null,
    monthly_subsidy      bigint not null,
    payment_months       int not null,
    enrolled_on          date not null,
    batch_id             uuid not null,
    prospect_id          bigint references prospects (id),
    unique (campaign_id, citizen_id)
);
create index enrolments_units on enrolments (campaign_id, commune_code);
create index enrolments_agent on enrolments (campaign_id, agent_code);

create table reports (
    campaign_id  text primary key references campaigns (id),
    status       text not null,
    recorded_at  timestamptz not null default now(),
    body         jsonb not null
);

-- Who did what, when, and through which workflow activity. An effect and its audit row are
-- written in one transaction; an activity's row is written once (the unique index), and a
-- retried attempt returns the result stored here instead of doing the work again.
create table audit_log (
    id          bigserial primary key,
    campaign_id text not null,
    recorded_at timestamptz not null default now(),
    actor       text not null,
    action      text not null,
    entity      text not null,
    entity_key  text not null,
    workflow_id text,
    run_id      text,
    activity_id text,
    attempt     int,
    detail      jsonb not null default '{}',
    result      jsonb
);
create unique index audit_log_activity_once on audit_log (workflow_id, run_id, activity_id)
    where activity_id is not null;
create index audit_log_campaign on audit_log (campaign_id, id);
