// The Open311 GeoReport v2 facade (issue 7; docs/open311.md, the OpenAPI tag open311): the
// list items in force as services; a service request posted form-encoded by the hotline's
// integration token becomes a call with its external ref (the same call when posted again);
// calls read as service requests with status and expected_datetime (the live lead order's
// resolve_by), filtered as GeoReport says; bad input answered in Open311's error format with
// the right HTTP status; and each role seeing only what it sees on /v1.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectOpen311Error, get, listAll, post, psql, raw, request, startDaemon, tokenFor, WWW_INVALID, WWW_NONE,
} from './lib.mjs';
import { callsApi, callsWorld, callsIn, HOUR } from './calls_helpers.mjs';
import { todayShanghai } from './list_helpers.mjs';

const FORM = 'application/x-www-form-urlencoded';
const PHONE = '13812341234';

let d;
let C; // this file's district, the demo list imported
let B; // another district
let tk;

const w = {};
const { created, act } = callsApi(w);

before(async () => {
  d = await startDaemon();
  Object.assign(w, await callsWorld(d, 'OS'));
  ({ C, B, tk } = w);
});
after(async () => { await d.stop(); });

// A GeoReport form body from an object (URLSearchParams: + for space, %5B for [).
const form = (fields) => new URLSearchParams(fields).toString();
const postRequest = (who, fields, opts = {}) => request(d, 'POST', '/open311/v2/requests.json', {
  token: tk[who], body: typeof fields === 'string' ? fields : form(fields), headers: { 'content-type': FORM, ...opts.headers },
});
const services = (who, query = '') => get(d, `/open311/v2/services.json${query}`, { token: tk[who] });
const requests = (who, query = '') => get(d, `/open311/v2/requests.json${query}`, { token: tk[who] });
const one = (who, id, query = '') => get(d, `/open311/v2/requests/${id}.json${query}`, { token: tk[who] });
const ids = (res) => res.json.map((x) => x.service_request_id);

// The hotline's ticket, as its integrator would post it.
const TICKET = {
  service_code: 'ZRZY-01',
  lat: '37.9213',
  long: '120.7421',
  address_string: '南长山街道连城村北',
  description: '村民反映有人在耕地上浇筑水泥地面\n疑似建设厂房，已持续两天。',
  first_name: '某',
  last_name: '王',
  phone: PHONE,
  email: 'wang@example.cn',
  media_url: 'https://files.example.cn/a/1.jpg',
  'attribute[township_code]': 'TS-NCS',
  'attribute[external_id]': '89000-2026-90001',
};

const made = {}; // service request ids made along the way

describe('services', () => {
  test('the active items of the list, by code, as GeoReport services; a retired item is absent', async () => {
    // retire ZRZY-02 today, through an enacted list change
    const lc = await post(d, '/v1/list-changes', { kind: 'retire', item_code: 'ZRZY-02', reason: 'open311 test' }, { token: tk.district });
    assert.equal(lc.status, 201, lc.text);
    assert.equal((await post(d, `/v1/list-changes/${lc.json.id}/approve`, {}, { token: tk.district })).status, 200);
    const en = await post(d, `/v1/list-changes/${lc.json.id}/enact`, { city_ref: 'OS-1', effective_from: todayShanghai() },
      { token: tk.district });
    assert.equal(en.status, 200, en.text);

    const r = await services('integration');
    assert.equal(r.status, 200, r.text);
    const active = await listAll(d, '/v1/items', tk.district);
    assert.ok(active.length >= 70);
    assert.deepEqual(r.json.map((s) => s.service_code), active.map((i) => i.code));
    assert.ok(!r.json.some((s) => s.service_code === 'ZRZY-02'), 'the retired item is not a service');
    assert.deepEqual((await listAll(d, '/v1/items?status=retired', tk.district)).map((i) => i.code), ['ZRZY-02']);

    const s = r.json.find((x) => x.service_code === 'ZRZY-01');
    assert.deepEqual(s, {
      service_code: 'ZRZY-01',
      service_name: '违法占用土地及耕地进行建设',
      description: '未经批准占用集体或国有土地、耕地建房、硬化地面、堆放物料等非农建设行为的发现、制止和查处。',
      metadata: false,
      type: 'realtime',
      keywords: '正在施工的新增违法占地, 历史遗留违法占地整改, 卫片执法疑似图斑现场核查',
      group: '自然资源',
    });
  });

  test('every role reads them; jurisdiction_id is the district code or a 404', async () => {
    const all = (await services('integration')).json;
    for (const who of ['township', 'department', 'district']) assert.deepEqual((await services(who)).json, all, who);
    assert.deepEqual((await services('integration', `?jurisdiction_id=${C.code}`)).json, all);
    assert.deepEqual((await services('integration', '?jurisdiction_id=')).json, all, 'empty is not given');
    expectOpen311Error(await services('integration', '?jurisdiction_id=elsewhere.gov'), 404,
      "jurisdiction_id: names no jurisdiction served here (the code of the token's district)");
    // another district: its own list (none)
    assert.deepEqual((await services('bDistrict')).json, []);
  });
});

describe('posting a service request', () => {
  test('form-encoded by the integration token: 201, GeoReport\'s answer, a call with its external ref', async () => {
    const before = callsIn(C.id);
    const r = await postRequest('integration', { ...TICKET, account_id: 'acct-7' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.length, 1);
    const [a] = r.json;
    made.ticket = a.service_request_id;
    assert.match(a.service_request_id, /^[1-9][0-9]*$/);
    assert.equal(a.account_id, 'acct-7');
    assert.equal(r.headers.location, `/open311/v2/requests/${a.service_request_id}.json`);
    assert.equal(callsIn(C.id), before + 1);

    // the same call through /v1, as the integration sees it
    const c = await get(d, `/v1/calls/${a.service_request_id}`, { token: tk.integration });
    assert.equal(c.status, 200, c.text);
    const call = c.json;
    assert.deepEqual(call.external_ref, { system: '89000', id: '89000-2026-90001' });
    assert.equal(call.source, 'hotline');
    assert.equal(call.township_id, C.unit('TS-NCS'));
    assert.equal(call.item_id, w.items.get('ZRZY-01'));
    assert.equal(call.title, '村民反映有人在耕地上浇筑水泥地面', 'the description\'s first line');
    assert.equal(call.description, TICKET.description);
    assert.deepEqual(call.location, { address: '南长山街道连城村北', lat: 37.9213, lon: 120.7421 });
    assert.deepEqual(call.reporter, { name: '某 王', phone: PHONE });
    assert.deepEqual(call.attachments, [{ url: 'https://files.example.cn/a/1.jpg' }]);
    assert.equal(call.urgency, 'normal');
    assert.equal(call.status, 'dispatched');
    assert.equal(a.service_notice, `${call.number}: 区自然资源局 is to resolve it by ${call.orders.find((o) => o.role === 'lead').resolve_by}`);
    // the district office finds it by its external ref too
    const byRef = await get(d, '/v1/calls?external_system=89000&external_id=89000-2026-90001', { token: tk.district });
    assert.deepEqual(byRef.json.data.map((x) => x.id), [Number(a.service_request_id)]);
  });

  test('posting the same external id again answers the same call (200), and makes nothing', async () => {
    const before = callsIn(C.id);
    const r = await postRequest('integration', { ...TICKET, description: '再次来电' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json[0].service_request_id, made.ticket);
    assert.equal(r.json[0].account_id, null);
    assert.equal(r.headers.location, `/open311/v2/requests/${made.ticket}.json`);
    assert.equal(callsIn(C.id), before);
    // another system's same id is another call
    const other = await postRequest('integration2', TICKET);
    assert.equal(other.status, 201, other.text);
    assert.notEqual(other.json[0].service_request_id, made.ticket);
    made.other = other.json[0].service_request_id;
  });

  test('the township from a grid cell; the attributes title and urgency; no external id: a made-up one', async () => {
    const r = await postRequest('integration', {
      service_code: 'ZRZY-03', address_string: '庙岛', 'attribute[grid_code]': 'G-NCS-01-01',
      'attribute[title]': '游客擅自登岛', 'attribute[urgency]': 'urgent',
    });
    assert.equal(r.status, 201, r.text);
    made.grid = r.json[0].service_request_id;
    const c = (await get(d, `/v1/calls/${made.grid}`, { token: tk.integration })).json;
    assert.equal(c.township_id, C.unit('TS-NCS'));
    assert.equal(c.grid_id, Number(psql(`select id from huying.grids where district_id = ${C.id} and code = 'G-NCS-01-01'`)));
    assert.equal(c.title, '游客擅自登岛');
    assert.equal(c.urgency, 'urgent');
    assert.equal(c.description, null);
    assert.equal(c.reporter, null);
    assert.deepEqual(c.location, { address: '庙岛' });
    assert.equal(c.external_ref.system, '89000');
    assert.match(c.external_ref.id, /^open311-[0-9a-f-]{36}$/);
  });

  test('an item without a lead department: the call waits in triage', async () => {
    const r = await postRequest('integration', {
      service_code: 'STHJ-04', lat: '37.95', long: '120.72', 'attribute[township_code]': 'TS-NCS',
      'attribute[external_id]': '89000-2026-90002',
    });
    assert.equal(r.status, 201, r.text);
    made.triage = r.json[0].service_request_id;
    const c = (await get(d, `/v1/calls/${made.triage}`, { token: tk.integration })).json;
    assert.equal(c.status, 'triage');
    assert.equal(c.title, '岸滩垃圾及海漂垃圾清理', 'without a description: the service\'s name');
    assert.equal(r.json[0].service_notice, `${c.number}: the district office will dispatch it`);
  });

  test('Idempotency-Key replays the stored answer', async () => {
    const fields = { service_code: 'ZRZY-01', address_string: '连城村', 'attribute[township_code]': 'TS-NCS' };
    const headers = { 'idempotency-key': 'open311-replay-1' };
    const a = await postRequest('integration', fields, { headers });
    assert.equal(a.status, 201, a.text);
    const b = await postRequest('integration', fields, { headers });
    assert.equal(b.status, 201, b.text);
    assert.equal(b.headers['idempotency-replayed'], 'true');
    assert.deepEqual(b.json, a.json);
    made.idem = a.json[0].service_request_id;
  });
});

describe('reading service requests', () => {
  test('requests/{id}.json: the call as GeoReport shows it; expected_datetime = the lead order\'s resolve_by', async () => {
    const call = (await get(d, `/v1/calls/${made.ticket}`, { token: tk.district })).json;
    const lead = call.orders.find((o) => o.role === 'lead');
    const r = await one('integration', made.ticket);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, [{
      service_request_id: made.ticket,
      status: 'open',
      status_notes: 'dispatched: waiting for 区自然资源局 to accept it',
      service_name: '违法占用土地及耕地进行建设',
      service_code: 'ZRZY-01',
      description: TICKET.description,
      agency_responsible: '区自然资源局',
      service_notice: `${call.number}: 区自然资源局 is to resolve it by ${lead.resolve_by}`,
      requested_datetime: call.created_at,
      updated_datetime: call.updated_at,
      expected_datetime: lead.resolve_by,
      address: '南长山街道连城村北',
      lat: 37.9213,
      long: 120.7421,
      media_url: 'https://files.example.cn/a/1.jpg',
    }]);
    assert.ok(!r.text.includes(PHONE) && !r.text.includes('某 王') && !r.text.includes('wang@'), 'no reporter data');
    assert.deepEqual((await one('integration', made.ticket, `?jurisdiction_id=${C.code}`)).json, r.json);
  });

  test('status follows the call: accepted, resolved (closed), and a call in triage', async () => {
    const call = (await get(d, `/v1/calls/${made.ticket}`, { token: tk.district })).json;
    const byDept = (code) => call.orders.find((o) => o.department_id === C.unit(code)).id;
    assert.equal((await act('department', byDept('CD-ZRZY'), 'accept', {})).status, 200);
    let s = (await one('district', made.ticket)).json[0];
    assert.equal(s.status, 'open');
    assert.equal(s.status_notes, 'accepted: 区自然资源局 is handling it');
    for (const [who, code] of [['department', 'CD-ZRZY'], ['zf', 'CD-ZF'], ['zj', 'CD-ZJ']]) {
      const res = await act(who, byDept(code), 'resolve', { resolution: '已制止并责令恢复原状' });
      assert.equal(res.status, 200, res.text);
    }
    s = (await one('integration', made.ticket)).json[0];
    assert.equal(s.status, 'closed');
    assert.equal(s.status_notes, 'resolved: waiting for the township to confirm it');
    const after = (await get(d, `/v1/calls/${made.ticket}`, { token: tk.district })).json;
    assert.equal(after.status, 'resolved');
    assert.equal(s.updated_datetime, after.updated_at);
    assert.equal(s.expected_datetime, after.orders.find((o) => o.role === 'lead').resolve_by);

    const t = (await one('integration', made.triage)).json[0];
    assert.equal(t.status, 'open');
    assert.equal(t.status_notes, 'triage: waiting for the district office to dispatch it');
    assert.equal(t.expected_datetime, null);
    assert.equal(t.agency_responsible, null);
    assert.equal(t.service_code, 'STHJ-04');
    assert.equal(t.address, null);
    assert.equal(t.lat, 37.95);
  });

  test('requests.json: newest first; filters by id (overriding the rest), service_code, status and dates', async () => {
    const all = await requests('integration');
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(ids(all), [made.idem, made.triage, made.grid, made.ticket]);
    assert.deepEqual(ids(await requests('integration', '?service_code=ZRZY-01')), [made.idem, made.ticket]);
    assert.deepEqual(ids(await requests('integration', '?service_code=ZRZY-03,STHJ-04')), [made.triage, made.grid]);
    assert.deepEqual(ids(await requests('integration', '?service_code=NOPE-1')), []);
    assert.deepEqual(ids(await requests('integration', '?status=closed')), [made.ticket]);
    assert.deepEqual(ids(await requests('integration', '?status=open')), [made.idem, made.triage, made.grid]);
    assert.deepEqual(ids(await requests('integration', '?status=open,closed')), ids(all));
    assert.deepEqual(ids(await requests('integration', '?status=open&service_code=ZRZY-01')), [made.idem]);
    // service_request_id overrides every other filter
    assert.deepEqual(ids(await requests('integration', `?service_request_id=${made.ticket},${made.grid}&status=open&service_code=STHJ-04`)),
      [made.grid, made.ticket]);
    // dates: the window of requested_datetime, at most 90 days
    const now = Date.now();
    const iso = (t) => new Date(t).toISOString();
    assert.deepEqual(ids(await requests('integration', `?start_date=${iso(now - HOUR)}`)), ids(all));
    assert.deepEqual(ids(await requests('integration', `?start_date=${iso(now + HOUR)}`)), []);
    assert.deepEqual(ids(await requests('integration', `?end_date=${iso(now - HOUR)}`)), []);
    assert.deepEqual(ids(await requests('integration', `?start_date=${iso(now - 89 * 24 * HOUR)}&end_date=${iso(now + HOUR)}`)), ids(all));
    const at8 = encodeURIComponent(`${new Date(now - HOUR + 8 * HOUR).toISOString().slice(0, 19)}+08:00`);
    assert.deepEqual(ids(await requests('integration', `?start_date=${at8}`)), ids(all), 'an offset works as well as Z');
    expectOpen311Error(await requests('integration', `?start_date=${iso(now - 91 * 24 * HOUR)}&end_date=${iso(now)}`), 400,
      'end_date: is more than 90 days after start_date');
    expectOpen311Error(await requests('integration', `?start_date=${iso(now)}&end_date=${iso(now - HOUR)}`), 400,
      'end_date: is before start_date');
  });
});

describe('bad input: Open311 errors with the right HTTP status', () => {
  const base = { service_code: 'ZRZY-01', address_string: '连城村', 'attribute[township_code]': 'TS-NCS' };

  test('missing or unknown service_code: 400 and 404', async () => {
    const { service_code: _, ...noCode } = base;
    expectOpen311Error(await postRequest('integration', noCode), 400, 'service_code: is required');
    expectOpen311Error(await postRequest('integration', { ...base, service_code: '' }), 400, 'service_code: is required');
    expectOpen311Error(await postRequest('integration', { ...base, service_code: 'NOPE-99' }), 404,
      'service_code: names no service of this district (a list item in force today)');
    expectOpen311Error(await postRequest('integration', { ...base, service_code: 'ZRZY-02' }), 404,
      'service_code: names no service of this district (a list item in force today)'); // a retired item
  });

  test('location: bad lat or long, one without the other, none at all; address_id', async () => {
    const { address_string: _, ...noAddr } = base;
    for (const lat of ['91', '-90.5', 'abc', '37,9', '1e1', ' 37.9', '37.']) {
      expectOpen311Error(await postRequest('integration', { ...noAddr, lat, long: '120.7' }), 400,
        'lat: must be a latitude from -90 to 90 in decimal degrees (WGS84)');
    }
    expectOpen311Error(await postRequest('integration', { ...noAddr, lat: '37.9', long: '181' }), 400,
      'long: must be a longitude from -180 to 180 in decimal degrees (WGS84)');
    expectOpen311Error(await postRequest('integration', { ...noAddr, lat: '37.9' }), 400,
      'long: is required with the other of lat and long');
    expectOpen311Error(await postRequest('integration', noAddr), 400,
      'address_string: a location is required: lat and long, or address_string');
    expectOpen311Error(await postRequest('integration', { ...noAddr, address_id: '545483' }), 400, [
      'address_id: is not supported here: give lat and long, or address_string',
      'address_string: a location is required: lat and long, or address_string',
    ]);
  });

  test('every field at fault is named, one error each; nothing is written', async () => {
    const before = callsIn(C.id);
    const r = await postRequest('integration', {
      ...base, bogus: '1', media_url: 'http://files.example.cn/a.jpg', 'attribute[urgency]': 'now',
      'attribute[township_code]': 'TS-NOPE', description: 'x'.repeat(4001), phone: '1'.repeat(33),
    });
    expectOpen311Error(r, 400, [
      'bogus: is not a field this server takes',
      'description: may have at most 4000 characters',
      'phone: may have at most 32 characters',
      'media_url: must be an https URL of at most 2000 characters',
      'attribute[urgency]: must be one of: normal urgent emergency',
      'attribute[township_code]: names no township of this district',
    ]);
    expectOpen311Error(await postRequest('integration', { ...base, 'attribute[grid_code]': 'G-BCS-01' }), 400,
      'attribute[grid_code]: is not a grid cell of attribute[township_code]');
    expectOpen311Error(await postRequest('integration', { service_code: 'ZRZY-01', address_string: 'x' }), 400,
      'attribute[township_code]: is required (or attribute[grid_code], a cell of the township)');
    expectOpen311Error(await postRequest('integration', { ...base, jurisdiction_id: 'elsewhere.gov' }), 404,
      "jurisdiction_id: names no jurisdiction served here (the code of the token's district)");
    assert.equal(callsIn(C.id), before);
  });

  test('the form itself: a repeated field, bad UTF-8, a JSON body (415), an oversized body (413)', async () => {
    expectOpen311Error(await postRequest('integration', `${form(base)}&service_code=ZRZY-03`), 400,
      'service_code: is given more than once');
    expectOpen311Error(await postRequest('integration', `${form(base)}&description=%FF%FE`), 400,
      'description: is not valid UTF-8 text');
    const json = await request(d, 'POST', '/open311/v2/requests.json', {
      token: tk.integration, body: JSON.stringify(base), headers: { 'content-type': 'application/json' },
    });
    expectOpen311Error(json, 415, 'the body must be application/x-www-form-urlencoded (UTF-8)');
    const big = await raw(d, 'POST /open311/v2/requests.json HTTP/1.1\r\nHost: t\r\n'
      + `Authorization: Bearer ${tk.integration}\r\nContent-Type: ${FORM}\r\nContent-Length: 2000000\r\n\r\n`, { expect: 1 });
    assert.equal(big.responses.length, 1, 'no answer');
    expectOpen311Error(big.responses[0], 413, 'the body is larger than the limit');
    // a description of 4,000 characters is fine (GeoReport's limit)
    const ok = await postRequest('integration', { ...base, description: '长'.repeat(4000) });
    assert.equal(ok.status, 201, ok.text);
  });

  test('queries: unknown or malformed parameters are 400 naming them', async () => {
    expectOpen311Error(await requests('integration', '?page=2'), 400, 'page: is not a known query parameter');
    expectOpen311Error(await requests('integration', '?status=pending'), 400, 'status: must be a comma list of: open closed');
    expectOpen311Error(await requests('integration', '?service_request_id=1,x'), 400,
      'service_request_id: must be a comma list of up to 200 service request ids (positive integers)');
    expectOpen311Error(await requests('integration', '?start_date=2026-01-01'), 400,
      'start_date: must be an RFC 3339 timestamp with an offset, e.g. 2026-02-10T08:00:00+08:00');
    expectOpen311Error(await services('integration', '?api_key=x'), 400, 'api_key: is not a known query parameter');
    expectOpen311Error(await request(d, 'POST', '/open311/v2/requests.json?jurisdiction_id=x', {
      token: tk.integration, body: form(base), headers: { 'content-type': FORM },
    }), 400, 'jurisdiction_id: is not a known query parameter');
  });

  test('routes: XML is not served (404), unknown paths 404, wrong methods 405 with Allow', async () => {
    for (const p of ['/open311/v2/services.xml', '/open311/v2/requests.xml', `/open311/v2/requests/${made.ticket}.xml`]) {
      expectOpen311Error(await get(d, p, { token: tk.integration }), 404, 'only JSON is served here: ask for the .json resource');
    }
    for (const p of ['/open311/v2/services', '/open311/v2/requests/abc.json', '/open311/v2/requests/01.json',
      '/open311/v2/requests/1.JSON', '/open311/v2/tokens/1.json', '/open311/v2/services/ZRZY-01.json']) {
      expectOpen311Error(await get(d, p, { token: tk.integration }), 404, 'no such route');
    }
    const del = await request(d, 'DELETE', `/open311/v2/requests/${made.ticket}.json`, { token: tk.integration });
    expectOpen311Error(del, 405, 'this method is not allowed on this path');
    assert.equal(del.headers.allow, 'GET, HEAD, OPTIONS');
    const put = await request(d, 'PUT', '/open311/v2/requests.json', { body: '', headers: { 'content-type': FORM } });
    expectOpen311Error(put, 405, 'this method is not allowed on this path');
    assert.equal(put.headers.allow, 'GET, HEAD, POST, OPTIONS');
  });

  test('tokens: none 401, refused 401 (WWW-Authenticate), a role that may not post 403; X-Request-Id always', async () => {
    const none = await request(d, 'GET', '/open311/v2/services.json', { headers: { 'x-request-id': 'o311-trace.1' } });
    expectOpen311Error(none, 401, 'a bearer token is required');
    assert.equal(none.headers['www-authenticate'], WWW_NONE);
    assert.equal(none.headers['x-request-id'], 'o311-trace.1');
    const expired = await get(d, '/open311/v2/requests.json', { token: tokenFor(d, C, 'integration', { exp: 1000 }) });
    assert.equal(expired.status, 401);
    assert.equal(expired.headers['www-authenticate'], WWW_INVALID);
    expectOpen311Error(expired, 401);
    for (const who of ['township', 'department', 'district']) {
      expectOpen311Error(await postRequest(who, base), 403, 'this role may not use this route');
    }
    expectOpen311Error(await get(d, '/open311/v2/requests.json', { token: tokenFor(d, C, 'integration', { scope: 'calls:write' }) }),
      403, "the token's scope does not cover this route");
  });
});

describe('visibility: each role sees what it sees on /v1', () => {
  test('a department sees the calls behind its orders; a cooperating one without the lead order\'s name and deadline', async () => {
    // CD-ZRZY leads ZRZY-01 and ZRZY-03; STHJ-04 is in triage (no orders)
    const zrzy = ids(await requests('department'));
    assert.ok(zrzy.includes(made.ticket) && zrzy.includes(made.grid) && zrzy.includes(made.idem));
    assert.ok(!zrzy.includes(made.triage));
    expectOpen311Error(await one('department', made.triage), 404, 'no such resource, or not visible to this token');
    // CD-ZF cooperates on ZRZY-01 (and not on ZRZY-03: CD-HY, CD-GA, CD-WL)
    const zf = await requests('zf');
    assert.ok(ids(zf).includes(made.ticket) && !ids(zf).includes(made.grid));
    const s = zf.json.find((x) => x.service_request_id === made.idem);
    assert.equal(s.agency_responsible, null);
    assert.equal(s.expected_datetime, null);
    assert.equal(s.status_notes, 'dispatched');
    assert.ok(!zf.text.includes(PHONE) && !zf.text.includes('138****1234'), 'no reporter data, masked or not');
  });

  test('an integration sees only its own system\'s calls; the district office all; a township its own', async () => {
    assert.deepEqual(ids(await requests('integration2')), [made.other]);
    expectOpen311Error(await one('integration2', made.ticket), 404, 'no such resource, or not visible to this token');
    const mine = await created('township2', { title: 'open311: TS-BCS', triage: true });
    const office = ids(await requests('district'));
    for (const id of [made.ticket, made.other, made.grid, made.triage, made.idem, String(mine.id)]) assert.ok(office.includes(id), id);
    assert.ok(!ids(await requests('integration')).includes(String(mine.id)));
    assert.deepEqual(ids(await requests('township2')), [String(mine.id)]);
    assert.ok(!ids(await requests('township')).includes(String(mine.id)));
    assert.ok(ids(await requests('township')).includes(made.ticket), 'TS-NCS sees the calls made for it');
  });

  test('another district sees nothing: lists empty, every id 404, also by service_request_id', async () => {
    const all = [made.ticket, made.other, made.grid, made.triage, made.idem];
    for (const who of ['bDistrict', 'bIntegration', 'bTownship']) {
      assert.deepEqual(ids(await requests(who)), [], who);
      assert.deepEqual(ids(await requests(who, `?service_request_id=${all.join(',')}`)), [], who);
      for (const id of all) expectOpen311Error(await one(who, id), 404, 'no such resource, or not visible to this token');
    }
    // and B's integration may post only for B's townships (with B's list, which has no items)
    expectOpen311Error(await postRequest('bIntegration', { service_code: 'ZRZY-01', address_string: 'x', 'attribute[township_code]': 'TS-NCS' }),
      404, 'service_code: names no service of this district (a list item in force today)');
    assert.ok(B.id !== C.id);
  });
});
