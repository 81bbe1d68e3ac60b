-- A payment recorded extends its person's cover, whatever writes it (migration 015 did this in
-- the payments import's merge only): a statement's new receipts are applied to the register by
-- a trigger, as a statement's enrolments join it (register_enrolments). Each person's new
-- payments of the statement count as one renewal (paid while current, or on a day before a
-- recorded lapse, which is then undone: it was no lapse) or one return (paid after the lapse:
-- a new cover from the day), dated on the first; their open renewal follow-ups the new cover
-- passes close as renewed, by the statement's batch. A receipt recorded before (a conflict the
-- insert skips) is not in the statement's rows and changes nothing.
--
-- A statement's payments are one batch of one campaign, as every writer writes them. What the
-- statement applied (renewed, returned, follow-ups closed) is left in the transaction's setting
-- drives.payments_applied for the writer that reports it (store.MergePayments). Run through
-- EXECUTE, so that it is planned for each statement's rows (migration 022).
create function apply_payments() returns trigger
language plpgsql as $$
declare
    applied text;
begin
    -- The renewals the payments may close, locked in id order first, as every writer of
    -- follow-ups locks them (a district's sweep among them), so that they queue, not deadlock.
    execute $q$
    with people as materialized (select distinct campaign_id, citizen_id from new_payments)
    select f.id from people r
    join follow_ups f on f.campaign_id = r.campaign_id and f.kind = 'renewal' and f.citizen_id = r.citizen_id
    where f.status in ('open', 'lapsed')
    order by f.id for update of f$q$;

    -- Each person's new payments against their state before them; the update returns what the
    -- changes and the follow-ups need, so that no step joins two of these sets without an index.
    execute $q$
    with paid as (
        select register_id, citizen_id, campaign_id, batch_id, min(paid_on) as first_on, sum(months)::int as months
        from new_payments
        group by register_id, citizen_id, campaign_id, batch_id),
    before as materialized (
        select p.register_id, p.citizen_id, paid.campaign_id, paid.batch_id, p.status, p.lapsed_on, paid.first_on, paid.months,
            p.status = 'lapsed' and paid.first_on >= p.lapsed_on as returning_
        from paid join participants p on p.register_id = paid.register_id and p.citizen_id = paid.citizen_id),
    unlapsed as (
        delete from participant_changes x using before b
        where x.register_id = b.register_id and x.citizen_id = b.citizen_id and x.kind = 'lapsed'
          and x.on_date = b.lapsed_on and b.status = 'lapsed' and not b.returning_),
    upd as materialized (
        update participants p set
            cover_anchor = case when b.returning_ then b.first_on else p.cover_anchor end,
            months_paid = case when b.returning_ then b.months else p.months_paid + b.months end,
            status = 'active', lapsed_on = null, campaign_id = b.campaign_id
        from before b
        where p.register_id = b.register_id and p.citizen_id = b.citizen_id
        returning p.register_id, p.citizen_id, p.paid_until, p.district_code, p.commune_code, p.target_group, p.agent_code,
            b.returning_, b.first_on, b.campaign_id, b.batch_id),
    logged as (
        insert into participant_changes (register_id, citizen_id, kind, on_date, campaign_id, district_code,
            commune_code, target_group, agent_code)
        select u.register_id, u.citizen_id, case when u.returning_ then 'returned' else 'renewed' end, u.first_on, u.campaign_id,
            u.district_code, u.commune_code, u.target_group, u.agent_code
        from upd u
        order by u.register_id, u.citizen_id
        returning kind),
    closed as (
        update follow_ups f set status = 'renewed', closed_at = greatest(u.first_on::timestamp at time zone c.timezone, f.opened_at),
            closed_by_batch = u.batch_id
        from upd u join campaigns c on c.id = u.campaign_id
        where f.campaign_id = u.campaign_id and f.kind = 'renewal' and f.citizen_id = u.citizen_id
          and f.renewal_due < u.paid_until
          -- a follow-up closed as lapsed reopens as renewed only when the lapse is undone
          and (f.status = 'open' or (f.status = 'lapsed' and not u.returning_))
        returning 1)
    select format('%s %s %s', (select count(*) from logged where kind = 'renewed'), (select count(*) from logged where kind = 'returned'),
        (select count(*) from closed))$q$
    into applied;
    perform set_config('drives.payments_applied', applied, true);
    return null;
end
$$;

create trigger payments_applied after insert on payments
    referencing new table as new_payments for each statement execute function apply_payments();
