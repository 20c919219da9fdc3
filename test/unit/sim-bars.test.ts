import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';
import type { AggregateEvent } from '../../src/contracts/polygon-wire.ts';
import { MINUTE_MS } from '../../src/contracts/time-format.ts';
import { createSimClock, isSimMinuteEmpty, simCorrectedBar, simMinuteBar, simRestAggregate, simSecondBar } from '../../src/sim/index.ts';

const DAY = Date.UTC(2025, 5, 10); // a Tuesday, 00:00Z
const AT_1430 = DAY + (14 * 60 + 30) * MINUTE_MS;

function assertConsistent(bar: AggregateEvent, spanMs: number): void {
  const where = `${bar.sym}@${new Date(bar.s).toISOString()}`;
  assert.ok(bar.l <= bar.o && bar.o <= bar.h, `o within [l,h] ${where}`);
  assert.ok(bar.l <= bar.c && bar.c <= bar.h, `c within [l,h] ${where}`);
  assert.ok(bar.l > 0, `positive low ${where}`);
  assert.ok(bar.l <= bar.vw && bar.vw <= bar.h, `vw within [l,h] ${where}`);
  assert.ok(Number.isInteger(bar.v) && bar.v > 0, `integer volume > 0 ${where}`);
  assert.ok(Number.isInteger(bar.av) && bar.av >= bar.v, `av >= v ${where}`);
  assert.ok(Number.isInteger(bar.z) && bar.z > 0, `integer z > 0 ${where}`);
  assert.ok(bar.a > 0 && bar.op > 0, `a and op positive ${where}`);
  assert.equal(bar.e - bar.s, spanMs, `span ${where}`);
}

describe('simMinuteBar', () => {
  it('is a pure function of (symbol, minute)', () => {
    const a = simMinuteBar('TQQQ', AT_1430);
    // Ask other things in between: memoisation must not change any answer.
    for (let i = 0; i < 50; i++) simMinuteBar('SQQQ', AT_1430 + i * MINUTE_MS);
    simMinuteBar('TQQQ', AT_1430 + 100 * MINUTE_MS);
    const b = simMinuteBar('TQQQ', AT_1430);
    assert.deepEqual(a, b);
    assert.notDeepEqual(simMinuteBar('TQQQ', AT_1430), simMinuteBar('TQQQ', AT_1430 + MINUTE_MS));
    assert.notDeepEqual(simMinuteBar('TQQQ', AT_1430), { ...simMinuteBar('SQQQ', AT_1430), sym: 'TQQQ' });
  });

  it('has the AM shape with s at the minute start and e one minute later', () => {
    const bar = simMinuteBar('SOXL', AT_1430 + 12_345);
    assert.ok(bar);
    assert.equal(bar.ev, 'AM');
    assert.equal(bar.sym, 'SOXL');
    assert.equal(bar.s, AT_1430);
    assert.equal(bar.e, AT_1430 + MINUTE_MS);
    assert.deepEqual(Object.keys(bar).sort(), ['a', 'av', 'c', 'e', 'ev', 'h', 'l', 'o', 'op', 's', 'sym', 'v', 'vw', 'z']);
  });

  it('keeps o/h/l/c, vw and volumes consistent over two days for every default symbol', () => {
    for (const symbol of [...DEFAULT_SYMBOLS, 'ZZZZ']) {
      let prev: AggregateEvent | null = null;
      for (let m = 0; m < 2 * 1440; m += 7) {
        const bar = simMinuteBar(symbol, DAY + m * MINUTE_MS);
        assert.ok(bar, 'a bar every minute when emptyRate is 0');
        assertConsistent(bar, MINUTE_MS);
        if (prev && bar.s - prev.s < 86_400_000 && new Date(bar.s).getUTCDate() === new Date(prev.s).getUTCDate()) {
          assert.ok(bar.av > prev.av, 'av grows within the day');
          assert.equal(bar.op, prev.op, 'op is fixed for the day');
        }
        prev = bar;
      }
    }
  });

  it('joins consecutive minutes: close of one is the open of the next', () => {
    for (let m = 0; m < 200; m++) {
      const a = simMinuteBar('TNA', AT_1430 + m * MINUTE_MS);
      const b = simMinuteBar('TNA', AT_1430 + (m + 1) * MINUTE_MS);
      assert.ok(a && b);
      assert.equal(a.c, b.o);
    }
  });

  it('accumulates av and a from the day start', () => {
    let sumV = 0;
    let sumPV = 0;
    for (let m = 0; m < 300; m++) {
      const bar = simMinuteBar('FAS', DAY + m * MINUTE_MS);
      assert.ok(bar);
      sumV += bar.v;
      sumPV += bar.v * bar.vw;
      assert.equal(bar.av, sumV);
      assert.ok(Math.abs(bar.a - sumPV / sumV) < 1e-4);
      assert.equal(bar.op, simMinuteBar('FAS', DAY)!.o);
    }
  });

  it('moves inverse products against their bull twin', () => {
    const first = (s: string) => simMinuteBar(s, AT_1430)!.c;
    const moves = { up: 0, total: 0 };
    for (let m = 10; m < 1440; m += 10) {
      const bull = simMinuteBar('TQQQ', AT_1430 + m * MINUTE_MS)!.c / first('TQQQ');
      const bear = simMinuteBar('SQQQ', AT_1430 + m * MINUTE_MS)!.c / first('SQQQ');
      if (Math.abs(bull - 1) > 0.002) {
        moves.total++;
        if (Math.sign(bull - 1) !== Math.sign(bear - 1)) moves.up++;
      }
    }
    assert.ok(moves.total > 10 && moves.up / moves.total > 0.7, JSON.stringify(moves));
  });

  it('leaves about emptyRate of the minutes empty, deterministically', () => {
    let empty = 0;
    const n = 4000;
    for (let m = 0; m < n; m++) {
      const t = DAY + m * MINUTE_MS;
      const bar = simMinuteBar('UVXY', t, { emptyRate: 0.25 });
      assert.equal(bar === null, isSimMinuteEmpty('UVXY', t, 0.25));
      assert.deepEqual(bar, simMinuteBar('UVXY', t, { emptyRate: 0.25 }));
      if (bar === null) empty++;
      else assertConsistent(bar, MINUTE_MS);
      assert.notEqual(simMinuteBar('UVXY', t), null, 'rate 0: never empty');
    }
    assert.ok(empty / n > 0.22 && empty / n < 0.28, `empty share ${empty / n}`);
    assert.equal(simMinuteBar('UVXY', AT_1430, { emptyRate: 1 }), null);
    assert.throws(() => simMinuteBar('UVXY', AT_1430, { emptyRate: 1.5 }), RangeError);
  });

  it('does not count empty minutes in the day volume', () => {
    let sumV = 0;
    for (let m = 0; m < 200; m++) {
      const bar = simMinuteBar('SVIX', DAY + m * MINUTE_MS, { emptyRate: 0.3 });
      if (!bar) continue;
      sumV += bar.v;
      assert.equal(bar.av, sumV);
    }
  });
});

describe('simSecondBar', () => {
  it('slices a minute into 60 consistent one-second bars', () => {
    const minute = simMinuteBar('SPXL', AT_1430)!;
    let volume = 0;
    for (let k = 0; k < 60; k++) {
      const bar = simSecondBar('SPXL', AT_1430 + k * 1000);
      assert.ok(bar);
      assert.equal(bar.ev, 'A');
      assert.equal(bar.s, AT_1430 + k * 1000);
      assertConsistent(bar, 1000);
      assert.ok(bar.h <= minute.h && bar.l >= minute.l, 'inside the minute range');
      volume += bar.v;
      assert.deepEqual(bar, simSecondBar('SPXL', AT_1430 + k * 1000 + 400));
    }
    assert.equal(volume, minute.v);
    assert.equal(simSecondBar('SPXL', AT_1430)!.o, minute.o);
    assert.equal(simSecondBar('SPXL', AT_1430 + 59_000)!.c, minute.c);
    assert.equal(simSecondBar('SPXL', AT_1430 + 59_000)!.av, minute.av);
  });

  it('is null inside an empty minute', () => {
    let t = AT_1430;
    while (!isSimMinuteEmpty('FAZ', t, 0.5)) t += MINUTE_MS;
    assert.equal(simSecondBar('FAZ', t + 5000, { emptyRate: 0.5 }), null);
  });
});

describe('simCorrectedBar', () => {
  it('changes values deterministically and keeps them consistent', () => {
    for (let m = 0; m < 300; m++) {
      const bar = simMinuteBar('SOXS', AT_1430 + m * MINUTE_MS)!;
      const seen = new Set<string>([JSON.stringify(bar)]);
      let prevV = bar.v;
      for (let n = 1; n <= 4; n++) {
        const fixed = simCorrectedBar(bar, n);
        assert.deepEqual(fixed, simCorrectedBar(bar, n), 'deterministic');
        assertConsistent(fixed, MINUTE_MS);
        assert.equal(fixed.s, bar.s);
        assert.equal(fixed.sym, bar.sym);
        assert.equal(fixed.o, bar.o);
        assert.notEqual(fixed.c, bar.c, 'close moves');
        assert.ok(fixed.v > prevV, 'volume grows with each correction');
        assert.equal(fixed.av - bar.av, fixed.v - bar.v);
        prevV = fixed.v;
        const key = JSON.stringify(fixed);
        assert.ok(!seen.has(key), 'every correction differs');
        seen.add(key);
      }
    }
    assert.throws(() => simCorrectedBar(simMinuteBar('SOXS', AT_1430)!, 0), RangeError);
  });
});

describe('simRestAggregate', () => {
  it('maps an AM bar to the REST result shape', () => {
    const bar = simMinuteBar('TZA', AT_1430)!;
    const rest = simRestAggregate(bar);
    assert.deepEqual(Object.keys(rest).sort(), ['c', 'h', 'l', 'n', 'o', 't', 'v', 'vw']);
    assert.equal(rest.t, bar.s);
    assert.equal(rest.o, bar.o);
    assert.equal(rest.h, bar.h);
    assert.equal(rest.l, bar.l);
    assert.equal(rest.c, bar.c);
    assert.equal(rest.v, bar.v);
    assert.equal(rest.vw, bar.vw);
    assert.ok(Number.isInteger(rest.n) && rest.n! >= 1);
  });
});

describe('createSimClock', () => {
  it('runs 60000 / msPerMinute times faster than the wall source', () => {
    let wall = 1_000;
    const clock = createSimClock({ startMarketMs: AT_1430, msPerMinute: 200, wallNow: () => wall });
    assert.equal(clock.speed, 300);
    assert.equal(clock.now(), AT_1430);
    wall += 200;
    assert.equal(clock.now(), AT_1430 + MINUTE_MS);
    wall += 1;
    assert.equal(clock.now(), AT_1430 + MINUTE_MS + 300);
  });

  it('converts market instants to wall delays, never negative, rounded up', () => {
    let wall = 0;
    const clock = createSimClock({ startMarketMs: AT_1430, msPerMinute: 200, wallNow: () => wall });
    assert.equal(clock.wallDelayUntil(AT_1430 + MINUTE_MS), 200);
    assert.equal(clock.wallDelayUntil(AT_1430 + 2000), 7); // 6.67 wall ms, rounded up
    assert.equal(clock.wallDelayUntil(AT_1430 - 5000), 0);
    wall = 300;
    assert.equal(clock.wallDelayUntil(AT_1430 + MINUTE_MS), 0);
    assert.equal(clock.toWallMs(MINUTE_MS), 200);
  });

  it('defaults to real time and validates its options', () => {
    const clock = createSimClock();
    assert.equal(clock.msPerMinute, MINUTE_MS);
    assert.ok(Math.abs(clock.now() - Date.now()) < 1000);
    assert.throws(() => createSimClock({ msPerMinute: 0 }), RangeError);
    assert.throws(() => createSimClock({ startMarketMs: Number.NaN }), RangeError);
  });

  it('reads a monotonic source by default, so it advances with real time', async () => {
    const clock = createSimClock({ startMarketMs: AT_1430, msPerMinute: 60 });
    const before = clock.now();
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
    assert.ok(clock.now() >= before + 4_000, 'at 1000x, 5 wall ms are at least 4 market seconds');
  });
});
