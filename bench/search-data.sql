-- bench/run.sh, keyword search: :n synthetic items, one revision each, in the separate
-- district :district (made by `huyingd district add --code BX`), so that the planner has a
-- table worth an index. Runs as the owner role (its owner_all policies let it write).
-- Titles (6-14 characters) and descriptions (30-60) are random characters from a 500-character
-- slice of CJK (setseed: the same data every run), so the text has many distinct trigrams like
-- real prose; one description in 1,000 mentions 渔船废机油.
select setseed(0.42) as seed \gset
insert into huying.domains (district_id, code, name) values (:district, 'BENCH', '基准领域');
insert into huying.items (district_id, code)
select :district, format('BX-%s', lpad(i::text, 5, '0')) from generate_series(1, :n) i;
create temp table bench_text as
select i.id, (select string_agg(chr(26000 + (random() * 499)::int), '') from generate_series(1, 6 + i.id % 9 + (0 * i.id))) as title,
             (select string_agg(chr(26000 + (random() * 499)::int), '') from generate_series(1, 30 + i.id % 31 + (0 * i.id))) as description
  from huying.items i where i.district_id = :district;
insert into huying.item_revisions (district_id, item_id, revision, domain_id, title, description,
                                   effective_from, source)
select :district, t.id, 1, (select id from huying.domains where district_id = :district and code = 'BENCH'),
       t.title || '事项', case when t.id % 1000 = 0 then '渔船废机油' else '' end || t.description,
       date '2026-01-01', 'import'
  from bench_text t;
analyze huying.domains;
analyze huying.items;
analyze huying.item_revisions;
