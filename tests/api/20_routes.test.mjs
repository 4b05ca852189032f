// Every route of the route table: no token 401, each role it does not allow 403, another
// district's resource 404; unknown routes 404, wrong methods 405 with the exact Allow, ids
// that are not positive integers 404; and the check order of DESIGN §5.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  cli, expect401, expectOpen311Error, expectProblem, fixtures, isOpen311, psql, raw, request, ROLES, ROOT, scratchDistrict,
  startDaemon, tokenFor, WWW_NONE,
} from './lib.mjs';

const ROUTES = JSON.parse(cli(['routes']).stdout);
const AUTH_ROUTES = ROUTES.filter((r) => r.auth);
const NOT_VISIBLE = 'no such resource, or not visible to this token';

let fx;
let d;
let X; // "another district": demo data, the demo list (items) and one list change
let x; // ids of X's resources
before(async () => {
  fx = fixtures();
  d = await startDaemon({ HUYING_WEBHOOK_INTERVAL_MS: '0' }); // deliveries stay in the outbox
  X = scratchDistrict('RT');
  const imp = await request(d, 'POST', '/v1/imports/items?effective_from=2026-01-01', {
    token: tokenFor(d, X, 'district'),
    body: fs.readFileSync(path.join(ROOT, 'data/demo/items.ndjson')),
    headers: { 'content-type': 'application/x-ndjson' },
    check: false, // fixture set-up; the contract of these routes is checked by the tests below
  });
  assert.equal(imp.status, 200, imp.text);
  const item = Number(psql(`select id from huying.items where district_id = ${X.id} and code = 'ZRZY-01'`));
  const lc = await request(d, 'POST', '/v1/list-changes', {
    token: tokenFor(d, X, 'township'),
    body: { kind: 'retire', item_code: 'ZRZY-01', reason: 'routes test' },
    check: false,
  });
  assert.equal(lc.status, 201, lc.text);
  const call = await request(d, 'POST', '/v1/calls', {
    token: tokenFor(d, X, 'township'),
    body: { title: 'routes test', item_code: 'ZRZY-01' },
    check: false,
  });
  assert.equal(call.status, 201, call.text);
  const lead = call.json.orders.find((o) => o.role === 'lead');
  // a second call, whose lead order (X's department, CD-ZRZY) has a pending return request
  const call2 = await request(d, 'POST', '/v1/calls', {
    token: tokenFor(d, X, 'township'),
    body: { title: 'routes test: returned', item_code: 'ZRZY-01' },
    check: false,
  });
  assert.equal(call2.status, 201, call2.text);
  const ret = await request(d, 'POST', `/v1/orders/${call2.json.orders.find((o) => o.role === 'lead').id}/returns`, {
    token: tokenFor(d, X, 'department'),
    body: { reason: 'routes test' },
    check: false,
  });
  assert.equal(ret.status, 201, ret.text);
  // a third, in triage, for the township to cancel
  const spare = await request(d, 'POST', '/v1/calls', {
    token: tokenFor(d, X, 'township'),
    body: { title: 'routes test: cancelled', triage: true },
    check: false,
  });
  assert.equal(spare.status, 201, spare.text);
  // a supervision case on X's first call's lead order, opened by X's district office, and an
  // extension request on it by X's department (CD-ZRZY)
  const sup = await request(d, 'POST', '/v1/supervisions', {
    token: tokenFor(d, X, 'district'),
    body: { order_id: lead.id, reason: 'routes test' },
    check: false,
  });
  assert.equal(sup.status, 201, sup.text);
  const ext = await request(d, 'POST', `/v1/orders/${lead.id}/extensions`, {
    token: tokenFor(d, X, 'department'),
    body: { resolve_by: new Date(Date.parse(lead.resolve_by) + 86400e3).toISOString(), reason: 'routes test' },
    check: false,
  });
  assert.equal(ext.status, 201, ext.text);
  // a fourth call whose lead order X's department resolved and X's township rated
  const call3 = await request(d, 'POST', '/v1/calls', {
    token: tokenFor(d, X, 'township'), body: { title: 'routes test: rated', item_code: 'ZRZY-01' }, check: false,
  });
  assert.equal(call3.status, 201, call3.text);
  const rated = call3.json.orders.find((o) => o.role === 'lead').id;
  const res3 = await request(d, 'POST', `/v1/orders/${rated}/resolve`, {
    token: tokenFor(d, X, 'department'), body: { resolution: 'routes test' }, check: false,
  });
  assert.equal(res3.status, 200, res3.text);
  const rate = await request(d, 'POST', `/v1/orders/${rated}/rating`, {
    token: tokenFor(d, X, 'township'), body: { speed: 5, effectiveness: 5 }, check: false,
  });
  assert.equal(rate.status, 201, rate.text);
  // a webhook subscription of X's office to comments, and the delivery of one comment
  const hook = await request(d, 'POST', '/v1/webhooks', {
    token: tokenFor(d, X, 'district'),
    body: { url: 'https://hooks.example.com/huying', secret: 'routes-test-secret', events: ['call.commented'] },
    check: false,
  });
  assert.equal(hook.status, 201, hook.text);
  const comment = await request(d, 'POST', `/v1/calls/${call.json.id}/comments`, {
    token: tokenFor(d, X, 'district'), body: { text: 'routes test' }, check: false,
  });
  assert.equal(comment.status, 201, comment.text);
  const delivery = Number(psql(`select id from huying.webhook_deliveries where webhook_id = ${hook.json.id}`));
  // and one for the DELETE sample, which the scope test really deletes
  const hook2 = await request(d, 'POST', '/v1/webhooks', {
    token: tokenFor(d, X, 'district'),
    body: { url: 'https://hooks.example.com/second', secret: 'routes-test-secret', events: ['call.closed'] },
    check: false,
  });
  assert.equal(hook2.status, 201, hook2.text);
  x = {
    hook: hook.json.id, hook2: hook2.json.id, delivery,
    rated, dept: X.unit('CD-ZRZY'),
    unit: X.office, item, listChange: lc.json.id, call: call.json.id, order: lead.id, ret: ret.json.id, spare: spare.json.id,
    sup: sup.json.id, ext: ext.json.id,
  };
});
after(async () => { await d.stop(); });

// A request that an allowed role of district X could make: path, body, content type. Routes
// with an {id} name a resource of X, so that a district A token must get 404. Every route
// needs an entry here, so a new route cannot slip past these tests.
function sample(route) {
  const table = {
    'GET /v1/domains': { path: '/v1/domains' },
    'GET /v1/units': { path: '/v1/units' },
    'POST /v1/units': { path: '/v1/units', body: { code: 'NEVER-CREATED', kind: 'department', name: '不应创建' } },
    'GET /v1/units/{id}': { path: `/v1/units/${x.unit}` },
    'GET /v1/grids': { path: '/v1/grids' },
    'GET /v1/items': { path: '/v1/items' },
    'GET /v1/items/{id}': { path: `/v1/items/${x.item}` },
    'GET /v1/items/{id}/versions': { path: `/v1/items/${x.item}/versions` },
    'GET /v1/items/{id}/flow': { path: `/v1/items/${x.item}/flow` },
    'POST /v1/list-changes': { path: '/v1/list-changes', body: { kind: 'retire', item_code: 'ZRZY-02', reason: 'never' } },
    'GET /v1/list-changes': { path: '/v1/list-changes' },
    // submitted by X's township (TS-NCS): visible to it and to the district office
    'GET /v1/list-changes/{id}': { path: `/v1/list-changes/${x.listChange}`, visibleTo: ['township', 'district'] },
    'POST /v1/list-changes/{id}/approve': { path: `/v1/list-changes/${x.listChange}/approve`, body: {} },
    'POST /v1/list-changes/{id}/reject': { path: `/v1/list-changes/${x.listChange}/reject`, body: { reason: 'no' } },
    'POST /v1/list-changes/{id}/enact': {
      path: `/v1/list-changes/${x.listChange}/enact`, body: { city_ref: 'YT-1', effective_from: '2099-02-01' },
    },
    'POST /v1/calls': { path: '/v1/calls', body: { title: 'never', item_code: 'NOPE-99' } },
    'GET /v1/calls': { path: '/v1/calls' },
    // made by X's township (TS-NCS) for ZRZY-01, whose lead is X's department (CD-ZRZY)
    'GET /v1/calls/{id}': { path: `/v1/calls/${x.call}`, visibleTo: ['township', 'department', 'district'] },
    'GET /v1/calls/{id}/events': { path: `/v1/calls/${x.call}/events`, visibleTo: ['township', 'department', 'district'] },
    'POST /v1/calls/{id}/dispatch': { path: `/v1/calls/${x.call}/dispatch`, body: { orders: [] } },
    'POST /v1/calls/{id}/confirm': { path: `/v1/calls/${x.call}/confirm`, body: {} },
    'POST /v1/calls/{id}/comments': { path: `/v1/calls/${x.call}/comments`, body: { text: 'never' } },
    // a valid body: a district A token must get 404, not 422 (the body is checked first); X's
    // district office really makes the call urgent (harmless to the samples after it)
    'POST /v1/calls/{id}/urgency': { path: `/v1/calls/${x.call}/urgency`, body: { urgency: 'urgent', reason: 'never' } },
    // X's call is dispatched, not resolved: X's township gets 409 and nothing is reopened
    'POST /v1/calls/{id}/reopen': { path: `/v1/calls/${x.call}/reopen`, body: { reason: 'never' } },
    // X's township really cancels its spare call in triage (harmless to the other samples)
    'POST /v1/calls/{id}/cancel': { path: `/v1/calls/${x.spare}/cancel`, body: { reason: 'never' } },
    'GET /v1/orders': { path: '/v1/orders' },
    'GET /v1/orders/{id}': { path: `/v1/orders/${x.order}`, visibleTo: ['township', 'department', 'district'] },
    'POST /v1/orders/{id}/accept': { path: `/v1/orders/${x.order}/accept`, body: {} },
    'POST /v1/orders/{id}/resolve': { path: `/v1/orders/${x.order}/resolve`, body: { resolution: 'never' } },
    'POST /v1/orders/{id}/plan': {
      path: `/v1/orders/${x.order}/plan`, body: { plan: 'never', resolve_by: '2099-01-01T00:00:00+08:00' },
    },
    // X's call's cooperating order of CD-ZJ, not the lead: X's district office really cancels it
    // (a valid body, for the 404 of district A), and the call and its lead stay as they are
    get 'POST /v1/orders/{id}/cancel'() {
      x.zj ??= Number(psql(`select o.id from huying.orders o join huying.units u on u.id = o.department_id
        where o.call_id = ${x.call} and u.code = 'CD-ZJ'`));
      return { path: `/v1/orders/${x.zj}/cancel`, body: { reason: 'never' } };
    },
    // by the time X's department tries it, the samples above have resolved X's lead order: 409
    'POST /v1/orders/{id}/returns': { path: `/v1/orders/${x.order}/returns`, body: { reason: 'never' } },
    'GET /v1/returns': { path: '/v1/returns' },
    // on X's second call (TS-NCS's), asked by X's department (CD-ZRZY)
    'GET /v1/returns/{id}': { path: `/v1/returns/${x.ret}`, visibleTo: ['township', 'department', 'district'] },
    // X's department really withdraws it; the rulings after it then get 409 (not pending)
    'POST /v1/returns/{id}/withdraw': { path: `/v1/returns/${x.ret}/withdraw`, body: {} },
    'POST /v1/returns/{id}/uphold': { path: `/v1/returns/${x.ret}/uphold`, body: { reason: 'never' } },
    'POST /v1/returns/{id}/overrule': { path: `/v1/returns/${x.ret}/overrule`, body: { reason: 'never' } },
    // the working-time configuration: readable by the roles of the district, written by its
    // office (the district role never sends these PUTs here: nothing of X changes)
    'GET /v1/timers': { path: '/v1/timers' },
    'GET /v1/orders/{id}/timers': { path: `/v1/orders/${x.order}/timers`, visibleTo: ['township', 'department', 'district'] },
    'GET /v1/calendar/{year}': { path: '/v1/calendar/2026' },
    'PUT /v1/calendar/{year}': { path: '/v1/calendar/2099', body: { office_hours: [['09:00', '17:00']], days: [] } },
    'GET /v1/sla-policies': { path: '/v1/sla-policies' },
    ...Object.fromEntries(['normal', 'urgent', 'emergency'].map((u) => [`PUT /v1/sla-policies/${u}`, {
      path: `/v1/sla-policies/${u}`,
      body: { accept: { minutes: 60, clock: 'wall' }, resolve: { working_days: 2 }, triage: { minutes: 30, clock: 'wall' }, warn_percent: 75 },
    }])),
    'GET /v1/settings': { path: '/v1/settings' },
    'PUT /v1/settings': {
      path: '/v1/settings', body: { reopen_days: 7, auto_close_days: 7, escalation_grace_days: 1, extension_lead_days: 1,
        weight_response: 0.3, weight_resolution: 0.3, weight_satisfaction: 0.4, penalty: 2 },
    },
    // the timers of the district, and of X's first call's lead order
    'GET /v1/timers': { path: '/v1/timers' },
    'GET /v1/orders/{id}/timers': { path: `/v1/orders/${x.order}/timers`, visibleTo: ['township', 'department', 'district'] },
    // supervision: X's case on its first call's lead order (CD-ZRZY's); X's district office
    // really adds a notice and then closes it (a second open on the order is 409)
    'GET /v1/supervisions': { path: '/v1/supervisions' },
    'POST /v1/supervisions': { path: '/v1/supervisions', body: { order_id: x.order, reason: 'never' } },
    'GET /v1/supervisions/{id}': { path: `/v1/supervisions/${x.sup}` },
    'POST /v1/supervisions/{id}/notices': { path: `/v1/supervisions/${x.sup}/notices`, body: { kind: 'reminder', text: 'never' } },
    'POST /v1/supervisions/{id}/close': { path: `/v1/supervisions/${x.sup}/close`, body: {} },
    'GET /v1/notices': { path: '/v1/notices' },
    // extensions: X's department's request on the same order, visible to the call's township
    // too; X's district office really approves it, and the rejection after it is 409
    'POST /v1/orders/{id}/extensions': {
      path: `/v1/orders/${x.order}/extensions`, body: { resolve_by: '2099-01-01T00:00:00+08:00', reason: 'never' },
    },
    'GET /v1/extensions': { path: '/v1/extensions' },
    'GET /v1/extensions/{id}': { path: `/v1/extensions/${x.ext}`, visibleTo: ['township', 'department', 'district'] },
    'POST /v1/extensions/{id}/approve': { path: `/v1/extensions/${x.ext}/approve`, body: {} },
    'POST /v1/extensions/{id}/reject': { path: `/v1/extensions/${x.ext}/reject`, body: { reason: 'never' } },
    // ratings and scores: X's rated order (a second rating is 409); X's CD-ZRZY's figures
    'POST /v1/orders/{id}/rating': { path: `/v1/orders/${x.rated}/rating`, body: { speed: 1, effectiveness: 1 } },
    'GET /v1/orders/{id}/rating': { path: `/v1/orders/${x.rated}/rating` },
    'GET /v1/ratings': { path: '/v1/ratings' },
    'GET /v1/events': { path: '/v1/events' },
    'POST /v1/webhooks': { path: '/v1/webhooks', body: { url: 'https://never.example.com/', secret: 'never-created-secret', events: ['call.closed'] } },
    'GET /v1/webhooks': { path: '/v1/webhooks' },
    'GET /v1/webhooks/{id}': { path: `/v1/webhooks/${x.hook}` },
    'DELETE /v1/webhooks/{id}': { path: `/v1/webhooks/${x.hook2}` },
    'GET /v1/webhooks/{id}/deliveries': { path: `/v1/webhooks/${x.hook}/deliveries` },
    'POST /v1/webhooks/{id}/deliveries/{delivery_id}/redeliver': {
      path: `/v1/webhooks/${x.hook}/deliveries/${x.delivery}/redeliver`, body: {},
    },
    'GET /v1/scores': { path: '/v1/scores' },
    'GET /v1/scores/departments/{id}': { path: `/v1/scores/departments/${x.dept}` },
    'POST /v1/imports/units': { path: '/v1/imports/units?dry_run=true', body: 'code,kind,name,parent_code,phone\r\n', ct: 'text/csv' },
    'POST /v1/imports/grids': { path: '/v1/imports/grids?dry_run=true', body: 'code,level,name,parent_code\r\n', ct: 'text/csv' },
    'POST /v1/imports/items': { path: '/v1/imports/items?dry_run=true', body: '', ct: 'application/x-ndjson' },
    'POST /v1/imports/calendar': { path: '/v1/imports/calendar?dry_run=true', body: 'date,kind,name\r\n', ct: 'text/csv' },
    // Open311 (errors in Open311's format: see expectError); the POST names no service, so
    // an integration of X gets 404 and nothing is created
    'GET /open311/v2/services.json': { path: '/open311/v2/services.json' },
    'GET /open311/v2/requests.json': { path: '/open311/v2/requests.json' },
    'POST /open311/v2/requests.json': {
      path: '/open311/v2/requests.json', body: 'service_code=NOPE-99&address_string=x&attribute%5Btownship_code%5D=TS-NCS',
      ct: 'application/x-www-form-urlencoded',
    },
    'GET /open311/v2/requests/{id}.json': { path: `/open311/v2/requests/${x.call}.json`, visibleTo: ['township', 'department', 'district'] },
  };
  const s = table[`${route.method} ${route.path}`];
  assert.ok(s, `no sample request for ${route.method} ${route.path}: add one to 20_routes.test.mjs`);
  const body = s.body === undefined || typeof s.body === 'string' ? s.body : JSON.stringify(s.body);
  const headers = body === undefined ? {} : { 'content-type': s.ct || 'application/json' };
  return { ...s, body, headers };
}
const send = (route, s, token) => request(d, route.method, s.path, { token, body: s.body, headers: s.headers });

// The error answer of a route: a problem, or on /open311/ paths Open311's own error format
// (the same statuses, 401 with the same WWW-Authenticate).
function expectError(route, r, status, detail, { www } = {}) {
  if (!isOpen311(route.path)) {
    if (status === 401) expect401(r, detail, www ? { www } : undefined);
    else expectProblem(r, status, detail);
    return;
  }
  expectOpen311Error(r, status, detail);
  if (status === 401 && www) assert.equal(r.headers['www-authenticate'], www);
}

// The Allow header the daemon must send for a path template: its methods in route-table
// order, HEAD after GET, then OPTIONS.
function allowFor(template) {
  const ms = [];
  for (const r of ROUTES.filter((x) => x.path === template)) {
    ms.push(r.method);
    if (r.method === 'GET') ms.push('HEAD');
  }
  return [...ms, 'OPTIONS'].join(', ');
}

describe('every route that needs a token', () => {
  test('no token: 401 "a bearer token is required" with WWW-Authenticate: Bearer realm="huying"', async () => {
    assert.ok(AUTH_ROUTES.length >= 5);
    for (const route of AUTH_ROUTES) {
      const s = sample(route);
      const r = await send(route, s);
      expectError(route, r, 401, 'a bearer token is required', { www: WWW_NONE });
    }
  });

  test('each role it does not allow: 403 "this role may not use this route"', async () => {
    let checked = 0;
    for (const route of AUTH_ROUTES) {
      const s = sample(route);
      for (const role of ROLES.filter((x) => !route.roles.includes(x))) {
        const r = await send(route, s, tokenFor(d, X, role));
        expectError(route, r, 403, 'this role may not use this route');
        checked++;
      }
    }
    // POST /v1/units is district-only: township, department and integration at least
    assert.ok(checked >= 3);
    assert.equal(psql("select count(*) from huying.units where code = 'NEVER-CREATED'"), '0');
  });

  test('a token whose scope does not name the route\'s scope: 403', async () => {
    for (const route of AUTH_ROUTES.filter((r) => r.scope)) {
      const s = sample(route);
      const other = route.scope === 'imports:write' ? 'calls:read' : 'imports:write';
      const r = await send(route, s, tokenFor(d, X, route.roles[0], { scope: `${other} something:else` }));
      expectError(route, r, 403, "the token's scope does not cover this route");
      const ok = await send(route, s, tokenFor(d, X, route.roles[0], { scope: `${other} ${route.scope}` }));
      assert.notEqual(ok.status, 403, `${route.method} ${route.path}: ${ok.text.slice(0, 300)}`);
    }
  });

  test('each role it allows gets through (GET: 200)', async () => {
    for (const route of AUTH_ROUTES.filter((r) => r.method === 'GET')) {
      const s = sample(route);
      for (const role of s.visibleTo || route.roles) {
        const r = await send(route, s, tokenFor(d, X, role));
        assert.equal(r.status, 200, `${role} ${route.method} ${s.path}: ${r.text.slice(0, 300)}`);
      }
    }
  });

  test("another district's resource: 404, for every role the route allows", async () => {
    const withId = AUTH_ROUTES.filter((r) => r.path.includes('{id}'));
    assert.ok(withId.length >= 1);
    for (const route of withId) {
      const s = sample(route);
      for (const role of route.roles) {
        const r = await send(route, s, tokenFor(d, fx.A, role));
        expectError(route, r, 404);
      }
    }
    const r = await request(d, 'GET', `/v1/units/${fx.B.office}`, { token: tokenFor(d, fx.A, 'township') });
    expectProblem(r, 404, NOT_VISIBLE);
  });

  test('an id that does not exist: 404', async () => {
    const r = await request(d, 'GET', '/v1/units/999999999', { token: tokenFor(d, fx.A, 'township') });
    expectProblem(r, 404, NOT_VISIBLE);
  });
});

describe('routing', () => {
  test('unknown routes: 404 problem "no such route", with or without a token', async () => {
    const paths = ['/v1/nope', '/', '/v1', '/v1/', '/v1/units/', '/V1/units', '/v1/units/1/extra',
      '/healthz/', '/v1/openapi.yaml', '/index.html', '/v1/units;x'];
    for (const p of paths) {
      for (const token of [undefined, tokenFor(d, fx.A, 'district')]) {
        const r = await request(d, 'GET', p, { token });
        expectProblem(r, 404, 'no such route');
      }
    }
  });

  test('ids that are not positive integers: 404 (never 400 or 500)', async () => {
    const t = tokenFor(d, fx.A, 'district');
    for (const id of ['abc', '0', '-1', '01', '1e3', '1.0', '%31', '9999999999999999', '99999999999999999999999', ' 1']) {
      const r = await request(d, 'GET', `/v1/units/${id.replace(' ', '%20')}`, { token: t });
      expectProblem(r, 404, 'no such route');
    }
  });

  test('wrong method: 405 with the exact Allow, before the token is looked at', async () => {
    const templates = [...new Set(ROUTES.map((r) => r.path))];
    let n = 0;
    for (const tpl of templates) {
      const p = tpl.replace(/\{[a-z_]+\}/g, String(fx.A.office)); // {id}, {year}
      const have = ROUTES.filter((r) => r.path === tpl).map((r) => r.method);
      for (const m of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((x) => !have.includes(x))) {
        for (const token of [undefined, tokenFor(d, fx.A, 'district')]) {
          const r = await request(d, m, p, { token, body: m === 'GET' ? undefined : '{}', headers: { 'content-type': 'application/json' } });
          expectError({ path: tpl }, r, 405, 'this method is not allowed on this path');
          assert.equal(r.headers.allow, allowFor(tpl), `${m} ${p}`);
          n++;
        }
      }
    }
    assert.ok(n >= 20);
    assert.equal(allowFor('/v1/units'), 'GET, HEAD, POST, OPTIONS');
  });

  test('HEAD of a GET route: the same status and headers, no body', async () => {
    const t = tokenFor(d, fx.A, 'township');
    const g = await request(d, 'GET', `/v1/units/${fx.A.office}`, { token: t });
    const h = await request(d, 'HEAD', `/v1/units/${fx.A.office}`, { token: t });
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
    assert.equal(h.headers.etag, g.headers.etag);
    assert.equal(h.headers['content-type'], g.headers['content-type']);
    const n = await request(d, 'HEAD', '/v1/units', {});
    assert.equal(n.status, 401);
  });
});

describe('check order (DESIGN §5)', () => {
  const body = JSON.stringify({ code: 'ORDER-X', kind: 'department', name: 'x' });

  test('413 comes before 401: an oversized body without a token', async () => {
    const r = await raw(d, 'POST /v1/units HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n'
      + 'Content-Length: 2000000\r\n\r\n', { expect: 1 });
    assert.equal(r.responses.length, 1, 'no answer');
    expectProblem(r.responses[0], 413, 'the body is larger than the limit');
  });

  test('401 comes before 415 and 400', async () => {
    const r = await request(d, 'POST', '/v1/units', { body: '{bad', headers: { 'content-type': 'text/plain' } });
    expect401(r, 'a bearer token is required', { www: WWW_NONE });
  });

  test('403 comes before 415, 400 and 422', async () => {
    const t = tokenFor(d, fx.A, 'township');
    for (const [ct, b] of [['text/plain', body], ['application/json', '{bad'], ['application/json', '{"bogus":1}']]) {
      const r = await request(d, 'POST', '/v1/units', { token: t, body: b, headers: { 'content-type': ct } });
      expectProblem(r, 403, 'this role may not use this route');
    }
  });

  test('415 comes before 400', async () => {
    const r = await request(d, 'POST', '/v1/units', { token: tokenFor(d, fx.A, 'district'), body: '{bad', headers: { 'content-type': 'text/plain' } });
    expectProblem(r, 415, 'the body must be application/json (UTF-8)');
  });

  test('400 comes before 422', async () => {
    const r = await request(d, 'POST', '/v1/units', {
      token: tokenFor(d, fx.A, 'district'), body: '{"bogus":1,"bogus":2}', headers: { 'content-type': 'application/json' },
    });
    expectProblem(r, 400, 'duplicate key "bogus"');
  });

  test('401 comes before 422 on a list', async () => {
    expect401(await request(d, 'GET', '/v1/units?limit=0'), 'a bearer token is required', { www: WWW_NONE });
  });
});
