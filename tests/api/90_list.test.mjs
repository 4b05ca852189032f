// Reading the responsibility list (DESIGN §5, issue 3): GET /v1/items with its filters
// (domain, department, keyword q, status, at), one item with its manual and flow, the
// flowchart as JSON, Mermaid and SVG, the CSV export, the district boundary and the four
// roles. The list is the demo list (data/demo), imported through the API into a district of
// this file's own; the tests at the end change it (an amendment, a retirement, extra items)
// and run last.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectProblem, fixtures, get, listAll, post, ROLES, startDaemon, tokenFor,
} from './lib.mjs';
import {
  addDays, byCode, checkXml, demoCsv, expectImported, importBody, ITEM_COLUMNS, ITEM_HEADER, listDistrict,
  todayShanghai, xmlEscape,
} from './list_helpers.mjs';

const ITEMS = demoCsv('items');
const SCEN = demoCsv('scenarios');
const FLOWS = demoCsv('flows');
const CODES = ITEMS.rows.map((x) => x.code).sort(byCode);
const DOMAINS = [...new Set(ITEMS.rows.map((x) => x.domain_code))];
const nul = (s) => (s === '' || s === undefined ? null : s);

// The flow of an item as flows.csv gives it: {nodes, edges} or null.
function flowOf(code) {
  const rows = FLOWS.rows.filter((x) => x.item_code === code);
  if (!rows.length) return null;
  return {
    nodes: rows.map((x) => ({ id: x.node_id, label: x.label, actor: x.actor })),
    edges: rows.flatMap((x) => (x.next_node_ids ? x.next_node_ids.split('|') : []).map((to) => ({ from: x.node_id, to }))),
  };
}
const FLOW_CODES = [...new Set(FLOWS.rows.map((x) => x.item_code))];

// The codes whose title or description contains kw, as items.csv has them (code order).
const containing = (kw) => ITEMS.rows.filter((x) => `${x.title} ${x.description}`.toLowerCase().includes(kw.toLowerCase()))
  .map((x) => x.code).sort(byCode);

let d;
let L; // this file's district, with the demo list
let tok; // role -> token of L
let ids; // code -> item id
before(async () => {
  d = await startDaemon();
  L = await listDistrict(d, 'LS', (w) => tokenFor(d, w, 'district'));
  tok = Object.fromEntries(ROLES.map((r) => [r, tokenFor(d, L, r)]));
  ids = new Map((await listAll(d, '/v1/items', tok.district)).map((x) => [x.code, x.id]));
  assert.equal(ids.size, 72);
});
after(async () => { await d.stop(); });

const codesOf = async (query, role = 'district') =>
  (await listAll(d, `/v1/items${query}`, tok[role])).map((x) => x.code);

describe('GET /v1/items: filters', () => {
  test('no filter: the 72 active items in code order, each as items.csv has it', async () => {
    const all = await listAll(d, '/v1/items', tok.township);
    assert.deepEqual(all.map((x) => x.code), CODES);
    for (const x of all) {
      const src = ITEMS.rows.find((y) => y.code === x.code);
      assert.deepEqual(
        [x.domain, x.title, x.description, x.legal_basis, x.township_duty, x.response_limit, x.resolve_limit, x.status, x.revision],
        [src.domain_code, src.title, nul(src.description), nul(src.legal_basis), nul(src.township_duty), nul(src.response_limit),
          Number(src.resolve_limit_days), 'active', 1], x.code);
      assert.equal(x.lead_department_id, src.lead_department_code ? L.unit(src.lead_department_code) : null, x.code);
      assert.deepEqual(x.cooperating_department_ids, src.cooperating_department_codes.split('|').filter(Boolean).map((c) => L.unit(c)));
      assert.ok(!('scenarios' in x) && !('flow' in x), 'the list carries no manual');
    }
  });

  test('domain: 8 items in each of the 9 domains; an unknown domain matches nothing; a bad one is 422', async () => {
    assert.equal(DOMAINS.length, 9);
    for (const dom of DOMAINS) {
      const got = await listAll(d, `/v1/items?domain=${dom}`, tok.department);
      assert.equal(got.length, 8, dom);
      assert.ok(got.every((x) => x.domain === dom));
      assert.deepEqual(got.map((x) => x.code), ITEMS.rows.filter((x) => x.domain_code === dom).map((x) => x.code).sort(byCode));
    }
    assert.deepEqual(await codesOf('?domain=NOPE'), []);
    expectProblem(await get(d, '/v1/items?domain=a%20b', { token: tok.district }), 422, undefined,
      { errors: [{ field: 'domain', message: 'must be a domain code' }] });
  });

  test('department_id: the items it leads or cooperates on, for every department', async () => {
    const depts = [...L.units].filter(([, u]) => u.kind === 'department');
    assert.equal(depts.length, 22);
    for (const [code, u] of depts) {
      const want = ITEMS.rows.filter((x) => x.lead_department_code === code || x.cooperating_department_codes.split('|').includes(code))
        .map((x) => x.code).sort(byCode);
      assert.deepEqual(await codesOf(`?department_id=${u.id}`), want, code);
    }
    const zrzy = ITEMS.rows.filter((x) => x.lead_department_code === 'CD-ZRZY' || x.cooperating_department_codes.split('|').includes('CD-ZRZY'));
    assert.ok(zrzy.some((x) => x.lead_department_code !== 'CD-ZRZY'), 'CD-ZRZY also cooperates on some items');
    assert.equal((await codesOf(`?department_id=${L.unit('CD-ZRZY')}`)).length, zrzy.length);
    // combined with domain
    assert.deepEqual(await codesOf(`?department_id=${L.unit('CD-ZRZY')}&domain=ZRZY`),
      zrzy.filter((x) => x.domain_code === 'ZRZY').map((x) => x.code).sort(byCode));
    // a township, or no unit at all: nothing
    assert.deepEqual(await codesOf(`?department_id=${L.unit('TS-NCS')}`), []);
    for (const bad of ['abc', '0', '-1', '1.5']) {
      const r = await get(d, `/v1/items?department_id=${bad}`, { token: tok.district });
      expectProblem(r, 422);
      assert.deepEqual(r.json.errors.map((e) => e.field), ['department_id'], bad);
    }
  });

  test('q: a Chinese keyword finds exactly the items whose title or description contains it', async () => {
    assert.deepEqual(await codesOf(`?q=${encodeURIComponent('占道')}`), ['ZHZF-01']);
    const fishing = containing('渔船');
    assert.ok(fishing.length >= 3, `渔船 is in ${fishing}`);
    assert.deepEqual(await codesOf(`?q=${encodeURIComponent('渔船')}`), fishing);
    for (const kw of ['海岛', '无居民海岛', '垃圾', '液化', '违法', '烟花爆竹', '查处。']) {
      const want = containing(kw);
      assert.ok(want.length > 0, kw);
      assert.deepEqual(await codesOf(`?q=${encodeURIComponent(kw)}`), want, kw);
    }
    // with other filters
    assert.deepEqual(await codesOf(`?q=${encodeURIComponent('渔船')}&domain=YJGL`),
      fishing.filter((c) => c.startsWith('YJGL-')));
    // the keyword is not looked for in other fields (legal_basis, township_duty)
    const inBasisOnly = ITEMS.rows.find((x) => x.legal_basis.includes('土地管理法'));
    assert.ok(inBasisOnly && !containing('土地管理法').length);
    assert.deepEqual(await codesOf(`?q=${encodeURIComponent('土地管理法')}`), []);
  });

  test('q: unrelated text finds nothing; %, _ and \\ are literal', async () => {
    for (const kw of ['量子纠缠', 'zzz', '占道经营xyz', '%', '_', '\\', '%%', '占%', '_道', '违法%建设']) {
      assert.deepEqual(containing(kw), [], kw);
      assert.deepEqual(await codesOf(`?q=${encodeURIComponent(kw)}`), [], kw);
    }
  });

  test('q: 1 to 50 characters, else 422 naming q', async () => {
    assert.deepEqual(await codesOf(`?q=${encodeURIComponent('船'.repeat(50))}`), []);
    assert.ok((await codesOf(`?q=${encodeURIComponent('船')}`)).length > 0);
    for (const bad of ['', '船'.repeat(51)]) {
      const r = await get(d, `/v1/items?q=${encodeURIComponent(bad)}`, { token: tok.district });
      expectProblem(r, 422);
      assert.deepEqual(r.json.errors.map((e) => e.field), ['q']);
    }
  });

  test('at: before the list started nothing; on 2026-01-01 all 72; a date of the wrong form is 422', async () => {
    assert.deepEqual(await get(d, '/v1/items?at=2025-06-01', { token: tok.district }).then((r) => r.json), { data: [], next_cursor: null });
    assert.deepEqual(await codesOf('?at=2025-12-31'), []);
    assert.deepEqual(await codesOf('?at=2026-01-01'), CODES);
    assert.deepEqual(await codesOf('?at=2025-06-01&status=retired'), []);
    for (const bad of ['2026-1-1', 'today', '20260101']) {
      const r = await get(d, `/v1/items?at=${bad}`, { token: tok.district });
      expectProblem(r, 422);
      assert.deepEqual(r.json.errors.map((e) => e.field), ['at']);
    }
  });

  test('at: a well-formed date that does not exist (2026-02-30) is 422 naming at', async () => {
    for (const p of ['/v1/items?at=2026-02-30', `/v1/items/${ids.get('ZRZY-01')}?at=2026-02-30`, `/v1/items/${ids.get('ZRZY-01')}/flow?at=2026-04-31`]) {
      const r = await get(d, p, { token: tok.district });
      expectProblem(r, 422);
      assert.deepEqual(r.json.errors.map((e) => e.field), ['at']);
    }
  });

  test('status: active by default; retired lists none yet; anything else is 422', async () => {
    assert.deepEqual(await codesOf('?status=active'), CODES);
    assert.deepEqual(await codesOf('?status=retired'), []);
    const r = await get(d, '/v1/items?status=gone', { token: tok.district });
    expectProblem(r, 422);
    assert.deepEqual(r.json.errors.map((e) => e.field), ['status']);
  });
});

describe('GET /v1/items/{id}', () => {
  test('every item: the manual from scenarios.csv (steps as arrays), the flow from flows.csv, ETag "1"', async () => {
    let withFlow = 0;
    for (const code of CODES) {
      const r = await get(d, `/v1/items/${ids.get(code)}`, { token: tok.integration });
      assert.equal(r.status, 200);
      assert.equal(r.headers.etag, `"${r.json.version}"`);
      assert.equal(r.headers.etag, '"1"');
      assert.equal(r.json.code, code);
      const want = SCEN.rows.filter((s) => s.item_code === code).sort((a, b) => Number(a.seq) - Number(b.seq));
      assert.ok(want.length > 0, code);
      assert.deepEqual(r.json.scenarios.map(({ id, ...s }) => s), want.map((s) => ({
        seq: Number(s.seq), title: s.title, responsible_section: nul(s.responsible_section), contact_phone: nul(s.contact_phone),
        steps: s.steps ? s.steps.split('|') : [], standard: nul(s.standard), resolve_limit: s.resolve_limit_days ? Number(s.resolve_limit_days) : null,
      })), code);
      for (const s of r.json.scenarios) assert.ok(Number.isInteger(s.id) && s.id > 0);
      assert.deepEqual(r.json.flow, flowOf(code), code);
      if (r.json.flow) withFlow++;
    }
    assert.equal(withFlow, FLOW_CODES.length);
    assert.equal(SCEN.rows.length, 150);
  });

  test('an unknown id, another district\'s item, a date before the item: 404', async () => {
    const fx = fixtures();
    const other = tokenFor(d, fx.A, 'district');
    const id = ids.get('ZRZY-01');
    for (const p of [`/v1/items/${id}`, `/v1/items/${id}/versions`, `/v1/items/${id}/flow`]) {
      expectProblem(await get(d, p, { token: other }), 404);
      expectProblem(await get(d, p.replace(String(id), '999999999'), { token: tok.district }), 404);
    }
    expectProblem(await get(d, `/v1/items/${id}?at=2025-12-31`, { token: tok.district }), 404);
    expectProblem(await get(d, `/v1/items/${id}/flow?at=2025-12-31`, { token: tok.district }), 404);
    const r = await get(d, `/v1/items/${id}?at=2026-01-01`, { token: tok.district });
    assert.equal(r.json.revision, 1);
  });

  test('versions: one revision from 2026-01-01, source import', async () => {
    const r = await get(d, `/v1/items/${ids.get('ZRZY-01')}/versions`, { token: tok.township });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.data.map(({ created_at, ...v }) => v), [{
      revision: 1, effective_from: '2026-01-01', effective_to: null, title: ITEMS.rows[0].title, source: 'import',
      list_change_id: null, lead_department_id: L.unit('CD-ZRZY'),
    }]);
    assert.equal(r.json.next_cursor, null);
  });
});

describe('GET /v1/items/{id}/flow', () => {
  test('JSON: the nodes and edges of flows.csv for ZRZY-01 (also for no Accept, */* and application/*)', async () => {
    const want = flowOf('ZRZY-01');
    assert.equal(want.nodes.length, 9);
    for (const accept of ['application/json', undefined, '*/*', 'application/*', 'application/json, image/svg+xml']) {
      const r = await get(d, `/v1/items/${ids.get('ZRZY-01')}/flow`, { token: tok.department, headers: accept ? { accept } : {} });
      assert.equal(r.status, 200, accept);
      assert.match(r.headers['content-type'], /^application\/json/);
      assert.deepEqual(r.json, want, accept);
    }
  });

  test('Mermaid: flowchart TD with every label and every edge, for each item with a flow', async () => {
    for (const code of FLOW_CODES) {
      const r = await get(d, `/v1/items/${ids.get(code)}/flow`, { token: tok.township, headers: { accept: 'text/vnd.mermaid' } });
      assert.equal(r.status, 200, code);
      assert.match(r.headers['content-type'], /^text\/vnd\.mermaid/);
      assert.ok(r.text.startsWith('flowchart TD'), r.text.slice(0, 40));
      const f = flowOf(code);
      for (const n of f.nodes) assert.ok(r.text.includes(`${n.id}["${n.label}"]`), `${code} ${n.id} ${n.label}`);
      for (const e of f.edges) assert.match(r.text, new RegExp(`^\\s*${e.from} --> ${e.to}\\s*$`, 'm'), `${code} ${e.from}->${e.to}`);
    }
    const r = await get(d, `/v1/items/${ids.get('ZRZY-01')}/flow`, { token: tok.township, headers: { accept: 'text/*' } });
    assert.ok(r.text.startsWith('flowchart TD'));
  });

  test('SVG: well-formed XML containing every node label, served with the restrictive CSP', async () => {
    for (const code of FLOW_CODES) {
      const r = await get(d, `/v1/items/${ids.get(code)}/flow`, { token: tok.integration, headers: { accept: 'image/svg+xml' } });
      assert.equal(r.status, 200, code);
      assert.match(r.headers['content-type'], /^image\/svg\+xml/);
      assert.equal(r.headers['content-security-policy'], "default-src 'none'; style-src 'unsafe-inline'; sandbox");
      assert.match(r.text, /<svg[\s>]/);
      const texts = checkXml(r.text);
      for (const n of flowOf(code).nodes) {
        assert.ok(texts.includes(n.label), `${code}: no <text> ${n.label} in ${JSON.stringify(texts)}`);
        assert.ok(r.text.includes(xmlEscape(n.label)), `${code}: ${n.label}`);
      }
      assert.ok(!/<script/i.test(r.text));
    }
    const r = await get(d, `/v1/items/${ids.get('ZRZY-01')}/flow`, { token: tok.integration, headers: { accept: 'image/*' } });
    assert.match(r.headers['content-type'], /^image\/svg\+xml/);
    // the JSON and Mermaid answers carry no CSP of the picture
    const j = await get(d, `/v1/items/${ids.get('ZRZY-01')}/flow`, { token: tok.integration });
    assert.equal(j.headers['content-security-policy'], undefined);
  });

  test('an item without a flowchart: 404 as JSON, Mermaid and SVG', async () => {
    const code = CODES.find((c) => !FLOW_CODES.includes(c));
    const full = await get(d, `/v1/items/${ids.get(code)}`, { token: tok.district });
    assert.equal(full.json.flow, null);
    for (const accept of ['application/json', 'text/vnd.mermaid', 'image/svg+xml']) {
      const r = await get(d, `/v1/items/${ids.get(code)}/flow`, { token: tok.district, headers: { accept } });
      expectProblem(r, 404, undefined);
    }
  });

  test('an Accept naming none of JSON, Mermaid, SVG: 406', async () => {
    // text/csv is not text/*: none of the three
    for (const accept of ['text/html', 'application/xml', 'image/png', 'text/csv', 'application/pdf;q=1']) {
      const r = await get(d, `/v1/items/${ids.get('ZRZY-01')}/flow`, { token: tok.district, headers: { accept } });
      expectProblem(r, 406);
    }
  });
});

describe('CSV export', () => {
  test('BOM, the exact import header, 72 rows equal to items.csv (in code order)', async () => {
    for (const role of ROLES) {
      const r = await get(d, '/v1/items', { token: tok[role], headers: { accept: 'text/csv' } });
      assert.equal(r.status, 200);
      assert.match(r.headers['content-type'], /^text\/csv; charset=utf-8$/i);
      assert.deepEqual([...r.body.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
      const text = r.body.subarray(3).toString('utf8');
      assert.ok(text.endsWith('\r\n') && !/[^\r]\n/.test(text), 'CRLF line ends');
      const lines = text.slice(0, -2).split('\r\n');
      assert.equal(lines[0], ITEM_HEADER);
      assert.equal(lines.length, 73);
      const byCodeLine = (a, b) => byCode(a.split(',')[0], b.split(',')[0]);
      const want = [...ITEMS.lines].sort(byCodeLine);
      assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(0, 3)), want.map((l) => l.split(',').slice(0, 3)));
      assert.deepEqual(lines.slice(1), want);
    }
    assert.deepEqual(ITEMS.header, ITEM_COLUMNS);
  });

  test('the filters apply to the export', async () => {
    const r = await get(d, '/v1/items?domain=ZHZF&q=' + encodeURIComponent('占道'), { token: tok.district, headers: { accept: 'text/csv' } });
    const lines = r.body.subarray(3).toString('utf8').slice(0, -2).split('\r\n');
    assert.deepEqual(lines, [ITEM_HEADER, ITEMS.lines.find((l) => l.startsWith('ZHZF-01,'))]);
  });
});

test('all four roles read the list, an item, its versions and its flow', async () => {
  const id = ids.get('ZRZY-01');
  for (const role of ROLES) {
    assert.equal((await listAll(d, '/v1/items', tok[role])).length, 72, role);
    for (const p of [`/v1/items/${id}`, `/v1/items/${id}/versions`, `/v1/items/${id}/flow`]) {
      const r = await get(d, p, { token: tok[role] });
      assert.equal(r.status, 200, `${role} ${p}`);
    }
  }
});

// ---- from here on the list changes --------------------------------------------------------------

describe('after changes to the list (these run last)', () => {
  const today = todayShanghai();

  test('an amendment from a later date: ?at=2026-01-01 still answers revision 1', async () => {
    const row = ITEM_COLUMNS.map((c) => ITEMS.rows[0][c]);
    row[2] = '违法占用土地及耕地进行建设（2026年修订）';
    const csv = `${ITEM_HEADER}\r\n${row.join(',')}\r\n`;
    expectImported(await importBody(d, tok.district, 'items', csv, { query: { effective_from: today } }), { rows: 1, updated: 1 });
    const id = ids.get('ZRZY-01');
    const old = await get(d, `/v1/items/${id}?at=2026-01-01`, { token: tok.township });
    assert.equal(old.status, 200);
    assert.deepEqual([old.json.revision, old.json.title, old.json.effective_from, old.json.effective_to, old.json.status],
      [1, ITEMS.rows[0].title, '2026-01-01', today, 'active']);
    assert.equal(old.json.scenarios.length, 3);
    assert.deepEqual(old.json.flow, flowOf('ZRZY-01'));
    assert.equal(old.headers.etag, '"2"', 'the ETag is the item\'s version, whatever the date');
    const yesterday = await get(d, `/v1/items/${id}?at=${addDays(today, -1)}`, { token: tok.township });
    assert.equal(yesterday.json.revision, 1);
    const cur = await get(d, `/v1/items/${id}`, { token: tok.township });
    assert.deepEqual([cur.json.revision, cur.json.title, cur.json.effective_from, cur.json.effective_to], [2, row[2], today, null]);
    assert.deepEqual(cur.json.scenarios.map(({ id: _, ...s }) => s), old.json.scenarios.map(({ id: _, ...s }) => s));
    // the list shows each revision on its dates, and the keyword search follows the revision shown
    assert.equal((await listAll(d, '/v1/items?at=2026-01-01&domain=ZRZY', tok.township)).find((x) => x.code === 'ZRZY-01').revision, 1);
    assert.deepEqual(await codesOf(`?q=${encodeURIComponent('2026年修订')}`), ['ZRZY-01']);
    assert.deepEqual(await codesOf(`?q=${encodeURIComponent('2026年修订')}&at=2026-01-01`), []);
    // and the flow of either date
    const f = await get(d, `/v1/items/${id}/flow?at=2026-01-01`, { token: tok.township });
    assert.deepEqual(f.json, flowOf('ZRZY-01'));
  });

  test('status=retired after a retirement (enacted list change)', async () => {
    const sub = await post(d, '/v1/list-changes', { kind: 'retire', item_code: 'ZRZY-02', reason: '职责划转' }, { token: tok.district });
    assert.equal(sub.status, 201, sub.text);
    const id = sub.json.id;
    assert.equal((await post(d, `/v1/list-changes/${id}/approve`, {}, { token: tok.district })).status, 200);
    const en = await post(d, `/v1/list-changes/${id}/enact`, { city_ref: '烟长审〔2026〕1号', effective_from: today }, { token: tok.district });
    assert.equal(en.status, 200, en.text);
    const retired = await listAll(d, '/v1/items?status=retired', tok.department);
    assert.deepEqual(retired.map((x) => [x.code, x.status, x.effective_to]), [['ZRZY-02', 'retired', today]]);
    const active = await codesOf('');
    assert.equal(active.length, 71);
    assert.ok(!active.includes('ZRZY-02'));
    assert.ok((await codesOf(`?at=${addDays(today, -1)}`)).includes('ZRZY-02'));
    assert.deepEqual(await codesOf(`?status=retired&at=${addDays(today, -1)}`), []);
    assert.deepEqual(await codesOf('?status=retired&domain=ZRZY'), ['ZRZY-02']);
    assert.deepEqual(await codesOf('?status=retired&domain=STHJ'), []);
    const one = await get(d, `/v1/items/${ids.get('ZRZY-02')}`, { token: tok.department });
    assert.deepEqual([one.json.status, one.json.effective_to, one.json.revision], ['retired', today, 1]);
    // the CSV export follows status too
    const csv = await get(d, '/v1/items?status=retired', { token: tok.district, headers: { accept: 'text/csv' } });
    assert.deepEqual(csv.body.subarray(3).toString('utf8').slice(0, -2).split('\r\n').map((l) => l.split(',')[0]), ['code', 'ZRZY-02']);
  });

  test('%, _ and \\ in a title are found literally', async () => {
    const csv = `${ITEM_HEADER}\r\nPCT-01,ZRZY,达标率100%_以上 a\\b,,,CD-ZRZY,,,,\r\nPCT-02,ZRZY,达标率1000以上,,,CD-ZRZY,,,,\r\n`;
    expectImported(await importBody(d, tok.district, 'items', csv), { rows: 2, inserted: 2 });
    for (const [kw, want] of [['%', ['PCT-01']], ['_', ['PCT-01']], ['\\', ['PCT-01']], ['0%_', ['PCT-01']], ['100%', ['PCT-01']],
      ['1%0', []], ['率1_0', []], ['达标率100', ['PCT-01', 'PCT-02']], ['A\\B', ['PCT-01']]]) {
      assert.deepEqual(await codesOf(`?q=${encodeURIComponent(kw)}`), want, kw);
    }
  });

  test('flow labels with markup and special characters are escaped in SVG and Mermaid', async () => {
    const labels = ['<script>alert(1)</script>', 'A & B "quoted" \'single\'', '#35; \\N \\l 换行\n之后', '网格员]--> X["注入"]'];
    const flow = {
      nodes: labels.map((label, i) => ({ id: `E${i}`, label, actor: ['township', 'department', 'district_office', 'platform'][i] })),
      edges: [{ from: 'E0', to: 'E1', label: '<b>呼叫</b>' }, { from: 'E1', to: 'E2' }, { from: 'E2', to: 'E3', label: '"&"' }],
    };
    const doc = { code: 'ESC-01', domain_code: 'ZRZY', title: '转义测试', lead_department_code: 'CD-ZRZY', flow };
    expectImported(await importBody(d, tok.district, 'items', JSON.stringify(doc), { type: 'ndjson' }), { rows: 1, inserted: 1 });
    const x = (await listAll(d, '/v1/items?domain=ZRZY', tok.district)).find((i) => i.code === 'ESC-01');
    const j = await get(d, `/v1/items/${x.id}/flow`, { token: tok.district });
    assert.deepEqual(j.json, flow);
    const svg = await get(d, `/v1/items/${x.id}/flow`, { token: tok.district, headers: { accept: 'image/svg+xml' } });
    assert.equal(svg.status, 200);
    assert.ok(!svg.text.includes('<script') && !svg.text.includes('<b>'), 'markup in a label is escaped');
    const texts = checkXml(svg.text).join('\n');
    for (const l of labels) for (const part of l.split('\n')) assert.ok(texts.includes(part), `SVG text lacks ${JSON.stringify(part)}: ${texts}`);
    assert.ok(texts.includes('<b>呼叫</b>'));
    const mm = await get(d, `/v1/items/${x.id}/flow`, { token: tok.district, headers: { accept: 'text/vnd.mermaid' } });
    assert.equal(mm.status, 200);
    const lines = mm.text.split('\n');
    assert.equal(lines[0], 'flowchart TD');
    for (let i = 0; i < labels.length; i++) {
      const nodeLines = lines.filter((l) => l.trimStart().startsWith(`E${i}[`));
      assert.equal(nodeLines.length, 1, `node E${i} on one line: ${mm.text}`);
      assert.match(nodeLines[0], new RegExp(`^\\s*E${i}\\["[^"<]*"\\]:::\\w+$`), `node E${i}: ${nodeLines[0]}`);
    }
    assert.ok(!mm.text.includes('<'), 'no raw < in the Mermaid text');
  });
});
