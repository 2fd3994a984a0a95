-- WPP Console, part 6: a watch that never lies, and records kept in bounds.
--
-- 1. The newest state wins. Every board entry says when the observation behind it was made (observed_at: a poll's
--    request start, a push's "created"); wpp_save_status_if_newer keeps an entry only if it is not older than the
--    stored one (compare-and-set), so a late poll answer never overwrites a newer push, in any replica. A report that
--    came too late is kept in the history as late (wpp_add_status_history), never applied.
-- 2. Kept in bounds: small batch deletes of old history, diary lines, test messages and pushed-event ids, one
--    function per table (wpp_prune_<table>(before, limit) -> how many went), run by the status poller's leaseholder.
--    Other parts add their own wpp_prune_<table> the same way.
--
-- Runs after 20261127000000_wpp_console_webhooks.sql. Idempotent and non-destructive: it only adds (wpp_save_status,
-- part 2, stays for consoles of an older version during a rolling update).

-- 1. when the observation behind a board entry was made, and late reports in the history ----------------------------
alter table public.wpp_console_status add column if not exists observed_at double precision;
comment on column public.wpp_console_status.observed_at is
  'WPP Console: when the observation behind this entry was made (Unix seconds); an older one is never saved over it.';
alter table public.wpp_console_status_history add column if not exists late boolean not null default false;
comment on column public.wpp_console_status_history.late is
  'WPP Console: a report that arrived after a newer one (kept as said, never applied to the board).';

-- the entry p_record (as wpp_save_status takes it, with observed_at) is saved only when the stored one is not newer;
-- p_change goes to the history in the same transaction, only when the entry was saved. True when it was saved.
-- watched_until and last_event_at are never touched (their own functions keep them).
create or replace function public.wpp_save_status_if_newer(p_record jsonb, p_change jsonb default null)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_id text := nullif(p_record ->> 'integration_id', '');
  v_saved boolean;
begin
  if v_id is null then
    raise exception 'wpp_save_status_if_newer: the record needs an integration_id' using errcode = '22023';
  end if;
  insert into public.wpp_console_status as s
    (integration_id, state, raw, since, checked_at, ok_at, failures, error, next_check_at, phone, observed_at,
     updated_at)
  values (
    v_id,
    p_record ->> 'state',
    p_record ->> 'raw',
    (p_record ->> 'since')::double precision,
    (p_record ->> 'checked_at')::double precision,
    (p_record ->> 'ok_at')::double precision,
    coalesce((p_record ->> 'failures')::integer, 0),
    nullif(p_record -> 'error', 'null'::jsonb),
    (p_record ->> 'next_check_at')::double precision,
    p_record ->> 'phone',
    (p_record ->> 'observed_at')::double precision,
    now()
  )
  on conflict (integration_id) do update
    set state = excluded.state,
        raw = excluded.raw,
        since = excluded.since,
        checked_at = excluded.checked_at,
        ok_at = excluded.ok_at,
        failures = excluded.failures,
        error = excluded.error,
        next_check_at = excluded.next_check_at,
        phone = excluded.phone,
        observed_at = excluded.observed_at,
        updated_at = excluded.updated_at
    where s.observed_at is null or excluded.observed_at is null or excluded.observed_at >= s.observed_at
  returning true into v_saved;
  v_saved := coalesce(v_saved, false);

  if v_saved and p_change is not null and jsonb_typeof(p_change) = 'object' then
    perform public.wpp_add_status_history(p_change);
  end if;
  return v_saved;
end
$$;

-- one line of a number's history (a change, or a late report: late = true)
create or replace function public.wpp_add_status_history(p_change jsonb)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if p_change is null or jsonb_typeof(p_change) <> 'object' or nullif(p_change ->> 'integration_id', '') is null
     or p_change ->> 'at' is null then
    raise exception 'wpp_add_status_history: the line needs an integration_id and a time' using errcode = '22023';
  end if;
  insert into public.wpp_console_status_history (integration_id, state, previous, raw, at, error, late)
  values (
    p_change ->> 'integration_id',
    p_change ->> 'state',
    p_change ->> 'previous',
    p_change ->> 'raw',
    (p_change ->> 'at')::double precision,
    nullif(p_change -> 'error', 'null'::jsonb),
    coalesce((p_change ->> 'late')::boolean, false)
  );
end
$$;

-- 2. kept in bounds: at most p_limit of the oldest rows before p_before (Unix seconds) go; returns how many ------------
create index if not exists wpp_console_status_history_at_idx on public.wpp_console_status_history (at);
create index if not exists wpp_console_test_messages_sent_idx on public.wpp_console_test_messages (sent_at);

create or replace function public.wpp_prune_status_history(p_before double precision, p_limit integer)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_n integer;
begin
  if p_before is null or p_limit is null or p_limit < 1 then
    raise exception 'wpp_prune_status_history: a time and a positive limit are required' using errcode = '22023';
  end if;
  delete from public.wpp_console_status_history
   where id in (select id from public.wpp_console_status_history where at < p_before order by at limit p_limit);
  get diagnostics v_n = row_count;
  return v_n;
end
$$;

create or replace function public.wpp_prune_activity(p_before double precision, p_limit integer)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_n integer;
begin
  if p_before is null or p_limit is null or p_limit < 1 then
    raise exception 'wpp_prune_activity: a time and a positive limit are required' using errcode = '22023';
  end if;
  delete from public.wpp_console_activity
   where id in (select id from public.wpp_console_activity where at < pg_catalog.to_timestamp(p_before)
                 order by at limit p_limit);
  get diagnostics v_n = row_count;
  return v_n;
end
$$;

create or replace function public.wpp_prune_test_messages(p_before double precision, p_limit integer)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_n integer;
begin
  if p_before is null or p_limit is null or p_limit < 1 then
    raise exception 'wpp_prune_test_messages: a time and a positive limit are required' using errcode = '22023';
  end if;
  delete from public.wpp_console_test_messages m
   using (select integration_id, message_id from public.wpp_console_test_messages where sent_at < p_before
           order by sent_at limit p_limit) old
   where m.integration_id = old.integration_id and m.message_id = old.message_id;
  get diagnostics v_n = row_count;
  return v_n;
end
$$;

create or replace function public.wpp_prune_webhook_seen(p_before double precision, p_limit integer)
returns integer
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_n integer;
begin
  if p_before is null or p_limit is null or p_limit < 1 then
    raise exception 'wpp_prune_webhook_seen: a time and a positive limit are required' using errcode = '22023';
  end if;
  delete from public.wpp_console_webhook_seen
   where key in (select key from public.wpp_console_webhook_seen where at < p_before order by at limit p_limit);
  get diagnostics v_n = row_count;
  return v_n;
end
$$;

-- a pushed event whose handling failed is forgotten again, so the platform's retry is taken
create or replace function public.wpp_webhook_unseen(p_key text)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if nullif(p_key, '') is null then
    raise exception 'wpp_webhook_unseen: a key is required' using errcode = '22023';
  end if;
  delete from public.wpp_console_webhook_seen where key = p_key;
  return found;
end
$$;

-- 3. privileges: service_role only, as every function of WPP Console ------------------------------------------------
do $$
declare
  r text;
  f text;
  v_functions text[] := array['public.wpp_save_status_if_newer(jsonb, jsonb)',
                              'public.wpp_add_status_history(jsonb)',
                              'public.wpp_prune_status_history(double precision, integer)',
                              'public.wpp_prune_activity(double precision, integer)',
                              'public.wpp_prune_test_messages(double precision, integer)',
                              'public.wpp_prune_webhook_seen(double precision, integer)',
                              'public.wpp_webhook_unseen(text)'];
begin
  foreach f in array v_functions loop
    execute format('revoke all on function %s from public', f);
  end loop;
  foreach r in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_catalog.pg_roles where rolname = r) then
      foreach f in array v_functions loop
        execute format('revoke all on function %s from %I', f, r);
      end loop;
    end if;
  end loop;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    foreach f in array v_functions loop
      execute format('grant execute on function %s to service_role', f);
    end loop;
  end if;
end
$$;

-- PostgREST caches the schema: tell it about the new columns and functions (a no-op where nobody listens).
notify pgrst, 'reload schema';
