-- A payment recorded extends its person's cover, whatever writes it (migration 015 did this in
-- the payments import's merge only): a statement's new receipts are applied to the register by
-- a trigger, as a statement's enrolments join it (register_enrolments). Each person's new
-- payments of the statement count as one renewal (paid while current, or on a day before a
-- recorded lapse, which is then undone: it was no lapse) or one return (paid after the lapse:
-- a new cover from the day), dated on the first; their open renewal follow-ups the new cover
-- passes close as renewed, by the statement's batch. A receipt recorded before (a conflict the
-- insert skips) is not in the statement's rows and changes nothing.
--
-- What the statement applied (renewed, returned, follow-ups closed) is left in the transaction's
-- setting drives.payments_applied for the writer that reports it (store.MergePayments). Its
-- statements run through EXECUTE, so that they are planned for each statement's rows
-- (migration 022).
create function apply_payments() returns trigger
language plpgsql as $$
declare
    staged record;
    renewed bigint := 0;
    returned bigint := 0;
    closed bigint := 0;
    r bigint;
    t bigint;
    c bigint;
begin
    -- Each batch of the statement (one, as every writer writes them) on its own, its campaign,
    -- batch and register given to the statements as values (and, when it is the only one, its
    -- rows read unfiltered, so that their number is known to the planner). Each person's
    -- renewals are looked up by their key (campaign, person), in a lateral subquery the
    -- planner keeps as it is: planned on statistics that did not know a new campaign's
    -- renewals (one row expected), a join scanned all of them for each person paying, 131 s
    -- for the 11,000 payments of a Hà Nội field's import while its district sweeps queued.
    for staged in select campaign_id, batch_id, register_id, count(*) over () as batches
                  from (select distinct campaign_id, batch_id, register_id from new_payments) x loop
        -- The renewals the payments may close, locked in id order first, as every writer of
        -- follow-ups locks them (a district's sweep among them), so that they queue, not deadlock.
        execute $q$
        with people as materialized (
            select distinct citizen_id from new_payments where $4 or (campaign_id = $1 and batch_id = $2 and register_id = $3))
        select f.id from follow_ups f
        where f.id in (select l.id from people r cross join lateral (
            select g.id from follow_ups g
            where g.campaign_id = $1 and g.kind = 'renewal' and g.citizen_id = r.citizen_id and g.status in ('open', 'lapsed')
            offset 0) l)
        order by f.id for update of f$q$
        using staged.campaign_id, staged.batch_id, staged.register_id, staged.batches = 1;

        -- Each person's new payments against their state before them; the update returns what
        -- the changes and the follow-ups need, so that no step joins two of these sets without
        -- an index.
        execute $q$
        with paid as (
            select citizen_id, min(paid_on) as first_on, sum(months)::int as months
            from new_payments where $4 or (campaign_id = $1 and batch_id = $2 and register_id = $3)
            group by citizen_id),
        before as materialized (
            select p.citizen_id, p.status, p.lapsed_on, paid.first_on, paid.months,
                p.status = 'lapsed' and paid.first_on >= p.lapsed_on as returning_
            from participants p join paid on paid.citizen_id = p.citizen_id
            where p.register_id = $3),
        unlapsed as (
            -- paid before the lapse was due: it was no lapse
            delete from participant_changes x using before b
            where x.register_id = $3 and x.citizen_id = b.citizen_id and x.kind = 'lapsed'
              and x.on_date = b.lapsed_on and b.status = 'lapsed' and not b.returning_),
        upd as materialized (
            update participants p set
                cover_anchor = case when b.returning_ then b.first_on else p.cover_anchor end,
                months_paid = case when b.returning_ then b.months else p.months_paid + b.months end,
                status = 'active', lapsed_on = null, campaign_id = $1
            from before b
            where p.register_id = $3 and p.citizen_id = b.citizen_id
            returning p.citizen_id, p.paid_until, p.district_code, p.commune_code, p.target_group, p.agent_code,
                b.returning_, b.first_on),
        logged as (
            insert into participant_changes (register_id, citizen_id, kind, on_date, campaign_id, district_code,
                commune_code, target_group, agent_code)
            select $3, u.citizen_id, case when u.returning_ then 'returned' else 'renewed' end, u.first_on, $1,
                u.district_code, u.commune_code, u.target_group, u.agent_code
            from upd u
            order by u.citizen_id
            returning kind),
        closed as (
            update follow_ups f set status = 'renewed',
                closed_at = greatest(m.first_on::timestamp at time zone (select timezone from campaigns where id = $1), f.opened_at),
                closed_by_batch = $2
            from (select l.id, u.first_on from upd u cross join lateral (
                    select g.id from follow_ups g
                    where g.campaign_id = $1 and g.kind = 'renewal' and g.citizen_id = u.citizen_id
                      and g.renewal_due < u.paid_until
                      -- a follow-up closed as lapsed reopens as renewed only when the lapse is undone
                      and (g.status = 'open' or (g.status = 'lapsed' and not u.returning_))
                    offset 0) l) m
            where f.id = m.id
            returning 1)
        select (select count(*) from logged where kind = 'renewed'), (select count(*) from logged where kind = 'returned'),
            (select count(*) from closed)$q$
        into r, t, c
        using staged.campaign_id, staged.batch_id, staged.register_id, staged.batches = 1;
        renewed := renewed + r;
        returned := returned + t;
        closed := closed + c;
    end loop;
    perform set_config('drives.payments_applied', format('%s %s %s', renewed, returned, closed), true);
    return null;
end
$$;

create trigger payments_applied after insert on payments
    referencing new table as new_payments for each statement execute function apply_payments();
