// Shared set-up of the calls and dispatch tests (93_calls … 98_concurrency; DESIGN §5 "Calls
// and dispatch"): a district of the calling file's own with the demo list imported, another
// district, the tokens every role the tests act as, the items by code; and the small request
// helpers and assertions each file used to copy.
//
// Use:
//   const w = {};                                  // filled in by before()
//   const { create, created, act, ... } = callsApi(w);
//   before(async () => {
//     d = await startDaemon();
//     Object.assign(w, await callsWorld(d, 'XY'));
//     ({ C, B, tk, items } = w);
//   });
// callsApi(w) reads w.d and w.tk when a helper is called, so the helpers can be made at the
// top of a file, before the daemon runs.
import assert from 'node:assert/strict';

import { expectProblem, get, listAll, post, psql, scratchDistrict, tokenFor } from './lib.mjs';
import { listDistrict } from './list_helpers.mjs';

export const MIN = 60 * 1000;
export const HOUR = 60 * MIN;

// The world of a calls test file on daemon d:
//   d;
//   C: a district of its own (demo units and grids, the demo list imported, effective
//      2026-01-01; see list_helpers' listDistrict), code T<tag>…;
//   B: another district (demo units, no list), code T<tag>B…; null with other: false;
//   tk: tokens by name —
//     township (TS-NCS), township2 (TS-BCS), department (CD-ZRZY), zf, zj, hy (the departments
//     CD-ZF, CD-ZJ, CD-HY), district (the office), integration (system 89000), integration2
//     (system 89001), and in B (unless other: false) bDistrict, bIntegration (89000),
//     bTownship (TS-NCS);
//   items: Map item code -> id of C's list.
export async function callsWorld(d, tag, { other = true } = {}) {
  const C = await listDistrict(d, tag, (w) => tokenFor(d, w, 'district'));
  const B = other ? scratchDistrict(`${tag}B`) : null;
  const dept = (code) => tokenFor(d, C, 'department', { unit_id: C.unit(code), sub: `test:department:${code}` });
  const tk = {
    township: tokenFor(d, C, 'township'), // TS-NCS
    township2: tokenFor(d, C, 'township', { unit_id: C.unit('TS-BCS'), sub: 'test:township:bcs' }),
    department: tokenFor(d, C, 'department'), // CD-ZRZY
    zf: dept('CD-ZF'),
    zj: dept('CD-ZJ'),
    hy: dept('CD-HY'),
    district: tokenFor(d, C, 'district'),
    integration: tokenFor(d, C, 'integration'), // system 89000
    integration2: tokenFor(d, C, 'integration', { system: '89001', sub: 'test:integration:89001' }),
  };
  if (B) {
    tk.bDistrict = tokenFor(d, B, 'district');
    tk.bIntegration = tokenFor(d, B, 'integration');
    tk.bTownship = tokenFor(d, B, 'township');
  }
  const items = new Map((await listAll(d, '/v1/items', tk.district)).map((x) => [x.code, x.id]));
  assert.ok(items.get('ZRZY-01') && items.get('STHJ-04'), 'the demo list was imported');
  return { d, C, B, tk, items };
}

// ---- assertions and times ---------------------------------------------------------------------

// The fields a 422 names, in order.
export const fields = (res) => res.json.errors.map((e) => e.field);

// A 422 naming exactly this field.
export function expect422(res, field) {
  expectProblem(res, 422);
  assert.deepEqual(fields(res), [field], res.text);
}

// A 409 with this current_status.
export function expect409(res, current) {
  expectProblem(res, 409);
  assert.equal(res.json.current_status, current, res.text);
}

// An RFC 3339 time at +08:00 (as the API writes them) -> ms since the epoch.
export const ms = (ts) => {
  assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/, 'an RFC 3339 time at +08:00');
  return Date.parse(ts);
};

// An RFC 3339 time at +08:00, whole seconds, t ms since the epoch.
export function at8(t) {
  return `${new Date(Math.floor(t / 1000) * 1000 + 8 * HOUR).toISOString().slice(0, 19)}+08:00`;
}

// ---- counts read as the owner ------------------------------------------------------------------

export const ordersOf = (callId) => Number(psql(`select count(*) from huying.orders where call_id = ${Number(callId)}`));
export const callsIn = (districtId) => Number(psql(`select count(*) from huying.calls where district_id = ${Number(districtId)}`));
// How many events of type the subject has.
export const eventCount = (type, subjectType, id) => Number(psql(
  `select count(*) from huying.events where subject_type = '${subjectType}' and subject_id = ${Number(id)} and type = '${type}'`));

// ---- requests ---------------------------------------------------------------------------------

// The request helpers of a world w ({d, tk, C}, read at call time). `who` names a token of
// w.tk; opts go to lib's request (headers, …).
export function callsApi(w) {
  const tok = (who) => {
    const t = w.tk[who];
    assert.ok(t, `no token named ${who}`);
    return t;
  };
  const create = (who, body, opts = {}) => post(w.d, '/v1/calls', body, { token: tok(who), ...opts });
  // POST /v1/calls that must answer 201; returns the call.
  const created = async (who, body, opts = {}) => {
    const r = await create(who, body, opts);
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  const api = {
    create,
    created,
    call: (id, who = 'district') => get(w.d, `/v1/calls/${id}`, { token: tok(who) }),
    order: (id, who = 'district') => get(w.d, `/v1/orders/${id}`, { token: tok(who) }),
    events: (who, id, query = '') => get(w.d, `/v1/calls/${id}/events${query}`, { token: tok(who) }),
    act: (who, id, action, body, opts = {}) => post(w.d, `/v1/orders/${id}/${action}`, body, { token: tok(who), ...opts }),
    dispatch: (who, id, body, opts = {}) => post(w.d, `/v1/calls/${id}/dispatch`, body, { token: tok(who), ...opts }),
    confirm: (who, id, body, opts = {}) => post(w.d, `/v1/calls/${id}/confirm`, body, { token: tok(who), ...opts }),
    comment: (who, id, body, opts = {}) => post(w.d, `/v1/calls/${id}/comments`, body, { token: tok(who), ...opts }),
    plan: (who, id, body, opts = {}) => post(w.d, `/v1/orders/${id}/plan`, body, { token: tok(who), ...opts }),
    urgency: (who, id, body, opts = {}) => post(w.d, `/v1/calls/${id}/urgency`, body, { token: tok(who), ...opts }),
    cancel: (who, id, body, opts = {}) => post(w.d, `/v1/orders/${id}/cancel`, body, { token: tok(who), ...opts }),
    // A township's ZRZY-01 call, dispatched at once to CD-ZRZY (lead), CD-ZF and CD-ZJ:
    // {call, lead, zf, zj} (order ids).
    async dispatchedCall(title, who = 'township') {
      const c = await created(who, { title, item_code: 'ZRZY-01' });
      assert.equal(c.status, 'dispatched', JSON.stringify(c));
      const lead = c.orders.find((x) => x.role === 'lead');
      assert.equal(lead.department_id, w.C.unit('CD-ZRZY'));
      const by = (code) => {
        const o = c.orders.find((x) => x.department_id === w.C.unit(code));
        assert.ok(o, `an order to ${code}: ${JSON.stringify(c.orders)}`);
        return o.id;
      };
      return { call: c, lead: lead.id, zf: by('CD-ZF'), zj: by('CD-ZJ') };
    },
  };
  return api;
}
