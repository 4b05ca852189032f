-- 07_integration: webhooks and the outbox (0009_integration): who sees subscriptions, that
-- secrets are write-only, which events make deliveries (types, the `system` a subscription
-- acts for, the payload as sent), the claim (per-call order, the lease) and the recording of
-- attempts (delivered, backoff, 410 disables), redelivery and deletion (DESIGN §5).
--
-- Run by scripts/test.sh as huying_owner after `huyingd migrate`; the fixtures are those of
-- 03_calls.sql under this file's own district codes; the checks run as huying_api in one
-- transaction that is rolled back. The claim serves every district, so the checks look only
-- at this file's deliveries.

-- ---- fixtures (as the owner) ---------------------------------------------------------------
\set code_a sqltest-integration-a
\set code_b sqltest-integration-b
\ir fixtures/calls.sql

-- ---- as the API role ----------------------------------------------------------------------
\connect - huying_api
begin;
select plan(38);

-- three subscriptions of district A: all calls' creations and dispatches; the hotline's
-- (89000) creations and accepts; another system's creations
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select (a.body::jsonb ->> 'id')::bigint as w_all, a.status as w_all_status, a.location as w_all_loc, a.body as w_all_body
  from api.webhook_create('{"url": "https://all.example.com/h", "secret": "0123456789abcdef-all",
                            "events": ["call.created", "call.dispatched", "call.created"]}'::jsonb, null) a
\gset
select is(:w_all_status, 201, 'webhook_create: 201');
select is(:'w_all_loc'::text, '/v1/webhooks/' || :w_all, '... Location /v1/webhooks/{id}');
select is((:'w_all_body')::jsonb - 'id' - 'created_at' - 'updated_at',
          '{"url": "https://all.example.com/h", "events": ["call.created", "call.dispatched"], "system": null,
            "status": "active", "disabled_reason": null}'::jsonb,
          '... the subscription, its events de-duplicated and sorted, no secret');
select (a.body::jsonb ->> 'id')::bigint as w_hot
  from api.webhook_create('{"url": "https://hotline.example.com/h", "secret": "0123456789abcdef-hot", "system": "89000",
                            "events": ["call.created", "order.accepted"]}'::jsonb, null) a
\gset
select (a.body::jsonb ->> 'id')::bigint as w_other
  from api.webhook_create('{"url": "https://other.example.com/h", "secret": "0123456789abcdef-oth", "system": "12345",
                            "events": ["call.created"]}'::jsonb, null) a
\gset
select throws_ok($$select * from api.webhook_create('{"url": "https://x.example.com/", "secret": "0123456789abcdef",
                                                      "events": ["item.revised"]}'::jsonb, null)$$,
                 'HY422', 'the subscription has invalid fields', 'webhook_create: only call.* and order.* types');

-- secrets: write-only
select throws_ok('select secret from huying.webhook_secrets', '42501', null, 'secrets: the API role may not read them');
select throws_ok(format('insert into huying.webhook_secrets (webhook_id, district_id, secret) values (%s, %s, %L)',
                        :w_all, :db, 'sixteen-chars-or-more'), '42501', null,
                 'secrets: nor write one for another district (row-level security)');
select is((select count(*) from huying.webhooks where id in (:w_all, :w_hot, :w_other)), 3::bigint,
          'webhooks: the district office sees its subscriptions');

-- who else sees subscriptions and deliveries: nobody
select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select is((select count(*) from huying.webhooks), 0::bigint, 'webhooks: a department sees none');
select throws_ok($$select * from api.webhook_create('{"url": "https://x.example.com/", "secret": "0123456789abcdef",
                                                      "events": ["call.created"]}'::jsonb, null)$$,
                 '42501', null, 'webhooks: nor may it create one (row-level security)');
select set_config('huying.claims', :'cl_int', true) \g /dev/null
select is((select count(*) from huying.webhooks), 0::bigint, 'webhooks: an integration sees none');
select set_config('huying.claims', :'cl_b_dist', true) \g /dev/null
select is((select count(*) from huying.webhooks where id in (:w_all, :w_hot, :w_other)), 0::bigint,
          'webhooks: another district''s office sees none of them');

-- the hotline posts a ticket (dispatched at once: call.created, call.dispatched?) and a
-- township a call of its own
select set_config('huying.claims', :'cl_int', true) \g /dev/null
select (a.body::jsonb ->> 'id')::bigint as c_hot
  from api.call_create('{"title": "热线：路灯不亮", "item_code": "I-LEAD", "township_code": "T1",
                         "external_ref": {"id": "89000-0001"}, "reporter": {"name": "王某", "phone": "13812341234"}}'::jsonb, null) a
\gset
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select (a.body::jsonb ->> 'id')::bigint as c_own
  from api.call_create('{"title": "乡镇：路灯不亮", "item_code": "I-LEAD"}'::jsonb, null) a
\gset

select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select is((select array_agg(w.id || ':' || d.event_type order by w.id, d.id) from huying.webhook_deliveries d
             join huying.webhooks w on w.id = d.webhook_id where d.call_id = :c_hot),
          array[:w_all || ':call.created', :w_all || ':call.dispatched', :w_hot || ':call.created'],
          'outbox: the hotline''s call.created goes to the district-wide and the hotline''s subscriptions, not another system''s');
select is((select array_agg(w.id || ':' || d.event_type order by w.id, d.id) from huying.webhook_deliveries d
             join huying.webhooks w on w.id = d.webhook_id where d.call_id = :c_own),
          array[:w_all || ':call.created', :w_all || ':call.dispatched'],
          'outbox: a township''s own call only to the district-wide subscription');
select is((select payload -> 'call' -> 'reporter' from huying.webhook_deliveries where webhook_id = :w_hot and call_id = :c_hot),
          '{"name": "王某", "phone": "13812341234"}'::jsonb, 'payload: reporter data as the hotline sent it');
select is((select payload ->> 'id' from huying.webhook_deliveries where webhook_id = :w_hot and call_id = :c_hot),
          (select event_uuid::text from huying.webhook_deliveries where webhook_id = :w_hot and call_id = :c_hot),
          'payload: its id is the delivery''s event id');
select is((select (payload ->> 'event_id')::bigint from huying.webhook_deliveries where webhook_id = :w_hot and call_id = :c_hot),
          (select id from huying.events where subject_type = 'call' and subject_id = :c_hot and type = 'call.created'),
          'payload: event_id is the event''s id in the feed');
select is((select jsonb_typeof(payload -> 'order') from huying.webhook_deliveries where webhook_id = :w_hot and call_id = :c_hot),
          'null', 'payload: order null for an event of a call');

-- a department accepts the hotline call's lead order: order.accepted to the hotline
select id as o_hot from huying.orders where call_id = :c_hot and department_id = :a_d1
\gset
select set_config('huying.claims', :'cl_d1', true) \g /dev/null
select status as acc from api.order_act(:o_hot, 'accept', '{}'::jsonb, null, null)
\gset
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select is((select payload -> 'order' ->> 'status' from huying.webhook_deliveries
            where webhook_id = :w_hot and event_type = 'order.accepted' and call_id = :c_hot),
          'accepted', 'payload: an order event carries the order as it was then');

-- the claim: the earliest pending delivery of each call and subscription, leased
select array_agg(c.delivery_id order by c.delivery_id)::text as claimed,
       max(c.secret) filter (where d.webhook_id = :w_hot) as hot_secret,
       max(c.delivery_id) filter (where d.webhook_id = :w_hot) as d_hot,
       max(c.delivery_id) filter (where d.webhook_id = :w_all and d.call_id = :c_hot) as d_all
  from api.webhook_claim(1000, 60000) c join huying.webhook_deliveries d on d.id = c.delivery_id
 where d.call_id in (:c_hot, :c_own)
\gset
select is(cardinality(:'claimed'::bigint[]), 3,
          'claim: one delivery per call and subscription (the hotline''s order.accepted waits for its call.created)');
select is((select count(*) from huying.webhook_deliveries d where d.id = any(:'claimed'::bigint[])
            and d.event_type = 'order.accepted'), 0::bigint, '... order.accepted is not among them');
select is(:'hot_secret'::text, '0123456789abcdef-hot', 'claim: with the subscription''s secret');
select is((select count(*) from api.webhook_claim(1000, 60000) where delivery_id = any(:'claimed'::bigint[])), 0::bigint,
          'claim: a leased delivery is not claimed again');

-- attempts: the hotline's call.created delivered; the district-wide one of c_hot fails (500)
select api.webhook_done(:d_hot, 1, now(), 12, 200, null, 1000);
select api.webhook_done(:d_all, 1, now(), 30, 500, 'http-status: HTTP 500', 1000);
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select is((select status || ':' || attempts || ':' || last_status from huying.webhook_deliveries where id = :d_hot),
          'delivered:1:200', 'done: 2xx is delivered');
select ok((select next_attempt_at between now() + interval '0.79 s' and now() + interval '1.21 s'
             from huying.webhook_deliveries where id = :d_all), 'done: a 500 is retried after the backoff, ±20 %');
select is((select status || ':' || last_error from huying.webhook_deliveries where id = :d_all),
          'pending:http-status: HTTP 500', '... pending, with the error');
select is((select count(*) from huying.webhook_attempts where delivery_id in (:d_hot, :d_all)), 2::bigint,
          'done: every attempt logged');
-- a stale result (the lease ran out and another replica took it again) changes nothing
select api.webhook_done(:d_hot, 7, now(), 5, 500, 'late', 1000);
select is((select status from huying.webhook_deliveries where id = :d_hot), 'delivered', 'done: a stale attempt changes nothing ...');
select is((select count(*) from huying.webhook_attempts where delivery_id = :d_hot), 2::bigint, '... but is logged');

-- now the hotline's order.accepted may go
select is((select count(*) from api.webhook_claim(1000, 60000) c
            where c.delivery_id in (select d.id from huying.webhook_deliveries d
                                     where d.call_id = :c_hot and d.event_type = 'order.accepted')), 1::bigint,
          'claim: the next delivery of the call, once the earlier one is delivered');

-- the district office reads the log and redelivers
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select is((select api.webhook_delivery_json(d, true) -> 'log' -> 0 ->> 'status' from huying.webhook_deliveries d where d.id = :d_all),
          '500', 'log: the attempt''s status');
select is((select status from api.webhook_redeliver(:w_hot, :d_hot)), 202, 'redeliver: 202');
select is((select status from huying.webhook_deliveries where id = :d_hot), 'pending', '... the delivery is pending again');
select throws_ok(format('select * from api.webhook_redeliver(%s, %s)', :w_all, :d_hot), 'HY404', null,
                 'redeliver: a delivery of another subscription 404');

-- 410 Gone disables the subscription and cancels what it has pending
select api.webhook_done(:d_all, (select attempts from huying.webhook_deliveries where id = :d_all), now(), 3, 410, null, 1000);
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select is((select status || ':' || disabled_reason from huying.webhooks where id = :w_all),
          'disabled:the receiver answered 410 Gone', '410: the subscription is disabled');
select is((select count(*) from huying.webhook_deliveries where webhook_id = :w_all and status = 'pending'), 0::bigint,
          '410: nothing of it stays pending');

-- delete
select set_config('huying.claims', :'cl_dist', true) \g /dev/null
select is((select status from api.webhook_delete(:w_hot)), 204, 'delete: 204');
select is((select count(*) from huying.webhook_deliveries where webhook_id = :w_hot and status = 'pending'), 0::bigint,
          'delete: its pending deliveries are cancelled');
select throws_ok(format('select * from api.webhook_delete(%s)', :w_hot), 'HY404', null, 'delete: then 404');

select * from finish();
rollback;

-- ---- clean up (as the owner) ------------------------------------------------------------
\connect - huying_owner
\ir fixtures/calls-cleanup.sql
