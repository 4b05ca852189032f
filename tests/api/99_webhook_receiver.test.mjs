// The reference webhook receiver itself (tests/webhook_receiver.mjs, issue 7): before the
// deliverer's tests lean on it, it must accept exactly the deliveries that are signed right.
// Signatures are made here with node:crypto, apart from the receiver's own sign(); one
// vector is the one tests/unit/test_sign.c checks against server/sign.c, computed with
// `openssl dgst -sha256 -hmac`, so the C signer and this verifier agree byte for byte.
// No daemon and no database: everything runs on 127.0.0.1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { start, verifySignature } from '../webhook_receiver.mjs';

const RECEIVER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'webhook_receiver.mjs');
const SECRET = 'whsec_receiver_test_0123456789abcdef';
const now = () => Math.floor(Date.now() / 1000);

const hmacHex = (secret, t, body) => crypto.createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');

function event(type = 'call.dispatched') {
  const id = crypto.randomUUID();
  return { id, body: JSON.stringify({ id, type, call: { id: 42, title: '路灯不亮' } }), type };
}

// POSTs body to the receiver as the deliverer does; sig overrides the Huying-Signature value.
async function deliver(url, ev, { secret = SECRET, t = now(), body = ev.body, sig, timeoutMs = 5000 } = {}) {
  const headers = {
    'Content-Type': 'application/json',
    'User-Agent': 'huying-webhooks/1',
    'Huying-Event-Id': ev.id,
    'Huying-Event-Type': ev.type,
    'Huying-Timestamp': String(t),
    'Huying-Signature': sig ?? `t=${t},v1=${hmacHex(secret, t, ev.body)}`,
  };
  const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, json: await res.json() };
}

describe('signature verification (verifySignature)', () => {
  test('the vector of server/sign.c verifies', () => {
    const body = '{"id":"evt_1","type":"call.dispatched"}';
    const header = 't=1700000000,v1=dce837f6dd759ccea0f60b879c2e7968927bc8f9cc4a38932b98923a1b1a4420';
    assert.deepEqual(verifySignature(header, Buffer.from(body), 'whsec_test_secret', { now: 1700000000 }),
      { ok: true, t: 1700000000 });
    assert.equal(hmacHex('whsec_test_secret', 1700000000, body),
      'dce837f6dd759ccea0f60b879c2e7968927bc8f9cc4a38932b98923a1b1a4420');
  });

  test('the verdicts: tampered, stale, from the future, wrong secret, malformed', () => {
    const t = 1700000000;
    const body = Buffer.from('{"a":1}');
    const good = `t=${t},v1=${hmacHex(SECRET, t, body)}`;
    const v = (header, opts = {}) => verifySignature(header, opts.body ?? body, opts.secret ?? SECRET,
      { now: opts.now ?? t }).reason ?? 'ok';
    assert.equal(v(good), 'ok');
    assert.equal(v(good, { now: t + 300 }), 'ok');
    assert.equal(v(good, { now: t - 300 }), 'ok');
    assert.equal(v(good, { body: Buffer.from('{"a":2}') }), 'mismatch');
    assert.equal(v(good, { now: t + 301 }), 'stale');
    assert.equal(v(good, { now: t - 301 }), 'stale');
    assert.equal(v(good, { secret: `${SECRET}x` }), 'mismatch');
    assert.equal(v(good, { secret: `${SECRET}x`, now: t + 9999 }), 'mismatch'); // the MAC is checked first
    assert.equal(v(`t=${t + 1},v1=${hmacHex(SECRET, t, body)}`, { now: t + 1 }), 'mismatch');
    assert.equal(v(`t=${t},v1=${'0'.repeat(64)},v1=${hmacHex(SECRET, t, body)}`), 'ok'); // rotation
    assert.equal(v(` v1=${hmacHex(SECRET, t, body)} , t=${t} ,v2=zz`), 'ok');
    for (const bad of ['', `t=${t}`, `v1=${hmacHex(SECRET, t, body)}`, `t=0${t},v1=${hmacHex(SECRET, t, body)}`,
      `t=${t},t=${t},v1=${hmacHex(SECRET, t, body)}`, `t=-${t},v1=x`, `t=1e9,v1=x`]) {
      assert.equal(v(bad), 'malformed', bad);
    }
    assert.equal(verifySignature(undefined, body, SECRET).reason, 'malformed');
    assert.equal(verifySignature(good, body, '').reason, 'malformed');
  });
});

describe('the receiver over HTTP', () => {
  let r;
  before(async () => { r = await start({ secret: SECRET }); });
  after(async () => { await r.close(); });

  test('a valid signature is accepted and the delivery recorded', async () => {
    const ev = event();
    const res = await deliver(r.url, ev);
    assert.equal(res.status, 200);
    const d = r.deliveries.at(-1);
    assert.equal(d.eventId, ev.id);
    assert.equal(d.eventType, 'call.dispatched');
    assert.equal(d.body, ev.body);
    assert.deepEqual(d.json, JSON.parse(ev.body));
    assert.equal(d.duplicate, false);
    assert.equal(r.attempts.at(-1).verdict, 'ok');
  });

  test('a tampered body is rejected with 401', async () => {
    const ev = event();
    const n = r.deliveries.length;
    const res = await deliver(r.url, ev, { body: ev.body.replace('42', '43') });
    assert.deepEqual(res, { status: 401, json: { error: 'signature mismatch' } });
    assert.equal(r.deliveries.length, n);
  });

  test('a stale timestamp is rejected with 401, and one from the future too', async () => {
    const ev = event();
    const n = r.deliveries.length;
    assert.deepEqual(await deliver(r.url, ev, { t: now() - 301 }), { status: 401, json: { error: 'signature stale' } });
    assert.deepEqual(await deliver(r.url, ev, { t: now() + 400 }), { status: 401, json: { error: 'signature stale' } });
    assert.equal((await deliver(r.url, ev, { t: now() - 200 })).status, 200); // inside the window
    assert.equal(r.deliveries.length, n + 1);
  });

  test('a wrong secret is rejected with 401', async () => {
    const ev = event();
    const n = r.deliveries.length;
    assert.deepEqual(await deliver(r.url, ev, { secret: 'not the secret' }),
      { status: 401, json: { error: 'signature mismatch' } });
    assert.equal(r.deliveries.length, n);
  });

  test('no signature or a malformed one is rejected with 401', async () => {
    const ev = event();
    assert.deepEqual(await deliver(r.url, ev, { sig: '' }), { status: 401, json: { error: 'signature malformed' } });
    assert.deepEqual(await deliver(r.url, ev, { sig: 'v1=abc' }), { status: 401, json: { error: 'signature malformed' } });
  });

  test('a repeated event id is accepted and marked a duplicate', async () => {
    const ev = event();
    assert.equal((await deliver(r.url, ev)).status, 200);
    assert.equal((await deliver(r.url, ev)).status, 200);
    const mine = r.deliveries.filter((d) => d.eventId === ev.id);
    assert.deepEqual(mine.map((d) => d.duplicate), [false, true]);
  });

  test('only POST', async () => {
    const res = await fetch(r.url);
    assert.equal(res.status, 405);
  });
});

describe('the script: fail 3 times, hang once, then accept', () => {
  let r;
  before(async () => { r = await start({ secret: SECRET, script: ['fail', 'fail', 'fail', 'hang'] }); });
  after(async () => { await r.close(); });

  test('attempts 1-3 get 500, the 4th no answer, the 5th 200; one delivery', async () => {
    const ev = event('order.resolved');
    // a forged attempt does not use up a step of the script
    assert.equal((await deliver(r.url, ev, { secret: 'forged' })).status, 401);
    for (let i = 0; i < 3; i++) assert.equal((await deliver(r.url, ev)).status, 500);
    await assert.rejects(deliver(r.url, ev, { timeoutMs: 300 }), (e) => e.name === 'TimeoutError');
    assert.equal((await deliver(r.url, ev)).status, 200);
    assert.deepEqual(r.attempts.map((a) => a.answer), [401, 500, 500, 500, 'hang', 200]);
    assert.deepEqual(r.attempts.map((a) => a.eventId), Array(6).fill(ev.id));
    assert.equal(r.deliveries.length, 1);
    assert.equal(r.deliveries[0].eventId, ev.id);
    assert.equal(r.deliveries[0].eventType, 'order.resolved');
  });
});

describe('as a command', () => {
  test('--port 0 --fail-first 1: prints each attempt as a JSON line', async () => {
    const child = spawn(process.execPath, [RECEIVER, '--port', '0', '--secret', SECRET, '--fail-first', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let err = '';
      const url = await new Promise((resolve, reject) => {
        child.stderr.on('data', (c) => {
          err += c;
          const m = /listening on (\S+)/.exec(err);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      let out = '';
      child.stdout.on('data', (c) => { out += c; });
      const ev = event();
      assert.equal((await deliver(url, ev)).status, 500);
      assert.equal((await deliver(url, ev)).status, 200);
      for (let i = 0; i < 50 && out.split('\n').length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      const lines = out.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => [l.eventId, l.verdict, l.answer]), [[ev.id, 'ok', 500], [ev.id, 'ok', 200]]);
    } finally {
      child.kill('SIGTERM');
    }
  });

  test('without a secret it refuses to start', async () => {
    const env = { ...process.env };
    delete env.HUYING_WEBHOOK_SECRET;
    const child = spawn(process.execPath, [RECEIVER, '--port', '0'], { stdio: 'ignore', env });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
  });
});
