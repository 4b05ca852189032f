// Operations (DESIGN §5): /healthz, /readyz, /metrics, /v1/openapi.json; X-Request-Id; CORS
// from HUYING_CORS_ORIGINS only (civetweb's own `*` answers off); one JSON log line per
// request; errors civetweb detects itself still answered as problem+json.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectProblem, fixtures, freePort, get, openapi, psql, raw, request, startDaemon, tokenFor,
} from './lib.mjs';

let fx;
before(() => { fx = fixtures(); });

describe('default daemon', () => {
  let d;
  before(async () => { d = await startDaemon({ HUYING_DB_POOL: 8 }); });
  after(async () => { await d.stop(); });

  test('/healthz: 200 {"status":"ok"}', async () => {
    const r = await get(d, '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ok' });
    assert.match(r.headers['content-type'], /^application\/json/);
  });

  test('/readyz: 200 with the schema version of the database', async () => {
    const r = await get(d, '/readyz');
    assert.equal(r.status, 200, r.text);
    const version = Number(psql('select max(version) from public.huying_migrations'));
    assert.ok(version >= 1);
    assert.deepEqual(r.json, { status: 'ready', schema_version: version });
  });

  test('/metrics: requests by route and status, latency histogram, the pool', async () => {
    const t = tokenFor(d, fx.A, 'township');
    for (let i = 0; i < 3; i++) assert.equal((await get(d, '/v1/units?limit=1', { token: t })).status, 200);
    await get(d, '/v1/units?limit=0', { token: t });
    await get(d, '/nope');
    const r = await get(d, '/metrics');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const m = r.text;
    const count = (re) => Number((re.exec(m) || [])[1]);
    assert.ok(count(/^huying_http_requests_total\{method="GET",route="\/v1\/units",status="200"\} (\d+)$/m) >= 3, m);
    assert.ok(count(/^huying_http_requests_total\{method="GET",route="\/v1\/units",status="422"\} (\d+)$/m) >= 1, m);
    assert.ok(count(/^huying_http_requests_total\{method="",route="unmatched",status="404"\} (\d+)$/m) >= 1, m);
    assert.ok(count(/^huying_http_request_duration_seconds_count\{method="GET",route="\/v1\/units"\} (\d+)$/m) >= 4, m);
    assert.match(m, /^huying_http_request_duration_seconds_bucket\{method="GET",route="\/v1\/units",le="\+Inf"\} \d+$/m);
    assert.match(m, /^# TYPE huying_http_requests_total counter$/m);
    assert.match(m, /^# TYPE huying_http_request_duration_seconds histogram$/m);
    assert.match(m, /^huying_db_pool_size 8$/m);
    assert.match(m, /^huying_db_pool_open [1-8]$/m);
    assert.match(m, /^huying_db_pool_in_use 0$/m);
    // every sample line is `name{labels} value` or `name value`
    for (const line of m.split('\n').filter((l) => l && !l.startsWith('#')))
      assert.match(line, /^[a-z_]+(\{[^}]*\})? [0-9.e+-]+$/, line);
  });

  test('/v1/openapi.json equals openapi/openapi.yaml', async () => {
    const r = await get(d, '/v1/openapi.json');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, openapi);
  });

  test('X-Request-Id: a valid one is echoed, in the header and in problems', async () => {
    for (const id of ['abc-123_X.y', 'a', 'Z'.repeat(64)]) {
      let r = await get(d, '/healthz', { headers: { 'x-request-id': id } });
      assert.equal(r.headers['x-request-id'], id);
      r = await get(d, '/v1/units', { headers: { 'x-request-id': id } });
      assert.equal(r.status, 401);
      assert.equal(r.headers['x-request-id'], id);
      assert.equal(r.json.request_id, id);
    }
  });

  test('X-Request-Id: an invalid one is replaced by a new one', async () => {
    const seen = new Set();
    for (const id of ['Z'.repeat(65), 'bad id', 'a/b', 'a"b', 'ä', 'x;y', '']) {
      const r = await get(d, '/v1/units', { headers: { 'x-request-id': Buffer.from(id).toString('latin1') } });
      const got = r.headers['x-request-id'];
      assert.notEqual(got, id);
      assert.match(got, /^[A-Za-z0-9._-]{1,64}$/);
      assert.equal(r.json.request_id, got);
      seen.add(got);
    }
    assert.equal(seen.size, 7, 'generated request ids repeat');
  });

  test('one JSON log line per request: method, route, status, duration_ms, request_id, sub', async () => {
    const t = tokenFor(d, fx.A, 'department');
    const runs = [
      ['log-ok-1', `/v1/units/${fx.A.office}`, t, 200, '/v1/units/{id}', `test:department:${fx.A.code}`],
      ['log-401-1', '/v1/units', undefined, 401, '/v1/units', undefined],
      ['log-404-1', '/nowhere', undefined, 404, null, undefined],
      ['log-health-1', '/healthz', undefined, 200, '/healthz', undefined],
    ];
    for (const [rid, p, token, status] of runs) {
      const r = await get(d, p, { token, headers: { 'x-request-id': rid } });
      assert.equal(r.status, status);
    }
    for (const [rid, , , status, route, sub] of runs) {
      await d.waitForLog((l) => l.request_id === rid);
      const lines = d.logs.filter((l) => l.request_id === rid);
      assert.equal(lines.length, 1, `${rid}: ${lines.length} log lines`);
      const l = lines[0];
      assert.equal(l.level, 'info');
      assert.equal(l.method, 'GET');
      assert.equal(l.route, route);
      assert.equal(l.status, status);
      assert.equal(typeof l.duration_ms, 'number');
      assert.ok(l.duration_ms >= 0 && l.duration_ms < 60000);
      assert.match(l.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(l.sub, sub);
    }
    // every stderr line is one JSON object
    assert.deepEqual(d.logs.filter((l) => l.raw !== undefined), []);
  });

  test('without HUYING_CORS_ORIGINS a preflight gets no CORS headers (no civetweb "*")', async () => {
    const r = await request(d, 'OPTIONS', '/v1/units', {
      headers: { origin: 'https://ui.example', 'access-control-request-method': 'GET' },
    });
    expectProblem(r, 403, 'this origin is not allowed (HUYING_CORS_ORIGINS)');
    for (const h of Object.keys(r.headers)) assert.ok(!h.startsWith('access-control-'), h);
    const g = await get(d, '/healthz', { headers: { origin: 'https://ui.example' } });
    for (const h of Object.keys(g.headers)) assert.ok(!h.startsWith('access-control-'), h);
  });

  test('plain OPTIONS: 204 with Allow', async () => {
    let r = await request(d, 'OPTIONS', '/v1/units');
    assert.equal(r.status, 204);
    assert.equal(r.headers.allow, 'GET, HEAD, POST, OPTIONS');
    r = await request(d, 'OPTIONS', `/v1/units/${fx.A.office}`);
    assert.equal(r.status, 204);
    assert.equal(r.headers.allow, 'GET, HEAD, OPTIONS');
    r = await request(d, 'OPTIONS', '/nope');
    expectProblem(r, 404, 'no such route');
  });

  test('requests civetweb refuses itself (bad request line, oversized headers) are still problem+json', async () => {
    const junk = await raw(d, 'NONSENSE\r\n\r\n', { timeout: 5000 });
    assert.equal(junk.responses.length, 1, 'no answer');
    assert.equal(junk.responses[0].status, 400);
    const big = await raw(d, `GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(140000)}\r\n\r\n`, { timeout: 5000 });
    assert.equal(big.responses.length, 1, 'no answer');
    assert.ok([400, 413, 431].includes(big.responses[0].status), String(big.responses[0].status));
  });
});

describe('CORS with HUYING_CORS_ORIGINS=https://ui.example', () => {
  let d;
  before(async () => { d = await startDaemon({ HUYING_CORS_ORIGINS: 'https://ui.example' }); });
  after(async () => { await d.stop(); });

  const noStar = (r) => {
    for (const [k, v] of Object.entries(r.headers)) if (k.startsWith('access-control-')) assert.notEqual(v.trim(), '*', k);
  };

  test('a preflight from the allowed origin: 204 with that origin, methods and headers', async () => {
    const r = await request(d, 'OPTIONS', '/v1/units', {
      headers: {
        origin: 'https://ui.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers['access-control-allow-origin'], 'https://ui.example');
    assert.equal(r.headers['access-control-allow-methods'], 'GET, HEAD, POST, OPTIONS');
    const allowed = r.headers['access-control-allow-headers'].split(',').map((s) => s.trim().toLowerCase());
    for (const h of ['authorization', 'content-type', 'if-match', 'idempotency-key', 'x-request-id']) assert.ok(allowed.includes(h), h);
    assert.match(r.headers['access-control-max-age'], /^\d+$/);
    assert.equal(r.headers.vary, 'Origin');
    noStar(r);
  });

  test('a preflight from another origin: 403 problem, no CORS headers, never "*"', async () => {
    for (const origin of ['https://evil.example', 'https://ui.example.evil', 'http://ui.example', 'null', 'https://UI.example']) {
      const r = await request(d, 'OPTIONS', '/v1/units', {
        headers: { origin, 'access-control-request-method': 'GET' },
      });
      expectProblem(r, 403, 'this origin is not allowed (HUYING_CORS_ORIGINS)');
      assert.equal(r.headers['access-control-allow-origin'], undefined, origin);
      noStar(r);
    }
  });

  test('a real GET with the allowed Origin carries ACAO and Vary: Origin; another origin gets none', async () => {
    const t = tokenFor(d, fx.A, 'township');
    let r = await get(d, '/v1/units?limit=1', { token: t, headers: { origin: 'https://ui.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], 'https://ui.example');
    assert.equal(r.headers.vary, 'Origin');
    assert.match(r.headers['access-control-expose-headers'], /ETag/);
    assert.match(r.headers['access-control-expose-headers'], /X-Request-Id/);
    // errors too (a browser must be able to read the problem)
    r = await get(d, '/v1/units?limit=0', { token: t, headers: { origin: 'https://ui.example' } });
    assert.equal(r.status, 422);
    assert.equal(r.headers['access-control-allow-origin'], 'https://ui.example');
    r = await get(d, '/v1/units?limit=1', { token: t, headers: { origin: 'https://evil.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.equal(r.headers.vary, 'Origin');
    noStar(r);
  });

  test('a preflight of an unknown route is 404; of a known one without ACRM is a plain OPTIONS', async () => {
    let r = await request(d, 'OPTIONS', '/nope', { headers: { origin: 'https://ui.example', 'access-control-request-method': 'GET' } });
    expectProblem(r, 404, 'no such route');
    r = await request(d, 'OPTIONS', '/v1/units', { headers: { origin: 'https://ui.example' } });
    assert.equal(r.status, 204);
    assert.equal(r.headers.allow, 'GET, HEAD, POST, OPTIONS');
  });
});

describe('HUYING_METRICS_LISTEN', () => {
  let d;
  let mport;
  before(async () => {
    mport = await freePort();
    d = await startDaemon({ HUYING_METRICS_LISTEN: `127.0.0.1:${mport}` });
  });
  after(async () => { await d.stop(); });

  test('/metrics is served on the metrics listener only', async () => {
    const r = await get(`http://127.0.0.1:${mport}`, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.text, /^huying_db_pool_size \d+$/m);
    expectProblem(await get(d, '/metrics'), 404, 'metrics are served on HUYING_METRICS_LISTEN');
  });

  test('anything else on the metrics listener is a 404 problem', async () => {
    const r = await get(`http://127.0.0.1:${mport}`, '/v1/units', { route: null });
    expectProblem(r, 404);
  });
});

describe('rate limit per token subject (HUYING_RATE_LIMIT=1, HUYING_RATE_BURST=3)', () => {
  let d;
  before(async () => { d = await startDaemon({ HUYING_RATE_LIMIT: 1, HUYING_RATE_BURST: 3 }); });
  after(async () => { await d.stop(); });

  test('a burst beyond the limit gets 429 with Retry-After; other subjects and /healthz are not affected', async () => {
    const t = tokenFor(d, fx.A, 'township', { sub: 'rate-1' });
    const statuses = [];
    let limited;
    for (let i = 0; i < 6; i++) {
      const r = await get(d, '/v1/units?limit=1', { token: t });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
    assert.ok(limited, `no 429 in ${statuses}`);
    expectProblem(limited, 429, 'too many requests from this token subject; slow down');
    assert.equal(limited.headers['retry-after'], '1');
    const other = await get(d, '/v1/units?limit=1', { token: tokenFor(d, fx.A, 'township', { sub: 'rate-2' }) });
    assert.equal(other.status, 200);
    // the same sub in another district is another subject
    const otherDistrict = await get(d, '/v1/units?limit=1', { token: tokenFor(d, fx.B, 'township', { sub: 'rate-1' }) });
    assert.equal(otherDistrict.status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await get(d, '/healthz')).status, 200);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await get(d, '/v1/units?limit=1', { token: t })).status, 200);
  });
});
