// The scores at volume (issue 6, DESIGN §5 "Satisfaction and scores"): 100,000 orders of a
// district of this file's own are bulk-loaded as the owner (INSERT … SELECT over
// generate_series; the score triggers fire on every row), and every league table the API
// answers — by department, township and domain, over the whole span and over periods whose
// ends cut Asia/Shanghai days — must equal a plain SQL recomputation from the base tables
// (huying.orders, calls, item_revisions, ratings, supervisions, notices, settings) written
// here from the definitions, independently of the roll-up: with every delta pending, with
// part of them folded by api.score_compact, with all folded, after changes made through the
// API and by SQL updates (acceptances, resolutions on time and late, returns upheld, ratings,
// notices, a reopen, an item set after dispatch, a cancellation, new calls, extended and
// passed deadlines, other weights), and folded again; and a department's own figures, its
// month series and its explain lists agree with the same recomputation.
//
// The daemon here does not sweep (HUYING_SWEEP_INTERVAL_MS=0): the test folds the deltas
// itself, when it wants them folded. The load writes history as it stands, with the timer
// triggers of 0007 off for its one transaction (as bench/calls-data.sql does): those orders
// get no timers, so no sweeper ever changes them under the comparisons; the marks a sweep
// leaves on passed deadlines (accept_lapsed, resolve_lapsed) are written with the rows for
// part of them, so that open orders past a deadline are counted both ways (from the roll-up
// and at read time). Every deadline of the loaded open orders is at least two hours from
// now, so nothing falls due during a run.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { get, post, psql, request, startDaemon, tokenFor } from './lib.mjs';
import { addDays, listDistrict, todayShanghai } from './list_helpers.mjs';

const CALLS = 29300; // 2 % of them in triage without orders, the others 1 to 6 orders each: ~100,500 orders + ~700 reworks

let d;
let D;
let tk; // district token
const TODAY = todayShanghai();
const FROM = addDays(TODAY, -85);
const ok = (res, status = 200) => {
  assert.equal(res.status, status, `${res.status}: ${res.text?.slice(0, 600)}`);
  return res.json;
};
const deptToken = (id) => tokenFor(d, D, 'department', { unit_id: Number(id), sub: `test:department:${id}` });
const townToken = (id) => tokenFor(d, D, 'township', { unit_id: Number(id), sub: `test:township:${id}` });
const rows = (sql) => psql(sql).split('\n').filter(Boolean).map((l) => l.split('|'));
const one = (sql) => Number(psql(sql));
const timings = [];
let loaded = false; // the tests after the load skip when it failed
const unloaded = (t) => {
  if (!loaded) t.skip('the bulk load failed');
  return !loaded;
};

// ---- the bulk load (as the owner) ----------------------------------------------------------
const LOAD = `
\\set ON_ERROR_STOP 1
begin;
select setseed(0.2026) \\gset
-- history as it stands: the timer triggers stay off in this transaction; the score triggers fire
alter table huying.orders disable trigger orders_timers;
alter table huying.calls disable trigger calls_timers;
-- 20 of the 22 departments get orders (two stay empty: null rates, the last rank)
create temp table q_dept on commit drop as
  select id, k from (select id, (row_number() over (order by code) - 1)::int as k
                       from huying.units where district_id = :d and kind = 'department') x where k < 20;
create temp table q_town on commit drop as
  select id, (row_number() over (order by code) - 1)::int as k from huying.units where district_id = :d and kind = 'township';
create temp table q_item on commit drop as
  select item_id, revision, (row_number() over (order by item_id, revision) - 1)::int as k
    from huying.item_revisions where district_id = :d;
select count(*) as nd from q_dept \\gset
select count(*) as nt from q_town \\gset
select count(*) as ni from q_item \\gset

-- the calls over the past 80 days: 2 % in triage without orders, 8 % without an item, 5 % made
-- at 23:51 or later in Shanghai (their orders, 10 minutes later, fall on the next day); numbered
-- HY-<year>-NNNNNN per year of creation, as api.call_create() numbers them
create temp table q_call on commit drop as
  select g, t.id as township_id, case when ri < 0.08 then null else it.item_id end as item_id,
         case when ri < 0.08 then null else it.revision end as item_revision,
         case when rn < 0.02 then 0 else 1 + g % 6 end as n,
         case when rm < 0.05
              then least((date_trunc('day', base at time zone 'Asia/Shanghai') + interval '23 hours 51 minutes' + rm * interval '1 minute')
                           at time zone 'Asia/Shanghai', base)
              else base end as created_at
    from (select g, random() as ri, random() as rn, random() as rm, random() as rt, random() as rk,
                 now() - interval '3 hours' - random() * interval '80 days' as base
            from generate_series(1, :calls) g) s
    join q_town t on t.k = floor(s.rt * :nt)::int
    join q_item it on it.k = floor(s.rk * :ni)::int;

-- the orders: distinct departments per call, the first the lead; ids taken now, so that a
-- reopened original can name its rework order (reworked_by is checked at commit)
create temp table q_ord on commit drop as
  select nextval(pg_get_serial_sequence('huying.orders', 'id')) as id, c.g, j, dp.id as department_id,
         case when j = 0 then 'lead' else 'cooperating' end as role, c.created_at + interval '10 minutes' as created_at,
         random() as rs, random() as r1, random() as r2, random() as r3, random() as r4
    from q_call c cross join lateral generate_series(0, c.n - 1) j
    join q_dept dp on dp.k = (c.g * 7 + j * 3) % :nd;
alter table q_call add column number text;
update q_call c set number = format('HY-%s-%s', x.y, lpad(x.seq::text, 6, '0'))
  from (select g, extract(year from created_at at time zone 'Asia/Shanghai')::int as y,
               row_number() over (partition by extract(year from created_at at time zone 'Asia/Shanghai') order by g) as seq
          from q_call) x
 where x.g = c.g;
insert into huying.call_counters as k (district_id, year, last)
select :d, substr(number, 4, 4)::int, max(substr(number, 9)::int) from q_call group by 2
on conflict (district_id, year) do update set last = greatest(k.last, excluded.last);

-- cancelled 3 %, returned (upheld) 4 %, dispatched 9 %, accepted 11 %, resolved 73 %; open
-- orders past their deadlines or not yet due (every deadline at least 2 hours from now);
-- acceptances and resolutions on time, late, and exactly at the deadline
create temp table q_o on commit drop as
  select id, g, department_id, role, created_at, st as status,
         case st when 'dispatched' then case when r1 < 0.4 then now() + interval '2 hours' + r2 * interval '2 days'
                                              else now() - interval '2 hours' - r2 * interval '5 days' end
                 else created_at + interval '1 day' end as accept_by,
         case st when 'dispatched' then case when r1 < 0.7 then now() + interval '2 hours' + r3 * interval '9 days'
                                              else now() - interval '2 hours' - r3 * interval '3 days' end
                 when 'accepted' then case when r1 < 0.5 then now() + interval '2 hours' + r3 * interval '9 days'
                                            else now() - interval '2 hours' - r3 * interval '3 days' end
                 else created_at + interval '7 days' end as resolve_by,
         case when st in ('accepted', 'resolved') or (st in ('cancelled', 'returned') and r4 < 0.3)
              then case when r4 < 0.02 then created_at + interval '1 day'
                        else least(created_at + r2 * (0.6 + (department_id % 5) * 0.2) * interval '30 hours',
                                   now() - interval '2 hours') end end as accepted_at,
         r1, r2, r3, r4
    from (select q.*, case when rs < 0.03 then 'cancelled' when rs < 0.07 then 'returned' when rs < 0.16 then 'dispatched'
                           when rs < 0.27 then 'accepted' else 'resolved' end as st
            from q_ord q) x;
alter table q_o add column resolved_at timestamptz, add column overdue boolean, add column reworked_by bigint;
update q_o set resolved_at = case when r3 < 0.02 then created_at + interval '7 days'
                                  else least(accepted_at + r3 * (0.5 + (department_id % 7) * 0.15) * interval '10 days',
                                             now() - interval '1 hour') end
 where status = 'resolved';
update q_o set resolved_at = greatest(resolved_at, accepted_at) where status = 'resolved';
update q_o set overdue = case when status = 'resolved' then resolved_at > resolve_by and r4 < 0.7
                              when status in ('dispatched', 'accepted') then resolve_by < now() and r4 < 0.8
                              else r4 < 0.01 end;
-- deadlines the sweep found passed (accept_lapsed, resolve_lapsed: set by the timers trigger
-- when a timer goes overdue, facts of the roll-up from then on): 60 % of the open orders past
-- a deadline (the others are counted at read time), half the late acceptances and resolutions
alter table q_o add column accept_lapsed boolean, add column resolve_lapsed boolean;
update q_o set accept_lapsed = case when status = 'dispatched' then accept_by < now() and r3 < 0.6
                                    else accepted_at > accept_by and r3 < 0.5 end,
               resolve_lapsed = case when status in ('dispatched', 'accepted') then resolve_by < now() and r2 < 0.6
                                     else resolved_at > resolve_by and r2 < 0.5 end;
-- 3 % of the resolved lead orders were reopened (重办): a rework lead order to the same
-- department took over, resolved or still open
create temp table q_rw on commit drop as
  select nextval(pg_get_serial_sequence('huying.orders', 'id')) as id, o.id as rework_of, o.g, o.department_id,
         o.resolved_at + least(interval '1 day', (now() - interval '1 hour' - o.resolved_at) / 2) as created_at,
         o.r2 < 0.5 as done, o.r3
    from q_o o where o.status = 'resolved' and o.role = 'lead' and o.r1 < 0.03;
update q_o set reworked_by = r.id from q_rw r where r.rework_of = q_o.id;

-- the calls, with the status their orders give them
insert into huying.calls (district_id, number, township_id, item_id, item_revision, title, urgency, source, status,
                          closed_at, created_by_unit, created_by_sub, created_at, updated_at)
select :d, c.number, c.township_id, c.item_id, c.item_revision, '考核样本 ' || c.g, 'normal', 'township',
       case when c.n = 0 then 'triage' when s.live = 0 and s.cancelled > 0 then 'cancelled'
            when s.live > 0 and s.open = 0 and coalesce(rw.rework_open, 0) = 0 then 'closed' else 'dispatched' end,
       case when c.n > 0 and s.live > 0 and s.open = 0 and coalesce(rw.rework_open, 0) = 0
            then greatest(s.last_resolved, rw.last_rework) end,
       c.township_id, 'test:oracle', c.created_at, c.created_at
  from q_call c
  left join (select o.g, count(*) filter (where o.status not in ('returned', 'cancelled') and o.reworked_by is null) as live,
                    count(*) filter (where o.status = 'cancelled') as cancelled,
                    count(*) filter (where o.status in ('dispatched', 'accepted')) as open,
                    max(o.resolved_at) as last_resolved
               from q_o o group by o.g) s on s.g = c.g
  left join (select r.g, count(*) filter (where not r.done) as rework_open, max(r.created_at) as last_rework
               from q_rw r group by r.g) rw on rw.g = c.g
 order by c.g;
create temp table q_callid on commit drop as
  select c.id, q.g from huying.calls c join q_call q on q.number = c.number where c.district_id = :d;

insert into huying.orders (id, district_id, call_id, department_id, role, status, accept_by, resolve_by, accepted_at,
                           resolved_at, resolution, overdue, accept_lapsed, resolve_lapsed, reworked_by, created_at,
                           updated_at) overriding system value
select o.id, :d, ci.id, o.department_id, o.role, o.status, o.accept_by, o.resolve_by, o.accepted_at, o.resolved_at,
       case when o.status = 'resolved' then '已办结' end, o.overdue, coalesce(o.accept_lapsed, false),
       coalesce(o.resolve_lapsed, false), o.reworked_by, o.created_at, o.created_at
  from q_o o join q_callid ci on ci.g = o.g
 order by o.id;
insert into huying.orders (id, district_id, call_id, department_id, role, status, accept_by, resolve_by, accepted_at,
                           resolved_at, resolution, overdue, rework_of, created_at, updated_at) overriding system value
select r.id, :d, ci.id, r.department_id, 'lead', case when r.done then 'resolved' else 'dispatched' end,
       case when r.done then r.created_at + interval '1 day' else now() + interval '1 day' end,
       case when r.done then r.created_at + interval '3 days' else now() + interval '5 days' end,
       case when r.done then r.created_at + r.r3 * (now() - interval '30 minutes' - r.created_at) end,
       case when r.done then r.created_at + r.r3 * (now() - interval '30 minutes' - r.created_at) end,
       case when r.done then '重办办结' end, false, r.rework_of, r.created_at, r.created_at
  from q_rw r join q_callid ci on ci.g = r.g
 order by r.id;

-- ratings of 30 % of the resolved orders (reworked originals too), scores 1 to 5 on each axis
insert into huying.ratings (district_id, order_id, call_id, department_id, township_id, speed, effectiveness, comment,
                            rated_by_sub, created_at)
select :d, o.id, o.call_id, o.department_id, c.township_id, o.sp,
       case when o.sp >= 4 and o.r < 0.8 then 4 + (o.r < 0.4)::int else 1 + floor(o.r * 5)::int end,
       case when o.r < 0.1 then '满意' end, 'test:oracle', o.resolved_at
  from (select o.*, random() as r, random() as rr,
               case when random() < 0.7 then 4 + (random() < 0.5)::int else 1 + floor(random() * 5)::int end as sp
          from huying.orders o where o.district_id = :d and o.status = 'resolved') o
  join huying.calls c on c.id = o.call_id
 where o.rr < 0.3;

-- supervision cases on 1.5 % of the orders, whatever became of them, with 1 to 3 reminders,
-- notices and rectification orders (reminders cost nothing)
insert into huying.supervisions (district_id, order_id, call_id, department_id, status, opened_by, reason, created_at)
select :d, o.id, o.call_id, o.department_id, case when o.status in ('dispatched', 'accepted') then 'open' else 'closed' end,
       'district', '督办', o.created_at + interval '1 hour'
  from huying.orders o where o.district_id = :d and random() < 0.015;
insert into huying.notices (district_id, supervision_id, department_id, kind, text, created_by_sub)
select :d, s.id, s.department_id, (array['reminder', 'notice', 'rectification'])[1 + floor(random() * 3)::int], '通报',
       'test:oracle'
  from huying.supervisions s cross join lateral generate_series(1, 1 + (s.id % 3)::int) k
 where s.district_id = :d;

set constraints all immediate;
alter table huying.orders enable trigger orders_timers;
alter table huying.calls enable trigger calls_timers;
commit;
analyze huying.calls;
analyze huying.orders;
analyze huying.ratings;
analyze huying.score_deltas;
`;

// ---- the oracle: the league table from the base tables -------------------------------------
// One row per key (every department or township unit of the district; every domain, and key 0
// "no item" when a call of the period has none), in the API's order (rank, then code), with
// the figures as the definitions in schema/0008_scores.sql and openapi.yaml state them.
const ORACLE = `
with span as (
  select (:'from'::date)::timestamp at time zone 'Asia/Shanghai' as lo,
         (:'to'::date + 1)::timestamp at time zone 'Asia/Shanghai' as hi
), w as (
  select coalesce(max(weight_response), 0.3) as wr, coalesce(max(weight_resolution), 0.3) as ws,
         coalesce(max(weight_satisfaction), 0.4) as wt, coalesce(max(penalty), 2) as pen
    from huying.settings where district_id = :d
), ord as (     -- the orders dispatched in the period, with their call's township and domain
  select o.*, c.township_id, coalesce(ir.domain_id, 0) as domain_id
    from huying.orders o
    join huying.calls c on c.id = o.call_id
    left join huying.item_revisions ir on ir.item_id = c.item_id and ir.revision = c.item_revision
   where o.district_id = :d and o.created_at >= (select lo from span) and o.created_at < (select hi from span)
), keyed as (
  select case :'by' when 'department' then department_id when 'township' then township_id else domain_id end as key,
         ord.*, status in ('dispatched', 'accepted') as open
    from ord
), per as (    -- cancelled orders count in nothing, returned ones only as returned
  select key,
         count(*) filter (where status not in ('cancelled', 'returned')) as orders,
         count(*) filter (where status not in ('cancelled', 'returned')
                            and (accepted_at is not null or (open and accept_by < now()))) as accept_counted,
         count(*) filter (where status not in ('cancelled', 'returned') and accepted_at <= accept_by) as accepted_on_time,
         count(*) filter (where status not in ('cancelled', 'returned')
                            and (resolved_at is not null or (open and resolve_by < now()))) as resolve_counted,
         count(*) filter (where status not in ('cancelled', 'returned') and resolved_at <= resolve_by
                            and reworked_by is null) as resolved_on_time,
         count(*) filter (where status not in ('cancelled', 'returned') and overdue) as overdue,
         count(*) filter (where status = 'returned') as returned
    from keyed group by key
), rated as (
  select k.key, count(*) as ratings, count(*) filter (where r.speed >= 4 and r.effectiveness >= 4) as satisfied,
         sum(r.speed) as speed_sum, sum(r.effectiveness) as effectiveness_sum
    from keyed k join huying.ratings r on r.order_id = k.id
   where k.status not in ('cancelled', 'returned')
   group by k.key
), noticed as (   -- notices and rectification orders, whatever became of the order
  select k.key, count(*) as notices
    from keyed k join huying.supervisions s on s.order_id = k.id join huying.notices n on n.supervision_id = s.id
   where n.kind in ('notice', 'rectification')
   group by k.key
), called as (    -- the calls made in the period, by township or domain
  select case :'by' when 'township' then c.township_id else coalesce(ir.domain_id, 0) end as key, count(*) as calls
    from huying.calls c
    left join huying.item_revisions ir on ir.item_id = c.item_id and ir.revision = c.item_revision
   where c.district_id = :d and c.created_at >= (select lo from span) and c.created_at < (select hi from span)
   group by 1
), keys as (
  select u.id as key, u.code, u.name from huying.units u where u.district_id = :d and u.kind = :'by'
  union all
  select dm.id, dm.code, dm.name from huying.domains dm where :'by' = 'domain' and dm.district_id = :d
  union all
  select 0, null, null where :'by' = 'domain'
    and (exists (select 1 from ord where domain_id = 0) or exists (select 1 from called where key = 0))
), fig as (
  select k.key, k.code, k.name, coalesce(cl.calls, 0) as calls,
         coalesce(p.orders, 0) as orders, coalesce(p.accept_counted, 0) as accept_counted,
         coalesce(p.accepted_on_time, 0) as accepted_on_time, coalesce(p.resolve_counted, 0) as resolve_counted,
         coalesce(p.resolved_on_time, 0) as resolved_on_time, coalesce(r.ratings, 0) as ratings,
         coalesce(r.satisfied, 0) as satisfied, r.speed_sum, r.effectiveness_sum, coalesce(p.overdue, 0) as overdue,
         coalesce(p.returned, 0) as returned, coalesce(n.notices, 0) as notices,
         case when p.accept_counted > 0 then p.accepted_on_time::numeric / p.accept_counted end as resp,
         case when p.resolve_counted > 0 then p.resolved_on_time::numeric / p.resolve_counted end as res,
         case when r.ratings > 0 then r.satisfied::numeric / r.ratings end as sat
    from keys k
    left join per p on p.key = k.key
    left join rated r on r.key = k.key
    left join noticed n on n.key = k.key
    left join called cl on cl.key = k.key
), weighed as (  -- a rate with an empty denominator is null and its weight is shared out
  select f.*, w.wr, w.ws, w.wt, w.pen,
         case when f.resp is not null then w.wr else 0 end + case when f.res is not null then w.ws else 0 end
           + case when f.sat is not null then w.wt else 0 end as wsum
    from fig f cross join w
), scored as (
  select f.*, round(f.sat, 4) as sat4,
         case when f.wsum > 0 then
           round(100 * (coalesce(f.wr * f.resp, 0) + coalesce(f.ws * f.res, 0) + coalesce(f.wt * f.sat, 0)) / f.wsum
                 - f.pen * f.notices, 2) end as composite
    from weighed f
), ranked as (
  select s.*, dense_rank() over (order by s.composite desc nulls last, s.sat4 desc nulls last) as rank from scored s
)
select coalesce(json_agg(json_build_object(
         'key', nullif(key, 0), 'code', code, 'name', name, 'calls', calls, 'orders', orders,
         'accept_counted', accept_counted, 'accepted_on_time', accepted_on_time, 'accepted_on_time_rate', round(resp, 4),
         'resolve_counted', resolve_counted, 'resolved_on_time', resolved_on_time, 'resolved_on_time_rate', round(res, 4),
         'ratings', ratings, 'satisfied', satisfied, 'satisfaction_rate', sat4,
         'speed_avg', round(speed_sum::numeric / nullif(ratings, 0), 2),
         'effectiveness_avg', round(effectiveness_sum::numeric / nullif(ratings, 0), 2),
         'overdue', overdue, 'returned', returned, 'notices', notices, 'composite', composite, 'rank', rank)
         order by rank, code collate "C" nulls last), '[]')
  from ranked;
`;

const DATE = /^\d{4}-\d\d-\d\d$/;
function oracle(by, from, to) {
  assert.ok(['department', 'township', 'domain'].includes(by) && DATE.test(from) && DATE.test(to));
  const t0 = Date.now();
  const out = JSON.parse(psql(`\\set d ${Number(D.id)}\n\\set by ${by}\n\\set from ${from}\n\\set to ${to}\n${ORACLE}`));
  timings.push(['oracle', by, Date.now() - t0]);
  return out;
}

// The API's rows in the oracle's shape (calls only by township and domain).
function normalise(by, data) {
  return data.map((r) => {
    const { [`${by}_id`]: key, ...rest } = r;
    return { key, ...rest };
  });
}

async function league(by, from, to) {
  const t0 = Date.now();
  const body = ok(await get(d, `/v1/scores?by=${by}&from=${from}&to=${to}`, { token: tk, timeout: 60000 }));
  timings.push(['api', by, Date.now() - t0]);
  assert.equal(body.by, by);
  assert.equal(body.from, from);
  assert.equal(body.to, to);
  return body;
}

// GET /v1/scores?by= equals the oracle, row for row and in order.
async function expectOracle(by, from = FROM, to = TODAY, what = '') {
  const body = await league(by, from, to);
  const want = oracle(by, from, to).map((r) => {
    if (by === 'department') delete r.calls;
    return r;
  });
  const got = normalise(by, body.data);
  const where = `${what} by=${by} ${from}..${to}`;
  assert.equal(got.length, want.length, `${where}: ${got.length} rows, the oracle has ${want.length}`);
  for (let i = 0; i < want.length; i++)
    assert.deepEqual(got[i], want[i], `${where}: row ${i} (${want[i].code ?? 'no item'}) differs from the oracle`);
  const w = one(`select count(*) from huying.settings where district_id = ${D.id}`)
    ? JSON.parse(psql(`select json_build_object('weight_response', weight_response, 'weight_resolution', weight_resolution,
         'weight_satisfaction', weight_satisfaction, 'penalty', penalty) from huying.settings where district_id = ${D.id}`))
    : { weight_response: 0.3, weight_resolution: 0.3, weight_satisfaction: 0.4, penalty: 2 };
  assert.deepEqual(body.weights, w, `${where}: weights`);
  return want;
}

// The league tables equal the oracle: by department and township over the span, by
// department over the previous calendar month, by township over a period whose ends cut the
// loaded days, and by domain over the span (last: the row of the calls without an item).
// `only` picks some of them (the oracle costs about a second each).
async function expectAllOracle(what, only = ['department', 'township', 'month', 'cut', 'domain']) {
  const last = addDays(`${TODAY.slice(0, 8)}01`, -1); // the previous month
  const checks = {
    department: () => expectOracle('department', FROM, TODAY, what),
    township: () => expectOracle('township', FROM, TODAY, what),
    month: () => expectOracle('department', `${last.slice(0, 8)}01`, last, what),
    cut: () => expectOracle('township', addDays(TODAY, -40), addDays(TODAY, -11), what),
    domain: () => expectOracle('domain', FROM, TODAY, what),
  };
  for (const k of only) await checks[k]();
}

const deltasOf = () => one(`select count(*) from huying.score_deltas where district_id = ${D.id}`);
// The district's 13 sums over rollup + deltas.
const totals = () => psql(`select array[sum(calls), sum(orders), sum(accept_counted), sum(accepted_on_time),
    sum(resolve_counted), sum(resolved_on_time), sum(overdue), sum(returned), sum(notices), sum(ratings), sum(satisfied),
    sum(speed_sum), sum(effectiveness_sum)]::text
  from (select calls, orders, accept_counted, accepted_on_time, resolve_counted, resolved_on_time, overdue, returned, notices,
               ratings, satisfied, speed_sum, effectiveness_sum from huying.score_rollup where district_id = ${D.id}
        union all
        select calls, orders, accept_counted, accepted_on_time, resolve_counted, resolved_on_time, overdue, returned, notices,
               ratings, satisfied, speed_sum, effectiveness_sum from huying.score_deltas where district_id = ${D.id}) x`);
const compact = (n) => one(`select api.score_compact(${Number(n)})`);
// Rows where the roll-up by department (score_rollup_dept) is not score_rollup summed over
// townships and domains, in this district.
const deptRollupDiffers = () => one(`
  with w as (select day, department_id, array[sum(calls), sum(orders), sum(accept_counted), sum(accepted_on_time),
                    sum(resolve_counted), sum(resolved_on_time), sum(overdue), sum(returned), sum(notices), sum(ratings),
                    sum(satisfied), sum(speed_sum), sum(effectiveness_sum)]::bigint[] as v
               from huying.score_rollup where district_id = ${D.id} group by 1, 2),
       n as (select day, department_id, array[calls, orders, accept_counted, accepted_on_time, resolve_counted, resolved_on_time,
                    overdue, returned, notices, ratings, satisfied, speed_sum, effectiveness_sum] as v
               from huying.score_rollup_dept where district_id = ${D.id})
  select count(*) from w full join n using (day, department_id) where w.v is distinct from n.v`);

before(async () => {
  d = await startDaemon({ HUYING_SWEEP_INTERVAL_MS: 0, HUYING_RATE_LIMIT: 0 });
  D = await listDistrict(d, 'SO', (x) => tokenFor(d, x, 'district'));
  tk = tokenFor(d, D, 'district');
});
after(async () => {
  await d.stop();
});

describe('the league tables at volume equal a recomputation from the base tables', () => {
  test(`bulk load: ${CALLS} calls, about 100,000 orders, as the owner with every score trigger firing`, async (t) => {
    // a second revision of one item, in another domain, from 1 October: a call's domain is
    // its revision's
    psql(`update huying.item_revisions set effective_to = date '2026-10-01'
            where item_id = (select id from huying.items where district_id = ${D.id} and code = 'ZRZY-02') and revision = 1;
          insert into huying.item_revisions (district_id, item_id, revision, domain_id, title, lead_department_id,
                                             cooperating_department_ids, effective_from, source)
          select r.district_id, r.item_id, 2, (select id from huying.domains where district_id = ${D.id} and code = 'STHJ'),
                 r.title, r.lead_department_id, r.cooperating_department_ids, date '2026-10-01', 'import'
            from huying.item_revisions r
           where r.item_id = (select id from huying.items where district_id = ${D.id} and code = 'ZRZY-02') and r.revision = 1`);
    const t0 = Date.now();
    psql(`\\set d ${D.id}\n\\set calls ${CALLS}\n${LOAD}`);
    const secs = (Date.now() - t0) / 1000;
    t.diagnostic(`loaded in ${secs.toFixed(1)} s`);
    timings.push(['load', '', Date.now() - t0]);
    const [orders, calls] = [one(`select count(*) from huying.orders where district_id = ${D.id}`),
      one(`select count(*) from huying.calls where district_id = ${D.id}`)];
    assert.equal(calls, CALLS);
    assert.ok(orders >= 100000, `${orders} orders`);
    t.diagnostic(`${orders} orders, ${deltasOf()} deltas pending`);
    // what the data must hold for the comparisons to mean something
    const has = Object.fromEntries(rows(`
      select 'status ' || status, count(*) from huying.orders where district_id = ${D.id} group by 1
      union all select 'open past accept_by', count(*) from huying.orders where district_id = ${D.id}
        and status = 'dispatched' and accept_by < now()
      union all select 'open not yet due', count(*) from huying.orders where district_id = ${D.id}
        and status in ('dispatched', 'accepted') and accept_by > now() and resolve_by > now()
      union all select 'accepted past resolve_by', count(*) from huying.orders where district_id = ${D.id}
        and status = 'accepted' and resolve_by < now()
      union all select 'accepted late', count(*) from huying.orders where district_id = ${D.id} and accepted_at > accept_by
      union all select 'accepted at the deadline', count(*) from huying.orders where district_id = ${D.id} and accepted_at = accept_by
      union all select 'resolved late', count(*) from huying.orders where district_id = ${D.id} and resolved_at > resolve_by
      union all select 'resolved at the deadline', count(*) from huying.orders where district_id = ${D.id} and resolved_at = resolve_by
      union all select 'open lapsed', count(*) from huying.orders where district_id = ${D.id}
        and status in ('dispatched', 'accepted') and (accept_lapsed or resolve_lapsed)
      union all select 'open past a deadline, not lapsed', count(*) from huying.orders where district_id = ${D.id}
        and status in ('dispatched', 'accepted') and ((accepted_at is null and accept_by < now() and not accept_lapsed)
                                                     or (resolve_by < now() and not resolve_lapsed))
      union all select 'resolved after a lapse', count(*) from huying.orders where district_id = ${D.id}
        and status = 'resolved' and resolve_lapsed
      union all select 'overdue', count(*) from huying.orders where district_id = ${D.id} and overdue
      union all select 'reworked', count(*) from huying.orders where district_id = ${D.id} and reworked_by is not null
      union all select 'reworked on time', count(*) from huying.orders where district_id = ${D.id} and reworked_by is not null
        and resolved_at <= resolve_by
      union all select 'rework orders', count(*) from huying.orders where district_id = ${D.id} and rework_of is not null
      union all select 'calls without item', count(*) from huying.calls where district_id = ${D.id} and item_id is null
      union all select 'orders of calls without item', count(*) from huying.orders o join huying.calls c on c.id = o.call_id
        where c.district_id = ${D.id} and c.item_id is null
      union all select 'calls on revision 2', count(*) from huying.calls where district_id = ${D.id} and item_revision = 2
      union all select 'orders on another day than their call', count(*) from huying.orders o join huying.calls c on c.id = o.call_id
        where c.district_id = ${D.id} and (o.created_at at time zone 'Asia/Shanghai')::date <> (c.created_at at time zone 'Asia/Shanghai')::date
      union all select 'ratings satisfied', count(*) from huying.ratings where district_id = ${D.id} and speed >= 4 and effectiveness >= 4
      union all select 'ratings not satisfied', count(*) from huying.ratings where district_id = ${D.id} and (speed < 4 or effectiveness < 4)
      union all select 'ratings of reworked orders', count(*) from huying.ratings r join huying.orders o on o.id = r.order_id
        where r.district_id = ${D.id} and o.reworked_by is not null
      union all select 'notices ' || kind, count(*) from huying.notices where district_id = ${D.id} group by kind
      union all select 'notices on cancelled or returned orders', count(*) from huying.notices n
        join huying.supervisions s on s.id = n.supervision_id join huying.orders o on o.id = s.order_id
        where n.district_id = ${D.id} and o.status in ('cancelled', 'returned') and n.kind <> 'reminder'`).map(([k, v]) => [k, Number(v)]));
    t.diagnostic(JSON.stringify(has));
    for (const k of ['status dispatched', 'status accepted', 'status resolved', 'status returned', 'status cancelled',
      'open past accept_by', 'open not yet due', 'accepted past resolve_by', 'accepted late', 'accepted at the deadline',
      'resolved late', 'resolved at the deadline', 'open lapsed', 'open past a deadline, not lapsed', 'resolved after a lapse',
      'overdue', 'reworked', 'reworked on time', 'rework orders',
      'calls without item', 'orders of calls without item', 'calls on revision 2', 'orders on another day than their call',
      'ratings satisfied', 'ratings not satisfied', 'ratings of reworked orders', 'notices reminder', 'notices notice',
      'notices rectification', 'notices on cancelled or returned orders'])
      assert.ok(has[k] > 0, `the load has ${k}`);
    loaded = true;
  });

  test('every delta pending: by department, township and domain, over the span, a month and a period cutting days', async (t) => {
    if (unloaded(t)) return;
    assert.ok(one(`select count(*) from huying.score_rollup where district_id = ${D.id}`) === 0, 'nothing folded yet');
    await expectAllOracle('all pending:');
  });

  test('part of the deltas folded by api.score_compact: the same figures, and the same sums', async (t) => {
    if (unloaded(t)) return;
    const before = totals();
    const mine = deltasOf();
    const all = one('select count(*) from huying.score_deltas');
    // the oldest deltas go first: fold everything older than this district's plus half of its own
    const n = all - Math.floor(mine / 2);
    assert.equal(compact(n), n);
    const left = deltasOf();
    assert.ok(left > 0 && left < mine, `${left} of ${mine} deltas left pending`);
    assert.ok(one(`select count(*) from huying.score_rollup where district_id = ${D.id}`) > 0);
    assert.equal(totals(), before, 'rollup + deltas sum to the same after a partial fold');
    await expectAllOracle('half folded:', ['department', 'month', 'domain']);
  });

  test('every delta folded: the same figures', async (t) => {
    if (unloaded(t)) return;
    const before = totals();
    while (compact(50000) > 0);
    assert.equal(deltasOf(), 0);
    assert.equal(totals(), before, 'rollup + deltas sum to the same after the fold');
    assert.equal(deptRollupDiffers(), 0, 'the roll-up by department is the roll-up summed over townships and domains');
    await expectAllOracle('all folded:');
  });

  test('changes through the API and by SQL on top of the folded roll-up: exact at once, and after folding again', async (t) => {
    if (unloaded(t)) return;
    const d0 = deltasOf();
    const pick = (sql) => rows(sql).map((r) => r.map(Number));
    const base = `from huying.orders o join huying.calls c on c.id = o.call_id
                  where o.district_id = ${D.id} and c.status = 'dispatched' and not o.return_pending
                    and o.created_at > now() - interval '80 days'`;
    // acceptances: late (accept_by passed) and on time
    for (const [id, dept] of pick(`select o.id, o.department_id ${base} and o.status = 'dispatched' and o.accept_by < now()
                                   order by o.id limit 3`))
      ok(await post(d, `/v1/orders/${id}/accept`, {}, { token: deptToken(dept) }));
    for (const [id, dept] of pick(`select o.id, o.department_id ${base} and o.status = 'dispatched' and o.accept_by > now()
                                   order by o.id limit 3`))
      ok(await post(d, `/v1/orders/${id}/accept`, {}, { token: deptToken(dept) }));
    // resolutions: late, on time, and straight from dispatched (an implicit acceptance)
    for (const [id, dept] of [
      ...pick(`select o.id, o.department_id ${base} and o.status = 'accepted' and o.resolve_by < now() order by o.id limit 3`),
      ...pick(`select o.id, o.department_id ${base} and o.status = 'accepted' and o.resolve_by > now() order by o.id limit 3`),
      ...pick(`select o.id, o.department_id ${base} and o.status = 'dispatched' and o.accept_by < now() and o.resolve_by > now()
               order by o.id desc limit 2`)])
      ok(await post(d, `/v1/orders/${id}/resolve`, { resolution: '已处理完毕' }, { token: deptToken(dept) }));
    // returns upheld: the order counts only as returned
    for (const [id, dept] of pick(`select o.id, o.department_id ${base} and o.role = 'cooperating'
                                     and o.status in ('dispatched', 'accepted') order by o.id desc limit 3`)) {
      const r = ok(await post(d, `/v1/orders/${id}/returns`, { reason: '不属于本部门职责' }, { token: deptToken(dept) }), 201);
      ok(await post(d, `/v1/returns/${r.id}/uphold`, {}, { token: tk }));
    }
    // ratings by the township of the call
    for (const [id, town, k] of pick(`select o.id, c.township_id, row_number() over () from huying.orders o
                                        join huying.calls c on c.id = o.call_id
                                       where o.district_id = ${D.id} and o.status = 'resolved'
                                         and not exists (select 1 from huying.ratings r where r.order_id = o.id)
                                       order by o.id limit 6`))
      ok(await post(d, `/v1/orders/${id}/rating`, { speed: 1 + (k % 5), effectiveness: 5 - (k % 3) }, { token: townToken(town) }), 201);
    // supervision: a case with a reminder, a notice and a rectification order
    for (const [id] of pick(`select o.id ${base} and o.status in ('dispatched', 'accepted')
                               and not exists (select 1 from huying.supervisions s where s.order_id = o.id and s.status = 'open')
                             order by o.id limit 2`)) {
      const s = ok(await post(d, '/v1/supervisions', { order_id: id, reason: '逾期未办结，予以督办' }, { token: tk }), 201);
      for (const kind of ['reminder', 'notice', 'rectification'])
        ok(await post(d, `/v1/supervisions/${s.id}/notices`, { kind, text: '请限期整改' }, { token: tk }), 201);
    }
    // a reopen (重办) of a call closed within reopen_days whose lead order was resolved on time
    const [[reopenCall, town]] = pick(`select c.id, c.township_id from huying.calls c
        where c.district_id = ${D.id} and c.status = 'closed' and c.closed_at > now() - interval '5 days'
          and exists (select 1 from huying.orders o where o.call_id = c.id and o.role = 'lead' and o.status = 'resolved'
                        and o.reworked_by is null and o.resolved_at <= o.resolve_by)
        order by c.id limit 1`);
    ok(await post(d, `/v1/calls/${reopenCall}/reopen`, { reason: '问题反弹，群众再次反映' }, { token: townToken(town) }));
    // an item named after dispatch: the call's facts move from "no item" to the item's domain
    const [[moved]] = pick(`select c.id from huying.calls c where c.district_id = ${D.id} and c.item_id is null
        and c.status = 'dispatched' and c.created_at < now() - interval '20 days'
        and exists (select 1 from huying.orders o where o.call_id = c.id and o.role = 'lead' and o.status not in ('returned', 'cancelled')
                      and o.reworked_by is null)
        and exists (select 1 from huying.ratings r where r.call_id = c.id)
        order by c.id limit 1`);
    const spare = psql(`select u.code from huying.units u where u.district_id = ${D.id} and u.kind = 'department'
        and not exists (select 1 from huying.orders o where o.call_id = ${moved} and o.department_id = u.id
                          and o.status not in ('returned', 'cancelled') and o.reworked_by is null)
        order by u.code limit 1`);
    ok(await post(d, `/v1/calls/${moved}/dispatch`, { item_code: 'STHJ-04', orders: [{ department_code: spare, role: 'cooperating' }] },
      { token: tk }));
    assert.equal(psql(`select dm.code from huying.calls c join huying.item_revisions r on r.item_id = c.item_id
                         and r.revision = c.item_revision join huying.domains dm on dm.id = r.domain_id where c.id = ${moved}`), 'STHJ');
    // a cancellation by the district office: the open orders are cancelled
    const [[cancelled]] = pick(`select c.id from huying.calls c where c.district_id = ${D.id} and c.status = 'dispatched'
        and (select count(*) from huying.orders o where o.call_id = c.id and o.status in ('dispatched', 'accepted')) >= 2
        order by c.id desc limit 1`);
    ok(await post(d, `/v1/calls/${cancelled}/cancel`, { reason: '重复呼叫' }, { token: tk }));
    // new calls today, dispatched at once (not yet due)
    for (const [town] of pick(`select id from huying.units where district_id = ${D.id} and kind = 'township' order by code limit 3`))
      ok(await post(d, '/v1/calls', { title: '新呼叫', item_code: 'ZRZY-02' }, { token: townToken(town) }), 201);
    // by SQL: deadlines extended past now (lapsed ones are cleared), deadlines the sweep
    // marks lapsed, deadlines moved into the past, overdue flags, a resolution corrected to late
    // (an administrator's corrections: the timers of these orders are not the point here, and
    // the loaded orders have none)
    psql(`begin;
          set constraints all immediate;
          alter table huying.orders disable trigger orders_timers;
          update huying.orders set resolve_by = now() + interval '10 days'
           where id in (select o.id from huying.orders o where o.district_id = ${D.id} and o.status in ('dispatched', 'accepted')
                          and o.resolve_by < now() order by o.resolve_lapsed, o.id limit 6)
              or id in (select o.id from huying.orders o where o.district_id = ${D.id} and o.status in ('dispatched', 'accepted')
                          and o.resolve_by < now() and o.resolve_lapsed order by o.id limit 3);
          update huying.orders set accept_lapsed = true
           where id in (select o.id from huying.orders o where o.district_id = ${D.id} and o.status = 'dispatched'
                          and o.accept_by < now() and not o.accept_lapsed order by o.id desc limit 4);
          update huying.orders set resolve_lapsed = true
           where id in (select o.id from huying.orders o where o.district_id = ${D.id} and o.status in ('dispatched', 'accepted')
                          and o.resolve_by < now() and not o.resolve_lapsed order by o.id desc limit 4);
          update huying.orders set accept_by = now() - interval '3 hours', resolve_by = now() - interval '3 hours'
           where id in (select o.id from huying.orders o where o.district_id = ${D.id} and o.status = 'dispatched'
                          and o.accept_by > now() and o.resolve_by > now() order by o.id desc limit 5);
          update huying.orders set overdue = true
           where id in (select o.id from huying.orders o where o.district_id = ${D.id} and not o.overdue
                          and o.status not in ('cancelled') order by o.id limit 5);
          update huying.orders set resolved_at = resolve_by + interval '1 hour'
           where id in (select o.id from huying.orders o where o.district_id = ${D.id} and o.status = 'resolved'
                          and o.resolved_at <= o.resolve_by and o.resolve_by < now() - interval '2 hours' order by o.id limit 4);
          alter table huying.orders enable trigger orders_timers;
          commit;`);
    // other weights
    const s = ok(await get(d, '/v1/settings', { token: tk }));
    ok(await request(d, 'PUT', '/v1/settings', {
      token: tk,
      body: { reopen_days: s.reopen_days, auto_close_days: s.auto_close_days, escalation_grace_days: s.escalation_grace_days,
        extension_lead_days: s.extension_lead_days, weight_response: 0.25, weight_resolution: 0.35, weight_satisfaction: 0.4,
        penalty: 0.5 },
    }));
    assert.ok(deltasOf() > d0, 'the changes wrote deltas');
    await expectAllOracle('after the changes, pending on the roll-up:');

    while (compact(50000) > 0);
    assert.equal(deltasOf(), 0);
    assert.equal(deptRollupDiffers(), 0, 'the roll-up by department is the roll-up summed over townships and domains');
    await expectAllOracle('after the changes, folded:', ['department', 'township', 'domain']);
  });

  test('a department\'s own figures, month series and explain lists agree with the recomputation', async (t) => {
    if (unloaded(t)) return;
    const leagueRows = oracle('department', FROM, TODAY);
    const months = [];
    for (let m = `${FROM.slice(0, 8)}01`; m <= TODAY; m = addDays(m, 32).slice(0, 8) + '01') months.push(m);
    const monthly = months.map((m) => {
      const end = addDays(addDays(m, 32).slice(0, 8) + '01', -1);
      const from = m < FROM ? FROM : m;
      const to = end > TODAY ? TODAY : end;
      return { month: m.slice(0, 7), from, to, rows: oracle('department', from, to) };
    });
    // the best-ranked department and one in the middle, with the district's token and their own
    for (const row of [leagueRows[0], leagueRows[Math.floor(leagueRows.length / 2)]]) {
      for (const token of [tk, deptToken(row.key)]) {
        const body = ok(await get(d, `/v1/scores/departments/${row.key}?from=${FROM}&to=${TODAY}&interval=month&explain=true`,
          { token, timeout: 60000 }));
        assert.equal(body.department_id, row.key);
        assert.equal(body.code, row.code);
        const { key, code, name, calls, ...figures } = row;
        assert.deepEqual(body.total, figures, `${row.code}: the total is the league table's row`);
        assert.deepEqual(body.series.map((x) => x.month), monthly.map((x) => x.month));
        for (const [i, m] of monthly.entries()) {
          const want = m.rows.find((r) => r.key === row.key);
          const { key: k2, code: c2, name: n2, calls: l2, ...wantFigures } = want;
          assert.deepEqual(body.series[i], { month: m.month, from: m.from, to: m.to, ...wantFigures },
            `${row.code}: the series' ${m.month}`);
        }
        // the explain lists: the ids behind each figure, from the base tables again
        const ids = JSON.parse(psql(`
          with o as (select * from huying.orders x where x.district_id = ${D.id} and x.department_id = ${row.key}
                       and x.created_at >= ('${FROM}'::timestamp at time zone 'Asia/Shanghai')
                       and x.created_at < (('${TODAY}'::date + 1)::timestamp at time zone 'Asia/Shanghai')),
               c as (select * from o where status not in ('cancelled', 'returned'))
          select json_build_object(
            'orders', (select coalesce(json_agg(id order by id), '[]') from c),
            'accept_counted', (select coalesce(json_agg(id order by id), '[]') from c
                                where accepted_at is not null or (status in ('dispatched', 'accepted') and accept_by < now())),
            'accepted_on_time', (select coalesce(json_agg(id order by id), '[]') from c where accepted_at <= accept_by),
            'resolve_counted', (select coalesce(json_agg(id order by id), '[]') from c
                                 where resolved_at is not null or (status in ('dispatched', 'accepted') and resolve_by < now())),
            'resolved_on_time', (select coalesce(json_agg(id order by id), '[]') from c
                                  where resolved_at <= resolve_by and reworked_by is null),
            'reworked', (select coalesce(json_agg(id order by id), '[]') from c where reworked_by is not null),
            'not_yet_due', (select coalesce(json_agg(id order by id), '[]') from c
                             where status in ('dispatched', 'accepted') and resolve_by >= now()),
            'rated', (select coalesce(json_agg(c.id order by c.id), '[]') from c join huying.ratings r on r.order_id = c.id),
            'satisfied', (select coalesce(json_agg(c.id order by c.id), '[]') from c join huying.ratings r on r.order_id = c.id
                           where r.speed >= 4 and r.effectiveness >= 4),
            'overdue', (select coalesce(json_agg(id order by id), '[]') from c where overdue),
            'returned', (select coalesce(json_agg(id order by id), '[]') from o where status = 'returned'),
            'notices', (select coalesce(json_agg(n.id order by n.id), '[]') from o join huying.supervisions s on s.order_id = o.id
                          join huying.notices n on n.supervision_id = s.id where n.kind in ('notice', 'rectification')))`));
        assert.deepEqual(Object.keys(body.explain).sort(), Object.keys(ids).sort());
        for (const [k, list] of Object.entries(ids))
          assert.deepEqual(body.explain[k], list, `${row.code}: explain.${k}`);
        assert.equal(body.explain.orders.length, row.orders);
        assert.equal(body.explain.accept_counted.length, row.accept_counted);
        assert.equal(body.explain.resolved_on_time.length, row.resolved_on_time);
        assert.equal(body.explain.rated.length, row.ratings);
        assert.equal(body.explain.satisfied.length, row.satisfied);
        assert.equal(body.explain.notices.length, row.notices);
      }
    }
    const ms = (kind) => timings.filter((x) => x[0] === kind).map((x) => x[2]).sort((x, y) => x - y);
    const [api, orc] = [ms('api'), ms('oracle')];
    t.diagnostic(`GET /v1/scores: ${api.length} answers, median ${api[api.length >> 1]} ms, max ${api[api.length - 1]} ms; `
      + `the oracle: median ${orc[orc.length >> 1]} ms`);
  });
});
