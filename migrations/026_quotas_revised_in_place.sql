-- A revision of the national plan changes every target at once (233,486 quota rows, 210,599 of
-- them agents'). Two things made that 7 s of writes:
--
-- An agent's quota was kept on its agents row too (migration 009), for the agents' table
-- sorted by quota: every changed quota rewrote its agent's row, and so the agents' 8 indexes
-- (165,025 rows, 4–7 s). The agents' table now reads the quota from its quota row, and sorts
-- the agents it selects by it (store.AgentSorts); the quota rows are the one record of a quota.
drop index agents_quota_code;
alter table agents drop column quota;

-- A changed quota row went to another page (the pages were full), so its primary key took a
-- new entry too. Pages kept half empty let each row's new version stay on its page without a
-- new index entry (a heap-only update): 0.4 s instead of 1.3 s for the national revision's
-- rows. The rows already there are rewritten at the new fill.
alter table quotas set (fillfactor = 50);
cluster quotas using quotas_pkey;
