-- A campaign's enrolments counted by unit, by target group and by day, kept exact as
-- enrolments are written, so that the report, the campaign's page and the list of campaigns
-- read a few thousand counts, not a million enrolments, after every import.
--
-- The counts follow every insert (a merge's INSERT … SELECT, a COPY), delete and update of
-- enrolments: statement-level triggers read the statement's rows from its transition tables
-- and add them in one grouped pass, so a merge of 1,000,000 enrolments adds one grouped
-- insert, not a trigger per row. A count that comes back to 0 stays, as 0.

-- By unit: the district, commune and village ('' when none) an enrolment names.
create table enrolment_unit_counts (
    campaign_id   text not null references campaigns (id),
    district_code text not null,
    commune_code  text not null,
    village_code  text not null,
    n             bigint not null,
    primary key (campaign_id, district_code, commune_code, village_code)
);

-- By target group.
create table enrolment_group_counts (
    campaign_id  text not null references campaigns (id),
    target_group text not null,
    n            bigint not null,
    primary key (campaign_id, target_group)
);

-- By day enrolled (campaign time).
create table enrolment_day_counts (
    campaign_id text not null references campaigns (id),
    enrolled_on date not null,
    n           bigint not null,
    primary key (campaign_id, enrolled_on)
);

-- Adds a statement's enrolments to the counts (a delete's with -1, an update's old rows with -1
-- and new rows with +1): one grouped pass over the statement's rows, then each count written in
-- its key's order (so two writers lock them in one order). The query of the rows is run by
-- EXECUTE in this function, which sees the statement's transition tables.
create function count_enrolments() returns trigger
language plpgsql as $$
declare
    delta text;
begin
    if tg_op = 'INSERT' then
        delta := $d$
            select campaign_id, district_code, commune_code, coalesce(village_code, '') as village_code,
                target_group, enrolled_on, 1 as s from new_enrolments$d$;
    elsif tg_op = 'DELETE' then
        delta := $d$
            select campaign_id, district_code, commune_code, coalesce(village_code, '') as village_code,
                target_group, enrolled_on, -1 as s from old_enrolments$d$;
    else
        -- Only the rows whose counted columns changed (linking a lead changes none of them).
        delta := $d$
            select x.* from old_enrolments o join new_enrolments n on n.id = o.id
            cross join lateral (values
                (o.campaign_id, o.district_code, o.commune_code, coalesce(o.village_code, ''), o.target_group, o.enrolled_on, -1),
                (n.campaign_id, n.district_code, n.commune_code, coalesce(n.village_code, ''), n.target_group, n.enrolled_on, 1))
                x (campaign_id, district_code, commune_code, village_code, target_group, enrolled_on, s)
            where (o.campaign_id, o.district_code, o.commune_code, o.village_code, o.target_group, o.enrolled_on)
                is distinct from (n.campaign_id, n.district_code, n.commune_code, n.village_code, n.target_group, n.enrolled_on)$d$;
    end if;
    execute format($q$
        with g as materialized (
            select campaign_id, district_code, commune_code, village_code, target_group, enrolled_on, sum(s) as n
            from (%s) d
            group by grouping sets ((campaign_id, district_code, commune_code, village_code),
                                    (campaign_id, target_group), (campaign_id, enrolled_on))
            having sum(s) <> 0),
        u as (
            insert into enrolment_unit_counts as c (campaign_id, district_code, commune_code, village_code, n)
            select campaign_id, district_code, commune_code, village_code, n from g where commune_code is not null
            order by 1, 2, 3, 4
            on conflict (campaign_id, district_code, commune_code, village_code) do update set n = c.n + excluded.n),
        t as (
            insert into enrolment_group_counts as c (campaign_id, target_group, n)
            select campaign_id, target_group, n from g where target_group is not null
            order by 1, 2
            on conflict (campaign_id, target_group) do update set n = c.n + excluded.n)
        insert into enrolment_day_counts as c (campaign_id, enrolled_on, n)
        select campaign_id, enrolled_on, n from g where enrolled_on is not null
        order by 1, 2
        on conflict (campaign_id, enrolled_on) do update set n = c.n + excluded.n$q$, delta);
    return null;
end
$$;

create trigger enrolments_counted_insert after insert on enrolments
    referencing new table as new_enrolments for each statement execute function count_enrolments();
create trigger enrolments_counted_delete after delete on enrolments
    referencing old table as old_enrolments for each statement execute function count_enrolments();
create trigger enrolments_counted_update after update on enrolments
    referencing old table as old_enrolments new table as new_enrolments for each statement execute function count_enrolments();

-- The enrolments written before this migration.
insert into enrolment_unit_counts (campaign_id, district_code, commune_code, village_code, n)
select campaign_id, district_code, commune_code, coalesce(village_code, ''), count(*) from enrolments group by 1, 2, 3, 4;
insert into enrolment_group_counts (campaign_id, target_group, n)
select campaign_id, target_group, count(*) from enrolments group by 1, 2;
insert into enrolment_day_counts (campaign_id, enrolled_on, n)
select campaign_id, enrolled_on, count(*) from enrolments group by 1, 2;

grant select, insert, update, delete on enrolment_unit_counts, enrolment_group_counts, enrolment_day_counts to drives_app;
