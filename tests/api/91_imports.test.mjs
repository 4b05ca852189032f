// Bulk imports (DESIGN §5 "Integration and bulk work", issue 3): POST /v1/imports/{units,
// grids,items} as the district office. The demo list imports and imports again unchanged;
// a bad file writes nothing and names every bad line; dry runs; CSV edge cases (BOM,
// RFC 4180 quoting, CRLF/LF, an empty last line, bad UTF-8); bodies over the limit (413
// without reading them); content types, roles and scope; NDJSON; revisions made by an
// import; 1000 grid cells with parents after their children. Everything writes into a
// district of this file's own.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectProblem, get, listAll, psql, raw, scratchDistrict, startDaemon, tokenFor,
} from './lib.mjs';
import {
  addDays, csvLine, demoCsv, parseCsv, demoFile, eventsOf, expectImported, importBody, ITEM_COLUMNS, ITEM_HEADER,
  todayShanghai, unitsCsvFor,
} from './list_helpers.mjs';

const ITEMS = demoCsv('items');
const NOTHING = /^\d+ problem\(s\) in the file; nothing was written$/;

let d;
let W; // this file's district
let tok;
before(async () => {
  d = await startDaemon();
  W = scratchDistrict('IM');
  tok = tokenFor(d, W, 'district');
});
after(async () => { await d.stop(); });

const imp = (kind, body, opts) => importBody(d, tok, kind, body, opts);

// The district's items (active today), code -> item.
async function items() {
  return new Map((await listAll(d, '/v1/items', tok)).map((x) => [x.code, x]));
}

// Runs fn (a refused or dry-run import) and asserts that the items, units and grids did
// not change.
async function nothingWritten(fn) {
  const snap = async () => JSON.stringify([
    await listAll(d, '/v1/items', tok), await listAll(d, '/v1/units', tok), await listAll(d, '/v1/grids', tok),
  ]);
  const before0 = await snap();
  const out = await fn();
  assert.equal(await snap(), before0, 'a refused (or dry-run) import changed the district');
  return out;
}

// A CSV of item rows: header + the given arrays (ITEM_COLUMNS order).
const itemsCsv = (rows, eol = '\r\n') => [ITEM_HEADER, ...rows.map(csvLine)].join(eol) + eol;
const demoRow = (i) => ITEM_COLUMNS.map((c) => ITEMS.rows[i % ITEMS.rows.length][c]);
const withCode = (row, code) => [code, ...row.slice(1)];

describe('the demo list', () => {
  test('the full demo list (items.ndjson) imports: 72 rows, 72 inserted, an item.created event each', async () => {
    const r = await imp('items', demoFile('items.ndjson'), { type: 'ndjson', query: { effective_from: '2026-01-01' } });
    expectImported(r, { rows: 72, inserted: 72 });
    const all = await items();
    assert.deepEqual([...all.keys()].sort(), ITEMS.rows.map((x) => x.code).sort());
    for (const x of all.values()) {
      assert.deepEqual([x.revision, x.version, x.effective_from, x.effective_to, x.status], [1, 1, '2026-01-01', null, 'active'], x.code);
      const src = ITEMS.rows.find((y) => y.code === x.code);
      assert.equal(x.title, src.title);
      assert.equal(x.domain, src.domain_code);
    }
    const created = Number(psql(
      `select count(*) from huying.events where district_id = ${W.id} and subject_type = 'item' and type = 'item.created'`));
    assert.equal(created, 72);
  });

  test('importing it again changes nothing: NDJSON and the CSV form both answer 72 unchanged', async () => {
    const before0 = await listAll(d, '/v1/items', tok);
    let r = await imp('items', demoFile('items.ndjson'), { type: 'ndjson', query: { effective_from: '2026-01-01' } });
    expectImported(r, { rows: 72, unchanged: 72 });
    // the same again without effective_from (today): still identical content, nothing to do
    r = await imp('items', demoFile('items.ndjson'), { type: 'ndjson' });
    expectImported(r, { rows: 72, unchanged: 72 });
    // CSV rows carry no scenarios or flow: they keep the current ones, so nothing changes
    r = await imp('items', demoFile('items.csv'));
    expectImported(r, { rows: 72, unchanged: 72 });
    assert.deepEqual(await listAll(d, '/v1/items', tok), before0);
    const z = before0.find((x) => x.code === 'ZRZY-01');
    const full = await get(d, `/v1/items/${z.id}`, { token: tok });
    assert.equal(full.json.scenarios.length, 3, 'a CSV import kept the scenarios');
    assert.ok(full.json.flow, 'a CSV import kept the flow');
    assert.equal(eventsOf(W.id, 'item', z.id).length, 1, 'an unchanged row writes no event');
  });

  test('units.csv and grids.csv import again unchanged (31 and 116 rows)', async () => {
    let r = await imp('units', unitsCsvFor(W));
    expectImported(r, { rows: 31, unchanged: 31 });
    r = await imp('grids', demoFile('grids.csv'));
    expectImported(r, { rows: 116, unchanged: 116 });
  });
});

describe('all or nothing', () => {
  // 100 new item rows built from items.csv; three of them bad (line = index + 2).
  const BAD = { 12: 'lead_department_code', 47: 'title', 89: 'resolve_limit_days' };
  function hundred({ fix = false } = {}) {
    const rows = [];
    for (let i = 0; i < 100; i++) {
      const row = withCode(demoRow(i), `BULK-${String(i + 1).padStart(3, '0')}`);
      const line = i + 2;
      if (!fix && BAD[line] === 'lead_department_code') row[5] = 'CD-NOPE';
      if (!fix && BAD[line] === 'title') row[2] = '';
      if (!fix && BAD[line] === 'resolve_limit_days') row[9] = '15天';
      rows.push(row);
    }
    return itemsCsv(rows);
  }

  test('100 rows with 3 bad ones: 422 naming exactly those 3 lines and fields; nothing written', async () => {
    const r = await nothingWritten(() => imp('items', hundred()));
    expectProblem(r, 422, '3 problem(s) in the file; nothing was written');
    assert.equal(r.json.rows, 100);
    assert.deepEqual(r.json.errors.map((e) => [e.line, e.field]),
      [[12, 'lead_department_code'], [47, 'title'], [89, 'resolve_limit_days']], JSON.stringify(r.json.errors));
    assert.match(r.json.errors[0].message, /CD-NOPE/);
    for (const e of r.json.errors) assert.ok(e.message.length > 0);
    const all = await items();
    assert.equal(all.size, 72);
    assert.ok(![...all.keys()].some((c) => c.startsWith('BULK-')));
  });

  test('the same file fixed, as a dry run: 100 would be inserted, nothing is written', async () => {
    const r = await nothingWritten(() => imp('items', hundred({ fix: true }), { query: { dry_run: 'true' } }));
    expectImported(r, { rows: 100, inserted: 100, dryRun: true });
  });

  test('a code twice in the file: 422 naming the second line', async () => {
    const rows = [withCode(demoRow(0), 'DUP-01'), withCode(demoRow(1), 'DUP-02'), withCode(demoRow(2), 'DUP-01')];
    const r = await nothingWritten(() => imp('items', itemsCsv(rows)));
    expectProblem(r, 422, NOTHING);
    assert.equal(r.json.rows, 3);
    assert.deepEqual(r.json.errors.map((e) => [e.line, e.field]), [[4, 'code']]);
    assert.match(r.json.errors[0].message, /line 2/);
  });

  test('dry_run=true answers the counts of a real import and writes nothing', async () => {
    const rows = [
      withCode(demoRow(3), 'DRY-01'),
      withCode(demoRow(4), 'DRY-02'),
      [...demoRow(0).slice(0, 2), '改过的标题', ...demoRow(0).slice(3)], // ZRZY-01, changed
      demoRow(1), // ZRZY-02, unchanged
    ];
    const r = await nothingWritten(() => imp('items', itemsCsv(rows), { query: { dry_run: 'true' } }));
    expectImported(r, { rows: 4, inserted: 2, updated: 1, unchanged: 1, dryRun: true });
    const z = (await items()).get('ZRZY-01');
    assert.equal(z.revision, 1);
    assert.equal(z.title, ITEMS.rows[0].title);
    // dry_run=false is a real import (checked with an unchanged row only)
    expectImported(await imp('items', itemsCsv([demoRow(1)]), { query: { dry_run: 'false' } }), { rows: 1, unchanged: 1 });
  });

  test('bad query parameters: 422 naming them', async () => {
    let r = await imp('items', itemsCsv([demoRow(1)]), { query: { dry_run: 'yes' } });
    expectProblem(r, 422, undefined, { errors: [{ field: 'dry_run', message: 'must be true or false' }] });
    r = await imp('items', itemsCsv([demoRow(1)]), { query: { effective_from: '1.1.2026' } });
    expectProblem(r, 422);
    assert.deepEqual(r.json.errors.map((e) => e.field), ['effective_from']);
    r = await imp('units', unitsCsvFor(W), { query: { effective_from: '2026-01-01' } });
    expectProblem(r, 422);
    assert.deepEqual(r.json.errors.map((e) => e.field), ['effective_from']);
    r = await imp('items', itemsCsv([demoRow(1)]), { query: { colour: 'red' } });
    expectProblem(r, 422);
    assert.deepEqual(r.json.errors.map((e) => e.field), ['colour']);
  });
});

describe('CSV edge cases', () => {
  const TRICKY = '第一句, 含逗号, 和 "引号" ，\n第二行，换行之后';
  const TRICKY_TITLE = '标题,带逗号 "和引号"';

  test('BOM, CRLF, quoted fields with commas, "" and a line break, an empty last line: stored exactly', async () => {
    const rows = [
      [...withCode(demoRow(5), 'EDGE-01').slice(0, 2), TRICKY_TITLE, TRICKY, ...demoRow(5).slice(4)],
      withCode(demoRow(6), 'EDGE-02'),
    ];
    const text = itemsCsv(rows, '\r\n') + '\r\n'; // an empty trailing line
    assert.ok(text.includes('"标题,带逗号 ""和引号"""'), 'the file really quotes');
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    const r = await imp('items', body);
    expectImported(r, { rows: 2, inserted: 2 });
    const got = (await items()).get('EDGE-01');
    assert.equal(got.title, TRICKY_TITLE);
    assert.equal(got.description, TRICKY);
    const one = await get(d, `/v1/items/${got.id}`, { token: tok });
    assert.equal(one.json.description, TRICKY);
    assert.equal(one.json.code, 'EDGE-01', 'the BOM is not part of the first column name');
    // the CSV export quotes it again the same way, and reads back unchanged
    const exp = await get(d, '/v1/items?domain=' + rows[0][1], { token: tok, headers: { accept: 'text/csv' } });
    assert.ok(exp.text.includes(csvLine(rows[0])), 'the export quotes the tricky row as RFC 4180 does');
    const n = parseCsv(exp.text).length - 1;
    assert.ok(n >= 9, `${n} rows exported`);
    expectImported(await imp('items', exp.body), { rows: n, unchanged: n });
  });

  test('LF line ends, no BOM, no newline after the last row', async () => {
    const rows = [withCode(demoRow(7), 'EDGE-03'), [...withCode(demoRow(8), 'EDGE-04').slice(0, 3), 'a\nb', ...demoRow(8).slice(4)]];
    const text = itemsCsv(rows, '\n').slice(0, -1);
    assert.ok(!text.includes('\r') && !text.endsWith('\n'));
    expectImported(await imp('items', text), { rows: 2, inserted: 2 });
    const all = await items();
    assert.equal(all.get('EDGE-04').description, 'a\nb');
    assert.equal(all.get('EDGE-03').title, ITEMS.rows[7].title);
  });

  test('line numbers are lines of the file: a record after a two-line field starts a line later', async () => {
    // line 1 header; line 2-3 EDGE-05 (a quoted line break); line 4 a bad row
    const rows = [[...withCode(demoRow(9), 'EDGE-05').slice(0, 3), 'x\r\ny', ...demoRow(9).slice(4)],
      [...withCode(demoRow(10), 'EDGE-06').slice(0, 9), '0']];
    const r = await nothingWritten(() => imp('items', itemsCsv(rows)));
    expectProblem(r, 422, NOTHING);
    assert.deepEqual(r.json.errors.map((e) => [e.line, e.field]), [[4, 'resolve_limit_days']]);
  });

  test('a non-UTF-8 byte on line 3: 422 naming line 3 (and the column); nothing written', async () => {
    const text = itemsCsv([withCode(demoRow(11), 'UTF-01'), withCode(demoRow(12), 'UTF-02'), withCode(demoRow(13), 'UTF-03')]);
    const at = Buffer.from(text).indexOf(Buffer.from(ITEMS.rows[12].title));
    const body = Buffer.from(text);
    body[at] = 0xff; // the first byte of the title on line 3
    const r = await nothingWritten(() => imp('items', body));
    expectProblem(r, 422, NOTHING);
    assert.deepEqual(r.json.errors.map((e) => [e.line, e.field]), [[3, 'title']]);
    assert.match(r.json.errors[0].message, /UTF-8/);
    // a Latin-1 file (é as 0xE9) the same
    const latin = Buffer.concat([Buffer.from(`${ITEM_HEADER}\n${csvLine(withCode(demoRow(0), 'UTF-04'))}\n`),
      Buffer.from('UTF-05,ZRZY,caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    const r2 = await nothingWritten(() => imp('items', latin));
    expectProblem(r2, 422, NOTHING);
    assert.deepEqual(r2.json.errors.map((e) => [e.line, e.field]), [[3, 'title']]);
  });

  test('broken quoting: 422 naming the line', async () => {
    const text = `${ITEM_HEADER}\n${csvLine(withCode(demoRow(0), 'Q-01'))}\nQ-02,ZRZY,a "quoted" word,,,,,,,\n`;
    const r = await nothingWritten(() => imp('items', text));
    expectProblem(r, 422, NOTHING);
    assert.equal(r.json.errors.length, 1);
    assert.equal(r.json.errors[0].line, 3);
    const unclosed = `${ITEM_HEADER}\n${csvLine(withCode(demoRow(0), 'Q-03'))}\nQ-04,ZRZY,"never closed,,,,,,,\n`;
    const r2 = await nothingWritten(() => imp('items', unclosed));
    expectProblem(r2, 422, NOTHING);
    // the unclosed field starts on line 3 (the file has no line 4)
    assert.deepEqual(r2.json.errors.map((e) => [e.line, e.field]), [[3, '(line)']]);
  });

  test('an empty body is 422 (a header row is required); a header alone imports nothing', async () => {
    const r = await imp('items', '');
    expectProblem(r, 422, NOTHING);
    assert.deepEqual(r.json.errors.map((e) => [e.line, e.field]), [[1, '(header)']]);
    expectImported(await imp('items', `${ITEM_HEADER}\r\n`), { rows: 0 });
    expectImported(await imp('items', Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from(ITEM_HEADER)])), { rows: 0 });
  });

  test('an unknown column: 422 naming it on every row that has it', async () => {
    const text = `${ITEM_HEADER},colour\n${csvLine([...withCode(demoRow(0), 'COL-01'), 'red'])}\n`
      + `${csvLine([...withCode(demoRow(1), 'COL-02'), ''])}\n${csvLine([...withCode(demoRow(2), 'COL-03'), 'blue'])}\n`;
    const r = await nothingWritten(() => imp('items', text));
    expectProblem(r, 422, NOTHING);
    assert.deepEqual(r.json.errors.map((e) => [e.line, e.field]), [[2, 'colour'], [4, 'colour']]);
    const nd = `${JSON.stringify({ ...ITEMS.rows[0], code: 'COL-04' })}\n${JSON.stringify({ ...ITEMS.rows[1], code: 'COL-05', colour: 'red' })}\n`;
    const r2 = await nothingWritten(() => imp('items', nd, { type: 'ndjson' }));
    expectProblem(r2, 422, NOTHING);
    assert.deepEqual(r2.json.errors.map((e) => [e.line, e.field]), [[2, 'colour']]);
  });
});

describe('NDJSON', () => {
  test('a line that is not JSON: 422 naming it; a line that is not an object too', async () => {
    const good = (code) => JSON.stringify({ ...ITEMS.rows[0], code });
    let r = await nothingWritten(() => imp('items', `${good('ND-01')}\n{"code": "ND-02", "title": \n${good('ND-03')}\n`, { type: 'ndjson' }));
    expectProblem(r, 422, NOTHING);
    assert.deepEqual(r.json.errors.map((e) => [e.line, e.field]), [[2, '(line)']]);
    r = await nothingWritten(() => imp('items', `${good('ND-01')}\n\n[1, 2]\n`, { type: 'ndjson' }));
    expectProblem(r, 422, NOTHING);
    assert.deepEqual(r.json.errors.map((e) => [e.line, e.field]), [[3, '(line)']], 'blank lines count as lines');
  });

  test('blank lines and CRLF are fine; scenarios and flow from the line', async () => {
    const doc = {
      ...ITEMS.rows[0], code: 'ND-10', cooperating_department_codes: ['CD-ZF'], resolve_limit_days: 9,
      scenarios: [{ title: '情形一', steps: 'a|b|c', resolve_limit_days: 3 }],
      flow: { nodes: [{ id: 'A', label: '开始', actor: 'township' }, { id: 'B', label: '结束', actor: 'department' }], edges: [{ from: 'A', to: 'B', label: '呼叫' }] },
    };
    const r = await imp('items', `\r\n${JSON.stringify(doc)}\r\n\r\n`, { type: 'ndjson' });
    expectImported(r, { rows: 1, inserted: 1 });
    const x = (await items()).get('ND-10');
    const full = (await get(d, `/v1/items/${x.id}`, { token: tok })).json;
    assert.deepEqual(full.cooperating_department_ids, [W.unit('CD-ZF')]);
    assert.equal(full.resolve_limit, 9);
    assert.deepEqual(full.scenarios.map(({ id, ...s }) => s), [{
      seq: 1, title: '情形一', responsible_section: null, contact_phone: null, steps: ['a', 'b', 'c'], standard: null, resolve_limit: 3,
    }]);
    assert.deepEqual(full.flow, doc.flow);
  });
});

describe('limits, content types, roles', () => {
  test('Content-Length of 200 MB: 413 at once, without reading the body', async () => {
    const t0 = Date.now();
    const r = await raw(d, [
      `POST /v1/imports/items HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${tok}\r\nContent-Type: text/csv\r\n`
      + 'Content-Length: 209715200\r\n\r\n' + `${ITEM_HEADER}\r\n`,
    ], { expect: 1, timeout: 10000 });
    assert.equal(r.responses[0]?.status, 413, r.raw.toString().slice(0, 300));
    expectProblem(r.responses[0], 413);
    assert.ok(Date.now() - t0 < 5000, `413 took ${Date.now() - t0} ms`);
    const h = await get(d, '/healthz');
    assert.equal(h.status, 200);
    d.assertHealthy();
  });

  test('HUYING_IMPORT_LIMIT=100000: a 200 KB chunked body is 413, a smaller one imports', async () => {
    const small = await startDaemon({ HUYING_IMPORT_LIMIT: '100000' });
    try {
      const t = tokenFor(small, W, 'district');
      const big = Buffer.from(`${ITEM_HEADER}\n` + `${csvLine(withCode(demoRow(0), 'BIG-0'))}\n`.repeat(1000)).subarray(0, 200 * 1024);
      const head = `POST /v1/imports/items?dry_run=true HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${t}\r\n`
        + 'Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n';
      const steps = [head];
      for (let off = 0; off < big.length; off += 8192) {
        const part = big.subarray(off, off + 8192);
        steps.push({ delay: 2, data: Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]) });
      }
      steps.push('0\r\n\r\n');
      const before0 = await listAll(small, '/v1/items', t);
      const r = await raw(small, steps, { expect: 1, timeout: 20000 });
      assert.equal(r.responses[0]?.status, 413, r.raw.toString().slice(0, 400));
      expectProblem(r.responses[0], 413);
      // the demo items.ndjson (113 KB) is over the limit too; items.csv (29 KB) is not
      let res = await importBody(small, t, 'items', demoFile('items.ndjson'), { type: 'ndjson' });
      expectProblem(res, 413);
      res = await importBody(small, t, 'items', demoFile('items.csv'));
      expectImported(res, { rows: 72, unchanged: 72 });
      assert.deepEqual(await listAll(small, '/v1/items', t), before0);
      small.assertHealthy();
    } finally {
      await small.stop();
    }
  });

  test('a content type other than text/csv or application/x-ndjson: 415', async () => {
    const body = itemsCsv([demoRow(1)]);
    for (const ct of ['application/json', 'text/plain', 'application/octet-stream', 'text/csv; charset=iso-8859-1', 'multipart/form-data; boundary=x']) {
      const r = await nothingWritten(() => imp('items', body, { type: ct }));
      expectProblem(r, 415);
    }
    // no Content-Type at all
    const r = await raw(d, `POST /v1/imports/items HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${tok}\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, { expect: 1 });
    expectProblem(r.responses[0], 415);
    // the charset may be given as utf-8
    expectImported(await imp('items', body, { type: 'text/csv; charset=utf-8' }), { rows: 1, unchanged: 1 });
    expectImported(await imp('items', JSON.stringify(ITEMS.rows[1]), { type: 'application/x-ndjson; charset=UTF-8' }), { rows: 1, unchanged: 1 });
  });

  test('only the district office with scope imports:write may import', async () => {
    const body = itemsCsv([withCode(demoRow(0), 'ROLE-01')]);
    for (const role of ['township', 'department', 'integration']) {
      const r = await nothingWritten(() => importBody(d, tokenFor(d, W, role), 'items', body));
      expectProblem(r, 403);
    }
    for (const kind of ['units', 'grids', 'items']) {
      const r = await importBody(d, tokenFor(d, W, 'township'), kind, 'code\n');
      expectProblem(r, 403);
    }
    const narrow = tokenFor(d, W, 'district', { scope: 'calls:read' });
    for (const kind of ['units', 'grids', 'items']) {
      const r = await importBody(d, narrow, kind, kind === 'items' ? body : 'code\n');
      expectProblem(r, 403);
    }
    const wide = tokenFor(d, W, 'district', { scope: 'calls:read imports:write' });
    expectImported(await importBody(d, wide, 'items', body, { query: { dry_run: 'true' } }), { rows: 1, inserted: 1, dryRun: true });
    assert.ok(!(await items()).has('ROLE-01'));
  });
});

describe('revisions and grids', () => {
  test("an import changing one item's title creates revision 2 effective today; the versions show both", async () => {
    const today = todayShanghai();
    const row = demoRow(2); // ZRZY-03
    const changed = [...row.slice(0, 2), `${row[2]}（修订）`, ...row.slice(3)];
    const r = await imp('items', itemsCsv([demoRow(1), changed]));
    expectImported(r, { rows: 2, updated: 1, unchanged: 1 });
    const x = (await items()).get('ZRZY-03');
    assert.deepEqual([x.title, x.revision, x.version, x.effective_from, x.effective_to], [changed[2], 2, 2, today, null]);
    const v = await get(d, `/v1/items/${x.id}/versions`, { token: tok });
    assert.equal(v.status, 200);
    assert.equal(v.json.next_cursor, null);
    assert.deepEqual(v.json.data.map((e) => [e.revision, e.effective_from, e.effective_to, e.title, e.source, e.list_change_id]), [
      [2, today, null, changed[2], 'import', null],
      [1, '2026-01-01', today, row[2], 'import', null],
    ]);
    // the old revision is still readable at a past date; the manual and flow were kept
    const old = await get(d, `/v1/items/${x.id}?at=${addDays(today, -1)}`, { token: tok });
    assert.equal(old.json.revision, 1);
    assert.equal(old.json.title, row[2]);
    const cur = await get(d, `/v1/items/${x.id}`, { token: tok });
    assert.deepEqual(cur.json.scenarios.map((s) => s.title), old.json.scenarios.map((s) => s.title));
    assert.equal(cur.headers.etag, '"2"');
    const ev = eventsOf(W.id, 'item', x.id);
    assert.deepEqual(ev.map((e) => e.type), ['item.created', 'item.revised']);
    assert.equal(ev[1].data.revision, 2);
    assert.equal(ev[1].data.effective_from, today);
  });

  test('1000 grid cells with every parent later in the file than its children', async () => {
    const rows = [];
    const villages = Array.from({ length: 33 }, (_, i) => `K-T-${String(i + 1).padStart(2, '0')}`);
    for (let g = 0; g < 966; g++) {
      const v = villages[g % 33];
      rows.push([`${v}-${String(Math.floor(g / 33) + 1).padStart(2, '0')}`, 'grid', `测试网格${g + 1}`, v]);
    }
    for (const v of villages) rows.push([v, 'village', `测试村${v.slice(4)}`, 'K-T']);
    rows.push(['K-T', 'township', '测试街道', 'TS-NCS']);
    assert.equal(rows.length, 1000);
    const text = ['code,level,name,parent_code', ...rows.map(csvLine)].join('\r\n') + '\r\n';
    const r = await imp('grids', text);
    expectImported(r, { rows: 1000, inserted: 1000 });
    const all = await listAll(d, '/v1/grids', tok);
    assert.equal(all.length, 116 + 1000);
    const id = new Map(all.map((g) => [g.code, g]));
    for (const [code, level, name, parent] of rows) {
      const g = id.get(code);
      assert.ok(g, code);
      assert.deepEqual([g.level, g.name], [level, name]);
      assert.equal(g.township_id, W.unit('TS-NCS'), code);
      assert.equal(g.parent_id, level === 'township' ? null : id.get(parent).id, code);
    }
    expectImported(await imp('grids', text), { rows: 1000, unchanged: 1000 });
    // the same cells as NDJSON, one renamed
    rows[0][2] = '改名网格';
    const nd = rows.map(([code, level, name, parent_code]) => JSON.stringify({ code, level, name, parent_code })).join('\n');
    expectImported(await imp('grids', nd, { type: 'ndjson' }), { rows: 1000, updated: 1 });
  });
});
