// Satisfaction ratings (满意度评价) (issue 6, DESIGN §5 "Satisfaction and scores"; who sees
// what: §4): the township of a call rates each resolved order of it once, on response speed
// and handling effectiveness (integers 1..5) with an optional comment (1..1000 characters).
// The rating answers 201 with the rating and Location /v1/orders/{id}/rating and writes the
// event order.rated on the order (data {call_id, rating_id, speed, effectiveness}; the actor
// is the township unit, its person `sub` shown only to the district office). Twice → 409
// with rating_id, before resolution → 409 with current_status, another township → 404, any
// other role → 403, bad bodies → 422 naming the field, the Idempotency-Key replays the 201.
// Reading: the district office all ratings, a department those of its own orders, a township
// those it gave (GET /v1/orders/{id}/rating and GET /v1/ratings with filters and keyset
// paging, newest first); an integration may not use the routes; the rater's person appears
// nowhere in what a department or a township reads.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { expectProblem, get, post, psql, startDaemon, tokenFor } from './lib.mjs';
import { callsApi, callsWorld, eventCount, expect409, expect422, ms } from './calls_helpers.mjs';
import { addDays, todayShanghai } from './list_helpers.mjs';

const w = {};
const api = callsApi(w);
const { act, created, dispatchedCall } = api;
let d;
let C;

// The persons behind the two townships' tokens: they must never reach a department or a
// township.
const RATER = 'person:rater-ncs-zhang';
const RATER2 = 'person:rater-bcs-li';

before(async () => {
  d = await startDaemon({ HUYING_SWEEP_INTERVAL_MS: 0 });
  Object.assign(w, await callsWorld(d, 'RA'));
  ({ C } = w);
  // the townships rate with tokens naming a person
  w.tk.township = tokenFor(d, C, 'township', { sub: RATER });
  w.tk.township2 = tokenFor(d, C, 'township', { unit_id: C.unit('TS-BCS'), sub: RATER2 });
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
const rate = (who, orderId, body, opts = {}) => post(d, `/v1/orders/${orderId}/rating`, body, { token: tok(who), ...opts });
const rating = (who, orderId) => get(d, `/v1/orders/${orderId}/rating`, { token: tok(who) });
const ratings = (who, query = '') => get(d, `/v1/ratings${query ? `?${query}` : ''}`, { token: tok(who) });
const ids = (list) => list.map((x) => x.id);
const ratingsOf = (orderId) => Number(psql(`select count(*) from huying.ratings where order_id = ${Number(orderId)}`));
const ratedEvents = (orderId) => eventCount('order.rated', 'order', orderId);
// The events of a call as who reads them, oldest first.
async function events(who, callId) {
  const r = await get(d, `/v1/calls/${callId}/events?limit=200`, { token: tok(who) });
  assert.equal(r.status, 200, r.text);
  return r.json.data;
}
const unitName = (id) => psql(`select name from huying.units where id = ${Number(id)}`);
// A rating as the API writes it, with its id and created_at taken from r.
const expected = (r, fields) => ({ id: r.id, created_at: r.created_at, comment: null, ...fields });

// A resolved ZRZY-01 call of who (township or township2): {call, lead, zf, zj}, every order
// resolved by its department.
async function resolvedCall(title, who = 'township') {
  const x = await dispatchedCall(title, who);
  ok(await act('department', x.lead, 'resolve', { resolution: '已依法查处' }));
  ok(await act('zf', x.zf, 'resolve', { resolution: '已配合执法' }));
  ok(await act('zj', x.zj, 'resolve', { resolution: '已配合核查' }));
  return x;
}

describe('rating an order', () => {
  const s = {};

  test('the township rates a resolved order: 201, the rating exactly, Location; GET answers the same', async () => {
    const x = await dispatchedCall('评价：已办结');
    ok(await act('department', x.lead, 'resolve', { resolution: '已拆除复耕' }));
    Object.assign(s, { call: x.call.id, lead: x.lead, zf: x.zf, zj: x.zj });
    const t0 = Date.now();
    const r = await rate('township', x.lead, { speed: 5, effectiveness: 4, comment: '到场及时，处理到位。' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers.location, `/v1/orders/${x.lead}/rating`);
    assert.ok(Number.isSafeInteger(r.json.id) && r.json.id > 0);
    assert.deepEqual(r.json, {
      id: r.json.id, order_id: x.lead, call_id: x.call.id, department_id: C.unit('CD-ZRZY'), township_id: C.unit('TS-NCS'),
      speed: 5, effectiveness: 4, comment: '到场及时，处理到位。', created_at: r.json.created_at,
    });
    assert.ok(Math.abs(ms(r.json.created_at) - t0) < 5 * 60 * 1000);
    s.rating = r.json;
    // the order itself does not change: still resolved
    const o = ok(await api.order(x.lead));
    assert.equal(o.status, 'resolved');
    for (const who of ['township', 'department', 'district']) assert.deepEqual(ok(await rating(who, x.lead)), r.json, who);
    // as stored: the person kept for audit, never shown
    assert.equal(psql(`select rated_by_sub from huying.ratings where id = ${r.json.id}`), RATER);
  });

  test('the event order.rated on the order, in the call\'s timeline; the actor the township unit, sub for the district only', async () => {
    const tl = await events('district', s.call);
    assert.deepEqual(tl.map((e) => `${e.subject.type}:${e.type}`), [
      'call:call.created', 'call:call.dispatched', 'order:order.accepted', 'order:order.resolved', 'order:order.rated',
    ]);
    const ev = tl.at(-1);
    assert.deepEqual(ev.subject, { type: 'order', id: s.lead });
    assert.deepEqual(ev.data, { call_id: s.call, rating_id: s.rating.id, speed: 5, effectiveness: 4 });
    assert.deepEqual(ev.actor, { unit_id: C.unit('TS-NCS'), unit_name: unitName(C.unit('TS-NCS')), role: 'township', sub: RATER });
    assert.equal(ratedEvents(s.lead), 1);
    // the township and the department of the order see it without the person
    for (const who of ['township', 'department']) {
      const e = (await events(who, s.call)).find((x) => x.type === 'order.rated');
      assert.ok(e, who);
      const { sub, ...actor } = ev.actor;
      assert.deepEqual(e, { ...ev, actor }, who);
    }
    // another department of the call does not see the rating of the lead's order
    assert.ok(!(await events('zf', s.call)).some((e) => e.type === 'order.rated'));
  });

  test('twice → 409 with rating_id and current_status; nothing written', async () => {
    for (const body of [{ speed: 5, effectiveness: 4, comment: '到场及时，处理到位。' }, { speed: 1, effectiveness: 1 }]) {
      const r = await rate('township', s.lead, body);
      expect409(r, 'resolved');
      assert.equal(r.json.rating_id, s.rating.id, r.text);
    }
    assert.equal(ratingsOf(s.lead), 1);
    assert.equal(ratedEvents(s.lead), 1);
    assert.deepEqual(ok(await rating('district', s.lead)), s.rating);
  });

  test('before resolution → 409 with current_status (dispatched, accepted); cancelled, returned likewise; nothing written', async () => {
    expect409(await rate('township', s.zf, { speed: 5, effectiveness: 5 }), 'dispatched');
    ok(await act('zj', s.zj, 'accept', {}));
    expect409(await rate('township', s.zj, { speed: 5, effectiveness: 5 }), 'accepted');
    const y = await dispatchedCall('评价：撤销与退单');
    ok(await act('district', y.zf, 'cancel', { reason: '无需配合' }));
    expect409(await rate('township', y.zf, { speed: 3, effectiveness: 3 }), 'cancelled');
    const ret = ok(await post(d, `/v1/orders/${y.zj}/returns`, { reason: '非本部门职责' }, { token: tok('zj') }), 201);
    ok(await post(d, `/v1/returns/${ret.id}/uphold`, {}, { token: tok('district') }));
    expect409(await rate('township', y.zj, { speed: 3, effectiveness: 3 }), 'returned');
    for (const o of [s.zf, s.zj, y.zf, y.zj]) {
      assert.equal(ratingsOf(o), 0);
      assert.equal(ratedEvents(o), 0);
      expectProblem(await rating('district', o), 404);
    }
  });

  test('another township → 404, another district\'s township → 404, no such order → 404; other roles → 403', async () => {
    const body = { speed: 4, effectiveness: 4 };
    ok(await act('zf', s.zf, 'resolve', { resolution: '已配合' }));
    expectProblem(await rate('township2', s.zf, body), 404);
    expectProblem(await rate('bTownship', s.zf, body), 404);
    expectProblem(await rate('township', 999999999, body), 404);
    for (const who of ['department', 'zf', 'district', 'integration', 'bDistrict'])
      expectProblem(await rate(who, s.zf, body), 403, 'this role may not use this route');
    assert.equal(ratingsOf(s.zf), 0);
    assert.equal(ratedEvents(s.zf), 0);
  });

  test('bad bodies → 422 naming the field; nothing written', async () => {
    const o = s.zf; // resolved, not rated
    const good = { speed: 4, effectiveness: 3 };
    for (const field of ['speed', 'effectiveness']) {
      for (const v of [0, 6, -1, 4.5, '4', null, true, [4], { v: 4 }]) expect422(await rate('township', o, { ...good, [field]: v }), field);
      const { [field]: _, ...missing } = good;
      expect422(await rate('township', o, missing), field);
    }
    expect422(await rate('township', o, { ...good, comment: '' }), 'comment');
    expect422(await rate('township', o, { ...good, comment: '很'.repeat(1001) }), 'comment');
    expect422(await rate('township', o, { ...good, comment: 5 }), 'comment');
    expect422(await rate('township', o, { ...good, rated_by: 'x' }), 'rated_by');
    expect422(await rate('township', o, { ...good, order_id: o }), 'order_id');
    expect422(await rate('township', o, { ...good, township_id: C.unit('TS-BCS') }), 'township_id');
    expectProblem(await post(d, `/v1/orders/${o}/rating`, '{"speed":4,', { token: tok('township'), headers: { 'content-type': 'application/json' } }), 400);
    assert.equal(ratingsOf(o), 0);
    assert.equal(ratedEvents(o), 0);
  });

  test('the bounds: 1 and 5, a comment of 1000 characters (not bytes), no comment → null', async () => {
    const x = await resolvedCall('评价：边界');
    const a = ok(await rate('township', s.zf, { speed: 1, effectiveness: 5, comment: '很'.repeat(1000) }), 201);
    assert.deepEqual([a.speed, a.effectiveness, a.comment.length], [1, 5, 1000]);
    const b = ok(await rate('township', x.zj, { speed: 5, effectiveness: 1 }), 201);
    assert.deepEqual(b, expected(b, { order_id: x.zj, call_id: x.call.id, department_id: C.unit('CD-ZJ'), township_id: C.unit('TS-NCS'),
      speed: 5, effectiveness: 1 }));
  });

  test('Idempotency-Key: the replay answers the same 201 once; another body with the key → 422', async () => {
    const x = await resolvedCall('评价：幂等');
    const h = { 'Idempotency-Key': `ra-${Date.now()}` };
    const body = { speed: 3, effectiveness: 4, comment: '基本满意' };
    const a = await rate('township', x.lead, body, { headers: h });
    assert.equal(a.status, 201, a.text);
    const b = await rate('township', x.lead, body, { headers: h });
    assert.equal(b.status, 201, b.text);
    assert.equal(b.headers['idempotency-replayed'], 'true');
    assert.equal(b.headers.location, `/v1/orders/${x.lead}/rating`);
    assert.deepEqual(b.json, a.json);
    expect422(await rate('township', x.lead, { ...body, speed: 4 }, { headers: h }), 'Idempotency-Key');
    // without the key the second rating is a conflict
    const c = await rate('township', x.lead, body);
    expect409(c, 'resolved');
    assert.equal(c.json.rating_id, a.json.id);
    assert.equal(ratingsOf(x.lead), 1);
    assert.equal(ratedEvents(x.lead), 1);
  });
});

describe('reading ratings', () => {
  // A world of its own: calls of township A (NCS) and B (BCS), resolved, rated by each.
  const v = {};
  before(async () => {
    v.a = await resolvedCall('评价可见：南长山');
    v.b = await resolvedCall('评价可见：北长山', 'township2');
    v.ra = ok(await rate('township', v.a.lead, { speed: 5, effectiveness: 5, comment: '非常满意' }), 201); // ZRZY, NCS
    v.rz = ok(await rate('township', v.a.zf, { speed: 2, effectiveness: 3 }), 201); // ZF, NCS
    v.rb = ok(await rate('township2', v.b.lead, { speed: 4, effectiveness: 2, comment: '效果一般' }), 201); // ZRZY, BCS
    v.rj = ok(await rate('township2', v.b.zj, { speed: 3, effectiveness: 5 }), 201); // ZJ, BCS
    v.calls = [v.a.call.id, v.b.call.id];
  });
  // The ratings of this world's calls a token lists (every page), newest first.
  async function listed(who, query = '') {
    const out = [];
    let cursor = null;
    for (let i = 0; i < 50; i++) {
      const r = await ratings(who, `${query}${query ? '&' : ''}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(r.status, 200, r.text);
      out.push(...r.json.data);
      cursor = r.json.next_cursor;
      if (!cursor) return out;
    }
    throw new Error('too many pages');
  }
  const mine = (list) => list.filter((x) => v.calls.includes(x.call_id));

  test('the single rating: the district all; the department of the order; the township that gave it; others 404, integration 403', async () => {
    const cases = [
      [v.ra, v.a.lead, ['district', 'department', 'township'], ['zf', 'zj', 'hy', 'township2', 'bDistrict']],
      [v.rz, v.a.zf, ['district', 'zf', 'township'], ['department', 'zj', 'township2', 'bDistrict']],
      [v.rb, v.b.lead, ['district', 'department', 'township2'], ['zf', 'zj', 'township', 'bDistrict']],
      [v.rj, v.b.zj, ['district', 'zj', 'township2'], ['department', 'zf', 'township', 'bDistrict']],
    ];
    for (const [r, orderId, yes, no] of cases) {
      for (const who of yes) assert.deepEqual(ok(await rating(who, orderId)), r, `${who} reads ${orderId}`);
      for (const who of no) expectProblem(await rating(who, orderId), 404);
      for (const who of ['integration', 'integration2', 'bIntegration'])
        expectProblem(await rating(who, orderId), 403, 'this role may not use this route');
    }
    // a resolved order not rated: 404 for everyone who sees the order
    for (const who of ['district', 'zj', 'township']) expectProblem(await rating(who, v.a.zj), 404);
    expectProblem(await rating('district', 999999999), 404);
  });

  test('the lists: the district all, a department its orders\', a township those it gave, newest first; integration 403', async () => {
    const all = [v.rj, v.rb, v.rz, v.ra];
    assert.deepEqual(mine(await listed('district')), all);
    assert.deepEqual(mine(await listed('department')), [v.rb, v.ra]);
    assert.deepEqual(mine(await listed('zf')), [v.rz]);
    assert.deepEqual(mine(await listed('zj')), [v.rj]);
    assert.deepEqual(mine(await listed('hy')), []);
    assert.deepEqual(mine(await listed('township')), [v.rz, v.ra]);
    assert.deepEqual(mine(await listed('township2')), [v.rj, v.rb]);
    assert.deepEqual(mine(await listed('bDistrict')), []);
    // what each lists is only what it may see, whatever the rest of the file wrote
    const dept = C.unit('CD-ZRZY');
    assert.ok((await listed('department')).every((x) => x.department_id === dept));
    assert.ok((await listed('zf')).every((x) => x.department_id === C.unit('CD-ZF')));
    assert.ok((await listed('township')).every((x) => x.township_id === C.unit('TS-NCS')));
    assert.ok((await listed('township2')).every((x) => x.township_id === C.unit('TS-BCS')));
    assert.equal((await listed('district')).length, Number(psql(`select count(*) from huying.ratings where district_id = ${C.id}`)));
    // a filter naming what the token may not see gives nothing
    assert.deepEqual(await listed('zf', `department_id=${dept}`), []);
    assert.deepEqual(await listed('township', `township_id=${C.unit('TS-BCS')}`), []);
    assert.deepEqual(await listed('department', `order_id=${v.a.zf}`), []);
    for (const who of ['integration', 'integration2', 'bIntegration'])
      expectProblem(await ratings(who), 403, 'this role may not use this route');
  });

  test('the rater\'s person appears nowhere in what a department or a township reads', async () => {
    for (const who of ['department', 'zf', 'zj', 'township', 'township2']) {
      const texts = [(await ratings(who, 'limit=200')).text];
      for (const o of [v.a.lead, v.a.zf, v.b.lead, v.b.zj]) texts.push((await rating(who, o)).text);
      for (const c of v.calls) texts.push((await get(d, `/v1/calls/${c}/events?limit=200`, { token: tok(who) })).text);
      for (const t of texts) {
        assert.ok(!t.includes(RATER) && !t.includes(RATER2), `${who}: ${t.slice(0, 300)}`);
        assert.ok(!t.includes('rated_by'), `${who}: ${t.slice(0, 300)}`);
      }
    }
    // the district office reads the person in the events only, never in a rating
    const r = await ratings('district', 'limit=200');
    assert.ok(!r.text.includes(RATER) && !r.text.includes(RATER2));
    const ev = (await events('district', v.b.call.id)).filter((e) => e.type === 'order.rated');
    assert.deepEqual(ev.map((e) => [e.subject.id, e.actor.sub, e.actor.unit_id]),
      [[v.b.lead, RATER2, C.unit('TS-BCS')], [v.b.zj, RATER2, C.unit('TS-BCS')]]);
  });

  test('filters: department_id, township_id, call_id, order_id, from/to (Asia/Shanghai dates of the rating, inclusive)', async () => {
    const q = async (query) => mine(await listed('district', query));
    assert.deepEqual(await q(`department_id=${C.unit('CD-ZRZY')}`), [v.rb, v.ra]);
    assert.deepEqual(await q(`department_id=${C.unit('CD-ZJ')}`), [v.rj]);
    assert.deepEqual(await q(`department_id=${C.unit('CD-HY')}`), []);
    assert.deepEqual(await q(`township_id=${C.unit('TS-NCS')}`), [v.rz, v.ra]);
    assert.deepEqual(await q(`township_id=${C.unit('TS-BCS')}&department_id=${C.unit('CD-ZRZY')}`), [v.rb]);
    assert.deepEqual(await listed('district', `call_id=${v.a.call.id}`), [v.rz, v.ra]);
    assert.deepEqual(await listed('district', `order_id=${v.b.zj}`), [v.rj]);
    assert.deepEqual(await listed('district', `order_id=${v.a.zj}`), []);
    assert.deepEqual(await listed('township', `call_id=${v.b.call.id}`), []);
    // the dates: rb is moved to the last second of yesterday (Asia/Shanghai), ra to the first of today
    const today = todayShanghai();
    const yesterday = addDays(today, -1);
    psql(`update huying.ratings set created_at = '${today}T00:00:00+08:00'::timestamptz - interval '1 second' where id = ${v.rb.id};
          update huying.ratings set created_at = '${today}T00:00:00+08:00' where id = ${v.ra.id}`);
    const rb = ok(await rating('district', v.b.lead));
    const ra = ok(await rating('district', v.a.lead));
    assert.equal(rb.created_at, `${yesterday}T23:59:59+08:00`);
    assert.equal(ra.created_at, `${today}T00:00:00+08:00`);
    assert.deepEqual(await q(`from=${today}`), [v.rj, v.rz, ra]);
    assert.deepEqual(await q(`from=${today}&to=${today}`), [v.rj, v.rz, ra]);
    assert.deepEqual(await q(`to=${yesterday}`), [rb]);
    assert.deepEqual(await q(`from=${yesterday}&to=${yesterday}`), [rb]);
    assert.deepEqual(await q(`from=${yesterday}`), [v.rj, rb, v.rz, ra]);
    assert.deepEqual(await q(`from=${addDays(today, 1)}`), []);
    assert.deepEqual(await q(`to=${addDays(yesterday, -1)}`), []);
    assert.deepEqual(await q(`from=${today}&to=${yesterday}`), []);
    assert.deepEqual(await q(`from=${yesterday}&department_id=${C.unit('CD-ZRZY')}&township_id=${C.unit('TS-BCS')}`), [rb]);
    Object.assign(v, { ra, rb });
  });

  test('paging: limit walks the list newest first with next_cursor, the filters kept', async () => {
    const all = mine(await listed('district'));
    for (const [who, query] of [['district', `call_id=${v.a.call.id}`], ['district', ''], ['department', ''], ['township2', '']]) {
      const want = query ? await listed(who, query) : await listed(who);
      const got = [];
      let cursor = null;
      let pages = 0;
      do {
        const r = await ratings(who, `${query}${query ? '&' : ''}limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(r.status, 200, r.text);
        assert.ok(r.json.data.length <= 1);
        got.push(...r.json.data);
        cursor = r.json.next_cursor;
        pages++;
      } while (cursor && pages < 500);
      assert.deepEqual(got, want, `${who} ${query}`);
      assert.equal(pages, want.length, 'no empty last page');
    }
    assert.deepEqual(all.map((x) => x.id), [...all.map((x) => x.id)].sort((a, b) => b - a), 'newest first');
    const page = ok(await ratings('district', `call_id=${v.b.call.id}&limit=1`));
    assert.deepEqual(ids(page.data), [v.rj.id]);
    assert.equal(typeof page.next_cursor, 'string');
    const rest = ok(await ratings('district', `call_id=${v.b.call.id}&limit=1&cursor=${encodeURIComponent(page.next_cursor)}`));
    assert.deepEqual(rest, { data: [v.rb], next_cursor: null });
    assert.deepEqual(ok(await ratings('district', `call_id=${v.b.call.id}&limit=2`)), { data: [v.rj, v.rb], next_cursor: null });
  });

  test('bad filters → 422 naming the parameter; a cursor not ours → 400', async () => {
    const bad = [
      ['department_id=x', 'department_id'], ['department_id=0', 'department_id'], ['department_id=-1', 'department_id'],
      ['department_id=', 'department_id'], ['township_id=1.5', 'township_id'], ['call_id=HY-1', 'call_id'], ['order_id=01', 'order_id'],
      ['from=2026-13-01', 'from'], ['from=2026-02-30', 'from'], ['from=yesterday', 'from'], ['from=', 'from'],
      ['to=2026-1-5', 'to'], ['to=2026-01-05T00:00:00%2B08:00', 'to'],
      ['limit=0', 'limit'], ['limit=201', 'limit'], ['limit=x', 'limit'], ['status=open', 'status'], ['speed=5', 'speed'],
    ];
    for (const [query, field] of bad) expect422(await ratings('district', query), field);
    expectProblem(await ratings('district', 'cursor=garbage!'), 400);
    expectProblem(await ratings('department', 'cursor=e30'), 400); // "{}"
  });
});

describe('a rating after the call moved on', () => {
  test('a closed call\'s orders can still be rated; a reopened call\'s old order too, and its rework order once resolved', async () => {
    const x = await resolvedCall('评价：重办');
    ok(await api.confirm('township', x.call.id, {}));
    ok(await rate('township', x.zf, { speed: 4, effectiveness: 4 }), 201);
    const re = ok(await post(d, `/v1/calls/${x.call.id}/reopen`, { reason: '问题反复' }, { token: tok('township') }));
    const rework = re.orders.find((o) => o.rework_of === x.lead);
    assert.ok(rework, JSON.stringify(re));
    expect409(await rate('township', rework.id, { speed: 2, effectiveness: 2 }), 'dispatched');
    ok(await rate('township', x.lead, { speed: 2, effectiveness: 1, comment: '问题未解决' }), 201);
    ok(await act('department', rework.id, 'resolve', { resolution: '重新处理完毕' }));
    const r = ok(await rate('township', rework.id, { speed: 5, effectiveness: 5 }), 201);
    assert.equal(r.order_id, rework.id);
    assert.deepEqual(ids(ok(await ratings('district', `call_id=${x.call.id}`)).data),
      [r.id, ok(await rating('district', x.lead)).id, ok(await rating('district', x.zf)).id]);
  });

  test('a call the integration posted: its township rates; the integration reads nothing', async () => {
    const c = await created('integration', {
      title: '12345热线：评价', township_code: 'TS-NCS', item_code: 'ZRZY-01', external_ref: { id: `RA-${Date.now()}` },
    });
    const lead = c.orders.find((o) => o.role === 'lead').id;
    ok(await act('department', lead, 'resolve', { resolution: '已处理' }));
    expectProblem(await rate('integration', lead, { speed: 5, effectiveness: 5 }), 403, 'this role may not use this route');
    expectProblem(await rate('township2', lead, { speed: 5, effectiveness: 5 }), 404);
    const r = ok(await rate('township', lead, { speed: 5, effectiveness: 5 }), 201);
    assert.equal(r.township_id, C.unit('TS-NCS'));
    expectProblem(await rating('integration', lead), 403, 'this role may not use this route');
    const ev = (await events('district', c.id)).at(-1);
    assert.deepEqual([ev.type, ev.actor.role, ev.actor.unit_id], ['order.rated', 'township', C.unit('TS-NCS')]);
  });
});

