/**
 * The vendor's own record of each (symbol, minute) bar: whether it exists, whether it has
 * been published on the socket yet, whether a fault holds or suppresses it, and how many
 * corrections have gone out. The socket side asks it what to send; REST asks it what to
 * answer, so both always agree.
 *
 * Without faults nothing is stored: a bar is the pure `simMinuteBar` value, published when
 * its minute's emission has run. Only (symbol, minute) pairs touched by a fault get a record.
 */

import type { AggregateEvent } from '../contracts/polygon-wire.ts';
import { MINUTE_MS } from '../contracts/time-format.ts';
import { simCorrectedBar, simMinuteBar } from './bars.ts';

/** Symbol that stands for every symbol in `skip` (a minute in which nothing traded). */
export const ALL_SYMBOLS = '*';

/** Work that waits until a bar has been published once. */
export interface QueuedAction {
  kind: 'repeat' | 'correct';
  /** Sequence number of the fault log entry that asked for it. */
  seq: number;
}

interface Fate {
  skipped: boolean;
  /** Market instant a held bar is released; undefined when not held or already released. */
  heldUntil: number | undefined;
  released: boolean;
  corrections: number;
  queued: QueuedAction[];
}

export type BarState =
  /** The minute had no trades: there is no bar, ever. */
  | 'empty'
  /** A fault suppressed it: never sent, absent from REST. */
  | 'skipped'
  /** Its emission has not run yet. */
  | 'pending'
  /** Due, but a fault holds it until `heldUntil`. */
  | 'held'
  /** Sent (to whoever was subscribed at the time). */
  | 'published';

export interface BarLedgerOptions {
  emptyRate: number;
  /** Market delay between a minute's end and its bar going out. */
  barDelayMarketMs: number;
  /** The first minute whose emission the simulator will run; earlier ones count as history. */
  firstMinuteMs: number;
}

export interface BarLedger {
  readonly emptyRate: number;
  /** Market instant at which the bar of `minuteMs` is normally sent. */
  dueAt(minuteMs: number): number;
  /** The original (uncorrected) bar, or null when the minute is empty. */
  original(symbol: string, minuteMs: number): AggregateEvent | null;
  state(symbol: string, minuteMs: number): BarState;
  heldUntil(symbol: string, minuteMs: number): number | undefined;
  corrections(symbol: string, minuteMs: number): number;
  queuedActions(symbol: string, minuteMs: number): readonly QueuedAction[];
  /** The values the vendor currently stands by: original or latest correction sent. */
  current(symbol: string, minuteMs: number): AggregateEvent | null;
  /** Latest minute whose emission has run. */
  lastEmittedMinute(): number;
  markEmitted(minuteMs: number): void;
  /** Suppress a bar not yet published; false when too late (or nothing to suppress). */
  markSkipped(symbol: string, minuteMs: number): boolean;
  /** Hold a bar not yet published until `releaseAt`; false when too late or nothing to hold. */
  hold(symbol: string, minuteMs: number, releaseAt: number): boolean;
  /** Earliest held bar, for the agenda. */
  nextRelease(): { symbol: string; minuteMs: number; at: number } | undefined;
  markReleased(symbol: string, minuteMs: number): void;
  /** Count one more correction as sent; returns its number (1, 2, ...). */
  addCorrection(symbol: string, minuteMs: number): number;
  queue(symbol: string, minuteMs: number, action: QueuedAction): void;
  takeQueued(symbol: string, minuteMs: number): QueuedAction[];
  /** Symbols with a record for this minute (those that may have queued work). */
  symbolsWithFate(minuteMs: number): string[];
}

export function createBarLedger(opts: BarLedgerOptions): BarLedger {
  const fates = new Map<number, Map<string, Fate>>();
  let lastEmitted = opts.firstMinuteMs - MINUTE_MS;

  const find = (symbol: string, minuteMs: number): Fate | undefined => fates.get(minuteMs)?.get(symbol);
  const ensure = (symbol: string, minuteMs: number): Fate => {
    let byMinute = fates.get(minuteMs);
    if (!byMinute) {
      byMinute = new Map();
      fates.set(minuteMs, byMinute);
    }
    let fate = byMinute.get(symbol);
    if (!fate) {
      fate = { skipped: false, heldUntil: undefined, released: false, corrections: 0, queued: [] };
      byMinute.set(symbol, fate);
    }
    return fate;
  };
  const original = (symbol: string, minuteMs: number): AggregateEvent | null => simMinuteBar(symbol, minuteMs, { emptyRate: opts.emptyRate });

  const state = (symbol: string, minuteMs: number): BarState => {
    if (original(symbol, minuteMs) === null) return 'empty';
    const all = find(ALL_SYMBOLS, minuteMs);
    const fate = find(symbol, minuteMs);
    if (fate?.skipped || all?.skipped) return 'skipped';
    if (minuteMs > lastEmitted) return 'pending';
    if (fate?.heldUntil !== undefined) return 'held';
    return 'published';
  };

  return {
    emptyRate: opts.emptyRate,
    dueAt: (minuteMs) => minuteMs + MINUTE_MS + opts.barDelayMarketMs,
    original,
    state,
    heldUntil: (symbol, minuteMs) => find(symbol, minuteMs)?.heldUntil,
    corrections: (symbol, minuteMs) => find(symbol, minuteMs)?.corrections ?? 0,
    queuedActions: (symbol, minuteMs) => find(symbol, minuteMs)?.queued ?? [],
    current(symbol, minuteMs) {
      const s = state(symbol, minuteMs);
      if (s === 'empty' || s === 'skipped') return null;
      const bar = original(symbol, minuteMs);
      if (!bar) return null;
      const n = find(symbol, minuteMs)?.corrections ?? 0;
      return n > 0 ? simCorrectedBar(bar, n) : bar;
    },
    lastEmittedMinute: () => lastEmitted,
    markEmitted(minuteMs) {
      if (minuteMs > lastEmitted) lastEmitted = minuteMs;
    },
    markSkipped(symbol, minuteMs) {
      if (symbol !== ALL_SYMBOLS) {
        const s = state(symbol, minuteMs);
        if (s !== 'pending' && s !== 'held') return false;
      } else if (minuteMs <= lastEmitted) {
        return false;
      }
      const fate = ensure(symbol, minuteMs);
      fate.skipped = true;
      fate.heldUntil = undefined;
      fate.queued = [];
      return true;
    },
    hold(symbol, minuteMs, releaseAt) {
      const s = state(symbol, minuteMs);
      if (s !== 'pending' && s !== 'held') return false;
      ensure(symbol, minuteMs).heldUntil = releaseAt;
      return true;
    },
    nextRelease() {
      let best: { symbol: string; minuteMs: number; at: number } | undefined;
      for (const [minuteMs, byMinute] of fates) {
        // A held bar of a minute whose emission has not run yet is released no earlier
        // than that emission: a hold never makes a bar come out early.
        if (minuteMs > lastEmitted) continue;
        for (const [symbol, fate] of byMinute) {
          if (fate.heldUntil === undefined || fate.skipped) continue;
          if (!best || fate.heldUntil < best.at || (fate.heldUntil === best.at && minuteMs < best.minuteMs)) {
            best = { symbol, minuteMs, at: fate.heldUntil };
          }
        }
      }
      return best;
    },
    markReleased(symbol, minuteMs) {
      const fate = ensure(symbol, minuteMs);
      fate.heldUntil = undefined;
      fate.released = true;
    },
    addCorrection(symbol, minuteMs) {
      const fate = ensure(symbol, minuteMs);
      fate.corrections += 1;
      return fate.corrections;
    },
    queue(symbol, minuteMs, action) {
      ensure(symbol, minuteMs).queued.push(action);
    },
    takeQueued(symbol, minuteMs) {
      const fate = find(symbol, minuteMs);
      if (!fate) return [];
      const q = fate.queued;
      fate.queued = [];
      return q;
    },
    symbolsWithFate(minuteMs) {
      return [...(fates.get(minuteMs)?.keys() ?? [])].filter((s) => s !== ALL_SYMBOLS).sort();
    },
  };
}
