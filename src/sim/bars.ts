/**
 * Deterministic market data for the simulator.
 *
 * Every bar is a pure function of (symbol, minute): the same inputs give the same bar in
 * every process, on every run, whatever was asked before. Tests therefore know exactly what
 * the simulator sent without listening to it, and a restarted gateway sees the same history
 * over REST as it saw on the socket.
 *
 * Prices follow `base * exp(beta * market(m) + own(m))`, where `m` is the minute index and
 * both terms are sums of slow sinusoids plus smoothed hash noise. That is a random-walk look
 * without any state: a minute's open is the path at `m`, its close the path at `m + 1`, so
 * consecutive bars join up. The leveraged pairs of the default universe get opposite betas,
 * so bull and bear legs move against each other as they do in the market.
 *
 * Day-level fields (`op`, `av`, `a`) use the UTC calendar day. `av` and `a` need a running
 * sum over the day's earlier minutes; that sum is memoised per (symbol, day, emptyRate), a
 * pure cache that never changes a result.
 */

import type { AggregateEvent, RestAggregate } from '../contracts/polygon-wire.ts';
import { MINUTE_MS, minuteStart } from '../contracts/time-format.ts';

const DAY_MS = 86_400_000;
const MINUTES_PER_DAY = DAY_MS / MINUTE_MS;
const SECOND_MS = 1000;

export interface SimBarOptions {
  /**
   * Share of minutes, in [0, 1], that have no trades and therefore no bar. Which minutes are
   * empty is decided by hash, so it is deterministic too. Default 0: a bar every minute, at
   * every hour of every day.
   */
  emptyRate?: number;
}

// ---------------------------------------------------------------------------------------
// Seeded hashing: the only source of "randomness".

/** 32-bit FNV-1a with a murmur3 finaliser, so near-identical strings scatter well. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Uniform in [0, 1), a pure function of its key. */
function unit(key: string): number {
  return hash32(key) / 4_294_967_296;
}

/** Smooth noise in [-1, 1]: hash values every `span` minutes, cosine-interpolated between. */
function smoothNoise(key: string, m: number, span: number): number {
  const k = Math.floor(m / span);
  const f = (m - k * span) / span;
  const a = unit(`${key}:n${span}:${k}`) * 2 - 1;
  const b = unit(`${key}:n${span}:${k + 1}`) * 2 - 1;
  const w = (1 - Math.cos(Math.PI * f)) / 2;
  return a + (b - a) * w;
}

// ---------------------------------------------------------------------------------------
// Per-symbol character.

interface SymbolProfile {
  base: number;
  /** Exposure to the common market factor; negative for inverse products. */
  beta: number;
  /** Typical shares per regular-session minute. */
  volume: number;
}

/** Rough levels of the default universe; the exact numbers only need to look plausible. */
const PROFILES: Record<string, SymbolProfile> = {
  TQQQ: { base: 62, beta: 3, volume: 90_000 },
  SQQQ: { base: 9.5, beta: -3, volume: 120_000 },
  TNA: { base: 38, beta: 3, volume: 25_000 },
  TZA: { base: 15, beta: -3, volume: 30_000 },
  UVXY: { base: 24, beta: -4, volume: 40_000 },
  SVIX: { base: 28, beta: 2, volume: 8_000 },
  SOXS: { base: 18, beta: -3, volume: 60_000 },
  SOXL: { base: 27, beta: 3, volume: 110_000 },
  SPXL: { base: 160, beta: 3, volume: 6_000 },
  SPXS: { base: 7.8, beta: -3, volume: 35_000 },
  FAS: { base: 140, beta: 3, volume: 3_000 },
  FAZ: { base: 6.2, beta: -3, volume: 12_000 },
};

const profileCache = new Map<string, SymbolProfile>();

function profile(symbol: string): SymbolProfile {
  const known = PROFILES[symbol];
  if (known) return known;
  let p = profileCache.get(symbol);
  if (!p) {
    p = {
      base: round2(5 + unit(`${symbol}:base`) * 195),
      beta: 0.5 + unit(`${symbol}:beta`) * 1.5,
      volume: Math.round(2_000 + unit(`${symbol}:vol`) * 20_000),
    };
    if (profileCache.size > 10_000) profileCache.clear();
    profileCache.set(symbol, p);
  }
  return p;
}

// ---------------------------------------------------------------------------------------
// The price path.

const TAU = Math.PI * 2;

/** Common market factor (log return scale), shared by every symbol. */
function marketFactor(m: number): number {
  return (
    0.0025 * Math.sin((TAU * m) / 390 + 0.3) +
    0.004 * Math.sin((TAU * m) / (MINUTES_PER_DAY * 5) + 1.1) +
    0.0008 * Math.sin((TAU * m) / 47 + 2.0) +
    0.0015 * smoothNoise('MKT', m, 23) +
    0.0006 * smoothNoise('MKT', m, 5)
  );
}

/** Symbol-specific component of the log price. */
function ownFactor(symbol: string, m: number): number {
  const phase = unit(`${symbol}:phase`) * TAU;
  return (
    0.003 * Math.sin((TAU * m) / 1013 + phase) +
    0.002 * smoothNoise(symbol, m, 31) +
    0.0008 * smoothNoise(symbol, m, 3) +
    0.0003 * (unit(`${symbol}:j:${m}`) * 2 - 1)
  );
}

/** The path value at the start of minute index `m`. */
function pathPrice(symbol: string, m: number): number {
  const p = profile(symbol);
  return p.base * Math.exp(p.beta * marketFactor(m) + ownFactor(symbol, m));
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Activity by UTC time of day: US regular hours are busy, extended hours thin, night quiet. */
function sessionFactor(minuteOfDay: number): number {
  // 13:30-20:00 UTC is the regular session in summer time, 14:30-21:00 in winter; one fixed
  // window is good enough for plausible volumes.
  if (minuteOfDay >= 13 * 60 + 30 && minuteOfDay < 20 * 60) return 1;
  if (minuteOfDay >= 8 * 60 && minuteOfDay < 24 * 60) return 0.12;
  return 0.03;
}

interface RawBar {
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  vw: number;
  /** Number of trades. */
  n: number;
}

/** The bar of minute index `m` without day-level fields; always exists. */
function rawMinute(symbol: string, m: number): RawBar {
  const p = profile(symbol);
  const o = round2(pathPrice(symbol, m));
  const c = round2(pathPrice(symbol, m + 1));
  const spread = Math.abs(c - o) + p.base * 0.0004 * (0.5 + unit(`${symbol}:sp:${m}`));
  let h = round2(Math.max(o, c) + spread * unit(`${symbol}:h:${m}`));
  let l = round2(Math.min(o, c) - spread * unit(`${symbol}:l:${m}`));
  h = Math.max(h, o, c);
  l = Math.max(0.01, Math.min(l, o, c));
  const minuteOfDay = ((m % MINUTES_PER_DAY) + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  // At least 100 shares, so every one-second slice of the minute gets a share or more.
  const v = Math.max(100, Math.round(p.volume * sessionFactor(minuteOfDay) * (0.4 + 1.2 * unit(`${symbol}:v:${m}`))));
  const avgTrade = 50 + unit(`${symbol}:ts:${m}`) * 200;
  const n = Math.max(1, Math.round(v / avgTrade));
  const mid = (o + c + h + l) / 4;
  const vw = round4(clamp(mid + (h - l) * 0.2 * (unit(`${symbol}:vw:${m}`) * 2 - 1), l, h));
  return { o, h, l, c, v, vw, n };
}

function minuteIndex(ms: number): number {
  return Math.floor(ms / MINUTE_MS);
}

function checkEmptyRate(emptyRate: number): number {
  if (!Number.isFinite(emptyRate) || emptyRate < 0 || emptyRate > 1) {
    throw new RangeError(`emptyRate must be within [0, 1], got ${String(emptyRate)}`);
  }
  return emptyRate;
}

/** True when the minute containing `minuteMs` has no trades for `symbol` at this rate. */
export function isSimMinuteEmpty(symbol: string, minuteMs: number, emptyRate = 0): boolean {
  if (checkEmptyRate(emptyRate) === 0) return false;
  return unit(`${symbol}:empty:${minuteIndex(minuteMs)}`) < emptyRate;
}

// ---------------------------------------------------------------------------------------
// Day accumulators (av, a), memoised per (symbol, UTC day, emptyRate).

interface DayTotals {
  /** cumV[i]: shares traded in minutes 0..i of the day (empty minutes add nothing). */
  cumV: Float64Array;
  /** cumPV[i]: sum of vw * v over minutes 0..i. */
  cumPV: Float64Array;
  /** Entries below this index are filled. */
  filled: number;
}

const dayCache = new Map<string, DayTotals>();
const DAY_CACHE_LIMIT = 512;

function dayTotals(symbol: string, dayIndex: number, emptyRate: number, upTo: number): DayTotals {
  const key = `${symbol}|${dayIndex}|${emptyRate}`;
  let t = dayCache.get(key);
  if (!t) {
    t = { cumV: new Float64Array(MINUTES_PER_DAY), cumPV: new Float64Array(MINUTES_PER_DAY), filled: 0 };
    if (dayCache.size >= DAY_CACHE_LIMIT) {
      const oldest = dayCache.keys().next().value;
      if (oldest !== undefined) dayCache.delete(oldest);
    }
    dayCache.set(key, t);
  }
  const first = dayIndex * MINUTES_PER_DAY;
  for (let i = t.filled; i <= upTo; i++) {
    const prevV = i > 0 ? (t.cumV[i - 1] ?? 0) : 0;
    const prevPV = i > 0 ? (t.cumPV[i - 1] ?? 0) : 0;
    const m = first + i;
    if (isSimMinuteEmpty(symbol, m * MINUTE_MS, emptyRate)) {
      t.cumV[i] = prevV;
      t.cumPV[i] = prevPV;
    } else {
      const r = rawMinute(symbol, m);
      t.cumV[i] = prevV + r.v;
      t.cumPV[i] = prevPV + r.vw * r.v;
    }
  }
  if (upTo + 1 > t.filled) t.filled = upTo + 1;
  return t;
}

/** Day's official open: the path at the first minute of the UTC day. */
function dayOpen(symbol: string, dayIndex: number): number {
  return round2(pathPrice(symbol, dayIndex * MINUTES_PER_DAY));
}

// ---------------------------------------------------------------------------------------
// Public bar functions.

/**
 * The `AM` event of `symbol` for the minute starting at `minuteStartMs` (aligned down to the
 * minute if it is not), or null when that minute is empty at `opts.emptyRate`.
 */
export function simMinuteBar(symbol: string, minuteStartMs: number, opts: SimBarOptions = {}): AggregateEvent | null {
  const emptyRate = checkEmptyRate(opts.emptyRate ?? 0);
  const s = minuteStart(minuteStartMs);
  if (isSimMinuteEmpty(symbol, s, emptyRate)) return null;
  const m = minuteIndex(s);
  const dayIndex = Math.floor(m / MINUTES_PER_DAY);
  const i = m - dayIndex * MINUTES_PER_DAY;
  const r = rawMinute(symbol, m);
  const t = dayTotals(symbol, dayIndex, emptyRate, i);
  const av = t.cumV[i] ?? r.v;
  const pv = t.cumPV[i] ?? r.vw * r.v;
  return {
    ev: 'AM',
    sym: symbol,
    v: r.v,
    av,
    op: dayOpen(symbol, dayIndex),
    vw: r.vw,
    o: r.o,
    h: r.h,
    l: r.l,
    c: r.c,
    a: round4(pv / av),
    z: Math.round(r.v / r.n),
    s,
    e: s + MINUTE_MS,
  };
}

/**
 * The `A` event of `symbol` for the second starting at `secondStartMs` (aligned down), or
 * null when its minute is empty. The 60 seconds of a minute chain from the minute's open to
 * its close, stay within its high and low, and their volumes add up to the minute's volume.
 */
export function simSecondBar(symbol: string, secondStartMs: number, opts: SimBarOptions = {}): AggregateEvent | null {
  const emptyRate = checkEmptyRate(opts.emptyRate ?? 0);
  const s = Math.floor(secondStartMs / SECOND_MS) * SECOND_MS;
  const minute = minuteStart(s);
  if (isSimMinuteEmpty(symbol, minute, emptyRate)) return null;
  const m = minuteIndex(minute);
  const k = (s - minute) / SECOND_MS;
  const r = rawMinute(symbol, m);
  const dayIndex = Math.floor(m / MINUTES_PER_DAY);
  const i = m - dayIndex * MINUTES_PER_DAY;

  // Brownian-bridge-like path through the minute: pinned to o at 0 and c at 60.
  const amp = (r.h - r.l) / 2;
  const at = (j: number): number =>
    round2(clamp(r.o + ((r.c - r.o) * j) / 60 + amp * Math.sin((Math.PI * j) / 60) * (unit(`${symbol}:sb:${m}:${j}`) * 2 - 1), r.l, r.h));
  const o = at(k);
  const c = at(k + 1);
  const h = Math.min(r.h, round2(Math.max(o, c) + 0.01 * Math.floor(unit(`${symbol}:sh:${m}:${k}`) * 2)));
  const l = Math.max(r.l, round2(Math.min(o, c) - 0.01 * Math.floor(unit(`${symbol}:sl:${m}:${k}`) * 2)));

  const cum = (j: number): number => Math.round((r.v * j) / 60);
  const v = cum(k + 1) - cum(k);
  const n = Math.max(1, Math.round((v * r.n) / r.v));
  const vw = round4(clamp((o + c) / 2, l, h));

  let beforeV = 0;
  let beforePV = 0;
  if (i > 0) {
    const t = dayTotals(symbol, dayIndex, emptyRate, i - 1);
    beforeV = t.cumV[i - 1] ?? 0;
    beforePV = t.cumPV[i - 1] ?? 0;
  }
  const av = beforeV + cum(k + 1);
  return {
    ev: 'A',
    sym: symbol,
    v,
    av,
    op: dayOpen(symbol, dayIndex),
    vw,
    o,
    h,
    l,
    c,
    a: round4((beforePV + r.vw * cum(k + 1)) / av),
    z: Math.round(v / n),
    s,
    e: s + SECOND_MS,
  };
}

/**
 * The values of the `n`-th vendor correction (n >= 1) of `bar`, as the vendor re-sends it
 * when late trades arrive: same bar start, more volume, a close moved by a few cents, high,
 * low and VWAPs updated to stay consistent. Pass the ORIGINAL bar: correction n is defined
 * relative to it, and the volume grows strictly with n, so every correction differs from the
 * original and from every other correction.
 */
export function simCorrectedBar(bar: AggregateEvent, n: number): AggregateEvent {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`correction number must be an integer >= 1, got ${n}`);
  const key = `${bar.sym}:${bar.s}:corr`;
  const step = Math.max(1, Math.round(bar.v * 0.02)) + 10;
  const extraV = n * step + Math.floor(unit(`${key}:${n}:v`) * 10);
  const cents = (1 + Math.floor(unit(`${key}:${n}:c`) * 3)) * (unit(`${key}:${n}:s`) < 0.5 ? -1 : 1);
  const c = Math.max(0.01, round2(bar.c + cents * 0.01));
  const h = Math.max(bar.h, c);
  const l = Math.min(bar.l, c);
  const v = bar.v + extraV;
  const vw = round4(clamp((bar.vw * bar.v + c * extraV) / v, l, h));
  const av = bar.av + extraV;
  const a = round4((bar.a * bar.av - bar.vw * bar.v + vw * v) / av);
  const trades = Math.max(1, Math.round(bar.v / Math.max(1, bar.z))) + Math.max(1, Math.round(extraV / Math.max(1, bar.z)));
  return { ...bar, c, h, l, v, vw, av, a, z: Math.round(v / trades) };
}

/** The REST (`/v2/aggs`) form of a bar. `n` (trade count) is derived from `v / z`. */
export function simRestAggregate(bar: AggregateEvent): RestAggregate {
  return {
    t: bar.s,
    o: bar.o,
    h: bar.h,
    l: bar.l,
    c: bar.c,
    v: bar.v,
    vw: bar.vw,
    n: Math.max(1, Math.round(bar.v / Math.max(1, bar.z))),
  };
}
