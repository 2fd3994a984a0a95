-- WPP Console, part 6: proof of delivery ("is it really working?").
--
-- An administrator names a witness (a phone that receives a short check message) per school or for every school
-- ('*'). Each connected number sends it a check now and then (at most a set number a day) and on demand; the
-- platform's "delivered" for that message, or the witness number's own incoming-message event, proves delivery. A
-- number that is connected but whose check is not delivered is "not delivering". The per-number state is a view
-- over the checks, read by the pages and by the alert desk.
--
-- Runs after 20261127000000_wpp_console_webhooks.sql. Idempotent and non-destructive: it only adds.
-- RLS on, no policy for anon/authenticated, privileges for service_role only, as every table of WPP Console.
-- Times are Unix seconds (double precision), like the rest of the console's own records.

-- 1. the witnesses --------------------------------------------------------------------------------------------------
create table if not exists public.wpp_console_witnesses (
  scope   text primary key,                          -- a school's organisation id, or '*' for every school
  phone   text not null check (phone ~ '^[0-9]{8,15}$'),  -- digits with the country code
  set_by  text,
  set_at  double precision
);
comment on table public.wpp_console_witnesses is
  'WPP Console: the phone that receives the delivery checks of a school''s numbers (or of every school: scope *).';

-- 2. the checks -----------------------------------------------------------------------------------------------------
create table if not exists public.wpp_console_delivery_checks (
  code             text primary key,                 -- random, carried in the text (a fleet witness names it)
  integration_id   text not null,
  organization_id  text not null default '',
  witness          text not null,                    -- digits with the country code
  sent_at          double precision not null,
  deadline         double precision not null,        -- proven by then, or it is lost
  status           text not null default 'pending'
                   check (status in ('pending', 'proven', 'lost', 'dead', 'not_sent')),
  message_id       text,                             -- the platform's taskId once it took the message
  settled_at       double precision,
  detail           text,                             -- why it failed, in the platform's words (scrubbed)
  actor            text,
  "trigger"        text not null default 'schedule' check ("trigger" in ('schedule', 'manual')),
  proven_by        text                              -- the fleet number that received it (null: "delivered")
);
comment on table public.wpp_console_delivery_checks is
  'WPP Console: check messages from a number to its witness and whether they were delivered.';
create index if not exists wpp_console_delivery_checks_number_idx
  on public.wpp_console_delivery_checks (integration_id, sent_at desc);
create index if not exists wpp_console_delivery_checks_message_idx
  on public.wpp_console_delivery_checks (integration_id, message_id);
create index if not exists wpp_console_delivery_checks_pending_idx
  on public.wpp_console_delivery_checks (deadline) where status = 'pending';

-- a new check, refused (false) while the number has another one pending that is not past its deadline, or already
-- p_max checks sent since p_day_start. One at a time per number (an advisory lock for the transaction), so two
-- replicas, pages or jobs never exceed the limit together.
create or replace function public.wpp_start_delivery_check(p_check jsonb, p_day_start double precision,
                                                           p_max integer)
returns boolean
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  v_id text := nullif(p_check ->> 'integration_id', '');
  v_at double precision := (p_check ->> 'sent_at')::double precision;
begin
  if v_id is null or v_at is null or nullif(p_check ->> 'code', '') is null or p_day_start is null
     or p_max is null then
    raise exception 'wpp_start_delivery_check: a code, an integration_id, a time, a day and a limit are required'
      using errcode = '22023';
  end if;
  perform pg_advisory_xact_lock(hashtextextended('wpp-delivery-check:' || v_id, 0));
  if exists (select 1 from public.wpp_console_delivery_checks c
              where c.integration_id = v_id and c.status = 'pending' and c.deadline > v_at) then
    return false;
  end if;
  if (select count(*) from public.wpp_console_delivery_checks c
       where c.integration_id = v_id and c.sent_at >= p_day_start) >= p_max then
    return false;
  end if;
  insert into public.wpp_console_delivery_checks
    (code, integration_id, organization_id, witness, sent_at, deadline, status, message_id, settled_at, detail,
     actor, "trigger", proven_by)
  values (p_check ->> 'code', v_id, coalesce(p_check ->> 'organization_id', ''), p_check ->> 'witness', v_at,
          (p_check ->> 'deadline')::double precision, coalesce(p_check ->> 'status', 'pending'),
          p_check ->> 'message_id', (p_check ->> 'settled_at')::double precision, p_check ->> 'detail',
          p_check ->> 'actor', coalesce(p_check ->> 'trigger', 'schedule'), p_check ->> 'proven_by');
  return true;
end
$$;

-- 3. each number's state: when delivery was last proven, since when its checks fail (the first lost or dead check
-- after the last proven one), since when one is pending ---------------------------------------------------------------
create or replace view public.wpp_console_delivery_states
with (security_invoker = true) as
select c.integration_id,
       max(case when c.status = 'proven' then c.settled_at end) as proven_at,
       min(case when c.status in ('lost', 'dead') and c.sent_at > coalesce(p.proven_sent, -1)
                then c.sent_at end) as failing_since,
       max(case when c.status = 'pending' then c.sent_at end) as pending_since,
       max(c.sent_at) as last_sent_at,
       count(*) as checks
  from public.wpp_console_delivery_checks c
  left join (select integration_id, max(sent_at) as proven_sent from public.wpp_console_delivery_checks
              where status = 'proven' group by integration_id) p on p.integration_id = c.integration_id
 group by c.integration_id;
comment on view public.wpp_console_delivery_states is
  'WPP Console: per number, when delivery was last proven and since when its delivery checks fail.';

alter table public.wpp_console_witnesses enable row level security;
alter table public.wpp_console_delivery_checks enable row level security;

-- 4. privileges: service_role only, as every table and function of WPP Console ------------------------------------
revoke all on function public.wpp_start_delivery_check(jsonb, double precision, integer) from public;

do $$
declare
  r text;
  t text;
  v_tables text[] := array['wpp_console_witnesses', 'wpp_console_delivery_checks'];
begin
  foreach r in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_catalog.pg_roles where rolname = r) then
      foreach t in array v_tables || array['wpp_console_delivery_states'] loop
        execute format('revoke all on table public.%I from %I', t, r);
      end loop;
      execute format('revoke all on function public.wpp_start_delivery_check(jsonb, double precision, integer) '
                     'from %I', r);
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
    grant select on public.wpp_console_delivery_states to service_role;
    grant execute on function public.wpp_start_delivery_check(jsonb, double precision, integer) to service_role;
  end if;
end
$$;

-- PostgREST caches the schema: tell it about the new tables, view and function (a no-op where nobody listens).
notify pgrst, 'reload schema';
