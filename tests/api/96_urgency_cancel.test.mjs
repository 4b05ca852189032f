// Calls, fourth slice (notes/contract4.md "Fourth slice"): the district office changes a
// call's urgency (live unplanned orders get new deadlines from their dispatch time) and
// cancels an order (a cancelled lead sends the call back to triage; a cancelled cooperating
// order may complete the call). Everything happens in a district of this file's own with the
// demo list imported; fixtures().A is "another district".
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectProblem, fixtures, post, startDaemon, tokenFor,
} from './lib.mjs';
import {
  at8, callsApi, callsWorld, eventCount as eventsOf, expect409, expect422, HOUR, MIN, ms,
} from './calls_helpers.mjs';
import { workingTime } from './calendar_helpers.mjs';

let d;
let C; // this file's district (demo units, grids and the imported list)
let tk; // tokens by name (calls_helpers' callsWorld, and otherDistrict)

const w = {};
const { created, urgency, cancel, act, dispatch, call, order, events, dispatchedCall } = callsApi(w);

before(async () => {
  d = await startDaemon();
  Object.assign(w, await callsWorld(d, 'UC', { other: false }));
  ({ C, tk } = w);
  tk.otherDistrict = tokenFor(d, fixtures().A, 'district');
});
after(async () => { await d.stop(); });

async function ok200(resP, what) {
  const r = await resP;
  assert.equal(r.status, 200, `${what}: ${r.text}`);
  return r.json;
}

const ids = {};

describe('changing the urgency of a call', () => {
  test('normal → emergency on a dispatched call: 200, version +1, unplanned live orders re-timed, a planned order kept', async () => {
    const { call: c0, lead, zf, zj } = await dispatchedCall('升级为紧急的呼叫');
    ids.call = c0.id;
    assert.equal(c0.urgency, 'normal');
    // CD-ZF plans its order: its deadlines stay; CD-ZJ accepts: re-timed like the dispatched lead
    const zfBefore = (await order(zf, 'zf')).json;
    const by = at8(Math.min(ms(zfBefore.resolve_by) - HOUR, Date.now() + 48 * HOUR));
    const planned = await ok200(act('zf', zf, 'plan', { plan: '配合核查。', resolve_by: by }), 'plan');
    await ok200(act('zj', zj, 'accept', {}), 'accept');
    const c = (await call(c0.id)).json;
    const r = await urgency('district', c.id, { urgency: 'emergency', reason: '现场扩大，群众围观。' },
      { headers: { 'if-match': `"${c.version}"` } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, `"${c.version + 1}"`);
    const x = r.json;
    assert.deepEqual([x.id, x.status, x.urgency, x.version], [c.id, 'dispatched', 'emergency', c.version + 1]);
    for (const id of [lead, zj]) {
      const o = x.orders.find((y) => y.id === id);
      const was = c.orders.find((y) => y.id === id);
      assert.equal(o.plan, null);
      assert.equal(ms(o.accept_by), ms(o.created_at) + 30 * MIN, `order ${id} accept_by: ${JSON.stringify(o)}`);
      // ZRZY-01's limit is 15 working days: 24 h wall-clock ends first
      assert.equal(ms(o.resolve_by), ms(o.created_at) + 24 * HOUR, `order ${id} resolve_by: ${JSON.stringify(o)}`);
      assert.ok(ms(o.resolve_by) < ms(was.resolve_by), 'earlier than under normal');
      assert.equal(o.version, was.version + 1, `order ${id} version +1`);
      assert.equal(o.status, was.status);
    }
    const p = x.orders.find((y) => y.id === zf);
    assert.deepEqual([p.status, p.plan, p.resolve_by, p.accept_by, p.version],
      ['accepted', planned.plan, planned.resolve_by, planned.accept_by, planned.version], JSON.stringify(p));
    assert.deepEqual((await call(c.id)).json, x);
    // the timeline: call.urgency_changed {urgency, reason} by the district office
    const ev = (await events('township', c.id)).json.data.filter((e) => e.type === 'call.urgency_changed');
    assert.equal(ev.length, 1);
    assert.deepEqual(ev[0].subject, { type: 'call', id: c.id });
    assert.deepEqual(ev[0].data, { urgency: 'emergency', reason: '现场扩大，群众围观。' });
    assert.deepEqual([ev[0].actor.unit_id, ev[0].actor.role], [C.office, 'district']);
  });

  test('a stale If-Match → 412; nothing changes', async () => {
    const before = (await call(ids.call)).json;
    expectProblem(await urgency('district', ids.call, { urgency: 'urgent', reason: '过期版本' },
      { headers: { 'if-match': '"1"' } }), 412);
    assert.deepEqual((await call(ids.call)).json, before);
  });

  test('back to normal: deadlines from the dispatch time again (item limit 15 working days)', async () => {
    const r = await urgency('district', ids.call, { urgency: 'normal', reason: '已控制。' });
    assert.equal(r.status, 200, r.text);
    const lead = r.json.orders.find((y) => y.role === 'lead');
    // this district has no calendar: working days are Monday to Friday
    assert.equal(ms(lead.accept_by), workingTime().addDays(ms(lead.created_at), 1), JSON.stringify(lead));
    assert.equal(ms(lead.resolve_by), workingTime().addDays(ms(lead.created_at), 15), JSON.stringify(lead));
    assert.equal(eventsOf('call.urgency_changed', 'call', ids.call), 2);
  });

  test('a triage call → 200 (the call stays in triage)', async () => {
    const c = await created('township', { title: '待分拨的呼叫' });
    assert.equal(c.status, 'triage', JSON.stringify(c));
    const r = await urgency('district', c.id, { urgency: 'urgent', reason: '需尽快分拨。' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.json.status, r.json.urgency, r.json.version], ['triage', 'urgent', c.version + 1]);
    assert.equal(eventsOf('call.urgency_changed', 'call', c.id), 1);
  });

  test('a resolved call, a closed call → 409 current_status', async () => {
    const { call: c, lead, zf, zj } = await dispatchedCall('已办结的呼叫');
    await ok200(act('zf', zf, 'resolve', { resolution: '已配合。' }), 'resolve zf');
    await ok200(act('zj', zj, 'resolve', { resolution: '已配合。' }), 'resolve zj');
    await ok200(act('department', lead, 'resolve', { resolution: '已处理。' }), 'resolve lead');
    assert.equal((await call(c.id)).json.status, 'resolved');
    expect409(await urgency('district', c.id, { urgency: 'emergency', reason: '太晚了' }), 'resolved');
    await ok200(post(d, `/v1/calls/${c.id}/confirm`, {}, { token: tk.township }), 'confirm');
    expect409(await urgency('district', c.id, { urgency: 'emergency', reason: '太晚了' }), 'closed');
    const now = (await call(c.id)).json;
    assert.deepEqual([now.status, now.urgency], ['closed', 'normal']);
    assert.equal(eventsOf('call.urgency_changed', 'call', c.id), 0);
  });

  test('township, department, integration → 403; another district, no such call → 404', async () => {
    const before = (await call(ids.call)).json;
    const body = { urgency: 'emergency', reason: '不该生效' };
    for (const who of ['township', 'department', 'integration']) {
      expectProblem(await urgency(who, ids.call, body), 403, 'this role may not use this route');
    }
    expectProblem(await urgency('otherDistrict', ids.call, body), 404);
    expectProblem(await urgency('district', 999999999, body), 404);
    assert.deepEqual((await call(ids.call)).json, before);
  });

  test('a bad urgency, urgency or reason missing, an empty or too long reason, an unknown field → 422', async () => {
    const before = (await call(ids.call)).json;
    expect422(await urgency('district', ids.call, { urgency: 'bogus', reason: 'x' }), 'urgency');
    expect422(await urgency('district', ids.call, { urgency: 'EMERGENCY', reason: 'x' }), 'urgency');
    expect422(await urgency('district', ids.call, { reason: 'x' }), 'urgency');
    expect422(await urgency('district', ids.call, { urgency: 'urgent' }), 'reason');
    expect422(await urgency('district', ids.call, { urgency: 'urgent', reason: '' }), 'reason');
    expect422(await urgency('district', ids.call, { urgency: 'urgent', reason: '字'.repeat(2001) }), 'reason');
    expect422(await urgency('district', ids.call, { urgency: 'urgent', reason: 'x', note: 'y' }), 'note');
    assert.deepEqual((await call(ids.call)).json, before);
  });

  test('Idempotency-Key: a replay answers the same 200 with Idempotency-Replayed: true, one event', async () => {
    const { call: c } = await dispatchedCall('幂等的紧急程度');
    const h = { 'idempotency-key': 'urgency-idem-0001' };
    const body = { urgency: 'urgent', reason: '只记一次。' };
    const r1 = await urgency('district', c.id, body, { headers: h });
    assert.equal(r1.status, 200, r1.text);
    assert.equal(r1.headers['idempotency-replayed'], undefined);
    const r2 = await urgency('district', c.id, body, { headers: h });
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.headers['idempotency-replayed'], 'true');
    assert.equal(r2.headers.etag, r1.headers.etag);
    assert.deepEqual(r2.json, r1.json);
    assert.equal((await call(c.id)).json.version, c.version + 1);
    assert.equal(eventsOf('call.urgency_changed', 'call', c.id), 1);
    expect422(await urgency('district', c.id, { urgency: 'emergency', reason: '另一个' }, { headers: h }), 'Idempotency-Key');
  });
});

describe('cancelling an order', () => {
  test('the district cancels a cooperating order: 200 cancelled, order.cancelled with reason, the call stays dispatched', async () => {
    const { call: c, lead, zf, zj } = await dispatchedCall('需要撤销工单的呼叫');
    Object.assign(ids, { cCall: c.id, cLead: lead, cZf: zf, cZj: zj });
    const o = (await order(zf)).json;
    const r = await cancel('district', zf, { reason: '无需该部门配合。' }, { headers: { 'if-match': `"${o.version}"` } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, `"${o.version + 1}"`);
    assert.deepEqual([r.json.id, r.json.status, r.json.version, r.json.call_id], [zf, 'cancelled', o.version + 1, c.id]);
    assert.deepEqual((await order(zf)).json, r.json);
    const now = (await call(c.id)).json;
    assert.deepEqual([now.status, now.version], ['dispatched', c.version]);
    const ev = (await events('district', c.id)).json.data.filter((e) => e.type === 'order.cancelled');
    assert.equal(ev.length, 1);
    assert.deepEqual(ev[0].subject, { type: 'order', id: zf });
    assert.deepEqual(ev[0].data, { call_id: c.id, reason: '无需该部门配合。' });
    assert.deepEqual([ev[0].actor.unit_id, ev[0].actor.role], [C.office, 'district']);
  });

  test('cancelling a cancelled order → 409 current_status cancelled', async () => {
    expect409(await cancel('district', ids.cZf, { reason: '再撤一次' }), 'cancelled');
    assert.equal(eventsOf('order.cancelled', 'order', ids.cZf), 1);
  });

  test('township, department, integration → 403; another district, no such order → 404; a stale If-Match → 412', async () => {
    const before = (await order(ids.cLead)).json;
    for (const who of ['township', 'department', 'integration']) {
      expectProblem(await cancel(who, ids.cLead, { reason: '不该生效' }), 403, 'this role may not use this route');
    }
    expectProblem(await cancel('otherDistrict', ids.cLead, { reason: '不该生效' }), 404);
    expectProblem(await cancel('district', 999999999, { reason: '不该生效' }), 404);
    expectProblem(await cancel('district', ids.cLead, { reason: '不该生效' }, { headers: { 'if-match': '"99"' } }), 412);
    assert.deepEqual((await order(ids.cLead)).json, before);
  });

  test('reason missing, empty, too long, an unknown field → 422; nothing changes', async () => {
    const before = (await order(ids.cLead)).json;
    expect422(await cancel('district', ids.cLead, {}), 'reason');
    expect422(await cancel('district', ids.cLead, { reason: '' }), 'reason');
    expect422(await cancel('district', ids.cLead, { reason: '字'.repeat(2001) }), 'reason');
    expect422(await cancel('district', ids.cLead, { reason: 'x', status: 'cancelled' }), 'status');
    assert.deepEqual((await order(ids.cLead)).json, before);
  });

  test('cancelling the lead (accepted): the call goes back to triage with call.triage', async () => {
    await ok200(act('department', ids.cLead, 'accept', {}), 'accept');
    const c = (await call(ids.cCall)).json;
    const r = await cancel('district', ids.cLead, { reason: '主办部门错误。' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'cancelled');
    const now = (await call(ids.cCall)).json;
    assert.deepEqual([now.status, now.version], ['triage', c.version + 1]);
    // CD-ZJ's cooperating order is still live
    assert.equal(now.orders.find((o) => o.id === ids.cZj).status, 'dispatched');
    const ev = (await events('district', ids.cCall)).json.data;
    const tail = ev.slice(-2).map((e) => [e.type, e.subject.type, e.subject.id]);
    assert.deepEqual(tail, [['order.cancelled', 'order', ids.cLead], ['call.triage', 'call', ids.cCall]]);
  });

  test('the district dispatches a new lead: the call is dispatched again', async () => {
    const c = (await call(ids.cCall)).json;
    const r = await dispatch('district', ids.cCall, { orders: [{ department_code: 'CD-HY', role: 'lead' }] },
      { headers: { 'if-match': `"${c.version}"` } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.json.status, r.json.version], ['dispatched', c.version + 1]);
    const leads = r.json.orders.filter((o) => o.role === 'lead');
    assert.deepEqual(leads.map((o) => [o.id, o.status]), [[ids.cLead, 'cancelled'],
      [leads[1].id, 'dispatched']]);
    assert.equal(leads[1].department_id, C.unit('CD-HY'));
    ids.cNewLead = leads[1].id;
    // the new lead's department sees it
    assert.equal((await order(ids.cNewLead, 'hy')).status, 200);
  });

  test('cancelling a resolved order → 409 current_status resolved', async () => {
    await ok200(act('zj', ids.cZj, 'resolve', { resolution: '已配合。' }), 'resolve zj');
    expect409(await cancel('district', ids.cZj, { reason: '太晚了' }), 'resolved');
    assert.equal(eventsOf('order.cancelled', 'order', ids.cZj), 0);
    assert.equal((await call(ids.cCall)).json.status, 'dispatched', 'the new lead is still open');
  });

  test('the lead resolved, the only other live order cancelled: the call becomes resolved', async () => {
    const { call: c, lead, zf, zj } = await dispatchedCall('撤销后办结的呼叫');
    await ok200(act('department', lead, 'resolve', { resolution: '已处理。' }), 'resolve lead');
    await ok200(act('zj', zj, 'resolve', { resolution: '已配合。' }), 'resolve zj');
    assert.equal((await call(c.id)).json.status, 'dispatched', 'CD-ZF is still open');
    const r = await cancel('district', zf, { reason: '已无需配合。' });
    assert.equal(r.status, 200, r.text);
    const now = (await call(c.id)).json;
    assert.equal(now.status, 'resolved', JSON.stringify(now));
    const ev = (await events('district', c.id)).json.data.map((e) => e.type);
    assert.deepEqual(ev.slice(-2), ['order.cancelled', 'call.resolved']);
    // and the township can confirm it
    await ok200(post(d, `/v1/calls/${c.id}/confirm`, {}, { token: tk.township }), 'confirm');
  });

  test('Idempotency-Key: a replayed cancel answers the same 200, one order.cancelled', async () => {
    const { zf } = await dispatchedCall('幂等撤销');
    const h = { 'idempotency-key': 'cancel-idem-0001' };
    const r1 = await cancel('district', zf, { reason: '一次。' }, { headers: h });
    assert.equal(r1.status, 200, r1.text);
    const r2 = await cancel('district', zf, { reason: '一次。' }, { headers: h });
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.headers['idempotency-replayed'], 'true');
    assert.deepEqual(r2.json, r1.json);
    assert.equal(eventsOf('order.cancelled', 'order', zf), 1);
  });
});
