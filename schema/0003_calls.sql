-- 0003_calls: calls (呼叫), linkage work orders (联动工单), the SLA policy behind their
-- deadlines, and the rules of who may move them where (DESIGN §5 "Calls and dispatch").
-- This migration is the database half of issue 4: tables, row-level security, transitions,
-- deadlines and the one-statement call creation with auto-dispatch. The HTTP routes come
-- on top of these functions.

-- Response and resolution limits per urgency (DESIGN §5 "Timers"). A district without its
-- own row uses the built-in defaults of api.sla(). Wall-clock arithmetic for now: the
-- timers issue makes the working-time variants count over the calendar, inside
-- api.deadlines(), without changing its callers.
create table huying.sla_policies (
  district_id          bigint not null references huying.districts(id),
  urgency              text not null check (urgency in ('normal', 'urgent', 'emergency')),
  accept_minutes       integer not null check (accept_minutes between 1 and 525600),
  accept_working       boolean not null,
  resolve_minutes      integer check (resolve_minutes between 1 and 525600),
  resolve_working_days integer check (resolve_working_days between 1 and 365),
  triage_minutes       integer not null check (triage_minutes between 1 and 525600),
  warn_percent         integer not null default 75 check (warn_percent between 1 and 99),
  version              integer not null default 1,
  primary key (district_id, urgency),
  check ((resolve_minutes is null) <> (resolve_working_days is null))
);
comment on table huying.sla_policies is 'A district''s limits per urgency; absent rows mean api.sla() defaults.';

-- A township's call for help. number is human (HY-2026-000123), unique per district.
create table huying.calls (
  id               bigint generated always as identity primary key,
  district_id      bigint not null references huying.districts(id),
  number           text not null,
  township_id      bigint not null references huying.units(id),
  item_id          bigint references huying.items(id),
  item_revision    integer,
  scenario_id      bigint references huying.scenarios(id),
  title            text not null check (char_length(title) between 1 and 200),
  description      text check (char_length(description) <= 4000),
  urgency          text not null check (urgency in ('normal', 'urgent', 'emergency')),
  source           text not null check (source in ('township', 'grid', 'hotline', 'district')),
  grid_id          bigint references huying.grids(id),
  location         jsonb,
  reporter         jsonb,
  attachments      jsonb not null default '[]',
  external_system  text,
  external_id      text,
  status           text not null,
  reported_at      timestamptz,
  created_by_unit  bigint not null references huying.units(id),
  created_by_sub   text not null,
  version          integer not null default 1,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  unique (district_id, number),
  unique (district_id, external_system, external_id),
  check ((external_system is null) = (external_id is null))
);
comment on table huying.calls is 'A call (呼叫) of a township; reporter data lives here only.';
create index calls_township on huying.calls (district_id, township_id, id);
create index calls_status on huying.calls (district_id, status, id);

-- The per-district, per-year counter behind call numbers (gaps allowed, never reused).
create table huying.call_counters (
  district_id  bigint not null references huying.districts(id),
  year         integer not null,
  last         integer not null,
  primary key (district_id, year)
);

-- A linkage work order (联动工单): one call, one department. Clocks start at dispatch.
create table huying.orders (
  id              bigint generated always as identity primary key,
  district_id     bigint not null references huying.districts(id),
  call_id         bigint not null references huying.calls(id),
  department_id   bigint not null references huying.units(id),
  role            text not null check (role in ('lead', 'cooperating')),
  status          text not null,
  accept_by       timestamptz not null,
  resolve_by      timestamptz not null,
  accepted_at     timestamptz,
  resolved_at     timestamptz,
  plan            text,
  resolution      text,
  rework_of       bigint references huying.orders(id),
  overdue         boolean not null default false,
  return_pending  boolean not null default false,
  version         integer not null default 1,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);
comment on table huying.orders is 'A linkage work order to one department for one call.';
-- The department inbox: its orders by status, newest first.
create index orders_inbox on huying.orders (department_id, status, id desc);
create index orders_call on huying.orders (call_id);
-- At most one live order per department per call, and one live lead order per call.
create unique index orders_one_live_per_department on huying.orders (call_id, department_id)
  where status not in ('returned', 'cancelled');
create unique index orders_one_live_lead on huying.orders (call_id)
  where role = 'lead' and status not in ('returned', 'cancelled');

insert into huying.transitions values
  ('call',  'triage',     'dispatch', 'district',   'dispatched'),
  ('call',  'dispatched', 'dispatch', 'district',   'dispatched'),
  ('order', 'dispatched', 'accept',   'department', 'accepted'),
  ('order', 'dispatched', 'resolve',  'department', 'resolved'),
  ('order', 'accepted',   'resolve',  'department', 'resolved'),
  ('call',  'resolved',   'confirm',  'township',   'closed'),
  ('order', 'dispatched', 'plan',     'department', 'accepted'),
  ('order', 'accepted',   'plan',     'department', 'accepted'),
  ('order', 'dispatched', 'cancel',   'district',   'cancelled'),
  ('order', 'accepted',   'cancel',   'district',   'cancelled'),
  ('call',  'triage',     'urgency',  'district',   'triage'),
  ('call',  'dispatched', 'urgency',  'district',   'dispatched');

-- A comment on a call by anyone who sees it (DESIGN §5).
create table huying.comments (
  id           bigint generated always as identity primary key,
  district_id  bigint not null references huying.districts(id),
  call_id      bigint not null references huying.calls(id),
  unit_id      bigint not null references huying.units(id),
  role         text not null,
  sub          text not null,
  text         text not null check (char_length(text) between 1 and 2000),
  attachments  jsonb not null default '[]',
  created_at   timestamptz not null default now()
);
comment on table huying.comments is 'A comment on a call; also an event (call.commented) on its timeline.';
create index comments_call on huying.comments (call_id, id);

select huying.protect(t) from unnest(array['huying.sla_policies', 'huying.calls', 'huying.call_counters',
  'huying.orders', 'huying.comments']::regclass[]) t;

-- Who sees a call (DESIGN §4): the district office all of its district; a township its own
-- calls; a department the calls behind orders sent to it; an integration the calls its own
-- system posted. Orders follow the same lines.
-- plpgsql on purpose: calls' policy asks about orders and orders' about calls, and a SQL
-- function would be inlined into the plan, expanding each policy inside the other.
create function auth.sees_call(c huying.calls) returns boolean
language plpgsql stable as $$
begin
  if c.district_id is distinct from auth.district() then
    return false;
  end if;
  return case auth.role()
    when 'district' then true
    when 'township' then c.township_id = auth.unit()
    when 'integration' then c.external_system = auth.claims() ->> 'system'
    when 'department' then exists (select 1 from huying.orders o
                                    where o.call_id = c.id and o.department_id = auth.unit())
    else false end;
end
$$;

create policy calls_read on huying.calls for select to huying_api using (auth.sees_call(calls));
create policy calls_create on huying.calls for insert to huying_api
  with check (district_id = (select auth.district())
              and ((select auth.role()) in ('district', 'integration')
                   or ((select auth.role()) = 'township' and township_id = (select auth.unit()))));
-- Only the district office changes calls directly (dispatch, urgency); a resolved call is
-- settled by api.call_settle(). The township's own steps (confirm, reopen, cancel) will get
-- their rows here when they are built.
create policy calls_update on huying.calls for update to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy orders_read on huying.orders for select to huying_api
  using (district_id = (select auth.district())
         and case (select auth.role())
               when 'district' then true
               when 'department' then department_id = (select auth.unit())
               else exists (select 1 from huying.calls c where c.id = call_id) -- through calls_read
             end);
create policy orders_create on huying.orders for insert to huying_api
  with check (district_id = (select auth.district()));
create policy orders_update on huying.orders for update to huying_api
  using (district_id = (select auth.district())
         and ((select auth.role()) = 'district' or department_id = (select auth.unit())));
-- Comments: written by whoever sees the call, as themselves; read likewise.
create policy comments_read on huying.comments for select to huying_api
  using (district_id = (select auth.district()) and exists (select 1 from huying.calls c where c.id = call_id));
create policy comments_write on huying.comments for insert to huying_api
  with check (district_id = (select auth.district()) and unit_id = (select auth.unit())
              and exists (select 1 from huying.calls c where c.id = call_id));
grant select on huying.comments to huying_api;
grant insert (district_id, call_id, unit_id, role, sub, text, attachments) on huying.comments to huying_api;
create policy counters_all on huying.call_counters to huying_api
  using (district_id = (select auth.district())) with check (district_id = (select auth.district()));
create policy sla_read on huying.sla_policies for select to huying_api
  using (district_id = (select auth.district()));

-- Events of a call or an order are visible to whoever sees that call or order (DESIGN §4);
-- the rest as in 0002.
drop policy events_read on huying.events;
create policy events_read on huying.events for select to huying_api
  using (district_id = (select auth.district())
         and (subject_type in ('item', 'unit', 'grid')
              or (select auth.role()) = 'district'
              or (subject_type = 'list_change' and exists (
                    select 1 from huying.list_changes c
                     where c.id = subject_id and c.submitted_by_unit_id = (select auth.unit())))
              or (subject_type = 'call' and exists (select 1 from huying.calls c where c.id = subject_id))
              or (subject_type = 'order' and exists (select 1 from huying.orders o where o.id = subject_id))));

grant select on huying.calls, huying.orders, huying.sla_policies, huying.call_counters to huying_api;
grant insert (district_id, number, township_id, item_id, item_revision, scenario_id, title, description, urgency,
              source, grid_id, location, reporter, attachments, external_system, external_id, status, reported_at,
              created_by_unit, created_by_sub) on huying.calls to huying_api;
grant update (status, item_id, item_revision, urgency, version, updated_at) on huying.calls to huying_api;
grant insert (district_id, call_id, department_id, role, status, accept_by, resolve_by, rework_of)
  on huying.orders to huying_api;
grant update (status, accepted_at, resolved_at, plan, resolution, overdue, return_pending, version, updated_at, accept_by, resolve_by)
  on huying.orders to huying_api;
grant insert, update on huying.call_counters to huying_api;

-- The limits of one urgency in the caller's district: its own row, else the defaults of
-- DESIGN §5 (emergency 30 min / 24 h wall-clock; urgent 2 h wall-clock / 3 working days;
-- normal 1 working day / the item's limit, default 5 working days).
create function api.sla(p_urgency text) returns huying.sla_policies
language sql stable as $$
  select coalesce(
    (select p from huying.sla_policies p where p.district_id = auth.district() and p.urgency = p_urgency),
    case p_urgency
      when 'emergency' then row(auth.district(), 'emergency', 30, false, 1440, null, 15, 75, 1)::huying.sla_policies
      when 'urgent' then row(auth.district(), 'urgent', 120, false, null, 3, 60, 75, 1)::huying.sla_policies
      else row(auth.district(), 'normal', 480, true, null, 5, 480, 75, 1)::huying.sla_policies
    end)
$$;

-- The deadlines of an order dispatched at p_from: accept_by from the policy; resolve_by from
-- the stricter of the policy's limit and the scenario's (else the item's) limit in days,
-- except for normal urgency, whose policy limit is only the default for an item without
-- one (DESIGN §5: "normal — resolve within the item's (or scenario's) limit, default 5").
-- Working-time limits are counted as wall-clock here (a working day = 24 h, working minutes =
-- minutes); the calendar issue replaces the arithmetic inside, not the signature.
create function api.deadlines(p_urgency text, p_limit_days integer, p_from timestamptz,
                              out accept_by timestamptz, out resolve_by timestamptz)
language plpgsql stable as $$
declare
  p huying.sla_policies := api.sla(p_urgency);
  days integer;
begin
  accept_by := p_from + make_interval(mins => p.accept_minutes);
  if p.resolve_minutes is not null then
    resolve_by := p_from + make_interval(mins => p.resolve_minutes);
    if p_limit_days is not null and p_from + make_interval(days => p_limit_days) < resolve_by then
      resolve_by := p_from + make_interval(days => p_limit_days);
    end if;
  else
    days := least(p.resolve_working_days, coalesce(p_limit_days, p.resolve_working_days));
    if p_urgency = 'normal' then
      days := coalesce(p_limit_days, p.resolve_working_days);
    end if;
    resolve_by := p_from + make_interval(days => days);
  end if;
end
$$;

-- A timestamp as the API writes it: RFC 3339 with the +08:00 offset (DESIGN §5).
create function api.ts(t timestamptz) returns text
language sql immutable parallel safe as $$
  select to_char(t at time zone 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"')
$$;

-- Masks a phone number for a department's eyes: 13812341234 -> 138****1234.
create function api.mask_phone(phone text) returns text
language sql immutable parallel safe as $$
  select case when phone is null then null
              when char_length(phone) <= 7 then repeat('*', char_length(phone))
              else left(phone, 3) || repeat('*', char_length(phone) - 7) || right(phone, 4) end
$$;

-- An order as the API shows it.
create function api.order_json(o huying.orders) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', o.id, 'call_id', o.call_id, 'department_id', o.department_id, 'role', o.role,
    'status', o.status, 'accept_by', api.ts(o.accept_by), 'resolve_by', api.ts(o.resolve_by), 'accepted_at', api.ts(o.accepted_at),
    'resolved_at', api.ts(o.resolved_at), 'plan', o.plan, 'resolution', o.resolution, 'rework_of', o.rework_of,
    'overdue', o.overdue, 'return_pending', o.return_pending, 'version', o.version, 'created_at', api.ts(o.created_at))
$$;

-- A call as the API shows it to the caller: reporter data masked for a department
-- (DESIGN §5), the live and past orders the caller may see.
create function api.call_json(c huying.calls) returns jsonb
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
    'status', c.status, 'reported_at', api.ts(c.reported_at), 'created_at', api.ts(c.created_at), 'updated_at', api.ts(c.updated_at),
    'version', c.version,
    'orders', coalesce((select jsonb_agg(api.order_json(o) order by o.id) from huying.orders o where o.call_id = c.id), '[]'))
$$;

-- Creates a call (DESIGN §5), in one statement with everything it implies: the number, the
-- item revision in force, and, when the item has a lead department and triage was not
-- asked for, the orders to the lead and cooperating departments with their deadlines; else
-- the call waits in triage. A call with an external_ref already posted answers that call
-- with 200. Every step writes its event. The body was checked by the daemon (types, lengths,
-- unknown fields); this checks what only the database knows.
create function api.call_create(body jsonb, idem_key text) returns setof api.answer
language plpgsql volatile as $$
declare
  d bigint := auth.district();
  prior api.answer := api.idem_begin(idem_key, 'POST /v1/calls', body);
  twp bigint;
  itm huying.items;
  rev huying.item_revisions;
  scen huying.scenarios;
  grid huying.grids;
  ext_system text;
  existing huying.calls;
  c huying.calls;
  yr integer := extract(year from now() at time zone 'Asia/Shanghai');
  seq integer;
  dl record;
  dept bigint;
  errs jsonb;
begin
  if prior.status is not null then  -- (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  if auth.role() not in ('township', 'district', 'integration') then
    raise exception using errcode = 'HY403', message = format('the role %s may not create calls', auth.role());
  end if;
  -- the township: a township calls for itself; others name it
  if auth.role() = 'township' then
    twp := auth.unit();
    if body ? 'township_id' or body ? 'township_code' then
      errs := api.err(errs, null, 'township_id', 'a township calls for itself: leave it out');
    end if;
  else
    select u.id into twp from huying.units u
     where u.district_id = d and u.kind = 'township'
       and (u.id = (body ->> 'township_id')::numeric::bigint or u.code = body ->> 'township_code');
    if twp is null then
      errs := api.err(errs, null, coalesce(case when body ? 'township_code' then 'township_code' end, 'township_id'),
                      'names no township of this district');
    end if;
  end if;
  -- the item (by id or code) and its revision in force now
  if body ? 'item_id' or body ? 'item_code' then
    select i.* into itm from huying.items i
     where i.district_id = d and (i.id = (body ->> 'item_id')::numeric::bigint or i.code = body ->> 'item_code');
    if itm.id is not null then
      select r.* into rev from huying.item_revisions r
       where r.item_id = itm.id and r.effective_from <= api.today() and (r.effective_to is null or r.effective_to > api.today())
       order by r.effective_from desc, r.revision desc limit 1;
    end if;
    if rev.id is null then
      errs := api.err(errs, null, case when body ? 'item_code' then 'item_code' else 'item_id' end,
                      'names no item in force in this district');
    end if;
  end if;
  if body ? 'scenario_id' then
    select s.* into scen from huying.scenarios s
     where s.id = (body ->> 'scenario_id')::numeric::bigint and s.revision_id = rev.id;
    if scen.id is null then
      errs := api.err(errs, null, 'scenario_id', 'names no scenario of this item''s revision in force');
    end if;
  end if;
  if body ? 'grid_id' or body ? 'grid_code' then
    select g.* into grid from huying.grids g
     where g.district_id = d and (g.id = (body ->> 'grid_id')::numeric::bigint or g.code = body ->> 'grid_code');
    if grid.id is null or grid.township_id is distinct from twp then
      errs := api.err(errs, null, case when body ? 'grid_code' then 'grid_code' else 'grid_id' end,
                      'names no grid cell of this township');
    end if;
  end if;
  -- nested values the daemon only type-checked
  if jsonb_typeof(body -> 'reporter') = 'object' and (
       exists (select 1 from jsonb_object_keys(body -> 'reporter') k where k not in ('name', 'phone'))
       or exists (select 1 from jsonb_each(body -> 'reporter') e where jsonb_typeof(e.value) <> 'string')
       or char_length(body -> 'reporter' ->> 'name') > 50 or char_length(body -> 'reporter' ->> 'phone') > 32) then
    errs := api.err(errs, null, 'reporter', 'is {name: up to 50 characters, phone: up to 32}');
  end if;
  if jsonb_typeof(body -> 'location') = 'object' and (
       exists (select 1 from jsonb_object_keys(body -> 'location') k where k not in ('address', 'lat', 'lon'))
       or jsonb_typeof(coalesce(body -> 'location' -> 'address', '""')) <> 'string'
       or char_length(body -> 'location' ->> 'address') > 200
       or jsonb_typeof(coalesce(body -> 'location' -> 'lat', '0')) <> 'number'
       or jsonb_typeof(coalesce(body -> 'location' -> 'lon', '0')) <> 'number'
       or abs((body -> 'location' ->> 'lat')::numeric) > 90 or abs((body -> 'location' ->> 'lon')::numeric) > 180) then
    errs := api.err(errs, null, 'location', 'is {address: up to 200 characters, lat: -90..90, lon: -180..180}');
  end if;
  if jsonb_typeof(body -> 'attachments') = 'array' and (
       jsonb_array_length(body -> 'attachments') > 20
       or exists (select 1 from jsonb_array_elements(body -> 'attachments') a
                   where jsonb_typeof(a) <> 'object'
                      or exists (select 1 from jsonb_object_keys(a) k where k not in ('url', 'name'))
                      or coalesce(a ->> 'url', '') !~ '^https://[^[:space:]]+$' or char_length(a ->> 'url') > 2000
                      or jsonb_typeof(coalesce(a -> 'name', '""')) <> 'string'
                      or char_length(a ->> 'name') > 200)) then
    errs := api.err(errs, null, 'attachments', 'up to 20 of {url: an https URL, name?: up to 200 characters}');
  end if;
  if jsonb_typeof(body -> 'external_ref') = 'object' and (
       exists (select 1 from jsonb_object_keys(body -> 'external_ref') k where k not in ('system', 'id'))
       or char_length(body -> 'external_ref' ->> 'id') not between 1 and 100
       or (body -> 'external_ref' ? 'system' and body -> 'external_ref' ->> 'system' is distinct from auth.claims() ->> 'system')) then
    errs := api.err(errs, null, 'external_ref', 'is {id: 1 to 100 characters, system?: the token''s own system}');
  end if;
  if body ? 'external_ref' and auth.role() <> 'integration' then
    errs := api.err(errs, null, 'external_ref', 'is set by integration tokens only (their system is the token''s)');
  end if;
  if errs is not null then
    raise exception using errcode = 'HY422', message = 'the call has invalid fields',
      detail = jsonb_build_object('errors', (select jsonb_agg(e - 'line') from jsonb_array_elements(errs) e))::text;
  end if;

  -- the hotline's ticket: posting it again answers the call it made
  if body ? 'external_ref' then
    ext_system := auth.claims() ->> 'system';
    select * into existing from huying.calls x
     where x.district_id = d and x.external_system = ext_system and x.external_id = body -> 'external_ref' ->> 'id';
    if existing.id is not null then
      return next api.idem_finish(idem_key, 'POST /v1/calls',
        row(200, '"' || existing.version || '"', '/v1/calls/' || existing.id, api.call_json(existing)::text, false)::api.answer);
      return;
    end if;
  end if;

  insert into huying.call_counters as k (district_id, year, last) values (d, yr, 1)
  on conflict (district_id, year) do update set last = k.last + 1
  returning last into seq;
  insert into huying.calls (district_id, number, township_id, item_id, item_revision, scenario_id, title, description,
         urgency, source, grid_id, location, reporter, attachments, external_system, external_id, status, reported_at,
         created_by_unit, created_by_sub)
  values (d, format('HY-%s-%s', yr, lpad(seq::text, 6, '0')), twp, itm.id, rev.revision, scen.id, body ->> 'title',
          body ->> 'description', coalesce(body ->> 'urgency', 'normal'),
          coalesce(body ->> 'source', case auth.role() when 'integration' then 'hotline' when 'district' then 'district' else 'township' end),
          grid.id, body -> 'location', body -> 'reporter', coalesce(body -> 'attachments', '[]'),
          ext_system, body -> 'external_ref' ->> 'id',
          case when rev.lead_department_id is not null and not coalesce((body ->> 'triage')::boolean, false)
               then 'dispatched' else 'triage' end,
          (body ->> 'reported_at')::timestamptz, auth.unit(), auth.claims() ->> 'sub')
  returning * into c;
  perform api.event('call', c.id, 'call.created', jsonb_build_object('number', c.number, 'status', c.status));

  if c.status = 'dispatched' then
    select * into dl from api.deadlines(c.urgency, coalesce(scen.resolve_limit, rev.resolve_limit), now());
    foreach dept in array array[rev.lead_department_id] || rev.cooperating_department_ids loop
      insert into huying.orders (district_id, call_id, department_id, role, status, accept_by, resolve_by)
      values (d, c.id, dept, case when dept = rev.lead_department_id then 'lead' else 'cooperating' end,
              'dispatched', dl.accept_by, dl.resolve_by);
    end loop;
    perform api.event('call', c.id, 'call.dispatched',
      jsonb_build_object('departments', to_jsonb(array[rev.lead_department_id] || rev.cooperating_department_ids),
                         'accept_by', api.ts(dl.accept_by), 'resolve_by', api.ts(dl.resolve_by)));
  end if;

  return next api.idem_finish(idem_key, 'POST /v1/calls',
    row(201, '"' || c.version || '"', '/v1/calls/' || c.id, api.call_json(c)::text, false)::api.answer);
end
$$;

-- Raises HY403 when the token's role has no transition for this action at all (DESIGN §5
-- check order: role before not-found).
create function api.may(p_entity text, p_action text) returns void
language plpgsql stable as $$
begin
  if not exists (select 1 from huying.transitions t
                  where t.entity = p_entity and t.action = p_action and t.role = auth.role()) then
    raise exception using errcode = 'HY403', message = format('the role %s may not %s a %s', auth.role(), p_action, p_entity);
  end if;
end
$$;

-- Resolves the call when it has a live lead order and every live order (not returned, not
-- cancelled) is resolved. SECURITY DEFINER like api.item_search, for a reason of the same
-- kind: the department that resolved its order may not see the other departments' orders
-- (DESIGN §4), but whether the call is done depends on all of them. It acts only on a call
-- the caller sees, and returns nothing about the others.
create function api.call_settle(p_call bigint) returns void
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
  if exists (select 1 from huying.orders x where x.call_id = c.id and x.role = 'lead' and x.status not in ('returned', 'cancelled'))
     and not exists (select 1 from huying.orders x where x.call_id = c.id and x.status not in ('resolved', 'returned', 'cancelled')) then
    update huying.calls set status = 'resolved', version = version + 1, updated_at = now() where id = c.id;
    perform api.event('call', c.id, 'call.resolved', '{}');
  end if;
end
$$;
revoke execute on function api.call_settle(bigint) from public;

-- accept | resolve an order (the department it was sent to). Resolving a dispatched order
-- accepts it first (both events are written). When every live order of a call is resolved
-- and it has a live lead order, the call is resolved.
create function api.order_act(p_id bigint, p_action text, body jsonb, if_match text, idem_key text default null)
returns setof api.answer
language plpgsql volatile as $$
declare
  route text := format('POST /v1/orders/{id}/%s#%s', p_action, p_id);
  prior api.answer;
  o huying.orders;
  next_status text;
begin
  perform api.may('order', p_action); -- a role that may never act: 403 before anything is looked up
  select * into o from huying.orders where id = p_id and district_id = auth.district() for update;
  if o.id is null then
    raise exception using errcode = 'HY404', message = format('no order %s', p_id);
  end if;
  prior := api.step_begin(idem_key, route, body, o.version, if_match, 'order');
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  next_status := api.transition('order', o.status, p_action);
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
      update huying.calls set status = 'triage', version = version + 1, updated_at = now()
       where id = o.call_id and status = 'dispatched';
      if found then
        perform api.event('call', o.call_id, 'call.triage', jsonb_build_object('reason', 'lead order cancelled'));
      end if;
    else
      perform api.call_settle(o.call_id);
    end if;
    return next api.idem_finish(idem_key, route, row(200, '"' || o.version || '"', null, api.order_json(o)::text, false)::api.answer);
    return;
  end if;
  if p_action in ('resolve', 'plan') and o.status = 'dispatched' then
    update huying.orders set accepted_at = now() where id = o.id;
    perform api.event('order', o.id, 'order.accepted', jsonb_build_object('call_id', o.call_id, 'implicit', true));
  end if;
  update huying.orders set status = next_status,
         plan = case when p_action = 'plan' then body ->> 'plan' else plan end,
         resolve_by = case when p_action = 'plan' then (body ->> 'resolve_by')::timestamptz else resolve_by end,
         accepted_at = case when p_action = 'accept' then now() else accepted_at end,
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

-- Dispatches a call (the district office): from triage, or adding orders to a dispatched
-- call. Sets the item if the call has none (once). Keeps exactly one live lead order and at
-- most one live order per department. body: {item_id | item_code?, orders: [{department_id |
-- department_code, role: lead | cooperating, resolve_by?}]}.
create function api.call_dispatch(p_id bigint, body jsonb, if_match text, idem_key text default null)
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
                                              and x.status not in ('returned', 'cancelled')) then
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
                and x.status not in ('returned', 'cancelled'))::integer <> 1 then
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

-- The township confirms that its resolved call's matter is solved: the call closes.
create function api.call_confirm(p_id bigint, if_match text, idem_key text default null) returns setof api.answer
language plpgsql volatile as $$
declare
  route text := format('POST /v1/calls/{id}/confirm#%s', p_id);
  prior api.answer;
  c huying.calls;
  next_status text;
begin
  perform api.may('call', 'confirm');
  select * into c from huying.calls x where x.id = p_id and x.district_id = auth.district() and x.township_id = auth.unit();
  if c.id is null then
    raise exception using errcode = 'HY404', message = format('no call %s', p_id);
  end if;
  prior := api.step_begin(idem_key, route, '{}', c.version, if_match, 'call');
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  next_status := api.transition('call', c.status, 'confirm');
  perform api.call_close(c.id, c.version);
  select * into c from huying.calls where id = p_id;
  return next api.idem_finish(idem_key, route,
    row(200, '"' || c.version || '"', null, api.call_json(c)::text, false)::api.answer);
end
$$;

-- Closes a resolved call for the township that confirmed it (calls_update lets only the
-- district office write calls, so this one step runs as the owner, checked above).
create function api.call_close(p_id bigint, p_version integer) returns void
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  update huying.calls set status = 'closed', version = version + 1, updated_at = now()
   where id = p_id and status = 'resolved' and version = p_version
     and district_id = auth.district() and township_id = auth.unit() and auth.role() = 'township';
  if found then
    perform api.event('call', p_id, 'call.closed', '{}');
  end if;
end
$$;
revoke execute on function api.call_close(bigint, integer) from public;

-- Changes a call's urgency (the district office): {urgency, reason}. The running deadlines of
-- its live orders are computed again from their dispatch time under the new urgency.
create function api.call_urgency(p_id bigint, body jsonb, if_match text, idem_key text default null) returns setof api.answer
language plpgsql volatile as $$
declare
  route text := format('POST /v1/calls/{id}/urgency#%s', p_id);
  prior api.answer;
  c huying.calls;
  lim integer;
begin
  perform api.may('call', 'urgency');
  select * into c from huying.calls where id = p_id and district_id = auth.district() for update;
  if c.id is null then
    raise exception using errcode = 'HY404', message = format('no call %s', p_id);
  end if;
  prior := api.step_begin(idem_key, route, body, c.version, if_match, 'call');
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  perform api.transition('call', c.status, 'urgency');
  select coalesce(s.resolve_limit, r.resolve_limit) into lim
    from huying.item_revisions r left join huying.scenarios s on s.id = c.scenario_id
   where r.item_id = c.item_id and r.revision = c.item_revision;
  update huying.calls set urgency = body ->> 'urgency', version = version + 1, updated_at = now()
   where id = c.id returning * into c;
  update huying.orders o set accept_by = d.accept_by, resolve_by = d.resolve_by, version = o.version + 1, updated_at = now()
    from huying.orders x cross join lateral api.deadlines(c.urgency, lim, x.created_at) d
   where o.id = x.id and x.call_id = c.id and x.status in ('dispatched', 'accepted') and x.plan is null;
  perform api.event('call', c.id, 'call.urgency_changed', jsonb_build_object('urgency', c.urgency, 'reason', body ->> 'reason'));
  return next api.idem_finish(idem_key, route,
    row(200, '"' || c.version || '"', null, api.call_json(c)::text, false)::api.answer);
end
$$;

-- A call's timeline: its events and those of its orders the caller may see, in order. The
-- token's sub of each actor is shown to the district office only (DESIGN §3).
create function api.event_json(e huying.events) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', e.id, 'type', e.type,
    'subject', jsonb_build_object('type', e.subject_type, 'id', e.subject_id),
    'actor', jsonb_build_object('unit_id', e.actor_unit_id,
                                'unit_name', (select u.name from huying.units u where u.id = e.actor_unit_id),
                                'role', e.actor_role)
             || case when auth.role() = 'district' then jsonb_build_object('sub', e.actor_sub) else '{}' end,
    'data', e.data, 'created_at', api.ts(e.created_at))
$$;

-- A comment on a call (any role that sees it): {text, attachments?}.
create function api.comment_add(p_call bigint, body jsonb, idem_key text default null) returns setof api.answer
language plpgsql volatile as $$
declare
  route text := format('POST /v1/calls/{id}/comments#%s', p_call);
  prior api.answer;
  c huying.calls;
  k huying.comments;
begin
  select * into c from huying.calls where id = p_call and district_id = auth.district();
  if c.id is null then
    raise exception using errcode = 'HY404', message = format('no call %s', p_call);
  end if;
  prior := api.idem_begin(idem_key, route, body);
  if prior.status is not null then  -- (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  if jsonb_typeof(body -> 'attachments') = 'array' and (
       jsonb_array_length(body -> 'attachments') > 20
       or exists (select 1 from jsonb_array_elements(body -> 'attachments') a
                   where jsonb_typeof(a) <> 'object'
                      or exists (select 1 from jsonb_object_keys(a) x where x not in ('url', 'name'))
                      or coalesce(a ->> 'url', '') !~ '^https://[^[:space:]]+$' or char_length(a ->> 'url') > 2000
                      or jsonb_typeof(coalesce(a -> 'name', '""')) <> 'string' or char_length(a ->> 'name') > 200)) then
    raise exception using errcode = 'HY422', message = 'the comment has invalid fields',
      detail = json_build_object('errors', json_build_array(json_build_object('field', 'attachments',
                 'message', 'up to 20 of {url: an https URL, name?: up to 200 characters}')))::text;
  end if;
  insert into huying.comments (district_id, call_id, unit_id, role, sub, text, attachments)
  values (c.district_id, c.id, auth.unit(), auth.role(), auth.claims() ->> 'sub', body ->> 'text', coalesce(body -> 'attachments', '[]'))
  returning * into k;
  perform api.event('call', c.id, 'call.commented', jsonb_build_object('comment_id', k.id, 'text', k.text));
  return next api.idem_finish(idem_key, route, row(201, null, null,
    jsonb_build_object('id', k.id, 'call_id', k.call_id, 'unit_id', k.unit_id,
                       'unit_name', (select u.name from huying.units u where u.id = k.unit_id), 'role', k.role,
                       'text', k.text, 'attachments', k.attachments, 'created_at', api.ts(k.created_at))::text,
    false)::api.answer);
end
$$;

grant usage on type api.answer to huying_api;
grant execute on all functions in schema api to huying_api;
grant execute on all functions in schema auth to huying_api;
