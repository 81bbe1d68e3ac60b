-- What a revision shares among a commune's agents and staff (revision.Prepared) follows from the
-- commune's target and its roster as it stands: who is in it, whether active, their weights and
-- their quotas. `plan revise` stages the agents' targets with the others now (the national
-- plan's 163,994 changed ones among them), with the number of changes the campaign's roster had
-- had when it shared them. While that number is the same when the revision is applied, the
-- apply takes them as staged, instead of reading the roster again (0.3-0.4 s for the national
-- one); once anything changed it (an agent joined, left, moved, was terminated, or had a quota
-- changed), the apply shares the targets among the roster as it is then.
--
-- The number is kept by triggers, whichever statement writes agents or agents' quotas: counted
-- in the writer's own transaction, so that a reader sees the count and the roster of the same
-- moment, and a count read before the roster is never ahead of it.
-- A campaign without a row has had none since this migration.
create table roster_changes (
    campaign_id text primary key references campaigns (id),
    changes     bigint not null
);
grant select on roster_changes to drives_app;

alter table plan_revisions add column prepared_roster bigint;

create function count_roster_changes() returns trigger
    language plpgsql security definer
as $$
begin
    if tg_table_name = 'quotas' then
        insert into roster_changes as r (campaign_id, changes)
        select distinct campaign_id, 1 from changed_rows where level = 'agent'
        on conflict (campaign_id) do update set changes = r.changes + 1;
    else
        insert into roster_changes as r (campaign_id, changes)
        select distinct campaign_id, 1 from changed_rows
        on conflict (campaign_id) do update set changes = r.changes + 1;
    end if;
    return null;
end
$$;

create trigger agents_inserted_count after insert on agents
    referencing new table as changed_rows for each statement execute function count_roster_changes();
create trigger agents_updated_count after update on agents
    referencing new table as changed_rows for each statement execute function count_roster_changes();
create trigger agents_deleted_count after delete on agents
    referencing old table as changed_rows for each statement execute function count_roster_changes();
create trigger quotas_inserted_count after insert on quotas
    referencing new table as changed_rows for each statement execute function count_roster_changes();
create trigger quotas_updated_count after update on quotas
    referencing new table as changed_rows for each statement execute function count_roster_changes();
create trigger quotas_deleted_count after delete on quotas
    referencing old table as changed_rows for each statement execute function count_roster_changes();

do $$
begin
    -- As migration 027's functions: pg_catalog first (implied), then the schema, and
    -- temporary tables last.
    execute format('alter function count_roster_changes() set search_path = %I, pg_temp', current_schema());
    revoke all on function count_roster_changes() from public;
end
$$;
