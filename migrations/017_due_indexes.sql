-- What falls due next, found by index instead of by reading every open follow-up and every
-- active participant (a national register's weekly sweep read 220,000 open renewals and a
-- million participants to find a few thousand due, five times over).

-- People whose renewal follow-up has not been opened for their current due day.
create index participants_unopened on participants (register_id, paid_until)
    where status = 'active' and renewal_opened_for is distinct from paid_until;

-- Open follow-ups by the three times a sweep acts on: the give-up, the deadline not yet
-- escalated, and the next reminder (the reminder offsets are the plan's: a follow-up with k
-- reminders sent is due for the next at opened_at + offset k).
create index follow_ups_give_up on follow_ups (campaign_id, give_up_at) where status = 'open';
create index follow_ups_deadline on follow_ups (campaign_id, due_at) where status = 'open' and escalated_at is null;
create index follow_ups_reminder on follow_ups (campaign_id, reminders_sent, opened_at) where status = 'open';

-- A batch's staged rows are joined to the register and the follow-ups by citizen ID. Planned
-- on the statistics of an earlier batch, a 25,000-line payments batch's first join ran for
-- minutes holding the campaign's merge lock (the demo's field stood still behind it). A merge
-- refreshes them through this function first (the application role does not own the table;
-- as analyze_register, migration 015).
create function analyze_staging() returns void
    language plpgsql security definer
as $$
begin
    analyze (skip_locked) import_rows;
end
$$;

do $$
begin
    execute format('alter function analyze_staging() set search_path = pg_catalog, %I, pg_temp', current_schema());
end
$$;

revoke all on function analyze_staging() from public;
grant execute on function analyze_staging() to drives_app;
