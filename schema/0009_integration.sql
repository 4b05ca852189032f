-- Integration (DESIGN §5 "Integration and bulk work"): the change feed.
--
-- GET /v1/events?after=&types=&limit= returns every event the token may see (RLS
-- events_read), in commit order, from an opaque cursor. Event ids come from a sequence, so a
-- transaction that began earlier may commit an event with a smaller id after a reader has
-- gone past it; a feed by id would skip it for good. Each event therefore records the id of
-- the transaction that wrote it (txid, pg_current_xact_id()), and the feed walks
-- (txid, id) but returns only events of transactions older than the reader's snapshot xmin —
-- all of them finished, so nothing can still appear behind the cursor. An event shows up in
-- the feed once every transaction that was running when it committed has finished (usually
-- milliseconds; a long import holds the feed back for as long as it runs).

-- A constant default first (no table rewrite; the events written before this migration read
-- as txid 0, i.e. before everything), then the real one for every new event.
alter table huying.events add column txid xid8 not null default '0';
alter table huying.events alter column txid set default pg_current_xact_id();
create index events_feed on huying.events (district_id, txid, id);

-- A department sees the events of its own supervision cases (as it sees the cases); the
-- rest of events_read is unchanged (0003).
drop policy events_read on huying.events;
create policy events_read on huying.events for select to huying_api
  using (district_id = (select auth.district())
         and (subject_type in ('item', 'unit', 'grid')
              or (select auth.role()) = 'district'
              or (subject_type = 'list_change' and exists (
                    select 1 from huying.list_changes c
                     where c.id = subject_id and c.submitted_by_unit_id = (select auth.unit())))
              or (subject_type = 'call' and exists (select 1 from huying.calls c where c.id = subject_id))
              or (subject_type = 'order' and exists (select 1 from huying.orders o where o.id = subject_id))
              or (subject_type = 'supervision' and exists (select 1 from huying.supervisions s where s.id = subject_id))));

-- One page of the feed: p_after is the cursor's keyset [txid as text, id] (or null: from the
-- beginning), p_types the event types wanted (null: all). The answer's next_cursor is always
-- there: after the last event returned, or — when the page is not full, so every finished
-- event has been read — at the horizon (the snapshot's xmin), so that a poller that sees
-- little of a busy district does not read the same invisible rows again on every poll.
create function api.event_feed(p_after jsonb, p_types text[], p_limit integer) returns jsonb
language plpgsql stable as $$
declare
  horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
  from_txid xid8;
  from_id bigint;
  page jsonb;
  n integer;
  last_txid xid8;
  last_id bigint;
begin
  if p_after is not null and not (jsonb_typeof(p_after) = 'array' and jsonb_array_length(p_after) = 2
                                  and coalesce(p_after ->> 0, '') ~ '^[0-9]{1,19}$'
                                  and coalesce(p_after ->> 1, '') ~ '^[0-9]{1,18}$') then
    raise exception using errcode = 'HY400', message = 'malformed cursor',
      detail = json_build_object('errors', json_build_array(json_build_object('field', 'after',
                 'message', 'is not a cursor this API returned')))::text;
  end if;
  from_txid := coalesce((p_after ->> 0)::xid8, '0');
  from_id := coalesce((p_after ->> 1)::bigint, 0);
  select coalesce(jsonb_agg(api.event_json(e) order by e.txid, e.id), '[]'), count(*),
         (array_agg(e.txid order by e.txid desc, e.id desc))[1], (array_agg(e.id order by e.txid desc, e.id desc))[1]
    into page, n, last_txid, last_id
    from (select * from huying.events x
           where x.district_id = auth.district() and (x.txid, x.id) > (from_txid, from_id) and x.txid < horizon
             and (p_types is null or x.type = any(p_types))
           order by x.txid, x.id limit p_limit) e;
  if n < p_limit and horizon > from_txid then
    -- every finished event after the cursor has been read: go on from the horizon
    last_txid := horizon;
    last_id := 0;
  elsif n = 0 then
    last_txid := from_txid;
    last_id := from_id;
  end if;
  return jsonb_build_object('data', page,
                            'next_cursor', api.cursor(jsonb_build_array(last_txid::text, last_id)));
end
$$;
grant execute on function api.event_feed(jsonb, text[], integer) to huying_api;

-- ---- webhooks (signed, at least once, from an outbox) ----------------------------------------
-- The district office subscribes an endpoint to event types of calls and orders. Every event
-- of a subscribed type writes, in its own transaction, one delivery per subscription into
-- the outbox (huying.webhook_deliveries, trigger events_outbox), with its payload as it was
-- then. The deliverer thread of every daemon (server/deliverer.c) claims due deliveries with
-- FOR UPDATE SKIP LOCKED (api.webhook_claim), which also leases them (next_attempt_at moves
-- past the attempt's timeout, so a replica killed mid-attempt only delays them), posts them
-- signed, and records each attempt (api.webhook_done): delivered on 2xx, the subscription
-- disabled on 410, else retried with exponential backoff and jitter until 24 h after the
-- event, then failed. Per call and subscription, deliveries go out in order: one is claimed
-- only when no earlier one of the same call is still pending.
--
-- `system`: a subscription may act for an integration (e.g. the hotline, "89000"): it then
-- gets only the events of the calls that system posted, as an integration token would see
-- them; reporter data is in the payload as sent (the district office and the integration
-- that sent it both see it unmasked, DESIGN §4). The secret is write-only: no answer shows it.
create table huying.webhooks (
  id               bigint generated always as identity primary key,
  district_id      bigint not null references huying.districts(id),
  url              text not null check (char_length(url) between 8 and 2000),
  events           text[] not null check (cardinality(events) between 1 and 50),
  system           text check (char_length(system) between 1 and 64),
  status           text not null default 'active' check (status in ('active', 'disabled', 'deleted')),
  disabled_reason  text,
  created_by_sub   text not null,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now()
);
comment on table huying.webhooks is 'A district''s webhook subscription (its secret is in huying.webhook_secrets).';
create index webhooks_active on huying.webhooks (district_id) where status = 'active';
-- The secrets, apart: the API role may write one (with its subscription) and never read it;
-- only the deliverer's SECURITY DEFINER claim reads them.
create table huying.webhook_secrets (
  webhook_id   bigint primary key references huying.webhooks(id),
  district_id  bigint not null references huying.districts(id),
  secret       text not null check (char_length(secret) between 16 and 256)
);

create table huying.webhook_deliveries (
  id               bigint generated always as identity primary key,
  district_id      bigint not null references huying.districts(id),
  webhook_id       bigint not null references huying.webhooks(id),
  event_id         bigint not null,
  event_uuid       uuid not null unique,
  event_type       text not null,
  call_id          bigint not null,
  payload          jsonb not null,
  status           text not null default 'pending' check (status in ('pending', 'delivered', 'failed', 'cancelled')),
  attempts         integer not null default 0,
  next_attempt_at  timestamptz not null default now(),
  created_at       timestamptz not null default now(),
  delivered_at     timestamptz,
  last_status      integer,
  last_error       text
);
comment on table huying.webhook_deliveries is 'The outbox: one row per event and subscription, written with the event.';
create index webhook_deliveries_due on huying.webhook_deliveries (next_attempt_at) where status = 'pending';
create index webhook_deliveries_call on huying.webhook_deliveries (webhook_id, call_id, id) where status = 'pending';
create index webhook_deliveries_log on huying.webhook_deliveries (webhook_id, id);

create table huying.webhook_attempts (
  id           bigint generated always as identity primary key,
  district_id  bigint not null references huying.districts(id),
  delivery_id  bigint not null references huying.webhook_deliveries(id),
  attempt      integer not null,
  started_at   timestamptz not null,
  duration_ms  integer not null,
  status_code  integer,
  error        text check (char_length(error) <= 500)
);
create index webhook_attempts_delivery on huying.webhook_attempts (delivery_id, id);

select huying.protect(t) from unnest(array['huying.webhooks', 'huying.webhook_secrets', 'huying.webhook_deliveries',
  'huying.webhook_attempts']::regclass[]) t;
-- The district office reads and manages its subscriptions and their logs; nobody else.
create policy webhooks_district on huying.webhooks for all to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district')
  with check (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy webhook_deliveries_district on huying.webhook_deliveries for all to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy webhook_attempts_district on huying.webhook_attempts for select to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy webhook_secrets_write on huying.webhook_secrets for insert to huying_api
  with check (district_id = (select auth.district()) and (select auth.role()) = 'district');
grant select on huying.webhooks to huying_api;
grant insert (district_id, url, events, system, created_by_sub) on huying.webhooks to huying_api;
grant insert on huying.webhook_secrets to huying_api;
grant update (status, disabled_reason, updated_at) on huying.webhooks to huying_api;
grant select on huying.webhook_deliveries, huying.webhook_attempts to huying_api;
grant update (status, next_attempt_at) on huying.webhook_deliveries to huying_api;

-- A call as a webhook carries it: the list row's fields, reporter data as sent.
create function api.webhook_call_json(c huying.calls) returns jsonb
language sql stable as $$
  select api.call_list_json(c) || jsonb_build_object('reporter', c.reporter)
$$;

-- The outbox: one delivery per active subscription of the event's district that names its
-- type (and, for a subscription acting for a system, only events of that system's calls).
create function huying.events_outbox() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  c huying.calls;
  o huying.orders;
begin
  if not exists (select 1 from huying.webhooks w
                  where w.district_id = new.district_id and w.status = 'active' and new.type = any(w.events)) then
    return null;
  end if;
  if new.subject_type = 'order' then
    select * into o from huying.orders x where x.id = new.subject_id;
    select * into c from huying.calls x where x.id = o.call_id;
  else
    select * into c from huying.calls x where x.id = new.subject_id;
  end if;
  insert into huying.webhook_deliveries (district_id, webhook_id, event_id, event_uuid, event_type, call_id, payload)
  select new.district_id, w.id, new.id, u.id, new.type, c.id,
         jsonb_build_object('id', u.id, 'event_id', new.id, 'type', new.type, 'created_at', api.ts(new.created_at),
           'district_id', new.district_id,
           'subject', jsonb_build_object('type', new.subject_type, 'id', new.subject_id),
           'actor', jsonb_build_object('unit_id', new.actor_unit_id, 'role', new.actor_role),
           'data', new.data, 'call', api.webhook_call_json(c),
           'order', case when o.id is not null then api.order_json(o) end)
    from huying.webhooks w cross join lateral (select gen_random_uuid() as id) u
   where w.district_id = new.district_id and w.status = 'active' and new.type = any(w.events)
     and (w.system is null or w.system = c.external_system);
  return null;
end
$$;
create trigger events_outbox after insert on huying.events
  for each row when (new.subject_type in ('call', 'order')) execute function huying.events_outbox();

-- The subscription as the API shows it (never the secret).
create function api.webhook_json(w huying.webhooks) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', w.id, 'url', w.url, 'events', to_jsonb(w.events), 'system', w.system,
    'status', w.status, 'disabled_reason', w.disabled_reason, 'created_at', api.ts(w.created_at),
    'updated_at', api.ts(w.updated_at))
$$;

create function api.webhook_delivery_json(d huying.webhook_deliveries, p_attempts boolean) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', d.id, 'webhook_id', d.webhook_id, 'event_id', d.event_uuid, 'event_type', d.event_type,
    'call_id', d.call_id, 'status', d.status, 'attempts', d.attempts,
    'next_attempt_at', case when d.status = 'pending' then api.ts(d.next_attempt_at) end,
    'created_at', api.ts(d.created_at), 'delivered_at', api.ts(d.delivered_at), 'last_status', d.last_status,
    'last_error', d.last_error)
    || case when p_attempts then jsonb_build_object('log', coalesce((
         select jsonb_agg(jsonb_build_object('attempt', a.attempt, 'started_at', api.ts(a.started_at),
                  'duration_ms', a.duration_ms, 'status', a.status_code, 'error', a.error) order by a.attempt, a.id)
           from huying.webhook_attempts a where a.delivery_id = d.id), '[]')) else '{}' end
$$;

-- POST /v1/webhooks (the district office; the daemon has checked the body and the URL against
-- the SSRF rules): {url, secret, events[], system?}.
create function api.webhook_create(body jsonb, idem_key text default null) returns setof api.answer
language plpgsql volatile as $$
declare
  route text := 'POST /v1/webhooks';
  prior api.answer;
  w huying.webhooks;
  bad text;
begin
  prior := api.idem_begin(idem_key, route, body);
  if prior.status is not null then
    return next prior;
    return;
  end if;
  select t into bad from jsonb_array_elements_text(body -> 'events') t where t !~ '^(call|order)\.[a-z_]{1,60}$' limit 1;
  if bad is not null then
    raise exception using errcode = 'HY422', message = 'the subscription has invalid fields',
      detail = json_build_object('errors', json_build_array(json_build_object('field', 'events',
                 'message', format('%s is not an event type of calls or orders (call.* or order.*)', bad))))::text;
  end if;
  insert into huying.webhooks (district_id, url, events, system, created_by_sub)
  values (auth.district(), body ->> 'url',
          array(select distinct t from jsonb_array_elements_text(body -> 'events') t order by 1),
          body ->> 'system', auth.claims() ->> 'sub')
  returning * into w;
  insert into huying.webhook_secrets (webhook_id, district_id, secret) values (w.id, w.district_id, body ->> 'secret');
  return next api.idem_finish(idem_key, route,
    row(201, null, format('/v1/webhooks/%s', w.id), api.webhook_json(w)::text, false)::api.answer);
end
$$;

-- DELETE /v1/webhooks/{id}: the subscription stops and its pending deliveries are cancelled.
-- A deleted subscription answers 404 everywhere; its rows and log are kept for audit.
create function api.webhook_delete(p_id bigint) returns setof api.answer
language plpgsql volatile as $$
declare
  w huying.webhooks;
begin
  update huying.webhooks set status = 'deleted', updated_at = now()
   where id = p_id and district_id = auth.district() and status <> 'deleted' returning * into w;
  if w.id is null then
    raise exception using errcode = 'HY404', message = format('no webhook %s', p_id);
  end if;
  update huying.webhook_deliveries set status = 'cancelled' where webhook_id = w.id and status = 'pending';
  return next row(204, null, null, null, false)::api.answer;
end
$$;

-- POST /v1/webhooks/{id}/deliveries/{delivery_id}/redeliver: the delivery goes out again at
-- once, with the same event id (the receiver de-duplicates), whatever its state was.
create function api.webhook_redeliver(p_webhook bigint, p_delivery bigint) returns setof api.answer
language plpgsql volatile as $$
declare
  d huying.webhook_deliveries;
begin
  -- (an attempt in flight keeps its lease: the delivery goes out again when that attempt has
  -- been recorded or its lease has run out, never twice at once)
  update huying.webhook_deliveries x set status = 'pending',
         next_attempt_at = case when x.status = 'pending' and x.next_attempt_at > now()
                                     and x.attempts > coalesce((select max(a.attempt) from huying.webhook_attempts a
                                                                 where a.delivery_id = x.id), 0)
                                then x.next_attempt_at else now() end
    from huying.webhooks w
   where x.id = p_delivery and x.webhook_id = p_webhook and w.id = x.webhook_id and w.status = 'active'
     and x.district_id = auth.district()
  returning x.* into d;
  if d.id is null then
    raise exception using errcode = 'HY404', message = format('no delivery %s of an active webhook %s', p_delivery, p_webhook);
  end if;
  return next row(202, null, null, api.webhook_delivery_json(d, true)::text, false)::api.answer;
end
$$;

-- The deliverer (no claims: SECURITY DEFINER, all districts, like api.sweep; it returns the
-- secrets, so only the daemon's own statements call it). Claims up to p_n due deliveries
-- of active subscriptions, each the earliest pending one of its call and subscription, and
-- leases them for p_lease_ms (the attempt's time bound and some): another replica takes a
-- delivery again only when the lease has run out. Returns what an attempt needs.
create function api.webhook_claim(p_n integer, p_lease_ms integer)
returns table (delivery_id bigint, attempt integer, url text, secret text, event_uuid uuid, event_type text, payload text)
language sql volatile security definer set search_path = pg_catalog, pg_temp as $$
  with c as (
    select d.id from huying.webhook_deliveries d
     where d.status = 'pending' and d.next_attempt_at <= now()
       and exists (select 1 from huying.webhooks w where w.id = d.webhook_id and w.status = 'active')
       and not exists (select 1 from huying.webhook_deliveries p
                        where p.webhook_id = d.webhook_id and p.call_id = d.call_id and p.status = 'pending' and p.id < d.id)
     order by d.next_attempt_at, d.id
     limit p_n
     for update of d skip locked
  )
  update huying.webhook_deliveries d
     set attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => p_lease_ms / 1000.0)
    from c, huying.webhooks w
   where d.id = c.id and w.id = d.webhook_id
  returning d.id, d.attempts, w.url, (select k.secret from huying.webhook_secrets k where k.webhook_id = w.id),
            d.event_uuid, d.event_type, d.payload::text
$$;

-- Records one attempt of a claimed delivery (p_attempt: the attempt number the claim gave).
-- 2xx: delivered. 410: the subscription is disabled (its pending deliveries cancelled).
-- Else: retried after p_backoff_ms × 2^(attempt − 1), at most an hour, ±20 % jitter, until
-- 24 h after the event; then failed. A result that comes after the lease ran out and another
-- replica took the delivery again is logged, and changes nothing else.
create function api.webhook_done(p_delivery bigint, p_attempt integer, p_started timestamptz, p_duration_ms integer,
                                 p_status integer, p_error text, p_backoff_ms integer) returns void
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
  d huying.webhook_deliveries;
  wait_ms double precision;
begin
  select * into d from huying.webhook_deliveries where id = p_delivery for update;
  if d.id is null then
    return;
  end if;
  insert into huying.webhook_attempts (district_id, delivery_id, attempt, started_at, duration_ms, status_code, error)
  values (d.district_id, d.id, p_attempt, p_started, p_duration_ms, nullif(p_status, 0), left(p_error, 500));
  if d.attempts <> p_attempt or d.status <> 'pending' then
    return;
  end if;
  if p_status between 200 and 299 then
    update huying.webhook_deliveries set status = 'delivered', delivered_at = now(), last_status = p_status,
           last_error = null where id = d.id;
  elsif p_status = 410 then
    update huying.webhook_deliveries set status = 'failed', last_status = 410,
           last_error = 'the receiver answered 410 Gone: the subscription is disabled' where id = d.id;
    update huying.webhooks set status = 'disabled', disabled_reason = 'the receiver answered 410 Gone', updated_at = now()
     where id = d.webhook_id and status = 'active';
    update huying.webhook_deliveries set status = 'cancelled' where webhook_id = d.webhook_id and status = 'pending';
  else
    wait_ms := least(p_backoff_ms * power(2, least(p_attempt - 1, 30)), 3600000) * (0.8 + random() * 0.4);
    if now() + make_interval(secs => wait_ms / 1000) > d.created_at + interval '24 hours' then
      update huying.webhook_deliveries set status = 'failed', last_status = nullif(p_status, 0), last_error = left(p_error, 500)
       where id = d.id;
    else
      update huying.webhook_deliveries set next_attempt_at = now() + make_interval(secs => wait_ms / 1000),
             last_status = nullif(p_status, 0), last_error = left(p_error, 500)
       where id = d.id;
    end if;
  end if;
end
$$;

grant execute on all functions in schema api to huying_api;
