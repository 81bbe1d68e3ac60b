-- A review writes a period's decisions for every agent at once (200,000 rows for the national
-- plan). Until the planner's statistics know that period, it estimates one row for each of its
-- filters and walks the whole period for a district's or a decision's page (160 ms, and 45 s
-- once for a first request); autovacuum analyses the table only some time later. The worker
-- refreshes them as soon as a review's transaction commits, through this function: the
-- application role does not own the table, and only an owner may analyse it.
create function analyze_review_decisions() returns void
    language plpgsql security definer set search_path from current
as $$
begin
    analyze review_decisions (campaign_id, period, commune_code, status, decision);
end
$$;

revoke all on function analyze_review_decisions() from public;
grant execute on function analyze_review_decisions() to drives_app;
