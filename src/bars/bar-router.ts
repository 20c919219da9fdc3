import type { FillMode } from '../config/config.ts';
import type { BarSource, PriceEvent } from '../contracts/price-event.ts';
import { MINUTE_MS } from '../contracts/time-format.ts';
import type { Calendar } from './calendar.ts';
import type { BarLedger } from './ledger.ts';
import { filledDraft, type PriceEventDraft } from './normalize.ts';


export interface BarRouterOptions {
  symbols: readonly string[];
  ledger: BarLedger;
  calendar: Calendar;
  fillMode: FillMode;
  /** Live bars held per symbol while it backfills; beyond it the oldest are let go (backfill has them). */
  maxHeldPerSymbol?: number;
  /** A record consumers must get, in the order of calls. */
  publish(event: PriceEvent, receivedAt: number | null): void;
  /** A bar identical to what consumers already have, which came from `repeats`. */
  onDuplicate(event: PriceEventDraft, source: BarSource, repeats: BarSource): void;
  /** A first bar for a minute older than the ledger's window: not published (see BarLedger). */
  onTooLate?(event: PriceEventDraft, source: BarSource): void;
  onOutOfOrder?(event: PriceEvent): void;
}

/**
 * Why an identical bar was dropped, as the `events_dropped_total` reason. Only a live bar
 * repeating a live record is the vendor re-sending (`duplicate`). REST confirming a minute
 * (`backfill_unchanged`) and a live bar arriving after REST already delivered its minute
 * (`live_after_backfill`: REST and the socket race at every subscription) are the gateway's
 * own overlap, and counting them as vendor repeats would hide or fake a feed problem.
 */
export function repeatDropReason(source: BarSource, repeats: BarSource): 'duplicate' | 'backfill_unchanged' | 'live_after_backfill' {
  if (source === 'backfill') return 'backfill_unchanged';
  return repeats === 'backfill' ? 'live_after_backfill' : 'duplicate';
}

interface HeldBar {
  draft: PriceEventDraft;
  receivedAt: number;
}

interface SymbolRoute {
  /** Backfill in progress: live bars wait here so the missed minutes go out first. */
  held: HeldBar[] | null;
  /** Minutes before this are settled (published, filled or knowingly skipped). */
  fillCursor: number;
}

/** What the current socket session has shown it delivered (market times). */
export interface SocketProof {
  /** Start of the newest minute any bar arrived for. */
  latestBarMinute: number | null;
  /** When the newest answered ping was sent. */
  pingAnsweredAt: number | null;
}

/** The minutes a backfill asked REST about. */
export interface BackfillRange {
  from: number;
  through: number;
  /** Up to here REST had surely caught up, so its silence means "no trades". */
  settledThrough: number;
}

/**
 * Decides, per symbol, what goes to Kafka and in which order: live bars as they come,
 * backfilled bars ahead of the live ones that arrived meanwhile, and `filled` records for
 * minutes that closed without a bar. Everything passes the ledger, which assigns revisions
 * and drops identical repeats. Pure: time and I/O come in as arguments and callbacks.
 */
export class BarRouter {
  readonly #o: BarRouterOptions;
  readonly #routes = new Map<string, SymbolRoute>();
  /** First minute whose bar the current subscription is sure to see; null while not subscribed. */
  #watchedFrom: number | null = null;

  constructor(options: BarRouterOptions) {
    this.#o = options;
    for (const symbol of options.symbols) this.#routes.set(symbol, { held: null, fillCursor: Number.NEGATIVE_INFINITY });
  }

  /**
   * The socket is subscribed since `marketMs` (or not, with null). Only minutes whose bar
   * was due after that are the socket's to vouch for; earlier ones belong to backfill.
   */
  watching(marketMs: number | null): void {
    this.#watchedFrom = marketMs === null ? null : Math.ceil((marketMs - MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
  }

  get watchedFrom(): number | null {
    return this.#watchedFrom;
  }

  isHolding(symbol: string): boolean {
    return this.#routes.get(symbol)?.held != null;
  }

  /** A live bar from the socket. */
  acceptLive(draft: PriceEventDraft, receivedAt: number): void {
    const route = this.#routes.get(draft.symbol);
    if (route === undefined) return;
    if (route.held !== null) {
      route.held.push({ draft, receivedAt });
      const max = this.#o.maxHeldPerSymbol ?? 10_000;
      if (route.held.length > max) route.held.splice(0, route.held.length - max);
      return;
    }
    this.#admit(draft, 'live', receivedAt, this.#watchedFrom);
  }

  /** Starts holding live bars of these symbols until `release` brings their backfill. */
  hold(symbols: readonly string[]): void {
    for (const symbol of symbols) {
      const route = this.#routes.get(symbol);
      if (route !== undefined && route.held === null) route.held = [];
    }
  }

  /**
   * Ends a symbol's backfill. REST bars (for minutes no held live bar covers) and the held
   * live bars go out merged in minute order; gaps between them, and minutes of the range
   * that REST had settled without a bar, are filled (REST is the record of what traded).
   * Without a range (the backfill failed) nothing before the watched minutes is filled:
   * a hole stays a hole.
   */
  release(symbol: string, backfill: readonly PriceEventDraft[], range: BackfillRange | null): void {
    const route = this.#routes.get(symbol);
    if (route === undefined) return;
    const held = route.held ?? [];
    route.held = null;
    const liveMinutes = new Set(held.map((h) => h.draft.startMs));
    const last = this.#o.ledger.lastMinute(symbol);
    // A REST bar for a minute already behind the symbol's last record may only confirm or
    // correct a record consumers have; a first record there would break minute order.
    const usable = backfill.filter((d) => !liveMinutes.has(d.startMs) && (last === null || d.startMs > last || this.#o.ledger.entry(symbol, d.startMs) !== undefined));
    const merged: { draft: PriceEventDraft; source: BarSource; receivedAt: number | null }[] = [
      ...usable.map((draft) => ({ draft, source: 'backfill' as const, receivedAt: null })),
      ...held.map(({ draft, receivedAt }) => ({ draft, source: 'live' as const, receivedAt })),
    ];
    // Stable sort: a live correction stays behind the bar it corrects.
    merged.sort((a, b) => a.draft.startMs - b.draft.startMs);
    const fillFrom = range?.from ?? this.#watchedFrom;
    let filledTail = false;
    for (const { draft, source, receivedAt } of merged) {
      if (!filledTail && range !== null && draft.startMs > range.settledThrough) {
        this.#fillSettled(symbol, range);
        filledTail = true;
      }
      this.#admit(draft, source, receivedAt, fillFrom);
    }
    if (!filledTail && range !== null) this.#fillSettled(symbol, range);
  }

  /** Fills the minutes after the symbol's last record up to where REST had settled. */
  #fillSettled(symbol: string, range: BackfillRange): void {
    const last = this.#o.ledger.lastMinute(symbol);
    const from = Math.max(range.from, last === null ? range.from : last + MINUTE_MS);
    if (range.settledThrough >= from) this.#fillRange(symbol, from, range.settledThrough);
  }

  /**
   * Fills minutes that closed without a bar, once `graceMs` has passed since their end and
   * the socket has proven it delivered everything of that minute: it sent a bar of a later
   * minute (the vendor sends minutes in order), or answered a ping sent after the grace ran
   * out (TCP keeps order). Only minutes the current subscription watched count; a minute
   * lost to a dead or stalled socket is left to backfill rather than filled.
   */
  fillDue(nowMs: number, graceMs: number, proof: SocketProof): void {
    const watchedFrom = this.#watchedFrom;
    if (this.#o.fillMode === 'off' || watchedFrom === null) return;
    const lastByTime = Math.floor((nowMs - graceMs) / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    const lastByBars = proof.latestBarMinute === null ? Number.NEGATIVE_INFINITY : proof.latestBarMinute - MINUTE_MS;
    const lastByPong = proof.pingAnsweredAt === null ? Number.NEGATIVE_INFINITY : Math.floor((proof.pingAnsweredAt - graceMs) / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    const through = Math.min(lastByTime, Math.max(lastByBars, lastByPong));
    for (const [symbol, route] of this.#routes) {
      if (route.held !== null) continue;
      const last = this.#o.ledger.lastMinute(symbol);
      const from = Math.max(route.fillCursor, watchedFrom, last === null ? watchedFrom : last + MINUTE_MS);
      if (through >= from) this.#fillRange(symbol, from, through);
    }
  }

  /**
   * Passes one bar through the ledger. A later bar with nothing recorded for the minutes
   * before it means those minutes had no trades, but only from `fillFrom` on: before it the
   * gateway was not watching, and silence proves nothing.
   */
  #admit(draft: PriceEventDraft, source: BarSource, receivedAt: number | null, fillFrom: number | null): void {
    const last = this.#o.ledger.lastMinute(draft.symbol);
    if (fillFrom !== null && last !== null && draft.startMs > last + MINUTE_MS) {
      const from = Math.max(last + MINUTE_MS, fillFrom);
      if (draft.startMs - MINUTE_MS >= from) this.#fillRange(draft.symbol, from, draft.startMs - MINUTE_MS);
    }
    const admission = this.#o.ledger.admit(draft, source);
    if (admission.verdict === 'duplicate') {
      this.#o.onDuplicate(draft, source, admission.of);
      return;
    }
    if (admission.verdict === 'too_late') {
      this.#o.onTooLate?.(draft, source);
      return;
    }
    if (admission.outOfOrder) this.#o.onOutOfOrder?.(admission.event);
    this.#o.publish(admission.event, receivedAt);
  }

  /** Publishes `filled` records for the fillable minutes of [from, through] after the symbol's last. */
  #fillRange(symbol: string, from: number, through: number): void {
    const route = this.#routes.get(symbol)!;
    if (this.#o.fillMode !== 'off') {
      for (let minute = from; minute <= through; minute += MINUTE_MS) {
        if (!this.#fillable(minute)) continue;
        const close = this.#o.ledger.lastClose(symbol);
        const last = this.#o.ledger.lastMinute(symbol);
        // Nothing to repeat yet, or the minute is already settled.
        if (close === null || (last !== null && minute <= last)) continue;
        this.#admit(filledDraft(symbol, minute, close, this.#o.calendar), 'filled', null, null);
      }
    }
    route.fillCursor = Math.max(route.fillCursor, through + MINUTE_MS);
  }

  #fillable(minute: number): boolean {
    if (this.#o.fillMode === 'regular') return this.#o.calendar.barIdOf(minute) !== null;
    const session = this.#o.calendar.marketSessionOf(minute);
    return session !== 'closed';
  }
}
