// The visibility matrix of timers, supervisions, notices and extensions (issue 5; DESIGN §4
// "what each role sees", §5 "Timers, calendar, supervision"), as 99_visibility is for calls,
// orders and returns: for each role — township A (TS-NCS) and B (TS-BCS), department X
// (CD-ZRZY) and Y (CD-HY), the district office, the integrations of system S (89000) and of
// another system (89001), and another district's office — × each endpoint × each resource of
// a small fixed world, the exact status: 200 (or 412, 409) when the role may use the route
// and sees the resource, 404 when the resource exists but is not visible to it (422 naming
// order_id for POST /v1/supervisions, whose order is in the body), 403 when the role may
// never use the route. Writes carry a valid body and `If-Match: "999"`, so that the check
// order (role 403, not visible 404, If-Match 412) answers without changing anything; opening
// a second supervision on an order that has one answers 409, so nothing is written either.
// Lists are checked by membership, unfiltered and filtered by call. At the end nothing
// changed: timers, supervisions, notices, extensions, orders and their events.
//
// Who sees what (DESIGN §4, RLS in schema/0007_timers.sql):
//   timers      the district all; a department those of its own orders; a township and an
//               integration those of the calls they see (the triage timer included);
//   supervisions and notices   the district and the department concerned (the township and
//               the integration may not use the routes: 403);
//   extensions  the district all; a department its own; a township and an integration those
//               of the calls they see.
//
// The world, made once in before():
//   P  a call posted by integration S for township A, item ZRZY-01, dispatched at once to X
//      (lead, order PX), CD-ZF (PF) and CD-ZJ (PJ); the office opens a supervision on each
//      (SX, SF, SJ) and sends a notice on SX (NX) and a reminder on SF (NF); X asks to extend
//      PX (EX), CD-ZF PF (EF).
//   Q  a call posted by integration S2 for township B, item STHJ-04 (triage, its triage timer
//      stopped by the dispatch), dispatched by the office to Y (QY); supervision SY with a
//      rectification order NY; Y asks to extend QY (EY).
//   T  a call posted by integration S2 for township B that stays in triage (its running
//      triage timer: no department sees it).
//   Z  another district's call dispatched to its CD-ZRZY (ZO), with supervision SZ, notice NZ
//      and extension EZ.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { get, listAll, openapi, post, psql, startDaemon, tokenFor } from './lib.mjs';
import { at8, callsWorld, ms } from './calls_helpers.mjs';
import { KIND, runRow, statusWrongs, WHO } from './visibility_helpers.mjs';

const PHONE = '13812341234';

let d;
let C; // this file's district
let B; // another district
let tk; // tokens by name (calls_helpers' callsWorld)
const id = {}; // resource name -> id
const name = new Map(); // `${kind}:${id}` -> resource name, for messages

// ---- the table ---------------------------------------------------------------------------------


const CALLS = ['P', 'Q', 'T', 'Z'];
const ORDERS = ['PX', 'PF', 'PJ', 'QY', 'ZO'];
const SUPS = ['SX', 'SF', 'SJ', 'SY', 'SZ'];
const NOTICES = ['NX', 'NF', 'NY', 'NZ'];
const EXTS = ['EX', 'EF', 'EY', 'EZ'];
// the call and the order of each resource (an order is its own order)
const CALL_OF = {
  PX: 'P', PF: 'P', PJ: 'P', QY: 'Q', ZO: 'Z',
  SX: 'P', SF: 'P', SJ: 'P', SY: 'Q', SZ: 'Z', NX: 'P', NF: 'P', NY: 'Q', NZ: 'Z',
  EX: 'P', EF: 'P', EY: 'Q', EZ: 'Z',
};
const ORDER_OF = {
  SX: 'PX', SF: 'PF', SJ: 'PJ', SY: 'QY', SZ: 'ZO', NX: 'PX', NF: 'PF', NY: 'QY', NZ: 'ZO',
  EX: 'PX', EF: 'PF', EY: 'QY', EZ: 'ZO',
};
const SUP_OF = { NX: 'SX', NF: 'SF', NY: 'SY', NZ: 'SZ' };
const SUP_ON = { PX: 'SX', PF: 'SF', PJ: 'SJ', QY: 'SY', ZO: 'SZ' }; // the open supervision of each order

// What each role sees. Timers are named `${order or call}.${kind}` and added in before()
// from the ones the world's calls have: a timer is seen by whoever sees its order (or, for
// a triage timer, its call) — for a department, its own orders' timers only.
const SEES = {
  township: ['P', 'PX', 'PF', 'PJ', 'EX', 'EF'],
  township2: ['Q', 'T', 'QY', 'EY'],
  department: ['P', 'PX', 'SX', 'NX', 'EX'],
  hy: ['Q', 'QY', 'SY', 'NY', 'EY'],
  district: ['P', 'Q', 'T', 'PX', 'PF', 'PJ', 'QY', 'SX', 'SF', 'SJ', 'SY', 'NX', 'NF', 'NY', 'EX', 'EF', 'EY'],
  integration: ['P', 'PX', 'PF', 'PJ', 'EX', 'EF'],
  integration2: ['Q', 'T', 'QY', 'EY'],
  bDistrict: ['Z', 'ZO', 'SZ', 'NZ', 'EZ'],
};
const sees = (who, res) => SEES[who].includes(res);
let TIMERS = []; // timer names, in before()
const TIMER_OWNER = {}; // timer name -> the order or call it belongs to
const timerSeen = (who, t) => (KIND[who] === 'department' ? ORDERS.includes(TIMER_OWNER[t]) : true) && sees(who, TIMER_OWNER[t]);

const ALL = ['township', 'department', 'district', 'integration'];
const IF_MATCH = { 'if-match': '"999"' };
const act = (path, body) => (t, i) => post(d, path.replace('{id}', i), body, { token: t, headers: IF_MATCH });
const read = (path) => (t, i) => get(d, path.replace('{id}', i), { token: t });

// Each endpoint: the resources it takes, the roles its route allows (routes.c; checked against
// the OpenAPI x-roles below), the status when allowed and visible, the status when allowed
// and not visible (404 unless said), and the request, with a valid body.
const ENDPOINTS = [
  { op: 'GET /v1/orders/{id}/timers', on: ORDERS, roles: ALL, ok: 200, req: read('/v1/orders/{id}/timers') },
  { op: 'GET /v1/orders/{id}/timers', q: '?explain=true', on: ORDERS, roles: ALL, ok: 200, req: read('/v1/orders/{id}/timers?explain=true') },
  { op: 'POST /v1/orders/{id}/extensions', on: ORDERS, roles: ['department'], ok: 412,
    req: (t, i) => post(d, `/v1/orders/${i}/extensions`, { resolve_by: at8(Date.now() + 60 * 86400e3), reason: '矩阵：延期' },
      { token: t, headers: IF_MATCH }) },
  { op: 'POST /v1/supervisions', on: ORDERS, roles: ['district'], ok: 409, hidden: 422,
    req: (t, i) => post(d, '/v1/supervisions', { order_id: i, reason: '矩阵：督办' }, { token: t }) },
  { op: 'GET /v1/supervisions/{id}', on: SUPS, roles: ['department', 'district'], ok: 200, req: read('/v1/supervisions/{id}') },
  { op: 'POST /v1/supervisions/{id}/notices', on: SUPS, roles: ['district'], ok: 412,
    req: act('/v1/supervisions/{id}/notices', { kind: 'reminder', text: '矩阵：催办' }) },
  { op: 'POST /v1/supervisions/{id}/close', on: SUPS, roles: ['district'], ok: 412,
    req: act('/v1/supervisions/{id}/close', { reason: '矩阵：办结' }) },
  { op: 'GET /v1/extensions/{id}', on: EXTS, roles: ALL, ok: 200, req: read('/v1/extensions/{id}') },
  { op: 'POST /v1/extensions/{id}/approve', on: EXTS, roles: ['district'], ok: 412, req: act('/v1/extensions/{id}/approve', {}) },
  { op: 'POST /v1/extensions/{id}/reject', on: EXTS, roles: ['district'], ok: 412,
    req: act('/v1/extensions/{id}/reject', { reason: '矩阵：不同意' }) },
];
const label = (e) => e.op + (e.q ?? '');

const expected = (who, e, res) => {
  if (!e.roles.includes(KIND[who])) return 403;
  return sees(who, res) ? e.ok : (e.hidden ?? 404);
};

// ---- the world ----------------------------------------------------------------------------------

const ok = (res, status = 200) => {
  assert.equal(res.status, status, res.text);
  return res.json;
};
const orderOf = (c, dept, dist = C) => {
  const o = c.orders.find((x) => x.department_id === dist.unit(dept));
  assert.ok(o, `an order to ${dept}: ${JSON.stringify(c.orders)}`);
  return o.id;
};

// Owner's view of everything the matrix must not change.
function snapshot() {
  const calls = CALLS.map((r) => id[r]).join(',');
  const rows = psql(`
    select 'call:' || id, version || '|' || status || '|' || updated_at from huying.calls where id in (${calls})
    union all
    select 'order:' || id, version || '|' || status || '|' || resolve_by || '|' || overdue || '|' || updated_at
      from huying.orders where call_id in (${calls})
    union all
    select 'timer:' || id, state || '|' || due_at || '|' || coalesce(stopped_at::text, '-') from huying.timers where call_id in (${calls})
    union all
    select 'supervision:' || id, version || '|' || status || '|' || updated_at from huying.supervisions where call_id in (${calls})
    union all
    select 'notices:' || supervision_id, count(*)::text from huying.notices
     where supervision_id in (select id from huying.supervisions where call_id in (${calls})) group by supervision_id
    union all
    select 'extension:' || id, version || '|' || status || '|' || updated_at from huying.extensions where call_id in (${calls})
    union all
    select 'events:' || subject_type || ':' || subject_id, count(*)::text from huying.events
     where (subject_type = 'call' and subject_id in (${calls}))
        or (subject_type = 'order' and subject_id in (select id from huying.orders where call_id in (${calls})))
        or (subject_type = 'supervision' and subject_id in (select id from huying.supervisions where call_id in (${calls})))
     group by subject_type, subject_id
    order by 1`);
  return Object.fromEntries(rows.split('\n').filter(Boolean).map((l) => l.split('|')).map(([k, ...v]) => [k, v.join('|')]));
}

let before0;

before(async () => {
  d = await startDaemon({ HUYING_RATE_LIMIT: '0', HUYING_SWEEP_INTERVAL_MS: '0' });
  ({ C, B, tk } = await callsWorld(d, 'VT'));
  const deptOf = (dist, code) => tokenFor(d, dist, 'department', { unit_id: dist.unit(code), sub: `test:department:${code}` });
  const bDept = deptOf(B, 'CD-ZRZY');
  const openSup = async (token, orderId, reason) =>
    ok(await post(d, '/v1/supervisions', { order_id: orderId, reason }, { token }), 201).id;
  const notice = async (token, supId, kind, text) => {
    const n = ok(await post(d, `/v1/supervisions/${supId}/notices`, { kind, text }, { token }), 201);
    assert.equal(n.supervision_id, supId);
    return n.id;
  };
  const extend = async (token, orderId) => {
    const o = ok(await get(d, `/v1/orders/${orderId}`, { token }));
    return ok(await post(d, `/v1/orders/${orderId}/extensions`,
      { resolve_by: at8(ms(o.resolve_by) + 5 * 86400e3), reason: '需要组织专家论证' }, { token }), 201).id;
  };

  // P: integration S for township A, dispatched at once to X (lead), CD-ZF and CD-ZJ
  const p = ok(await post(d, '/v1/calls', {
    title: '12345热线：河道违建', township_code: 'TS-NCS', item_code: 'ZRZY-01', external_ref: { id: 'VT-P' },
    reporter: { name: '王某', phone: PHONE },
  }, { token: tk.integration }), 201);
  assert.equal(p.status, 'dispatched', JSON.stringify(p));
  Object.assign(id, { P: p.id, PX: orderOf(p, 'CD-ZRZY'), PF: orderOf(p, 'CD-ZF'), PJ: orderOf(p, 'CD-ZJ') });
  id.SX = await openSup(tk.district, id.PX, '群众反映强烈');
  id.SF = await openSup(tk.district, id.PF, '配合不力');
  id.SJ = await openSup(tk.district, id.PJ, '请加快');
  id.NX = await notice(tk.district, id.SX, 'notice', '通报：未按时响应');
  id.NF = await notice(tk.district, id.SF, 'reminder', '催办');
  id.EX = await extend(tk.department, id.PX);
  id.EF = await extend(tk.zf, id.PF);

  // Q: integration S2 for township B, triage, dispatched by the office to Y alone
  const q = ok(await post(d, '/v1/calls', {
    title: '12345热线：沙滩垃圾', township_code: 'TS-BCS', item_code: 'STHJ-04', external_ref: { id: 'VT-Q' },
  }, { token: tk.integration2 }), 201);
  assert.equal(q.status, 'triage', JSON.stringify(q));
  const qd = ok(await post(d, `/v1/calls/${q.id}/dispatch`, { orders: [{ department_code: 'CD-HY', role: 'lead' }] },
    { token: tk.district }));
  Object.assign(id, { Q: q.id, QY: orderOf(qd, 'CD-HY') });
  id.SY = await openSup(tk.district, id.QY, '超期风险');
  id.NY = await notice(tk.district, id.SY, 'rectification', '责令整改');
  id.EY = await extend(tk.hy, id.QY);

  // T: integration S2 for township B, left in triage
  const t = ok(await post(d, '/v1/calls', {
    title: '12345热线：待分流', township_code: 'TS-BCS', item_code: 'STHJ-04', external_ref: { id: 'VT-T' },
  }, { token: tk.integration2 }), 201);
  assert.equal(t.status, 'triage', JSON.stringify(t));
  id.T = t.id;

  // Z: another district's call, dispatched to its CD-ZRZY, supervised and extended there
  const z = ok(await post(d, '/v1/calls', { title: '另一区的呼叫', township_code: 'TS-NCS' }, { token: tk.bDistrict }), 201);
  const zd = ok(await post(d, `/v1/calls/${z.id}/dispatch`, { orders: [{ department_code: 'CD-ZRZY', role: 'lead' }] },
    { token: tk.bDistrict }));
  Object.assign(id, { Z: z.id, ZO: orderOf(zd, 'CD-ZRZY', B) });
  id.SZ = await openSup(tk.bDistrict, id.ZO, '另一区督办');
  id.NZ = await notice(tk.bDistrict, id.SZ, 'notice', '另一区通报');
  id.EZ = await extend(bDept, id.ZO);

  for (const r of CALLS) name.set(`call:${id[r]}`, r);
  for (const r of ORDERS) name.set(`order:${id[r]}`, r);
  for (const r of SUPS) name.set(`supervision:${id[r]}`, r);
  for (const r of NOTICES) name.set(`notice:${id[r]}`, r);
  for (const r of EXTS) name.set(`extension:${id[r]}`, r);

  // the timers the world has: each order's accept and resolve, the stopped triage timers of Q
  // and Z, T's running one
  const rows = psql(`select id, kind, coalesce(order_id, 0), call_id from huying.timers
                      where call_id in (${CALLS.map((r) => id[r]).join(',')}) order by id`)
    .split('\n').filter(Boolean).map((l) => l.split('|').map(Number));
  for (const [tid, , orderId, callId] of rows) {
    const owner = orderId ? name.get(`order:${orderId}`) : name.get(`call:${callId}`);
    const kind = psql(`select kind from huying.timers where id = ${tid}`);
    const n = `${owner}.${kind}`;
    assert.ok(!TIMER_OWNER[n], `one ${n} timer`);
    TIMER_OWNER[n] = owner;
    id[n] = tid;
    name.set(`timer:${tid}`, n);
  }
  TIMERS = Object.keys(TIMER_OWNER).sort();
  assert.deepEqual(TIMERS, [
    'PF.accept', 'PF.resolve', 'PJ.accept', 'PJ.resolve', 'PX.accept', 'PX.resolve', 'Q.triage',
    'QY.accept', 'QY.resolve', 'T.triage', 'Z.triage', 'ZO.accept', 'ZO.resolve',
  ]);
  assert.equal(psql(`select state from huying.timers where id = ${id['Q.triage']}`), 'stopped');
  assert.equal(psql(`select state from huying.timers where id = ${id['T.triage']}`), 'running');
  before0 = snapshot();
});
after(async () => { await d.stop(); });

// ---- the checks of one answer -------------------------------------------------------------------

const names = (kind, ids) => ids.map((i) => name.get(`${kind}:${i}`) ?? `${kind}:${i}?`);
const missing = new Map(); // `${who} ${op}` -> the answer for an id nothing has

async function cell(who, e, res) {
  const exp = expected(who, e, res);
  const r = await e.req(tk[who], id[res]);
  const wrong = (await statusWrongs(r, exp, {
    resId: id[res], key: `${who} ${label(e)}`, again: (i) => e.req(tk[who], i), missing, like: [404, 422],
  })).map((w) => `${who} × ${label(e)} × ${res}: ${w}`);
  if (r.status !== exp) return { status: r.status, wrong };
  const say = (what) => wrong.push(`${who} × ${label(e)} × ${res}: ${what}`);
  if (exp === 409 && r.json?.supervision_id !== id[SUP_ON[res]]) say(`409 naming supervision ${r.json?.supervision_id}, not ${SUP_ON[res]}`);
  if (KIND[who] === 'department' && r.text.includes(PHONE)) say(`a full phone number: ${r.text.slice(0, 300)}`);
  if (r.status === 200 && e.op === 'GET /v1/orders/{id}/timers') {
    const got = names('timer', r.json.data.map((x) => x.id)).sort();
    const want = TIMERS.filter((t) => TIMER_OWNER[t] === res).sort();
    if (got.join() !== want.join()) say(`timers ${got}, expected ${want}`);
    if (e.q && r.json.data.some((x) => !x.explain)) say('a timer without its explain');
    if (!e.q && r.json.data.some((x) => 'explain' in x)) say('explain without ?explain=true');
  }
  if (r.status === 200 && e.op === 'GET /v1/supervisions/{id}') {
    if (r.json.id !== id[res] || r.json.order_id !== id[ORDER_OF[res]] || r.json.call_id !== id[CALL_OF[res]]) say(`read ${r.text.slice(0, 200)}`);
    const want = NOTICES.filter((n) => SUP_OF[n] === res);
    const got = names('notice', r.json.notices.map((n) => n.id));
    if (got.join() !== want.join()) say(`notices ${got}, expected ${want}`);
  }
  if (r.status === 200 && e.op === 'GET /v1/extensions/{id}') {
    if (r.json.id !== id[res] || r.json.order_id !== id[ORDER_OF[res]] || r.json.status !== 'pending') say(`read ${r.text.slice(0, 200)}`);
  }
  return { status: r.status, wrong };
}

// ---- the matrix ---------------------------------------------------------------------------------

let cells = 0;
let started;

describe('the visibility matrix of timers, supervisions, notices and extensions', () => {
  test('the table names each route\'s roles as routes.c and the OpenAPI x-roles do; the lists\' too', () => {
    const ops = [...ENDPOINTS.map((e) => e.op), 'GET /v1/timers', 'GET /v1/supervisions', 'GET /v1/notices', 'GET /v1/extensions'];
    const roles = { 'GET /v1/timers': ALL, 'GET /v1/supervisions': ['department', 'district'], 'GET /v1/notices': ['department', 'district'],
      'GET /v1/extensions': ALL };
    for (const e of ENDPOINTS) roles[e.op] = e.roles;
    for (const op of ops) {
      const [method, path] = op.split(' ');
      const o = openapi.paths[path]?.[method.toLowerCase()];
      assert.ok(o, `${op} in the OpenAPI document`);
      assert.deepEqual([...o['x-roles']].sort(), [...roles[op]].sort(), `${op}: x-roles`);
    }
    for (const who of WHO) for (const r of SEES[who]) assert.ok(id[r], `${who} sees ${r}`);
  });

  for (const who of WHO) {
    test(`${who} (${KIND[who]}): every endpoint × every order, supervision and extension`, async () => {
      started ??= Date.now();
      cells += await runRow(who, ENDPOINTS, cell, expected, label);
    });
  }

  test('lists: each role lists exactly the timers, supervisions, notices and extensions it sees (unfiltered, by call)', async () => {
    const wrong = [];
    const LISTS = [
      ['/v1/timers', 'timer', () => TIMERS, timerSeen, ALL, (t) => CALL_OF[TIMER_OWNER[t]] ?? TIMER_OWNER[t]],
      ['/v1/supervisions', 'supervision', () => SUPS, sees, ['department', 'district'], (s) => CALL_OF[s]],
      ['/v1/notices', 'notice', () => NOTICES, sees, ['department', 'district'], null],
      ['/v1/extensions', 'extension', () => EXTS, sees, ALL, (x) => CALL_OF[x]],
    ];
    for (const who of WHO) {
      for (const [path, kind, all, seen, roles, callOf] of LISTS) {
        if (!roles.includes(KIND[who])) {
          const r = await get(d, path, { token: tk[who] });
          cells += 1;
          if (r.status !== 403) wrong.push(`${who} × GET ${path}: ${r.status}, expected 403`);
          continue;
        }
        const member = (rows) => names(kind, rows.map((x) => x.id).filter((i) => all().some((r) => id[r] === i))).sort();
        const want = all().filter((r) => seen(who, r)).sort();
        const got = member(await listAll(d, path, tk[who]));
        cells += 1;
        if (got.join() !== want.join()) wrong.push(`${who} × GET ${path}: ${got}, expected ${want}`);
        if (callOf) {
          for (const c of CALLS) {
            const wantC = want.filter((r) => callOf(r) === c);
            const gotC = member(await listAll(d, `${path}?call_id=${id[c]}`, tk[who]));
            cells += 1;
            if (gotC.join() !== wantC.join()) wrong.push(`${who} × GET ${path}?call_id=${c}: ${gotC}, expected ${wantC}`);
          }
        } else {
          for (const s of SUPS) {
            const wantS = want.filter((n) => SUP_OF[n] === s);
            const gotS = member(await listAll(d, `${path}?supervision_id=${id[s]}`, tk[who]));
            cells += 1;
            if (gotS.join() !== wantS.join()) wrong.push(`${who} × GET ${path}?supervision_id=${s}: ${gotS}, expected ${wantS}`);
          }
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('nothing changed: timers, supervisions, notices, extensions, orders and their events as before', () => {
    assert.deepEqual(snapshot(), before0);
    console.log(`# timer/supervision visibility matrix: ${cells} cells in ${Date.now() - started} ms`);
  });
});
