-- WPP Console, part 7: proof of delivery's checks kept in bounds.
--
-- Every delivery check (20261130000000_wpp_console_delivery_proof.sql) used to stay for ever: a fleet of a hundred
-- numbers checked once a day adds 36 500 rows a year. wpp_prune_delivery_checks deletes, in small batches like the
-- other wpp_prune_<table> functions (20261128100000_wpp_console_watch.sql), the checks sent before p_before, except
--   * a check still under way (pending), and
--   * the checks each number's state is read from (view wpp_console_delivery_states): its newest check, its newest
--     proven one, and the first one not delivered after that,
-- so no number's "delivery proven 09:12" or "not delivering since ..." changes when old checks go. Run by the status
-- poller's leaseholder with WPP_KEEP_TEST_MESSAGES_DAYS (90 days by default).
--
-- Runs after 20261130000000_wpp_console_delivery_proof.sql. Idempotent and non-destructive: it only adds.

create index if not exists wpp_console_delivery_checks_sent_idx on public.wpp_console_delivery_checks (sent_at);

create or replace function public.wpp_prune_delivery_checks(p_before double precision, p_limit integer)
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
    raise exception 'wpp_prune_delivery_checks: a time and a positive limit are required' using errcode = '22023';
  end if;
  delete from public.wpp_console_delivery_checks
   where code in (
     select c.code from public.wpp_console_delivery_checks c
      where c.sent_at < p_before and c.status <> 'pending'
        and c.code not in (
          select k.code
            from public.wpp_console_delivery_checks k
            join (select integration_id, max(sent_at) as last_sent,
                         max(case when status = 'proven' then sent_at end) as proven_sent,
                         max(case when status = 'proven' then settled_at end) as proven_settled
                    from public.wpp_console_delivery_checks group by integration_id) s
              on s.integration_id = k.integration_id
           where k.sent_at = s.last_sent
              or (k.status = 'proven' and (k.sent_at = s.proven_sent or k.settled_at = s.proven_settled))
              or (k.status in ('lost', 'dead')
                  and k.sent_at = (select min(f.sent_at) from public.wpp_console_delivery_checks f
                                    where f.integration_id = k.integration_id and f.status in ('lost', 'dead')
                                      and f.sent_at > coalesce(s.proven_sent, -1))))
      order by c.sent_at
      limit p_limit);
  get diagnostics v_n = row_count;
  return v_n;
end
$$;

-- privileges: service_role only, as every function of WPP Console
revoke all on function public.wpp_prune_delivery_checks(double precision, integer) from public;

do $$
declare
  r text;
begin
  foreach r in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_catalog.pg_roles where rolname = r) then
      execute format('revoke all on function public.wpp_prune_delivery_checks(double precision, integer) from %I', r);
    end if;
  end loop;
  if exists (select 1 from pg_catalog.pg_roles where rolname = 'service_role') then
    grant execute on function public.wpp_prune_delivery_checks(double precision, integer) to service_role;
  end if;
end
$$;

-- PostgREST caches the schema: tell it about the new function (a no-op where nobody listens).
notify pgrst, 'reload schema';
