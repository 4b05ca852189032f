-- 0004_returns: return requests (退单) and the district office's ruling on them (审定),
-- reopening a call (重办) and cancelling one; and one lock order for every step that touches
-- a call (DESIGN §5 "Calls and dispatch"). Issue 4, second migration.

-- ---- columns -------------------------------------------------------------------------------
-- closed_at: when the township confirmed (reopen is allowed within reopen_days of it);
-- duplicate_of: the call a cancelled call duplicated.
alter table huying.calls add column closed_at timestamptz,
                         add column duplicate_of bigint references huying.calls(id);
-- reworked_by: the rework order (重办) that superseded this resolved order when the call was
-- reopened. The old order keeps its status, history and rating (its version does not move);
-- it only stops counting as live, so that the rework is the call's one live lead order.
-- (The rework order's id is taken first and its row inserted after the old order is marked,
-- so that the one-live-order indexes never see two; hence the deferred reference.)
alter table huying.orders add column reworked_by bigint references huying.orders(id) deferrable initially deferred;
grant update (duplicate_of, closed_at) on huying.calls to huying_api;

-- "Live" = not returned, not cancelled, not superseded by a rework (DESIGN §5).
drop index huying.orders_one_live_per_department;
drop index huying.orders_one_live_lead;
create unique index orders_one_live_per_department on huying.orders (call_id, department_id)
  where status not in ('returned', 'cancelled') and reworked_by is null;
create unique index orders_one_live_lead on huying.orders (call_id)
  where role = 'lead' and status not in ('returned', 'cancelled') and reworked_by is null;

-- ---- return requests -------------------------------------------------------------------------
-- A department's request to return an order as not its responsibility (退单), for the
-- district office's ruling. While one is pending the order keeps its status and its clocks;
-- the department may only withdraw the request or resolve the order.
create table huying.return_requests (
  id                       bigint generated always as identity primary key,
  district_id              bigint not null references huying.districts(id),
  order_id                 bigint not null references huying.orders(id),
  call_id                  bigint not null references huying.calls(id),
  department_id            bigint not null references huying.units(id),
  status                   text not null check (status in ('pending', 'upheld', 'overruled', 'withdrawn', 'cancelled')),
  reason                   text not null check (char_length(reason) between 1 and 2000),
  suggested_department_id  bigint references huying.units(id),
  decision_reason          text check (char_length(decision_reason) <= 2000),
  replacement_order_id     bigint references huying.orders(id),
  requested_by_sub         text not null,
  decided_at               timestamptz,
  version                  integer not null default 1,
  created_at               timestamptz not null default now(),
  updated_at               timestamptz not null default now()
);
comment on table huying.return_requests is
  'A return request (退单) on an order: pending → upheld | overruled | withdrawn; cancelled when its call is cancelled.';
create unique index return_requests_one_pending on huying.return_requests (order_id) where status = 'pending';
create index return_requests_queue on huying.return_requests (district_id, status, id desc);
create index return_requests_order on huying.return_requests (order_id, id);
create index return_requests_department on huying.return_requests (department_id, id desc);
select huying.protect('huying.return_requests');
-- The district office sees every request of its district; a department its own; a township
-- and an integration those on the calls they see.
create policy returns_read on huying.return_requests for select to huying_api
  using (district_id = (select auth.district())
         and case (select auth.role())
               when 'district' then true
               when 'department' then department_id = (select auth.unit())
               else exists (select 1 from huying.calls c where c.id = call_id) -- through calls_read
             end);
create policy returns_create on huying.return_requests for insert to huying_api
  with check (district_id = (select auth.district()) and (select auth.role()) = 'department'
              and department_id = (select auth.unit()));
-- A department's only write is withdrawing its own request; rulings are the office's.
create policy returns_update on huying.return_requests for update to huying_api
  using (district_id = (select auth.district())
         and ((select auth.role()) = 'district' or department_id = (select auth.unit())))
  with check ((select auth.role()) = 'district' or status = 'withdrawn');
grant select on huying.return_requests to huying_api;
grant insert (district_id, order_id, call_id, department_id, status, reason, suggested_department_id, requested_by_sub)
  on huying.return_requests to huying_api;
grant update (status, decision_reason, replacement_order_id, decided_at, version, updated_at)
  on huying.return_requests to huying_api;

insert into huying.transitions values
  -- asking for a return keeps the order's status (return_pending marks it)
  ('order',  'dispatched', 'return',        'department', 'dispatched'),
  ('order',  'accepted',   'return',        'department', 'accepted'),
  ('return', 'pending',    'withdraw',      'department', 'withdrawn'),
  ('return', 'pending',    'uphold',        'district',   'upheld'),
  ('return', 'pending',    'overrule',      'district',   'overruled'),
  -- what an upheld return does to its order
  ('order',  'dispatched', 'uphold_return', 'district',   'returned'),
  ('order',  'accepted',   'uphold_return', 'district',   'returned'),
  ('call',   'resolved',   'reopen',        'township',   'dispatched'),
  ('call',   'closed',     'reopen',        'township',   'dispatched'),
  -- a township cancels its call before any order is accepted (checked in api.call_cancel)
  ('call',   'triage',     'cancel',        'township',   'cancelled'),
  ('call',   'dispatched', 'cancel',        'township',   'cancelled'),
  ('call',   'triage',     'cancel',        'district',   'cancelled'),
  ('call',   'dispatched', 'cancel',        'district',   'cancelled'),
  ('call',   'resolved',   'cancel',        'district',   'cancelled');

-- The district's reopen window in days (DESIGN §5, default 7). The settings issue reads the
-- district's own value here; callers do not change.
create function api.reopen_days() returns integer
language sql stable as $$ select 7 $$;

-- ---- one lock order ------------------------------------------------------------------------
-- Every step that changes a call or its orders locks the call row first, then the order
-- rows: two steps on one call never deadlock, and a step sees the state the previous one
-- committed. SECURITY DEFINER because a department or a township may not lock a call row
-- under RLS (calls_update is the district office's); it locks only a call the caller sees and
-- returns nothing.
create function api.call_lock(p_call bigint) returns void
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  c huying.calls;
begin
  select * into c from huying.calls where id = p_call and district_id = auth.district() for update;
  if c.id is not null and not auth.sees_call(c) then
    raise exception using errcode = 'HY404', message = format('no call %s', p_call);
  end if;
end
$$;
revoke execute on function api.call_lock(bigint) from public;

-- An order the caller may act on, locked after its call: 404 when it is not visible.
create function api.order_lock(p_id bigint) returns huying.orders
language plpgsql volatile as $$
declare
  o huying.orders;
  cid bigint;
begin
  select x.call_id into cid from huying.orders x where x.id = p_id and x.district_id = auth.district();
  if cid is null then
    raise exception using errcode = 'HY404', message = format('no order %s', p_id);
  end if;
  perform api.call_lock(cid);
  select * into o from huying.orders where id = p_id for update;
  return o;
end
$$;

-- The next status of an order for an action, from the transitions table; while a return
-- request is pending only resolving the order (or withdrawing the request) is possible.
create function api.order_transition(o huying.orders, p_action text) returns text
language plpgsql stable as $$
begin
  if o.return_pending and p_action <> 'resolve' then
    raise exception using errcode = 'HY409',
      message = format('cannot %s this order: a return request is pending (withdraw it, or resolve the order)',
                       replace(p_action, '_', ' ')),
      detail = json_build_object('current_status', o.status, 'return_pending', true)::text;
  end if;
  return api.transition('order', o.status, p_action);
end
$$;

-- ---- the hotline's tickets -----------------------------------------------------------------
-- Two posts of one ticket at once: api.call_create (0003) looks the ticket up, then inserts;
-- the second post would find nothing and hit the unique constraint (a 409 where DESIGN says
-- "posting it again returns the existing call with 200"). The same function now runs behind a
-- transaction lock on (district, system, ticket), so the second post waits for the first and
-- then finds its call. Calls without an external_ref take no lock.
alter function api.call_create(jsonb, text) rename to call_create_unlocked;
create function api.call_create(body jsonb, idem_key text) returns setof api.answer
language plpgsql volatile as $$
begin
  if body ? 'external_ref' and auth.role() = 'integration' then
    perform pg_advisory_xact_lock(hashtextextended(
      format('calls.external_ref %s %s %s', auth.district(), auth.claims() ->> 'system', body -> 'external_ref' ->> 'id'), 0));
  end if;
  return query select * from api.call_create_unlocked(body, idem_key);
end
$$;

-- ---- JSON --------------------------------------------------------------------------------
-- A call as the API shows it; 0003's, with closed_at and duplicate_of.
create or replace function api.call_json(c huying.calls) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', c.id, 'number', c.number, 'district_id', c.district_id,
    'township_id', c.township_id, 'item_id', c.item_id, 'item_revision', c.item_revision,
    'scenario_id', c.scenario_id, 'title', c.title, 'description', c.description, 'urgency', c.urgency,
    'source', c.source, 'grid_id', c.grid_id, 'location', c.location,
    'reporter', case when c.reporter is null then null
                     when auth.role() = 'department'
                       then c.reporter || jsonb_build_object('phone', api.mask_phone(c.reporter ->> 'phone'))
                     else c.reporter end,
    'attachments', c.attachments,
    'external_ref', case when c.external_system is null then null
                         else jsonb_build_object('system', c.external_system, 'id', c.external_id) end,
    'status', c.status, 'duplicate_of', c.duplicate_of, 'reported_at', api.ts(c.reported_at),
    'created_at', api.ts(c.created_at), 'updated_at', api.ts(c.updated_at), 'closed_at', api.ts(c.closed_at),
    'version', c.version,
    'orders', coalesce((select jsonb_agg(api.order_json(o) order by o.id) from huying.orders o where o.call_id = c.id), '[]'))
$$;

-- A return request as the API shows it.
create function api.return_json(r huying.return_requests) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', r.id, 'order_id', r.order_id, 'call_id', r.call_id, 'department_id', r.department_id,
    'status', r.status, 'reason', r.reason, 'suggested_department_id', r.suggested_department_id,
    'decision_reason', r.decision_reason, 'replacement_order_id', r.replacement_order_id,
    'created_at', api.ts(r.created_at), 'decided_at', api.ts(r.decided_at), 'version', r.version)
$$;

-- ---- 0003's steps, with the lock order, return_pending and rework --------------------------
-- Resolves the call when it has a live lead order and every live order is resolved (see
-- 0003 for why this is SECURITY DEFINER); "live" now also excludes superseded orders.
create or replace function api.call_settle(p_call bigint) returns void
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  c huying.calls;
begin
  select * into c from huying.calls where id = p_call for update;
  if c.id is null or not auth.sees_call(c) or c.status <> 'dispatched' then
    return;
  end if;
  if exists (select 1 from huying.orders x where x.call_id = c.id and x.role = 'lead'
               and x.status not in ('returned', 'cancelled') and x.reworked_by is null)
     and not exists (select 1 from huying.orders x where x.call_id = c.id and x.reworked_by is null
                       and x.status not in ('resolved', 'returned', 'cancelled')) then
    update huying.calls set status = 'resolved', version = version + 1, updated_at = now() where id = c.id;
    perform api.event('call', c.id, 'call.resolved', '{}');
  end if;
end
$$;

-- A call without a live lead order goes back to the district office's triage.
create function api.call_to_triage(p_call bigint, p_reason text) returns void
language plpgsql volatile as $$
begin
  update huying.calls set status = 'triage', version = version + 1, updated_at = now()
   where id = p_call and status = 'dispatched';
  if found then
    perform api.event('call', p_call, 'call.triage', jsonb_build_object('reason', p_reason));
  end if;
end
$$;

-- accept | plan | resolve | cancel an order (see 0003). The call is locked first; while a
-- return request is pending only resolve is possible, and resolving closes the request as
-- withdrawn (the department solved the matter after all).
create or replace function api.order_act(p_id bigint, p_action text, body jsonb, if_match text, idem_key text default null)
returns setof api.answer
language plpgsql volatile as $$
declare
  route text := format('POST /v1/orders/{id}/%s#%s', p_action, p_id);
  prior api.answer;
  o huying.orders;
  next_status text;
  rr huying.return_requests;
begin
  perform api.may('order', p_action); -- a role that may never act: 403 before anything is looked up
  o := api.order_lock(p_id);
  prior := api.step_begin(idem_key, route, body, o.version, if_match, 'order');
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  next_status := api.order_transition(o, p_action);
  if p_action = 'plan' then
    -- a plan sets the resolve deadline, within the order's current one (the effective limit
    -- caps plans: DESIGN §5; a longer time needs an extension)
    if (body ->> 'resolve_by')::timestamptz <= now() or (body ->> 'resolve_by')::timestamptz > o.resolve_by then
      raise exception using errcode = 'HY422', message = 'resolve_by must be in the future and no later than the order''s deadline',
        detail = jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('field', 'resolve_by',
                   'message', format('must be after now and at or before %s', api.ts(o.resolve_by)))))::text;
    end if;
  end if;
  if p_action = 'cancel' then
    update huying.orders set status = 'cancelled', version = version + 1, updated_at = now() where id = o.id returning * into o;
    perform api.event('order', o.id, 'order.cancelled', jsonb_build_object('call_id', o.call_id, 'reason', body ->> 'reason'));
    -- a call left without a live lead order goes back to triage; otherwise it may now be done
    if o.role = 'lead' then
      perform api.call_to_triage(o.call_id, 'lead order cancelled');
    else
      perform api.call_settle(o.call_id);
    end if;
    return next api.idem_finish(idem_key, route, row(200, '"' || o.version || '"', null, api.order_json(o)::text, false)::api.answer);
    return;
  end if;
  if p_action in ('resolve', 'plan') and o.status = 'dispatched' then
    perform api.event('order', o.id, 'order.accepted', jsonb_build_object('call_id', o.call_id, 'implicit', true));
  end if;
  if o.return_pending then -- resolving with a return pending: the request is withdrawn
    update huying.return_requests set status = 'withdrawn', decided_at = now(), version = version + 1, updated_at = now()
     where order_id = o.id and status = 'pending' returning * into rr;
    perform api.event('order', o.id, 'order.return_withdrawn',
                      jsonb_build_object('call_id', o.call_id, 'return_id', rr.id, 'implicit', true));
  end if;
  update huying.orders set status = next_status, return_pending = false,
         plan = case when p_action = 'plan' then body ->> 'plan' else plan end,
         resolve_by = case when p_action = 'plan' then (body ->> 'resolve_by')::timestamptz else resolve_by end,
         accepted_at = case when o.status = 'dispatched' then now() else accepted_at end, -- accept, or implicitly
         resolved_at = case when p_action = 'resolve' then now() else resolved_at end,
         resolution = case when p_action = 'resolve' then body ->> 'resolution' else resolution end,
         version = version + 1, updated_at = now()
   where id = o.id returning * into o;
  perform api.event('order', o.id, case when p_action = 'plan' then 'order.planned' else 'order.' || next_status end,
                    jsonb_strip_nulls(jsonb_build_object('call_id', o.call_id, 'resolve_by',
                      case when p_action = 'plan' then api.ts(o.resolve_by) end)));
  if next_status = 'resolved' then
    perform api.call_settle(o.call_id);
  end if;
  return next api.idem_finish(idem_key, route, row(200, '"' || o.version || '"', null, api.order_json(o)::text, false)::api.answer);
end
$$;

-- Closes a resolved call for the township that confirmed it (see 0003), noting when.
create or replace function api.call_close(p_id bigint, p_version integer) returns void
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  update huying.calls set status = 'closed', closed_at = now(), version = version + 1, updated_at = now()
   where id = p_id and status = 'resolved' and version = p_version
     and district_id = auth.district() and township_id = auth.unit() and auth.role() = 'township';
  if found then
    perform api.event('call', p_id, 'call.closed', '{}');
  end if;
end
$$;

-- Dispatch (see 0003), with "live" excluding superseded orders.
create or replace function api.call_dispatch(p_id bigint, body jsonb, if_match text, idem_key text default null)
returns setof api.answer
language plpgsql volatile as $$
declare
  d bigint := auth.district();
  route text := format('POST /v1/calls/{id}/dispatch#%s', p_id);
  prior api.answer;
  c huying.calls;
  itm huying.items;
  rev huying.item_revisions;
  o jsonb;
  i integer := 0;
  dept huying.units;
  errs jsonb;
  leads integer := 0;
  dl record;
  due timestamptz;
  depts bigint[] := '{}';
begin
  perform api.may('call', 'dispatch');
  select * into c from huying.calls where id = p_id and district_id = d for update;
  if c.id is null then
    raise exception using errcode = 'HY404', message = format('no call %s', p_id);
  end if;
  prior := api.step_begin(idem_key, route, body, c.version, if_match, 'call');
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  perform api.transition('call', c.status, 'dispatch');
  -- the item: set once
  if body ? 'item_id' or body ? 'item_code' then
    select it.* into itm from huying.items it
     where it.district_id = d and (it.id = (body ->> 'item_id')::numeric::bigint or it.code = body ->> 'item_code');
    if c.item_id is not null and itm.id is distinct from c.item_id then
      errs := api.err(errs, null, case when body ? 'item_code' then 'item_code' else 'item_id' end, 'the call''s item is already set');
    elsif itm.id = c.item_id then
      -- the call's own item again: it keeps the revision it was created under
      select r.* into rev from huying.item_revisions r where r.item_id = c.item_id and r.revision = c.item_revision;
    elsif itm.id is not null then
      select r.* into rev from huying.item_revisions r
       where r.item_id = itm.id and r.effective_from <= api.today() and (r.effective_to is null or r.effective_to > api.today())
       order by r.effective_from desc, r.revision desc limit 1;
    end if;
    if rev.id is null and errs is null then
      errs := api.err(errs, null, case when body ? 'item_code' then 'item_code' else 'item_id' end, 'names no item in force in this district');
    end if;
  elsif c.item_id is not null then
    select r.* into rev from huying.item_revisions r where r.item_id = c.item_id and r.revision = c.item_revision;
  end if;
  -- the orders: shape first, then what they name
  for o in select jsonb_array_elements(body -> 'orders') loop
    i := i + 1;
    dept := null;
    -- count a lead even in an entry with other faults, so that its own error stands alone
    leads := leads + (jsonb_typeof(o) = 'object' and o ->> 'role' is not distinct from 'lead')::integer;
    if jsonb_typeof(o) <> 'object'
       or exists (select 1 from jsonb_object_keys(o) k where k not in ('department_id', 'department_code', 'role', 'resolve_by'))
       or (o ? 'department_id') = (o ? 'department_code')
       or (o ? 'department_id' and (jsonb_typeof(o -> 'department_id') <> 'number'
                                    or (o ->> 'department_id') !~ '^[1-9][0-9]{0,15}$'))
       or (o ? 'department_code' and jsonb_typeof(o -> 'department_code') <> 'string')
       or coalesce(o ->> 'role', '') not in ('lead', 'cooperating')
       or (o ? 'resolve_by' and jsonb_typeof(o -> 'resolve_by') <> 'string') then
      errs := api.err(errs, null, format('orders[%s]', i - 1), 'is {department_id | department_code, role: lead | cooperating, resolve_by?}');
      depts := depts || null::bigint;
      continue;
    end if;
    select u.* into dept from huying.units u
     where u.district_id = d and u.kind = 'department'
       and (u.id = (o ->> 'department_id')::bigint or u.code = o ->> 'department_code');
    if dept.id is null then
      errs := api.err(errs, null, format('orders[%s].department', i - 1), 'names no department of this district');
    elsif dept.id = any(depts) or exists (select 1 from huying.orders x where x.call_id = c.id and x.department_id = dept.id
                                              and x.status not in ('returned', 'cancelled') and x.reworked_by is null) then
      errs := api.err(errs, null, format('orders[%s].department', i - 1), 'already has a live order on this call');
    end if;
    if o ? 'resolve_by' then
      begin
        due := (o ->> 'resolve_by')::timestamptz;
        if (o ->> 'resolve_by') !~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$' or due <= now() then
          errs := api.err(errs, null, format('orders[%s].resolve_by', i - 1), 'must be a future RFC 3339 timestamp with an offset');
        end if;
      exception when invalid_datetime_format or datetime_field_overflow then
        errs := api.err(errs, null, format('orders[%s].resolve_by', i - 1), 'must be a future RFC 3339 timestamp with an offset');
      end;
    end if;
    depts := depts || dept.id;
  end loop;
  if i = 0 then
    errs := api.err(errs, null, 'orders', 'names at least one department');
  end if;
  if leads + (select count(*) from huying.orders x where x.call_id = c.id and x.role = 'lead'
                and x.status not in ('returned', 'cancelled') and x.reworked_by is null)::integer <> 1 then
    errs := api.err(errs, null, 'orders', 'the call must end with exactly one live lead order');
  end if;
  if errs is not null then
    raise exception using errcode = 'HY422', message = 'the dispatch has invalid fields',
      detail = jsonb_build_object('errors', (select jsonb_agg(e - 'line') from jsonb_array_elements(errs) e))::text;
  end if;
  select * into dl from api.deadlines(c.urgency, rev.resolve_limit, now());
  i := 0;
  for o in select jsonb_array_elements(body -> 'orders') loop
    i := i + 1;
    due := coalesce((o ->> 'resolve_by')::timestamptz, dl.resolve_by);
    insert into huying.orders (district_id, call_id, department_id, role, status, accept_by, resolve_by)
    values (d, c.id, depts[i], o ->> 'role', 'dispatched', dl.accept_by, due);
  end loop;
  update huying.calls set status = 'dispatched', item_id = coalesce(c.item_id, itm.id),
         item_revision = coalesce(c.item_revision, rev.revision), version = version + 1, updated_at = now()
   where id = c.id returning * into c;
  perform api.event('call', c.id, 'call.dispatched', jsonb_build_object('departments', to_jsonb(depts), 'item_id', c.item_id));
  return next api.idem_finish(idem_key, route,
    row(200, '"' || c.version || '"', null, api.call_json(c)::text, false)::api.answer);
end
$$;

-- ---- returns (退单) ---------------------------------------------------------------------------
-- A department asks to return its order as not its responsibility: {reason,
-- suggested_department_id | suggested_department_code?}. The order keeps its status and its
-- clocks and shows return_pending until the district office rules. Answers 201 with the
-- request.
create function api.order_return(p_id bigint, body jsonb, if_match text, idem_key text default null)
returns setof api.answer
language plpgsql volatile as $$
declare
  route text := format('POST /v1/orders/{id}/returns#%s', p_id);
  prior api.answer;
  o huying.orders;
  suggested bigint;
  rr huying.return_requests;
begin
  perform api.may('order', 'return');
  o := api.order_lock(p_id);
  prior := api.step_begin(idem_key, route, body, o.version, if_match, 'order');
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  perform api.order_transition(o, 'return');
  if body ? 'suggested_department_id' or body ? 'suggested_department_code' then
    select u.id into suggested from huying.units u
     where u.district_id = o.district_id and u.kind = 'department' and u.id <> o.department_id
       and (u.id = (body ->> 'suggested_department_id')::numeric::bigint or u.code = body ->> 'suggested_department_code');
    if suggested is null then
      raise exception using errcode = 'HY422', message = 'the return request has invalid fields',
        detail = jsonb_build_object('errors', jsonb_build_array(jsonb_build_object(
                   'field', case when body ? 'suggested_department_code' then 'suggested_department_code' else 'suggested_department_id' end,
                   'message', 'names no other department of this district')))::text;
    end if;
  end if;
  insert into huying.return_requests (district_id, order_id, call_id, department_id, status, reason,
                                      suggested_department_id, requested_by_sub)
  values (o.district_id, o.id, o.call_id, o.department_id, 'pending', body ->> 'reason', suggested, auth.claims() ->> 'sub')
  returning * into rr;
  update huying.orders set return_pending = true, version = version + 1, updated_at = now() where id = o.id;
  perform api.event('order', o.id, 'order.return_requested',
    jsonb_strip_nulls(jsonb_build_object('call_id', o.call_id, 'return_id', rr.id, 'reason', rr.reason,
                                         'suggested_department_id', suggested)));
  return next api.idem_finish(idem_key, route,
    row(201, '"' || rr.version || '"', '/v1/returns/' || rr.id, api.return_json(rr)::text, false)::api.answer);
end
$$;

-- withdraw (the department) | uphold {department_id | department_code?, reason?} |
-- overrule {reason} (the district office) a return request. Upheld: the order is returned;
-- with a department, a replacement order of the same role goes there at once with fresh
-- clocks; a returned lead order without one sends the call back to triage; a returned
-- cooperating order may complete the call. Overruled or withdrawn: the request closes and
-- the order is as it was (its status and deadlines never changed).
create function api.return_act(p_id bigint, p_action text, body jsonb, if_match text, idem_key text default null)
returns setof api.answer
language plpgsql volatile as $$
declare
  route text := format('POST /v1/returns/{id}/%s#%s', p_action, p_id);
  prior api.answer;
  rr huying.return_requests;
  o huying.orders;
  oid bigint;
  c huying.calls;
  dept bigint;
  lim integer;
  dl record;
  repl huying.orders;
begin
  perform api.may('return', p_action);
  select r.order_id into oid from huying.return_requests r where r.id = p_id and r.district_id = auth.district();
  if oid is null then
    raise exception using errcode = 'HY404', message = format('no return request %s', p_id);
  end if;
  o := api.order_lock(oid);
  select * into rr from huying.return_requests where id = p_id for update;
  prior := api.step_begin(idem_key, route, body, rr.version, if_match, 'return request');
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  perform api.transition('return', rr.status, p_action);
  if p_action = 'uphold' then
    perform api.transition('order', o.status, 'uphold_return');
    if body ? 'department_id' or body ? 'department_code' then
      select u.id into dept from huying.units u
       where u.district_id = o.district_id and u.kind = 'department'
         and (u.id = (body ->> 'department_id')::numeric::bigint or u.code = body ->> 'department_code');
      if dept is null or dept = o.department_id or exists (
           select 1 from huying.orders x where x.call_id = o.call_id and x.department_id = dept
              and x.status not in ('returned', 'cancelled') and x.reworked_by is null) then
        raise exception using errcode = 'HY422', message = 'the ruling has invalid fields',
          detail = jsonb_build_object('errors', jsonb_build_array(jsonb_build_object(
                     'field', case when body ? 'department_code' then 'department_code' else 'department_id' end,
                     'message', case when dept is null then 'names no department of this district'
                                     when dept = o.department_id then 'is the department that returned the order'
                                     else 'already has a live order on this call' end)))::text;
      end if;
    end if;
    update huying.orders set status = 'returned', return_pending = false, version = version + 1, updated_at = now()
     where id = o.id returning * into o;
    perform api.event('order', o.id, 'order.returned', jsonb_build_object('call_id', o.call_id, 'return_id', rr.id));
    if dept is not null then
      select * into c from huying.calls where id = o.call_id;
      select coalesce(s.resolve_limit, r.resolve_limit) into lim
        from huying.item_revisions r left join huying.scenarios s on s.id = c.scenario_id
       where r.item_id = c.item_id and r.revision = c.item_revision;
      select * into dl from api.deadlines(c.urgency, lim, now());
      insert into huying.orders (district_id, call_id, department_id, role, status, accept_by, resolve_by)
      values (o.district_id, o.call_id, dept, o.role, 'dispatched', dl.accept_by, dl.resolve_by)
      returning * into repl;
      perform api.event('call', o.call_id, 'call.dispatched',
        jsonb_build_object('departments', jsonb_build_array(dept), 'replaces', o.id,
                           'accept_by', api.ts(dl.accept_by), 'resolve_by', api.ts(dl.resolve_by)));
    elsif o.role = 'lead' then
      perform api.call_to_triage(o.call_id, 'lead order returned');
    else
      perform api.call_settle(o.call_id);
    end if;
  else
    update huying.orders set return_pending = false, version = version + 1, updated_at = now() where id = o.id;
    perform api.event('order', o.id, 'order.return_' || case p_action when 'withdraw' then 'withdrawn' else 'overruled' end,
      jsonb_strip_nulls(jsonb_build_object('call_id', o.call_id, 'return_id', rr.id, 'reason', body ->> 'reason')));
  end if;
  update huying.return_requests set status = api.transition('return', rr.status, p_action),
         decision_reason = body ->> 'reason', replacement_order_id = repl.id, decided_at = now(),
         version = version + 1, updated_at = now()
   where id = rr.id returning * into rr;
  return next api.idem_finish(idem_key, route,
    row(200, '"' || rr.version || '"', null, api.return_json(rr)::text, false)::api.answer);
end
$$;

-- ---- reopen (重办) and cancel ----------------------------------------------------------------
-- A call the caller sees, locked, for a step of the township or the district office: 404
-- when it is not visible.
create function api.call_for_step(p_id bigint) returns huying.calls
language plpgsql volatile as $$
declare
  c huying.calls;
begin
  select * into c from huying.calls x where x.id = p_id and x.district_id = auth.district();
  if c.id is null then
    raise exception using errcode = 'HY404', message = format('no call %s', p_id);
  end if;
  perform api.call_lock(c.id);
  select * into c from huying.calls x where x.id = p_id;
  return c;
end
$$;

-- The township reopens its resolved call, or its closed call within reopen_days of closing:
-- {reason}. A new lead order (rework, 重办) goes to the same department with rework_of and
-- fresh clocks; the call is dispatched again.
create function api.call_reopen(p_id bigint, body jsonb, if_match text, idem_key text default null) returns setof api.answer
language plpgsql volatile as $$
declare
  route text := format('POST /v1/calls/{id}/reopen#%s', p_id);
  prior api.answer;
  c huying.calls;
begin
  perform api.may('call', 'reopen');
  c := api.call_for_step(p_id);
  prior := api.step_begin(idem_key, route, body, c.version, if_match, 'call');
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  perform api.transition('call', c.status, 'reopen');
  if c.status = 'closed' and c.closed_at < now() - make_interval(days => api.reopen_days()) then
    raise exception using errcode = 'HY409',
      message = format('cannot reopen this call: it was closed more than %s days ago', api.reopen_days()),
      detail = json_build_object('current_status', c.status)::text;
  end if;
  perform api.call_reopen_apply(c.id, c.version, body ->> 'reason');
  select * into c from huying.calls where id = p_id;
  return next api.idem_finish(idem_key, route,
    row(200, '"' || c.version || '"', null, api.call_json(c)::text, false)::api.answer);
end
$$;

-- The writes of a reopen, checked again. SECURITY DEFINER like api.call_close: the
-- township may neither write calls nor orders under RLS, and this one step needs both.
create function api.call_reopen_apply(p_id bigint, p_version integer, p_reason text) returns void
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  c huying.calls;
  old huying.orders;
  lim integer;
  dl record;
  rework huying.orders;
begin
  select * into c from huying.calls
   where id = p_id and version = p_version and status in ('resolved', 'closed')
     and district_id = auth.district() and township_id = auth.unit() and auth.role() = 'township'
     for update;
  if c.id is null then
    return;
  end if;
  select * into old from huying.orders x
   where x.call_id = c.id and x.role = 'lead' and x.status = 'resolved' and x.reworked_by is null
   order by x.id desc limit 1 for update;
  if old.id is null then
    raise exception using errcode = 'HY409', message = 'cannot reopen this call: it has no resolved lead order',
      detail = json_build_object('current_status', c.status)::text;
  end if;
  select coalesce(s.resolve_limit, r.resolve_limit) into lim
    from huying.item_revisions r left join huying.scenarios s on s.id = c.scenario_id
   where r.item_id = c.item_id and r.revision = c.item_revision;
  select * into dl from api.deadlines(c.urgency, lim, now());
  rework.id := nextval(pg_get_serial_sequence('huying.orders', 'id'));
  update huying.orders set reworked_by = rework.id where id = old.id;
  insert into huying.orders (id, district_id, call_id, department_id, role, status, accept_by, resolve_by, rework_of)
  overriding system value
  values (rework.id, c.district_id, c.id, old.department_id, 'lead', 'dispatched', dl.accept_by, dl.resolve_by, old.id)
  returning * into rework;
  update huying.calls set status = 'dispatched', closed_at = null, version = version + 1, updated_at = now() where id = c.id;
  perform api.event('call', c.id, 'call.reopened',
    jsonb_build_object('reason', p_reason, 'order_id', rework.id, 'rework_of', old.id, 'department_id', old.department_id,
                       'accept_by', api.ts(dl.accept_by), 'resolve_by', api.ts(dl.resolve_by)));
end
$$;

-- Cancels a call: the township before any of its orders was accepted, the district office
-- until it closes: {reason, duplicate_of?}. Its live orders are cancelled and their pending
-- return requests closed.
create function api.call_cancel(p_id bigint, body jsonb, if_match text, idem_key text default null) returns setof api.answer
language plpgsql volatile as $$
declare
  route text := format('POST /v1/calls/{id}/cancel#%s', p_id);
  prior api.answer;
  c huying.calls;
  dup huying.calls;
begin
  perform api.may('call', 'cancel');
  c := api.call_for_step(p_id);
  prior := api.step_begin(idem_key, route, body, c.version, if_match, 'call');
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  perform api.transition('call', c.status, 'cancel');
  if auth.role() = 'township' and exists (select 1 from huying.orders x where x.call_id = c.id and x.accepted_at is not null) then
    raise exception using errcode = 'HY409',
      message = 'cannot cancel this call: a department has accepted an order of it (ask the district office)',
      detail = json_build_object('current_status', c.status)::text;
  end if;
  if body ? 'duplicate_of' then
    select * into dup from huying.calls x
     where x.id = (body ->> 'duplicate_of')::numeric::bigint and x.district_id = auth.district() and x.id <> c.id;
    if dup.id is null or dup.status = 'cancelled' then
      raise exception using errcode = 'HY422', message = 'the cancellation has invalid fields',
        detail = jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('field', 'duplicate_of',
                   'message', case when dup.id is null then 'names no other call you can see' else 'names a cancelled call' end)))::text;
    end if;
  end if;
  perform api.call_cancel_apply(c.id, c.version, body ->> 'reason', dup.id);
  select * into c from huying.calls where id = p_id;
  return next api.idem_finish(idem_key, route,
    row(200, '"' || c.version || '"', null, api.call_json(c)::text, false)::api.answer);
end
$$;

-- The writes of a cancellation, checked again (SECURITY DEFINER for the township's case,
-- as api.call_reopen_apply).
create function api.call_cancel_apply(p_id bigint, p_version integer, p_reason text, p_duplicate_of bigint) returns void
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  c huying.calls;
  o huying.orders;
  rr huying.return_requests;
begin
  update huying.calls set status = 'cancelled', duplicate_of = p_duplicate_of, version = version + 1, updated_at = now()
   where id = p_id and version = p_version and district_id = auth.district()
     and (auth.role() = 'district'
          or (auth.role() = 'township' and township_id = auth.unit() and status in ('triage', 'dispatched')))
     and status in ('triage', 'dispatched', 'resolved')
  returning * into c;
  if c.id is null then
    return;
  end if;
  for rr in update huying.return_requests set status = 'cancelled', decided_at = now(), version = version + 1, updated_at = now()
             where call_id = c.id and status = 'pending' returning * loop
    perform api.event('order', rr.order_id, 'order.return_cancelled', jsonb_build_object('call_id', c.id, 'return_id', rr.id));
  end loop;
  for o in update huying.orders set status = 'cancelled', return_pending = false, version = version + 1, updated_at = now()
            where call_id = c.id and status in ('dispatched', 'accepted') returning * loop
    perform api.event('order', o.id, 'order.cancelled', jsonb_build_object('call_id', c.id, 'reason', p_reason));
  end loop;
  perform api.event('call', c.id, 'call.cancelled',
    jsonb_strip_nulls(jsonb_build_object('reason', p_reason, 'duplicate_of', p_duplicate_of)));
end
$$;

revoke execute on function api.call_reopen_apply(bigint, integer, text) from public;
revoke execute on function api.call_cancel_apply(bigint, integer, text, bigint) from public;
grant execute on all functions in schema api to huying_api;
