// The change feed (issue 7; DESIGN §5 "Integration and bulk work"): GET /v1/events returns
// every event a token may see, in commit order, from an opaque cursor — exactly once across
// pages while calls are being created concurrently, nothing a role may not see, and no event
// of a transaction that commits late skipped behind the cursor.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { DB_URL, expectProblem, get, post, psql, psqlSession, sleep, startDaemon, tokenFor } from './lib.mjs';
import { callsApi, callsWorld, expect422 } from './calls_helpers.mjs';

const w = {};
const api = callsApi(w);
let d;
let C;
let B;
let tk;

before(async () => {
  d = await startDaemon({ HUYING_RATE_LIMIT: '0', HUYING_SWEEP_INTERVAL_MS: '0' });
  Object.assign(w, await callsWorld(d, 'EF'));
  ({ C, B, tk } = w);
});
after(async () => { await d.stop(); });

const feed = (token, q = '') => get(d, `/v1/events${q}`, { token });

// Follows the feed from cursor until a page comes back short (caught up); returns the events
// and the last cursor. Waits (up to 30 s) while `until(events)` is not yet true, e.g. while a
// transaction still running elsewhere holds the feed back.
async function drain(token, cursor, { limit = 7, types = null, until = () => true } = {}) {
  const events = [];
  const t0 = Date.now();
  for (;;) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('after', cursor);
    if (types) q.set('types', types);
    const r = await feed(token, `?${q}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(typeof r.json.next_cursor === 'string' && r.json.next_cursor.length > 0, 'a next_cursor, always');
    events.push(...r.json.data);
    cursor = r.json.next_cursor;
    if (r.json.data.length < limit) {
      if (until(events)) return { events, cursor };
      assert.ok(Date.now() - t0 < 30000, `the feed did not catch up within 30 s: ${events.length} events`);
      await sleep(100);
    }
  }
}

// The ids of the district's events as the owner sees them, in (txid, id) order.
const ownerIds = (distId, afterId = 0) => psql(
  `select coalesce(string_agg(id::text, ',' order by txid, id), '') from huying.events where district_id = ${distId} and id > ${afterId}`)
  .split(',').filter(Boolean).map(Number);
// The ids a role's claims see through row-level security, as the API role does.
function visibleIds(claims, afterId) {
  const out = psql(`begin;
    select set_config('huying.claims', '${JSON.stringify(claims).replace(/'/g, "''")}', true);
    select coalesce(string_agg(id::text, ',' order by txid, id), '') from huying.events where id > ${afterId};
    commit;`, { url: DB_URL });
  return out.split('\n').filter((l) => /^[0-9,]*$/.test(l)).join('').split(',').filter(Boolean).map(Number);
}
const claimsOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

describe('the change feed', () => {
  let start; // the district office's cursor before the test's calls
  let baseId; // the last event id of the district then

  test('from the beginning: every event of the district, in pages, then a cursor that stays put', async () => {
    const { events, cursor } = await drain(tk.district, null);
    assert.deepEqual(events.map((e) => e.id), ownerIds(C.id), 'the district\'s events so far (the list import), in commit order');
    // caught up: the same cursor answers nothing new, and keeps answering a cursor
    const again = await feed(tk.district, `?after=${encodeURIComponent(cursor)}`);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual(again.json.data, []);
    start = again.json.next_cursor;
    baseId = Number(psql(`select coalesce(max(id), 0) from huying.events where district_id = ${C.id}`));
  });

  test('calls created by 8 clients while the office polls: every event exactly once, in commit order', async () => {
    let done = false;
    const creating = (async () => {
      await Promise.all(Array.from({ length: 8 }, (_, k) => (async () => {
        for (let i = 0; i < 12; i++) {
          const who = k % 2 ? 'township' : 'integration';
          const body = { title: `变更流 ${k}-${i}`, item_code: 'ZRZY-01', township_code: 'TS-NCS' };
          if (who === 'integration') body.external_ref = { id: `EF-${k}-${i}` };
          else delete body.township_code;
          await api.created(who, body);
        }
      })()));
      done = true;
    })();
    // poll while they are made, following the cursors
    const seen = [];
    let cursor = start;
    while (!done) {
      const r = await feed(tk.district, `?limit=5&after=${encodeURIComponent(cursor)}`);
      assert.equal(r.status, 200, r.text);
      seen.push(...r.json.data);
      cursor = r.json.next_cursor;
      if (r.json.data.length < 5) await sleep(20);
    }
    await creating;
    const want = ownerIds(C.id, baseId);
    assert.ok(want.length >= 96 * 2, `${want.length} events written`);
    const rest = await drain(tk.district, cursor, { until: (ev) => seen.length + ev.length >= want.length });
    seen.push(...rest.events);
    const ids = seen.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'no event twice');
    assert.deepEqual(ids, want, 'every event, in (txid, id) order');
  });

  test('each role: exactly the events its row-level security shows, nothing of another district', async () => {
    // order events of two departments on one call
    const { lead, zf } = await api.dispatchedCall('变更流：两个部门签收');
    assert.equal((await api.act('department', lead, 'accept', {})).status, 200);
    assert.equal((await api.act('zf', zf, 'accept', {})).status, 200);
    // and a supervision case on X's order: X sees its events, CD-ZF does not
    const sup = await post(d, '/v1/supervisions', { order_id: lead, reason: '变更流：督办' }, { token: tk.district });
    assert.equal(sup.status, 201, sup.text);
    const inC = new Set(ownerIds(C.id));
    for (const who of ['township', 'township2', 'department', 'zf', 'integration', 'integration2']) {
      const { events } = await drain(tk[who], null, { limit: 50 });
      const ids = events.map((e) => e.id);
      assert.deepEqual(ids, visibleIds(claimsOf(tk[who]), 0).filter((i) => inC.has(i)), who);
      assert.ok(events.every((e) => !('sub' in e.actor)), `${who}: no actor sub outside the district office`);
    }
    // the department sees its own orders' events and not another department's
    const x = await drain(tk.department, null, { limit: 50 });
    const orderEvents = x.events.filter((e) => e.subject.type === 'order').map((e) => e.subject.id);
    const xOrders = new Set(psql(`select string_agg(id::text, ',') from huying.orders where department_id = ${C.unit('CD-ZRZY')}`)
      .split(',').map(Number));
    assert.ok(orderEvents.includes(lead), 'its own order\'s events');
    assert.ok(orderEvents.every((o) => xOrders.has(o)), 'only its own orders\' events');
    assert.ok(!orderEvents.includes(zf));
    const supOf = (events) => events.filter((e) => e.subject.type === 'supervision').map((e) => e.subject.id);
    assert.deepEqual(supOf(x.events), [sup.json.id], 'its supervision case\'s events');
    assert.deepEqual(supOf((await drain(tk.zf, null, { limit: 50 })).events), []);
    // integration S: only the calls its system posted; S2 posted none of them
    const s2 = await drain(tk.integration2, null, { limit: 50 });
    assert.deepEqual(s2.events.filter((e) => e.subject.type === 'call' || e.subject.type === 'order'), []);
    // another district's office: none of C's events
    const b = await drain(tk.bDistrict, null, { limit: 200 });
    const cIds = new Set(ownerIds(C.id));
    assert.ok(b.events.every((e) => !cIds.has(e.id)));
  });

  test('types: only the named types', async () => {
    const { events } = await drain(tk.district, start, { types: 'call.created,order.accepted', limit: 50 });
    assert.ok(events.length >= 96);
    assert.ok(events.every((e) => e.type === 'call.created' || e.type === 'order.accepted'));
    const want = psql(`select count(*) from huying.events where district_id = ${C.id} and id > ${baseId}
                         and type in ('call.created', 'order.accepted')`);
    assert.equal(events.length, Number(want));
  });

  test('a transaction that commits late is not skipped: the feed holds back until it ends', async () => {
    const { cursor } = await drain(tk.district, start, { limit: 200 });
    // an event written first (the smaller id) by a transaction that stays open ...
    const s = psqlSession();
    s.send(`begin; insert into huying.events (district_id, subject_type, subject_id, type, actor_role, data)
            values (${C.id}, 'unit', ${C.office}, 'unit.touched', 'system', '{"late": true}') returning 'inserted:' || id;`);
    await s.waitFor('inserted:');
    // ... while a call is made and committed (bigger ids)
    const c = await api.created('township', { title: '变更流：后到的事务', item_code: 'ZRZY-01' });
    const held = await feed(tk.district, `?limit=200&after=${encodeURIComponent(cursor)}`);
    assert.equal(held.status, 200, held.text);
    assert.deepEqual(held.json.data, [], 'nothing while an older transaction is running');
    assert.equal(held.json.next_cursor, cursor, 'and the cursor stays');
    s.send('commit;');
    await s.close();
    const { events } = await drain(tk.district, cursor, { limit: 200, until: (ev) => ev.some((e) => e.subject.id === c.id) });
    assert.equal(events[0].type, 'unit.touched', 'the late transaction\'s event comes first (it began first)');
    assert.deepEqual(events[0].data, { late: true });
    assert.ok(events.slice(1).some((e) => e.type === 'call.created' && e.subject.id === c.id));
  });

  test('bad input: a cursor not ours 400 naming after; bad types, limit, unknown parameters 422', async () => {
    for (const bad of ['abc', 'WyJ4Il0', 'W10', 'WyIxIiwiYSJd']) {
      const r = await feed(tk.district, `?after=${bad}`);
      expectProblem(r, 400);
      assert.deepEqual(r.json.errors.map((e) => e.field), ['after'], `${bad}: ${r.text}`);
    }
    for (const bad of ['Call.created', 'call', 'call.created,', 'call..x', Array(21).fill('a.b').join(',')])
      expect422(await feed(tk.district, `?types=${encodeURIComponent(bad)}`), 'types');
    expect422(await feed(tk.district, '?limit=0'), 'limit');
    expect422(await feed(tk.district, '?limit=201'), 'limit');
    expectProblem(await feed(tk.district, '?cursor=x'), 422);
    expectProblem(await get(d, '/v1/events'), 401);
    const noScope = tokenFor(d, C, 'district', { scope: 'imports:write' });
    expectProblem(await feed(noScope), 403);
  });
});
