-- A review looks up each agent's earlier reviews (the consecutive-period rule) and the
-- enrolments of its window.
create index review_decisions_agent on review_decisions (campaign_id, agent_code, window_end);
create index enrolments_on on enrolments (campaign_id, enrolled_on);
