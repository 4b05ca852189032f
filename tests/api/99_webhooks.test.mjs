// Webhooks (issue 7; DESIGN §5 "Integration and bulk work"; the `webhooks` tag of the
// OpenAPI): the district office's subscriptions and the deliverer of every daemon, against
// receivers on loopback only. A receiver that fails three attempts, times out on the fourth and
// accepts the fifth gets the event once, with the same event id and a valid signature every
// time, and the log shows the five attempts; the payload is what the OpenAPI says; deliveries
// go out in order per call without holding up other calls; the SSRF rules refuse loopback,
// private, link-local and metadata targets, http off the allow-list, other schemes and user
// info, with listeners on the loopback ones that see no connection, and a redirect is not
// followed; a subscription acting for a system gets that system's calls only, with the
// reporter unmasked; 410 disables, redeliver sends again, DELETE cancels; the secret is in no
// answer; CRUD, roles, scope, districts, bad input and Idempotency-Key.
// The replicas-and-SIGKILL case is 99_webhooks_replicas.test.mjs.
//
// Every webhook target here is on 127.0.0.1 (or ::1): the addresses of refused ranges below
// are only sent to the create endpoint, which refuses them without connecting anywhere.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { compileSchema, expectProblem, freePort, get, post, psql, request, sleep, startDaemon, tokenFor } from './lib.mjs';
import { callsApi, callsWorld, expect422, ms } from './calls_helpers.mjs';
import { start as startReceiver, verifySignature } from '../webhook_receiver.mjs';

const BACKOFF = 200; // HUYING_WEBHOOK_BACKOFF_MS: 200, 400, 800, 1600 ms (±20 %) after attempts 1..4
const TIMEOUT = 1000; // HUYING_WEBHOOK_TIMEOUT_MS
const w = {};
const api = callsApi(w);
let d;
let C;
let B;
let tk;
// Allow-listed loopback ports, one per use, picked before the daemon starts (the allow-list
// is read at start); the receivers bind them later.
const P = {};
const PORT_NAMES = ['retry', 'order', 'redirect', 'sys', 'all', 'gone', 'del', 'crud'];
const secrets = new Set(); // every secret this file subscribed with
const answers = []; // every webhooks answer this file received: none may carry a secret

// Whatever earlier files left to deliver (20_routes subscribes its district to
// https://hooks.example.com and leaves a delivery pending) is stopped before this file's
// deliverers start: they serve every district of the database, and must send nothing but to
// this file's receivers on loopback.
function stopForeignDeliveries() {
  psql(`update huying.webhooks set status = 'disabled', disabled_reason = 'stopped by a webhooks test file', updated_at = now()
         where status = 'active';
        update huying.webhook_deliveries set status = 'cancelled' where status = 'pending';`);
}

before(async () => {
  for (const n of PORT_NAMES) P[n] = await freePort();
  stopForeignDeliveries();
  d = await startDaemon({
    HUYING_SWEEP_INTERVAL_MS: 0, HUYING_RATE_LIMIT: 0,
    HUYING_WEBHOOK_INTERVAL_MS: 50, HUYING_WEBHOOK_THREADS: 2, HUYING_WEBHOOK_BATCH: 10,
    HUYING_WEBHOOK_BACKOFF_MS: BACKOFF, HUYING_WEBHOOK_TIMEOUT_MS: TIMEOUT,
    HUYING_WEBHOOK_ALLOW: PORT_NAMES.map((n) => `127.0.0.1:${P[n]}`).join(','),
  });
  Object.assign(w, await callsWorld(d, 'WH'));
  ({ C, B, tk } = w);
});
after(async () => {
  d.assertHealthy();
  await d.stop();
});

// ---- helpers ------------------------------------------------------------------------------------

const url = (port, path = '/') => `http://127.0.0.1:${port}${path}`;
const newSecret = () => {
  const s = `whsec_${crypto.randomBytes(18).toString('hex')}`;
  secrets.add(s);
  return s;
};
const keep = (r) => {
  answers.push(r.text);
  return r;
};
const hooks = {
  create: async (body, who = 'district', opts = {}) => {
    if (typeof body.secret === 'string') secrets.add(body.secret);
    return keep(await post(d, '/v1/webhooks', body, { token: tk[who], ...opts }));
  },
  list: async (q = '', who = 'district') => keep(await get(d, `/v1/webhooks${q}`, { token: tk[who] })),
  get: async (id, who = 'district') => keep(await get(d, `/v1/webhooks/${id}`, { token: tk[who] })),
  del: async (id, who = 'district') => keep(await request(d, 'DELETE', `/v1/webhooks/${id}`, { token: tk[who] })),
  deliveries: async (id, q = '', who = 'district') => keep(await get(d, `/v1/webhooks/${id}/deliveries${q}`, { token: tk[who] })),
  redeliver: async (id, delivery, who = 'district', body = undefined) =>
    keep(await post(d, `/v1/webhooks/${id}/deliveries/${delivery}/redeliver`, body, { token: tk[who] })),
};
// POST /v1/webhooks that must answer 201; returns the subscription.
async function subscribe(port, events, { secret = newSecret(), system, who = 'district', path = '/' } = {}) {
  const body = { url: url(port, path), secret, events };
  if (system !== undefined) body.system = system;
  const r = await hooks.create(body, who);
  assert.equal(r.status, 201, r.text);
  return { ...r.json, secret };
}
async function unsubscribe(id, who = 'district') {
  const r = await hooks.del(id, who);
  assert.equal(r.status, 204, r.text);
}
// All deliveries of a subscription (newest first), following the cursor.
async function deliveriesOf(id, who = 'district') {
  const out = [];
  let cursor = null;
  for (;;) {
    const r = await hooks.deliveries(id, `?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, who);
    assert.equal(r.status, 200, r.text);
    out.push(...r.json.data);
    cursor = r.json.next_cursor;
    if (!cursor) return out;
  }
}
async function until(pred, limitMs, what) {
  const t0 = Date.now();
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() - t0 > limitMs) assert.fail(`not within ${limitMs} ms: ${what}`);
    await sleep(50);
  }
}
const ok = (r, status = 200) => {
  assert.equal(r.status, status, r.text);
  return r.json;
};
// A hotline call (integration 89000 unless who says otherwise) for TS-NCS, item ZRZY-01
// (dispatched at once: call.created then call.dispatched).
let seq = 0;
const hotlineCall = (title, { who = 'integration', reporter } = {}) => api.created(who, {
  title, township_code: 'TS-NCS', item_code: 'ZRZY-01', external_ref: { id: `WH-${process.pid}-${++seq}` },
  ...(reporter ? { reporter } : {}),
});

// A plain TCP listener that counts connections (and never answers): where a connection
// would land if the daemon made one.
async function listener(host = '127.0.0.1') {
  const conns = [];
  const s = net.createServer((c) => {
    conns.push(Date.now());
    c.destroy();
  });
  await new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, host, resolve);
  });
  return { port: s.address().port, conns, close: () => new Promise((r) => s.close(() => r())) };
}

// A small signed-webhook server with a per-request answer: decide(rec) returns
// {status, headers?}; rec = {eventId, type, callId, seq, verdict, at}. Records every request.
async function hookServer(port, secret, decide) {
  const reqs = [];
  const s = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let json = null;
      try { json = JSON.parse(body.toString('utf8')); } catch { /* recorded as null */ }
      const rec = {
        eventId: req.headers['huying-event-id'], type: req.headers['huying-event-type'], callId: json?.call?.id,
        verdict: verifySignature(req.headers['huying-signature'], body, secret).reason ?? 'ok', at: Date.now(), json,
      };
      reqs.push(rec);
      const a = decide(rec);
      rec.status = a.status;
      res.writeHead(a.status, { 'Content-Type': 'application/json', ...(a.headers || {}) });
      res.end('{}');
    });
  });
  await new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', resolve);
  });
  return { reqs, close: () => new Promise((r) => { s.close(() => r()); s.closeAllConnections(); }) };
}

const validPayload = compileSchema('/components/schemas/WebhookPayload');
const PAYLOAD_KEYS = ['actor', 'call', 'created_at', 'data', 'district_id', 'event_id', 'id', 'order', 'subject', 'type'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// The call as the district office's list shows it (GET /v1/calls), by id.
async function listRow(callId) {
  const r = ok(await get(d, '/v1/calls?limit=20', { token: tk.district }));
  const row = r.data.find((c) => c.id === callId);
  assert.ok(row, `call ${callId} among the 20 newest`);
  return row;
}
// The call's event of this type as GET /v1/calls/{id}/events shows it to the district office.
async function eventOf(callId, type, subjectId = callId) {
  const r = ok(await get(d, `/v1/calls/${callId}/events?limit=200`, { token: tk.district }));
  const e = r.data.filter((x) => x.type === type && x.subject.id === subjectId);
  assert.equal(e.length, 1, `one ${type} of ${subjectId}: ${JSON.stringify(r.data.map((x) => x.type))}`);
  return e[0];
}

// ---- 1. retries --------------------------------------------------------------------------------

describe('delivery and retries', () => {
  test('500 ×3, a timeout, then 200: the event arrives, accepted once, with the same event id and a valid signature each time; the log has the 5 attempts', async () => {
    const times = [];
    const secret = newSecret();
    const rc = await startReceiver({
      port: P.retry, secret, script: ['fail', 'fail', 'fail', 'hang'], hangMs: 5 * TIMEOUT,
      onRequest: (a) => times.push({ n: a.n, at: Date.now(), answer: a.answer }),
    });
    const hook = await subscribe(P.retry, ['call.created'], { secret, path: '/hooks/huying?src=huying' });
    try {
      const reporter = { name: '王某', phone: '13812341234' };
      const c = await hotlineCall('Webhook：重试五次', { reporter });
      await until(() => rc.deliveries.length >= 1, 20000, 'the event accepted');
      // the attempt is recorded after the receiver answered
      const [dl] = await until(async () => {
        const x = await deliveriesOf(hook.id);
        return x.length === 1 && x[0].status === 'delivered' && x;
      }, 5000, 'the delivery recorded as delivered');
      await sleep(3 * BACKOFF); // nothing more comes
      assert.equal(rc.deliveries.length, 1, 'accepted once');
      assert.equal(rc.attempts.length, 5, JSON.stringify(rc.attempts));
      assert.deepEqual(rc.attempts.map((a) => a.answer), [500, 500, 500, 'hang', 200]);
      assert.deepEqual(rc.attempts.map((a) => a.verdict), ['ok', 'ok', 'ok', 'ok', 'ok'], 'a valid signature every time');
      assert.ok(rc.attempts.every((a) => a.method === 'POST' && a.path === '/hooks/huying?src=huying'), 'POST to the URL subscribed');
      const ids = new Set(rc.attempts.map((a) => a.eventId));
      assert.equal(ids.size, 1, 'the same event id on every attempt');
      const got = rc.deliveries[0];
      assert.equal(got.duplicate, false);
      assert.equal(got.eventId, dl.event_id);
      assert.match(dl.event_id, UUID);
      // backoff: each wait at least 0.8 × BACKOFF × 2^(n-1) after the answer (after the
      // timeout for the hanging one), so growing
      for (let i = 1; i < 5; i++) {
        const floor = 0.8 * BACKOFF * 2 ** (i - 1) + (i === 4 ? TIMEOUT : 0) - 30;
        const gap = times[i].at - times[i - 1].at;
        assert.ok(gap >= floor, `attempt ${i + 1} came ${gap} ms after attempt ${i} (at least ${floor} expected)`);
      }
      // the log
      assert.deepEqual([dl.webhook_id, dl.event_type, dl.call_id, dl.status, dl.attempts, dl.last_status, dl.last_error, dl.next_attempt_at],
        [hook.id, 'call.created', c.id, 'delivered', 5, 200, null, null]);
      assert.ok(ms(dl.delivered_at) >= ms(dl.created_at));
      assert.deepEqual(dl.log.map((a) => [a.attempt, a.status]), [[1, 500], [2, 500], [3, 500], [4, null], [5, 200]]);
      for (const a of dl.log.slice(0, 3)) {
        assert.match(a.error, /HTTP 500/);
        assert.ok(Number.isInteger(a.duration_ms) && a.duration_ms >= 0 && a.duration_ms < TIMEOUT, JSON.stringify(a));
      }
      assert.match(dl.log[3].error, /^timeout/);
      assert.ok(dl.log[3].duration_ms >= TIMEOUT - 50 && dl.log[3].duration_ms < TIMEOUT + 2000, `the timed-out attempt took ${dl.log[3].duration_ms} ms`);
      assert.equal(dl.log[4].error, null);
      assert.ok(dl.log.every((a, i) => i === 0 || ms(a.started_at) >= ms(dl.log[i - 1].started_at)), 'oldest first');

      // the request: headers and signature
      const h = got.headers;
      assert.equal(h['content-type'], 'application/json');
      assert.equal(h['user-agent'], 'huying-webhooks/1');
      assert.equal(h['huying-event-type'], 'call.created');
      assert.match(h['huying-signature'], /^t=[0-9]+,v1=[0-9a-f]{64}$/);
      const t = /^t=([0-9]+),/.exec(h['huying-signature'])[1];
      assert.equal(h['huying-timestamp'], t);
      assert.ok(Math.abs(Number(t) - Date.now() / 1000) < 60, 'signed now');
      const mac = crypto.createHmac('sha256', secret).update(`${t}.${got.body}`).digest('hex');
      assert.equal(h['huying-signature'], `t=${t},v1=${mac}`, 'HMAC-SHA256 over "<t>.<body>" with the secret');

      // the payload, as the OpenAPI says
      const p = got.json;
      assert.ok(validPayload(p), JSON.stringify(validPayload.errors));
      assert.deepEqual(Object.keys(p).sort(), PAYLOAD_KEYS);
      const ev = await eventOf(c.id, 'call.created');
      assert.deepEqual([p.id, p.event_id, p.type, p.district_id, p.created_at, p.order],
        [got.eventId, ev.id, 'call.created', C.id, ev.created_at, null], 'the event as the call\'s timeline shows it');
      assert.deepEqual(p.subject, { type: 'call', id: c.id });
      assert.deepEqual(p.subject, ev.subject);
      assert.deepEqual(p.actor, { unit_id: ev.actor.unit_id, role: 'integration' });
      assert.equal(p.actor.unit_id, C.office);
      assert.deepEqual(p.data, ev.data);
      assert.deepEqual(p.call, await listRow(c.id), 'the call as a list row shows it');
      assert.deepEqual(p.call.reporter, reporter, 'reporter data as sent');
      assert.deepEqual(p.call.external_ref, c.external_ref);
    } finally {
      await unsubscribe(hook.id);
      await rc.close();
    }
  });
  test('the wait doubles up to an hour at most; 24 h after the event the delivery is failed, and the next one of its call goes out', async () => {
    const secret = newSecret();
    let X = null;
    const srv = await hookServer(P.order, secret, (rec) => ({ status: rec.callId === X && rec.type === 'call.created' ? 503 : 200 }));
    const hook = await subscribe(P.order, ['call.created', 'call.dispatched'], { secret });
    try {
      const x = await hotlineCall('Webhook：24 小时');
      X = x.id;
      const first = async () => (await deliveriesOf(hook.id)).find((l) => l.event_type === 'call.created');
      // Moves the delivery on as if many attempts had failed, while it waits in backoff
      // (attempts = its logged attempts: nobody holds a claim on it), so that its next
      // attempt is number `attempt`; `set` says what else changes. Returns the delivery then.
      const jump = async (attempt, set) => {
        for (let i = 0; i < 20; i++) {
          const dl = await until(async () => {
            const y = await first();
            return y.status === 'pending' && y.log.length > 0 && y.log.at(-1).attempt === y.attempts && y;
          }, 10000, 'the delivery in backoff');
          const n = psql(`update huying.webhook_deliveries set attempts = ${attempt - 1}, next_attempt_at = now()${set}
                           where id = ${dl.id} and status = 'pending' and attempts = ${dl.attempts} returning id`);
          if (n) return dl;
          await sleep(20); // claimed in between: wait for its record
        }
        return assert.fail('the delivery never waited in backoff');
      };
      await jump(31, '');
      const capped = await until(async () => {
        const y = await first();
        return y.attempts === 31 && y.log.length >= 2 && y.log.at(-1).attempt === 31 && y;
      }, 10000, 'attempt 31 recorded');
      const wait = ms(capped.next_attempt_at) - ms(capped.log.at(-1).started_at);
      assert.ok(wait >= 0.8 * 3600e3 - 2000 && wait <= 1.2 * 3600e3 + 2000, `after attempt 31 the next comes ${wait / 60e3} min later (an hour ±20 %)`);
      assert.equal(capped.status, 'pending');
      assert.ok(!srv.reqs.some((q) => q.type === 'call.dispatched'), 'the second waits');
      // the event is 24 h old: the next failure gives up
      await jump(32, `, created_at = now() - interval '24 hours'`);
      const failed = await until(async () => {
        const y = await first();
        return y.status === 'failed' && y;
      }, 10000, 'given up');
      assert.deepEqual([failed.attempts, failed.last_status, failed.next_attempt_at, failed.delivered_at], [32, 503, null, null]);
      assert.match(failed.last_error, /HTTP 503/);
      assert.deepEqual(failed.log.at(-1).status, 503);
      await until(() => srv.reqs.some((q) => q.callId === x.id && q.type === 'call.dispatched'), 10000, 'the second event goes out');
      const second = (await deliveriesOf(hook.id)).find((l) => l.event_type === 'call.dispatched');
      assert.equal(second.call_id, x.id);
      await until(async () => (await deliveriesOf(hook.id)).find((l) => l.id === second.id).status === 'delivered', 5000, 'delivered');
    } finally {
      await unsubscribe(hook.id);
      await srv.close();
    }
  });
});

// ---- 3. in order per call -------------------------------------------------------------------------

describe('in order per call', () => {
  test("a call's second event waits while its first is retried; another call's events are not held up", async () => {
    const secret = newSecret();
    let X = null; // the held call's id
    let hold = true;
    const srv = await hookServer(P.order, secret, (rec) =>
      ({ status: rec.callId === X && rec.type === 'call.created' && hold ? 500 : 204 }));
    const hook = await subscribe(P.order, ['call.created', 'call.dispatched'], { secret });
    try {
      const x = await hotlineCall('Webhook：顺序 X');
      X = x.id; // (the first attempt comes at least 50 ms after the commit: the idle period)
      const ofX = () => srv.reqs.filter((q) => q.callId === x.id);
      await until(() => ofX().length >= 2, 10000, "X's first event failed twice");
      const y = await hotlineCall('Webhook：顺序 Y');
      const ofY = () => srv.reqs.filter((q) => q.callId === y.id);
      await until(() => ofY().length >= 2, 10000, "Y's two events delivered while X's first is held");
      assert.deepEqual(ofY().map((q) => [q.type, q.status]), [['call.created', 204], ['call.dispatched', 204]], 'any 2xx delivers');
      assert.ok(ofX().every((q) => q.type === 'call.created' && q.status === 500),
        `nothing of X but its first event so far: ${JSON.stringify(ofX().map((q) => [q.type, q.status]))}`);
      hold = false;
      await until(() => ofX().some((q) => q.type === 'call.dispatched'), 10000, "X's second event after its first");
      const seen = ofX().map((q) => [q.type, q.status]);
      const n = seen.length;
      assert.ok(n >= 4, JSON.stringify(seen));
      assert.deepEqual(seen.slice(n - 2), [['call.created', 204], ['call.dispatched', 204]]);
      assert.ok(seen.slice(0, n - 2).every(([t, s]) => t === 'call.created' && s === 500), JSON.stringify(seen));
      assert.ok(srv.reqs.every((q) => q.verdict === 'ok'));
      // Y's were sent while X's first was in backoff
      const yDone = Math.max(...ofY().map((q) => q.at));
      const xOk = ofX().find((q) => q.status === 204).at;
      assert.ok(yDone < xOk, 'Y delivered before X\'s first event was');
      const log = await deliveriesOf(hook.id);
      const xd = log.filter((l) => l.call_id === x.id).sort((a, b) => a.id - b.id);
      assert.deepEqual(xd.map((l) => [l.event_type, l.status, l.attempts]), [['call.created', 'delivered', n - 1], ['call.dispatched', 'delivered', 1]]);
      assert.ok(ms(xd[1].log[0].started_at) >= ms(xd[0].delivered_at), 'the second went out after the first was delivered');
    } finally {
      await unsubscribe(hook.id);
      await srv.close();
    }
  });
});

// ---- 4. SSRF ---------------------------------------------------------------------------------------

describe('no SSRF', () => {
  test('refused targets → 422 naming url, and listeners on the loopback ones see no connection', async () => {
    const v4 = await listener('127.0.0.1');
    let v6 = null;
    try { v6 = await listener('::1'); } catch { /* no IPv6 loopback here: the [::1] URL is still refused */ }
    const q = v4.port;
    const q6 = v6 ? v6.port : q;
    try {
      const refused = [
        [`http://127.0.0.1:${q}/`, /must be https/], // loopback, not on the allow-list
        [`https://127.0.0.1:${q}/`, /refused range/],
        [`https://127.1:${q}/`, /refused range/],
        [`https://2130706433:${q}/`, /refused range/],
        [`https://[::ffff:127.0.0.1]:${q}/`, /refused range/],
        [`https://localhost:${q}/`, /names localhost/],
        [`https://LOCALHOST.:${q}/`, /names localhost/],
        [`https://hooks.localhost:${q}/`, /names localhost/],
        [`https://[::1]:${q6}/`, /refused range/],
        [`https://0.0.0.0:${q}/`, /refused range/],
        ['https://169.254.169.254/latest/meta-data/', /refused range/],
        ['https://10.0.0.1/hooks', /refused range/],
        ['https://192.168.1.1/hooks', /refused range/],
        ['https://[fe80::1]/hooks', /refused range/],
        ['http://example.com/hooks', /must be https/], // http, not allow-listed
        [`ftp://127.0.0.1:${P.crud}/`, /absolute http\(s\) URL/],
        [`http://user:pw@127.0.0.1:${P.crud}/`, /user info/], // even an allow-listed host
        [`https://hook@127.0.0.1:${q}/`, /user info/],
        ['hooks.example.com/path', /absolute http\(s\) URL/],
      ];
      for (const [u, why] of refused) {
        const r = await hooks.create({ url: u, secret: newSecret(), events: ['call.created'] });
        expect422(r, 'url');
        assert.match(r.json.errors[0].message, why, u);
      }
      await sleep(300);
      assert.deepEqual(v4.conns, [], 'no connection to the loopback listener');
      if (v6) assert.deepEqual(v6.conns, [], 'no connection to the ::1 listener');
      assert.equal(psql(`select count(*) from huying.webhooks where district_id = ${C.id} and url like '%:${q}/%'`), '0');
    } finally {
      await v4.close();
      if (v6) await v6.close();
    }
  });

  test('a name that resolves to loopback (from /etc/hosts) is accepted, but its deliveries never connect: logged as refused', async (t) => {
    // A host name that the hosts file maps to 127.0.0.0/8 (not "localhost", which the
    // create endpoint refuses by name): resolving it sends no packet (nsswitch: files first).
    const nss = fs.existsSync('/etc/nsswitch.conf') ? fs.readFileSync('/etc/nsswitch.conf', 'utf8') : '';
    const filesFirst = /^hosts:\s*files\b/m.test(nss);
    const hostsFile = fs.existsSync('/etc/hosts') ? fs.readFileSync('/etc/hosts', 'utf8') : '';
    let name = null;
    for (const line of hostsFile.split('\n')) {
      const [addr, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
      if (!/^127\.\d+\.\d+\.\d+$/.test(addr || '')) continue;
      name = names.find((n) => /^[a-z][a-z0-9-]*$/i.test(n) && !/localhost/i.test(n) && !/\./.test(n)) ?? null;
      if (name) break;
    }
    if (!filesFirst || !name) {
      t.skip('no host name mapped to 127.0.0.0/8 in /etc/hosts (or the resolver does not read it first)');
      return;
    }
    const v4 = await listener('127.0.0.1');
    const hook = await hooks.create({ url: `https://${name}:${v4.port}/hooks`, secret: newSecret(), events: ['call.created'] });
    assert.equal(hook.status, 201, hook.text);
    try {
      const c = await hotlineCall('Webhook：解析到回环');
      const [dl] = await until(async () => {
        const x = await deliveriesOf(hook.json.id);
        return x.length === 1 && x[0].attempts >= 2 && x[0].log.length >= 2 && x;
      }, 10000, 'two attempts logged');
      assert.equal(dl.call_id, c.id);
      assert.equal(dl.status, 'pending', 'retried');
      for (const a of dl.log) {
        assert.equal(a.status, null);
        assert.match(a.error, /^refused: address 127\.[0-9.]+ refused \(loopback\)/, JSON.stringify(a));
      }
      assert.deepEqual(v4.conns, [], 'no connection');
    } finally {
      await unsubscribe(hook.json.id);
      await v4.close();
    }
  });

  test('a redirect from the allow-listed receiver is not followed: logged as a redirect and retried; the other port sees nothing', async () => {
    const other = await listener('127.0.0.1');
    const secret = newSecret();
    const srv = await hookServer(P.redirect, secret, (rec) =>
      (srv.reqs.length <= 2 ? { status: 302, headers: { Location: `http://127.0.0.1:${other.port}/` } } : { status: 200 }));
    const hook = await subscribe(P.redirect, ['call.created'], { secret });
    try {
      const c = await hotlineCall('Webhook：重定向');
      const [dl] = await until(async () => {
        const x = await deliveriesOf(hook.id);
        return x.length === 1 && x[0].status === 'delivered' && x;
      }, 10000, 'delivered on the third attempt');
      assert.equal(dl.call_id, c.id);
      assert.deepEqual(dl.log.map((a) => a.status), [302, 302, 200]);
      for (const a of dl.log.slice(0, 2)) assert.match(a.error, /^redirect: redirect not followed \(HTTP 302\)/);
      assert.deepEqual(srv.reqs.map((q) => [q.status, q.verdict]), [[302, 'ok'], [302, 'ok'], [200, 'ok']]);
      await sleep(200);
      assert.deepEqual(other.conns, [], 'the Location was never visited');
    } finally {
      await unsubscribe(hook.id);
      await srv.close();
      await other.close();
    }
  });
});

// ---- 5. system, visibility, masking ------------------------------------------------------------------

describe('what a subscription gets', () => {
  test('acting for 89000: only the calls 89000 posted, reporter unmasked even on a department\'s event; without system: the whole district; nothing of another district', async () => {
    const sSys = newSecret();
    const sAll = newSecret();
    const rSys = await startReceiver({ port: P.sys, secret: sSys });
    const rAll = await startReceiver({ port: P.all, secret: sAll });
    const hSys = await subscribe(P.sys, ['call.created', 'order.accepted'], { secret: sSys, system: '89000' });
    const hAll = await subscribe(P.all, ['call.created'], { secret: sAll });
    assert.equal(hSys.system, '89000');
    try {
      const phone = '13912345678';
      const h1 = await hotlineCall('Webhook：89000 的工单', { reporter: { name: '李某', phone } });
      const h2 = await hotlineCall('Webhook：89001 的工单', { who: 'integration2', reporter: { name: '赵某', phone: '13700001111' } });
      const t1 = await api.created('township', { title: 'Webhook：乡镇自己的呼叫', item_code: 'ZRZY-01', reporter: { name: '钱某', phone: '13600002222' } });
      const bx = await api.created('bIntegration', { title: 'Webhook：B 区 89000', township_code: 'TS-NCS', external_ref: { id: `WHB-${process.pid}` } });
      assert.equal(bx.district_id, B.id);
      const lead = (c) => c.orders.find((o) => o.role === 'lead').id;
      ok(await api.act('department', lead(h1), 'accept', {}));
      ok(await api.act('department', lead(t1), 'accept', {}));
      await until(() => rSys.deliveries.length >= 2 && rAll.deliveries.length >= 3, 10000,
        `the deliveries (${rSys.deliveries.length} of 2, ${rAll.deliveries.length} of 3)`);
      await sleep(300); // and nothing more
      const what = (r) => r.deliveries.map((x) => [x.json.type, x.json.call.id]);
      assert.deepEqual(what(rSys), [['call.created', h1.id], ['order.accepted', h1.id]]);
      assert.deepEqual(what(rAll).sort((a, b) => a[1] - b[1]), [['call.created', h1.id], ['call.created', h2.id], ['call.created', t1.id]]);
      assert.ok([...rSys.attempts, ...rAll.attempts].every((a) => a.verdict === 'ok'));
      // the department's event, as the subscriber gets it
      const acc = rSys.deliveries[1].json;
      assert.ok(validPayload(acc), JSON.stringify(validPayload.errors));
      assert.deepEqual(Object.keys(acc).sort(), PAYLOAD_KEYS);
      assert.deepEqual(acc.subject, { type: 'order', id: lead(h1) });
      assert.deepEqual(acc.actor, { unit_id: C.unit('CD-ZRZY'), role: 'department' });
      const ev = await eventOf(h1.id, 'order.accepted', lead(h1));
      assert.deepEqual([acc.event_id, acc.created_at, acc.data, acc.district_id], [ev.id, ev.created_at, ev.data, C.id]);
      assert.deepEqual(acc.order, ok(await api.order(lead(h1))), 'the order as GET /v1/orders/{id} shows it');
      assert.equal(acc.order.status, 'accepted');
      assert.deepEqual(acc.call.reporter, { name: '李某', phone }, 'unmasked, as the integration sent it');
      assert.equal(ok(await api.call(h1.id, 'department')).reporter.phone, '139****5678', '(the department itself reads it masked)');
      assert.deepEqual(acc.call, await listRow(h1.id));
      const allT1 = rAll.deliveries.find((x) => x.json.call.id === t1.id).json;
      assert.deepEqual(allT1.call.reporter, { name: '钱某', phone: '13600002222' });
      assert.deepEqual(allT1.actor, { unit_id: C.unit('TS-NCS'), role: 'township' });
      // the outbox agrees: nothing of district B for these subscriptions
      assert.equal(psql(`select count(*) from huying.webhook_deliveries where webhook_id in (${hSys.id}, ${hAll.id}) and call_id = ${bx.id}`), '0');
    } finally {
      await unsubscribe(hSys.id);
      await unsubscribe(hAll.id);
      await rSys.close();
      await rAll.close();
    }
  });
});

// ---- 6. 410, redeliver, DELETE, the secret --------------------------------------------------------------

describe('the subscription ends', () => {
  test('redeliver sends again with the same event id (202); 410 Gone disables the subscription, cancels what is pending, and nothing more is sent', async () => {
    const secret = newSecret();
    const r = await startReceiver({ port: P.gone, secret, script: ['accept', 'accept', 'accept', 410] });
    const hook = await subscribe(P.gone, ['call.created', 'call.dispatched'], { secret });
    try {
      const a = await hotlineCall('Webhook：重新投递');
      await until(() => r.deliveries.length >= 2, 10000, "a's two events");
      let log = await until(async () => {
        const x = await deliveriesOf(hook.id);
        return x.length === 2 && x.every((y) => y.status === 'delivered') && x;
      }, 5000, 'both recorded');
      const first = log.find((x) => x.event_type === 'call.created');
      // not a delivery of that subscription: 404
      const other = await subscribe(P.crud, ['call.reopened']);
      expectProblem(await hooks.redeliver(other.id, first.id), 404);
      await unsubscribe(other.id);
      const re = await hooks.redeliver(hook.id, first.id);
      assert.equal(re.status, 202, re.text);
      assert.deepEqual([re.json.id, re.json.status, re.json.event_id, re.json.attempts, re.json.log.length],
        [first.id, 'pending', first.event_id, 1, 1]);
      assert.notEqual(re.json.next_attempt_at, null);
      await until(() => r.deliveries.length >= 3, 10000, 'the redelivery');
      assert.deepEqual([r.deliveries[2].eventId, r.deliveries[2].duplicate, r.deliveries[2].body],
        [first.event_id, true, r.deliveries.find((x) => x.eventId === first.event_id).body], 'the same event id and payload');
      const again = await until(async () => {
        const x = (await deliveriesOf(hook.id)).find((y) => y.id === first.id);
        return x.status === 'delivered' && x.log.length === 2 && x;
      }, 5000, 'the redelivery recorded');
      assert.deepEqual(again.log.map((l) => [l.attempt, l.status]), [[1, 200], [2, 200]]);
      assert.equal(again.attempts, 2);

      // 410 on the next call's first event: its second (waiting behind it) is cancelled
      const b = await hotlineCall('Webhook：410');
      const gone = await until(async () => {
        const g = ok(await hooks.get(hook.id));
        return g.status === 'disabled' && g;
      }, 10000, 'the subscription disabled');
      assert.equal(gone.disabled_reason, 'the receiver answered 410 Gone');
      assert.ok(ms(gone.updated_at) >= ms(hook.updated_at));
      log = await deliveriesOf(hook.id);
      const ofB = log.filter((x) => x.call_id === b.id).sort((x, y) => x.id - y.id);
      assert.deepEqual(ofB.map((x) => [x.event_type, x.status, x.attempts, x.last_status, x.next_attempt_at]),
        [['call.created', 'failed', 1, 410, null], ['call.dispatched', 'cancelled', 0, null, null]]);
      assert.match(ofB[0].last_error, /410/);
      assert.deepEqual(ofB[0].log.map((l) => l.status), [410]);
      assert.deepEqual((await hooks.list('?limit=200')).json.data.find((x) => x.id === hook.id), gone, 'listed, disabled');
      // the log by status, and in pages
      assert.deepEqual(ok(await hooks.deliveries(hook.id, '?status=cancelled')).data.map((x) => x.id), [ofB[1].id]);
      assert.deepEqual(ok(await hooks.deliveries(hook.id, '?status=failed')).data.map((x) => x.id), [ofB[0].id]);
      assert.deepEqual(ok(await hooks.deliveries(hook.id, '?status=delivered')).data.map((x) => x.event_type), ['call.dispatched', 'call.created']);
      assert.deepEqual(ok(await hooks.deliveries(hook.id, '?status=pending')).data, []);
      const pg1 = ok(await hooks.deliveries(hook.id, '?limit=3'));
      const pg2 = ok(await hooks.deliveries(hook.id, `?limit=3&cursor=${encodeURIComponent(pg1.next_cursor)}`));
      assert.deepEqual([...pg1.data, ...pg2.data], log, 'newest first, in pages');
      assert.equal(pg2.next_cursor, null);
      // nothing more: no delivery is written for a disabled subscription, none is sent
      await hotlineCall('Webhook：停用之后');
      await sleep(500);
      assert.equal(r.attempts.length, 4, JSON.stringify(r.attempts.map((x) => [x.eventType, x.answer])));
      assert.equal((await deliveriesOf(hook.id)).length, 4);
      expectProblem(await hooks.redeliver(hook.id, ofB[1].id), 404);
      expectProblem(await hooks.redeliver(hook.id, first.id), 404);
      assert.equal(ok(await hooks.get(hook.id)).status, 'disabled');
    } finally {
      await unsubscribe(hook.id); // a disabled subscription can be deleted
      await r.close();
    }
    expectProblem(await hooks.get(hook.id), 404);
  });

  test('redeliver while an attempt is in flight does not send the delivery again before that attempt ends (one sender at a time)', async () => {
    const secret = newSecret();
    const at = [];
    const r = await startReceiver({ port: P.gone, secret, script: ['hang'], hangMs: 5 * TIMEOUT, onRequest: () => at.push(Date.now()) });
    const hook = await subscribe(P.gone, ['call.created'], { secret });
    try {
      await hotlineCall('Webhook：投递中重投');
      await until(() => r.attempts.length >= 1, 10000, 'the first attempt hangs');
      const [dl] = await deliveriesOf(hook.id);
      assert.deepEqual([dl.status, dl.attempts, dl.log.length], ['pending', 1, 0], 'claimed, in flight');
      const re = await hooks.redeliver(hook.id, dl.id);
      assert.equal(re.status, 202, re.text);
      await until(() => r.deliveries.length >= 1, 10000, 'delivered');
      const done = await until(async () => {
        const y = (await deliveriesOf(hook.id))[0];
        return y.status === 'delivered' && y.log.length >= 2 && y;
      }, 10000, 'both attempts recorded');
      assert.deepEqual(r.attempts.map((a) => [a.answer, a.eventId]), [['hang', dl.event_id], [200, dl.event_id]]);
      // the lease holds: the second attempt comes only once the first has ended (timed out)
      assert.ok(at[1] - at[0] >= TIMEOUT - 50,
        `the second attempt came ${at[1] - at[0]} ms after the first, which was still in flight (its bound: ${TIMEOUT} ms)`);
      // and the log is oldest first
      assert.deepEqual(done.log.map((l) => [l.attempt, l.status]), [[1, null], [2, 200]]);
    } finally {
      await unsubscribe(hook.id);
      await r.close();
    }
  });

  test('DELETE → 204, then 404 everywhere; its pending delivery is cancelled and no attempt follows', async () => {
    const secret = newSecret();
    const r = await startReceiver({ port: P.del, secret, script: Array(100).fill('fail') });
    const hook = await subscribe(P.del, ['call.created'], { secret });
    let closed = false;
    try {
      await hotlineCall('Webhook：删除订阅');
      await until(() => r.attempts.length >= 2, 10000, 'two failed attempts');
      const del = await hooks.del(hook.id);
      assert.equal(del.status, 204, del.text);
      assert.equal(del.body.length, 0);
      // claims are counted on the row: whatever was claimed before the DELETE may still go
      // out once; nothing is claimed after it
      const claimed = () => psql(`select status || '|' || attempts from huying.webhook_deliveries where webhook_id = ${hook.id}`);
      const atDelete = claimed();
      assert.match(atDelete, /^cancelled\|[0-9]+$/);
      await sleep(4 * BACKOFF * 1.2 + 300);
      assert.equal(claimed(), atDelete, 'no claim after the DELETE');
      assert.equal(r.attempts.length, Number(atDelete.split('|')[1]), 'every attempt the receiver saw was claimed before');
      expectProblem(await hooks.get(hook.id), 404);
      expectProblem(await hooks.deliveries(hook.id), 404);
      expectProblem(await hooks.del(hook.id), 404);
      const did = Number(psql(`select id from huying.webhook_deliveries where webhook_id = ${hook.id}`));
      expectProblem(await hooks.redeliver(hook.id, did), 404);
      assert.ok(!(await hooks.list('?limit=200')).json.data.some((x) => x.id === hook.id), 'not listed');
      await r.close();
      closed = true;
    } finally {
      if (!closed) await r.close();
    }
  });
});

// ---- 7. CRUD and bad input ------------------------------------------------------------------------------

describe('subscriptions: CRUD, roles, scope, districts, bad input', () => {
  const base = () => ({ url: url(P.crud, '/huying/events'), secret: newSecret(), events: ['call.reopened'] });
  const made = [];
  after(async () => {
    for (const [id, who] of made) {
      const r = await hooks.del(id, who);
      assert.ok(r.status === 204 || r.status === 404, r.text);
    }
  });

  test('201 with the subscription and Location; GET and the list show the same; events distinct and sorted', async () => {
    const r = await hooks.create({ url: url(P.crud, '/a?x=1'), secret: newSecret(), events: ['order.resolved', 'call.closed', 'call.closed'] });
    assert.equal(r.status, 201, r.text);
    made.push([r.json.id, 'district']);
    assert.equal(r.headers.location, `/v1/webhooks/${r.json.id}`);
    const { created_at: cAt, updated_at: uAt, id, ...rest } = r.json;
    assert.deepEqual(rest, { url: url(P.crud, '/a?x=1'), events: ['call.closed', 'order.resolved'], system: null, status: 'active', disabled_reason: null });
    assert.equal(cAt, uAt);
    assert.ok(Math.abs(ms(cAt) - Date.now()) < 60000);
    assert.deepEqual(ok(await hooks.get(id)), r.json);
    assert.deepEqual((await hooks.list()).json.data[0], r.json, 'newest first');
    assert.deepEqual(ok(await hooks.deliveries(id)), { data: [], next_cursor: null });
    const s = await hooks.create({ ...base(), system: '89001' });
    assert.equal(s.status, 201, s.text);
    made.push([s.json.id, 'district']);
    assert.equal(s.json.system, '89001');
  });

  test('the list pages newest first with a cursor; only the district\'s own', async () => {
    // district B has no subscription but these three
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const r = await hooks.create(base(), 'bDistrict');
      assert.equal(r.status, 201, r.text);
      made.push([r.json.id, 'bDistrict']);
      ids.push(r.json.id);
    }
    const p1 = ok(await hooks.list('?limit=2', 'bDistrict'));
    assert.deepEqual(p1.data.map((x) => x.id), [ids[2], ids[1]]);
    assert.equal(typeof p1.next_cursor, 'string');
    const p2 = ok(await hooks.list(`?limit=2&cursor=${encodeURIComponent(p1.next_cursor)}`, 'bDistrict'));
    assert.deepEqual(p2.data.map((x) => x.id), [ids[0]]);
    assert.equal(p2.next_cursor, null);
    const exact = ok(await hooks.list('?limit=3', 'bDistrict'));
    assert.deepEqual([exact.data.length, exact.next_cursor], [3, null]);
    const mine = ok(await hooks.list('?limit=200'));
    assert.ok(!mine.data.some((x) => ids.includes(x.id)), 'C does not list B\'s');
    // another district's subscription is 404 on every route
    expectProblem(await hooks.get(ids[0]), 404);
    expectProblem(await hooks.del(ids[0]), 404);
    expectProblem(await hooks.deliveries(ids[0]), 404);
    expectProblem(await hooks.redeliver(ids[0], 1), 404);
    expectProblem(await hooks.get(ids[0], 'bTownship'), 403);
    assert.equal(ok(await hooks.get(ids[0], 'bDistrict')).id, ids[0], 'still there');
    expectProblem(await hooks.get(987654321), 404);
    expectProblem(await hooks.deliveries(987654321), 404);
    for (const q of ['?limit=0', '?limit=201', '?limit=x', '?status=active']) expectProblem(await hooks.list(q), 422);
    for (const q of ['?limit=0', '?status=done', '?status=']) expectProblem(await hooks.deliveries(ids[0], q, 'bDistrict'), 422);
  });

  test('township, department and integration → 403; a token without webhooks:manage → 403; with it → 201', async () => {
    const r0 = await hooks.create(base());
    assert.equal(r0.status, 201, r0.text);
    made.push([r0.json.id, 'district']);
    const id = r0.json.id;
    const routes = (token) => [
      post(d, '/v1/webhooks', base(), { token }),
      get(d, '/v1/webhooks', { token }),
      get(d, `/v1/webhooks/${id}`, { token }),
      request(d, 'DELETE', `/v1/webhooks/${id}`, { token }),
      get(d, `/v1/webhooks/${id}/deliveries`, { token }),
      post(d, `/v1/webhooks/${id}/deliveries/1/redeliver`, undefined, { token }),
    ];
    for (const who of ['township', 'department', 'integration']) {
      for (const r of await Promise.all(routes(tk[who]))) expectProblem(keep(r), 403, 'this role may not use this route');
    }
    const narrow = tokenFor(d, C, 'district', { scope: 'calls:read calls:write imports:write' });
    for (const r of await Promise.all(routes(narrow))) expectProblem(keep(r), 403, "the token's scope does not cover this route");
    const scoped = tokenFor(d, C, 'district', { scope: 'calls:read webhooks:manage' });
    const r = keep(await post(d, '/v1/webhooks', base(), { token: scoped }));
    assert.equal(r.status, 201, r.text);
    made.push([r.json.id, 'district']);
    assert.equal(keep(await get(d, `/v1/webhooks/${r.json.id}`, { token: scoped })).status, 200);
    assert.equal(ok(await hooks.get(id)).status, 'active', 'the refused DELETEs changed nothing');
  });

  test('bad bodies → 422 naming the field', async () => {
    const bad = async (body, field) => expect422(await hooks.create(body), field);
    const b = base();
    await bad({ ...b, events: [] }, 'events');
    await bad({ ...b, events: Array.from({ length: 51 }, (_, i) => `call.e_${String.fromCharCode(97 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}`) }, 'events');
    await bad({ ...b, events: [1] }, 'events');
    await bad({ ...b, events: ['call.created', null] }, 'events');
    await bad({ ...b, events: 'call.created' }, 'events');
    await bad({ ...b, events: ['item.created'] }, 'events');
    await bad({ ...b, events: ['call.created', 'calls.created'] }, 'events');
    await bad({ ...b, events: ['call.Created'] }, 'events');
    await bad({ ...b, events: ['call.'] }, 'events');
    await bad({ url: b.url, secret: b.secret }, 'events');
    await bad({ ...b, secret: 'x'.repeat(15) }, 'secret');
    await bad({ ...b, secret: 'x'.repeat(257) }, 'secret');
    await bad({ ...b, secret: 12345678901234567 }, 'secret');
    await bad({ url: b.url, events: b.events }, 'secret');
    await bad({ secret: b.secret, events: b.events }, 'url');
    await bad({ ...b, url: `${url(P.crud, '/')}${'a'.repeat(2000)}` }, 'url');
    await bad({ ...b, system: '' }, 'system');
    await bad({ ...b, system: 'x'.repeat(65) }, 'system');
    await bad({ ...b, system: 89000 }, 'system');
    await bad({ ...b, status: 'disabled' }, 'status');
    await bad({ ...b, id: 5 }, 'id');
    // 50 events are fine (the boundary)
    const fifty = Array.from({ length: 50 }, (_, i) => `order.e_${String.fromCharCode(97 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}`);
    const r = await hooks.create({ ...b, events: fifty });
    assert.equal(r.status, 201, r.text);
    made.push([r.json.id, 'district']);
    assert.equal(r.json.events.length, 50);
    // redeliver takes no body but {}
    const x = await hooks.redeliver(r.json.id, 1, 'district', { again: true });
    expectProblem(x, 422);
    assert.equal(psql(`select count(*) from huying.webhooks where district_id = ${C.id} and status = 'active' and url like '%${'a'.repeat(50)}%'`), '0');
  });

  test('Idempotency-Key: a replay answers the same 201 with Idempotency-Replayed and makes one subscription; another body → 422', async () => {
    const key = `wh-idem-${process.pid}`;
    const body = base();
    const r1 = await hooks.create(body, 'district', { headers: { 'idempotency-key': key } });
    assert.equal(r1.status, 201, r1.text);
    made.push([r1.json.id, 'district']);
    assert.equal(r1.headers['idempotency-replayed'], undefined);
    const r2 = await hooks.create(body, 'district', { headers: { 'idempotency-key': key } });
    assert.equal(r2.status, 201, r2.text);
    assert.equal(r2.headers['idempotency-replayed'], 'true');
    assert.equal(r2.headers.location, r1.headers.location);
    assert.deepEqual(r2.json, r1.json);
    assert.equal(psql(`select count(*) from huying.webhooks w join huying.webhook_secrets s on s.webhook_id = w.id
                        where s.secret = '${body.secret}'`), '1');
    expect422(await hooks.create({ ...body, events: ['call.closed'] }, 'district', { headers: { 'idempotency-key': key } }), 'Idempotency-Key');
  });
});

// ---- the secret ----------------------------------------------------------------------------------------

test('no answer of this file carried a secret (create, get, list, deliveries, redeliver, problems), nor did the daemon log one; the metrics count the attempts', async () => {
  assert.ok(answers.length > 100 && secrets.size > 20, `${answers.length} answers, ${secrets.size} secrets`);
  for (const s of secrets) {
    const hit = answers.find((a) => a.includes(s));
    assert.equal(hit, undefined, `the secret ${s} in an answer: ${hit?.slice(0, 300)}`);
    assert.ok(!d.stderr().includes(s), `the secret ${s} in the daemon's log`);
  }
  // the API role cannot read the table of secrets
  assert.equal(psql(`select has_table_privilege('huying_api', 'huying.webhook_secrets', 'select')::text`), 'false');
  const m = (await request(d, 'GET', '/metrics')).text;
  const v = (name) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(m)?.[1]);
  assert.ok(v('huying_webhook_attempts_total') >= 20, m);
  assert.ok(v('huying_webhook_delivered_total') >= 10, m);
  assert.ok(v('huying_webhook_failed_attempts_total') >= 8, m);
  assert.equal(v('huying_webhook_attempts_total'), v('huying_webhook_delivered_total') + v('huying_webhook_failed_attempts_total'));
  assert.equal(v('huying_webhook_claim_failures_total'), 0);
});
