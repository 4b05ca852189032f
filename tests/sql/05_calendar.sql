-- 05_calendar: working time (0006_calendar): deadlines written by hand against the 2026
-- calendar of data/demo/calendar-2026.csv (weekends, lunch breaks, office-hour edges, the
-- Spring Festival with its adjusted Saturdays, Qingming, Labour Day, Mid-Autumn and National
-- Day, the year end into a 2027 without data), property tests over random starts (monotonic,
-- additive, never outside office hours, consistent with a day-by-day count), the policies and
-- settings, the calendar writes, and row-level security (DESIGN §5 "Timers, calendar,
-- supervision").
--
-- Run by scripts/test.sh as huying_owner after `huyingd migrate`, from the repository root
-- (the calendar is read from data/demo/calendar-2026.csv). The fixtures are committed by the
-- owner (district codes sqltest-cal-a and sqltest-cal-b, removed first and again at the end);
-- the checks run as huying_api in one transaction that is rolled back. The calendar goes in
-- through api.import_calendar, as POST /v1/imports/calendar does.
--
-- Dates of 2026 used below: 02-13 Fri, 02-14 Sat (调休), 02-15..23 春节, 02-24 Tue, 02-28 Sat
-- (调休), 03-02 Mon, 03-06 Fri, 03-09 Mon, 04-04..06 清明 (04-06 Mon), 04-30 Thu, 05-01..05
-- 劳动节, 05-09 Sat (调休), 09-20 Sun (调休), 09-25..27 中秋, 10-01..07 国庆, 10-10 Sat
-- (调休), 12-31 Thu; 2027-01-01 Fri.

-- ---- fixtures (as the owner) ------------------------------------------------------------
begin;
create temporary view sqltest_cal_d as
  select id from huying.districts where code in ('sqltest-cal-a', 'sqltest-cal-b');
delete from huying.events where district_id in (select id from sqltest_cal_d);
delete from huying.calendar_days where district_id in (select id from sqltest_cal_d);
delete from huying.calendars where district_id in (select id from sqltest_cal_d);
delete from huying.settings where district_id in (select id from sqltest_cal_d);
delete from huying.sla_policies where district_id in (select id from sqltest_cal_d);
delete from huying.units where district_id in (select id from sqltest_cal_d);
delete from huying.districts where id in (select id from sqltest_cal_d);
insert into huying.districts (code, name) values ('sqltest-cal-a', '日历测试甲区'), ('sqltest-cal-b', '日历测试乙区');
insert into huying.units (district_id, code, kind, name)
select d.id, u.code, u.kind, u.name
  from huying.districts d
 cross join (values ('OFFICE', 'district_office', '区工委管委办公室'), ('T1', 'township', '一镇'),
                    ('D1', 'department', '住建局')) as u (code, kind, name)
 where d.code in ('sqltest-cal-a', 'sqltest-cal-b');
commit;

select (select id from huying.districts where code = 'sqltest-cal-a') as da,
       (select id from huying.districts where code = 'sqltest-cal-b') as db
\gset
select json_build_object('sub', 'u-off', 'role', 'district', 'district', :da,
                         'unit_id', (select id from huying.units where district_id = :da and code = 'OFFICE'))::text as cl_dist,
       json_build_object('sub', 'u-t1', 'role', 'township', 'district', :da,
                         'unit_id', (select id from huying.units where district_id = :da and code = 'T1'))::text as cl_t1,
       json_build_object('sub', 'u-d1', 'role', 'department', 'district', :da,
                         'unit_id', (select id from huying.units where district_id = :da and code = 'D1'))::text as cl_d1,
       json_build_object('sub', 'u-offb', 'role', 'district', 'district', :db,
                         'unit_id', (select id from huying.units where district_id = :db and code = 'OFFICE'))::text as cl_b
\gset

-- ---- as the API role ----------------------------------------------------------------------
\connect - huying_api
begin;
select plan(128);
select set_config('huying.claims', :'cl_dist', true) \g /dev/null

-- ---- the 2026 calendar, imported --------------------------------------------------------------
create temporary table cal_csv (date text, kind text, name text) on commit drop;
\copy cal_csv from 'data/demo/calendar-2026.csv' with (format csv, header true)
create temporary table import_rows (line integer not null, doc jsonb not null) on commit drop;
insert into import_rows
select 1 + row_number() over (), jsonb_build_object('date', date, 'kind', kind, 'name', name) from cal_csv;
select is((select body::jsonb from api.import_calendar(false, null)),
          '{"rows": 39, "inserted": 39, "updated": 0, "unchanged": 0, "dry_run": false, "errors": []}'::jsonb,
          'import: the 39 days of data/demo/calendar-2026.csv go in');
select is((select body::jsonb ->> 'unchanged' from api.import_calendar(false, null)), '39',
          'import: the same file again changes nothing');
select is((select count(*) from huying.events where subject_type = 'calendar' and subject_id = 2026 and type = 'calendar.updated'),
          1::bigint, 'import: one calendar.updated event for 2026, none for the unchanged second import');
select is((select version from huying.calendars where year = 2026), 1, 'import: the 2026 calendar is at version 1');

-- ---- working days: hand-written cases -----------------------------------------------------------
select is(api.add_working_days('2026-03-02 09:00+08', 3), '2026-03-05 17:30+08', 'days: Monday 09:00 + 3 = Thursday 17:30');
select is(api.add_working_days('2026-03-06 10:00+08', 1), '2026-03-09 17:30+08', 'days: Friday + 1 = Monday 17:30 (weekend crossed)');
select is(api.add_working_days('2026-03-07 10:00+08', 1), '2026-03-09 17:30+08', 'days: Saturday + 1 = Monday 17:30');
select is(api.add_working_days('2026-03-08 23:59+08', 1), '2026-03-09 17:30+08', 'days: Sunday 23:59 + 1 = Monday 17:30');
select is(api.add_working_days('2026-03-02 07:00+08', 1), '2026-03-03 17:30+08',
          'days: a start before opening is still the start day (not counted)');
select is(api.add_working_days('2026-03-02 18:00+08', 1), '2026-03-03 17:30+08', 'days: a start after closing: the next day counts');
select is(api.add_working_days('2026-03-02 17:30+08', 1), '2026-03-03 17:30+08', 'days: a start at 17:30 exactly');
select is(api.add_working_days('2026-02-13 09:00+08', 1), '2026-02-14 17:30+08', 'days: Friday 02-13 + 1 = the adjusted Saturday 02-14');
select is(api.add_working_days('2026-02-13 09:00+08', 2), '2026-02-24 17:30+08', 'days: Friday 02-13 + 2 = Tuesday 02-24, over the Spring Festival');
select is(api.add_working_days('2026-02-14 10:00+08', 1), '2026-02-24 17:30+08', 'days: from the adjusted Saturday + 1 = 02-24');
select is(api.add_working_days('2026-02-16 10:00+08', 1), '2026-02-24 17:30+08', 'days: from inside the holiday + 1 = its first working day after');
select is(api.add_working_days('2026-02-26 10:00+08', 2), '2026-02-28 17:30+08', 'days: Thursday 02-26 + 2 = the adjusted Saturday 02-28');
select is(api.add_working_days('2026-02-27 10:00+08', 2), '2026-03-02 17:30+08', 'days: Friday 02-27 + 2 = Monday 03-02 (02-28 counts, 03-01 does not)');
select is(api.add_working_days('2026-04-03 10:00+08', 1), '2026-04-07 17:30+08', 'days: Qingming: Friday 04-03 + 1 = Tuesday 04-07');
select is(api.add_working_days('2026-04-30 10:00+08', 1), '2026-05-06 17:30+08', 'days: Labour Day: Thursday 04-30 + 1 = Wednesday 05-06');
select is(api.add_working_days('2026-05-08 10:00+08', 1), '2026-05-09 17:30+08', 'days: Friday 05-08 + 1 = the adjusted Saturday 05-09');
select is(api.add_working_days('2026-09-18 10:00+08', 1), '2026-09-20 17:30+08', 'days: Friday 09-18 + 1 = the adjusted Sunday 09-20');
select is(api.add_working_days('2026-09-24 10:00+08', 1), '2026-09-28 17:30+08', 'days: Mid-Autumn: Thursday 09-24 + 1 = Monday 09-28');
select is(api.add_working_days('2026-09-30 10:00+08', 1), '2026-10-08 17:30+08', 'days: National Day: Wednesday 09-30 + 1 = Thursday 10-08');
select is(api.add_working_days('2026-09-30 10:00+08', 3), '2026-10-10 17:30+08', 'days: Wednesday 09-30 + 3 = the adjusted Saturday 10-10');
select is(api.add_working_days('2025-12-31 10:00+08', 1), '2026-01-04 17:30+08', 'days: New Year: 2025-12-31 + 1 = the adjusted Sunday 2026-01-04');
select is(api.add_working_days('2026-12-31 10:00+08', 1), '2027-01-01 17:30+08', 'days: 2026-12-31 + 1 = 2027-01-01 (no 2027 data: weekends only)');
select is(api.add_working_days('2026-12-30 10:00+08', 5), '2027-01-06 17:30+08', 'days: 2026-12-30 + 5 = 2027-01-06');
select is(api.add_working_days('2026-01-05 09:00+08', 250), '2027-01-06 17:30+08',
          'days: 250 working days from 2026-01-05 (beyond the first window: loaded as it goes)');

-- ---- working minutes: hand-written cases ---------------------------------------------------------
select is(api.add_working_minutes('2026-03-02 11:30+08', 60), '2026-03-02 14:00+08', 'minutes: over the lunch break');
select is(api.add_working_minutes('2026-03-02 11:00+08', 60), '2026-03-02 12:00+08', 'minutes: ending exactly at a closing time stays there');
select is(api.add_working_minutes('2026-03-02 12:00+08', 30), '2026-03-02 14:00+08', 'minutes: a start at 12:00 exactly starts at 13:30');
select is(api.add_working_minutes('2026-03-02 17:30+08', 30), '2026-03-03 09:00+08', 'minutes: a start at 17:30 exactly starts the next morning');
select is(api.add_working_minutes('2026-03-02 07:00+08', 30), '2026-03-02 09:00+08', 'minutes: a start before opening starts at 08:30');
select is(api.add_working_minutes('2026-03-02 20:00+08', 60), '2026-03-03 09:30+08', 'minutes: a start after closing starts the next morning');
select is(api.add_working_minutes('2026-03-06 17:00+08', 60), '2026-03-09 09:00+08', 'minutes: Friday 17:00 + 60 = Monday 09:00');
select is(api.add_working_minutes('2026-02-13 17:00+08', 60), '2026-02-14 09:00+08', 'minutes: Friday 02-13 17:00 + 60 = the adjusted Saturday 09:00');
select is(api.add_working_minutes('2026-02-14 17:00+08', 60), '2026-02-24 09:00+08', 'minutes: Saturday 02-14 17:00 + 60 = 02-24 09:00, over the holiday');
select is(api.add_working_minutes('2026-03-02 08:30+08', 450), '2026-03-02 17:30+08', 'minutes: 450 = one whole office day');
select is(api.add_working_minutes('2026-03-02 08:30+08', 451), '2026-03-03 08:31+08', 'minutes: 451 = the next morning 08:31');
select is(api.add_working_minutes('2026-03-08 03:00+08', 0), '2026-03-08 03:00+08', 'minutes: 0 returns the start, even outside office hours');
select is(api.add_working_minutes('2026-12-31 17:00+08', 60), '2027-01-01 09:00+08', 'minutes: over the year end');

-- ---- working minutes between -------------------------------------------------------------------
select is(api.working_minutes_between('2026-03-02 09:00+08', '2026-03-03 09:00+08'), 450, 'between: Monday 09:00 to Tuesday 09:00');
select is(api.working_minutes_between('2026-03-06 16:30+08', '2026-03-09 09:30+08'), 120, 'between: over a weekend');
select is(api.working_minutes_between('2026-03-09 09:30+08', '2026-03-06 16:30+08'), -120, 'between: negative when b < a');
select is(api.working_minutes_between('2026-02-13 17:00+08', '2026-02-24 08:40+08'), 490,
          'between: over the Spring Festival (30 + the adjusted Saturday''s 450 + 10)');
select is(api.working_minutes_between('2026-03-02 12:10+08', '2026-03-02 13:20+08'), 0, 'between: inside the lunch break');
select is(api.working_seconds_between('2026-03-02 11:59:30+08', '2026-03-02 13:30:45+08'), 75::bigint, 'between: seconds');

-- ---- working_day ---------------------------------------------------------------------------------
select ok(api.working_day('2026-02-14') and api.working_day('2026-03-09') and api.working_day('2027-01-01')
          and api.working_day('2026-10-10') and api.working_day('2026-01-04'),
          'working_day: adjusted weekend days and ordinary weekdays work');
select ok(not api.working_day('2026-02-16') and not api.working_day('2026-03-07') and not api.working_day('2026-10-03')
          and not api.working_day('2027-01-02'),
          'working_day: holidays (also on a weekend) and weekends do not');

-- ---- limit documents ---------------------------------------------------------------------------
select is(api.limit_due('2026-03-07 10:00+08', '{"minutes": 30, "clock": "wall"}'), '2026-03-07 10:30+08', 'limit_due: wall-clock ignores the calendar');
select is(api.limit_due('2026-02-13 09:00+08', '{"working_days": 2}'), '2026-02-24 17:30+08', 'limit_due: working days');
select is(api.limit_due('2026-03-02 11:30+08', '{"minutes": 60, "clock": "working"}'), '2026-03-02 14:00+08', 'limit_due: working minutes');
select throws_ok($$select api.limit_due(now(), '{"hours": 1}')$$, '22023', null, 'limit_due: not a limit document: 22023');
select is(api.limit_explain('2026-02-13 10:00+08', '{"working_days": 2}') - 'segments' - 'skipped',
          jsonb_build_object('from', '2026-02-13T10:00:00+08:00', 'due', '2026-02-24T17:30:00+08:00',
                             'rule', 'working days (start day not counted)', 'limit', '{"working_days": 2}'::jsonb),
          'explain: from, due, rule and limit of a working-day deadline');
select is(api.limit_explain('2026-02-13 10:00+08', '{"working_days": 2}') -> 'segments',
          '[{"date": "2026-02-14", "from": "2026-02-14T08:30:00+08:00", "to": "2026-02-14T17:30:00+08:00", "minutes": 450,
             "day_kind": "adjusted_workday", "note": "working day 1 of 2 (调休: 春节调休上班)"},
            {"date": "2026-02-24", "from": "2026-02-24T08:30:00+08:00", "to": "2026-02-24T17:30:00+08:00", "minutes": 450,
             "day_kind": "workday", "note": "working day 2 of 2"}]'::jsonb,
          'explain: the counted days, the adjusted Saturday named');
select is(api.limit_explain('2026-02-13 10:00+08', '{"working_days": 2}') -> 'skipped',
          (select jsonb_build_array(jsonb_build_object('date', '2026-02-13', 'reason', 'start day (not counted)'))
                  || jsonb_agg(jsonb_build_object('date', d::date, 'reason', 'holiday: 春节') order by d)
             from generate_series(date '2026-02-15', date '2026-02-23', interval '1 day') d),
          'explain: the start day and the nine days of the Spring Festival were skipped');
select is(api.limit_explain('2026-03-06 11:30+08', '{"minutes": 60, "clock": "working"}'),
          '{"from": "2026-03-06T11:30:00+08:00", "due": "2026-03-06T14:00:00+08:00", "rule": "working minutes",
            "limit": {"minutes": 60, "clock": "working"}, "skipped": [],
            "segments": [{"date": "2026-03-06", "from": "2026-03-06T11:30:00+08:00", "to": "2026-03-06T12:00:00+08:00",
                          "minutes": 30, "day_kind": "workday", "note": null},
                         {"date": "2026-03-06", "from": "2026-03-06T13:30:00+08:00", "to": "2026-03-06T14:00:00+08:00",
                          "minutes": 30, "day_kind": "workday", "note": null}]}'::jsonb,
          'explain: working minutes around the lunch break');
select is(api.limit_explain('2026-03-06 17:00+08', '{"minutes": 60, "clock": "working"}') -> 'skipped',
          '[{"date": "2026-03-07", "reason": "weekend"}, {"date": "2026-03-08", "reason": "weekend"}]'::jsonb,
          'explain: a weekend skipped by working minutes');
select is(api.limit_explain('2026-03-07 10:00+08', '{"minutes": 30, "clock": "wall"}'),
          '{"from": "2026-03-07T10:00:00+08:00", "due": "2026-03-07T10:30:00+08:00", "rule": "wall-clock",
            "limit": {"minutes": 30, "clock": "wall"}, "segments": [], "skipped": []}'::jsonb,
          'explain: wall-clock');

-- ---- the deadlines of orders (built-in policies) -----------------------------------------------------
select is((select row(accept_by, resolve_by)::text from api.deadlines('urgent', null, '2026-02-12 10:00+08')),
          row('2026-02-12 12:00+08'::timestamptz, '2026-02-24 17:30+08'::timestamptz)::text,
          'deadlines: urgent on Thursday 02-12: accept 2 h wall-clock, resolve 3 working days = 02-24 17:30');
select is((select row(accept_by, resolve_by)::text from api.deadlines('normal', null, '2026-02-13 18:00+08')),
          row('2026-02-14 17:30+08'::timestamptz, '2026-02-27 17:30+08'::timestamptz)::text,
          'deadlines: normal on Friday 02-13 evening: accept 1 working day (02-14), resolve 5 (02-27)');
select is((select resolve_by from api.deadlines('normal', 15, '2026-09-28 09:00+08')), '2026-10-23 17:30+08',
          'deadlines: normal with the item''s 15 working days, over National Day');
select is((select resolve_by from api.deadlines('urgent', 1, '2026-02-13 09:00+08')), '2026-02-14 17:30+08',
          'deadlines: urgent takes the item''s stricter 1 working day');
select is((select resolve_by from api.deadlines('emergency', 1, '2026-03-02 09:00+08')), '2026-03-03 09:00+08',
          'deadlines: emergency at 09:00 with a 1-working-day item: 24 h wall-clock ends first');
select is((select resolve_by from api.deadlines('emergency', 1, '2026-03-02 23:00+08')), '2026-03-03 17:30+08',
          'deadlines: emergency at 23:00 with a 1-working-day item: the working day ends first');
select is(api.resolve_limit('emergency', 1, '2026-03-02 23:00+08'), '{"working_days": 1}'::jsonb,
          'resolve_limit: the item''s limit when it ends first');
select is(api.resolve_limit('emergency', 1, '2026-03-02 09:00+08'), '{"minutes": 1440, "clock": "wall"}'::jsonb,
          'resolve_limit: the policy''s when it ends first');
select is(api.resolve_limit('normal', 12), '{"working_days": 12}'::jsonb, 'resolve_limit: normal takes the item''s limit');
select is(api.resolve_limit('urgent', null), '{"working_days": 3}'::jsonb, 'resolve_limit: the policy''s without an item limit');
select is(api.accept_limit('normal'), '{"working_days": 1}'::jsonb, 'accept_limit: normal, 1 working day');
select is(api.triage_limit('urgent'), '{"minutes": 60, "clock": "wall"}'::jsonb, 'triage_limit: urgent, 1 h wall-clock');
select is(api.triage_due('normal', '2026-02-13 18:00+08'), '2026-02-14 17:30+08', 'triage_due: normal, 1 working day');
select is(api.triage_due('emergency', '2026-02-15 03:00+08'), '2026-02-15 03:15+08', 'triage_due: emergency, 15 min wall-clock');
select is((select row(accept_by, resolve_by)::text from api.deadlines('emergency', null, '2026-02-15 03:00+08')),
          row('2026-02-15 03:30+08'::timestamptz, '2026-02-16 03:00+08'::timestamptz)::text,
          'deadlines: emergency in the holiday: wall-clock');

-- ---- properties over random starts ---------------------------------------------------------------
select setseed(0.20260215);
create temporary table starts on commit drop as
  select timestamptz '2026-01-01 00:00+08' + random() * interval '365 days' as t from generate_series(1, 300);
-- every quarter of an hour of one working day too, with its edges
insert into starts select timestamptz '2026-02-13 07:00+08' + n * interval '15 minutes' from generate_series(0, 48) n;
select is((select count(*) from starts s, generate_series(1, 12) n
            where api.add_working_days(s.t, n) >= api.add_working_days(s.t, n + 1)), 0::bigint,
          'property: working days are strictly increasing in n');
select is((select count(*) from starts s, generate_series(1, 8) n
            where api.add_working_days(s.t, n) <> (
                    (select day from generate_series((s.t at time zone 'Asia/Shanghai')::date + 1,
                                                     (s.t at time zone 'Asia/Shanghai')::date + 60, interval '1 day') day
                      where api.working_day(day::date) order by day offset n - 1 limit 1)::date + time '17:30') at time zone 'Asia/Shanghai'),
          0::bigint, 'property: working days agree with a day-by-day count over api.working_day');
select is((select count(*) from starts s, (values (1), (29), (30), (210), (449), (450), (451), (2000)) v (n)
            where api.add_working_minutes(s.t, n) >= api.add_working_minutes(s.t, n + 1)), 0::bigint,
          'property: working minutes are strictly increasing in n');
select is((select count(*) from starts s, (values (1, 1), (30, 60), (210, 240), (450, 1), (97, 353), (1000, 2000)) v (a, b)
            where api.add_working_minutes(api.add_working_minutes(s.t, a), b) <> api.add_working_minutes(s.t, a + b)), 0::bigint,
          'property: adding a then b minutes equals adding a + b');
select is((select count(*) from starts s, (values (1), (30), (210), (450), (451), (1000)) v (n)
            where api.working_minutes_between(s.t, api.add_working_minutes(s.t, n)) <> n), 0::bigint,
          'property: working_minutes_between(t, add_working_minutes(t, n)) = n');
select is((select count(*) from starts s, (values (1), (30), (210), (450), (451), (1000)) v (n),
                 lateral (select api.add_working_minutes(s.t, n) at time zone 'Asia/Shanghai' as due) x
            where not api.working_day(x.due::date)
               or not ((x.due::time > '08:30' and x.due::time <= '12:00') or (x.due::time > '13:30' and x.due::time <= '17:30'))),
          0::bigint, 'property: a working-minutes deadline is inside office hours (or at a closing time) of a working day');
select is((select count(*) from starts s, generate_series(1, 12) n,
                 lateral (select api.add_working_days(s.t, n) at time zone 'Asia/Shanghai' as due) x
            where not api.working_day(x.due::date) or x.due::time <> '17:30'), 0::bigint,
          'property: a working-days deadline is 17:30 of a working day');
select is((select count(*) from starts s, generate_series(1, 5) n
            where api.limit_due(s.t, jsonb_build_object('working_days', n)) <> api.add_working_days(s.t, n)
               or api.limit_due(s.t, jsonb_build_object('minutes', n * 100, 'clock', 'working')) <> api.add_working_minutes(s.t, n * 100)
               or api.limit_due(s.t, jsonb_build_object('minutes', n * 100, 'clock', 'wall')) <> s.t + n * interval '100 minutes'),
          0::bigint, 'property: limit_due dispatches to the same arithmetic');
select is((select count(*) from starts s, (values ('normal', null::integer), ('normal', 15), ('urgent', null), ('urgent', 2),
                                                  ('urgent', 10), ('emergency', null), ('emergency', 1)) v (u, lim),
                 lateral api.deadlines(v.u, v.lim, s.t) dl
            where dl.accept_by <> api.limit_due(s.t, api.accept_limit(v.u))
               or dl.resolve_by <> api.limit_due(s.t, api.resolve_limit(v.u, v.lim, s.t))), 0::bigint,
          'property: api.deadlines = api.limit_due of api.accept_limit and api.resolve_limit (what timers will store)');
select is((select count(*) from starts s
            where (select sum((x ->> 'minutes')::numeric) from jsonb_array_elements(api.limit_explain(s.t, '{"minutes": 500, "clock": "working"}') -> 'segments') x) <> 500
               or (select jsonb_array_length(api.limit_explain(s.t, '{"working_days": 4}') -> 'segments')) <> 4),
          0::bigint, 'property: explained segments add up to the limit');

-- ---- office hours of another year ---------------------------------------------------------------
select is((select status from api.calendar_put(2027, '{"office_hours": [["09:00", "12:00"], ["14:00", "18:00"]],
                                                      "days": [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}]}', '"0"')),
          200, 'calendar_put: a year without data, If-Match "0": 200');
select is(api.add_working_days('2026-12-31 10:00+08', 1), '2027-01-04 18:00+08',
          'days: into 2027 with its holiday and its own office hours (closing 18:00)');
select is(api.add_working_minutes('2026-12-31 17:00+08', 60), '2027-01-04 09:30+08',
          'minutes: 30 in 2026, then 2027''s holiday, then its 09:00 opening');
select is(api.add_working_minutes('2027-01-04 11:30+08', 60), '2027-01-04 14:30+08', 'minutes: 2027''s lunch break ends at 14:00');
select is((select version from huying.calendars where year = 2027), 1, 'calendar_put: version 1');
select is((select count(*) from huying.events where subject_type = 'calendar' and subject_id = 2027), 1::bigint,
          'calendar_put: one calendar.updated event');
select is((select etag from api.calendar_put(2027, '{"office_hours": [["09:00", "12:00"], ["14:00", "18:00"]],
                                                    "days": [{"date": "2027-01-01", "kind": "holiday", "name": "元旦"}]}', '"1"')),
          '"1"', 'calendar_put: the same calendar again: still version 1');
select is((select count(*) from huying.events where subject_type = 'calendar' and subject_id = 2027), 1::bigint,
          'calendar_put: ... and no event');
select throws_ok($$select * from api.calendar_put(2027, '{"office_hours": [["09:00", "17:00"]], "days": []}', '"0"')$$,
                 'HY412', 'the calendar of 2027 is at version 1', 'calendar_put: a stale If-Match: 412');
select throws_ok($$select * from api.calendar_put(2027, '{"office_hours": [["09:00", "17:00"]], "days": [{"date": "2026-05-01", "kind": "holiday"}]}', null)$$,
                 'HY422', 'the calendar has invalid fields', 'calendar_put: a day of another year: 422');
select is((select status from api.calendar_put(2027, '{"office_hours": [["08:30", "12:00"], ["13:30", "17:30"]], "days": []}', null)),
          200, 'calendar_put: back to the defaults, without the holiday');
select is(api.add_working_days('2026-12-31 10:00+08', 1), '2027-01-01 17:30+08', 'days: 2027-01-01 counts again');
select is((select count(*) from huying.calendar_days where day >= '2027-01-01'), 0::bigint, 'calendar_put: the year''s days were replaced');
select is((select status from api.calendar_put(2028, '{"office_hours": [["08:30", "12:00"], ["13:30", "17:30"]], "days": []}', null)),
          200, 'calendar_put: the defaults to a year without data: 200 ...');
select is((select count(*) from huying.calendars where year = 2028), 0::bigint, '... and nothing written (version 0)');
select is((select api.calendar_json(2026) -> 'days' -> 4), '{"date": "2026-02-14", "kind": "workday", "name": "春节调休上班"}'::jsonb,
          'calendar_json: the days in date order');

-- ---- SLA policies and settings ----------------------------------------------------------------
select is((select body::jsonb - 'updated_at'
             from api.sla_put('urgent', '{"accept": {"minutes": 60, "clock": "working"}, "resolve": {"working_days": 2},
                                          "triage": {"minutes": 30, "clock": "wall"}, "warn_percent": 80}', '"0"')),
          '{"urgency": "urgent", "accept": {"minutes": 60, "clock": "working"}, "resolve": {"working_days": 2},
            "triage": {"minutes": 30, "clock": "wall"}, "warn_percent": 80, "version": 1}'::jsonb,
          'sla_put: the urgent policy, version 1');
select is((select row(accept_by, resolve_by)::text from api.deadlines('urgent', null, '2026-03-06 11:30+08')),
          row('2026-03-06 14:00+08'::timestamptz, '2026-03-10 17:30+08'::timestamptz)::text,
          'deadlines: the edited policy applies (60 working minutes over lunch; 2 working days over the weekend)');
select is(api.triage_due('urgent', '2026-03-06 11:30+08'), '2026-03-06 12:00+08', 'triage_due: the edited policy''s 30 min');
select throws_ok($$select * from api.sla_put('urgent', '{"accept": {"minutes": 0, "clock": "x"}, "resolve": {"working_days": 2, "minutes": 3},
                                                       "triage": {"hours": 1}, "warn_percent": 80}', null)$$,
                 'HY422', 'the policy has invalid fields', 'sla_put: bad limits: 422');
select throws_ok($$select * from api.sla_put('urgent', '{"accept": {"working_days": 1}, "resolve": {"working_days": 2},
                                                       "triage": {"working_days": 1}, "warn_percent": 80}', '"0"')$$,
                 'HY412', 'the urgent policy is at version 1', 'sla_put: a stale If-Match: 412');
select is((select etag from api.sla_put('normal', '{"accept": {"working_days": 1}, "resolve": {"working_days": 5},
                                                    "triage": {"working_days": 1}, "warn_percent": 75}', null)),
          '"0"', 'sla_put: the built-in policy again writes nothing (version 0)');
select is((select count(*) from huying.sla_policies where urgency = 'normal'), 0::bigint, '... no row for it');
select is((select count(*) from huying.events where type = 'sla_policy.updated' and subject_type = 'settings' and subject_id = :da),
          1::bigint, 'sla_put: one sla_policy.updated event');
select is(api.settings_json(api.settings()) - 'updated_at',
          '{"reopen_days": 7, "auto_close_days": 7, "escalation_grace_days": 1, "extension_lead_days": 1,
            "weight_response": 0.3, "weight_resolution": 0.3, "weight_satisfaction": 0.4, "penalty": 2, "version": 0}'::jsonb,
          'settings: the defaults, version 0');
select is(api.reopen_days(), 7, 'reopen_days: 7 by default');
select is((select etag from api.settings_put('{"reopen_days": 10, "auto_close_days": 5, "escalation_grace_days": 2,
                                               "extension_lead_days": 0, "weight_response": 0.3, "weight_resolution": 0.3,
                                               "weight_satisfaction": 0.4, "penalty": 2}', '"0"')), '"1"', 'settings_put: version 1');
select is(api.reopen_days(), 10, 'reopen_days: the district''s own');
select is((api.settings()).auto_close_days, 5, 'settings: auto_close_days');
select throws_ok($$select * from api.settings_put('{"reopen_days": 1, "auto_close_days": 1, "escalation_grace_days": 1,
                                                    "extension_lead_days": 1, "weight_response": 0.3, "weight_resolution": 0.3,
                                                    "weight_satisfaction": 0.4, "penalty": 2}', '"0"')$$,
                 'HY412', 'the settings are at version 1', 'settings_put: a stale If-Match: 412');

-- ---- row-level security --------------------------------------------------------------------------
select set_config('huying.claims', :'cl_t1', true) \g /dev/null
select is((select count(*) from huying.calendar_days), 39::bigint, 'rls: a township reads its district''s calendar');
select is(api.add_working_days('2026-02-13 09:00+08', 2), '2026-02-24 17:30+08', 'rls: ... and counts over it');
select throws_ok($$insert into huying.calendar_days (district_id, day, kind) values ($$ || :da || $$, '2026-03-03', 'holiday')$$,
                 '42501', null, 'rls: a township may not write the calendar');
select is((select version from api.settings()), 1, 'rls: a township reads the settings');
select set_config('huying.claims', :'cl_d1', true) \g /dev/null
update huying.settings set reopen_days = 365;
update huying.calendars set version = 99;
delete from huying.calendar_days;
select is((select count(*) from huying.calendar_days), 39::bigint, 'rls: a department''s delete of calendar days touches nothing');
select is(api.reopen_days(), 10, 'rls: ... nor its update of the settings');
select is((select version from huying.calendars where year = 2026), 1, 'rls: ... nor of the calendars');
select throws_ok($$select * from api.sla_put('normal', '{"accept": {"working_days": 2}, "resolve": {"working_days": 5},
                                                       "triage": {"working_days": 1}, "warn_percent": 75}', null)$$,
                 '42501', null, 'rls: a department may not write a policy');
select set_config('huying.claims', :'cl_b', true) \g /dev/null
select is((select count(*) from huying.calendar_days), 0::bigint, 'rls: another district reads none of the calendar');
select is(api.add_working_days('2026-02-13 09:00+08', 2), '2026-02-17 17:30+08', 'rls: ... and counts weekends only');
select is((api.settings()).reopen_days, 7, 'rls: ... and has its own (default) settings');
select is(api.accept_limit('urgent'), '{"minutes": 120, "clock": "wall"}'::jsonb, 'rls: ... and its own (built-in) policies');
select throws_ok($$insert into huying.calendar_days (district_id, day, kind) values ($$ || :da || $$, '2026-03-03', 'holiday')$$,
                 '42501', null, 'rls: no district writes another''s calendar');
select is((select count(*) from huying.events where subject_type in ('calendar', 'settings')), 0::bigint,
          'rls: ... nor reads its calendar and settings events');

select * from finish();
rollback;

-- ---- clean up (as the owner) ------------------------------------------------------------
\connect - huying_owner
begin;
create temporary view sqltest_cal_d as
  select id from huying.districts where code in ('sqltest-cal-a', 'sqltest-cal-b');
delete from huying.events where district_id in (select id from sqltest_cal_d);
delete from huying.calendar_days where district_id in (select id from sqltest_cal_d);
delete from huying.calendars where district_id in (select id from sqltest_cal_d);
delete from huying.settings where district_id in (select id from sqltest_cal_d);
delete from huying.sla_policies where district_id in (select id from sqltest_cal_d);
delete from huying.units where district_id in (select id from sqltest_cal_d);
delete from huying.districts where id in (select id from sqltest_cal_d);
commit;
