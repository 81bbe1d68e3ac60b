-- A review writes a decision for every agent and staff member at once (210,599 rows for the
-- national plan), each into the table and every one of its indexes. The index by status and
-- decision was written out of the insert's order at every row (a descent from the root to one
-- of a handful of places), and it served what the index by commune can: the lists of one
-- period's decisions filtered by status or decision read the period's entries of the index by
-- commune, which now carries both, without the table (the counts of a review, a commune's or
-- a district's decisions by decision, as before). Terminations waiting on a coordinator keep
-- their own index (review_decisions_waiting, migration 009).
create index review_decisions_period_commune_2 on review_decisions (campaign_id, period, commune_code) include (status, decision);
drop index review_decisions_period_commune;
alter index review_decisions_period_commune_2 rename to review_decisions_period_commune;
drop index review_decisions_period_status;

-- A review counts each agent's enrolments in its window. By agent, then day, the index gives
-- them in agent order (a running count, not a hash of a million rows), and still finds an
-- agent's enrolments (the agents' list, the report's counts, the trace) as the index it
-- replaces did.
create index enrolments_agent_on on enrolments (campaign_id, agent_code, enrolled_on);
drop index enrolments_agent;

