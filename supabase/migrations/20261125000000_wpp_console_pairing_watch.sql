-- WPP Console, part 3: the pairing panels' heartbeats on the shared status board.
--
-- A number starting or waiting for a scan is asked fast only while someone has its QR code on screen, in any
-- replica: the pairing panel writes a heartbeat (watched_until, Unix seconds) onto the number's board entry, and the
-- one poller reads it with the board. wpp_save_status (part 2) names its columns and never touches this one.
--
-- Runs after 20261124000000_wpp_console_v2.sql. Idempotent and non-destructive: it only adds.

-- 1. when the heartbeat runs out ------------------------------------------------------------------------------------
alter table public.wpp_console_status add column if not exists watched_until double precision;
comment on column public.wpp_console_status.watched_until is
  'WPP Console: a pairing panel shows this number''s QR code until then (Unix seconds); written by wpp_watch_status.';

-- 2. a heartbeat: watched until p_until (never shortened); with p_check_by, the next check no later than it --------
-- One UPDATE of an existing entry (a number never checked yet has none: false, nothing written).
create or replace function public.wpp_watch_status(p_id text, p_until double precision,
                                                   p_check_by double precision default null)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
begin
  if nullif(p_id, '') is null or p_until is null then
    raise exception 'wpp_watch_status: an integration_id and a time are required' using errcode = '22023';
  end if;
  update public.wpp_console_status s
     set watched_until = greatest(s.watched_until, p_until),
         next_check_at = case when p_check_by is null or s.next_check_at is null then s.next_check_at
                              else least(s.next_check_at, p_check_by) end
   where s.integration_id = p_id;
  return found;
end
$$;

-- 3. privileges: service_role only, as every function of WPP Console --------------------------------------------------
revoke all on function public.wpp_watch_status(text, double precision, double precision) from public;

do $$
declare
  r text;
begin
  foreach r in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_catalog.pg_roles where rolname = r) then
      execute format('revoke all on function public.wpp_watch_status(text, double precision, double precision) from %I',
                     r);
    end if;
  end loop;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    grant execute on function public.wpp_watch_status(text, double precision, double precision) to service_role;
  end if;
end
$$;

-- PostgREST caches the schema: tell it about the new column and function (a no-op where nobody listens).
notify pgrst, 'reload schema';
