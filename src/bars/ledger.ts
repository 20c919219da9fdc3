import { BAR_SOURCES, type BarSource, type PriceEvent } from '../contracts/price-event.ts';
import { MINUTE_MS } from '../contracts/time-format.ts';
import { CORRECTION_WINDOW_MINUTES } from './corrections.ts';

/**
 * The per-symbol ledger: what consumers have (or are about to have) for each recent minute.
 * Every price record passes through `admit`, which decides whether it is new (revision 0),
 * a changed re-send (next revision) or an identical repeat (dropped).
 */

type BarValues = Pick<PriceEvent, 'open' | 'high' | 'low' | 'close' | 'volume' | 'vwap'>;
type Draft = Omit<PriceEvent, 'revision' | 'source'>;

export interface MinuteEntry {
  revision: number;
  source: BarSource;
}

export type Admission =
  | { verdict: 'publish'; event: PriceEvent; outOfOrder: boolean }
  /** Identical to the record consumers have; `of` is where that record came from. */
  | { verdict: 'duplicate'; of: BarSource }
  /** A first bar for a minute older than the retained window: it can no longer be told from a repeat. */
  | { verdict: 'too_late' };

export interface LedgerOptions {
  /**
   * How many minutes of history to keep per symbol, behind its newest minute. The vendor
   * corrects bars for about 15 minutes; the gateway keeps twice that.
   */
  retainMinutes?: number;
}

/** Twice the window in which the vendor corrects bars. */
export const DEFAULT_RETAIN_MINUTES = 2 * CORRECTION_WINDOW_MINUTES;

/**
 * A 64-bit fingerprint of a bar's six values, as two 32-bit words (murmur3's mixing with two
 * seeds over the values' IEEE-754 bits). The ledger keeps this instead of the values: at full
 * market scale it holds 12,000 symbols x 31 minutes, and the values themselves (as objects in
 * Maps, or even as raw doubles) were most of the gateway's memory. A correction is mistaken
 * for a repeat only if its fingerprint collides with the one before (odds about 2^-64 per
 * correction), and the close, which filled minutes repeat, is kept exactly as well.
 */
const scratch = new Float64Array(6);
const scratchWords = new Uint32Array(scratch.buffer);
const fingerprint = new Uint32Array(2);

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number): number {
  h ^= 48;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Fills `fingerprint` for the values. -0 counts as 0, as it does for ===. */
function fingerprintOf(v: BarValues): Uint32Array {
  scratch[0] = v.open + 0;
  scratch[1] = v.high + 0;
  scratch[2] = v.low + 0;
  scratch[3] = v.close + 0;
  scratch[4] = v.volume + 0;
  scratch[5] = v.vwap === null ? Number.NEGATIVE_INFINITY : v.vwap + 0;
  let a = 0x9747b28c;
  let b = 0x5bd1e995;
  for (let i = 0; i < 12; i += 1) {
    a = mix(a, scratchWords[i]!);
    b = mix(b, scratchWords[i]!);
  }
  fingerprint[0] = finish(a);
  fingerprint[1] = finish(b);
  return fingerprint;
}

/** Per slot: minute number (+1, so 0 is empty), revision, source and flags, fingerprint (2 words). */
const MINUTE = 0;
const META = 1;
const PRINT_A = 2;
const PRINT_B = 3;
const STRIDE = 4;
/** Meta = revision << 3 | unknown flag << 2 | source. */
const UNKNOWN_VALUES = 4;

/**
 * One symbol's recent minutes in a ring indexed by minute number, so keeping, finding and
 * forgetting a minute are O(1) and a symbol's memory is fixed (24 bytes a minute) once it
 * is first seen.
 */
class SymbolRing {
  /** Newest minute with a record; revision-0 records are published in minute order up to it. */
  lastMinute: number | null = null;
  lastClose: number | null = null;
  readonly #slots: Int32Array;
  readonly #closes: Float64Array;
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
    this.#slots = new Int32Array(capacity * STRIDE);
    this.#closes = new Float64Array(capacity);
  }

  /** Slot index of the minute when it holds that minute, else -1. */
  find(minuteStartMs: number): number {
    const minute = minuteStartMs / MINUTE_MS;
    const slot = minute % this.#capacity;
    return this.#slots[slot * STRIDE + MINUTE] === minute + 1 ? slot : -1;
  }

  revisionAt(slot: number): number {
    return this.#slots[slot * STRIDE + META]! >>> 3;
  }

  sourceAt(slot: number): BarSource {
    return BAR_SOURCES[this.#slots[slot * STRIDE + META]! & 3]!;
  }

  closeAt(slot: number): number {
    return this.#closes[slot]!;
  }

  sameValuesAt(slot: number, v: BarValues): boolean {
    const at = slot * STRIDE;
    if ((this.#slots[at + META]! & UNKNOWN_VALUES) !== 0 || this.#closes[slot] !== v.close) return false;
    const print = fingerprintOf(v);
    return this.#slots[at + PRINT_A] === (print[0]! | 0) && this.#slots[at + PRINT_B] === (print[1]! | 0);
  }

  /** Stores a record in its minute's slot, replacing whatever older minute shared it. */
  store(minuteStartMs: number, revision: number, source: BarSource, v: BarValues): void {
    const minute = minuteStartMs / MINUTE_MS;
    const slot = minute % this.#capacity;
    const at = slot * STRIDE;
    const print = fingerprintOf(v);
    this.#slots[at + MINUTE] = minute + 1;
    this.#slots[at + META] = (revision << 3) | BAR_SOURCES.indexOf(source);
    this.#slots[at + PRINT_A] = print[0]!;
    this.#slots[at + PRINT_B] = print[1]!;
    this.#closes[slot] = v.close;
  }

  /** Steps a slot back to the revision before, whose values we never kept: the next bar is not a repeat. */
  stepBack(slot: number): void {
    const at = slot * STRIDE;
    const meta = this.#slots[at + META]!;
    this.#slots[at + META] = (((meta >>> 3) - 1) << 3) | UNKNOWN_VALUES | (meta & 3);
  }

  clear(slot: number): void {
    this.#slots[slot * STRIDE + MINUTE] = 0;
  }

  /** Minute starts held, newest first. */
  minutes(): number[] {
    const held: number[] = [];
    for (let at = 0; at < this.#slots.length; at += STRIDE) if (this.#slots[at + MINUTE] !== 0) held.push((this.#slots[at + MINUTE]! - 1) * MINUTE_MS);
    return held.sort((a, b) => b - a);
  }
}

export class BarLedger {
  readonly #symbols = new Map<string, SymbolRing>();
  readonly #retainMs: number;
  /** The newest minute and `retainMinutes` before it. */
  readonly #capacity: number;

  constructor(options: LedgerOptions = {}) {
    const retainMinutes = options.retainMinutes ?? DEFAULT_RETAIN_MINUTES;
    if (!Number.isInteger(retainMinutes) || retainMinutes < 1) throw new RangeError(`retainMinutes must be a positive integer, got ${retainMinutes}`);
    this.#retainMs = retainMinutes * MINUTE_MS;
    this.#capacity = retainMinutes + 1;
  }

  /** Decides what a bar becomes, and records the decision so the next bar is judged against it. */
  admit(draft: Draft, source: BarSource): Admission {
    const ring = this.#ring(draft.symbol);
    const at = this.#find(ring, draft.startMs);
    if (at >= 0) {
      if (ring.sameValuesAt(at, draft)) return { verdict: 'duplicate', of: ring.sourceAt(at) };
      const event: PriceEvent = { ...draft, source, revision: ring.revisionAt(at) + 1 };
      this.#remember(ring, event);
      return { verdict: 'publish', event, outOfOrder: false };
    }
    const outOfOrder = ring.lastMinute !== null && draft.startMs < ring.lastMinute;
    // Older than anything we remember: we cannot tell a repeat from a new bar, and consumers
    // have long moved on. Refuse it rather than risk a duplicate.
    if (outOfOrder && this.#beyondWindow(ring, draft.startMs)) return { verdict: 'too_late' };
    const event: PriceEvent = { ...draft, source, revision: 0 };
    this.#remember(ring, event);
    return { verdict: 'publish', event, outOfOrder };
  }

  /** Rebuilds state from a record consumers already have (resume from the topic's tail). */
  restore(event: PriceEvent): void {
    const ring = this.#ring(event.symbol);
    const at = this.#find(ring, event.startMs);
    if (at >= 0 && ring.revisionAt(at) >= event.revision) return;
    if (at < 0 && this.#beyondWindow(ring, event.startMs)) return;
    this.#remember(ring, event);
  }

  /** Newest minute start with a record for the symbol, or null. */
  lastMinute(symbol: string): number | null {
    return this.#symbols.get(symbol)?.lastMinute ?? null;
  }

  /** Close of the newest minute with a record (what a filled minute repeats), or null. */
  lastClose(symbol: string): number | null {
    return this.#symbols.get(symbol)?.lastClose ?? null;
  }

  entry(symbol: string, minuteStartMs: number): MinuteEntry | undefined {
    const ring = this.#symbols.get(symbol);
    if (ring === undefined) return undefined;
    const at = this.#find(ring, minuteStartMs);
    if (at < 0) return undefined;
    return { revision: ring.revisionAt(at), source: ring.sourceAt(at) };
  }

  /**
   * Forgets a record that never reached Kafka (pushed out of a full buffer), so that the
   * next bar for its minute is published again: a revision 0 disappears (and with it the
   * minute), a later revision falls back to the one before, whose values we no longer hold.
   */
  forget(symbol: string, minuteStartMs: number, revision: number): void {
    const ring = this.#symbols.get(symbol);
    if (ring === undefined) return;
    const at = this.#find(ring, minuteStartMs);
    if (at < 0 || ring.revisionAt(at) !== revision) return;
    if (revision > 0) {
      ring.stepBack(at);
      return;
    }
    ring.clear(at);
    if (ring.lastMinute === minuteStartMs) {
      const newest = ring.minutes().find((minute) => !this.#beyondWindow(ring, minute)) ?? null;
      ring.lastMinute = newest;
      ring.lastClose = newest === null ? null : ring.closeAt(ring.find(newest));
    }
  }

  #ring(symbol: string): SymbolRing {
    let ring = this.#symbols.get(symbol);
    if (ring === undefined) {
      ring = new SymbolRing(this.#capacity);
      this.#symbols.set(symbol, ring);
    }
    return ring;
  }

  /** The minute's slot, when it holds that minute and the minute is still within the window. */
  #find(ring: SymbolRing, minuteStartMs: number): number {
    const at = ring.find(minuteStartMs);
    return at >= 0 && !this.#beyondWindow(ring, minuteStartMs) ? at : -1;
  }

  #beyondWindow(ring: SymbolRing, minuteStartMs: number): boolean {
    return ring.lastMinute !== null && minuteStartMs < ring.lastMinute - this.#retainMs;
  }

  #remember(ring: SymbolRing, event: PriceEvent): void {
    ring.store(event.startMs, event.revision, event.source, event);
    if (ring.lastMinute === null || event.startMs >= ring.lastMinute) {
      ring.lastMinute = event.startMs;
      ring.lastClose = event.close;
    }
  }
}
