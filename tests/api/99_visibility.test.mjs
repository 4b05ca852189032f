// The visibility matrix (issue 4, DESIGN §4 "what each role sees", §5 "Calls and dispatch"):
// for each role — township A (TS-NCS) and B (TS-BCS), department X (CD-ZRZY) and Y (CD-HY),
// the district office, the integrations of system S (89000) and of another system (89001),
// and another district's office — × each call, order and return endpoint × each resource of
// a small fixed world, the exact status: 200 (or 412, 201) when the role may use the route
// and sees the resource, 404 when the resource exists but is not visible to it, 403 when the
// role may never use the route (whether or not it would see the resource). Writes are sent
// with a valid body and `If-Match: "999"`, so that the check order (role 403, not visible
// 404, If-Match 412) answers without changing anything; comments have no If-Match and are
// posted for real (201). A 404 reads exactly as that of an id nothing has. Lists are
// checked by membership, unfiltered and filtered by township or call. Reporter data is masked
// (138****1234) wherever a department reads it, in the call, the list rows and the timeline;
// the others read it as it was sent. At the end nothing but the comments changed: the calls',
// orders' and return requests' versions and statuses, and their events.
//
// The world, made once in before():
//   P  a call posted by integration S for township A, item ZRZY-01, with an external_ref and
//      a reporter; dispatched at once to X (lead, order PX) and the cooperating CD-ZF (PF)
//      and CD-ZJ (PJ); X asks to return PX (request RP, pending) and CD-ZF to return PF (RF).
//   Q  a call posted by integration S2 for township B, item STHJ-04 (no lead: triage), with
//      a reporter; the district office dispatches it to Y alone (lead, order QY); Y asks to
//      return QY (RQ).
//   Z  a call of another district, made by its office for its TS-NCS and dispatched to its
//      CD-ZRZY (order ZO), which asks to return it (RZ).
// So every role has resources it sees and resources it does not, of every kind; X also has
// an order and a request on a call it sees that are not its own (PF, RF).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { get, listAll, openapi, post, psql, startDaemon, tokenFor } from './lib.mjs';
import { at8, callsWorld, HOUR } from './calls_helpers.mjs';
import { KIND, runRow, statusWrongs, WHO } from './visibility_helpers.mjs';

const PHONE_P = '13812341234';
const PHONE_Q = '13998765432';
const REPORTER = {
  P: { name: '王某', phone: PHONE_P },
  Q: { name: '赵某', phone: PHONE_Q },
};
const MASKED = { P: { name: '王某', phone: '138****1234' }, Q: { name: '赵某', phone: '139****5432' } };

let d;
let C; // this file's district
let B; // another district
let tk; // tokens by name (calls_helpers' callsWorld)
const id = {}; // resource name -> id
const name = new Map(); // `${kind}:${id}` -> resource name, for messages

// ---- the table ---------------------------------------------------------------------------------


const CALLS = ['P', 'Q', 'Z'];
const ORDERS = ['PX', 'PF', 'PJ', 'QY', 'ZO'];
const RETURNS = ['RP', 'RF', 'RQ', 'RZ'];
const CALL_OF = { PX: 'P', PF: 'P', PJ: 'P', QY: 'Q', ZO: 'Z', RP: 'P', RF: 'P', RQ: 'Q', RZ: 'Z' };

// What each role sees (DESIGN §4).
const SEES = {
  // its own calls, whoever posted them, with all their orders and return requests
  township: ['P', 'PX', 'PF', 'PJ', 'RP', 'RF'],
  township2: ['Q', 'QY', 'RQ'],
  // the orders dispatched to it and the calls behind them; its own return requests
  department: ['P', 'PX', 'RP'],
  hy: ['Q', 'QY', 'RQ'],
  // everything of its district, nothing of another
  district: ['P', 'Q', 'PX', 'PF', 'PJ', 'QY', 'RP', 'RF', 'RQ'],
  // the calls its own system posted, with their orders and return requests
  integration: ['P', 'PX', 'PF', 'PJ', 'RP', 'RF'],
  integration2: ['Q', 'QY', 'RQ'],
  bDistrict: ['Z', 'ZO', 'RZ'],
};
const sees = (who, res) => SEES[who].includes(res);

const ALL = ['township', 'department', 'district', 'integration'];
const IF_MATCH = { 'if-match': '"999"' };
const act = (path, body) => (t, i) => post(d, path.replace('{id}', i), body, { token: t, headers: IF_MATCH });
const read = (path) => (t, i) => get(d, path.replace('{id}', i), { token: t });

// Each endpoint: the resource kind it takes, the roles its route allows (routes.c; checked
// against the OpenAPI x-roles below), the status when allowed and visible (412 for the
// writes: the If-Match is stale) and the request, with a valid body.
const ENDPOINTS = [
  { op: 'GET /v1/calls/{id}', on: CALLS, roles: ALL, ok: 200, req: read('/v1/calls/{id}') },
  { op: 'GET /v1/calls/{id}/events', on: CALLS, roles: ALL, ok: 200, req: read('/v1/calls/{id}/events?limit=200') },
  { op: 'POST /v1/calls/{id}/dispatch', on: CALLS, roles: ['district'], ok: 412,
    req: act('/v1/calls/{id}/dispatch', { orders: [{ department_code: 'CD-SJ', role: 'cooperating' }] }) },
  { op: 'POST /v1/calls/{id}/confirm', on: CALLS, roles: ['township'], ok: 412, req: act('/v1/calls/{id}/confirm', {}) },
  { op: 'POST /v1/calls/{id}/reopen', on: CALLS, roles: ['township'], ok: 412, req: act('/v1/calls/{id}/reopen', { reason: '矩阵：重办' }) },
  { op: 'POST /v1/calls/{id}/cancel', on: CALLS, roles: ['township', 'district'], ok: 412,
    req: act('/v1/calls/{id}/cancel', { reason: '矩阵：撤销' }) },
  { op: 'POST /v1/calls/{id}/urgency', on: CALLS, roles: ['district'], ok: 412,
    req: act('/v1/calls/{id}/urgency', { urgency: 'urgent', reason: '矩阵：加急' }) },
  { op: 'POST /v1/calls/{id}/comments', on: CALLS, roles: ALL, ok: 201,
    req: (t, i, who) => post(d, `/v1/calls/${i}/comments`, { text: `矩阵：${who} 的意见` }, { token: t }) },
  { op: 'GET /v1/orders/{id}', on: ORDERS, roles: ALL, ok: 200, req: read('/v1/orders/{id}') },
  { op: 'POST /v1/orders/{id}/accept', on: ORDERS, roles: ['department'], ok: 412, req: act('/v1/orders/{id}/accept', {}) },
  { op: 'POST /v1/orders/{id}/plan', on: ORDERS, roles: ['department'], ok: 412,
    req: (t, i) => post(d, `/v1/orders/${i}/plan`, { plan: '矩阵：方案', resolve_by: at8(Date.now() + HOUR) },
      { token: t, headers: IF_MATCH }) },
  { op: 'POST /v1/orders/{id}/resolve', on: ORDERS, roles: ['department'], ok: 412,
    req: act('/v1/orders/{id}/resolve', { resolution: '矩阵：已办' }) },
  { op: 'POST /v1/orders/{id}/cancel', on: ORDERS, roles: ['district'], ok: 412, req: act('/v1/orders/{id}/cancel', { reason: '矩阵：撤销' }) },
  { op: 'POST /v1/orders/{id}/returns', on: ORDERS, roles: ['department'], ok: 412,
    req: act('/v1/orders/{id}/returns', { reason: '矩阵：退单' }) },
  { op: 'GET /v1/returns/{id}', on: RETURNS, roles: ALL, ok: 200, req: read('/v1/returns/{id}') },
  { op: 'POST /v1/returns/{id}/withdraw', on: RETURNS, roles: ['department'], ok: 412, req: act('/v1/returns/{id}/withdraw', {}) },
  { op: 'POST /v1/returns/{id}/uphold', on: RETURNS, roles: ['district'], ok: 412, req: act('/v1/returns/{id}/uphold', {}) },
  { op: 'POST /v1/returns/{id}/overrule', on: RETURNS, roles: ['district'], ok: 412,
    req: act('/v1/returns/{id}/overrule', { reason: '矩阵：驳回' }) },
];

// The status a cell must answer.
const expected = (who, e, res) => {
  if (!e.roles.includes(KIND[who])) return 403;
  return sees(who, res) ? e.ok : 404;
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
const askReturn = async (token, orderId) =>
  ok(await post(d, `/v1/orders/${orderId}/returns`, { reason: '不属于本部门职责' }, { token }), 201).id;

// Owner's view of everything the matrix must not change: versions, statuses, events.
function snapshot() {
  const calls = CALLS.map((r) => id[r]).join(',');
  const rows = psql(`
    select 'call:' || id, version || '|' || status || '|' || updated_at from huying.calls where id in (${calls})
    union all
    select 'order:' || id, version || '|' || status || '|' || return_pending || '|' || updated_at
      from huying.orders where call_id in (${calls})
    union all
    select 'return:' || id, version || '|' || status || '|' || updated_at from huying.return_requests where call_id in (${calls})
    union all
    select 'events:' || subject_type || ':' || subject_id, count(*)::text from huying.events
     where (subject_type = 'call' and subject_id in (${calls}))
        or (subject_type = 'order' and subject_id in (select id from huying.orders where call_id in (${calls})))
     group by subject_type, subject_id
    union all
    select 'comments:' || call_id, count(*)::text from huying.comments where call_id in (${calls}) group by call_id
    order by 1`);
  return Object.fromEntries(rows.split('\n').filter(Boolean).map((l) => l.split('|')).map(([k, ...v]) => [k, v.join('|')]));
}

let before0; // the snapshot before the matrix
const comments = { P: 0, Q: 0, Z: 0 }; // comments the matrix posted, by call
let orderEvents; // order ids with any event (the owner's view)

before(async () => {
  d = await startDaemon({ HUYING_RATE_LIMIT: '0' }); // ~600 requests from a few subjects
  ({ C, B, tk } = await callsWorld(d, 'VI'));
  const deptOf = (dist, code) => tokenFor(d, dist, 'department', { unit_id: dist.unit(code), sub: `test:department:${code}` });

  // P: integration S for township A, dispatched at once to X (lead), CD-ZF and CD-ZJ
  const p = ok(await post(d, '/v1/calls', {
    title: '12345热线：村口违建', township_code: 'TS-NCS', item_code: 'ZRZY-01', external_ref: { id: 'VIS-P' },
    reporter: REPORTER.P,
  }, { token: tk.integration }), 201);
  assert.equal(p.status, 'dispatched', JSON.stringify(p));
  Object.assign(id, { P: p.id, PX: orderOf(p, 'CD-ZRZY'), PF: orderOf(p, 'CD-ZF'), PJ: orderOf(p, 'CD-ZJ') });
  assert.equal(p.orders.find((o) => o.id === id.PX).role, 'lead');
  id.RP = await askReturn(tk.department, id.PX);
  id.RF = await askReturn(deptOf(C, 'CD-ZF'), id.PF);

  // Q: integration S2 for township B, triage, dispatched by the office to Y alone
  const q = ok(await post(d, '/v1/calls', {
    title: '12345热线：海滩垃圾', township_code: 'TS-BCS', item_code: 'STHJ-04', external_ref: { id: 'VIS-Q' },
    reporter: REPORTER.Q,
  }, { token: tk.integration2 }), 201);
  assert.equal(q.status, 'triage', JSON.stringify(q));
  const qd = ok(await post(d, `/v1/calls/${q.id}/dispatch`, { orders: [{ department_code: 'CD-HY', role: 'lead' }] },
    { token: tk.district }));
  Object.assign(id, { Q: q.id, QY: orderOf(qd, 'CD-HY') });
  id.RQ = await askReturn(tk.hy, id.QY);

  // Z: another district's call, dispatched there to its CD-ZRZY, which asks to return it
  const z = ok(await post(d, '/v1/calls', { title: '另一区的呼叫', township_code: 'TS-NCS' }, { token: tk.bDistrict }), 201);
  assert.equal(z.status, 'triage', JSON.stringify(z));
  const zd = ok(await post(d, `/v1/calls/${z.id}/dispatch`, { orders: [{ department_code: 'CD-ZRZY', role: 'lead' }] },
    { token: tk.bDistrict }));
  Object.assign(id, { Z: z.id, ZO: orderOf(zd, 'CD-ZRZY', B) });
  id.RZ = await askReturn(deptOf(B, 'CD-ZRZY'), id.ZO);

  for (const r of CALLS) name.set(`call:${id[r]}`, r);
  for (const r of ORDERS) name.set(`order:${id[r]}`, r);
  for (const r of RETURNS) name.set(`return:${id[r]}`, r);
  orderEvents = new Set(psql(`select distinct subject_id from huying.events where subject_type = 'order'
                                and subject_id in (${ORDERS.map((r) => id[r]).join(',')})`)
    .split('\n').filter(Boolean).map(Number));
  before0 = snapshot();
});
after(async () => { await d.stop(); });

// ---- the checks of one answer -------------------------------------------------------------------

const names = (kind, ids) => ids.map((i) => name.get(`${kind}:${i}`) ?? `${kind}:${i}?`);
const visibleOrders = (who, call) => ORDERS.filter((o) => CALL_OF[o] === call && sees(who, o)).sort();

const missing = new Map(); // `${who} ${op}` -> the answer for an id nothing has

// Runs one cell; returns its status and a list of what is wrong with it (empty: it holds).
async function cell(who, e, res) {
  const exp = expected(who, e, res);
  const r = await e.req(tk[who], id[res], who);
  const wrong = (await statusWrongs(r, exp, {
    resId: id[res], key: `${who} ${e.op}`, again: (i) => e.req(tk[who], i, who), missing,
  })).map((w) => `${who} × ${e.op} × ${res}: ${w}`);
  if (r.status !== exp) return { status: r.status, wrong };
  const say = (what) => wrong.push(`${who} × ${e.op} × ${res}: ${what}`);
  // a department never reads a full phone number, in any answer
  if (KIND[who] === 'department' && (r.text.includes(PHONE_P) || r.text.includes(PHONE_Q)))
    say(`a full phone number in a department's answer: ${r.text.slice(0, 300)}`);
  if (r.status === 200 && e.op === 'GET /v1/calls/{id}') {
    if (r.json.id !== id[res]) say(`the call ${r.json.id}`);
    const rep = REPORTER[res] ? (KIND[who] === 'department' ? MASKED[res] : REPORTER[res]) : null;
    if (JSON.stringify(r.json.reporter) !== JSON.stringify(rep)) say(`reporter ${JSON.stringify(r.json.reporter)}, expected ${JSON.stringify(rep)}`);
    const got = names('order', r.json.orders.map((o) => o.id)).sort();
    if (got.join() !== visibleOrders(who, res).join()) say(`its orders ${got}, expected ${visibleOrders(who, res)}`);
  }
  if (r.status === 200 && e.op === 'GET /v1/calls/{id}/events') {
    // the call's events and those of the orders the role sees, no others
    const got = [...new Set(r.json.data.filter((x) => x.subject.type === 'order').map((x) => x.subject.id))];
    const want = visibleOrders(who, res).filter((o) => orderEvents.has(id[o]));
    if (names('order', got).sort().join() !== want.join()) say(`events of orders ${names('order', got)}, expected ${want}`);
    if (!r.json.data.some((x) => x.subject.type === 'call' && x.type === 'call.created')) say('no call.created in the timeline');
    if (r.json.data.some((x) => x.subject.type === 'call' && x.subject.id !== id[res])) say('events of another call');
  }
  if (r.status === 200 && (e.op === 'GET /v1/orders/{id}' || e.op === 'GET /v1/returns/{id}')) {
    if (r.json.id !== id[res] || r.json.call_id !== id[CALL_OF[res]]) say(`read ${r.text.slice(0, 200)}`);
  }
  if (r.status === 201) {
    if (r.json.call_id !== id[res]) say(`comment on ${r.json.call_id}`);
    comments[res] += 1;
  }
  return { status: r.status, wrong };
}

// ---- the matrix ---------------------------------------------------------------------------------

let cells = 0;
let started;

describe('the visibility matrix: role × endpoint × resource → the exact status', () => {
  test('the table names each route\'s roles as routes.c and the OpenAPI x-roles do', () => {
    for (const e of ENDPOINTS) {
      const [method, path] = e.op.split(' ');
      const op = openapi.paths[path]?.[method.toLowerCase()];
      assert.ok(op, `${e.op} in the OpenAPI document`);
      assert.deepEqual([...op['x-roles']].sort(), [...e.roles].sort(), `${e.op}: x-roles`);
    }
    // and the table of who sees what names only resources of the world
    for (const who of WHO) for (const r of SEES[who]) assert.ok(id[r], `${who} sees ${r}`);
  });

  for (const who of WHO) {
    test(`${who} (${KIND[who]}): every endpoint × every call, order and return request`, async () => {
      started ??= Date.now();
      cells += await runRow(who, ENDPOINTS, cell, expected);
    });
  }

  test('lists: each role lists exactly the calls, orders and return requests it sees (unfiltered, by township, by call)', async () => {
    const wrong = [];
    const member = (rows, kind, all) => names(kind, rows.map((x) => x.id).filter((i) => all.some((r) => id[r] === i))).sort();
    for (const who of WHO) {
      for (const [path, kind, all] of [['/v1/calls', 'call', CALLS], ['/v1/orders', 'order', ORDERS], ['/v1/returns', 'return', RETURNS]]) {
        const want = all.filter((r) => sees(who, r)).sort();
        const got = member(await listAll(d, path, tk[who]), kind, all);
        cells += 1;
        if (got.join() !== want.join()) wrong.push(`${who} × GET ${path}: ${got}, expected ${want}`);
        if (kind === 'call') {
          for (const [c, twp] of [['P', C.unit('TS-NCS')], ['Q', C.unit('TS-BCS')], ['Z', B.unit('TS-NCS')]]) {
            const wantC = want.filter((r) => r === c);
            const gotC = member(await listAll(d, `${path}?township_id=${twp}`, tk[who]), kind, all);
            cells += 1;
            if (gotC.join() !== wantC.join()) wrong.push(`${who} × GET ${path}?township_id=(${c}'s): ${gotC}, expected ${wantC}`);
          }
          continue;
        }
        for (const c of CALLS) {
          const wantC = want.filter((r) => CALL_OF[r] === c);
          const gotC = member(await listAll(d, `${path}?call_id=${id[c]}`, tk[who]), kind, all);
          cells += 1;
          if (gotC.join() !== wantC.join()) wrong.push(`${who} × GET ${path}?call_id=${c}: ${gotC}, expected ${wantC}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('reporter data: masked in every call and list row a department reads, as sent for the others', async () => {
    const wrong = [];
    for (const who of WHO) {
      const rows = await listAll(d, '/v1/calls', tk[who]);
      for (const res of ['P', 'Q']) {
        if (!sees(who, res)) continue;
        const row = rows.find((x) => x.id === id[res]);
        const want = KIND[who] === 'department' ? MASKED[res] : REPORTER[res];
        cells += 1;
        if (JSON.stringify(row?.reporter) !== JSON.stringify(want))
          wrong.push(`${who} × GET /v1/calls × ${res}: reporter ${JSON.stringify(row?.reporter)}, expected ${JSON.stringify(want)}`);
      }
      if (KIND[who] === 'department') {
        // nowhere in what a department reads: the list, its timeline (with the comments now on it)
        const list = JSON.stringify(rows);
        const own = who === 'department' ? 'P' : 'Q';
        const tl = await get(d, `/v1/calls/${id[own]}/events?limit=200`, { token: tk[who] });
        assert.equal(tl.status, 200, tl.text);
        assert.ok(tl.json.data.some((x) => x.type === 'call.commented'), 'the timeline has the matrix\'s comments');
        for (const [what, text] of [['GET /v1/calls', list], [`GET /v1/calls/${own}/events`, tl.text]]) {
          cells += 1;
          if (text.includes(PHONE_P) || text.includes(PHONE_Q)) wrong.push(`${who} × ${what}: a full phone number`);
        }
      }
    }
    // a township, the office and the integration that sent it read P's phone as sent (the
    // single reads are in the matrix); X reads it masked, its name kept
    const x = ok(await get(d, `/v1/calls/${id.P}`, { token: tk.department }));
    assert.deepEqual(x.reporter, { name: '王某', phone: '138****1234' });
    for (const who of ['township', 'district', 'integration']) {
      assert.deepEqual(ok(await get(d, `/v1/calls/${id.P}`, { token: tk[who] })).reporter, REPORTER.P, who);
    }
    assert.deepEqual(wrong, []);
  });

  test('nothing changed but the comments: versions, statuses and events as before', () => {
    const now = snapshot();
    const want = { ...before0 };
    for (const c of CALLS) {
      if (!comments[c]) continue;
      want[`events:call:${id[c]}`] = String(Number(want[`events:call:${id[c]}`]) + comments[c]);
      want[`comments:${id[c]}`] = String(comments[c]);
    }
    assert.deepEqual(now, want);
    // the comments the matrix posted: one by each role that sees the call
    assert.deepEqual(comments, {
      P: WHO.filter((w) => sees(w, 'P')).length, Q: WHO.filter((w) => sees(w, 'Q')).length, Z: 1,
    });
    const ms = Date.now() - started;
    console.log(`# visibility matrix: ${cells} cells in ${ms} ms`);
  });
});
