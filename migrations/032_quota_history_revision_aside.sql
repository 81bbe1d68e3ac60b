-- A revision's table of targets by day (migration 027) is now written on a connection of its
-- own, beside the apply's transaction, and committed unattached: its rows copied in, its
-- primary key built and its statistics taken there while the apply's transaction sets the
-- quotas, on the server's other core (store.ReviseQuotas). The apply's transaction then
-- attaches it, the primary key already built. Until then it is a table of no campaign's
-- targets: quota_history does not read it.
--
-- An apply whose transaction did not end (a worker killed, PostgreSQL stopped, a write refused
-- after the table was committed) leaves the table unattached; the revision's next apply makes
-- it again. A table attached is never dropped: its revision was applied.
create or replace function quota_history_revision_table(p_campaign text, p_revision int) returns text
    language plpgsql security definer
as $$
declare
    leaf text := quota_history_table_name(p_campaign, p_revision);
begin
    if p_revision <= 0 then
        raise exception 'quota_history_revision_table: revision %: not a plan revision', p_revision;
    end if;
    if exists (select from pg_class where oid = to_regclass(quote_ident(leaf)) and not relispartition) then
        execute format('drop table %I', leaf);
    end if;
    execute format('create table %I (like quota_history including defaults including constraints,
        check (campaign_id = %L and written_by = %s))', leaf, p_campaign, p_revision);
    execute format('grant select, insert, update, delete on %I to drives_app', leaf);
    return leaf;
end
$$;

-- The primary key of a revision's table not yet attached, built from its rows at once: the
-- attach takes it as the table's part of quota_history's primary key instead of building one.
create function quota_history_revision_key(p_campaign text, p_revision int) returns void
    language plpgsql security definer
as $$
declare
    leaf text := quota_history_table_name(p_campaign, p_revision);
begin
    if p_revision <= 0 or not exists (select from pg_class where oid = to_regclass(quote_ident(leaf)) and not relispartition) then
        raise exception 'quota_history_revision_key: revision % of campaign %: no table waiting to be attached', p_revision, p_campaign;
    end if;
    execute format('alter table %I add primary key (campaign_id, level, code, valid_from, written_by)', leaf);
end
$$;

do $$
declare
    fn text;
begin
    foreach fn in array array['quota_history_revision_table(text, int)', 'quota_history_revision_key(text, int)'] loop
        -- As migration 027's: pg_catalog first (implied), then the schema, and temporary tables
        -- last (a replaced function's settings are those of its new definition).
        execute format('alter function %s set search_path = %I, pg_temp', fn, current_schema());
        execute format('revoke all on function %s from public', fn);
        execute format('grant execute on function %s to drives_app', fn);
    end loop;
end
$$;
