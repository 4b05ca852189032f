// Timers (issue 5, DESIGN §5 "Timers, calendar, supervision"): every order gets accept and
// resolve timers and a call in triage a triage timer, kept by triggers whatever path starts,
// moves or stops a deadline; GET /v1/timers and GET /v1/orders/{id}/timers(?explain=true) per
// role; the sweep of every daemon fires warning, overdue (the sticky flag and a supervision)
// and escalation exactly once — three replicas on 2,000 timers due together, and a replica
// killed (SIGKILL) in the middle of a sweep; a calendar edit moves running deadlines with an
// event each, a policy edit does not; resolved calls close by themselves after
// auto_close_days; reopen within reopen_days only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { expectProblem, get, post, psql, randomSecret, request, sleep, startDaemon } from './lib.mjs';
import { callsApi, callsWorld, ms } from './calls_helpers.mjs';

const SECRET = randomSecret();
const w = {};
const api = callsApi(w);
const { created, act, dispatchedCall } = api;
let d;
let C;

before(async () => {
  // d does not sweep: the tests that need a sweep start their own sweeping replicas, so that
  // the kill test controls exactly who sweeps
  d = await startDaemon({ HUYING_JWT_SECRET: SECRET, HUYING_SWEEP_INTERVAL_MS: 0, HUYING_RATE_LIMIT: 0 });
  Object.assign(w, await callsWorld(d, 'TM'));
  ({ C } = w);
});
after(async () => { await d.stop(); });

const tok = (who) => w.tk[who];
const ok = (res, status = 200) => {
  assert.equal(res.status, status, res.text);
  return res.json;
};
const timersOf = async (orderId, who = 'district', query = '') => ok(await get(d, `/v1/orders/${orderId}/timers${query}`, { token: tok(who) })).data;
const byKind = (list) => Object.fromEntries(list.map((t) => [t.kind, t]));
const claims = (dist) => JSON.stringify({ sub: 'test:seed', role: 'district', unit_id: dist.office, district: dist.id });
// Seeds n dispatched calls with one lead order each to department code dept (2 timers per
// order), as the owner with the district's claims (the timer triggers read them); returns the
// call ids.
function seedOrders(n, tag, dept = 'CD-ZRZY') {
  const out = psql(`
    select set_config('huying.claims', '${claims(C)}', false) \\g /dev/null
    with c as (
      insert into huying.calls (district_id, number, township_id, title, urgency, source, status, created_by_unit, created_by_sub)
      select ${C.id}, 'SEED-${tag}-' || g, ${C.unit('TS-NCS')}, '计时种子 ${tag} ' || g, 'normal', 'township', 'dispatched',
             ${C.unit('TS-NCS')}, 'test:seed'
        from generate_series(1, ${n}) g returning id),
    o as (
      insert into huying.orders (district_id, call_id, department_id, role, status, accept_by, resolve_by)
      select ${C.id}, c.id, ${C.unit(dept)}, 'lead', 'dispatched', now() + interval '1 day', now() + interval '10 days' from c
      returning call_id)
    select string_agg(call_id::text, ',') from o;`);
  const ids = out.split(',').map(Number);
  // parked an hour away until a test makes them due
  psql(`update huying.timers set warn_at = now() + interval '1 hour', due_at = now() + interval '2 hours',
               fire_at = now() + interval '1 hour', escalate_at = now() + interval '3 hours'
         where call_id = any('{${ids.join(',')}}'::bigint[])`);
  return ids;
}
// Makes the running timers of these calls warn in warnIn seconds and fall due in dueIn.
// Stops the timers of seeded calls (so that later tests do not carry them).
const stopSeeded = (callIds) => psql(`update huying.timers set state = 'stopped', fire_at = null, stopped_at = now()
                                       where call_id = any('{${callIds.join(',')}}'::bigint[])`);
function makeDue(callIds, warnIn, dueIn) {
  psql(`update huying.timers set warn_at = now() + interval '${warnIn} s', due_at = now() + interval '${dueIn} s',
               fire_at = now() + interval '${warnIn} s', escalate_at = now() + interval '1 hour'
         where call_id = any('{${callIds.join(',')}}'::bigint[]) and state <> 'stopped'`);
}
const countEvents = (type, callIds) => Number(psql(`
  select count(*) from huying.events e join huying.timers t on t.id = (e.data ->> 'timer_id')::bigint
   where e.type = '${type}' and t.call_id = any('{${callIds.join(',')}}'::bigint[])`));
const distinctEvents = (type, callIds) => Number(psql(`
  select count(distinct e.data ->> 'timer_id') from huying.events e join huying.timers t on t.id = (e.data ->> 'timer_id')::bigint
   where e.type = '${type}' and t.call_id = any('{${callIds.join(',')}}'::bigint[])`));
// Runs fn while one more daemon sweeps every 200 ms.
async function withSweeper(fn) {
  const sw = await startDaemon({ HUYING_JWT_SECRET: SECRET, HUYING_SWEEP_INTERVAL_MS: 200 });
  try {
    return await fn(sw);
  } finally {
    await sw.stop();
  }
}
async function until(pred, ms, what) {
  const t0 = Date.now();
  for (;;) {
    if (await pred()) return Date.now() - t0;
    if (Date.now() - t0 > ms) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(100);
  }
}

describe('timers kept with the orders', () => {
  test('a dispatched call: accept and resolve timers per order, running, counted with the policy and the item limit', async () => {
    const x = await dispatchedCall('计时：新呼叫');
    const t = byKind(await timersOf(x.lead));
    assert.deepEqual(Object.keys(t).sort(), ['accept', 'resolve']);
    const o = x.call.orders.find((y) => y.id === x.lead);
    assert.deepEqual([t.accept.state, t.accept.due_at, t.accept.limit], ['running', o.accept_by, { working_days: 1 }]);
    assert.deepEqual([t.resolve.state, t.resolve.due_at, t.resolve.limit], ['running', o.resolve_by, { working_days: 15 }]);
    for (const k of ['accept', 'resolve']) {
      assert.equal(t[k].order_id, x.lead);
      assert.equal(t[k].call_id, x.call.id);
      assert.equal(t[k].department_id, C.unit('CD-ZRZY'));
      assert.equal(t[k].stopped_at, null);
      assert.ok(ms(t[k].warn_at) > ms(t[k].started_at) && ms(t[k].warn_at) < ms(t[k].due_at), 'warns inside its span');
      assert.ok(ms(t[k].escalate_at) > ms(t[k].due_at));
      assert.ok(Number.isInteger(t[k].business_seconds_left) && t[k].business_seconds_left > 0);
      assert.match(t[k].due_at, /T17:30:00\+08:00$/, 'a working-day deadline ends at the close of office hours');
    }
  });

  test('accept stops the accept timer; resolve stops the resolve timer; a plan moves the resolve timer to a fixed instant', async () => {
    const x = await dispatchedCall('计时：签收办结');
    ok(await act('department', x.lead, 'accept', {}));
    let t = byKind(await timersOf(x.lead, 'department'));
    assert.equal(t.accept.state, 'stopped');
    assert.match(t.accept.stopped_at, /\+08:00$/);
    assert.equal(t.accept.business_seconds_left, null);
    assert.equal(t.resolve.state, 'running');
    const due = new Date(Date.now() + 2 * 86400e3);
    due.setUTCMilliseconds(0);
    const planned = ok(await act('department', x.lead, 'plan', { plan: '先勘查', resolve_by: due.toISOString().replace('.000Z', 'Z') }));
    t = byKind(await timersOf(x.lead));
    assert.deepEqual([t.resolve.due_at, t.resolve.limit], [planned.resolve_by, { until: planned.resolve_by }]);
    ok(await act('department', x.lead, 'resolve', { resolution: '已处理' }));
    t = byKind(await timersOf(x.lead));
    assert.deepEqual([t.accept.state, t.resolve.state], ['stopped', 'stopped']);
    // the cooperating orders' timers still run
    assert.equal(byKind(await timersOf(x.zf)).resolve.state, 'running');
  });

  test('a triage call has a triage timer until it is dispatched; the new orders get theirs', async () => {
    const c = await created('township', { title: '计时：分拨', urgency: 'urgent' });
    assert.equal(c.status, 'triage');
    let list = ok(await get(d, `/v1/timers?call_id=${c.id}`, { token: tok('district') })).data;
    assert.deepEqual(list.map((t) => [t.kind, t.state, t.order_id, t.department_id]), [['triage', 'running', null, null]]);
    assert.deepEqual(list[0].limit, { minutes: 60, clock: 'wall' });
    assert.equal(ms(list[0].due_at) - ms(list[0].started_at), 3600e3);
    ok(await api.dispatch('district', c.id, { item_code: 'ZRZY-01', orders: [{ department_code: 'CD-ZRZY', role: 'lead' }] }));
    list = ok(await get(d, `/v1/timers?call_id=${c.id}`, { token: tok('district') })).data;
    assert.deepEqual(list.map((t) => [t.kind, t.state]).sort(), [['accept', 'running'], ['resolve', 'running'], ['triage', 'stopped']]);
  });

  test('a rework order has fresh timers; an upheld replacement too', async () => {
    const x = await dispatchedCall('计时：重办');
    for (const [who, id] of [['department', x.lead], ['zf', x.zf], ['zj', x.zj]]) ok(await act(who, id, 'resolve', { resolution: '完成' }));
    const re = ok(await post(d, `/v1/calls/${x.call.id}/reopen`, { reason: '未解决' }, { token: tok('township') }));
    const rework = re.orders.find((o) => o.rework_of === x.lead);
    const t = byKind(await timersOf(rework.id));
    assert.deepEqual([t.accept.state, t.resolve.state], ['running', 'running']);
    assert.ok(ms(t.accept.started_at) >= ms(rework.created_at));
  });

  test('an urgency change re-times the running timers', async () => {
    const x = await dispatchedCall('计时：紧急程度');
    ok(await api.urgency('district', x.call.id, { urgency: 'emergency', reason: '升级' }));
    const t = byKind(await timersOf(x.lead));
    assert.deepEqual(t.accept.limit, { minutes: 30, clock: 'wall' });
    assert.equal(ms(t.accept.due_at) - ms(t.accept.started_at), 30 * 60e3);
  });

  test('explain=true: the rule, the office-time segments and the skipped days of each deadline', async () => {
    const x = await dispatchedCall('计时：说明');
    const t = byKind(await timersOf(x.lead, 'township', '?explain=true'));
    const e = t.resolve.explain;
    assert.equal(e.rule, 'working days (start day not counted)');
    assert.deepEqual(e.limit, { working_days: 15 });
    assert.equal(e.due, t.resolve.due_at);
    assert.equal(e.segments.length, 15, JSON.stringify(e));
    // the start day does not count (it shows as the start day, or as a weekend or holiday)
    assert.equal(e.skipped[0].date, t.resolve.started_at.slice(0, 10));
    assert.ok(e.skipped.some((s) => s.reason === 'weekend'), JSON.stringify(e.skipped));
    assert.equal((await timersOf(x.lead, 'district', '?explain=false'))[0].explain, undefined);
    expectProblem(await get(d, `/v1/orders/${x.lead}/timers?explain=yes`, { token: tok('district') }), 422);
    expectProblem(await get(d, `/v1/orders/${x.lead}/timers?verbose=1`, { token: tok('district') }), 422);
  });

  test('who sees which timers: the district all, a department its own, a township its calls\', an integration its system\'s', async () => {
    const x = await dispatchedCall('计时：可见');
    const mine = (list) => list.filter((t) => t.call_id === x.call.id).map((t) => t.order_id).sort((a, b) => a - b);
    const view = async (who) => mine(ok(await get(d, `/v1/timers?call_id=${x.call.id}&limit=200`, { token: tok(who) })).data);
    const all = [x.lead, x.lead, x.zf, x.zf, x.zj, x.zj].sort((a, b) => a - b);
    assert.deepEqual(await view('district'), all);
    assert.deepEqual(await view('township'), all);
    assert.deepEqual(await view('department'), [x.lead, x.lead]);
    assert.deepEqual(await view('hy'), []);
    assert.deepEqual(await view('township2'), []);
    assert.deepEqual(await view('integration'), []);
    assert.deepEqual(await view('bDistrict'), []);
    expectProblem(await get(d, `/v1/orders/${x.zf}/timers`, { token: tok('department') }), 404);
    expectProblem(await get(d, `/v1/orders/${x.lead}/timers`, { token: tok('township2') }), 404);
    expectProblem(await get(d, `/v1/orders/${x.lead}/timers`, { token: tok('bDistrict') }), 404);
    const dept = ok(await get(d, `/v1/timers?department_id=${C.unit('CD-ZF')}&kind=resolve&state=running&limit=5`, { token: tok('district') }));
    assert.ok(dept.data.length > 0 && dept.data.every((t) => t.department_id === C.unit('CD-ZF') && t.kind === 'resolve' && t.state === 'running'));
    const twp = ok(await get(d, `/v1/timers?township_id=${C.unit('TS-BCS')}`, { token: tok('district') }));
    assert.deepEqual(twp.data, []);
    for (const q of ['state=late', 'kind=all', 'department_id=x', 'township_id=0', 'call_id=-1', 'color=red'])
      expectProblem(await get(d, `/v1/timers?${q}`, { token: tok('district') }), 422);
  });
});

describe('calendar and policy edits', () => {
  test('a new holiday on the next working day moves running working-time deadlines, with an event on each order', async () => {
    const x = await dispatchedCall('计时：日历');
    const before = byKind(await timersOf(x.lead));
    // the first weekday after today (Asia/Shanghai) that is before the accept deadline
    const day = psql(`select d::date from generate_series((now() at time zone 'Asia/Shanghai')::date + 1,
                        (now() at time zone 'Asia/Shanghai')::date + 10, '1 day') d
                       where extract(isodow from d) < 6 order by d limit 1`);
    const year = Number(day.slice(0, 4));
    const cur = ok(await get(d, `/v1/calendar/${year}`, { token: tok('district') }));
    const put = await request(d, 'PUT', `/v1/calendar/${year}`, {
      token: tok('district'), headers: { 'If-Match': `"${cur.version}"` },
      body: { office_hours: cur.office_hours, days: [...cur.days, { date: day, kind: 'holiday', name: '临时休假' }] },
    });
    assert.equal(put.status, 200, put.text);
    const after = byKind(await timersOf(x.lead));
    for (const k of ['accept', 'resolve']) {
      assert.ok(ms(after[k].due_at) > ms(before[k].due_at), `${k}: ${before[k].due_at} → ${after[k].due_at}`);
      assert.match(after[k].due_at, /T17:30:00\+08:00$/);
    }
    const o = ok(await api.order(x.lead));
    assert.deepEqual([o.accept_by, o.resolve_by], [after.accept.due_at, after.resolve.due_at]);
    const moved = ok(await get(d, `/v1/calls/${x.call.id}/events?limit=200`, { token: tok('district') })).data
      .filter((e) => e.type === 'order.deadline_moved' && e.subject.id === x.lead);
    assert.deepEqual(moved.map((e) => [e.data.kind, e.data.from, e.data.to, e.data.reason]).sort(),
      [['accept', before.accept.due_at, after.accept.due_at, 'calendar'], ['resolve', before.resolve.due_at, after.resolve.due_at, 'calendar']]);
  });

  test('a policy edit does not touch running orders; orders dispatched afterwards follow it', async () => {
    const x = await dispatchedCall('计时：策略');
    const before = byKind(await timersOf(x.lead));
    const cur = ok(await get(d, '/v1/sla-policies', { token: tok('district') })).data.find((p) => p.urgency === 'normal');
    const put = await request(d, 'PUT', '/v1/sla-policies/normal', {
      token: tok('district'), headers: { 'If-Match': `"${cur.version}"` },
      body: { accept: { minutes: 120, clock: 'wall' }, resolve: cur.resolve, triage: cur.triage, warn_percent: cur.warn_percent },
    });
    assert.equal(put.status, 200, put.text);
    try {
      assert.deepEqual(byKind(await timersOf(x.lead)).accept, before.accept);
      const y = await dispatchedCall('计时：策略之后');
      const t = byKind(await timersOf(y.lead));
      assert.deepEqual(t.accept.limit, { minutes: 120, clock: 'wall' });
      assert.equal(ms(t.accept.due_at) - ms(t.accept.started_at), 120 * 60e3);
    } finally {
      const back = await request(d, 'PUT', '/v1/sla-policies/normal', {
        token: tok('district'), headers: { 'If-Match': `"${put.json.version}"` },
        body: { accept: cur.accept, resolve: cur.resolve, triage: cur.triage, warn_percent: cur.warn_percent },
      });
      assert.equal(back.status, 200, back.text);
    }
  });
});

describe('the sweep', () => {
  test('warning, overdue (sticky flag, a supervision), escalation: each once, with its event, by the system', () => withSweeper(async (sw) => {
    const x = await dispatchedCall('计时：逾期');
    psql(`update huying.timers set warn_at = now() - interval '3 s', due_at = now() - interval '2 s', fire_at = now() - interval '3 s',
                 escalate_at = now() + interval '2 s'
           where order_id = ${x.lead} and kind = 'accept'`);
    await until(async () => byKind(await timersOf(x.lead)).accept.state === 'escalated', 10000, 'the accept timer escalates');
    const o = ok(await api.order(x.lead));
    assert.equal(o.overdue, true);
    const ev = ok(await get(d, `/v1/calls/${x.call.id}/events?limit=200`, { token: tok('district') })).data
      .filter((e) => e.actor.role === 'system');
    assert.deepEqual(ev.map((e) => [e.type, e.data.kind]),
      [['order.timer_warning', 'accept'], ['order.overdue', 'accept'], ['order.escalated', 'accept']]);
    assert.deepEqual(ev[0].actor, { unit_id: null, unit_name: null, role: 'system', sub: 'huyingd' });
    assert.equal(psql(`select count(*) || '|' || min(opened_by) from huying.supervisions where order_id = ${x.lead}`), '1|system');
    // the flag is sticky: accepting does not clear it
    ok(await act('department', x.lead, 'accept', {}));
    assert.equal(ok(await api.order(x.lead)).overdue, true);
    await sleep(600);
    assert.equal(countEvents('order.overdue', [x.call.id]), 1, 'nothing fires twice');
    // the metrics count the sweeps
    const m = await request(sw, 'GET', '/metrics');
    assert.match(m.text, /^huying_timers_fired_total [1-9]/m);
    assert.match((await request(d, 'GET', '/metrics')).text, /^huying_sweeps_total 0$/m, 'HUYING_SWEEP_INTERVAL_MS=0: no sweeper');
  }));

  test('three replicas, 2,000 timers due together: each warned and went overdue exactly once, within 10 s of its due time', async () => {
    let calls = [];
    const replicas = await Promise.all([1, 2, 3].map(() =>
      startDaemon({ HUYING_JWT_SECRET: SECRET, HUYING_SWEEP_INTERVAL_MS: 200, HUYING_SWEEP_BATCH: 300 })));
    try {
      calls = seedOrders(1000, 'R3');
      makeDue(calls, 2, 3);
      const waited = await until(() => countEvents('order.overdue', calls) >= 2000, 60000, '2,000 overdue events');
      await sleep(1000); // anything that would fire twice would have by now
      assert.equal(countEvents('order.timer_warning', calls), 2000);
      assert.equal(distinctEvents('order.timer_warning', calls), 2000);
      assert.equal(countEvents('order.overdue', calls), 2000);
      assert.equal(distinctEvents('order.overdue', calls), 2000);
      assert.equal(Number(psql(`select count(*) from huying.supervisions where call_id = any('{${calls.join(',')}}'::bigint[])`)), 1000,
        'one supervision per order (the second overdue timer finds it open)');
      assert.equal(Number(psql(`select count(*) from huying.orders where call_id = any('{${calls.join(',')}}'::bigint[]) and overdue`)), 1000);
      const late = Number(psql(`
        select coalesce(max(extract(epoch from e.created_at - t.due_at)), 0) from huying.events e
          join huying.timers t on t.id = (e.data ->> 'timer_id')::bigint
         where e.type = 'order.overdue' and t.call_id = any('{${calls.join(',')}}'::bigint[])`));
      assert.ok(late < 10, `the last overdue fired ${late} s after its due time (waited ${waited} ms)`);
      // the work was shared: more than one replica swept
      const swept = await Promise.all(replicas.map(async (r) =>
        Number(/^huying_timers_fired_total (\d+)/m.exec((await request(r, 'GET', '/metrics')).text)[1])));
      assert.ok(swept.filter((n) => n > 0).length >= 2, `fired per replica: ${swept}`);
    } finally {
      for (const r of replicas) await r.stop();
      stopSeeded(calls);
    }
  });

  test('a replica killed (SIGKILL) in the middle of a sweep loses nothing: the others fire what it held, once', async () => {
    // nobody else sweeps (d does not): the victim alone takes the due timers, in one batch.
    // A sweep caught too close to its end may still commit (its backend notices the closed
    // connection within client_connection_check_interval); then the round proves nothing
    // about a lost claim and runs again, up to three times.
    for (let round = 1; ; round++) {
      const calls = seedOrders(1500, `KILL${round}`);
      const victim = await startDaemon({ HUYING_JWT_SECRET: SECRET, HUYING_SWEEP_INTERVAL_MS: 50, HUYING_SWEEP_BATCH: 3000 });
      let survivors = [];
      try {
        makeDue(calls, -5, 3600);
        // mid-sweep: a sweep transaction (pg_locks: the owner may not read other roles'
        // queries) still the same 30 ms later (an empty pass takes about a millisecond),
        // watched from inside one session so that no process start slows the watch
        const seen = psql(`
          do $$
          declare a text; b text;
          begin
            for i in 1 .. 2000 loop
              select l.pid || '|' || l.virtualtransaction into a from pg_locks l
               where l.relation = 'huying.timers'::regclass and l.mode = 'RowShareLock' and l.granted
                 and l.pid <> pg_backend_pid() limit 1;
              if a is not null then
                perform pg_sleep(0.03);
                select l.pid || '|' || l.virtualtransaction into b from pg_locks l
                 where l.relation = 'huying.timers'::regclass and l.mode = 'RowShareLock' and l.granted
                   and l.pid <> pg_backend_pid() limit 1;
                if a = b then
                  perform set_config('huying_test.seen', a, false);
                  return;
                end if;
              end if;
              perform pg_sleep(0.005);
            end loop;
          end
          $$;
          select current_setting('huying_test.seen', true);`) !== '';
        victim.proc.kill('SIGKILL');
        while (!victim.exit) await sleep(20); // (the child is unref'd: awaiting `exited` alone would not keep node waiting)
        assert.equal(victim.exit.signal, 'SIGKILL');
        assert.ok(seen, 'the victim was seen sweeping');
        // its backend notices the closed connection and rolls back (or had just committed)
        await until(() => psql(`select count(*) from pg_locks where relation = 'huying.timers'::regclass and pid <> pg_backend_pid()`) === '0',
          5000, 'the killed sweep ends');
        const committed = countEvents('order.timer_warning', calls);
        assert.ok(committed === 0 || committed === 3000, `a sweep is one transaction: ${committed} of 3000`);
        survivors = await Promise.all([1, 2].map(() => startDaemon({ HUYING_JWT_SECRET: SECRET, HUYING_SWEEP_INTERVAL_MS: 200 })));
        await until(() => countEvents('order.timer_warning', calls) >= 3000, 60000, '3,000 warnings');
        await sleep(1000);
        assert.equal(countEvents('order.timer_warning', calls), 3000);
        assert.equal(distinctEvents('order.timer_warning', calls), 3000);
        assert.equal(Number(psql(`select count(*) from huying.timers where call_id = any('{${calls.join(',')}}'::bigint[]) and state = 'warning'`)), 3000);
        if (committed === 0) break; // the survivors fired what the killed sweep held
        assert.ok(round < 3, 'three rounds, and the kill never landed early enough in the sweep');
      } finally {
        for (const r of survivors) await r.stop();
        if (!victim.exit) victim.proc.kill('SIGKILL');
        stopSeeded(calls);
      }
    }
  });
});

describe('closing and reopening by the clock', () => {
  test('a resolved call nobody confirms closes by itself after auto_close_days (call.closed auto)', () => withSweeper(async () => {
    const x = await dispatchedCall('计时：自动关闭');
    for (const [who, id] of [['department', x.lead], ['zf', x.zf], ['zj', x.zj]]) ok(await act(who, id, 'resolve', { resolution: '完成' }));
    assert.equal(ok(await api.call(x.call.id)).status, 'resolved');
    await sleep(500);
    assert.equal(ok(await api.call(x.call.id)).status, 'resolved', 'not before auto_close_days');
    psql(`update huying.calls set resolved_at = now() - interval '8 days' where id = ${x.call.id}`);
    await until(async () => ok(await api.call(x.call.id)).status === 'closed', 10000, 'the call closes by itself');
    const last = ok(await get(d, `/v1/calls/${x.call.id}/events?limit=200`, { token: tok('district') })).data.at(-1);
    assert.deepEqual([last.type, last.data, last.actor.role], ['call.closed', { auto: true }, 'system']);
    assert.match(ok(await api.call(x.call.id)).closed_at, /\+08:00$/);
  }));

  test('reopen within reopen_days of closing; after → 409; the window follows the settings', async () => {
    const x = await dispatchedCall('计时：重办期限');
    for (const [who, id] of [['department', x.lead], ['zf', x.zf], ['zj', x.zj]]) ok(await act(who, id, 'resolve', { resolution: '完成' }));
    ok(await api.confirm('township', x.call.id, {}));
    psql(`update huying.calls set closed_at = now() - interval '3 days' where id = ${x.call.id}`);
    const s = ok(await get(d, '/v1/settings', { token: tok('district') }));
    const put = await request(d, 'PUT', '/v1/settings', {
      token: tok('district'), headers: { 'If-Match': `"${s.version}"` },
      body: { ...s, reopen_days: 2, version: undefined, updated_at: undefined },
    });
    assert.equal(put.status, 200, put.text);
    try {
      const late = await post(d, `/v1/calls/${x.call.id}/reopen`, { reason: '再次反映' }, { token: tok('township') });
      expectProblem(late, 409);
      assert.equal(late.json.current_status, 'closed');
      assert.match(late.json.detail, /more than 2 days/);
    } finally {
      const back = await request(d, 'PUT', '/v1/settings', {
        token: tok('district'), headers: { 'If-Match': `"${put.json.version}"` }, body: { ...put.json, reopen_days: s.reopen_days, version: undefined, updated_at: undefined },
      });
      assert.equal(back.status, 200, back.text);
    }
    const r = ok(await post(d, `/v1/calls/${x.call.id}/reopen`, { reason: '再次反映' }, { token: tok('township') }));
    assert.equal(r.status, 'dispatched');
  });
});
