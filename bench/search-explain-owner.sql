-- bench/run.sh, keyword search for contrast: the same subquery as the owner role, whose
-- owner_all policy (using (true)) adds no row-level security condition. psql variable:
-- district. Each plan is headed by a line "== ...".
\pset pager off
\echo '-- role: huying_owner (no RLS condition)'
\echo '== owner, literal 废机油 (3 chars), custom plan'
explain (analyze, costs off)
select m.id from huying.item_revisions m
 where m.district_id = :district
   and (m.title || ' ' || coalesce(m.description, '')) ilike api.like_pattern('废机油');

\echo '== owner, literal 渔船 (2 chars), custom plan'
explain (analyze, costs off)
select m.id from huying.item_revisions m
 where m.district_id = :district
   and (m.title || ' ' || coalesce(m.description, '')) ilike api.like_pattern('渔船');

-- A generic plan (the daemon's mode) cannot see the keyword's length.
set plan_cache_mode = force_generic_plan;
prepare search(text, bigint) as
select m.id from huying.item_revisions m
 where m.district_id = $2
   and (m.title || ' ' || coalesce(m.description, '')) ilike api.like_pattern($1);
\echo '== owner, generic plan, 废机油 (3 chars)'
explain (analyze, costs off) execute search('废机油', :district);
\echo '== owner, generic plan, 渔船 (2 chars)'
explain (analyze, costs off) execute search('渔船', :district);
