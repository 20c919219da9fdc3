import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { barIdOf, createCalendar, defaultCalendar, lastBarId, marketSessionOf, nyDate, regularMinutes, sessionDay } from '../../src/bars/calendar.ts';
import { BUILTIN_TABLE_YEARS, NYSE_EARLY_CLOSES, NYSE_HOLIDAYS } from '../../src/bars/holidays.ts';
import { formatTsET } from '../../src/contracts/time-format.ts';
import { overridesFromUpcoming } from '../../src/feed/market-status.ts';

const MIN = 60_000;
const utc = (iso: string): number => {
  const ms = Date.parse(iso);
  assert.ok(Number.isFinite(ms), `bad test instant ${iso}`);
  return ms;
};

/** Independent reference: the New York wall clock of an instant, straight from Intl. */
const refFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/New_York',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
});
function nyWall(ms: number): { date: string; time: string } {
  const p = Object.fromEntries(refFormat.formatToParts(ms).map((x) => [x.type, x.value]));
  return { date: `${p['year']}-${p['month']}-${p['day']}`, time: `${p['hour']}:${p['minute']}` };
}

describe('nyDate', () => {
  it('turns at New York midnight, in winter and in summer', () => {
    assert.equal(nyDate(utc('2025-01-02T04:59:59.999Z')), '2025-01-01');
    assert.equal(nyDate(utc('2025-01-02T05:00:00Z')), '2025-01-02');
    assert.equal(nyDate(utc('2025-07-02T03:59:59.999Z')), '2025-07-01');
    assert.equal(nyDate(utc('2025-07-02T04:00:00Z')), '2025-07-02');
  });

  it('stays on the same date through the 02:00 switch hours', () => {
    assert.equal(nyDate(utc('2025-03-09T06:59:00Z')), '2025-03-09'); // 01:59 EST
    assert.equal(nyDate(utc('2025-03-09T07:00:00Z')), '2025-03-09'); // 03:00 EDT
    assert.equal(nyDate(utc('2025-03-10T03:59:00Z')), '2025-03-09'); // 23:59 EDT
    assert.equal(nyDate(utc('2025-03-10T04:00:00Z')), '2025-03-10');
    assert.equal(nyDate(utc('2025-11-02T05:30:00Z')), '2025-11-02'); // 01:30 EDT
    assert.equal(nyDate(utc('2025-11-02T06:30:00Z')), '2025-11-02'); // 01:30 EST
    assert.equal(nyDate(utc('2025-11-03T04:59:00Z')), '2025-11-02'); // 23:59 EST
    assert.equal(nyDate(utc('2025-11-03T05:00:00Z')), '2025-11-03');
  });

  it('agrees with Intl every 10 minutes from 2024-12-30 to 2028-01-02', () => {
    const end = utc('2028-01-02T00:00:00Z');
    let checked = 0;
    for (let t = utc('2024-12-30T00:00:00Z'); t < end; t += 10 * MIN) {
      const expected = nyWall(t).date;
      if (nyDate(t) !== expected) assert.fail(`nyDate(${new Date(t).toISOString()}) = ${nyDate(t)}, want ${expected}`);
      checked++;
    }
    assert.ok(checked > 150_000);
  });

  it('rejects a non-finite instant', () => {
    assert.throws(() => nyDate(Number.NaN), RangeError);
  });
});

describe('sessionDay', () => {
  it('gives the regular day in epoch ms (EST)', () => {
    const d = sessionDay('2026-01-14');
    assert.deepEqual(
      { ...d },
      {
        date: '2026-01-14',
        isTradingDay: true,
        preOpenMs: utc('2026-01-14T09:00:00Z'),
        openMs: utc('2026-01-14T14:30:00Z'),
        closeMs: utc('2026-01-14T21:00:00Z'),
        postCloseMs: utc('2026-01-15T01:00:00Z'),
        earlyClose: false,
        holiday: null,
      },
    );
  });

  it('gives the regular day in epoch ms (EDT), by date or by any instant of it', () => {
    const d = sessionDay('2025-07-15');
    assert.equal(d.preOpenMs, utc('2025-07-15T08:00:00Z'));
    assert.equal(d.openMs, utc('2025-07-15T13:30:00Z'));
    assert.equal(d.closeMs, utc('2025-07-15T20:00:00Z'));
    assert.equal(d.postCloseMs, utc('2025-07-16T00:00:00Z'));
    assert.equal(sessionDay(utc('2025-07-16T03:30:00Z')), d); // 23:30 New York, same cached object
    assert.equal(sessionDay(utc('2025-07-15T04:00:00Z')), d); // 00:00 New York
    assert.notEqual(sessionDay(utc('2025-07-15T03:59:00Z')).date, '2025-07-15');
  });

  it('marks weekends and holidays as closed, naming the holiday', () => {
    const sat = sessionDay('2025-03-08');
    assert.equal(sat.isTradingDay, false);
    assert.equal(sat.holiday, null);
    const mourning = sessionDay('2025-01-09');
    assert.equal(mourning.isTradingDay, false);
    assert.match(mourning.holiday ?? '', /Carter/);
    const thanksgiving = sessionDay('2026-11-26');
    assert.equal(thanksgiving.isTradingDay, false);
    assert.equal(thanksgiving.holiday, 'Thanksgiving Day');
  });

  it('closes at 13:00 on an early-close day, post-market until 17:00', () => {
    const d = sessionDay('2026-11-27');
    assert.equal(d.isTradingDay, true);
    assert.equal(d.earlyClose, true);
    assert.equal(d.closeMs, utc('2026-11-27T18:00:00Z'));
    assert.equal(d.postCloseMs, utc('2026-11-27T22:00:00Z'));
  });

  it('rejects malformed or impossible dates', () => {
    assert.throws(() => sessionDay('2025-02-30'), RangeError);
    assert.throws(() => sessionDay('2025-2-3'), RangeError);
    assert.throws(() => sessionDay('yesterday'), RangeError);
  });

  it('opens at 09:30 and closes at 16:00 New York wall time on every trading day of 2025-2027', () => {
    let tradingDays = 0;
    for (let t = utc('2025-01-01T12:00:00Z'); t < utc('2028-01-01T00:00:00Z'); t += 86_400_000) {
      const d = sessionDay(new Date(t).toISOString().slice(0, 10));
      if (!d.isTradingDay) continue;
      tradingDays++;
      assert.deepEqual(nyWall(d.preOpenMs), { date: d.date, time: '04:00' });
      assert.deepEqual(nyWall(d.openMs), { date: d.date, time: '09:30' });
      assert.deepEqual(nyWall(d.closeMs), { date: d.date, time: d.earlyClose ? '13:00' : '16:00' });
      assert.deepEqual(nyWall(d.postCloseMs), { date: d.date, time: d.earlyClose ? '17:00' : '20:00' });
    }
    // Each year has 261 weekdays; minus 11 weekday closures in 2025, 10 in 2026 and 2027.
    assert.equal(tradingDays, 250 + 251 + 251);
  });
});

describe('barIdOf and marketSessionOf across the DST changes', () => {
  const cases: [string, string, string][] = [
    // [label, New York date, 09:30 New York in UTC]
    ['Fri before 2025-03-09 (EST)', '2025-03-07', '2025-03-07T14:30:00Z'],
    ['Mon after 2025-03-09 (EDT)', '2025-03-10', '2025-03-10T13:30:00Z'],
    ['Fri before 2025-11-02 (EDT)', '2025-10-31', '2025-10-31T13:30:00Z'],
    ['Mon after 2025-11-02 (EST)', '2025-11-03', '2025-11-03T14:30:00Z'],
    ['Fri before 2026-03-08 (EST)', '2026-03-06', '2026-03-06T14:30:00Z'],
    ['Mon after 2026-03-08 (EDT)', '2026-03-09', '2026-03-09T13:30:00Z'],
    ['Fri before 2026-11-01 (EDT)', '2026-10-30', '2026-10-30T13:30:00Z'],
    ['Mon after 2026-11-01 (EST)', '2026-11-02', '2026-11-02T14:30:00Z'],
  ];
  for (const [label, date, openIso] of cases) {
    it(label, () => {
      const open = utc(openIso);
      assert.equal(sessionDay(date).openMs, open);
      assert.equal(nyDate(open), date);
      assert.equal(formatTsET(open), openIso);
      assert.equal(barIdOf(open), 1);
      assert.equal(barIdOf(open - MIN), null); // 09:29
      assert.equal(barIdOf(open + 389 * MIN), 390); // 15:59
      assert.equal(barIdOf(open + 390 * MIN), 391); // 16:00, the closing minute
      assert.equal(barIdOf(open + 391 * MIN), null); // 16:01
      assert.equal(lastBarId(date), 391);
      assert.equal(marketSessionOf(open - MIN), 'pre');
      assert.equal(marketSessionOf(open), 'regular');
      assert.equal(marketSessionOf(open + 390 * MIN + 59_999), 'regular');
      assert.equal(marketSessionOf(open + 391 * MIN), 'post');
    });
  }

  it('the weekend of a switch is closed all day', () => {
    for (let t = utc('2025-03-08T05:00:00Z'); t < utc('2025-03-10T04:00:00Z'); t += MIN) {
      if (barIdOf(t) !== null || marketSessionOf(t) !== 'closed') assert.fail(`open at ${new Date(t).toISOString()}`);
    }
    assert.equal(marketSessionOf(utc('2026-03-08T15:00:00Z')), 'closed');
  });
});

describe('barIdOf', () => {
  it('buckets an instant inside a minute to that minute', () => {
    assert.equal(barIdOf(utc('2026-01-14T14:30:59.999Z')), 1);
    assert.equal(barIdOf(utc('2026-01-14T14:31:00.001Z')), 2);
  });

  it('is null on weekends, holidays and for non-finite input', () => {
    assert.equal(barIdOf(utc('2026-01-17T15:00:00Z')), null); // Saturday
    assert.equal(barIdOf(utc('2026-01-18T15:00:00Z')), null); // Sunday
    assert.equal(barIdOf(utc('2026-11-26T15:00:00Z')), null); // Thanksgiving 2026, 10:00 ET
    assert.equal(barIdOf(utc('2025-01-09T14:30:00Z')), null); // Carter day of mourning, 09:30 ET
    assert.equal(barIdOf(utc('2025-07-04T13:30:00Z')), null);
    assert.equal(barIdOf(Number.NaN), null);
    assert.equal(barIdOf(Number.POSITIVE_INFINITY), null);
  });

  it('counts 211 minutes on an early-close day (2026-11-27, 13:00 close)', () => {
    assert.equal(barIdOf(utc('2026-11-27T14:30:00Z')), 1);
    assert.equal(barIdOf(utc('2026-11-27T17:59:00Z')), 210);
    assert.equal(barIdOf(utc('2026-11-27T18:00:00Z')), 211);
    assert.equal(barIdOf(utc('2026-11-27T18:01:00Z')), null);
    assert.equal(barIdOf(utc('2026-11-27T20:00:00Z')), null); // 15:00 ET: a normal day's bar 331
    assert.equal(lastBarId('2026-11-27'), 211);
    assert.equal(marketSessionOf(utc('2026-11-27T18:00:30Z')), 'regular');
    assert.equal(marketSessionOf(utc('2026-11-27T18:01:00Z')), 'post');
    assert.equal(marketSessionOf(utc('2026-11-27T21:59:00Z')), 'post');
    assert.equal(marketSessionOf(utc('2026-11-27T22:00:00Z')), 'closed');
  });

  it('counts 211 on the EDT early close of 2025-07-03', () => {
    assert.equal(barIdOf(utc('2025-07-03T17:00:00Z')), 211); // 13:00 EDT
    assert.equal(barIdOf(utc('2025-07-03T17:01:00Z')), null);
    assert.equal(lastBarId('2025-07-03'), 211);
  });
});

describe('marketSessionOf', () => {
  it('is pre from 04:00 to 09:29, post from 16:01 to 19:59, closed otherwise', () => {
    // 2026-01-14, EST: 04:00 ET = 09:00Z, 20:00 ET = 01:00Z next day.
    assert.equal(marketSessionOf(utc('2026-01-14T08:59:59.999Z')), 'closed');
    assert.equal(marketSessionOf(utc('2026-01-14T09:00:00Z')), 'pre');
    assert.equal(marketSessionOf(utc('2026-01-14T14:29:59.999Z')), 'pre');
    assert.equal(marketSessionOf(utc('2026-01-14T14:30:00Z')), 'regular');
    assert.equal(marketSessionOf(utc('2026-01-14T21:00:00Z')), 'regular');
    assert.equal(marketSessionOf(utc('2026-01-14T21:01:00Z')), 'post');
    assert.equal(marketSessionOf(utc('2026-01-15T00:59:59.999Z')), 'post');
    assert.equal(marketSessionOf(utc('2026-01-15T01:00:00Z')), 'closed');
  });

  it("says 'regular' exactly for the minutes that have a barId, all day long", () => {
    for (const date of ['2025-03-10', '2025-11-03', '2025-12-24', '2026-11-27', '2026-11-26', '2026-03-07']) {
      const day = sessionDay(date);
      for (let t = day.preOpenMs - 60 * MIN; t < day.postCloseMs + 60 * MIN; t += MIN) {
        const regular = barIdOf(t) !== null;
        const session = marketSessionOf(t);
        if (regular !== (session === 'regular')) assert.fail(`${date} ${new Date(t).toISOString()}: barId ${barIdOf(t)} but ${session}`);
      }
    }
  });

  it('is closed on holidays during would-be trading hours, and for non-finite input', () => {
    assert.equal(marketSessionOf(utc('2026-11-26T15:00:00Z')), 'closed');
    assert.equal(marketSessionOf(utc('2026-11-26T10:00:00Z')), 'closed'); // 05:00 ET
    assert.equal(marketSessionOf(utc('2025-01-09T18:00:00Z')), 'closed');
    assert.equal(marketSessionOf(Number.NaN), 'closed');
  });
});

describe('regularMinutes and lastBarId', () => {
  it('lists 391 minute starts from 09:30 to 16:00 with barIds 1..391', () => {
    const minutes = regularMinutes('2025-11-03');
    assert.equal(minutes.length, 391);
    assert.equal(minutes[0], utc('2025-11-03T14:30:00Z'));
    assert.equal(minutes[390], utc('2025-11-03T21:00:00Z'));
    minutes.forEach((t, i) => {
      if (barIdOf(t) !== i + 1) assert.fail(`minute ${i} has barId ${barIdOf(t)}`);
    });
  });

  it('lists 211 on early closes and none on closed days; lastBarId agrees', () => {
    assert.equal(regularMinutes('2025-11-28').length, 211);
    assert.deepEqual(regularMinutes('2025-11-27'), []);
    assert.deepEqual(regularMinutes('2025-11-29'), []);
    assert.equal(lastBarId('2025-11-28'), 211);
    assert.equal(lastBarId('2025-11-27'), 0);
    assert.equal(lastBarId('2025-11-29'), 0);
    assert.equal(lastBarId(utc('2025-11-28T15:00:00Z')), 211);
  });

  it('returns a fresh array each call', () => {
    const a = regularMinutes('2026-01-14');
    a.length = 0;
    assert.equal(regularMinutes('2026-01-14').length, 391);
  });
});

describe('built-in holiday table', () => {
  // An independent derivation of the regular NYSE holidays from their rules.
  const iso = (y: number, m: number, d: number): string => new Date(Date.UTC(y, m - 1, d)).toISOString().slice(0, 10);
  const dow = (y: number, m: number, d: number): number => new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  const nthWeekday = (y: number, m: number, weekday: number, n: number): string => {
    const first = dow(y, m, 1);
    return iso(y, m, 1 + ((weekday - first + 7) % 7) + 7 * (n - 1));
  };
  const lastWeekday = (y: number, m: number, weekday: number): string => {
    const lastDay = new Date(Date.UTC(y, m, 0)).getUTCDate();
    return iso(y, m, lastDay - ((dow(y, m, lastDay) - weekday + 7) % 7));
  };
  const easter = (y: number): [number, number] => {
    // Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    const a = y % 19,
      b = Math.floor(y / 100),
      c = y % 100,
      d = Math.floor(b / 4),
      e = b % 4;
    const f = Math.floor((b + 8) / 25),
      g = Math.floor((b - f + 1) / 3);
    const h = (19 * a + b - d - g + 15) % 30,
      i = Math.floor(c / 4),
      k = c % 4;
    const l = (32 + 2 * e + 2 * i - h - k) % 7,
      m = Math.floor((a + 11 * h + 22 * l) / 451);
    const month = Math.floor((h + l - 7 * m + 114) / 31);
    return [month, ((h + l - 7 * m + 114) % 31) + 1];
  };
  const observed = (y: number, m: number, d: number, saturdayToFriday = true): string | null => {
    const w = dow(y, m, d);
    if (w === 6) return saturdayToFriday ? iso(y, m, d - 1) : null;
    if (w === 0) return iso(y, m, d + 1);
    return iso(y, m, d);
  };
  function ruleHolidays(y: number): string[] {
    const [em, ed] = easter(y);
    const out = [
      observed(y, 1, 1, false), // Saturday New Year: not observed (Dec 31 ends the year)
      nthWeekday(y, 1, 1, 3),
      nthWeekday(y, 2, 1, 3),
      iso(y, em, ed - 2),
      lastWeekday(y, 5, 1),
      observed(y, 6, 19),
      observed(y, 7, 4),
      nthWeekday(y, 9, 1, 1),
      nthWeekday(y, 11, 4, 4),
      observed(y, 12, 25),
    ];
    return out.filter((x): x is string => x !== null);
  }
  function ruleEarlyCloses(y: number, holidays: Set<string>): string[] {
    const out = [iso(y, 11, 1 + ((4 - dow(y, 11, 1) + 7) % 7) + 22)]; // Friday after Thanksgiving
    for (const [m, d] of [
      [7, 3],
      [12, 24],
    ] as const) {
      const w = dow(y, m, d);
      if (w >= 1 && w <= 5 && !holidays.has(iso(y, m, d))) out.push(iso(y, m, d));
    }
    return out.sort();
  }

  it('matches the NYSE rules for 2025-2027, plus the 2025-01-09 closure', () => {
    assert.deepEqual([...BUILTIN_TABLE_YEARS], [2025, 2026, 2027]);
    const expected = ['2025-01-09', ...BUILTIN_TABLE_YEARS.flatMap(ruleHolidays)].sort();
    assert.deepEqual(Object.keys(NYSE_HOLIDAYS).sort(), expected);
    const holidaySet = new Set(expected);
    const expectedEarly = BUILTIN_TABLE_YEARS.flatMap((y) => ruleEarlyCloses(y, holidaySet)).sort();
    assert.deepEqual(Object.keys(NYSE_EARLY_CLOSES).sort(), expectedEarly);
    assert.ok(Object.values(NYSE_EARLY_CLOSES).every((t) => t === '13:00'));
  });

  it('has the published dates (spot checks, incl. observed days)', () => {
    for (const date of ['2025-04-18', '2026-04-03', '2027-03-26', '2026-07-03', '2027-06-18', '2027-07-05', '2027-12-24', '2025-06-19']) {
      assert.equal(sessionDay(date).isTradingDay, false, date);
      assert.equal(typeof sessionDay(date).holiday, 'string', date);
    }
    for (const date of ['2025-07-03', '2025-11-28', '2025-12-24', '2026-11-27', '2026-12-24', '2027-11-26']) {
      assert.equal(sessionDay(date).earlyClose, true, date);
    }
    // Days that look special but trade a full session.
    for (const date of ['2026-07-02', '2027-07-02', '2027-12-23', '2027-12-31', '2025-12-26', '2025-12-31']) {
      const d = sessionDay(date);
      assert.equal(d.isTradingDay, true, date);
      assert.equal(d.earlyClose, false, date);
      assert.equal(lastBarId(date), 391, date);
    }
  });
});

describe('createCalendar with run-time overrides', () => {
  it('adds holidays and early closes, leaving the default calendar alone', () => {
    const cal = createCalendar({ holidays: { '2028-01-17': 'Martin Luther King, Jr. Day' }, earlyCloses: { '2028-07-03': '13:00' } });
    assert.equal(cal.sessionDay('2028-01-17').isTradingDay, false);
    assert.equal(cal.barIdOf(utc('2028-01-17T14:30:00Z')), null);
    assert.equal(cal.lastBarId('2028-07-03'), 211);
    assert.equal(cal.barIdOf(utc('2028-07-03T17:00:00Z')), 211);
    assert.equal(defaultCalendar.sessionDay('2028-01-17').isTradingDay, true);
    assert.equal(barIdOf(utc('2028-01-17T14:30:00Z')), 1);
  });

  it('install() takes effect on already-cached days', () => {
    const cal = createCalendar();
    assert.equal(cal.lastBarId('2028-11-24'), 391);
    cal.install({ earlyCloses: { '2028-11-24': '13:00' } });
    assert.equal(cal.lastBarId('2028-11-24'), 211);
    assert.equal(cal.marketSessionOf(utc('2028-11-24T18:30:00Z')), 'post');
    cal.install({ holidays: { '2028-11-24': 'Unscheduled closure' } });
    assert.equal(cal.lastBarId('2028-11-24'), 0);
    assert.equal(cal.sessionDay('2028-11-24').holiday, 'Unscheduled closure');
    assert.equal(cal.sessionDay('2028-11-24').earlyClose, false);
  });

  it('an override wins over the built-in table for its date', () => {
    const cal = createCalendar({ earlyCloses: { '2026-11-26': '13:00' }, holidays: { '2026-11-27': 'test' } });
    assert.equal(cal.lastBarId('2026-11-26'), 211);
    assert.equal(cal.sessionDay('2026-11-26').holiday, null);
    assert.equal(cal.lastBarId('2026-11-27'), 0);
  });

  it('supports a non-13:00 early close', () => {
    const cal = createCalendar({ earlyCloses: { '2026-01-14': '14:00' } });
    assert.equal(cal.lastBarId('2026-01-14'), 271);
    assert.equal(cal.barIdOf(utc('2026-01-14T19:00:00Z')), 271);
    assert.equal(cal.barIdOf(utc('2026-01-14T19:01:00Z')), null);
  });

  it('rejects bad overrides without applying any of them', () => {
    const cal = createCalendar();
    assert.throws(() => cal.install({ earlyCloses: { '2026-01-14': '13:00', '2026-01-15': '1pm' } }), RangeError);
    assert.equal(cal.lastBarId('2026-01-14'), 391);
    assert.throws(() => cal.install({ earlyCloses: { '2026-01-14': '09:30' } }), RangeError);
    assert.throws(() => cal.install({ earlyCloses: { '2026-01-14': '16:01' } }), RangeError);
    assert.throws(() => cal.install({ earlyCloses: { '2026-01-14': '12:60' } }), RangeError);
    assert.throws(() => cal.install({ holidays: { '2026-13-01': 'x' } }), RangeError);
    assert.throws(() => createCalendar({ holidays: { 'Jan 19': 'x' } }), RangeError);
  });
});

describe('2026 checklist: holidays, an early close, both DST changes', () => {
  it('is closed all day on Thanksgiving (2026-11-26) and on the observed Independence Day (Fri 2026-07-03)', () => {
    for (const [date, name, open] of [
      ['2026-11-26', 'Thanksgiving Day', '2026-11-26T14:30:00Z'], // 09:30 EST
      ['2026-07-03', 'Independence Day (observed)', '2026-07-03T13:30:00Z'], // 09:30 EDT
    ] as const) {
      const day = sessionDay(date);
      assert.equal(day.isTradingDay, false, date);
      assert.equal(day.holiday, name, date);
      assert.equal(lastBarId(date), 0, date);
      assert.deepEqual(regularMinutes(date), [], date);
      for (let t = utc(open) - 330 * MIN; t < utc(open) + 630 * MIN; t += MIN) {
        if (barIdOf(t) !== null || marketSessionOf(t) !== 'closed') assert.fail(`${date} open at ${new Date(t).toISOString()}`);
      }
    }
    // Saturday 2026-07-04 itself is a plain weekend day; Thursday 2026-07-02 trades in full.
    assert.equal(sessionDay('2026-07-04').holiday, null);
    assert.equal(sessionDay('2026-07-04').isTradingDay, false);
    assert.equal(lastBarId('2026-07-02'), 391);
    assert.equal(barIdOf(utc('2026-07-02T20:00:00Z')), 391); // 16:00 EDT
  });

  it('closes at 13:00 on 2026-11-27: 13:00 is bar 211, 13:01 has none, post-market until 17:00', () => {
    const at = (hhmmEst: string): number => utc(`2026-11-27T${hhmmEst}:00-05:00`);
    assert.equal(barIdOf(at('09:30')), 1);
    assert.equal(barIdOf(at('13:00')), 211);
    assert.equal(barIdOf(at('13:01')), null);
    assert.equal(barIdOf(at('16:00')), null);
    assert.equal(lastBarId('2026-11-27'), 211);
    assert.equal(marketSessionOf(at('13:00')), 'regular');
    assert.equal(marketSessionOf(at('13:01')), 'post');
    assert.equal(marketSessionOf(at('16:59')), 'post');
    assert.equal(marketSessionOf(at('17:00')), 'closed');
    assert.equal(sessionDay('2026-11-27').postCloseMs, at('17:00'));
  });

  // [New York date, 09:30 there in UTC, 16:00 there in UTC]
  const dstCases: [string, string, string, string][] = [
    ['Friday before Sunday 2026-03-08 (EST)', '2026-03-06', '2026-03-06T14:30:00Z', '2026-03-06T21:00:00Z'],
    ['Monday after Sunday 2026-03-08 (EDT)', '2026-03-09', '2026-03-09T13:30:00Z', '2026-03-09T20:00:00Z'],
    ['Friday before Sunday 2026-11-01 (EDT)', '2026-10-30', '2026-10-30T13:30:00Z', '2026-10-30T20:00:00Z'],
    ['Monday after Sunday 2026-11-01 (EST)', '2026-11-02', '2026-11-02T14:30:00Z', '2026-11-02T21:00:00Z'],
  ];
  for (const [label, date, openIso, closeIso] of dstCases) {
    it(`${label}: 09:30 is bar 1 and 16:00 is bar 391 at the right UTC instants`, () => {
      const day = sessionDay(date);
      assert.equal(day.openMs, utc(openIso));
      assert.equal(day.closeMs, utc(closeIso));
      assert.deepEqual(nyWall(utc(openIso)), { date, time: '09:30' });
      assert.deepEqual(nyWall(utc(closeIso)), { date, time: '16:00' });
      assert.equal(barIdOf(utc(openIso)), 1);
      assert.equal(barIdOf(utc(closeIso)), 391);
      assert.equal(barIdOf(utc(closeIso) + MIN), null);
      assert.equal(regularMinutes(date).length, 391);
    });
  }

  it('install() of an early close learned from /v1/marketstatus/upcoming changes lastBarId for that day', () => {
    const cal = createCalendar();
    assert.equal(cal.lastBarId('2026-12-31'), 391);
    assert.equal(cal.lastBarId('2026-12-30'), 391);
    const learned = overridesFromUpcoming([
      {
        exchange: 'NYSE',
        name: "New Year's Eve",
        date: '2026-12-31',
        status: 'early-close',
        open: '2026-12-31T14:30:00.000Z',
        close: '2026-12-31T18:00:00.000Z',
      },
      {
        exchange: 'NASDAQ',
        name: 'Other exchange',
        date: '2026-12-30',
        status: 'early-close',
        open: '2026-12-30T14:30:00.000Z',
        close: '2026-12-30T18:00:00.000Z',
      },
    ]);
    assert.deepEqual(learned.earlyCloses, { '2026-12-31': '13:00' });
    cal.install(learned);
    assert.equal(cal.lastBarId('2026-12-31'), 211);
    assert.equal(cal.barIdOf(utc('2026-12-31T18:00:00Z')), 211);
    assert.equal(cal.barIdOf(utc('2026-12-31T18:01:00Z')), null);
    assert.equal(cal.marketSessionOf(utc('2026-12-31T21:59:00Z')), 'post'); // 16:59 EST
    assert.equal(cal.lastBarId('2026-12-30'), 391); // NASDAQ-only entries do not count
    assert.equal(defaultCalendar.lastBarId('2026-12-31'), 391); // other calendars untouched
  });
});

describe('performance', () => {
  it('makes no Intl call for a day it has already seen', () => {
    const proto = Intl.DateTimeFormat.prototype;
    // eslint-disable-next-line @typescript-eslint/unbound-method -- kept only to be put back on the prototype
    const original = proto.formatToParts;
    const day = sessionDay('2026-02-10');
    barIdOf(day.openMs);
    marketSessionOf(day.preOpenMs);
    marketSessionOf(day.postCloseMs - 1);
    let calls = 0;
    proto.formatToParts = function (this: Intl.DateTimeFormat, date?: Date | number) {
      calls++;
      return original.call(this, date);
    };
    try {
      for (let t = day.preOpenMs; t < day.postCloseMs; t += MIN) {
        barIdOf(t);
        marketSessionOf(t);
        nyDate(t);
      }
      assert.equal(calls, 0);
      barIdOf(utc('2031-05-05T15:00:00Z')); // an unseen day does call Intl: the spy works
      assert.ok(calls > 0);
    } finally {
      proto.formatToParts = original;
    }
  });
});
