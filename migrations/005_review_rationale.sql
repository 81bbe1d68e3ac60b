-- A review decision keeps the inputs of its rationale: the policy thresholds it was decided
-- by, next to the figures already stored, and whether it was escalated. review_rationale
-- renders the text when it is read, instead of a review formatting it for every agent as it
-- decides. Decisions recorded before keep their stored text (rationale is then not null).
alter table review_decisions
    alter column rationale drop not null,
    add column reward_at       double precision,
    add column warn_below      double precision,
    add column terminate_below double precision,
    add column terminate_after int,
    add column escalated       boolean not null default false;

create function review_rationale(d review_decisions) returns text
    language sql stable parallel safe
    return coalesce(d.rationale,
        format('score %s = 0.8 × attainment %s (%s enrolled of a quota share of %s) + 0.2 × on-time rate %s (%s on time, %s overdue); %s',
            round(d.score::numeric, 2), round(d.attainment::numeric, 2), d.enrolled, round(d.quota_share::numeric, 1),
            round(d.on_time_rate::numeric, 2), d.follow_ups_on_time, d.follow_ups_overdue,
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
