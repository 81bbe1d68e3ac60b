-- A review writes a period's decisions for every agent at once (210,599 rows for the national
-- plan). Written row by row into a table of every period before it, each row checked its two
-- foreign keys on its own (a query per row and key) and went into four indexes: 4 s of the
-- review's writes in a database of a few years. The decisions are now partitioned by campaign,
-- then by period: a review writes its period's rows into a table of their own, which it then
-- attaches (review_decisions_attach) — the indexes built at once from the rows, the foreign
-- keys checked by one query each, as ALTER TABLE … ATTACH PARTITION does: 1.5 s. Every
-- constraint holds as before; the reads, which all name the campaign, read its partition only.

-- The rationale functions take a decision row: their definitions are kept, to be made again
-- for the new table's row type.
create temporary table rationale_functions on commit drop as
    select pg_get_functiondef(p.oid) as def, p.proname
    from pg_proc p
    where p.pronamespace = current_schema()::regnamespace and p.proname in ('review_rationale', 'review_rationale_vi');

alter table review_decisions rename to review_decisions_unpartitioned;
alter index review_decisions_pkey rename to review_decisions_unpartitioned_pkey;
alter index review_decisions_agent rename to review_decisions_unpartitioned_agent;
alter index review_decisions_period_commune rename to review_decisions_unpartitioned_period_commune;
alter index review_decisions_waiting rename to review_decisions_unpartitioned_waiting;

create table review_decisions (like review_decisions_unpartitioned including defaults including constraints)
    partition by list (campaign_id);
alter table review_decisions
    add primary key (campaign_id, period, agent_code),
    add foreign key (campaign_id, period) references reviews (campaign_id, period),
    add foreign key (campaign_id, agent_code) references agents (campaign_id, code);
create index review_decisions_agent on review_decisions (campaign_id, agent_code, window_end);
create index review_decisions_period_commune on review_decisions (campaign_id, period, commune_code) include (status, decision);
create index review_decisions_waiting on review_decisions (campaign_id, status, window_end, agent_code)
    where status in ('pending', 'escalated');
grant select, insert, update, delete on review_decisions to drives_app;

-- The name of a campaign's partition of the decisions, and of a period's table within it.
create function review_decisions_table_name(p_campaign text, p_period text default null) returns text
    language sql immutable
    return format('review_decisions_%s', left(md5(p_campaign), 12)) || coalesce('_' || left(md5(p_period), 8), '');

-- The table a review writes its period's decisions into before attaching it: named for the
-- campaign and the period, owned by the schema's owner, with the decisions' columns, defaults
-- and checks, and one check more, that its rows are the period's (so the attach need not read
-- them again). NULL when the period's table exists already (a period reviewed before: its
-- decisions are written through review_decisions).
create function review_decisions_period_table(p_campaign text, p_period text) returns text
    language plpgsql security definer
as $$
declare
    leaf text := review_decisions_table_name(p_campaign, p_period);
begin
    if to_regclass(quote_ident(leaf)) is not null then
        return null;
    end if;
    execute format('create table %I (like review_decisions including defaults including constraints,
        check (campaign_id = %L and period = %L))', leaf, p_campaign, p_period);
    execute format('grant select, insert, update, delete on %I to drives_app', leaf);
    return leaf;
end
$$;

-- Attaches a period's table (review_decisions_period_table) to its campaign's partition,
-- made first if the campaign has none: its indexes are built and its foreign keys checked.
-- The partitions are attached, not created as partitions, so that no reader of other
-- campaigns' decisions waits (CREATE TABLE … PARTITION OF would lock review_decisions).
create function review_decisions_attach(p_campaign text, p_period text) returns void
    language plpgsql security definer
as $$
declare
    part text := review_decisions_table_name(p_campaign);
    leaf text := review_decisions_table_name(p_campaign, p_period);
begin
    if to_regclass(quote_ident(part)) is null then
        execute format('create table %I (like review_decisions including defaults including constraints) partition by list (period)', part);
        execute format('grant select, insert, update, delete on %I to drives_app', part);
        execute format('alter table review_decisions attach partition %I for values in (%L)', part, p_campaign);
    end if;
    execute format('alter table %I attach partition %I for values in (%L)', part, leaf, p_period);
end
$$;

-- The planner's statistics of a period's decisions, refreshed by the review that wrote them
-- (as analyze_review_decisions() did for the whole table, migration 011), the agent's code
-- among them: a list reads a page's keys, then their rows by key, and a planner that did not
-- know the code unique took a thousand rows a key and read the whole period to join them.
create function analyze_review_decisions(p_campaign text, p_period text) returns void
    language plpgsql security definer
as $$
declare
    leaf text := review_decisions_table_name(p_campaign, p_period);
begin
    if to_regclass(quote_ident(leaf)) is not null then
        execute format('analyze (skip_locked) %I (campaign_id, period, agent_code, kind, commune_code, window_end, status, decision)', leaf);
    end if;
end
$$;

do $$
declare
    r record;
    fn text;
    leaf text;
begin
    foreach fn in array array['review_decisions_period_table(text, text)', 'review_decisions_attach(text, text)',
            'analyze_review_decisions(text, text)'] loop
        -- pg_catalog first (implied), then the schema, where the tables are made, and
        -- temporary tables last.
        execute format('alter function %s set search_path = %I, pg_temp', fn, current_schema());
        execute format('revoke all on function %s from public', fn);
        execute format('grant execute on function %s to drives_app', fn);
    end loop;
    -- The decisions recorded so far, into their periods' tables.
    for r in select distinct campaign_id, period from review_decisions_unpartitioned order by 1, 2 loop
        leaf := review_decisions_period_table(r.campaign_id, r.period);
        execute format('insert into %I select * from review_decisions_unpartitioned where campaign_id = %L and period = %L',
            leaf, r.campaign_id, r.period);
        perform review_decisions_attach(r.campaign_id, r.period);
    end loop;
    -- The rationale functions, for the new row type.
    drop function review_rationale(review_decisions_unpartitioned), review_rationale_vi(review_decisions_unpartitioned);
    for r in select def from rationale_functions loop
        execute r.def;
    end loop;
end
$$;

grant execute on function review_rationale_vi(review_decisions) to drives_app;
drop function analyze_review_decisions();
drop table review_decisions_unpartitioned;
