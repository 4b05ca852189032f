-- 03_calls: calls and linkage work orders (0003_calls): creation with auto-dispatch, call
-- numbers, idempotency, external_ref, deadlines, row-level security, the reporter mask and
-- the order transitions that resolve a call (DESIGN §4 and §5 "Calls and dispatch").
--
-- Run by scripts/test.sh as huying_owner after `huyingd migrate`:
--   psql "$HUYING_MIGRATE_DATABASE_URL" -X -q -At -v ON_ERROR_STOP=1 -f tests/sql/03_calls.sql
--
-- As in 01_rls.sql, the fixtures are committed by the owner (district codes sqltest-calls-a
-- and sqltest-calls-b, removed first and again at the end), and the checks reconnect as
-- huying_api, in one transaction that is rolled back: every call, order, counter, event and
-- idempotency key written through the API functions vanishes with it. now() is the same for
-- the whole transaction, so deadlines can be compared exactly.
-- Concurrency (two departments resolving at once, duplicate keys racing) needs two sessions
-- and is not tested here.

-- ---- fixtures (as the owner) ---------------------------------------------------------------
\set code_a sqltest-calls-a
\set code_b sqltest-calls-b
\ir fixtures/calls.sql

-- ---- as the API role ----------------------------------------------------------------------
\connect - huying_api
begin;
select plan(125);

select is(current_user::text, 'huying_api', 'the checks run as huying_api');

-- ---- api.deadlines: the default policy ---------------------------------------------------
-- Over the working-time calendar (0006); this district has none, so weekends are its only
-- days off and office hours are 08:30–12:00 and 13:30–17:30. 2026-03-02 is a Monday.
-- (tests/sql/05_calendar.sql checks the arithmetic itself against the 2026 calendar.)
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select is((select row(accept_by, resolve_by)::text from api.deadlines('urgent', null, '2026-03-02 09:00+08')),
          row('2026-03-02 11:00+08'::timestamptz, '2026-03-05 17:30+08'::timestamptz)::text,
          'deadlines: urgent accepts in 2 h wall-clock and resolves in 3 working days (Monday 09:00 -> Thursday 17:30)');
select is((select resolve_by from api.deadlines('urgent', 10, '2026-03-02 09:00+08')), '2026-03-05 17:30+08'::timestamptz,
          'deadlines: urgent keeps 3 working days when the item allows 10');
select is((select resolve_by from api.deadlines('urgent', 2, '2026-03-02 09:00+08')), '2026-03-04 17:30+08'::timestamptz,
          'deadlines: urgent takes a stricter 2-working-day limit');
select is((select row(accept_by, resolve_by)::text from api.deadlines('emergency', null, '2026-03-02 09:00+08')),
          row('2026-03-02 09:30+08'::timestamptz, '2026-03-03 09:00+08'::timestamptz)::text,
          'deadlines: emergency accepts in 30 min and resolves in 24 h, wall-clock');
select is((select row(accept_by, resolve_by)::text from api.deadlines('normal', null, '2026-03-02 09:00+08')),
          row('2026-03-03 17:30+08'::timestamptz, '2026-03-09 17:30+08'::timestamptz)::text,
          'deadlines: normal accepts within 1 working day and resolves in 5 (over the weekend)');
select is((select resolve_by from api.deadlines('normal', 10, '2026-03-02 09:00+08')), '2026-03-16 17:30+08'::timestamptz,
          'deadlines: normal resolves within the item''s own limit in working days');

-- ---- creation with auto-dispatch -------------------------------------------------------------
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select a.status as c1_status, a.etag as c1_etag, a.location as c1_loc, a.replayed as c1_replayed,
       a.body as c1_body, a.body::jsonb ->> 'id' as c1
  from api.call_create('{"title": "路灯不亮", "item_code": "I-LEAD", "urgency": "urgent",
                         "reporter": {"name": "张三", "phone": "13812341234"}}'::jsonb, 'k-c1') a
\gset
select is(:c1_status, 201, 'call_create: a township''s call answers 201');
select is(:'c1_replayed'::boolean, false, 'call_create: a fresh call is not a replay');
select is(:'c1_etag'::text, '"1"', 'call_create: ETag is the version "1"');
select is(:'c1_loc'::text, '/v1/calls/' || :c1, 'call_create: Location names the new call');
select matches(:'c1_body'::jsonb ->> 'number', '^HY-[0-9]{4}-[0-9]{6}$', 'call_create: the number reads HY-<year>-<6 digits>');
select is(:'c1_body'::jsonb ->> 'number', format('HY-%s-000001', :yr), 'call_create: the first call of the district is number 000001 of this year');
select is(:'c1_body'::jsonb ->> 'status', 'dispatched', 'call_create: a call whose item has a lead is dispatched at once');
select is((:'c1_body'::jsonb ->> 'township_id')::bigint, :a_t1::bigint, 'call_create: a township calls for itself');
select is((:'c1_body'::jsonb ->> 'item_id')::bigint, :item_lead::bigint, 'call_create: item_code resolves to the item');
select is((:'c1_body'::jsonb ->> 'item_revision')::integer, 1, 'call_create: the call keeps the revision in force');
select is(:'c1_body'::jsonb ->> 'source', 'township', 'call_create: a township''s call has source township');
select is(jsonb_array_length(:'c1_body'::jsonb -> 'orders'), 3, 'call_create: the answer lists the 3 orders');
select results_eq(format('select department_id, role, status from huying.orders where call_id = %s order by id', :c1),
                  format($$values (%s::bigint, 'lead'::text, 'dispatched'::text), (%s, 'cooperating', 'dispatched'),
                                  (%s, 'cooperating', 'dispatched')$$, :a_d1, :a_d2, :a_d3),
                  'call_create: one lead order to D1 and cooperating orders to D2 and D3');
select is((select count(*) from huying.orders
            where call_id = :c1 and accept_by = now() + interval '2 hours' and resolve_by = api.add_working_days(now(), 3)),
          3::bigint, 'call_create: urgent orders accept within 2 h and resolve within min(3, the item''s 10) working days');
select is((select count(*) from huying.orders o, api.deadlines('urgent', 10, now()) dl
            where o.call_id = :c1 and o.accept_by = dl.accept_by and o.resolve_by = dl.resolve_by),
          3::bigint, 'call_create: the order deadlines are those of api.deadlines');
select is((select count(*) from huying.orders where call_id = :c1 and district_id = :da and version = 1
              and accepted_at is null and resolved_at is null and not overdue and rework_of is null),
          3::bigint, 'call_create: the orders start fresh in the caller''s district');
select is((select created_by_unit::text || '/' || created_by_sub from huying.calls where id = :c1),
          :a_t1 || '/u-t1', 'call_create: the call records its creator unit and sub');

-- A second call, with the scenario of I-LEAD (2 days): the next number, the stricter limit.
select a.status as c2_status, a.body::jsonb ->> 'id' as c2, a.body::jsonb ->> 'number' as c2_number
  from api.call_create(format('{"title": "主干道路灯全灭", "item_id": %s, "scenario_id": %s, "urgency": "urgent"}',
                              :item_lead, :sc_lead)::jsonb, null) a
\gset
select is(:c2_status, 201, 'call_create: a call with a scenario answers 201');
select is(:'c2_number'::text, format('HY-%s-000002', :yr), 'numbers: the second call gets the next number');
select is((select scenario_id from huying.calls where id = :c2), :sc_lead::bigint, 'call_create: the call keeps its scenario');
select is((select count(*) from huying.orders where call_id = :c2 and resolve_by = api.add_working_days(now(), 2)), 3::bigint,
          'call_create: the scenario''s 2-working-day limit beats the policy''s 3');

-- Triage: no item; an item without a lead; triage asked for.
select a.status as c3_status, a.body::jsonb ->> 'id' as c3, a.body::jsonb ->> 'status' as c3_state,
       a.body::jsonb ->> 'number' as c3_number
  from api.call_create('{"title": "不知道归谁管"}'::jsonb, null) a
\gset
select is(:c3_status, 201, 'call_create: a call without an item answers 201');
select is(:'c3_state'::text, 'triage', 'call_create: a call without an item waits in triage');
select is(:'c3_number'::text, format('HY-%s-000003', :yr), 'numbers: the third call gets the third number');
select is((select count(*) from huying.orders where call_id = :c3), 0::bigint, 'call_create: a call in triage has no orders');
select is((select urgency from huying.calls where id = :c3), 'normal', 'call_create: urgency defaults to normal');
select a.body::jsonb ->> 'id' as c4, a.body::jsonb ->> 'status' as c4_state
  from api.call_create('{"title": "无牵头", "item_code": "I-NOLEAD"}'::jsonb, null) a
\gset
select is(:'c4_state'::text, 'triage', 'call_create: a call whose item has no lead waits in triage');
select is((select count(*) from huying.orders where call_id = :c4), 0::bigint, 'call_create: ... and has no orders');
select a.body::jsonb ->> 'id' as c5, a.body::jsonb ->> 'status' as c5_state
  from api.call_create('{"title": "请区里分派", "item_code": "I-LEAD", "triage": true}'::jsonb, null) a
\gset
select is(:'c5_state'::text, 'triage', 'call_create: triage:true keeps a call with a lead in triage');
select is((select count(*) from huying.orders where call_id = :c5), 0::bigint, 'call_create: ... and has no orders');

-- What only the database can refuse.
select throws_ok($$select * from api.call_create('{"title": "x", "item_code": "NO-SUCH-ITEM"}'::jsonb, null)$$,
                 'HY422', null, 'call_create: an unknown item code is 422');
select throws_ok(format($$select * from api.call_create('{"title": "x", "item_code": "I-LEAD", "scenario_id": %s}'::jsonb, null)$$,
                        :sc_nolead),
                 'HY422', null, 'call_create: a scenario of another item is 422');
select throws_ok(format($$select * from api.call_create('{"title": "x", "township_id": %s}'::jsonb, null)$$, :a_t2),
                 'HY422', null, 'call_create: a township naming a township_id is 422');
select throws_ok(format($$select * from api.call_create('{"title": "x", "township_id": %s}'::jsonb, null)$$, :a_t1),
                 'HY422', null, 'call_create: a township naming even its own township_id is 422');
select is((select count(*) from huying.calls), 5::bigint, 'call_create: refused calls leave no row');

-- ---- idempotency ---------------------------------------------------------------------------------
select a.status as r1_status, a.replayed as r1_replayed, a.body as r1_body, a.location as r1_loc
  from api.call_create('{"title": "路灯不亮", "item_code": "I-LEAD", "urgency": "urgent",
                         "reporter": {"name": "张三", "phone": "13812341234"}}'::jsonb, 'k-c1') a
\gset
select is(:r1_status, 201, 'idempotency: the replay answers the stored 201');
select is(:'r1_replayed'::boolean, true, 'idempotency: the replay is marked replayed');
select is(:'r1_body'::text, :'c1_body', 'idempotency: the replay returns the stored body');
select is(:'r1_loc'::text, :'c1_loc', 'idempotency: the replay returns the stored Location');
select is((select count(*) from huying.calls), 5::bigint, 'idempotency: the replay creates no call');
select throws_ok($$select * from api.call_create('{"title": "别的内容", "item_code": "I-LEAD"}'::jsonb, 'k-c1')$$,
                 'HY422', null, 'idempotency: the same key with another body is 422');
-- The key is scoped by sub: another township's identical request is its own call.
select set_config('huying.claims', :'cl_t2', true) \g /dev/null
select a.status as t2_status, a.replayed as t2_replayed, a.body::jsonb ->> 'id' as c6
  from api.call_create('{"title": "路灯不亮", "item_code": "I-LEAD", "urgency": "urgent",
                         "reporter": {"name": "张三", "phone": "13812341234"}}'::jsonb, 'k-c1') a
\gset
select ok(:t2_status = 201 and not :'t2_replayed'::boolean and :c6 <> :c1,
          'idempotency: the same key under another sub creates another call');
select is((select township_id from huying.calls where id = :c6), :a_t2::bigint, 'idempotency: ... for that township');

-- ---- external_ref (integration) ---------------------------------------------------------------
select set_config('huying.claims', :'cl_int', true) \g /dev/null
select a.status as x1_status, a.body::jsonb ->> 'id' as x1, a.body as x1_body
  from api.call_create('{"title": "热线来电", "township_code": "T2", "external_ref": {"system": "89000", "id": "RX-1"},
                         "reporter": {"name": "李四", "phone": "13900001111"}}'::jsonb, null) a
\gset
select is(:x1_status, 201, 'external_ref: the hotline''s first post answers 201');
select is(:'x1_body'::jsonb -> 'external_ref', '{"system": "89000", "id": "RX-1"}'::jsonb, 'external_ref: the call shows its external_ref');
select is(:'x1_body'::jsonb ->> 'source', 'hotline', 'external_ref: an integration''s call has source hotline');
select is((:'x1_body'::jsonb ->> 'township_id')::bigint, :a_t2::bigint, 'external_ref: township_code names the township');
select is(:'x1_body'::jsonb -> 'reporter' ->> 'phone', '13900001111', 'external_ref: the integration gets its reporter data unmasked');
select a.status as x2_status, a.replayed as x2_replayed, a.body::jsonb ->> 'id' as x2
  from api.call_create('{"title": "热线来电（重发）", "township_code": "T2", "external_ref": {"system": "89000", "id": "RX-1"}}'::jsonb,
                       null) a
\gset
select is(:x2_status, 200, 'external_ref: posting the same ticket again answers 200');
select is(:x2, :x1, 'external_ref: ... with the existing call');
select is(:'x2_replayed'::boolean, false, 'external_ref: ... which is not an idempotent replay');
select is((select count(*) from huying.calls where external_id = 'RX-1'), 1::bigint, 'external_ref: no second row');
-- District B's hotline posts the same ticket id: a call of its own, numbered in B.
select set_config('huying.claims', :'cl_b_int', true) \g /dev/null
select a.status as y1_status, a.body::jsonb ->> 'id' as y1, a.body::jsonb ->> 'number' as y1_number
  from api.call_create('{"title": "热线来电", "township_code": "T1", "external_ref": {"system": "89000", "id": "RX-1"}}'::jsonb,
                       null) a
\gset
select ok(:y1_status = 201 and :y1 <> :x1, 'external_ref: the same id in another district is a separate call');
select is(:'y1_number'::text, format('HY-%s-000001', :yr), 'numbers: each district counts its own numbers');
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select is((select count(*) from huying.calls), 7::bigint, 'the district sees its 7 calls');
select is((select count(distinct number) from huying.calls), 7::bigint, 'numbers: unique in the district');
select is((select array_agg(number order by id) from huying.calls),
          array(select format('HY-%s-%s', :yr, lpad(g::text, 6, '0')) from generate_series(1, 7) g),
          'numbers: consecutive in creation order');

-- ---- events ----------------------------------------------------------------------------------
select is((select array_agg(type order by id) from huying.events where subject_type = 'call' and subject_id = :c1),
          array['call.created', 'call.dispatched'], 'events: a dispatched call has call.created then call.dispatched');
select is((select count(*) from huying.events where subject_type = 'call' and subject_id = :c1
              and actor_unit_id = :a_t1 and actor_role = 'township' and actor_sub = 'u-t1'),
          2::bigint, 'events: the township is the actor of both');
select is((select data -> 'departments' from huying.events where subject_type = 'call' and subject_id = :c1
              and type = 'call.dispatched'),
          jsonb_build_array(:a_d1, :a_d2, :a_d3), 'events: call.dispatched names the departments, lead first');
select is((select array_agg(type order by id) from huying.events where subject_type = 'call' and subject_id = :c3),
          array['call.created'], 'events: a call in triage has call.created only');

-- ---- visibility (RLS) ---------------------------------------------------------------------------
select is((select count(*) from huying.orders), 9::bigint, 'district: sees every order of its district (3 calls x 3)');
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select is((select count(*) from huying.calls where id = :c1), 1::bigint, 'township T1 sees its call');
select is((select count(*) from huying.calls), 5::bigint, 'township T1 sees its 5 calls only');
select is((select count(*) from huying.orders where call_id = :c1), 3::bigint, 'township T1 sees the orders of its call');
select is((select count(*) from huying.orders), 6::bigint, 'township T1 sees no order of another township''s call');
select set_config('huying.claims', :'cl_t2', true) \g /dev/null
select is((select count(*) from huying.calls where id = :c1), 0::bigint, 'township T2 does not see T1''s call');
select is((select count(*) from huying.orders where call_id = :c1), 0::bigint, 'township T2 does not see the orders of T1''s call');
select results_eq('select id from huying.calls order by id', format('values (%s::bigint), (%s)', :c6, :x1),
                  'township T2 sees its own call and the hotline''s call for it');
select set_config('huying.claims', :'cl_d2', true) \g /dev/null
select is((select count(*) from huying.calls where id = :c1), 1::bigint, 'department D2 (cooperating) sees the call');
select results_eq(format('select department_id from huying.orders where call_id = %s', :c1),
                  format('values (%s::bigint)', :a_d2),
                  'department D2 sees its own order only, not the lead''s or the other cooperating one');
select results_eq('select id from huying.calls order by id', format('values (%s::bigint), (%s), (%s)', :c1, :c2, :c6),
                  'department D2 sees exactly the calls behind its orders');
select set_config('huying.claims', :'cl_d4', true) \g /dev/null
select is((select count(*) from huying.calls), 0::bigint, 'department D4 without orders sees no call');
select is((select count(*) from huying.orders), 0::bigint, 'department D4 without orders sees no order');
select set_config('huying.claims', :'cl_int', true) \g /dev/null
select results_eq('select id from huying.calls', format('values (%s::bigint)', :x1),
                  'integration 89000 sees only the call its system posted');
select set_config('huying.claims', :'cl_int_other', true) \g /dev/null
select is((select count(*) from huying.calls), 0::bigint, 'integration of another system sees no call');
select set_config('huying.claims', '', true) \g /dev/null
select is((select count(*) from huying.calls), 0::bigint, 'no claims: calls shows no rows');
select is((select count(*) from huying.orders), 0::bigint, 'no claims: orders shows no rows');
select is((select count(*) from huying.call_counters), 0::bigint, 'no claims: call_counters shows no rows');
select set_config('huying.claims', :'cl_b_dist', true) \g /dev/null
select is((select count(*) from huying.calls where district_id = :da), 0::bigint, 'district B sees no call of district A');
select is((select count(*) from huying.orders where district_id = :da), 0::bigint, 'district B sees no order of district A');
select results_eq('select id from huying.calls', format('values (%s::bigint)', :y1), 'district B sees its own call only');

-- ---- api.call_json: the reporter mask ---------------------------------------------------------
select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select is((select api.call_json(c) -> 'reporter' ->> 'phone' from huying.calls c where id = :c1), '138****1234',
          'call_json: a department sees the reporter phone masked');
select is((select api.call_json(c) -> 'reporter' ->> 'name' from huying.calls c where id = :c1), '张三',
          'call_json: ... and the reporter name');
select is((select jsonb_array_length(api.call_json(c) -> 'orders') from huying.calls c where id = :c1), 1,
          'call_json: a department''s view lists its own order only');
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select is((select api.call_json(c) -> 'reporter' ->> 'phone' from huying.calls c where id = :c1), '13812341234',
          'call_json: the township sees the reporter phone unmasked');
select is(api.mask_phone('13812341234'), '138****1234', 'mask_phone: 11 digits keep 3 + 4');

-- ---- api.order_act ------------------------------------------------------------------------------
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select max(id) filter (where department_id = :a_d1) as o_lead,
       max(id) filter (where department_id = :a_d2) as o_d2,
       max(id) filter (where department_id = :a_d3) as o_d3
  from huying.orders where call_id = :c1
\gset

select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select a.status as a1_status, a.etag as a1_etag, a.body as a1_body
  from api.order_act(:o_lead, 'accept', '{}'::jsonb, null) a
\gset
select is(:a1_status, 200, 'order_act: the department accepts its dispatched order (200)');
select is(:'a1_body'::jsonb ->> 'status', 'accepted', 'order_act: the order is accepted');
select is(:'a1_etag'::text, '"2"', 'order_act: accepting bumps the version');
select isnt(:'a1_body'::jsonb ->> 'accepted_at', null::text, 'order_act: accepted_at is set');
select throws_ok(format($$select * from api.order_act(%s, 'accept', '{}', null)$$, :o_lead),
                 'HY409', null, 'order_act: accepting an accepted order is 409');
select throws_ok(format($$select * from api.order_act(%s, 'accept', '{}', null)$$, :o_d2),
                 'HY404', null, 'order_act: a department cannot act on another department''s order (404)');
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select throws_ok(format($$select * from api.order_act(%s, 'accept', '{}', null)$$, :o_d2),
                 'HY403', null, 'order_act: a township may never accept an order (403)');
select set_config('huying.claims', :'cl_d2', true) \g /dev/null
select throws_ok(format($$select * from api.order_act(%s, 'accept', '{}', '"99"')$$, :o_d2),
                 'HY412', null, 'order_act: a stale If-Match is 412');
select is((select status from huying.orders where id = :o_d2), 'dispatched', 'order_act: the refused acts left the order dispatched');

-- The lead resolves first: the call stays dispatched.
select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select a.status as l_status, a.body::jsonb ->> 'status' as l_state
  from api.order_act(:o_lead, 'resolve', '{"resolution": "已更换灯泡"}'::jsonb, '"2"') a
\gset
select is(:l_status, 200, 'order_act: the lead resolves its accepted order (200)');
select is(:'l_state'::text, 'resolved', 'order_act: the lead order is resolved');
select is((select status from huying.calls where id = :c1), 'dispatched', 'settle: the call stays dispatched while cooperating orders are open');
-- D2 resolves straight from dispatched: an implicit accept first.
select set_config('huying.claims', :'cl_d2', true) \g /dev/null
select a.status as r2_status, a.body as r2_body
  from api.order_act(:o_d2, 'resolve', '{"resolution": "已配合"}'::jsonb, '"1"') a
\gset
select is(:r2_status, 200, 'order_act: resolving a dispatched order answers 200');
select ok(:'r2_body'::jsonb ->> 'status' = 'resolved' and :'r2_body'::jsonb ->> 'accepted_at' is not null
          and :'r2_body'::jsonb ->> 'resolved_at' is not null and :'r2_body'::jsonb ->> 'resolution' = '已配合',
          'order_act: the order is resolved, with accepted_at, resolved_at and the resolution');
select is((select status from huying.calls where id = :c1), 'dispatched', 'settle: one cooperating order open: the call stays dispatched');
select throws_ok(format($$select * from api.order_act(%s, 'resolve', '{}', null)$$, :o_d2),
                 'HY409', null, 'order_act: resolving a resolved order is 409');
-- D3 resolves the last live order: the call is resolved.
select set_config('huying.claims', :'cl_d3', true) \g /dev/null
select a.status as r3_status from api.order_act(:o_d3, 'resolve', '{"resolution": "已恢复供电"}'::jsonb, null) a
\gset
select is(:r3_status, 200, 'order_act: the last cooperating order is resolved (200)');
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select is((select status from huying.calls where id = :c1), 'resolved', 'settle: every live order resolved: the call is resolved');
select is((select version from huying.calls where id = :c1), 2, 'settle: resolving the call bumps its version');
select is((select array_agg(type order by id) from huying.events where subject_type = 'order' and subject_id = :o_d2),
          array['order.accepted', 'order.resolved'], 'events: resolving from dispatched writes order.accepted then order.resolved');
select is((select data ->> 'implicit' from huying.events where subject_type = 'order' and subject_id = :o_d2
              and type = 'order.accepted'), 'true', 'events: ... the accept marked implicit');
select is((select array_agg(type order by id) from huying.events where subject_type = 'order' and subject_id = :o_lead),
          array['order.accepted', 'order.resolved'], 'events: the lead order has order.accepted then order.resolved');
select is((select array_agg(type order by id) from huying.events where subject_type = 'call' and subject_id = :c1),
          array['call.created', 'call.dispatched', 'call.resolved'], 'events: the call''s timeline ends with call.resolved');
select is((select actor_unit_id from huying.events where subject_type = 'call' and subject_id = :c1 and type = 'call.resolved'),
          :a_d3::bigint, 'events: call.resolved names the department whose order settled the call');
select is((select status from huying.calls where id = :c2), 'dispatched', 'settle: the other call is untouched');

-- ---- who may create, what only integrations send, who reads a call's events ----------------
select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select throws_ok($$select * from api.call_create('{"title": "部门呼叫"}'::jsonb, null)$$,
                 'HY403', null, 'call_create: a department may not create calls (403)');
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select throws_ok($$select * from api.call_create('{"title": "x", "external_ref": {"system": "89000", "id": "T-1"}}'::jsonb, null)$$,
                 'HY422', null, 'call_create: external_ref comes from integration tokens only (422)');
select is((select array_agg(type order by id) from huying.events where subject_type = 'call' and subject_id = :c1),
          array['call.created', 'call.dispatched', 'call.resolved'], 'events: the township reads its own call''s timeline');
select set_config('huying.claims', :'cl_d4', true) \g /dev/null
select is((select count(*) from huying.events where subject_type = 'call' and subject_id = :c1), 0::bigint,
          'events: a department without an order on the call reads none of its events');
select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select is((select count(*) from huying.events where subject_type = 'order' and subject_id = :o_lead), 2::bigint,
          'events: the department reads its own order''s events');
update huying.calls set status = 'closed' where id = :c1;
select is((select status from huying.calls where id = :c1), 'resolved',
          'rls: a department cannot change a call directly (no update policy for it)');

select * from finish();
rollback;

-- ---- clean up (as the owner) ------------------------------------------------------------
\connect - huying_owner
\ir fixtures/calls-cleanup.sql
