-- 01_rls: row-level security as the API role sees it, auth.begin(), and the SQL helpers
-- api.csv_cell and api.cursor.
--
-- Run by scripts/test.sh as huying_owner after `huyingd migrate`:
--   psql "$HUYING_MIGRATE_DATABASE_URL" -X -q -At -v ON_ERROR_STOP=1 -f tests/sql/01_rls.sql
--
-- The owner cannot `set role huying_api` (it is not a member of that role), so the checks
-- reconnect as huying_api with \connect, the way the daemon itself logs in. The fixtures must
-- therefore be committed to be visible from that second session: they use the district codes
-- sqltest-a / sqltest-b, are removed first (leftovers of an aborted run) and again at the end.

-- ---- fixtures (as the owner) ------------------------------------------------------------
begin;
delete from huying.idempotency where district_id in (select id from huying.districts where code in ('sqltest-a', 'sqltest-b'));
delete from huying.grids where district_id in (select id from huying.districts where code in ('sqltest-a', 'sqltest-b'));
delete from huying.units where district_id in (select id from huying.districts where code in ('sqltest-a', 'sqltest-b'));
delete from huying.domains where district_id in (select id from huying.districts where code in ('sqltest-a', 'sqltest-b'));
delete from huying.districts where code in ('sqltest-a', 'sqltest-b');

insert into huying.districts (code, name) values ('sqltest-a', '测试甲区'), ('sqltest-b', '测试乙区');
-- Each district: its office, a township and a department; A has a second township.
insert into huying.units (district_id, code, kind, name)
select d.id, u.code, u.kind, u.name
  from huying.districts d
 cross join (values ('OFFICE', 'district_office', '区工委管委办公室'),
                    ('T1', 'township', '一镇'),
                    ('D1', 'department', '一局')) as u (code, kind, name)
 where d.code in ('sqltest-a', 'sqltest-b');
insert into huying.units (district_id, code, kind, name)
select id, 'T2', 'township', '二镇' from huying.districts where code = 'sqltest-a';
-- A has two domains, B one.
insert into huying.domains (district_id, code, name)
select id, 'DOM1', '领域一' from huying.districts where code in ('sqltest-a', 'sqltest-b');
insert into huying.domains (district_id, code, name)
select id, 'DOM2', '领域二' from huying.districts where code = 'sqltest-a';
-- One township-level grid cell per township: A has two, B one.
insert into huying.grids (district_id, code, level, name, township_id)
select u.district_id, 'G-' || u.code, 'township', u.name, u.id
  from huying.units u join huying.districts d on d.id = u.district_id
 where d.code in ('sqltest-a', 'sqltest-b') and u.kind = 'township';
-- Idempotency keys: one of sub "t" in each district, and one of another sub in A.
insert into huying.idempotency (district_id, sub, route, key, fingerprint)
select id, 't', 'POST /v1/units', 'k1', '\x00'::bytea from huying.districts where code in ('sqltest-a', 'sqltest-b');
insert into huying.idempotency (district_id, sub, route, key, fingerprint)
select id, 'someone-else', 'POST /v1/units', 'k1', '\x00'::bytea from huying.districts where code = 'sqltest-a';
commit;

select (select id from huying.districts where code = 'sqltest-a') as da,
       (select id from huying.districts where code = 'sqltest-b') as db,
       (select u.id from huying.units u join huying.districts d on d.id = u.district_id
         where d.code = 'sqltest-a' and u.code = 'OFFICE') as a_office,
       (select u.id from huying.units u join huying.districts d on d.id = u.district_id
         where d.code = 'sqltest-a' and u.code = 'T1') as a_t1,
       (select u.id from huying.units u join huying.districts d on d.id = u.district_id
         where d.code = 'sqltest-a' and u.code = 'D1') as a_d1,
       (select u.id from huying.units u join huying.districts d on d.id = u.district_id
         where d.code = 'sqltest-b' and u.code = 'OFFICE') as b_office,
       (select u.id from huying.units u join huying.districts d on d.id = u.district_id
         where d.code = 'sqltest-b' and u.code = 'T1') as b_t1
\gset

-- Claims as the daemon sets them (auth.c builds the same shape).
select json_build_object('sub', 't', 'role', 'district', 'unit_id', :a_office, 'district', :da)::text as claims_a_district,
       json_build_object('sub', 't', 'role', 'township', 'unit_id', :a_t1, 'district', :da)::text as claims_a_township,
       json_build_object('sub', 't', 'role', 'department', 'unit_id', :a_d1, 'district', :da)::text as claims_a_department,
       json_build_object('sub', 't', 'role', 'district', 'unit_id', :b_office, 'district', :db)::text as claims_b_district,
       -- A township token that names a unit of district B while claiming district A.
       json_build_object('sub', 't', 'role', 'township', 'unit_id', :b_t1, 'district', :da)::text as claims_a_foreign_unit,
       json_build_object('sub', 't', 'role', 'township', 'unit_id', 0, 'district', :da)::text as claims_a_no_unit
\gset

-- ---- as the API role ----------------------------------------------------------------------
\connect - huying_api
begin;
select plan(52);

select is(current_user::text, 'huying_api', 'the checks run as huying_api');

-- Without claims every table is empty.
select is((select count(*) from huying.districts), 0::bigint, 'no claims: districts shows no rows');
select is((select count(*) from huying.units), 0::bigint, 'no claims: units shows no rows');
select is((select count(*) from huying.domains), 0::bigint, 'no claims: domains shows no rows');
select is((select count(*) from huying.grids), 0::bigint, 'no claims: grids shows no rows');
select is((select count(*) from huying.idempotency), 0::bigint, 'no claims: idempotency shows no rows');
select is(auth.claims(), null, 'no claims: auth.claims() is null');

-- After a transaction-local set_config the setting reads '' rather than NULL: still no rows.
select set_config('huying.claims', '', true) \g /dev/null
select is((select count(*) from huying.units), 0::bigint, 'empty claims: units shows no rows');
select is(auth.district(), null, 'empty claims: auth.district() is null');

-- Claims of district A: exactly A's rows.
select set_config('huying.claims', :'claims_a_district', true) \g /dev/null
select results_eq('select code from huying.districts', array['sqltest-a'], 'district A sees its own district row only');
select is((select count(*) from huying.units), 4::bigint, 'district A sees its 4 units');
select is((select count(*) from huying.units where district_id <> :da), 0::bigint, 'district A sees no unit of another district');
select is((select count(*) from huying.domains), 2::bigint, 'district A sees its 2 domains');
select is((select count(*) from huying.domains where district_id <> :da), 0::bigint, 'district A sees no domain of another district');
select is((select count(*) from huying.grids), 2::bigint, 'district A sees its 2 grid cells');
select is((select count(*) from huying.grids where district_id <> :da), 0::bigint, 'district A sees no grid cell of another district');
select is((select count(*) from huying.idempotency), 1::bigint, 'district A, sub t sees only its own idempotency key');
select is((select count(*) from huying.units where id = :b_t1), 0::bigint, 'a unit of district B cannot be read by id from district A');

-- Claims of district B: exactly B's rows.
select set_config('huying.claims', :'claims_b_district', true) \g /dev/null
select results_eq('select code from huying.districts', array['sqltest-b'], 'district B sees its own district row only');
select is((select count(*) from huying.units), 3::bigint, 'district B sees its 3 units');
select is((select count(*) from huying.domains), 1::bigint, 'district B sees its 1 domain');
select is((select count(*) from huying.grids), 1::bigint, 'district B sees its 1 grid cell');

-- Writes across districts.
select set_config('huying.claims', :'claims_a_district', true) \g /dev/null
select is_empty(format('update huying.units set name = %L where id = %s returning id', 'hijacked', :b_t1),
                'district A cannot update a unit of district B');
select results_eq(format('update huying.units set name = %L where id = %s returning id', '一镇（改）', :a_t1),
                  format('values (%s::bigint)', :a_t1),
                  'district A updates its own unit');
select throws_ok(format('update huying.units set district_id = %s where id = %s', :db, :a_t1), '42501', null,
                 'a unit cannot be moved to another district (no update privilege on district_id)');
select throws_ok(format('insert into huying.units (district_id, code, kind, name) values (%s, %L, %L, %L)',
                        :db, 'X-B', 'township', 'x'),
                 '42501', 'new row violates row-level security policy for table "units"',
                 'district A cannot insert a unit into district B');
select lives_ok(format('insert into huying.units (district_id, code, kind, name) values (%s, %L, %L, %L)',
                       :da, 'X-A', 'township', 'x'),
                'district A inserts a unit into its own district');
select throws_ok(format('delete from huying.units where id = %s', :a_t1), '42501', null,
                 'huying_api cannot delete units');
select throws_ok($$insert into huying.districts (code, name) values ('sqltest-x', 'x')$$, '42501', null,
                 'huying_api cannot create districts');
select throws_ok(format('insert into huying.domains (district_id, code, name) values (%s, %L, %L)', :da, 'DX', 'x'),
                 '42501', null, 'huying_api cannot insert domains');

select set_config('huying.claims', :'claims_b_district', true) \g /dev/null
select is((select name from huying.units where id = :b_t1), '一镇', 'the unit of district B kept its name');

-- A township token of district A: reads, but cannot insert or update units (units_write).
select set_config('huying.claims', :'claims_a_township', true) \g /dev/null
select is((select count(*) from huying.units where code <> 'X-A'), 4::bigint, 'township of A reads the units of A');
select throws_ok(format('insert into huying.units (district_id, code, kind, name) values (%s, %L, %L, %L)',
                        :da, 'X-T', 'township', 'x'),
                 '42501', 'new row violates row-level security policy for table "units"',
                 'a township token cannot insert a unit');
select is_empty(format('update huying.units set name = %L where id = %s returning id', 'by township', :a_t1),
                'a township token cannot update a unit');

-- auth.begin(): the unit must exist in the token's district and be of the role's kind.
select set_config('huying.claims', '', true) \g /dev/null
select throws_ok(format('select auth.begin(%L, 5000)', json_build_object('sub', 't', 'role', 'township', 'unit_id', :a_d1, 'district', :da)),
                 'HY401', null, 'auth.begin: a township token naming a department unit is refused');
select throws_ok(format('select auth.begin(%L, 5000)', json_build_object('sub', 't', 'role', 'district', 'unit_id', :a_t1, 'district', :da)),
                 'HY401', null, 'auth.begin: a district token naming a township unit is refused');
select throws_ok(format('select auth.begin(%L, 5000)', json_build_object('sub', 't', 'role', 'department', 'unit_id', :a_office, 'district', :da)),
                 'HY401', null, 'auth.begin: a department token naming the district office is refused');
select throws_ok(format('select auth.begin(%L, 5000)', :'claims_a_foreign_unit'),
                 'HY401', 'the token''s unit_id is not a unit of its district',
                 'auth.begin: a unit of another district is refused');
select throws_ok(format('select auth.begin(%L, 5000)', :'claims_a_no_unit'),
                 'HY401', null, 'auth.begin: a unit that does not exist is refused');
select is((select count(*) from huying.units), 0::bigint, 'a refused auth.begin leaves no claims behind');
select lives_ok(format('select auth.begin(%L, 5000)', :'claims_a_department'),
                'auth.begin: a department token naming its department passes');
select lives_ok(format('select auth.begin(%L, 5000)', :'claims_a_district'),
                'auth.begin: a district token naming its district office passes');
select lives_ok(format('select auth.begin(%L, 4321)', :'claims_a_township'),
                'auth.begin: a township token naming its township passes');
select is(current_setting('huying.claims'), :'claims_a_township', 'auth.begin sets huying.claims');
select is(current_setting('statement_timeout'), '4321ms', 'auth.begin sets the statement timeout');
select is(auth.unit(), :a_t1::bigint, 'auth.unit() reads the unit_id claim');

-- api.csv_cell: RFC 4180 quoting, formulas neutralised.
select is(api.csv_cell('=1+1'), '''=1+1', 'csv_cell prefixes a leading = with a quote');
select is(api.csv_cell('a,b'), '"a,b"', 'csv_cell quotes a cell with a comma');
select is(api.csv_cell('say "hi"'), '"say ""hi"""', 'csv_cell doubles quotes inside a quoted cell');
select is(api.csv_cell(null), '', 'csv_cell turns NULL into an empty cell');
select is(api.csv_cell('-3'), '''-3', 'csv_cell prefixes a leading minus');
select ok(api.csv_cell('+1') = '''+1' and api.csv_cell('@SUM(A1)') = '''@SUM(A1)'
          and api.csv_cell(E'a\nb') = E'"a\nb"' and api.csv_cell('=a,b') = '"''=a,b"'
          and api.csv_cell('呼应') = '呼应' and api.csv_cell('') = '',
          'csv_cell: + and @ prefixed, newline quoted, prefix then quote, plain text unchanged');

select * from finish();
rollback;

-- ---- api.cursor (any role) --------------------------------------------------------------
begin;
select plan(4);
select is(api.cursor('["CD-ZJ"]'), 'WyJDRC1aSiJd', 'cursor of ["CD-ZJ"] is unpadded base64url');
select is(convert_from(decode(c || repeat('=', (4 - length(c) % 4) % 4), 'base64'), 'UTF8')::jsonb,
          '["CD-ZJ"]'::jsonb, 'cursor decodes back to its keys')
  from (select translate(api.cursor('["CD-ZJ"]'), '-_', '+/') as c) x;
-- A long cursor (base64 output wraps lines at 76) with bytes that map to + and /.
select ok(c !~ '[=+/\n]', 'a long cursor has no padding, no + or / and no line breaks')
  from (select api.cursor(jsonb_build_array('~~~~??>>>' || repeat('呼应', 40), 9007199254740991)) as c) x;
select is(convert_from(decode(c || repeat('=', (4 - length(c) % 4) % 4), 'base64'), 'UTF8')::jsonb,
          jsonb_build_array('~~~~??>>>' || repeat('呼应', 40), 9007199254740991),
          'a long cursor decodes back to its keys')
  from (select translate(api.cursor(jsonb_build_array('~~~~??>>>' || repeat('呼应', 40), 9007199254740991)), '-_', '+/') as c) x;
select * from finish();
rollback;

-- ---- clean up (as the owner) ------------------------------------------------------------
\connect - huying_owner
begin;
delete from huying.idempotency where district_id in (select id from huying.districts where code in ('sqltest-a', 'sqltest-b'));
delete from huying.grids where district_id in (select id from huying.districts where code in ('sqltest-a', 'sqltest-b'));
delete from huying.units where district_id in (select id from huying.districts where code in ('sqltest-a', 'sqltest-b'));
delete from huying.domains where district_id in (select id from huying.districts where code in ('sqltest-a', 'sqltest-b'));
delete from huying.districts where code in ('sqltest-a', 'sqltest-b');
commit;
