-- Satisfaction ratings (满意度评价) and department scores (三率 assessment): DESIGN §5
-- "Satisfaction and scores". A township rates each resolved order of its calls once, on
-- response speed and handling effectiveness (1..5 each). The scores of a period are sums of
-- per-order facts kept transactionally in a roll-up, so that a month of a million orders
-- answers in milliseconds and stays exact:
--
--   * every change to an order, a rating, a notice or a call writes, in its own transaction,
--     the difference it makes to the facts of its key (district, Asia/Shanghai day of the
--     order's dispatch, department, township, domain) into huying.score_deltas — an insert,
--     never an update, so that concurrent writers never wait for each other on a hot row;
--   * the sweeper of any replica folds the deltas into huying.score_rollup (api.score_compact,
--     one replica at a time, delete and upsert in one transaction), so a reader that sums
--     rollup + deltas in one snapshot always gets the exact totals;
--   * what depends on the clock — an order still open whose accept or resolve deadline has
--     passed counts as not on time — becomes a fact when the sweep marks the deadline's timer
--     overdue (orders.accept_lapsed / resolve_lapsed, set by the timers trigger in the sweep's
--     transaction, cleared when the deadline moves into the future); the few open orders
--     whose deadline has passed and that the sweep has not reached yet (seconds' worth, or
--     all of them where no replica sweeps) are counted at read time (indexes
--     orders_accept_unlapsed, orders_resolve_unlapsed).
--
-- The definitions (also in openapi.yaml, exactly):
--   an order counts in a period if it was dispatched (created) in it, `from` and `to` being
--   Asia/Shanghai dates, both inclusive; a cancelled order counts in nothing; an order whose
--   return was upheld (status returned) counts only as `returned`;
--   accepted on time = accepted_at <= accept_by; the response rate's denominator holds the
--   accepted orders and the open ones past accept_by;
--   resolved on time = resolved_at <= resolve_by (as extended) and not reopened (a reworked
--   order's resolution counts as not on time: the reopen counts against it); the resolution
--   rate's denominator holds the resolved orders and the open ones past resolve_by;
--   open orders not yet due count in neither numerator nor denominator;
--   satisfaction rate = ratings with speed >= 4 and effectiveness >= 4 / ratings;
--   notices = notices and rectification orders on supervisions of the orders (reminders cost
--   nothing), whatever became of the order;
--   composite = 100 × (w_r × response + w_s × resolution + w_t × satisfaction) / (the sum of
--   the weights of the rates that are not null) − penalty × notices; null when no weighted
--   rate has a denominator; rank = dense_rank() over (composite desc nulls last,
--   satisfaction_rate desc nulls last), on the rounded figures.

-- ---- settings: the weights of the composite -----------------------------------------------------
alter table huying.settings
  add column weight_response numeric(5,4) not null default 0.3 check (weight_response between 0 and 1),
  add column weight_resolution numeric(5,4) not null default 0.3 check (weight_resolution between 0 and 1),
  add column weight_satisfaction numeric(5,4) not null default 0.4 check (weight_satisfaction between 0 and 1),
  add column penalty numeric(8,4) not null default 2 check (penalty between 0 and 100),
  add constraint settings_weights_one check (weight_response + weight_resolution + weight_satisfaction = 1);
comment on column huying.settings.penalty is 'Points off the composite score per notice or rectification order.';
grant insert (weight_response, weight_resolution, weight_satisfaction, penalty) on huying.settings to huying_api;
grant update (weight_response, weight_resolution, weight_satisfaction, penalty) on huying.settings to huying_api;

create or replace function api.settings() returns huying.settings
language plpgsql stable as $$
declare
  s huying.settings;
begin
  select * into s from huying.settings x where x.district_id = auth.district();
  if s.district_id is null then
    s := jsonb_populate_record(null::huying.settings,
           jsonb_build_object('district_id', auth.district(), 'reopen_days', 7, 'auto_close_days', 7,
                              'escalation_grace_days', 1, 'extension_lead_days', 1, 'weight_response', 0.3,
                              'weight_resolution', 0.3, 'weight_satisfaction', 0.4, 'penalty', 2, 'version', 0));
  end if;
  return s;
end
$$;

create or replace function api.settings_json(s huying.settings) returns jsonb
language sql stable as $$
  select jsonb_build_object('reopen_days', s.reopen_days, 'auto_close_days', s.auto_close_days,
                            'escalation_grace_days', s.escalation_grace_days,
                            'extension_lead_days', s.extension_lead_days,
                            'weight_response', trim_scale(s.weight_response),
                            'weight_resolution', trim_scale(s.weight_resolution),
                            'weight_satisfaction', trim_scale(s.weight_satisfaction),
                            'penalty', trim_scale(s.penalty),
                            'version', s.version, 'updated_at', api.ts(s.updated_at))
$$;

-- PUT /v1/settings: the full object (the daemon checks types, ranges, decimals and that the
-- three weights add up to 1).
create or replace function api.settings_put(body jsonb, if_match text) returns setof api.answer
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
  if round((body ->> 'weight_response')::numeric, 4) + round((body ->> 'weight_resolution')::numeric, 4)
     + round((body ->> 'weight_satisfaction')::numeric, 4) is distinct from 1 then
    raise exception using errcode = 'HY422', message = 'the settings have invalid fields',
      detail = json_build_object('errors', (select json_agg(json_build_object('field', f,
                 'message', 'weight_response + weight_resolution + weight_satisfaction must add up to 1'))
                 from unnest(array['weight_response', 'weight_resolution', 'weight_satisfaction']) f))::text;
  end if;
  if (s.reopen_days, s.auto_close_days, s.escalation_grace_days, s.extension_lead_days,
      s.weight_response, s.weight_resolution, s.weight_satisfaction, s.penalty)
     is distinct from ((body ->> 'reopen_days')::integer, (body ->> 'auto_close_days')::integer,
                       (body ->> 'escalation_grace_days')::integer, (body ->> 'extension_lead_days')::integer,
                       (body ->> 'weight_response')::numeric, (body ->> 'weight_resolution')::numeric,
                       (body ->> 'weight_satisfaction')::numeric, (body ->> 'penalty')::numeric) then
    update huying.settings
       set reopen_days = (body ->> 'reopen_days')::integer, auto_close_days = (body ->> 'auto_close_days')::integer,
           escalation_grace_days = (body ->> 'escalation_grace_days')::integer,
           extension_lead_days = (body ->> 'extension_lead_days')::integer,
           weight_response = (body ->> 'weight_response')::numeric,
           weight_resolution = (body ->> 'weight_resolution')::numeric,
           weight_satisfaction = (body ->> 'weight_satisfaction')::numeric,
           penalty = (body ->> 'penalty')::numeric,
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

-- ---- ratings ------------------------------------------------------------------------------------
create table huying.ratings (
  id             bigint generated always as identity primary key,
  district_id    bigint not null references huying.districts(id),
  order_id       bigint not null unique references huying.orders(id),
  call_id        bigint not null references huying.calls(id),
  department_id  bigint not null references huying.units(id),
  township_id    bigint not null references huying.units(id),
  speed          smallint not null check (speed between 1 and 5),
  effectiveness  smallint not null check (effectiveness between 1 and 5),
  comment        text check (char_length(comment) between 1 and 1000),
  rated_by_sub   text not null,
  created_at     timestamptz not null default now()
);
comment on table huying.ratings is 'A township''s rating of one resolved order (速度, 成效). The rater is the township; rated_by_sub is kept for audit and never shown.';
create index ratings_department on huying.ratings (district_id, department_id, id);
create index ratings_township on huying.ratings (district_id, township_id, id);
create index ratings_call on huying.ratings (call_id);

select huying.protect('huying.ratings');
-- The district office all; a department the ratings of its orders; a township those it gave.
create policy ratings_read on huying.ratings for select to huying_api
  using (district_id = (select auth.district())
         and case (select auth.role())
               when 'district' then true
               when 'department' then department_id = (select auth.unit())
               when 'township' then township_id = (select auth.unit())
               else false
             end);
create policy ratings_create on huying.ratings for insert to huying_api
  with check (district_id = (select auth.district()) and (select auth.role()) = 'township'
              and township_id = (select auth.unit())
              and exists (select 1 from huying.calls c where c.id = call_id and c.township_id = (select auth.unit()))
              and exists (select 1 from huying.orders o where o.id = order_id and o.call_id = ratings.call_id
                            and o.department_id = ratings.department_id));
grant select on huying.ratings to huying_api;
grant insert (district_id, order_id, call_id, department_id, township_id, speed, effectiveness, comment, rated_by_sub)
  on huying.ratings to huying_api;

insert into huying.transitions values ('order', 'resolved', 'rate', 'township', 'resolved');

create function api.rating_json(r huying.ratings) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', r.id, 'order_id', r.order_id, 'call_id', r.call_id, 'department_id', r.department_id,
    'township_id', r.township_id, 'speed', r.speed, 'effectiveness', r.effectiveness, 'comment', r.comment,
    'created_at', api.ts(r.created_at))
$$;

-- POST /v1/orders/{id}/rating (the township of the call): {speed, effectiveness, comment?}
-- (types and ranges checked by the daemon). Order of checks: role 403, not visible 404,
-- Idempotency-Key replay, already rated 409 (rating_id), not resolved 409 (current_status).
create function api.rating_create(p_order bigint, body jsonb, idem_key text default null) returns setof api.answer
language plpgsql volatile as $$
declare
  route text := format('POST /v1/orders/{id}/rating#%s', p_order);
  prior api.answer;
  o huying.orders;
  c huying.calls;
  r huying.ratings;
begin
  perform api.may('order', 'rate');
  -- a township may not lock orders (RLS); every step of a call locks the call row first
  -- (api.call_lock), which serialises the ratings of its orders, and a resolved order's
  -- status never changes again
  select * into o from huying.orders x where x.id = p_order and x.district_id = auth.district();
  if o.id is null then
    raise exception using errcode = 'HY404', message = format('no order %s', p_order);
  end if;
  perform api.call_lock(o.call_id);
  prior := api.idem_begin(idem_key, route, body);
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  select * into r from huying.ratings x where x.order_id = o.id;
  if r.id is not null then
    raise exception using errcode = 'HY409', message = 'this order is already rated',
      detail = json_build_object('current_status', o.status, 'rating_id', r.id)::text;
  end if;
  perform api.order_transition(o, 'rate');
  select * into c from huying.calls where id = o.call_id;
  insert into huying.ratings (district_id, order_id, call_id, department_id, township_id, speed, effectiveness,
                              comment, rated_by_sub)
  values (o.district_id, o.id, o.call_id, o.department_id, c.township_id, (body ->> 'speed')::smallint,
          (body ->> 'effectiveness')::smallint, body ->> 'comment', auth.claims() ->> 'sub')
  returning * into r;
  perform api.event('order', o.id, 'order.rated', jsonb_build_object('call_id', o.call_id, 'rating_id', r.id,
    'speed', r.speed, 'effectiveness', r.effectiveness));
  return next api.idem_finish(idem_key, route,
    row(201, null, format('/v1/orders/%s/rating', o.id), api.rating_json(r)::text, false)::api.answer);
end
$$;

-- ---- the facts of the scores ---------------------------------------------------------------------
-- A vector of 13 counts, in this order (the columns of score_deltas and score_rollup):
--   1 calls  2 orders  3 accept_counted  4 accepted_on_time  5 resolve_counted
--   6 resolved_on_time  7 overdue  8 returned  9 notices  10 ratings  11 satisfied
--   12 speed_sum  13 effectiveness_sum
create function huying.vec_add(a integer[], b integer[]) returns integer[]
language sql immutable parallel safe as $$
  select array(select coalesce(x, 0) + coalesce(y, 0) from unnest(a, b) t(x, y))
$$;
create function huying.vec_neg(a integer[]) returns integer[]
language sql immutable parallel safe as $$
  select array(select -x from unnest(a) x)
$$;
create aggregate huying.vec_sum(integer[]) (sfunc = huying.vec_add, stype = integer[],
  initcond = '{0,0,0,0,0,0,0,0,0,0,0,0,0}');

-- A deadline the sweep found passed (its timer overdue) while the order was open: the order
-- then counts in that rate's denominator for good — unless the deadline moves into the
-- future again (an extension, a calendar edit), which clears the mark.
alter table huying.orders add column accept_lapsed boolean not null default false,
                          add column resolve_lapsed boolean not null default false;
update huying.orders o set accept_lapsed = true
 where exists (select 1 from huying.timers t where t.order_id = o.id and t.kind = 'accept' and t.state in ('overdue', 'escalated'));
update huying.orders o set resolve_lapsed = true
 where exists (select 1 from huying.timers t where t.order_id = o.id and t.kind = 'resolve' and t.state in ('overdue', 'escalated'));

create function huying.timers_lapse() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  lapsed boolean := new.state in ('overdue', 'escalated');
begin
  -- (a timer stopped by the accept or the resolve keeps the mark: the order's own times count)
  if new.state <> 'stopped' and lapsed is distinct from (old.state in ('overdue', 'escalated')) then
    if new.kind = 'accept' then
      update huying.orders set accept_lapsed = lapsed where id = new.order_id and accept_lapsed is distinct from lapsed;
    elsif new.kind = 'resolve' then
      update huying.orders set resolve_lapsed = lapsed where id = new.order_id and resolve_lapsed is distinct from lapsed;
    end if;
  end if;
  return null;
end
$$;
create trigger timers_lapse after update of state on huying.timers
  for each row when (new.order_id is not null) execute function huying.timers_lapse();

create function huying.orders_unlapse() returns trigger
language plpgsql as $$
begin
  if new.accept_by is distinct from old.accept_by and new.accept_by > now() then
    new.accept_lapsed := false;
  end if;
  if new.resolve_by is distinct from old.resolve_by and new.resolve_by > now() then
    new.resolve_lapsed := false;
  end if;
  return new;
end
$$;
create trigger orders_unlapse before update of accept_by, resolve_by on huying.orders
  for each row execute function huying.orders_unlapse();

-- What an order contributes by its own row (settled facts only: an open order past its
-- deadline is counted at read time).
create function huying.order_facts(o huying.orders) returns integer[]
language sql immutable parallel safe as $$
  select case
    when o.status = 'cancelled' then array[0,0,0,0,0,0,0,0,0,0,0,0,0]
    when o.status = 'returned' then array[0,0,0,0,0,0,0,1,0,0,0,0,0]
    else array[0, 1, (o.accepted_at is not null or o.accept_lapsed)::int, coalesce(o.accepted_at <= o.accept_by, false)::int,
               (o.resolved_at is not null or o.resolve_lapsed)::int,
               coalesce(o.resolved_at <= o.resolve_by and o.reworked_by is null, false)::int,
               o.overdue::int, 0, 0, 0, 0, 0, 0]
  end
$$;
create function huying.rating_facts(r huying.ratings) returns integer[]
language sql immutable parallel safe as $$
  select array[0,0,0,0,0,0,0,0,0, 1, (r.speed >= 4 and r.effectiveness >= 4)::int, r.speed, r.effectiveness]
$$;

-- The day (Asia/Shanghai) an instant falls on.
create function huying.local_day(t timestamptz) returns date
language sql immutable parallel safe as $$
  select (t at time zone 'Asia/Shanghai')::date
$$;

-- The domain of a call's item (0: no item yet).
create function huying.call_domain(p_item bigint, p_revision integer) returns bigint
language sql stable as $$
  select coalesce((select r.domain_id from huying.item_revisions r where r.item_id = p_item and r.revision = p_revision), 0)
$$;

-- department_id 0: the call's own row (its `calls` count); domain_id 0: a call without an item.
create table huying.score_deltas (
  id                 bigint generated always as identity primary key,
  district_id        bigint not null,
  day                date not null,
  department_id      bigint not null,
  township_id        bigint not null,
  domain_id          bigint not null,
  calls              integer not null,
  orders             integer not null,
  accept_counted     integer not null,
  accepted_on_time   integer not null,
  resolve_counted    integer not null,
  resolved_on_time   integer not null,
  overdue            integer not null,
  returned           integer not null,
  notices            integer not null,
  ratings            integer not null,
  satisfied          integer not null,
  speed_sum          integer not null,
  effectiveness_sum  integer not null
);
comment on table huying.score_deltas is 'Changes to the score facts not yet folded into score_rollup (api.score_compact).';
create index score_deltas_day on huying.score_deltas (district_id, day);
create table huying.score_rollup (
  district_id        bigint not null,
  day                date not null,
  department_id      bigint not null,
  township_id        bigint not null,
  domain_id          bigint not null,
  calls              bigint not null,
  orders             bigint not null,
  accept_counted     bigint not null,
  accepted_on_time   bigint not null,
  resolve_counted    bigint not null,
  resolved_on_time   bigint not null,
  overdue            bigint not null,
  returned           bigint not null,
  notices            bigint not null,
  ratings            bigint not null,
  satisfied          bigint not null,
  speed_sum          bigint not null,
  effectiveness_sum  bigint not null,
  primary key (district_id, day, department_id, township_id, domain_id)
);
comment on table huying.score_rollup is 'The score facts per district, day of dispatch, department, township and domain.';
-- The same by department only (some 30 rows a day instead of thousands): what the league
-- table by department and a department's series read — a year of a district with a
-- million orders a month in milliseconds (bench/scores.sh).
create table huying.score_rollup_dept (
  district_id        bigint not null,
  day                date not null,
  department_id      bigint not null,
  calls              bigint not null,
  orders             bigint not null,
  accept_counted     bigint not null,
  accepted_on_time   bigint not null,
  resolve_counted    bigint not null,
  resolved_on_time   bigint not null,
  overdue            bigint not null,
  returned           bigint not null,
  notices            bigint not null,
  ratings            bigint not null,
  satisfied          bigint not null,
  speed_sum          bigint not null,
  effectiveness_sum  bigint not null,
  primary key (district_id, day, department_id)
);
comment on table huying.score_rollup_dept is 'score_rollup summed over townships and domains.';
-- None is visible to the API role: only the SECURITY DEFINER functions below read them.
select huying.protect(t) from unnest(array['huying.score_deltas', 'huying.score_rollup', 'huying.score_rollup_dept']::regclass[]) t;

-- Writes one delta (nothing when v is all zeros). PL/pgSQL, so that its statement's plan is
-- kept for the session (an SQL-language function is planned again at every call: 4 ms more
-- per created call in bench/scores.sh).
create function huying.score_add(p_district bigint, p_day date, p_department bigint, p_township bigint, p_domain bigint,
                                 v integer[]) returns void
language plpgsql volatile as $$
begin
  if v <> '{0,0,0,0,0,0,0,0,0,0,0,0,0}' then
    insert into huying.score_deltas (district_id, day, department_id, township_id, domain_id, calls, orders,
      accept_counted, accepted_on_time, resolve_counted, resolved_on_time, overdue, returned, notices, ratings,
      satisfied, speed_sum, effectiveness_sum)
    values (p_district, p_day, p_department, p_township, p_domain, v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
            v[10], v[11], v[12], v[13]);
  end if;
end
$$;

-- The delta of one order's change, at the order's key.
create function huying.score_order(o huying.orders, v integer[]) returns void
language plpgsql volatile as $$
declare
  twp bigint;
  dom bigint;
begin
  select c.township_id, coalesce(r.domain_id, 0) into twp, dom
    from huying.calls c left join huying.item_revisions r on r.item_id = c.item_id and r.revision = c.item_revision
   where c.id = o.call_id;
  perform huying.score_add(o.district_id, huying.local_day(o.created_at), o.department_id, twp, dom, v);
end
$$;

-- The triggers run as the owner (the API role may not write the score tables).
create function huying.orders_scores() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  a integer[] := case when tg_op = 'UPDATE' then huying.order_facts(old) else '{0,0,0,0,0,0,0,0,0,0,0,0,0}' end;
  b integer[] := huying.order_facts(new);
begin
  if a <> b then
    perform huying.score_order(new, huying.vec_add(b, huying.vec_neg(a)));
  end if;
  return null;
end
$$;
create trigger orders_scores after insert or update of status, accepted_at, resolved_at, accept_by, resolve_by, overdue,
  reworked_by, accept_lapsed, resolve_lapsed on huying.orders for each row execute function huying.orders_scores();

create function huying.ratings_scores() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
  perform huying.score_order(o, huying.rating_facts(new)) from huying.orders o where o.id = new.order_id;
  return null;
end
$$;
create trigger ratings_scores after insert on huying.ratings for each row execute function huying.ratings_scores();

create function huying.notices_scores() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
  if new.kind in ('notice', 'rectification') then
    perform huying.score_order(o, array[0,0,0,0,0,0,0,0,1,0,0,0,0])
       from huying.supervisions s join huying.orders o on o.id = s.order_id where s.id = new.supervision_id;
  end if;
  return null;
end
$$;
create trigger notices_scores after insert on huying.notices for each row execute function huying.notices_scores();

-- Everything one call contributes, by (department, day): its own row, its orders, their
-- ratings and notices. Used to move a call's facts when its domain changes.
create function huying.call_facts(p_call bigint) returns table (department_id bigint, day date, v integer[])
language sql stable as $$
  select x.department_id, x.day, huying.vec_sum(x.v) from (
    select 0::bigint as department_id, huying.local_day(c.created_at) as day, array[1,0,0,0,0,0,0,0,0,0,0,0,0] as v
      from huying.calls c where c.id = p_call
    union all
    select o.department_id, huying.local_day(o.created_at), huying.order_facts(o) from huying.orders o where o.call_id = p_call
    union all
    select o.department_id, huying.local_day(o.created_at), huying.rating_facts(r)
      from huying.ratings r join huying.orders o on o.id = r.order_id where r.call_id = p_call
    union all
    select o.department_id, huying.local_day(o.created_at), array[0,0,0,0,0,0,0,0,1,0,0,0,0]
      from huying.notices n join huying.supervisions s on s.id = n.supervision_id join huying.orders o on o.id = s.order_id
     where s.call_id = p_call and n.kind in ('notice', 'rectification')) x
  group by x.department_id, x.day
$$;

-- A new call counts in its township's `calls`; a call whose item is set after its orders
-- were dispatched (a dispatch that names the item) moves all its facts to the new domain.
create function huying.calls_scores() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  was bigint;
  now_dom bigint := huying.call_domain(new.item_id, new.item_revision);
  f record;
begin
  if tg_op = 'INSERT' then
    perform huying.score_add(new.district_id, huying.local_day(new.created_at), 0, new.township_id, now_dom,
                             array[1,0,0,0,0,0,0,0,0,0,0,0,0]);
    return null;
  end if;
  was := huying.call_domain(old.item_id, old.item_revision);
  if was <> now_dom then
    for f in select * from huying.call_facts(new.id) loop
      perform huying.score_add(new.district_id, f.day, f.department_id, new.township_id, was, huying.vec_neg(f.v));
      perform huying.score_add(new.district_id, f.day, f.department_id, new.township_id, now_dom, f.v);
    end loop;
  end if;
  return null;
end
$$;
create trigger calls_scores after insert or update of item_id, item_revision on huying.calls
  for each row execute function huying.calls_scores();

-- Open orders whose deadline the sweep has not marked, for the read-time part: only those
-- already past it are read (normally none, or the last seconds' worth).
create index orders_accept_unlapsed on huying.orders (district_id, accept_by)
  where status in ('dispatched', 'accepted') and accepted_at is null and not accept_lapsed;
create index orders_resolve_unlapsed on huying.orders (district_id, resolve_by)
  where status in ('dispatched', 'accepted') and not resolve_lapsed;

-- The facts of what existed before this migration.
insert into huying.score_rollup
select x.district_id, x.day, x.department_id, x.township_id, x.domain_id,
       sum(v[1]), sum(v[2]), sum(v[3]), sum(v[4]), sum(v[5]), sum(v[6]), sum(v[7]), sum(v[8]), sum(v[9]), sum(v[10]),
       sum(v[11]), sum(v[12]), sum(v[13])
  from (select c.district_id, f.day, f.department_id, c.township_id, huying.call_domain(c.item_id, c.item_revision) as domain_id, f.v
          from huying.calls c cross join lateral huying.call_facts(c.id) f) x
 group by 1, 2, 3, 4, 5;
insert into huying.score_rollup_dept
select district_id, day, department_id, sum(calls), sum(orders), sum(accept_counted), sum(accepted_on_time),
       sum(resolve_counted), sum(resolved_on_time), sum(overdue), sum(returned), sum(notices), sum(ratings), sum(satisfied),
       sum(speed_sum), sum(effectiveness_sum)
  from huying.score_rollup group by 1, 2, 3;

-- Folds up to p_batch deltas into the roll-up, in one transaction; one replica at a time (the
-- others skip). Returns how many deltas it folded. Run by the sweeper after each sweep.
create function api.score_compact(p_batch integer) returns integer
language plpgsql volatile security definer set search_path = pg_catalog, pg_temp as $$
declare
  n integer;
begin
  if not pg_try_advisory_xact_lock(hashtextextended('huying.score_compact', 0)) then
    return 0;
  end if;
  with moved as (
    delete from huying.score_deltas where id in (select id from huying.score_deltas order by id limit p_batch)
    returning *
  ), summed as (
    select district_id, day, department_id, township_id, domain_id, count(*) as n, sum(calls) as calls,
           sum(orders) as orders, sum(accept_counted) as accept_counted, sum(accepted_on_time) as accepted_on_time,
           sum(resolve_counted) as resolve_counted, sum(resolved_on_time) as resolved_on_time, sum(overdue) as overdue,
           sum(returned) as returned, sum(notices) as notices, sum(ratings) as ratings, sum(satisfied) as satisfied,
           sum(speed_sum) as speed_sum, sum(effectiveness_sum) as effectiveness_sum
      from moved group by 1, 2, 3, 4, 5
  ), up as (
    insert into huying.score_rollup as r
    select district_id, day, department_id, township_id, domain_id, calls, orders, accept_counted, accepted_on_time,
           resolve_counted, resolved_on_time, overdue, returned, notices, ratings, satisfied, speed_sum, effectiveness_sum
      from summed order by 1, 2, 3, 4, 5
    on conflict (district_id, day, department_id, township_id, domain_id) do update
      set calls = r.calls + excluded.calls, orders = r.orders + excluded.orders,
          accept_counted = r.accept_counted + excluded.accept_counted,
          accepted_on_time = r.accepted_on_time + excluded.accepted_on_time,
          resolve_counted = r.resolve_counted + excluded.resolve_counted,
          resolved_on_time = r.resolved_on_time + excluded.resolved_on_time,
          overdue = r.overdue + excluded.overdue, returned = r.returned + excluded.returned,
          notices = r.notices + excluded.notices, ratings = r.ratings + excluded.ratings,
          satisfied = r.satisfied + excluded.satisfied, speed_sum = r.speed_sum + excluded.speed_sum,
          effectiveness_sum = r.effectiveness_sum + excluded.effectiveness_sum
    returning 1
  ), up_dept as (
    insert into huying.score_rollup_dept as r
    select district_id, day, department_id, sum(calls), sum(orders), sum(accept_counted), sum(accepted_on_time),
           sum(resolve_counted), sum(resolved_on_time), sum(overdue), sum(returned), sum(notices), sum(ratings),
           sum(satisfied), sum(speed_sum), sum(effectiveness_sum)
      from summed group by 1, 2, 3 order by 1, 2, 3
    on conflict (district_id, day, department_id) do update
      set calls = r.calls + excluded.calls, orders = r.orders + excluded.orders,
          accept_counted = r.accept_counted + excluded.accept_counted,
          accepted_on_time = r.accepted_on_time + excluded.accepted_on_time,
          resolve_counted = r.resolve_counted + excluded.resolve_counted,
          resolved_on_time = r.resolved_on_time + excluded.resolved_on_time,
          overdue = r.overdue + excluded.overdue, returned = r.returned + excluded.returned,
          notices = r.notices + excluded.notices, ratings = r.ratings + excluded.ratings,
          satisfied = r.satisfied + excluded.satisfied, speed_sum = r.speed_sum + excluded.speed_sum,
          effectiveness_sum = r.effectiveness_sum + excluded.effectiveness_sum
    returning 1
  )
  select coalesce(sum(s.n), 0) into n from summed s, (select count(*) from up) u, (select count(*) from up_dept) ud;
  return n;
end
$$;

-- ---- reading the scores ------------------------------------------------------------------------
-- The sums of the district's facts over [p_from, p_to] by department, township or domain
-- (p_by; by department without the calls' own rows) and, with p_month, by month: roll-up +
-- deltas + the read-time part. SECURITY DEFINER callers (api.scores, api.score_department):
-- a department's rank depends on every department's figures, which it may not read; they
-- filter the caller's district themselves and return only what the caller may see.
create function huying.score_sums(p_district bigint, p_from date, p_to date, p_by text, p_month boolean)
returns table (month date, key_id bigint, n bigint[])
language sql stable as $$
  select case when p_month then date_trunc('month', x.day)::date end,
         case p_by when 'department' then x.department_id when 'township' then x.township_id else x.domain_id end,
         array[sum(x.calls), sum(x.orders), sum(x.accept_counted), sum(x.accepted_on_time), sum(x.resolve_counted),
               sum(x.resolved_on_time), sum(x.overdue), sum(x.returned), sum(x.notices), sum(x.ratings),
               sum(x.satisfied), sum(x.speed_sum), sum(x.effectiveness_sum)]::bigint[]
    from (
      select r.day, r.department_id, r.township_id, r.domain_id, r.calls, r.orders, r.accept_counted, r.accepted_on_time,
             r.resolve_counted, r.resolved_on_time, r.overdue, r.returned, r.notices, r.ratings, r.satisfied,
             r.speed_sum, r.effectiveness_sum
        from huying.score_rollup r where p_by <> 'department' and r.district_id = p_district and r.day between p_from and p_to
      union all
      select r.day, r.department_id, 0, 0, r.calls, r.orders, r.accept_counted, r.accepted_on_time,
             r.resolve_counted, r.resolved_on_time, r.overdue, r.returned, r.notices, r.ratings, r.satisfied,
             r.speed_sum, r.effectiveness_sum
        from huying.score_rollup_dept r where p_by = 'department' and r.district_id = p_district and r.day between p_from and p_to
      union all
      select r.day, r.department_id, r.township_id, r.domain_id, r.calls, r.orders, r.accept_counted, r.accepted_on_time,
             r.resolve_counted, r.resolved_on_time, r.overdue, r.returned, r.notices, r.ratings, r.satisfied,
             r.speed_sum, r.effectiveness_sum
        from huying.score_deltas r where r.district_id = p_district and r.day between p_from and p_to
      union all
      -- open orders past a deadline that the sweep has not marked yet: not on time (in the
      -- denominator only); the marked ones are facts above. (Normally none or a handful: the
      -- call's township and domain are looked up per row, never by a join a generic plan
      -- could turn into a scan of every call.)
      select huying.local_day(l.created_at), l.department_id,
             case when p_by = 'township' then (select c.township_id from huying.calls c where c.id = l.call_id) end,
             case when p_by = 'domain' then (select coalesce(r.domain_id, 0) from huying.calls c
                left join huying.item_revisions r on r.item_id = c.item_id and r.revision = c.item_revision
               where c.id = l.call_id) end,
             0, 0, l.accept, 0, l.resolve, 0, 0, 0, 0, 0, 0, 0, 0
        from (select a.created_at, a.department_id, a.call_id, 1 as accept, 0 as resolve from huying.orders a
               where a.district_id = p_district and a.status in ('dispatched', 'accepted') and a.accepted_at is null
                 and not a.accept_lapsed and a.accept_by < now()
                 and a.created_at >= (p_from::timestamp at time zone 'Asia/Shanghai')
                 and a.created_at < ((p_to + 1)::timestamp at time zone 'Asia/Shanghai')
              union all
              select b.created_at, b.department_id, b.call_id, 0, 1 from huying.orders b
               where b.district_id = p_district and b.status in ('dispatched', 'accepted') and not b.resolve_lapsed
                 and b.resolve_by < now()
                 and b.created_at >= (p_from::timestamp at time zone 'Asia/Shanghai')
                 and b.created_at < ((p_to + 1)::timestamp at time zone 'Asia/Shanghai')) l) x
   where p_by <> 'department' or x.department_id <> 0
   group by 1, 2
$$;

-- The figures of one row from its 13 sums and the weights.
create function huying.score_figures(n bigint[], s huying.settings) returns jsonb
language plpgsql immutable as $$
declare
  resp numeric := case when n[3] > 0 then n[4]::numeric / n[3] end;
  res numeric := case when n[5] > 0 then n[6]::numeric / n[5] end;
  sat numeric := case when n[10] > 0 then n[11]::numeric / n[10] end;
  wsum numeric := case when resp is not null then s.weight_response else 0 end
                + case when res is not null then s.weight_resolution else 0 end
                + case when sat is not null then s.weight_satisfaction else 0 end;
  composite numeric;
begin
  if wsum > 0 then
    composite := round(100 * (coalesce(s.weight_response * resp, 0) + coalesce(s.weight_resolution * res, 0)
                              + coalesce(s.weight_satisfaction * sat, 0)) / wsum - s.penalty * n[9], 2);
  end if;
  return jsonb_build_object(
    'orders', n[2], 'accept_counted', n[3], 'accepted_on_time', n[4], 'accepted_on_time_rate', trim_scale(round(resp, 4)),
    'resolve_counted', n[5], 'resolved_on_time', n[6], 'resolved_on_time_rate', trim_scale(round(res, 4)),
    'ratings', n[10], 'satisfied', n[11], 'satisfaction_rate', trim_scale(round(sat, 4)),
    'speed_avg', case when n[10] > 0 then trim_scale(round(n[12]::numeric / n[10], 2)) end,
    'effectiveness_avg', case when n[10] > 0 then trim_scale(round(n[13]::numeric / n[10], 2)) end,
    'overdue', n[7], 'returned', n[8], 'notices', n[9], 'composite', trim_scale(composite));
end
$$;

-- A period: from <= to, at most 366 days (422 naming `to`).
create function huying.score_period(p_from date, p_to date) returns void
language plpgsql immutable as $$
begin
  if p_to < p_from then
    raise exception using errcode = 'HY422', message = 'the period is invalid',
      detail = json_build_object('errors', json_build_array(json_build_object('field', 'to',
                 'message', 'must not be before from')))::text;
  end if;
  if p_to - p_from > 365 then
    raise exception using errcode = 'HY422', message = 'the period is invalid',
      detail = json_build_object('errors', json_build_array(json_build_object('field', 'to',
                 'message', 'the period may span at most 366 days')))::text;
  end if;
end
$$;

-- The league table of a period: by 'department' (every department of the district),
-- 'township' (every township) or 'domain' (every domain, and "no item" — key 0 — when it has
-- anything), each row with its figures and rank, by rank then code. With p_month, one table
-- per calendar month of the period (each month's part of it).
create function huying.score_table(p_district bigint, p_by text, p_from date, p_to date, p_month boolean)
returns table (month date, key_id bigint, code text, name text, calls bigint, figures jsonb, rank bigint)
language sql stable as $$
  with sums as (select * from huying.score_sums(p_district, p_from, p_to, p_by, p_month)),
  keys as (
    select u.id as key_id, u.code, u.name from huying.units u
     where p_by in ('department', 'township') and u.district_id = p_district and u.kind = p_by
    union all
    select dm.id, dm.code, dm.name from huying.domains dm where p_by = 'domain' and dm.district_id = p_district
    union all
    select 0, null, null where p_by = 'domain'
       and exists (select 1 from sums where sums.key_id = 0 and sums.n <> '{0,0,0,0,0,0,0,0,0,0,0,0,0}')
  ),
  months as (
    select null::date as month where not p_month
    union all
    select generate_series(date_trunc('month', p_from), date_trunc('month', p_to), interval '1 month')::date where p_month
  ),
  fig as (
    select mo.month, k.key_id, k.code, k.name, coalesce(sm.n, '{0,0,0,0,0,0,0,0,0,0,0,0,0}') as n
      from months mo cross join keys k
      left join sums sm on sm.key_id = k.key_id and sm.month is not distinct from mo.month
  ),
  scored as (
    select fig.month, fig.key_id, fig.code, fig.name, fig.n[1] as calls, huying.score_figures(fig.n, st.s) as f
      from fig cross join (select api.settings() as s) st
  )
  select sc.month, nullif(sc.key_id, 0), sc.code, sc.name, sc.calls, sc.f,
         dense_rank() over (partition by sc.month order by (sc.f ->> 'composite')::numeric desc nulls last,
                                                         (sc.f ->> 'satisfaction_rate')::numeric desc nulls last)
    from scored sc
   order by 1, 7, 3 nulls last
$$;

-- The weights in force, as the answers show them.
create function huying.score_weights(s huying.settings) returns jsonb
language sql immutable as $$
  select jsonb_build_object('weight_response', trim_scale(s.weight_response), 'weight_resolution', trim_scale(s.weight_resolution),
                            'weight_satisfaction', trim_scale(s.weight_satisfaction), 'penalty', trim_scale(s.penalty))
$$;

-- The order ids behind each figure of one department's period, from the base tables (the
-- roll-up's definitions written again over the rows, so that a figure can be checked).
create function huying.score_explain(p_district bigint, p_department bigint, p_from date, p_to date) returns jsonb
language sql stable as $$
  with o as (
    select * from huying.orders x
     where x.district_id = p_district and x.department_id = p_department
       and x.created_at >= (p_from::timestamp at time zone 'Asia/Shanghai')
       and x.created_at < ((p_to + 1)::timestamp at time zone 'Asia/Shanghai')
  ), counted as (select * from o where o.status not in ('cancelled', 'returned'))
  select jsonb_build_object(
    'orders', coalesce((select jsonb_agg(id order by id) from counted), '[]'),
    'accept_counted', coalesce((select jsonb_agg(id order by id) from counted
                                 where accepted_at is not null or accept_by < now()), '[]'),
    'accepted_on_time', coalesce((select jsonb_agg(id order by id) from counted where accepted_at <= accept_by), '[]'),
    'resolve_counted', coalesce((select jsonb_agg(id order by id) from counted
                                  where resolved_at is not null or resolve_by < now()), '[]'),
    'resolved_on_time', coalesce((select jsonb_agg(id order by id) from counted
                                   where resolved_at <= resolve_by and reworked_by is null), '[]'),
    'reworked', coalesce((select jsonb_agg(id order by id) from counted where reworked_by is not null), '[]'),
    'not_yet_due', coalesce((select jsonb_agg(id order by id) from counted
                              where status in ('dispatched', 'accepted') and resolve_by >= now()), '[]'),
    'rated', coalesce((select jsonb_agg(c.id order by c.id) from counted c join huying.ratings r on r.order_id = c.id), '[]'),
    'satisfied', coalesce((select jsonb_agg(c.id order by c.id) from counted c join huying.ratings r on r.order_id = c.id
                            where r.speed >= 4 and r.effectiveness >= 4), '[]'),
    'overdue', coalesce((select jsonb_agg(id order by id) from counted where overdue), '[]'),
    'returned', coalesce((select jsonb_agg(id order by id) from o where status = 'returned'), '[]'),
    'notices', coalesce((select jsonb_agg(n.id order by n.id) from huying.notices n
                          join huying.supervisions s on s.id = n.supervision_id join o on o.id = s.order_id
                         where n.kind in ('notice', 'rectification')), '[]'))
$$;

-- The league table's guard: the district office only, and a valid period.
create function huying.scores_check(p_from date, p_to date) returns void
language plpgsql stable as $$
begin
  if auth.role() is distinct from 'district' then
    raise exception using errcode = 'HY403', message = 'only the district office reads the league table';
  end if;
  perform huying.score_period(p_from, p_to);
end
$$;

-- GET /v1/scores?by=&from=&to= (the district office): the league table of a period.
create function api.scores(p_by text, p_from date, p_to date) returns jsonb
language plpgsql stable security definer set search_path = pg_catalog, pg_temp set work_mem = '64MB' as $$
begin
  perform huying.scores_check(p_from, p_to);
  return jsonb_build_object('by', p_by, 'from', p_from, 'to', p_to, 'weights', huying.score_weights(api.settings()),
    'data', coalesce((select jsonb_agg(jsonb_build_object(p_by || '_id', t.key_id, 'code', t.code, 'name', t.name)
                                       || case when p_by = 'department' then '{}' else jsonb_build_object('calls', t.calls) end
                                       || t.figures || jsonb_build_object('rank', t.rank)
                                       order by t.rank, t.code nulls last)
                        from huying.score_table(auth.district(), p_by, p_from, p_to, false) t), '[]'));
end
$$;

-- The CSV line of one row (the columns of SCORES_CSV_HEADER in server/scores.c; calls empty
-- for departments).
create function huying.score_csv(p_rank bigint, p_id bigint, p_code text, p_name text, p_calls bigint, f jsonb) returns text
language sql immutable as $$
  select concat_ws(',', p_rank::text, coalesce(p_id::text, ''), api.csv_cell(p_code), api.csv_cell(p_name),
    coalesce(p_calls::text, ''), f ->> 'orders', f ->> 'accept_counted', f ->> 'accepted_on_time',
    coalesce(f ->> 'accepted_on_time_rate', ''), f ->> 'resolve_counted', f ->> 'resolved_on_time',
    coalesce(f ->> 'resolved_on_time_rate', ''), f ->> 'ratings', f ->> 'satisfied', coalesce(f ->> 'satisfaction_rate', ''),
    coalesce(f ->> 'speed_avg', ''), coalesce(f ->> 'effectiveness_avg', ''), f ->> 'overdue', f ->> 'returned',
    f ->> 'notices', coalesce(f ->> 'composite', ''))
$$;

-- The league table as CSV rows (line, cursor: always null), for Accept: text/csv.
create function api.scores_csv(p_by text, p_from date, p_to date) returns table (line text, cursor text)
language plpgsql stable security definer set search_path = pg_catalog, pg_temp set work_mem = '64MB' as $$
begin
  perform huying.scores_check(p_from, p_to);
  return query
    select huying.score_csv(t.rank, t.key_id, t.code, t.name, case when p_by = 'department' then null else t.calls end, t.figures),
           null::text
      from huying.score_table(auth.district(), p_by, p_from, p_to, false) t
     order by t.rank, t.code nulls last;
end
$$;

-- The department a scores request names, if the caller may read its figures (the district
-- office any department of its district, a department itself), else 404.
create function huying.score_department_check(p_id bigint) returns huying.units
language plpgsql stable as $$
declare
  u huying.units;
begin
  select * into u from huying.units x where x.id = p_id and x.district_id = auth.district() and x.kind = 'department';
  if u.id is null or (auth.role() = 'department' and p_id <> auth.unit()) or auth.role() not in ('district', 'department') then
    raise exception using errcode = 'HY404', message = format('no department %s', p_id);
  end if;
  return u;
end
$$;

-- GET /v1/scores/departments/{id}?from=&to=&interval=month&explain=true (the district
-- office, the department itself): the period's figures and rank, by month on request, and
-- the orders behind each figure on request.
create function api.score_department(p_id bigint, p_from date, p_to date, p_month boolean, p_explain boolean)
returns jsonb
language plpgsql stable security definer set search_path = pg_catalog, pg_temp set work_mem = '64MB' as $$
declare
  u huying.units := huying.score_department_check(p_id);
  res jsonb;
begin
  perform huying.score_period(p_from, p_to);
  select jsonb_build_object('department_id', u.id, 'code', u.code, 'name', u.name, 'from', p_from, 'to', p_to,
                            'weights', huying.score_weights(api.settings()), 'total', t.figures || jsonb_build_object('rank', t.rank))
    into res
    from huying.score_table(auth.district(), 'department', p_from, p_to, false) t where t.key_id = u.id;
  if p_month then
    res := res || jsonb_build_object('series', (
      select jsonb_agg(jsonb_build_object('month', to_char(t.month, 'YYYY-MM'), 'from', greatest(t.month, p_from),
                                          'to', least((t.month + interval '1 month')::date - 1, p_to))
                       || t.figures || jsonb_build_object('rank', t.rank) order by t.month)
        from huying.score_table(auth.district(), 'department', p_from, p_to, true) t where t.key_id = u.id));
  end if;
  if p_explain then
    res := res || jsonb_build_object('explain', huying.score_explain(auth.district(), u.id, p_from, p_to));
  end if;
  return res;
end
$$;

-- The same as CSV: one row per month (interval=month) or the period's one row.
create function api.score_department_csv(p_id bigint, p_from date, p_to date, p_month boolean)
returns table (line text, cursor text)
language plpgsql stable security definer set search_path = pg_catalog, pg_temp set work_mem = '64MB' as $$
declare
  u huying.units := huying.score_department_check(p_id);
begin
  perform huying.score_period(p_from, p_to);
  return query
    select concat_ws(',', greatest(coalesce(t.month, p_from), p_from)::text,
                     least(coalesce((t.month + interval '1 month')::date - 1, p_to), p_to)::text,
                     huying.score_csv(t.rank, t.key_id, t.code, t.name, null, t.figures)),
           null::text
      from huying.score_table(auth.district(), 'department', p_from, p_to, p_month) t
     where t.key_id = u.id order by t.month;
end
$$;

grant execute on all functions in schema api to huying_api;
