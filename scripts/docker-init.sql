-- Run once by the postgres:15 image on a new data volume (docker-compose.yml mounts it into
-- /docker-entrypoint-initdb.d/). The same roles and database that scripts/pg.sh creates for
-- local clusters. The passwords are for a local compose setup only: change them otherwise.
create role huying_owner login password 'huying_owner';
create role huying_api login nosuperuser nocreatedb nocreaterole noinherit password 'huying_api';
create database huying owner huying_owner;
-- DESIGN §3: list queries run with generic plans on the API role
alter role huying_api in database huying set plan_cache_mode = force_generic_plan;
\connect huying
create extension if not exists pg_trgm;
