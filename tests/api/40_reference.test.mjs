// Reference data (DESIGN §5): domains, units, unit by id, grids; keyset pagination; CSV
// export; the district boundary. District A (the demo, never written to) is read with each
// of the four roles; writes go to a district of this file's own.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  expectProblem, fixtures, get, listAll, post, ROLES, ROOT, scratchDistrict, startDaemon, tokenFor,
} from './lib.mjs';

// data/demo/NAME.csv as {header, rows (arrays), lines (text, by code)}; no quoting in these files.
function demoCsv(name) {
  const text = fs.readFileSync(path.join(ROOT, 'data/demo', `${name}.csv`), 'utf8').replace(/^\uFEFF/, '');
  const lines = text.split(/\r?\n/).filter((l) => l.length);
  assert.ok(!text.includes('"'), `${name}.csv: this test does not parse quoted cells`);
  return { header: lines[0], rows: lines.slice(1).map((l) => l.split(',')), lines: lines.slice(1) };
}
const byCode = (a, b) => (a < b ? -1 : a > b ? 1 : 0); // the database's C.UTF-8 order for ASCII codes

// A CSV export: BOM, CRLF after every line, no bare LF; returns the lines (header first).
function csvLines(res) {
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers['content-type'], /^text\/csv; charset=utf-8$/i);
  assert.deepEqual([...res.body.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
  const text = res.body.subarray(3).toString('utf8');
  assert.ok(text.endsWith('\r\n'), 'the last line ends with CRLF');
  assert.ok(!/[^\r]\n/.test(text), 'every line ends with CRLF');
  return text.slice(0, -2).split('\r\n');
}

const DOMAINS = demoCsv('domains');
const UNITS = demoCsv('units');
const GRIDS = demoCsv('grids');

let fx;
let d;
let tokens; // role -> token of district A
before(async () => {
  fx = fixtures();
  d = await startDaemon();
  tokens = Object.fromEntries(ROLES.map((r) => [r, tokenFor(d, fx.A, r)]));
});
after(async () => { await d.stop(); });

describe('district A, read by each of the four roles', () => {
  test('domains: the 9 demo domains in code order', async () => {
    for (const role of ROLES) {
      const r = await get(d, '/v1/domains', { token: tokens[role] });
      assert.equal(r.status, 200);
      assert.equal(r.json.next_cursor, null);
      const want = DOMAINS.rows.map(([code, name, nameEn]) => ({ code, name, name_en: nameEn })).sort((a, b) => byCode(a.code, b.code));
      assert.equal(want.length, 9);
      assert.deepEqual(r.json.data.map(({ id, ...rest }) => rest), want, role);
      for (const x of r.json.data) assert.ok(Number.isInteger(x.id) && x.id > 0);
    }
  });

  test('units: the 31 demo units in code order; kind filters 8 / 22 / 1', async () => {
    for (const role of ROLES) {
      const all = await listAll(d, '/v1/units', tokens[role]);
      assert.equal(all.length, 31, role);
      assert.deepEqual(all.map((u) => u.code), UNITS.rows.map((x) => x[0]).sort(byCode));
      const src = new Map(UNITS.rows.map((x) => [x[0], x]));
      for (const u of all) {
        const [code, kind, name, parent, phone] = src.get(u.code);
        assert.deepEqual([u.kind, u.name, u.phone || ''], [kind, name, phone], code);
        assert.equal(u.id, fx.A.unit(code));
        assert.equal(u.parent_id, parent ? fx.A.unit(parent) : null, code);
      }
      const counts = {};
      for (const kind of ['township', 'department', 'district_office']) {
        const r = await get(d, `/v1/units?kind=${kind}&limit=200`, { token: tokens[role] });
        assert.ok(r.json.data.every((u) => u.kind === kind));
        counts[kind] = r.json.data.length;
      }
      assert.deepEqual(counts, { township: 8, department: 22, district_office: 1 }, role);
    }
  });

  test('a unit by id: the list entry, with ETag "<version>"', async () => {
    const list = await listAll(d, '/v1/units', tokens.district);
    for (const role of ROLES) {
      for (const u of [list[0], list[7], list[30]]) {
        const r = await get(d, `/v1/units/${u.id}`, { token: tokens[role] });
        assert.equal(r.status, 200);
        assert.deepEqual(r.json, u);
        assert.equal(r.headers.etag, `"${u.version}"`);
      }
    }
  });

  test('grids: 116 cells; level=village 36; parent_id gives the children', async () => {
    for (const role of ROLES) {
      const all = await listAll(d, '/v1/grids', tokens[role]);
      assert.equal(all.length, 116, role);
      assert.deepEqual(all.map((g) => g.code), GRIDS.rows.map((x) => x[0]).sort(byCode));
      const id = new Map(all.map((g) => [g.code, g.id]));
      const src = new Map(GRIDS.rows.map((x) => [x[0], x]));
      for (const g of all) {
        const [, level, name, parent] = src.get(g.code);
        assert.equal(g.level, level);
        assert.equal(g.name, name);
        if (level === 'township') {
          assert.equal(g.parent_id, null);
          assert.equal(g.township_id, fx.A.unit(parent));
        } else {
          assert.equal(g.parent_id, id.get(parent), g.code);
          assert.equal(g.township_id, all.find((x) => x.id === g.parent_id).township_id);
        }
      }
      const counts = {};
      for (const level of ['township', 'village', 'grid']) {
        const r = await listAll(d, `/v1/grids?level=${level}`, tokens[role]);
        assert.ok(r.every((g) => g.level === level));
        counts[level] = r.length;
      }
      assert.deepEqual(counts, { township: 8, village: 36, grid: 72 });
      const parent = all.find((g) => g.code === 'G-NCS');
      const kids = await listAll(d, `/v1/grids?parent_id=${parent.id}`, tokens[role]);
      assert.deepEqual(kids.map((g) => g.code), GRIDS.rows.filter((x) => x[3] === 'G-NCS').map((x) => x[0]).sort(byCode));
      assert.ok(kids.length > 0);
      const villages = await listAll(d, `/v1/grids?parent_id=${parent.id}&level=village`, tokens[role]);
      assert.deepEqual(villages, kids.filter((g) => g.level === 'village'));
      const none = await get(d, `/v1/grids?parent_id=${parent.id}&level=grid`, { token: tokens[role] });
      assert.deepEqual(none.json, { data: [], next_cursor: null });
    }
  });

  test('keyset pagination with limit=7 walks every row exactly once in code order', async () => {
    for (const [p, total] of [['/v1/units', 31], ['/v1/grids', 116], ['/v1/domains', 9], ['/v1/units?kind=department', 22]]) {
      const seen = [];
      let cursor = null;
      let pages = 0;
      do {
        const sep = p.includes('?') ? '&' : '?';
        const r = await get(d, `${p}${sep}limit=7${cursor ? `&cursor=${cursor}` : ''}`, { token: tokens.township });
        assert.equal(r.status, 200);
        pages++;
        cursor = r.json.next_cursor;
        assert.equal(r.json.data.length, cursor ? 7 : total - 7 * (pages - 1), `${p} page ${pages}`);
        seen.push(...r.json.data.map((x) => x.code));
      } while (cursor);
      assert.equal(pages, Math.ceil(total / 7), p);
      assert.equal(seen.length, total);
      assert.equal(new Set(seen).size, total, `${p}: a row came twice`);
      assert.deepEqual(seen, [...seen].sort(byCode), `${p}: not in code order`);
    }
  });

  test('a page that ends exactly at the last row has next_cursor null', async () => {
    const r = await get(d, '/v1/domains?limit=9', { token: tokens.township });
    assert.equal(r.json.data.length, 9);
    assert.equal(r.json.next_cursor, null);
  });

  test('CSV export of domains: BOM, header, CRLF, the demo data in code order', async () => {
    for (const role of ROLES) {
      const lines = csvLines(await get(d, '/v1/domains', { token: tokens[role], headers: { accept: 'text/csv' } }));
      assert.equal(lines[0], 'code,name,name_en');
      assert.deepEqual(lines.slice(1), [...DOMAINS.lines].sort(byCode));
    }
  });

  test('CSV export of units and grids: the import columns and the demo data', async () => {
    let lines = csvLines(await get(d, '/v1/units', { token: tokens.department, headers: { accept: 'text/csv' } }));
    assert.equal(lines[0], 'code,kind,name,parent_code,phone');
    assert.deepEqual(lines.slice(1), [...UNITS.lines].sort(byCode));
    lines = csvLines(await get(d, '/v1/grids', { token: tokens.integration, headers: { accept: 'text/csv' } }));
    assert.equal(lines[0], 'code,level,name,parent_code');
    assert.deepEqual(lines.slice(1), [...GRIDS.lines].sort(byCode));
    lines = csvLines(await get(d, '/v1/grids?level=township', { token: tokens.integration, headers: { accept: 'text/csv' } }));
    assert.deepEqual(lines.slice(1), GRIDS.lines.filter((l) => l.split(',')[1] === 'township').sort(byCode));
  });

  test('CSV only when asked for before JSON', async () => {
    let r = await get(d, '/v1/domains', { token: tokens.district, headers: { accept: 'application/json, text/csv' } });
    assert.match(r.headers['content-type'], /^application\/json/);
    r = await get(d, '/v1/domains', { token: tokens.district, headers: { accept: 'text/csv;q=1, application/json;q=0.5' } });
    assert.match(r.headers['content-type'], /^text\/csv/);
    r = await get(d, '/v1/domains', { token: tokens.district, headers: { accept: '*/*' } });
    assert.match(r.headers['content-type'], /^application\/json/);
  });

  test('CSV with a small limit: Link rel="next" keeps the filters, and the pages add up', async () => {
    const got = [];
    let next = '/v1/units?kind=department&limit=10';
    let pages = 0;
    while (next) {
      const r = await get(d, next, { token: tokens.district, headers: { accept: 'text/csv' } });
      const lines = csvLines(r);
      assert.equal(lines[0], 'code,kind,name,parent_code,phone');
      got.push(...lines.slice(1));
      pages++;
      const link = r.headers.link;
      if (link) {
        const m = /^<([^>]+)>; rel="next"$/.exec(link);
        assert.ok(m, `Link: ${link}`);
        assert.match(m[1], /^\/v1\/units\?kind=department&limit=10&cursor=[A-Za-z0-9_-]+$/);
        assert.equal(lines.length - 1, 10);
        next = m[1];
      } else {
        next = null;
      }
      assert.ok(pages < 10);
    }
    assert.equal(pages, 3);
    assert.deepEqual(got, UNITS.lines.filter((l) => l.split(',')[1] === 'department').sort(byCode));
  });

  test('CSV limits: 1..10000 per page; beyond is 422', async () => {
    const r = await get(d, '/v1/grids?limit=10000', { token: tokens.district, headers: { accept: 'text/csv' } });
    assert.equal(csvLines(r).length, 117);
    assert.equal(r.headers.link, undefined);
    expectProblem(await get(d, '/v1/grids?limit=10001', { token: tokens.district, headers: { accept: 'text/csv' } }), 422,
      'invalid limit', { errors: [{ field: 'limit', message: 'must be an integer from 1 to 10000' }] });
  });
});

describe('the district boundary', () => {
  test("district B's tokens see only B's rows, and A's only A's", async () => {
    for (const role of ROLES) {
      const tb = tokenFor(d, fx.B, role);
      const units = await listAll(d, '/v1/units', tb);
      assert.equal(units.length, 31);
      const bIds = new Set([...fx.B.units.values()].map((u) => u.id));
      const aIds = new Set([...fx.A.units.values()].map((u) => u.id));
      assert.ok(units.every((u) => bIds.has(u.id) && !aIds.has(u.id)), role);
      assert.ok(units.some((u) => u.code === 'B2-BGS' && u.kind === 'district_office'));
      const grids = await listAll(d, '/v1/grids', tb);
      const aGrids = await listAll(d, '/v1/grids', tokens[role]);
      assert.equal(grids.length, 116);
      const aGridIds = new Set(aGrids.map((g) => g.id));
      assert.ok(grids.every((g) => !aGridIds.has(g.id) && bIds.has(g.township_id)));
      const domains = await listAll(d, '/v1/domains', tb);
      const aDomains = await listAll(d, '/v1/domains', tokens[role]);
      assert.equal(domains.length, 9);
      assert.ok(domains.every((x) => !aDomains.some((y) => y.id === x.id)));
      // a parent_id filter naming A's cell gives nothing in B
      const r = await get(d, `/v1/grids?parent_id=${aGrids[0].id}`, { token: tb });
      assert.deepEqual(r.json, { data: [], next_cursor: null });
      // and A's unit by id is 404 for B
      expectProblem(await get(d, `/v1/units/${fx.A.office}`, { token: tb }), 404);
    }
  });
});

describe('with writes (a district of its own)', () => {
  let W;
  let tw;
  before(() => {
    W = scratchDistrict('REF');
    tw = tokenFor(d, W, 'district');
  });

  test('keyset pagination is stable when units are inserted mid-walk', async () => {
    const before = (await listAll(d, '/v1/units', tw)).map((u) => u.code);
    const seen = [];
    let cursor = null;
    let page = 0;
    do {
      const r = await get(d, `/v1/units?limit=7${cursor ? `&cursor=${cursor}` : ''}`, { token: tw });
      seen.push(...r.json.data.map((u) => u.code));
      cursor = r.json.next_cursor;
      if (++page === 2) {
        // one before the walk's position, one after it, one right at the boundary
        for (const code of ['AA-EARLY', 'ZZ-LATE', `${seen[seen.length - 1]}-0`]) {
          const c = await post(d, '/v1/units', { code, kind: 'department', name: code }, { token: tw });
          assert.equal(c.status, 201, c.text);
        }
      }
    } while (cursor);
    const boundary = `${before[13]}-0`;
    assert.deepEqual(seen, [...before, boundary, 'ZZ-LATE'].sort(byCode));
    assert.ok(!seen.includes('AA-EARLY'));
    assert.equal(new Set(seen).size, seen.length);
  });

  test('CSV cells that start with = + - @ are exported with a \' prefix; quotes and commas are quoted', async () => {
    const cases = [
      ['F-EQ', '=1+2', "'=1+2"],
      ['F-PLUS', '+SUM(A1)', "'+SUM(A1)"],
      ['F-MINUS', '-3', "'-3"],
      ['F-AT', '@cmd', "'@cmd"],
      ['F-LINK', '=HYPERLINK("http://x","y")', '"\'=HYPERLINK(""http://x"",""y"")"'],
      ['F-COMMA', '甲,乙', '"甲,乙"'],
      ['F-TAB', '\tx', "'\tx"],
      ['F-PLAIN', '普通 名称', '普通 名称'],
    ];
    for (const [code, name] of cases) {
      const r = await post(d, '/v1/units', { code, kind: 'department', name, phone: '-0535' }, { token: tw });
      assert.equal(r.status, 201, r.text);
    }
    const lines = csvLines(await get(d, '/v1/units?limit=10000', { token: tw, headers: { accept: 'text/csv' } }));
    for (const [code, , cell] of cases) {
      const line = lines.find((l) => l.startsWith(`${code},`));
      assert.equal(line, `${code},department,${cell},${W.code}-BGS,'-0535`);
    }
  });
});
