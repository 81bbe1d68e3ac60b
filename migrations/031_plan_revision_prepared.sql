-- What `starter plan revise` prepared when it staged a revision (revision.Prepared.Stage),
-- against the plan in force it was staged on: the targets it changes at every level but the
-- agents' (the city's always, changed or not), and its diff (summary, written when it is staged
-- rather than when it is applied). Both follow from the two plans alone. While that plan is
-- still in force, the apply takes them instead of reading both plans whole (36 MB each for the
-- national plan), allocating and comparing them again: it checks again only what may have
-- moved since (the campaign's day, its events held, what it has enrolled) and shares out each
-- changed commune's target among its agents as they are then. Null for revisions staged
-- otherwise (the apply prepares them whole), and cleared once a revision is applied.
alter table plan_revisions
    add column prepared_levels text[],
    add column prepared_codes text[],
    add column prepared_old int[],
    add column prepared_new int[],
    add constraint plan_revisions_prepared_check check (
        (prepared_levels is null and prepared_codes is null and prepared_old is null and prepared_new is null)
        or (cardinality(prepared_levels) = cardinality(prepared_codes)
            and cardinality(prepared_levels) = cardinality(prepared_old)
            and cardinality(prepared_levels) = cardinality(prepared_new)));
