-- The web page's lists at national scale, each page read through an index in its order, so
-- that a page costs its own lines and the lines skipped before it, never a sort of them all.

-- An agent's quota kept on its row, for the agents' table ordered by quota: the target of its
-- quota row (level 'agent'), written with it by the statements that write either (store/agents.go,
-- store/quotas.go). The quota rows stay the record the report and the reviews read.
alter table agents add column quota int not null default 0;
update agents a set quota = q.target
from quotas q
where q.campaign_id = a.campaign_id and q.level = 'agent' and q.code = a.code and q.target <> 0;
create index agents_quota_code on agents (campaign_id, quota, code);

-- Agents of a kind, or of a kind and status (e.g. active staff), by code.
create index agents_kind_status_code on agents (campaign_id, kind, status, code);

-- Terminations waiting on a coordinator (pending) or escalated, in the order the reviews page
-- lists them (by window, then agent): the first 500 without sorting every one of them.
drop index review_decisions_pending;
create index review_decisions_waiting on review_decisions (campaign_id, status, window_end, agent_code)
    where status in ('pending', 'escalated');
