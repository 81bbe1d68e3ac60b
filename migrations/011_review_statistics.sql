-- A review writes a period's decisions for every agent at once (200,000 rows for the national
-- plan). Until the planner's statistics know that period, it estimates one row for each of its
-- filters and walks the whole period for a district's or a decision's page (160 ms, and 45 s
-- once for a first request); autovacuum analyses the table only some time later. The review
-- refreshes them in its own transaction, through this function: the application role does not
-- own the table, and only an owner may analyse it. SKIP_LOCKED: should another ANALYZE or a
-- VACUUM hold the table, the review does not wait for it (the statistics are then refreshed by
-- that one, or by autovacuum).
create function analyze_review_decisions() returns void
    language plpgsql security definer
as $$
begin
    analyze (skip_locked) review_decisions (campaign_id, period, commune_code, status, decision);
end
$$;

-- Names resolve in the schema it was created in; temporary tables last.
do $$
begin
    execute format('alter function analyze_review_decisions() set search_path = pg_catalog, %I, pg_temp', current_schema());
end
$$;

revoke all on function analyze_review_decisions() from public;
grant execute on function analyze_review_decisions() to drives_app;
