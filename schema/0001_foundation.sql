-- 0001_foundation: tenants, reference data, the claims helpers and row-level security.
--
-- Layout of the database:
--   huying  tables (owned by the migration role, never by the API role)
--   auth    helpers that read the verified claims of the current transaction
--   api     functions the daemon calls for writes; reads are prepared statements in server/
--
-- The daemon connects as huying_api, a role that owns nothing and is not a superuser, so
-- row-level security always applies to it (FORCE ROW LEVEL SECURITY covers the owner too).
-- The role is created by the operator (scripts/pg.sh does it for local clusters) before the
-- first migration, because creating roles needs more rights than owning a database.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'huying_api') then
    raise exception 'role huying_api does not exist: create it before migrating (see README, "Configuration")';
  end if;
end $$;

create extension if not exists pg_trgm;

create schema huying;
create schema auth;
create schema api;

grant usage on schema huying, auth, api to huying_api;

-- The claims of the request, as the daemon verified them, set transaction-locally by
-- auth.begin(). Outside a request (no claims) every helper returns NULL, and since every
-- policy compares with these helpers, a query without claims sees no rows.
create function auth.claims() returns jsonb
language sql stable parallel safe as $$
  select nullif(current_setting('huying.claims', true), '')::jsonb
$$;

create function auth.district() returns bigint
language sql stable parallel safe as $$
  select (auth.claims() ->> 'district')::bigint
$$;

create function auth.unit() returns bigint
language sql stable parallel safe as $$
  select (auth.claims() ->> 'unit_id')::bigint
$$;

create function auth.role() returns text
language sql stable parallel safe as $$
  select auth.claims() ->> 'role'
$$;

-- A tenant: one district and its district office. Created by the operator with
-- `huyingd district add`, never through the API.
create table huying.districts (
  id          bigint generated always as identity primary key,
  code        text not null unique check (code ~ '^[A-Za-z0-9_-]{1,32}$'),
  name        text not null check (char_length(name) between 1 and 100),
  created_at  timestamptz not null default now()
);
comment on table huying.districts is 'A tenant: one district (区/县) and its district office.';

-- An organisation inside a district: a township (乡镇/街道), a department (区直部门) or the
-- district office (区工委管委办公室), of which each district has exactly one.
create table huying.units (
  id           bigint generated always as identity primary key,
  district_id  bigint not null references huying.districts(id),
  code         text not null check (char_length(code) between 1 and 64 and code collate "C" !~ '[^-A-Za-z0-9_.]'),
  kind         text not null check (kind in ('township', 'department', 'district_office')),
  name         text not null check (char_length(name) between 1 and 100),
  parent_id    bigint references huying.units(id),
  phone        text check (char_length(phone) between 1 and 32),
  version      integer not null default 1,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  unique (district_id, code),
  unique (district_id, id)
);
comment on table huying.units is 'An organisation of a district: township, department or the district office.';
create unique index units_one_office on huying.units (district_id) where kind = 'district_office';
create index units_kind on huying.units (district_id, kind, code);

-- A field (领域) of the responsibility list.
create table huying.domains (
  id           bigint generated always as identity primary key,
  district_id  bigint not null references huying.districts(id),
  code         text not null check (char_length(code) between 1 and 32 and code collate "C" !~ '[^-A-Za-z0-9_.]'),
  name         text not null check (char_length(name) between 1 and 100),
  name_en      text check (char_length(name_en) <= 100),
  unique (district_id, code)
);
comment on table huying.domains is 'A domain (领域) of the district''s responsibility list.';

-- A cell of the grid hierarchy: township -> village -> grid; the district is the root, so a
-- township-level cell has no parent cell and names its township unit instead.
create table huying.grids (
  id           bigint generated always as identity primary key,
  district_id  bigint not null references huying.districts(id),
  code         text not null check (char_length(code) between 1 and 64 and code collate "C" !~ '[^-A-Za-z0-9_.]'),
  level        text not null check (level in ('township', 'village', 'grid')),
  name         text not null check (char_length(name) between 1 and 100),
  parent_id    bigint references huying.grids(id),
  township_id  bigint not null references huying.units(id),
  unique (district_id, code),
  check ((level = 'township') = (parent_id is null))
);
comment on table huying.grids is 'A grid cell (网格); township_id is the township unit the cell belongs to.';
create index grids_parent on huying.grids (district_id, parent_id, code);
create index grids_level on huying.grids (district_id, level, code);

-- Puts a table under row-level security for every role, its owner included (FORCE), and
-- gives the owner (the migration role, running this) an explicit policy for operator work
-- (district add, demo loads). Every table of every migration goes through it; the API
-- role's own policies are written next to each table.
create function huying.protect(t regclass) returns void
language plpgsql as $$
begin
  execute format('alter table %s enable row level security', t);
  execute format('alter table %s force row level security', t);
  execute format('create policy owner_all on %s to %I using (true) with check (true)', t, current_user);
end
$$;
revoke execute on function huying.protect(regclass) from public;

-- Every table carries district_id and is visible only inside the district of the claims.
select huying.protect(t) from unnest(array['huying.districts', 'huying.units', 'huying.domains', 'huying.grids']::regclass[]) t;

-- Every role reads its own district row.
create policy district_read on huying.districts for select to huying_api
  using (id = (select auth.district()));
-- Every role of a district reads all its units, domains and grids (reference data).
create policy units_read on huying.units for select to huying_api
  using (district_id = (select auth.district()));
-- Only the district office creates and edits units, and only in its own district.
create policy units_write on huying.units for insert to huying_api
  with check (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy units_update on huying.units for update to huying_api
  using (district_id = (select auth.district()) and (select auth.role()) = 'district');
create policy domains_read on huying.domains for select to huying_api
  using (district_id = (select auth.district()));
create policy grids_read on huying.grids for select to huying_api
  using (district_id = (select auth.district()));

grant select on huying.districts, huying.units, huying.domains, huying.grids to huying_api;
grant insert (district_id, code, kind, name, parent_id, phone) on huying.units to huying_api;
grant update (name, phone, parent_id, version, updated_at) on huying.units to huying_api;

-- The first statement of every authenticated request, sent in the same pipeline (one round
-- trip) as the request's own statement: it sets the verified claims and the statement
-- timeout for this transaction only, then checks that the token's unit exists in the
-- token's district and is of the kind the role requires. A failed check raises HY401,
-- which aborts the request's statement too; the daemon answers 401.
create function auth.begin(claims text, timeout_ms integer) returns void
language plpgsql volatile as $$
declare
  c jsonb := claims::jsonb;
  want text := case c ->> 'role'
                 when 'township' then 'township'
                 when 'department' then 'department'
                 else 'district_office' end;
  found text;
begin
  perform set_config('huying.claims', claims, true);
  perform set_config('statement_timeout', timeout_ms::text, true);
  select u.kind into found
    from huying.units u
   where u.id = (c ->> 'unit_id')::bigint and u.district_id = (c ->> 'district')::bigint;
  if found is distinct from want then
    raise exception using
      errcode = 'HY401',
      message = case when found is null then 'the token''s unit_id is not a unit of its district'
                     else format('the token''s unit is a %s, which the role %s may not use', found, c ->> 'role') end;
  end if;
end
$$;
grant execute on function auth.begin(text, integer) to huying_api;

-- Opaque list cursors: base64url (no padding) of a JSON array of the keyset values.
-- The daemon decodes and checks them; SQL only encodes.
create function api.cursor(keys jsonb) returns text
language sql immutable parallel safe as $$
  select rtrim(translate(encode(convert_to(keys::text, 'UTF8'), 'base64'), E'+/\n', '-_'), '=')
$$;

-- CSV cell for exports: RFC 4180 quoting, and a leading = + - @ (or tab, CR: OWASP's list)
-- prefixed with ' so that a spreadsheet never evaluates it as a formula.
create function api.csv_cell(v text) returns text
language sql immutable parallel safe as $$
  select case
    when v is null then ''
    else (with p as (select case when v ~ '^[=+@\t\r-]' then '''' || v else v end as s)
          select case when s ~ '[",\r\n]' then '"' || replace(s, '"', '""') || '"' else s end from p)
  end
$$;

-- Idempotency-Key (DESIGN §5): the key and the successful answer are written by the same
-- statement that does the work, so they commit (or vanish) together. Scope: district, sub,
-- method and route. A second request with the key waits for the first (the unique index),
-- up to lock_timeout 2 s, then gets 55P03, which the daemon answers 409 with Retry-After.
create table huying.idempotency (
  district_id  bigint not null references huying.districts(id),
  sub          text not null,
  route        text not null,
  key          text not null check (char_length(key) between 1 and 255),
  fingerprint  bytea not null,
  status       integer,
  etag         text,
  location     text,
  body         text,
  created_at   timestamptz not null default now(),
  primary key (district_id, sub, route, key)
);
comment on table huying.idempotency is 'One stored answer per Idempotency-Key; older than 24 h counts as absent.';
select huying.protect('huying.idempotency');
-- A token sees and writes only its own keys (same district and sub).
create policy idempotency_own on huying.idempotency to huying_api
  using (district_id = (select auth.district()) and sub = (select auth.claims() ->> 'sub'))
  with check (district_id = (select auth.district()) and sub = (select auth.claims() ->> 'sub'));
grant select, insert, update on huying.idempotency to huying_api;

-- The answer of a write: what the daemon sends back (status, ETag, Location, body) and
-- whether it is a replay of a stored answer.
create type api.answer as (status integer, etag text, location text, body text, replayed boolean);

-- Starts an idempotent write. Returns NULL when the work must be done (the key is now held
-- by this transaction), or the stored answer of an earlier request with the same key and
-- body. The same key with another body is 422.
create function api.idem_begin(p_key text, p_route text, p_body jsonb) returns api.answer
language plpgsql volatile as $$
declare
  fp bytea := sha256(convert_to(coalesce(p_body::text, ''), 'UTF8'));
  d bigint := auth.district();
  s text := auth.claims() ->> 'sub';
  held boolean;
  prior huying.idempotency;
begin
  if p_key is null then
    return null;
  end if;
  perform set_config('lock_timeout', '2s', true);
  insert into huying.idempotency as i (district_id, sub, route, key, fingerprint)
  values (d, s, p_route, p_key, fp)
  on conflict (district_id, sub, route, key) do update
     set fingerprint = excluded.fingerprint, status = null, etag = null, location = null, body = null,
         created_at = now()
     where i.created_at < now() - interval '24 hours'
  returning true into held;
  perform set_config('lock_timeout', '0', true);
  if held then
    return null;
  end if;
  select * into prior from huying.idempotency i
   where i.district_id = d and i.sub = s and i.route = p_route and i.key = p_key;
  if prior.fingerprint <> fp then
    raise exception using errcode = 'HY422',
      message = 'this Idempotency-Key was used with a different body',
      detail = json_build_object('errors', json_build_array(json_build_object('field', 'Idempotency-Key', 'message', 'already used with a different body')))::text;
  end if;
  return row(prior.status, prior.etag, prior.location, prior.body, true)::api.answer;
end
$$;

-- Records the answer of the work done under idem_key (no-op without a key) and returns it.
create function api.idem_finish(p_key text, p_route text, a api.answer) returns api.answer
language plpgsql volatile as $$
begin
  if p_key is not null then
    update huying.idempotency i set status = a.status, etag = a.etag, location = a.location, body = a.body
     where i.district_id = auth.district() and i.sub = auth.claims() ->> 'sub'
       and i.route = p_route and i.key = p_key;
  end if;
  return a;
end
$$;

-- Writes: create a unit (district office only). Returns the daemon's answer tuple.
-- Business errors use SQLSTATE 'HY' || http status, with a JSON DETAIL the daemon merges into
-- the problem body.
create function api.unit_create(body jsonb, idem_key text) returns setof api.answer
language plpgsql volatile as $$
declare
  d bigint := auth.district();
  prior api.answer := api.idem_begin(idem_key, 'POST /v1/units', body);
  parent bigint;
  u huying.units;
begin
  if prior.status is not null then  -- (a row with a NULL field is not "not null")
    return next prior;
    return;
  end if;
  if body ->> 'parent_code' is not null then
    select id into parent from huying.units where district_id = d and code = body ->> 'parent_code';
    if parent is null then
      raise exception using errcode = 'HY422', message = 'parent_code names no unit of this district',
        detail = json_build_object('errors', json_build_array(json_build_object('field', 'parent_code', 'message', 'no such unit')))::text;
    end if;
  elsif body ->> 'parent_id' is not null then
    select id into parent from huying.units where district_id = d and id = (body ->> 'parent_id')::numeric::bigint;
    if parent is null then
      raise exception using errcode = 'HY422', message = 'parent_id names no unit of this district',
        detail = json_build_object('errors', json_build_array(json_build_object('field', 'parent_id', 'message', 'no such unit')))::text;
    end if;
  else
    select id into parent from huying.units where district_id = d and kind = 'district_office';
  end if;
  begin
    insert into huying.units (district_id, code, kind, name, parent_id, phone)
    values (d, body ->> 'code', body ->> 'kind', body ->> 'name', parent, body ->> 'phone')
    returning * into u;
  exception when unique_violation then
    raise exception using errcode = 'HY409', message = format('a unit with code %s already exists', body ->> 'code'),
      detail = json_build_object('errors', json_build_array(json_build_object('field', 'code', 'message', 'already used')))::text;
  end;
  return next api.idem_finish(idem_key, 'POST /v1/units',
    row(201, '"' || u.version || '"', '/v1/units/' || u.id, api.unit_json(u)::text, false)::api.answer);
end
$$;

-- The public representation of a unit (also used by the read statements in server/ref.c).
create function api.unit_json(u huying.units) returns json
language sql stable parallel safe as $$
  select json_build_object('id', u.id, 'code', u.code, 'kind', u.kind, 'name', u.name,
                           'parent_id', u.parent_id, 'phone', u.phone, 'version', u.version,
                           'created_at', to_char(u.created_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'),
                           'updated_at', to_char(u.updated_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'))
$$;

grant usage on type api.answer to huying_api;
grant execute on all functions in schema api to huying_api;
grant execute on all functions in schema auth to huying_api;
