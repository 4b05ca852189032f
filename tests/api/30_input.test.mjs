// Bad input (DESIGN §5–§6, DEPENDENCIES.md cJSON 1.7.15): POST /v1/units as the district
// office — strict JSON, content type, size limits, field validation, no mass assignment, and
// nothing written by a refused request; then list parameters: cursor, limit, filters.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectProblem, fixtures, get, listAll, raw, request, scratchDistrict, startDaemon, tokenFor,
} from './lib.mjs';

let d;
let W; // a district of this file's own: the writes go there
let fx;
let tok;
before(async () => {
  fx = fixtures();
  W = scratchDistrict('IN');
  d = await startDaemon();
  tok = tokenFor(d, W, 'district');
});
after(async () => { await d.stop(); });

const INVALID = 'the body has invalid fields';
const postUnits = (body, opts = {}) => request(d, 'POST', '/v1/units', {
  token: tok,
  body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  ...opts,
  headers: { 'content-type': 'application/json', ...(opts.headers || {}) },
});

// Runs fn (a refused write) and asserts that the district's units did not change.
async function nothingWritten(fn) {
  const before = await listAll(d, '/v1/units', tok);
  await fn();
  const afterRows = await listAll(d, '/v1/units', tok);
  assert.deepEqual(afterRows, before, 'a refused request changed the units');
}

describe('POST /v1/units', () => {
  test('created: 201 with Location, ETag and the unit', async () => {
    const r = await postUnits({ code: 'IN-NEW-1', kind: 'department', name: '新建部门', phone: '0535-1' });
    assert.equal(r.status, 201, r.text);
    const u = r.json;
    assert.equal(r.headers.location, `/v1/units/${u.id}`);
    assert.equal(r.headers.etag, '"1"');
    assert.deepEqual(
      { code: u.code, kind: u.kind, name: u.name, parent_id: u.parent_id, phone: u.phone, version: u.version },
      { code: 'IN-NEW-1', kind: 'department', name: '新建部门', parent_id: W.office, phone: '0535-1', version: 1 },
    );
    assert.equal(u.created_at, u.updated_at);
    // it is there, in this district only
    const g = await get(d, r.headers.location, { token: tok });
    assert.equal(g.status, 200);
    assert.deepEqual(g.json, u);
    const other = await get(d, r.headers.location, { token: tokenFor(d, fx.A, 'district') });
    expectProblem(other, 404);
  });

  test('parent by parent_code and by parent_id; a township', async () => {
    let r = await postUnits({ code: 'IN-NEW-2', kind: 'township', name: '新乡', parent_code: 'CD-ZRZY' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.parent_id, W.unit('CD-ZRZY'));
    assert.equal(r.json.kind, 'township');
    assert.equal(r.json.phone, null);
    r = await postUnits({ code: 'IN-NEW-3', kind: 'department', name: '新部门', parent_id: W.unit('TS-NCS') });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.parent_id, W.unit('TS-NCS'));
  });

  test('a name of exactly 100 Chinese characters is accepted; a body of exactly the limit is accepted', async () => {
    let r = await postUnits({ code: 'IN-NAME-100', kind: 'department', name: '长'.repeat(100) });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.name, '长'.repeat(100));
    const json = JSON.stringify({ code: 'IN-BIG-OK', kind: 'department', name: 'big' });
    const body = ' '.repeat(1048576 - Buffer.byteLength(json)) + json;
    assert.equal(Buffer.byteLength(body), 1048576);
    r = await postUnits(body);
    assert.equal(r.status, 201, r.text);
  });

  test('a chunked body (no Content-Length) is read', async () => {
    const body = JSON.stringify({ code: 'IN-CHUNKED', kind: 'department', name: 'chunked' });
    const r = await raw(d, [
      `POST /v1/units HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${tok}\r\nContent-Type: application/json\r\n`
      + 'Transfer-Encoding: chunked\r\n\r\n',
      `${Buffer.byteLength(body.slice(0, 10)).toString(16)}\r\n${body.slice(0, 10)}\r\n`,
      { delay: 50, data: `${Buffer.byteLength(body.slice(10)).toString(16)}\r\n${body.slice(10)}\r\n0\r\n\r\n` },
    ], { expect: 1 });
    assert.equal(r.responses[0]?.status, 201, r.raw.toString());
    assert.equal(r.responses[0].json.code, 'IN-CHUNKED');
  });

  test('duplicate code: 409 naming code, nothing written', async () => {
    await nothingWritten(async () => {
      const r = await postUnits({ code: 'CD-ZRZY', kind: 'department', name: '重复' });
      expectProblem(r, 409, 'a unit with code CD-ZRZY already exists', { errors: [{ field: 'code', message: 'already used' }] });
    });
  });

  const MALFORMED_BODIES = [
    ['malformed JSON', '{"code":"IN-X","kind":', /^malformed JSON near byte \d+$/],
    ['trailing garbage', '{"code":"IN-X","kind":"department","name":"x"}x', /^malformed JSON near byte \d+$/],
    ['two documents', '{"code":"IN-X","kind":"department","name":"x"} {}', /^malformed JSON near byte \d+$/],
    ['an empty body', '', /^malformed JSON near byte 0$/],
    ['duplicate keys', '{"code":"IN-X","kind":"department","name":"x","code":"IN-Y"}', 'duplicate key "code"'],
    ['duplicate keys, nested', '{"code":"IN-X","kind":"department","name":"x","phone":{"a":1,"a":2}}', 'duplicate key "a"'],
    ['\\u0000 in a string', '{"code":"IN-X","kind":"department","name":"ab\\u0000cd"}', /^\\u0000 is not allowed in strings \(byte \d+\)$/],
    ['a lone surrogate', '{"code":"IN-X","kind":"department","name":"\\ud800"}', /^malformed JSON near byte \d+$/],
    ['invalid UTF-8 (0xff)', Buffer.concat([Buffer.from('{"code":"IN-X","kind":"department","name":"'), Buffer.from([0xff]), Buffer.from('"}')]), 'the body is not valid UTF-8'],
    ['invalid UTF-8 (overlong /)', Buffer.concat([Buffer.from('{"code":"IN-X","kind":"department","name":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}')]), 'the body is not valid UTF-8'],
    ['invalid UTF-8 (encoded surrogate)', Buffer.concat([Buffer.from('{"code":"IN-X","kind":"department","name":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')]), 'the body is not valid UTF-8'],
    ['invalid UTF-8 (truncated)', Buffer.concat([Buffer.from('{"code":"IN-X","kind":"department","name":"'), Buffer.from([0xe9, 0x95]), Buffer.from('"}')]), 'the body is not valid UTF-8'],
    ['a raw control character in a string', '{"code":"IN-X","kind":"department","name":"a\tb"}', /^raw control character in a string \(byte \d+\): escape it$/],
    ['a raw NUL byte in a string', '{"code":"IN-X","kind":"department","name":"a\0b"}', /^raw control character in a string \(byte \d+\): escape it$/],
    ['nesting depth 40', `{"code":"IN-X","kind":"department","name":"x","phone":${'['.repeat(39)}${']'.repeat(39)}}`, 'JSON nested deeper than 32 levels'],
    ['nesting depth 33', `{"phone":${'['.repeat(32)}${']'.repeat(32)}}`, 'JSON nested deeper than 32 levels'],
    ['nesting depth 100000', '['.repeat(100000) + ']'.repeat(100000), 'JSON nested deeper than 32 levels'],
  ];
  for (const [what, body, detail] of MALFORMED_BODIES) {
    test(`${what}: 400, nothing written`, async () => {
      await nothingWritten(async () => expectProblem(await postUnits(body), 400, detail));
    });
  }

  test('nesting depth 32 is parsed (then refused as a field error: 422)', async () => {
    await nothingWritten(async () => {
      const r = await postUnits(`{"code":"IN-X","kind":"department","name":"x","phone":${'['.repeat(31)}${']'.repeat(31)}}`);
      expectProblem(r, 422, INVALID, { errors: [{ field: 'phone', message: 'must be a string' }] });
    });
  });

  test('wrong or missing content type: 415, nothing written', async () => {
    const body = JSON.stringify({ code: 'IN-CT', kind: 'department', name: 'x' });
    await nothingWritten(async () => {
      for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1',
        'application/jsonx', 'application/problem+json', 'multipart/form-data; boundary=x', 'text/json']) {
        expectProblem(await postUnits(body, { headers: { 'content-type': ct } }), 415, 'the body must be application/json (UTF-8)');
      }
      const r = await request(d, 'POST', '/v1/units', { token: tok, body });
      expectProblem(r, 415, 'the body must be application/json (UTF-8)');
    });
  });

  test('application/json with charset=utf-8 in any case is accepted', async () => {
    for (const [i, ct] of ['application/json; charset=utf-8', 'Application/JSON;charset=UTF-8', 'application/json; charset="utf-8"'].entries()) {
      const r = await postUnits({ code: `IN-CT-${i}`, kind: 'department', name: 'x' }, { headers: { 'content-type': ct } });
      assert.equal(r.status, 201, `${ct}: ${r.text}`);
    }
  });

  test('body over the limit by Content-Length (1 MiB + 1): 413, nothing written', async () => {
    await nothingWritten(async () => {
      const r = await raw(d, `POST /v1/units HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${tok}\r\n`
        + 'Content-Type: application/json\r\nContent-Length: 1048577\r\n\r\n{"code":"IN-BIG",', { expect: 1 });
      assert.equal(r.responses.length, 1, 'no answer');
      expectProblem(r.responses[0], 413, 'the body is larger than the limit');
    });
  });

  test('a chunked body over the limit: 413, nothing written', async () => {
    await nothingWritten(async () => {
      const json = JSON.stringify({ code: 'IN-BIG-CHUNKED', kind: 'department', name: 'x' });
      const pad = ' '.repeat(65536);
      const steps = [`POST /v1/units HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${tok}\r\n`
        + 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n'];
      for (let i = 0; i < 16; i++) steps.push(`10000\r\n${pad}\r\n`); // exactly 1 MiB of spaces
      steps.push(`${Buffer.byteLength(json).toString(16)}\r\n${json}\r\n0\r\n\r\n`);
      const r = await raw(d, steps, { expect: 1 });
      assert.equal(r.responses.length, 1, 'no answer');
      expectProblem(r.responses[0], 413, 'the body is larger than the limit');
    });
  });

  test('a body shorter than its Content-Length: 400, nothing written', async () => {
    await nothingWritten(async () => {
      const r = await raw(d, [{
        data: `POST /v1/units HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${tok}\r\n`
          + 'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"code":"IN-SHORT"}',
        end: true,
      }], { expect: 1, timeout: 5000 });
      assert.equal(r.responses.length, 1, 'no answer');
      expectProblem(r.responses[0], 400, 'the body could not be read');
    });
  });

  const FIELD_ERRORS = [
    ['an unknown field', { code: 'IN-X', kind: 'department', name: 'x', colour: 'red' }, [{ field: 'colour', message: 'is not a known field' }]],
    ['"Code" instead of "code"', { Code: 'IN-X', kind: 'department', name: 'x' },
      [{ field: 'Code', message: 'is not a known field' }, { field: 'code', message: 'is required' }]],
    ['"KIND" besides "kind"', { code: 'IN-X', kind: 'department', KIND: 'township', name: 'x' }, [{ field: 'KIND', message: 'is not a known field' }]],
    ['kind not in the enum', { code: 'IN-X', kind: 'district_office', name: 'x' }, [{ field: 'kind', message: 'must be one of: township department' }]],
    ['kind of another case', { code: 'IN-X', kind: 'Department', name: 'x' }, [{ field: 'kind', message: 'must be one of: township department' }]],
    ['a name of 101 Chinese characters', { code: 'IN-X', kind: 'department', name: '长'.repeat(101) }, [{ field: 'name', message: 'must be 1 to 100 characters long' }]],
    ['an empty name', { code: 'IN-X', kind: 'department', name: '' }, [{ field: 'name', message: 'must be 1 to 100 characters long' }]],
    ['a name that is a number', { code: 'IN-X', kind: 'department', name: 7 }, [{ field: 'name', message: 'must be a string' }]],
    ['a code with a space', { code: 'IN X', kind: 'department', name: 'x' }, [{ field: 'code', message: 'may contain only A-Z a-z 0-9 _ . -' }]],
    ['a code of 65 characters', { code: 'C'.repeat(65), kind: 'department', name: 'x' }, [{ field: 'code', message: 'must be 1 to 64 characters long' }]],
    ['missing everything', {}, [{ field: 'code', message: 'is required' }, { field: 'kind', message: 'is required' }, { field: 'name', message: 'is required' }]],
    ['code null', { code: null, kind: 'department', name: 'x' }, [{ field: 'code', message: 'must be a string' }]],
    ['parent_id 1.5', { code: 'IN-X', kind: 'department', name: 'x', parent_id: 1.5 }, [{ field: 'parent_id', message: 'must be an integer' }]],
    ['parent_id "1"', { code: 'IN-X', kind: 'department', name: 'x', parent_id: '1' }, [{ field: 'parent_id', message: 'must be an integer' }]],
    ['parent_id 0', { code: 'IN-X', kind: 'department', name: 'x', parent_id: 0 }, [{ field: 'parent_id', message: 'must be between 1 and 9007199254740991' }]],
    ['parent_id true', { code: 'IN-X', kind: 'department', name: 'x', parent_id: true }, [{ field: 'parent_id', message: 'must be an integer' }]],
    ['both parent_id and parent_code', { code: 'IN-X', kind: 'department', name: 'x', parent_id: 1, parent_code: 'CD-ZRZY' },
      [{ field: 'parent_code', message: 'give parent_id or parent_code, not both' }]],
    ['status in the body', { code: 'IN-X', kind: 'department', name: 'x', status: 'active' }, [{ field: 'status', message: 'is not a known field' }]],
    ['district_id in the body', { code: 'IN-X', kind: 'department', name: 'x', district_id: 1 }, [{ field: 'district_id', message: 'is not a known field' }]],
    ['version in the body', { code: 'IN-X', kind: 'department', name: 'x', version: 9 }, [{ field: 'version', message: 'is not a known field' }]],
    ['id, created_by in the body', { code: 'IN-X', kind: 'department', name: 'x', id: 1, created_by: 'me' },
      [{ field: 'id', message: 'is not a known field' }, { field: 'created_by', message: 'is not a known field' }]],
    ['a phone of 33 characters', { code: 'IN-X', kind: 'department', name: 'x', phone: '1'.repeat(33) }, [{ field: 'phone', message: 'must be 1 to 32 characters long' }]],
  ];
  for (const [what, body, errors] of FIELD_ERRORS) {
    test(`${what}: 422 naming the field, nothing written`, async () => {
      await nothingWritten(async () => expectProblem(await postUnits(body), 422, INVALID, { errors }));
    });
  }

  test('numbers beyond double precision: parent_id 2^53, 2^53+1 and 1e400 are 422', async () => {
    await nothingWritten(async () => {
      let r = await postUnits('{"code":"IN-X","kind":"department","name":"x","parent_id":9007199254740993}');
      expectProblem(r, 422, INVALID, { errors: [{ field: 'parent_id', message: 'must be an integer' }] });
      r = await postUnits('{"code":"IN-X","kind":"department","name":"x","parent_id":9007199254740992}');
      expectProblem(r, 422, INVALID, { errors: [{ field: 'parent_id', message: 'must be an integer' }] });
      r = await postUnits('{"code":"IN-X","kind":"department","name":"x","parent_id":1e400}');
      expectProblem(r, 422, INVALID, { errors: [{ field: 'parent_id', message: 'must be an integer' }] });
      r = await postUnits('{"code":"IN-X","kind":"department","name":"x","parent_id":4294967297}');
      expectProblem(r, 422, 'parent_id names no unit of this district', { errors: [{ field: 'parent_id', message: 'no such unit' }] });
    });
  });

  test('a body that is not an object: 422', async () => {
    await nothingWritten(async () => {
      for (const b of ['[]', '"x"', '1', 'null']) {
        expectProblem(await postUnits(b), 422, INVALID, { errors: [{ field: '(body)', message: 'must be a JSON object' }] });
      }
    });
  });

  test('a parent of another district, or none: 422, nothing written', async () => {
    await nothingWritten(async () => {
      let r = await postUnits({ code: 'IN-X', kind: 'department', name: 'x', parent_id: fx.A.office });
      expectProblem(r, 422, 'parent_id names no unit of this district', { errors: [{ field: 'parent_id', message: 'no such unit' }] });
      r = await postUnits({ code: 'IN-X', kind: 'department', name: 'x', parent_code: 'NO-SUCH' });
      expectProblem(r, 422, 'parent_code names no unit of this district', { errors: [{ field: 'parent_code', message: 'no such unit' }] });
      r = await postUnits({ code: 'IN-X', kind: 'department', name: 'x', parent_code: fx.A.code + '-BGS' });
      expectProblem(r, 422, 'parent_code names no unit of this district', { errors: [{ field: 'parent_code', message: 'no such unit' }] });
    });
  });

  test('the same code may exist in another district', async () => {
    const r = await postUnits({ code: 'CD-BGS', kind: 'department', name: 'same code as the demo office' });
    assert.equal(r.status, 201, r.text);
  });
});

describe('Idempotency-Key on POST /v1/units', () => {
  const key = (k) => ({ headers: { 'idempotency-key': k } });

  test('a replay returns the stored answer with Idempotency-Replayed: true; nothing is created twice', async () => {
    const body = { code: 'IN-IDEM-1', kind: 'department', name: '幂等' };
    const first = await postUnits(body, key('k-1'));
    assert.equal(first.status, 201, first.text);
    assert.equal(first.headers['idempotency-replayed'], undefined);
    // the same body, spelled differently (key order, whitespace): the same fingerprint
    const again = await postUnits('{ "name":"幂等", "kind":"department", "code":"IN-IDEM-1" }', key('k-1'));
    assert.equal(again.status, 201, again.text);
    assert.equal(again.headers['idempotency-replayed'], 'true');
    assert.equal(again.headers.location, first.headers.location);
    assert.equal(again.headers.etag, first.headers.etag);
    assert.deepEqual(again.json, first.json);
    const all = await listAll(d, '/v1/units', tok);
    assert.equal(all.filter((u) => u.code === 'IN-IDEM-1').length, 1);
  });

  test('the same key with another body: 422 naming Idempotency-Key, nothing written', async () => {
    const first = await postUnits({ code: 'IN-IDEM-2', kind: 'department', name: 'a' }, key('k-2'));
    assert.equal(first.status, 201);
    await nothingWritten(async () => {
      const r = await postUnits({ code: 'IN-IDEM-3', kind: 'department', name: 'b' }, key('k-2'));
      expectProblem(r, 422, 'this Idempotency-Key was used with a different body', {
        errors: [{ field: 'Idempotency-Key', message: 'already used with a different body' }],
      });
    });
  });

  test('keys are scoped to the token subject', async () => {
    const body = { code: 'IN-IDEM-4', kind: 'department', name: 'c' };
    assert.equal((await postUnits(body, key('k-4'))).status, 201);
    const other = tokenFor(d, W, 'district', { sub: 'another-clerk' });
    const r = await postUnits(body, { ...key('k-4'), token: other });
    expectProblem(r, 409, 'a unit with code IN-IDEM-4 already exists');
    assert.equal(r.headers['idempotency-replayed'], undefined);
  });

  test('a refused write keeps no key: the same key works once the body is fixed', async () => {
    let r = await postUnits({ code: 'CD-ZRZY', kind: 'department', name: 'dup' }, key('k-5'));
    expectProblem(r, 409);
    r = await postUnits({ code: 'IN-IDEM-5', kind: 'department', name: 'fixed' }, key('k-5'));
    assert.equal(r.status, 201, r.text);
    assert.equal(r.headers['idempotency-replayed'], undefined);
  });

  test('keys of 1 and 255 printable characters are accepted; empty, 256 or non-printable are 422', async () => {
    assert.equal((await postUnits({ code: 'IN-IDEM-6', kind: 'department', name: 'x' }, key('~'))).status, 201);
    assert.equal((await postUnits({ code: 'IN-IDEM-7', kind: 'department', name: 'x' }, key('k'.repeat(255)))).status, 201);
    await nothingWritten(async () => {
      for (const k of ['', 'k'.repeat(256), 'x\x80y', Buffer.from('é').toString('latin1')]) {
        const r = await postUnits({ code: 'IN-IDEM-X', kind: 'department', name: 'x' }, key(k));
        expectProblem(r, 422, 'invalid Idempotency-Key header', {
          errors: [{ field: 'Idempotency-Key', message: 'must be 1 to 255 printable ASCII characters' }],
        });
      }
    });
  });
});

describe('list parameters', () => {
  let t;
  before(() => { t = tokenFor(d, fx.A, 'township'); });
  const CURSOR_ERR = [{ field: 'cursor', message: 'is not a cursor this API returned' }];
  const b64 = (s) => Buffer.from(s).toString('base64url');

  test('bad cursors: 400 naming cursor', async () => {
    const bad = ['garbage!', b64('hello'), b64('{"a":1}'), b64('[]'), b64('[[1]]'), b64('[1.5]'), b64('[null]'),
      b64('["a","b","c","d","e"]'), 'WyJ4Il0=', 'WyJ4Il1', '', 'A', 'x'.repeat(600), '%FF%FE', b64('["x"]x')];
    for (const p of ['/v1/units', '/v1/domains', '/v1/grids']) {
      for (const c of bad) {
        const r = await get(d, `${p}?cursor=${encodeURIComponent(c).replace(/%25/g, '%')}`, { token: t });
        expectProblem(r, 400, c === '%FF%FE' ? 'malformed query parameter' : 'malformed cursor', {
          errors: c === '%FF%FE' ? [{ field: 'cursor', message: 'is not valid UTF-8 text' }] : CURSOR_ERR,
        });
      }
    }
  });

  test('a well-formed cursor works ("WyJ4Il0" = ["x"]: after every code)', async () => {
    assert.equal(b64('["x"]'), 'WyJ4Il0');
    for (const p of ['/v1/units', '/v1/domains', '/v1/grids']) {
      const r = await get(d, `${p}?cursor=WyJ4Il0`, { token: t });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { data: [], next_cursor: null });
    }
    const r = await get(d, `/v1/units?cursor=${b64('["TS-A"]')}`, { token: t });
    assert.deepEqual(r.json.data.map((u) => u.code), ['TS-BCS', 'TS-BHC', 'TS-DQD', 'TS-HS', 'TS-NCS', 'TS-NHC', 'TS-TJ', 'TS-XQD']);
  });

  test('bad limits: 422 naming limit', async () => {
    for (const p of ['/v1/units', '/v1/domains', '/v1/grids']) {
      for (const l of ['0', '201', 'abc', '', '-1', '1.5', '+5', '%205', '5x', '99999999999999999999', '0x10']) {
        const r = await get(d, `${p}?limit=${l}`, { token: t });
        expectProblem(r, 422, 'invalid limit', { errors: [{ field: 'limit', message: 'must be an integer from 1 to 200' }] });
      }
    }
  });

  test('limit 1 and 200 are accepted', async () => {
    let r = await get(d, '/v1/units?limit=1', { token: t });
    assert.equal(r.json.data.length, 1);
    assert.equal(typeof r.json.next_cursor, 'string');
    r = await get(d, '/v1/grids?limit=200', { token: t });
    assert.equal(r.json.data.length, 116);
    assert.equal(r.json.next_cursor, null);
  });

  test('unknown or repeated query parameters: 422 naming them', async () => {
    let r = await get(d, '/v1/units?foo=1', { token: t });
    expectProblem(r, 422, 'unknown query parameter', { errors: [{ field: 'foo', message: 'is not a known query parameter' }] });
    r = await get(d, '/v1/domains?kind=township', { token: t });
    expectProblem(r, 422, 'unknown query parameter', { errors: [{ field: 'kind', message: 'is not a known query parameter' }] });
    r = await get(d, '/v1/units?Limit=5', { token: t });
    expectProblem(r, 422, 'unknown query parameter', { errors: [{ field: 'Limit', message: 'is not a known query parameter' }] });
    r = await get(d, '/v1/units?limit=1&limit=2', { token: t });
    expectProblem(r, 422, 'repeated query parameter', { errors: [{ field: 'limit', message: 'is given more than once' }] });
  });

  test('filters: kind=foo, level=foo, parent_id=-1 are 422 naming the field', async () => {
    const KIND = [{ field: 'kind', message: 'must be one of: township department district_office' }];
    for (const k of ['foo', 'Township', '', 'township%00']) {
      expectProblem(await get(d, `/v1/units?kind=${k}`, { token: t }), 422, k === 'township%00' ? 'malformed query parameter' : 'invalid filter', {
        errors: k === 'township%00' ? [{ field: 'kind', message: 'is not valid UTF-8 text' }] : KIND,
      });
    }
    expectProblem(await get(d, '/v1/grids?level=foo', { token: t }), 422, 'invalid filter', {
      errors: [{ field: 'level', message: 'must be one of: township village grid' }],
    });
    for (const v of ['-1', '0', 'abc', '1.5', '', '01', '1e3', '9999999999999999']) {
      expectProblem(await get(d, `/v1/grids?parent_id=${v}`, { token: t }), 422, 'invalid filter', {
        errors: [{ field: 'parent_id', message: 'must be a positive integer' }],
      });
    }
  });

  test('a filter value that names nothing is an empty page, not an error', async () => {
    const r = await get(d, '/v1/grids?parent_id=999999999', { token: t });
    assert.deepEqual(r.json, { data: [], next_cursor: null });
  });
});
