// Shared helpers of the responsibility-list tests (90_list, 91_imports, 92_list_changes):
// the demo list files parsed, dates in business time, the bulk import call, a district of
// a test file's own with the demo list loaded through the import API, an XML
// well-formedness check for the SVG flowcharts, and the event timeline read as the owner.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { psql, request, ROOT, scratchDistrict } from './lib.mjs';

export const DEMO = path.join(ROOT, 'data/demo');
export const demoFile = (name) => fs.readFileSync(path.join(DEMO, name));

// ---- CSV (RFC 4180) -------------------------------------------------------------------------

// Parses RFC 4180 text (BOM dropped; CRLF or LF; quoted fields with "" and line breaks).
// Returns the records as arrays of strings; an empty last line gives no record.
export function parseCsv(text) {
  text = text.replace(/^\uFEFF/, '');
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += c;
    }
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

// One CSV cell as RFC 4180 writes it (quoted only when it has to be).
export const csvCell = (v) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
export const csvLine = (cells) => cells.map(csvCell).join(',');

// data/demo/NAME.csv as {header: [names], rows: [objects], lines: [raw text lines]}.
export function demoCsv(name) {
  const text = demoFile(`${name}.csv`).toString('utf8');
  const [header, ...rows] = parseCsv(text);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.length).slice(1);
  return { header, rows: rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))), lines, raw: rows };
}

export const ITEM_COLUMNS = ['code', 'domain_code', 'title', 'description', 'legal_basis', 'lead_department_code',
  'cooperating_department_codes', 'township_duty', 'response_limit', 'resolve_limit_days'];
export const ITEM_HEADER = ITEM_COLUMNS.join(',');

export const byCode = (a, b) => (a < b ? -1 : a > b ? 1 : 0); // C order of ASCII codes

// ---- dates (Asia/Shanghai) -----------------------------------------------------------------

export function todayShanghai() {
  return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
}
export function addDays(date, n) {
  const t = Date.parse(`${date}T00:00:00Z`) + n * 86400000;
  return new Date(t).toISOString().slice(0, 10);
}

// ---- imports -------------------------------------------------------------------------------

const TYPES = { csv: 'text/csv', ndjson: 'application/x-ndjson' };

// POST /v1/imports/KIND with body (string/Buffer) as type (csv | ndjson | a content type);
// query: an object of query parameters. Returns the checked response.
export function importBody(d, token, kind, body, { type = 'csv', query = {}, headers = {}, timeout = 120000 } = {}) {
  const qs = new URLSearchParams(query).toString();
  return request(d, 'POST', `/v1/imports/${kind}${qs ? `?${qs}` : ''}`, {
    token,
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
    headers: { 'content-type': TYPES[type] || type, ...headers },
    timeout,
  });
}

// Asserts a successful import answer.
export function expectImported(res, { rows, inserted = 0, updated = 0, unchanged, dryRun = false }) {
  assert.equal(res.status, 200, `import: ${res.status} ${res.text?.slice(0, 800)}`);
  assert.deepEqual(res.json, {
    rows, inserted, updated, unchanged: unchanged ?? rows - inserted - updated, dry_run: dryRun, errors: [],
  });
}

// units.csv with the demo office code CD-BGS replaced by the district's office code
// (`huyingd district add --code X` names its office X-BGS).
export function unitsCsvFor(dist) {
  return demoFile('units.csv').toString('utf8').replace(/\bCD-BGS\b/g, `${dist.code}-BGS`);
}

// A district of the calling file's own: demo domains, units and grids (the harness loads
// them with SQL) and the demo list (data/demo/items.ndjson) imported through the API with
// effective_from=2026-01-01. Returns the district (see lib's scratchDistrict).
export async function listDistrict(d, tag, districtToken) {
  const dist = scratchDistrict(tag);
  const res = await importBody(d, districtToken(dist), 'items', demoFile('items.ndjson'),
    { type: 'ndjson', query: { effective_from: '2026-01-01' } });
  expectImported(res, { rows: 72, inserted: 72 });
  return dist;
}

// ---- events --------------------------------------------------------------------------------

// The events of one subject, oldest first, as {type, role (actor_role), data}; read as the
// owner (RLS: owner_all).
export function eventsOf(districtId, subjectType, subjectId) {
  const out = psql(`select type || '|' || coalesce(actor_role, '') || '|' || data::text from huying.events
    where district_id = ${Number(districtId)} and subject_type = '${subjectType}' and subject_id = ${Number(subjectId)}
    order by id`);
  return out.split('\n').filter(Boolean).map((l) => {
    const [type, role, ...rest] = l.split('|');
    return { type, role, data: JSON.parse(rest.join('|')) };
  });
}

// ---- XML -----------------------------------------------------------------------------------

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function decodeEntities(s, where) {
  return s.replace(/&([^;&<]*);?/g, (m, name) => {
    assert.ok(m.endsWith(';'), `XML: a bare & (${where})`);
    if (name in ENTITIES) return ENTITIES[name];
    let cp;
    if (/^#[0-9]+$/.test(name)) cp = Number(name.slice(1));
    else if (/^#x[0-9a-fA-F]+$/.test(name)) cp = parseInt(name.slice(2), 16);
    else assert.fail(`XML: unknown entity &${name}; (${where})`);
    assert.ok(cp > 0 && cp <= 0x10ffff, `XML: bad character reference &${name};`);
    return String.fromCodePoint(cp);
  });
}

const NAME = '[A-Za-z_:][-A-Za-z0-9_:.]*';

// A small XML 1.0 well-formedness check (no DTD processing): one root element, tags
// balanced and properly nested, attributes quoted and unique, no bare < or &, entities
// known. Returns the decoded text of every <text> element, in document order. When
// xmllint is installed it must accept the document too.
export function checkXml(xml) {
  assert.equal(typeof xml, 'string');
  const stack = [];
  const texts = [];
  let roots = 0;
  let i = 0;
  let textBuf = null; // collecting the content of a <text> element
  if (xml.startsWith('\uFEFF')) i = 1;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const chunk = xml.slice(i, lt < 0 ? xml.length : lt);
    if (chunk.length) {
      if (stack.length === 0) assert.match(chunk, /^\s*$/, `XML: text outside the root element: ${chunk.slice(0, 80)}`);
      const t = decodeEntities(chunk, `text at ${i}`);
      if (textBuf !== null) textBuf.push(t);
    }
    if (lt < 0) break;
    if (xml.startsWith('<?', lt)) {
      const e = xml.indexOf('?>', lt);
      assert.ok(e > 0, 'XML: an unclosed processing instruction');
      i = e + 2;
    } else if (xml.startsWith('<!--', lt)) {
      const e = xml.indexOf('-->', lt + 4);
      assert.ok(e > 0, 'XML: an unclosed comment');
      assert.ok(!xml.slice(lt + 4, e).includes('--'), 'XML: -- inside a comment');
      i = e + 3;
    } else if (xml.startsWith('<![CDATA[', lt)) {
      assert.ok(stack.length > 0, 'XML: CDATA outside the root');
      const e = xml.indexOf(']]>', lt);
      assert.ok(e > 0, 'XML: an unclosed CDATA section');
      if (textBuf !== null) textBuf.push(xml.slice(lt + 9, e));
      i = e + 3;
    } else if (xml.startsWith('<!DOCTYPE', lt)) {
      assert.equal(roots, 0, 'XML: DOCTYPE after the root');
      // no internal subset expected: up to the next >, outside quotes
      let j = lt + 9;
      let q = null;
      for (; j < xml.length; j++) {
        const c = xml[j];
        if (q) { if (c === q) q = null; } else if (c === '"' || c === "'") q = c;
        else if (c === '[') assert.fail('XML: an internal DTD subset (not expected in the SVG)');
        else if (c === '>') break;
      }
      assert.ok(j < xml.length, 'XML: an unclosed DOCTYPE');
      i = j + 1;
    } else if (xml[lt + 1] === '/') {
      const m = new RegExp(`^</(${NAME})\\s*>`).exec(xml.slice(lt));
      assert.ok(m, `XML: a bad end tag at ${lt}: ${xml.slice(lt, lt + 40)}`);
      const open = stack.pop();
      assert.equal(m[1], open, `XML: </${m[1]}> closes <${open}>`);
      if (m[1] === 'text' && textBuf !== null) {
        texts.push(textBuf.join(''));
        textBuf = null;
      }
      i = lt + m[0].length;
    } else {
      const m = new RegExp(`^<(${NAME})`).exec(xml.slice(lt));
      assert.ok(m, `XML: a bare < at ${lt}: ${xml.slice(lt, lt + 40)}`);
      let j = lt + m[0].length;
      const attrs = new Set();
      for (;;) {
        const ws = /^\s*/.exec(xml.slice(j))[0].length;
        j += ws;
        if (xml.startsWith('/>', j) || xml[j] === '>') break;
        assert.ok(ws > 0, `XML: attributes of <${m[1]}> are not separated`);
        const a = new RegExp(`^(${NAME})\\s*=\\s*("[^"<]*"|'[^'<]*')`).exec(xml.slice(j));
        assert.ok(a, `XML: a bad attribute in <${m[1]}> at ${j}: ${xml.slice(j, j + 40)}`);
        assert.ok(!attrs.has(a[1]), `XML: attribute ${a[1]} twice in <${m[1]}>`);
        attrs.add(a[1]);
        decodeEntities(a[2].slice(1, -1), `attribute ${a[1]}`);
        j += a[0].length;
      }
      if (stack.length === 0) {
        roots++;
        assert.equal(roots, 1, 'XML: more than one root element');
      }
      if (xml.startsWith('/>', j)) {
        i = j + 2;
      } else {
        stack.push(m[1]);
        if (m[1] === 'text') textBuf = [];
        i = j + 1;
      }
    }
  }
  assert.deepEqual(stack, [], 'XML: unclosed elements');
  assert.equal(roots, 1, 'XML: no root element');
  const lint = spawnSync('xmllint', ['--noout', '--nonet', '-'], { input: xml, encoding: 'utf8' });
  if (!lint.error) assert.equal(lint.status, 0, `xmllint refuses the SVG: ${lint.stderr}`);
  return texts;
}

export const xmlEscape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
