// Calls under concurrency and load (issue 4, DESIGN §5 "Calls and dispatch"): two accepts of
// one order at once (one wins, the other is 409 and one event is written); the three orders of
// a call resolved at once (the call resolves exactly once); 20 identical creates with one
// Idempotency-Key, and 20 hotline posts of one ticket (external_ref) without a key, at once
// (one call each time, and one of the same ticket in another district); 1,000 calls posted by 8 clients at once (numbers unique, every
// dispatched call with its orders and events); and the body checks of POST /v1/calls as one
// table (422 naming the field, nothing written). Everything happens in a district of this
// file's own with the demo list imported; district B gets the demo list too.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';

import {
  checkContract, expectProblem, get, listAll, post, psql, startDaemon,
} from './lib.mjs';
import {
  callsApi, callsIn, callsWorld, eventCount, expect409, expect422,
} from './calls_helpers.mjs';
import { demoFile, expectImported, importBody, todayShanghai } from './list_helpers.mjs';

const YEAR = todayShanghai().slice(0, 4);
const NUMBER = new RegExp(`^HY-${YEAR}-\\d{6}$`);

let d;
let C; // this file's district (demo units, grids and the imported list)
let B; // another district (demo units and the demo list)
let tk; // tokens by name (calls_helpers' callsWorld)
let items; // C's item code -> id
let bItems; // B's item code -> id

// The demo list: item code -> {lead, coop: [department codes]}.
const LIST = new Map(demoFile('items.ndjson').toString('utf8').split('\n').filter(Boolean).map((l) => {
  const x = JSON.parse(l);
  return [x.code, { lead: x.lead_department_code || null, coop: x.cooperating_department_codes || [] }];
}));

const w = {};
const { create, created, act, call, order, events, dispatchedCall } = callsApi(w);

before(async () => {
  d = await startDaemon();
  Object.assign(w, await callsWorld(d, 'CC'));
  ({ C, B, tk, items } = w);
  const imp = await importBody(d, tk.bDistrict, 'items', demoFile('items.ndjson'),
    { type: 'ndjson', query: { effective_from: '2026-01-01' } });
  expectImported(imp, { rows: 72, inserted: 72 });
  bItems = new Map((await listAll(d, '/v1/items', tk.bDistrict)).map((x) => [x.code, x.id]));
});
after(async () => { await d.stop(); });

const sorted = (a) => [...a].sort();
const tally = (rs) => {
  const t = {};
  for (const r of rs) t[r.status] = (t[r.status] || 0) + 1;
  return t;
};
const describeAll = (rs) => rs.map((r) => `${r.status} ${r.headers['idempotency-replayed'] ? '(replayed) ' : ''}${r.text.slice(0, 200)}`).join('\n');
// POST /v1/calls without the harness's own contract check, so that an unexpected status shows
// in the test's message; every answer is checked afterwards (checked()).
const rawCreate = (who, body, headers = {}) => post(d, '/v1/calls', body, { token: tk[who], headers, check: false });
const checked = (rs) => {
  for (const r of rs) checkContract('POST', '/v1/calls', r, { requestPath: '/v1/calls' });
};

describe('two actors at once', () => {
  test('10 orders, each accepted twice at once: one 200 and one 409 current_status accepted; version 2, one order.accepted', async () => {
    const calls = [];
    for (let i = 0; i < 10; i++) calls.push(await dispatchedCall(`并发签收 ${i}`));
    const leads = calls.map((x) => x.lead);
    // all 20 at once
    const answers = await Promise.all(leads.map((id) => Promise.all([
      act('department', id, 'accept', {}), act('department', id, 'accept', {}),
    ])));
    for (const [i, pair] of answers.entries()) {
      const id = leads[i];
      const ok = pair.filter((r) => r.status === 200);
      const lost = pair.filter((r) => r.status !== 200);
      assert.equal(ok.length, 1, `order ${id}: exactly one accept wins: ${describeAll(pair)}`);
      assert.equal(lost.length, 1);
      expect409(lost[0], 'accepted');
      assert.deepEqual([ok[0].json.id, ok[0].json.status, ok[0].json.version, ok[0].headers.etag], [id, 'accepted', 2, '"2"']);
      const g = await order(id, 'department');
      assert.equal(g.status, 200, g.text);
      assert.deepEqual(g.json, ok[0].json, 'the order is what the winner answered');
      assert.equal(eventCount('order.accepted', 'order', id), 1, `order ${id}: one order.accepted event`);
    }
    // the timeline says the same
    const t = await events('district', calls[0].call.id);
    assert.equal(t.status, 200, t.text);
    assert.deepEqual(t.json.data.filter((e) => e.subject.type === 'order').map((e) => `${e.type}|${e.subject.id}`),
      [`order.accepted|${leads[0]}`]);
  });

  // Each step locks the call row first (api.call_lock, 0004), so resolves of one call's
  // orders queue instead of deadlocking (they used to: 503 on 40P01).
  test('the three orders of 30 calls resolved at once by their departments: every call resolved once (version 2, one call.resolved)', async () => {
    const calls = await Promise.all(Array.from({ length: 30 }, (_, i) => dispatchedCall(`并发办结 ${i}`)));
    const answers = await Promise.all(calls.flatMap((x) => [
      act('department', x.lead, 'resolve', { resolution: '已处理（牵头）。' }),
      act('zf', x.zf, 'resolve', { resolution: '已协助（综合执法）。' }),
      act('zj', x.zj, 'resolve', { resolution: '已协助（住建）。' }),
    ]));
    assert.deepEqual(tally(answers), { 200: 90 }, describeAll(answers.filter((r) => r.status !== 200)));
    for (const x of calls) {
      const g = await call(x.call.id);
      assert.equal(g.status, 200, g.text);
      assert.deepEqual([g.json.status, g.json.version], ['resolved', 2], `call ${x.call.id}`);
      assert.ok(g.json.orders.every((o) => o.status === 'resolved' && o.version === 2), JSON.stringify(g.json.orders));
      assert.equal(eventCount('call.resolved', 'call', x.call.id), 1, `call ${x.call.id}: one call.resolved`);
      for (const o of [x.lead, x.zf, x.zj]) {
        assert.equal(eventCount('order.accepted', 'order', o), 1, `order ${o}: accepted implicitly, once`);
        assert.equal(eventCount('order.resolved', 'order', o), 1, `order ${o}: resolved once`);
      }
    }
  });
});

describe('the same call posted many times at once', () => {
  test('20 identical POST /v1/calls with one Idempotency-Key at once: one call; 201 once, else the replay or 409 with Retry-After', async (t) => {
    const key = `race-${crypto.randomBytes(6).toString('hex')}`;
    const title = `幂等并发 ${key}`;
    const body = { title, urgency: 'urgent', item_code: 'ZRZY-01', reporter: { name: '赵某', phone: '13700001111' } };
    const before0 = callsIn(C.id);
    const rs = await Promise.all(Array.from({ length: 20 }, () => rawCreate('township', body, { 'idempotency-key': key })));
    const n = tally(rs);
    t.diagnostic(`answers: ${JSON.stringify(n)} (${rs.filter((r) => r.headers['idempotency-replayed']).length} replayed)`);
    assert.deepEqual(Object.keys(n).filter((s) => s !== '201' && s !== '409'), [], `only 201 and 409: ${describeAll(rs)}`);
    checked(rs);
    const fresh = rs.filter((r) => r.status === 201 && r.headers['idempotency-replayed'] === undefined);
    const replays = rs.filter((r) => r.status === 201 && r.headers['idempotency-replayed'] !== undefined);
    assert.equal(fresh.length, 1, `exactly one answer did the work: ${describeAll(rs)}`);
    const first = fresh[0];
    assert.match(first.json.number, NUMBER);
    assert.deepEqual([first.json.status, first.json.orders.length], ['dispatched', 3]);
    for (const r of replays) {
      assert.equal(r.headers['idempotency-replayed'], 'true');
      assert.equal(r.headers.location, first.headers.location);
      assert.equal(r.headers.etag, first.headers.etag);
      assert.deepEqual(r.json, first.json);
    }
    for (const r of rs.filter((x) => x.status === 409)) {
      expectProblem(r, 409, 'another request with this Idempotency-Key or on this resource is in progress; retry');
      assert.match(r.headers['retry-after'] || '', /^[0-9]+$/, 'a 409 of a held key carries Retry-After');
    }
    // one call, its three orders, its two events; and the key answers the same afterwards
    assert.equal(callsIn(C.id), before0 + 1);
    assert.equal(psql(`select count(*) from huying.calls where district_id = ${C.id} and title = '${title}'`), '1');
    assert.equal(psql(`select count(*) from huying.orders where call_id = ${first.json.id}`), '3');
    assert.equal(eventCount('call.created', 'call', first.json.id), 1);
    assert.equal(eventCount('call.dispatched', 'call', first.json.id), 1);
    const again = await create('township', body, { headers: { 'idempotency-key': key } });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.headers['idempotency-replayed'], 'true');
    assert.deepEqual(again.json, first.json);
  });

  // Posts of one ticket queue on a transaction lock of (district, system, ticket) before the
  // look-up (api.call_create, 0004); they used to race into the unique constraint (409).
  test('5 rounds of 20 hotline posts of one ticket (external_ref, no Idempotency-Key) at once, with 5 of the same ticket in district B: one call in each; 201 once, 200 with it otherwise', async (t) => {
    // (one round shows the race about two times in three; five make it all but certain)
    for (let round = 0; round < 5; round++) {
      const ref = `RACE-${round}-${crypto.randomBytes(6).toString('hex')}`;
      const body = { title: `12345热线并发 ${ref}`, township_code: 'TS-NCS', item_code: 'ZRZY-01', external_ref: { id: ref },
        reporter: { name: '钱某', phone: '13600002222' } };
      const bBody = { title: `12345热线并发（B区） ${ref}`, township_code: 'TS-NCS', external_ref: { id: ref } };
      const all = await Promise.all([
        ...Array.from({ length: 20 }, () => rawCreate('integration', body)),
        ...Array.from({ length: 5 }, () => rawCreate('bIntegration', bBody)),
      ]);
      const rsC = all.slice(0, 20);
      const rsB = all.slice(20);
      t.diagnostic(`round ${round}: C ${JSON.stringify(tally(rsC))}, B ${JSON.stringify(tally(rsB))}`);
      const counts = psql(`select count(*) filter (where district_id = ${C.id}) || '|' || count(*) filter (where district_id = ${B.id})
        from huying.calls where district_id in (${C.id}, ${B.id}) and external_id = '${ref}'`);
      for (const [name, rs, n] of [['C', rsC, 20], ['B', rsB, 5]]) {
        assert.deepEqual(tally(rs), { 201: 1, 200: n - 1 },
          `round ${round}, district ${name}: one 201 and ${n - 1} × 200 (the same call); got ${JSON.stringify(tally(rs))}; calls in the database (C|B): ${counts}\n${describeAll(rs)}`);
        checked(rs);
        const first = rs.find((r) => r.status === 201);
        for (const r of rs) {
          assert.equal(r.headers.location, `/v1/calls/${first.json.id}`);
          assert.deepEqual(r.json, first.json);
          assert.equal(r.headers['idempotency-replayed'], undefined, 'not a replay: the ticket found its call');
        }
      }
      const c = rsC[0].json;
      const b = rsB[0].json;
      assert.notEqual(c.id, b.id);
      assert.deepEqual([c.district_id, c.source, c.status, c.external_ref, c.orders.length],
        [C.id, 'hotline', 'dispatched', { system: '89000', id: ref }, 3]);
      assert.deepEqual([b.district_id, b.source, b.status, b.external_ref], [B.id, 'hotline', 'triage', { system: '89000', id: ref }]);
      assert.equal(counts, '1|1');
      assert.equal(eventCount('call.created', 'call', c.id), 1);
      assert.equal(psql(`select count(*) from huying.orders where call_id = ${c.id}`), '3');
    }
  });
});

// ---- 1,000 calls by 8 clients ------------------------------------------------------------------

const WORKERS = 8;
const PER_WORKER = 125;
const MASS = 'HY压测';
// who posts, by worker; and the items, by the call's number within its worker:
// the lead-and-cooperating items, then the ones that wait in triage (no lead department,
// no item at all, or triage: true)
const WHO = ['township', 'township2', 'district', 'integration', 'township', 'township2', 'district', 'integration'];
const MIX = [
  { code: 'ZRZY-01' }, { code: 'ZRZY-03' }, { code: 'STHJ-01' }, { code: 'CXJS-02' }, { code: 'YJGL-03', byId: true },
  { code: 'MSFW-08', byId: true }, { code: 'ZDGZ-06' }, { code: 'SCJG-07', byId: true }, { code: 'STHJ-04' },
  { code: 'ZHZF-07', byId: true }, { code: null }, { code: 'ZRZY-02', triage: true },
];
const URGENCY = ['normal', 'urgent', 'emergency'];
const TOWNSHIPS = ['TS-NCS', 'TS-BCS', 'TS-TJ'];

function massBody(wk, j) {
  const k = wk * PER_WORKER + j;
  const m = MIX[k % MIX.length];
  const who = WHO[wk];
  const body = { title: `${MASS} w${wk} #${j}`, description: `第 ${k} 条`, urgency: URGENCY[k % 3] };
  if (m.code) {
    if (m.byId) body.item_id = items.get(m.code);
    else body.item_code = m.code;
  }
  if (m.triage) body.triage = true;
  let township = who === 'township2' ? 'TS-BCS' : 'TS-NCS';
  if (who === 'district' || who === 'integration') {
    township = TOWNSHIPS[k % TOWNSHIPS.length];
    body.township_code = township;
  }
  if (who === 'integration') body.external_ref = { id: `MASS-${C.code}-${k}` };
  const item = m.code ? LIST.get(m.code) : null;
  const dispatched = Boolean(item && item.lead && !m.triage);
  const expect = {
    code: m.code,
    township,
    status: dispatched ? 'dispatched' : 'triage',
    source: { township: 'township', township2: 'township', district: 'district', integration: 'hotline' }[who],
    orders: dispatched ? sorted([`${item.lead}:lead`, ...item.coop.map((x) => `${x}:cooperating`)]) : [],
  };
  return { who, body, expect };
}

describe('mass load', () => {
  test('1,000 calls posted by 8 clients at once: 1,000 × 201, numbers unique and contiguous, orders and events as the items say', async (t) => {
    const before0 = callsIn(C.id);
    const unitCode = new Map([...C.units].map(([code, u]) => [u.id, code]));
    const results = [];
    const t0 = Date.now();
    await Promise.all(Array.from({ length: WORKERS }, async (_, wk) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 }); // one client, one connection
      try {
        for (let j = 0; j < PER_WORKER; j++) {
          const { who, body, expect } = massBody(wk, j);
          const r = await post(d, '/v1/calls', body, { token: tk[who], agent, timeout: 60000 });
          results.push({ r, body, expect });
        }
      } finally {
        agent.destroy();
      }
    }));
    const secs = (Date.now() - t0) / 1000;
    t.diagnostic(`1000 calls by ${WORKERS} clients in ${secs.toFixed(1)} s (${(1000 / secs).toFixed(0)} calls/s)`);
    assert.ok(secs < 60, `1,000 calls take under 60 s: ${secs.toFixed(1)} s`);
    assert.equal(results.length, WORKERS * PER_WORKER);
    const bad = results.filter(({ r }) => r.status !== 201);
    assert.deepEqual(bad.map(({ r }) => `${r.status} ${r.text.slice(0, 200)}`), [], 'every post answers 201');

    // the answers: numbers, statuses, townships, orders
    const numbers = results.map(({ r }) => r.json.number);
    for (const n of numbers) assert.match(n, NUMBER);
    assert.equal(new Set(numbers).size, 1000, 'call numbers are unique');
    const seqs = numbers.map((n) => Number(n.slice(-6))).sort((a, b) => a - b);
    assert.equal(seqs[999] - seqs[0], 999, `numbers are contiguous: ${seqs[0]}..${seqs[999]}`);
    for (const { r, body, expect } of results) {
      const c = r.json;
      const got = [c.title, c.status, c.source, c.township_id, c.item_id, c.urgency,
        sorted(c.orders.map((o) => `${unitCode.get(o.department_id)}:${o.role}`))];
      assert.deepEqual(got, [body.title, expect.status, expect.source, C.unit(expect.township),
        expect.code ? items.get(expect.code) : null, body.urgency, expect.orders], `${body.title}: ${r.text.slice(0, 400)}`);
      assert.equal(r.headers.location, `/v1/calls/${c.id}`);
    }

    // the database, as the owner: every call, its orders and its events
    assert.equal(callsIn(C.id), before0 + 1000);
    const rows = psql(`select c.id, c.number, c.status,
        coalesce((select string_agg(u.code || ':' || o.role || ':' || o.status, ',' order by u.code, o.role)
                    from huying.orders o join huying.units u on u.id = o.department_id where o.call_id = c.id), ''),
        coalesce((select string_agg(e.type, ',' order by e.id) from huying.events e
                   where e.district_id = c.district_id and e.subject_type = 'call' and e.subject_id = c.id), '')
      from huying.calls c where c.district_id = ${C.id} and c.title like '${MASS} %' order by c.id`)
      .split('\n').map((l) => l.split('|'));
    assert.equal(rows.length, 1000);
    const byId = new Map(results.map((x) => [x.r.json.id, x]));
    let dispatchedN = 0;
    for (const [id, number, status, orders, evs] of rows) {
      const x = byId.get(Number(id));
      assert.ok(x, `call ${id} is one of ours`);
      assert.equal(number, x.r.json.number);
      assert.equal(status, x.expect.status, `call ${id}`);
      const want = x.expect.orders.map((o) => `${o}:dispatched`);
      assert.deepEqual(orders ? sorted(orders.split(',')) : [], want, `call ${id} (${x.expect.code}): its orders`);
      assert.equal(evs, status === 'dispatched' ? 'call.created,call.dispatched' : 'call.created', `call ${id}: its events`);
      if (status === 'dispatched') dispatchedN++;
    }
    const nDispatched = results.filter((x) => x.expect.status === 'dispatched').length;
    assert.equal(dispatchedN, nDispatched);
    assert.ok(nDispatched > 500 && nDispatched < 1000, `a mix: ${nDispatched} dispatched`);
    assert.equal(psql(`select count(*) from huying.events e join huying.orders o on o.id = e.subject_id
      join huying.calls c on c.id = o.call_id
      where e.subject_type = 'order' and c.district_id = ${C.id} and c.title like '${MASS} %'`), '0', 'no order events yet');

    // through the API, a sample of 25: the call as created, its timeline
    for (let i = 0; i < 1000; i += 40) {
      const { r, expect } = results[i];
      const g = await call(r.json.id);
      assert.equal(g.status, 200, g.text);
      assert.deepEqual(g.json, r.json);
      const e = await events('district', r.json.id);
      assert.equal(e.status, 200, e.text);
      assert.deepEqual(e.json.data.map((x) => x.type),
        expect.status === 'dispatched' ? ['call.created', 'call.dispatched'] : ['call.created']);
    }
    // the district lists them all, newest first
    const listed = (await listAll(d, '/v1/calls', tk.district)).filter((x) => x.title.startsWith(`${MASS} `));
    assert.deepEqual(listed.map((x) => x.id), [...byId.keys()].sort((a, b) => b - a));
  });
});

// ---- the body checks, as one table --------------------------------------------------------------

describe('POST /v1/calls: the body checks (422 naming the field, nothing written)', () => {
  test('the table', async () => {
    // MSFW-01 retired today in C (its current revision ends today), as api.item_retire does
    const retired = items.get('MSFW-01');
    psql(`update huying.item_revisions set effective_to = (now() at time zone 'Asia/Shanghai')::date
            where item_id = ${retired} and effective_to is null;
          update huying.items set version = version + 1, updated_at = now() where id = ${retired}`);
    const ri = await get(d, `/v1/items/${retired}`, { token: tk.district });
    assert.equal(ri.status, 200, ri.text);
    assert.equal(ri.json.status, 'retired', 'MSFW-01 is retired');
    const own = (await get(d, `/v1/items/${items.get('ZRZY-01')}`, { token: tk.district })).json.scenarios;
    const other = (await get(d, `/v1/items/${items.get('ZRZY-02')}`, { token: tk.district })).json.scenarios;
    assert.ok(own.length && other.length, 'the demo items have scenarios');

    const base = { title: '校验表呼叫', urgency: 'urgent', item_code: 'ZRZY-01',
      attachments: [{ url: 'https://files.example.cn/ok.jpg', name: '照片' }] };
    const noItem = { title: base.title, urgency: base.urgency, attachments: base.attachments };
    const table = [
      ['an unknown item_code', { ...base, item_code: 'ZRZY-99' }, 'item_code'],
      ['an unknown item_id', { ...noItem, item_id: 999999999 }, 'item_id'],
      ["another district's item (item_id)", { ...noItem, item_id: bItems.get('ZRZY-01') }, 'item_id'],
      ['a retired item (item_code)', { ...base, item_code: 'MSFW-01' }, 'item_code'],
      ['a retired item (item_id)', { ...noItem, item_id: retired }, 'item_id'],
      ['a scenario of another item', { ...base, scenario_id: other[0].id }, 'scenario_id'],
      ['a title of 201 characters', { ...base, title: '题'.repeat(201) }, 'title'],
      ['an empty title', { ...base, title: '' }, 'title'],
      ['urgency "high"', { ...base, urgency: 'high' }, 'urgency'],
      ['an http:// attachment', { ...base, attachments: [{ url: 'http://files.example.cn/a.jpg' }] }, 'attachments'],
      ['the unknown field status', { ...base, status: 'resolved' }, 'status'],
      ['the unknown field district_id', { ...base, district_id: B.id }, 'district_id'],
      ['the unknown field district_id (its own district)', { ...base, district_id: C.id }, 'district_id'],
    ];
    const state = () => psql(`select (select count(*) from huying.calls where district_id = ${C.id}) || '|' ||
      (select count(*) from huying.events where district_id = ${C.id}) || '|' ||
      coalesce((select last from huying.call_counters where district_id = ${C.id}), 0)`);
    const s0 = state();
    for (const [what, body, field] of table) {
      const r = await create('township', body);
      assert.equal(r.status, 422, `${what}: ${r.text}`);
      expect422(r, field);
      assert.equal(state(), s0, `${what}: nothing written (calls|events|counter)`);
    }
    // the same base, correct, and with its own scenario: 201 (the table's rows fail for their field only)
    const ok = await created('township', base);
    assert.deepEqual([ok.status, ok.item_id, ok.scenario_id], ['dispatched', items.get('ZRZY-01'), null]);
    const withScenario = await created('township', { ...base, scenario_id: own[0].id });
    assert.equal(withScenario.scenario_id, own[0].id);
    const [calls0] = s0.split('|');
    assert.equal(callsIn(C.id), Number(calls0) + 2);
  });
});
