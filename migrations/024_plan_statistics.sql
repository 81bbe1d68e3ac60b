-- A launched plan's units, quotas, agents and events are written at once (a national plan:
-- 69,491 units, 280,091 quotas, 210,599 agents and staff) and read at once by what comes next:
-- a campaign's first review, planned on statistics taken before the launch, ran its
-- commendations for ten minutes until its activity's timeout, holding back every table's vacuum
-- meanwhile. The launch's writer refreshes their statistics in its transaction (analyze_plan,
-- called as analyze_review_decisions is, migration 011).
create function analyze_plan() returns void
    language plpgsql security definer
as $$
begin
    analyze (skip_locked) units;
    analyze (skip_locked) quotas;
    analyze (skip_locked) agents;
    analyze (skip_locked) events;
end
$$;

do $$
begin
    execute format('alter function analyze_plan() set search_path = pg_catalog, %I, pg_temp', current_schema());
end
$$;

revoke all on function analyze_plan() from public;
grant execute on function analyze_plan() to drives_app;
