// Working time (issue 5, first part; DESIGN §5 "Timers, calendar, supervision"): the
// calendar of a year (GET/PUT /v1/calendar/{year}, POST /v1/imports/calendar), the SLA
// policies (GET /v1/sla-policies, PUT /v1/sla-policies/{urgency}) and the settings
// (GET/PUT /v1/settings): answers, If-Match and 412, 422 naming the field, roles; and calls
// created after a calendar or policy edit get deadlines counted over it. The arithmetic
// itself is checked case by case in tests/sql/05_calendar.sql. Runs before the calls tests
// (93–99), whose districts have no calendar.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { expectProblem, get, psql, request, startDaemon } from './lib.mjs';
import { callsApi, callsWorld, expect422, fields, HOUR, MIN, ms } from './calls_helpers.mjs';
import { at, dateOf, DEFAULT_HOURS, demoCalendar2026, workingTime } from './calendar_helpers.mjs';
import { demoCsv, demoFile, expectImported, importBody, todayShanghai } from './list_helpers.mjs';

let d;
let C; // this file's district (demo units and the imported list); gets the demo calendar
let B; // another district, no calendar
let tk;

const w = {};
const { created } = callsApi(w);

before(async () => {
  d = await startDaemon();
  Object.assign(w, await callsWorld(d, 'CA'));
  ({ C, B, tk } = w);
});
after(async () => { await d.stop(); });

const put = (who, path, body, headers = {}) => request(d, 'PUT', path, { token: tk[who], body, headers });
const calendar = (year, who = 'district') => get(d, `/v1/calendar/${year}`, { token: tk[who] });
const ifMatch = (v) => ({ 'if-match': `"${v}"` });
const importCalendar = (body, opts = {}) => importBody(d, tk.district, 'calendar', body, opts);
const calendarEvents = (districtId, year) => Number(psql(`select count(*) from huying.events
  where district_id = ${Number(districtId)} and subject_type = 'calendar' and subject_id = ${Number(year)} and type = 'calendar.updated'`));

const DEMO_DAYS = demoCsv('calendar-2026').rows.map((r) => ({ date: r.date, kind: r.kind, name: r.name }));

describe('the calendar of a year', () => {
  test('a year the district never wrote: 200, the default office hours, no days, version 0, for every role', async () => {
    for (const who of ['township', 'department', 'district', 'integration']) {
      const r = await calendar(2026, who);
      assert.equal(r.status, 200, `${who}: ${r.text}`);
      assert.equal(r.headers.etag, '"0"');
      assert.deepEqual(r.json, { year: 2026, office_hours: DEFAULT_HOURS, days: [], version: 0, updated_at: null });
    }
  });

  test('a year outside 2000–2100 → 422 naming year; not a number → 404', async () => {
    for (const y of [1999, 2101, 1, 99999]) expect422(await calendar(y), 'year');
    expectProblem(await get(d, '/v1/calendar/twenty', { token: tk.district }), 404, 'no such route');
    expectProblem(await get(d, '/v1/calendar/02026', { token: tk.district }), 404, 'no such route');
  });

  test('import the demo calendar: a dry run writes nothing; then 39 days in; again: unchanged', async () => {
    const csv = demoFile('calendar-2026.csv');
    expectImported(await importCalendar(csv, { query: { dry_run: 'true' } }), { rows: 39, inserted: 39, dryRun: true });
    assert.equal((await calendar(2026)).json.version, 0, 'the dry run was rolled back');
    expectImported(await importCalendar(csv), { rows: 39, inserted: 39 });
    const r = await calendar(2026, 'township');
    assert.equal(r.headers.etag, '"1"');
    assert.deepEqual({ ...r.json, updated_at: 0 }, { year: 2026, office_hours: DEFAULT_HOURS, days: DEMO_DAYS, version: 1, updated_at: 0 });
    expectImported(await importCalendar(csv), { rows: 39, unchanged: 39 });
    assert.equal((await calendar(2026)).json.version, 1, 'an unchanged import writes nothing');
    assert.equal(calendarEvents(C.id, 2026), 1, 'one calendar.updated event');
    const ev = JSON.parse(psql(`select data from huying.events where district_id = ${C.id} and subject_type = 'calendar'`));
    assert.deepEqual(ev, { year: 2026, source: 'import', inserted: 39, updated: 0 });
  });

  test('an NDJSON import merges: a new day, a renamed day, into two years; the others stay', async () => {
    const body = [
      { date: '2026-01-04', kind: 'workday', name: '元旦后调休' },
      { date: '2027-01-01', kind: 'holiday', name: '元旦' },
    ].map((x) => JSON.stringify(x)).join('\n');
    expectImported(await importCalendar(body, { type: 'ndjson' }), { rows: 2, inserted: 1, updated: 1 });
    const y26 = (await calendar(2026)).json;
    assert.equal(y26.version, 2);
    assert.equal(y26.days.length, 39);
    assert.deepEqual(y26.days.find((x) => x.date === '2026-01-04'), { date: '2026-01-04', kind: 'workday', name: '元旦后调休' });
    const y27 = (await calendar(2027)).json;
    assert.deepEqual([y27.version, y27.days], [1, [{ date: '2027-01-01', kind: 'holiday', name: '元旦' }]]);
    // put the demo name back (for the deadline tests below nothing depends on names)
    expectImported(await importCalendar('date,kind,name\r\n2026-01-04,workday,元旦调休上班\r\n'), { rows: 1, updated: 1 });
  });

  test('an import with bad rows → 422 naming each {line, field}; nothing written', async () => {
    const bad = 'date,kind,name,note\r\n2026-02-30,holiday,x,\r\n2026-03-01,off,\r\n2026-03-02,holiday,ok\r\n'
      + `2026-03-02,workday,${'长'.repeat(51)}\r\n2026-03-03,holiday,a,b\r\n,holiday,\r\n`;
    const r = await importCalendar(bad);
    expectProblem(r, 422, '6 problem(s) in the file; nothing was written');
    assert.equal(r.json.rows, 6);
    assert.deepEqual(r.json.errors.map((e) => [e.line, e.field]),
      [[2, 'date'], [3, 'kind'], [5, 'date'], [5, 'name'], [6, 'note'], [7, 'date']]);
    assert.equal(r.json.errors[2].message, 'appears more than once in the file (first on line 4)');
    assert.equal((await calendar(2026)).json.version, 3, 'nothing changed');
  });

  test('PUT a year: If-Match "0" for a year never written; 200 with the calendar and ETag "1"; GET agrees', async () => {
    const body = {
      office_hours: [['09:00', '12:00'], ['14:00', '18:00']],
      days: [{ date: '2028-01-03', kind: 'holiday', name: '测试假日' }, { date: '2028-01-01', kind: 'workday', name: null }],
    };
    const r = await put('district', '/v1/calendar/2028', body, ifMatch(0));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, '"1"');
    assert.deepEqual({ ...r.json, updated_at: 0 }, {
      year: 2028, office_hours: body.office_hours, version: 1, updated_at: 0,
      days: [{ date: '2028-01-01', kind: 'workday', name: null }, { date: '2028-01-03', kind: 'holiday', name: '测试假日' }],
    });
    assert.ok(Math.abs(ms(r.json.updated_at) - Date.now()) < 5 * MIN);
    assert.deepEqual((await calendar(2028, 'department')).json, r.json);
    assert.equal(calendarEvents(C.id, 2028), 1);
    // the same again (no If-Match): unchanged, no new version, no event
    const again = await put('district', '/v1/calendar/2028', body);
    assert.equal(again.status, 200, again.text);
    assert.deepEqual([again.headers.etag, again.json], ['"1"', r.json]);
    assert.equal(calendarEvents(C.id, 2028), 1);
  });

  test('PUT with a stale If-Match → 412, nothing changed; with the current one → 200, the days replaced', async () => {
    const before = (await calendar(2028)).json;
    expectProblem(await put('district', '/v1/calendar/2028', { office_hours: DEFAULT_HOURS, days: [] }, ifMatch(0)), 412,
      'the calendar of 2028 is at version 1');
    assert.deepEqual((await calendar(2028)).json, before);
    const r = await put('district', '/v1/calendar/2028', { office_hours: DEFAULT_HOURS, days: [] }, ifMatch(1));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.headers.etag, r.json.version, r.json.days, r.json.office_hours], ['"2"', 2, [], DEFAULT_HOURS]);
  });

  test('PUT bodies that are not a calendar → 422 naming the field, nothing changed', async () => {
    const okHours = DEFAULT_HOURS;
    const cases = [
      [{ office_hours: [['09:00', '12:00'], ['11:00', '17:00']], days: [] }, ['office_hours[1]']],
      [{ office_hours: [['8:30', '12:00']], days: [] }, ['office_hours[0]']],
      [{ office_hours: [['12:00', '08:30']], days: [] }, ['office_hours[0]']],
      [{ office_hours: [['08:30', '24:00']], days: [] }, ['office_hours[0]']],
      [{ office_hours: [['08:30']], days: [] }, ['office_hours[0]']],
      [{ office_hours: [], days: [] }, ['office_hours']],
      [{ office_hours: 'all day', days: [] }, ['office_hours']],
      [{ office_hours: okHours }, ['days']],
      [{ office_hours: okHours, days: {} }, ['days']],
      [{ office_hours: okHours, days: [], year: 2028 }, ['year']],
      [{ office_hours: okHours, days: [{ date: '2028-02-30', kind: 'holiday' }] }, ['days[0].date']],
      [{ office_hours: okHours, days: [{ date: '2027-12-31', kind: 'holiday' }] }, ['days[0].date']],
      [{ office_hours: okHours, days: [{ date: '2028-05-01', kind: 'holiday' }, { date: '2028-05-01', kind: 'workday' }] }, ['days[1].date']],
      [{ office_hours: okHours, days: [{ date: '2028-05-01', kind: 'rest' }] }, ['days[0].kind']],
      [{ office_hours: okHours, days: [{ date: '2028-05-01' }] }, ['days[0].kind']],
      [{ office_hours: okHours, days: [{ date: '2028-05-01', kind: 'holiday', name: '长'.repeat(51) }] }, ['days[0].name']],
      [{ office_hours: okHours, days: [{ date: '2028-05-01', kind: 'holiday', name: '' }] }, ['days[0].name']],
      [{ office_hours: okHours, days: [{ date: '2028-05-01', kind: 'holiday', why: 'x' }] }, ['days[0].why']],
      [{ office_hours: okHours, days: ['2028-05-01'] }, ['days[0]']],
      [{ office_hours: [['09:00', '08:00']], days: [{ date: 20280501, kind: 'holiday' }] }, ['office_hours[0]', 'days[0].date']],
    ];
    const before = (await calendar(2028)).json;
    for (const [body, want] of cases) {
      const r = await put('district', '/v1/calendar/2028', body);
      expectProblem(r, 422);
      assert.deepEqual(fields(r), want, `${JSON.stringify(body)}: ${r.text}`);
    }
    expect422(await put('district', '/v1/calendar/1999', { office_hours: okHours, days: [] }), 'year');
    assert.deepEqual((await calendar(2028)).json, before);
  });

  test('PUT by township, department, integration → 403; another district reads and writes only its own', async () => {
    for (const who of ['township', 'department', 'integration']) {
      expectProblem(await put(who, '/v1/calendar/2026', { office_hours: DEFAULT_HOURS, days: [] }), 403, 'this role may not use this route');
    }
    const b = await calendar(2026, 'bDistrict');
    assert.deepEqual([b.status, b.json.version, b.json.days], [200, 0, []]);
    const r = await put('bDistrict', '/v1/calendar/2026', { office_hours: DEFAULT_HOURS, days: [{ date: '2026-03-02', kind: 'holiday', name: '乙区' }] });
    assert.equal(r.status, 200, r.text);
    assert.equal((await calendar(2026)).json.days.length, 39, 'C\'s calendar is untouched');
    assert.equal(calendarEvents(B.id, 2026), 1);
  });
});

describe('SLA policies', () => {
  const BUILT_IN = [
    { urgency: 'normal', accept: { working_days: 1 }, resolve: { working_days: 5 }, triage: { working_days: 1 }, warn_percent: 75, version: 0, updated_at: null },
    { urgency: 'urgent', accept: { minutes: 120, clock: 'wall' }, resolve: { working_days: 3 }, triage: { minutes: 60, clock: 'wall' }, warn_percent: 75, version: 0, updated_at: null },
    { urgency: 'emergency', accept: { minutes: 30, clock: 'wall' }, resolve: { minutes: 1440, clock: 'wall' }, triage: { minutes: 15, clock: 'wall' }, warn_percent: 75, version: 0, updated_at: null },
  ];
  const URGENT = { accept: { minutes: 60, clock: 'working' }, resolve: { working_days: 2 }, triage: { minutes: 30, clock: 'wall' }, warn_percent: 80 };

  test('GET: the three built-in policies (version 0), for every role', async () => {
    for (const who of ['township', 'department', 'district', 'integration']) {
      const r = await get(d, '/v1/sla-policies', { token: tk[who] });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { data: BUILT_IN });
    }
  });

  test('PUT /v1/sla-policies/urgent with If-Match "0": 200, version 1; GET shows it; the others stay built in', async () => {
    const r = await put('district', '/v1/sla-policies/urgent', URGENT, ifMatch(0));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.etag, '"1"');
    assert.deepEqual({ ...r.json, updated_at: 0 }, { urgency: 'urgent', ...URGENT, version: 1, updated_at: 0 });
    const g = (await get(d, '/v1/sla-policies', { token: tk.department })).json.data;
    assert.deepEqual(g, [BUILT_IN[0], r.json, BUILT_IN[2]]);
    expectProblem(await put('district', '/v1/sla-policies/urgent', { ...URGENT, warn_percent: 90 }, ifMatch(0)), 412,
      'the urgent policy is at version 1');
    // the same policy again: unchanged
    const same = await put('district', '/v1/sla-policies/urgent', URGENT, ifMatch(1));
    assert.deepEqual([same.status, same.headers.etag, same.json], [200, '"1"', r.json]);
    assert.equal(Number(psql(`select count(*) from huying.events where district_id = ${C.id} and type = 'sla_policy.updated'`)), 1);
    // B's policies are its own
    assert.deepEqual((await get(d, '/v1/sla-policies', { token: tk.bDistrict })).json.data, BUILT_IN);
  });

  test('bodies that are not a policy → 422 naming the field', async () => {
    const cases = [
      [{ ...URGENT, accept: { minutes: 0, clock: 'wall' } }, ['accept.minutes']],
      [{ ...URGENT, accept: { minutes: 525601, clock: 'wall' } }, ['accept.minutes']],
      [{ ...URGENT, accept: { minutes: 1.5, clock: 'wall' } }, ['accept.minutes']],
      [{ ...URGENT, accept: { minutes: 60, clock: 'office' } }, ['accept.clock']],
      [{ ...URGENT, accept: { minutes: 60 } }, ['accept.clock']],
      [{ ...URGENT, resolve: { working_days: 0 } }, ['resolve.working_days']],
      [{ ...URGENT, resolve: { working_days: 366 } }, ['resolve.working_days']],
      [{ ...URGENT, resolve: { working_days: 2, minutes: 60 } }, ['resolve']],
      [{ ...URGENT, resolve: { minutes: 60, clock: 'wall', days: 1 } }, ['resolve']],
      [{ ...URGENT, triage: { hours: 1 } }, ['triage']],
      [{ ...URGENT, triage: 60 }, ['triage']],
      [{ accept: URGENT.accept, resolve: URGENT.resolve, warn_percent: 75 }, ['triage']],
      [{ ...URGENT, warn_percent: 100 }, ['warn_percent']],
      [{ ...URGENT, warn_percent: 0 }, ['warn_percent']],
      [{ ...URGENT, urgency: 'urgent' }, ['urgency']],
      [{ ...URGENT, accept: { minutes: 0, clock: 'x' }, triage: {} }, ['accept.minutes', 'accept.clock', 'triage']],
    ];
    for (const [body, want] of cases) {
      const r = await put('district', '/v1/sla-policies/normal', body);
      expectProblem(r, 422);
      assert.deepEqual(fields(r), want, `${JSON.stringify(body)}: ${r.text}`);
    }
    assert.deepEqual((await get(d, '/v1/sla-policies', { token: tk.district })).json.data[0], BUILT_IN[0]);
  });

  test('PUT by township, department, integration → 403; unknown urgency → 404', async () => {
    for (const who of ['township', 'department', 'integration']) {
      expectProblem(await put(who, '/v1/sla-policies/urgent', URGENT), 403, 'this role may not use this route');
    }
    expectProblem(await put('district', '/v1/sla-policies/critical', URGENT), 404, 'no such route');
  });
});

describe('settings', () => {
  const DEFAULTS = {
    reopen_days: 7, auto_close_days: 7, escalation_grace_days: 1, extension_lead_days: 1,
    weight_response: 0.3, weight_resolution: 0.3, weight_satisfaction: 0.4, penalty: 2, version: 0, updated_at: null,
  };
  const NEW = {
    reopen_days: 10, auto_close_days: 5, escalation_grace_days: 2, extension_lead_days: 0,
    weight_response: 0.25, weight_resolution: 0.3525, weight_satisfaction: 0.3975, penalty: 1.5,
  };

  test('GET: the defaults (version 0) for township, department and district; integration → 403', async () => {
    for (const who of ['township', 'department', 'district']) {
      const r = await get(d, '/v1/settings', { token: tk[who] });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual([r.headers.etag, r.json], ['"0"', DEFAULTS]);
    }
    expectProblem(await get(d, '/v1/settings', { token: tk.integration }), 403, 'this role may not use this route');
  });

  test('PUT with If-Match "0": 200, version 1; a stale If-Match → 412; the same again: unchanged; B stays on the defaults', async () => {
    const r = await put('district', '/v1/settings', NEW, ifMatch(0));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.headers.etag, { ...r.json, updated_at: 0 }], ['"1"', { ...NEW, version: 1, updated_at: 0 }]);
    assert.deepEqual((await get(d, '/v1/settings', { token: tk.township })).json, r.json);
    expectProblem(await put('district', '/v1/settings', { ...NEW, reopen_days: 3 }, ifMatch(0)), 412, 'the settings are at version 1');
    const same = await put('district', '/v1/settings', NEW, ifMatch(1));
    assert.deepEqual([same.status, same.headers.etag, same.json], [200, '"1"', r.json]);
    assert.deepEqual(JSON.parse(psql(`select jsonb_agg(data) from huying.events where district_id = ${C.id} and type = 'settings.updated'`)),
      [NEW]);
    assert.deepEqual((await get(d, '/v1/settings', { token: tk.bDistrict })).json, DEFAULTS);
  });

  test('bodies that are not the full settings → 422 naming the field; other roles → 403', async () => {
    const cases = [
      [{ ...NEW, reopen_days: 0 }, ['reopen_days']],
      [{ ...NEW, reopen_days: 366 }, ['reopen_days']],
      [{ ...NEW, auto_close_days: '7' }, ['auto_close_days']],
      [{ ...NEW, escalation_grace_days: 31 }, ['escalation_grace_days']],
      [{ ...NEW, extension_lead_days: -1 }, ['extension_lead_days']],
      [{ reopen_days: 7, auto_close_days: 7, escalation_grace_days: 1, weight_response: 0.3, weight_resolution: 0.3,
         weight_satisfaction: 0.4, penalty: 2 }, ['extension_lead_days']],
      [{ reopen_days: 7, auto_close_days: 7, escalation_grace_days: 1, extension_lead_days: 1 },
        ['weight_response', 'weight_resolution', 'weight_satisfaction', 'penalty']],
      [{ ...NEW, weight_response: 1.5 }, ['weight_response']],
      [{ ...NEW, weight_resolution: -0.1 }, ['weight_resolution']],
      [{ ...NEW, weight_satisfaction: '0.4' }, ['weight_satisfaction']],
      [{ ...NEW, weight_response: 0.25001 }, ['weight_response']],
      [{ ...NEW, penalty: 100.5 }, ['penalty']],
      [{ ...NEW, penalty: -1 }, ['penalty']],
      // the three weights must add up to 1 (SQL names all three)
      [{ ...NEW, weight_response: 0.3 }, ['weight_response', 'weight_resolution', 'weight_satisfaction']],
      [{ ...NEW, weight_response: 0, weight_resolution: 0, weight_satisfaction: 0 },
        ['weight_response', 'weight_resolution', 'weight_satisfaction']],
      [{ ...NEW, version: 5 }, ['version']],
    ];
    for (const [body, want] of cases) {
      const r = await put('district', '/v1/settings', body);
      expectProblem(r, 422);
      assert.deepEqual(fields(r), want, `${JSON.stringify(body)}: ${r.text}`);
    }
    for (const who of ['township', 'department', 'integration']) {
      expectProblem(await put(who, '/v1/settings', NEW), 403, 'this role may not use this route');
    }
    assert.equal((await get(d, '/v1/settings', { token: tk.district })).json.version, 1);
  });
});

describe('deadlines over the calendar', () => {
  // C's calendar: the demo 2026 days and 2027-01-01 (imported above), plus what the test
  // below adds.
  const holidays = new Set([...demoCalendar2026().holidays, '2027-01-01']);
  const workdays = new Set(demoCalendar2026().workdays);
  const wt = () => workingTime({ holidays: [...holidays], workdays: [...workdays] });

  test('a calendar PUT that makes the next three days holidays and the next Saturday a workday moves new deadlines', async () => {
    // the next three dates after today (Asia/Shanghai), and the first Saturday after them
    const today = todayShanghai();
    const next = [1, 2, 3].map((n) => dateOf(at(today, '12:00') + n * 24 * HOUR));
    let sat = dateOf(at(next[2], '12:00') + 24 * HOUR);
    while (new Date(`${sat}T00:00:00Z`).getUTCDay() !== 6) sat = dateOf(at(sat, '12:00') + 24 * HOUR);
    const before = wt();
    const add = [...next.map((date) => ({ date, kind: 'holiday', name: '临时假日' })), { date: sat, kind: 'workday', name: '临时调休' }];
    for (const year of [...new Set(add.map((x) => x.date.slice(0, 4)))]) {
      const cur = (await calendar(year)).json;
      const days = [...cur.days.filter((x) => !add.some((a) => a.date === x.date)), ...add.filter((a) => a.date.startsWith(year))];
      const r = await put('district', `/v1/calendar/${year}`, { office_hours: cur.office_hours, days }, ifMatch(cur.version));
      assert.equal(r.status, 200, r.text);
    }
    for (const x of add) (x.kind === 'holiday' ? holidays : workdays).add(x.date);
    for (const x of add) if (x.kind === 'holiday') workdays.delete(x.date); else holidays.delete(x.date);

    // a normal call for ZRZY-01 (item limit 15 working days): accept 1, resolve 15 working days
    const c = await created('township', { title: '放假前的呼叫', item_code: 'ZRZY-01' });
    const t0 = ms(c.created_at);
    for (const o of c.orders) {
      assert.equal(ms(o.accept_by), wt().addDays(t0, 1), `accept_by ${o.accept_by}`);
      assert.equal(ms(o.resolve_by), wt().addDays(t0, 15), `resolve_by ${o.resolve_by}`);
      assert.match(o.resolve_by, /T17:30:00\+08:00$/);
      assert.ok(wt().working(o.resolve_by.slice(0, 10)) && wt().working(o.accept_by.slice(0, 10)), 'deadlines fall on working days');
    }
    assert.ok(!next.includes(c.orders[0].accept_by.slice(0, 10)), 'no deadline on the new holidays');
    assert.notEqual(ms(c.orders[0].accept_by), before.addDays(t0, 1), 'the new holidays moved the accept deadline');
  });

  test('an urgent call after the policy edit: 60 working minutes to accept, 2 working days to resolve', async () => {
    const c = await created('township', { title: '紧急的呼叫', item_code: 'ZRZY-01', urgency: 'urgent' });
    const t0 = ms(c.created_at);
    for (const o of c.orders) {
      // created_at is shown in whole seconds; the deadline counts from the exact instant
      assert.ok(Math.abs(ms(o.accept_by) - wt().addMinutes(t0, 60)) < 1000, `accept_by ${o.accept_by}`);
      assert.equal(ms(o.resolve_by), wt().addDays(t0, 2), `resolve_by ${o.resolve_by}`);
    }
  });

  test('an emergency call: wall-clock, whatever the calendar (30 min and 24 h)', async () => {
    const c = await created('township', { title: '特急的呼叫', item_code: 'ZRZY-01', urgency: 'emergency' });
    const t0 = ms(c.created_at);
    for (const o of c.orders) {
      assert.equal(ms(o.accept_by) - t0, 30 * MIN);
      assert.equal(ms(o.resolve_by) - t0, 24 * HOUR);
    }
  });
});
