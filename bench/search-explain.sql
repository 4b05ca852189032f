-- bench/run.sh, keyword search as the daemon sees it: huying_api with the claims of the
-- district BX (psql variables: claims, district, list_sql = items_list from server/items.c).
-- Each plan is headed by a line "== ..." (bench/run.sh summarises per heading).
\pset pager off
begin;
select set_config('huying.claims', :'claims', true) as claims_set \gset
\echo '-- role: huying_api, claims:' :'claims'
show plan_cache_mode;
-- warm the table's pages once, so that the first plan does not pay for the cold cache
select count(*) as revisions from huying.item_revisions where district_id = :district;

\echo '== api, literal 渔船废机油 (5 chars), search subquery'
explain (analyze, costs off)
select m.id from huying.item_revisions m
 where m.district_id = (select auth.district())
   and (m.title || ' ' || coalesce(m.description, '')) ilike api.like_pattern('渔船废机油');

\echo '== api, literal 废机油 (3 chars), search subquery'
explain (analyze, costs off)
select m.id from huying.item_revisions m
 where m.district_id = (select auth.district())
   and (m.title || ' ' || coalesce(m.description, '')) ilike api.like_pattern('废机油');

\echo '== api, literal 渔船 (2 chars), search subquery'
explain (analyze, costs off)
select m.id from huying.item_revisions m
 where m.district_id = (select auth.district())
   and (m.title || ' ' || coalesce(m.description, '')) ilike api.like_pattern('渔船');

-- Is the trigram index a candidate at all for this role? With sequential scans priced out
-- the planner shows the best index path it has.
\echo '== api, literal 废机油, enable_seqscan off (is item_revisions_text a candidate?)'
set local enable_seqscan = off;
explain
select m.id from huying.item_revisions m
 where m.district_id = (select auth.district())
   and (m.title || ' ' || coalesce(m.description, '')) ilike api.like_pattern('废机油');
reset enable_seqscan;

-- The daemon's statement, prepared as the daemon prepares it (generic plan: the role's
-- plan_cache_mode), with the daemon's parameters for GET /v1/items?q=...
prepare items_list as :list_sql;
\echo '== api, items_list q=渔船废机油 (generic plan, as the daemon)'
explain (analyze, costs off) execute items_list(20, null, null, null, null, null, '渔船废机油');
\echo '== api, items_list q=渔船 (generic plan, as the daemon)'
explain (analyze, costs off) execute items_list(20, null, null, null, null, null, '渔船');
\echo '== api, items_list without q (generic plan, as the daemon)'
explain (analyze, costs off) execute items_list(20, null, null, null, null, null, null);
commit;
