// `huyingd migrate`: applying twice is a no-op; two at once against a fresh database both
// succeed and apply each file exactly once (advisory lock).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';

import { cli, cliAsync, MIGRATE_URL, pgctl, PG_DIR, PG_PORT, psql, ROOT } from './lib.mjs';

const FILES = fs.readdirSync(path.join(ROOT, 'schema')).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort();
const FRESH = 'huying_mig';

// The owner URL with another database name (URL or key=value form).
function withDb(url, db) {
  if (/^postgres(ql)?:\/\//.test(url)) return url.replace(/^(postgres(?:ql)?:\/\/[^/?]*\/)([^?]*)/, `$1${db}`);
  return /\bdbname=\S+/.test(url) ? url.replace(/\bdbname=\S+/, `dbname=${db}`) : `${url} dbname=${db}`;
}

const superuser = (sql, db = 'postgres') => pgctl('psql', PG_DIR, PG_PORT, '-d', db, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql);

after(() => {
  if (PG_DIR && PG_PORT) superuser(`drop database if exists ${FRESH} with (force)`);
});

test('migrate twice: the second run applies nothing', () => {
  const first = cli(['migrate']);
  assert.equal(first.code, 0, first.stderr);
  const second = cli(['migrate']);
  assert.equal(second.code, 0, second.stderr);
  const latest = Number(FILES[FILES.length - 1].slice(0, 4));
  assert.equal(second.stdout.trim(), `migrate: schema at version ${latest} (0 applied now)`);
  assert.doesNotMatch(second.stdout, /applied \d{4}_/);
  assert.equal(psql('select count(*), count(distinct version) from public.huying_migrations'), `${FILES.length}|${FILES.length}`);
});

test('two migrate at once against a fresh database: both exit 0, each file applied once', async () => {
  assert.ok(PG_DIR && PG_PORT, 'HUYING_TEST_PG_DIR and HUYING_TEST_PG_PORT must be set');
  superuser(`drop database if exists ${FRESH} with (force)`);
  superuser(`create database ${FRESH} owner huying_owner`);
  superuser('create extension if not exists pg_trgm', FRESH);
  const url = withDb(MIGRATE_URL, FRESH);
  assert.notEqual(url, MIGRATE_URL);
  const [a, b] = await Promise.all([
    cliAsync(['migrate'], { HUYING_MIGRATE_DATABASE_URL: url }),
    cliAsync(['migrate'], { HUYING_MIGRATE_DATABASE_URL: url }),
  ]);
  assert.equal(a.code, 0, `first: ${a.stderr}`);
  assert.equal(b.code, 0, `second: ${b.stderr}`);
  const latest = Number(FILES[FILES.length - 1].slice(0, 4));
  // between them, every file was applied exactly once
  const applied = `${a.stdout}${b.stdout}`.split('\n').filter((l) => /^migrate: applied /.test(l)).map((l) => l.slice(17)).sort();
  assert.deepEqual(applied, FILES);
  for (const out of [a.stdout, b.stdout]) assert.match(out, new RegExp(`^migrate: schema at version ${latest} \\(\\d+ applied now\\)$`, 'm'));
  const rows = psql('select version, count(*) from public.huying_migrations group by version order by version', { url });
  assert.deepEqual(rows.split('\n'), FILES.map((f) => `${Number(f.slice(0, 4))}|1`));
  // and the schema is really there, owned by the owner
  assert.equal(psql("select tableowner from pg_tables where schemaname = 'huying' and tablename = 'units'", { url }), 'huying_owner');
  // a third run is a no-op there too
  const c = cli(['migrate'], { HUYING_MIGRATE_DATABASE_URL: url });
  assert.equal(c.code, 0, c.stderr);
  assert.equal(c.stdout.trim(), `migrate: schema at version ${latest} (0 applied now)`);
});

test('migrate against a database that cannot be reached exits non-zero with a message', () => {
  const r = cli(['migrate'], { HUYING_MIGRATE_DATABASE_URL: withDb(MIGRATE_URL, 'no_such_database_here') });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /huyingd migrate: cannot connect/);
});
