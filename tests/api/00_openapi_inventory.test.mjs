// The route table of the daemon (`huyingd routes`) and the OpenAPI document describe the same
// operations, with the same roles and scopes; and the document's schemas compile.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { cli, openapi } from './lib.mjs';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

function routes() {
  const r = cli(['routes']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('huyingd routes and the OpenAPI operations are the same set', () => {
  const fromDaemon = routes().map((r) => `${r.method} ${r.path}`).sort();
  const fromDoc = [];
  for (const [p, item] of Object.entries(openapi.paths))
    for (const m of METHODS) if (item[m]) fromDoc.push(`${m.toUpperCase()} ${p}`);
  fromDoc.sort();
  assert.deepEqual(fromDaemon, fromDoc);
  assert.equal(new Set(fromDaemon).size, fromDaemon.length, 'a route appears twice in the route table');
});

test("each operation's x-roles, x-scope and security equal the route's roles, scope and auth", () => {
  for (const r of routes()) {
    const op = openapi.paths[r.path][r.method.toLowerCase()];
    const where = `${r.method} ${r.path}`;
    const security = op.security ?? openapi.security ?? [];
    if (r.auth) {
      assert.deepEqual(security, [{ bearer: [] }], `${where}: a route that needs a token must require bearer`);
      assert.deepEqual([...op['x-roles']].sort(), [...r.roles].sort(), `${where}: x-roles`);
      assert.ok('x-scope' in op, `${where}: x-scope missing`);
      assert.equal(op['x-scope'], r.scope, `${where}: x-scope`);
      for (const s of ['401', '403']) assert.ok(op.responses[s], `${where}: ${s} not documented`);
    } else {
      assert.deepEqual(security, [], `${where}: a route without a token must have security: []`);
      assert.deepEqual(r.roles, [], `${where}: roles without auth`);
      assert.equal(op['x-roles'], undefined, `${where}: x-roles on a route without a token`);
    }
    assert.ok(op.responses['405'], `${where}: 405 not documented`);
  }
});

test('every route exposes only the four roles of DESIGN §4', () => {
  const known = new Set(['township', 'department', 'district', 'integration']);
  for (const r of routes()) for (const role of r.roles) assert.ok(known.has(role), `${r.path}: unknown role ${role}`);
});
