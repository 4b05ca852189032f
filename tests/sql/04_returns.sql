-- 04_returns: return requests (退单) and their rulings (0004_returns): row-level security of
-- return requests for every role, what the API role may write, the transitions rows, one
-- pending request per order, and rework/cancel through the API functions (DESIGN §4, §5).
--
-- Run by scripts/test.sh as huying_owner after `huyingd migrate`, like 03_calls.sql, whose
-- fixtures it repeats under its own district codes (sqltest-returns-a, sqltest-returns-b);
-- the checks run as huying_api in one transaction that is rolled back.

-- ---- fixtures (as the owner) ------------------------------------------------------------
begin;
create temporary view sqltest_returns_d as
  select id from huying.districts where code in ('sqltest-returns-a', 'sqltest-returns-b');
delete from huying.events where district_id in (select id from sqltest_returns_d);
delete from huying.return_requests where district_id in (select id from sqltest_returns_d);
delete from huying.orders where district_id in (select id from sqltest_returns_d);
delete from huying.calls where district_id in (select id from sqltest_returns_d);
delete from huying.call_counters where district_id in (select id from sqltest_returns_d);
delete from huying.sla_policies where district_id in (select id from sqltest_returns_d);
delete from huying.idempotency where district_id in (select id from sqltest_returns_d);
delete from huying.scenarios where district_id in (select id from sqltest_returns_d);
delete from huying.item_revisions where district_id in (select id from sqltest_returns_d);
delete from huying.items where district_id in (select id from sqltest_returns_d);
delete from huying.grids where district_id in (select id from sqltest_returns_d);
delete from huying.units where district_id in (select id from sqltest_returns_d);
delete from huying.domains where district_id in (select id from sqltest_returns_d);
delete from huying.districts where id in (select id from sqltest_returns_d);

insert into huying.districts (code, name) values ('sqltest-returns-a', '呼叫测试甲区'), ('sqltest-returns-b', '呼叫测试乙区');
-- A: the office, two townships, three departments that get orders and a fourth that never does.
insert into huying.units (district_id, code, kind, name)
select d.id, u.code, u.kind, u.name
  from huying.districts d
 cross join (values ('OFFICE', 'district_office', '区工委管委办公室'),
                    ('T1', 'township', '一镇'),
                    ('T2', 'township', '二镇'),
                    ('D1', 'department', '住建局'),
                    ('D2', 'department', '城管局'),
                    ('D3', 'department', '供电公司'),
                    ('D4', 'department', '农业农村局')) as u (code, kind, name)
 where d.code = 'sqltest-returns-a';
-- B: its office and one township (only for external_ref and cross-district checks).
insert into huying.units (district_id, code, kind, name)
select d.id, u.code, u.kind, u.name
  from huying.districts d
 cross join (values ('OFFICE', 'district_office', '区工委管委办公室'),
                    ('T1', 'township', '一镇')) as u (code, kind, name)
 where d.code = 'sqltest-returns-b';
insert into huying.domains (district_id, code, name)
select id, 'DOM1', '城市管理' from huying.districts where code = 'sqltest-returns-a';
-- Items of A: I-LEAD (lead D1, cooperating D2 and D3, 10 days) and I-NOLEAD (no lead).
insert into huying.items (district_id, code)
select id, c from huying.districts cross join (values ('I-LEAD'), ('I-NOLEAD')) v (c) where code = 'sqltest-returns-a';
insert into huying.item_revisions (district_id, item_id, revision, domain_id, title, lead_department_id,
                                   cooperating_department_ids, resolve_limit, effective_from, source)
select i.district_id, i.id, 1, dom.id, '路灯损坏', d1.id, array[d2.id, d3.id], 10, current_date - 1, 'import'
  from huying.items i
  join huying.districts d on d.id = i.district_id and d.code = 'sqltest-returns-a'
  join huying.domains dom on dom.district_id = d.id and dom.code = 'DOM1'
  join huying.units d1 on d1.district_id = d.id and d1.code = 'D1'
  join huying.units d2 on d2.district_id = d.id and d2.code = 'D2'
  join huying.units d3 on d3.district_id = d.id and d3.code = 'D3'
 where i.code = 'I-LEAD';
insert into huying.item_revisions (district_id, item_id, revision, domain_id, title, effective_from, source)
select i.district_id, i.id, 1, dom.id, '无牵头部门事项', current_date - 1, 'import'
  from huying.items i
  join huying.districts d on d.id = i.district_id and d.code = 'sqltest-returns-a'
  join huying.domains dom on dom.district_id = d.id and dom.code = 'DOM1'
 where i.code = 'I-NOLEAD';
-- A scenario of each: I-LEAD's with a 2-day limit, I-NOLEAD's for the "other item" check.
insert into huying.scenarios (district_id, revision_id, seq, title, resolve_limit)
select r.district_id, r.id, 1, case i.code when 'I-LEAD' then '主干道路灯' else '其他' end,
       case i.code when 'I-LEAD' then 2 end
  from huying.item_revisions r
  join huying.items i on i.id = r.item_id
  join huying.districts d on d.id = r.district_id and d.code = 'sqltest-returns-a';
commit;

select (select id from huying.districts where code = 'sqltest-returns-a') as da,
       (select id from huying.districts where code = 'sqltest-returns-b') as db
\gset
select max(id) filter (where code = 'OFFICE') as a_office,
       max(id) filter (where code = 'T1') as a_t1,
       max(id) filter (where code = 'T2') as a_t2,
       max(id) filter (where code = 'D1') as a_d1,
       max(id) filter (where code = 'D2') as a_d2,
       max(id) filter (where code = 'D3') as a_d3,
       max(id) filter (where code = 'D4') as a_d4
  from huying.units where district_id = :da
\gset
select max(id) filter (where code = 'OFFICE') as b_office,
       max(id) filter (where code = 'T1') as b_t1
  from huying.units where district_id = :db
\gset
select max(i.id) filter (where i.code = 'I-LEAD') as item_lead,
       max(s.id) filter (where i.code = 'I-LEAD') as sc_lead,
       max(s.id) filter (where i.code = 'I-NOLEAD') as sc_nolead
  from huying.items i
  join huying.item_revisions r on r.item_id = i.id
  join huying.scenarios s on s.revision_id = r.id
 where i.district_id = :da
\gset

-- Claims as the daemon sets them (auth.c builds the same shape).
select json_build_object('sub', 'u-t1', 'role', 'township', 'unit_id', :a_t1, 'district', :da)::text as cl_t1,
       json_build_object('sub', 'u-t2', 'role', 'township', 'unit_id', :a_t2, 'district', :da)::text as cl_t2,
       json_build_object('sub', 'u-d1', 'role', 'department', 'unit_id', :a_d1, 'district', :da)::text as cl_d1,
       json_build_object('sub', 'u-d2', 'role', 'department', 'unit_id', :a_d2, 'district', :da)::text as cl_d2,
       json_build_object('sub', 'u-d3', 'role', 'department', 'unit_id', :a_d3, 'district', :da)::text as cl_d3,
       json_build_object('sub', 'u-d4', 'role', 'department', 'unit_id', :a_d4, 'district', :da)::text as cl_d4,
       json_build_object('sub', 'u-off', 'role', 'district', 'unit_id', :a_office, 'district', :da)::text as cl_dist,
       json_build_object('sub', 'hotline', 'role', 'integration', 'unit_id', :a_office, 'district', :da,
                         'system', '89000')::text as cl_int,
       json_build_object('sub', 'other-sys', 'role', 'integration', 'unit_id', :a_office, 'district', :da,
                         'system', '12345')::text as cl_int_other,
       json_build_object('sub', 'hotline', 'role', 'integration', 'unit_id', :b_office, 'district', :db,
                         'system', '89000')::text as cl_b_int,
       json_build_object('sub', 'u-off', 'role', 'district', 'unit_id', :b_office, 'district', :db)::text as cl_b_dist,
       extract(year from now() at time zone 'Asia/Shanghai')::integer as yr
\gset

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
begin;
create temporary view sqltest_returns_d as
  select id from huying.districts where code in ('sqltest-returns-a', 'sqltest-returns-b');
delete from huying.events where district_id in (select id from sqltest_returns_d);
delete from huying.return_requests where district_id in (select id from sqltest_returns_d);
delete from huying.orders where district_id in (select id from sqltest_returns_d);
delete from huying.calls where district_id in (select id from sqltest_returns_d);
delete from huying.call_counters where district_id in (select id from sqltest_returns_d);
delete from huying.sla_policies where district_id in (select id from sqltest_returns_d);
delete from huying.idempotency where district_id in (select id from sqltest_returns_d);
delete from huying.scenarios where district_id in (select id from sqltest_returns_d);
delete from huying.item_revisions where district_id in (select id from sqltest_returns_d);
delete from huying.items where district_id in (select id from sqltest_returns_d);
delete from huying.grids where district_id in (select id from sqltest_returns_d);
delete from huying.units where district_id in (select id from sqltest_returns_d);
delete from huying.domains where district_id in (select id from sqltest_returns_d);
delete from huying.districts where id in (select id from sqltest_returns_d);
commit;
