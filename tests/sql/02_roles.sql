-- 02_roles: the API role is one that row-level security always applies to.
--
-- RLS is skipped for superusers, for roles with BYPASSRLS and for a table's owner (unless
-- FORCE ROW LEVEL SECURITY), and TRUNCATE ignores it altogether; so huying_api must be none
-- of those and hold none of that, and every table must have RLS enabled and forced.
-- Reads only the catalogs; runs as huying_owner after `huyingd migrate`.
begin;
select plan(14);

select ok(exists (select from pg_roles where rolname = 'huying_api'), 'role huying_api exists');
select ok(not rolsuper, 'huying_api is not a superuser') from pg_roles where rolname = 'huying_api';
select ok(not rolbypassrls, 'huying_api does not have BYPASSRLS') from pg_roles where rolname = 'huying_api';
select ok(not rolcreaterole and not rolcreatedb, 'huying_api cannot create roles or databases')
  from pg_roles where rolname = 'huying_api';
select ok(not pg_has_role('huying_api', 'huying_owner', 'member'), 'huying_api cannot become huying_owner');
select ok(not exists (select from pg_auth_members m join pg_roles r on r.oid = m.roleid
                       where m.member = 'huying_api'::regrole and (r.rolsuper or r.rolbypassrls)),
          'huying_api is a member of no superuser or BYPASSRLS role');

select is_empty($$select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname in ('huying', 'auth', 'api') and c.relowner = 'huying_api'::regrole$$,
                'huying_api owns no relation in schemas huying, auth and api');
select is_empty($$select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                   where n.nspname in ('huying', 'auth', 'api') and p.proowner = 'huying_api'::regrole$$,
                'huying_api owns no function in schemas huying, auth and api');
select is_empty($$select nspname from pg_namespace where nspowner = 'huying_api'::regrole$$,
                'huying_api owns no schema');
select is_empty($$select n.nspname from pg_namespace n where n.nspname in ('huying', 'auth', 'api', 'public')
                   and has_schema_privilege('huying_api', n.oid, 'CREATE')$$,
                'huying_api cannot create objects in schemas huying, auth, api and public');

select cmp_ok((select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where n.nspname = 'huying' and c.relkind in ('r', 'p')), '>=', 5::bigint,
              'schema huying has its tables (districts, units, domains, grids, idempotency)');
select is_empty($$select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname = 'huying' and c.relkind in ('r', 'p')
                     and not (c.relrowsecurity and c.relforcerowsecurity)$$,
                'every table in schema huying has row-level security enabled and forced');
select is_empty($$select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname = 'huying' and c.relkind in ('r', 'p')
                     and has_table_privilege('huying_api', c.oid, 'TRUNCATE')$$,
                'huying_api cannot TRUNCATE any table in schema huying (TRUNCATE ignores RLS)');
-- A SECURITY DEFINER function runs as its owner, to whom RLS does not apply: each one must
-- at least pin its search_path so that a caller cannot redirect what it reads.
select is_empty($$select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                   where n.nspname in ('huying', 'auth', 'api') and p.prosecdef
                     and not exists (select from unnest(p.proconfig) s where s like 'search_path=%')$$,
                'every SECURITY DEFINER function in huying, auth and api pins its search_path');

select * from finish();
rollback;
