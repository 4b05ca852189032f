// The route table of the daemon (`huyingd routes`) and the OpenAPI document describe the same
// operations, with the same roles and scopes; and every response schema of the document
// compiles (the contract check of every other test relies on them).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { cli, compileSchema, openapi, responseSchemas } from './lib.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

function routes() {
  const r = cli(['routes']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('huyingd routes and the OpenAPI operations are the same set', () => {
  const fromDaemon = routes().map((r) => `${r.method} ${r.path}`);
  assert.equal(new Set(fromDaemon).size, fromDaemon.length, 'a route appears twice in the route table');
  const fromDoc = [];
  for (const [p, item] of Object.entries(openapi.paths))
    for (const m of METHODS) if (item[m]) fromDoc.push(`${m.toUpperCase()} ${p}`);
  const missing = fromDaemon.filter((x) => !fromDoc.includes(x));
  const extra = fromDoc.filter((x) => !fromDaemon.includes(x));
  assert.deepEqual({ 'routes missing from openapi.yaml': missing, 'operations the daemon does not have': extra },
    { 'routes missing from openapi.yaml': [], 'operations the daemon does not have': [] });
});

test("each operation's x-roles, x-scope and security equal the route's roles, scope and auth", () => {
  const problems = [];
  for (const r of routes()) {
    const where = `${r.method} ${r.path}`;
    const op = openapi.paths[r.path]?.[r.method.toLowerCase()];
    if (!op) {
      problems.push(`${where}: not in openapi.yaml`);
      continue;
    }
    const security = op.security ?? openapi.security ?? [];
    const check = (ok, what) => { if (!ok) problems.push(`${where}: ${what}`); };
    if (r.auth) {
      check(JSON.stringify(security) === JSON.stringify([{ bearer: [] }]), 'a route that needs a token must require bearer');
      check(JSON.stringify([...(op['x-roles'] || [])].sort()) === JSON.stringify([...r.roles].sort()),
        `x-roles ${JSON.stringify(op['x-roles'])} but the route allows ${JSON.stringify(r.roles)}`);
      check('x-scope' in op && op['x-scope'] === r.scope, `x-scope ${JSON.stringify(op['x-scope'])} but the route needs ${JSON.stringify(r.scope)}`);
      for (const s of ['401', '403']) check(op.responses[s], `${s} not documented`);
    } else {
      check(JSON.stringify(security) === '[]', 'a route without a token must have security: []');
      check(r.roles.length === 0, 'roles without auth');
      check(op['x-roles'] === undefined, 'x-roles on a route without a token');
    }
    check(op.responses['405'], '405 not documented');
  }
  assert.deepEqual(problems, []);
});

test('every route exposes only the four roles of DESIGN §4', () => {
  const known = new Set(['township', 'department', 'district', 'integration']);
  for (const r of routes()) for (const role of r.roles) assert.ok(known.has(role), `${r.path}: unknown role ${role}`);
});

test('every response schema of openapi.yaml compiles', () => {
  const all = responseSchemas();
  assert.ok(all.length >= 20);
  const broken = [];
  for (const [where, ptr] of all) {
    try { compileSchema(ptr); } catch (e) { broken.push(`${where}: ${e.message}`); }
  }
  assert.deepEqual(broken, []);
});
