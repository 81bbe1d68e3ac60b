-- A revision's summary (its diff as applied, plan.Diff) is written once and read whole, by the
-- campaign page's list of revisions; nothing queries inside it. As jsonb each write parsed it
-- into a tree: a revision of every target of the national plan writes 10 MB of it, 0.3–0.6 s of
-- the apply. As json it is checked and kept as written (0.15 s for 14 MB).
alter table plan_revisions alter column summary type json using summary::json;
