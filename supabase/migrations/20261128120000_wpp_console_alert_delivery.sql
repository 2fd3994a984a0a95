-- WPP Console, part 6: alerts delivered once, with a stable id (issue 23).
--
-- * An alert is claimed before it is sent: one conditional update makes it "sending" by one replica (claimed_by)
--   until claim_until, shorter than the "alert-sender" lease; a send that outlives it is given up by its sender, and
--   only then may another try it (at least once, never two senders at the same time).
-- * uid: the alert's stable id (the e-mail's Message-ID, the webhook's "id" and Idempotency-Key), the same on every
--   try, so a receiver can drop a duplicate.
-- * reported_at: when the "*" recipients were told that a failed alert could not be delivered (told once).
-- * incidents.noticed_at: when the status engine recorded the drop (the drop's identity across replicas), while
--   started_at is when the number was last seen well.
--
-- Runs after 20261127000000_wpp_console_webhooks.sql. Idempotent and non-destructive: it only adds (and widens the
-- allowed statuses). Times are Unix seconds (double precision).

alter table public.wpp_console_alerts add column if not exists uid text;
alter table public.wpp_console_alerts add column if not exists claimed_by text;
alter table public.wpp_console_alerts add column if not exists claim_until double precision;
alter table public.wpp_console_alerts add column if not exists reported_at double precision;
comment on column public.wpp_console_alerts.uid is
  'The alert''s stable id: e-mail Message-ID, webhook id and Idempotency-Key (same on every try).';
comment on column public.wpp_console_alerts.claimed_by is 'The replica sending it (status sending) or that sent it.';
comment on column public.wpp_console_alerts.claim_until is 'Until when the sender''s claim holds (Unix seconds).';

-- the statuses: "sending" added (the constraint made by part 4 had the default name)
alter table public.wpp_console_alerts drop constraint if exists wpp_console_alerts_status_check;
alter table public.wpp_console_alerts add constraint wpp_console_alerts_status_check
  check (status in ('pending', 'sending', 'retry', 'sent', 'failed'));

-- what a sender looks for: due alerts, and claims that ran out
create index if not exists wpp_console_alerts_claim_idx on public.wpp_console_alerts (status, claim_until);
-- what the "*" recipients have not been told yet
create index if not exists wpp_console_alerts_unreported_idx on public.wpp_console_alerts (status)
  where reported_at is null;
-- pruning: delivered alerts by when they went out
create index if not exists wpp_console_alerts_sent_idx on public.wpp_console_alerts (sent_at) where status = 'sent';

alter table public.wpp_console_incidents add column if not exists noticed_at double precision;
comment on column public.wpp_console_incidents.noticed_at is
  'When the status engine recorded the drop; started_at is when the number was last seen well (Unix seconds).';
-- pruning: closed incidents by when they were closed
create index if not exists wpp_console_incidents_closed_idx on public.wpp_console_incidents (closed_at)
  where closed_at is not null;

-- PostgREST caches the schema: tell it about the new columns (a no-op where nobody listens).
notify pgrst, 'reload schema';
