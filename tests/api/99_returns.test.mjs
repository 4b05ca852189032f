// Returns (退单) and the district office's ruling on them (审定), reopening a call (重办) and
// cancelling one (issue 4, DESIGN §5 "Calls and dispatch"): a department asks to return its
// order; while the request is pending the order keeps its status and clocks and only
// withdraw or resolve are possible; upheld, the order is returned (with a replacement order,
// or for a lead without one, the call goes back to triage); overruled, nothing about the
// order changed. The township reopens a resolved or recently closed call (a rework order
// with rework_of, the old order untouched) and cancels its call before any order is accepted;
// the district office cancels later, optionally as a duplicate. Each step's events, in order;
// every illegal step 409 with current_status and nothing changed; a resolve racing a return
// request or an uphold leaves one consistent outcome.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { expectProblem, get, post, psql, startDaemon } from './lib.mjs';
import { callsApi, callsWorld, eventCount, expect409, expect422 } from './calls_helpers.mjs';

const w = {};
const api = callsApi(w);
const { created, act, call, order, dispatchedCall } = api;
let d;
let C;

before(async () => {
  d = await startDaemon();
  Object.assign(w, await callsWorld(d, 'RT'));
  ({ C } = w);
});
after(async () => { await d.stop(); });

const tok = (who) => w.tk[who];
const askReturn = (who, orderId, body, opts = {}) => post(d, `/v1/orders/${orderId}/returns`, body, { token: tok(who), ...opts });
const rule = (who, returnId, action, body, opts = {}) =>
  post(d, `/v1/returns/${returnId}/${action}`, body, { token: tok(who), ...opts });
const reopen = (who, id, body, opts = {}) => post(d, `/v1/calls/${id}/reopen`, body, { token: tok(who), ...opts });
const cancelCall = (who, id, body, opts = {}) => post(d, `/v1/calls/${id}/cancel`, body, { token: tok(who), ...opts });
const ok = (res, status = 200) => {
  assert.equal(res.status, status, res.text);
  return res.json;
};
// The types of a call's timeline (as the district office reads it), oldest first.
async function timeline(callId) {
  const r = await get(d, `/v1/calls/${callId}/events?limit=200`, { token: tok('district') });
  assert.equal(r.status, 200, r.text);
  return r.json.data.map((e) => `${e.subject.type}:${e.type}`);
}
const orderRow = (id) => psql(`select status || '|' || version || '|' || return_pending || '|' || accept_by || '|' || resolve_by
                                 from huying.orders where id = ${Number(id)}`);
const resolveAll = async (ids, tokens) => {
  for (const [i, id] of ids.entries()) ok(await act(tokens[i], id, 'resolve', { resolution: '已处理' }));
};

describe('return requests', () => {
  test('a cooperating department asks to return its order: 201, Location, pending; the order keeps status and clocks, return_pending', async () => {
    const { call: c, zf } = await dispatchedCall('退单：配合部门');
    const before = ok(await order(zf, 'zf'));
    const r = await askReturn('zf', zf, { reason: '不属于本部门职责', suggested_department_code: 'CD-HY' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.location, `/v1/returns/${r.json.id}`);
    assert.equal(r.headers.etag, '"1"');
    assert.deepEqual({ ...r.json, id: 0, created_at: '' }, {
      id: 0, order_id: zf, call_id: c.id, department_id: C.unit('CD-ZF'), status: 'pending', reason: '不属于本部门职责',
      suggested_department_id: C.unit('CD-HY'), decision_reason: null, replacement_order_id: null, created_at: '',
      decided_at: null, version: 1,
    });
    const after = ok(await order(zf, 'zf'));
    assert.equal(after.status, 'dispatched');
    assert.equal(after.return_pending, true);
    assert.equal(after.version, before.version + 1);
    assert.equal(after.accept_by, before.accept_by);
    assert.equal(after.resolve_by, before.resolve_by);
    // the request is readable by its department and the district office, listed as pending
    assert.deepEqual(ok(await get(d, `/v1/returns/${r.json.id}`, { token: tok('zf') })), r.json);
    const queue = ok(await get(d, `/v1/returns?status=pending&call_id=${c.id}`, { token: tok('district') }));
    assert.deepEqual(queue.data.map((x) => x.id), [r.json.id]);

    // upheld without a replacement: the order is returned, the call continues
    const up = await rule('district', r.json.id, 'uphold', {});
    assert.equal(up.status, 200, up.text);
    assert.equal(up.headers.etag, '"2"');
    assert.equal(up.json.status, 'upheld');
    assert.equal(up.json.replacement_order_id, null);
    assert.match(up.json.decided_at, /\+08:00$/);
    const o = ok(await order(zf));
    assert.equal(o.status, 'returned');
    assert.equal(o.return_pending, false);
    const cc = ok(await call(c.id));
    assert.equal(cc.status, 'dispatched');
    assert.deepEqual((await timeline(c.id)).slice(2),
      ['order:order.return_requested', 'order:order.returned']);
  });

  test('a cooperating order upheld as the last open one: the call becomes resolved', async () => {
    const { call: c, lead, zf, zj } = await dispatchedCall('退单：最后一个');
    await resolveAll([lead, zj], ['department', 'zj']);
    const r = ok(await askReturn('zf', zf, { reason: '非本部门' }), 201);
    ok(await rule('district', r.id, 'uphold', { reason: '同意' }));
    const cc = ok(await call(c.id));
    assert.equal(cc.status, 'resolved');
    assert.equal((await timeline(c.id)).at(-1), 'call:call.resolved');
  });

  test('the lead order upheld without a replacement: returned, the call goes back to triage', async () => {
    const { call: c, lead } = await dispatchedCall('退单：牵头无替代');
    const r = ok(await askReturn('department', lead, { reason: '应由住建部门牵头' }), 201);
    const up = ok(await rule('district', r.id, 'uphold', {}));
    assert.equal(up.status, 'upheld');
    const cc = ok(await call(c.id));
    assert.equal(cc.status, 'triage');
    assert.equal(cc.orders.find((x) => x.id === lead).status, 'returned');
    assert.deepEqual((await timeline(c.id)).slice(2),
      ['order:order.return_requested', 'order:order.returned', 'call:call.triage']);
    // the office dispatches a new lead from triage
    const dsp = ok(await api.dispatch('district', c.id, { orders: [{ department_code: 'CD-HY', role: 'lead' }] }));
    assert.equal(dsp.status, 'dispatched');
  });

  test('the lead order upheld with a replacement department: a new lead order there, fresh clocks, the call stays dispatched', async () => {
    const { call: c, lead } = await dispatchedCall('退单：牵头有替代');
    const r = ok(await askReturn('department', lead, { reason: '应由海洋部门牵头', suggested_department_code: 'CD-HY' }), 201);
    const t0 = Date.now();
    const up = ok(await rule('district', r.id, 'uphold', { department_code: 'CD-HY', reason: '改派海洋部门' }));
    assert.equal(up.decision_reason, '改派海洋部门');
    assert.ok(up.replacement_order_id > lead);
    const repl = ok(await order(up.replacement_order_id));
    assert.equal(repl.department_id, C.unit('CD-HY'));
    assert.equal(repl.role, 'lead');
    assert.equal(repl.status, 'dispatched');
    assert.equal(repl.rework_of, null);
    assert.ok(Date.parse(repl.accept_by) >= Math.floor(t0 / 1000) * 1000, 'the replacement\'s clocks start at the ruling');
    const cc = ok(await call(c.id));
    assert.equal(cc.status, 'dispatched');
    assert.equal(cc.orders.filter((x) => x.role === 'lead' && x.status === 'dispatched').length, 1);
    assert.deepEqual((await timeline(c.id)).slice(2),
      ['order:order.return_requested', 'order:order.returned', 'call:call.dispatched']);
    // the new department sees its order in its inbox; the old one still sees its returned order
    const inbox = ok(await get(d, `/v1/orders?call_id=${c.id}`, { token: tok('hy') }));
    assert.deepEqual(inbox.data.map((x) => x.id), [up.replacement_order_id]);
  });

  test('overruled: the request closes, the order is as it was (status, deadlines), its department still owes it', async () => {
    const { call: c, lead } = await dispatchedCall('退单：驳回');
    ok(await act('department', lead, 'accept', {}));
    const [st0, , , acc0, res0] = orderRow(lead).split('|');
    const r = ok(await askReturn('department', lead, { reason: '不是我们的' }), 201);
    const ov = ok(await rule('district', r.id, 'overrule', { reason: '清单明确由自然资源部门牵头' }));
    assert.equal(ov.status, 'overruled');
    assert.equal(ov.decision_reason, '清单明确由自然资源部门牵头');
    const [st1, , pending1, acc1, res1] = orderRow(lead).split('|');
    assert.deepEqual([st1, pending1, acc1, res1], [st0, 'false', acc0, res0]);
    assert.deepEqual((await timeline(c.id)).slice(2),
      ['order:order.accepted', 'order:order.return_requested', 'order:order.return_overruled']);
    // the department goes on: resolves it
    ok(await act('department', lead, 'resolve', { resolution: '已按驳回意见办理' }));
  });

  test('withdrawn by the department: the request closes, the order is as it was', async () => {
    const { call: c, zj } = await dispatchedCall('退单：撤回');
    const r = ok(await askReturn('zj', zj, { reason: '误操作' }), 201);
    const wd = await rule('zj', r.id, 'withdraw', undefined);
    assert.equal(wd.status, 200, wd.text);
    assert.equal(wd.json.status, 'withdrawn');
    const o = ok(await order(zj, 'zj'));
    assert.equal(o.status, 'dispatched');
    assert.equal(o.return_pending, false);
    assert.deepEqual((await timeline(c.id)).slice(2), ['order:order.return_requested', 'order:order.return_withdrawn']);
    // and it can ask again later
    ok(await askReturn('zj', zj, { reason: '确实不属于本部门' }), 201);
  });

  test('while a return is pending: accept, plan, another return, the district\'s cancel → 409 return_pending; resolve closes the request', async () => {
    const { call: c, lead } = await dispatchedCall('退单：待审定');
    const r = ok(await askReturn('department', lead, { reason: '待审定' }), 201);
    const v = ok(await order(lead)).version;
    for (const [who, action, body] of [
      ['department', 'accept', {}],
      ['department', 'plan', { plan: '方案', resolve_by: new Date(Date.now() + 3600e3).toISOString() }],
      ['department', 'returns', { reason: '再次' }],
      ['district', 'cancel', { reason: '撤销' }],
    ]) {
      const res = await act(who, lead, action, body);
      expect409(res, 'dispatched');
      assert.equal(res.json.return_pending, true, res.text);
    }
    assert.equal(ok(await order(lead)).version, v, 'nothing changed');
    const res = ok(await act('department', lead, 'resolve', { resolution: '已自行解决' }));
    assert.equal(res.status, 'resolved');
    assert.equal(res.return_pending, false);
    const rr = ok(await get(d, `/v1/returns/${r.id}`, { token: tok('district') }));
    assert.equal(rr.status, 'withdrawn');
    assert.deepEqual((await timeline(c.id)).slice(2),
      ['order:order.return_requested', 'order:order.accepted', 'order:order.return_withdrawn', 'order:order.resolved']);
    // a closed request cannot be ruled on
    expect409(await rule('district', r.id, 'uphold', {}), 'withdrawn');
    expect409(await rule('district', r.id, 'overrule', { reason: 'x' }), 'withdrawn');
    expect409(await rule('department', r.id, 'withdraw', {}), 'withdrawn');
  });

  test('illegal steps → 409 current_status; nothing changes', async () => {
    const { lead, zf } = await dispatchedCall('退单：非法');
    ok(await act('zf', zf, 'resolve', { resolution: '完成' }));
    expect409(await askReturn('zf', zf, { reason: '已办结' }), 'resolved');
    const r = ok(await askReturn('department', lead, { reason: 'x' }), 201);
    ok(await rule('district', r.id, 'overrule', { reason: '驳回' }));
    expect409(await rule('district', r.id, 'uphold', {}), 'overruled');
    expect409(await rule('department', r.id, 'withdraw', {}), 'overruled');
    const r2 = ok(await askReturn('department', lead, { reason: 'y' }), 201);
    ok(await rule('district', r2.id, 'uphold', {}));
    expect409(await askReturn('department', lead, { reason: 'z' }), 'returned');
    expect409(await act('department', lead, 'resolve', { resolution: 'x' }), 'returned');
  });

  test('roles, visibility, If-Match, bodies', async () => {
    const { call: c, lead, zf } = await dispatchedCall('退单：校验');
    // asking: a department only, its own order
    for (const who of ['township', 'district', 'integration']) expectProblem(await askReturn(who, lead, { reason: 'x' }), 403);
    expectProblem(await askReturn('zf', lead, { reason: 'x' }), 404);
    expectProblem(await askReturn('hy', zf, { reason: 'x' }), 404);
    expect422(await askReturn('department', lead, {}), 'reason');
    expect422(await askReturn('department', lead, { reason: 'x'.repeat(2001) }), 'reason');
    expect422(await askReturn('department', lead, { reason: 'x', status: 'returned' }), 'status');
    expect422(await askReturn('department', lead, { reason: 'x', suggested_department_code: 'CD-NONE' }), 'suggested_department_code');
    expect422(await askReturn('department', lead, { reason: 'x', suggested_department_id: C.unit('CD-ZRZY') }), 'suggested_department_id');
    expect422(await askReturn('department', lead, { reason: 'x', suggested_department_id: C.unit('TS-NCS') }), 'suggested_department_id');
    expect422(await askReturn('department', lead, { reason: 'x', suggested_department_id: C.unit('CD-HY'), suggested_department_code: 'CD-HY' }),
      'suggested_department_code');
    expectProblem(await askReturn('department', lead, { reason: 'x' }, { headers: { 'If-Match': '"99"' } }), 412);
    assert.equal(eventCount('order.return_requested', 'order', lead), 0, 'nothing written');
    const r = ok(await askReturn('department', lead, { reason: 'x' }, { headers: { 'If-Match': '"1"' } }), 201);

    // reading: the department that asked, the district, the township of the call; not others
    for (const who of ['department', 'district', 'township']) ok(await get(d, `/v1/returns/${r.id}`, { token: tok(who) }));
    for (const who of ['zf', 'township2', 'integration', 'bDistrict']) expectProblem(await get(d, `/v1/returns/${r.id}`, { token: tok(who) }), 404);
    const zfList = ok(await get(d, '/v1/returns', { token: tok('zf') }));
    assert.ok(!zfList.data.some((x) => x.id === r.id));
    expectProblem(await get(d, '/v1/returns?status=open', { token: tok('district') }), 422);

    // ruling: the district only; withdrawing: the department that asked
    for (const who of ['township', 'department', 'integration']) {
      expectProblem(await rule(who, r.id, 'uphold', {}), 403);
      expectProblem(await rule(who, r.id, 'overrule', { reason: 'x' }), 403);
    }
    for (const who of ['township', 'district', 'integration']) expectProblem(await rule(who, r.id, 'withdraw', {}), 403);
    expectProblem(await rule('zf', r.id, 'withdraw', {}), 404);
    expectProblem(await rule('bDistrict', r.id, 'uphold', {}), 404);
    expect422(await rule('district', r.id, 'overrule', {}), 'reason');
    expect422(await rule('district', r.id, 'uphold', { department_code: 'CD-ZRZY' }), 'department_code');
    expect422(await rule('district', r.id, 'uphold', { department_code: 'CD-ZF' }), 'department_code'); // has a live order
    expect422(await rule('district', r.id, 'uphold', { department_id: C.unit('TS-NCS') }), 'department_id');
    expect422(await rule('district', r.id, 'uphold', { verdict: 'yes' }), 'verdict');
    expectProblem(await rule('district', r.id, 'uphold', {}, { headers: { 'If-Match': '"7"' } }), 412);
    assert.equal(ok(await get(d, `/v1/returns/${r.id}`, { token: tok('district') })).status, 'pending', 'nothing changed');
    assert.equal(ok(await call(c.id)).orders.find((x) => x.id === lead).status, 'dispatched');
  });

  test('Idempotency-Key: a replayed request and a replayed ruling answer the same, once', async () => {
    const { lead } = await dispatchedCall('退单：幂等');
    const h = { 'Idempotency-Key': `rt-${Date.now()}` };
    const a = await askReturn('department', lead, { reason: '幂等' }, { headers: h });
    const b = await askReturn('department', lead, { reason: '幂等' }, { headers: h });
    assert.equal(a.status, 201, a.text);
    assert.equal(b.status, 201, b.text);
    assert.equal(b.headers['idempotency-replayed'], 'true');
    assert.deepEqual(b.json, a.json);
    assert.equal(eventCount('order.return_requested', 'order', lead), 1);
    const h2 = { 'Idempotency-Key': `rt-up-${Date.now()}` };
    const u1 = ok(await rule('district', a.json.id, 'uphold', {}, { headers: h2 }));
    const u2 = await rule('district', a.json.id, 'uphold', {}, { headers: h2 });
    assert.equal(u2.status, 200, u2.text);
    assert.equal(u2.headers['idempotency-replayed'], 'true');
    assert.deepEqual(u2.json, u1);
    assert.equal(eventCount('order.returned', 'order', lead), 1);
  });
});

describe('reopening a call (重办)', () => {
  let c;
  let lead;
  test('the township reopens its resolved call: a rework lead order to the same department, the old order untouched', async () => {
    const x = await dispatchedCall('重办：已办结');
    c = x.call;
    lead = x.lead;
    await resolveAll([x.lead, x.zf, x.zj], ['department', 'zf', 'zj']);
    const old = ok(await order(lead));
    const res = await reopen('township', c.id, { reason: '问题未解决，群众再次反映' }, { headers: { 'If-Match': '"2"' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.status, 'dispatched');
    assert.equal(res.json.version, 3);
    assert.equal(res.headers.etag, '"3"');
    const rework = res.json.orders.find((o) => o.rework_of === lead);
    assert.ok(rework, res.text);
    assert.deepEqual([rework.department_id, rework.role, rework.status], [C.unit('CD-ZRZY'), 'lead', 'dispatched']);
    assert.ok(Date.parse(rework.resolve_by) >= Date.parse(old.resolve_by), 'fresh clocks');
    assert.notEqual(rework.id, lead);
    assert.deepEqual(ok(await order(lead)), old, 'the old order is untouched');
    const tl = await timeline(c.id);
    assert.deepEqual(tl.slice(-2), ['call:call.resolved', 'call:call.reopened']);
    const ev = ok(await get(d, `/v1/calls/${c.id}/events?limit=200`, { token: tok('township') })).data.at(-1);
    assert.equal(ev.data.reason, '问题未解决，群众再次反映');
    assert.equal(ev.data.order_id, rework.id);
    assert.equal(ev.data.rework_of, lead);
    // the rework resolved → the call resolved again; the district may still add a cooperating order before that
    ok(await api.dispatch('district', c.id, { orders: [{ department_code: 'CD-HY', role: 'cooperating' }] }));
    const again = ok(await call(c.id));
    const hy = again.orders.find((o) => o.department_id === C.unit('CD-HY'));
    await resolveAll([rework.id, hy.id], ['department', 'hy']);
    assert.equal(ok(await call(c.id)).status, 'resolved');
  });

  test('reopen from closed within reopen_days: 200; after the window → 409 closed', async () => {
    ok(await api.confirm('township', c.id, {}));
    const closed = ok(await call(c.id));
    assert.equal(closed.status, 'closed');
    assert.match(closed.closed_at, /\+08:00$/);
    const r = ok(await reopen('township', c.id, { reason: '再次反映' }));
    assert.equal(r.status, 'dispatched');
    assert.equal(r.closed_at, null);
    const x = await dispatchedCall('重办：超期');
    await resolveAll([x.lead, x.zf, x.zj], ['department', 'zf', 'zj']);
    ok(await api.confirm('township', x.call.id, {}));
    psql(`update huying.calls set closed_at = now() - interval '8 days' where id = ${x.call.id}`);
    const late = await reopen('township', x.call.id, { reason: '太晚了' });
    expect409(late, 'closed');
    assert.match(late.json.detail, /more than 7 days/);
  });

  test('reopen of a dispatched or triage call → 409; roles → 403; another township → 404; bodies → 422', async () => {
    const x = await dispatchedCall('重办：非法');
    expect409(await reopen('township', x.call.id, { reason: 'x' }), 'dispatched');
    for (const who of ['district', 'department', 'integration']) expectProblem(await reopen(who, x.call.id, { reason: 'x' }), 403);
    expectProblem(await reopen('township2', x.call.id, { reason: 'x' }), 404);
    expect422(await reopen('township', x.call.id, {}), 'reason');
    expect422(await reopen('township', x.call.id, { reason: 'x', order_id: 1 }), 'order_id');
  });
});

describe('cancelling a call', () => {
  test('the township cancels its call before any order is accepted, as a duplicate: cancelled, live orders cancelled', async () => {
    const first = await dispatchedCall('撤销：原件');
    const dup = await dispatchedCall('撤销：重复');
    const res = await cancelCall('township', dup.call.id, { reason: '重复上报', duplicate_of: first.call.id }, { headers: { 'If-Match': '"1"' } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.status, 'cancelled');
    assert.equal(res.json.duplicate_of, first.call.id);
    assert.equal(res.json.version, 2);
    assert.deepEqual(res.json.orders.map((o) => o.status), ['cancelled', 'cancelled', 'cancelled']);
    assert.deepEqual((await timeline(dup.call.id)).slice(2),
      ['order:order.cancelled', 'order:order.cancelled', 'order:order.cancelled', 'call:call.cancelled']);
    const ev = ok(await get(d, `/v1/calls/${dup.call.id}/events?limit=200`, { token: tok('district') })).data.at(-1);
    assert.deepEqual(ev.data, { reason: '重复上报', duplicate_of: first.call.id });
    // a cancelled call: every step is 409
    expect409(await cancelCall('township', dup.call.id, { reason: 'x' }), 'cancelled');
    expect409(await cancelCall('district', dup.call.id, { reason: 'x' }), 'cancelled');
    expect409(await reopen('township', dup.call.id, { reason: 'x' }), 'cancelled');
    expect409(await api.dispatch('district', dup.call.id, { orders: [{ department_code: 'CD-HY', role: 'lead' }] }), 'cancelled');
    expect409(await act('department', dup.lead, 'accept', {}), 'cancelled');
    // a triage call too
    const t = await created('township', { title: '撤销：分拨中' });
    assert.equal(ok(await cancelCall('township', t.id, { reason: '已自行解决' })).status, 'cancelled');
  });

  test('after an order was accepted the township gets 409; the district cancels with duplicate_of; a pending return closes', async () => {
    const first = await dispatchedCall('撤销：区级原件');
    const x = await dispatchedCall('撤销：区级');
    ok(await act('department', x.lead, 'accept', {}));
    const r = ok(await askReturn('zf', x.zf, { reason: '非本部门' }), 201);
    const t = await cancelCall('township', x.call.id, { reason: '想撤销' });
    expect409(t, 'dispatched');
    assert.match(t.json.detail, /accepted/);
    const res = ok(await cancelCall('district', x.call.id, { reason: '与已有呼叫重复', duplicate_of: first.call.id }));
    assert.equal(res.status, 'cancelled');
    assert.deepEqual(res.orders.map((o) => [o.status, o.return_pending]), [['cancelled', false], ['cancelled', false], ['cancelled', false]]);
    assert.equal(ok(await get(d, `/v1/returns/${r.id}`, { token: tok('district') })).status, 'cancelled');
    const tl = await timeline(x.call.id);
    assert.deepEqual(tl.slice(-5), ['order:order.return_cancelled', 'order:order.cancelled', 'order:order.cancelled',
      'order:order.cancelled', 'call:call.cancelled']);
  });

  test('the district cancels a resolved call; a closed one → 409', async () => {
    const x = await dispatchedCall('撤销：已办结');
    await resolveAll([x.lead, x.zf, x.zj], ['department', 'zf', 'zj']);
    const res = ok(await cancelCall('district', x.call.id, { reason: '误报' }));
    assert.equal(res.status, 'cancelled');
    assert.deepEqual(res.orders.map((o) => o.status), ['resolved', 'resolved', 'resolved'], 'resolved orders keep their history');
    const y = await dispatchedCall('撤销：已关闭');
    await resolveAll([y.lead, y.zf, y.zj], ['department', 'zf', 'zj']);
    ok(await api.confirm('township', y.call.id, {}));
    expect409(await cancelCall('district', y.call.id, { reason: 'x' }), 'closed');
    expect409(await cancelCall('township', y.call.id, { reason: 'x' }), 'closed');
  });

  test('roles, visibility, duplicate_of, bodies, If-Match; nothing changes', async () => {
    const x = await dispatchedCall('撤销：校验');
    const other = await created('township2', { title: '另一乡镇', item_code: 'ZRZY-01' });
    for (const who of ['department', 'integration']) expectProblem(await cancelCall(who, x.call.id, { reason: 'x' }), 403);
    expectProblem(await cancelCall('township2', x.call.id, { reason: 'x' }), 404);
    expectProblem(await cancelCall('bDistrict', x.call.id, { reason: 'x' }), 404);
    expect422(await cancelCall('township', x.call.id, {}), 'reason');
    expect422(await cancelCall('township', x.call.id, { reason: 'x', duplicate_of: x.call.id }), 'duplicate_of');
    expect422(await cancelCall('township', x.call.id, { reason: 'x', duplicate_of: other.id }), 'duplicate_of'); // not visible to it
    expect422(await cancelCall('township', x.call.id, { reason: 'x', duplicate_of: 'HY-1' }), 'duplicate_of');
    expect422(await cancelCall('township', x.call.id, { reason: 'x', status: 'cancelled' }), 'status');
    expectProblem(await cancelCall('township', x.call.id, { reason: 'x' }, { headers: { 'If-Match': '"5"' } }), 412);
    const still = ok(await call(x.call.id));
    assert.equal(still.status, 'dispatched');
    assert.equal(still.version, 1);
    // a cancelled call cannot be the original of a duplicate
    ok(await cancelCall('district', other.id, { reason: '误报' }));
    expect422(await cancelCall('district', x.call.id, { reason: 'x', duplicate_of: other.id }), 'duplicate_of');
  });
});

describe('races', () => {
  test('a resolve racing a return request: one of two consistent outcomes, never both', async () => {
    for (let i = 0; i < 8; i++) {
      const x = await dispatchedCall(`竞争：办结与退单 ${i}`);
      const [res, ret] = await Promise.all([
        act('zf', x.zf, 'resolve', { resolution: '已办结' }),
        askReturn('zf', x.zf, { reason: '退单' }),
      ]);
      const o = ok(await order(x.zf, 'zf'));
      if (ret.status === 201) {
        // the request came first: the resolve then closed it as withdrawn
        assert.equal(res.status, 200, res.text);
        assert.equal(o.status, 'resolved');
        assert.equal(ok(await get(d, `/v1/returns/${ret.json.id}`, { token: tok('zf') })).status, 'withdrawn');
      } else {
        expect409(ret, 'resolved');
        assert.equal(res.status, 200, res.text);
        assert.equal(o.status, 'resolved');
      }
      assert.equal(o.return_pending, false);
      assert.equal(Number(psql(`select count(*) from huying.return_requests where order_id = ${x.zf} and status = 'pending'`)), 0);
    }
  });

  test('a resolve racing an uphold: either resolved (request withdrawn) or returned (resolve 409), consistent', async () => {
    const outcomes = new Set();
    for (let i = 0; i < 8; i++) {
      const x = await dispatchedCall(`竞争：办结与审定 ${i}`);
      const r = ok(await askReturn('zf', x.zf, { reason: '退单' }), 201);
      const [res, up] = await Promise.all([
        act('zf', x.zf, 'resolve', { resolution: '已办结' }),
        rule('district', r.id, 'uphold', {}),
      ]);
      const o = ok(await order(x.zf));
      const rr = ok(await get(d, `/v1/returns/${r.id}`, { token: tok('district') }));
      if (res.status === 200) {
        expect409(up, 'withdrawn');
        assert.deepEqual([o.status, rr.status], ['resolved', 'withdrawn']);
      } else {
        expect409(res, 'returned');
        assert.equal(up.status, 200, up.text);
        assert.deepEqual([o.status, rr.status], ['returned', 'upheld']);
      }
      assert.equal(o.return_pending, false);
      outcomes.add(o.status);
    }
    assert.ok(outcomes.size >= 1);
  });
});
