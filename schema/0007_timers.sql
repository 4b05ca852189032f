-- 0007_timers: the running deadlines (DESIGN §5 "Timers, calendar, supervision"), part 2 of
-- issue 5: one timer per deadline (a call's triage, an order's accept and resolve), kept by
-- triggers on calls and orders so that every path that starts, moves or stops a deadline
-- (creation, dispatch, a ruling, rework, accept, plan, resolve, cancel, an urgency change, an
-- extension, a calendar edit) keeps its timer without knowing about it; the sweep that fires
-- warnings, overdue marks, supervisions (督办) and escalations exactly once however many
-- daemons run; supervisions, notices and extensions.

-- ---- columns -------------------------------------------------------------------------------
-- A call in triage can go overdue too (its triage timer); resolved_at dates auto-close.
alter table huying.calls add column overdue boolean not null default false,
                         add column resolved_at timestamptz;
create index calls_auto_close on huying.calls (resolved_at) where status = 'resolved';
create index idempotency_created on huying.idempotency (created_at);

-- ---- timers --------------------------------------------------------------------------------
-- lim is the limit the deadline was counted with ({"minutes", "clock"} | {"working_days"}, see
-- 0006) or {"until": instant} for a deadline given as an instant (a plan, a dispatch's
-- resolve_by, an approved extension); a calendar edit recomputes the former and keeps the
-- latter. fire_at is when the sweep must look at the timer next (warn_at, due_at, escalate_at
-- by state; NULL once escalated or stopped): the sweep reads only the index on it.
create table huying.timers (
  id           bigint generated always as identity primary key,
  district_id  bigint not null references huying.districts(id),
  call_id      bigint not null references huying.calls(id),
  order_id     bigint references huying.orders(id),
  department_id bigint references huying.units(id),
  kind         text not null check (kind in ('triage', 'accept', 'resolve')),
  lim          jsonb not null,
  started_at   timestamptz not null,
  due_at       timestamptz not null,
  warn_at      timestamptz not null,
  escalate_at  timestamptz not null,
  state        text not null default 'running' check (state in ('running', 'warning', 'overdue', 'escalated', 'stopped')),
  fire_at      timestamptz,
  stopped_at   timestamptz,
  updated_at   timestamptz not null default now(),
  check ((order_id is null) = (kind = 'triage'))
);
comment on table huying.timers is 'A running deadline: a call''s triage, an order''s accept or resolve (DESIGN §5).';
create index timers_fire on huying.timers (fire_at) where fire_at is not null;
create index timers_order on huying.timers (order_id, kind) where order_id is not null;
create index timers_call on huying.timers (call_id, kind);
create index timers_list on huying.timers (district_id, id desc);

-- ---- supervisions, notices, extensions -----------------------------------------------------
-- A supervision case (督办) of the district office on one order: opened by the sweep when a
-- timer of the order goes overdue, or by hand; at most one open per order.
create table huying.supervisions (
  id             bigint generated always as identity primary key,
  district_id    bigint not null references huying.districts(id),
  order_id       bigint not null references huying.orders(id),
  call_id        bigint not null references huying.calls(id),
  department_id  bigint not null references huying.units(id),
  status         text not null default 'open' check (status in ('open', 'closed')),
  opened_by      text not null check (opened_by in ('system', 'district')),
  reason         text not null check (char_length(reason) between 1 and 2000),
  timer_id       bigint references huying.timers(id),
  close_reason   text check (char_length(close_reason) <= 2000),
  version        integer not null default 1,
  created_at     timestamptz not null default now(),
  closed_at      timestamptz,
  updated_at     timestamptz not null default now()
);
create unique index supervisions_one_open on huying.supervisions (order_id) where status = 'open';
create index supervisions_list on huying.supervisions (district_id, status, id desc);
create index supervisions_department on huying.supervisions (department_id, id desc);

-- A reminder, notice (通报) or rectification order (责令整改) to a department on a supervision.
create table huying.notices (
  id              bigint generated always as identity primary key,
  district_id     bigint not null references huying.districts(id),
  supervision_id  bigint not null references huying.supervisions(id),
  department_id   bigint not null references huying.units(id),
  kind            text not null check (kind in ('reminder', 'notice', 'rectification')),
  text            text not null check (char_length(text) between 1 and 2000),
  created_by_sub  text not null,
  created_at      timestamptz not null default now()
);
create index notices_supervision on huying.notices (supervision_id, id);
create index notices_department on huying.notices (department_id, id desc);
create index notices_list on huying.notices (district_id, id desc);

-- A department's request for more time on an order (延期): pending → approved | rejected.
create table huying.extensions (
  id               bigint generated always as identity primary key,
  district_id      bigint not null references huying.districts(id),
  order_id         bigint not null references huying.orders(id),
  call_id          bigint not null references huying.calls(id),
  department_id    bigint not null references huying.units(id),
  status           text not null default 'pending' check (status in ('pending', 'approved', 'rejected')),
  resolve_by       timestamptz not null,
  previous_resolve_by timestamptz not null,
  reason           text not null check (char_length(reason) between 1 and 2000),
  decision_reason  text check (char_length(decision_reason) <= 2000),
  requested_by_sub text not null,
  version          integer not null default 1,
  created_at       timestamptz not null default now(),
  decided_at       timestamptz,
  updated_at       timestamptz not null default now()
);
create unique index extensions_one_pending on huying.extensions (order_id) where status = 'pending';
create index extensions_list on huying.extensions (district_id, status, id desc);
create index extensions_department on huying.extensions (department_id, id desc);

insert into huying.transitions values
  ('supervision', 'open',       'close',    'district',   'closed'),
  ('supervision', 'open',       'notice',   'district',   'open'),
  ('order',       'dispatched', 'extend',   'department', 'dispatched'),
  ('order',       'accepted',   'extend',   'department', 'accepted'),
  ('extension',   'pending',    'approve',  'district',   'approved'),
  ('extension',   'pending',    'reject',   'district',   'rejected');

select huying.protect(t) from unnest(array['huying.timers', 'huying.supervisions', 'huying.notices',
  'huying.extensions']::regclass[]) t;

-- Timers: the district office all; a department its own orders'; a township and an
-- integration those of the calls they see (through calls_read).
create policy timers_read on huying.timers for select to huying_api
  using (district_id = (select auth.district())
         and case (select auth.role())
               when 'district' then true
               when 'department' then department_id = (select auth.unit())
               else exists (select 1 from huying.calls c where c.id = call_id)
             end);
-- Supervisions and notices: the district office and the department concerned (DESIGN §4).
create policy supervisions_read on huying.supervisions for select to huying_api
  using (district_id = (select auth.district())
         and ((select auth.role()) = 'district'
              or ((select auth.role()) = 'department' and department_id = (select auth.unit()))));
create policy supervisions_write on huying.supervisions for all to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district')
  with check (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy notices_read on huying.notices for select to huying_api
  using (district_id = (select auth.district())
         and ((select auth.role()) = 'district'
              or ((select auth.role()) = 'department' and department_id = (select auth.unit()))));
create policy notices_write on huying.notices for insert to huying_api
  with check (district_id = (select auth.district()) and (select auth.role()) = 'district');
-- Extensions: the district office all; a department its own; a township those of its calls.
create policy extensions_read on huying.extensions for select to huying_api
  using (district_id = (select auth.district())
         and case (select auth.role())
               when 'district' then true
               when 'department' then department_id = (select auth.unit())
               else exists (select 1 from huying.calls c where c.id = call_id)
             end);
create policy extensions_create on huying.extensions for insert to huying_api
  with check (district_id = (select auth.district()) and (select auth.role()) = 'department'
              and department_id = (select auth.unit()));
create policy extensions_update on huying.extensions for update to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district');
grant select on huying.timers, huying.supervisions, huying.notices, huying.extensions to huying_api;
grant insert (district_id, order_id, call_id, department_id, opened_by, reason) on huying.supervisions to huying_api;
grant update (status, close_reason, version, closed_at, updated_at) on huying.supervisions to huying_api;
grant insert (district_id, supervision_id, department_id, kind, text, created_by_sub) on huying.notices to huying_api;
grant insert (district_id, order_id, call_id, department_id, resolve_by, previous_resolve_by, reason, requested_by_sub)
  on huying.extensions to huying_api;
grant update (status, decision_reason, version, decided_at, updated_at) on huying.extensions to huying_api;

-- ---- a timer's instants ----------------------------------------------------------------------
-- The deadline of limit lim counted from t (an {"until"} limit is its own deadline).
create function api.timer_due(t timestamptz, lim jsonb) returns timestamptz
language sql stable as $$
  select case when lim ? 'until' then (lim ->> 'until')::timestamptz else api.limit_due(t, lim) end
$$;

-- When a timer started at t and due at due warns: at warn_percent of its span, counted in
-- the time its limit counts in (office time for working limits, plain time otherwise); and
-- when it escalates: escalation_grace_days working days after its deadline (DESIGN §5:
-- "default 1 working day overdue").
create function api.timer_marks(t timestamptz, due timestamptz, lim jsonb, warn_percent integer,
                                out warn_at timestamptz, out escalate_at timestamptz)
language plpgsql stable as $$
begin
  if lim ? 'working_days' or lim ->> 'clock' = 'working' then
    warn_at := api.add_working_minutes(t, (api.working_minutes_between(t, due) * warn_percent / 100));
  else
    warn_at := t + (due - t) * warn_percent / 100.0;
  end if;
  warn_at := least(warn_at, due);
  escalate_at := api.add_working_days(due, (api.settings()).escalation_grace_days);
end
$$;

-- Starts (or restarts, when its deadline moved) the timer of kind for an order or a triage
-- call. The state follows the new instants: a deadline moved into the future runs again
-- (its warning and overdue fire again, for the new deadline); one still past keeps its
-- overdue or escalated state.
create function api.timer_set(p_call bigint, p_order bigint, p_department bigint, p_kind text, p_started timestamptz,
                              p_due timestamptz, p_lim jsonb, p_urgency text) returns void
language plpgsql volatile as $$
declare
  m record;
  t huying.timers;
begin
  select * into m from api.timer_marks(p_started, p_due, p_lim, (api.sla(p_urgency)).warn_percent);
  select * into t from huying.timers x
   where x.call_id = p_call and x.kind = p_kind and x.order_id is not distinct from p_order and x.state <> 'stopped'
   for update;
  if t.id is null then
    insert into huying.timers (district_id, call_id, order_id, department_id, kind, lim, started_at, due_at, warn_at,
                               escalate_at, fire_at)
    values (auth.district(), p_call, p_order, p_department, p_kind, p_lim, p_started, p_due, m.warn_at, m.escalate_at,
            m.warn_at);
  elsif (t.due_at, t.lim) is distinct from (p_due, p_lim) then
    update huying.timers
       set lim = p_lim, due_at = p_due, warn_at = m.warn_at, escalate_at = m.escalate_at, updated_at = now(),
           state = case when t.state in ('overdue', 'escalated') and p_due <= now() then t.state else 'running' end,
           fire_at = case when t.state = 'escalated' and p_due <= now() then null
                          when t.state = 'overdue' and p_due <= now() then m.escalate_at
                          else m.warn_at end
     where id = t.id;
  end if;
end
$$;

create function api.timer_stop(p_call bigint, p_order bigint, p_kinds text[]) returns void
language sql volatile as $$
  update huying.timers set state = 'stopped', fire_at = null, stopped_at = now(), updated_at = now()
   where call_id = p_call and order_id is not distinct from p_order and kind = any(p_kinds) and state <> 'stopped'
$$;

-- The limits an order's deadlines were counted with: the policy's for its call's urgency when
-- the deadline is what they give from the order's dispatch, else the instant itself.
create function api.order_limits(o huying.orders, out accept_lim jsonb, out resolve_lim jsonb, out urgency text)
language plpgsql stable as $$
declare
  c huying.calls;
  days integer;
begin
  select * into c from huying.calls where id = o.call_id;
  urgency := c.urgency;
  select coalesce(s.resolve_limit, r.resolve_limit) into days
    from huying.item_revisions r left join huying.scenarios s on s.id = c.scenario_id
   where r.item_id = c.item_id and r.revision = c.item_revision;
  -- every path sets accept_by from the policy at the order's dispatch (creation, dispatch,
  -- a ruling, rework, an urgency change, a calendar edit): no need to check it
  accept_lim := api.accept_limit(c.urgency);
  resolve_lim := api.resolve_limit(c.urgency, days, o.created_at);
  if o.plan is not null or api.limit_due(o.created_at, resolve_lim) <> o.resolve_by then
    resolve_lim := jsonb_build_object('until', api.ts(o.resolve_by));
  end if;
end
$$;

-- ---- the triggers ----------------------------------------------------------------------------
-- SECURITY DEFINER: timers are written for whoever's step moved a deadline (a department
-- accepting, a township reopening), and the API role does not write timers itself. They act
-- only on the row that fired them, in the caller's district.
create function huying.orders_timers() returns trigger
language plpgsql security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  l record;
  set_accept boolean;
  set_resolve boolean;
  k text;
  memo jsonb;
  wp integer;
  a record;
  r record;
begin
  if tg_op = 'INSERT' then
    -- a new order: both timers at once. The orders of one dispatch share their deadlines,
    -- so their limits and marks are computed once per transaction (the hot path of call
    -- creation) and remembered in a transaction-local setting.
    k := concat_ws('|', new.call_id, new.created_at, new.accept_by, new.resolve_by);
    memo := nullif(current_setting('huying.timer_memo', true), '')::jsonb;
    if memo is null or memo ->> 'k' is distinct from k then
      select * into l from api.order_limits(new);
      wp := (api.sla(l.urgency)).warn_percent;
      select * into a from api.timer_marks(new.created_at, new.accept_by, l.accept_lim, wp);
      select * into r from api.timer_marks(new.created_at, new.resolve_by, l.resolve_lim, wp);
      memo := jsonb_build_object('k', k, 'al', l.accept_lim, 'rl', l.resolve_lim, 'aw', a.warn_at, 'ae', a.escalate_at,
                                 'rw', r.warn_at, 're', r.escalate_at);
      perform set_config('huying.timer_memo', memo::text, true);
    end if;
    insert into huying.timers (district_id, call_id, order_id, department_id, kind, lim, started_at, due_at, warn_at,
                               escalate_at, fire_at)
    values (new.district_id, new.call_id, new.id, new.department_id, 'accept', memo -> 'al', new.created_at, new.accept_by,
            (memo ->> 'aw')::timestamptz, (memo ->> 'ae')::timestamptz, (memo ->> 'aw')::timestamptz),
           (new.district_id, new.call_id, new.id, new.department_id, 'resolve', memo -> 'rl', new.created_at, new.resolve_by,
            (memo ->> 'rw')::timestamptz, (memo ->> 're')::timestamptz, (memo ->> 'rw')::timestamptz);
    return null;
  end if;
  if new.status in ('dispatched', 'accepted') then
    -- a deadline to (re)start, unless its timer already has it (a calendar edit moves the
    -- timer first, then the order)
    set_accept := new.status = 'dispatched' and new.accept_by is distinct from old.accept_by
      and not exists (select 1 from huying.timers t where t.order_id = new.id and t.kind = 'accept' and t.state <> 'stopped'
                        and t.due_at = new.accept_by);
    set_resolve := (new.resolve_by is distinct from old.resolve_by or new.plan is distinct from old.plan)
      and not exists (select 1 from huying.timers t where t.order_id = new.id and t.kind = 'resolve' and t.state <> 'stopped'
                        and t.due_at = new.resolve_by and (new.plan is null or t.lim ? 'until'));
    if set_accept or set_resolve then
      select * into l from api.order_limits(new);
      if set_accept then
        perform api.timer_set(new.call_id, new.id, new.department_id, 'accept', new.created_at, new.accept_by,
                              l.accept_lim, l.urgency);
      end if;
      if set_resolve then
        perform api.timer_set(new.call_id, new.id, new.department_id, 'resolve', new.created_at, new.resolve_by,
                              l.resolve_lim, l.urgency);
      end if;
    end if;
  end if;
  if new.status is distinct from old.status then
    if new.status <> 'dispatched' then
      perform api.timer_stop(new.call_id, new.id, array['accept']);
    end if;
    if new.status in ('resolved', 'returned', 'cancelled') then
      perform api.timer_stop(new.call_id, new.id, array['resolve']);
    end if;
  end if;
  return null;
end
$$;
create trigger orders_timers after insert or update on huying.orders
  for each row execute function huying.orders_timers();

-- A call's triage timer runs while it is in triage; resolved_at dates the last resolution.
create function huying.calls_before() returns trigger
language plpgsql as $$
begin
  if new.status = 'resolved' and (tg_op = 'INSERT' or old.status <> 'resolved') then
    new.resolved_at := now();
  end if;
  return new;
end
$$;
create trigger calls_before before insert or update on huying.calls
  for each row execute function huying.calls_before();

create function huying.calls_timers() returns trigger
language plpgsql security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  lim jsonb;
  started timestamptz;
begin
  if new.status = 'triage' and (tg_op = 'INSERT' or old.status <> 'triage' or new.urgency <> old.urgency) then
    lim := api.triage_limit(new.urgency);
    started := case when tg_op = 'UPDATE' and old.status = 'triage'
                    then (select max(t.started_at) from huying.timers t where t.call_id = new.id and t.kind = 'triage'
                            and t.state <> 'stopped')
                    else now() end;
    perform api.timer_set(new.id, null, null, 'triage', coalesce(started, now()), api.limit_due(coalesce(started, now()), lim),
                          lim, new.urgency);
  elsif tg_op = 'UPDATE' and old.status = 'triage' and new.status <> 'triage' then
    perform api.timer_stop(new.id, null, array['triage']);
  end if;
  return null;
end
$$;
create trigger calls_timers after insert or update of status, urgency on huying.calls
  for each row execute function huying.calls_timers();

-- ---- a calendar edit moves running deadlines -----------------------------------------------
-- (0006's hook.) Every running timer of the district counted in working time whose deadline
-- the edit moves gets the new one, and so does its order (accept_by, resolve_by) or call;
-- each moved order gets an event order.deadline_moved {kind, from, to}.
create or replace function api.calendar_changed(p_year integer) returns void
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  t record;
  due timestamptz;
begin
  -- the timers whose span [started_at, due_at] meets the year: only they count days of it
  for t in select x.*, c.urgency from huying.timers x join huying.calls c on c.id = x.call_id
            where x.district_id = auth.district() and x.state <> 'stopped' and not x.lim ? 'until'
              and (x.lim ? 'working_days' or x.lim ->> 'clock' = 'working')
              and x.started_at < make_timestamptz(p_year + 1, 1, 1, 0, 0, 0, 'Asia/Shanghai')
              and x.due_at >= make_timestamptz(p_year, 1, 1, 0, 0, 0, 'Asia/Shanghai')
            order by x.id for update of x loop
    due := api.limit_due(t.started_at, t.lim);
    continue when due = t.due_at;
    perform api.timer_set(t.call_id, t.order_id, t.department_id, t.kind, t.started_at, due, t.lim, t.urgency);
    if t.order_id is not null then
      -- the order's own deadline follows (its trigger finds the timer already there)
      update huying.orders set accept_by = case when t.kind = 'accept' then due else accept_by end,
             resolve_by = case when t.kind = 'resolve' then due else resolve_by end,
             version = version + 1, updated_at = now()
       where id = t.order_id;
    end if;
    perform api.event(case when t.order_id is null then 'call' else 'order' end, coalesce(t.order_id, t.call_id),
      case when t.order_id is null then 'call' else 'order' end || '.deadline_moved',
      jsonb_build_object('kind', t.kind, 'from', api.ts(t.due_at), 'to', api.ts(due), 'reason', 'calendar'));
  end loop;
end
$$;

-- ---- the sweep ---------------------------------------------------------------------------------
-- One pass of the sweeper thread (server/sweeper.c), run by every daemon: takes up to p_limit
-- due timers that no other sweep holds (FOR UPDATE SKIP LOCKED: each timer is fired by one
-- transaction, and a sweep killed midway leaves its timers to the next), walks each through
-- every mark it passed — warning, overdue (the sticky flag, a supervision for an order),
-- escalated — with an event for each, in the transaction that changes it; then closes
-- resolved calls nobody confirmed within auto_close_days, and purges Idempotency-Keys older
-- than 24 h. Returns counts. SECURITY DEFINER: the sweep belongs to no district and no token
-- (its events' actor is the system); the daemon runs it with no claims.
create function api.sweep(p_limit integer) returns jsonb
language plpgsql volatile security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  t huying.timers;
  subj text;
  subj_id bigint;
  sup bigint;
  n_fired integer := 0;
  n_warned integer := 0;
  n_overdue integer := 0;
  n_escalated integer := 0;
  n_closed integer := 0;
  n_purged integer := 0;
  c huying.calls;
begin
  for t in select * from huying.timers x where x.fire_at <= now() order by x.fire_at limit p_limit
            for update skip locked loop
    -- the call next, without waiting: steps lock the call before its orders and timers, so
    -- a sweep that waited here could deadlock with one; a busy call's timer is simply
    -- fired by the next pass
    perform 1 from huying.calls where id = t.call_id for update skip locked;
    continue when not found;
    n_fired := n_fired + 1;
    subj := case when t.order_id is null then 'call' else 'order' end;
    subj_id := coalesce(t.order_id, t.call_id);
    loop
      if t.state = 'running' then
        t.state := 'warning';
        t.fire_at := t.due_at;
        n_warned := n_warned + 1;
        insert into huying.events (district_id, subject_type, subject_id, type, actor_role, actor_sub, data)
        values (t.district_id, subj, subj_id, subj || '.timer_warning', 'system', 'huyingd',
                jsonb_build_object('timer_id', t.id, 'kind', t.kind, 'call_id', t.call_id, 'due_at', api.ts(t.due_at)));
      elsif t.state = 'warning' then
        t.state := 'overdue';
        t.fire_at := t.escalate_at;
        n_overdue := n_overdue + 1;
        if t.order_id is not null then
          update huying.orders set overdue = true, version = version + 1, updated_at = now()
           where id = t.order_id and not overdue;
        else
          update huying.calls set overdue = true, version = version + 1, updated_at = now()
           where id = t.call_id and not overdue;
        end if;
        insert into huying.events (district_id, subject_type, subject_id, type, actor_role, actor_sub, data)
        values (t.district_id, subj, subj_id, subj || '.overdue', 'system', 'huyingd',
                jsonb_build_object('timer_id', t.id, 'kind', t.kind, 'call_id', t.call_id, 'due_at', api.ts(t.due_at)));
        if t.order_id is not null then
          sup := null;
          insert into huying.supervisions (district_id, order_id, call_id, department_id, opened_by, reason, timer_id)
          values (t.district_id, t.order_id, t.call_id, t.department_id, 'system',
                  format('%s deadline %s passed', t.kind, api.ts(t.due_at)), t.id)
          on conflict (order_id) where status = 'open' do nothing
          returning id into sup;
          if sup is not null then
            insert into huying.events (district_id, subject_type, subject_id, type, actor_role, actor_sub, data)
            values (t.district_id, 'supervision', sup, 'supervision.opened', 'system', 'huyingd',
                    jsonb_build_object('order_id', t.order_id, 'call_id', t.call_id, 'department_id', t.department_id,
                                       'timer_id', t.id, 'kind', t.kind));
          end if;
        end if;
      elsif t.state = 'overdue' then
        t.state := 'escalated';
        t.fire_at := null;
        n_escalated := n_escalated + 1;
        insert into huying.events (district_id, subject_type, subject_id, type, actor_role, actor_sub, data)
        values (t.district_id, subj, subj_id, subj || '.escalated', 'system', 'huyingd',
                jsonb_build_object('timer_id', t.id, 'kind', t.kind, 'call_id', t.call_id, 'due_at', api.ts(t.due_at)));
      end if;
      exit when t.fire_at is null or t.fire_at > now();
    end loop;
    update huying.timers set state = t.state, fire_at = t.fire_at, updated_at = now() where id = t.id;
  end loop;

  -- resolved calls nobody confirmed (auto_close_days is at least 1: the index range)
  for c in select x.* from huying.calls x
             left join huying.settings s on s.district_id = x.district_id
            where x.status = 'resolved' and x.resolved_at <= now() - interval '1 day'
              and x.resolved_at <= now() - make_interval(days => coalesce(s.auto_close_days, 7))
            order by x.resolved_at limit p_limit
            for update of x skip locked loop
    update huying.calls set status = 'closed', closed_at = now(), version = version + 1, updated_at = now() where id = c.id;
    insert into huying.events (district_id, subject_type, subject_id, type, actor_role, actor_sub, data)
    values (c.district_id, 'call', c.id, 'call.closed', 'system', 'huyingd', jsonb_build_object('auto', true));
    n_closed := n_closed + 1;
  end loop;

  delete from huying.idempotency where ctid = any(array(
    select i.ctid from huying.idempotency i where i.created_at < now() - interval '24 hours' limit p_limit));
  get diagnostics n_purged = row_count;
  return jsonb_build_object('fired', n_fired, 'warned', n_warned, 'overdue', n_overdue, 'escalated', n_escalated,
                            'closed', n_closed, 'purged', n_purged);
end
$$;
revoke execute on function api.sweep(integer) from public;

-- A timer as the API shows it: business_seconds_left counts office time for a working limit
-- and plain time otherwise, negative when overdue.
create function api.timer_json(t huying.timers) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', t.id, 'order_id', t.order_id, 'call_id', t.call_id, 'department_id', t.department_id,
    'kind', t.kind, 'limit', t.lim, 'started_at', api.ts(t.started_at), 'due_at', api.ts(t.due_at),
    'warn_at', api.ts(t.warn_at), 'escalate_at', api.ts(t.escalate_at), 'state', t.state,
    'stopped_at', api.ts(t.stopped_at),
    'business_seconds_left', case when t.state = 'stopped' then null
                                  when t.lim ? 'working_days' or t.lim ->> 'clock' = 'working'
                                    then api.working_seconds_between(now(), t.due_at)
                                  else extract(epoch from t.due_at - now())::bigint end)
$$;

grant execute on all functions in schema api to huying_api;

-- ---- supervisions (督办) ----------------------------------------------------------------------
create function api.notice_json(n huying.notices) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', n.id, 'supervision_id', n.supervision_id, 'department_id', n.department_id,
    'kind', n.kind, 'text', n.text, 'created_at', api.ts(n.created_at))
$$;

create function api.supervision_json(s huying.supervisions) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', s.id, 'order_id', s.order_id, 'call_id', s.call_id, 'department_id', s.department_id,
    'status', s.status, 'opened_by', s.opened_by, 'reason', s.reason, 'timer_id', s.timer_id,
    'close_reason', s.close_reason,
    'notices', coalesce((select jsonb_agg(api.notice_json(n) order by n.id) from huying.notices n where n.supervision_id = s.id), '[]'),
    'created_at', api.ts(s.created_at), 'closed_at', api.ts(s.closed_at), 'version', s.version)
$$;

-- The district office opens a supervision by hand on an order: {order_id, reason}. An order
-- with one open already → 409; an order that is not live (resolved, returned, cancelled) →
-- 409 current_status.
create function api.supervision_open(body jsonb, idem_key text default null) returns setof api.answer
language plpgsql volatile as $$
declare
  route text := 'POST /v1/supervisions';
  prior api.answer;
  o huying.orders;
  s huying.supervisions;
begin
  if auth.role() <> 'district' then
    raise exception using errcode = 'HY403', message = format('the role %s may not open supervisions', auth.role());
  end if;
  prior := api.idem_begin(idem_key, route, body);
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  select * into o from huying.orders x where x.id = (body ->> 'order_id')::numeric::bigint and x.district_id = auth.district();
  if o.id is null then
    raise exception using errcode = 'HY422', message = 'the supervision has invalid fields',
      detail = jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('field', 'order_id',
                 'message', 'names no order of this district')))::text;
  end if;
  perform api.call_lock(o.call_id);
  -- the order as the step before this one committed it (read again under the call's lock,
  -- which every step that changes an order's status holds)
  select * into o from huying.orders x where x.id = o.id;
  if o.status not in ('dispatched', 'accepted') then
    raise exception using errcode = 'HY409', message = format('cannot supervise this order: it is %s', o.status),
      detail = json_build_object('current_status', o.status)::text;
  end if;
  -- the sweep opens supervisions without the call's lock: the unique index decides, and a
  -- case it opened meanwhile is the same 409 as one found here
  insert into huying.supervisions (district_id, order_id, call_id, department_id, opened_by, reason)
  values (o.district_id, o.id, o.call_id, o.department_id, 'district', body ->> 'reason')
  on conflict (order_id) where status = 'open' do nothing
  returning * into s;
  if s.id is null then
    raise exception using errcode = 'HY409', message = 'the order already has an open supervision',
      detail = json_build_object('current_status', o.status,
                                 'supervision_id', (select x.id from huying.supervisions x where x.order_id = o.id and x.status = 'open'))::text;
  end if;
  perform api.event('supervision', s.id, 'supervision.opened',
    jsonb_build_object('order_id', o.id, 'call_id', o.call_id, 'department_id', o.department_id, 'reason', s.reason));
  return next api.idem_finish(idem_key, route,
    row(201, '"' || s.version || '"', '/v1/supervisions/' || s.id, api.supervision_json(s)::text, false)::api.answer);
end
$$;

-- notice {kind, text} | close {reason?} a supervision (the district office).
create function api.supervision_act(p_id bigint, p_action text, body jsonb, if_match text, idem_key text default null)
returns setof api.answer
language plpgsql volatile as $$
declare
  route text := format('POST /v1/supervisions/{id}/%s#%s', p_action, p_id);
  prior api.answer;
  s huying.supervisions;
  n huying.notices;
begin
  perform api.may('supervision', case p_action when 'notices' then 'notice' else p_action end);
  select * into s from huying.supervisions where id = p_id and district_id = auth.district() for update;
  if s.id is null then
    raise exception using errcode = 'HY404', message = format('no supervision %s', p_id);
  end if;
  prior := api.step_begin(idem_key, route, body, s.version, if_match, 'supervision');
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  perform api.transition('supervision', s.status, case p_action when 'notices' then 'notice' else p_action end);
  if p_action = 'notices' then
    insert into huying.notices (district_id, supervision_id, department_id, kind, text, created_by_sub)
    values (s.district_id, s.id, s.department_id, body ->> 'kind', body ->> 'text', auth.claims() ->> 'sub')
    returning * into n;
    update huying.supervisions set version = version + 1, updated_at = now() where id = s.id returning * into s;
    perform api.event('supervision', s.id, 'supervision.notice',
      jsonb_build_object('notice_id', n.id, 'kind', n.kind, 'department_id', n.department_id, 'order_id', s.order_id));
    return next api.idem_finish(idem_key, route,
      row(201, '"' || s.version || '"', null, api.notice_json(n)::text, false)::api.answer);
    return;
  end if;
  update huying.supervisions set status = 'closed', close_reason = body ->> 'reason', closed_at = now(),
         version = version + 1, updated_at = now()
   where id = s.id returning * into s;
  perform api.event('supervision', s.id, 'supervision.closed', jsonb_strip_nulls(jsonb_build_object('reason', s.close_reason)));
  return next api.idem_finish(idem_key, route,
    row(200, '"' || s.version || '"', null, api.supervision_json(s)::text, false)::api.answer);
end
$$;

-- ---- extensions (延期) ---------------------------------------------------------------------------
create function api.extension_json(x huying.extensions) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', x.id, 'order_id', x.order_id, 'call_id', x.call_id, 'department_id', x.department_id,
    'status', x.status, 'resolve_by', api.ts(x.resolve_by), 'previous_resolve_by', api.ts(x.previous_resolve_by),
    'reason', x.reason, 'decision_reason', x.decision_reason, 'created_at', api.ts(x.created_at),
    'decided_at', api.ts(x.decided_at), 'version', x.version)
$$;

-- A department asks for more time on its order: {resolve_by, reason}. It must ask before the
-- lead time (extension_lead_days working days before the current deadline: the request must
-- come no later than the close of office hours that many working days before it... counted
-- as: now + lead time <= resolve_by), and for a later deadline than the current one.
create function api.order_extend(p_id bigint, body jsonb, if_match text, idem_key text default null) returns setof api.answer
language plpgsql volatile as $$
declare
  route text := format('POST /v1/orders/{id}/extensions#%s', p_id);
  prior api.answer;
  o huying.orders;
  due timestamptz;
  lead integer := (api.settings()).extension_lead_days;
  x huying.extensions;
begin
  perform api.may('order', 'extend');
  o := api.order_lock(p_id);
  prior := api.step_begin(idem_key, route, body, o.version, if_match, 'order');
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  perform api.order_transition(o, 'extend');
  if exists (select 1 from huying.extensions e where e.order_id = o.id and e.status = 'pending') then
    raise exception using errcode = 'HY409', message = 'the order already has a pending extension request',
      detail = json_build_object('current_status', o.status,
                                 'extension_id', (select e.id from huying.extensions e where e.order_id = o.id and e.status = 'pending'))::text;
  end if;
  due := (body ->> 'resolve_by')::timestamptz;
  if due <= o.resolve_by then
    raise exception using errcode = 'HY422', message = 'the extension has invalid fields',
      detail = jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('field', 'resolve_by',
                 'message', format('must be later than the current deadline %s', api.ts(o.resolve_by)))))::text;
  end if;
  -- with no lead time it must still be asked before the deadline (DESIGN §5)
  if (case when lead > 0 then api.add_working_days(now(), lead) else now() end) > o.resolve_by then
    raise exception using errcode = 'HY422', message = 'too late to ask for an extension',
      detail = jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('field', 'resolve_by',
                 'message', format('an extension must be asked at least %s working day(s) before the deadline %s',
                                   lead, api.ts(o.resolve_by)))))::text;
  end if;
  insert into huying.extensions (district_id, order_id, call_id, department_id, resolve_by, previous_resolve_by, reason,
                                 requested_by_sub)
  values (o.district_id, o.id, o.call_id, o.department_id, due, o.resolve_by, body ->> 'reason', auth.claims() ->> 'sub')
  returning * into x;
  perform api.event('order', o.id, 'order.extension_requested',
    jsonb_build_object('call_id', o.call_id, 'extension_id', x.id, 'resolve_by', api.ts(due), 'reason', x.reason));
  return next api.idem_finish(idem_key, route,
    row(201, '"' || x.version || '"', '/v1/extensions/' || x.id, api.extension_json(x)::text, false)::api.answer);
end
$$;

-- approve | reject {reason?} an extension (the district office). Approved: the order's
-- resolve_by moves (its timer with it: the trigger); rejected: nothing moves.
create function api.extension_act(p_id bigint, p_action text, body jsonb, if_match text, idem_key text default null)
returns setof api.answer
language plpgsql volatile as $$
declare
  route text := format('POST /v1/extensions/{id}/%s#%s', p_action, p_id);
  prior api.answer;
  x huying.extensions;
  o huying.orders;
  oid bigint;
begin
  perform api.may('extension', p_action);
  select e.order_id into oid from huying.extensions e where e.id = p_id and e.district_id = auth.district();
  if oid is null then
    raise exception using errcode = 'HY404', message = format('no extension %s', p_id);
  end if;
  o := api.order_lock(oid);
  select * into x from huying.extensions where id = p_id for update;
  prior := api.step_begin(idem_key, route, body, x.version, if_match, 'extension');
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  perform api.transition('extension', x.status, p_action);
  if p_action = 'approve' then
    if o.status not in ('dispatched', 'accepted') then
      raise exception using errcode = 'HY409', message = format('cannot extend this order: it is %s', o.status),
        detail = json_build_object('current_status', o.status)::text;
    end if;
    update huying.orders set resolve_by = x.resolve_by, version = version + 1, updated_at = now() where id = o.id;
  end if;
  update huying.extensions set status = api.transition('extension', x.status, p_action), decision_reason = body ->> 'reason',
         decided_at = now(), version = version + 1, updated_at = now()
   where id = x.id returning * into x;
  perform api.event('order', o.id, 'order.extension_' || x.status,
    jsonb_strip_nulls(jsonb_build_object('call_id', o.call_id, 'extension_id', x.id, 'resolve_by', api.ts(x.resolve_by),
                                         'reason', x.decision_reason)));
  return next api.idem_finish(idem_key, route,
    row(200, '"' || x.version || '"', null, api.extension_json(x)::text, false)::api.answer);
end
$$;

grant execute on all functions in schema api to huying_api;

-- The working-time entry points of 0006 answer NULL for a NULL argument instead of looping
-- until the statement timeout (their day walks never end on a NULL instant).
alter function api.limit_due(timestamptz, jsonb) strict;
alter function api.add_working_minutes(timestamptz, integer) strict;
alter function api.add_working_days(timestamptz, integer) strict;
alter function api.limit_explain(timestamptz, jsonb) strict;
