-- The audit log is append-only and hash-chained per campaign, and the worker connects as an
-- application role that may not change it.
--
-- Chain. Every row carries prev_hash, the hash of the campaign's row before it (32 zero bytes
-- for a campaign's first row), and hash = sha256(prev_hash || canonical(row)), where
-- canonical(row) is the UTF-8 text
--
--     'audit_log.v1;' F(id) F(campaign_id) F(recorded_at) F(actor) F(action) F(entity)
--     F(entity_key) F(workflow_id) F(run_id) F(activity_id) F(attempt) F(detail) F(result)
--
-- with F(NULL) = 'N;' and F(v) = <bytes of v in UTF-8, decimal> ':' v ';' over these texts:
-- id and attempt in decimal; recorded_at in UTC as 2021-03-04T05:06:07.000008Z (always six
-- fractional digits); detail and result as PostgreSQL prints jsonb (jsonb::text, a normal form:
-- keys sorted, duplicates dropped, fixed spacing); the other columns as they are. The Go
-- verifier (package audit) computes the same form; its tests compare the two row by row.
--
-- The insert trigger takes a per-campaign advisory lock (held to the end of the transaction),
-- reads the campaign's latest row and chains the new row to it, so a campaign's rows are
-- chained one writer at a time. It also sets recorded_at to the transaction's time and, if
-- another transaction of the campaign committed a higher id in the meantime, gives the row
-- the next id, so that id order is chain order. Write the audit row last in a transaction:
-- the lock is held until commit. Only READ COMMITTED transactions may insert: a snapshot taken
-- before the lock was granted would not see the row the previous holder committed.
--
-- Append-only. A statement trigger refuses every UPDATE, DELETE and TRUNCATE of audit_log,
-- whoever runs it; the application role has no such privileges either. The owner can still
-- disable the triggers (ALTER TABLE ... DISABLE TRIGGER): that is what `starter audit verify`
-- is for.
--
-- Roles. Migrations run as the schema's owner (DATABASE_OWNER_URL). The worker and the starter
-- connect as drives_app (DATABASE_URL), which may read and write the business tables, use
-- their sequences, read and append to audit_log, read schema_version, and nothing else: no
-- UPDATE, DELETE or TRUNCATE of audit_log, no DDL, no ownership. drives_app is created here
-- when missing (without a password: set one on a real server, see README), which needs
-- CREATEROLE; roles are cluster-wide, so every database of a cluster shares it. A later
-- migration that adds a table or sequence grants drives_app what it needs of it (the
-- audit package's tests check that every table has its grants).

alter table audit_log
    add column prev_hash bytea,
    add column hash      bytea;

create function audit_log_genesis() returns bytea
    language sql immutable parallel safe
    return decode(repeat('00', 32), 'hex');

create function audit_log_field(v text) returns text
    language sql stable parallel safe
    return case when v is null then 'N;'
                else octet_length(convert_to(v, 'UTF8'))::text || ':' || v || ';' end;

create function audit_log_canonical(r audit_log) returns text
    language sql stable parallel safe
    return 'audit_log.v1;'
        || audit_log_field(r.id::text)
        || audit_log_field(r.campaign_id)
        || audit_log_field(to_char(r.recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
        || audit_log_field(r.actor)
        || audit_log_field(r.action)
        || audit_log_field(r.entity)
        || audit_log_field(r.entity_key)
        || audit_log_field(r.workflow_id)
        || audit_log_field(r.run_id)
        || audit_log_field(r.activity_id)
        || audit_log_field(r.attempt::text)
        || audit_log_field(r.detail::text)
        || audit_log_field(r.result::text);

-- Rows written before this migration: chained in id order per campaign.
do $$
declare
    r    audit_log;
    prev bytea;
    cur  text;
begin
    for r in select * from audit_log order by campaign_id, id loop
        if cur is distinct from r.campaign_id then
            prev := audit_log_genesis();
            cur := r.campaign_id;
        end if;
        update audit_log
           set prev_hash = prev,
               hash = sha256(prev || convert_to(audit_log_canonical(r), 'UTF8'))
         where id = r.id
        returning hash into prev;
    end loop;
end
$$;

alter table audit_log
    alter column prev_hash set not null,
    alter column hash set not null,
    add constraint audit_log_prev_hash_sha256 check (octet_length(prev_hash) = 32),
    add constraint audit_log_hash_sha256 check (octet_length(hash) = 32);

create function audit_log_chain() returns trigger
    language plpgsql as $$
declare
    last_id   bigint;
    last_hash bytea;
begin
    -- A snapshot older than the lock would miss the row another writer just committed.
    if current_setting('transaction_isolation') <> 'read committed' then
        raise exception 'audit_log rows are written in READ COMMITTED transactions, not %',
            upper(current_setting('transaction_isolation'));
    end if;
    -- 1635083369 = 'audi': this lock class, apart from the activities' single-key locks.
    perform pg_advisory_xact_lock(1635083369, hashtext(NEW.campaign_id));
    select id, hash into last_id, last_hash
      from audit_log where campaign_id = NEW.campaign_id
     order by id desc limit 1;
    if last_id is not null and NEW.id <= last_id then
        NEW.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
    end if;
    NEW.recorded_at := now();
    NEW.prev_hash := coalesce(last_hash, audit_log_genesis());
    NEW.hash := sha256(NEW.prev_hash || convert_to(audit_log_canonical(NEW), 'UTF8'));
    return NEW;
end
$$;

create function audit_log_refuse_change() returns trigger
    language plpgsql as $$
begin
    raise exception 'audit_log is append-only: % refused', TG_OP
        using hint = 'Audit rows are never changed or removed; record a correcting effect instead.';
end
$$;

create trigger audit_log_chain before insert on audit_log
    for each row execute function audit_log_chain();
create trigger audit_log_append_only before update or delete or truncate on audit_log
    for each statement execute function audit_log_refuse_change();

-- The application role.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'drives_app') then
        begin
            create role drives_app login;
        exception
            -- Created meanwhile by the migration of another database of the cluster.
            when duplicate_object or unique_violation then null;
            when insufficient_privilege then
                raise exception 'role drives_app does not exist and % may not create roles', current_user
                    using hint = 'As a superuser or a role with CREATEROLE run: CREATE ROLE drives_app LOGIN PASSWORD ''...''; then migrate again.';
        end;
    end if;
    execute format('grant usage on schema %I to drives_app', current_schema());
end
$$;

grant select, insert, update, delete on
    campaigns, units, target_groups, quotas, agents, events, import_batches, import_rows,
    prospects, follow_ups, enrolments, reports,
    reviews, review_decisions, commendations, quota_transfers
    to drives_app;
grant usage on sequence prospects_id_seq, follow_ups_id_seq, enrolments_id_seq, audit_log_id_seq to drives_app;
grant select, insert on audit_log to drives_app;
-- So that a worker with only DATABASE_URL can tell the schema is up to date.
grant select on schema_version to drives_app;
