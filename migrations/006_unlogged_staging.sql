-- Staged import lines live from the import's COPY to its merge, which drops them. They are
-- not written to the WAL: a database crash empties the table, and a merge that finds fewer
-- staged lines than its batch recorded refuses the batch (the file is imported again) instead
-- of merging what is left.
alter table import_rows set unlogged;

-- An enrolment file's lines of people enrolled already are not staged: rows counts the file's
-- lines, staged_rows those staged (null: all of them).
alter table import_batches add column staged_rows int;
