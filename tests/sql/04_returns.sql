-- 04_returns: return requests (退单) and their rulings (0004_returns): row-level security of
-- return requests for every role, what the API role may write, the transitions rows, one
-- pending request per order, and rework/cancel through the API functions (DESIGN §4, §5).
--
-- Run by scripts/test.sh as huying_owner after `huyingd migrate`, like 03_calls.sql, whose
-- fixtures it repeats under its own district codes (sqltest-returns-a, sqltest-returns-b);
-- the checks run as huying_api in one transaction that is rolled back.

-- ---- fixtures (as the owner) ---------------------------------------------------------------
\set code_a sqltest-returns-a
\set code_b sqltest-returns-b
\ir fixtures/calls.sql

-- ---- as the API role ----------------------------------------------------------------------
\connect - huying_api
begin;
select plan(25);

select is((select count(*) from huying.transitions where entity = 'return'), 3::bigint,
          'transitions: withdraw, uphold and overrule of a pending return request');

-- a township's call dispatched to D1 (lead), D2 and D3
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select (a.body::jsonb ->> 'id')::bigint as c1 from api.call_create('{"title": "路灯不亮", "item_code": "I-LEAD"}'::jsonb, null) a
\gset
select max(id) filter (where department_id = :a_d1) as o_d1, max(id) filter (where department_id = :a_d2) as o_d2,
       max(id) filter (where department_id = :a_d3) as o_d3
  from huying.orders where call_id = :c1
\gset

-- D2 asks to return its order
select set_config('huying.claims', :'cl_d2', true) \g /dev/null
select a.status as r1_status, (a.body::jsonb ->> 'id')::bigint as r1
  from api.order_return(:o_d2, '{"reason": "不属于本部门"}'::jsonb, null, null) a
\gset
select is(:r1_status, 201, 'order_return: the department''s request answers 201');
select is((select return_pending from huying.orders where id = :o_d2), true, 'order_return: the order shows return_pending');
select is((select status from huying.orders where id = :o_d2), 'dispatched', 'order_return: the order keeps its status');
select throws_ok(format('select * from api.order_return(%s, ''{"reason": "again"}'', null, null)', :o_d2), 'HY409',
                 'cannot return this order: a return request is pending (withdraw it, or resolve the order)',
                 'order_return: a second request while one is pending is 409');
select throws_ok(format('select * from api.order_act(%s, ''accept'', ''{}'', null, null)', :o_d2), 'HY409', null,
                 'order_act: accepting while a return is pending is 409');
select is((select count(*) from huying.return_requests), 1::bigint, 'rls: the department reads its own request');
select throws_ok(format('delete from huying.return_requests where id = %s', :r1), '42501', null,
                 'grants: the API role may not delete return requests');
select throws_ok(format('update huying.return_requests set status = %L where id = %s', 'upheld', :r1), '42501', null,
                 'rls: a department cannot uphold its own request by writing it');

select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select is((select count(*) from huying.return_requests), 0::bigint, 'rls: another department reads none');
select throws_ok(format('insert into huying.return_requests (district_id, order_id, call_id, department_id, status, reason, requested_by_sub)
                         values (%s, %s, %s, %s, ''pending'', ''x'', ''u-d1'')', :da, :o_d2, :c1, :a_d2), '42501', null,
                 'rls: a department cannot file a request in another department''s name');
select throws_ok(format('select * from api.return_act(%s, ''withdraw'', ''{}'', null, null)', :r1), 'HY404', null,
                 'return_act: another department''s request is not found');

select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select is((select count(*) from huying.return_requests), 1::bigint, 'rls: the township of the call reads the request');
select throws_ok(format('select * from api.return_act(%s, ''uphold'', ''{}'', null, null)', :r1), 'HY403', null,
                 'return_act: a township may not rule');
select set_config('huying.claims', :'cl_t2', true) \g /dev/null
select is((select count(*) from huying.return_requests), 0::bigint, 'rls: another township reads none');
select set_config('huying.claims', :'cl_int', true) \g /dev/null
select is((select count(*) from huying.return_requests), 0::bigint, 'rls: an integration reads none of a township''s calls');
select set_config('huying.claims', :'cl_b_dist', true) \g /dev/null
select is((select count(*) from huying.return_requests), 0::bigint, 'rls: another district reads none');

-- the district office upholds it with a replacement to D4
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select is((select count(*) from huying.return_requests), 1::bigint, 'rls: the district office reads every request');
select a.status as up_status, (a.body::jsonb ->> 'replacement_order_id')::bigint as o_d4
  from api.return_act(:r1, 'uphold', format('{"department_id": %s}', :a_d4)::jsonb, null, null) a
\gset
select is(:up_status, 200, 'return_act: uphold answers 200');
select is((select status from huying.orders where id = :o_d2), 'returned', 'uphold: the order is returned');
select is((select row(department_id, role, status)::text from huying.orders where id = :o_d4),
          row(:a_d4, 'cooperating', 'dispatched')::text, 'uphold: a replacement cooperating order goes to D4');
select throws_ok(format('select * from api.return_act(%s, ''overrule'', ''{"reason": "x"}'', null, null)', :r1), 'HY409', null,
                 'return_act: an upheld request cannot be overruled');

-- the township cancels: no order accepted yet
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select is((select a.status from api.call_cancel(:c1, '{"reason": "已自行解决"}'::jsonb, null, null) a), 200,
          'call_cancel: the township cancels before any acceptance');
select is((select count(*) from huying.orders where call_id = :c1 and status = 'cancelled'), 3::bigint,
          'call_cancel: the live orders are cancelled');
select is((select status from huying.calls where id = :c1), 'cancelled', 'call_cancel: the call is cancelled');

select * from finish();
rollback;

-- ---- clean up (as the owner) ------------------------------------------------------------
\connect - huying_owner
\ir fixtures/calls-cleanup.sql
