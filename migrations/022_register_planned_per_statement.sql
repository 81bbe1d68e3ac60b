-- A statement's enrolments join the register (migration 015) by a trigger whose statement was
-- static SQL, which PL/pgSQL plans once per connection and keeps: planned for the first
-- statement's transition table (a phone's one enrolment), the plan joined a later import's
-- million rows to themselves by nested loop (20,000 rows: 31 s after one row on the same
-- connection, 1.4 s on a fresh one). Run through EXECUTE, it is planned for each statement's
-- rows, as count_enrolments (migration 010) already is. The statement is unchanged.
create or replace function register_enrolments() returns trigger
language plpgsql as $$
begin
    execute $q$
    with n as materialized (
        select c.register_id, e.*, p.status as was
        from new_enrolments e
        join campaigns c on c.id = e.campaign_id
        left join participants p on p.register_id = c.register_id and p.citizen_id = e.citizen_id),
    up as (
        insert into participants as p (register_id, citizen_id, full_name, phone, district_code, commune_code,
            village_code, target_group, agent_code, monthly_income, subsidy_class, joined_on, cover_anchor,
            months_paid, campaign_id)
        select register_id, citizen_id, full_name, phone, district_code, commune_code, village_code,
            target_group, agent_code, monthly_income, subsidy_class, enrolled_on, enrolled_on, payment_months, campaign_id
        from n
        order by register_id, citizen_id
        on conflict (register_id, citizen_id) do update set
            cover_anchor = case when p.status = 'lapsed' then excluded.cover_anchor else p.cover_anchor end,
            months_paid = case when p.status = 'lapsed' then excluded.months_paid else p.months_paid + excluded.months_paid end,
            status = 'active', lapsed_on = null,
            full_name = excluded.full_name, phone = excluded.phone, monthly_income = excluded.monthly_income,
            subsidy_class = excluded.subsidy_class, campaign_id = excluded.campaign_id
        returning p.register_id, p.citizen_id)
    insert into participant_changes (register_id, citizen_id, kind, on_date, campaign_id, district_code,
        commune_code, target_group, agent_code)
    select n.register_id, n.citizen_id,
        case n.was when 'active' then 'renewed' when 'lapsed' then 'returned' else 'joined' end,
        n.enrolled_on, n.campaign_id, n.district_code, n.commune_code, n.target_group, n.agent_code
    from n join up on up.register_id = n.register_id and up.citizen_id = n.citizen_id$q$;
    return null;
end
$$;
