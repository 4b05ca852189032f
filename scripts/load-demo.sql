-- Loads data/demo/{domains,units,grids}.csv into one district, in one transaction.
-- Run by scripts/load-demo.sh from inside data/demo/ (the \copy paths are relative), as the
-- owner role (HUYING_MIGRATE_DATABASE_URL; RLS lets it through with the owner_all policy):
--   psql "$HUYING_MIGRATE_DATABASE_URL" -X -q -At -v ON_ERROR_STOP=1 -v district=ID -f load-demo.sql
-- Idempotent: rows are matched on (district_id, code) and updated only when they differ
-- (a changed unit gets version + 1). The CSV's district_office row (CD-BGS) is the office
-- that `huyingd district add` created, whatever its code: it is updated, never inserted twice.
\set ON_ERROR_STOP 1

begin;

create temp table demo_ctx on commit drop as select (:'district')::bigint as district;

do $$
declare d bigint := (select district from demo_ctx);
begin
  if not exists (select from huying.districts where id = d) then
    raise exception 'load-demo: district % does not exist (create it with `huyingd district add`)', d;
  end if;
end $$;

create temp table demo_domains (code text, name text, name_en text) on commit drop;
create temp table demo_units (code text, kind text, name text, parent_code text, phone text) on commit drop;
create temp table demo_grids (code text, level text, name text, parent_code text) on commit drop;

\copy demo_domains from 'domains.csv' with (format csv, header true, encoding 'UTF8')
\copy demo_units from 'units.csv' with (format csv, header true, encoding 'UTF8')
\copy demo_grids from 'grids.csv' with (format csv, header true, encoding 'UTF8')

-- Domains ----------------------------------------------------------------------------------
insert into huying.domains as t (district_id, code, name, name_en)
select c.district, s.code, s.name, s.name_en
  from demo_domains s cross join demo_ctx c
on conflict (district_id, code) do update
   set name = excluded.name, name_en = excluded.name_en
 where (t.name, t.name_en) is distinct from (excluded.name, excluded.name_en);

-- Units ------------------------------------------------------------------------------------
-- A unit code of the CSV -> the unit's id in this district. The CSV's office code names the
-- district's office.
create function pg_temp.demo_unit(c text) returns bigint
language sql stable as $$
  select u.id
    from huying.units u cross join demo_ctx x
   where u.district_id = x.district
     and (u.code = c
          or (u.kind = 'district_office'
              and c in (select s.code from demo_units s where s.kind = 'district_office')))
   order by (u.code = c) desc
   limit 1
$$;

do $$
declare bad text;
begin
  if (select count(*) from demo_units where kind = 'district_office') > 1 then
    raise exception 'load-demo: units.csv has more than one district_office row';
  end if;
  select string_agg(format('%s (parent_code %s)', s.code, s.parent_code), ', ') into bad
    from demo_units s
   where s.parent_code is not null
     and not exists (select from demo_units p where p.code = s.parent_code)
     and pg_temp.demo_unit(s.parent_code) is null;
  if bad is not null then
    raise exception 'load-demo: units.csv names unknown parents: %', bad;
  end if;
end $$;

-- The office: update the district's own office, or create it if the district has none.
update huying.units t
   set name = s.name, phone = s.phone, version = t.version + 1, updated_at = now()
  from demo_units s cross join demo_ctx c
 where s.kind = 'district_office'
   and t.district_id = c.district and t.kind = 'district_office'
   and (t.name, t.phone) is distinct from (s.name, s.phone);

insert into huying.units (district_id, code, kind, name, phone)
select c.district, s.code, s.kind, s.name, s.phone
  from demo_units s cross join demo_ctx c
 where s.kind = 'district_office'
   and not exists (select from huying.units u where u.district_id = c.district and u.kind = 'district_office');

-- Townships and departments. A parent that comes later in the same file is filled in below.
insert into huying.units as t (district_id, code, kind, name, parent_id, phone)
select c.district, s.code, s.kind, s.name, pg_temp.demo_unit(s.parent_code), s.phone
  from demo_units s cross join demo_ctx c
 where s.kind <> 'district_office'
on conflict (district_id, code) do update
   set kind = excluded.kind, name = excluded.name, parent_id = excluded.parent_id,
       phone = excluded.phone, version = t.version + 1, updated_at = now()
 where (t.kind, t.name, t.parent_id, t.phone)
       is distinct from (excluded.kind, excluded.name, excluded.parent_id, excluded.phone);

update huying.units t
   set parent_id = pg_temp.demo_unit(s.parent_code)
  from demo_units s cross join demo_ctx c
 where s.kind <> 'district_office' and s.parent_code is not null
   and t.district_id = c.district and t.code = s.code
   and t.parent_id is distinct from pg_temp.demo_unit(s.parent_code);

-- Grids, level by level -------------------------------------------------------------------
-- township: parent_code is the township unit; the cell has no parent cell.
insert into huying.grids as t (district_id, code, level, name, parent_id, township_id)
select c.district, s.code, s.level, s.name, null, u.id
  from demo_grids s cross join demo_ctx c
  join huying.units u on u.district_id = c.district and u.code = s.parent_code and u.kind = 'township'
 where s.level = 'township'
on conflict (district_id, code) do update
   set level = excluded.level, name = excluded.name, parent_id = excluded.parent_id,
       township_id = excluded.township_id
 where (t.level, t.name, t.parent_id, t.township_id)
       is distinct from (excluded.level, excluded.name, excluded.parent_id, excluded.township_id);

-- village under a township cell, then grid under a village cell; both inherit the township.
insert into huying.grids as t (district_id, code, level, name, parent_id, township_id)
select c.district, s.code, s.level, s.name, p.id, p.township_id
  from demo_grids s cross join demo_ctx c
  join huying.grids p on p.district_id = c.district and p.code = s.parent_code and p.level = 'township'
 where s.level = 'village'
on conflict (district_id, code) do update
   set level = excluded.level, name = excluded.name, parent_id = excluded.parent_id,
       township_id = excluded.township_id
 where (t.level, t.name, t.parent_id, t.township_id)
       is distinct from (excluded.level, excluded.name, excluded.parent_id, excluded.township_id);

insert into huying.grids as t (district_id, code, level, name, parent_id, township_id)
select c.district, s.code, s.level, s.name, p.id, p.township_id
  from demo_grids s cross join demo_ctx c
  join huying.grids p on p.district_id = c.district and p.code = s.parent_code and p.level = 'village'
 where s.level = 'grid'
on conflict (district_id, code) do update
   set level = excluded.level, name = excluded.name, parent_id = excluded.parent_id,
       township_id = excluded.township_id
 where (t.level, t.name, t.parent_id, t.township_id)
       is distinct from (excluded.level, excluded.name, excluded.parent_id, excluded.township_id);

-- Every CSV row must now be in the table; a row whose parent was not found was skipped above.
do $$
declare bad text;
begin
  select string_agg(format('%s (%s, parent_code %s)', s.code, s.level, s.parent_code), ', ') into bad
    from demo_grids s cross join demo_ctx c
   where not exists (select from huying.grids g where g.district_id = c.district and g.code = s.code);
  if bad is not null then
    raise exception 'load-demo: grids.csv rows with an unknown or wrong-level parent: %', bad;
  end if;
end $$;

select format('district %s: %s domains, %s units, %s grids loaded',
              c.district,
              (select count(*) from huying.domains where district_id = c.district),
              (select count(*) from huying.units where district_id = c.district),
              (select count(*) from huying.grids where district_id = c.district))
  from demo_ctx c;

commit;
