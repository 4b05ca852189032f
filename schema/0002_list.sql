-- 0002_list: the responsibility list (属地管理事项清单): items and their revisions with
-- scenarios (说明书) and flowcharts (流程图), list changes (动态调整) with their transitions,
-- the append-only event timeline, and the bulk imports of units, grids and items.

-- "Today" in business time: dates in the API are Asia/Shanghai dates.
create function api.today() returns date
language sql stable parallel safe as $$
  select (now() at time zone 'Asia/Shanghai')::date
$$;

-- An item's identity (its code). Its content lives in revisions.
create table huying.items (
  id           bigint generated always as identity primary key,
  district_id  bigint not null references huying.districts(id),
  code         text not null check (char_length(code) between 1 and 64 and code collate "C" !~ '[^-A-Za-z0-9_.]'),
  version      integer not null default 1,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  unique (district_id, code)
);
comment on table huying.items is 'A list item (事项): the stable identity; version counts changes (the ETag).';

-- One version of the list for one item, in force over [effective_from, effective_to) in
-- Asia/Shanghai dates (effective_to NULL: open-ended). "The current revision" is the one
-- whose range covers today: nothing has to flip when a scheduled revision starts.
create table huying.item_revisions (
  id                          bigint generated always as identity primary key,
  district_id                 bigint not null references huying.districts(id),
  item_id                     bigint not null references huying.items(id),
  revision                    integer not null check (revision >= 1),
  domain_id                   bigint not null references huying.domains(id),
  title                       text not null check (char_length(title) between 1 and 200),
  description                 text check (char_length(description) <= 4000),
  legal_basis                 text check (char_length(legal_basis) <= 2000),
  lead_department_id          bigint references huying.units(id),
  cooperating_department_ids  bigint[] not null default '{}',
  township_duty               text check (char_length(township_duty) <= 4000),
  response_limit              text check (response_limit ~ '^[1-9][0-9]{0,2}[hd]$'),
  resolve_limit               integer check (resolve_limit between 1 and 365),
  flow                        jsonb,
  flow_svg                    text,
  summary                     jsonb,   -- the revision's fields as the API shows them (api.revision_docs)
  manual                      jsonb,   -- {scenarios, flow}, likewise: built once, read many times
  effective_from              date not null,
  effective_to                date check (effective_to >= effective_from),
  source                      text not null check (source in ('import', 'list_change')),
  list_change_id              bigint,
  created_at                  timestamptz not null default now(),
  unique (item_id, revision)
);
comment on table huying.item_revisions is 'One revision of an item, in force over [effective_from, effective_to).';
create index item_revisions_item on huying.item_revisions (item_id, effective_from);
create index item_revisions_district on huying.item_revisions (district_id, effective_from);
-- Keyword search (DESIGN §5): a literal substring of title or description; from 3
-- characters on the planner can use this trigram index (C.UTF-8 classifies CJK characters
-- as letters, so Chinese text yields trigrams).
create index item_revisions_text on huying.item_revisions
  using gin ((title || ' ' || coalesce(description, '')) gin_trgm_ops);

-- A scenario (情形) of a revision's instruction manual.
create table huying.scenarios (
  id                   bigint generated always as identity primary key,
  district_id          bigint not null references huying.districts(id),
  revision_id          bigint not null references huying.item_revisions(id),
  seq                  integer not null check (seq between 1 and 100),
  title                text not null check (char_length(title) between 1 and 200),
  responsible_section  text check (char_length(responsible_section) <= 100),
  contact_phone        text check (char_length(contact_phone) <= 32),
  steps                text[] not null default '{}',
  standard             text check (char_length(standard) <= 4000),
  resolve_limit        integer check (resolve_limit between 1 and 365),
  unique (revision_id, seq)
);
comment on table huying.scenarios is 'A scenario (情形) of an item revision: section, phone, steps, standard, limit.';

-- A request to add, amend or retire an item (动态调整), and its path through the district
-- office's decision and the city's review.
create table huying.list_changes (
  id                    bigint generated always as identity primary key,
  district_id           bigint not null references huying.districts(id),
  kind                  text not null check (kind in ('add', 'amend', 'retire')),
  item_code             text not null check (char_length(item_code) between 1 and 64 and item_code collate "C" !~ '[^-A-Za-z0-9_.]'),
  proposal              jsonb,
  reason                text not null check (char_length(reason) between 1 and 2000),
  status                text not null default 'pending',
  submitted_by_unit_id  bigint not null references huying.units(id),
  submitted_by_role     text not null,
  decision_reason       text,
  city_ref              text,
  effective_from        date,
  revision_id           bigint references huying.item_revisions(id),
  version               integer not null default 1,
  created_at            timestamptz not null default now(),
  updated_at            timestamptz not null default now()
);
comment on table huying.list_changes is 'A list change request (add, amend, retire an item) and its decision.';
create index list_changes_status on huying.list_changes (district_id, status, id);

-- Allowed state changes, as data (DESIGN §3): from status, action, role -> to status. Every
-- transition of every entity is checked against this one table by api.transition().
create table huying.transitions (
  entity       text not null,
  from_status  text not null,
  action       text not null,
  role         text not null,
  to_status    text not null,
  primary key (entity, from_status, action, role)
);
comment on table huying.transitions is 'The state machine of calls, orders and list changes: who may move what where.';
insert into huying.transitions values
  ('list_change', 'pending',  'approve', 'district', 'approved'),
  ('list_change', 'pending',  'reject',  'district', 'rejected'),
  ('list_change', 'approved', 'enact',   'district', 'enacted');
grant select on huying.transitions to huying_api;

-- Checks a transition for the token's role. Returns the new status; raises HY403 when the
-- role may never take this action, HY409 (naming current_status) when the subject is not
-- in a state that allows it.
create function api.transition(p_entity text, p_from text, p_action text) returns text
language plpgsql stable as $$
declare
  target text;
begin
  select t.to_status into target from huying.transitions t
   where t.entity = p_entity and t.from_status = p_from and t.action = p_action and t.role = auth.role();
  if target is not null then
    return target;
  end if;
  if not exists (select 1 from huying.transitions t
                  where t.entity = p_entity and t.action = p_action and t.role = auth.role()) then
    raise exception using errcode = 'HY403', message = format('the role %s may not %s a %s', auth.role(), p_action, p_entity);
  end if;
  raise exception using errcode = 'HY409',
    message = format('cannot %s this %s: it is %s', p_action, replace(p_entity, '_', ' '), p_from),
    detail = json_build_object('current_status', p_from)::text;
end
$$;

select huying.protect(t) from unnest(array['huying.items', 'huying.item_revisions', 'huying.scenarios',
  'huying.list_changes', 'huying.transitions']::regclass[]) t;
-- The state machine is public to every request.
create policy transitions_read on huying.transitions for select to huying_api using (true);
-- The list is readable by every role of its district.
create policy items_read on huying.items for select to huying_api
  using (district_id = (select auth.district()));
create policy item_revisions_read on huying.item_revisions for select to huying_api
  using (district_id = (select auth.district()));
create policy scenarios_read on huying.scenarios for select to huying_api
  using (district_id = (select auth.district()));
-- Only the district office writes the list (by import or by enacting a change):
-- departments and townships never write items directly.
create policy items_write on huying.items for insert to huying_api
  with check (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy items_update on huying.items for update to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy item_revisions_write on huying.item_revisions for insert to huying_api
  with check (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy item_revisions_update on huying.item_revisions for update to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy scenarios_write on huying.scenarios for insert to huying_api
  with check (district_id = (select auth.district()) and (select auth.role()) = 'district');
-- A list change is visible to the district office and to the unit that submitted it.
create policy list_changes_read on huying.list_changes for select to huying_api
  using (district_id = (select auth.district())
         and ((select auth.role()) = 'district' or submitted_by_unit_id = (select auth.unit())));
create policy list_changes_submit on huying.list_changes for insert to huying_api
  with check (district_id = (select auth.district()) and submitted_by_unit_id = (select auth.unit())
              and (select auth.role()) in ('township', 'department', 'district'));
create policy list_changes_decide on huying.list_changes for update to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district');

-- One immutable line of a timeline: who did what to which subject, when. The API role may
-- insert and read events but never change or delete one.
create table huying.events (
  id             bigint generated always as identity primary key,
  district_id    bigint not null references huying.districts(id),
  subject_type   text not null check (subject_type in ('item', 'list_change', 'unit', 'grid', 'call', 'order', 'supervision')),
  subject_id     bigint not null,
  type           text not null check (type ~ '^[a-z_]+\.[a-z_]+$'),
  actor_unit_id  bigint references huying.units(id),
  actor_role     text,
  actor_sub      text,
  data           jsonb not null default '{}',
  created_at     timestamptz not null default now()
);
comment on table huying.events is 'Append-only timeline: one row per change, written in the transaction of the change.';
create index events_subject on huying.events (district_id, subject_type, subject_id, id);
select huying.protect('huying.events');
-- Anyone of the district may append an event for its own actions (actor = the token's unit).
create policy events_insert on huying.events for insert to huying_api
  with check (district_id = (select auth.district()) and actor_unit_id = (select auth.unit()));
-- Item and unit events are public inside the district; list-change events are readable by
-- the district office and by the unit that submitted the change (see list_changes below).
create policy events_read on huying.events for select to huying_api
  using (district_id = (select auth.district())
         and (subject_type in ('item', 'unit', 'grid')
              or (select auth.role()) = 'district'
              or (subject_type = 'list_change' and exists (
                    select 1 from huying.list_changes c
                     where c.id = subject_id and c.submitted_by_unit_id = (select auth.unit())))));
grant select, insert on huying.events to huying_api;

-- Appends an event with the actor taken from the verified claims.
create function api.event(p_subject_type text, p_subject_id bigint, p_type text, p_data jsonb default '{}')
returns void language sql volatile as $$
  insert into huying.events (district_id, subject_type, subject_id, type, actor_unit_id, actor_role, actor_sub, data)
  values (auth.district(), p_subject_type, p_subject_id, p_type, auth.unit(), auth.role(),
          auth.claims() ->> 'sub', coalesce(p_data, '{}'))
$$;

grant select on huying.items, huying.item_revisions, huying.scenarios, huying.list_changes to huying_api;
grant insert (district_id, code) on huying.items to huying_api;
grant update (version, updated_at) on huying.items to huying_api;
grant insert (district_id, item_id, revision, domain_id, title, description, legal_basis, lead_department_id,
              cooperating_department_ids, township_duty, response_limit, resolve_limit, flow,
              effective_from, effective_to, source, list_change_id) on huying.item_revisions to huying_api;
grant update (effective_to, flow_svg, summary, manual) on huying.item_revisions to huying_api;
grant insert (district_id, revision_id, seq, title, responsible_section, contact_phone, steps, standard, resolve_limit)
  on huying.scenarios to huying_api;
grant insert (district_id, kind, item_code, proposal, reason, submitted_by_unit_id, submitted_by_role)
  on huying.list_changes to huying_api;
grant update (status, decision_reason, city_ref, effective_from, revision_id, version, updated_at)
  on huying.list_changes to huying_api;

-- ---- items: parse, compare, apply -----------------------------------------------------
-- An item document is what an NDJSON import line holds (a CSV row is the same without
-- scenarios and flow), and what a list change proposes:
--   {code, domain_code, title, description, legal_basis, lead_department_code,
--    cooperating_department_codes ("A|B" or ["A","B"]), township_duty, response_limit
--    ("4h", "1d"), resolve_limit_days, scenarios?: [{seq?, title, responsible_section,
--    contact_phone, steps ("a|b" or [...]), standard, resolve_limit_days}],
--    flow?: {nodes: [{id, label, actor}], edges: [{from, to, label?}]}}
-- Absent scenarios (or flow) keep those of the current revision; null or [] clears them.

-- A text member that may also be given as a number (CSV gives everything as text).
create function api.doc_text(doc jsonb, key text) returns text
language sql immutable parallel safe as $$
  select case jsonb_typeof(doc -> key)
           when 'string' then nullif(doc ->> key, '')
           when 'number' then doc ->> key
           else null end
$$;

-- A list given as "a|b" (CSV) or as a JSON array of strings; empty means empty.
create function api.doc_list(doc jsonb, key text) returns text[]
language sql immutable parallel safe as $$
  select case jsonb_typeof(doc -> key)
           when 'array' then array(select jsonb_array_elements_text(doc -> key))
           when 'string' then case when doc ->> key = '' then '{}'::text[] else string_to_array(doc ->> key, '|') end
           else '{}'::text[] end
$$;

-- Appends one {line, field, message} to errs.
create function api.err(errs jsonb, line integer, field text, message text) returns jsonb
language sql immutable parallel safe as $$
  select coalesce(errs, '[]'::jsonb) || jsonb_build_array(jsonb_build_object('line', line, 'field', field, 'message', message))
$$;

-- Checks an item document and resolves its codes to ids. Returns the normalised content
-- (the columns of item_revisions, plus scenarios and flow when given), or NULL when errs
-- got at least one entry for this line. prefix names nested fields (e.g. 'proposal.').
create function api.item_parse(doc jsonb, line integer, prefix text, inout errs jsonb, out norm jsonb)
language plpgsql stable as $$
declare
  d bigint := auth.district();
  n0 integer := jsonb_array_length(coalesce(errs, '[]'));
  k text;
  v text;
  dom bigint;
  lead bigint;
  coop bigint[] := '{}';
  c text;
  u huying.units;
  sc jsonb;
  scen jsonb := '[]';
  i integer := 0;
  node jsonb;
  ids text[] := '{}';
  allowed constant text[] := array['code', 'domain_code', 'title', 'description', 'legal_basis',
    'lead_department_code', 'cooperating_department_codes', 'township_duty', 'response_limit',
    'resolve_limit_days', 'scenarios', 'flow'];
begin
  if jsonb_typeof(doc) is distinct from 'object' then
    errs := api.err(errs, line, rtrim(prefix, '.'), 'must be an object');
    return;
  end if;
  for k in select jsonb_object_keys(doc) loop
    if not k = any(allowed) then
      errs := api.err(errs, line, prefix || k, 'is not a known field');
    end if;
  end loop;
  v := api.doc_text(doc, 'domain_code');
  select id into dom from huying.domains where district_id = d and code = v;
  if dom is null then
    errs := api.err(errs, line, prefix || 'domain_code', coalesce('names no domain of this district: ' || v, 'is required'));
  end if;
  v := api.doc_text(doc, 'title');
  if v is null or char_length(v) > 200 then
    errs := api.err(errs, line, prefix || 'title', 'is required, 1 to 200 characters');
  end if;
  foreach k in array array['description', 'township_duty'] loop
    if char_length(api.doc_text(doc, k)) > 4000 then
      errs := api.err(errs, line, prefix || k, 'is longer than 4000 characters');
    end if;
  end loop;
  if char_length(api.doc_text(doc, 'legal_basis')) > 2000 then
    errs := api.err(errs, line, prefix || 'legal_basis', 'is longer than 2000 characters');
  end if;
  v := api.doc_text(doc, 'lead_department_code');
  if v is not null then
    select * into u from huying.units where district_id = d and code = v;
    if u.kind is distinct from 'department' then
      errs := api.err(errs, line, prefix || 'lead_department_code', 'names no department of this district: ' || v);
    end if;
    lead := u.id;
  end if;
  foreach c in array api.doc_list(doc, 'cooperating_department_codes') loop
    select * into u from huying.units where district_id = d and code = c;
    if u.kind is distinct from 'department' then
      errs := api.err(errs, line, prefix || 'cooperating_department_codes', 'names no department of this district: ' || c);
    elsif u.id = any(coop) or u.id = lead then
      errs := api.err(errs, line, prefix || 'cooperating_department_codes', 'names a department twice: ' || c);
    else
      coop := coop || u.id;
    end if;
  end loop;
  v := api.doc_text(doc, 'response_limit');
  if v is not null and v !~ '^[1-9][0-9]{0,2}[hd]$' then
    errs := api.err(errs, line, prefix || 'response_limit', 'must be hours or days such as 4h or 1d');
  end if;
  v := api.doc_text(doc, 'resolve_limit_days');
  if v is not null and (v !~ '^[0-9]{1,3}$' or v::integer not between 1 and 365) then
    errs := api.err(errs, line, prefix || 'resolve_limit_days', 'must be a whole number of working days, 1 to 365');
  end if;

  if doc ? 'scenarios' and jsonb_typeof(doc -> 'scenarios') not in ('array', 'null') then
    errs := api.err(errs, line, prefix || 'scenarios', 'must be an array');
  elsif jsonb_typeof(doc -> 'scenarios') = 'array' then
    for sc in select jsonb_array_elements(doc -> 'scenarios') loop
      i := i + 1;
      k := format('%sscenarios[%s].', prefix, i - 1);
      if jsonb_typeof(sc) is distinct from 'object' then
        errs := api.err(errs, line, rtrim(k, '.'), 'must be an object');
        continue;
      end if;
      if exists (select 1 from jsonb_object_keys(sc) x where x not in ('seq', 'title', 'responsible_section',
                   'contact_phone', 'steps', 'standard', 'resolve_limit_days')) then
        errs := api.err(errs, line, rtrim(k, '.'), 'has fields other than seq, title, responsible_section, contact_phone, steps, standard, resolve_limit_days');
      end if;
      if api.doc_text(sc, 'title') is null or char_length(api.doc_text(sc, 'title')) > 200 then
        errs := api.err(errs, line, k || 'title', 'is required, 1 to 200 characters');
      end if;
      if char_length(api.doc_text(sc, 'responsible_section')) > 100 then
        errs := api.err(errs, line, k || 'responsible_section', 'is longer than 100 characters');
      end if;
      if char_length(api.doc_text(sc, 'contact_phone')) > 32 then
        errs := api.err(errs, line, k || 'contact_phone', 'is longer than 32 characters');
      end if;
      if char_length(api.doc_text(sc, 'standard')) > 4000 then
        errs := api.err(errs, line, k || 'standard', 'is longer than 4000 characters');
      end if;
      v := api.doc_text(sc, 'resolve_limit_days');
      if v is not null and (v !~ '^[0-9]{1,3}$' or v::integer not between 1 and 365) then
        errs := api.err(errs, line, k || 'resolve_limit_days', 'must be a whole number of working days, 1 to 365');
      end if;
      v := api.doc_text(sc, 'seq');
      if v is not null and (v !~ '^[0-9]{1,3}$' or v::integer not between 1 and 100) then
        errs := api.err(errs, line, k || 'seq', 'must be 1 to 100');
      end if;
      scen := scen || jsonb_build_object(
        'seq', coalesce(v::integer, i), 'title', api.doc_text(sc, 'title'),
        'responsible_section', api.doc_text(sc, 'responsible_section'),
        'contact_phone', api.doc_text(sc, 'contact_phone'), 'steps', to_jsonb(api.doc_list(sc, 'steps')),
        'standard', api.doc_text(sc, 'standard'),
        'resolve_limit', (case when api.doc_text(sc, 'resolve_limit_days') ~ '^[0-9]{1,3}$'
                               then api.doc_text(sc, 'resolve_limit_days')::integer end));
    end loop;
    if (select count(distinct e ->> 'seq') from jsonb_array_elements(scen) e) <> jsonb_array_length(scen) then
      errs := api.err(errs, line, prefix || 'scenarios', 'two scenarios have the same seq');
    end if;
  end if;

  if doc ? 'flow' and jsonb_typeof(doc -> 'flow') not in ('object', 'null') then
    errs := api.err(errs, line, prefix || 'flow', 'must be an object {nodes, edges}');
  elsif jsonb_typeof(doc -> 'flow') = 'object' then
    if exists (select 1 from jsonb_object_keys(doc -> 'flow') x where x not in ('nodes', 'edges'))
       or jsonb_typeof(doc -> 'flow' -> 'nodes') is distinct from 'array'
       or jsonb_typeof(coalesce(doc -> 'flow' -> 'edges', '[]')) <> 'array'
       or jsonb_array_length(doc -> 'flow' -> 'nodes') not between 1 and 100
       or jsonb_array_length(coalesce(doc -> 'flow' -> 'edges', '[]')) > 400 then
      errs := api.err(errs, line, prefix || 'flow', 'must be {nodes: [1 to 100], edges: [up to 400]}');
    else
      for node in select jsonb_array_elements(doc -> 'flow' -> 'nodes') loop
        if jsonb_typeof(node) is distinct from 'object'
           or exists (select 1 from jsonb_object_keys(node) x where x not in ('id', 'label', 'actor'))
           or coalesce(node ->> 'id', '') !~ '^[A-Za-z0-9_]{1,16}$'
           or jsonb_typeof(node -> 'label') is distinct from 'string'
           or char_length(node ->> 'label') not between 1 and 200
           or coalesce(node ->> 'actor', '') not in ('township', 'department', 'district_office', 'platform') then
          errs := api.err(errs, line, prefix || 'flow.nodes',
            'each node is {id: [A-Za-z0-9_]{1,16}, label: 1 to 200 characters, actor: township|department|district_office|platform}');
          exit;
        elsif node ->> 'id' = any(ids) then
          errs := api.err(errs, line, prefix || 'flow.nodes', 'two nodes have the id ' || (node ->> 'id'));
          exit;
        end if;
        ids := ids || (node ->> 'id');
      end loop;
      for node in select jsonb_array_elements(coalesce(doc -> 'flow' -> 'edges', '[]')) loop
        if jsonb_typeof(node) is distinct from 'object'
           or exists (select 1 from jsonb_object_keys(node) x where x not in ('from', 'to', 'label'))
           or not (node ->> 'from') = any(ids) or not (node ->> 'to') = any(ids)
           or (node ? 'label' and jsonb_typeof(node -> 'label') not in ('string', 'null'))
           or char_length(node ->> 'label') > 200 then
          errs := api.err(errs, line, prefix || 'flow.edges', 'each edge is {from, to, label?} between existing nodes');
          exit;
        end if;
      end loop;
    end if;
  end if;

  if jsonb_array_length(coalesce(errs, '[]')) > n0 then
    norm := null;
    return;
  end if;
  norm := jsonb_build_object(
    'domain_id', dom, 'title', api.doc_text(doc, 'title'), 'description', api.doc_text(doc, 'description'),
    'legal_basis', api.doc_text(doc, 'legal_basis'), 'lead_department_id', lead,
    'cooperating_department_ids', to_jsonb(coop), 'township_duty', api.doc_text(doc, 'township_duty'),
    'response_limit', api.doc_text(doc, 'response_limit'),
    'resolve_limit', api.doc_text(doc, 'resolve_limit_days')::integer);
  if doc ? 'scenarios' then
    norm := norm || jsonb_build_object('scenarios', scen);
  end if;
  if doc ? 'flow' then
    norm := norm || jsonb_build_object('flow', case when jsonb_typeof(doc -> 'flow') = 'object' then
      jsonb_build_object('nodes', (select jsonb_agg(jsonb_build_object('id', n ->> 'id', 'label', n ->> 'label', 'actor', n ->> 'actor'))
                                     from jsonb_array_elements(doc -> 'flow' -> 'nodes') n),
                         'edges', coalesce((select jsonb_agg(jsonb_strip_nulls(jsonb_build_object('from', e ->> 'from', 'to', e ->> 'to', 'label', e ->> 'label')))
                                     from jsonb_array_elements(doc -> 'flow' -> 'edges') e), '[]'))
      end);
  end if;
end
$$;

-- The content of a revision in the shape item_parse() normalises to.
create function api.revision_content(r huying.item_revisions) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'domain_id', r.domain_id, 'title', r.title, 'description', r.description, 'legal_basis', r.legal_basis,
    'lead_department_id', r.lead_department_id, 'cooperating_department_ids', to_jsonb(r.cooperating_department_ids),
    'township_duty', r.township_duty, 'response_limit', r.response_limit, 'resolve_limit', r.resolve_limit,
    'scenarios', coalesce((select jsonb_agg(jsonb_build_object('seq', s.seq, 'title', s.title,
                             'responsible_section', s.responsible_section, 'contact_phone', s.contact_phone,
                             'steps', to_jsonb(s.steps), 'standard', s.standard, 'resolve_limit', s.resolve_limit)
                             order by s.seq)
                           from huying.scenarios s where s.revision_id = r.id), '[]'),
    'flow', r.flow)
$$;

-- Makes norm the content of item code from date eff (DESIGN §5 revisions). The revision in
-- force at eff ends there; the new one runs until the next scheduled revision, if any.
-- Returns 'inserted' (a new item), 'updated' (a new revision) or 'unchanged'. Raises HY409
-- when a revision is already scheduled after eff with other content.
create function api.item_apply(p_code text, norm jsonb, eff date, p_source text, p_change bigint, out result text, out revision_id bigint)
language plpgsql volatile as $$
declare
  d bigint := auth.district();
  it huying.items;
  cur huying.item_revisions;
  nxt date;
  content jsonb;
  rev integer;
begin
  select * into it from huying.items where district_id = d and code = p_code for update;
  if it.id is null then
    insert into huying.items (district_id, code) values (d, p_code) returning * into it;
    result := 'inserted';
  else
    select * into cur from huying.item_revisions r
     where r.item_id = it.id and r.effective_from <= eff and (r.effective_to is null or r.effective_to > eff)
     order by r.effective_from desc, r.revision desc limit 1;
    -- scenarios and flow not given: keep the current ones
    if cur.id is not null then
      content := api.revision_content(cur);
      norm := jsonb_build_object('scenarios', content -> 'scenarios', 'flow', content -> 'flow') || norm;
      if content = norm then
        result := 'unchanged';
        revision_id := cur.id;
        return;
      end if;
    end if;
    select min(r.effective_from) into nxt from huying.item_revisions r where r.item_id = it.id and r.effective_from > eff;
    if nxt is not null then
      raise exception using errcode = 'HY409',
        message = format('item %s already has a revision scheduled from %s', p_code, nxt);
    end if;
    if cur.id is not null then
      update huying.item_revisions set effective_to = eff where id = cur.id;
    end if;
    update huying.items set version = version + 1, updated_at = now() where id = it.id;
    result := 'updated';
  end if;
  select coalesce(max(r.revision), 0) + 1 into rev from huying.item_revisions r where r.item_id = it.id;
  insert into huying.item_revisions (district_id, item_id, revision, domain_id, title, description, legal_basis,
         lead_department_id, cooperating_department_ids, township_duty, response_limit, resolve_limit, flow,
         effective_from, effective_to, source, list_change_id)
  values (d, it.id, rev, (norm ->> 'domain_id')::bigint, norm ->> 'title', norm ->> 'description', norm ->> 'legal_basis',
          (norm ->> 'lead_department_id')::bigint,
          array(select jsonb_array_elements_text(norm -> 'cooperating_department_ids')::bigint),
          norm ->> 'township_duty', norm ->> 'response_limit', (norm ->> 'resolve_limit')::integer,
          case when jsonb_typeof(norm -> 'flow') = 'object' then norm -> 'flow' end,
          eff, nxt, p_source, p_change)
  returning id into revision_id;
  insert into huying.scenarios (district_id, revision_id, seq, title, responsible_section, contact_phone, steps, standard, resolve_limit)
  select d, revision_id, (s ->> 'seq')::integer, s ->> 'title', s ->> 'responsible_section', s ->> 'contact_phone',
         array(select jsonb_array_elements_text(s -> 'steps')), s ->> 'standard', (s ->> 'resolve_limit')::integer
    from jsonb_array_elements(coalesce(norm -> 'scenarios', '[]')) s;
  perform api.revision_docs(revision_id);
  perform api.event('item', it.id, case when result = 'inserted' then 'item.created' else 'item.revised' end,
                    jsonb_build_object('revision', rev, 'effective_from', eff, 'source', p_source, 'list_change_id', p_change));
end
$$;

-- Retires item code from date eff: the revision in force then ends at eff.
create function api.item_retire(p_code text, eff date, p_change bigint) returns void
language plpgsql volatile as $$
declare
  it huying.items;
  cur huying.item_revisions;
begin
  select * into it from huying.items where district_id = auth.district() and code = p_code for update;
  select * into cur from huying.item_revisions r
   where r.item_id = it.id and r.effective_from <= eff and (r.effective_to is null or r.effective_to > eff)
   order by r.effective_from desc, r.revision desc limit 1;
  if cur.id is null or exists (select 1 from huying.item_revisions r where r.item_id = it.id and r.effective_from > eff) then
    raise exception using errcode = 'HY409', message = format('item %s is not in force on %s, or has a revision scheduled after it', p_code, eff);
  end if;
  update huying.item_revisions set effective_to = eff where id = cur.id;
  update huying.items set version = version + 1, updated_at = now() where id = it.id;
  perform api.event('item', it.id, 'item.retired', jsonb_build_object('effective_from', eff, 'list_change_id', p_change));
end
$$;

-- ---- bulk imports ----------------------------------------------------------------------
-- The daemon streams the request body (CSV or NDJSON) into the session's temporary table
-- import_rows(line, doc) with COPY, then calls api.import_<kind>(dry_run, effective_from)
-- in the same transaction. Every check runs over the whole file; when any row is bad the
-- function raises HY422 with every {line, field, message} (up to 1000) and the transaction
-- rolls back: all or nothing. A dry run does the same work and the daemon rolls it back.

-- Raises the 422 of an import when errs is not empty.
create function api.import_fail(errs jsonb, nrows bigint) returns void
language plpgsql volatile as $$
begin
  if errs is not null and jsonb_array_length(errs) > 0 then
    raise exception using errcode = 'HY422',
      message = format('%s problem(s) in the file; nothing was written', jsonb_array_length(errs)),
      detail = jsonb_build_object('rows', nrows, 'errors', errs)::text;
  end if;
end
$$;

create function api.import_answer(nrows bigint, ins bigint, upd bigint, dry boolean) returns api.answer
language sql immutable as $$
  select row(200, null, null,
             json_build_object('rows', nrows, 'inserted', ins, 'updated', upd, 'unchanged', nrows - ins - upd,
                               'dry_run', dry, 'errors', '[]'::json)::text, false)::api.answer
$$;

-- Common checks: unknown columns, duplicate codes, code syntax. Returns the errors.
create function api.import_common(allowed text[]) returns jsonb
language plpgsql stable as $$
begin
  -- Codes compare and match in the "C" collation: byte order is what a code needs, and
  -- it is several times faster over 100,000 rows than the database's C.UTF-8.
  return (select jsonb_agg(jsonb_build_object('line', line, 'field', field, 'message', message) order by line, field)
    from (select line, field, message from (
            select r.line, k as field, 'is not a known column' as message
              from import_rows r cross join lateral jsonb_object_keys(r.doc - allowed) k
             where r.doc - allowed <> '{}'::jsonb
            union all
            select r.line, 'code', 'is required: 1 to 64 of A-Z a-z 0-9 _ . -'
              from import_rows r where char_length(r.doc ->> 'code') not between 1 and 64 or (r.doc ->> 'code') collate "C" ~ '[^-A-Za-z0-9_.]' or r.doc ->> 'code' is null
            union all
            select x.line, 'code', format('appears more than once in the file (first on line %s)', x.first)
              from (select r.line, min(r.line) over (partition by (r.doc ->> 'code') collate "C") as first
                      from import_rows r where r.doc ->> 'code' is not null) x
             where x.line > x.first) e
          order by line, field limit 1000) e);
end
$$;

-- Units: code, kind, name, parent_code, phone (the columns of data/demo/units.csv).
create function api.import_units(p_dry_run boolean, p_effective_from date) returns api.answer
language plpgsql volatile as $$
declare
  d bigint := auth.district();
  office bigint;
  errs jsonb := api.import_common(array['code', 'kind', 'name', 'parent_code', 'phone']);
  nrows bigint;
  ins bigint;
  upd bigint;
begin
  select count(*) into nrows from import_rows;
  select id into office from huying.units where district_id = d and kind = 'district_office';
  create temp table u_in on commit drop as
    select r.line, api.doc_text(r.doc, 'code') as code, api.doc_text(r.doc, 'kind') as kind,
           api.doc_text(r.doc, 'name') as name, api.doc_text(r.doc, 'parent_code') as parent_code,
           api.doc_text(r.doc, 'phone') as phone
      from import_rows r;
  select coalesce(errs, '[]') || coalesce(jsonb_agg(jsonb_build_object('line', line, 'field', field, 'message', message) order by line), '[]')
    into errs
    from (select line, field, message from (
      select line, 'kind' as field, 'must be township, department or district_office' as message
        from u_in where kind is null or kind not in ('township', 'department', 'district_office')
      union all
      select line, 'name', 'is required, 1 to 100 characters' from u_in where name is null or char_length(name) > 100
      union all
      select line, 'phone', 'is longer than 32 characters' from u_in where char_length(phone) > 32
      union all
      select u.line, 'kind', 'a district has one district office; this code is not it'
        from u_in u where u.kind = 'district_office'
         and not exists (select 1 from huying.units x where x.id = office and x.code = u.code)
      union all
      select u.line, 'kind', format('unit %s is a %s; its kind cannot change', u.code, x.kind)
        from u_in u join huying.units x on x.district_id = d and x.code = u.code where x.kind <> u.kind
      union all
      select u.line, 'parent_code', 'names no unit in the file or the district: ' || u.parent_code
        from u_in u where u.parent_code is not null
         and not exists (select 1 from u_in p where p.code = u.parent_code)
         and not exists (select 1 from huying.units p where p.district_id = d and p.code = u.parent_code)
      union all
      select u.line, 'parent_code', 'a unit cannot be its own parent' from u_in u where u.parent_code = u.code
    ) e order by line limit 1000) e;
  perform api.import_fail(nullif(errs, '[]'), nrows);

  create temp table u_new on commit drop as select code from u_in where false;
  with i as (
    insert into huying.units (district_id, code, kind, name, phone)
    select d, u.code, u.kind, u.name, u.phone from u_in u
     where not exists (select 1 from huying.units x where x.district_id = d and x.code = u.code)
    returning code)
  insert into u_new select code from i;
  select count(*) into ins from u_new;
  with want as (
    select x.id, u.name, u.phone,
           case when u.kind = 'district_office' then null else coalesce(p.id, office) end as parent_id,
           exists (select 1 from u_new n where n.code = u.code) as fresh
      from u_in u join huying.units x on x.district_id = d and x.code = u.code
      left join huying.units p on p.district_id = d and p.code = u.parent_code),
  changed as (
    update huying.units t
       set name = w.name, phone = w.phone, parent_id = w.parent_id,
           version = t.version + (not w.fresh)::integer, updated_at = now()
      from want w
     where t.id = w.id and (t.name, t.phone, t.parent_id) is distinct from (w.name, w.phone, w.parent_id)
    returning w.fresh)
  select count(*) filter (where not fresh) into upd from changed;
  if ins + upd > 0 then
    perform api.event('unit', office, 'unit.imported', jsonb_build_object('rows', nrows, 'inserted', ins, 'updated', upd));
  end if;
  return api.import_answer(nrows, ins, upd, p_dry_run);
end
$$;

-- Grids: code, level, name, parent_code (data/demo/grids.csv): a township cell's parent is
-- its township unit; a village's is a township cell; a grid's is a village. Cells are
-- written level by level, so parents may come earlier or later in the same file.
create function api.import_grids(p_dry_run boolean, p_effective_from date) returns api.answer
language plpgsql volatile as $$
declare
  d bigint := auth.district();
  errs jsonb := api.import_common(array['code', 'level', 'name', 'parent_code']);
  nrows bigint;
  ins bigint := 0;
  upd bigint := 0;
  n_ins bigint;
  n_upd bigint;
  lvl text;
  parent_lvl text;
begin
  select count(*) into nrows from import_rows;
  create temp table g_in on commit drop as
    select r.line, api.doc_text(r.doc, 'code') as code, api.doc_text(r.doc, 'level') as level,
           api.doc_text(r.doc, 'name') as name, api.doc_text(r.doc, 'parent_code') as parent_code
      from import_rows r;
  create index on g_in (code);
  analyze g_in;
  select coalesce(errs, '[]') || coalesce(jsonb_agg(jsonb_build_object('line', line, 'field', field, 'message', message) order by line), '[]')
    into errs
    from (select line, field, message from (
      select line, 'level' as field, 'must be township, village or grid' as message
        from g_in where level is null or level not in ('township', 'village', 'grid')
      union all
      select line, 'name', 'is required, 1 to 100 characters' from g_in where name is null or char_length(name) > 100
      union all
      select line, 'parent_code', 'is required' from g_in where parent_code is null
      union all
      select g.line, 'level', format('grid %s is a %s; its level cannot change', g.code, x.level)
        from g_in g join huying.grids x on x.district_id = d and x.code = g.code where x.level <> g.level
      union all
      select g.line, 'parent_code', 'names no township unit of this district: ' || g.parent_code
        from g_in g where g.level = 'township' and g.parent_code is not null
         and not exists (select 1 from huying.units u where u.district_id = d and u.code = g.parent_code and u.kind = 'township')
      union all
      select g.line, 'parent_code', format('names no %s cell in the file or the district: %s',
                                           case g.level when 'village' then 'township' else 'village' end, g.parent_code)
        from g_in g where g.level in ('village', 'grid') and g.parent_code is not null
         and not exists (select 1 from g_in p where p.code = g.parent_code
                            and p.level = case g.level when 'village' then 'township' else 'village' end)
         and not exists (select 1 from huying.grids p where p.district_id = d and p.code = g.parent_code
                            and p.level = case g.level when 'village' then 'township' else 'village' end)
    ) e order by line limit 1000) e;
  perform api.import_fail(nullif(errs, '[]'), nrows);

  foreach lvl in array array['township', 'village', 'grid'] loop
    parent_lvl := case lvl when 'village' then 'township' when 'grid' then 'village' end;
    with want as (
      select g.code, g.name,
             case when lvl = 'township' then null else p.id end as parent_id,
             case when lvl = 'township' then u.id else p.township_id end as township_id
        from g_in g
        left join huying.units u on lvl = 'township' and u.district_id = d and u.code = g.parent_code
        left join huying.grids p on lvl <> 'township' and p.district_id = d and p.code = g.parent_code and p.level = parent_lvl
       where g.level = lvl),
    up as (
      insert into huying.grids as t (district_id, code, level, name, parent_id, township_id)
      select d, w.code, lvl, w.name, w.parent_id, w.township_id from want w
      on conflict (district_id, code) do update
         set name = excluded.name, parent_id = excluded.parent_id, township_id = excluded.township_id
       where (t.name, t.parent_id, t.township_id) is distinct from (excluded.name, excluded.parent_id, excluded.township_id)
      returning (xmax = 0) as fresh)
    select count(*) filter (where fresh), count(*) filter (where not fresh) into n_ins, n_upd from up;
    ins := ins + n_ins;
    upd := upd + n_upd;
  end loop;
  if ins + upd > 0 then
    perform api.event('grid', (select id from huying.units where district_id = d and kind = 'district_office'),
                      'grid.imported', jsonb_build_object('rows', nrows, 'inserted', ins, 'updated', upd));
  end if;
  return api.import_answer(nrows, ins, upd, p_dry_run);
end
$$;

-- Items (data/demo/items.csv columns; NDJSON lines may add scenarios and flow). Each
-- changed item gets a new revision effective from p_effective_from (default: today).
create function api.import_items(p_dry_run boolean, p_effective_from date) returns api.answer
language plpgsql volatile as $$
declare
  eff date := coalesce(p_effective_from, api.today());
  errs jsonb := api.import_common(array['code', 'domain_code', 'title', 'description', 'legal_basis',
    'lead_department_code', 'cooperating_department_codes', 'township_duty', 'response_limit',
    'resolve_limit_days', 'scenarios', 'flow']);
  nrows bigint;
  ins bigint := 0;
  upd bigint := 0;
  r record;
  parsed jsonb;
  res record;
begin
  select count(*) into nrows from import_rows;
  create temp table i_in (line integer, code text, norm jsonb) on commit drop;
  for r in select line, doc from import_rows order by line loop
    select * into res from api.item_parse(r.doc, r.line, '', '[]'::jsonb);
    if jsonb_array_length(res.errs) > 0 then
      -- unknown columns are already reported by import_common
      errs := coalesce(errs, '[]') || coalesce((select jsonb_agg(e) from jsonb_array_elements(res.errs) e
                                                  where e ->> 'message' <> 'is not a known field'), '[]');
    else
      insert into i_in values (r.line, api.doc_text(r.doc, 'code'), res.norm);
    end if;
    exit when jsonb_array_length(coalesce(errs, '[]')) >= 1000;
  end loop;
  perform api.import_fail(nullif(errs, '[]'), nrows);
  for r in select * from i_in order by line loop
    begin
      select * into res from api.item_apply(r.code, r.norm, eff, 'import', null);
    exception when sqlstate 'HY409' then
      errs := api.err(errs, r.line, 'code', sqlerrm);
      continue;
    end;
    ins := ins + (res.result = 'inserted')::integer;
    upd := upd + (res.result = 'updated')::integer;
  end loop;
  perform api.import_fail(nullif(errs, '[]'), nrows);
  return api.import_answer(nrows, ins, upd, p_dry_run);
end
$$;

-- Grids are written by the district office's imports.
create policy grids_write on huying.grids for insert to huying_api
  with check (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy grids_update on huying.grids for update to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district');
grant insert (district_id, code, level, name, parent_id, township_id) on huying.grids to huying_api;
grant update (name, parent_id, township_id) on huying.grids to huying_api;

-- ---- list changes ----------------------------------------------------------------------

-- The public representation of a list change.
create function api.list_change_json(c huying.list_changes) returns json
language sql stable as $$
  select json_build_object('id', c.id, 'kind', c.kind, 'item_code', c.item_code, 'proposal', c.proposal,
    'reason', c.reason, 'status', c.status, 'submitted_by_unit_id', c.submitted_by_unit_id,
    'decision_reason', c.decision_reason, 'city_ref', c.city_ref, 'effective_from', c.effective_from,
    'revision', (select r.revision from huying.item_revisions r where r.id = c.revision_id),
    'version', c.version,
    'created_at', to_char(c.created_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
    'updated_at', to_char(c.updated_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'))
$$;

-- Submits a list change (any role of the district but integration). add: the code must be
-- new; amend and retire: the item must be in force today. add and amend carry a proposal (an
-- item document without code), checked now so that a bad proposal never waits for a decision.
create function api.list_change_submit(body jsonb, idem_key text) returns setof api.answer
language plpgsql volatile as $$
declare
  prior api.answer := api.idem_begin(idem_key, 'POST /v1/list-changes', body);
  p jsonb := body -> 'proposal';
  v_code text := body ->> 'item_code';
  in_force boolean;
  res record;
  c huying.list_changes;
begin
  if prior.status is not null then  -- (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  select exists (select 1 from huying.items i join huying.item_revisions r on r.item_id = i.id
                  where i.district_id = auth.district() and i.code = v_code
                    and r.effective_from <= api.today() and (r.effective_to is null or r.effective_to > api.today()))
    into in_force;
  if body ->> 'kind' = 'add' and exists (select 1 from huying.items i where i.district_id = auth.district() and i.code = v_code) then
    raise exception using errcode = 'HY409', message = format('item %s already exists; propose an amendment', v_code);
  end if;
  if body ->> 'kind' in ('amend', 'retire') and not in_force then
    raise exception using errcode = 'HY422', message = format('item %s is not in force', v_code),
      detail = json_build_object('errors', json_build_array(json_build_object('field', 'item_code', 'message', 'names no item in force')))::text;
  end if;
  if body ->> 'kind' in ('add', 'amend') then
    if jsonb_typeof(p) is distinct from 'object' or p ? 'code' then
      raise exception using errcode = 'HY422', message = 'an add or amend needs a proposal: the item without its code',
        detail = json_build_object('errors', json_build_array(json_build_object('field', 'proposal', 'message', 'must be an item object without code')))::text;
    end if;
    select * into res from api.item_parse(p, null, 'proposal.', '[]'::jsonb);
    if jsonb_array_length(res.errs) > 0 then
      raise exception using errcode = 'HY422', message = 'the proposal has invalid fields',
        detail = json_build_object('errors', (select json_agg(json_build_object('field', e ->> 'field', 'message', e ->> 'message'))
                                                from jsonb_array_elements(res.errs) e))::text;
    end if;
  elsif p is not null and jsonb_typeof(p) <> 'null' then
    raise exception using errcode = 'HY422', message = 'a retirement takes no proposal',
      detail = json_build_object('errors', json_build_array(json_build_object('field', 'proposal', 'message', 'must be absent for retire')))::text;
  end if;
  insert into huying.list_changes (district_id, kind, item_code, proposal, reason, submitted_by_unit_id, submitted_by_role)
  values (auth.district(), body ->> 'kind', v_code, case when body ->> 'kind' = 'retire' then null else p end,
          body ->> 'reason', auth.unit(), auth.role())
  returning * into c;
  perform api.event('list_change', c.id, 'list_change.submitted', jsonb_build_object('kind', c.kind, 'item_code', c.item_code));
  return next api.idem_finish(idem_key, 'POST /v1/list-changes',
    row(201, '"' || c.version || '"', '/v1/list-changes/' || c.id, api.list_change_json(c)::text, false)::api.answer);
end
$$;

-- The common start of a step on a versioned resource, after it was found: the
-- Idempotency-Key (a stored answer to replay, or the key now held by this transaction), then
-- If-Match against the resource's version (412). Returns the stored answer, or NULL to go on.
create function api.step_begin(p_key text, p_route text, p_body jsonb, p_version integer, p_if_match text, p_what text)
returns api.answer
language plpgsql volatile as $$
declare
  prior api.answer := api.idem_begin(p_key, p_route, p_body);
begin
  if prior.status is null and p_if_match is not null and p_if_match <> '"' || p_version || '"' then
    raise exception using errcode = 'HY412', message = format('the %s is at version %s', p_what, p_version);
  end if;
  return prior;
end
$$;

-- approve | reject {reason} | enact {city_ref, effective_from} a list change (the district
-- office). Order of checks: not visible 404, If-Match 412, state 409 (DESIGN §5).
create function api.list_change_act(p_id bigint, p_action text, body jsonb, if_match text, idem_key text) returns setof api.answer
language plpgsql volatile as $$
declare
  route text := 'POST /v1/list-changes/{id}/' || p_action;
  prior api.answer;
  c huying.list_changes;
  next_status text;
  eff date;
  res record;
begin
  select * into c from huying.list_changes where id = p_id and district_id = auth.district() for update;
  if c.id is null then
    raise exception using errcode = 'HY404', message = format('no list change %s', p_id);
  end if;
  prior := api.step_begin(idem_key, route || '#' || p_id, body, c.version, if_match, 'list change');
  if prior.status is not null then  -- a replay (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  next_status := api.transition('list_change', c.status, p_action);
  if p_action = 'enact' then
    eff := (body ->> 'effective_from')::date;
    if eff < api.today() then
      raise exception using errcode = 'HY422', message = 'effective_from is in the past',
        detail = json_build_object('errors', json_build_array(json_build_object('field', 'effective_from', 'message', 'must be today or later')))::text;
    end if;
    if c.kind = 'retire' then
      perform api.item_retire(c.item_code, eff, c.id);
    else
      select * into res from api.item_parse(c.proposal, null, 'proposal.', '[]'::jsonb);
      if jsonb_array_length(res.errs) > 0 then
        -- the units or domains it names changed since it was submitted
        raise exception using errcode = 'HY409', message = 'the proposal no longer fits the list: ' || (res.errs -> 0 ->> 'message'),
          detail = json_build_object('current_status', c.status)::text;
      end if;
      select * into res from api.item_apply(c.item_code, res.norm, eff, 'list_change', c.id);
      c.revision_id := res.revision_id;
    end if;
    update huying.list_changes set status = next_status, city_ref = body ->> 'city_ref', effective_from = eff,
           revision_id = c.revision_id, version = version + 1, updated_at = now()
     where id = c.id returning * into c;
  else
    update huying.list_changes set status = next_status, decision_reason = body ->> 'reason',
           version = version + 1, updated_at = now()
     where id = c.id returning * into c;
  end if;
  perform api.event('list_change', c.id, 'list_change.' || next_status,
                    jsonb_strip_nulls(jsonb_build_object('reason', body ->> 'reason', 'city_ref', body ->> 'city_ref',
                                                         'effective_from', eff)));
  return next api.idem_finish(idem_key, route || '#' || p_id,
    row(200, '"' || c.version || '"', null, api.list_change_json(c)::text, false)::api.answer);
end
$$;

grant execute on all functions in schema api to huying_api;

-- ---- reading the list ------------------------------------------------------------------

-- A literal substring pattern for LIKE/ILIKE: %, _ and \ in the keyword match themselves.
create function api.like_pattern(q text) returns text
language sql immutable parallel safe as $$
  select '%' || replace(replace(replace(q, '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

-- Builds the stored JSON of revision p_id (summary and manual), once, when it is created:
-- an item read then costs a concatenation, not a dozen sub-selects (bench/README.md).
create function api.revision_docs(p_id bigint) returns void
language sql volatile as $$
  update huying.item_revisions r set
    summary = jsonb_build_object(
      'domain', (select d.code from huying.domains d where d.id = r.domain_id),
      'title', r.title, 'description', r.description, 'legal_basis', r.legal_basis,
      'lead_department_id', r.lead_department_id, 'cooperating_department_ids', to_jsonb(r.cooperating_department_ids),
      'township_duty', r.township_duty, 'response_limit', r.response_limit, 'resolve_limit', r.resolve_limit,
      'revision', r.revision, 'effective_from', r.effective_from),
    manual = jsonb_build_object(
      'scenarios', coalesce((select jsonb_agg(jsonb_build_object('id', s.id, 'seq', s.seq, 'title', s.title,
                              'responsible_section', s.responsible_section, 'contact_phone', s.contact_phone,
                              'steps', to_jsonb(s.steps), 'standard', s.standard, 'resolve_limit', s.resolve_limit)
                              order by s.seq)
                              from huying.scenarios s where s.revision_id = r.id), '[]'),
      'flow', r.flow)
  where r.id = p_id
$$;

-- An item as the API shows it, from its revision r in force at date at; details adds the
-- instruction manual (scenarios) and the flow. One expression, so PostgreSQL inlines it.
create function api.item_json(i huying.items, r huying.item_revisions, details boolean, at date) returns jsonb
language sql stable as $$
  select r.summary
      || jsonb_build_object('id', i.id, 'code', i.code, 'version', i.version, 'effective_to', r.effective_to,
                            'status', case when r.effective_to is null or r.effective_to > at then 'active' else 'retired' end)
      || case when details then r.manual else '{}'::jsonb end
$$;

-- Keyword search: the ids of the district's revisions whose title or description contains
-- p_q literally. SECURITY DEFINER on purpose, the one exception to "api.* functions are
-- SECURITY INVOKER": under row-level security PostgreSQL may not use ILIKE (not leakproof)
-- as an index condition, so the trigram index would never serve the API role. The function
-- filters by the caller's district itself and returns only ids, which the caller's own
-- statement then reads through RLS. From 3 characters on it searches the trigram index;
-- shorter keywords have no trigram, so they scan the district's revisions instead.
create function api.item_search(p_q text) returns setof bigint
language plpgsql stable security definer
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_custom_plan
as $$
declare
  d bigint := auth.district();
begin
  if d is null or p_q is null then
    return;
  end if;
  if char_length(p_q) >= 3 then
    return query select m.id from huying.item_revisions m
                  where m.district_id = d and (m.title || ' ' || coalesce(m.description, '')) ilike api.like_pattern(p_q);
  else
    return query select m.id from huying.item_revisions m
                  where m.district_id = d and strpos(lower(m.title || ' ' || coalesce(m.description, '')), lower(p_q)) > 0;
  end if;
end
$$;
revoke execute on function api.item_search(text) from public;

-- Mermaid text of a flow. Labels are quoted, and the characters Mermaid would read (quotes,
-- #, line breaks) are written as its entity codes.
create function api.mermaid_text(s text) returns text
language sql immutable parallel safe as $$
  select replace(replace(replace(replace(replace(coalesce(s, ''), '#', '#35;'), '"', '#quot;'),
                 E'\r', ' '), E'\n', ' '), '<', '#lt;')
$$;

create function api.flow_mermaid(f jsonb) returns text
language sql immutable parallel safe as $$
  select 'flowchart TD' || E'\n'
      || coalesce((select string_agg(format('  %s["%s"]:::%s', n ->> 'id', api.mermaid_text(n ->> 'label'), n ->> 'actor'), E'\n' order by o)
                     from jsonb_array_elements(f -> 'nodes') with ordinality as x(n, o)) || E'\n', '')
      || coalesce((select string_agg(format('  %s -->%s %s', e ->> 'from',
                            case when e ->> 'label' is not null then '|"' || api.mermaid_text(e ->> 'label') || '"|' else '' end,
                            e ->> 'to'), E'\n' order by o)
                     from jsonb_array_elements(f -> 'edges') with ordinality as y(e, o)) || E'\n', '')
      || '  classDef township fill:#dbeafe' || E'\n' || '  classDef department fill:#fef3c7' || E'\n'
      || '  classDef district_office fill:#fee2e2' || E'\n' || '  classDef platform fill:#e5e7eb' || E'\n'
$$;

grant execute on all functions in schema api to huying_api;
