// Faults (DESIGN §3, §6): many keep-alive clients, pool exhaustion, statement_timeout, the
// database going away and coming back, SIGTERM draining, slow clients. Runs last: it stops
// and restarts the test database.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import {
  expectProblem, fixtures, get, listAll, pgctl, PG_DIR, PG_PORT, post, psqlSession, raw, request,
  scratchDistrict, sleep, startDaemon, tokenFor,
} from './lib.mjs';

let fx;
let W; // a district of this file's own, for writes
before(() => {
  fx = fixtures();
  W = scratchDistrict('RS');
});

// Holds ACCESS EXCLUSIVE on a table from an owner session until release().
async function lockTable(table) {
  const s = psqlSession();
  s.send(`begin; lock table huying.${table} in access exclusive mode; select 'locked-${table}';`);
  await s.waitFor(`locked-${table}`);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      s.send('rollback;');
      await s.close();
    },
  };
}

test('100 keep-alive clients at once (128 threads, pool of 8): every client is answered, no 5xx', async () => {
  const d = await startDaemon({ HUYING_THREADS: 128, HUYING_DB_POOL: 8 });
  try {
    const unit = fx.A.unit('CD-ZRZY');
    const until = Date.now() + 5000;
    const clients = Array.from({ length: 100 }, (_, i) => ({
      agent: new http.Agent({ keepAlive: true, maxSockets: 1 }),
      // one subject per client, as with real users (the rate limit is per subject)
      token: tokenFor(d, fx.A, ['township', 'department', 'district', 'integration'][i % 4], { sub: `load-${i}` }),
      answers: 0,
      statuses: {},
      sockets: 0,
    }));
    await Promise.all(clients.map(async (c) => {
      const origCreate = c.agent.createConnection.bind(c.agent);
      c.agent.createConnection = (...args) => { c.sockets++; return origCreate(...args); };
      while (Date.now() < until) {
        const r = await request(d, 'GET', `/v1/units/${unit}`, { token: c.token, agent: c.agent, timeout: 20000 });
        c.answers++;
        c.statuses[r.status] = (c.statuses[r.status] || 0) + 1;
        assert.equal(r.json.id, unit);
      }
      c.agent.destroy();
    }));
    const starved = clients.filter((c) => c.answers === 0).length;
    assert.equal(starved, 0, `${starved} clients got no answer`);
    const total = clients.reduce((n, c) => n + c.answers, 0);
    const bad = clients.flatMap((c) => Object.keys(c.statuses).filter((s) => s !== '200').map((s) => `${s} x${c.statuses[s]}`));
    assert.deepEqual(bad, [], `non-200 answers among ${total}`);
    assert.ok(clients.every((c) => c.sockets === 1), `clients reconnected: ${clients.map((c) => c.sockets).join(',')}`);
    const m = await get(d, '/metrics');
    assert.match(m.text, /^huying_db_pool_open [1-8]$/m);
  } finally {
    await d.stop();
  }
});

describe('a table locked by another session', () => {
  test('pool exhaustion (HUYING_DB_POOL=1, HUYING_DB_WAIT_MS=200): 503 with Retry-After', async () => {
    const d = await startDaemon({ HUYING_DB_POOL: 1, HUYING_DB_WAIT_MS: 200 });
    const t = tokenFor(d, fx.A, 'township');
    // open the one connection and prepare the statements before the lock
    assert.equal((await get(d, `/v1/units/${fx.A.office}`, { token: t })).status, 200);
    assert.equal((await get(d, '/v1/domains', { token: t })).status, 200);
    const lock = await lockTable('units');
    try {
      const slow = request(d, 'GET', `/v1/units/${fx.A.office}`, { token: t, timeout: 20000 });
      await sleep(400);
      const t0 = Date.now();
      const r = await get(d, '/v1/domains', { token: t, timeout: 10000 });
      expectProblem(r, 503, 'all database connections are busy');
      assert.equal(r.headers['retry-after'], '1');
      assert.ok(Date.now() - t0 < 3000, `the busy answer took ${Date.now() - t0} ms`);
      const m = await get(d, '/metrics');
      assert.match(m.text, /^huying_db_wait_timeouts_total [1-9]\d*$/m);
      assert.match(m.text, /^huying_db_pool_in_use 1$/m);
      await lock.release();
      const s = await slow;
      assert.equal(s.status, 200, s.text);
      assert.equal(s.json.id, fx.A.office);
      // the pool is free again
      assert.equal((await get(d, '/v1/domains', { token: t })).status, 200);
    } finally {
      await lock.release();
      await d.stop();
    }
  });

  test('statement_timeout (300 ms) on a locked table: 503, and nothing is written', async () => {
    const d = await startDaemon({ HUYING_STATEMENT_TIMEOUT_MS: 300 });
    try {
      await statementTimeout(d);
    } finally {
      await d.stop();
    }
  });

  async function statementTimeout(d) {
    const t = tokenFor(d, W, 'district');
    // warm up: connect and prepare, so that only the statements themselves meet the lock
    assert.equal((await post(d, '/v1/units', { code: 'RS-WARM', kind: 'department', name: 'warm' }, { token: t })).status, 201);
    assert.equal((await get(d, '/v1/domains', { token: t })).status, 200);
    const body = { code: 'RS-TIMEOUT', kind: 'department', name: 'never' };
    let lock = await lockTable('domains');
    try {
      const t0 = Date.now();
      const r = await get(d, '/v1/domains', { token: t, timeout: 10000 });
      expectProblem(r, 503, 'the request took too long and was cancelled');
      assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    } finally {
      await lock.release();
    }
    lock = await lockTable('units');
    let r;
    try {
      const t0 = Date.now();
      r = await request(d, 'POST', '/v1/units', {
        token: t, body, headers: { 'idempotency-key': 'rs-timeout' }, timeout: 8000,
      }).catch((e) => e);
      assert.ok(!(r instanceof Error), `no answer while the table was locked: ${r.message}`);
      expectProblem(r, 503, 'the request took too long and was cancelled');
      assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    } finally {
      await lock.release();
    }
    await sleep(200);
    const units = await listAll(d, '/v1/units', t);
    assert.equal(units.filter((u) => u.code === 'RS-TIMEOUT').length, 0, 'a cancelled write left a unit behind');
    // and no idempotency key was kept: the same key now does the work (no replay)
    const again = await request(d, 'POST', '/v1/units', { token: t, body, headers: { 'idempotency-key': 'rs-timeout' } });
    assert.equal(again.status, 201, again.text);
    assert.equal(again.headers['idempotency-replayed'], undefined);
  }

  test('SIGTERM while a slow request runs: it completes with 200, then the daemon exits 0', async () => {
    const d = await startDaemon();
    const t = tokenFor(d, fx.A, 'department');
    assert.equal((await get(d, `/v1/units/${fx.A.office}`, { token: t })).status, 200);
    const lock = await lockTable('units');
    let slow;
    try {
      slow = request(d, 'GET', `/v1/units/${fx.A.office}`, { token: t, timeout: 30000 });
      await sleep(400);
      d.proc.kill('SIGTERM');
      await d.waitForLog((l) => /stopping/.test(l.msg || ''), 5000);
      await sleep(200);
      assert.equal(d.exit, null, 'the daemon exited with a request in flight');
      // while draining, readiness says no
      const ready = await get(d, '/readyz', { timeout: 5000 }).catch((e) => e);
      if (!(ready instanceof Error)) expectProblem(ready, 503, 'the daemon is shutting down');
      await sleep(600);
      assert.equal(d.exit, null, 'the daemon exited with a request in flight');
    } finally {
      await lock.release();
    }
    const r = await slow;
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.id, fx.A.office);
    const exit = await Promise.race([d.exited, sleep(10000).then(() => null)]);
    assert.ok(exit, 'the daemon did not exit within 10 s after the request completed');
    assert.equal(await d.stop(), 0);
    assert.ok(d.logs.some((l) => l.msg === 'stopped'));
    // nothing listens any more
    const err = await new Promise((resolve) => {
      const s = net.connect(d.port, '127.0.0.1');
      s.on('connect', () => { s.destroy(); resolve(null); });
      s.on('error', resolve);
    });
    assert.equal(err?.code, 'ECONNREFUSED');
  });
});

describe('slow clients (HUYING_REQUEST_TIMEOUT_MS=1000)', () => {
  let d;
  before(async () => { d = await startDaemon({ HUYING_REQUEST_TIMEOUT_MS: 1000 }); });
  after(async () => { await d.stop(); });

  test('headers sent one byte per second: cut off within the timeout while another client is served', async () => {
    const req = 'GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: yes\r\n\r\n';
    const steps = [...req].map((ch, i) => ({ data: ch, delay: i ? 1000 : 0 }));
    const loris = raw(d, steps, { timeout: 15000 });
    await sleep(300);
    const t = tokenFor(d, fx.A, 'township');
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const r = await get(d, '/v1/units?limit=1', { token: t });
      assert.equal(r.status, 200);
      assert.ok(Date.now() - t0 < 2000, `a normal client waited ${Date.now() - t0} ms`);
    }
    const res = await loris;
    assert.ok(res.closed, 'the slow client was never cut off');
    assert.ok(res.closedAt < 4000, `cut off only after ${res.closedAt} ms`);
    assert.ok(res.responses.every((x) => x.status >= 400), 'a slow, incomplete request was answered as if complete');
  });

  test('a body sent one byte per second is cut off too', async () => {
    const t = tokenFor(d, W, 'district');
    const body = JSON.stringify({ code: 'RS-SLOWBODY', kind: 'department', name: 'slow' });
    const steps = [`POST /v1/units HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${t}\r\nContent-Type: application/json\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`];
    for (const ch of body) steps.push({ data: ch, delay: 1000 });
    const res = await raw(d, steps, { timeout: 6000 });
    assert.ok(res.closed, 'the slow client was never cut off');
    assert.ok(res.closedAt < 5000, `cut off only after ${res.closedAt} ms`);
    for (const x of res.responses) assert.ok(x.status >= 400 && x.status < 500, String(x.status));
    const units = await listAll(d, '/v1/units', t);
    assert.equal(units.filter((u) => u.code === 'RS-SLOWBODY').length, 0);
  });
});

describe('the database stopped and started again', () => {
  let d;
  before(async () => {
    assert.ok(PG_DIR && PG_PORT, 'HUYING_TEST_PG_DIR and HUYING_TEST_PG_PORT must be set');
    d = await startDaemon({ HUYING_DB_POOL: 4 });
  });
  after(async () => {
    pgctl('start', '--fast', PG_DIR, PG_PORT); // whatever happened, leave it running
    await d.stop();
  });

  test('503 with Retry-After while it is down, /healthz 200, /readyz 503; back without a restart', async () => {
    const t = tokenFor(d, W, 'district');
    assert.equal((await get(d, '/v1/units?limit=5', { token: t })).status, 200);
    assert.equal((await get(d, '/readyz')).status, 200);
    pgctl('stop', PG_DIR);
    const DOWN = /^the database (is unavailable|connection was lost|is restarting)$/;
    for (let i = 0; i < 6; i++) {
      const r = await get(d, i % 2 ? '/v1/domains' : '/v1/units?limit=5', { token: t, timeout: 15000 });
      expectProblem(r, 503, DOWN);
      assert.equal(r.headers['retry-after'], '1');
    }
    const p = await post(d, '/v1/units', { code: 'RS-DOWN', kind: 'department', name: 'x' }, { token: t, timeout: 15000 });
    expectProblem(p, 503, DOWN);
    assert.equal((await get(d, '/healthz')).status, 200);
    const ready = await get(d, '/readyz', { timeout: 15000 });
    expectProblem(ready, 503, DOWN);
    d.assertHealthy();

    pgctl('start', '--fast', PG_DIR, PG_PORT);
    const t0 = Date.now();
    let r;
    do {
      r = await get(d, '/v1/units?limit=5', { token: t, timeout: 15000 });
      if (r.status === 200) break;
      expectProblem(r, 503, DOWN);
      await sleep(200);
    } while (Date.now() - t0 < 10000);
    assert.equal(r.status, 200, `not back 10 s after the database started: ${r.text}`);
    // every connection of the pool comes back (and re-prepares): several in parallel
    const many = await Promise.all(Array.from({ length: 12 }, (_, i) =>
      get(d, i % 3 === 0 ? '/v1/domains' : i % 3 === 1 ? '/v1/grids?limit=3' : `/v1/units/${W.office}`, { token: t })));
    assert.deepEqual(many.map((x) => x.status), Array(12).fill(200));
    const w = await post(d, '/v1/units', { code: 'RS-BACK', kind: 'department', name: 'x' }, { token: t });
    assert.equal(w.status, 201, w.text);
    assert.equal((await get(d, '/readyz')).status, 200);
    const units = await listAll(d, '/v1/units', t);
    assert.equal(units.filter((u) => u.code === 'RS-DOWN').length, 0);
  });
});
