-- The register of participants: people whose voluntary social insurance is (or was) paid, one
-- row per person, outliving campaigns. A campaign's enrolments add to it (a trigger, whatever
-- writes them: an import's merge, a phone's send); a starting register (the people already
-- participating when the system is adopted) and the collection records (payments) are
-- imported into it; the campaign's follow-up sweep opens renewals and records lapses.
--
-- A register is shared by a chain of campaigns: a plan that names its previous campaign takes
-- that campaign's register (register_id), so next year's drive starts from the people this
-- year's left; a plan that names none starts a register of its own.
alter table campaigns add column register_id text, add column previous_campaign text references campaigns (id);
update campaigns set register_id = id;
alter table campaigns alter column register_id set not null;
create index campaigns_register on campaigns (register_id);

-- A new campaign's register: its previous campaign's, or its own.
create function campaign_register() returns trigger
language plpgsql as $$
begin
    if new.register_id is null then
        new.register_id := coalesce((select register_id from campaigns where id = new.previous_campaign), new.id);
    end if;
    return new;
end
$$;
create trigger campaigns_register before insert on campaigns for each row execute function campaign_register();

-- One person of a register. Cover: a person is paid up to paid_until (the first day not
-- covered), counted as whole months from cover_anchor, so that month ends never drift
-- (paid 31 January + 1 month = 28 February, + 2 months = 31 March). A payment adds its months;
-- a payment after a lapse starts a new cover from its day. Name and phone are kept because the
-- agent holding the person calls them when a payment falls due.
create table participants (
    register_id        text not null,
    citizen_id         text not null,
    full_name          text not null,
    phone              text not null,
    district_code      text not null,
    commune_code       text not null,
    village_code       text,
    target_group       text not null,
    agent_code         text not null, -- who holds them: the enrolling agent, or whoever took over their work
    monthly_income     bigint not null,
    subsidy_class      text not null,
    joined_on          date not null,
    cover_anchor       date not null,
    months_paid        int not null check (months_paid >= 0),
    paid_until         date generated always as ((cover_anchor + make_interval(months => months_paid))::date) stored,
    status             text not null default 'active' check (status in ('active', 'lapsed')),
    lapsed_on          date,
    renewal_opened_for date,          -- the paid_until a renewal follow-up was opened for
    campaign_id        text not null references campaigns (id), -- the campaign that last changed them
    primary key (register_id, citizen_id),
    check ((status = 'lapsed') = (lapsed_on is not null))
);
create index participants_due on participants (register_id, paid_until) where status = 'active';

-- What happened to a register's people, dated in campaign time, with the unit, group and agent
-- of the moment: joined (first enrolment, or as the starting register says), renewed (paid
-- while current), lapsed (unpaid past the grace period; dated when the grace ended) and returned
-- (paid after a lapse). A register's stock on a day is its joined and returned before the day
-- less its lapsed before it.
create table participant_changes (
    id            bigserial primary key,
    register_id   text not null,
    citizen_id    text not null,
    kind          text not null check (kind in ('joined', 'renewed', 'lapsed', 'returned')),
    on_date       date not null,
    campaign_id   text not null references campaigns (id),
    district_code text not null,
    commune_code  text not null,
    target_group  text not null,
    agent_code    text not null,
    foreign key (register_id, citizen_id) references participants (register_id, citizen_id)
);
create index participant_changes_on on participant_changes (register_id, on_date);
create index participant_changes_person on participant_changes (register_id, citizen_id);

-- The collection records: one row per receipt of a register (a receipt imported twice counts
-- once). expected is what the 2021 rules ask for the person's declared income and class over
-- the months paid; a payment whose amount differs is kept and flagged.
create table payments (
    register_id text not null,
    receipt_no  text not null,
    citizen_id  text not null,
    paid_on     date not null,
    months      int not null check (months > 0),
    amount      bigint not null check (amount > 0),
    expected    bigint not null,
    agent_code  text not null,
    campaign_id text not null references campaigns (id),
    batch_id    uuid not null,
    primary key (register_id, receipt_no),
    foreign key (register_id, citizen_id) references participants (register_id, citizen_id)
);
create index payments_person on payments (register_id, citizen_id, paid_on);
create index payments_flagged on payments (campaign_id) where amount <> expected;

-- Renewals are follow-ups too: kind 'renewal' names the person (citizen_id) and the day their
-- payment falls due (renewal_due) instead of a prospect; a payment closes one as renewed, the
-- end of the grace period as lapsed.
alter table follow_ups
    add column kind text not null default 'lead' check (kind in ('lead', 'renewal')),
    add column citizen_id text,
    add column renewal_due date,
    alter column prospect_id drop not null,
    drop constraint follow_ups_status_check,
    add constraint follow_ups_status_check check (status in ('open', 'enrolled', 'declined', 'unreachable', 'renewed', 'lapsed')),
    add constraint follow_ups_kind_fields check (
        (kind = 'lead' and prospect_id is not null) or
        (kind = 'renewal' and citizen_id is not null and renewal_due is not null));
create unique index follow_ups_renewal on follow_ups (campaign_id, citizen_id, renewal_due) where kind = 'renewal';

-- Imports of the starting register and of payments.
alter table import_batches drop constraint import_batches_kind_check,
    add constraint import_batches_kind_check check (kind in ('enrolments', 'leads', 'outcomes', 'participants', 'payments'));
alter table import_rows
    add column paid_until date,
    add column amount     bigint,
    add column receipt_no text;

-- A statement's enrolments join the register of their campaign: a person new to it joins
-- (their enrolment is their first payment: cover from the day enrolled for the months of their
-- payment mode); a person already in it has paid again (renewed while current, returned after
-- a lapse). One grouped pass per statement, in key order.
create function register_enrolments() returns trigger
language plpgsql as $$
begin
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
    from n join up on up.register_id = n.register_id and up.citizen_id = n.citizen_id;
    return null;
end
$$;

create trigger enrolments_registered after insert on enrolments
    referencing new table as new_enrolments for each statement execute function register_enrolments();

-- The enrolments written before this migration join their campaigns' registers.
insert into participants (register_id, citizen_id, full_name, phone, district_code, commune_code, village_code,
    target_group, agent_code, monthly_income, subsidy_class, joined_on, cover_anchor, months_paid, campaign_id)
select c.register_id, e.citizen_id, e.full_name, e.phone, e.district_code, e.commune_code, e.village_code,
    e.target_group, e.agent_code, e.monthly_income, e.subsidy_class, e.enrolled_on, e.enrolled_on, e.payment_months, e.campaign_id
from enrolments e join campaigns c on c.id = e.campaign_id;
insert into participant_changes (register_id, citizen_id, kind, on_date, campaign_id, district_code, commune_code, target_group, agent_code)
select c.register_id, e.citizen_id, 'joined', e.enrolled_on, e.campaign_id, e.district_code, e.commune_code, e.target_group, e.agent_code
from enrolments e join campaigns c on c.id = e.campaign_id;

grant select, insert, update, delete on participants, participant_changes, payments to drives_app;
grant usage on sequence participant_changes_id_seq to drives_app;

-- Reviews count keeping people: each agent's renewals resolved in the window (renewed, or
-- lapsed at the end of their grace) and the weight the plan gives their renewal rate
-- (review.policy.renewal_weight; 0 for decisions before it). The rationale says so, in
-- English and in Vietnamese.
alter table review_decisions
    add column renewals_renewed int not null default 0,
    add column renewals_lapsed  int not null default 0,
    add column renewal_rate     double precision not null default 1,
    add column renewal_weight   double precision not null default 0;

create or replace function review_rationale(d review_decisions) returns text
    language sql stable parallel safe
    return coalesce(d.rationale,
        format('score %s = %s × attainment %s (%s enrolled of a quota share of %s) + %s × on-time rate %s (%s on time, %s overdue)%s; %s',
            round(d.score::numeric, 2), trim_scale(round((0.8 * (1 - d.renewal_weight))::numeric, 2)),
            round(d.attainment::numeric, 2), d.enrolled, round(d.quota_share::numeric, 1),
            trim_scale(round((0.2 * (1 - d.renewal_weight))::numeric, 2)),
            round(d.on_time_rate::numeric, 2), d.follow_ups_on_time, d.follow_ups_overdue,
            case when d.renewal_weight > 0 then format(' + %s × renewal rate %s (%s renewed, %s lapsed)',
                trim_scale(round(d.renewal_weight::numeric, 2)), round(d.renewal_rate::numeric, 2), d.renewals_renewed, d.renewals_lapsed) else '' end,
            case d.decision
                when 'terminate' then case when d.enrolled = 0 and d.open_work > 0
                    then format('no enrolment in the window while holding %s open follow-ups: termination proposed, awaiting a coordinator', d.open_work)
                    else format('below %s for %s consecutive reviews: termination proposed, awaiting a coordinator', d.terminate_below, d.terminate_after) end
                when 'reward' then format('at or above %s: rewarded (%s, %s VND)', d.reward_at, d.reward_kind, d.reward_amount)
                when 'commend' then format('at or above %s: commended (staff are commended, not rewarded)', d.reward_at)
                when 'warn' then case when d.kind = 'staff' and d.score < d.terminate_below
                    then format('below %s: warned (staff are warned, never terminated)', d.terminate_below)
                    else format('below %s: warned', d.warn_below) end
                else 'retained' end)
            || case when d.escalated then '; no coordinator decided within the wait: escalated' else '' end);

-- A number as Vietnamese writes it: a decimal comma.
create function vi_number(n numeric) returns text
    language sql immutable parallel safe
    return replace(n::text, '.', ',');

create function review_rationale_vi(d review_decisions) returns text
    language sql stable parallel safe
    return coalesce(d.rationale,
        format('điểm %s = %s × tỷ lệ hoàn thành %s (%s người tham gia trên chỉ tiêu kỳ %s) + %s × tỷ lệ đúng hạn %s (%s đúng hạn, %s quá hạn)%s; %s',
            vi_number(round(d.score::numeric, 2)), vi_number(trim_scale(round((0.8 * (1 - d.renewal_weight))::numeric, 2))),
            vi_number(round(d.attainment::numeric, 2)), d.enrolled, vi_number(round(d.quota_share::numeric, 1)),
            vi_number(trim_scale(round((0.2 * (1 - d.renewal_weight))::numeric, 2))),
            vi_number(round(d.on_time_rate::numeric, 2)), d.follow_ups_on_time, d.follow_ups_overdue,
            case when d.renewal_weight > 0 then format(' + %s × tỷ lệ tái tục %s (%s đóng tiếp, %s ngừng đóng)',
                vi_number(trim_scale(round(d.renewal_weight::numeric, 2))), vi_number(round(d.renewal_rate::numeric, 2)), d.renewals_renewed, d.renewals_lapsed) else '' end,
            case d.decision
                when 'terminate' then case when d.enrolled = 0 and d.open_work > 0
                    then format('không có người tham gia mới trong kỳ dù còn %s việc theo dõi đang mở: đề nghị chấm dứt hợp đồng, chờ điều phối viên quyết định', d.open_work)
                    else format('dưới %s trong %s kỳ đánh giá liên tiếp: đề nghị chấm dứt hợp đồng, chờ điều phối viên quyết định', vi_number(d.terminate_below::numeric), d.terminate_after) end
                when 'reward' then format('từ %s trở lên: khen thưởng (%s, %s đồng)', vi_number(d.reward_at::numeric), d.reward_kind, d.reward_amount)
                when 'commend' then format('từ %s trở lên: biểu dương (cán bộ được biểu dương, không nhận thưởng)', vi_number(d.reward_at::numeric))
                when 'warn' then case when d.kind = 'staff' and d.score < d.terminate_below
                    then format('dưới %s: nhắc nhở (cán bộ chỉ bị nhắc nhở, không bị chấm dứt hợp đồng)', vi_number(d.terminate_below::numeric))
                    else format('dưới %s: nhắc nhở', vi_number(d.warn_below::numeric)) end
                else 'giữ nguyên' end)
            || case when d.escalated then '; điều phối viên không quyết định trong thời hạn: đã chuyển lên cấp trên' else '' end);

grant execute on function review_rationale_vi(review_decisions), vi_number(numeric) to drives_app;

-- A large merge (a million enrolments joining the register, a starting register, a month's
-- payments) leaves the register's tables without statistics until autovacuum comes: the next
-- sweep's joins were planned for a handful of rows and took minutes. The merge refreshes them
-- in its own transaction through this function (the application role does not own the tables;
-- as analyze_review_decisions, migration 011).
create function analyze_register() returns void
    language plpgsql security definer
as $$
begin
    analyze (skip_locked) participants;
    analyze (skip_locked) participant_changes;
    analyze (skip_locked) payments;
end
$$;

do $$
begin
    execute format('alter function analyze_register() set search_path = pg_catalog, %I, pg_temp', current_schema());
end
$$;

revoke all on function analyze_register() from public;
grant execute on function analyze_register() to drives_app;
