import type { BarSource, PriceEvent } from '../contracts/price-event.ts';
import { MINUTE_MS } from '../contracts/time-format.ts';

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
  /** The published values, compared to tell a repeat from a correction. */
  values: BarValues;
}

export type Admission =
  | { verdict: 'publish'; event: PriceEvent; outOfOrder: boolean }
  | { verdict: 'duplicate' };

interface SymbolState {
  /** Newest minute with a record; revision-0 records are published in minute order up to it. */
  lastMinute: number | null;
  lastClose: number | null;
  minutes: Map<number, MinuteEntry>;
}

export interface LedgerOptions {
  /**
   * How many minutes of history to keep per symbol. The vendor corrects bars for about
   * 15 minutes; a generous window also absorbs replays after long reconnects.
   */
  retainMinutes?: number;
}

export function sameValues(a: BarValues, b: BarValues): boolean {
  return a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close
    && a.volume === b.volume && a.vwap === b.vwap;
}

export class BarLedger {
  readonly #symbols = new Map<string, SymbolState>();
  readonly #retainMs: number;

  constructor(options: LedgerOptions = {}) {
    this.#retainMs = (options.retainMinutes ?? 24 * 60) * MINUTE_MS;
  }

  /** Decides what a bar becomes, and records the decision so the next bar is judged against it. */
  admit(draft: Draft, source: BarSource): Admission {
    const state = this.#state(draft.symbol);
    const known = state.minutes.get(draft.startMs);
    if (known !== undefined) {
      if (sameValues(known.values, draft)) return { verdict: 'duplicate' };
      const event: PriceEvent = { ...draft, source, revision: known.revision + 1 };
      this.#remember(state, event);
      return { verdict: 'publish', event, outOfOrder: false };
    }
    const outOfOrder = state.lastMinute !== null && draft.startMs < state.lastMinute;
    if (outOfOrder && draft.startMs < state.lastMinute! - this.#retainMs) {
      // Older than anything we remember: we cannot tell a repeat from a new bar, and
      // consumers have long moved on. Treat it as a repeat rather than risk a duplicate.
      return { verdict: 'duplicate' };
    }
    const event: PriceEvent = { ...draft, source, revision: 0 };
    this.#remember(state, event);
    return { verdict: 'publish', event, outOfOrder };
  }

  /** Rebuilds state from a record consumers already have (resume from the topic's tail). */
  restore(event: PriceEvent): void {
    const state = this.#state(event.symbol);
    const known = state.minutes.get(event.startMs);
    if (known !== undefined && known.revision >= event.revision) return;
    this.#remember(state, event);
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
    return this.#symbols.get(symbol)?.minutes.get(minuteStartMs);
  }

  /**
   * Forgets a record that never reached Kafka (pushed out of a full buffer), so that the
   * next bar for its minute is published again: a revision 0 disappears (and with it the
   * minute), a later revision falls back to the one before, whose values we no longer hold.
   */
  forget(symbol: string, minuteStartMs: number, revision: number): void {
    const state = this.#symbols.get(symbol);
    const known = state?.minutes.get(minuteStartMs);
    if (state === undefined || known === undefined || known.revision !== revision) return;
    if (revision > 0) {
      const unknown = Number.NaN;
      state.minutes.set(minuteStartMs, { revision: revision - 1, source: known.source, values: { open: unknown, high: unknown, low: unknown, close: unknown, volume: unknown, vwap: unknown } });
      return;
    }
    state.minutes.delete(minuteStartMs);
    if (state.lastMinute === minuteStartMs) {
      let newest: number | null = null;
      for (const minute of state.minutes.keys()) if (newest === null || minute > newest) newest = minute;
      state.lastMinute = newest;
      state.lastClose = newest === null ? null : state.minutes.get(newest)!.values.close;
    }
  }

  #state(symbol: string): SymbolState {
    let state = this.#symbols.get(symbol);
    if (state === undefined) {
      state = { lastMinute: null, lastClose: null, minutes: new Map() };
      this.#symbols.set(symbol, state);
    }
    return state;
  }

  #remember(state: SymbolState, event: PriceEvent): void {
    const { open, high, low, close, volume, vwap } = event;
    state.minutes.set(event.startMs, { revision: event.revision, source: event.source, values: { open, high, low, close, volume, vwap } });
    if (state.lastMinute === null || event.startMs >= state.lastMinute) {
      state.lastMinute = event.startMs;
      state.lastClose = event.close;
      this.#prune(state);
    }
  }

  #prune(state: SymbolState): void {
    const horizon = state.lastMinute! - this.#retainMs;
    // Maps iterate in insertion order, and minutes are mostly inserted in order.
    for (const minute of state.minutes.keys()) {
      if (minute >= horizon) break;
      state.minutes.delete(minute);
    }
  }
}
