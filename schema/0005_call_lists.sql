-- 0005_call_lists: the read side of calls and orders (DESIGN §5 "Calls and dispatch"): the
-- list rows of GET /v1/calls without their orders, the timeline embedded by
-- GET /v1/calls/{id}?expand=events, the keyword search over calls, and the CSV lines of the
-- call and order exports. Visibility stays with row-level security (auth.sees_call and the
-- orders policies of 0003): everything here runs as the caller, except api.call_search,
-- which returns only ids of the caller's district for the caller's own statement to read.

-- The reporter as the caller may see it: the phone masked for a department (DESIGN §4),
-- as api.call_json does; the same rule serves the CSV export.
create function api.call_reporter(r jsonb) returns jsonb
language sql stable as $$
  select case when r is null then null
              when auth.role() = 'department' then r || jsonb_build_object('phone', api.mask_phone(r ->> 'phone'))
              else r end
$$;

-- A call as a list row shows it (GET /v1/calls without expand=orders): api.call_json
-- without `orders`. Keep the two in step: the API tests compare a list row with the call
-- read on its own, member by member.
create function api.call_list_json(c huying.calls) returns jsonb
language sql stable as $$
  select jsonb_build_object('id', c.id, 'number', c.number, 'district_id', c.district_id,
    'township_id', c.township_id, 'item_id', c.item_id, 'item_revision', c.item_revision,
    'scenario_id', c.scenario_id, 'title', c.title, 'description', c.description, 'urgency', c.urgency,
    'source', c.source, 'grid_id', c.grid_id, 'location', c.location,
    'reporter', api.call_reporter(c.reporter),
    'attachments', c.attachments,
    'external_ref', case when c.external_system is null then null
                         else jsonb_build_object('system', c.external_system, 'id', c.external_id) end,
    'status', c.status, 'duplicate_of', c.duplicate_of, 'reported_at', api.ts(c.reported_at),
    'created_at', api.ts(c.created_at), 'updated_at', api.ts(c.updated_at), 'closed_at', api.ts(c.closed_at),
    'version', c.version)
$$;

-- The first p_limit entries of a call's timeline, oldest first, as GET /v1/calls/{id}/events
-- shows them: the call's events and those of its orders, as far as the caller may see them
-- (events_read and orders_read). GET /v1/calls/{id}?expand=events embeds it.
create function api.call_events(c huying.calls, p_limit integer) returns jsonb
language sql stable as $$
  select coalesce(jsonb_agg(v.j order by v.id), '[]')
    from (select e.id, api.event_json(e) as j from huying.events e
           where e.district_id = c.district_id
             and ((e.subject_type = 'call' and e.subject_id = c.id)
                  or (e.subject_type = 'order' and e.subject_id in (select o.id from huying.orders o where o.call_id = c.id)))
           order by e.id limit p_limit) v
$$;

-- GET /v1/calls walks a district's calls newest first (keyset: id descending). Under generic
-- plans its filters ("$n is null or ...") cannot drive an index, so the walk is by id; with
-- the district in front it stays inside the caller's district, and a small district does
-- not read past a large one's rows (the primary key alone would: 160 ms for an empty page
-- next to a district of 200,000 calls, against 1 ms). The same index on orders is left
-- out on purpose: there the generic plan of the department inbox turned to a bitmap scan
-- of the whole district and a sort (75 ms instead of 1.4 ms for 20 rows of 350,000).
create index calls_district on huying.calls (district_id, id);

-- Keyword search over calls (q of GET /v1/calls): number, title, description and location
-- address, never reporter data (DESIGN §5: "q never searches phone numbers"). One trigram
-- index over the four fields (a multicolumn GIN index serves an OR of ILIKEs over its
-- columns with one bitmap per column); C.UTF-8 gives Chinese text trigrams, as for items.
create index calls_text on huying.calls using gin
  (number gin_trgm_ops, title gin_trgm_ops, description gin_trgm_ops, (location ->> 'address') gin_trgm_ops);
-- A ticket of the hotline looked up by its id alone (external_id without external_system;
-- with both, the unique index (district_id, external_system, external_id) serves).
create index calls_external_id on huying.calls (district_id, external_id) where external_id is not null;

-- The "needles" of GET /v1/calls: the ids of the caller's district's calls that match a
-- keyword p_q of 3 characters or more (a literal, case-insensitive substring of number,
-- title, description or address) and/or the external reference (p_external_id, with
-- p_system when given), below the keyset p_before, newest first (the list reads them in
-- this order and stops when its page is full). Empty when neither needle is given. The
-- list statement walks the calls newest first when it has no needle, and starts from these
-- ids when it has one: a rare keyword or a ticket id would otherwise walk the district.
-- SECURITY DEFINER for the reason given at api.item_search: under row-level security
-- PostgreSQL may not use ILIKE (not leakproof) as an index condition. It returns ids only;
-- the caller's statement reads the calls through RLS, so visibility is unchanged.
create function api.call_search(p_q text, p_system text, p_external_id text, p_before bigint)
returns setof bigint
language plpgsql stable security definer rows 100
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_custom_plan
as $$
declare
  d bigint := auth.district();
  p text := case when char_length(p_q) >= 3 then api.like_pattern(p_q) end;
  below bigint := coalesce(p_before, 9223372036854775807);
begin
  if d is null then
    return;
  elsif p_external_id is not null then
    return query select c.id from huying.calls c
                  where c.district_id = d and c.external_id = p_external_id and c.id < below
                    and (p_system is null or c.external_system = p_system)
                    and (p is null or c.number ilike p or c.title ilike p or c.description ilike p
                         or (c.location ->> 'address') ilike p)
                  order by c.id desc;
  elsif p is not null then
    return query select c.id from huying.calls c
                  where (c.number ilike p or c.title ilike p or c.description ilike p or (c.location ->> 'address') ilike p)
                    and c.district_id = d and c.id < below
                  order by c.id desc;
  end if;
end
$$;
revoke execute on function api.call_search(text, text, text, bigint) from public;
grant execute on function api.call_search(text, text, text, bigint) to huying_api;

-- Whether a keyword occurs in the searchable text of a call: the inline half of the search,
-- for keywords of 1 or 2 characters, which have no trigram (see api.call_search). Same
-- fields, same literal and case-insensitive match.
create function api.call_text_has(c huying.calls, p_q text) returns boolean
language sql stable as $$
  select strpos(lower(c.number), lower(p_q)) > 0 or strpos(lower(c.title), lower(p_q)) > 0
      or strpos(lower(coalesce(c.description, '')), lower(p_q)) > 0
      or strpos(lower(coalesce(c.location ->> 'address', '')), lower(p_q)) > 0
$$;

-- A call as one CSV line of the export (GET /v1/calls with Accept: text/csv), without its
-- CRLF: number,id,status,urgency,source,township_code,item_code,domain_code,title,
-- description,grid_code,address,reporter_name,reporter_phone,external_system,external_id,
-- reported_at,created_at,updated_at,overdue. The codes (township, item, domain of the item
-- revision the call was made under, grid) and overdue (an order the caller sees is overdue,
-- as the list filter reads it) come from the export statement's joins: a function with
-- sub-selects of its own is not inlined, and ran at 1 ms a row (10 s for a page of 10,000).
-- The reporter's phone is masked for a department exactly as in JSON. Every text cell goes
-- through api.csv_cell (quoting, no formula injection); concat_ws skips NULLs, so every
-- value that may be NULL goes through it too (it writes '').
create function api.call_csv(c huying.calls, township_code text, item_code text, domain_code text, grid_code text,
                             overdue boolean) returns text
language sql stable as $$
  select concat_ws(',', api.csv_cell(c.number), c.id::text, api.csv_cell(c.status), api.csv_cell(c.urgency),
    api.csv_cell(c.source), api.csv_cell(township_code), api.csv_cell(item_code), api.csv_cell(domain_code),
    api.csv_cell(c.title), api.csv_cell(c.description), api.csv_cell(grid_code),
    api.csv_cell(c.location ->> 'address'),
    api.csv_cell(c.reporter ->> 'name'), api.csv_cell(api.call_reporter(c.reporter) ->> 'phone'),
    api.csv_cell(c.external_system), api.csv_cell(c.external_id),
    api.csv_cell(api.ts(c.reported_at)), api.ts(c.created_at), api.ts(c.updated_at), overdue::text)
$$;

-- An order as one CSV line of the export (GET /v1/orders with Accept: text/csv), without its
-- CRLF: id,call_id,call_number,department_code,role,status,accept_by,resolve_by,accepted_at,
-- resolved_at,overdue,return_pending,rework_of,plan,resolution,created_at; the call's number
-- and the department's code from the export statement's joins (as for api.call_csv).
create function api.order_csv(o huying.orders, call_number text, department_code text) returns text
language sql stable as $$
  select concat_ws(',', o.id::text, o.call_id::text, api.csv_cell(call_number), api.csv_cell(department_code),
    api.csv_cell(o.role), api.csv_cell(o.status), api.ts(o.accept_by), api.ts(o.resolve_by),
    api.csv_cell(api.ts(o.accepted_at)), api.csv_cell(api.ts(o.resolved_at)), o.overdue::text, o.return_pending::text,
    api.csv_cell(o.rework_of::text), api.csv_cell(o.plan), api.csv_cell(o.resolution), api.ts(o.created_at))
$$;

grant execute on function api.call_list_json(huying.calls), api.call_reporter(jsonb),
  api.call_events(huying.calls, integer), api.call_text_has(huying.calls, text),
  api.call_csv(huying.calls, text, text, text, text, boolean), api.order_csv(huying.orders, text, text) to huying_api;
