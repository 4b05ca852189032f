// The reference receiver of huying's webhooks (DESIGN §5 "Integration and bulk work"):
// a small HTTP server, with nothing beyond node:, that an integrator can copy. It
//   - verifies Huying-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//     over the raw body bytes, in constant time, with a timestamp tolerance (300 s);
//   - answers 401 to a delivery whose signature does not verify, and records nothing of it
//     as a delivery;
//   - records each delivery it accepts (Huying-Event-Id, type, timestamp, body) and marks a
//     repeated event id as a duplicate: deliveries are at least once, so a receiver must
//     de-duplicate by event id;
//   - for tests, follows a script of answers for successive signed attempts: fail with
//     500, hang past the sender's timeout, answer a given status, then accept.
//
// As a module:
//   import { start } from './webhook_receiver.mjs';
//   const r = await start({ port: 0, secret: 's3cret', script: ['fail', 'fail', 'fail', 'hang'] });
//   r.url            // 'http://127.0.0.1:<port>/'
//   r.deliveries     // accepted deliveries: { eventId, eventType, timestamp, body, json, duplicate }
//   r.attempts       // every request: { n, eventId, verdict, answer }
//   await r.close();
// As a command:
//   node tests/webhook_receiver.mjs --port 9000 --secret s3cret [--host 127.0.0.1]
//        [--fail-first 3] [--hang-once] [--script fail,fail,hang,410,accept] [--tolerance 300]
//   (the secret may come from HUYING_WEBHOOK_SECRET instead); it prints one JSON line per
//   request on stdout and stops on SIGINT or SIGTERM.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const TOLERANCE_S = 300;
const BODY_LIMIT = 1024 * 1024;

// The Huying-Signature value for body (a Buffer or a string) at time t, as the sender makes it.
export function sign(secret, t, body) {
  const mac = crypto.createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
  return `t=${t},v1=${mac}`;
}

// Verifies the header value against the raw body. Returns { ok: true, t } or
// { ok: false, reason } with reason 'malformed' (no t, t not plain digits, two t's, no v1),
// 'mismatch' (no v1 equals the HMAC: wrong secret, altered body or t) or 'stale' (the MAC is
// right but |now - t| > tolerance, either way). The MAC is checked before the time.
export function verifySignature(header, body, secret, { now = Date.now() / 1000, tolerance = TOLERANCE_S } = {}) {
  if (typeof header !== 'string' || !secret) return { ok: false, reason: 'malformed' };
  let t = null;
  const v1 = [];
  for (const raw of header.split(',')) {
    const item = raw.trim();
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (key === 't') {
      // one t, plain decimal digits without a leading zero: one spelling per instant
      if (t !== null || !/^(0|[1-9][0-9]{0,17})$/.test(value)) return { ok: false, reason: 'malformed' };
      t = value;
    } else if (key === 'v1') {
      v1.push(value);
    } // other schemes (v2, ...) are ignored
  }
  if (t === null || v1.length === 0) return { ok: false, reason: 'malformed' };
  const want = crypto.createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  let match = false;
  for (const v of v1) {
    if (!/^[0-9a-fA-F]{64}$/.test(v)) continue;
    // every candidate is compared in full, in constant time
    if (crypto.timingSafeEqual(want, Buffer.from(v, 'hex'))) match = true;
  }
  if (!match) return { ok: false, reason: 'mismatch' };
  if (Math.abs(Math.floor(now) - Number(t)) > tolerance) return { ok: false, reason: 'stale' };
  return { ok: true, t: Number(t) };
}

// One step of the script: 'fail' -> 500, 'hang' -> no answer, 'accept' -> 200, a number ->
// that status.
function stepOf(script, n) {
  const s = n < script.length ? script[n] : 'accept';
  if (s === 'fail') return { status: 500 };
  if (s === 'hang') return { hang: true };
  if (s === 'accept') return { status: 200 };
  if (Number.isInteger(s) && s >= 200 && s <= 599) return { status: s };
  throw new Error(`webhook_receiver: bad script step ${JSON.stringify(s)}`);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > BODY_LIMIT) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function reply(res, status, obj) {
  const text = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

// Starts the receiver. Options: port (0: any free one), host ('127.0.0.1'), secret
// (required), script (array of steps, see stepOf), tolerance (seconds, 300), hangMs (how long
// a hanging answer holds the connection, 60 s), onRequest (called with each attempt record).
export async function start({ port = 0, host = '127.0.0.1', secret, script = [], tolerance = TOLERANCE_S,
  hangMs = 60_000, onRequest = null } = {}) {
  if (!secret) throw new Error('webhook_receiver: a secret is required');
  const deliveries = [];
  const attempts = [];
  const seen = new Set();
  const hanging = new Set();
  let signed = 0; // signed attempts so far: the position in the script

  const server = http.createServer(async (req, res) => {
    const attempt = { n: attempts.length + 1, method: req.method, path: req.url,
      eventId: req.headers['huying-event-id'] ?? null, eventType: req.headers['huying-event-type'] ?? null,
      timestamp: req.headers['huying-timestamp'] ?? null, verdict: null, answer: null };
    attempts.push(attempt);
    const done = (answer) => {
      attempt.answer = answer;
      if (onRequest) onRequest(attempt);
    };
    if (req.method !== 'POST') {
      reply(res, 405, { error: 'POST only' });
      return done(405);
    }
    let body;
    try {
      body = await readBody(req);
    } catch (e) {
      if (!res.headersSent && !res.destroyed) reply(res, e.status ?? 400, { error: e.message });
      return done(e.status ?? 400);
    }
    const v = verifySignature(req.headers['huying-signature'], body, secret, { tolerance });
    attempt.verdict = v.ok ? 'ok' : v.reason;
    if (!v.ok) {
      reply(res, 401, { error: `signature ${v.reason}` });
      return done(401);
    }
    if (!attempt.eventId) {
      reply(res, 400, { error: 'Huying-Event-Id missing' });
      return done(400);
    }
    const step = stepOf(script, signed++);
    if (step.hang) {
      hanging.add(res);
      const timer = setTimeout(() => res.destroy(), hangMs);
      res.on('close', () => { clearTimeout(timer); hanging.delete(res); });
      return done('hang');
    }
    if (step.status >= 200 && step.status < 300) {
      let json = null;
      try { json = JSON.parse(body.toString('utf8')); } catch { /* recorded as text */ }
      deliveries.push({ eventId: attempt.eventId, eventType: attempt.eventType, timestamp: v.t,
        body: body.toString('utf8'), json, duplicate: seen.has(attempt.eventId), headers: { ...req.headers } });
      seen.add(attempt.eventId);
    }
    reply(res, step.status, { status: step.status });
    return done(step.status);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const addr = server.address();
  const hostPart = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${hostPart}:${addr.port}/`,
    port: addr.port,
    deliveries,
    attempts,
    close: () => new Promise((resolve) => {
      for (const res of hanging) res.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

// ---- command line ------------------------------------------------------------------------

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9000' },
      host: { type: 'string', default: '127.0.0.1' },
      secret: { type: 'string' },
      'fail-first': { type: 'string', default: '0' },
      'hang-once': { type: 'boolean', default: false },
      script: { type: 'string' },
      tolerance: { type: 'string', default: String(TOLERANCE_S) },
    },
  });
  const secret = values.secret ?? process.env.HUYING_WEBHOOK_SECRET;
  if (!secret) {
    process.stderr.write('webhook_receiver: --secret or HUYING_WEBHOOK_SECRET is required\n');
    process.exit(2);
  }
  let script;
  if (values.script) {
    script = values.script.split(',').map((s) => s.trim()).map((s) => (/^[0-9]+$/.test(s) ? Number(s) : s));
  } else {
    script = Array(Number(values['fail-first'])).fill('fail');
    if (values['hang-once']) script.push('hang');
  }
  script.forEach((s, i) => stepOf(script, i)); // refuse a bad script before listening
  const r = await start({ port: Number(values.port), host: values.host, secret, script,
    tolerance: Number(values.tolerance),
    onRequest: (a) => process.stdout.write(`${JSON.stringify(a)}\n`) });
  process.stderr.write(`webhook_receiver: listening on ${r.url}\n`);
  const stop = async () => { await r.close(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`webhook_receiver: ${e.message}\n`);
    process.exit(1);
  });
}
