// Supervision (督办), notices and extensions (延期) (issue 5, DESIGN §5 "Timers, calendar,
// supervision"; who sees what: §4). The district office opens a supervision case on a live
// order by hand (one open per order), sends reminders, notices (通报) and rectification orders
// (责令整改) on it, which the department concerned sees, and closes it; the sweep opens one by
// itself when an order's timer goes overdue. A department asks for more time on its order,
// in time (extension_lead_days working days before the deadline) and for a later deadline;
// the district office approves (resolve_by and the resolve timer move) or rejects (nothing
// moves). Every step's event; roles 403, visibility 404, If-Match 412, state 409 with
// current_status, the Idempotency-Key, unknown fields 422.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { expectProblem, get, listAll, post, psql, request, sleep, startDaemon } from './lib.mjs';
import { at8, callsApi, callsWorld, eventCount, expect409, expect422, HOUR, ms } from './calls_helpers.mjs';

const w = {};
const api = callsApi(w);
const { act, order, dispatchedCall, created } = api;
let d;
let C;

before(async () => {
  // the sweep every 200 ms: a timer made due by SQL fires within the test's patience
  d = await startDaemon({ HUYING_SWEEP_INTERVAL_MS: 200 });
  Object.assign(w, await callsWorld(d, 'SV'));
  ({ C } = w);
});
after(async () => { await d.stop(); });

const tok = (who) => {
  assert.ok(w.tk[who], `no token ${who}`);
  return w.tk[who];
};
const ok = (res, status = 200) => {
  assert.equal(res.status, status, res.text);
  return res.json;
};
const DAY = 24 * HOUR;

const openSup = (who, body, opts = {}) => post(d, '/v1/supervisions', body, { token: tok(who), ...opts });
const getSup = (who, id) => get(d, `/v1/supervisions/${id}`, { token: tok(who) });
const supAct = (who, id, action, body, opts = {}) => post(d, `/v1/supervisions/${id}/${action}`, body, { token: tok(who), ...opts });
const extend = (who, orderId, body, opts = {}) => post(d, `/v1/orders/${orderId}/extensions`, body, { token: tok(who), ...opts });
const getExt = (who, id) => get(d, `/v1/extensions/${id}`, { token: tok(who) });
const decide = (who, id, action, body, opts = {}) => post(d, `/v1/extensions/${id}/${action}`, body, { token: tok(who), ...opts });
// An order's timers, as the district office reads them.
const timersOf = async (orderId) => ok(await get(d, `/v1/orders/${orderId}/timers`, { token: tok('district') })).data;

// The types of a call's timeline (as the district office reads it), oldest first.
async function timeline(callId) {
  const r = await get(d, `/v1/calls/${callId}/events?limit=200`, { token: tok('district') });
  assert.equal(r.status, 200, r.text);
  return r.json.data.map((e) => `${e.subject.type}:${e.type}`);
}
// The events of an order and of its supervisions, oldest first, read as the owner.
const orderAndSupervisionEvents = (orderId) => psql(
  `select string_agg(e.subject_type || ':' || e.type, ',' order by e.id) from huying.events e
    where (e.subject_type = 'order' and e.subject_id = ${Number(orderId)})
       or (e.subject_type = 'supervision' and e.subject_id in (select s.id from huying.supervisions s where s.order_id = ${Number(orderId)}))`)
  .split(',').filter(Boolean);
const supEvents = (id) => psql(
  `select string_agg(type, ',' order by id) from huying.events where subject_type = 'supervision' and subject_id = ${Number(id)}`)
  .split(',').filter(Boolean);
const ids = (list) => list.map((x) => x.id);

describe('supervisions opened by hand', () => {
  const s = {};

  test('the district office opens one on a live order: 201, Location, ETag, the case; supervision.opened', async () => {
    const { call: c, lead } = await dispatchedCall('督办：手动发起');
    Object.assign(s, { call: c.id, lead });
    const r = await openSup('district', { order_id: lead, reason: '群众反映强烈，请加快办理。' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.location, `/v1/supervisions/${r.json.id}`);
    assert.equal(r.headers.etag, '"1"');
    assert.deepEqual({ ...r.json, id: 0, created_at: '' }, {
      id: 0, order_id: lead, call_id: c.id, department_id: C.unit('CD-ZRZY'), status: 'open', opened_by: 'district',
      reason: '群众反映强烈，请加快办理。', timer_id: null, close_reason: null, notices: [], created_at: '', closed_at: null,
      version: 1,
    });
    assert.ok(Math.abs(ms(r.json.created_at) - Date.now()) < 5 * 60 * 1000);
    s.id = r.json.id;
    s.sup = r.json;
    assert.deepEqual(supEvents(s.id), ['supervision.opened']);
    const data = JSON.parse(psql(`select data from huying.events where subject_type = 'supervision' and subject_id = ${s.id}`));
    assert.deepEqual(data, { order_id: lead, call_id: c.id, department_id: C.unit('CD-ZRZY'), reason: '群众反映强烈，请加快办理。' });
    // the order itself does not change
    assert.equal(ok(await order(lead)).version, 1);
  });

  test('who sees it: the district office and the department concerned; another department 404; township and integration 403', async () => {
    const g = await getSup('district', s.id);
    assert.equal(g.status, 200, g.text);
    assert.equal(g.headers.etag, '"1"');
    assert.deepEqual(g.json, s.sup);
    assert.deepEqual(ok(await getSup('department', s.id)), s.sup);
    for (const who of ['zf', 'zj', 'hy']) expectProblem(await getSup(who, s.id), 404);
    expectProblem(await getSup('bDistrict', s.id), 404);
    for (const who of ['township', 'integration']) {
      expectProblem(await getSup(who, s.id), 403, 'this role may not use this route');
      expectProblem(await get(d, '/v1/supervisions', { token: tok(who) }), 403, 'this role may not use this route');
    }
    // lists: the department its own, another department none of it
    const mine = ok(await get(d, `/v1/supervisions?order_id=${s.lead}`, { token: tok('department') }));
    assert.deepEqual(ids(mine.data), [s.id]);
    assert.ok(!(await listAll(d, '/v1/supervisions', tok('zf'))).some((x) => x.id === s.id));
    const all = ok(await get(d, `/v1/supervisions?status=open&call_id=${s.call}`, { token: tok('district') }));
    assert.deepEqual(ids(all.data), [s.id]);
    assert.deepEqual(ok(await get(d, `/v1/supervisions?status=closed&call_id=${s.call}`, { token: tok('district') })).data, []);
    const byDept = ok(await get(d, `/v1/supervisions?department_id=${C.unit('CD-ZF')}&call_id=${s.call}`, { token: tok('district') }));
    assert.deepEqual(byDept.data, []);
    expect422(await get(d, '/v1/supervisions?status=pending', { token: tok('district') }), 'status');
    expect422(await get(d, '/v1/supervisions?order_id=x', { token: tok('district') }), 'order_id');
    expect422(await get(d, '/v1/supervisions?bogus=1', { token: tok('district') }), 'bogus');
  });

  test('only the district office opens: other roles 403', async () => {
    for (const who of ['township', 'department', 'integration']) {
      expectProblem(await openSup(who, { order_id: s.lead, reason: 'x' }), 403, 'this role may not use this route');
    }
  });

  test('a second open on the same order: 409 with current_status and supervision_id', async () => {
    const r = await openSup('district', { order_id: s.lead, reason: '再次督办' });
    expect409(r, 'dispatched');
    assert.equal(r.json.supervision_id, s.id);
    assert.equal(Number(psql(`select count(*) from huying.supervisions where order_id = ${s.lead}`)), 1);
  });

  test('a resolved, a cancelled order: 409 current_status; an order of another district or none: 422 order_id', async () => {
    const { zf, zj } = await dispatchedCall('督办：已办结');
    ok(await act('zf', zf, 'resolve', { resolution: '已处理完毕' }));
    expect409(await openSup('district', { order_id: zf, reason: '督办' }), 'resolved');
    ok(await act('district', zj, 'cancel', { reason: '无需配合' }));
    expect409(await openSup('district', { order_id: zj, reason: '督办' }), 'cancelled');
    expect422(await openSup('bDistrict', { order_id: s.lead, reason: '督办' }), 'order_id');
    expect422(await openSup('district', { order_id: 999999999, reason: '督办' }), 'order_id');
    assert.equal(Number(psql(`select count(*) from huying.supervisions where order_id in (${zf}, ${zj})`)), 0);
  });

  test('bad bodies: 422 naming the field', async () => {
    expect422(await openSup('district', { order_id: s.lead, reason: '督办', status: 'closed' }), 'status');
    expect422(await openSup('district', { order_id: s.lead }), 'reason');
    expect422(await openSup('district', { order_id: s.lead, reason: '' }), 'reason');
    expect422(await openSup('district', { order_id: s.lead, reason: 'x'.repeat(2001) }), 'reason');
    expect422(await openSup('district', { reason: '督办' }), 'order_id');
    expect422(await openSup('district', { order_id: '1', reason: '督办' }), 'order_id');
    expectProblem(await post(d, '/v1/supervisions', '{"order_id":', { token: tok('district'), headers: { 'content-type': 'application/json' } }), 400);
  });

  test('Idempotency-Key: the replay returns the stored 201; another body with the key is 422', async () => {
    const { lead } = await dispatchedCall('督办：幂等');
    const body = { order_id: lead, reason: '请于今日内答复。' };
    const first = await openSup('district', body, { headers: { 'idempotency-key': 'sv-open-1' } });
    assert.equal(first.status, 201, first.text);
    const again = await openSup('district', body, { headers: { 'idempotency-key': 'sv-open-1' } });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.headers['idempotency-replayed'], 'true');
    assert.equal(again.headers.location, first.headers.location);
    assert.equal(again.headers.etag, first.headers.etag);
    assert.deepEqual(again.json, first.json);
    expect422(await openSup('district', { ...body, reason: '另一个理由' }, { headers: { 'idempotency-key': 'sv-open-1' } }),
      'Idempotency-Key');
    assert.equal(eventCount('supervision.opened', 'supervision', first.json.id), 1);
  });

  test('notices of each kind: 201 with the notice, the ETag the case\'s; the department sees them, another does not', async () => {
    const sent = [];
    const texts = { reminder: '请尽快签收并反馈进展。', notice: '该工单已逾期，予以通报。', rectification: '责令三日内整改到位并书面报告。' };
    let v = 1;
    for (const kind of ['reminder', 'notice', 'rectification']) {
      const r = await supAct('district', s.id, 'notices', { kind, text: texts[kind] }, { headers: { 'if-match': `"${v}"` } });
      assert.equal(r.status, 201, r.text);
      v += 1;
      assert.equal(r.headers.etag, `"${v}"`);
      assert.equal(r.headers.location, undefined);
      assert.deepEqual({ ...r.json, id: 0, created_at: '' }, {
        id: 0, supervision_id: s.id, department_id: C.unit('CD-ZRZY'), kind, text: texts[kind], created_at: '',
      });
      sent.push(r.json);
    }
    assert.deepEqual(supEvents(s.id), ['supervision.opened', 'supervision.notice', 'supervision.notice', 'supervision.notice']);
    const data = JSON.parse(psql(`select data from huying.events where subject_type = 'supervision' and subject_id = ${s.id}
                                   and type = 'supervision.notice' order by id desc limit 1`));
    assert.deepEqual(data, { notice_id: sent[2].id, kind: 'rectification', department_id: C.unit('CD-ZRZY'), order_id: s.lead });
    // the case carries them, oldest first
    const g = await getSup('department', s.id);
    assert.equal(g.headers.etag, '"4"');
    assert.deepEqual(g.json.notices, sent);
    assert.equal(g.json.version, 4);
    // GET /v1/notices: newest first; the department its own; another department none
    const mine = ok(await get(d, `/v1/notices?supervision_id=${s.id}`, { token: tok('department') }));
    assert.deepEqual(mine.data, [...sent].reverse());
    assert.equal(mine.next_cursor, null);
    const page = ok(await get(d, `/v1/notices?supervision_id=${s.id}&limit=2`, { token: tok('district') }));
    assert.deepEqual(ids(page.data), [sent[2].id, sent[1].id]);
    const rest = ok(await get(d, `/v1/notices?supervision_id=${s.id}&limit=2&cursor=${encodeURIComponent(page.next_cursor)}`,
      { token: tok('district') }));
    assert.deepEqual(ids(rest.data), [sent[0].id]);
    assert.deepEqual(ids(ok(await get(d, `/v1/notices?supervision_id=${s.id}&kind=rectification`, { token: tok('department') })).data),
      [sent[2].id]);
    assert.deepEqual(ids(ok(await get(d, `/v1/notices?department_id=${C.unit('CD-ZRZY')}&supervision_id=${s.id}&kind=notice`,
      { token: tok('district') })).data), [sent[1].id]);
    assert.ok(!(await listAll(d, '/v1/notices', tok('zf'))).some((n) => n.supervision_id === s.id));
    assert.deepEqual(ok(await get(d, `/v1/notices?supervision_id=${s.id}`, { token: tok('zf') })).data, []);
    for (const who of ['township', 'integration'])
      expectProblem(await get(d, '/v1/notices', { token: tok(who) }), 403, 'this role may not use this route');
    expect422(await get(d, '/v1/notices?kind=warning', { token: tok('district') }), 'kind');
    expect422(await get(d, '/v1/notices?supervision_id=0', { token: tok('district') }), 'supervision_id');
  });

  test('notices: roles 403, bad bodies 422, another district 404, a stale If-Match 412', async () => {
    for (const who of ['township', 'department', 'integration'])
      expectProblem(await supAct(who, s.id, 'notices', { kind: 'reminder', text: '催办' }), 403, 'this role may not use this route');
    expect422(await supAct('district', s.id, 'notices', { kind: 'warning', text: '催办' }), 'kind');
    expect422(await supAct('district', s.id, 'notices', { kind: 'reminder' }), 'text');
    expect422(await supAct('district', s.id, 'notices', { kind: 'reminder', text: '催办', department_id: 1 }), 'department_id');
    expectProblem(await supAct('bDistrict', s.id, 'notices', { kind: 'reminder', text: '催办' }), 404);
    expectProblem(await supAct('district', 999999999, 'notices', { kind: 'reminder', text: '催办' }), 404);
    const stale = await supAct('district', s.id, 'notices', { kind: 'reminder', text: '催办' }, { headers: { 'if-match': '"1"' } });
    expectProblem(stale, 412);
    assert.equal(ok(await getSup('district', s.id)).version, 4, 'nothing changed');
  });

  test('close: 412 on a stale If-Match; 200 closed with the reason; then notices and close 409 closed; a new one may open', async () => {
    expectProblem(await supAct('district', s.id, 'close', { reason: '已整改' }, { headers: { 'if-match': '"3"' } }), 412);
    for (const who of ['township', 'department', 'integration'])
      expectProblem(await supAct(who, s.id, 'close', {}), 403, 'this role may not use this route');
    expect422(await supAct('district', s.id, 'close', { reason: '' }), 'reason');
    const r = await supAct('district', s.id, 'close', { reason: '部门已整改到位，结束督办。' }, { headers: { 'if-match': '"4"' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, '"5"');
    assert.equal(r.json.status, 'closed');
    assert.equal(r.json.close_reason, '部门已整改到位，结束督办。');
    assert.equal(r.json.version, 5);
    assert.equal(r.json.notices.length, 3);
    assert.ok(Math.abs(ms(r.json.closed_at) - Date.now()) < 5 * 60 * 1000);
    assert.deepEqual(ok(await getSup('department', s.id)), r.json);
    assert.deepEqual(supEvents(s.id).at(-1), 'supervision.closed');
    assert.deepEqual(JSON.parse(psql(`select data from huying.events where subject_type = 'supervision' and subject_id = ${s.id}
                                       and type = 'supervision.closed'`)), { reason: '部门已整改到位，结束督办。' });
    // a closed case takes nothing more
    expect409(await supAct('district', s.id, 'notices', { kind: 'reminder', text: '催办' }), 'closed');
    expect409(await supAct('district', s.id, 'close', {}), 'closed');
    // listed as closed
    assert.deepEqual(ids(ok(await get(d, `/v1/supervisions?status=closed&order_id=${s.lead}`, { token: tok('department') })).data), [s.id]);
    // the order may be supervised again
    const again = ok(await openSup('district', { order_id: s.lead, reason: '再次督办' }), 201);
    assert.ok(again.id > s.id);
    assert.deepEqual(ids(ok(await get(d, `/v1/supervisions?order_id=${s.lead}`, { token: tok('district') })).data), [again.id, s.id]);
    // a close without a body at all; with an Idempotency-Key, a replay
    const c1 = await post(d, `/v1/supervisions/${again.id}/close`, undefined, { token: tok('district'), headers: { 'idempotency-key': 'sv-close' } });
    assert.equal(c1.status, 200, c1.text);
    assert.equal(c1.json.close_reason, null);
    const c2 = await post(d, `/v1/supervisions/${again.id}/close`, undefined, { token: tok('district'), headers: { 'idempotency-key': 'sv-close' } });
    assert.equal(c2.status, 200, c2.text);
    assert.equal(c2.headers['idempotency-replayed'], 'true');
    assert.deepEqual(c2.json, c1.json);
    assert.equal(eventCount('supervision.closed', 'supervision', again.id), 1);
  });
});

describe('supervisions opened by the sweep', () => {
  test('an accept timer due: warning, overdue (the order\'s overdue flag), a supervision opened by the system, in that order', async () => {
    const { call: c, lead } = await dispatchedCall('督办：超时自动');
    const timer = Number(psql(`select id from huying.timers where order_id = ${lead} and kind = 'accept'`));
    assert.ok(timer > 0, 'the order has an accept timer');
    psql(`update huying.timers set warn_at = now() - interval '2 min', due_at = now() - interval '1 min',
            fire_at = now() - interval '2 min' where order_id = ${lead} and kind = 'accept'`);
    let found = null;
    for (let i = 0; i < 100 && !found; i++) {
      const r = ok(await get(d, `/v1/supervisions?order_id=${lead}`, { token: tok('district') }));
      if (r.data.length) found = r.data[0];
      else await sleep(100);
    }
    assert.ok(found, 'the sweep opened a supervision within 10 s');
    assert.deepEqual({ ...found, id: 0, created_at: '', reason: '' }, {
      id: 0, order_id: lead, call_id: c.id, department_id: C.unit('CD-ZRZY'), status: 'open', opened_by: 'system', reason: '',
      timer_id: timer, close_reason: null, notices: [], created_at: '', closed_at: null, version: 1,
    });
    assert.match(found.reason, /accept/);
    const o = ok(await order(lead, 'department'));
    assert.equal(o.overdue, true);
    assert.deepEqual(orderAndSupervisionEvents(lead),
      ['order:order.timer_warning', 'order:order.overdue', 'supervision:supervision.opened']);
    // the department sees the case the sweep opened; the district office may act on it
    assert.deepEqual(ok(await getSup('department', found.id)), found);
    ok(await supAct('district', found.id, 'notices', { kind: 'reminder', text: '已超时未签收，请立即签收。' }), 201);
    // a second open by hand: 409, the system's case is the open one
    const r = await openSup('district', { order_id: lead, reason: '重复' });
    expect409(r, 'dispatched');
    assert.equal(r.json.supervision_id, found.id);
    // exactly once: the sweep leaves the timer alone after that
    await sleep(600);
    assert.equal(Number(psql(`select count(*) from huying.supervisions where order_id = ${lead}`)), 1);
    assert.equal(eventCount('order.overdue', 'order', lead), 1);
  });
});

describe('extensions', () => {
  const x = {};
  // The order's current resolve_by plus days, as +08:00 text.
  const later = (o, days) => at8(ms(o.resolve_by) + days * DAY);

  test('the department asks on its order: 201, Location, the request pending; the order does not change', async () => {
    const { call: c, lead } = await dispatchedCall('延期：申请');
    const o = ok(await order(lead, 'department'));
    Object.assign(x, { call: c.id, lead, before: o, want: later(o, 3) });
    const r = await extend('department', lead, { resolve_by: x.want, reason: '需要组织专家论证。' }, { headers: { 'if-match': `"${o.version}"` } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.location, `/v1/extensions/${r.json.id}`);
    assert.equal(r.headers.etag, '"1"');
    assert.deepEqual({ ...r.json, id: 0, created_at: '' }, {
      id: 0, order_id: lead, call_id: c.id, department_id: C.unit('CD-ZRZY'), status: 'pending', resolve_by: x.want,
      previous_resolve_by: o.resolve_by, reason: '需要组织专家论证。', decision_reason: null, created_at: '', decided_at: null,
      version: 1,
    });
    x.id = r.json.id;
    x.ext = r.json;
    const after = ok(await order(lead, 'department'));
    assert.deepEqual(after, o, 'the order is as it was');
    assert.equal((await timeline(c.id)).at(-1), 'order:order.extension_requested');
    const ev = JSON.parse(psql(`select data from huying.events where subject_type = 'order' and subject_id = ${lead}
                                 and type = 'order.extension_requested'`));
    assert.deepEqual(ev, { call_id: c.id, extension_id: x.id, resolve_by: x.want, reason: '需要组织专家论证。' });
  });

  test('who sees it: the district office, the department, the township of the call; others 404', async () => {
    for (const who of ['district', 'department', 'township']) {
      const g = await getExt(who, x.id);
      assert.equal(g.status, 200, `${who}: ${g.text}`);
      assert.equal(g.headers.etag, '"1"');
      assert.deepEqual(g.json, x.ext);
    }
    for (const who of ['zf', 'township2', 'integration', 'bDistrict']) expectProblem(await getExt(who, x.id), 404);
    assert.deepEqual(ids(ok(await get(d, `/v1/extensions?order_id=${x.lead}`, { token: tok('township') })).data), [x.id]);
    assert.deepEqual(ids(ok(await get(d, `/v1/extensions?status=pending&call_id=${x.call}`, { token: tok('district') })).data), [x.id]);
    assert.deepEqual(ok(await get(d, `/v1/extensions?status=approved&call_id=${x.call}`, { token: tok('district') })).data, []);
    assert.deepEqual(ok(await get(d, `/v1/extensions?department_id=${C.unit('CD-ZF')}&call_id=${x.call}`, { token: tok('district') })).data, []);
    assert.ok(!(await listAll(d, '/v1/extensions', tok('zf'))).some((e) => e.id === x.id));
    assert.ok(!(await listAll(d, '/v1/extensions', tok('integration'))).some((e) => e.id === x.id));
    expect422(await get(d, '/v1/extensions?status=open', { token: tok('district') }), 'status');
    expect422(await get(d, '/v1/extensions?department_id=-1', { token: tok('district') }), 'department_id');
  });

  test('an integration sees the extensions on its own calls', async () => {
    const c = await created('integration', {
      title: '12345热线：延期可见', township_code: 'TS-NCS', item_code: 'ZRZY-01', external_ref: { id: `SV-${Date.now()}` },
    });
    const lead = c.orders.find((o) => o.role === 'lead').id;
    const o = ok(await order(lead, 'department'));
    const e = ok(await extend('department', lead, { resolve_by: later(o, 2), reason: '热线工单需延期' }), 201);
    assert.deepEqual(ok(await getExt('integration', e.id)), e);
    expectProblem(await getExt('integration2', e.id), 404);
  });

  test('asking: roles 403, another department 404, a stale If-Match 412, a second pending 409, bad bodies 422', async () => {
    const body = { resolve_by: later(x.before, 5), reason: '再次申请' };
    for (const who of ['township', 'district', 'integration'])
      expectProblem(await extend(who, x.lead, body), 403, 'this role may not use this route');
    expectProblem(await extend('zf', x.lead, body), 404);
    expectProblem(await extend('department', 999999999, body), 404);
    expectProblem(await extend('department', x.lead, body, { headers: { 'if-match': '"7"' } }), 412);
    const r = await extend('department', x.lead, body);
    expect409(r, 'dispatched');
    assert.equal(r.json.extension_id, x.id);
    expect422(await extend('department', x.lead, { ...body, status: 'approved' }), 'status');
    expect422(await extend('department', x.lead, { resolve_by: body.resolve_by }), 'reason');
    expect422(await extend('department', x.lead, { reason: 'x' }), 'resolve_by');
    expect422(await extend('department', x.lead, { resolve_by: '2026-03-01T10:00:00', reason: 'x' }), 'resolve_by');
    expect422(await extend('department', x.lead, { resolve_by: '2026-03-01', reason: 'x' }), 'resolve_by');
    expect422(await extend('department', x.lead, { resolve_by: body.resolve_by, reason: 'x'.repeat(2001) }), 'reason');
    assert.equal(Number(psql(`select count(*) from huying.extensions where order_id = ${x.lead}`)), 1);
  });

  test('deciding: roles 403, another district 404, a stale If-Match 412, reject without a reason 422', async () => {
    for (const who of ['township', 'department', 'integration']) {
      expectProblem(await decide(who, x.id, 'approve', {}), 403, 'this role may not use this route');
      expectProblem(await decide(who, x.id, 'reject', { reason: '不同意' }), 403, 'this role may not use this route');
    }
    expectProblem(await decide('bDistrict', x.id, 'approve', {}), 404);
    expectProblem(await decide('district', 999999999, 'reject', { reason: '不同意' }), 404);
    expectProblem(await decide('district', x.id, 'approve', {}, { headers: { 'if-match': '"2"' } }), 412);
    expect422(await decide('district', x.id, 'reject', {}), 'reason');
    expect422(await decide('district', x.id, 'approve', { resolve_by: x.want }), 'resolve_by');
    assert.equal(ok(await getExt('district', x.id)).status, 'pending');
  });

  test('approved: resolve_by and the resolve timer move to the requested instant; order.extension_approved', async () => {
    const t0 = (await timersOf(x.lead)).find((t) => t.kind === 'resolve');
    assert.equal(t0.due_at, x.before.resolve_by);
    const r = await decide('district', x.id, 'approve', { reason: '同意延期。' },
      { headers: { 'if-match': '"1"', 'idempotency-key': 'sv-approve' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, '"2"');
    assert.deepEqual({ ...r.json, decided_at: '' }, { ...x.ext, status: 'approved', decision_reason: '同意延期。', decided_at: '', version: 2 });
    assert.ok(Math.abs(ms(r.json.decided_at) - Date.now()) < 5 * 60 * 1000);
    // a replay
    const again = await decide('district', x.id, 'approve', { reason: '同意延期。' }, { headers: { 'idempotency-key': 'sv-approve' } });
    assert.equal(again.headers['idempotency-replayed'], 'true');
    assert.deepEqual(again.json, r.json);
    const o = ok(await order(x.lead, 'department'));
    assert.equal(o.resolve_by, x.want);
    assert.equal(o.version, x.before.version + 1);
    assert.equal(o.accept_by, x.before.accept_by);
    assert.equal(o.status, 'dispatched');
    const t1 = (await timersOf(x.lead)).find((t) => t.kind === 'resolve');
    assert.equal(t1.id, t0.id, 'the same timer, moved');
    assert.equal(t1.due_at, x.want);
    assert.equal(t1.state, 'running');
    assert.deepEqual(Object.keys(t1.limit), ['until']);
    assert.equal(Date.parse(t1.limit.until), ms(x.want));
    assert.ok(ms(t1.warn_at) > ms(t0.warn_at));
    assert.deepEqual((await timeline(x.call)).slice(-2), ['order:order.extension_requested', 'order:order.extension_approved']);
    const ev = JSON.parse(psql(`select data from huying.events where subject_type = 'order' and subject_id = ${x.lead}
                                 and type = 'order.extension_approved'`));
    assert.deepEqual(ev, { call_id: x.call, extension_id: x.id, resolve_by: x.want, reason: '同意延期。' });
    // decided: no second decision
    expect409(await decide('district', x.id, 'approve', {}), 'approved');
    expect409(await decide('district', x.id, 'reject', { reason: '撤回同意' }), 'approved');
    // and the department may ask again, from the new deadline
    expect422(await extend('department', x.lead, { resolve_by: later(x.before, 2), reason: '早于当前期限' }), 'resolve_by');
    ok(await extend('department', x.lead, { resolve_by: later(o, 1), reason: '再延一天' }), 201);
  });

  test('rejected: nothing moves; order.extension_rejected', async () => {
    const { call: c, lead } = await dispatchedCall('延期：驳回');
    ok(await act('department', lead, 'accept', {}));
    const o = ok(await order(lead, 'department'));
    const t0 = (await timersOf(lead)).find((t) => t.kind === 'resolve');
    const e = ok(await extend('department', lead, { resolve_by: later(o, 2), reason: '已签收，需延期' }), 201);
    const r = await decide('district', e.id, 'reject', { reason: '期限内可以办结。' }, { headers: { 'if-match': '"1"' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, '"2"');
    assert.equal(r.json.status, 'rejected');
    assert.equal(r.json.decision_reason, '期限内可以办结。');
    assert.deepEqual(ok(await order(lead, 'department')), o);
    assert.deepEqual((await timersOf(lead)).find((t) => t.kind === 'resolve').due_at, t0.due_at);
    assert.deepEqual((await timeline(c.id)).slice(2),
      ['order:order.accepted', 'order:order.extension_requested', 'order:order.extension_rejected']);
    expect409(await decide('district', e.id, 'approve', {}), 'rejected');
    expect409(await decide('district', e.id, 'reject', { reason: '再次' }), 'rejected');
  });

  test('too late: inside the lead time → 422 naming resolve_by; not later than the current deadline → 422', async () => {
    const { lead } = await dispatchedCall('延期：临近期限');
    // the deadline two hours away, and its timer with it (the trigger on orders)
    psql(`update huying.orders set resolve_by = date_trunc('second', now()) + interval '2 hours' where id = ${lead}`);
    const o = ok(await order(lead, 'department'));
    const t = (await timersOf(lead)).find((k) => k.kind === 'resolve');
    assert.equal(t.due_at, o.resolve_by);
    assert.ok(ms(t.warn_at) > Date.now(), 'the warning is still ahead');
    const r = await extend('department', lead, { resolve_by: later(o, 3), reason: '来不及' });
    expect422(r, 'resolve_by');
    assert.match(r.json.errors[0].message, /working day/);
    expect422(await extend('department', lead, { resolve_by: o.resolve_by, reason: '相同期限' }), 'resolve_by');
    expect422(await extend('department', lead, { resolve_by: at8(ms(o.resolve_by) - HOUR), reason: '更早期限' }), 'resolve_by');
    assert.equal(Number(psql(`select count(*) from huying.extensions where order_id = ${lead}`)), 0);
  });

  test('with no lead time (extension_lead_days 0) a department may ask until the deadline, not after it', async () => {
    const { lead, zf } = await dispatchedCall('延期：无提前期');
    psql(`update huying.orders set resolve_by = date_trunc('second', now()) + interval '2 hours' where id = ${lead};
          update huying.orders set resolve_by = date_trunc('second', now()) - interval '1 minute' where id = ${zf}`);
    const o = ok(await order(lead, 'department'));
    const oz = ok(await order(zf, 'zf'));
    const s0 = await get(d, '/v1/settings', { token: tok('district') });
    const put = (lead_days, etag) => request(d, 'PUT', '/v1/settings', {
      token: tok('district'), headers: { 'if-match': etag },
      body: { ...s0.json, extension_lead_days: lead_days, version: undefined, updated_at: undefined },
    });
    const p0 = await put(0, s0.headers.etag);
    assert.equal(p0.status, 200, p0.text);
    try {
      ok(await extend('department', lead, { resolve_by: later(o, 1), reason: '临近期限申请' }), 201);
      expect422(await extend('zf', zf, { resolve_by: later(oz, 1), reason: '已过期限' }), 'resolve_by');
    } finally {
      const p1 = await put(s0.json.extension_lead_days, p0.headers.etag);
      assert.equal(p1.status, 200, p1.text);
    }
  });

  test('an order that is no longer live: asking 409 current_status; approving 409 with the order\'s status', async () => {
    const { lead, zf } = await dispatchedCall('延期：已办结');
    const o = ok(await order(zf, 'zf'));
    const e = ok(await extend('zf', zf, { resolve_by: later(o, 2), reason: '配合部门申请延期' }), 201);
    ok(await act('zf', zf, 'resolve', { resolution: '已办结' }));
    expect409(await extend('zf', zf, { resolve_by: later(o, 3), reason: '再申请' }), 'resolved');
    expect409(await decide('district', e.id, 'approve', {}), 'resolved');
    // rejecting it still closes it
    assert.equal(ok(await decide('district', e.id, 'reject', { reason: '工单已办结' })).status, 'rejected');
    const ol = ok(await order(lead, 'department'));
    ok(await act('district', lead, 'cancel', { reason: '撤销' }));
    expect409(await extend('department', lead, { resolve_by: later(ol, 2), reason: 'x' }), 'cancelled');
  });

  test('Idempotency-Key on asking: the replay returns the stored 201, even once the request is pending', async () => {
    const { lead } = await dispatchedCall('延期：幂等');
    const o = ok(await order(lead, 'department'));
    const body = { resolve_by: later(o, 1), reason: '幂等申请' };
    const a = await extend('department', lead, body, { headers: { 'idempotency-key': 'sv-ext-1' } });
    assert.equal(a.status, 201, a.text);
    const b = await extend('department', lead, body, { headers: { 'idempotency-key': 'sv-ext-1' } });
    assert.equal(b.status, 201, b.text);
    assert.equal(b.headers['idempotency-replayed'], 'true');
    assert.equal(b.headers.location, a.headers.location);
    assert.deepEqual(b.json, a.json);
    expect422(await extend('department', lead, { ...body, reason: '另一个' }, { headers: { 'idempotency-key': 'sv-ext-1' } }), 'Idempotency-Key');
    assert.equal(eventCount('order.extension_requested', 'order', lead), 1);
  });
});
