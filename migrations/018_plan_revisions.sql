-- A running campaign's plan may be revised from a stated day (`starter plan revise`): each
-- revision is kept, numbered, with the plan it brings and what it changed; the plan in force
-- is the last revision applied (or the launched plan, campaigns.plan).
create table plan_revisions (
    campaign_id    text not null references campaigns (id),
    number         int not null check (number > 0),
    plan_hash      text not null,
    plan           jsonb not null,
    effective_from date not null,
    reason         text not null,
    revised_by     text not null,
    staged_at      timestamptz not null default now(),
    applied_at     timestamptz,
    -- the diff as applied (plan.Diff), for the page and the audit
    summary        jsonb,
    primary key (campaign_id, number)
);

-- The targets that changed, each from its day on (a revision's: revision > 0; a joining's or a
-- handover's: 0): a review judges every part of its window against the quota then in force. A
-- unit or agent without rows here kept the quota it was launched with (quotas.target); one with
-- rows has one dated the day before the period: the target it was allocated or assigned.
create table quota_history (
    campaign_id text not null references campaigns (id),
    level       text not null,
    code        text not null,
    valid_from  date not null,
    target      int not null check (target >= 0),
    revision    int not null,
    primary key (campaign_id, level, code, valid_from)
);

grant select, insert, update, delete on plan_revisions to drives_app;
grant select, insert, update, delete on quota_history to drives_app;
