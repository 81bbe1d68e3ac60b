-- Agents and staff may join a running campaign (`starter agents join`): each joiner's row says
-- the campaign day they joined (null for the launched roster, who were there from the period's
-- first day), and a review judges them only on the days they were active in its window.
alter table agents add column joined_on date;

-- A joining file is checked whole, then staged as an import batch of kind 'agents' (so the
-- retention of staged imports deletes it, with its lines, if it is never applied) with its
-- lines in staged_agents, until the campaign's agents-join Update applies it and deletes them.
alter table import_batches drop constraint import_batches_kind_check,
    add constraint import_batches_kind_check check (kind in ('enrolments', 'leads', 'outcomes', 'participants', 'payments', 'agents'));

create table staged_agents (
    batch_id     uuid not null references import_batches (id) on delete cascade,
    line         int not null,
    code         text not null,
    commune_code text not null,
    kind         text not null check (kind in ('agent', 'staff')),
    post_office  boolean not null,
    full_name    text not null,
    phone        text not null,
    weight       double precision not null check (weight > 0),
    primary key (batch_id, line)
);

grant select, insert, update, delete on staged_agents to drives_app;
