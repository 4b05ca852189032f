-- bench/scores.sh, as the owner: one calendar month (:m_from .. :m_to, Asia/Shanghai) of
-- district :district with :n orders, their calls, ratings and notices, for the league-table
-- benchmark (DESIGN §8: "Scores for a month with 1,000,000 orders: under 300 ms").
--   psql -v district=ID -v n=1000000 -v m_from=2026-10-01 -v m_to=2026-10-31 -f bench/scores.sql
-- Needs the demo units and the imported demo list. Reproducible (setseed).
--
-- What the month looks like:
--   calls      n / 3, spread evenly over the month (its last hour aside: their orders come 10
--              minutes later and must fall in it too); the 8 demo townships uniformly; the demo
--              items uniformly, 5 % of the calls without an item
--   orders     1 to 5 per call (3 on average), distinct departments of the 22, the first the
--              lead; 1 % of the calls cancelled (their orders too); 3 % still open (orders
--              dispatched or accepted, past their accept deadline, 40 % of them not yet due
--              for resolution); the rest resolved (3 % of their orders returned, upheld):
--              accepted within 0–30 h (deadline 24 h), resolved within 0–8 days of acceptance
--              (deadline 7 days), overdue when late (70 %)
--   lapses     every deadline passed before the acceptance or resolution (or still open) is
--              marked lapsed, as the sweep marks it when its timer goes overdue (steady state:
--              nothing left for the read-time part)
--   ratings    60 % of the resolved orders, 70 % of them satisfied (both scores >= 4)
--   notices    supervision cases on 1 % of the orders, 1 to 3 notices each (reminders,
--              notices, rectification orders)
--
-- History is written in bulk with every trigger of 0007 and 0008 off; the score facts are then
-- written as the triggers would have written them, one delta per call, order, rating and
-- notice (huying.order_facts, huying.rating_facts), and left pending: bench/scores.sh folds them
-- with api.score_compact and times that.
\set ON_ERROR_STOP 1
select setseed(0.0606) \gset
alter table huying.calls disable trigger calls_timers;
alter table huying.calls disable trigger calls_scores;
alter table huying.orders disable trigger orders_timers;
alter table huying.orders disable trigger orders_scores;
alter table huying.ratings disable trigger ratings_scores;
alter table huying.notices disable trigger notices_scores;

create temp table s_dept as
  select id, (row_number() over (order by code) - 1)::int as k from huying.units where district_id = :district and kind = 'department';
create temp table s_town as
  select id, (row_number() over (order by code) - 1)::int as k from huying.units where district_id = :district and kind = 'township';
create temp table s_item as
  select item_id, revision, (row_number() over (order by item_id) - 1)::int as k
    from huying.item_revisions where district_id = :district and effective_to is null;
select count(*) as nd from s_dept \gset
select count(*) as nt from s_town \gset
select count(*) as ni from s_item \gset
select (:'m_from'::date)::timestamp at time zone 'Asia/Shanghai' as t0,
       extract(epoch from ((:'m_to'::date + 1)::timestamp at time zone 'Asia/Shanghai')
                          - ((:'m_from'::date)::timestamp at time zone 'Asia/Shanghai')) as secs,
       extract(year from :'m_from'::date)::int as yr
\gset

-- the calls, in time order
create temp table s_call as
  select g, :'t0'::timestamptz + (g - 1) * ((:secs - 3600) / (:n / 3.0)) * interval '1 second' as created_at,
         t.id as township_id, case when ri < 0.05 then null else it.item_id end as item_id,
         case when ri < 0.05 then null else it.revision end as item_revision,
         case when rs < 0.01 then 'cancelled' when rs < 0.04 then 'dispatched' else 'closed' end as status,
         1 + floor(rn * 5)::int as norders
    from (select g, random() as ri, random() as rs, random() as rn, random() as rt, random() as rk
            from generate_series(1, (:n / 3)::int) g) s
    join s_town t on t.k = floor(s.rt * :nt)::int
    join s_item it on it.k = floor(s.rk * :ni)::int;
insert into huying.calls (district_id, number, township_id, item_id, item_revision, title, urgency, source, status,
                          closed_at, created_by_unit, created_by_sub, created_at, updated_at)
select :district, format('HY-%s-%s', :yr, lpad(g::text, 6, '0')), township_id, item_id, item_revision, '考核压测 ' || g,
       'normal', 'township', status, case when status = 'closed' then created_at + interval '8 days' end,
       township_id, 'bench', created_at, created_at
  from s_call order by g;
insert into huying.call_counters as k (district_id, year, last) values (:district, :yr, (:n / 3)::int)
on conflict (district_id, year) do update set last = greatest(k.last, excluded.last);
create temp table s_callid as
  select c.id, substr(c.number, 9)::int as g from huying.calls c where c.district_id = :district and c.number like 'HY-' || :yr || '-%';
create index on s_callid (g);

-- the orders (the calls' norders add up to about n)
insert into huying.orders (district_id, call_id, department_id, role, status, accept_by, resolve_by, accepted_at,
                           resolved_at, resolution, overdue, accept_lapsed, resolve_lapsed, created_at, updated_at)
select :district, ci.id, d.id, case when j = 0 then 'lead' else 'cooperating' end, x.st,
       x.created_at + interval '1 day',
       case when x.st in ('dispatched', 'accepted') and x.r3 < 0.4 then now() + interval '5 days' else x.created_at + interval '7 days' end,
       x.acc, case when x.st = 'resolved' then x.acc + x.r3 * interval '8 days' end,
       case when x.st = 'resolved' then '已办结' end,
       x.st = 'resolved' and x.acc + x.r3 * interval '8 days' > x.created_at + interval '7 days' and x.r4 < 0.7,
       x.st in ('dispatched', 'accepted', 'resolved')
         and coalesce(x.acc, now()) > x.created_at + interval '1 day' and x.created_at + interval '1 day' < now(),
       case when x.st in ('dispatched', 'accepted') then x.r3 >= 0.4 and x.created_at + interval '7 days' < now()
            when x.st = 'resolved' then x.acc + x.r3 * interval '8 days' > x.created_at + interval '7 days'
            else false end,
       x.created_at, x.created_at
  from (select c.g, j, c.created_at + interval '10 minutes' as created_at, r3, r4,
               case when c.status = 'cancelled' then 'cancelled'
                    when c.status = 'dispatched' then case when r1 < 0.5 then 'dispatched' else 'accepted' end
                    when r1 < 0.03 then 'returned' else 'resolved' end as st,
               case when (c.status = 'dispatched' and r1 >= 0.5) or (c.status = 'closed' and r1 >= 0.03)
                    then c.created_at + interval '10 minutes' + r2 * interval '30 hours' end as acc
          from s_call c
          cross join lateral (select j, random() as r1, random() as r2, random() as r3, random() as r4
                                from generate_series(0, c.norders - 1) j) r) x
  join s_callid ci on ci.g = x.g
  join s_dept d on d.k = (x.g * 7 + x.j * 5) % :nd
 order by x.g, x.j;

-- ratings of 60 % of the resolved orders
insert into huying.ratings (district_id, order_id, call_id, department_id, township_id, speed, effectiveness, rated_by_sub,
                            created_at)
select :district, o.id, o.call_id, o.department_id, c.township_id, sp,
       case when sp >= 4 and r < 0.85 then 4 + (r < 0.5)::int else 1 + floor(r * 5)::int end, 'bench', o.resolved_at
  from (select o.*, random() as r, random() as rr,
               case when random() < 0.75 then 4 + (random() < 0.5)::int else 1 + floor(random() * 5)::int end as sp
          from huying.orders o where o.district_id = :district and o.status = 'resolved') o
  join huying.calls c on c.id = o.call_id
 where o.rr < 0.6;

-- supervision cases on 1 % of the orders, 1 to 3 notices each
insert into huying.supervisions (district_id, order_id, call_id, department_id, status, opened_by, reason, created_at)
select :district, o.id, o.call_id, o.department_id, case when o.status in ('dispatched', 'accepted') then 'open' else 'closed' end,
       'district', '督办', o.created_at + interval '2 days'
  from huying.orders o where o.district_id = :district and random() < 0.01;
insert into huying.notices (district_id, supervision_id, department_id, kind, text, created_by_sub, created_at)
select :district, s.id, s.department_id, (array['reminder', 'notice', 'rectification'])[1 + (s.id + k) % 3], '督办通报', 'bench',
       s.created_at + k * interval '1 hour'
  from huying.supervisions s cross join lateral generate_series(1, 1 + (s.id % 3)::int) k
 where s.district_id = :district;

alter table huying.calls enable trigger calls_timers;
alter table huying.calls enable trigger calls_scores;
alter table huying.orders enable trigger orders_timers;
alter table huying.orders enable trigger orders_scores;
alter table huying.ratings enable trigger ratings_scores;
alter table huying.notices enable trigger notices_scores;

-- the score facts, as the triggers write them: one delta per call, order, rating and notice
insert into huying.score_deltas (district_id, day, department_id, township_id, domain_id, calls, orders, accept_counted,
                                 accepted_on_time, resolve_counted, resolved_on_time, overdue, returned, notices, ratings,
                                 satisfied, speed_sum, effectiveness_sum)
select x.district_id, x.day, x.department_id, x.township_id, x.domain_id,
       v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13]
  from (select c.district_id, huying.local_day(c.created_at) as day, 0::bigint as department_id, c.township_id,
               coalesce(r.domain_id, 0) as domain_id, array[1,0,0,0,0,0,0,0,0,0,0,0,0] as v, c.id as ord
          from huying.calls c left join huying.item_revisions r on r.item_id = c.item_id and r.revision = c.item_revision
         where c.district_id = :district
        union all
        select o.district_id, huying.local_day(o.created_at), o.department_id, c.township_id, coalesce(r.domain_id, 0),
               huying.order_facts(o), c.id
          from huying.orders o join huying.calls c on c.id = o.call_id
          left join huying.item_revisions r on r.item_id = c.item_id and r.revision = c.item_revision
         where o.district_id = :district and o.status <> 'cancelled'
        union all
        select o.district_id, huying.local_day(o.created_at), o.department_id, c.township_id, coalesce(r.domain_id, 0),
               huying.rating_facts(rt), c.id
          from huying.ratings rt join huying.orders o on o.id = rt.order_id join huying.calls c on c.id = o.call_id
          left join huying.item_revisions r on r.item_id = c.item_id and r.revision = c.item_revision
         where rt.district_id = :district
        union all
        select o.district_id, huying.local_day(o.created_at), o.department_id, c.township_id, coalesce(r.domain_id, 0),
               array[0,0,0,0,0,0,0,0,1,0,0,0,0], c.id
          from huying.notices n join huying.supervisions s on s.id = n.supervision_id join huying.orders o on o.id = s.order_id
          join huying.calls c on c.id = o.call_id
          left join huying.item_revisions r on r.item_id = c.item_id and r.revision = c.item_revision
         where n.district_id = :district and n.kind in ('notice', 'rectification')) x
 order by x.ord;
