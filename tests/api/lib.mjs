// Harness of the black-box API tests: the daemon, the database fixtures, token minting,
// HTTP (node:http and raw sockets) and the OpenAPI contract check that every response a
// test receives goes through.
//
// Environment (scripts/test.sh sets it): HUYING_BIN (default build/huyingd),
// HUYING_DATABASE_URL (API role), HUYING_MIGRATE_DATABASE_URL (owner role), and for the tests
// that stop the database or create one: HUYING_TEST_PG_DIR, HUYING_TEST_PG_PORT.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.resolve(ROOT, process.env.HUYING_BIN || 'build/huyingd');
export const DB_URL = process.env.HUYING_DATABASE_URL;
export const MIGRATE_URL = process.env.HUYING_MIGRATE_DATABASE_URL;
export const PG_DIR = process.env.HUYING_TEST_PG_DIR;
export const PG_PORT = process.env.HUYING_TEST_PG_PORT;

if (!DB_URL || !MIGRATE_URL)
  throw new Error('tests/api: HUYING_DATABASE_URL and HUYING_MIGRATE_DATABASE_URL must be set (scripts/test.sh does it)');
if (!fs.existsSync(BIN)) throw new Error(`tests/api: no daemon binary at ${BIN} (set HUYING_BIN)`);

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const now = () => Math.floor(Date.now() / 1000);

// ---- child processes ------------------------------------------------------------------

// The environment for everything we spawn: the caller's, minus any HUYING_* setting that
// could change the daemon under test (only the two database URLs are passed on).
export function baseEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('HUYING_') || k === 'HUYING_DATABASE_URL' || k === 'HUYING_MIGRATE_DATABASE_URL') env[k] = v;
  for (const [k, v] of Object.entries(extra)) {
    if (v === null || v === undefined) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

const PSQL = fs.existsSync('/usr/lib/postgresql/15/bin/psql') ? '/usr/lib/postgresql/15/bin/psql' : 'psql';

// Runs SQL (several statements and psql meta-commands allowed; fed on stdin) with psql
// (-At: unaligned, tuples only); returns stdout trimmed. Throws on error
// with psql's stderr in the message.
export function psql(sql, { url = MIGRATE_URL } = {}) {
  try {
    return execFileSync(PSQL, [url, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-f', '-'], {
      encoding: 'utf8',
      input: sql,
      env: baseEnv({ PGOPTIONS: '-c client_min_messages=warning' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    }).trim();
  } catch (e) {
    throw new Error(`psql failed: ${sql}\n${e.stderr || e.message}`);
  }
}

// Like psql(), but returns {code, stdout, stderr} instead of throwing.
export function psqlTry(sql, { url = MIGRATE_URL } = {}) {
  try {
    const stdout = execFileSync(PSQL, [url, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-f', '-'], {
      encoding: 'utf8',
      input: sql,
      env: baseEnv({ PGOPTIONS: '-c client_min_messages=warning' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return { code: 0, stdout: stdout.trim(), stderr: '' };
  } catch (e) {
    return { code: e.status ?? -1, stdout: String(e.stdout || '').trim(), stderr: String(e.stderr || '') };
  }
}

// A psql session kept open (to hold a lock). send() writes SQL; waitFor(text) waits until
// stdout shows it.
export function psqlSession({ url = MIGRATE_URL } = {}) {
  const p = spawn(PSQL, [url, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1'], {
    env: baseEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(p);
  p.unref();
  p.stdout.unref();
  p.stderr.unref();
  p.stdin.unref?.();
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => p.on('exit', (code) => { live.delete(p); resolve(code); }));
  return {
    send(sql) { p.stdin.write(sql + '\n'); },
    async waitFor(text, ms = 10000) {
      const t0 = Date.now();
      while (!out.includes(text)) {
        if (Date.now() - t0 > ms) throw new Error(`psql session: no "${text}" within ${ms} ms; stderr: ${err}`);
        if (p.exitCode !== null) throw new Error(`psql session exited: ${err}`);
        await sleep(20);
      }
    },
    async close() {
      if (p.exitCode === null) {
        p.stdin.end('\\q\n');
        const t = setTimeout(() => p.kill('SIGKILL'), 10000); // (also keeps the loop alive)
        await exited;
        clearTimeout(t);
      }
      return { out, err };
    },
  };
}

// Runs the daemon binary with args (migrate, district add, routes, token); returns
// {code, stdout, stderr}.
export function cli(args, env = {}, { timeout = 60000 } = {}) {
  try {
    const stdout = execFileSync(BIN, args, {
      cwd: ROOT,
      encoding: 'utf8',
      env: baseEnv(env),
      timeout,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    return { code: e.status ?? -1, stdout: String(e.stdout || ''), stderr: String(e.stderr || e.message) };
  }
}

// Same, asynchronously (for two at once).
export function cliAsync(args, env = {}) {
  return new Promise((resolve) => {
    const p = spawn(BIN, args, { cwd: ROOT, env: baseEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(p);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => { live.delete(p); resolve({ code, stdout, stderr }); });
  });
}

export function pgctl(...args) {
  if (!PG_DIR || !PG_PORT) throw new Error('HUYING_TEST_PG_DIR and HUYING_TEST_PG_PORT must be set for this test');
  return execFileSync('bash', [path.join(ROOT, 'scripts/pg.sh'), ...args], {
    cwd: ROOT, encoding: 'utf8', env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000,
  });
}

// ---- the daemon -------------------------------------------------------------------------

const live = new Set(); // child processes to kill if the test process exits early
process.on('exit', () => {
  for (const p of live) {
    try { p.kill('SIGKILL'); } catch { /* gone */ }
  }
});

export function randomSecret(bytes = 48) {
  // 48 printable bytes (base64url of 36 random bytes)
  return crypto.randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64url').slice(0, bytes);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const SANITIZER = /ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)|runtime error:|SUMMARY: (Address|Undefined|Leak)Sanitizer/;

function sanitizerReport(text) {
  const m = SANITIZER.exec(text);
  return m ? text.slice(Math.max(0, m.index - 200), m.index + 4000) : null;
}

// Starts `huyingd serve` on a free port with a random 48-byte HS256 secret unless env says
// otherwise (a value of null removes a variable). Waits for /healthz.
// Returns {url, port, secret, proc, logs, stderr(), stop(signal) -> exit code, ...}.
export async function startDaemon(env = {}, { waitMs = 20000 } = {}) {
  const port = await freePort();
  const secret = 'HUYING_JWT_SECRET' in env ? env.HUYING_JWT_SECRET : randomSecret();
  const fullEnv = baseEnv({
    HUYING_LISTEN: `127.0.0.1:${port}`,
    HUYING_JWT_SECRET: secret,
    HUYING_LOG_LEVEL: 'info',
    // no webhook deliverer unless a test asks for one: subscriptions that other tests leave
    // in the shared database must never make a daemon connect anywhere
    HUYING_WEBHOOK_INTERVAL_MS: '0',
    ...env,
  });
  const proc = spawn(BIN, ['serve'], { cwd: ROOT, env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  // A daemon left running by a failed test must not keep this process alive: at exit it
  // is killed (above).
  proc.unref();
  proc.stdout.unref();
  proc.stderr.unref();
  const logs = []; // parsed JSON lines of stderr
  let errText = '';
  let outText = '';
  let partial = '';
  proc.stdout.on('data', (d) => (outText += d));
  proc.stderr.on('data', (d) => {
    errText += d;
    partial += d;
    let i;
    while ((i = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, i);
      partial = partial.slice(i + 1);
      try { logs.push(JSON.parse(line)); } catch { logs.push({ raw: line }); }
    }
  });
  let exit = null;
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      exit = { code, signal };
      resolve(exit);
    });
  });
  const d = {
    url: `http://127.0.0.1:${port}`,
    port,
    secret,
    proc,
    logs,
    env: fullEnv,
    stderr: () => errText,
    stdout: () => outText,
    exited,
    get exit() { return exit; },
    // Fails the test if the daemon died or a sanitizer reported something.
    assertHealthy() {
      const rep = sanitizerReport(errText);
      assert.equal(rep, null, `sanitizer report in the daemon's stderr:\n${rep}`);
      assert.equal(exit, null, `the daemon exited unexpectedly (${JSON.stringify(exit)}):\n${errText.slice(-3000)}`);
    },
    // Sends signal (SIGTERM) and waits for the exit; asserts exit code 0 and no sanitizer
    // report unless expectCode says otherwise. Returns the exit code.
    async stop(signal = 'SIGTERM', { expectCode = 0, timeoutMs = 45000 } = {}) {
      if (!exit) {
        proc.kill(signal);
        const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(t);
      }
      const rep = sanitizerReport(errText);
      assert.equal(rep, null, `sanitizer report in the daemon's stderr:\n${rep}`);
      if (expectCode !== undefined)
        assert.equal(exit.code, expectCode,
          `the daemon exited with ${JSON.stringify(exit)}, expected code ${expectCode}:\n${errText.slice(-3000)}`);
      return exit.code;
    },
    async waitForLog(pred, ms = 5000) {
      const t0 = Date.now();
      for (;;) {
        const hit = logs.find(pred);
        if (hit) return hit;
        if (Date.now() - t0 > ms) throw new Error(`no matching log line within ${ms} ms:\n${errText.slice(-3000)}`);
        await sleep(20);
      }
    },
  };
  const t0 = Date.now();
  for (;;) {
    if (exit) throw new Error(`huyingd exited during start (${JSON.stringify(exit)}):\n${errText}`);
    if (Date.now() - t0 > waitMs) {
      proc.kill('SIGKILL');
      throw new Error(`huyingd did not answer /healthz within ${waitMs} ms:\n${errText}`);
    }
    try {
      const r = await request(d, 'GET', '/healthz', { timeout: 1000 });
      if (r.status === 200) break;
    } catch { /* not listening yet */ }
    await sleep(50);
  }
  return d;
}

// Runs `huyingd serve` expecting it to refuse to start; returns {code, signal, stderr}.
export async function startDaemonExpectFailure(env = {}, { waitMs = 15000 } = {}) {
  const port = await freePort();
  const proc = spawn(BIN, ['serve'], {
    cwd: ROOT,
    env: baseEnv({ HUYING_LISTEN: `127.0.0.1:${port}`, ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(proc);
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  proc.stdout.on('data', () => {});
  const res = await Promise.race([
    new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal }))),
    sleep(waitMs).then(() => null),
  ]);
  live.delete(proc);
  if (!res) {
    proc.kill('SIGKILL');
    return { code: null, signal: null, stderr, running: true };
  }
  return { ...res, stderr, running: false };
}

// ---- tokens -------------------------------------------------------------------------------

const b64u = (x) => Buffer.from(x).toString('base64url');

// Signs claims as a JWT. opts: alg (header alg, default HS256), key (HMAC secret, or a
// private KeyObject/PEM for RS256/ES256), header (extra or replacing header members),
// sign (the algorithm actually used to sign: HS256 | RS256 | ES256 | none; default alg
// upper-cased), payload (raw payload text instead of JSON.stringify(claims)), signature
// (raw signature text).
export function mint(claims, { alg = 'HS256', key, header = {}, sign, payload, signature } = {}) {
  const h = { alg, typ: 'JWT', ...header };
  for (const k of Object.keys(h)) if (h[k] === undefined) delete h[k];
  const input = `${b64u(JSON.stringify(h))}.${b64u(payload ?? JSON.stringify(claims))}`;
  if (signature !== undefined) return `${input}.${signature}`;
  const how = (sign ?? alg).toUpperCase();
  let sig;
  if (how === 'NONE') sig = '';
  else if (/^HS(256|384|512)$/.test(how))
    sig = crypto.createHmac(`sha${how.slice(2)}`, key).update(input).digest('base64url');
  else if (how === 'RS256') sig = crypto.sign('sha256', Buffer.from(input), key).toString('base64url');
  else if (how === 'ES256')
    sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  else throw new Error(`mint: cannot sign with ${how}`);
  return `${input}.${sig}`;
}

// ---- fixtures: districts ------------------------------------------------------------------

export function districtAdd(code, name) {
  const r = cli(['district', 'add', '--code', code, '--name', name]);
  assert.equal(r.code, 0, `huyingd district add --code ${code} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

export function loadDemo(districtId) {
  execFileSync('bash', [path.join(ROOT, 'scripts/load-demo.sh'), String(districtId)], {
    cwd: ROOT, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000,
  });
}

// The units of a district by code: Map code -> {id, kind}.
export function unitsOf(districtId) {
  const m = new Map();
  const out = psql(`select code, id, kind from huying.units where district_id = ${Number(districtId)} order by code`);
  for (const line of out.split('\n').filter(Boolean)) {
    const [code, id, kind] = line.split('|');
    m.set(code, { id: Number(id), kind });
  }
  return m;
}

function describeDistrict(info, code) {
  const units = unitsOf(info.district_id);
  return {
    id: info.district_id,
    code,
    office: info.office_unit_id,
    units,
    unit: (c) => {
      const u = units.get(c);
      assert.ok(u, `no unit ${c} in district ${code}`);
      return u.id;
    },
  };
}

// A district with the demo data; code and name as given (idempotent: a second call finds it).
export function demoDistrict(code, name) {
  const info = districtAdd(code, name);
  loadDemo(info.district_id);
  return describeDistrict(info, code);
}

let cached;
// The two shared districts: A (code CD, the demo; never written to by any test) and B (B2).
export function fixtures() {
  if (!cached) cached = { A: demoDistrict('CD', '长岛综合试验区'), B: demoDistrict('B2', '第二试验区') };
  return cached;
}

// A new district of its own with the demo data, for tests that write.
export function scratchDistrict(tag) {
  const code = `T${tag}${crypto.randomBytes(3).toString('hex')}`.slice(0, 32);
  return demoDistrict(code, `测试区 ${code}`);
}

export const ROLE_UNIT = { township: 'TS-NCS', department: 'CD-ZRZY', district: null, integration: null };
export const ROLES = ['township', 'department', 'district', 'integration'];

// Claims of a valid token of role in district dist (from fixtures()).
export function claimsFor(dist, role, extra = {}) {
  const unit = ROLE_UNIT[role] ? dist.unit(ROLE_UNIT[role]) : dist.office;
  const c = {
    sub: `test:${role}:${dist.code}`,
    role,
    unit_id: unit,
    district: dist.id,
    iat: now(),
    exp: now() + 3600,
  };
  if (role === 'integration') c.system = '89000';
  return { ...c, ...extra };
}

// A valid HS256 token for daemon d.
export function tokenFor(d, dist, role, extra = {}) {
  return mint(claimsFor(dist, role, extra), { key: d.secret });
}

// ---- OpenAPI contract ------------------------------------------------------------------

export const openapi = YAML.parse(fs.readFileSync(path.join(ROOT, 'openapi/openapi.yaml'), 'utf8'));
const DOC_ID = 'https://huying.test/openapi.json';
const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
addFormats(ajv);
ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isSafeInteger(n) });
ajv.addFormat('int32', { type: 'number', validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
ajv.addSchema(openapi, DOC_ID);
const validators = new Map();

function validatorFor(pointer) {
  if (!validators.has(pointer)) validators.set(pointer, ajv.compile({ $ref: `${DOC_ID}#${pointer}` }));
  return validators.get(pointer);
}

const esc = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');
function resolve(ptr) {
  let node = openapi;
  for (const part of ptr.split('/').slice(1)) node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return node;
}
// Follows $ref chains; returns [object, its JSON pointer].
function deref(obj, ptr) {
  while (obj && obj.$ref) {
    assert.ok(obj.$ref.startsWith('#/'), `only local refs: ${obj.$ref}`);
    ptr = obj.$ref.slice(1);
    obj = resolve(ptr);
  }
  return [obj, ptr];
}

// Every response body schema of the document, as [where, JSON pointer]; and a compiler for
// them (the inventory test compiles them all, so that a broken $ref shows at once).
export function responseSchemas() {
  const out = [];
  for (const [p, item] of Object.entries(openapi.paths)) {
    for (const [m, op] of Object.entries(item)) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      for (const [status, r0] of Object.entries(op.responses)) {
        const [resp, ptr] = deref(r0, `/paths/${esc(p)}/${m}/responses/${status}`);
        assert.ok(resp, `${m.toUpperCase()} ${p} ${status}: the response does not resolve`);
        for (const mt of Object.keys(resp.content || {}))
          if (resp.content[mt].schema) out.push([`${m.toUpperCase()} ${p} ${status} ${mt}`, `${ptr}/content/${esc(mt)}/schema`]);
      }
    }
  }
  return out;
}
export const compileSchema = (pointer) => validatorFor(pointer);

export const PROBLEM_SLUGS = {
  400: 'bad-request', 401: 'unauthorized', 403: 'forbidden', 404: 'not-found', 405: 'method-not-allowed',
  406: 'not-acceptable', 409: 'conflict', 412: 'precondition-failed', 413: 'payload-too-large',
  415: 'unsupported-media-type', 422: 'validation-failed', 429: 'too-many-requests', 500: 'internal-error',
  503: 'service-unavailable',
};

const templates = Object.keys(openapi.paths).map((t) => ({
  template: t,
  re: new RegExp('^' + t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
}));

// The OpenAPI path template a request path falls under, or null.
export function matchRoute(reqPath) {
  const p = reqPath.split('?')[0];
  const hit = templates.find((t) => t.re.test(p));
  return hit ? hit.template : null;
}

function fmtErrors(v) {
  return JSON.stringify(v.errors?.slice(0, 5), null, 1);
}

// Paths under /open311/ (the Open311 GeoReport v2 facade) answer their errors in Open311's
// format, a JSON array of {code, description} with code = the HTTP status, never as problems.
export const isOpen311 = (p) => typeof p === 'string' && p.startsWith('/open311/');

function checkOpen311ErrorBody(res, where, head) {
  assert.equal(mediaType(res), 'application/json', `${where}: an Open311 error must be application/json, got ${res.headers['content-type']}: ${res.text?.slice(0, 300)}`);
  if (head) {
    assert.equal(res.body.length, 0, `${where}: a HEAD answer has no body`);
    return;
  }
  const v = validatorFor('/components/schemas/Open311Errors');
  assert.ok(v(res.json), `${where}: the body is not Open311 errors: ${fmtErrors(v)}\n${res.text}`);
  for (const e of res.json) assert.equal(e.code, res.status, `${where}: an error's code differs from the HTTP status`);
}

function checkProblemBody(res, where, requestPath, head = false) {
  if (isOpen311(requestPath)) {
    checkOpen311ErrorBody(res, where, head);
    return;
  }
  const ct = mediaType(res);
  assert.equal(ct, 'application/problem+json', `${where}: a ${res.status} must be application/problem+json, got ${res.headers['content-type']}: ${res.text?.slice(0, 300)}`);
  if (head) {
    assert.equal(res.body.length, 0, `${where}: a HEAD answer has no body`);
    return;
  }
  assert.ok(res.json && typeof res.json === 'object', `${where}: the problem body is not JSON: ${res.text?.slice(0, 300)}`);
  const v = validatorFor('/components/schemas/Problem');
  assert.ok(v(res.json), `${where}: the body is not a Problem: ${fmtErrors(v)}\n${res.text}`);
  assert.equal(res.json.status, res.status, `${where}: problem.status differs from the HTTP status`);
  const slug = PROBLEM_SLUGS[res.status];
  if (slug) assert.equal(res.json.type, `https://huying.dev/problems/${slug}`, `${where}: problem type`);
  assert.equal(res.json.request_id, res.headers['x-request-id'], `${where}: problem.request_id differs from X-Request-Id`);
  // civetweb's own refusals (unparsable request line, oversized headers) come before the
  // path is known: they name "/".
  const early = /^the request could not be parsed/.test(res.json.detail) && res.json.instance === '/';
  if (requestPath && !early) assert.equal(res.json.instance, requestPath.split('?')[0], `${where}: problem.instance`);
}

function mediaType(res) {
  const ct = res.headers['content-type'];
  return ct ? ct.split(';')[0].trim().toLowerCase() : null;
}

function headerValue(schema, raw) {
  if (schema && (schema.type === 'integer' || schema.type === 'number') && /^-?[0-9]+$/.test(raw)) return Number(raw);
  return raw;
}

// Asserts that res (from request() or raw()) is what the OpenAPI document says operation
// (method, routePattern) answers: a documented status, a documented content type, a body
// that validates, the documented headers. routePattern null: the route does not exist, and
// the answer must be a Problem (or an empty 204 to OPTIONS). opts.requestPath: the path
// sent, to check problem.instance.
export function checkContract(method, routePattern, res, { requestPath } = {}) {
  const m = method.toUpperCase() === 'HEAD' ? 'get' : method.toLowerCase();
  const where = `${method} ${requestPath ?? routePattern} -> ${res.status}`;
  const rid = res.headers['x-request-id'];
  assert.ok(rid !== undefined, `${where}: no X-Request-Id header`);
  assert.match(rid, /^[A-Za-z0-9._-]{1,64}$/, `${where}: X-Request-Id`);
  // civetweb's own refusals (unparsable request, oversized headers) are not answers of the
  // operation the path names: they are checked as plain problems.
  const early = res.status >= 400 && /^the request could not be parsed/.test(res.json?.detail ?? '');
  const op = routePattern && !early ? openapi.paths[routePattern]?.[m] : undefined;
  if (!op) {
    // Not an operation of the document: an OPTIONS answer or an error.
    if (method.toUpperCase() === 'OPTIONS' && res.status === 204) {
      assert.equal(res.body.length, 0, `${where}: a 204 has no body`);
      return;
    }
    assert.ok(res.status >= 400, `${where}: an undocumented operation answered ${res.status}`);
    if (res.status === 405) assert.ok(res.headers.allow, `${where}: 405 without Allow`);
    checkProblemBody(res, where, requestPath, method.toUpperCase() === 'HEAD');
    return;
  }
  const opPtr = `/paths/${esc(routePattern)}/${m}`;
  const key = op.responses[String(res.status)] ? String(res.status) : op.responses.default ? 'default' : null;
  assert.ok(key, `${where}: status ${res.status} is not documented for ${m.toUpperCase()} ${routePattern}: ${res.text?.slice(0, 300)}`);
  const [resp, respPtr] = deref(op.responses[key], `${opPtr}/responses/${key}`);
  for (const [name, h0] of Object.entries(resp.headers || {})) {
    const [h] = deref(h0, '');
    const v = res.headers[name.toLowerCase()];
    if (h.required) assert.ok(v !== undefined, `${where}: the documented header ${name} is missing`);
    if (v !== undefined && h.schema) {
      const [s] = deref(h.schema, '');
      const hv = ajv.compile(s);
      assert.ok(hv(headerValue(s, v)), `${where}: header ${name}: ${JSON.stringify(v)} does not match ${JSON.stringify(s)}`);
    }
  }
  if (!resp.content) {
    assert.equal(res.body.length, 0, `${where}: no content is documented, but a body came`);
    return;
  }
  const mt = mediaType(res);
  assert.ok(mt && resp.content[mt], `${where}: content type ${res.headers['content-type']} is not one of ${Object.keys(resp.content).join(', ')}`);
  if (res.status >= 400) checkProblemBody(res, where, requestPath, method.toUpperCase() === 'HEAD');
  if (method.toUpperCase() === 'HEAD') {
    assert.equal(res.body.length, 0, `${where}: a HEAD answer has no body`);
    return;
  }
  const schemaPtr = `${respPtr}/content/${esc(mt)}/schema`;
  if (!resolve(schemaPtr)) return;
  let value;
  if (mt.endsWith('json')) {
    assert.ok(res.json !== undefined, `${where}: the body is not JSON: ${res.text?.slice(0, 300)}`);
    value = res.json;
  } else {
    value = res.text;
  }
  const v = validatorFor(schemaPtr);
  assert.ok(v(value), `${where}: the body does not match ${schemaPtr}: ${fmtErrors(v)}\n${res.text?.slice(0, 500)}`);
}

// ---- HTTP -----------------------------------------------------------------------------------

function finish(status, headers, body) {
  const text = body.toString('utf8');
  let json;
  const ct = headers['content-type'] || '';
  if (/json/i.test(ct)) {
    try { json = JSON.parse(text); } catch { json = undefined; }
  }
  return { status, headers, body, text, json };
}

const baseOf = (d) => (typeof d === 'string' ? d : d.url);

// One HTTP request. d: a daemon (or base URL). opts: token (Bearer), headers, body
// (string/Buffer/object -> JSON), agent (default: none, one connection per request),
// timeout, route (OpenAPI pattern; default: matched from the path), check (false: skip the
// contract check, only for the few tests that look at a response that may be broken).
export function request(d, method, reqPath, opts = {}) {
  const { token, headers = {}, agent = false, timeout = 30000, check = true } = opts;
  let { body } = opts;
  const h = { ...headers };
  if (token !== undefined) h.authorization = `Bearer ${token}`;
  if (body !== undefined && typeof body === 'object' && !Buffer.isBuffer(body)) {
    body = JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
  }
  if (body !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-length'))
    h['content-length'] = Buffer.byteLength(body);
  const url = new URL(reqPath, baseOf(d));
  return new Promise((resolvePromise, reject) => {
    const req = http.request(url, { method, headers: h, agent, timeout }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const r = finish(res.statusCode, res.headers, Buffer.concat(chunks));
        r.trailers = res.trailers;
        if (check) {
          try {
            checkContract(method, opts.route !== undefined ? opts.route : matchRoute(reqPath), r, { requestPath: url.pathname });
          } catch (e) {
            reject(e);
            return;
          }
        }
        resolvePromise(r);
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${reqPath}: no answer within ${timeout} ms`)));
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

export const get = (d, p, opts = {}) => request(d, 'GET', p, opts);
export const post = (d, p, body, opts = {}) => request(d, 'POST', p, { ...opts, body });

// Parses every complete HTTP/1.1 response in buf. Returns {responses, rest}. With
// closed=true a response without a length runs to the end of buf.
export function parseResponses(buf, closed = false, headOnly = false) {
  const responses = [];
  let off = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', off);
    if (end < 0) break;
    const lines = buf.subarray(off, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) throw new Error(`not an HTTP response: ${lines[0]}`);
    const status = Number(m[1]);
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).trim().toLowerCase();
      const v = l.slice(i + 1).trim();
      headers[k] = headers[k] !== undefined ? `${headers[k]}, ${v}` : v;
    }
    let p = end + 4;
    let body;
    if (headOnly || status === 204 || status === 304 || (status >= 100 && status < 200)) {
      body = Buffer.alloc(0);
    } else if (/chunked/i.test(headers['transfer-encoding'] || '')) {
      const parts = [];
      let done = false;
      for (;;) {
        const le = buf.indexOf('\r\n', p);
        if (le < 0) break;
        const size = parseInt(buf.subarray(p, le).toString('latin1'), 16);
        if (Number.isNaN(size)) throw new Error('bad chunk size');
        if (size === 0) {
          const te = buf.indexOf('\r\n', le + 2);
          if (te < 0) break;
          p = te + 2;
          done = true;
          break;
        }
        if (buf.length < le + 2 + size + 2) break;
        parts.push(buf.subarray(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
      if (!done) break;
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (buf.length < p + n) break;
      body = buf.subarray(p, p + n);
      p += n;
    } else {
      if (!closed) break;
      body = buf.subarray(p);
      p = buf.length;
    }
    responses.push(finish(status, headers, Buffer.from(body)));
    off = p;
  }
  return { responses, rest: buf.subarray(off) };
}

// Raw socket conversation. steps: a string/Buffer, or an array of {data, delay, end} /
// strings sent in order (delay in ms before each; end: half-close after it). Resolves when the server closes, when `expect`
// responses are complete, or at timeout: {responses, closed, closedAt (ms from start),
// error, raw}. Each response is contract-checked against checks[i] = {method, path}
// (default: taken from each request line sent, in order).
export function raw(d, steps, { timeout = 10000, expect = Infinity, check = true, headOnly = false } = {}) {
  const port = typeof d === 'object' ? d.port : d;
  const list = Array.isArray(steps) ? steps : [steps];
  return new Promise((resolvePromise, reject) => {
    const t0 = Date.now();
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let closed = false;
    let closedAt = null;
    let error = null;
    let settled = false;
    let sentText = '';
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      let responses;
      try {
        ({ responses } = parseResponses(buf, closed, headOnly));
      } catch (e) {
        reject(new Error(`${e.message}\n${buf.toString('latin1').slice(0, 500)}`));
        return;
      }
      const sentLines = [...sentText.matchAll(/(?:^|\r\n)([A-Z]+ \/[^ \r\n]* HTTP\/1\.[01])\r\n/g)].map((m) => m[1]);
      if (check) {
        try {
          responses.forEach((r, i) => {
            const req = sentLines[i] || sentLines[sentLines.length - 1] || 'GET /';
            const [method, target] = req.split(' ');
            const p = (target || '/').split('?')[0];
            checkContract(method, matchRoute(p), r, { requestPath: p });
          });
        } catch (e) {
          reject(e);
          return;
        }
      }
      resolvePromise({ responses, closed, closedAt, error, raw: buf });
    };
    const timer = setTimeout(done, timeout);
    sock.on('data', (c) => {
      buf = Buffer.concat([buf, c]);
      if (expect !== Infinity) {
        try {
          if (parseResponses(buf, false, headOnly).responses.length >= expect) done();
        } catch { /* wait for more */ }
      }
    });
    sock.on('error', (e) => { error = e; });
    sock.on('close', () => {
      closed = true;
      closedAt = Date.now() - t0;
      done();
    });
    sock.on('connect', async () => {
      for (const s of list) {
        const step = typeof s === 'string' || Buffer.isBuffer(s) ? { data: s } : s;
        if (step.delay) await sleep(step.delay);
        if (settled || sock.destroyed) return;
        sentText += Buffer.from(step.data).toString('latin1');
        if (step.end) sock.end(step.data);
        else await new Promise((r) => sock.write(step.data, () => r()));
      }
    });
  });
}

// ---- assertions -------------------------------------------------------------------------------

// A problem answer with exactly this status and detail (and errors, when given).
export function expectProblem(res, status, detail, { errors } = {}) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text?.slice(0, 400)}`);
  assert.match(res.headers['content-type'] || '', /^application\/problem\+json/);
  assert.equal(res.json.type, `https://huying.dev/problems/${PROBLEM_SLUGS[status]}`);
  assert.equal(res.json.status, status);
  if (detail instanceof RegExp) assert.match(res.json.detail, detail);
  else if (detail !== undefined) assert.equal(res.json.detail, detail);
  if (errors !== undefined) assert.deepEqual(res.json.errors, errors);
  if (status === 503 || status === 429) assert.match(res.headers['retry-after'] || '', /^[0-9]+$/, 'Retry-After');
}

// An Open311 error answer (isOpen311) with exactly this status, and descriptions: a string
// (one error, that description), a RegExp (one error matching it) or an array (exactly
// those descriptions, in order).
export function expectOpen311Error(res, status, descriptions) {
  assert.equal(res.status, status, `expected ${status}, got ${res.status}: ${res.text?.slice(0, 400)}`);
  assert.match(res.headers['content-type'] || '', /^application\/json/);
  assert.ok(Array.isArray(res.json) && res.json.length >= 1, res.text);
  for (const e of res.json) assert.equal(e.code, status, res.text);
  const got = res.json.map((e) => e.description);
  if (descriptions instanceof RegExp) {
    assert.equal(got.length, 1, res.text);
    assert.match(got[0], descriptions);
  } else if (typeof descriptions === 'string') {
    assert.deepEqual(got, [descriptions]);
  } else if (descriptions !== undefined) {
    assert.deepEqual(got, descriptions);
  }
  if (status === 503 || status === 429) assert.match(res.headers['retry-after'] || '', /^[0-9]+$/, 'Retry-After');
}

export const WWW_INVALID = 'Bearer realm="huying", error="invalid_token"';
export const WWW_NONE = 'Bearer realm="huying"';

export function expect401(res, detail, { www = WWW_INVALID } = {}) {
  expectProblem(res, 401, detail);
  assert.equal(res.headers['www-authenticate'], www);
}

// All rows of a list, following next_cursor (limit 200).
export async function listAll(d, basePath, token) {
  const rows = [];
  let cursor = null;
  for (let i = 0; i < 1000; i++) {
    const sep = basePath.includes('?') ? '&' : '?';
    const p = `${basePath}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await get(d, p, { token });
    assert.equal(r.status, 200, r.text);
    rows.push(...r.json.data);
    cursor = r.json.next_cursor;
    if (!cursor) return rows;
  }
  throw new Error('listAll: too many pages');
}

export function tmpFile(name, content) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'huying-api-'));
  const f = path.join(dir, name);
  fs.writeFileSync(f, content);
  return f;
}
