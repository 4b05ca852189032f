// List changes (动态调整, DESIGN §5, issue 3): a department or township proposes to add,
// amend or retire an item; the district office approves or rejects, then enacts with the
// city's reference and the date it takes effect. The lifecycle end to end with the version
// history it leaves; every illegal step (409 naming the current state, 403 for a role that
// may not act, 412 for a stale If-Match, 422 for bad proposals and dates); who sees which
// change; and the event every step writes. Everything happens in a district of this file's
// own with the demo list imported.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  expectProblem, fixtures, get, listAll, post, psql, startDaemon, tokenFor,
} from './lib.mjs';
import {
  addDays, demoCsv, eventsOf, listDistrict, todayShanghai,
} from './list_helpers.mjs';

const ITEMS = demoCsv('items');
const src = (code) => ITEMS.rows.find((x) => x.code === code);
const today = todayShanghai();
const F = addDays(today, 10); // the amendment's effective date
const F2 = addDays(today, 5); // the retirement's

// The item document of items.csv for code (without code), with changes.
function proposalOf(code, changes = {}) {
  const { code: _, resolve_limit_days: days, cooperating_department_codes: coop, ...rest } = src(code);
  const p = { ...rest, cooperating_department_codes: coop ? coop.split('|') : [], resolve_limit_days: Number(days) };
  for (const k of Object.keys(p)) if (p[k] === '') delete p[k];
  return { ...p, ...changes };
}

let d;
let C; // this file's district
let tk; // tokens
let ids; // item code -> id
before(async () => {
  d = await startDaemon();
  C = await listDistrict(d, 'LC', (w) => tokenFor(d, w, 'district'));
  tk = {
    district: tokenFor(d, C, 'district'),
    department: tokenFor(d, C, 'department'), // CD-ZRZY
    department2: tokenFor(d, C, 'department', { unit_id: C.unit('CD-HY'), sub: 'test:department:hy' }),
    township: tokenFor(d, C, 'township'), // TS-NCS
    township2: tokenFor(d, C, 'township', { unit_id: C.unit('TS-BCS'), sub: 'test:township:bcs' }),
    integration: tokenFor(d, C, 'integration'),
  };
  ids = new Map((await listAll(d, '/v1/items', tk.district)).map((x) => [x.code, x.id]));
});
after(async () => { await d.stop(); });

const submit = (who, body, opts = {}) => post(d, '/v1/list-changes', body, { token: tk[who], ...opts });
const act = (who, id, action, body, opts = {}) => post(d, `/v1/list-changes/${id}/${action}`, body, { token: tk[who], ...opts });
const change = async (id, who = 'district') => (await get(d, `/v1/list-changes/${id}`, { token: tk[who] })).json;

// A submitted, pending change (created by who); returns its id.
async function pending(who, body) {
  const r = await submit(who, body);
  assert.equal(r.status, 201, r.text);
  return r.json.id;
}
async function approved(who, body) {
  const id = await pending(who, body);
  const r = await act('district', id, 'approve', {});
  assert.equal(r.status, 200, r.text);
  return id;
}

function expectState(res, status) {
  expectProblem(res, 409);
  assert.equal(res.json.current_status, status, res.text);
}

const NEW_TITLE = '违法占用土地及耕地进行建设（含设施农用地）';
const lc = {}; // ids of the lifecycle's changes

describe('the lifecycle', () => {
  test('a department submits an amendment: 201, Location, ETag "1", pending', async () => {
    const body = { kind: 'amend', item_code: 'ZRZY-01', proposal: proposalOf('ZRZY-01', { title: NEW_TITLE, resolve_limit_days: 10 }), reason: '设施农用地纳入巡查范围。' };
    const r = await submit('department', body);
    assert.equal(r.status, 201, r.text);
    const c = r.json;
    lc.amend = c.id;
    assert.equal(r.headers.location, `/v1/list-changes/${c.id}`);
    assert.equal(r.headers.etag, '"1"');
    assert.deepEqual({ ...c, id: 0, created_at: 0, updated_at: 0 }, {
      id: 0, kind: 'amend', item_code: 'ZRZY-01', proposal: body.proposal, reason: body.reason, status: 'pending',
      submitted_by_unit_id: C.unit('CD-ZRZY'), decision_reason: null, city_ref: null, effective_from: null, revision: null,
      version: 1, created_at: 0, updated_at: 0,
    });
    assert.equal(c.created_at, c.updated_at);
    const g = await get(d, r.headers.location, { token: tk.department });
    assert.equal(g.status, 200);
    assert.equal(g.headers.etag, '"1"');
    assert.deepEqual(g.json, c);
    // nothing changed in the list yet
    const item = await get(d, `/v1/items/${ids.get('ZRZY-01')}`, { token: tk.department });
    assert.deepEqual([item.json.title, item.json.revision, item.json.version], [src('ZRZY-01').title, 1, 1]);
  });

  test('a township proposes a new item (add), with a manual and a flowchart', async () => {
    const proposal = {
      domain_code: 'ZRZY', title: '海岸带违规设置广告牌', description: '在海岸带擅自设置广告牌、宣传牌。',
      lead_department_code: 'CD-ZRZY', cooperating_department_codes: 'CD-ZF|CD-ZJ', response_limit: '1d', resolve_limit_days: 5,
      scenarios: [{ title: '新设广告牌', steps: ['乡镇劝阻', '平台呼叫', '部门拆除'], standard: '5日内拆除', resolve_limit_days: 5 }],
      flow: { nodes: [{ id: 'A', label: '乡镇发现', actor: 'township' }, { id: 'B', label: '部门拆除', actor: 'department' }], edges: [{ from: 'A', to: 'B', label: '呼叫' }] },
    };
    const r = await submit('township', { kind: 'add', item_code: 'ZRZY-99', proposal, reason: '清单缺少此类事项。' });
    assert.equal(r.status, 201, r.text);
    assert.deepEqual([r.json.kind, r.json.status, r.json.submitted_by_unit_id, r.json.proposal], ['add', 'pending', C.unit('TS-NCS'), proposal]);
    lc.add = r.json.id;
  });

  test('the district office approves (no body at all): 200, approved, ETag "2"', async () => {
    const r = await post(d, `/v1/list-changes/${lc.amend}/approve`, undefined, { token: tk.district });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, '"2"');
    assert.deepEqual([r.json.status, r.json.version, r.json.decision_reason], ['approved', 2, null]);
    assert.deepEqual(await change(lc.amend, 'department'), r.json);
    // with a reason (and a matching If-Match)
    const a = await act('district', lc.add, 'approve', { reason: '同意，报市级审核。' }, { headers: { 'if-match': '"1"' } });
    assert.equal(a.status, 200, a.text);
    assert.deepEqual([a.json.status, a.json.decision_reason], ['approved', '同意，报市级审核。']);
  });

  test(`the district office enacts the amendment from a future date: enacted, revision 2`, async () => {
    const r = await act('district', lc.amend, 'enact', { city_ref: '烟长审〔2026〕12号', effective_from: F });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, '"3"');
    assert.deepEqual([r.json.status, r.json.city_ref, r.json.effective_from, r.json.revision, r.json.version],
      ['enacted', '烟长审〔2026〕12号', F, 2, 3]);
  });

  test('the versions: revision 1 ends on that date, revision 2 starts on it', async () => {
    const id = ids.get('ZRZY-01');
    const v = await get(d, `/v1/items/${id}/versions`, { token: tk.township });
    assert.equal(v.status, 200);
    assert.deepEqual(v.json.data.map(({ created_at, ...x }) => x), [
      { revision: 2, effective_from: F, effective_to: null, title: NEW_TITLE, source: 'list_change', list_change_id: lc.amend, lead_department_id: C.unit('CD-ZRZY') },
      { revision: 1, effective_from: '2026-01-01', effective_to: F, title: src('ZRZY-01').title, source: 'import', list_change_id: null, lead_department_id: C.unit('CD-ZRZY') },
    ]);
    // one per page
    const p1 = await get(d, `/v1/items/${id}/versions?limit=1`, { token: tk.township });
    assert.deepEqual(p1.json.data.map((x) => x.revision), [2]);
    assert.ok(p1.json.next_cursor);
    const p2 = await get(d, `/v1/items/${id}/versions?limit=1&cursor=${p1.json.next_cursor}`, { token: tk.township });
    assert.deepEqual(p2.json.data.map((x) => x.revision), [1]);
    assert.equal(p2.json.next_cursor, null);
  });

  test('the item on that date is the new revision; the day before and today the old one', async () => {
    const id = ids.get('ZRZY-01');
    const on = await get(d, `/v1/items/${id}?at=${F}`, { token: tk.integration });
    assert.deepEqual([on.json.title, on.json.revision, on.json.resolve_limit, on.json.effective_from, on.json.effective_to, on.json.status],
      [NEW_TITLE, 2, 10, F, null, 'active']);
    assert.equal(on.json.scenarios.length, 3, 'a proposal without scenarios keeps the manual');
    assert.ok(on.json.flow, 'and the flow');
    assert.equal(on.headers.etag, '"2"');
    for (const at of [addDays(F, -1), today]) {
      const old = await get(d, `/v1/items/${id}?at=${at}`, { token: tk.integration });
      assert.deepEqual([old.json.title, old.json.revision, old.json.resolve_limit, old.json.effective_to], [src('ZRZY-01').title, 1, 15, F], at);
    }
    const cur = await get(d, `/v1/items/${id}`, { token: tk.integration });
    assert.equal(cur.json.title, src('ZRZY-01').title, 'until its date the old revision is the one in force');
    const later = (await listAll(d, `/v1/items?at=${addDays(F, 30)}&domain=ZRZY`, tk.integration)).find((x) => x.code === 'ZRZY-01');
    assert.equal(later.title, NEW_TITLE);
  });

  test('the add enacted from today: the new item is listed, revision 1 from the list change, its SVG drawn', async () => {
    const r = await act('district', lc.add, 'enact', { city_ref: '烟长审〔2026〕13号', effective_from: today });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.json.status, r.json.revision], ['enacted', 1]);
    const x = (await listAll(d, '/v1/items?domain=ZRZY', tk.township)).find((i) => i.code === 'ZRZY-99');
    assert.ok(x, 'ZRZY-99 is listed');
    assert.deepEqual([x.title, x.revision, x.effective_from, x.status, x.lead_department_id, x.cooperating_department_ids],
      ['海岸带违规设置广告牌', 1, today, 'active', C.unit('CD-ZRZY'), [C.unit('CD-ZF'), C.unit('CD-ZJ')]]);
    const full = await get(d, `/v1/items/${x.id}`, { token: tk.township });
    assert.deepEqual(full.json.scenarios.map((s) => [s.seq, s.title, s.steps]), [[1, '新设广告牌', ['乡镇劝阻', '平台呼叫', '部门拆除']]]);
    const v = await get(d, `/v1/items/${x.id}/versions`, { token: tk.township });
    assert.deepEqual(v.json.data.map((e) => [e.revision, e.effective_from, e.effective_to, e.source, e.list_change_id]),
      [[1, today, null, 'list_change', lc.add]]);
    const svg = await get(d, `/v1/items/${x.id}/flow`, { token: tk.township, headers: { accept: 'image/svg+xml' } });
    assert.equal(svg.status, 200, svg.text);
    assert.ok(svg.text.includes('乡镇发现') && svg.text.includes('部门拆除'));
    ids.set('ZRZY-99', x.id);
  });

  test('a retirement: the item is retired from its date on, no new revision', async () => {
    const id = await pending('township', { kind: 'retire', item_code: 'ZRZY-02', reason: '职责已划转至市级部门。' });
    lc.retire = id;
    assert.equal((await change(id)).proposal, null);
    assert.equal((await act('district', id, 'approve', {})).status, 200);
    const r = await act('district', id, 'enact', { city_ref: '烟长审〔2026〕14号', effective_from: F2 });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.json.status, r.json.revision, r.json.effective_from], ['enacted', null, F2]);
    const item = ids.get('ZRZY-02');
    const on = await get(d, `/v1/items/${item}?at=${F2}`, { token: tk.department });
    assert.deepEqual([on.json.status, on.json.revision, on.json.effective_to], ['retired', 1, F2]);
    const before0 = await get(d, `/v1/items/${item}?at=${addDays(F2, -1)}`, { token: tk.department });
    assert.deepEqual([before0.json.status, before0.json.effective_to], ['active', F2]);
    assert.equal(on.headers.etag, '"2"', 'a retirement grows the version');
    assert.deepEqual((await listAll(d, `/v1/items?status=retired&at=${F2}`, tk.department)).map((x) => x.code), ['ZRZY-02']);
    assert.ok(!(await listAll(d, `/v1/items?at=${F2}`, tk.department)).some((x) => x.code === 'ZRZY-02'));
    assert.ok((await listAll(d, '/v1/items', tk.department)).some((x) => x.code === 'ZRZY-02'), 'still active today');
    const v = await get(d, `/v1/items/${item}/versions`, { token: tk.department });
    assert.deepEqual(v.json.data.map((e) => [e.revision, e.effective_from, e.effective_to]), [[1, '2026-01-01', F2]]);
  });

  test('a rejection: rejected with its reason, and final', async () => {
    const id = await pending('department', { kind: 'amend', item_code: 'ZRZY-03', proposal: proposalOf('ZRZY-03', { response_limit: '2h' }), reason: '缩短响应时限。' });
    lc.reject = id;
    const r = await act('district', id, 'reject', { reason: '时限已合理，不予调整。' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.json.status, r.json.decision_reason, r.json.version], ['rejected', '时限已合理，不予调整。', 2]);
    assert.equal(r.headers.etag, '"2"');
    expectState(await act('district', id, 'approve', {}), 'rejected');
    expectState(await act('district', id, 'enact', { city_ref: 'x', effective_from: F }), 'rejected');
    expectState(await act('district', id, 'reject', { reason: '再次驳回' }), 'rejected');
    const item = await get(d, `/v1/items/${ids.get('ZRZY-03')}?at=${F}`, { token: tk.district });
    assert.deepEqual([item.json.response_limit, item.json.revision], [src('ZRZY-03').response_limit, 1]);
  });
});

describe('illegal steps', () => {
  test('approve twice: 409 naming current_status approved; reject after approve too', async () => {
    const id = await approved('department', { kind: 'retire', item_code: 'ZRZY-04', reason: '测试' });
    expectState(await act('district', id, 'approve', {}), 'approved');
    expectState(await act('district', id, 'reject', { reason: '改主意了' }), 'approved');
    assert.equal((await change(id)).status, 'approved');
  });

  test('enact before approve: 409 naming current_status pending; enact twice: 409 enacted', async () => {
    const id = await pending('department', { kind: 'retire', item_code: 'ZRZY-05', reason: '测试' });
    expectState(await act('district', id, 'enact', { city_ref: 'x', effective_from: F }), 'pending');
    assert.equal((await change(id)).status, 'pending');
    expectState(await act('district', lc.amend, 'enact', { city_ref: 'x', effective_from: F }), 'enacted');
    expectState(await act('district', lc.amend, 'approve', {}), 'enacted');
    expectState(await act('district', lc.amend, 'reject', { reason: '晚了' }), 'enacted');
  });

  test('a township or a department deciding: 403; integration may not use list changes at all', async () => {
    const id = await pending('township', { kind: 'retire', item_code: 'ZRZY-06', reason: '测试' });
    for (const who of ['township', 'department', 'integration']) {
      expectProblem(await act(who, id, 'approve', {}), 403);
      expectProblem(await act(who, id, 'reject', { reason: 'x' }), 403);
      expectProblem(await act(who, id, 'enact', { city_ref: 'x', effective_from: F }), 403);
    }
    assert.equal((await change(id)).status, 'pending');
    const n = (await listAll(d, '/v1/list-changes', tk.district)).length;
    expectProblem(await submit('integration', { kind: 'retire', item_code: 'ZRZY-07', reason: '测试' }), 403);
    expectProblem(await get(d, '/v1/list-changes', { token: tk.integration }), 403);
    expectProblem(await get(d, `/v1/list-changes/${id}`, { token: tk.integration }), 403);
    assert.equal((await listAll(d, '/v1/list-changes', tk.district)).length, n);
  });

  test('If-Match: a stale "\\"99\\"" is 412 and changes nothing; checked before the state', async () => {
    const id = await pending('department', { kind: 'retire', item_code: 'ZRZY-07', reason: '测试' });
    for (const [action, body] of [['approve', {}], ['reject', { reason: 'x' }], ['enact', { city_ref: 'x', effective_from: F }]]) {
      expectProblem(await act('district', id, action, body, { headers: { 'if-match': '"99"' } }), 412);
    }
    for (const tag of ['*', 'W/"1"', '1']) expectProblem(await act('district', id, 'approve', {}, { headers: { 'if-match': tag } }), 412);
    assert.deepEqual([(await change(id)).status, (await change(id)).version], ['pending', 1]);
    assert.equal((await act('district', id, 'approve', {}, { headers: { 'if-match': '"1"' } })).status, 200);
    // on an approved change a stale tag is still 412, not 409
    expectProblem(await act('district', id, 'approve', {}, { headers: { 'if-match': '"1"' } }), 412);
  });

  test('enact with an effective_from in the past: 422 naming effective_from, nothing enacted', async () => {
    const id = await approved('department', { kind: 'retire', item_code: 'ZRZY-08', reason: '测试' });
    const r = await act('district', id, 'enact', { city_ref: 'x', effective_from: addDays(today, -1) });
    expectProblem(r, 422);
    assert.deepEqual(r.json.errors.map((e) => e.field), ['effective_from']);
    for (const [body, field] of [[{ effective_from: F }, 'city_ref'], [{ city_ref: 'x' }, 'effective_from'],
      [{ city_ref: 'x', effective_from: 'soon' }, 'effective_from'], [{ city_ref: '', effective_from: F }, 'city_ref'],
      [{ city_ref: 'x'.repeat(101), effective_from: F }, 'city_ref'], [{ city_ref: 'x', effective_from: F, revision: 5 }, 'revision']]) {
      const b = await act('district', id, 'enact', body);
      expectProblem(b, 422);
      assert.deepEqual(b.json.errors.map((e) => e.field), [field], JSON.stringify(body));
    }
    assert.equal((await change(id)).status, 'approved');
    assert.equal((await get(d, `/v1/items/${ids.get('ZRZY-08')}`, { token: tk.district })).json.effective_to, null);
  });

  test('enact: the checks come in the order of DESIGN §5: 422 (a past date), then 404, 412, 409', async () => {
    const past = addDays(today, -1);
    const future = addDays(today, 30);
    const bad = await act('district', 999999999, 'enact', { city_ref: 'x', effective_from: past });
    expectProblem(bad, 422);
    assert.deepEqual(bad.json.errors.map((e) => e.field), ['effective_from']);
    expectProblem(await act('district', 999999999, 'enact', { city_ref: 'x', effective_from: future }), 404);
    const id = await pending('department', { kind: 'retire', item_code: 'SCJG-01', reason: '测试' });
    expectProblem(await act('district', id, 'enact', { city_ref: 'x', effective_from: past }), 422);
    expectProblem(await act('district', id, 'enact', { city_ref: 'x', effective_from: future }, { headers: { 'if-match': '"99"' } }), 412);
    expectState(await act('district', id, 'enact', { city_ref: 'x', effective_from: future }), 'pending');
  });

  test('an amendment enacted before a revision already scheduled: 409, nothing changes', async () => {
    const id = await approved('department', { kind: 'amend', item_code: 'ZRZY-01', proposal: proposalOf('ZRZY-01', { title: '又一次修订' }), reason: '测试' });
    const r = await act('district', id, 'enact', { city_ref: 'x', effective_from: today });
    expectProblem(r, 409);
    assert.equal((await change(id)).status, 'approved');
    const v = await get(d, `/v1/items/${ids.get('ZRZY-01')}/versions`, { token: tk.district });
    assert.deepEqual(v.json.data.map((e) => e.revision), [2, 1]);
  });

  test('add for an existing code: 409; amend or retire of an unknown code: 422 naming item_code', async () => {
    const n = (await listAll(d, '/v1/list-changes', tk.district)).length;
    expectProblem(await submit('township', { kind: 'add', item_code: 'ZRZY-01', proposal: proposalOf('ZRZY-01'), reason: '测试' }), 409);
    expectProblem(await submit('township', { kind: 'add', item_code: 'ZRZY-99', proposal: proposalOf('ZRZY-01'), reason: '测试' }), 409);
    for (const body of [
      { kind: 'amend', item_code: 'NOPE-01', proposal: proposalOf('ZRZY-01'), reason: '测试' },
      { kind: 'retire', item_code: 'NOPE-01', reason: '测试' },
    ]) {
      const r = await submit('department', body);
      expectProblem(r, 422);
      assert.deepEqual(r.json.errors.map((e) => e.field), ['item_code'], body.kind);
    }
    assert.equal((await listAll(d, '/v1/list-changes', tk.district)).length, n, 'nothing was submitted');
  });

  test('a proposal with a bad field: 422 naming proposal.<field>', async () => {
    const n = (await listAll(d, '/v1/list-changes', tk.district)).length;
    const base = proposalOf('ZRZY-05');
    const { title: _t, ...noTitle } = base;
    const cases = [
      [noTitle, 'proposal.title'],
      [{ ...base, resolve_limit_days: 999 }, 'proposal.resolve_limit_days'],
      [{ ...base, response_limit: '3 days' }, 'proposal.response_limit'],
      [{ ...base, lead_department_code: 'CD-NOPE' }, 'proposal.lead_department_code'],
      [{ ...base, lead_department_code: 'TS-NCS' }, 'proposal.lead_department_code'],
      [{ ...base, cooperating_department_codes: ['CD-NOPE'] }, 'proposal.cooperating_department_codes'],
      [{ ...base, domain_code: 'NOPE' }, 'proposal.domain_code'],
      [{ ...base, colour: 'red' }, 'proposal.colour'],
      [{ ...base, scenarios: [{ steps: ['a'] }] }, 'proposal.scenarios[0].title'],
      [{ ...base, flow: { nodes: [] } }, 'proposal.flow'],
      [{ ...base, code: 'ZRZY-05' }, 'proposal'],
      ['a string', 'proposal'],
    ];
    for (const [proposal, field] of cases) {
      const r = await submit('department', { kind: 'amend', item_code: 'ZRZY-05', proposal, reason: '测试' });
      expectProblem(r, 422);
      assert.deepEqual(r.json.errors.map((e) => e.field), [field], JSON.stringify(proposal).slice(0, 200));
    }
    for (const [body, field] of [
      [{ kind: 'amend', item_code: 'ZRZY-05', reason: '没有提案' }, 'proposal'],
      [{ kind: 'add', item_code: 'NEW-01', reason: '没有提案' }, 'proposal'],
      [{ kind: 'retire', item_code: 'ZRZY-05', proposal: base, reason: '多余的提案' }, 'proposal'],
      [{ kind: 'rename', item_code: 'ZRZY-05', reason: 'x' }, 'kind'],
      [{ kind: 'retire', item_code: 'ZRZY 05', reason: 'x' }, 'item_code'],
      [{ kind: 'retire', item_code: 'ZRZY-05', reason: '' }, 'reason'],
      [{ kind: 'retire', item_code: 'ZRZY-05', reason: '长'.repeat(2001) }, 'reason'],
      [{ kind: 'retire', item_code: 'ZRZY-05' }, 'reason'],
      [{ kind: 'retire', item_code: 'ZRZY-05', reason: 'x', status: 'enacted' }, 'status'],
    ]) {
      const r = await submit('department', body);
      expectProblem(r, 422);
      assert.deepEqual(r.json.errors.map((e) => e.field), [field], JSON.stringify(body).slice(0, 200));
    }
    assert.equal((await listAll(d, '/v1/list-changes', tk.district)).length, n, 'nothing was submitted');
  });

  test('a change of another district, or none: 404', async () => {
    const other = tokenFor(d, fixtures().B, 'district');
    for (const p of [`/v1/list-changes/${lc.amend}`, '/v1/list-changes/999999999']) {
      expectProblem(await get(d, p, { token: p.includes('999999999') ? tk.district : other }), 404);
    }
    expectProblem(await post(d, `/v1/list-changes/${lc.reject}/approve`, {}, { token: other }), 404);
    expectProblem(await post(d, '/v1/list-changes/999999999/approve', {}, { token: tk.district }), 404);
    assert.ok(!(await listAll(d, '/v1/list-changes', other)).some((c) => Object.values(lc).includes(c.id)));
  });

  test('Idempotency-Key: a replay answers the stored change, marked replayed', async () => {
    const body = { kind: 'retire', item_code: 'SCJG-02', reason: '幂等测试' };
    const a = await submit('township', body, { headers: { 'idempotency-key': 'lc-replay-1' } });
    assert.equal(a.status, 201, a.text);
    const b = await submit('township', body, { headers: { 'idempotency-key': 'lc-replay-1' } });
    assert.equal(b.status, 201);
    assert.equal(b.headers['idempotency-replayed'], 'true');
    assert.deepEqual(b.json, a.json);
    assert.equal(b.headers.location, a.headers.location);
    assert.equal((await listAll(d, '/v1/list-changes', tk.township)).filter((c) => c.item_code === 'SCJG-02').length, 1);
  });
});

describe('visibility', () => {
  test('a township sees only the changes its own unit submitted', async () => {
    const mine = await listAll(d, '/v1/list-changes', tk.township);
    assert.ok(mine.length >= 3);
    assert.ok(mine.every((c) => c.submitted_by_unit_id === C.unit('TS-NCS')));
    assert.ok(mine.some((c) => c.id === lc.add) && mine.some((c) => c.id === lc.retire));
    assert.ok(!mine.some((c) => c.id === lc.amend));
    expectProblem(await get(d, `/v1/list-changes/${lc.amend}`, { token: tk.township }), 404);
    assert.equal((await get(d, `/v1/list-changes/${lc.add}`, { token: tk.township })).status, 200);
    // another township sees none of them
    assert.deepEqual(await listAll(d, '/v1/list-changes', tk.township2), []);
    for (const id of Object.values(lc)) expectProblem(await get(d, `/v1/list-changes/${id}`, { token: tk.township2 }), 404);
  });

  test('a department the same; another department sees nothing', async () => {
    const mine = await listAll(d, '/v1/list-changes', tk.department);
    assert.ok(mine.every((c) => c.submitted_by_unit_id === C.unit('CD-ZRZY')));
    assert.ok(mine.some((c) => c.id === lc.amend) && mine.some((c) => c.id === lc.reject));
    expectProblem(await get(d, `/v1/list-changes/${lc.add}`, { token: tk.department }), 404);
    assert.deepEqual(await listAll(d, '/v1/list-changes', tk.department2), []);
    expectProblem(await get(d, `/v1/list-changes/${lc.amend}`, { token: tk.department2 }), 404);
  });

  test('the district office sees all, newest first; the status filter; pages of 2', async () => {
    const all = await listAll(d, '/v1/list-changes', tk.district);
    const both = [...await listAll(d, '/v1/list-changes', tk.township), ...await listAll(d, '/v1/list-changes', tk.department)];
    assert.deepEqual(new Set(all.map((c) => c.id)), new Set(both.map((c) => c.id)));
    assert.deepEqual(all.map((c) => c.id), [...all.map((c) => c.id)].sort((a, b) => b - a), 'newest first');
    for (const status of ['pending', 'approved', 'rejected', 'enacted']) {
      const some = await listAll(d, `/v1/list-changes?status=${status}`, tk.district);
      assert.ok(some.length > 0, status);
      assert.deepEqual(some, all.filter((c) => c.status === status), status);
    }
    const mineEnacted = await listAll(d, '/v1/list-changes?status=enacted', tk.township);
    assert.deepEqual(mineEnacted.map((c) => c.id).sort(), [lc.add, lc.retire].sort());
    const seen = [];
    let cursor = null;
    do {
      const r = await get(d, `/v1/list-changes?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: tk.district });
      assert.ok(r.json.data.length <= 2);
      seen.push(...r.json.data.map((c) => c.id));
      cursor = r.json.next_cursor;
    } while (cursor);
    assert.deepEqual(seen, all.map((c) => c.id));
    const bad = await get(d, '/v1/list-changes?status=done', { token: tk.district });
    expectProblem(bad, 422);
    assert.deepEqual(bad.json.errors.map((e) => e.field), ['status']);
  });
});

describe('events', () => {
  const types = (type, id) => eventsOf(C.id, type, id);

  test('every step of a list change writes an event; enacting writes the item event', () => {
    let ev = types('list_change', lc.amend);
    assert.deepEqual(ev.map((e) => [e.type, e.role]), [
      ['list_change.submitted', 'department'], ['list_change.approved', 'district'], ['list_change.enacted', 'district']]);
    assert.deepEqual(ev[0].data, { kind: 'amend', item_code: 'ZRZY-01' });
    assert.equal(ev[2].data.city_ref, '烟长审〔2026〕12号');
    assert.equal(ev[2].data.effective_from, F);
    ev = types('item', ids.get('ZRZY-01'));
    assert.deepEqual(ev.map((e) => e.type), ['item.created', 'item.revised']);
    assert.deepEqual(ev[1].data, { revision: 2, effective_from: F, source: 'list_change', list_change_id: lc.amend });
    assert.equal(ev[1].role, 'district');

    assert.deepEqual(types('list_change', lc.add).map((e) => [e.type, e.role]), [
      ['list_change.submitted', 'township'], ['list_change.approved', 'district'], ['list_change.enacted', 'district']]);
    assert.equal(types('list_change', lc.add)[1].data.reason, '同意，报市级审核。');
    ev = types('item', ids.get('ZRZY-99'));
    assert.deepEqual(ev.map((e) => [e.type, e.data.list_change_id, e.data.revision]), [['item.created', lc.add, 1]]);

    assert.deepEqual(types('list_change', lc.retire).map((e) => e.type), ['list_change.submitted', 'list_change.approved', 'list_change.enacted']);
    ev = types('item', ids.get('ZRZY-02'));
    assert.deepEqual(ev.map((e) => e.type), ['item.created', 'item.retired']);
    assert.deepEqual(ev[1].data, { effective_from: F2, list_change_id: lc.retire });

    ev = types('list_change', lc.reject);
    assert.deepEqual(ev.map((e) => e.type), ['list_change.submitted', 'list_change.rejected']);
    assert.equal(ev[1].data.reason, '时限已合理，不予调整。');
    assert.deepEqual(types('item', ids.get('ZRZY-03')).map((e) => e.type), ['item.created']);
  });

  test('refused steps write no event', async () => {
    const count = () => Number(psql(`select count(*) from huying.events where district_id = ${C.id}`));
    const n = count();
    assert.ok(n > 0);
    expectState(await act('district', lc.reject, 'approve', {}), 'rejected');
    expectProblem(await act('township', lc.amend, 'approve', {}), 403);
    expectProblem(await submit('integration', { kind: 'retire', item_code: 'ZRZY-07', reason: 'x' }), 403);
    expectProblem(await submit('department', { kind: 'amend', item_code: 'ZRZY-05', proposal: { title: 'x' }, reason: 'x' }), 422);
    expectProblem(await act('district', lc.amend, 'enact', { city_ref: 'x', effective_from: F }, { headers: { 'if-match': '"99"' } }), 412);
    assert.equal(count(), n);
  });
});
