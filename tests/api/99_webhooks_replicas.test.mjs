// Webhooks across replicas (issue 7; DESIGN §5 "Integration and bulk work"): three daemons
// deliver one outbox of 2,000 events (500 calls × 4 events) to one receiver on loopback, and
// one of them is killed (SIGKILL) in the middle of its attempts. Every event is delivered at
// least once, each call's events first arrive in order, every signature verifies, and the
// duplicates are no more than the deliveries the killed replica had in flight.
//
// The kill. Each deliverer thread makes one attempt at a time. Once the victim has done its
// share, the receiver holds every request it gets (stored, not answered); when 6 are held
// (3 replicas × 2 threads), every thread — the victim's two included — is in the middle of an
// attempt: the receiver then sends SIGKILL to the victim and answers the others. (Should 6
// not come together within half the attempt timeout, it answers those it holds and tries
// again.) The victim's two held requests are stored and never answered to it: they come again.
//
// How "in flight at the kill" is counted: a claim (api.webhook_claim) adds one to a
// delivery's `attempts` and leases it; the record of the attempt (api.webhook_done) adds a
// row to its log. Once everything is delivered and the survivors have stopped, every claim
// made by a live replica has been recorded, so Σ attempts − Σ log rows is exactly the number
// of claims never recorded: those the victim held when it died (the two open requests, the
// rest of their batches, a claim it had just sent). Only those can reach the receiver twice
// (the survivors take them again when their lease has run out). That number is at least the
// victim's open requests and at most what one replica holds at once (threads × batch), and
// every duplicate's event id must be one of them.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, test } from 'node:test';

import http from 'node:http';

import { freePort, post, psql, request, scratchDistrict, sleep, startDaemon, tokenFor } from './lib.mjs';
import { verifySignature } from '../webhook_receiver.mjs';

const CALLS = 500;
const PER_CALL = 4;
const EVENTS = CALLS * PER_CALL;
const THREADS = 2;
const BATCH = 10;
const TIMEOUT = 1000; // the lease is TIMEOUT + 5 s (server/deliverer.c)

let d; // the API daemon: it delivers nothing (HUYING_WEBHOOK_INTERVAL_MS=0)
let X;
let port; // the receiver's, allow-listed everywhere (the create endpoint checks it too)

// Whatever earlier files left to deliver (20_routes subscribes its district to
// https://hooks.example.com and leaves a delivery pending) is stopped before this file's
// deliverers start: they serve every district of the database, and must send nothing but to
// this file's receivers on loopback.
function stopForeignDeliveries() {
  psql(`update huying.webhooks set status = 'disabled', disabled_reason = 'stopped by a webhooks test file', updated_at = now()
         where status = 'active';
        update huying.webhook_deliveries set status = 'cancelled' where status = 'pending';`);
}

before(async () => {
  port = await freePort();
  stopForeignDeliveries();
  d = await startDaemon({ HUYING_SWEEP_INTERVAL_MS: 0, HUYING_RATE_LIMIT: 0, HUYING_WEBHOOK_INTERVAL_MS: 0,
    HUYING_WEBHOOK_ALLOW: `127.0.0.1:${port}` });
  X = scratchDistrict('WR');
});
after(async () => { await d.stop(); });

async function until(pred, limitMs, what) {
  const t0 = Date.now();
  for (;;) {
    if (await pred()) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) assert.fail(`not within ${limitMs} ms: ${what}`);
    await sleep(50);
  }
}
const metric = async (r, name) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec((await request(r, 'GET', '/metrics')).text)[1]);

// The receiver: verifies the signature (the reference receiver's verifySignature; 401 when it
// does not verify), stores the delivery (marked duplicate when its event id came before) and
// answers 200 — unless it holds requests: hold(n, then) makes it keep the requests that come
// until n are held, call then(), and answer them all; after holdMs without n it answers those
// it holds and waits for n again.
async function receiver(secret, holdMs) {
  const deliveries = [];
  const seen = new Set();
  let bad = 0;
  let held = [];
  let want = null; // {n, then}
  const answer = (res) => { if (!res.destroyed) res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'); };
  const release = () => {
    const h = held;
    held = [];
    for (const x of h) answer(x.res);
  };
  const watch = setInterval(() => {
    if (held.length && Date.now() - held[0].at > holdMs) release();
  }, 20);
  const srv = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const eventId = req.headers['huying-event-id'];
      if (!verifySignature(req.headers['huying-signature'], body, secret).ok || !eventId) {
        bad++;
        res.writeHead(401).end();
        return;
      }
      deliveries.push({ eventId, json: JSON.parse(body.toString('utf8')), duplicate: seen.has(eventId) });
      seen.add(eventId);
      if (!want) {
        answer(res);
        return;
      }
      held.push({ res, at: Date.now() });
      if (held.length === want.n) {
        const { then } = want;
        want = null;
        then(held.length);
        release();
      }
    });
  });
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${port}/`, deliveries, distinct: () => seen.size, bad: () => bad,
    hold: (n, then) => { want = { n, then }; },
    close: () => new Promise((r) => {
      clearInterval(watch);
      release();
      srv.close(() => r());
      srv.closeAllConnections();
    }),
  };
}

// CALLS calls of TS-NCS, inserted as the owner (no orders: no timers, no events); returns their ids.
function seedCalls(tag) {
  const claims = JSON.stringify({ sub: 'test:seed', role: 'district', unit_id: X.office, district: X.id });
  const out = psql(`
    select set_config('huying.claims', '${claims}', false) \\g /dev/null
    with c as (
      insert into huying.calls (district_id, number, township_id, title, urgency, source, status, created_by_unit, created_by_sub)
      select ${X.id}, 'WR-${tag}-' || g, ${X.unit('TS-NCS')}, 'Webhook 副本 ${tag} ' || g, 'normal', 'township', 'dispatched',
             ${X.unit('TS-NCS')}, 'test:seed'
        from generate_series(1, ${CALLS}) g returning id)
    select string_agg(id::text, ',' order by id) from c;`);
  return out.split(',').map(Number);
}

test(`three replicas, ${EVENTS} events, one replica killed (SIGKILL) mid-way: each delivered at least once, in order per call, duplicates ≤ the killed replica's deliveries in flight`, async () => {
  const secret = `whsec_${crypto.randomBytes(18).toString('hex')}`;
  const r = await receiver(secret, TIMEOUT / 2);
  const env = {
    HUYING_SWEEP_INTERVAL_MS: 0, HUYING_WEBHOOK_INTERVAL_MS: 20, HUYING_WEBHOOK_THREADS: THREADS,
    HUYING_WEBHOOK_BATCH: BATCH, HUYING_WEBHOOK_TIMEOUT_MS: TIMEOUT, HUYING_WEBHOOK_BACKOFF_MS: 100,
    HUYING_WEBHOOK_ALLOW: `127.0.0.1:${port}`,
  };
  const replicas = await Promise.all([1, 2, 3].map(() => startDaemon(env)));
  const [victim, ...survivors] = replicas;
  let hook = null;
  try {
    const h = await post(d, '/v1/webhooks', { url: r.url, secret, events: ['call.commented'] }, { token: tokenFor(d, X, 'district') });
    assert.equal(h.status, 201, h.text);
    hook = h.json.id;
    const calls = seedCalls(`${process.pid}`);
    // the events, written as the owner in one transaction: event k of every call before
    // event k+1 of any (so that each call's deliveries are spread over the run)
    const t0 = Date.now();
    psql(`insert into huying.events (district_id, subject_type, subject_id, type, actor_unit_id, actor_role, actor_sub, data)
          select ${X.id}, 'call', c, 'call.commented', ${X.unit('TS-NCS')}, 'township', 'test:seed', jsonb_build_object('seq', k)
            from generate_series(1, ${PER_CALL}) k, unnest('{${calls.join(',')}}'::bigint[]) c
           order by k, c`);
    const outbox = Number(psql(`select count(*) from huying.webhook_deliveries where webhook_id = ${hook}`));
    assert.equal(outbox, EVENTS, 'one delivery per event, written with it');
    const { distinct } = r;

    // mid-way: once the victim has done its share, the receiver holds requests until all six
    // threads are in an attempt, and kills the victim then
    await until(() => distinct() >= EVENTS * 0.3, 60000, `${EVENTS * 0.3} events delivered`);
    const victimAttempts = await metric(victim, 'huying_webhook_attempts_total');
    assert.ok(victimAttempts > 0, 'the victim was delivering');
    let killedOpen = 0;
    r.hold(3 * THREADS, (open) => {
      victim.proc.kill('SIGKILL');
      killedOpen = open;
    });
    await until(() => victim.exit, 30000, 'six requests held at once, and the victim killed');
    assert.equal(victim.exit.signal, 'SIGKILL');
    assert.equal(killedOpen, 3 * THREADS);
    const atKill = distinct();
    assert.ok(atKill < EVENTS * 0.9, `killed in the middle (${atKill} of ${EVENTS} delivered)`);
    // the survivors deliver the rest, the victim's leased ones once their lease ran out
    // (psql blocks this process, and the receiver in it: the database is asked only at the end)
    const waited = await until(() => distinct() === EVENTS, 90000, `all ${EVENTS} delivered`);
    await until(() => Number(psql(`select count(*) from huying.webhook_deliveries
        where webhook_id = ${hook} and status = 'delivered'`)) === EVENTS, 10000, `all ${EVENTS} recorded as delivered`);
    await sleep(300);
    const survivorAttempts = await Promise.all(survivors.map((s) => metric(s, 'huying_webhook_attempts_total')));
    for (const s of survivors) await s.stop();

    // at least once
    const ids = psql(`select event_uuid from huying.webhook_deliveries where webhook_id = ${hook}`).split('\n');
    assert.equal(ids.length, EVENTS);
    const got = new Set(r.deliveries.map((x) => x.eventId));
    assert.deepEqual(ids.filter((id) => !got.has(id)), [], 'every event delivered');
    assert.equal(got.size, EVENTS);
    assert.equal(r.bad(), 0, 'every signature verified');
    // in order per call: each call's events first arrived as 1, 2, 3, 4
    const firsts = new Map();
    for (const x of r.deliveries.filter((y) => !y.duplicate)) {
      const c = x.json.call.id;
      if (!firsts.has(c)) firsts.set(c, []);
      firsts.get(c).push(x.json.data.seq);
    }
    const outOfOrder = [...firsts].filter(([, s]) => s.join() !== '1,2,3,4');
    assert.deepEqual(outOfOrder.slice(0, 5), [], `${outOfOrder.length} calls' events arrived out of order`);
    assert.equal(firsts.size, CALLS);
    // duplicates ≤ the victim's deliveries in flight (claimed and never recorded)
    const [claimsMade, logged] = psql(`select sum(attempts), (select count(*) from huying.webhook_attempts a
        join huying.webhook_deliveries x on x.id = a.delivery_id where x.webhook_id = ${hook})
        from huying.webhook_deliveries where webhook_id = ${hook}`).split('|').map(Number);
    const inFlight = claimsMade - logged;
    const unrecorded = new Set(psql(`select event_uuid from huying.webhook_deliveries x where webhook_id = ${hook}
        and attempts > (select count(*) from huying.webhook_attempts a where a.delivery_id = x.id)`).split('\n').filter(Boolean));
    const dups = r.deliveries.filter((x) => x.duplicate);
    assert.ok(inFlight >= THREADS && inFlight <= THREADS * BATCH,
      `${inFlight} claims never recorded: at least the victim's ${THREADS} open requests, at most what one replica holds (${THREADS * BATCH})`);
    assert.ok(dups.length >= THREADS, `the victim's ${THREADS} open requests came again: ${dups.length} duplicates`);
    assert.ok(dups.length <= inFlight, `${dups.length} duplicates, ${inFlight} deliveries in flight at the kill`);
    assert.deepEqual(dups.map((x) => x.eventId).filter((id) => !unrecorded.has(id)), [], 'every duplicate was one the victim held');
    assert.equal(r.deliveries.length, EVENTS + dups.length);
    // the survivors shared the work
    assert.ok(survivorAttempts.every((n) => n > 0), `attempts per survivor: ${survivorAttempts}`);
    assert.equal(await metric(d, 'huying_webhook_attempts_total'), 0, 'HUYING_WEBHOOK_INTERVAL_MS=0: no deliverer');
    console.log(`${EVENTS} events: ${atKill} delivered at the kill (victim: ${victimAttempts} attempts), ${inFlight} in flight then, `
      + `${dups.length} duplicates; the rest in ${waited} ms (survivors: ${survivorAttempts}); ${Date.now() - t0} ms in all`);
  } finally {
    for (const s of replicas) if (!s.exit) s.proc.kill('SIGKILL');
    if (hook) {
      const del = await request(d, 'DELETE', `/v1/webhooks/${hook}`, { token: tokenFor(d, X, 'district') });
      assert.equal(del.status, 204, del.text);
    }
    await r.close();
  }
});
