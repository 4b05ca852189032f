// Reading calls and orders (issue 4, DESIGN §5 "Calls and dispatch", the read side): the
// filters of GET /v1/calls (domain, overdue, q, created_after/created_before,
// external_system/external_id, next to the older status, township_id, item_id, urgency,
// source) and GET /v1/orders (overdue), each with a match and a non-match and 422 naming
// the parameter for a bad value; the keyword q (Chinese, % _ \ literal, never reporter
// data); keyset paging with filters; list rows without orders unless ?expand=orders, and
// GET /v1/calls/{id}?expand=events; the CSV exports of calls and orders (BOM, header, the
// phone masked for a department, ' before a formula, Link rel="next"); and visibility
// (RLS) holding in filtered lists and exports. Everything happens in a district of this
// file's own with the demo list imported; calls are made through the API.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectProblem, get, listAll, post, psql, scratchDistrict, startDaemon, tokenFor,
} from './lib.mjs';
import { listDistrict, parseCsv } from './list_helpers.mjs';

const PHONE = '13812341234';
const MASKED = '138****1234';
const CALL_HEADER = 'number,id,status,urgency,source,township_code,item_code,domain_code,title,description,grid_code,'
  + 'address,reporter_name,reporter_phone,external_system,external_id,reported_at,created_at,updated_at,overdue';
const ORDER_HEADER = 'id,call_id,call_number,department_code,role,status,accept_by,resolve_by,accepted_at,resolved_at,'
  + 'overdue,return_pending,rework_of,plan,resolution,created_at';
const TICKET = 'T-20260210-0007';

let d;
let C; // this file's district
let B; // another district
let tk; // tokens by name
const calls = {}; // name -> the call as created (GET /v1/calls/{id} as the district, later)
const meta = {}; // name -> {township, item, domain, grid}: the codes behind a call

before(async () => {
  d = await startDaemon();
  C = await listDistrict(d, 'LS', (w) => tokenFor(d, w, 'district'));
  B = scratchDistrict('LB');
  const dept = (code) => tokenFor(d, C, 'department', { unit_id: C.unit(code), sub: `test:department:${code}` });
  tk = {
    township: tokenFor(d, C, 'township'), // TS-NCS
    township2: tokenFor(d, C, 'township', { unit_id: C.unit('TS-BCS'), sub: 'test:township:bcs' }),
    department: tokenFor(d, C, 'department'), // CD-ZRZY
    zf: dept('CD-ZF'),
    zj: dept('CD-ZJ'),
    sthj: dept('CD-STHJ'),
    hy: dept('CD-HY'),
    district: tokenFor(d, C, 'district'),
    integration: tokenFor(d, C, 'integration'), // system 89000
    integration2: tokenFor(d, C, 'integration', { system: '89001', sub: 'test:integration:89001' }),
    bDistrict: tokenFor(d, B, 'district'),
    bTownship: tokenFor(d, B, 'township'),
  };
  // The calls, oldest first (ids ascending). Each names what the filters below look for.
  const make = async (name, who, body, codes) => {
    const r = await post(d, '/v1/calls', body, { token: tk[who] });
    assert.equal(r.status, 201, r.text);
    calls[name] = r.json;
    meta[name] = codes;
  };
  await make('land', 'township', {
    title: '连城村北侧耕地有人硬化地面', description: '村民反映有人在耕地上浇筑水泥地面。', urgency: 'urgent',
    item_code: 'ZRZY-01', grid_code: 'G-NCS-01', reported_at: '2026-01-05T08:00:00+08:00',
    location: { address: '南长山街道连城村北', lat: 37.92, lon: 120.74 }, reporter: { name: '王某', phone: PHONE },
  }, { township: 'TS-NCS', item: 'ZRZY-01', domain: 'ZRZY', grid: 'G-NCS-01' });
  await make('pct', 'township', { title: '100%_完成率\\统计有误' },
    { township: 'TS-NCS', item: null, domain: null, grid: null });
  await make('formula', 'township', {
    title: '=HYPERLINK("http://x.example")', description: '-2+3', item_code: 'STHJ-01',
    reporter: { name: '@admin', phone: '+8613900001111' },
  }, { township: 'TS-NCS', item: 'STHJ-01', domain: 'STHJ', grid: null });
  await make('hot', 'integration', {
    title: '市民反映海边有人非法采砂', township_code: 'TS-NCS', item_code: 'ZRZY-02', urgency: 'emergency',
    external_ref: { id: TICKET }, reporter: { name: '李四', phone: '13900002222' },
  }, { township: 'TS-NCS', item: 'ZRZY-02', domain: 'ZRZY', grid: null });
  await make('hot2', 'integration2', { title: '市民反映夜间噪音扰民', township_code: 'TS-BCS', external_ref: { id: TICKET } },
    { township: 'TS-BCS', item: null, domain: null, grid: null });
  await make('bcs', 'district', { title: '北长山乡违规搭建彩钢棚', township_code: 'TS-BCS', item_code: 'CXJS-01' },
    { township: 'TS-BCS', item: 'CXJS-01', domain: 'CXJS', grid: null });
  // another district's call with the same words
  const b = await post(d, '/v1/calls', { title: '耕地硬化（B区）', description: '浇筑水泥地面' }, { token: tk.bTownship });
  assert.equal(b.status, 201, b.text);
  calls.other = b.json;

  // Creation times a day apart (the filters' exclusive bounds are then exact), and one order
  // overdue: no timer sets the flag yet, so the owner does.
  const names = ['land', 'pct', 'formula', 'hot', 'hot2', 'bcs'];
  names.forEach((n, i) => psql(`update huying.calls set created_at = '2026-01-0${5 + i} 09:00:00+08'
    where id = ${calls[n].id} and district_id = ${C.id}`));
  const zfLand = calls.land.orders.find((o) => o.department_id === C.unit('CD-ZF'));
  psql(`update huying.orders set overdue = true where id = ${zfLand.id}`);
  for (const n of names) {
    const g = await get(d, `/v1/calls/${calls[n].id}`, { token: tk.district });
    assert.equal(g.status, 200, g.text);
    calls[n] = g.json;
  }
  assert.equal(calls.land.orders.find((o) => o.id === zfLand.id).overdue, true);
  assert.deepEqual(names.map((n) => calls[n].status), ['dispatched', 'triage', 'dispatched', 'dispatched', 'triage', 'dispatched']);
});
after(async () => { await d.stop(); });

const id = (name) => calls[name].id;
const order = (name, dept) => calls[name].orders.find((o) => o.department_id === C.unit(dept));
// The ids GET /v1/calls?query lists for who, every page (newest first).
const listed = async (who, query = '') => (await listAll(d, `/v1/calls${query ? `?${query}` : ''}`, tk[who])).map((x) => x.id);
const named = (...names) => names.map(id);
const q = (s) => `q=${encodeURIComponent(s)}`;

function expect422(res, field) {
  expectProblem(res, 422);
  assert.deepEqual(res.json.errors.map((e) => e.field), [field], res.text);
}

// A CSV answer: BOM, CRLF lines; returns the lines (without the BOM).
function csvLines(res) {
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /^text\/csv; charset=utf-8$/i);
  assert.deepEqual([...res.body.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
  const text = res.body.subarray(3).toString('utf8');
  assert.ok(text.endsWith('\r\n'), 'the last line ends with CRLF');
  assert.ok(!/[^\r]\n/.test(text.replace(/"[^"]*"/g, '')), 'every line ends with CRLF');
  return text.slice(0, -2).split('\r\n');
}
const csv = (who, path) => get(d, path, { token: tk[who], headers: { accept: 'text/csv' } });

// One cell as api.csv_cell writes it: ' before a formula start, RFC 4180 quoting.
function cell(v) {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (/^[=+@\t\r-]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
const line = (cells) => cells.map(cell).join(',');

// The export line of a call as the district (or, with phone, as a department) reads it.
function callLine(name, { phone, overdue = false } = {}) {
  const c = calls[name];
  const m = meta[name];
  return line([c.number, c.id, c.status, c.urgency, c.source, m.township, m.item, m.domain, c.title, c.description,
    m.grid, c.location?.address, c.reporter?.name, phone ?? c.reporter?.phone, c.external_ref?.system,
    c.external_ref?.id, c.reported_at, c.created_at, c.updated_at, overdue]);
}

function orderLine(o, callName, dept) {
  return line([o.id, o.call_id, calls[callName].number, dept, o.role, o.status, o.accept_by, o.resolve_by,
    o.accepted_at, o.resolved_at, o.overdue, o.return_pending, o.rework_of, o.plan, o.resolution, o.created_at]);
}

describe('GET /v1/calls filters', () => {
  test('no filter: the district office lists its six calls, newest first, rows without orders', async () => {
    const rows = await listAll(d, '/v1/calls', tk.district);
    assert.deepEqual(rows.map((x) => x.id), named('bcs', 'hot2', 'hot', 'formula', 'pct', 'land'));
    for (const row of rows) {
      assert.ok(!('orders' in row), `a list row has no orders: ${JSON.stringify(row)}`);
      const { orders, ...alone } = calls[Object.keys(calls).find((n) => calls[n].id === row.id)];
      assert.ok(Array.isArray(orders));
      assert.deepEqual(row, alone, 'a list row is the call without its orders, member by member');
    }
  });

  test('the older filters still narrow: status, township_id, item_id, urgency, source', async () => {
    assert.deepEqual(await listed('district', 'status=triage'), named('hot2', 'pct'));
    assert.deepEqual(await listed('district', 'status=closed'), []);
    assert.deepEqual(await listed('district', `township_id=${C.unit('TS-BCS')}`), named('bcs', 'hot2'));
    assert.deepEqual(await listed('district', `item_id=${calls.formula.item_id}`), named('formula'));
    assert.deepEqual(await listed('district', 'urgency=emergency'), named('hot'));
    assert.deepEqual(await listed('district', 'source=district'), named('bcs'));
    assert.deepEqual(await listed('district', 'source=grid'), []);
  });

  test('domain: the domain of the item revision the call was made under', async () => {
    assert.deepEqual(await listed('district', 'domain=ZRZY'), named('hot', 'land'));
    assert.deepEqual(await listed('district', 'domain=STHJ'), named('formula'));
    assert.deepEqual(await listed('district', 'domain=CXJS&status=dispatched'), named('bcs'));
    assert.deepEqual(await listed('district', 'domain=YJGL'), [], 'a domain without calls');
    assert.deepEqual(await listed('district', 'domain=NOPE'), [], 'a code that names no domain matches nothing');
    assert.deepEqual(await listed('district', 'domain=ZRZY&township_id=' + C.unit('TS-BCS')), []);
  });

  test('overdue: calls with an overdue order the caller sees, or with none', async () => {
    assert.deepEqual(await listed('district', 'overdue=true'), named('land'));
    assert.deepEqual(await listed('district', 'overdue=false'), named('bcs', 'hot2', 'hot', 'formula', 'pct'));
    // the department whose order is overdue, and the lead department, whose order is not
    assert.deepEqual(await listed('zf', 'overdue=true'), named('land'));
    assert.deepEqual(await listed('department', 'overdue=true'), []);
    assert.deepEqual(await listed('department', 'overdue=false'), named('bcs', 'hot', 'formula', 'land'));
    assert.deepEqual(await listed('township', 'overdue=true'), named('land'));
  });

  test('q: number, title, description and address; Chinese; case-insensitive; short keywords too', async () => {
    assert.deepEqual(await listed('district', q('非法采砂')), named('hot'), 'title, 4 characters (trigram index)');
    assert.deepEqual(await listed('district', q('浇筑水泥')), named('land'), 'description');
    assert.deepEqual(await listed('district', q('南长山街道连城村北')), named('land'), 'location address');
    assert.deepEqual(await listed('district', q(calls.formula.number)), named('formula'), 'number');
    assert.deepEqual(await listed('district', q(calls.formula.number.toLowerCase())), named('formula'), 'any case');
    assert.deepEqual(await listed('district', q('hy-')), named('bcs', 'hot2', 'hot', 'formula', 'pct', 'land'));
    assert.deepEqual(await listed('district', q('耕地')), named('land'), '2 characters (inline)');
    assert.deepEqual(await listed('district', q('彩')), named('bcs'), '1 character');
    assert.deepEqual(await listed('district', q('hyperlink')), named('formula'));
    assert.deepEqual(await listed('district', q('火灾')), []);
    assert.deepEqual(await listed('district', q('非法采砂') + '&status=triage'), [], 'combined with AND');
    // 50 characters (150 bytes of UTF-8) are fine
    assert.deepEqual(await listed('district', q('耕'.repeat(50))), []);
  });

  test('q: % _ and \\ are literal characters, not wildcards', async () => {
    assert.deepEqual(await listed('district', q('%')), named('pct'));
    assert.deepEqual(await listed('district', q('_')), named('pct'));
    assert.deepEqual(await listed('district', q('\\')), named('pct'));
    assert.deepEqual(await listed('district', q('100%_')), named('pct'));
    assert.deepEqual(await listed('district', q('%_完成率\\')), named('pct'));
    assert.deepEqual(await listed('district', q('连城%北')), [], '% matches only itself');
    assert.deepEqual(await listed('district', q('连城_北')), []);
    assert.deepEqual(await listed('district', q('h_-')), []);
  });

  test('q never searches reporter data: no match on a phone number or a name', async () => {
    for (const s of [PHONE, '1381234', '1234', '13900002222', '王某', '李四', '@admin', MASKED]) {
      assert.deepEqual(await listed('district', q(s)), [], `q=${s}`);
    }
  });

  test('created_after and created_before: exclusive bounds, any offset; an unencoded + is still +', async () => {
    assert.deepEqual(await listed('district', 'created_after=2026-01-07T09:00:00%2B08:00'), named('bcs', 'hot2', 'hot'));
    assert.deepEqual(await listed('district', 'created_before=2026-01-07T09:00:00%2B08:00'), named('pct', 'land'));
    assert.deepEqual(await listed('district', 'created_after=2026-01-06T09:00:00%2B08:00&created_before=2026-01-09T09:00:00%2B08:00'),
      named('hot', 'formula'));
    assert.deepEqual(await listed('district', 'created_after=2026-01-07T01:00:00Z'), named('bcs', 'hot2', 'hot'), 'Z');
    assert.deepEqual(await listed('district', 'created_after=2026-01-07T09:00:00.000001+08:00'), named('bcs', 'hot2', 'hot'),
      'a literal + (read as a space by form decoding) before the offset');
    assert.deepEqual(await listed('district', 'created_after=2026-01-07T08:59:59.999999%2B08:00'),
      named('bcs', 'hot2', 'hot', 'formula'));
    assert.deepEqual(await listed('district', 'created_before=2026-01-05T09:00:00%2B08:00'), [], 'exclusive');
    assert.deepEqual(await listed('district', 'created_after=2026-01-10T09:00:00%2B08:00'), []);
  });

  test('external_system and external_id: exact matches', async () => {
    assert.deepEqual(await listed('district', `external_id=${TICKET}`), named('hot2', 'hot'));
    assert.deepEqual(await listed('district', `external_id=${TICKET}&external_system=89000`), named('hot'));
    assert.deepEqual(await listed('district', `external_id=${TICKET}&external_system=89001`), named('hot2'));
    assert.deepEqual(await listed('district', 'external_system=89001'), named('hot2'));
    assert.deepEqual(await listed('district', `external_id=${TICKET.toLowerCase()}`), [], 'exact, case and all');
    assert.deepEqual(await listed('district', 'external_id=T-20260210'), []);
    assert.deepEqual(await listed('district', `external_id=${TICKET}&${q('采砂')}`), named('hot'));
    assert.deepEqual(await listed('district', `external_id=${TICKET}&${q('非法采砂')}`), named('hot'));
    // the hotline finds its ticket's call, and only its own
    assert.deepEqual(await listed('integration', `external_id=${TICKET}`), named('hot'));
    assert.deepEqual(await listed('integration2', `external_id=${TICKET}`), named('hot2'));
    assert.deepEqual(await listed('integration', 'external_system=89001'), []);
  });

  test('bad values → 422 naming the parameter', async () => {
    const bad = [
      ['domain=a%20b', 'domain'], ['domain=', 'domain'], [`domain=${'A'.repeat(33)}`, 'domain'],
      ['overdue=yes', 'overdue'], ['overdue=TRUE', 'overdue'], ['overdue=', 'overdue'],
      ['q=', 'q'], [q('耕'.repeat(51)), 'q'],
      ['created_after=2026-01-07', 'created_after'], ['created_after=yesterday', 'created_after'],
      ['created_after=2026-02-30T00:00:00%2B08:00', 'created_after'], ['created_before=2026-01-07T09:00:00', 'created_before'],
      ['created_before=', 'created_before'],
      ['external_system=', 'external_system'], [`external_system=${'s'.repeat(65)}`, 'external_system'],
      ['external_id=', 'external_id'], [`external_id=${'x'.repeat(101)}`, 'external_id'],
      ['status=open', 'status'], ['township_id=0', 'township_id'], ['expand=events', 'expand'],
      ['expand=bogus', 'expand'], ['expand=', 'expand'], ['expand=orders,', 'expand'], ['colour=red', 'colour'],
    ];
    for (const [query, field] of bad) expect422(await get(d, `/v1/calls?${query}`, { token: tk.district }), field);
  });

  test('keyset paging keeps the filters: limit=2 walks them all, in both search paths', async () => {
    for (const query of [q('hy-'), q('H'), 'overdue=false', `external_id=${TICKET}`]) {
      const all = await listed('district', query);
      const got = [];
      let cursor = null;
      let pages = 0;
      do {
        const r = await get(d, `/v1/calls?${query}&limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: tk.district });
        assert.equal(r.status, 200, r.text);
        assert.ok(r.json.data.length <= 2);
        got.push(...r.json.data.map((x) => x.id));
        cursor = r.json.next_cursor;
        pages++;
      } while (cursor && pages < 10);
      assert.deepEqual(got, all, query);
      assert.equal(pages, Math.max(1, Math.ceil(all.length / 2)), `${query}: a page that ends exactly at the end says so`);
    }
    assert.deepEqual(await listed('district', q('hy-')), named('bcs', 'hot2', 'hot', 'formula', 'pct', 'land'));
  });

  test('visibility holds under every filter: a township, a department, another district', async () => {
    assert.deepEqual(await listed('township2', q('hy-')), named('bcs', 'hot2'));
    assert.deepEqual(await listed('township2', q('耕地')), []);
    assert.deepEqual(await listed('township2', 'domain=ZRZY'), []);
    assert.deepEqual(await listed('township2', `external_id=${TICKET}`), named('hot2'));
    assert.deepEqual(await listed('department', q('hy-')), named('bcs', 'hot', 'formula', 'land'));
    assert.deepEqual(await listed('hy', q('hy-')), named('hot'), 'CD-HY cooperates on ZRZY-02 only');
    assert.deepEqual(await listed('sthj', 'domain=STHJ'), named('formula'));
    assert.deepEqual(await listed('sthj', 'domain=ZRZY'), []);
    assert.deepEqual(await listed('integration', q('hy-')), named('hot'));
    assert.deepEqual(await listed('integration2', 'overdue=false'), named('hot2'));
    // another district sees its own call only, whatever it searches for
    assert.deepEqual(await listed('bDistrict', q('耕地')), [calls.other.id]);
    assert.deepEqual(await listed('bDistrict', q('浇筑水泥')), [calls.other.id]);
    assert.deepEqual(await listed('bDistrict', `external_id=${TICKET}`), []);
    assert.deepEqual(await listed('district', q('B区')), []);
  });
});

describe('expand', () => {
  test('GET /v1/calls?expand=orders: each row carries its orders, as GET /v1/calls/{id} does', async () => {
    for (const who of ['district', 'department', 'township']) {
      const rows = await listAll(d, '/v1/calls?expand=orders', tk[who]);
      assert.ok(rows.length > 0);
      for (const row of rows) {
        const one = await get(d, `/v1/calls/${row.id}`, { token: tk[who] });
        assert.equal(one.status, 200, one.text);
        assert.deepEqual(row, one.json, `${who}: call ${row.id}`);
      }
    }
    const dept = await listAll(d, '/v1/calls?expand=orders&domain=ZRZY', tk.department);
    assert.deepEqual(dept.map((x) => x.orders.map((o) => o.department_id)), [[C.unit('CD-ZRZY')], [C.unit('CD-ZRZY')]]);
    const r = await get(d, '/v1/calls?expand=orders,orders&limit=1', { token: tk.district });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.data[0].orders, calls.bcs.orders);
  });

  test('GET /v1/calls/{id}?expand=events: the timeline as /events shows it to the caller', async () => {
    // order events of two departments on the call
    for (const [who, dept] of [['department', 'CD-ZRZY'], ['zj', 'CD-ZJ']]) {
      const r = await post(d, `/v1/orders/${order('land', dept).id}/accept`, {}, { token: tk[who] });
      assert.equal(r.status, 200, r.text);
    }
    for (const who of ['district', 'department', 'township']) {
      const plain = await get(d, `/v1/calls/${id('land')}`, { token: tk[who] });
      const r = await get(d, `/v1/calls/${id('land')}?expand=events`, { token: tk[who] });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.etag, plain.headers.etag);
      const events = await listAll(d, `/v1/calls/${id('land')}/events`, tk[who]);
      assert.ok(events.length >= 3, `${who}: ${events.length} events`);
      const { events: embedded, ...rest } = r.json;
      assert.deepEqual(embedded, events, who);
      assert.deepEqual(rest, plain.json, `${who}: the rest is the call as without expand`);
    }
    // a department sees the call's events and its own order's, not the other orders'
    const mine = (await get(d, `/v1/calls/${id('land')}?expand=events`, { token: tk.department })).json.events;
    assert.deepEqual([...new Set(mine.filter((e) => e.subject.type === 'order').map((e) => e.subject.id))],
      [order('land', 'CD-ZRZY').id]);
    const all = (await get(d, `/v1/calls/${id('land')}?expand=events`, { token: tk.district })).json.events;
    assert.deepEqual([...new Set(all.filter((e) => e.subject.type === 'order').map((e) => e.subject.id))].sort(),
      [order('land', 'CD-ZRZY').id, order('land', 'CD-ZJ').id].sort());
  });

  test('expand=orders on a single call changes nothing; orders,events has both', async () => {
    const plain = await get(d, `/v1/calls/${id('hot')}`, { token: tk.district });
    const r = await get(d, `/v1/calls/${id('hot')}?expand=orders`, { token: tk.district });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, plain.json);
    const both = await get(d, `/v1/calls/${id('hot')}?expand=events,orders`, { token: tk.district });
    assert.deepEqual(both.json.orders, plain.json.orders);
    assert.ok(Array.isArray(both.json.events) && both.json.events.length > 0);
  });

  test('expand=events is capped at the first 200 entries; /events has them all', async () => {
    psql(`insert into huying.events (district_id, subject_type, subject_id, type, actor_unit_id, actor_role, actor_sub, data)
      select ${C.id}, 'call', ${id('bcs')}, 'test.filler', ${C.office}, 'district', 'test:filler', jsonb_build_object('n', g)
        from generate_series(1, 205) g`);
    const all = await listAll(d, `/v1/calls/${id('bcs')}/events`, tk.district);
    assert.ok(all.length > 205, `${all.length}`);
    const r = await get(d, `/v1/calls/${id('bcs')}?expand=events`, { token: tk.district });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.events.length, 200);
    assert.deepEqual(r.json.events, all.slice(0, 200), 'oldest first');
  });

  test('bad expand values, unknown parameters, and a call not visible', async () => {
    for (const v of ['bogus', 'events,bogus', '', 'orders,', ',events', 'ORDERS', 'events%20']) {
      expect422(await get(d, `/v1/calls/${id('land')}?expand=${v}`, { token: tk.district }), 'expand');
    }
    expect422(await get(d, `/v1/calls/${id('land')}?limit=1`, { token: tk.district }), 'limit');
    expectProblem(await get(d, `/v1/calls/${id('land')}?expand=events`, { token: tk.township2 }), 404);
    expectProblem(await get(d, `/v1/calls/${id('land')}?expand=events`, { token: tk.bDistrict }), 404);
  });
});

describe('GET /v1/orders?overdue=', () => {
  test('overdue=true|false for the district and for a department; bad values → 422', async () => {
    const zfLand = order('land', 'CD-ZF').id;
    assert.deepEqual((await listAll(d, '/v1/orders?overdue=true', tk.district)).map((o) => o.id), [zfLand]);
    const notOverdue = await listAll(d, '/v1/orders?overdue=false', tk.district);
    const every = await listAll(d, '/v1/orders', tk.district);
    assert.deepEqual(notOverdue.map((o) => o.id), every.filter((o) => o.id !== zfLand).map((o) => o.id));
    assert.ok(notOverdue.every((o) => o.overdue === false));
    assert.deepEqual((await listAll(d, '/v1/orders?overdue=true', tk.zf)).map((o) => o.id), [zfLand]);
    assert.deepEqual((await listAll(d, '/v1/orders?overdue=true&status=dispatched', tk.zf)).map((o) => o.id), [zfLand]);
    assert.deepEqual(await listAll(d, '/v1/orders?overdue=true&status=accepted', tk.zf), []);
    assert.deepEqual(await listAll(d, '/v1/orders?overdue=true', tk.department), []);
    assert.deepEqual(await listAll(d, '/v1/orders?overdue=true', tk.bDistrict), []);
    assert.deepEqual((await listAll(d, `/v1/orders?overdue=true&call_id=${id('land')}`, tk.township)).map((o) => o.id), [zfLand]);
    for (const v of ['1', 'yes', 'True', '']) {
      expect422(await get(d, `/v1/orders?overdue=${v}`, { token: tk.department }), 'overdue');
    }
  });
});

describe('CSV export', () => {
  test('GET /v1/calls as the district office: BOM, header, one line per call, newest first', async () => {
    const lines = csvLines(await csv('district', '/v1/calls'));
    assert.equal(lines[0], CALL_HEADER);
    assert.deepEqual(lines.slice(1), [
      callLine('bcs'), callLine('hot2'), callLine('hot'), callLine('formula'), callLine('pct'), callLine('land', { overdue: true }),
    ]);
    // spot checks of what the builder computes
    const land = parseCsv(lines.find((l) => l.startsWith(`${calls.land.number},`)))[0];
    assert.deepEqual([land[5], land[6], land[7], land[10], land[11], land[12], land[13], land[16], land[19]],
      ['TS-NCS', 'ZRZY-01', 'ZRZY', 'G-NCS-01', '南长山街道连城村北', '王某', PHONE, '2026-01-05T08:00:00+08:00', 'true']);
    assert.equal(land[17], '2026-01-05T09:00:00+08:00');
  });

  test('no formula injection: a cell that starts with = + - @ gets a leading \'', async () => {
    const lines = csvLines(await csv('district', `/v1/calls?${q('hyperlink')}`));
    assert.equal(lines.length, 2);
    const cells = parseCsv(lines[1])[0];
    assert.equal(cells[8], '\'=HYPERLINK("http://x.example")');
    assert.equal(cells[9], '\'-2+3');
    assert.equal(cells[12], '\'@admin');
    assert.equal(cells[13], '\'+8613900001111');
    assert.ok(lines[1].includes('"\'=HYPERLINK(""http://x.example"")"'), lines[1]);
  });

  test('as a department: its calls only, the reporter phone masked exactly as in JSON', async () => {
    const lines = csvLines(await csv('department', '/v1/calls'));
    assert.equal(lines[0], CALL_HEADER);
    assert.deepEqual(lines.slice(1), [
      callLine('bcs'), callLine('hot', { phone: '139****2222' }), callLine('formula', { phone: '+86*******1111' }),
      callLine('land', { phone: MASKED }),
    ]);
    const json = await get(d, `/v1/calls/${id('formula')}`, { token: tk.department });
    assert.equal(json.json.reporter.phone, '+86*******1111');
    assert.ok(!lines.join('\n').includes(PHONE), 'no full phone number anywhere');
    // the department whose order is overdue sees the call as overdue
    const zf = csvLines(await csv('zf', '/v1/calls?overdue=true'));
    assert.deepEqual(zf.slice(1), [callLine('land', { phone: MASKED, overdue: true })]);
  });

  test('filters apply to the export, and visibility holds', async () => {
    assert.deepEqual(csvLines(await csv('district', '/v1/calls?domain=ZRZY')).slice(1),
      [callLine('hot'), callLine('land', { overdue: true })]);
    assert.deepEqual(csvLines(await csv('district', `/v1/calls?${q('%')}`)).slice(1), [callLine('pct')]);
    assert.deepEqual(csvLines(await csv('district', '/v1/calls?created_before=2026-01-06T09:00:00%2B08:00')).slice(1),
      [callLine('land', { overdue: true })]);
    assert.deepEqual(csvLines(await csv('district', `/v1/calls?external_id=${TICKET}&external_system=89001`)).slice(1),
      [callLine('hot2')]);
    assert.deepEqual(csvLines(await csv('district', `/v1/calls?${q(PHONE)}`)), [CALL_HEADER]);
    assert.deepEqual(csvLines(await csv('township2', '/v1/calls')).slice(1), [callLine('bcs'), callLine('hot2')]);
    assert.deepEqual(csvLines(await csv('integration', '/v1/calls?expand=orders')).slice(1), [callLine('hot')]);
    const b = csvLines(await csv('bDistrict', `/v1/calls?${q('耕地')}`));
    assert.equal(b.length, 2);
    assert.ok(b[1].startsWith(`${calls.other.number},${calls.other.id},`), b[1]);
    expect422(await get(d, '/v1/calls?overdue=maybe', { token: tk.district, headers: { accept: 'text/csv' } }), 'overdue');
  });

  test('limit and Link rel="next": the pages add up, the filters stay', async () => {
    const got = [];
    let next = `/v1/calls?${q('hy-')}&limit=4`;
    let pages = 0;
    while (next) {
      const r = await csv('district', next);
      const lines = csvLines(r);
      assert.equal(lines[0], CALL_HEADER);
      got.push(...lines.slice(1));
      pages++;
      if (r.headers.link) {
        const m = /^<([^>]+)>; rel="next"$/.exec(r.headers.link);
        assert.ok(m, `Link: ${r.headers.link}`);
        assert.match(m[1], /^\/v1\/calls\?q=hy-&limit=4&cursor=[A-Za-z0-9_-]+$/);
        next = m[1];
      } else {
        next = null;
      }
      assert.ok(pages < 5);
    }
    assert.equal(pages, 2);
    assert.deepEqual(got, ['bcs', 'hot2', 'hot', 'formula', 'pct', 'land'].map((n) => callLine(n, { overdue: n === 'land' })));
    const all = await csv('district', '/v1/calls?limit=10000');
    assert.equal(all.headers.link, undefined);
    expect422(await get(d, '/v1/calls?limit=10001', { token: tk.district, headers: { accept: 'text/csv' } }), 'limit');
  });

  test('GET /v1/orders as the district office and as a department, with overdue', async () => {
    const lines = csvLines(await csv('district', '/v1/orders'));
    assert.equal(lines[0], ORDER_HEADER);
    const json = await listAll(d, '/v1/orders', tk.district);
    const deptCode = new Map([...C.units].map(([code, u]) => [u.id, code]));
    const callName = (callId) => Object.keys(calls).find((n) => calls[n].id === callId);
    assert.deepEqual(lines.slice(1), json.map((o) => orderLine(o, callName(o.call_id), deptCode.get(o.department_id))));
    const zfLand = order('land', 'CD-ZF');
    assert.deepEqual(csvLines(await csv('zf', '/v1/orders?overdue=true')).slice(1), [orderLine(zfLand, 'land', 'CD-ZF')]);
    const cells = parseCsv(orderLine(zfLand, 'land', 'CD-ZF'))[0];
    assert.deepEqual([cells[2], cells[3], cells[4], cells[5], cells[8], cells[10], cells[11], cells[12]],
      [calls.land.number, 'CD-ZF', 'cooperating', 'dispatched', '', 'true', 'false', '']);
    const mine = csvLines(await csv('department', '/v1/orders'));
    const mineJson = await listAll(d, '/v1/orders', tk.department);
    assert.ok(mineJson.length > 0 && mineJson.every((o) => o.department_id === C.unit('CD-ZRZY')));
    assert.deepEqual(mine.slice(1), mineJson.map((o) => orderLine(o, callName(o.call_id), 'CD-ZRZY')));
    assert.deepEqual(csvLines(await csv('bDistrict', '/v1/orders')), [ORDER_HEADER]);
    // paging with Link
    const r = await csv('district', '/v1/orders?overdue=false&limit=3');
    assert.equal(csvLines(r).length, 4);
    assert.match(r.headers.link, /^<\/v1\/orders\?overdue=false&limit=3&cursor=[A-Za-z0-9_-]+>; rel="next"$/);
  });
});
