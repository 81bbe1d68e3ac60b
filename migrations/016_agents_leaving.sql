-- An agent or staff member may leave the drive of their own accord (resign): their contract
-- ends as an approved termination's does (terminated_at, termination_reason: the day and why),
-- with status 'left', and their work is handed on the same way.
alter table agents drop constraint agents_status_check,
    add constraint agents_status_check check (status in ('active', 'terminated', 'left'));
