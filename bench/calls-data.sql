-- bench/run.sh, as the owner: :n historical calls of district :district with their orders and
-- events, spread over the past year, for the calls hot paths (POST /v1/calls, the inbox).
--   psql -v district=ID -v n=200000 -f bench/calls-data.sql
-- Needs the demo units and the imported demo list (items with lead and cooperating
-- departments). Reproducible (setseed). Rows are written in id order = time order, like a
-- year of real use, so that the newest ids are the newest calls.
--
-- What a year looks like here:
--   items      skewed: the k-th of the demo items (by code) is drawn with weight ~ (k+1)^-0.5
--   townships  the 8 demo townships, uniformly; source township 70 %, grid 15 %, hotline 10 %
--              (with an external ref), district 5 %; urgency normal 85 %, urgent 12 %, emergency 3 %
--   status     by age: the last 14 days triage 3 %, dispatched 60 %, resolved 25 %, closed 12 %;
--              14-60 days dispatched 5 %, resolved 10 %, cancelled 2 %, closed; older: dispatched
--              0.3 % (forgotten ones), resolved 2 %, cancelled 1.7 %, closed
--   orders     one per department of the item's revision (lead + cooperating) for every call
--              that was dispatched; in a dispatched call each order is dispatched 55 %,
--              accepted 35 % or resolved 10 % (the lead is never resolved there); all resolved in
--              a resolved or closed call, cancelled in a cancelled one; deadlines from the
--              dispatch time (8 h to accept, the item's limit or 5 days to resolve); overdue set
--              where a live order's resolve_by has passed
--   events     call.created, call.dispatched, order.resolved of the lead order, call.resolved or
--              call.closed or call.cancelled: about 4 per call (a real timeline has more order
--              events; these are enough for the timeline's index and the table's size)
--   numbers    HY-<year>-NNNNNN per year of creation (Asia/Shanghai), and call_counters.last set
--              to the year's highest, so that api.call_create() continues after them.
\set ON_ERROR_STOP 1
select setseed(0.4242);

create temp table b_items as
  select i.id as item_id, r.revision, r.lead_department_id as lead, r.cooperating_department_ids as coop,
         coalesce(r.resolve_limit, 5) as resolve_days, r.title,
         row_number() over (order by i.code) - 1 as k
    from huying.items i
    join huying.item_revisions r on r.item_id = i.id and r.effective_to is null
   where i.district_id = :district and r.lead_department_id is not null;
-- cumulative weights for the skewed draw: item k covers [lo, hi) of [0, 1)
create temp table b_pick as
  select item_id, k, coalesce(lag(c) over (order by k), 0) as lo, c as hi
    from (select item_id, k, sum(1 / sqrt(k + 1)) over (order by k) / sum(1 / sqrt(k + 1)) over () as c
            from b_items) s;
create temp table b_towns as
  select u.id, u.code, row_number() over (order by u.code) - 1 as k
    from huying.units u where u.district_id = :district and u.kind = 'township';
select count(*) as b_ntowns from b_towns \gset
select id as b_office from huying.units where district_id = :district and kind = 'district_office' \gset
select coalesce(max(id), 0) as b_first_call from huying.calls \gset

-- History is written as it stands, not replayed: the timer triggers (0007) are off while the
-- rows go in, and the timers of the live orders and triage calls are written below in bulk.
alter table huying.calls disable trigger calls_timers;
alter table huying.calls disable trigger calls_before;
alter table huying.orders disable trigger orders_timers;

-- the calls, oldest first
insert into huying.calls (district_id, number, township_id, item_id, item_revision, title, description, urgency,
       source, location, reporter, attachments, external_system, external_id, status, reported_at,
       created_by_unit, created_by_sub, version, created_at, updated_at)
select :district, format('HY-%s-%s', yr, lpad((row_number() over (partition by yr order by i))::text, 6, '0')),
       t.id, case when untriaged then it.item_id end, case when untriaged then it.revision end,
       left(it.title, 180) || ' #' || i, '压测历史呼叫 ' || i || '：现场情况描述，已拍照定位。',
       case when ru < 0.85 then 'normal' when ru < 0.97 then 'urgent' else 'emergency' end,
       src, jsonb_build_object('address', '长岛' || t.code || '第' || (i % 97 + 1) || '网格', 'lat', 37.9 + (i % 1000) / 10000.0,
                               'lon', 120.7 + (i % 997) / 10000.0),
       jsonb_build_object('name', '群众' || (i % 5000), 'phone', '138' || lpad((i % 100000000)::text, 8, '0')),
       '[]', case when src = 'hotline' then 'hotline12345' end, case when src = 'hotline' then 'T' || i end,
       status, created_at - interval '7 minutes',
       case when src = 'district' then :b_office else t.id end,
       case when src = 'district' then 'dev:district:CD-BGS' else 'dev:township:' || t.code end,
       case status when 'triage' then 1 when 'dispatched' then 1 when 'resolved' then 2 when 'closed' then 3 else 2 end,
       created_at,
       created_at + case status when 'closed' then interval '6 days' when 'resolved' then interval '4 days'
                                when 'cancelled' then interval '1 day' else interval '0' end
  from (select i, created_at, extract(year from created_at at time zone 'Asia/Shanghai')::int as yr,
               age, rs, ru, rsrc, ritem, rtown,
               case when age <= 14 then case when rs < 0.03 then 'triage' when rs < 0.63 then 'dispatched'
                                             when rs < 0.88 then 'resolved' else 'closed' end
                    when age <= 60 then case when rs < 0.05 then 'dispatched' when rs < 0.15 then 'resolved'
                                             when rs < 0.17 then 'cancelled' else 'closed' end
                    else case when rs < 0.003 then 'dispatched' when rs < 0.023 then 'resolved'
                              when rs < 0.04 then 'cancelled' else 'closed' end end as status,
               case when rsrc < 0.70 then 'township' when rsrc < 0.85 then 'grid' when rsrc < 0.95 then 'hotline'
                    else 'district' end as src
          from (select i, now() - interval '365 days' * (1 - i::float8 / :n) as created_at,
                       365 * (1 - i::float8 / :n) as age,
                       random() as rs, random() as ru, random() as rsrc, random() as ritem, random() as rtown
                  from generate_series(1, :n) i) g) x
  join b_pick p on x.ritem >= p.lo and x.ritem < p.hi
  join b_items it on it.item_id = p.item_id
  join b_towns t on t.k = floor(x.rtown * :b_ntowns)::int
  cross join lateral (select x.status <> 'triage' or x.i % 2 = 0 as untriaged) u
 order by i;

-- their orders: one per department of the item's revision, for every call that was dispatched
insert into huying.orders (district_id, call_id, department_id, role, status, accept_by, resolve_by, accepted_at,
       resolved_at, resolution, overdue, version, created_at, updated_at)
select c.district_id, c.id, d.dept, case when d.ord = 1 then 'lead' else 'cooperating' end, o.status,
       c.created_at + interval '8 hours', c.created_at + make_interval(days => it.resolve_days),
       case when o.status in ('accepted', 'resolved') then c.created_at + interval '3 hours' end,
       case when o.status = 'resolved' then c.created_at + interval '3 days' end,
       case when o.status = 'resolved' then '已处置完毕，现场已恢复。' end,
       o.status in ('dispatched', 'accepted') and c.created_at + make_interval(days => it.resolve_days) < now(),
       case o.status when 'dispatched' then 1 when 'accepted' then 2 when 'resolved' then 3 else 2 end,
       c.created_at, c.created_at
  from huying.calls c
  join b_items it on it.item_id = c.item_id
  cross join lateral unnest(array[it.lead] || it.coop) with ordinality d(dept, ord)
  -- (a hash of call and department, not random(): the planner may evaluate a volatile
  -- expression once per reference)
  cross join lateral (select case c.status
                               when 'dispatched' then case when r < 0.55 then 'dispatched' when r < 0.90 or d.ord = 1 then 'accepted'
                                                           else 'resolved' end
                               when 'cancelled' then 'cancelled'
                               else 'resolved' end as status
                        from (select ((c.id * 7919 + d.dept * 104729) % 1000) / 1000.0 as r) z) o
 where c.id > :b_first_call and c.status <> 'triage'
 order by c.id, d.ord;

-- their events
insert into huying.events (district_id, subject_type, subject_id, type, actor_unit_id, actor_role, actor_sub, data, created_at)
select district_id, subject_type, subject_id, type, actor_unit_id, actor_role, actor_sub, data, created_at
  from (
    select c.district_id, 'call' as subject_type, c.id as subject_id, 'call.created' as type, c.created_by_unit as actor_unit_id,
           case when c.created_by_unit = :b_office then 'district' else 'township' end as actor_role, c.created_by_sub as actor_sub,
           jsonb_build_object('number', c.number, 'status', case when c.status = 'triage' then 'triage' else 'dispatched' end) as data,
           c.created_at, c.id as k1, 0 as k2
      from huying.calls c where c.id > :b_first_call
    union all
    select c.district_id, 'call', c.id, 'call.dispatched', c.created_by_unit,
           case when c.created_by_unit = :b_office then 'district' else 'township' end, c.created_by_sub,
           jsonb_build_object('departments', to_jsonb(array[it.lead] || it.coop)),
           c.created_at, c.id, 1
      from huying.calls c join b_items it on it.item_id = c.item_id
     where c.id > :b_first_call and c.status <> 'triage'
    union all
    select o.district_id, 'order', o.id, 'order.resolved', o.department_id, 'department', 'bench:department',
           jsonb_build_object('call_id', o.call_id), o.resolved_at, o.call_id, 2
      from huying.orders o where o.call_id > :b_first_call and o.status = 'resolved' and o.role = 'lead'
    union all
    select c.district_id, 'call', c.id, 'call.' || c.status,
           case when c.status = 'resolved' then null else c.created_by_unit end,
           case when c.status = 'resolved' then null when c.created_by_unit = :b_office then 'district' else 'township' end,
           case when c.status = 'resolved' then null else c.created_by_sub end,
           '{}', c.updated_at, c.id, 3
      from huying.calls c where c.id > :b_first_call and c.status in ('resolved', 'closed', 'cancelled')
  ) e
 order by k1, k2;

-- the timers: stopped for what is done, running (or past their marks, as the sweep would have
-- left them) for live orders and triage calls; counted as 8 h and the item's days, wall-clock
update huying.calls set resolved_at = updated_at where id > :b_first_call and status = 'resolved';
insert into huying.timers (district_id, call_id, order_id, department_id, kind, lim, started_at, due_at, warn_at,
                           escalate_at, state, fire_at, stopped_at)
select o.district_id, o.call_id, o.id, o.department_id, k.kind, k.lim, o.created_at, k.due,
       o.created_at + (k.due - o.created_at) * 0.75, k.due + interval '1 day', k.state,
       case k.state when 'running' then o.created_at + (k.due - o.created_at) * 0.75 when 'warning' then k.due
                    when 'overdue' then k.due + interval '1 day' end,
       case when k.state = 'stopped' then o.updated_at end
  from huying.orders o
  cross join lateral (values
    ('accept', jsonb_build_object('minutes', 480, 'clock', 'wall'), o.accept_by,
     case when o.status <> 'dispatched' then 'stopped' when o.accept_by + interval '1 day' < now() then 'escalated'
          when o.accept_by < now() then 'overdue'
          when o.created_at + (o.accept_by - o.created_at) * 0.75 < now() then 'warning' else 'running' end),
    ('resolve', jsonb_build_object('until', api.ts(o.resolve_by)), o.resolve_by,
     case when o.status not in ('dispatched', 'accepted') then 'stopped' when o.resolve_by + interval '1 day' < now() then 'escalated'
          when o.resolve_by < now() then 'overdue'
          when o.created_at + (o.resolve_by - o.created_at) * 0.75 < now() then 'warning' else 'running' end)) k(kind, lim, due, state)
 where o.call_id > :b_first_call;
insert into huying.timers (district_id, call_id, kind, lim, started_at, due_at, warn_at, escalate_at, state, fire_at)
select c.district_id, c.id, 'triage', jsonb_build_object('minutes', 480, 'clock', 'wall'), c.created_at,
       c.created_at + interval '8 hours', c.created_at + interval '6 hours', c.created_at + interval '32 hours',
       case when c.created_at + interval '32 hours' < now() then 'escalated' when c.created_at + interval '8 hours' < now() then 'overdue'
            when c.created_at + interval '6 hours' < now() then 'warning' else 'running' end,
       case when c.created_at + interval '32 hours' < now() then null when c.created_at + interval '8 hours' < now() then c.created_at + interval '32 hours'
            when c.created_at + interval '6 hours' < now() then c.created_at + interval '8 hours' else c.created_at + interval '6 hours' end
  from huying.calls c where c.id > :b_first_call and c.status = 'triage';
alter table huying.calls enable trigger calls_timers;
alter table huying.calls enable trigger calls_before;
alter table huying.orders enable trigger orders_timers;

-- the counters continue after the seeded numbers
insert into huying.call_counters as k (district_id, year, last)
select :district, split_part(number, '-', 2)::int, max(split_part(number, '-', 3)::int)
  from huying.calls where district_id = :district group by 2
on conflict (district_id, year) do update set last = greatest(k.last, excluded.last);
