-- 0006_calendar: working time (DESIGN §5 "Timers, calendar, supervision"), part 1 of issue 5:
-- the district's calendar (office hours, holidays, adjusted workdays 调休), its SLA policies
-- with working-day and working-minute limits, its settings, and the one deadline arithmetic
-- every caller uses (api.limit_due). Timers, the sweeper and supervisions are built on these
-- functions; their SQL interfaces are kept stable for that.
--
-- Business time is Asia/Shanghai (no daylight saving): a timestamptz is turned into local
-- wall time, counted over office hours, and turned back. Storage stays UTC.
--
-- How working time is counted:
--   * a day is a working day when the calendar marks it 'workday' (调休: an adjusted
--     workday, usually a weekend day), or when it is Monday to Friday and not a 'holiday';
--   * office hours are the year's segments (default 08:30–12:00 and 13:30–17:30);
--   * {"minutes": n, "clock": "wall"}     adds plain time;
--     {"minutes": n, "clock": "working"}  adds n minutes of office time: a start outside office
--                                         hours starts at the next opening; the result is
--                                         inside office hours or exactly at a closing time;
--     {"working_days": n}                 counts the statutory way: the start day does not
--                                         count; the deadline is the close of office hours
--                                         on the n-th working day after the start's date
--                                         (Monday 09:00 + 3 = Thursday 17:30).

-- ---- storage -------------------------------------------------------------------------------

-- Office hours as the API and the table hold them: 1 to 6 segments [["HH:MM","HH:MM"], ...],
-- each opening before its closing and after the previous closing.
create function huying.office_hours_ok(h jsonb) returns boolean
language sql immutable parallel safe as $$
  select jsonb_typeof(h) = 'array' and jsonb_array_length(h) between 1 and 6
     and not exists (
       select 1 from jsonb_array_elements(h) with ordinality s (seg, i)
        where jsonb_typeof(seg) <> 'array' or jsonb_array_length(seg) <> 2
           or jsonb_typeof(seg -> 0) <> 'string' or jsonb_typeof(seg -> 1) <> 'string'
           or (seg ->> 0) !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' or (seg ->> 1) !~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'
           or (seg ->> 0) >= (seg ->> 1)
           or (i > 1 and (seg ->> 0) <= (h -> (i::integer - 2) ->> 1)))
$$;

-- A district's calendar for one year: its office hours, and the version behind the ETag of
-- GET /v1/calendar/{year}. A year without a row has the default office hours and no special
-- days (version 0).
create table huying.calendars (
  district_id   bigint not null references huying.districts(id),
  year          integer not null check (year between 2000 and 2100),
  office_hours  jsonb not null default '[["08:30", "12:00"], ["13:30", "17:30"]]'
                check (huying.office_hours_ok(office_hours)),
  version       integer not null default 1,
  updated_at    timestamptz not null default now(),
  primary key (district_id, year)
);
comment on table huying.calendars is 'A district''s office hours for one year; absent: 08:30–12:00 and 13:30–17:30.';

-- A special day of a district's calendar: a public holiday, or an adjusted workday (调休上班).
-- Every other day is a working day when it is Monday to Friday.
create table huying.calendar_days (
  district_id  bigint not null references huying.districts(id),
  day          date not null check (day between '2000-01-01' and '2100-12-31'),
  kind         text not null check (kind in ('holiday', 'workday')),
  name         text check (char_length(name) between 1 and 50),
  primary key (district_id, day)
);
comment on table huying.calendar_days is 'A holiday or an adjusted workday (调休) of a district; other days follow Monday–Friday.';

-- A district's settings. A district without a row has the defaults of api.settings(). The
-- scores issue adds its weights to this table.
create table huying.settings (
  district_id            bigint primary key references huying.districts(id),
  reopen_days            integer not null default 7 check (reopen_days between 1 and 365),
  auto_close_days        integer not null default 7 check (auto_close_days between 1 and 365),
  escalation_grace_days  integer not null default 1 check (escalation_grace_days between 1 and 30),
  extension_lead_days    integer not null default 1 check (extension_lead_days between 0 and 30),
  version                integer not null default 1,
  updated_at             timestamptz not null default now()
);
comment on table huying.settings is 'A district''s settings: reopen and auto-close windows, escalation grace, extension lead time.';
comment on column huying.settings.escalation_grace_days is 'Working days a timer stays overdue before it escalates.';
comment on column huying.settings.extension_lead_days is 'Working days before the resolve deadline by which an extension must be asked.';

-- SLA policies (0003) learn working-day limits for accept and triage, and the clock of every
-- minute limit: each of accept, resolve and triage is either *_minutes (with *_working: true
-- = office minutes, false = wall-clock) or *_working_days.
alter table huying.sla_policies
  alter column accept_minutes drop not null,
  alter column triage_minutes drop not null,
  add column accept_working_days integer check (accept_working_days between 1 and 365),
  add column resolve_working boolean not null default false,
  add column triage_working boolean not null default false,
  add column triage_working_days integer check (triage_working_days between 1 and 365),
  add column updated_at timestamptz not null default now(),
  add constraint sla_policies_accept_one check ((accept_minutes is null) <> (accept_working_days is null)),
  add constraint sla_policies_triage_one check ((triage_minutes is null) <> (triage_working_days is null));
alter table huying.sla_policies alter column accept_working set default false;
comment on column huying.sla_policies.accept_working is 'accept_minutes count office minutes (true) or wall-clock minutes (false).';

-- Calendar and settings changes are events of their own subjects: a calendar year
-- (subject_id = the year) and the district's settings and SLA policies (subject_id = the
-- district). Only the district office reads them (events_read of 0003).
alter table huying.events drop constraint events_subject_type_check,
  add constraint events_subject_type_check
  check (subject_type in ('item', 'list_change', 'unit', 'grid', 'call', 'order', 'supervision', 'calendar', 'settings'));

select huying.protect(t) from unnest(array['huying.calendars', 'huying.calendar_days', 'huying.settings']::regclass[]) t;
-- Every role of a district reads its calendar and settings (deadlines depend on them); only
-- the district office writes them. SLA policies likewise (their read policy is 0003's).
create policy calendars_read on huying.calendars for select to huying_api
  using (district_id = (select auth.district()));
create policy calendars_write on huying.calendars for all to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district')
  with check (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy calendar_days_read on huying.calendar_days for select to huying_api
  using (district_id = (select auth.district()));
create policy calendar_days_write on huying.calendar_days for all to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district')
  with check (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy settings_read on huying.settings for select to huying_api
  using (district_id = (select auth.district()));
create policy settings_write on huying.settings for all to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district')
  with check (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy sla_write on huying.sla_policies for all to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district')
  with check (district_id = (select auth.district()) and (select auth.role()) = 'district');
grant select, delete on huying.calendars to huying_api;
grant insert (district_id, year, office_hours, version, updated_at) on huying.calendars to huying_api;
grant update (office_hours, version, updated_at) on huying.calendars to huying_api;
grant select, insert, update, delete on huying.calendar_days to huying_api;
grant select, delete on huying.settings to huying_api;
grant insert (district_id, reopen_days, auto_close_days, escalation_grace_days, extension_lead_days, version, updated_at)
  on huying.settings to huying_api;
grant update (reopen_days, auto_close_days, escalation_grace_days, extension_lead_days, version, updated_at)
  on huying.settings to huying_api;
grant delete on huying.sla_policies to huying_api;
grant insert (district_id, urgency, accept_minutes, accept_working, accept_working_days, resolve_minutes, resolve_working,
              resolve_working_days, triage_minutes, triage_working, triage_working_days, warn_percent, version, updated_at)
  on huying.sla_policies to huying_api;
grant update (accept_minutes, accept_working, accept_working_days, resolve_minutes, resolve_working, resolve_working_days,
              triage_minutes, triage_working, triage_working_days, warn_percent, version, updated_at)
  on huying.sla_policies to huying_api;

-- ---- settings ------------------------------------------------------------------------------

-- The caller's district settings: its row, else the defaults (the table's column defaults,
-- repeated here; version 0). Fields are set by name, so a column added later is NULL here
-- until this function learns its default. (plpgsql, like api.sla below, so that its plan is
-- cached for the session.)
create function api.settings() returns huying.settings
language plpgsql stable as $$
declare
  s huying.settings;
begin
  select * into s from huying.settings x where x.district_id = auth.district();
  if s.district_id is null then
    s := jsonb_populate_record(null::huying.settings,
           jsonb_build_object('district_id', auth.district(), 'reopen_days', 7, 'auto_close_days', 7,
                              'escalation_grace_days', 1, 'extension_lead_days', 1, 'version', 0));
  end if;
  return s;
end
$$;

-- The district's reopen window in days (0004's placeholder answered 7).
create or replace function api.reopen_days() returns integer
language sql stable as $$ select (api.settings()).reopen_days $$;

create function api.settings_json(s huying.settings) returns jsonb
language sql stable as $$
  select jsonb_build_object('reopen_days', s.reopen_days, 'auto_close_days', s.auto_close_days,
                            'escalation_grace_days', s.escalation_grace_days,
                            'extension_lead_days', s.extension_lead_days,
                            'version', s.version, 'updated_at', api.ts(s.updated_at))
$$;

-- PUT /v1/settings (the district office): the full object, checked by the daemon (types,
-- ranges, unknown fields). If-Match against the version ("0" for a district on defaults).
-- An unchanged object answers the current settings without writing anything (as every PUT
-- of this migration does).
create function api.settings_put(body jsonb, if_match text) returns setof api.answer
language plpgsql volatile as $$
declare
  d bigint := auth.district();
  s huying.settings;
begin
  -- the row to lock: a district on defaults gets one (version 0) first
  insert into huying.settings (district_id, version) values (d, 0) on conflict (district_id) do nothing;
  select * into s from huying.settings where district_id = d for update;
  if if_match is not null and if_match <> '"' || s.version || '"' then
    raise exception using errcode = 'HY412', message = format('the settings are at version %s', s.version);
  end if;
  if (s.reopen_days, s.auto_close_days, s.escalation_grace_days, s.extension_lead_days)
     is distinct from ((body ->> 'reopen_days')::integer, (body ->> 'auto_close_days')::integer,
                       (body ->> 'escalation_grace_days')::integer, (body ->> 'extension_lead_days')::integer) then
    update huying.settings
       set reopen_days = (body ->> 'reopen_days')::integer, auto_close_days = (body ->> 'auto_close_days')::integer,
           escalation_grace_days = (body ->> 'escalation_grace_days')::integer,
           extension_lead_days = (body ->> 'extension_lead_days')::integer,
           version = version + 1, updated_at = now()
     where district_id = d returning * into s;
    perform api.event('settings', d, 'settings.updated', api.settings_json(s) - 'version' - 'updated_at');
  elsif s.version = 0 then
    -- nothing changed: the district stays on the defaults
    delete from huying.settings where district_id = d;
    s := api.settings();
  end if;
  return next row(200, '"' || s.version || '"', null, api.settings_json(s)::text, false)::api.answer;
end
$$;

-- ---- SLA policies --------------------------------------------------------------------------

-- A policy as the API shows it and PUT takes it is a document {accept, resolve, triage,
-- warn_percent} of limit documents (see the head of this file); a row stores each limit as
-- *_minutes with *_working, or *_working_days.

-- One limit of a policy row as a limit document.
create function api.limit_of(p_minutes integer, p_working boolean, p_days integer) returns jsonb
language sql stable parallel safe as $$
  select case when p_days is not null then jsonb_build_object('working_days', p_days)
              else jsonb_build_object('minutes', p_minutes, 'clock', case when p_working then 'working' else 'wall' end) end
$$;

-- The built-in policy of one urgency (DESIGN §5): emergency accept 30 min and resolve 24 h
-- wall-clock, triage 15 min; urgent accept 2 h wall-clock, resolve 3 working days, triage
-- 1 h; normal accept 1 working day, resolve 5 working days (the default for an item without a
-- limit), triage 1 working day; warnings at 75 %.
create function api.sla_default_doc(p_urgency text) returns jsonb
language sql immutable parallel safe as $$
  select case p_urgency
    when 'emergency' then '{"accept": {"minutes": 30, "clock": "wall"}, "resolve": {"minutes": 1440, "clock": "wall"},
                            "triage": {"minutes": 15, "clock": "wall"}, "warn_percent": 75}'::jsonb
    when 'urgent' then '{"accept": {"minutes": 120, "clock": "wall"}, "resolve": {"working_days": 3},
                         "triage": {"minutes": 60, "clock": "wall"}, "warn_percent": 75}'::jsonb
    else '{"accept": {"working_days": 1}, "resolve": {"working_days": 5}, "triage": {"working_days": 1},
           "warn_percent": 75}'::jsonb
  end
$$;

-- A policy document as a row (version 0). Fields are set by name, so that a column added to
-- the table later does not break it.
create function api.sla_row(p_district bigint, p_urgency text, doc jsonb) returns huying.sla_policies
language sql stable parallel safe as $$
  select jsonb_populate_record(null::huying.sla_policies, jsonb_build_object(
    'district_id', p_district, 'urgency', p_urgency, 'warn_percent', doc -> 'warn_percent', 'version', 0,
    'accept_minutes', doc -> 'accept' -> 'minutes', 'accept_working', coalesce(doc -> 'accept' ->> 'clock' = 'working', false),
    'accept_working_days', doc -> 'accept' -> 'working_days',
    'resolve_minutes', doc -> 'resolve' -> 'minutes', 'resolve_working', coalesce(doc -> 'resolve' ->> 'clock' = 'working', false),
    'resolve_working_days', doc -> 'resolve' -> 'working_days',
    'triage_minutes', doc -> 'triage' -> 'minutes', 'triage_working', coalesce(doc -> 'triage' ->> 'clock' = 'working', false),
    'triage_working_days', doc -> 'triage' -> 'working_days'))
$$;

-- A policy row as a document {accept, resolve, triage, warn_percent}.
create function api.sla_doc(p huying.sla_policies) returns jsonb
language sql stable parallel safe as $$
  select jsonb_build_object('accept', api.limit_of(p.accept_minutes, p.accept_working, p.accept_working_days),
                            'resolve', api.limit_of(p.resolve_minutes, p.resolve_working, p.resolve_working_days),
                            'triage', api.limit_of(p.triage_minutes, p.triage_working, p.triage_working_days),
                            'warn_percent', p.warn_percent)
$$;

-- A policy as the API shows it.
create function api.sla_json(p huying.sla_policies) returns jsonb
language sql stable as $$
  select jsonb_build_object('urgency', p.urgency) || api.sla_doc(p)
         || jsonb_build_object('version', p.version, 'updated_at', case when p.version > 0 then api.ts(p.updated_at) end)
$$;

-- The policy of one urgency in the caller's district: its own row, else the built-in one
-- (version 0). (plpgsql rather than SQL, here and below, so that its plans are cached for
-- the session: a SQL function that is not inlined is planned again in every transaction.)
create or replace function api.sla(p_urgency text) returns huying.sla_policies
language plpgsql stable as $$
declare
  p huying.sla_policies;
begin
  select * into p from huying.sla_policies x where x.district_id = auth.district() and x.urgency = p_urgency;
  if p.district_id is null then
    p := api.sla_row(auth.district(), p_urgency, api.sla_default_doc(p_urgency));
  end if;
  return p;
end
$$;

-- The limits applied to an order, or to a call in triage: accept and triage are the
-- policy's; for resolve see api.resolve_limit. These documents are what a timer stores to
-- recompute and explain its deadline later (api.limit_due, api.limit_explain).
create function api.accept_limit(p_urgency text) returns jsonb
language plpgsql stable as $$
begin
  return api.sla_doc(api.sla(p_urgency)) -> 'accept';
end
$$;

create function api.triage_limit(p_urgency text) returns jsonb
language plpgsql stable as $$
begin
  return api.sla_doc(api.sla(p_urgency)) -> 'triage';
end
$$;

-- ---- the arithmetic -------------------------------------------------------------------------
-- Internals work on a window of the calendar loaded once: the special days of (lo, hi] and
-- the office hours of the years with a row; a computation that runs past hi loads the next
-- window itself. Weekdays are counted with integer arithmetic from a Monday (1900-01-01), so
-- that a working-day deadline costs one pass over the special days in its range, not one
-- step per day.

create type api.wt_window as (
  district_id  bigint,
  lo           date,
  hi           date,
  days         date[],     -- the special days in (lo, hi], ascending
  work         boolean[],  -- per day: true = an adjusted workday, false = a holiday
  hours        jsonb       -- {"2026": [["08:30", "12:00"], ...]} for each year of [lo, hi] with a row
);

create function api.wt_load(p_district bigint, p_lo date, p_days integer) returns api.wt_window
language plpgsql stable as $$
declare
  w api.wt_window;
  days date[];
  work boolean[];
  hours jsonb;
begin
  select c.days, c.work,
         (select jsonb_object_agg(k.year::text, k.office_hours) from huying.calendars k
           where k.district_id = p_district
             and k.year between extract(year from p_lo)::integer and extract(year from p_lo + p_days)::integer)
    into days, work, hours
    from (select array_agg(x.day order by x.day) as days, array_agg(x.kind = 'workday' order by x.day) as work
            from huying.calendar_days x
           where x.district_id = p_district and x.day > p_lo and x.day <= p_lo + p_days) c;
  w := row(p_district, p_lo, p_lo + p_days, days, work, hours);
  return w;
end
$$;

-- How many days past the start a limit's window should cover (a guess: running past it only
-- costs another load).
create function api.wt_span(lim jsonb) returns integer
language sql immutable parallel safe as $$
  select case when lim ? 'working_days' then (lim ->> 'working_days')::integer * 3 / 2 + 31
              when lim ->> 'clock' = 'working' then (lim ->> 'minutes')::integer / 280 + 31
              else 0 end
$$;

-- Weekdays (Monday to Friday) in [1900-01-01, x).
create function api.wt_wd(x date) returns integer
language sql immutable parallel safe as $$
  select 5 * ((x - date '1900-01-01') / 7) + least((x - date '1900-01-01') % 7, 5)
$$;

-- The n-th weekday after a (n >= 1), ignoring the calendar.
create function api.wt_weekday_after(a date, n integer) returns date
language sql immutable parallel safe as $$
  select date '1900-01-01' + 7 * ((api.wt_wd(a + 1) + n - 1) / 5) + (api.wt_wd(a + 1) + n - 1) % 5
$$;

-- Whether day is a working day (the window covers it: lo < day <= hi).
create function api.wt_working(w api.wt_window, day date) returns boolean
language plpgsql immutable as $$
declare
  i integer := array_position(w.days, day);
begin
  if i is not null then
    return w.work[i];
  end if;
  return (day - date '1900-01-01') % 7 < 5;
end
$$;

-- The office hours of year y as [["HH:MM", "HH:MM"], ...]: from the window when it covers
-- the year, else read.
create function api.wt_hours(w api.wt_window, y integer) returns jsonb
language plpgsql stable as $$
declare
  h jsonb;
begin
  if y between extract(year from w.lo) and extract(year from w.hi) then
    h := w.hours -> y::text;
  else
    select k.office_hours into h from huying.calendars k where k.district_id = w.district_id and k.year = y;
  end if;
  return coalesce(h, '[["08:30", "12:00"], ["13:30", "17:30"]]'::jsonb);
end
$$;

-- The n-th working day after day a (n >= 1). Walks the special days after a: between two of
-- them every weekday counts, so each gap is counted at once.
create function api.wt_nth_day(w api.wt_window, a date, n integer) returns date
language plpgsql stable as $$
declare
  cur date := a;
  need integer := n;
  k integer;
  x date;
begin
  if n is null or n < 1 then
    raise exception using errcode = '22023', message = format('a working-day limit must be at least 1, not %s', n);
  end if;
  loop
    for i in 1 .. coalesce(array_length(w.days, 1), 0) loop
      x := w.days[i];
      continue when x <= cur;
      k := api.wt_wd(x) - api.wt_wd(cur + 1);  -- weekdays in (cur, x)
      if k >= need then
        return api.wt_weekday_after(cur, need);
      end if;
      need := need - k;
      if w.work[i] then
        need := need - 1;
        if need = 0 then
          return x;
        end if;
      end if;
      cur := x;
    end loop;
    x := api.wt_weekday_after(cur, need);
    if x <= w.hi then
      return x;
    end if;
    -- past the window: every weekday of (cur, hi] counted; go on from hi with a new window
    need := need - (api.wt_wd(w.hi + 1) - api.wt_wd(cur + 1));
    cur := w.hi;
    w := api.wt_load(w.district_id, w.hi, need * 3 / 2 + 31);
  end loop;
end
$$;

-- The close of office hours on the n-th working day after t's Shanghai date.
create function api.wt_add_days(w api.wt_window, t timestamptz, n integer) returns timestamptz
language plpgsql stable as $$
declare
  day date := api.wt_nth_day(w, (t at time zone 'Asia/Shanghai')::date, n);
begin
  return (day + (api.wt_hours(w, extract(year from day)::integer) -> -1 ->> 1)::time) at time zone 'Asia/Shanghai';
end
$$;

-- t plus n minutes of office time (n >= 0; 0 returns t).
create function api.wt_add_minutes(w api.wt_window, t timestamptz, n integer) returns timestamptz
language plpgsql stable as $$
declare
  cur timestamp := t at time zone 'Asia/Shanghai';
  day date := cur::date;
  rem interval := make_interval(mins => n);
  y integer;
  h jsonb;
  s timestamp;
  e timestamp;
begin
  if n is null or n < 0 then
    raise exception using errcode = '22023', message = format('a working-minute limit must be at least 0, not %s', n);
  end if;
  if n = 0 then
    return t;
  end if;
  loop
    if day > w.hi then
      w := api.wt_load(w.district_id, day - 1, n / 280 + 31);
    end if;
    if api.wt_working(w, day) then
      if y is distinct from extract(year from day)::integer then
        y := extract(year from day)::integer;
        h := api.wt_hours(w, y);
      end if;
      for i in 0 .. jsonb_array_length(h) - 1 loop
        s := day + (h -> i ->> 0)::time;
        e := day + (h -> i ->> 1)::time;
        continue when cur >= e;
        if cur < s then
          cur := s;
        end if;
        if e - cur >= rem then
          return (cur + rem) at time zone 'Asia/Shanghai';
        end if;
        rem := rem - (e - cur);
        cur := e;
      end loop;
    end if;
    day := day + 1;
  end loop;
end
$$;

-- The deadline of limit lim counted from t (see the head of this file). w may be NULL for a
-- wall-clock limit.
create function api.wt_due(w api.wt_window, t timestamptz, lim jsonb) returns timestamptz
language plpgsql stable as $$
begin
  if lim ? 'working_days' then
    return api.wt_add_days(w, t, (lim ->> 'working_days')::integer);
  elsif lim ->> 'clock' = 'working' then
    return api.wt_add_minutes(w, t, (lim ->> 'minutes')::integer);
  elsif lim ->> 'clock' = 'wall' then
    return t + make_interval(mins => (lim ->> 'minutes')::integer);
  end if;
  raise exception using errcode = '22023', message = format('not a limit: %s', lim);
end
$$;

-- The resolve limit applied from p_from, given the policy's limit p_policy and the item's
-- (or scenario's) limit in working days (NULL: none). Normal urgency: the item's limit when it
-- has one, else the policy's (DESIGN §5: "resolve within the item's limit, default 5").
-- Urgent and emergency: the stricter of the two, compared as instants (a wall-clock and a
-- working-day limit can change places over a weekend); a tie keeps the policy's.
create function api.wt_resolve_limit(w api.wt_window, p_urgency text, p_policy jsonb, p_limit_days integer,
                                     p_from timestamptz) returns jsonb
language plpgsql stable as $$
declare
  item jsonb := case when p_limit_days is not null then jsonb_build_object('working_days', p_limit_days) end;
begin
  if item is null then
    return p_policy;
  elsif p_urgency = 'normal' then
    return item;
  elsif p_policy ? 'working_days' then
    -- the same kind: the smaller count is the earlier instant
    return case when p_limit_days < (p_policy ->> 'working_days')::integer then item else p_policy end;
  elsif api.wt_due(w, p_from, item) < api.wt_due(w, p_from, p_policy) then
    return item;
  end if;
  return p_policy;
end
$$;

-- Office time in [a, b) (a <= b).
create function api.wt_between(w api.wt_window, a timestamptz, b timestamptz) returns interval
language plpgsql stable as $$
declare
  la timestamp := a at time zone 'Asia/Shanghai';
  lb timestamp := b at time zone 'Asia/Shanghai';
  day date := la::date;
  total interval := '0';
  y integer;
  h jsonb;
  s timestamp;
  e timestamp;
begin
  while day <= lb::date loop
    if day > w.hi then
      w := api.wt_load(w.district_id, day - 1, lb::date - day + 1);
    end if;
    if api.wt_working(w, day) then
      if y is distinct from extract(year from day)::integer then
        y := extract(year from day)::integer;
        h := api.wt_hours(w, y);
      end if;
      for i in 0 .. jsonb_array_length(h) - 1 loop
        s := greatest(day + (h -> i ->> 0)::time, la);
        e := least(day + (h -> i ->> 1)::time, lb);
        if e > s then
          total := total + (e - s);
        end if;
      end loop;
    end if;
    day := day + 1;
  end loop;
  return total;
end
$$;

-- ---- the public working-time functions (the caller's district) -----------------------------

-- Whether d is a working day of the caller's district.
create function api.working_day(d date) returns boolean
language plpgsql stable as $$
begin
  return api.wt_working(api.wt_load(auth.district(), d - 1, 1), d);
end
$$;

-- t plus n minutes of office time (see the head of this file).
create function api.add_working_minutes(t timestamptz, n integer) returns timestamptz
language plpgsql stable as $$
begin
  return api.wt_add_minutes(api.wt_load(auth.district(), (t at time zone 'Asia/Shanghai')::date - 1, n / 280 + 31), t, n);
end
$$;

-- The close of office hours on the n-th working day after t's date (the start day does not
-- count).
create function api.add_working_days(t timestamptz, n integer) returns timestamptz
language plpgsql stable as $$
begin
  return api.wt_add_days(api.wt_load(auth.district(), (t at time zone 'Asia/Shanghai')::date, n * 3 / 2 + 31), t, n);
end
$$;

-- Office seconds in [a, b); negative when b < a. What a timer's business_seconds_left is.
create function api.working_seconds_between(a timestamptz, b timestamptz) returns bigint
language plpgsql stable as $$
declare
  lo timestamptz := least(a, b);
  hi timestamptz := greatest(a, b);
  ld date := (lo at time zone 'Asia/Shanghai')::date;
  s bigint;
begin
  s := extract(epoch from api.wt_between(api.wt_load(auth.district(), ld - 1, (hi at time zone 'Asia/Shanghai')::date - ld + 1),
                                         lo, hi))::bigint;
  return case when b < a then -s else s end;
end
$$;

-- Office minutes in [a, b) (whole minutes, towards zero); negative when b < a.
create function api.working_minutes_between(a timestamptz, b timestamptz) returns integer
language plpgsql stable as $$
declare
  s bigint := api.working_seconds_between(a, b);
begin
  return (sign(s) * (abs(s) / 60))::integer;
end
$$;

-- The deadline of a limit document counted from t: the one dispatcher every caller uses.
create function api.limit_due(t timestamptz, lim jsonb) returns timestamptz
language plpgsql stable as $$
declare
  span integer := api.wt_span(lim);
begin
  return api.wt_due(case when span > 0 then api.wt_load(auth.district(), (t at time zone 'Asia/Shanghai')::date - 1, span) end,
                    t, lim);
end
$$;

-- The resolve limit an order dispatched at p_from gets (api.wt_resolve_limit's rule).
create function api.resolve_limit(p_urgency text, p_limit_days integer, p_from timestamptz default now()) returns jsonb
language plpgsql stable as $$
declare
  pol jsonb := api.sla_doc(api.sla(p_urgency)) -> 'resolve';
begin
  return api.wt_resolve_limit(api.wt_load(auth.district(), (p_from at time zone 'Asia/Shanghai')::date - 1,
                                          greatest(api.wt_span(pol), coalesce(p_limit_days * 3 / 2 + 31, 0))),
                              p_urgency, pol, p_limit_days, p_from);
end
$$;

-- The deadlines of an order dispatched at p_from (the signature of 0003): accept_by from the
-- policy, resolve_by by api.wt_resolve_limit's rule, both over the calendar. This is the hot
-- path of call creation, so the policy and a calendar window (wide enough for the built-in
-- limits and the item's; the arithmetic loads more when it runs past it) come in one
-- statement.
create or replace function api.deadlines(p_urgency text, p_limit_days integer, p_from timestamptz,
                                         out accept_by timestamptz, out resolve_by timestamptz)
language plpgsql stable as $$
declare
  d bigint := auth.district();
  lo date := (p_from at time zone 'Asia/Shanghai')::date - 1;
  hi date := lo + greatest(coalesce(p_limit_days, 0), 5) * 3 / 2 + 32;
  doc jsonb;
  days date[];
  work boolean[];
  hours jsonb;
  w api.wt_window;
  lim jsonb;
begin
  select coalesce((select api.sla_doc(x) from huying.sla_policies x where x.district_id = d and x.urgency = p_urgency),
                  api.sla_default_doc(p_urgency)),
         c.days, c.work,
         (select jsonb_object_agg(k.year::text, k.office_hours) from huying.calendars k
           where k.district_id = d and k.year between extract(year from lo)::integer and extract(year from hi)::integer)
    into doc, days, work, hours
    from (select array_agg(x.day order by x.day) as days, array_agg(x.kind = 'workday' order by x.day) as work
            from huying.calendar_days x where x.district_id = d and x.day > lo and x.day <= hi) c;
  w := row(d, lo, hi, days, work, hours);
  lim := doc -> 'accept';
  accept_by := api.wt_due(w, p_from, lim);
  lim := api.wt_resolve_limit(w, p_urgency, doc -> 'resolve', p_limit_days, p_from);
  resolve_by := api.wt_due(w, p_from, lim);
end
$$;

-- The deadline of the triage timer of a call created at p_from.
create function api.triage_due(p_urgency text, p_from timestamptz) returns timestamptz
language plpgsql stable as $$
begin
  return api.limit_due(p_from, api.triage_limit(p_urgency));
end
$$;

-- ---- explaining a deadline -------------------------------------------------------------------

-- How limit lim counted from t produced its deadline, so that a dispute can be settled from
-- data: {from, due, rule, limit, segments: [{date, from, to, minutes, day_kind, note}],
-- skipped: [{date, reason}]}. Segments are the office time that counted (working minutes: the
-- stretches used; working days: each counted day's office hours); skipped are the days in
-- between that did not count (the start day of a working-day limit, weekends, holidays).
create function api.limit_explain(t timestamptz, lim jsonb) returns jsonb
language plpgsql stable as $$
declare
  due timestamptz := api.limit_due(t, lim);
  lt timestamp := t at time zone 'Asia/Shanghai';
  ld timestamp := due at time zone 'Asia/Shanghai';
  by_days boolean := lim ? 'working_days';
  segs jsonb := '[]';
  skipped jsonb := '[]';
  dy date := lt::date;
  sd huying.calendar_days;
  working boolean;
  kind text;
  h jsonb;
  s timestamp;
  e timestamp;
  n integer := 0;
begin
  if not by_days and lim ->> 'clock' = 'wall' then
    return jsonb_build_object('from', api.ts(t), 'due', api.ts(due), 'rule', 'wall-clock', 'limit', lim,
                              'segments', '[]'::jsonb, 'skipped', '[]'::jsonb);
  end if;
  while dy <= ld::date loop
    select * into sd from huying.calendar_days c where c.district_id = auth.district() and c.day = dy;
    working := case when sd.kind is not null then sd.kind = 'workday' else (dy - date '1900-01-01') % 7 < 5 end;
    kind := case when sd.kind = 'workday' then 'adjusted_workday' else 'workday' end;
    h := coalesce((select k.office_hours from huying.calendars k
                    where k.district_id = auth.district() and k.year = extract(year from dy)),
                  '[["08:30", "12:00"], ["13:30", "17:30"]]');
    if not working then
      skipped := skipped || jsonb_build_object('date', dy,
        'reason', case when sd.kind = 'holiday' then 'holiday: ' || coalesce(sd.name, '') else 'weekend' end);
    elsif by_days and dy = lt::date then
      skipped := skipped || jsonb_build_object('date', dy, 'reason', 'start day (not counted)');
    elsif by_days then
      n := n + 1;
      segs := segs || jsonb_build_object('date', dy,
        'from', api.ts((dy + (h -> 0 ->> 0)::time) at time zone 'Asia/Shanghai'),
        'to', api.ts((dy + (h -> -1 ->> 1)::time) at time zone 'Asia/Shanghai'),
        'minutes', (select sum(extract(epoch from (x ->> 1)::time - (x ->> 0)::time) / 60)::integer
                      from jsonb_array_elements(h) x),
        'day_kind', kind,
        'note', format('working day %s of %s', n, lim ->> 'working_days')
                || case when sd.kind = 'workday' then ' (调休: ' || coalesce(sd.name, '') || ')' else '' end);
    else
      for i in 0 .. jsonb_array_length(h) - 1 loop
        s := greatest(dy + (h -> i ->> 0)::time, lt);
        e := least(dy + (h -> i ->> 1)::time, ld);
        if e > s then
          segs := segs || jsonb_build_object('date', dy,
            'from', api.ts(s at time zone 'Asia/Shanghai'), 'to', api.ts(e at time zone 'Asia/Shanghai'),
            'minutes', trim_scale(round(extract(epoch from e - s) / 60, 2)), 'day_kind', kind,
            'note', case when sd.kind = 'workday' then '调休: ' || coalesce(sd.name, '') else null end);
        end if;
      end loop;
    end if;
    dy := dy + 1;
  end loop;
  return jsonb_build_object('from', api.ts(t), 'due', api.ts(due),
    'rule', case when by_days then 'working days (start day not counted)' else 'working minutes' end,
    'limit', lim, 'segments', segs, 'skipped', skipped);
end
$$;

-- ---- the calendar resource -------------------------------------------------------------------

-- The calendar of a year as the API shows it. A year without a row: the default office
-- hours, its special days if an import wrote some, version 0.
create function api.calendar_json(p_year integer) returns jsonb
language sql stable as $$
  select jsonb_build_object('year', p_year,
    'office_hours', coalesce(k.office_hours, '[["08:30", "12:00"], ["13:30", "17:30"]]'::jsonb),
    'days', coalesce((select jsonb_agg(jsonb_build_object('date', c.day, 'kind', c.kind, 'name', c.name) order by c.day)
                        from huying.calendar_days c
                       where c.district_id = auth.district() and c.day between make_date(p_year, 1, 1) and make_date(p_year, 12, 31)),
                     '[]'::jsonb),
    'version', coalesce(k.version, 0), 'updated_at', api.ts(k.updated_at))
    from (select 1) one
    left join huying.calendars k on k.district_id = auth.district() and k.year = p_year
$$;

-- The hook a calendar edit calls, in its own transaction, for each year it changed. The
-- timers issue makes it recompute the deadlines of running timers (and write their events);
-- until then there is nothing to recompute.
create function api.calendar_changed(p_year integer) returns void
language plpgsql volatile as $$
begin
  null;
end
$$;

-- A date from text, or NULL when it is not a real YYYY-MM-DD date (no exception: an import
-- checks thousands of them).
create function api.date_or_null(s text) returns date
language sql immutable parallel safe as $$
  select case when s is null or s !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then null
              when substr(s, 1, 4)::integer = 0 or substr(s, 6, 2)::integer not between 1 and 12 then null
              when substr(s, 9, 2)::integer between 1 and extract(day from make_date(substr(s, 1, 4)::integer, substr(s, 6, 2)::integer, 1)
                                                                     + interval '1 month - 1 day')::integer
                then s::date
         end
$$;

-- Locks the calendar row of each year (ascending, so two writers never deadlock), creating
-- a placeholder (version 0) for a year without one; api.calendar_settle() removes the
-- placeholders that nothing was written to.
create function api.calendar_lock(p_years integer[]) returns void
language sql volatile as $$
  insert into huying.calendars (district_id, year, version)
  select auth.district(), y, 0 from unnest(p_years) y order by y
  on conflict (district_id, year) do nothing;
  select 1 from huying.calendars k
   where k.district_id = auth.district() and k.year = any(p_years) order by k.year for update;
$$;

-- After a write to the years of p_years: a year whose content changed (p_changed) gets its
-- next version, an event calendar.updated and the api.calendar_changed() hook; a placeholder
-- left unchanged goes away.
create function api.calendar_settle(p_year integer, p_changed boolean, p_data jsonb) returns void
language plpgsql volatile as $$
begin
  if p_changed then
    update huying.calendars set version = version + 1, updated_at = now()
     where district_id = auth.district() and year = p_year;
    perform api.event('calendar', p_year, 'calendar.updated', jsonb_build_object('year', p_year) || p_data);
    perform api.calendar_changed(p_year);
  else
    delete from huying.calendars where district_id = auth.district() and year = p_year and version = 0;
  end if;
end
$$;

-- PUT /v1/calendar/{year} (the district office): {office_hours, days: [{date, kind, name?}]}
-- replaces the year. The daemon checked the year and that both members are arrays; this
-- checks what is inside them (422 naming e.g. days[3].date), then If-Match against the
-- year's version ("0" for a year without a row), then writes. An unchanged calendar answers
-- as it is, without a new version or an event.
create function api.calendar_put(p_year integer, body jsonb, if_match text) returns setof api.answer
language plpgsql volatile as $$
declare
  d bigint := auth.district();
  errs jsonb;
  k huying.calendars;
  changed boolean;
  seg jsonb;
  ent jsonb;
  unknown text;
  i integer := 0;
  dt date;
  seen date[] := '{}';
begin
  if jsonb_array_length(body -> 'office_hours') not between 1 and 6 then
    errs := api.err(errs, null, 'office_hours', 'has 1 to 6 segments ["HH:MM", "HH:MM"]');
  end if;
  for seg in select jsonb_array_elements(body -> 'office_hours') loop
    if not huying.office_hours_ok(jsonb_build_array(seg)) then
      errs := api.err(errs, null, format('office_hours[%s]', i), 'is ["HH:MM", "HH:MM"], opening before closing');
    elsif i > 0 and huying.office_hours_ok(jsonb_build_array(body -> 'office_hours' -> (i - 1)))
          and (seg ->> 0) <= (body -> 'office_hours' -> (i - 1) ->> 1) then
      errs := api.err(errs, null, format('office_hours[%s]', i), 'must open after the previous segment closes');
    end if;
    i := i + 1;
  end loop;
  if jsonb_array_length(body -> 'days') > 366 then
    errs := api.err(errs, null, 'days', 'has at most 366 entries');
  end if;
  i := 0;
  for ent in select jsonb_array_elements(body -> 'days') loop
    if jsonb_typeof(ent) <> 'object' then
      errs := api.err(errs, null, format('days[%s]', i), 'is {date, kind, name?}');
    else
      unknown := (select f from jsonb_object_keys(ent) f where f not in ('date', 'kind', 'name') order by f limit 1);
      if unknown is not null then
        errs := api.err(errs, null, format('days[%s].%s', i, unknown), 'is not a known field');
      end if;
      dt := case when jsonb_typeof(ent -> 'date') = 'string' then api.date_or_null(ent ->> 'date') end;
      if dt is null then
        errs := api.err(errs, null, format('days[%s].date', i), 'must be a date YYYY-MM-DD');
      elsif extract(year from dt) <> p_year then
        errs := api.err(errs, null, format('days[%s].date', i), format('must lie in %s', p_year));
      elsif dt = any(seen) then
        errs := api.err(errs, null, format('days[%s].date', i),
                        format('appears twice (first at days[%s])', array_position(seen, dt) - 1));
      end if;
      seen := seen || dt;
      if jsonb_typeof(ent -> 'kind') is distinct from 'string' or ent ->> 'kind' not in ('holiday', 'workday') then
        errs := api.err(errs, null, format('days[%s].kind', i), 'must be holiday or workday');
      end if;
      if ent ? 'name' and jsonb_typeof(ent -> 'name') <> 'null'
         and (jsonb_typeof(ent -> 'name') <> 'string' or char_length(ent ->> 'name') not between 1 and 50) then
        errs := api.err(errs, null, format('days[%s].name', i), 'is text of 1 to 50 characters, or null');
      end if;
    end if;
    i := i + 1;
  end loop;
  if errs is not null then
    raise exception using errcode = 'HY422', message = 'the calendar has invalid fields',
      detail = jsonb_build_object('errors', (select jsonb_agg(e - 'line') from jsonb_array_elements(errs) e))::text;
  end if;

  perform api.calendar_lock(array[p_year]);
  select * into k from huying.calendars where district_id = d and year = p_year;
  if if_match is not null and if_match <> '"' || k.version || '"' then
    raise exception using errcode = 'HY412', message = format('the calendar of %s is at version %s', p_year, k.version);
  end if;
  changed := k.office_hours is distinct from body -> 'office_hours'
    or (select coalesce(jsonb_agg(jsonb_build_object('date', c.day, 'kind', c.kind, 'name', c.name) order by c.day), '[]')
          from huying.calendar_days c
         where c.district_id = d and c.day between make_date(p_year, 1, 1) and make_date(p_year, 12, 31))
       is distinct from
       (select coalesce(jsonb_agg(jsonb_build_object('date', e ->> 'date', 'kind', e ->> 'kind', 'name', e ->> 'name')
                                  order by e ->> 'date'), '[]')
          from jsonb_array_elements(body -> 'days') e);
  if changed then
    update huying.calendars set office_hours = body -> 'office_hours' where district_id = d and year = p_year;
    delete from huying.calendar_days c
     where c.district_id = d and c.day between make_date(p_year, 1, 1) and make_date(p_year, 12, 31);
    insert into huying.calendar_days (district_id, day, kind, name)
    select d, (e ->> 'date')::date, e ->> 'kind', e ->> 'name' from jsonb_array_elements(body -> 'days') e;
  end if;
  perform api.calendar_settle(p_year, changed, jsonb_build_object('source', 'put'));
  return next row(200, '"' || coalesce((select version from huying.calendars where district_id = d and year = p_year), 0) || '"',
                  null, api.calendar_json(p_year)::text, false)::api.answer;
end
$$;

-- Calendar import: date, kind, name (the columns of data/demo/calendar-2026.csv); NDJSON
-- lines are objects with the same members. The days are merged into their years (a day not
-- in the file stays as it is; PUT replaces a whole year); each year that changed gets its
-- next version, an event and the api.calendar_changed() hook.
create function api.import_calendar(p_dry_run boolean, p_effective_from date) returns api.answer
language plpgsql volatile as $$
declare
  d bigint := auth.district();
  errs jsonb;
  nrows bigint;
  ins bigint;
  upd bigint;
  y record;
begin
  select count(*) into nrows from import_rows;
  create temp table c_in on commit drop as
    select r.line, r.doc, case when jsonb_typeof(r.doc -> 'date') = 'string' then api.date_or_null(r.doc ->> 'date') end as day,
           api.doc_text(r.doc, 'kind') as kind, r.doc ->> 'name' as name
      from import_rows r;
  select jsonb_agg(jsonb_build_object('line', line, 'field', field, 'message', message) order by line, field)
    into errs
    from (select line, field, message from (
      select c.line, k as field, 'is not a known column' as message
        from c_in c cross join lateral jsonb_object_keys(c.doc - array['date', 'kind', 'name']) k
      union all
      select line, 'date', 'must be a date YYYY-MM-DD from 2000 to 2100'
        from c_in where day is null or day not between '2000-01-01' and '2100-12-31'
      union all
      select x.line, 'date', format('appears more than once in the file (first on line %s)', x.first)
        from (select line, min(line) over (partition by day) as first from c_in where day is not null) x
       where x.line > x.first
      union all
      select line, 'kind', 'must be holiday or workday' from c_in where kind is null or kind not in ('holiday', 'workday')
      union all
      select line, 'name', 'is text of 1 to 50 characters'
        from c_in where doc ? 'name' and jsonb_typeof(doc -> 'name') <> 'null'
                    and (jsonb_typeof(doc -> 'name') <> 'string' or char_length(name) not between 1 and 50)
    ) e order by line, field limit 1000) e;
  perform api.import_fail(errs, nrows);

  perform api.calendar_lock(array(select distinct extract(year from day)::integer from c_in));
  create temp table c_done on commit drop as select day, true as fresh from c_in where false;
  with up as (
    insert into huying.calendar_days as t (district_id, day, kind, name)
    select d, c.day, c.kind, c.name from c_in c
    on conflict (district_id, day) do update set kind = excluded.kind, name = excluded.name
     where (t.kind, t.name) is distinct from (excluded.kind, excluded.name)
    returning t.day, (xmax = 0) as fresh)
  insert into c_done select * from up;
  select count(*) filter (where fresh), count(*) filter (where not fresh) into ins, upd from c_done;
  for y in select extract(year from c.day)::integer as year,
                  count(x.day) filter (where x.fresh) as inserted, count(x.day) filter (where not x.fresh) as updated
             from c_in c left join c_done x on x.day = c.day
            group by 1 order by 1 loop
    perform api.calendar_settle(y.year, y.inserted + y.updated > 0,
                                jsonb_build_object('source', 'import', 'inserted', y.inserted, 'updated', y.updated));
  end loop;
  drop table c_in, c_done;  -- so that a second import in the same transaction works too
  return api.import_answer(nrows, ins, upd, p_dry_run);
end
$$;

-- ---- the SLA policy resource -------------------------------------------------------------------

-- A limit document from a request body, or NULL when it is not one. field names it in errs.
create function api.limit_check(lim jsonb, field text, inout errs jsonb)
language plpgsql stable as $$
begin
  if jsonb_typeof(lim) <> 'object' then
    errs := api.err(errs, null, field, 'is {"minutes": 1..525600, "clock": "wall" | "working"} or {"working_days": 1..365}');
  elsif lim ? 'working_days' then
    if exists (select 1 from jsonb_object_keys(lim) k where k <> 'working_days') then
      errs := api.err(errs, null, field, 'a working-day limit has only working_days');
    elsif jsonb_typeof(lim -> 'working_days') <> 'number' or (lim ->> 'working_days') !~ '^[0-9]{1,3}$'
          or (lim ->> 'working_days')::integer not between 1 and 365 then
      errs := api.err(errs, null, field || '.working_days', 'must be an integer from 1 to 365');
    end if;
  elsif lim ? 'minutes' then
    if exists (select 1 from jsonb_object_keys(lim) k where k not in ('minutes', 'clock')) then
      errs := api.err(errs, null, field, 'a minute limit has only minutes and clock');
    end if;
    if jsonb_typeof(lim -> 'minutes') <> 'number' or (lim ->> 'minutes') !~ '^[0-9]{1,6}$'
       or (lim ->> 'minutes')::integer not between 1 and 525600 then
      errs := api.err(errs, null, field || '.minutes', 'must be an integer from 1 to 525600');
    end if;
    if jsonb_typeof(lim -> 'clock') is distinct from 'string' or lim ->> 'clock' not in ('wall', 'working') then
      errs := api.err(errs, null, field || '.clock', 'must be wall or working');
    end if;
  else
    errs := api.err(errs, null, field, 'is {"minutes": 1..525600, "clock": "wall" | "working"} or {"working_days": 1..365}');
  end if;
end
$$;

-- PUT /v1/sla-policies/{urgency} (the district office): {accept, resolve, triage, warn_percent}
-- names every limit. If-Match against the policy's version ("0" while the district uses the
-- defaults). Orders dispatched afterwards use it; running deadlines stay as they are.
create function api.sla_put(p_urgency text, body jsonb, if_match text) returns setof api.answer
language plpgsql volatile as $$
declare
  d bigint := auth.district();
  errs jsonb;
  p huying.sla_policies;
  new huying.sla_policies;
begin
  errs := api.limit_check(body -> 'accept', 'accept', errs);
  errs := api.limit_check(body -> 'resolve', 'resolve', errs);
  errs := api.limit_check(body -> 'triage', 'triage', errs);
  if errs is not null then
    raise exception using errcode = 'HY422', message = 'the policy has invalid fields',
      detail = jsonb_build_object('errors', (select jsonb_agg(e - 'line') from jsonb_array_elements(errs) e))::text;
  end if;
  -- the row to lock: a district on defaults gets its default row first (version 0)
  p := api.sla(p_urgency);
  insert into huying.sla_policies (district_id, urgency, accept_minutes, accept_working, accept_working_days, resolve_minutes,
                                   resolve_working, resolve_working_days, triage_minutes, triage_working, triage_working_days,
                                   warn_percent, version)
  values (d, p_urgency, p.accept_minutes, p.accept_working, p.accept_working_days, p.resolve_minutes, p.resolve_working,
          p.resolve_working_days, p.triage_minutes, p.triage_working, p.triage_working_days, p.warn_percent, 0)
  on conflict (district_id, urgency) do nothing;
  select * into p from huying.sla_policies where district_id = d and urgency = p_urgency for update;
  if if_match is not null and if_match <> '"' || p.version || '"' then
    raise exception using errcode = 'HY412', message = format('the %s policy is at version %s', p_urgency, p.version);
  end if;
  if api.sla_doc(p) is distinct from api.sla_doc(api.sla_row(d, p_urgency, body)) then
    new := api.sla_row(d, p_urgency, body);
    update huying.sla_policies
       set accept_minutes = new.accept_minutes, accept_working = new.accept_working,
           accept_working_days = new.accept_working_days, resolve_minutes = new.resolve_minutes,
           resolve_working = new.resolve_working, resolve_working_days = new.resolve_working_days,
           triage_minutes = new.triage_minutes, triage_working = new.triage_working,
           triage_working_days = new.triage_working_days, warn_percent = new.warn_percent,
           version = version + 1, updated_at = now()
     where district_id = d and urgency = p_urgency returning * into p;
    perform api.event('settings', d, 'sla_policy.updated', jsonb_build_object('urgency', p_urgency) || api.sla_doc(p));
  elsif p.version = 0 then
    -- nothing changed: the district stays on the defaults
    delete from huying.sla_policies where district_id = d and urgency = p_urgency;
  end if;
  return next row(200, '"' || p.version || '"', null, api.sla_json(p)::text, false)::api.answer;
end
$$;

grant usage on type api.wt_window to huying_api;
grant execute on all functions in schema api to huying_api;
