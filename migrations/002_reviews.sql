-- Quarterly (or as the plan says) reviews of agents and staff, their decisions, rewards,
-- commendations of communes and districts, and contract terminations with the reassignment of
-- the agent's work.

alter table agents
    add column terminated_at      timestamptz,
    add column termination_reason text;

alter table follow_ups
    add column reassigned_from text,
    add column held_by_staff   boolean not null default false;

create table reviews (
    campaign_id  text not null references campaigns (id),
    period       text not null,
    window_start timestamptz not null,
    window_end   timestamptz not null,
    workflow_id  text not null,
    recorded_at  timestamptz not null default now(),
    primary key (campaign_id, period)
);

-- One decision per (campaign, period, agent), with the figures it was taken on and a rationale
-- a person can read. A proposed termination is 'pending' until a coordinator approves or
-- rejects it, or the wait ends ('escalated').
create table review_decisions (
    campaign_id        text not null,
    period             text not null,
    agent_code         text not null,
    kind               text not null,
    commune_code       text not null,
    window_start       timestamptz not null,
    window_end         timestamptz not null,
    quota              int not null,
    quota_share        double precision not null,
    enrolled           int not null,
    follow_ups_on_time int not null,
    follow_ups_overdue int not null,
    leads              int not null,
    leads_enrolled     int not null,
    open_work          int not null,
    attainment         double precision not null,
    on_time_rate       double precision not null,
    score              double precision not null,
    low_streak         int not null,
    decision           text not null check (decision in ('reward', 'commend', 'retain', 'warn', 'terminate')),
    status             text not null check (status in ('final', 'pending', 'approved', 'rejected', 'escalated', 'auto_terminated')),
    rationale          text not null,
    reward_kind        text,
    reward_amount      bigint,
    decided_by         text,
    decided_reason     text,
    decided_at         timestamptz,
    primary key (campaign_id, period, agent_code),
    foreign key (campaign_id, period) references reviews (campaign_id, period),
    foreign key (campaign_id, agent_code) references agents (campaign_id, code)
);
create index review_decisions_pending on review_decisions (campaign_id, status) where status in ('pending', 'escalated');

create table commendations (
    campaign_id text not null,
    period      text not null,
    level       text not null check (level in ('commune', 'district')),
    unit_code   text not null,
    rank        int not null,
    attainment  double precision not null,
    primary key (campaign_id, period, level, unit_code),
    foreign key (campaign_id, period) references reviews (campaign_id, period)
);

-- Quota moved from a terminated agent to those who take over the commune's work.
create table quota_transfers (
    campaign_id  text not null,
    period       text not null,
    from_agent   text not null,
    to_agent     text not null,
    amount       int not null check (amount > 0),
    to_staff     boolean not null,
    primary key (campaign_id, period, from_agent, to_agent)
);
