// The machinery of the visibility matrices (99_visibility: calls, orders, returns;
// 99_visibility_timers: timers, supervisions, notices, extensions): the roles, the check that
// a hidden resource reads exactly as a missing one, and the run of one role's row.
import assert from 'node:assert/strict';

// The roles of a matrix: token name (calls_helpers' callsWorld) -> role claim.
export const KIND = {
  township: 'township', // A: TS-NCS
  township2: 'township', // B: TS-BCS
  department: 'department', // X: CD-ZRZY
  hy: 'department', // Y: CD-HY
  district: 'district',
  integration: 'integration', // S: 89000
  integration2: 'integration', // another system: 89001
  bDistrict: 'district', // another district's office
};
export const WHO = Object.keys(KIND);

export const NO_SUCH = 999999999; // an id nothing has

// What is wrong with an answer r that should have had status exp, as a list of messages:
// the status; for an error, a problem+json of that status; for a 404 (or a `like`-listed
// status, e.g. a 422 naming a reference in the body), the same problem as the request for an
// id nothing has (again(NO_SUCH), asked once per key and kept in missing) but for the id.
export async function statusWrongs(r, exp, { resId, key, again, missing, like = [404] }) {
  if (r.status !== exp) return [`expected ${exp}, got ${r.status} ${r.text.slice(0, 300)}`];
  const wrong = [];
  if (exp >= 400 && (!/^application\/problem\+json/.test(r.headers['content-type'] || '') || r.json?.status !== exp))
    wrong.push(`not a problem+json ${exp}: ${r.text.slice(0, 200)}`);
  if (like.includes(exp)) {
    if (!missing.has(key)) missing.set(key, await again(NO_SUCH));
    const m = missing.get(key);
    const shape = (x, i) => JSON.stringify([x.status, x.json?.type, x.json?.title,
      x.json?.detail?.replace(new RegExp(`\\b${i}\\b`, 'g'), '{id}'), x.json?.errors]);
    if (shape(r, resId) !== shape(m, NO_SUCH)) wrong.push(`${exp} unlike a missing id's: ${r.text.slice(0, 200)} / ${m.text.slice(0, 200)}`);
  }
  return wrong;
}

// One role's row: every endpoint × each of its resources through cell(who, e, res) →
// {status, wrong}; fails with the row printed when any cell is wrong. Returns the cells run.
export async function runRow(who, endpoints, cell, expected, label = (e) => e.op) {
  const wrong = [];
  const rows = [];
  let cells = 0;
  for (const e of endpoints) {
    const line = [];
    for (const res of e.on) {
      const c = await cell(who, e, res);
      cells += 1;
      wrong.push(...c.wrong);
      const exp = expected(who, e, res);
      line.push(`${res}=${c.status}${c.status === exp ? '' : `(want ${exp})`}`);
    }
    rows.push(`  ${label(e).padEnd(44)} ${line.join(' ')}`);
  }
  assert.ok(wrong.length === 0, `${wrong.length} cell(s) wrong:\n${wrong.join('\n')}\n${who}'s row of the matrix:\n${rows.join('\n')}`);
  return cells;
}
