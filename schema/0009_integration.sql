-- Integration (DESIGN §5 "Integration and bulk work"): the change feed.
--
-- GET /v1/events?after=&types=&limit= returns every event the token may see (RLS
-- events_read), in commit order, from an opaque cursor. Event ids come from a sequence, so a
-- transaction that began earlier may commit an event with a smaller id after a reader has
-- gone past it; a feed by id would skip it for good. Each event therefore records the id of
-- the transaction that wrote it (txid, pg_current_xact_id()), and the feed walks
-- (txid, id) but returns only events of transactions older than the reader's snapshot xmin —
-- all of them finished, so nothing can still appear behind the cursor. An event shows up in
-- the feed once every transaction that was running when it committed has finished (usually
-- milliseconds; a long import holds the feed back for as long as it runs).

-- A constant default first (no table rewrite; the events written before this migration read
-- as txid 0, i.e. before everything), then the real one for every new event.
alter table huying.events add column txid xid8 not null default '0';
alter table huying.events alter column txid set default pg_current_xact_id();
create index events_feed on huying.events (district_id, txid, id);

-- A department sees the events of its own supervision cases (as it sees the cases); the
-- rest of events_read is unchanged (0003).
drop policy events_read on huying.events;
create policy events_read on huying.events for select to huying_api
  using (district_id = (select auth.district())
         and (subject_type in ('item', 'unit', 'grid')
              or (select auth.role()) = 'district'
              or (subject_type = 'list_change' and exists (
                    select 1 from huying.list_changes c
                     where c.id = subject_id and c.submitted_by_unit_id = (select auth.unit())))
              or (subject_type = 'call' and exists (select 1 from huying.calls c where c.id = subject_id))
              or (subject_type = 'order' and exists (select 1 from huying.orders o where o.id = subject_id))
              or (subject_type = 'supervision' and exists (select 1 from huying.supervisions s where s.id = subject_id))));

-- One page of the feed: p_after is the cursor's keyset [txid as text, id] (or null: from the
-- beginning), p_types the event types wanted (null: all). The answer's next_cursor is always
-- there: after the last event returned, or — when the page is not full, so every finished
-- event has been read — at the horizon (the snapshot's xmin), so that a poller that sees
-- little of a busy district does not read the same invisible rows again on every poll.
create function api.event_feed(p_after jsonb, p_types text[], p_limit integer) returns jsonb
language plpgsql stable as $$
declare
  horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
  from_txid xid8;
  from_id bigint;
  page jsonb;
  n integer;
  last_txid xid8;
  last_id bigint;
begin
  if p_after is not null and not (jsonb_typeof(p_after) = 'array' and jsonb_array_length(p_after) = 2
                                  and coalesce(p_after ->> 0, '') ~ '^[0-9]{1,19}$'
                                  and coalesce(p_after ->> 1, '') ~ '^[0-9]{1,18}$') then
    raise exception using errcode = 'HY400', message = 'malformed cursor',
      detail = json_build_object('errors', json_build_array(json_build_object('field', 'after',
                 'message', 'is not a cursor this API returned')))::text;
  end if;
  from_txid := coalesce((p_after ->> 0)::xid8, '0');
  from_id := coalesce((p_after ->> 1)::bigint, 0);
  select coalesce(jsonb_agg(api.event_json(e) order by e.txid, e.id), '[]'), count(*),
         (array_agg(e.txid order by e.txid desc, e.id desc))[1], (array_agg(e.id order by e.txid desc, e.id desc))[1]
    into page, n, last_txid, last_id
    from (select * from huying.events x
           where x.district_id = auth.district() and (x.txid, x.id) > (from_txid, from_id) and x.txid < horizon
             and (p_types is null or x.type = any(p_types))
           order by x.txid, x.id limit p_limit) e;
  if n < p_limit and horizon > from_txid then
    -- every finished event after the cursor has been read: go on from the horizon
    last_txid := horizon;
    last_id := 0;
  elsif n = 0 then
    last_txid := from_txid;
    last_id := from_id;
  end if;
  return jsonb_build_object('data', page,
                            'next_cursor', api.cursor(jsonb_build_array(last_txid::text, last_id)));
end
$$;
grant execute on function api.event_feed(jsonb, text[], integer) to huying_api;
