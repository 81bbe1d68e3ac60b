-- A target changed by a change of the roster (revision 0: an agent joining or moving takes a
-- share of its commune's target from the others) names the audit row that changed it, by its
-- action and entity key (agents.join and the joining's batch, agent.move and the agent who
-- moved), so that an auditor's trace of an agent's quota reaches the write that set it. Null for
-- the targets as allocated or assigned, for a plan revision's (their revision names it) and for
-- a handover's (its quota transfers name it).
alter table quota_history add column audit_action text, add column audit_key text,
    add constraint quota_history_audit_check check ((audit_action is null) = (audit_key is null));
