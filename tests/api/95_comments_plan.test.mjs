// Calls, third slice (notes/contract4.md "Third slice"): comments on a call by every role
// that sees it (call.commented on the timeline), and a department's plan for its order
// (accepting a dispatched order first; resolve_by within the order's current deadline).
// Everything happens in a district of this file's own with the demo list imported.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectProblem, psql, startDaemon,
} from './lib.mjs';
import {
  at8, callsApi, callsWorld, eventCount as eventsOf, expect422, HOUR, ms,
} from './calls_helpers.mjs';

let d;
let C; // this file's district (demo units, grids and the imported list)

const w = {};
const { created, comment, plan, act, order, events, dispatchedCall } = callsApi(w);

before(async () => {
  d = await startDaemon();
  Object.assign(w, await callsWorld(d, 'CP', { other: false }));
  ({ C } = w); // tokens: w.tk (calls_helpers' callsWorld)
});
after(async () => { await d.stop(); });

const unitName = (id) => psql(`select name from huying.units where id = ${Number(id)}`);
const commentsOf = (callId) => Number(psql(`select count(*) from huying.comments where call_id = ${Number(callId)}`));

const ids = {};

describe('commenting on a call', () => {
  test('the township (own call), the lead department and the district office: 201 with unit_name and role', async () => {
    const { call: c, lead } = await dispatchedCall('需要沟通的呼叫');
    ids.call = c.id;
    ids.lead = lead;
    const cases = [
      ['township', C.unit('TS-NCS'), 'township', '现场情况补充：已拍照。'],
      ['department', C.unit('CD-ZRZY'), 'department', '已安排执法人员前往。'],
      ['district', C.office, 'district', '请尽快处理。'],
    ];
    ids.comments = [];
    for (const [who, unit, role, text] of cases) {
      const r = await comment(who, c.id, { text });
      assert.equal(r.status, 201, `${who}: ${r.text}`);
      assert.equal(r.headers.location, undefined, 'no Location');
      assert.equal(r.headers.etag, undefined, 'no ETag');
      const k = r.json;
      assert.equal(typeof k.id, 'number');
      assert.deepEqual([k.call_id, k.unit_id, k.unit_name, k.role, k.text, k.attachments],
        [c.id, unit, unitName(unit), role, text, []]);
      assert.ok(Math.abs(ms(k.created_at) - Date.now()) < 5 * 60 * 1000, `created_at ${k.created_at} is now`);
      ids.comments.push(k);
    }
    const withFile = await comment('township', c.id, { text: '附照片', attachments: [{ url: 'https://example.com/a.jpg', name: 'a.jpg' }] });
    assert.equal(withFile.status, 201, withFile.text);
    assert.deepEqual(withFile.json.attachments, [{ url: 'https://example.com/a.jpg', name: 'a.jpg' }]);
    ids.comments.push(withFile.json);
    assert.equal(commentsOf(c.id), 4);
  });

  test('the timeline shows call.commented with {comment_id, text}, by who commented', async () => {
    const r = await events('township', ids.call);
    assert.equal(r.status, 200, r.text);
    const got = r.json.data.filter((e) => e.type === 'call.commented');
    assert.equal(got.length, ids.comments.length, r.text);
    got.forEach((e, i) => {
      const k = ids.comments[i];
      assert.deepEqual(e.subject, { type: 'call', id: ids.call });
      assert.deepEqual(e.data, { comment_id: k.id, text: k.text });
      assert.deepEqual(e.actor, { unit_id: k.unit_id, unit_name: k.unit_name, role: k.role });
    });
    assert.deepEqual(r.json.data.map((e) => e.type).slice(0, 2), ['call.created', 'call.dispatched']);
    // a department on the call sees them too
    const zf = await events('zf', ids.call);
    assert.equal(zf.status, 200, zf.text);
    assert.equal(zf.json.data.filter((e) => e.type === 'call.commented').length, ids.comments.length);
  });

  test('an integration comments on its own call: 201 role integration; another system → 404', async () => {
    const c = await created('integration', {
      title: '12345热线：河道垃圾', township_code: 'TS-NCS', item_code: 'ZRZY-01', external_ref: { id: 'CP-0001' },
    });
    const r = await comment('integration', c.id, { text: '热线回访：群众仍在等待。' });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual([r.json.unit_id, r.json.role], [C.office, 'integration']);
    expectProblem(await comment('integration2', c.id, { text: '不该看到' }), 404);
    expectProblem(await comment('integration2', ids.call, { text: '不该看到' }), 404);
    expectProblem(await comment('integration', ids.call, { text: '不是它的' }), 404);
    assert.equal(commentsOf(c.id), 1);
  });

  test('a township that does not own the call, a department without an order → 404; nothing written', async () => {
    const before = commentsOf(ids.call);
    expectProblem(await comment('township2', ids.call, { text: '别的乡镇' }), 404);
    expectProblem(await comment('hy', ids.call, { text: '没有工单的部门' }), 404);
    expectProblem(await comment('district', 999999999, { text: '不存在' }), 404);
    assert.equal(commentsOf(ids.call), before);
    assert.equal(eventsOf('call.commented', 'call', ids.call), before);
  });

  test('text missing, 2001 characters, an unknown field, an http attachment → 422 naming the field', async () => {
    const before = commentsOf(ids.call);
    expect422(await comment('township', ids.call, {}), 'text');
    expect422(await comment('township', ids.call, { text: '' }), 'text');
    expect422(await comment('township', ids.call, { text: '字'.repeat(2001) }), 'text');
    expect422(await comment('township', ids.call, { text: 'ok', mood: 'angry' }), 'mood');
    expect422(await comment('township', ids.call, { text: 'ok', attachments: [{ url: 'http://example.com/a.jpg' }] }), 'attachments');
    expect422(await comment('township', ids.call, { text: 'ok', attachments: [{ url: 'https://example.com/a.jpg', size: 3 }] }), 'attachments');
    assert.equal(commentsOf(ids.call), before);
    // 2000 characters is fine
    const r = await comment('township', ids.call, { text: '字'.repeat(2000) });
    assert.equal(r.status, 201, r.text.slice(0, 300));
    assert.equal(r.json.text.length, 2000);
  });

  test('Idempotency-Key: a replay answers the same 201 with Idempotency-Replayed: true, one comment event only', async () => {
    const { call: c } = await dispatchedCall('幂等评论');
    const h = { 'idempotency-key': 'comment-idem-0001' };
    const body = { text: '只应记一次。' };
    const r1 = await comment('department', c.id, body, { headers: h });
    assert.equal(r1.status, 201, r1.text);
    assert.equal(r1.headers['idempotency-replayed'], undefined);
    const r2 = await comment('department', c.id, body, { headers: h });
    assert.equal(r2.status, 201, r2.text);
    assert.equal(r2.headers['idempotency-replayed'], 'true');
    assert.deepEqual(r2.json, r1.json);
    assert.equal(commentsOf(c.id), 1);
    assert.equal(eventsOf('call.commented', 'call', c.id), 1);
    expect422(await comment('department', c.id, { text: '另一条' }, { headers: h }), 'Idempotency-Key');
    assert.equal(commentsOf(c.id), 1);
  });
});

describe('planning an order', () => {
  test('the lead department plans its dispatched order: 200, accepted, plan and resolve_by set, version +1', async () => {
    const { call: c, lead } = await dispatchedCall('需要计划的呼叫');
    ids.planCall = c.id;
    ids.planOrder = lead;
    const o = (await order(lead, 'department')).json;
    assert.deepEqual([o.status, o.version, o.plan], ['dispatched', 1, null]);
    ids.deadline = o.resolve_by;
    const deadline = ms(o.resolve_by);
    assert.ok(deadline > Date.now() + 2 * HOUR, `deadline ${o.resolve_by}`);
    const by = at8(Math.min(deadline - HOUR, Date.now() + 24 * HOUR));
    ids.firstBy = by;
    const r = await plan('department', lead, { plan: '三日内现场核查并责令整改。', resolve_by: by }, { headers: { 'if-match': '"1"' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, `"${o.version + 1}"`);
    const x = r.json;
    assert.deepEqual([x.id, x.status, x.version, x.plan, x.resolve_by], [lead, 'accepted', o.version + 1, '三日内现场核查并责令整改。', by]);
    assert.ok(x.accepted_at, 'accepted_at set');
    assert.deepEqual((await order(lead, 'department')).json, x);
    // events: order.accepted (implicit) then order.planned with resolve_by
    const ev = (await events('district', c.id)).json.data.filter((e) => e.subject.type === 'order' && e.subject.id === lead);
    assert.deepEqual(ev.map((e) => e.type), ['order.accepted', 'order.planned']);
    assert.equal(ev[0].data.implicit, true);
    assert.equal(ev[1].data.call_id, c.id);
    assert.equal(ev[1].data.resolve_by, by);
    assert.equal(ev[1].actor.role, 'department');
  });

  test('planning again from accepted with an earlier resolve_by: 200, the new instant (another offset)', async () => {
    const before = (await order(ids.planOrder)).json;
    const t = ms(ids.firstBy) - 2 * HOUR;
    const r = await plan('department', ids.planOrder,
      { plan: '提前办结。', resolve_by: new Date(t).toISOString().replace('.000Z', 'Z') },
      { headers: { 'if-match': `"${before.version}"` } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.json.status, r.json.version, r.json.plan, r.json.resolve_by],
      ['accepted', before.version + 1, '提前办结。', at8(t)]);
    assert.equal(eventsOf('order.planned', 'order', ids.planOrder), 2);
    assert.equal(eventsOf('order.accepted', 'order', ids.planOrder), 1, 'accepted once');
  });

  test('resolve_by later than the current deadline, in the past, not RFC 3339; plan missing → 422; nothing changes', async () => {
    const before = (await order(ids.planOrder)).json;
    const later = at8(ms(before.resolve_by) + HOUR);
    expect422(await plan('department', ids.planOrder, { plan: '延后', resolve_by: later }), 'resolve_by');
    // the original (dispatch) deadline is later than the current one too
    expect422(await plan('department', ids.planOrder, { plan: '延后', resolve_by: ids.deadline }), 'resolve_by');
    expect422(await plan('department', ids.planOrder, { plan: '过去', resolve_by: at8(Date.now() - HOUR) }), 'resolve_by');
    expect422(await plan('department', ids.planOrder, { plan: '格式', resolve_by: '2026-12-01 17:30' }), 'resolve_by');
    expect422(await plan('department', ids.planOrder, { plan: '无时区', resolve_by: '2099-01-01T00:00:00' }), 'resolve_by');
    expect422(await plan('department', ids.planOrder, { plan: '不存在的日子', resolve_by: '2099-02-30T00:00:00+08:00' }), 'resolve_by');
    expect422(await plan('department', ids.planOrder, { resolve_by: at8(Date.now() + HOUR) }), 'plan');
    expect422(await plan('department', ids.planOrder, { plan: '', resolve_by: at8(Date.now() + HOUR) }), 'plan');
    expect422(await plan('department', ids.planOrder, { plan: '无期限' }), 'resolve_by');
    expect422(await plan('department', ids.planOrder, { plan: 'x', resolve_by: at8(Date.now() + HOUR), status: 'resolved' }), 'status');
    assert.deepEqual((await order(ids.planOrder)).json, before);
  });

  test('township and district → 403; another department → 404; a stale If-Match → 412', async () => {
    const before = (await order(ids.planOrder)).json;
    const body = { plan: '不该生效', resolve_by: at8(Date.now() + HOUR) };
    expectProblem(await plan('township', ids.planOrder, body), 403);
    expectProblem(await plan('district', ids.planOrder, body), 403);
    expectProblem(await plan('integration', ids.planOrder, body), 403);
    expectProblem(await plan('hy', ids.planOrder, body), 404);
    expectProblem(await plan('zf', ids.planOrder, body), 404);
    expectProblem(await plan('department', 999999999, body), 404);
    expectProblem(await plan('department', ids.planOrder, body, { headers: { 'if-match': '"1"' } }), 412);
    assert.deepEqual((await order(ids.planOrder)).json, before);
  });

  test('a cooperating department plans its own order: 200', async () => {
    const { zf } = await dispatchedCall('协办部门的计划');
    assert.ok(zf, 'ZRZY-01 sends a cooperating order to CD-ZF');
    const o = (await order(zf, 'zf')).json;
    const by = at8(Math.min(ms(o.resolve_by) - HOUR, Date.now() + 12 * HOUR));
    const r = await plan('zf', zf, { plan: '配合核查。', resolve_by: by });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.json.status, r.json.resolve_by], ['accepted', by]);
  });

  test('a resolved order → 409 current_status resolved', async () => {
    const { lead } = await dispatchedCall('已办结的工单');
    const res = await act('department', lead, 'resolve', { resolution: '已处理。' });
    assert.equal(res.status, 200, res.text);
    const r = await plan('department', lead, { plan: '太晚了', resolve_by: at8(Date.now() + HOUR) });
    expectProblem(r, 409);
    assert.equal(r.json.current_status, 'resolved', r.text);
    assert.equal(eventsOf('order.planned', 'order', lead), 0);
  });

  test('Idempotency-Key: a replayed plan answers the same 200, one order.planned', async () => {
    const { lead } = await dispatchedCall('幂等计划');
    const o = (await order(lead, 'department')).json;
    const body = { plan: '一次。', resolve_by: at8(Math.min(ms(o.resolve_by) - HOUR, Date.now() + 6 * HOUR)) };
    const h = { 'idempotency-key': 'plan-idem-0001', 'if-match': '"1"' };
    const r1 = await plan('department', lead, body, { headers: h });
    assert.equal(r1.status, 200, r1.text);
    const r2 = await plan('department', lead, body, { headers: h });
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.headers['idempotency-replayed'], 'true');
    assert.equal(r2.headers.etag, r1.headers.etag);
    assert.deepEqual(r2.json, r1.json);
    assert.equal(eventsOf('order.planned', 'order', lead), 1);
    assert.equal(eventsOf('order.accepted', 'order', lead), 1);
  });
});
