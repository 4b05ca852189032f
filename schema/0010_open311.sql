-- 0010_open311: an Open311 GeoReport v2 facade (DESIGN §5 "Integration and bulk work";
-- docs/open311.md) for civic systems that speak that standard rather than /v1. JSON only.
--
--   GeoReport           huying
--   service             a list item in force today (service_code = the item's code)
--   service request     a call (service_request_id = the call's id, as text)
--   status open         a call in triage or dispatched
--   status closed       a call resolved, closed or cancelled
--   expected_datetime   the resolve_by of the call's live lead order
--   agency_responsible  the lead department's name
--
-- Reads run as the caller, so each role sees the calls and orders row-level security lets it
-- see (a department the calls behind its orders, and of their orders only its own: a
-- cooperating department reads expected_datetime and agency_responsible as null). Reporter
-- data never appears in a service request. Creating one is for integration tokens and goes
-- through api.call_create, the statement behind POST /v1/calls, so that numbering,
-- auto-dispatch, deadlines, timers, events and the hotline's one-call-per-external-id rule
-- are the same whichever door a ticket came in by.

-- GET /open311/v2/requests.json selects by requested_datetime (created_at) over a window of
-- at most 90 days, newest first; without this index a window far in the past would walk
-- every newer call of the district.
create index calls_created on huying.calls (district_id, created_at);

-- jurisdiction_id: this endpoint serves the token's district only, which answers to its own
-- code. Absent (or empty: GeoReport treats an empty argument as one not given) or that code:
-- true; anything else raises HY404, as GeoReport says ("jurisdiction_id was not found").
create function api.open311_jurisdiction(p_jurisdiction text) returns boolean
language plpgsql stable as $$
begin
  if nullif(p_jurisdiction, '') is not null
     and not exists (select 1 from huying.districts x where x.id = auth.district() and x.code = p_jurisdiction) then
    raise exception using errcode = 'HY404', message = 'jurisdiction_id was not found',
      detail = jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('field', 'jurisdiction_id',
                 'message', 'names no jurisdiction served here (the code of the token''s district)')))::text;
  end if;
  return true;
end
$$;

-- GET /open311/v2/services.json: the district's list items in force today (those a call can
-- name), by code. keywords: the titles of the revision's scenarios (情形), the words a caller
-- meets on the ground; group: the domain's name. No item has a service definition
-- (metadata false); the attributes a POST takes are this server's own (docs/open311.md).
create function api.open311_services(p_jurisdiction text) returns text
language plpgsql stable as $$
begin
  perform api.open311_jurisdiction(p_jurisdiction);
  return (
    select coalesce(json_agg(json_build_object('service_code', i.code, 'service_name', r.title,
             'description', r.description, 'metadata', false, 'type', 'realtime',
             'keywords', (select string_agg(s.title, ', ' order by s.seq) from huying.scenarios s where s.revision_id = r.id),
             'group', dm.name) order by i.code), '[]')::text
      from huying.items i
      cross join lateral (select x.* from huying.item_revisions x
                           where x.item_id = i.id and x.effective_from <= api.today()
                             and (x.effective_to is null or x.effective_to > api.today())
                           order by x.effective_from desc, x.revision desc limit 1) r
      join huying.domains dm on dm.id = r.domain_id
     where i.district_id = auth.district());
end
$$;

-- A call as a GeoReport service request, from its parts: the item's code and the title of
-- the revision it was made under, its live lead order (lo, null in triage or when the caller
-- does not see it) and that order's department's name. service_notice carries the call's
-- number and what happens next; status_notes the huying status in front ("dispatched: ...").
create function api.open311_json(c huying.calls, service_code text, service_name text, lo huying.orders,
                                 agency text) returns json
language sql stable as $$
  select json_build_object(
    'service_request_id', c.id::text,
    'status', case when c.status in ('triage', 'dispatched') then 'open' else 'closed' end,
    'status_notes', case c.status
        when 'triage' then 'triage: waiting for the district office to dispatch it'
        when 'dispatched' then case when agency is null then 'dispatched'
                                    when lo.status = 'accepted' then format('accepted: %s is handling it', agency)
                                    when lo.status = 'resolved' then format('dispatched: %s has resolved its part, the cooperating departments are still at work', agency)
                                    else format('dispatched: waiting for %s to accept it', agency) end
        when 'resolved' then 'resolved: waiting for the township to confirm it'
        when 'closed' then 'closed'
        when 'cancelled' then case when c.duplicate_of is null then 'cancelled' else 'cancelled: a duplicate' end
        else c.status end,
    'service_name', service_name,
    'service_code', service_code,
    'description', coalesce(c.description, c.title),
    'agency_responsible', agency,
    'service_notice', case when c.status = 'triage' then format('%s: the district office will dispatch it', c.number)
                           when lo.id is not null and c.status = 'dispatched'
                             then format('%s: %s is to resolve it by %s', c.number, coalesce(agency, 'the lead department'), api.ts(lo.resolve_by))
                           else c.number end,
    'requested_datetime', api.ts(c.created_at),
    'updated_datetime', api.ts(c.updated_at),
    'expected_datetime', api.ts(lo.resolve_by),
    'address', c.location ->> 'address',
    'lat', c.location -> 'lat',
    'long', c.location -> 'lon',
    'media_url', c.attachments -> 0 ->> 'url')
$$;

-- The calls cs (read by the caller, so under its row-level security) as a GeoReport array,
-- newest first. One statement for the lot: the items, revisions, lead orders (as the caller
-- sees them) and departments are joined once, not looked up call by call (measured on 640
-- calls of an integration: 56-80 ms this way, 130-235 ms call by call).
create function api.open311_list(cs huying.calls[]) returns text
language sql stable as $$
  select coalesce(json_agg(api.open311_json(c, i.code, r.title, lo.o, u.name) order by c.created_at desc, c.id desc),
                  '[]')::text
    from unnest(cs) c
    left join huying.items i on i.id = c.item_id
    left join huying.item_revisions r on r.item_id = c.item_id and r.revision = c.item_revision
    left join lateral (select o from huying.orders o
                        where o.call_id = c.id and o.role = 'lead' and o.status not in ('returned', 'cancelled')
                        limit 1) lo on true
    left join huying.units u on u.id = (lo.o).department_id
$$;

-- GET /open311/v2/requests.json. p_ids (service_request_id) overrides every other filter, as
-- GeoReport says. Otherwise the window of requested_datetime: both bounds inclusive, at most
-- 90 days (400 naming end_date beyond that, or when it ends before it starts); start_date
-- alone runs 90 days from it, end_date alone 90 days up to it, neither the last 90 days.
-- p_codes: service codes; p_status: open and/or closed. Newest first, at most 1,000 (the
-- GeoReport default volume; the window is the only paging GeoReport has).
create function api.open311_requests(p_jurisdiction text, p_ids bigint[], p_codes text[], p_start timestamptz,
                                     p_end timestamptz, p_status text[]) returns text
language plpgsql stable as $$
declare
  d bigint := auth.district();
  t1 timestamptz := coalesce(p_end, p_start + interval '90 days', now());
  t0 timestamptz := coalesce(p_start, t1 - interval '90 days');
begin
  perform api.open311_jurisdiction(p_jurisdiction);
  if p_ids is not null then
    return api.open311_list(array(select c from huying.calls c where c.district_id = d and c.id = any(p_ids)));
  end if;
  if t1 < t0 or t1 - t0 > interval '90 days' then
    raise exception using errcode = 'HY400', message = 'the date range is invalid',
      detail = jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('field', 'end_date',
                 'message', case when t1 < t0 then 'is before start_date' else 'is more than 90 days after start_date' end)))::text;
  end if;
  return api.open311_list(array(
    select c from huying.calls c
     where c.district_id = d and c.created_at >= t0 and c.created_at <= t1
       and (p_codes is null or c.item_id in (select i.id from huying.items i where i.district_id = d and i.code = any(p_codes)))
       and (p_status is null or (case when c.status in ('triage', 'dispatched') then 'open' else 'closed' end) = any(p_status))
     order by c.created_at desc, c.id desc limit 1000));
end
$$;

-- POST /open311/v2/requests.json (integration tokens). form: the form's fields as one JSON
-- object of strings (the daemon decoded it; each name once). The fields GeoReport defines,
-- and the attributes this server takes:
--   service_code                a list item in force today (missing: 400; unknown: 404)
--   lat & long | address_string the location (one of the two is required; lat and long together)
--   description                 up to 4,000 characters
--   first_name, last_name, phone  the reporter (name: first and last joined, up to 50; phone up to 32)
--   media_url                   an https URL, kept as the call's one attachment
--   jurisdiction_id             the district's code, or absent
--   email, device_id, account_id, api_key  accepted and not stored (account_id is echoed back;
--                               the token is the Authorization header, never api_key)
--   attribute[township_code]    the township the call is for; or
--   attribute[grid_code]        a grid cell, whose township it is (both: the cell must be the township's)
--   attribute[external_id]      the caller's own ticket id (external_ref.id, 1 to 100 characters);
--                               absent: one is made up ("open311-<uuid>"), so the call is still the
--                               integration's own, but posting again makes a second call
--   attribute[title]            the call's title (default: the description's first line, else
--                               the service's name)
--   attribute[urgency]          normal (default), urgent or emergency
-- Anything else is 400 naming it (address_id too: there is no address register here). The
-- answer is GeoReport's [{service_request_id, service_notice, account_id}], 201 for a new call,
-- 200 when the external id was posted before (the call it made, unchanged: the hotline's
-- rule of api.call_create), with Location /open311/v2/requests/{id}.json. Idempotency-Key
-- works as on every POST.
create function api.open311_request_create(form jsonb, idem_key text) returns setof api.answer
language plpgsql volatile as $$
declare
  d bigint := auth.district();
  route constant text := 'POST /open311/v2/requests.json';
  prior api.answer := api.idem_begin(idem_key, route, form);
  known constant text[] := array['jurisdiction_id', 'api_key', 'service_code', 'lat', 'long', 'address_string',
    'email', 'device_id', 'account_id', 'first_name', 'last_name', 'phone', 'description', 'media_url',
    'attribute[township_code]', 'attribute[grid_code]', 'attribute[external_id]', 'attribute[title]',
    'attribute[urgency]'];
  f jsonb;
  k text;
  errs jsonb;
  name text;
  twp huying.units;
  grid huying.grids;
  itm huying.items;
  rev huying.item_revisions;
  body jsonb;
  a api.answer;
  c huying.calls;
begin
  if prior.status is not null then  -- (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  if auth.role() <> 'integration' then
    raise exception using errcode = 'HY403', message = format('the role %s may not post Open311 requests', auth.role());
  end if;
  -- GeoReport: an empty argument is an argument not given
  f := coalesce((select jsonb_object_agg(e.key, e.value) from jsonb_each(form) e where e.value <> '""'), '{}');
  for k in select x from jsonb_object_keys(f) x where x <> all(known) order by x loop
    errs := api.err(errs, null, k, case when k = 'address_id' then 'is not supported here: give lat and long, or address_string'
                                        else 'is not a field this server takes' end);
  end loop;
  if not f ? 'service_code' then
    errs := api.err(errs, null, 'service_code', 'is required');
  end if;
  if (f ? 'lat') <> (f ? 'long') then
    errs := api.err(errs, null, case when f ? 'lat' then 'long' else 'lat' end, 'is required with the other of lat and long');
  end if;
  if f ? 'lat' and not (case when f ->> 'lat' ~ '^[+-]?[0-9]{1,3}(\.[0-9]{1,15})?$'
                                then abs((f ->> 'lat')::numeric) <= 90 else false end) then
    errs := api.err(errs, null, 'lat', 'must be a latitude from -90 to 90 in decimal degrees (WGS84)');
  end if;
  if f ? 'long' and not (case when f ->> 'long' ~ '^[+-]?[0-9]{1,3}(\.[0-9]{1,15})?$'
                                then abs((f ->> 'long')::numeric) <= 180 else false end) then
    errs := api.err(errs, null, 'long', 'must be a longitude from -180 to 180 in decimal degrees (WGS84)');
  end if;
  if not (f ? 'lat' or f ? 'long' or f ? 'address_string') then
    errs := api.err(errs, null, 'address_string', 'a location is required: lat and long, or address_string');
  end if;
  if char_length(f ->> 'address_string') > 200 then
    errs := api.err(errs, null, 'address_string', 'may have at most 200 characters');
  end if;
  if char_length(f ->> 'description') > 4000 then
    errs := api.err(errs, null, 'description', 'may have at most 4000 characters');
  end if;
  name := nullif(concat_ws(' ', f ->> 'first_name', f ->> 'last_name'), '');
  if char_length(name) > 50 then
    errs := api.err(errs, null, 'first_name', 'and last_name together may have at most 50 characters');
  end if;
  if char_length(f ->> 'phone') > 32 then
    errs := api.err(errs, null, 'phone', 'may have at most 32 characters');
  end if;
  if f ? 'media_url' and not (f ->> 'media_url' ~ '^https://[^[:space:]]+$' and char_length(f ->> 'media_url') <= 2000) then
    errs := api.err(errs, null, 'media_url', 'must be an https URL of at most 2000 characters');
  end if;
  if char_length(f ->> 'attribute[title]') > 200 then
    errs := api.err(errs, null, 'attribute[title]', 'may have at most 200 characters');
  end if;
  if f ->> 'attribute[urgency]' not in ('normal', 'urgent', 'emergency') then
    errs := api.err(errs, null, 'attribute[urgency]', 'must be one of: normal urgent emergency');
  end if;
  if char_length(f ->> 'attribute[external_id]') > 100 then
    errs := api.err(errs, null, 'attribute[external_id]', 'may have at most 100 characters');
  end if;
  -- the township: named, or the grid cell's
  if f ? 'attribute[grid_code]' then
    select g.* into grid from huying.grids g where g.district_id = d and g.code = f ->> 'attribute[grid_code]';
    if grid.id is null then
      errs := api.err(errs, null, 'attribute[grid_code]', 'names no grid cell of this district');
    end if;
  end if;
  if f ? 'attribute[township_code]' then
    select u.* into twp from huying.units u
     where u.district_id = d and u.kind = 'township' and u.code = f ->> 'attribute[township_code]';
    if twp.id is null then
      errs := api.err(errs, null, 'attribute[township_code]', 'names no township of this district');
    elsif grid.id is not null and grid.township_id <> twp.id then
      errs := api.err(errs, null, 'attribute[grid_code]', 'is not a grid cell of attribute[township_code]');
    end if;
  elsif grid.id is not null then
    select u.* into twp from huying.units u where u.id = grid.township_id;
  elsif not f ? 'attribute[grid_code]' then
    errs := api.err(errs, null, 'attribute[township_code]', 'is required (or attribute[grid_code], a cell of the township)');
  end if;
  if errs is not null then
    raise exception using errcode = 'HY400', message = 'the service request has invalid fields',
      detail = jsonb_build_object('errors', (select jsonb_agg(e - 'line') from jsonb_array_elements(errs) e))::text;
  end if;

  perform api.open311_jurisdiction(f ->> 'jurisdiction_id');
  -- the service: an item in force today, as api.call_create looks it up
  select i.* into itm from huying.items i where i.district_id = d and i.code = f ->> 'service_code';
  if itm.id is not null then
    select r.* into rev from huying.item_revisions r
     where r.item_id = itm.id and r.effective_from <= api.today() and (r.effective_to is null or r.effective_to > api.today())
     order by r.effective_from desc, r.revision desc limit 1;
  end if;
  if rev.id is null then
    raise exception using errcode = 'HY404', message = 'service_code was not found',
      detail = jsonb_build_object('errors', jsonb_build_array(jsonb_build_object('field', 'service_code',
                 'message', 'names no service of this district (a list item in force today)')))::text;
  end if;

  body := jsonb_strip_nulls(jsonb_build_object(
    'title', coalesce(f ->> 'attribute[title]',
                      nullif(left(btrim(split_part(f ->> 'description', E'\n', 1), E' \t\r'), 200), ''), rev.title),
    'description', f ->> 'description',
    'urgency', f ->> 'attribute[urgency]',
    'item_code', itm.code,
    'township_code', twp.code,
    'grid_code', grid.code,
    'location', case when f ? 'lat' or f ? 'address_string' then
                  jsonb_build_object('address', f ->> 'address_string', 'lat', (f ->> 'lat')::numeric,
                                     'lon', (f ->> 'long')::numeric) end,
    'reporter', case when name is not null or f ? 'phone' then
                  jsonb_build_object('name', name, 'phone', f ->> 'phone') end,
    'attachments', case when f ? 'media_url' then jsonb_build_array(jsonb_build_object('url', f ->> 'media_url')) end,
    'external_ref', jsonb_build_object('id', coalesce(f ->> 'attribute[external_id]', 'open311-' || gen_random_uuid()))));
  select * into a from api.call_create(body, null);
  select * into c from huying.calls x where x.id = (a.body::jsonb ->> 'id')::bigint;
  return next api.idem_finish(idem_key, route,
    row(a.status, null, '/open311/v2/requests/' || c.id || '.json',
        json_build_array(json_build_object('service_request_id', c.id::text,
          'service_notice', api.open311_list(array[c])::json -> 0 ->> 'service_notice', 'account_id', f ->> 'account_id'))::text,
        false)::api.answer);
end
$$;

grant execute on function api.open311_jurisdiction(text), api.open311_services(text),
  api.open311_json(huying.calls, text, text, huying.orders, text), api.open311_list(huying.calls[]),
  api.open311_requests(text, bigint[], text[], timestamptz, timestamptz, text[]),
  api.open311_request_create(jsonb, text) to huying_api;
