-- A revision of the national plan keeps 466,972 targets by day at once (each changed target
-- from the revision's day, and the target it replaced, on its first change). Inserted row by
-- row into one table, each row checked its foreign key on its own (a query per row) and went
-- into the primary key: 4.4 s. The targets by day are now partitioned by campaign, then by the
-- apply that wrote them (written_by): a revision writes its rows into a table of their own,
-- which it then attaches (quota_history_attach), the primary key built from the rows at once
-- and the foreign key checked by one query. Rows written a few at a time (an agent's joining,
-- move or handover) go to the campaign's table of written_by 0.
--
-- The primary key must name written_by, the partitions' key: that a target has one row a day
-- (a later change from the same day replaces the one there) is kept by the writers, which
-- delete the row of that day before writing theirs (store.KeepQuotaHistory,
-- store.ReviseQuotas), under the campaign's merge lock. An attach locks campaigns against
-- writes until its transaction ends (for the foreign key's check): a revision takes that lock
-- first, so that revisions of two campaigns write one after the other instead of each waiting
-- for the other.

alter table quota_history rename to quota_history_unpartitioned;
alter index quota_history_pkey rename to quota_history_unpartitioned_pkey;

create table quota_history (like quota_history_unpartitioned including defaults including constraints)
    partition by list (campaign_id);
-- the plan revision whose apply wrote the row in a table of its own; 0 for the rows written a
-- few at a time
alter table quota_history add column written_by int not null default 0;
alter table quota_history
    add primary key (campaign_id, level, code, valid_from, written_by),
    add foreign key (campaign_id) references campaigns (id);
grant select, insert, update, delete on quota_history to drives_app;

-- The name of a campaign's partition of the targets by day, and of a table of rows within it.
create function quota_history_table_name(p_campaign text, p_written_by int default null) returns text
    language sql immutable
    return format('quota_history_%s', left(md5(p_campaign), 12)) || coalesce('_' || p_written_by, '');

-- A campaign's partition, made when missing, with its table of the rows written a few at a
-- time. Made and attached, not created as partitions, so that no reader of other campaigns'
-- targets waits (CREATE TABLE … PARTITION OF would lock quota_history).
create function quota_history_campaign(p_campaign text) returns void
    language plpgsql security definer
as $$
declare
    part text := quota_history_table_name(p_campaign);
    few text := quota_history_table_name(p_campaign, 0);
begin
    if to_regclass(quote_ident(part)) is not null then
        return;
    end if;
    execute format('create table %I (like quota_history including defaults including constraints) partition by list (written_by)', part);
    execute format('create table %I (like quota_history including defaults including constraints)', few);
    execute format('alter table %I attach partition %I for values in (0)', part, few);
    execute format('alter table quota_history attach partition %I for values in (%L)', part, p_campaign);
    execute format('grant select, insert, update, delete on %I, %I to drives_app', part, few);
end
$$;

-- The table a revision writes its targets by day into before attaching it: named for the
-- campaign and the revision, owned by the schema's owner, with the columns, defaults and
-- checks of quota_history, and one check more, that its rows are the revision's.
create function quota_history_revision_table(p_campaign text, p_revision int) returns text
    language plpgsql security definer
as $$
declare
    leaf text := quota_history_table_name(p_campaign, p_revision);
begin
    if p_revision <= 0 then
        raise exception 'quota_history_revision_table: revision %: not a plan revision', p_revision;
    end if;
    execute format('create table %I (like quota_history including defaults including constraints,
        check (campaign_id = %L and written_by = %s))', leaf, p_campaign, p_revision);
    execute format('grant select, insert, update, delete on %I to drives_app', leaf);
    return leaf;
end
$$;

-- Attaches a revision's table (quota_history_revision_table) to its campaign's partition, made
-- first if the campaign has none: its primary key is built and its foreign key checked.
create function quota_history_attach(p_campaign text, p_revision int) returns void
    language plpgsql security definer
as $$
begin
    perform quota_history_campaign(p_campaign);
    execute format('alter table %I attach partition %I for values in (%s)',
        quota_history_table_name(p_campaign), quota_history_table_name(p_campaign, p_revision), p_revision);
end
$$;

-- The planner's statistics of a revision's targets by day, refreshed once they are written:
-- the quotas take their targets from them, and the next review reads them.
create function analyze_quota_history(p_campaign text, p_revision int) returns void
    language plpgsql security definer
as $$
declare
    leaf text := quota_history_table_name(p_campaign, p_revision);
begin
    if p_revision > 0 and to_regclass(quote_ident(leaf)) is not null then
        execute format('analyze (skip_locked) %I', leaf);
    end if;
end
$$;

do $$
declare
    c text;
    fn text;
begin
    foreach fn in array array['quota_history_campaign(text)', 'quota_history_revision_table(text, int)',
            'quota_history_attach(text, int)', 'analyze_quota_history(text, int)'] loop
        -- pg_catalog first (implied), then the schema, where the tables are made, and
        -- temporary tables last.
        execute format('alter function %s set search_path = %I, pg_temp', fn, current_schema());
        execute format('revoke all on function %s from public', fn);
        execute format('grant execute on function %s to drives_app', fn);
    end loop;
    -- The targets kept so far, into their campaigns' tables of written_by 0.
    for c in select distinct campaign_id from quota_history_unpartitioned order by 1 loop
        perform quota_history_campaign(c);
    end loop;
    insert into quota_history select *, 0 from quota_history_unpartitioned;
end
$$;

drop table quota_history_unpartitioned;
