// Scores and the sweep (issue 6; schema/0008_scores.sql): an open order past a deadline counts
// in that rate's denominator — at read time until the sweep marks its timer overdue, then as a
// fact of the roll-up (orders.accept_lapsed / resolve_lapsed) — and the league table reads the
// same before and after; a deadline moved into the future again clears the mark.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { get, psql, sleep, startDaemon } from './lib.mjs';
import { callsApi, callsWorld } from './calls_helpers.mjs';

const w = {};
const api = callsApi(w);
let d;

before(async () => {
  d = await startDaemon({ HUYING_SWEEP_INTERVAL_MS: '200' });
  Object.assign(w, await callsWorld(d, 'SW', { other: false }));
});
after(async () => { await d.stop(); });

const row = async (code) => {
  const r = await get(d, '/v1/scores?by=department', { token: w.tk.district });
  assert.equal(r.status, 200, r.text);
  return r.json.data.find((x) => x.code === code);
};
const lapsed = (id) => psql(`select accept_lapsed || ',' || resolve_lapsed from huying.orders where id = ${id}`);

test('past both deadlines: counted at read time, then as the sweep\'s fact; the same figures either way', async () => {
  const { lead } = await api.dispatchedCall('三率：过期未签收');
  const fresh = await row('CD-ZRZY');
  assert.deepEqual([fresh.orders, fresh.accept_counted, fresh.resolve_counted], [1, 0, 0], 'not yet due: in neither');

  // both deadlines into the past: the order's timers follow (and fall due); the sweep may
  // not have reached them when the table is read right away
  psql(`update huying.orders set accept_by = now() - interval '2 hours', resolve_by = now() - interval '1 hour'
         where id = ${lead}`);
  const before0 = await row('CD-ZRZY');
  assert.deepEqual([before0.accept_counted, before0.accepted_on_time, before0.resolve_counted, before0.resolved_on_time],
    [1, 0, 1, 0], 'past both deadlines: in both denominators, on time in neither');

  // the sweep marks both timers overdue: the marks are facts now
  for (let i = 0; i < 100 && lapsed(lead) !== 'true,true'; i++) await sleep(100);
  assert.equal(lapsed(lead), 'true,true', 'the sweep marked both deadlines');
  const swept = await row('CD-ZRZY');
  assert.deepEqual({ ...swept, overdue: 0 }, { ...before0, overdue: 0 }, 'the same figures (but the overdue flag the sweep set)');
  assert.equal(swept.overdue, 1);
  psql('select api.score_compact(100000)');
  assert.deepEqual(await row('CD-ZRZY'), swept, 'and after folding');

  // accepted late now: still one in the denominator, not on time
  assert.equal((await api.act('department', lead, 'accept', {})).status, 200);
  const accepted = await row('CD-ZRZY');
  assert.deepEqual([accepted.accept_counted, accepted.accepted_on_time], [1, 0]);

  // the resolve deadline moves into the future (as an approved extension would): the mark
  // is cleared and the order is not due for resolution any more
  psql(`update huying.orders set resolve_by = now() + interval '3 days' where id = ${lead}`);
  assert.equal(lapsed(lead), 'true,false');
  const extended = await row('CD-ZRZY');
  assert.deepEqual([extended.resolve_counted, extended.resolved_on_time, extended.resolved_on_time_rate], [0, 0, null]);
  // resolved within it: on time
  assert.equal((await api.act('department', lead, 'resolve', { resolution: '已按期办结' })).status, 200);
  const done = await row('CD-ZRZY');
  assert.deepEqual([done.resolve_counted, done.resolved_on_time, done.resolved_on_time_rate], [1, 1, 1]);
});
