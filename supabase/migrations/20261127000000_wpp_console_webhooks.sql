-- WPP Console, part 5: status pushed by the platform (webhooks), and what became of the test messages.
--
-- The platform posts events (connected, offline, qr, message.sent, message.dead, delivery updates ...) to the
-- console's own route /_wpp/hook/<secret>, one address per number. The console notes on the status board when the
-- last event about a number came (last_event_at): while events arrive, the one poller only makes a sanity check of
-- it now and then. Replays of an event are refused across replicas (wpp_console_webhook_seen); what the pushes said
-- about test messages is kept (wpp_console_test_messages); every push's outcome is counted per number and in total
-- (wpp_console_webhook_counts, shown on the Settings page). The secrets themselves are never stored anywhere: the
-- number's settings hold only their SHA-256.
--
-- Runs after 20261126000000_wpp_console_alerts.sql. Idempotent and non-destructive: it only adds.
-- RLS on, no policy for anon/authenticated, privileges for service_role only, as every table of WPP Console.
-- Times are Unix seconds (double precision), like the rest of the console's own records.

-- 1. when the platform last pushed an event about a number -----------------------------------------------------------
-- wpp_save_status (part 2) names its columns and never touches this one (nor watched_until, part 3).
alter table public.wpp_console_status add column if not exists last_event_at double precision;
comment on column public.wpp_console_status.last_event_at is
  'WPP Console: when the platform last pushed an event about this number (Unix seconds); written by wpp_note_status_event.';

-- an event arrived at p_at: last_event_at becomes p_at unless it is later already. One UPDATE of an existing entry
-- (a number never checked yet has none: false, nothing written).
create or replace function public.wpp_note_status_event(p_id text, p_at double precision)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if nullif(p_id, '') is null or p_at is null then
    raise exception 'wpp_note_status_event: an integration_id and a time are required' using errcode = '22023';
  end if;
  update public.wpp_console_status s
     set last_event_at = greatest(s.last_event_at, p_at)
   where s.integration_id = p_id;
  return found;
end
$$;

-- 2. test messages and what the pushes said became of them -------------------------------------------------------
create table if not exists public.wpp_console_test_messages (
  integration_id  text not null,
  message_id      text not null,                      -- the platform's taskId / id
  sent_at         double precision not null,
  recipient       text not null default '',            -- as staff saw it: +7 900 123-45-67
  status          text not null default 'accepted'
                  check (status in ('accepted', 'sent', 'delivered', 'read', 'failed')),
  status_at       double precision,
  detail          text,                               -- why it failed, in the platform's words (scrubbed)
  actor           text,
  primary key (integration_id, message_id)
);
comment on table public.wpp_console_test_messages is
  'WPP Console: test messages sent from a number and how far they got (accepted, sent, delivered, read, failed).';
create index if not exists wpp_console_test_messages_recent_idx
  on public.wpp_console_test_messages (integration_id, sent_at desc);

-- a delivery update: the message moves to p_status only forward (accepted < sent < delivered < read < failed);
-- false when it is unknown or already there or further.
create or replace function public.wpp_advance_test_message(p_id text, p_message_id text, p_status text,
                                                           p_at double precision, p_detail text default null)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_steps text[] := array['accepted', 'sent', 'delivered', 'read', 'failed'];
begin
  if nullif(p_id, '') is null or nullif(p_message_id, '') is null or p_at is null
     or array_position(v_steps, p_status) is null then
    raise exception 'wpp_advance_test_message: an integration_id, a message id, a known status and a time are required'
      using errcode = '22023';
  end if;
  update public.wpp_console_test_messages m
     set status = p_status, status_at = p_at, detail = coalesce(p_detail, m.detail)
   where m.integration_id = p_id and m.message_id = p_message_id
     and array_position(v_steps, m.status) < array_position(v_steps, p_status);
  return found;
end
$$;

-- 3. events seen lately: a replay (the same event id, or the same flat body) is refused by every replica ----------
create table if not exists public.wpp_console_webhook_seen (
  key             text primary key,                   -- <integration id>:e:<event id> or <integration id>:b:<sha-256>
  integration_id  text,
  at              double precision not null
);
comment on table public.wpp_console_webhook_seen is
  'WPP Console: webhook events seen in the last minutes (to refuse replays), forgotten after the replay window.';
create index if not exists wpp_console_webhook_seen_at_idx on public.wpp_console_webhook_seen (at);

-- true the first time p_key is seen within p_keep_s seconds before p_at (and it is remembered from now on); older
-- entries are forgotten on the way.
create or replace function public.wpp_webhook_seen(p_key text, p_id text, p_at double precision,
                                                   p_keep_s double precision)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_n integer;
begin
  if nullif(p_key, '') is null or p_at is null or p_keep_s is null then
    raise exception 'wpp_webhook_seen: a key, a time and a window are required' using errcode = '22023';
  end if;
  delete from public.wpp_console_webhook_seen where at < p_at - p_keep_s;
  insert into public.wpp_console_webhook_seen (key, integration_id, at) values (p_key, p_id, p_at)
  on conflict (key) do nothing;
  get diagnostics v_n = row_count;
  return v_n > 0;
end
$$;

-- 4. how many pushes ended how, per number and in total ("*") ----------------------------------------------------
create table if not exists public.wpp_console_webhook_counts (
  scope    text not null,                             -- an integration id, or '*' for all of them
  kind     text not null,                             -- accepted | duplicate | ignored | unknown | too_big | ...
  n        bigint not null default 0,
  last_at  double precision,
  primary key (scope, kind)
);
comment on table public.wpp_console_webhook_counts is
  'WPP Console: how many pushes to the console''s webhook were accepted or refused, and why (per number and in total).';

-- p_rows: [{"scope", "kind", "n", "last_at"}, ...] (each (scope, kind) once): added to the counts.
create or replace function public.wpp_add_webhook_counts(p_rows jsonb)
returns void
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if p_rows is null or jsonb_typeof(p_rows) <> 'array' then
    raise exception 'wpp_add_webhook_counts: an array of counts is required' using errcode = '22023';
  end if;
  insert into public.wpp_console_webhook_counts as c (scope, kind, n, last_at)
  select r ->> 'scope', r ->> 'kind', coalesce((r ->> 'n')::bigint, 0), (r ->> 'last_at')::double precision
    from jsonb_array_elements(p_rows) as r
   where nullif(r ->> 'scope', '') is not null and nullif(r ->> 'kind', '') is not null
  on conflict (scope, kind) do update
    set n = c.n + excluded.n,
        last_at = greatest(c.last_at, excluded.last_at);
end
$$;

alter table public.wpp_console_test_messages enable row level security;
alter table public.wpp_console_webhook_seen enable row level security;
alter table public.wpp_console_webhook_counts enable row level security;

-- 5. privileges: service_role only, as every table and function of WPP Console ------------------------------------
revoke all on function public.wpp_note_status_event(text, double precision) from public;
revoke all on function public.wpp_advance_test_message(text, text, text, double precision, text) from public;
revoke all on function public.wpp_webhook_seen(text, text, double precision, double precision) from public;
revoke all on function public.wpp_add_webhook_counts(jsonb) from public;

do $$
declare
  r text;
  t text;
  f text;
  v_tables text[] := array['wpp_console_test_messages', 'wpp_console_webhook_seen', 'wpp_console_webhook_counts'];
  v_functions text[] := array['public.wpp_note_status_event(text, double precision)',
                              'public.wpp_advance_test_message(text, text, text, double precision, text)',
                              'public.wpp_webhook_seen(text, text, double precision, double precision)',
                              'public.wpp_add_webhook_counts(jsonb)'];
begin
  foreach r in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_catalog.pg_roles where rolname = r) then
      foreach t in array v_tables loop
        execute format('revoke all on table public.%I from %I', t, r);
      end loop;
      foreach f in array v_functions loop
        execute format('revoke all on function %s from %I', f, r);
      end loop;
    end if;
  end loop;

  if exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    foreach t in array v_tables loop
      execute format('grant select, insert, update, delete on table public.%I to service_role', t);
      if not exists (select 1 from pg_catalog.pg_policies
                      where schemaname = 'public' and tablename = t and policyname = t || '_service_role') then
        execute format('create policy %I on public.%I for all to service_role using (true) with check (true)',
                       t || '_service_role', t);
      end if;
    end loop;
    foreach f in array v_functions loop
      execute format('grant execute on function %s to service_role', f);
    end loop;
  end if;
end
$$;

-- PostgREST caches the schema: tell it about the new column, tables and functions (a no-op where nobody listens).
notify pgrst, 'reload schema';
