// Calls and linkage work orders, first slice (issue 4, DESIGN §5 "Calls and dispatch"): a
// township calls for help; an item with a lead department dispatches orders to the lead and
// cooperating departments with their deadlines, anything else waits in triage; the body's
// checks (422 naming the field), the hotline's external_ref and the Idempotency-Key; who
// sees which call and which order (DESIGN §4); a department's inbox; accepting and
// resolving orders, the call resolved with its last live order; and the events written.
// Everything happens in a district of this file's own with the demo list imported.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectProblem, get, listAll, psql, startDaemon,
} from './lib.mjs';
import {
  at8, callsApi, callsWorld, expect422, HOUR, ms,
} from './calls_helpers.mjs';
import { todayShanghai } from './list_helpers.mjs';
import { workingTime } from './calendar_helpers.mjs';

const YEAR = todayShanghai().slice(0, 4);
const PHONE = '13812341234';
const MASKED = '138****1234';

let d;
let C; // this file's district (demo units, grids and the imported list)
let B; // another district (demo units, no list)
let tk; // tokens by name (calls_helpers' callsWorld)
let items; // item code -> id

const w = {};
const { create, created, call, act } = callsApi(w);
// This district has no calendar: working days are Monday to Friday, 08:30–12:00 and 13:30–17:30.
const wt = workingTime();

before(async () => {
  d = await startDaemon();
  Object.assign(w, await callsWorld(d, 'CL'));
  ({ C, B, tk, items } = w);
});
after(async () => { await d.stop(); });

const ids = {}; // calls and orders made along the way

describe('creating calls', () => {
  test('a township calls for ZRZY-01: 201, Location, ETag "1", dispatched to the lead and the cooperating departments', async () => {
    const reportedAt = at8(Date.now() - HOUR);
    const body = {
      title: '连城村北侧耕地有人硬化地面',
      description: '村民反映有人在耕地上浇筑水泥地面，疑似建设厂房。',
      urgency: 'urgent',
      item_code: 'ZRZY-01',
      grid_code: 'G-NCS-01',
      location: { address: '南长山街道连城村北', lat: 37.92, lon: 120.74 },
      reporter: { name: '王某', phone: PHONE },
      attachments: [{ url: 'https://files.example.cn/a/1.jpg', name: '现场照片' }],
      reported_at: reportedAt,
    };
    const r = await create('township', body);
    assert.equal(r.status, 201, r.text);
    const c = r.json;
    ids.call1 = c.id;
    assert.equal(r.headers.location, `/v1/calls/${c.id}`);
    assert.equal(r.headers.etag, '"1"');
    assert.match(c.number, new RegExp(`^HY-${YEAR}-\\d{6}$`));
    assert.equal(c.number, `HY-${YEAR}-000001`, 'the first call of a fresh district');
    const grid = psql(`select id from huying.grids where district_id = ${C.id} and code = 'G-NCS-01'`);
    assert.deepEqual({ ...c, id: 0, number: 0, created_at: 0, updated_at: 0, orders: 0 }, {
      id: 0, number: 0, district_id: C.id, township_id: C.unit('TS-NCS'), item_id: items.get('ZRZY-01'), item_revision: 1,
      scenario_id: null, title: body.title, description: body.description, urgency: 'urgent', source: 'township',
      grid_id: Number(grid), location: body.location, reporter: body.reporter, attachments: body.attachments,
      external_ref: null, status: 'dispatched', duplicate_of: null, reported_at: reportedAt, closed_at: null, version: 1,
      created_at: 0, updated_at: 0, orders: 0,
    });
    assert.equal(c.created_at, c.updated_at);
    const t0 = ms(c.created_at);
    assert.ok(Math.abs(t0 - Date.now()) < 5 * 60 * 1000, `created_at ${c.created_at} is now`);
    // the orders: the lead first, then the cooperating departments of items.csv
    assert.equal(c.orders.length, 3, JSON.stringify(c.orders));
    assert.deepEqual([c.orders[0].department_id, c.orders[0].role], [C.unit('CD-ZRZY'), 'lead']);
    assert.deepEqual(c.orders.slice(1).map((o) => [o.department_id, o.role]).sort(),
      [[C.unit('CD-ZF'), 'cooperating'], [C.unit('CD-ZJ'), 'cooperating']].sort());
    for (const o of c.orders) {
      assert.deepEqual({ ...o, id: 0, department_id: 0, role: 0, accept_by: 0, resolve_by: 0, created_at: 0 }, {
        id: 0, call_id: c.id, department_id: 0, role: 0, status: 'dispatched', accept_by: 0, resolve_by: 0,
        accepted_at: null, resolved_at: null, plan: null, resolution: null, rework_of: null, overdue: false,
        return_pending: false, version: 1, created_at: 0,
      });
      assert.equal(o.created_at, c.created_at);
      // urgent: accept within 2 h wall-clock, resolve within min(3, the item's 15) working days
      assert.equal(ms(o.accept_by) - t0, 2 * HOUR, `accept_by ${o.accept_by} vs created_at ${c.created_at}`);
      assert.equal(ms(o.resolve_by), wt.addDays(t0, 3), `resolve_by ${o.resolve_by}`);
      assert.match(o.resolve_by, /T17:30:00\+08:00$/);
    }
    ids.orders1 = {
      lead: c.orders[0].id,
      zf: c.orders.find((o) => o.department_id === C.unit('CD-ZF')).id,
      zj: c.orders.find((o) => o.department_id === C.unit('CD-ZJ')).id,
    };
    const g = await get(d, r.headers.location, { token: tk.township });
    assert.equal(g.status, 200, g.text);
    assert.equal(g.headers.etag, '"1"');
    assert.deepEqual(g.json, c);
  });

  test('a call without an item waits in triage, without orders', async () => {
    const c = await created('township', { title: '海边有不明漂浮物' });
    ids.noItem = c.id;
    assert.deepEqual([c.status, c.item_id, c.item_revision, c.orders, c.urgency, c.source, c.number],
      ['triage', null, null, [], 'normal', 'township', `HY-${YEAR}-000002`]);
  });

  test('a call for STHJ-04 (no lead department) waits in triage, without orders', async () => {
    const c = await created('township', { title: '岸滩垃圾成片堆积', item_code: 'STHJ-04' });
    assert.deepEqual([c.status, c.item_id, c.item_revision, c.orders], ['triage', items.get('STHJ-04'), 1, []]);
  });

  test('triage: true keeps a call with a lead department in triage', async () => {
    const c = await created('township', { title: '疑似违法占地，需区级研判', item_id: items.get('ZRZY-01'), triage: true });
    assert.deepEqual([c.status, c.item_id, c.orders], ['triage', items.get('ZRZY-01'), []]);
  });

  test('the district office calls for a township it names (township_code): normal urgency, 1 / the item\'s 15 working days', async () => {
    const c = await created('district', { title: '区级巡查发现违法占地', item_code: 'ZRZY-01', township_code: 'TS-BCS' });
    ids.districtCall = c.id;
    assert.deepEqual([c.township_id, c.source, c.status, c.urgency, c.orders.length],
      [C.unit('TS-BCS'), 'district', 'dispatched', 'normal', 3]);
    const t0 = ms(c.created_at);
    for (const o of c.orders) {
      assert.equal(ms(o.accept_by), wt.addDays(t0, 1), o.accept_by);
      assert.equal(ms(o.resolve_by), wt.addDays(t0, 15), o.resolve_by);
    }
    ids.districtLead = c.orders.find((o) => o.role === 'lead').id;
    // by id too; and without any township: 422 naming township_id
    const byId = await created('district', { title: '区级巡查（按编号）', township_id: C.unit('TS-TJ') });
    assert.deepEqual([byId.township_id, byId.status], [C.unit('TS-TJ'), 'triage']);
    expect422(await create('district', { title: '没有乡镇' }), 'township_id');
    expect422(await create('district', { title: '别区乡镇', township_id: B.unit('TS-NCS') }), 'township_id');
  });

  test('a township naming a township (its own or another) → 422 township_id', async () => {
    expect422(await create('township', { title: '指定乡镇', township_id: C.unit('TS-BCS') }), 'township_id');
    expect422(await create('township', { title: '指定本乡镇', township_id: C.unit('TS-NCS') }), 'township_id');
  });

  test('an unknown item_code → 422 naming item_code; an unknown item_id → 422 naming item_id', async () => {
    expect422(await create('township', { title: '未知事项', item_code: 'ZRZY-99' }), 'item_code');
    expect422(await create('township', { title: '未知事项', item_id: 999999999 }), 'item_id');
  });

  test('an http (not https) attachment → 422 naming attachments', async () => {
    expect422(await create('township', { title: '附件', attachments: [{ url: 'http://files.example.cn/1.jpg' }] }), 'attachments');
  });

  test('an unknown field (status) → 422 naming it; a title of 201 characters → 422 naming title', async () => {
    expect422(await create('township', { title: '状态', status: 'resolved' }), 'status');
    expect422(await create('township', { title: '题'.repeat(201) }), 'title');
    const ok = await created('township', { title: '题'.repeat(200) });
    assert.equal(ok.title.length, 200);
    expect422(await create('township', {}), 'title');
  });

  test('external_ref from a township → 422 naming external_ref', async () => {
    expect422(await create('township', { title: '外部编号', external_ref: { id: 'X-1' } }), 'external_ref');
  });

  test('a department may not create calls: 403', async () => {
    expectProblem(await create('department', { title: '部门呼叫' }), 403);
  });

  test('integration posts a ticket: 201; posting it again → 200 with the same call; another district, same ticket → its own call', async () => {
    const body = { title: '12345热线：村内私搭乱建', township_code: 'TS-NCS', item_code: 'ZRZY-01', external_ref: { id: 'T-0001' },
      reporter: { name: '李某', phone: '13900001111' } };
    const r = await create('integration', body);
    assert.equal(r.status, 201, r.text);
    const c = r.json;
    ids.hotline = c.id;
    assert.deepEqual([c.source, c.external_ref, c.status, c.township_id], ['hotline', { system: '89000', id: 'T-0001' }, 'dispatched', C.unit('TS-NCS')]);
    const again = await create('integration', body);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.headers.location, `/v1/calls/${c.id}`);
    assert.equal(again.json.id, c.id);
    assert.deepEqual(again.json, c);
    // the same ticket with the system spelled out, and a different title: still that call
    const spelled = await create('integration', { ...body, title: '同一工单', external_ref: { system: '89000', id: 'T-0001' } });
    assert.equal(spelled.status, 200, spelled.text);
    assert.equal(spelled.json.id, c.id);
    // another system's name → 422
    expect422(await create('integration', { ...body, external_ref: { system: '89001', id: 'T-0001' } }), 'external_ref');
    // district B's hotline, the same ticket number: a call of B
    const b = await create('bIntegration', { title: '12345热线（B区）', township_code: 'TS-NCS', external_ref: { id: 'T-0001' } });
    assert.equal(b.status, 201, b.text);
    assert.notEqual(b.json.id, c.id);
    assert.deepEqual([b.json.district_id, b.json.township_id, b.json.external_ref], [B.id, B.unit('TS-NCS'), { system: '89000', id: 'T-0001' }]);
    ids.bCall = b.json.id;
    assert.equal(psql(`select count(*) from huying.calls where district_id in (${C.id}, ${B.id}) and external_id = 'T-0001'`), '2');
  });

  test('Idempotency-Key: a replay answers the same with Idempotency-Replayed: true and makes one call; another body → 422', async () => {
    const key = 'calls-idem-0001';
    const body = { title: '幂等测试呼叫', urgency: 'emergency' };
    const r1 = await create('township', body, { headers: { 'idempotency-key': key } });
    assert.equal(r1.status, 201, r1.text);
    assert.equal(r1.headers['idempotency-replayed'], undefined);
    const r2 = await create('township', body, { headers: { 'idempotency-key': key } });
    assert.equal(r2.status, 201, r2.text);
    assert.equal(r2.headers['idempotency-replayed'], 'true');
    assert.equal(r2.headers.location, r1.headers.location);
    assert.equal(r2.headers.etag, r1.headers.etag);
    assert.deepEqual(r2.json, r1.json);
    assert.equal(psql(`select count(*) from huying.calls where district_id = ${C.id} and title = '幂等测试呼叫'`), '1');
    const r3 = await create('township', { ...body, urgency: 'normal' }, { headers: { 'idempotency-key': key } });
    expect422(r3, 'Idempotency-Key');
    assert.equal(psql(`select count(*) from huying.calls where district_id = ${C.id} and title = '幂等测试呼叫'`), '1');
  });
});

describe('who sees which call', () => {
  test('the township sees its call; another township gets 404', async () => {
    const a = await call(ids.call1, 'township');
    assert.equal(a.status, 200, a.text);
    assert.equal(a.json.reporter.phone, PHONE);
    assert.equal(a.json.orders.length, 3, 'a township sees every order of its call');
    expectProblem(await call(ids.call1, 'township2'), 404);
    const list = await listAll(d, '/v1/calls', tk.township2);
    assert.ok(list.every((x) => x.township_id === C.unit('TS-BCS')), JSON.stringify(list.map((x) => x.township_id)));
    assert.ok(list.some((x) => x.id === ids.districtCall), 'TS-BCS sees the call the district made for it');
    assert.ok(!list.some((x) => x.id === ids.call1));
  });

  test('the lead department sees the call with the phone masked and only its own order', async () => {
    const r = await call(ids.call1, 'department');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, '"1"');
    assert.deepEqual(r.json.reporter, { name: '王某', phone: MASKED });
    assert.deepEqual(r.json.orders.map((o) => [o.id, o.department_id, o.role]), [[ids.orders1.lead, C.unit('CD-ZRZY'), 'lead']]);
    // a cooperating department: its own order only
    const zf = await call(ids.call1, 'zf');
    assert.equal(zf.status, 200, zf.text);
    assert.deepEqual(zf.json.orders.map((o) => o.id), [ids.orders1.zf]);
    assert.equal(zf.json.reporter.phone, MASKED);
    // in the list too (rows carry orders with expand=orders)
    const list = await listAll(d, '/v1/calls?expand=orders', tk.department);
    const mine = list.find((x) => x.id === ids.call1);
    assert.ok(mine, 'the department lists the call');
    assert.equal(mine.reporter.phone, MASKED);
    assert.ok(list.every((x) => x.orders.length === 1 && x.orders[0].department_id === C.unit('CD-ZRZY')), 'only calls with an order to it');
    assert.ok(!list.some((x) => x.status === 'triage'));
  });

  test('a department without an order on the call → 404, and its list is empty', async () => {
    expectProblem(await call(ids.call1, 'hy'), 404);
    expectProblem(await get(d, `/v1/orders/${ids.orders1.lead}`, { token: tk.hy }), 404);
    assert.deepEqual(await listAll(d, '/v1/calls', tk.hy), []);
    assert.deepEqual(await listAll(d, '/v1/orders', tk.hy), []);
  });

  test("an integration sees only its system's calls", async () => {
    const list = await listAll(d, '/v1/calls', tk.integration);
    assert.deepEqual(list.map((x) => x.id), [ids.hotline]);
    assert.equal(list[0].reporter.phone, '13900001111');
    expectProblem(await call(ids.call1, 'integration'), 404);
    const h = await call(ids.hotline, 'integration');
    assert.equal(h.status, 200, h.text);
    assert.equal(h.json.orders.length, 3);
    // another system of the same district sees none of them
    assert.deepEqual(await listAll(d, '/v1/calls', tk.integration2), []);
    expectProblem(await call(ids.hotline, 'integration2'), 404);
  });

  test('the district office sees every call of its district, newest first', async () => {
    const all = await listAll(d, '/v1/calls?expand=orders', tk.district);
    const n = Number(psql(`select count(*) from huying.calls where district_id = ${C.id}`));
    assert.equal(all.length, n);
    for (const id of [ids.call1, ids.noItem, ids.districtCall, ids.hotline]) assert.ok(all.some((x) => x.id === id), `call ${id}`);
    assert.ok(!all.some((x) => x.id === ids.bCall));
    const sorted = all.map((x) => x.id);
    assert.deepEqual(sorted, [...sorted].sort((a, b) => b - a));
    const c1 = all.find((x) => x.id === ids.call1);
    assert.equal(c1.reporter.phone, PHONE);
    assert.equal(c1.orders.length, 3);
    // filters
    const triage = await listAll(d, '/v1/calls?status=triage', tk.district);
    assert.ok(triage.length >= 3 && triage.every((x) => x.status === 'triage'));
    const urgent = await listAll(d, '/v1/calls?urgency=urgent', tk.district);
    assert.deepEqual(urgent.map((x) => x.id), [ids.call1]);
    const hot = await listAll(d, '/v1/calls?source=hotline', tk.district);
    assert.deepEqual(hot.map((x) => x.id), [ids.hotline]);
  });

  test('another district → 404 (a call, an order), and its lists hold none of ours', async () => {
    expectProblem(await call(ids.call1, 'bDistrict'), 404);
    expectProblem(await call(ids.call1, 'bTownship'), 404);
    expectProblem(await get(d, `/v1/orders/${ids.orders1.lead}`, { token: tk.bDistrict }), 404);
    const list = await listAll(d, '/v1/calls', tk.bDistrict);
    assert.deepEqual(list.map((x) => x.id), [ids.bCall]);
    expectProblem(await call(ids.bCall, 'district'), 404);
  });
});

describe('the inbox and the orders', () => {
  test("GET /v1/orders?status=dispatched: the department's orders, newest first; limit=1 walks them all", async () => {
    const all = await listAll(d, '/v1/orders?status=dispatched', tk.department);
    assert.ok(all.length >= 3, `the lead orders of call1, the district's call and the hotline's: ${all.length}`);
    assert.ok(all.every((o) => o.department_id === C.unit('CD-ZRZY') && o.status === 'dispatched' && o.role === 'lead'));
    assert.ok(all.some((o) => o.id === ids.orders1.lead && o.call_id === ids.call1));
    assert.ok(all.some((o) => o.id === ids.districtLead));
    const seq = all.map((o) => o.id);
    assert.deepEqual(seq, [...seq].sort((a, b) => b - a), 'newest first');
    const walked = [];
    let cursor = null;
    for (let i = 0; i < 20; i++) {
      const r = await get(d, `/v1/orders?status=dispatched&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: tk.department });
      assert.equal(r.status, 200, r.text);
      assert.ok(r.json.data.length <= 1);
      walked.push(...r.json.data.map((o) => o.id));
      cursor = r.json.next_cursor;
      if (!cursor) break;
    }
    assert.equal(cursor, null);
    assert.deepEqual(walked, seq);
    // GET one; the township sees the orders of its call, the district all of them
    const one = await get(d, `/v1/orders/${ids.orders1.lead}`, { token: tk.department });
    assert.equal(one.status, 200, one.text);
    assert.equal(one.headers.etag, '"1"');
    assert.deepEqual([one.json.call_id, one.json.status], [ids.call1, 'dispatched']);
    const twp = await listAll(d, `/v1/orders?call_id=${ids.call1}`, tk.township);
    assert.deepEqual(twp.map((o) => o.id).sort((a, b) => a - b), Object.values(ids.orders1).sort((a, b) => a - b));
    assert.deepEqual(await listAll(d, `/v1/orders?call_id=${ids.call1}`, tk.township2), []);
    const dist = await listAll(d, `/v1/orders?department_id=${C.unit('CD-ZF')}`, tk.district);
    assert.ok(dist.some((o) => o.id === ids.orders1.zf) && dist.every((o) => o.department_id === C.unit('CD-ZF')));
  });

  test('the lead department accepts: 200, accepted, version 2; again → 409 current_status accepted', async () => {
    const r = await act('department', ids.orders1.lead, 'accept', {});
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, '"2"');
    assert.deepEqual([r.json.id, r.json.status, r.json.version, r.json.resolved_at], [ids.orders1.lead, 'accepted', 2, null]);
    assert.ok(Math.abs(ms(r.json.accepted_at) - Date.now()) < 5 * 60 * 1000, r.json.accepted_at);
    const again = await act('department', ids.orders1.lead, 'accept', undefined);
    expectProblem(again, 409);
    assert.equal(again.json.current_status, 'accepted', again.text);
    const g = await get(d, `/v1/orders/${ids.orders1.lead}`, { token: tk.district });
    assert.deepEqual(g.json, r.json);
    // the call is still dispatched
    assert.equal((await call(ids.call1)).json.status, 'dispatched');
  });

  test('a stale If-Match → 412; a township → 403; another department → 404; a body field → 422', async () => {
    expectProblem(await act('zf', ids.orders1.zf, 'accept', {}, { headers: { 'if-match': '"9"' } }), 412);
    expectProblem(await act('township', ids.orders1.zf, 'accept', {}), 403);
    expectProblem(await act('district', ids.orders1.zf, 'accept', {}), 403);
    expectProblem(await act('integration', ids.orders1.zf, 'resolve', { resolution: '已处置' }), 403);
    expectProblem(await act('department', ids.orders1.zf, 'accept', {}), 404);
    expectProblem(await act('hy', ids.orders1.zf, 'resolve', { resolution: '已处置' }), 404);
    expect422(await act('zf', ids.orders1.zf, 'accept', { plan: '明日到场' }), 'plan');
    expect422(await act('zf', ids.orders1.zf, 'resolve', {}), 'resolution');
    const g = await get(d, `/v1/orders/${ids.orders1.zf}`, { token: tk.zf });
    assert.deepEqual([g.json.status, g.json.version], ['dispatched', 1], 'nothing changed');
  });

  test('a cooperating department resolves from dispatched: 200 resolved; the call stays dispatched', async () => {
    const key = { 'if-match': '"1"', 'idempotency-key': 'resolve-zf-1' };
    const r = await act('zf', ids.orders1.zf, 'resolve', { resolution: '已协助拆除硬化地面。' }, { headers: key });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.json.status, r.json.resolution, r.json.version], ['resolved', '已协助拆除硬化地面。', 2]);
    assert.ok(r.json.accepted_at && r.json.resolved_at, 'accepted implicitly');
    // a retry with the same Idempotency-Key gets the stored answer, not a 409
    const again = await act('zf', ids.orders1.zf, 'resolve', { resolution: '已协助拆除硬化地面。' }, { headers: key });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.headers['idempotency-replayed'], 'true');
    assert.deepEqual(again.json, r.json);
    expectProblem(await act('zf', ids.orders1.zf, 'resolve', { resolution: '再次' }), 409);
    assert.equal((await call(ids.call1)).json.status, 'dispatched');
  });

  test('the lead resolves from accepted: the call is still dispatched (CD-ZJ has not)', async () => {
    const r = await act('department', ids.orders1.lead, 'resolve', { resolution: '已责令停工并立案查处。' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.json.status, r.json.version], ['resolved', 3]);
    const c = (await call(ids.call1)).json;
    assert.deepEqual([c.status, c.version], ['dispatched', 1]);
    // the department that is done still sees the call, with its own order only
    const mine = await call(ids.call1, 'department');
    assert.equal(mine.status, 200, mine.text);
    assert.deepEqual(mine.json.orders.map((o) => [o.id, o.status]), [[ids.orders1.lead, 'resolved']]);
  });

  test('the last live order resolved → the call is resolved', async () => {
    const r = await act('zj', ids.orders1.zj, 'resolve', { resolution: '已核查无在建工程。' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, 'resolved');
    const g = await call(ids.call1);
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.status, 'resolved');
    assert.equal(g.json.version, 2);
    assert.equal(g.headers.etag, '"2"');
    assert.ok(g.json.orders.every((o) => o.status === 'resolved'));
    const t = await call(ids.call1, 'township');
    assert.equal(t.json.status, 'resolved');
    const resolved = await listAll(d, '/v1/calls?status=resolved', tk.district);
    assert.deepEqual(resolved.map((x) => x.id), [ids.call1]);
  });

  test('the events, in order: call.created, call.dispatched, order.accepted, order.resolved, call.resolved', () => {
    const { lead, zf, zj } = ids.orders1;
    const out = psql(`select type || '|' || subject_type || '|' || subject_id from huying.events
      where district_id = ${C.id} and ((subject_type = 'call' and subject_id = ${ids.call1})
        or (subject_type = 'order' and subject_id in (${lead}, ${zf}, ${zj})))
      order by id`);
    assert.deepEqual(out.split('\n'), [
      `call.created|call|${ids.call1}`,
      `call.dispatched|call|${ids.call1}`,
      `order.accepted|order|${lead}`,
      `order.accepted|order|${zf}`, // implicit
      `order.resolved|order|${zf}`,
      `order.resolved|order|${lead}`,
      `order.accepted|order|${zj}`, // implicit
      `order.resolved|order|${zj}`,
      `call.resolved|call|${ids.call1}`,
    ]);
  });
});

describe('body checks found by probing', () => {
  test('a malformed reported_at → 422 naming reported_at (not a 400)', async () => {
    expect422(await create('township', { title: '时间', reported_at: 'not a date at all!!!!' }), 'reported_at');
    expect422(await create('township', { title: '时间', reported_at: '2026-13-45T00:00:00Z' }), 'reported_at');
  });

  test('township_id and township_code together → 422 naming township_code', async () => {
    expect422(await create('district', { title: '两个乡镇', township_id: C.unit('TS-NCS'), township_code: 'TS-BCS' }), 'township_code');
  });

  test('reporter.phone and attachments[].name must be strings → 422', async () => {
    expect422(await create('township', { title: '电话', reporter: { phone: 13812341234 } }), 'reporter');
    expect422(await create('township', { title: '附件名', attachments: [{ url: 'https://files.example.cn/1.jpg', name: 5 }] }), 'attachments');
  });
});
