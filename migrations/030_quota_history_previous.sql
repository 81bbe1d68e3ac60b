-- A revision of every target of the national plan kept each changed target twice in
-- quota_history: its new target from the revision's day and, on its first change, the target it
-- replaced in a row of its own, dated the day before the period (466,972 rows, copied, indexed
-- and attached: 1.2-1.7 s of the apply). The target replaced is now kept on the change's own
-- row (previous), on a target's first change only, and the rows a revision writes are halved.
--
-- A target's history by day is read through quota_targets_by_day, which has both forms as rows
-- of their own: the rows kept, and for each row with a previous target, that target from the
-- day before its campaign's period (revision 0, as the row of its own was). A target has one
-- of the two at most (its writers keep it so: a previous target is written only where the
-- target has no row yet, and a row replaced by a later change from the same day hands its
-- previous target on).

alter table quota_history add column previous int;

create view quota_targets_by_day as
    select campaign_id, level, code, valid_from, target, revision, audit_action, audit_key
    from quota_history
    union all
    select h.campaign_id, h.level, h.code, c.period_start - 1, h.previous, 0, null::text, null::text
    from quota_history h join campaigns c on c.id = h.campaign_id
    where h.previous is not null;

grant select on quota_targets_by_day to drives_app;
