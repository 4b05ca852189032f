-- 06_scores: ratings and the score roll-up (0008_scores): row-level security of ratings per
-- role, what the API role may read and write, one rating per order, api.score_compact folding
-- exactly (the sums of rollup + deltas are the same before and after, in part and in full, and
-- the roll-up by department is the roll-up summed over townships and domains),
-- the deltas written as inserts only, the compaction's advisory lock, a passed deadline
-- counted once whether read at read time or marked lapsed, and a call's facts
-- moving to the item's domain when the item is named after its orders were dispatched
-- (huying.calls_scores) (DESIGN §5 "Satisfaction and scores").
--
-- Run by scripts/test.sh as huying_owner after `huyingd migrate`, like 03_calls.sql, whose
-- fixtures it repeats under its own district codes (sqltest-scores-a, sqltest-scores-b).
-- Part 1 runs as huying_api, part 2 as the owner (the API role may not read the score
-- tables); each in one transaction that is rolled back.
-- One check needs a second session (api.score_compact skips while another transaction holds
-- its lock): it runs through dblink when the extension is installed and the owner may use it
-- without a password, and is skipped otherwise (scripts/pg.sh installs pgtap and pg_trgm
-- only). In one session the lock is checked in pg_locks instead.

-- ---- fixtures (as the owner) ---------------------------------------------------------------
\set code_a sqltest-scores-a
\set code_b sqltest-scores-b
\ir fixtures/calls.sql

-- ---- part 1, as the API role -------------------------------------------------------------------
\connect - huying_api
begin;
select plan(36);

-- c1 (township T1) and c2 (township T2), each dispatched to D1 (lead), D2 and D3
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select (a.body::jsonb ->> 'id')::bigint as c1 from api.call_create('{"title": "路灯不亮", "item_code": "I-LEAD"}'::jsonb, null) a
\gset
select set_config('huying.claims', :'cl_t2', true) \g /dev/null
select (a.body::jsonb ->> 'id')::bigint as c2 from api.call_create('{"title": "路灯又坏", "item_code": "I-LEAD"}'::jsonb, null) a
\gset
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select max(id) filter (where call_id = :c1 and department_id = :a_d1) as o1_d1,
       max(id) filter (where call_id = :c1 and department_id = :a_d2) as o1_d2,
       max(id) filter (where call_id = :c2 and department_id = :a_d1) as o2_d1,
       max(id) filter (where call_id = :c2 and department_id = :a_d2) as o2_d2
  from huying.orders where call_id in (:c1, :c2)
\gset
-- D1 resolves its order of c1, D2 its order of c2 (resolving accepts)
select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select is((select a.status from api.order_act(:o1_d1, 'resolve', '{"resolution": "已更换灯泡"}'::jsonb, null, null) a), 200,
          'D1 resolves its order of c1');
select set_config('huying.claims', :'cl_d2', true) \g /dev/null
select is((select a.status from api.order_act(:o2_d2, 'resolve', '{"resolution": "已修复"}'::jsonb, null, null) a), 200,
          'D2 resolves its order of c2');

-- ratings: T1 rates D1's order of c1, T2 rates D2's order of c2
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select a.status as r1_status, (a.body::jsonb ->> 'id')::bigint as r1
  from api.rating_create(:o1_d1, '{"speed": 5, "effectiveness": 4}'::jsonb, null) a
\gset
select is(:r1_status, 201, 'rating_create: the township of the call rates a resolved order: 201');
select set_config('huying.claims', :'cl_t2', true) \g /dev/null
select a.status as r2_status, (a.body::jsonb ->> 'id')::bigint as r2
  from api.rating_create(:o2_d2, '{"speed": 2, "effectiveness": 5, "comment": "太慢"}'::jsonb, null) a
\gset
select is(:r2_status, 201, 'rating_create: the other township rates its own call''s order: 201');

-- ---- RLS of huying.ratings, per role ---------------------------------------------------------
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select results_eq('select id from huying.ratings order by id', format('values (%s::bigint), (%s)', :r1, :r2),
                  'rls: the district office reads every rating of its district');
select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select results_eq('select id from huying.ratings', format('values (%s::bigint)', :r1),
                  'rls: a department reads the ratings of its own orders (D1: c1''s)');
select set_config('huying.claims', :'cl_d2', true) \g /dev/null
select results_eq('select id from huying.ratings', format('values (%s::bigint)', :r2),
                  'rls: a department reads the ratings of its own orders (D2: c2''s)');
select set_config('huying.claims', :'cl_d3', true) \g /dev/null
select is((select count(*) from huying.ratings), 0::bigint, 'rls: a department with no rated order reads none');
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select results_eq('select id from huying.ratings', format('values (%s::bigint)', :r1), 'rls: a township reads the ratings it gave (T1)');
select set_config('huying.claims', :'cl_t2', true) \g /dev/null
select results_eq('select id from huying.ratings', format('values (%s::bigint)', :r2), 'rls: a township reads the ratings it gave (T2)');
select set_config('huying.claims', :'cl_int', true) \g /dev/null
select is((select count(*) from huying.ratings), 0::bigint, 'rls: an integration reads no rating');
select set_config('huying.claims', :'cl_b_dist', true) \g /dev/null
select is((select count(*) from huying.ratings), 0::bigint, 'rls: another district''s office reads none');
select set_config('huying.claims', '', true) \g /dev/null
select is((select count(*) from huying.ratings), 0::bigint, 'rls: no claims, no rows');

-- ---- writing ratings ---------------------------------------------------------------------------
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select throws_ok(format('select * from api.rating_create(%s, ''{"speed": 1, "effectiveness": 1}'', null)', :o1_d1), 'HY409',
                 'this order is already rated', 'rating_create: a second rating of the order is 409');
select throws_ok(format('insert into huying.ratings (district_id, order_id, call_id, department_id, township_id, speed, effectiveness, rated_by_sub)
                         values (%s, %s, %s, %s, %s, 1, 1, ''u-t1'')', :da, :o1_d1, :c1, :a_d1, :a_t1), '23505', null,
                 'unique: a second row for the same order is refused by the table itself');
select throws_ok(format('insert into huying.ratings (district_id, order_id, call_id, department_id, township_id, speed, effectiveness, rated_by_sub)
                         values (%s, %s, %s, %s, %s, 1, 1, ''u-t1'')', :da, :o2_d1, :c2, :a_d1, :a_t2), '42501', null,
                 'rls: a township cannot write a rating in another township''s name');
select throws_ok(format('select * from api.rating_create(%s, ''{"speed": 3, "effectiveness": 3}'', null)', :o2_d1), 'HY404', null,
                 'rating_create: another township''s order is not found');
select throws_ok(format('select * from api.rating_create(%s, ''{"speed": 3, "effectiveness": 3}'', null)', :o1_d2), 'HY409', null,
                 'rating_create: an order not yet resolved is 409');
select throws_ok(format('update huying.ratings set speed = 5 where id = %s', :r1), '42501', null,
                 'grants: the API role may not change a rating');
select throws_ok(format('delete from huying.ratings where id = %s', :r1), '42501', null,
                 'grants: the API role may not delete a rating');
select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select throws_ok(format('insert into huying.ratings (district_id, order_id, call_id, department_id, township_id, speed, effectiveness, rated_by_sub)
                         values (%s, %s, %s, %s, %s, 5, 5, ''u-d1'')', :da, :o2_d1, :c2, :a_d1, :a_t2), '42501', null,
                 'rls: a department cannot rate (its own order)');
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select throws_ok(format('insert into huying.ratings (district_id, order_id, call_id, department_id, township_id, speed, effectiveness, rated_by_sub)
                         values (%s, %s, %s, %s, %s, 5, 5, ''u-off'')', :da, :o2_d1, :c2, :a_d1, :a_t2), '42501', null,
                 'rls: the district office cannot rate');

-- ---- the score tables are out of the API role's reach --------------------------------------------
select throws_ok('select count(*) from huying.score_deltas', '42501', null, 'grants: the API role may not read score_deltas');
select throws_ok('select count(*) from huying.score_rollup', '42501', null, 'grants: the API role may not read score_rollup');
select throws_ok(format('insert into huying.score_deltas (district_id, day, department_id, township_id, domain_id, calls, orders,
                           accept_counted, accepted_on_time, resolve_counted, resolved_on_time, overdue, returned, notices, ratings,
                           satisfied, speed_sum, effectiveness_sum)
                         values (%s, current_date, %s, %s, 0, 0, 100, 100, 100, 100, 100, 0, 0, 0, 0, 0, 0, 0)', :da, :a_d1, :a_t1),
                 '42501', null, 'grants: the API role may not write a delta');
select throws_ok('update huying.score_rollup set orders = orders + 1', '42501', null, 'grants: the API role may not change the roll-up');
select throws_ok('delete from huying.score_deltas', '42501', null, 'grants: the API role may not delete deltas');
select throws_ok(format('select huying.score_add(%s, current_date, %s, %s, 0, ''{0,1,1,1,1,1,0,0,0,0,0,0,0}'')', :da, :a_d1, :a_t1),
                 '42501', null, 'grants: the API role cannot write a delta through the helper either');

-- ---- the league table before and after folding ----------------------------------------------
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select api.scores('department', api.today() - 1, api.today())::text as before_fold,
       api.scores('township', api.today() - 1, api.today())::text as before_fold_t,
       api.scores('domain', api.today() - 1, api.today())::text as before_fold_dm
\gset
select ok(api.score_compact(1000000) > 0, 'score_compact: the API role (the daemon''s sweeper) folds the pending deltas');
select is(api.score_compact(1000000), 0, 'score_compact: nothing is left to fold');
select is(api.scores('department', api.today() - 1, api.today())::text, :'before_fold',
          'score_compact: the league table by department is the same after the fold');
select is(api.scores('township', api.today() - 1, api.today())::text, :'before_fold_t',
          'score_compact: by township the same');
select is(api.scores('domain', api.today() - 1, api.today())::text, :'before_fold_dm',
          'score_compact: by domain the same');
select is((select row(x ->> 'orders', x ->> 'accept_counted', x ->> 'accepted_on_time', x ->> 'resolve_counted',
                      x ->> 'resolved_on_time', x ->> 'ratings', x ->> 'satisfied', x ->> 'speed_avg', x ->> 'notices')::text
             from jsonb_array_elements(api.scores('department', api.today() - 1, api.today()) -> 'data') x
            where (x ->> 'department_id')::bigint = :a_d1),
          row('2', '1', '1', '1', '1', '1', '1', '5', '0')::text,
          'figures: D1 has 2 orders (one resolved on time and rated satisfied, one open and not yet due)');
select is((select row(x ->> 'orders', x ->> 'ratings', x ->> 'satisfied', x ->> 'satisfaction_rate', x ->> 'effectiveness_avg')::text
             from jsonb_array_elements(api.scores('department', api.today() - 1, api.today()) -> 'data') x
            where (x ->> 'department_id')::bigint = :a_d2),
          row('2', '1', '0', '0', '5')::text, 'figures: D2''s rating (2, 5) is not satisfied');
select is((select row(x ->> 'calls', x ->> 'orders', x ->> 'ratings')::text
             from jsonb_array_elements(api.scores('township', api.today() - 1, api.today()) -> 'data') x
            where (x ->> 'township_id')::bigint = :a_t1),
          row('1', '3', '1')::text, 'figures: T1 made 1 call with 3 orders and gave 1 rating');

select * from finish();
rollback;

-- ---- part 2, as the owner: the roll-up itself ----------------------------------------------------
\connect - huying_owner
begin;
select plan(23);
-- (pending deltas other tests left are folded along with these: every check is relative)
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select (a.body::jsonb ->> 'id')::bigint as c3 from api.call_create('{"title": "井盖缺失", "item_code": "I-LEAD"}'::jsonb, null) a
\gset
select max(id) filter (where department_id = :a_d1) as o3_d1, max(id) filter (where department_id = :a_d2) as o3_d2
  from huying.orders where call_id = :c3
\gset
select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select a.status from api.order_act(:o3_d1, 'accept', '{}'::jsonb, null, null) a \g /dev/null

-- The 13 sums of a district (or of every district) over rollup + deltas, as text.
create temp view sums as
  select district_id, domain_id, array[sum(calls), sum(orders), sum(accept_counted), sum(accepted_on_time),
         sum(resolve_counted), sum(resolved_on_time), sum(overdue), sum(returned), sum(notices), sum(ratings), sum(satisfied),
         sum(speed_sum), sum(effectiveness_sum)]::text as v
    from (select district_id, domain_id, calls, orders, accept_counted, accepted_on_time, resolve_counted, resolved_on_time,
                 overdue, returned, notices, ratings, satisfied, speed_sum, effectiveness_sum from huying.score_rollup
          union all
          select district_id, domain_id, calls, orders, accept_counted, accepted_on_time, resolve_counted, resolved_on_time,
                 overdue, returned, notices, ratings, satisfied, speed_sum, effectiveness_sum from huying.score_deltas) x
   group by grouping sets ((), (district_id, domain_id));
select (select string_agg(district_id || '/' || domain_id || ':' || v, ' ' order by district_id, domain_id) from sums
         where district_id is not null) as sums0,
       (select v from sums where district_id is null) as total0,
       (select count(*) from huying.score_deltas) as n0
\gset

-- the deltas are inserts only: a step adds rows and changes none of those before it
select md5(string_agg(x::text, '|' order by x.id)) as deltas_md5, max(x.id) as deltas_max from huying.score_deltas x
\gset
select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select a.status from api.order_act(:o3_d1, 'resolve', '{"resolution": "已补装井盖"}'::jsonb, null, null) a \g /dev/null
select is((select count(*) from huying.score_deltas where id > :deltas_max), 1::bigint,
          'deltas: resolving an order writes exactly one new delta');
select is((select md5(string_agg(x::text, '|' order by x.id)) from huying.score_deltas x where x.id <= :deltas_max), :'deltas_md5',
          'deltas: and leaves every earlier delta as it was (no hot row to update)');
select is((select array[orders, accept_counted, accepted_on_time, resolve_counted, resolved_on_time]::text
             from huying.score_deltas where id > :deltas_max), '{0,0,0,1,1}',
          'deltas: the new delta is the difference the step made (resolved, on time)');
select is((select row(district_id, department_id, township_id, day)::text from huying.score_deltas where id > :deltas_max),
          row(:da, :a_d1, :a_t1, (now() at time zone 'Asia/Shanghai')::date)::text,
          'deltas: keyed by the order''s district, department, township of the call and day of dispatch');
select (select string_agg(district_id || '/' || domain_id || ':' || v, ' ' order by district_id, domain_id) from sums
         where district_id is not null) as sums0,
       (select v from sums where district_id is null) as total0,
       (select count(*) from huying.score_deltas) as n0
\gset

-- a partial fold: the oldest 2 deltas
select is(api.score_compact(2), 2, 'score_compact(2): folds exactly 2 deltas');
select is((select count(*) from huying.score_deltas), (:n0 - 2)::bigint, 'score_compact(2): 2 fewer deltas pending');
select is((select string_agg(district_id || '/' || domain_id || ':' || v, ' ' order by district_id, domain_id) from sums
            where district_id is not null), :'sums0',
          'score_compact(2): the sums of rollup + deltas, per district and domain, are the same');
-- the lock: held by this transaction until it ends, so another replica's compaction skips
select ok(exists (select 1 from pg_locks l
                   where l.locktype = 'advisory' and l.pid = pg_backend_pid() and l.granted and l.mode = 'ExclusiveLock'
                     and ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended('huying.score_compact', 0)),
          'score_compact: holds its advisory lock until the end of the transaction that folded');
-- the rest
select is(api.score_compact(1000000), (:n0 - 2)::integer, 'score_compact: folds every delta left, and says how many');
select is((select count(*) from huying.score_deltas), 0::bigint, 'score_compact: no delta is left pending');
select is((select string_agg(district_id || '/' || domain_id || ':' || v, ' ' order by district_id, domain_id) from sums
            where district_id is not null), :'sums0',
          'score_compact: the sums of the roll-up alone are the sums before, per district and domain');
select is((select v from sums where district_id is null), :'total0', 'score_compact: and in total');
select is((select count(*) from (
             (select district_id, day, department_id, array[sum(calls), sum(orders), sum(accept_counted), sum(accepted_on_time),
                     sum(resolve_counted), sum(resolved_on_time), sum(overdue), sum(returned), sum(notices), sum(ratings),
                     sum(satisfied), sum(speed_sum), sum(effectiveness_sum)]::bigint[] as v
                from huying.score_rollup group by 1, 2, 3
              except
              select district_id, day, department_id, array[calls, orders, accept_counted, accepted_on_time, resolve_counted,
                     resolved_on_time, overdue, returned, notices, ratings, satisfied, speed_sum, effectiveness_sum]
                from huying.score_rollup_dept)
             union all
             (select district_id, day, department_id, array[calls, orders, accept_counted, accepted_on_time, resolve_counted,
                     resolved_on_time, overdue, returned, notices, ratings, satisfied, speed_sum, effectiveness_sum]
                from huying.score_rollup_dept
              except
              select district_id, day, department_id, array[sum(calls), sum(orders), sum(accept_counted), sum(accepted_on_time),
                     sum(resolve_counted), sum(resolved_on_time), sum(overdue), sum(returned), sum(notices), sum(ratings),
                     sum(satisfied), sum(speed_sum), sum(effectiveness_sum)]::bigint[]
                from huying.score_rollup group by 1, 2, 3)) x), 0::bigint,
          'score_compact: the roll-up by department is the roll-up summed over townships and domains, row for row');
select is(api.score_compact(1000000), 0, 'score_compact: a second fold finds nothing');

-- a second session: while this transaction holds the lock, another's compaction skips
select exists (select 1 from pg_extension where extname = 'dblink')
       and (select rolsuper from pg_roles where rolname = current_user) as has_dblink
\gset
\if :has_dblink
select dblink_connect('scores_other', format('dbname=%s port=%s', current_database(), current_setting('port')));
select is((select n from dblink('scores_other', 'select api.score_compact(1000)') as t(n integer)), 0,
          'score_compact: another session skips while one holds the lock (dblink)');
select dblink_disconnect('scores_other');
\else
select skip('dblink is not installed (or not usable without a password): the two-session lock check is not run', 1);
\endif

-- ---- a deadline passed: counted when read, then a fact once the sweep marks it -------------------
-- D2's order of c3 is open; its accept deadline is put in the past (by SQL, as a clock would),
-- then marked lapsed as the sweep's timer trigger marks it, then moved into the future again
-- (an extension): the league table counts it in the response rate's denominator exactly
-- while the deadline is past, whichever way it is counted.
create temp view d2 as
  select (x ->> 'accept_counted')::int as accept_counted, (x ->> 'resolve_counted')::int as resolve_counted
    from jsonb_array_elements(api.scores('department', api.today(), api.today()) -> 'data') x
   where (x ->> 'department_id')::bigint = :a_d2;
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select accept_counted as d2_accept0 from d2 \gset
update huying.orders set accept_by = now() - interval '1 minute' where id = :o3_d2;
select is((select accept_counted from d2), :d2_accept0 + 1, 'lapse: an open order past accept_by is counted at read time');
select coalesce(max(id), 0) as deltas_max from huying.score_deltas \gset
update huying.orders set accept_lapsed = true where id = :o3_d2;
select is((select accept_counted from d2), :d2_accept0 + 1, 'lapse: marked lapsed (the sweep), it counts once, from the roll-up');
select is((select array[accept_counted, accepted_on_time]::text from huying.score_deltas where id > :deltas_max), '{1,0}',
          'lapse: the mark writes its delta');
update huying.orders set accept_by = now() + interval '1 day' where id = :o3_d2;
select is((select row(accept_lapsed, (select accept_counted from d2))::text from huying.orders where id = :o3_d2),
          row(false, :d2_accept0)::text, 'lapse: a deadline moved into the future clears the mark, and the order is not counted');

-- ---- a call's facts move to the domain of the item named after dispatch (calls_scores) ----------
-- c4: a call without an item, dispatched by hand to D1 (lead) and D2; D1 resolves and T1 rates
-- it (5, 5); a supervision case on D2's order with a notice and a reminder. Then the district
-- office dispatches it again naming I-LEAD (domain DOM1) and adding D3.
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select (a.body::jsonb ->> 'id')::bigint as c4 from api.call_create('{"title": "不知道归谁管"}'::jsonb, null) a
\gset
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select a.status from api.call_dispatch(:c4, format('{"orders": [{"department_id": %s, "role": "lead"},
                                                     {"department_id": %s, "role": "cooperating"}]}', :a_d1, :a_d2)::jsonb,
                                       null, null) a \g /dev/null
select max(id) filter (where department_id = :a_d1) as o4_d1, max(id) filter (where department_id = :a_d2) as o4_d2
  from huying.orders where call_id = :c4
\gset
select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select a.status from api.order_act(:o4_d1, 'resolve', '{"resolution": "已处理"}'::jsonb, null, null) a \g /dev/null
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select a.status from api.rating_create(:o4_d1, '{"speed": 5, "effectiveness": 5}'::jsonb, null) a \g /dev/null
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select (a.body::jsonb ->> 'id')::bigint as s4
  from api.supervision_open(format('{"order_id": %s, "reason": "久拖不办"}', :o4_d2)::jsonb, null) a
\gset
select a.status from api.supervision_act(:s4, 'notices', '{"kind": "notice", "text": "通报"}'::jsonb, null, null) a \g /dev/null
select a.status from api.supervision_act(:s4, 'notices', '{"kind": "reminder", "text": "催办"}'::jsonb, null, null) a \g /dev/null
select (select id from huying.domains where district_id = :da and code = 'DOM1') as dom1,
       (select v from sums where district_id = :da and domain_id = 0) as none_before,
       (select v from sums where district_id = :da and domain_id = (select id from huying.domains where district_id = :da and code = 'DOM1'))
         as dom1_before
\gset
select is(:'none_before'::text, '{1,2,1,1,1,1,0,0,1,1,1,5,5}',
          'domain move: before, the call''s facts are under "no item" (1 call, 2 orders, 1 resolved on time, a notice, a rating)');
select a.status from api.call_dispatch(:c4, format('{"item_code": "I-LEAD", "orders": [{"department_id": %s, "role": "cooperating"}]}',
                                                    :a_d3)::jsonb, null, null) a \g /dev/null
select is((select v from sums where district_id = :da and domain_id = 0), '{0,0,0,0,0,0,0,0,0,0,0,0,0}',
          'domain move: after the item is named, nothing is left under "no item"');
select is((select array(select x - y from unnest((select v from sums where district_id = :da and domain_id = :dom1)::bigint[],
                                                 :'dom1_before'::bigint[]) t(x, y))::text),
          '{1,3,1,1,1,1,0,0,1,1,1,5,5}',
          'domain move: the item''s domain gained the call, its 3 orders (D3''s new one too), the notice and the rating');
select is((select count(*) from jsonb_array_elements(api.scores('domain', api.today(), api.today()) -> 'data') x
            where x ->> 'code' is null), 0::bigint,
          'domain move: the league table by domain has no "no item" row once nothing is left in it');

select * from finish();
rollback;

-- ---- clean up (as the owner) ------------------------------------------------------------
\ir fixtures/calls-cleanup.sql
