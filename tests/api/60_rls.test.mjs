// Row-level security seen from the daemon's own database role (HUYING_DATABASE_URL,
// huying_api): without claims nothing is visible; with a district's claims only that
// district; the role owns nothing, is no superuser, cannot bypass RLS and cannot write
// into another district.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import { DB_URL, fixtures, psql, psqlTry } from './lib.mjs';

let fx;
before(() => { fx = fixtures(); });

const api = (sql) => psql(sql, { url: DB_URL });
const apiTry = (sql) => psqlTry(sql, { url: DB_URL });
const claims = (dist, role = 'district', unit = dist.office) =>
  JSON.stringify({ sub: 'rls-test', role, unit_id: unit, district: dist.id });
// SQL that sets the claims for the rest of the session (not transaction-local), as a
// compromised or buggy caller could.
const withClaims = (c, sql) => `select set_config('huying.claims', '${c}', false) \\g /dev/null\n${sql}`;

test('the API role connects as huying_api', () => {
  assert.equal(api('select current_user'), 'huying_api');
});

test('without claims the API role sees no rows at all', () => {
  // the owner sees the data (so the zeros below mean something)
  assert.ok(Number(psql('select count(*) from huying.units')) >= 62);
  for (const t of ['districts', 'units', 'domains', 'grids', 'idempotency'])
    assert.equal(api(`select count(*) from huying.${t}`), '0', t);
});

test("with district B's claims: only B's rows", () => {
  const out = apiTry(withClaims(claims(fx.B), `select count(*), count(*) filter (where district_id <> ${fx.B.id}) from huying.units;
select count(*) from huying.grids where district_id <> ${fx.B.id};
select count(*) from huying.grids;
select count(*) from huying.domains;
select string_agg(id::text, ',') from huying.districts;`));
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(out.stdout.split('\n'), ['31|0', '0', '116', '9', String(fx.B.id)]);
});

test('claims of an empty string or of a district that does not exist show nothing', () => {
  let out = apiTry(`select set_config('huying.claims', '', false) \\g /dev/null\nselect count(*) from huying.units;`);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, '0');
  out = apiTry(withClaims(JSON.stringify({ district: 987654321, role: 'district' }), 'select count(*) from huying.units;'));
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, '0');
});

test('huying_api owns nothing, is not a superuser and cannot bypass RLS', () => {
  assert.equal(psql("select rolsuper, rolbypassrls, rolcreaterole, rolcreatedb from pg_roles where rolname = 'huying_api'"), 'f|f|f|f');
  assert.equal(psql("select count(*) from pg_tables where tableowner = 'huying_api'"), '0');
  assert.equal(psql("select count(*) from pg_class c join pg_roles r on r.oid = c.relowner where r.rolname = 'huying_api'"), '0');
  assert.equal(psql("select count(*) from pg_proc p join pg_roles r on r.oid = p.proowner where r.rolname = 'huying_api'"), '0');
  assert.equal(psql("select count(*) from pg_namespace n join pg_roles r on r.oid = n.nspowner where r.rolname = 'huying_api'"), '0');
  assert.equal(psql("select count(*) from pg_database d join pg_roles r on r.oid = d.datdba where r.rolname = 'huying_api'"), '0');
  // no membership in a role that owns the tables
  assert.equal(psql("select count(*) from pg_auth_members m join pg_roles r on r.oid = m.member where r.rolname = 'huying_api'"), '0');
  // every huying table forces RLS
  assert.equal(psql("select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'huying' and c.relkind = 'r' and not (c.relrowsecurity and c.relforcerowsecurity)"), '0');
  assert.notEqual(apiTry('set row_security = off; select count(*) from huying.units;').code, 0);
});

test('huying_api cannot insert a unit into another district, nor without the district role', () => {
  const before = psql('select count(*) from huying.units');
  const insert = (dist) => `insert into huying.units (district_id, code, kind, name) values (${dist.id}, 'RLS-X', 'department', 'x');`;
  // district office of B writing into A
  let out = apiTry(withClaims(claims(fx.B), insert(fx.A)));
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /new row violates row-level security policy/);
  // a township of A writing into A
  out = apiTry(withClaims(claims(fx.A, 'township', fx.A.unit('TS-NCS')), insert(fx.A)));
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /new row violates row-level security policy/);
  // no claims at all
  out = apiTry(insert(fx.A));
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /new row violates row-level security policy/);
  // moving a unit of one's own district into another: no row of A is even visible to B
  out = apiTry(withClaims(claims(fx.B), `update huying.units set name = 'x' where district_id = ${fx.A.id};`));
  assert.equal(out.code, 0, out.stderr);
  // columns it may not write at all
  out = apiTry(withClaims(claims(fx.A), `update huying.units set district_id = ${fx.B.id} where id = ${fx.A.unit('CD-ZRZY')};`));
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /permission denied/);
  out = apiTry(withClaims(claims(fx.A), 'delete from huying.units;'));
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /permission denied/);
  assert.equal(psql('select count(*) from huying.units'), before);
  assert.equal(psql(`select count(*) from huying.units where name = 'x' and district_id = ${fx.A.id}`), '0');
});

test('huying_api cannot create objects in the huying schema or change the policies', () => {
  let out = apiTry('create table huying.evil (x int);');
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /permission denied/);
  out = apiTry('alter table huying.units disable row level security;');
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /must be owner/);
});
