-- Plans are compressed with LZ4 (new values; those written before stay as they are): the
-- national plan (36 MB of JSON) is written in 0.09 s instead of 0.5 s, and read back faster.
alter table campaigns alter column plan set compression lz4;
alter table plan_revisions alter column plan set compression lz4;
