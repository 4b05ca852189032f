-- bench/timers.sh, as the owner: :n open orders of district :district (dispatched, with their
-- calls and running accept and resolve timers far from due), for the sweep benchmark
-- (DESIGN §8: "Timer sweep with 1,000,000 open orders: a sweep touching nothing costs under
-- 5 ms; firing 10,000 due timers takes under 2 s; no full scans").
\set ON_ERROR_STOP 1
alter table huying.calls disable trigger calls_timers;
alter table huying.orders disable trigger orders_timers;
select id as b_town from huying.units where district_id = :district and kind = 'township' order by id limit 1 \gset
select id as b_dept from huying.units where district_id = :district and kind = 'department' order by id limit 1 \gset
insert into huying.calls (district_id, number, township_id, title, urgency, source, status, created_by_unit, created_by_sub, created_at)
select :district, 'TB-' || g, :b_town, '计时基准 ' || g, 'normal', 'township', 'dispatched', :b_town, 'bench',
       now() - interval '1 hour'
  from generate_series(1, :n) g;
insert into huying.orders (district_id, call_id, department_id, role, status, accept_by, resolve_by, created_at)
select :district, c.id, :b_dept, 'lead', 'dispatched', now() + interval '20 days', now() + interval '30 days', c.created_at
  from huying.calls c where c.district_id = :district and c.number like 'TB-%';
insert into huying.timers (district_id, call_id, order_id, department_id, kind, lim, started_at, due_at, warn_at, escalate_at, fire_at)
select o.district_id, o.call_id, o.id, o.department_id, k.kind, '{"working_days": 5}', o.created_at, k.due,
       k.due - interval '2 days', k.due + interval '1 day', k.due - interval '2 days'
  from huying.orders o
  cross join lateral (values ('accept', o.accept_by), ('resolve', o.resolve_by)) k(kind, due)
 where o.district_id = :district;
alter table huying.calls enable trigger calls_timers;
alter table huying.orders enable trigger orders_timers;
vacuum analyze huying.calls;
vacuum analyze huying.orders;
vacuum analyze huying.timers;
