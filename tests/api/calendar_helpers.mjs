// Working time counted in JavaScript, the way DESIGN §5 says, so that the API tests can
// compute the deadlines they expect independently of the SQL that computes them: Asia/Shanghai
// (UTC+8, no daylight saving); a day works when the calendar marks it a workday (调休), or it
// is Monday to Friday and not a holiday; office hours are the given segments.
//
//   const wt = workingTime({ holidays: ['2026-02-16'], workdays: ['2026-02-14'] });
//   wt.addDays(Date.parse('2026-03-02T09:00:00+08:00'), 3)   // Thursday 17:30, in ms
//   wt.addMinutes(t, 60)                                      // 60 minutes of office time
// A district without a calendar: workingTime() (weekends off, 08:30–12:00 and 13:30–17:30).
import fs from 'node:fs';
import path from 'node:path';

import { ROOT } from './lib.mjs';

const MIN = 60 * 1000;
const DAY = 24 * 60 * MIN;
const SHANGHAI = 8 * 60 * MIN;

export const DEFAULT_HOURS = [['08:30', '12:00'], ['13:30', '17:30']];

// The Asia/Shanghai date (YYYY-MM-DD) of an instant in ms.
export const dateOf = (ms) => new Date(ms + SHANGHAI).toISOString().slice(0, 10);
// The instant of a Shanghai date and HH:MM.
export const at = (date, hhmm) => Date.parse(`${date}T${hhmm}:00+08:00`);
const nextDate = (date) => new Date(Date.parse(`${date}T00:00:00Z`) + DAY).toISOString().slice(0, 10);

// The days of data/demo/calendar-2026.csv: {holidays, workdays} as date lists.
export function demoCalendar2026() {
  const lines = fs.readFileSync(path.join(ROOT, 'data/demo/calendar-2026.csv'), 'utf8').trim().split(/\r?\n/).slice(1);
  const days = lines.map((l) => l.split(','));
  return {
    holidays: days.filter((d) => d[1] === 'holiday').map((d) => d[0]),
    workdays: days.filter((d) => d[1] === 'workday').map((d) => d[0]),
  };
}

export function workingTime({ holidays = [], workdays = [], hours = DEFAULT_HOURS } = {}) {
  const hol = new Set(holidays);
  const wrk = new Set(workdays);
  const working = (date) => {
    if (wrk.has(date)) return true;
    if (hol.has(date)) return false;
    const dow = new Date(`${date}T00:00:00Z`).getUTCDay();
    return dow >= 1 && dow <= 5;
  };
  return {
    working,
    // The close of office hours on the n-th working day after t's date (t's day not counted).
    addDays(t, n) {
      let date = dateOf(t);
      for (let k = 0; k < n;) {
        date = nextDate(date);
        if (working(date)) k++;
      }
      return at(date, hours[hours.length - 1][1]);
    },
    // t plus n minutes of office time (a start outside office hours starts at the next opening).
    addMinutes(t, n) {
      if (n === 0) return t;
      let cur = t;
      let rem = n * MIN;
      for (let date = dateOf(t); ; date = nextDate(date)) {
        if (!working(date)) continue;
        for (const [o, c] of hours) {
          const s = at(date, o);
          const e = at(date, c);
          if (cur >= e) continue;
          if (cur < s) cur = s;
          if (e - cur >= rem) return cur + rem;
          rem -= e - cur;
          cur = e;
        }
      }
    },
  };
}
