// Department scores (三率 assessment) computed by hand (issue 6, DESIGN §5 "Satisfaction and
// scores"; the definitions: schema/0008_scores.sql's header and the `scores` tag of
// openapi.yaml). A small fixed data set is made through the API in a district of this file's
// own; where a case needs an instant in the past (a deadline passed, an acceptance late), the
// owner moves it with SQL after the fact — the roll-up follows every change of status,
// accepted_at, resolved_at, accept_by, resolve_by, overdue and reworked_by. Two orders are moved
// to earlier months: while an order contributes nothing (cancelled for a moment) its created_at
// changes, then its status comes back, so that its facts are written at its new day — as if it
// had been dispatched then. Every expected figure below is a literal, with the arithmetic in a
// comment; the composite is 100 × (w_r × response + w_s × resolution + w_t × satisfaction) /
// (the weights of the rates that are not null) − penalty × notices, rounded to 2 decimals; the
// rank is dense_rank() over (composite desc nulls last, satisfaction_rate desc nulls last).
//
// The data set (one order per call unless said; NCS = TS-NCS (township), BCS = TS-BCS
// (township2); "on time" = at or before the deadline; P = [first day of last month, tomorrow]):
//
//   CD-ZRZY (the department the explain lists are checked for), item ZRZY-02 unless said
//     A1  NCS  accepted and resolved exactly at the deadlines (on time); rated 5/5
//     A2  NCS  accepted an hour late, resolved on time; rated 4/3
//     A3  BCS  no item; resolved at once (accepted on time by resolving), an hour late; overdue; rated 3/4
//     A4  NCS  open, not yet due                                   -> counts in orders only
//     A5  NCS  open, accept_by an hour ago; a supervision with a reminder (free), a notice and a
//              rectification order (2 notices)
//     A6  BCS  accepted on time, open, resolve_by an hour ago; overdue
//     A7  NCS  a supervision with a notice; overdue; return upheld -> returned only (its notice counts)
//     A8  NCS  return overruled, then resolved on time             -> counts as any order
//     A9  NCS  extension approved (+3 days); resolved an hour after the original deadline -> on time
//     A10 NCS  resolved on time, rated 5/4, then the call reopened -> resolution not on time
//     A11 NCS  the rework order of A10, resolved on time; rated 4/4
//     A12 NCS  a supervision with a reminder; cancelled           -> counts in nothing
//     A13 NCS  dispatched at 00:30 on the first day of last month (Asia/Shanghai); on time; rated 5/5
//     A14 NCS  dispatched one second before last month began; accepted on time, resolved late
//   CD-ZF  B1 NCS STHJ-04 (triage, dispatched by the office) on time, rated 4/4; B2 NCS STHJ-04
//          resolved late; B3 BCS no item, resolved late
//   CD-ZJ  J1 NCS CXJS-02 on time, rated 5/5; J2 BCS CXJS-02 on time, rated 2/5
//   CD-HY  H1 NCS no item, accepted on time, resolved late, rated 4/5
//   CD-SJ  S1 BCS SCJG-01 accepted late, resolved on time, rated 5/4
//   CD-WJ  F1 NCS WSJK-01 on time; F2 NCS WSJK-01 resolved late; no ratings
//   CD-YJ  G1 BCS YJGL-01 open, accept_by an hour ago, a rectification order; G2 BCS YJGL-01
//          accepted on time, open, not yet due for resolution
//   CD-JT  T1 NCS no item, open, not yet due
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { expectProblem, get, post, psql, request, startDaemon, tokenFor } from './lib.mjs';
import { at8, callsApi, callsWorld, expect422, HOUR, ms } from './calls_helpers.mjs';
import { addDays, byCode, todayShanghai } from './list_helpers.mjs';

const w = {};
const api = callsApi(w);
const { act, created } = api;
let d;
let C;

const DAY = 24 * HOUR;
const HEADER = 'rank,id,code,name,calls,orders,accept_counted,accepted_on_time,accepted_on_time_rate,resolve_counted,'
  + 'resolved_on_time,resolved_on_time_rate,ratings,satisfied,satisfaction_rate,speed_avg,effectiveness_avg,overdue,'
  + 'returned,notices,composite';
const DEFAULTS = { weight_response: 0.3, weight_resolution: 0.3, weight_satisfaction: 0.4, penalty: 2 };

// ---- dates (Asia/Shanghai), fixed when the file starts ------------------------------------------
const today = todayShanghai();
const thisMonth = `${today.slice(0, 7)}-01`;
const lastMonth = (() => {
  const [y, m] = today.split('-').map(Number);
  return m === 1 ? `${y - 1}-12-01` : `${y}-${String(m - 1).padStart(2, '0')}-01`;
})();
const nextMonthOf = (first) => addDays(`${first.slice(0, 7)}-28`, 4).slice(0, 7) + '-01';
const monthEnd = (first) => addDays(nextMonthOf(first), -1);
// The period of the checks: last month and this one, to tomorrow (an order made just after
// midnight still falls in it).
const P = { from: lastMonth, to: addDays(today, 1) };
const PQ = `from=${P.from}&to=${P.to}`;

// ---- the figures ----------------------------------------------------------------------------------
// The figures of a row, in the order of the CSV columns.
const F = (orders, acceptCounted, acceptedOnTime, acceptedRate, resolveCounted, resolvedOnTime, resolvedRate,
  ratings, satisfied, satisfactionRate, speedAvg, effectivenessAvg, overdue, returned, notices, composite) => ({
  orders, accept_counted: acceptCounted, accepted_on_time: acceptedOnTime, accepted_on_time_rate: acceptedRate,
  resolve_counted: resolveCounted, resolved_on_time: resolvedOnTime, resolved_on_time_rate: resolvedRate, ratings, satisfied,
  satisfaction_rate: satisfactionRate, speed_avg: speedAvg, effectiveness_avg: effectivenessAvg, overdue, returned, notices,
  composite,
});
const ZERO = F(0, 0, 0, null, 0, 0, null, 0, 0, null, null, null, 0, 0, 0, null);

// Departments over P, default weights (0.3, 0.3, 0.4, penalty 2).
const DEPT_P = {
  // orders A1 A2 A3 A4 A5 A6 A8 A9 A10 A11 A13 = 11 (A7 returned, A12 cancelled, A14 before P);
  // accept counted: all but A4 = 10; on time: not A2 (late), not A5 (open past accept_by) = 8 -> 0.8;
  // resolve counted: A1 A2 A3 A6 A8 A9 A10 A11 A13 = 9; on time: A1 A2 A8 A9 A11 A13 = 6 -> 0.6667;
  // ratings A1 5/5 A2 4/3 A3 3/4 A10 5/4 A11 4/4 A13 5/5 = 6, satisfied A1 A10 A11 A13 = 4 -> 0.6667;
  // speed 26/6 = 4.33, effectiveness 25/6 = 4.17; overdue A3 A6 = 2 (A7's flag does not count);
  // returned A7 = 1; notices 2 (A5) + 1 (A7) = 3 (reminders on A5, A12 free);
  // composite 100 × (0.3 × 8/10 + 0.3 × 6/9 + 0.4 × 4/6) − 2 × 3 = 100 × 0.706667 − 6 = 64.67
  'CD-ZRZY': F(11, 10, 8, 0.8, 9, 6, 0.6667, 6, 4, 0.6667, 4.33, 4.17, 2, 1, 3, 64.67),
  // B1 B2 B3, all accepted on time 3/3; resolved on time B1 only 1/3; one rating 4/4 satisfied;
  // 100 × (0.3 × 1 + 0.3 × 1/3 + 0.4 × 1) = 30 + 10 + 40 = 80
  'CD-ZF': F(3, 3, 3, 1, 3, 1, 0.3333, 1, 1, 1, 4, 4, 0, 0, 0, 80),
  // J1 J2 on time 2/2, 2/2; ratings 5/5 (satisfied), 2/5 (not) -> 0.5, speed 7/2 = 3.5, effectiveness 5;
  // 100 × (0.3 + 0.3 + 0.4 × 0.5) = 80: the same composite as CD-ZF, a lower satisfaction rate
  'CD-ZJ': F(2, 2, 2, 1, 2, 2, 1, 2, 1, 0.5, 3.5, 5, 0, 0, 0, 80),
  // H1 accepted on time 1/1, resolved late 0/1, rated 4/5: 100 × (0.3 × 1 + 0.3 × 0 + 0.4 × 1) = 70
  'CD-HY': F(1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 4, 5, 0, 0, 0, 70),
  // S1 accepted late 0/1, resolved on time 1/1, rated 5/4: 100 × (0 + 0.3 + 0.4) = 70: a full tie with CD-HY
  'CD-SJ': F(1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 5, 4, 0, 0, 0, 70),
  // F1 F2 accepted on time 2/2, resolved on time 1/2, no ratings: satisfaction null, its weight
  // shared out: 100 × (0.3 × 1 + 0.3 × 0.5) / (0.3 + 0.3) = 45 / 0.6 = 75
  'CD-WJ': F(2, 2, 2, 1, 2, 1, 0.5, 0, 0, null, null, null, 0, 0, 0, 75),
  // G1 open past accept_by (not on time), G2 accepted on time: 1/2; nothing resolved or due: the
  // resolution and satisfaction rates null; 100 × (0.3 × 0.5) / 0.3 − 2 × 1 = 50 − 2 = 48
  'CD-YJ': F(2, 2, 1, 0.5, 0, 0, null, 0, 0, null, null, null, 0, 0, 1, 48),
  // T1 open, not yet due: counted in orders, in no rate: composite null
  'CD-JT': F(1, 0, 0, null, 0, 0, null, 0, 0, null, null, null, 0, 0, 0, null),
};
// 80 (satisfaction 1) > 80 (0.5) > 75 > 70 = 70 (both 1) > 64.67 > 48 > null (every other department)
const DEPT_P_RANK = { 'CD-ZF': 1, 'CD-ZJ': 2, 'CD-WJ': 3, 'CD-HY': 4, 'CD-SJ': 4, 'CD-ZRZY': 5, 'CD-YJ': 6, null: 7 };

// CD-ZRZY in this month alone (the default period, and the series' second month): A13 out.
// orders 10; accept counted 9, on time 7 -> 0.7778; resolve counted 8, on time A1 A2 A8 A9 A11 = 5
// -> 0.625; ratings 5, satisfied 3 -> 0.6, speed 21/5 = 4.2, effectiveness 20/5 = 4;
// 100 × (0.3 × 7/9 + 0.3 × 5/8 + 0.4 × 3/5) − 6 = 100 × 0.660833 − 6 = 60.08 (still 5th)
const ZRZY_THIS_MONTH = F(10, 9, 7, 0.7778, 8, 5, 0.625, 5, 3, 0.6, 4.2, 4, 2, 1, 3, 60.08);
// CD-ZRZY last month: A13 alone, on time, rated 5/5: 100 × (0.3 + 0.3 + 0.4) = 100, rank 1 (the others null, 2)
const ZRZY_LAST_MONTH = F(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 5, 0, 0, 0, 100);
// CD-ZRZY the day before last month: A14 alone, accepted on time, resolved late, no rating:
// 100 × (0.3 × 1 + 0.3 × 0) / 0.6 = 50
const ZRZY_A14 = F(1, 1, 1, 1, 1, 0, 0, 0, 0, null, null, null, 0, 0, 0, 50);

// Townships over P (the orders of their calls; calls = the calls they made in P: every call of
// this file was made today, A13's and A14's too).
const TOWN_P = {
  // calls: A1 A2 A4 A5 A7 A8 A9 A10(+A11) A12 A13 A14 B1 B2 J1 H1 F1 F2 T1 = 18;
  // orders: A1 A2 A4 A5 A8 A9 A10 A11 A13 B1 B2 J1 H1 F1 F2 T1 = 16;
  // accept counted: all but A4, T1 = 14, on time: not A2, A5 = 12 -> 0.8571;
  // resolve counted: A1 A2 A8 A9 A10 A11 A13 B1 B2 J1 H1 F1 F2 = 13, on time: not A10 B2 H1 F2 = 9 -> 0.6923;
  // ratings A1 5/5 A2 4/3 A10 5/4 A11 4/4 A13 5/5 B1 4/4 J1 5/5 H1 4/5 = 8, satisfied 7 -> 0.875,
  // speed 36/8 = 4.5, effectiveness 35/8 = 4.375 -> 4.38; overdue 0; returned A7; notices 3;
  // 100 × (0.3 × 12/14 + 0.3 × 9/13 + 0.4 × 7/8) − 6 = 100 × 0.814835 − 6 = 75.48
  'TS-NCS': { calls: 18, ...F(16, 14, 12, 0.8571, 13, 9, 0.6923, 8, 7, 0.875, 4.5, 4.38, 0, 1, 3, 75.48) },
  // calls A3 A6 B3 J2 S1 G1 G2 = 7; orders 7; accept counted 7, on time: not S1, G1 = 5 -> 0.7143;
  // resolve counted A3 A6 B3 J2 S1 = 5, on time J2 S1 = 2 -> 0.4; ratings A3 3/4 J2 2/5 S1 5/4 = 3,
  // satisfied 1 -> 0.3333, speed 10/3 = 3.33, effectiveness 13/3 = 4.33; overdue A3 A6 = 2; notices 1 (G1);
  // 100 × (0.3 × 5/7 + 0.3 × 0.4 + 0.4 × 1/3) − 2 = 100 × 0.467619 − 2 = 44.76
  'TS-BCS': { calls: 7, ...F(7, 7, 5, 0.7143, 5, 2, 0.4, 3, 1, 0.3333, 3.33, 4.33, 2, 0, 1, 44.76) },
};
const TOWN_P_RANK = { 'TS-NCS': 1, 'TS-BCS': 2, null: 3 };

// Domains over P (the calls' items; null: the calls without an item).
const DOMAIN_P = {
  // calls A1 A2 A4 A5 A6 A7 A8 A9 A10 A12 A13 A14 = 12; orders A1 A2 A4 A5 A6 A8 A9 A10 A11 A13 = 10;
  // accept counted all but A4 = 9, on time not A2 A5 = 7 -> 0.7778; resolve counted A1 A2 A6 A8 A9 A10
  // A11 A13 = 8, on time A1 A2 A8 A9 A11 A13 = 6 -> 0.75; ratings A1 A2 A10 A11 A13 = 5, satisfied 4
  // -> 0.8, speed 23/5 = 4.6, effectiveness 21/5 = 4.2; overdue A6; returned A7; notices 3;
  // 100 × (0.3 × 7/9 + 0.3 × 0.75 + 0.4 × 0.8) − 6 = 77.83 − 6 = 71.83
  ZRZY: { calls: 12, ...F(10, 9, 7, 0.7778, 8, 6, 0.75, 5, 4, 0.8, 4.6, 4.2, 1, 1, 3, 71.83) },
  // B1 B2: 2/2, 1/2, one rating 4/4: 100 × (0.3 + 0.15 + 0.4) = 85
  STHJ: { calls: 2, ...F(2, 2, 2, 1, 2, 1, 0.5, 1, 1, 1, 4, 4, 0, 0, 0, 85) },
  // J1 J2: as CD-ZJ: 80
  CXJS: { calls: 2, ...F(2, 2, 2, 1, 2, 2, 1, 2, 1, 0.5, 3.5, 5, 0, 0, 0, 80) },
  // S1: as CD-SJ: 70
  SCJG: { calls: 1, ...F(1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 5, 4, 0, 0, 0, 70) },
  // F1 F2: as CD-WJ: 75
  WSJK: { calls: 2, ...F(2, 2, 2, 1, 2, 1, 0.5, 0, 0, null, null, null, 0, 0, 0, 75) },
  // G1 G2: as CD-YJ: 48
  YJGL: { calls: 2, ...F(2, 2, 1, 0.5, 0, 0, null, 0, 0, null, null, null, 0, 0, 1, 48) },
  // A3 B3 H1 T1: accept counted A3 B3 H1, all on time -> 1; resolved A3 B3 H1, all late -> 0;
  // ratings A3 3/4, H1 4/5 -> 0.5, speed 7/2 = 3.5, effectiveness 9/2 = 4.5; overdue A3;
  // 100 × (0.3 × 1 + 0.3 × 0 + 0.4 × 0.5) = 50
  null: { calls: 4, ...F(4, 3, 3, 1, 3, 0, 0, 2, 1, 0.5, 3.5, 4.5, 1, 0, 0, 50) },
};
const DOMAIN_P_RANK = { STHJ: 1, CXJS: 2, WSJK: 3, ZRZY: 4, SCJG: 5, 'no item': 6, YJGL: 7, null: 8 };

// The custom weights: response 0.5, resolution 0.25, satisfaction 0.25, penalty 5.
const CUSTOM = { weight_response: 0.5, weight_resolution: 0.25, weight_satisfaction: 0.25, penalty: 5 };
const DEPT_CUSTOM_COMPOSITE = {
  'CD-ZRZY': 58.33, // 100 × (0.5 × 0.8 + 0.25 × 6/9 + 0.25 × 4/6) − 5 × 3 = 73.33 − 15 = 58.33
  'CD-ZF': 83.33, //   100 × (0.5 × 1 + 0.25 × 1/3 + 0.25 × 1) = 50 + 8.33 + 25 = 83.33
  'CD-ZJ': 87.5, //    100 × (0.5 + 0.25 + 0.25 × 0.5) = 87.5
  'CD-HY': 75, //      100 × (0.5 × 1 + 0.25 × 0 + 0.25 × 1) = 75
  'CD-SJ': 50, //      100 × (0 + 0.25 + 0.25) = 50
  'CD-WJ': 83.33, //   100 × (0.5 × 1 + 0.25 × 0.5) / 0.75 = 62.5 / 0.75 = 83.33: the same as CD-ZF, satisfaction null
  'CD-YJ': 45, //      100 × (0.5 × 0.5) / 0.5 − 5 × 1 = 50 − 5 = 45
  'CD-JT': null,
};
// 87.5 > 83.33 (satisfaction 1) > 83.33 (null, last) > 75 > 58.33 > 50 > 45 > null
const DEPT_CUSTOM_RANK = { 'CD-ZJ': 1, 'CD-ZF': 2, 'CD-WJ': 3, 'CD-HY': 4, 'CD-ZRZY': 5, 'CD-SJ': 6, 'CD-YJ': 7, null: 8 };

// ---- the world ---------------------------------------------------------------------------------
const O = {}; // order ids by name (A1 …)
const K = {}; // call ids by order name
const N = {}; // notice ids: A5n (notice), A5r (rectification), A7n (notice), G1r; reminders A5m, A12m
let names; // code -> name of the units and domains

const tok = (who) => {
  assert.ok(w.tk[who], `no token ${who}`);
  return w.tk[who];
};
const ok = (res, status = 200) => {
  assert.equal(res.status, status, res.text);
  return res.json;
};
const owner = (sql) => psql(sql);

// A call of township who (township | township2) put in triage (title only, or with item), then
// dispatched by the office to one lead department (naming item when the call has none): the
// order's id, under name.
async function single(name, who, dept, item) {
  const withItem = item === 'STHJ-04'; // STHJ-04 has no lead department: triage with its item
  const c = await created(who, { title: `考核：${name}`, ...(withItem ? { item_code: item } : {}) });
  assert.equal(c.status, 'triage', JSON.stringify(c));
  const r = ok(await api.dispatch('district', c.id, {
    ...(item && !withItem ? { item_code: item } : {}), orders: [{ department_code: dept, role: 'lead' }],
  }));
  assert.equal(r.orders.length, 1);
  O[name] = r.orders[0].id;
  K[name] = c.id;
  return O[name];
}
const accept = async (dept, name) => ok(await act(dept, O[name], 'accept', {}));
const resolve = async (dept, name) => ok(await act(dept, O[name], 'resolve', { resolution: '已办结' }));
const rate = async (who, name, speed, effectiveness) =>
  ok(await post(d, `/v1/orders/${O[name]}/rating`, { speed, effectiveness }, { token: tok(who) }), 201);
// The shapes of the instants, as the owner (each fires the roll-up trigger).
const acceptedLate = (name) => owner(`update huying.orders set accept_by = accepted_at - interval '1 hour' where id = ${O[name]}`);
const resolvedLate = (name) => owner(`update huying.orders set resolve_by = resolved_at - interval '1 hour' where id = ${O[name]}`);
const acceptPassed = (name) => owner(`update huying.orders set accept_by = now() - interval '1 hour' where id = ${O[name]}`);
const resolvePassed = (name) => owner(`update huying.orders set resolve_by = now() - interval '1 hour' where id = ${O[name]}`);
const markOverdue = (name) => owner(`update huying.orders set overdue = true where id = ${O[name]}`);
// Dispatched at instant (SQL): the order leaves the facts (cancelled), its created_at moves,
// it comes back (dispatched) — its facts are now written at its new day.
const dispatchedAt = (name, instant) => owner(`begin;
  update huying.orders set status = 'cancelled' where id = ${O[name]};
  update huying.orders set created_at = ${instant} where id = ${O[name]};
  update huying.orders set status = 'dispatched' where id = ${O[name]};
  commit;`);
async function supervise(name) {
  return ok(await post(d, '/v1/supervisions', { order_id: O[name], reason: '督办' }, { token: tok('district') }), 201).id;
}
async function notice(sup, kind) {
  return ok(await post(d, `/v1/supervisions/${sup}/notices`, { kind, text: `${kind}：请按期办结` }, { token: tok('district') }), 201).id;
}

before(async () => {
  d = await startDaemon({ HUYING_SWEEP_INTERVAL_MS: 0 }); // no sweep: no timer fires, no compaction but ours
  Object.assign(w, await callsWorld(d, 'SC'));
  ({ C } = w);
  for (const code of ['CD-SJ', 'CD-WJ', 'CD-YJ', 'CD-JT'])
    w.tk[code] = tokenFor(d, C, 'department', { unit_id: C.unit(code), sub: `test:department:${code}` });
  names = new Map(psql(`select code, name from huying.units where district_id = ${C.id}
                        union all select code, name from huying.domains where district_id = ${C.id}`)
    .split('\n').map((l) => l.split('|')));

  // CD-ZRZY
  await single('A1', 'township', 'CD-ZRZY', 'ZRZY-02');
  await accept('department', 'A1');
  await resolve('department', 'A1');
  owner(`update huying.orders set accept_by = accepted_at, resolve_by = resolved_at where id = ${O.A1}`); // exactly on time
  await rate('township', 'A1', 5, 5);

  await single('A2', 'township', 'CD-ZRZY', 'ZRZY-02');
  await accept('department', 'A2');
  acceptedLate('A2');
  await resolve('department', 'A2');
  await rate('township', 'A2', 4, 3);

  await single('A3', 'township2', 'CD-ZRZY');
  await resolve('department', 'A3'); // accepted by resolving, on time
  resolvedLate('A3');
  markOverdue('A3');
  await rate('township2', 'A3', 3, 4);

  await single('A4', 'township', 'CD-ZRZY', 'ZRZY-02');

  await single('A5', 'township', 'CD-ZRZY', 'ZRZY-02');
  acceptPassed('A5');
  const s5 = await supervise('A5');
  N.A5m = await notice(s5, 'reminder');
  N.A5n = await notice(s5, 'notice');
  N.A5r = await notice(s5, 'rectification');

  await single('A6', 'township2', 'CD-ZRZY', 'ZRZY-02');
  await accept('department', 'A6');
  resolvePassed('A6');
  markOverdue('A6');

  await single('A7', 'township', 'CD-ZRZY', 'ZRZY-02');
  N.A7n = await notice(await supervise('A7'), 'notice');
  markOverdue('A7');
  const r7 = ok(await post(d, `/v1/orders/${O.A7}/returns`, { reason: '不属于本部门' }, { token: tok('department') }), 201);
  ok(await post(d, `/v1/returns/${r7.id}/uphold`, {}, { token: tok('district') }));

  await single('A8', 'township', 'CD-ZRZY', 'ZRZY-02');
  const r8 = ok(await post(d, `/v1/orders/${O.A8}/returns`, { reason: '不属于本部门' }, { token: tok('department') }), 201);
  ok(await post(d, `/v1/returns/${r8.id}/overrule`, { reason: '清单明确由本部门牵头' }, { token: tok('district') }));
  await resolve('department', 'A8');

  await single('A9', 'township', 'CD-ZRZY', 'ZRZY-02');
  const o9 = ok(await api.order(O.A9, 'department'));
  const e9 = ok(await post(d, `/v1/orders/${O.A9}/extensions`, { resolve_by: at8(ms(o9.resolve_by) + 3 * DAY), reason: '需要论证' },
    { token: tok('department') }), 201);
  ok(await post(d, `/v1/extensions/${e9.id}/approve`, {}, { token: tok('district') }));
  await accept('department', 'A9');
  await resolve('department', 'A9');
  owner(`update huying.orders set resolved_at = '${e9.previous_resolve_by}'::timestamptz + interval '1 hour' where id = ${O.A9}`);
  assert.equal(psql(`select resolve_by = '${e9.resolve_by}' from huying.orders where id = ${O.A9}`), 't', 'resolve_by as extended');

  await single('A10', 'township', 'CD-ZRZY', 'ZRZY-02');
  await accept('department', 'A10');
  await resolve('department', 'A10');
  await rate('township', 'A10', 5, 4);
  const re = ok(await post(d, `/v1/calls/${K.A10}/reopen`, { reason: '问题反复' }, { token: tok('township') }));
  O.A11 = re.orders.find((o) => o.rework_of === O.A10).id;
  K.A11 = K.A10;
  await resolve('department', 'A11');
  await rate('township', 'A11', 4, 4);

  await single('A12', 'township', 'CD-ZRZY', 'ZRZY-02');
  N.A12m = await notice(await supervise('A12'), 'reminder');
  ok(await act('district', O.A12, 'cancel', { reason: '重复派单' }));

  await single('A13', 'township', 'CD-ZRZY', 'ZRZY-02');
  dispatchedAt('A13', `'${lastMonth}T00:30:00+08:00'`);
  await accept('department', 'A13');
  await resolve('department', 'A13');
  await rate('township', 'A13', 5, 5);

  await single('A14', 'township', 'CD-ZRZY', 'ZRZY-02');
  dispatchedAt('A14', `'${lastMonth}T00:00:00+08:00'::timestamptz - interval '1 second'`);
  await accept('department', 'A14');
  await resolve('department', 'A14');
  resolvedLate('A14');

  // CD-ZF
  await single('B1', 'township', 'CD-ZF', 'STHJ-04');
  await accept('zf', 'B1');
  await resolve('zf', 'B1');
  await rate('township', 'B1', 4, 4);
  await single('B2', 'township', 'CD-ZF', 'STHJ-04');
  await resolve('zf', 'B2');
  resolvedLate('B2');
  await single('B3', 'township2', 'CD-ZF');
  await resolve('zf', 'B3');
  resolvedLate('B3');

  // CD-ZJ
  await single('J1', 'township', 'CD-ZJ', 'CXJS-02');
  await resolve('zj', 'J1');
  await rate('township', 'J1', 5, 5);
  await single('J2', 'township2', 'CD-ZJ', 'CXJS-02');
  await resolve('zj', 'J2');
  await rate('township2', 'J2', 2, 5);

  // CD-HY
  await single('H1', 'township', 'CD-HY');
  await resolve('hy', 'H1');
  resolvedLate('H1');
  await rate('township', 'H1', 4, 5);

  // CD-SJ
  await single('S1', 'township2', 'CD-SJ', 'SCJG-01');
  await accept('CD-SJ', 'S1');
  acceptedLate('S1');
  await resolve('CD-SJ', 'S1');
  await rate('township2', 'S1', 5, 4);

  // CD-WJ
  await single('F1', 'township', 'CD-WJ', 'WSJK-01');
  await resolve('CD-WJ', 'F1');
  await single('F2', 'township', 'CD-WJ', 'WSJK-01');
  await resolve('CD-WJ', 'F2');
  resolvedLate('F2');

  // CD-YJ
  await single('G1', 'township2', 'CD-YJ', 'YJGL-01');
  acceptPassed('G1');
  N.G1r = await notice(await supervise('G1'), 'rectification');
  await single('G2', 'township2', 'CD-YJ', 'YJGL-01');
  await accept('CD-YJ', 'G2');

  // CD-JT
  await single('T1', 'township', 'CD-JT');

  // the statuses the data set rests on
  const st = Object.fromEntries(psql(`select id, status from huying.orders where id in (${Object.values(O).join(',')})`)
    .split('\n').map((l) => l.split('|')).map(([id, s]) => [Number(id), s]));
  const byStatus = (s) => Object.keys(O).filter((n) => st[O[n]] === s).sort();
  assert.deepEqual(byStatus('dispatched'), ['A4', 'A5', 'G1', 'T1']);
  assert.deepEqual(byStatus('accepted'), ['A6', 'G2']);
  assert.deepEqual(byStatus('returned'), ['A7']);
  assert.deepEqual(byStatus('cancelled'), ['A12']);
});
after(async () => { await d.stop(); });

// ---- reading -------------------------------------------------------------------------------------
const scores = (who, query, opts = {}) => get(d, `/v1/scores${query ? `?${query}` : ''}`, { token: tok(who), ...opts });
const deptScores = (who, code, query, opts = {}) =>
  get(d, `/v1/scores/departments/${C.unit(code)}${query ? `?${query}` : ''}`, { token: tok(who), ...opts });
const csv = { headers: { accept: 'text/csv' } };
const sortIds = (...list) => list.map((n) => (typeof n === 'number' ? n : O[n])).sort((a, b) => a - b);

// The rows of a league table: every unit of kind (department | township) or every domain, with
// its figures (figs[code], ZERO otherwise) and rank (ranks[code], ranks.null otherwise), by
// rank then code.
function tableRows(by, figs, ranks) {
  const keys = by === 'domain'
    ? psql(`select code || '|' || id from huying.domains where district_id = ${C.id}`).split('\n').map((l) => l.split('|'))
    : [...C.units].filter(([, u]) => u.kind === by).map(([code, u]) => [code, String(u.id)]);
  const rows = keys.map(([code, id]) => {
    const f = figs[code] ?? (by === 'department' ? ZERO : { calls: 0, ...ZERO });
    return { [`${by}_id`]: Number(id), code, name: names.get(code), ...f, rank: ranks[code] ?? ranks.null };
  });
  if (by === 'domain' && figs.null) rows.push({ domain_id: null, code: null, name: null, ...figs.null, rank: ranks['no item'] });
  return rows.sort((a, b) => a.rank - b.rank || (a.code === null) - (b.code === null) || byCode(a.code, b.code));
}
// The same as CSV text (a null as an empty cell; calls empty for departments).
const CSV_FIELDS = ['orders', 'accept_counted', 'accepted_on_time', 'accepted_on_time_rate', 'resolve_counted', 'resolved_on_time',
  'resolved_on_time_rate', 'ratings', 'satisfied', 'satisfaction_rate', 'speed_avg', 'effectiveness_avg', 'overdue', 'returned',
  'notices', 'composite'];
const cell = (v) => (v === null || v === undefined ? '' : String(v));
const csvLine = (by, row) => [row.rank, row[`${by}_id`], row.code, row.name, row.calls, ...CSV_FIELDS.map((f) => row[f])].map(cell).join(',');
const csvText = (header, lines) => `\uFEFF${header}\r\n${lines.map((l) => `${l}\r\n`).join('')}`;

// The months of period p, each {month, from, to} (each month's part of p).
function monthsOf(p) {
  const out = [];
  for (let m = `${p.from.slice(0, 7)}-01`; m <= p.to; m = nextMonthOf(m))
    out.push({ month: m.slice(0, 7), from: m < p.from ? p.from : m, to: monthEnd(m) > p.to ? p.to : monthEnd(m) });
  return out;
}

describe('the league table by department', () => {
  test('every figure, the composite, the rank with a tie broken by satisfaction and a full tie', async () => {
    const r = await scores('district', `by=department&${PQ}`);
    assert.equal(r.status, 200, r.text);
    const rows = tableRows('department', DEPT_P, DEPT_P_RANK);
    assert.deepEqual(r.json, { by: 'department', from: P.from, to: P.to, weights: DEFAULTS, data: rows });
    // the head of the table, spelled out
    assert.deepEqual(r.json.data.slice(0, 8).map((x) => [x.code, x.composite, x.satisfaction_rate, x.rank]), [
      ['CD-ZF', 80, 1, 1], ['CD-ZJ', 80, 0.5, 2], ['CD-WJ', 75, null, 3], ['CD-HY', 70, 1, 4], ['CD-SJ', 70, 1, 4],
      ['CD-ZRZY', 64.67, 0.6667, 5], ['CD-YJ', 48, null, 6], ['CD-FG', null, null, 7],
    ]);
    assert.equal(r.json.data.length, 22);
    assert.ok(r.json.data.slice(7).every((x) => x.rank === 7));
    // by is the default
    assert.deepEqual(ok(await scores('district', PQ)), r.json);
  });

  test('the default period: from the first of this month to today', async () => {
    const r = ok(await scores('district', ''));
    assert.deepEqual(r, {
      by: 'department', from: thisMonth, to: today, weights: DEFAULTS,
      data: tableRows('department', { ...DEPT_P, 'CD-ZRZY': ZRZY_THIS_MONTH }, DEPT_P_RANK),
    });
    assert.deepEqual(ok(await scores('district', `to=${today}`)), r);
    // to alone: from is the first day of its month; from alone: to is today
    const last = ok(await scores('district', `to=${monthEnd(lastMonth)}`));
    assert.deepEqual([last.from, last.to], [lastMonth, monthEnd(lastMonth)]);
    assert.deepEqual(last.data.find((x) => x.code === 'CD-ZRZY'),
      { department_id: C.unit('CD-ZRZY'), code: 'CD-ZRZY', name: names.get('CD-ZRZY'), ...ZRZY_LAST_MONTH, rank: 1 });
    const since = ok(await scores('district', `from=${lastMonth}`));
    assert.deepEqual({ ...since, to: P.to }, ok(await scores('district', PQ)));
    assert.equal(since.to, today);
    expect422(await scores('district', `from=${addDays(today, 1)}`), 'to');
  });

  test('from and to are Asia/Shanghai dates, both inclusive', async () => {
    const row = async (from, to) => ok(await scores('district', `from=${from}&to=${to}`)).data.find((x) => x.code === 'CD-ZRZY');
    const only = (figs, rank) => ({ department_id: C.unit('CD-ZRZY'), code: 'CD-ZRZY', name: names.get('CD-ZRZY'), ...figs, rank });
    // A13 was dispatched at 00:30 on the first day of last month (16:30 UTC the day before)
    assert.deepEqual(await row(lastMonth, lastMonth), only(ZRZY_LAST_MONTH, 1));
    assert.deepEqual(await row(lastMonth, monthEnd(lastMonth)), only(ZRZY_LAST_MONTH, 1));
    assert.deepEqual(await row(addDays(lastMonth, 1), monthEnd(lastMonth)), only(ZERO, 1));
    // A14 one second before it: the day before
    const dayBefore = addDays(lastMonth, -1);
    assert.deepEqual(await row(dayBefore, dayBefore), only(ZRZY_A14, 1));
    assert.deepEqual(await row(addDays(dayBefore, -5), dayBefore), only(ZRZY_A14, 1));
  });
});

describe('one department', () => {
  const total = (code) => {
    const { department_id: _, code: __, name: ___, ...f } = tableRows('department', DEPT_P, DEPT_P_RANK).find((x) => x.code === code);
    return f;
  };

  test('the total is its row of the league table, for the district and for itself; another department → 404', async () => {
    const want = {
      department_id: C.unit('CD-ZRZY'), code: 'CD-ZRZY', name: names.get('CD-ZRZY'), from: P.from, to: P.to, weights: DEFAULTS,
      total: total('CD-ZRZY'),
    };
    assert.equal(want.total.composite, 64.67);
    assert.equal(want.total.rank, 5);
    assert.deepEqual(ok(await deptScores('district', 'CD-ZRZY', PQ)), want);
    assert.deepEqual(ok(await deptScores('department', 'CD-ZRZY', PQ)), want);
    for (const code of ['CD-ZF', 'CD-ZJ', 'CD-HY', 'CD-SJ', 'CD-WJ', 'CD-YJ', 'CD-JT', 'CD-GA']) {
      const r = ok(await deptScores('district', code, PQ));
      assert.deepEqual(r.total, total(code), code);
    }
    assert.deepEqual(ok(await deptScores('zf', 'CD-ZF', PQ)).total, total('CD-ZF'));
    // a department reading another's figures, in any form
    for (const [who, code] of [['department', 'CD-ZF'], ['zf', 'CD-ZRZY'], ['hy', 'CD-ZRZY'], ['CD-YJ', 'CD-SJ']]) {
      expectProblem(await deptScores(who, code, PQ), 404);
      expectProblem(await deptScores(who, code, `${PQ}&interval=month&explain=true`), 404);
      expectProblem(await deptScores(who, code, PQ, csv), 404);
    }
  });

  test('interval=month: one entry per month of the period, each month\'s part, with that month\'s rank', async () => {
    const r = ok(await deptScores('district', 'CD-ZRZY', `${PQ}&interval=month`));
    const months = monthsOf(P);
    const series = months.map((m) => {
      if (m.month === lastMonth.slice(0, 7)) return { ...m, ...ZRZY_LAST_MONTH, rank: 1 }; // the only department with figures
      if (m.month === thisMonth.slice(0, 7)) return { ...m, ...ZRZY_THIS_MONTH, rank: 5 }; // 80 80 75 70 70 | 60.08
      return { ...m, ...ZERO, rank: 1 }; // tomorrow in the next month: nothing yet, every department null
    });
    assert.deepEqual(series.slice(0, 2).map((m) => [m.month, m.from, m.to]),
      [[lastMonth.slice(0, 7), lastMonth, monthEnd(lastMonth)], [thisMonth.slice(0, 7), thisMonth, months[1].to]]);
    assert.deepEqual(r, {
      department_id: C.unit('CD-ZRZY'), code: 'CD-ZRZY', name: names.get('CD-ZRZY'), from: P.from, to: P.to, weights: DEFAULTS,
      total: total('CD-ZRZY'), series,
    });
    // a period inside one month: one entry, the period itself
    const one = ok(await deptScores('department', 'CD-ZRZY', `from=${lastMonth}&to=${addDays(lastMonth, 9)}&interval=month`));
    assert.deepEqual(one.series, [{ month: lastMonth.slice(0, 7), from: lastMonth, to: addDays(lastMonth, 9), ...ZRZY_LAST_MONTH, rank: 1 }]);
    assert.deepEqual(one.total, { ...ZRZY_LAST_MONTH, rank: 1 });
  });

  test('explain=true: the orders behind each figure, exactly', async () => {
    const r = ok(await deptScores('district', 'CD-ZRZY', `${PQ}&explain=true`));
    assert.deepEqual(r.explain, {
      orders: sortIds('A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A8', 'A9', 'A10', 'A11', 'A13'),
      accept_counted: sortIds('A1', 'A2', 'A3', 'A5', 'A6', 'A8', 'A9', 'A10', 'A11', 'A13'),
      accepted_on_time: sortIds('A1', 'A3', 'A6', 'A8', 'A9', 'A10', 'A11', 'A13'),
      resolve_counted: sortIds('A1', 'A2', 'A3', 'A6', 'A8', 'A9', 'A10', 'A11', 'A13'),
      resolved_on_time: sortIds('A1', 'A2', 'A8', 'A9', 'A11', 'A13'),
      reworked: sortIds('A10'),
      not_yet_due: sortIds('A4', 'A5'),
      rated: sortIds('A1', 'A2', 'A3', 'A10', 'A11', 'A13'),
      satisfied: sortIds('A1', 'A10', 'A11', 'A13'),
      overdue: sortIds('A3', 'A6'),
      returned: sortIds('A7'),
      notices: sortIds(N.A5n, N.A5r, N.A7n),
    });
    // the lists count what the figures say
    const t = r.total;
    assert.deepEqual([t.orders, t.accept_counted, t.accepted_on_time, t.resolve_counted, t.resolved_on_time, t.ratings, t.satisfied,
      t.overdue, t.returned, t.notices], ['orders', 'accept_counted', 'accepted_on_time', 'resolve_counted', 'resolved_on_time', 'rated',
      'satisfied', 'overdue', 'returned', 'notices'].map((k) => r.explain[k].length));
    // the department itself, with the series too
    const own = ok(await deptScores('department', 'CD-ZRZY', `${PQ}&explain=true&interval=month`));
    assert.deepEqual(own.explain, r.explain);
    assert.equal(own.series.length, monthsOf(P).length);
    // explain=false is the same as none
    assert.deepEqual(ok(await deptScores('department', 'CD-ZRZY', `${PQ}&explain=false`)), ok(await deptScores('department', 'CD-ZRZY', PQ)));
    // CD-YJ: G1 open past accept_by, G2 accepted, neither due for resolution
    const yj = ok(await deptScores('CD-YJ', 'CD-YJ', `${PQ}&explain=true`));
    assert.deepEqual(yj.explain, {
      orders: sortIds('G1', 'G2'), accept_counted: sortIds('G1', 'G2'), accepted_on_time: sortIds('G2'), resolve_counted: [],
      resolved_on_time: [], reworked: [], not_yet_due: sortIds('G1', 'G2'), rated: [], satisfied: [], overdue: [], returned: [],
      notices: [N.G1r],
    });
    // last month alone: A13
    const last = ok(await deptScores('district', 'CD-ZRZY', `from=${lastMonth}&to=${monthEnd(lastMonth)}&explain=true`));
    assert.deepEqual(last.explain, {
      orders: [O.A13], accept_counted: [O.A13], accepted_on_time: [O.A13], resolve_counted: [O.A13], resolved_on_time: [O.A13],
      reworked: [], not_yet_due: [], rated: [O.A13], satisfied: [O.A13], overdue: [], returned: [], notices: [],
    });
  });
});

describe('the league table by township and by domain', () => {
  test('by=township: the orders of each township\'s calls, its calls, the ratings it gave', async () => {
    const r = ok(await scores('district', `by=township&${PQ}`));
    assert.deepEqual(r, { by: 'township', from: P.from, to: P.to, weights: DEFAULTS, data: tableRows('township', TOWN_P, TOWN_P_RANK) });
    assert.equal(r.data.length, 8);
    assert.deepEqual(r.data.slice(0, 2).map((x) => [x.code, x.calls, x.orders, x.composite, x.rank]),
      [['TS-NCS', 18, 16, 75.48, 1], ['TS-BCS', 7, 7, 44.76, 2]]);
  });

  test('by=domain: each domain of the calls\' items, and the calls without an item (domain_id null)', async () => {
    const r = await scores('district', `by=domain&${PQ}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { by: 'domain', from: P.from, to: P.to, weights: DEFAULTS, data: tableRows('domain', DOMAIN_P, DOMAIN_P_RANK) });
  });

  test('the tables add up: the same orders by department, township and domain', async () => {
    const sum = (rows, f) => rows.reduce((a, x) => a + x[f], 0);
    const t = {};
    for (const by of ['department', 'township']) t[by] = ok(await scores('district', `by=${by}&${PQ}`)).data;
    // (the domain table is checked above; here the two that carry no doubt about the no-item row)
    for (const f of ['orders', 'accept_counted', 'accepted_on_time', 'resolve_counted', 'resolved_on_time', 'ratings', 'satisfied',
      'overdue', 'returned', 'notices'])
      assert.equal(sum(t.department, f), sum(t.township, f), f);
    assert.equal(sum(t.department, 'orders'), 23); // 11 + 3 + 2 + 1 + 1 + 2 + 2 + 1
  });
});

describe('CSV', () => {
  test('the league table by department: BOM, header, a CRLF row per department, nulls empty', async () => {
    const r = await scores('district', `by=department&${PQ}`, csv);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['content-type'], 'text/csv; charset=utf-8');
    const rows = tableRows('department', DEPT_P, DEPT_P_RANK);
    assert.equal(r.text, csvText(HEADER, rows.map((x) => csvLine('department', x))));
    const lines = r.text.split('\r\n');
    assert.equal(lines[0], `\uFEFF${HEADER}`);
    // two lines spelled out
    assert.equal(lines[1], `1,${C.unit('CD-ZF')},CD-ZF,${names.get('CD-ZF')},,3,3,3,1,3,1,0.3333,1,1,1,4,4,0,0,0,80`);
    assert.equal(lines[6], `5,${C.unit('CD-ZRZY')},CD-ZRZY,${names.get('CD-ZRZY')},,11,10,8,0.8,9,6,0.6667,6,4,0.6667,4.33,4.17,2,1,3,64.67`);
    assert.equal(lines[3], `3,${C.unit('CD-WJ')},CD-WJ,${names.get('CD-WJ')},,2,2,2,1,2,1,0.5,0,0,,,,0,0,0,75`);
    assert.ok(lines.includes(`7,${C.unit('CD-JT')},CD-JT,${names.get('CD-JT')},,1,0,0,,0,0,,0,0,,,,0,0,0,`));
    assert.equal(lines.at(-1), '');
    assert.equal(lines.length, 1 + 22 + 1);
  });

  test('by township and by domain: calls filled', async () => {
    const t = await scores('district', `by=township&${PQ}`, csv);
    assert.equal(t.status, 200, t.text);
    assert.equal(t.text, csvText(HEADER, tableRows('township', TOWN_P, TOWN_P_RANK).map((x) => csvLine('township', x))));
    assert.equal(t.text.split('\r\n')[1],
      `1,${C.unit('TS-NCS')},TS-NCS,${names.get('TS-NCS')},18,16,14,12,0.8571,13,9,0.6923,8,7,0.875,4.5,4.38,0,1,3,75.48`);
    const m = await scores('district', `by=domain&${PQ}`, csv);
    assert.equal(m.status, 200, m.text);
    assert.equal(m.text, csvText(HEADER, tableRows('domain', DOMAIN_P, DOMAIN_P_RANK).map((x) => csvLine('domain', x))));
    // the row of the calls without an item: no id, code or name
    assert.ok(m.text.split('\r\n').includes('6,,,,4,4,3,3,1,3,0,0,2,1,0.5,3.5,4.5,1,0,0,50'), m.text);
  });

  test('a department\'s figures: from,to and the columns; one row for the period, one per month with interval=month', async () => {
    const total = tableRows('department', DEPT_P, DEPT_P_RANK).find((x) => x.code === 'CD-ZRZY');
    const r = await deptScores('department', 'CD-ZRZY', PQ, csv);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['content-type'], 'text/csv; charset=utf-8');
    assert.equal(r.text, csvText(`from,to,${HEADER}`, [`${P.from},${P.to},${csvLine('department', total)}`]));
    const m = await deptScores('district', 'CD-ZRZY', `${PQ}&interval=month`, csv);
    assert.equal(m.status, 200, m.text);
    const id = C.unit('CD-ZRZY');
    const nm = names.get('CD-ZRZY');
    const months = monthsOf(P);
    const lines = [
      `${lastMonth},${monthEnd(lastMonth)},1,${id},CD-ZRZY,${nm},,1,1,1,1,1,1,1,1,1,1,5,5,0,0,0,100`,
      `${thisMonth},${months[1].to},5,${id},CD-ZRZY,${nm},,10,9,7,0.7778,8,5,0.625,5,3,0.6,4.2,4,2,1,3,60.08`,
      ...months.slice(2).map((x) => `${x.from},${x.to},1,${id},CD-ZRZY,${nm},,0,0,0,,0,0,,0,0,,,,0,0,0,`),
    ];
    assert.equal(m.text, csvText(`from,to,${HEADER}`, lines));
    expect422(await deptScores('district', 'CD-ZRZY', `${PQ}&explain=true`, csv), 'explain');
  });
});

describe('the weights', () => {
  const settings = async () => ok(await get(d, '/v1/settings', { token: tok('district') }));
  const put = (body, opts = {}) => request(d, 'PUT', '/v1/settings', { token: tok('district'), body, ...opts });
  const strip = (s) => {
    const { version: _, updated_at: __, ...rest } = s;
    return rest;
  };

  test('custom weights: every composite again, a tie on composite broken by a null satisfaction rate', async () => {
    const s0 = await settings();
    assert.deepEqual({ ...DEFAULTS, ...strip(s0) }, strip(s0), 'the defaults');
    const r = await put({ ...strip(s0), ...CUSTOM });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(strip(r.json), { ...strip(s0), ...CUSTOM });
    try {
      const t = ok(await scores('district', PQ));
      const figs = Object.fromEntries(Object.entries(DEPT_P).map(([code, f]) => [code, { ...f, composite: DEPT_CUSTOM_COMPOSITE[code] }]));
      assert.deepEqual(t, { by: 'department', from: P.from, to: P.to, weights: CUSTOM, data: tableRows('department', figs, DEPT_CUSTOM_RANK) });
      assert.deepEqual(t.data.slice(0, 8).map((x) => [x.code, x.composite, x.rank]), [
        ['CD-ZJ', 87.5, 1], ['CD-ZF', 83.33, 2], ['CD-WJ', 83.33, 3], ['CD-HY', 75, 4], ['CD-ZRZY', 58.33, 5], ['CD-SJ', 50, 6],
        ['CD-YJ', 45, 7], ['CD-FG', null, 8],
      ]);
      const one = ok(await deptScores('department', 'CD-ZRZY', PQ));
      assert.deepEqual(one.weights, CUSTOM);
      assert.deepEqual([one.total.composite, one.total.rank], [58.33, 5]);
      // the township table under the same weights:
      // TS-NCS 100 × (0.5 × 12/14 + 0.25 × 9/13 + 0.25 × 7/8) − 5 × 3 = 100 × 0.820398 − 15 = 67.04
      // TS-BCS 100 × (0.5 × 5/7 + 0.25 × 0.4 + 0.25 × 1/3) − 5 × 1 = 100 × 0.540476 − 5 = 49.05
      const tw = ok(await scores('district', `by=township&${PQ}`));
      assert.deepEqual(tw.data.slice(0, 3).map((x) => [x.code, x.composite, x.rank]),
        [['TS-NCS', 67.04, 1], ['TS-BCS', 49.05, 2], ['TS-BHC', null, 3]]);
    } finally {
      ok(await put({ ...strip(await settings()), ...DEFAULTS }));
    }
    assert.deepEqual(ok(await scores('district', PQ)).weights, DEFAULTS);
    assert.equal(ok(await scores('district', PQ)).data[0].composite, 80);
  });

  test('weights that do not add up to 1 → 422 naming the three; nothing changes', async () => {
    const s0 = await settings();
    const r = await put({ ...strip(s0), weight_response: 0.5 });
    expectProblem(r, 422);
    assert.deepEqual(r.json.errors.map((e) => e.field), ['weight_response', 'weight_resolution', 'weight_satisfaction']);
    expect422(await put({ ...strip(s0), weight_response: 1.5 }), 'weight_response');
    expect422(await put({ ...strip(s0), penalty: -1 }), 'penalty');
    assert.deepEqual(await settings(), s0);
  });
});

describe('bad queries and who may read', () => {
  test('from/to: a bad date → 422 naming it; to before from → 422 to; more than 366 days → 422 to', async () => {
    for (const [q, field] of [
      ['from=2026-02-30', 'from'], ['from=2026-13-01', 'from'], ['from=26-01-01', 'from'], ['from=', 'from'], ['from=today', 'from'],
      ['to=2026-1-1', 'to'], ['to=2026-01-01T00:00:00%2B08:00', 'to'], ['to=', 'to'],
      ['from=2026-03-02&to=2026-03-01', 'to'],
      ['from=2025-01-01&to=2026-01-02', 'to'], // 367 days
      ['from=2024-01-01&to=2025-01-01', 'to'], // 367 days (2024 is a leap year)
      ['by=person', 'by'], ['by=', 'by'], ['interval=month', 'interval'], ['colour=red', 'colour'],
    ]) {
      expect422(await scores('district', q), field);
      expect422(await scores('district', q, csv), field);
    }
    const span = await scores('district', 'from=2026-03-02&to=2026-03-01');
    assert.match(span.json.errors[0].message, /before/);
    const long = await scores('district', 'from=2025-01-01&to=2026-01-02');
    assert.match(long.json.errors[0].message, /366/);
    // exactly 366 days (both ends counted) is allowed; one day too
    assert.equal((await scores('district', 'from=2025-01-01&to=2026-01-01')).status, 200);
    assert.equal((await scores('district', 'from=2024-01-01&to=2024-12-31')).status, 200);
    assert.equal((await scores('district', 'from=2026-03-01&to=2026-03-01')).status, 200);
    // the same for one department
    for (const [q, field] of [
      ['from=2026-02-30', 'from'], ['to=x', 'to'], ['from=2026-03-02&to=2026-03-01', 'to'], ['from=2025-01-01&to=2026-01-02', 'to'],
      ['interval=week', 'interval'], ['interval=', 'interval'], ['explain=yes', 'explain'], ['explain=1', 'explain'], ['by=department', 'by'],
    ]) expect422(await deptScores('district', 'CD-ZRZY', q), field);
    expect422(await deptScores('department', 'CD-ZRZY', 'from=2025-01-01&to=2026-01-02', csv), 'to');
    assert.equal((await deptScores('district', 'CD-ZRZY', 'from=2025-01-01&to=2026-01-01&interval=month')).status, 200);
  });

  test('roles: the league table the district office only; a department its own figures; township and integration 403', async () => {
    for (const who of ['department', 'zf', 'township', 'township2', 'integration'])
      expectProblem(await scores(who, PQ), 403, 'this role may not use this route');
    for (const who of ['township', 'township2', 'integration']) {
      expectProblem(await deptScores(who, 'CD-ZRZY', PQ), 403, 'this role may not use this route');
      expectProblem(await deptScores(who, 'CD-ZRZY', PQ, csv), 403, 'this role may not use this route');
    }
    // ids that are not a department of the district
    for (const who of ['district', 'department']) {
      expectProblem(await get(d, `/v1/scores/departments/${C.unit('TS-NCS')}`, { token: tok(who) }), 404);
      expectProblem(await get(d, `/v1/scores/departments/${C.office}`, { token: tok(who) }), 404);
      expectProblem(await get(d, '/v1/scores/departments/999999999', { token: tok(who) }), 404);
    }
    // another district's office: its own table, none of ours
    expectProblem(await deptScores('bDistrict', 'CD-ZRZY', PQ), 404);
    const b = ok(await scores('bDistrict', PQ));
    assert.ok(b.data.every((x) => x.orders === 0 && x.composite === null && x.rank === 1));
    assert.ok(!b.data.some((x) => x.department_id === C.unit('CD-ZRZY')));
  });
});

describe('the roll-up', () => {
  // Everything this file reads, as text.
  async function snapshot() {
    const out = [];
    for (const q of [`by=department&${PQ}`, `by=township&${PQ}`, `by=domain&${PQ}`, '']) {
      // (the by=domain answer's contract is the business of the by=domain test above; here only
      // its sameness counts)
      const res = await scores('district', q, q.startsWith('by=domain') ? { check: false } : {});
      assert.equal(res.status, 200, res.text);
      out.push(res.text, (await scores('district', q, csv)).text);
    }
    for (const code of ['CD-ZRZY', 'CD-ZF', 'CD-YJ'])
      out.push((await deptScores('district', code, `${PQ}&interval=month&explain=true`)).text,
        (await deptScores('district', code, `${PQ}&interval=month`, csv)).text);
    return out;
  }
  const deltas = () => Number(psql(`select count(*) from huying.score_deltas where district_id = ${C.id}`));
  const rolled = () => Number(psql(`select count(*) from huying.score_rollup where district_id = ${C.id}`));

  test('the figures are the same before and after the deltas are folded into the roll-up', async () => {
    assert.ok(deltas() > 0, 'deltas waiting');
    const before = await snapshot();
    assert.ok(Number(psql('select api.score_compact(100000)')) > 0);
    assert.equal(deltas(), 0);
    assert.ok(rolled() > 0);
    assert.deepEqual(await snapshot(), before);
    // a change after the fold: B2 (CD-ZF, resolved late) rated 1/1 — the roll-up plus the new delta
    await rate('township', 'B2', 1, 1);
    assert.equal(deltas(), 1);
    const t = ok(await scores('district', PQ));
    // CD-ZF: ratings 2, satisfied 1 -> 0.5, speed (4 + 1)/2 = 2.5, effectiveness 2.5;
    // 100 × (0.3 × 1 + 0.3 × 1/3 + 0.4 × 0.5) = 30 + 10 + 20 = 60
    const zf = t.data.find((x) => x.code === 'CD-ZF');
    assert.deepEqual(zf, { department_id: C.unit('CD-ZF'), code: 'CD-ZF', name: names.get('CD-ZF'),
      ...F(3, 3, 3, 1, 3, 1, 0.3333, 2, 1, 0.5, 2.5, 2.5, 0, 0, 0, 60), rank: 5 });
    // 80 (CD-ZJ) > 75 > 70 = 70 > 64.67 > 60 > 48 > null
    assert.deepEqual(t.data.slice(0, 8).map((x) => [x.code, x.rank]), [
      ['CD-ZJ', 1], ['CD-WJ', 2], ['CD-HY', 3], ['CD-SJ', 3], ['CD-ZRZY', 4], ['CD-ZF', 5], ['CD-YJ', 6], ['CD-FG', 7],
    ]);
    const again = await snapshot();
    psql('select api.score_compact(100000)');
    assert.equal(deltas(), 0);
    assert.deepEqual(await snapshot(), again);
  });
});
