// JWT verification (DESIGN §4, DEPENDENCIES.md libjwt 1.10.2): pinned algorithm, claims
// checked by type, skew, iss/aud, the unit's kind against the role, and the start-up checks
// of the key. Every refusal is a 401 problem with WWW-Authenticate and the daemon's exact
// sentence (server/auth.c, server/http.c authenticate_or_reply, schema auth.begin).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import {
  claimsFor, expect401, fixtures, get, mint, now, ROLES, request, startDaemon,
  startDaemonExpectFailure, tmpFile, WWW_NONE,
} from './lib.mjs';

const MALFORMED = 'the token is malformed or its signature does not verify';
const WRONG_ALG = 'the token is not signed with the accepted algorithm';
const PROBE = '/v1/units?limit=1';

let fx;
before(() => { fx = fixtures(); });

describe('HS256 daemon', () => {
  let d;
  before(async () => { d = await startDaemon(); });
  after(async () => { await d.stop(); });

  const ok = async (token) => {
    const r = await get(d, PROBE, { token });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.length, 1);
    return r;
  };
  const refused = async (token, detail) => expect401(await get(d, PROBE, { token }), detail);
  const signed = (claims, opts = {}) => mint(claims, { key: d.secret, ...opts });
  const without = (role, ...keys) => {
    const c = claimsFor(fx.A, role);
    for (const k of keys) delete c[k];
    return c;
  };

  test('a valid token of each role is accepted', async () => {
    for (const role of ROLES) await ok(signed(claimsFor(fx.A, role)));
  });

  test('the scheme name is case-insensitive ("bearer")', async () => {
    const r = await get(d, PROBE, { headers: { authorization: `bearer ${signed(claimsFor(fx.A, 'district'))}` } });
    assert.equal(r.status, 200, r.text);
  });

  test('no Authorization header: 401 without error=', async () => {
    expect401(await get(d, PROBE), 'a bearer token is required', { www: WWW_NONE });
  });

  test('expired beyond the 30 s skew: 401', async () => {
    await refused(signed(claimsFor(fx.A, 'district', { exp: now() - 40, iat: now() - 3600 })), 'the token has expired');
  });

  test('expired within the skew: accepted', async () => {
    await ok(signed(claimsFor(fx.A, 'district', { exp: now() - 10, iat: now() - 3600 })));
  });

  test('nbf in the future (beyond the skew): 401; within the skew: accepted', async () => {
    await refused(signed(claimsFor(fx.A, 'district', { nbf: now() + 120 })), 'the token is not valid yet (nbf)');
    await ok(signed(claimsFor(fx.A, 'district', { nbf: now() + 10 })));
  });

  test('bad signature: 401', async () => {
    await refused(mint(claimsFor(fx.A, 'district'), { key: 'another secret that is long enough 1234567890' }), MALFORMED);
    // a township token whose payload was swapped for a district one, signature kept
    const good = signed(claimsFor(fx.A, 'township')).split('.');
    const forged = mint(claimsFor(fx.A, 'district'), { key: d.secret }).split('.');
    await refused(`${good[0]}.${forged[1]}.${good[2]}`, MALFORMED);
    // signature cut off
    await refused(`${good[0]}.${good[1]}.`, MALFORMED);
  });

  test('alg none (unsigned, or with a signature) is refused', async () => {
    await refused(mint(claimsFor(fx.A, 'district'), { alg: 'none', sign: 'none' }), MALFORMED);
    await refused(mint(claimsFor(fx.A, 'district'), { alg: 'none', sign: 'HS256', key: d.secret }), MALFORMED);
    await refused(mint(claimsFor(fx.A, 'district'), { alg: 'NONE', sign: 'none' }), MALFORMED);
  });

  test('alg "hs256" (lower case) is refused although libjwt matches it case-insensitively', async () => {
    await refused(signed(claimsFor(fx.A, 'district'), { alg: 'hs256', sign: 'HS256' }), WRONG_ALG);
  });

  test('another HMAC algorithm (HS512), correctly signed with the secret, is refused', async () => {
    await refused(signed(claimsFor(fx.A, 'district'), { alg: 'HS512' }), WRONG_ALG);
  });

  test('an RS256 token sent to an HS256 daemon is refused', async () => {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    await refused(mint(claimsFor(fx.A, 'district'), { alg: 'RS256', key: privateKey }), MALFORMED);
  });

  test('missing required claims: 401 each', async () => {
    await refused(signed(without('district', 'exp')), 'the token has no exp claim');
    await refused(signed(without('district', 'sub')), "the token's sub claim is missing or not a string of 1 to 255 bytes");
    await refused(signed(without('district', 'role')), "the token's role claim is missing or not a string");
    await refused(signed(without('district', 'unit_id')), "the token's unit_id claim is missing or not a positive integer");
    await refused(signed(without('district', 'district')), "the token's district claim is missing or not a positive integer");
    await refused(signed(without('integration', 'system')), 'an integration token needs a system claim');
  });

  test('claims of the wrong type: 401 each', async () => {
    const c = (extra) => signed(claimsFor(fx.A, 'district', extra));
    await refused(c({ exp: String(now() + 3600) }), "the token's exp claim is not an integer");
    await refused(c({ exp: '9999999999' }), "the token's exp claim is not an integer");
    await refused(c({ exp: now() + 3600.5 }), "the token's exp claim is not an integer");
    await refused(c({ exp: null }), "the token's exp claim is not an integer");
    await refused(c({ nbf: String(now()) }), "the token's nbf claim is not an integer");
    await refused(c({ iat: now() + 0.25 }), "the token's iat claim is not an integer");
    await refused(c({ role: 'admin' }), "the token's role is not one of township, department, district, integration");
    await refused(c({ role: 'District' }), "the token's role is not one of township, department, district, integration");
    await refused(c({ role: ['district'] }), "the token's role claim is missing or not a string");
    await refused(c({ unit_id: String(fx.A.office) }), "the token's unit_id claim is missing or not a positive integer");
    await refused(c({ unit_id: fx.A.office + 0.5 }), "the token's unit_id claim is missing or not a positive integer");
    await refused(c({ unit_id: 0 }), "the token's unit_id claim is missing or not a positive integer");
    await refused(c({ district: String(fx.A.id) }), "the token's district claim is missing or not a positive integer");
    await refused(c({ sub: '' }), "the token's sub claim is missing or not a string of 1 to 255 bytes");
    await refused(c({ sub: 7 }), "the token's sub claim is missing or not a string of 1 to 255 bytes");
    await refused(c({ sub: 'x'.repeat(256) }), "the token's sub claim is missing or not a string of 1 to 255 bytes");
    await refused(c({ system: 89000 }), "the token's system claim is not a string of 1 to 64 bytes");
    await refused(c({ scope: ['calls:read'] }), "the token's scope claim is not a string");
  });

  test('a claim named in another case ("Role") does not stand for "role"', async () => {
    const c = without('district', 'role');
    c.Role = 'district';
    await refused(signed(c), "the token's role claim is missing or not a string");
  });

  test('claims that are not a JSON object are refused', async () => {
    await refused(mint(null, { key: d.secret, payload: '[1,2]' }), "the token's claims are not a JSON object");
  });

  test('garbage, empty, Basic and 100 KB tokens: 401', async () => {
    await refused('garbage', MALFORMED);
    await refused('a.b.c', MALFORMED);
    await refused('not a token', MALFORMED);
    expect401(await get(d, PROBE, { headers: { authorization: 'Bearer ' } }), 'the bearer token is empty');
    expect401(await get(d, PROBE, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
      'the Authorization header must be: Bearer <token>');
    expect401(await get(d, PROBE, { headers: { authorization: signed(claimsFor(fx.A, 'district')) } }),
      'the Authorization header must be: Bearer <token>');
    await refused('x'.repeat(100 * 1024), 'the bearer token is too long');
    // a well-formed, validly signed token that is merely too big
    await refused(signed(claimsFor(fx.A, 'district', { name: 'n'.repeat(70 * 1024) })), 'the bearer token is too long');
  });

  test('a token whose unit is of another kind than its role: 401', async () => {
    const dept = fx.A.unit('CD-ZRZY');
    const town = fx.A.unit('TS-NCS');
    await refused(signed(claimsFor(fx.A, 'township', { unit_id: dept })),
      "the token's unit is a department, which the role township may not use");
    await refused(signed(claimsFor(fx.A, 'department', { unit_id: town })),
      "the token's unit is a township, which the role department may not use");
    await refused(signed(claimsFor(fx.A, 'district', { unit_id: town })),
      "the token's unit is a township, which the role district may not use");
    await refused(signed(claimsFor(fx.A, 'integration', { unit_id: dept })),
      "the token's unit is a department, which the role integration may not use");
  });

  test("a unit of district B with district A's claim: 401", async () => {
    await refused(signed(claimsFor(fx.A, 'district', { unit_id: fx.B.office })),
      "the token's unit_id is not a unit of its district");
    await refused(signed(claimsFor(fx.A, 'township', { unit_id: fx.B.unit('TS-NCS') })),
      "the token's unit_id is not a unit of its district");
    await refused(signed(claimsFor(fx.A, 'district', { unit_id: 987654321 })),
      "the token's unit_id is not a unit of its district");
  });

  test('the unit check also runs where the answer needs no SQL (a 403, a 422)', async () => {
    // POST /v1/units is district-only: a township token of the wrong unit kind is 401, not 403
    const bad = signed(claimsFor(fx.A, 'township', { unit_id: fx.A.unit('CD-ZRZY') }));
    const r = await request(d, 'POST', '/v1/units', { token: bad, body: { code: 'X', kind: 'department', name: 'x' } });
    expect401(r, "the token's unit is a department, which the role township may not use");
    const r2 = await get(d, '/v1/units?limit=0', { token: bad });
    expect401(r2, "the token's unit is a department, which the role township may not use");
  });

  test('iss and aud are not required when they are not configured', async () => {
    await ok(signed(claimsFor(fx.A, 'district', { iss: 'anyone', aud: 'anything' })));
  });
});

describe('HUYING_JWT_ISS and HUYING_JWT_AUD configured', () => {
  let d;
  before(async () => { d = await startDaemon({ HUYING_JWT_ISS: 'https://idp.example', HUYING_JWT_AUD: 'huying-api' }); });
  after(async () => { await d.stop(); });
  const tok = (extra) => mint(claimsFor(fx.A, 'district', { iss: 'https://idp.example', aud: 'huying-api', ...extra }), { key: d.secret });

  test('the right iss and aud (string, or an array containing it) are accepted', async () => {
    for (const t of [tok({}), tok({ aud: ['other', 'huying-api'] }), tok({ aud: ['huying-api'] })]) {
      const r = await get(d, PROBE, { token: t });
      assert.equal(r.status, 200, r.text);
    }
  });

  test('a wrong or missing iss is refused', async () => {
    for (const iss of ['https://evil.example', 'https://idp.example/', undefined, 7]) {
      expect401(await get(d, PROBE, { token: tok({ iss }) }), "the token's issuer (iss) is not accepted");
    }
  });

  test('a wrong or missing aud is refused', async () => {
    for (const aud of ['other', ['other', 'more'], [], undefined, 7, [7]]) {
      expect401(await get(d, PROBE, { token: tok({ aud }) }), "the token's audience (aud) is not accepted");
    }
  });
});

describe('RS256 daemon', () => {
  let d;
  let keys;
  let pemFile;
  before(async () => {
    keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    pemFile = tmpFile('rsa.pub.pem', keys.publicKey.export({ type: 'spki', format: 'pem' }));
    d = await startDaemon({ HUYING_JWT_ALG: 'RS256', HUYING_JWT_PUBLIC_KEY_FILE: pemFile, HUYING_JWT_SECRET: null });
  });
  after(async () => { await d.stop(); });

  test('a valid RS256 token is accepted', async () => {
    const r = await get(d, PROBE, { token: mint(claimsFor(fx.A, 'township'), { alg: 'RS256', key: keys.privateKey }) });
    assert.equal(r.status, 200, r.text);
  });

  test('an RS256 token signed by another key is refused', async () => {
    const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect401(await get(d, PROBE, { token: mint(claimsFor(fx.A, 'township'), { alg: 'RS256', key: other.privateKey }) }), MALFORMED);
  });

  test('algorithm confusion: HS256 signed with the public PEM as the secret is refused', async () => {
    const pem = fs.readFileSync(pemFile);
    expect401(await get(d, PROBE, { token: mint(claimsFor(fx.A, 'district'), { alg: 'HS256', key: pem }) }), WRONG_ALG);
  });

  test('alg none is refused', async () => {
    expect401(await get(d, PROBE, { token: mint(claimsFor(fx.A, 'district'), { alg: 'none', sign: 'none' }) }), MALFORMED);
  });

  test('"rs256" in lower case is refused', async () => {
    expect401(await get(d, PROBE, {
      token: mint(claimsFor(fx.A, 'district'), { alg: 'rs256', sign: 'RS256', key: keys.privateKey }),
    }), WRONG_ALG);
  });
});

describe('ES256 daemon', () => {
  let d;
  let keys;
  let pemFile;
  before(async () => {
    keys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    pemFile = tmpFile('ec.pub.pem', keys.publicKey.export({ type: 'spki', format: 'pem' }));
    d = await startDaemon({ HUYING_JWT_ALG: 'ES256', HUYING_JWT_PUBLIC_KEY_FILE: pemFile, HUYING_JWT_SECRET: null });
  });
  after(async () => { await d.stop(); });

  test('a valid ES256 token is accepted', async () => {
    const r = await get(d, PROBE, { token: mint(claimsFor(fx.A, 'department'), { alg: 'ES256', key: keys.privateKey }) });
    assert.equal(r.status, 200, r.text);
  });

  test('algorithm confusion: HS256 signed with the EC public PEM is refused', async () => {
    const pem = fs.readFileSync(pemFile);
    expect401(await get(d, PROBE, { token: mint(claimsFor(fx.A, 'district'), { alg: 'HS256', key: pem }) }), WRONG_ALG);
  });

  test('an RS256 token is refused by an ES256 daemon', async () => {
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const r = await get(d, PROBE, { token: mint(claimsFor(fx.A, 'district'), { alg: 'RS256', key: rsa.privateKey }) });
    assert.equal(r.status, 401, r.text);
    assert.ok([MALFORMED, WRONG_ALG].includes(r.json.detail), r.json.detail);
  });
});

describe('start-up checks of the key', () => {
  const SHORT = 'HUYING_JWT_SECRET must be at least 32 bytes for HS256';

  test('a 31-byte secret: the daemon exits non-zero with a message', async () => {
    const r = await startDaemonExpectFailure({ HUYING_JWT_SECRET: 'x'.repeat(31) });
    assert.equal(r.running, false, 'the daemon kept running with a 31-byte secret');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(SHORT));
  });

  test('an empty or missing secret: the daemon exits non-zero', async () => {
    for (const secret of ['', null]) {
      const r = await startDaemonExpectFailure({ HUYING_JWT_SECRET: secret });
      assert.equal(r.running, false, `the daemon kept running with secret ${JSON.stringify(secret)}`);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(SHORT));
    }
  });

  test('a 32-byte secret is enough', async () => {
    const d = await startDaemon({ HUYING_JWT_SECRET: 'k'.repeat(32) });
    const r = await get(d, PROBE, { token: mint(claimsFor(fixtures().A, 'district'), { key: 'k'.repeat(32) }) });
    assert.equal(r.status, 200, r.text);
    await d.stop();
  });

  test('RS256 without a public key file, or with a file that is not a PEM public key: exits non-zero', async () => {
    let r = await startDaemonExpectFailure({ HUYING_JWT_ALG: 'RS256', HUYING_JWT_SECRET: null });
    assert.equal(r.running, false);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /RS256 needs HUYING_JWT_PUBLIC_KEY_FILE/);
    r = await startDaemonExpectFailure({ HUYING_JWT_ALG: 'RS256', HUYING_JWT_PUBLIC_KEY_FILE: tmpFile('x.pem', 'not a key\n') });
    assert.equal(r.running, false);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /is not a PEM public key/);
  });

  test('an unknown HUYING_JWT_ALG (none) is refused at start', async () => {
    const r = await startDaemonExpectFailure({ HUYING_JWT_ALG: 'none' });
    assert.equal(r.running, false);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /HUYING_JWT_ALG=none: expected HS256, RS256 or ES256/);
  });
});
