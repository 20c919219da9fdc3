import type { FillMode } from '../config/config.ts';
import type { BarSource, PriceEvent } from '../contracts/price-event.ts';
import { MINUTE_MS } from '../contracts/time-format.ts';
import type { Calendar } from './calendar.ts';
import type { BarLedger } from './ledger.ts';
import { filledDraft, type PriceEventDraft } from './normalize.ts';
import type { RouterEvent } from './router-events.ts';
import { firstUnprovenMinute, type GapProof } from './watermark.ts';

export { repeatDropReason } from './router-events.ts';

export interface BarRouterOptions {
  symbols: readonly string[];
  ledger: BarLedger;
  calendar: Calendar;
  fillMode: FillMode;
  /** Live bars held per symbol while it backfills; beyond it the oldest are let go (backfill has them). */
  maxHeldPerSymbol?: number;
  /**
   * Live bars held over all symbols. An outage holds every symbol at once, so the bound per
   * symbol alone lets 12,000 symbols hold 12,000 times as much; past this one the holding
   * symbol lets its oldest go (backfill has them) and says so (`held_let_go`).
   */
  maxHeldTotal?: number;
  /** A record consumers must get, in the order of calls. */
  publish(event: PriceEvent, receivedAt: number | null): void;
  /** What the router has to say (repeats dropped, bars too late, revisions): see router-events.ts. */
  report?(event: RouterEvent): void;
  /**
   * Live bars of `symbol` wait behind `minute`, which nothing has proven yet (the socket was
   * not watching it and no backfill has reached it): they need a backfill.
   */
  onUnproven?(symbol: string, minute: number): void;
}

interface HeldBar {
  draft: PriceEventDraft;
  receivedAt: number;
  /** First minute the session that delivered it watched (its proof for the minutes before it). */
  watchedFrom: number | null;
}

interface SymbolRoute {
  /** Live bars waiting for a backfill (or for proof), so the minutes before them go out first. */
  held: HeldBar[] | null;
  /** The settled watermark (see watermark.ts); null until the symbol has a record. */
  settled: number | null;
}

/** What the current socket session has shown it delivered (feed times). */
export interface SocketProof {
  /** Start of the newest minute any bar arrived for. */
  latestBarMinute: number | null;
  /** When the newest answered ping was sent; null when pongs prove nothing. */
  pingAnsweredAt: number | null;
}

/** The minutes a backfill asked REST about. */
export interface BackfillRange {
  /** Minutes after the watermark and before `from` are beyond MAX_BACKFILL_MINUTES: given up. */
  from: number;
  through: number;
  /** Up to here REST had surely caught up, so its silence means "no trades". */
  settledThrough: number;
}

type Candidate = (HeldBar & { source: 'live' }) | { draft: PriceEventDraft; source: 'backfill'; receivedAt: null; watchedFrom: null };

/**
 * Decides, per symbol, what goes to Kafka and in which order: live bars as they come,
 * backfilled bars ahead of the live ones that arrived meanwhile, and `filled` records for
 * minutes that closed without a bar. Everything passes the ledger, which assigns revisions
 * and drops identical repeats. A first record never skips a minute nothing has proven: a
 * bar behind such a minute is held until a backfill settles it. Pure: time and I/O come in
 * as arguments and callbacks.
 */
export class BarRouter {
  readonly #o: BarRouterOptions;
  readonly #routes = new Map<string, SymbolRoute>();
  /** First minute whose bar the current subscription is sure to see; null while it vouches for none. */
  #watchedFrom: number | null = null;
  /** Live bars held over all symbols. */
  #heldTotal = 0;

  constructor(options: BarRouterOptions) {
    this.#o = options;
    for (const symbol of options.symbols) this.#routes.set(symbol, { held: null, settled: null });
  }

  /** The current socket session delivers every minute from `firstMinute` on (null: none, or not subscribed). */
  watch(firstMinute: number | null): void {
    this.#watchedFrom = firstMinute;
  }

  get watchedFrom(): number | null {
    return this.#watchedFrom;
  }

  /** The symbol's settled watermark: every minute up to it is published or proven empty. */
  settledThrough(symbol: string): number | null {
    return this.#routes.get(symbol)?.settled ?? null;
  }

  /** Live bars held over all symbols, waiting for a backfill. */
  get heldBars(): number {
    return this.#heldTotal;
  }

  isHolding(symbol: string): boolean {
    return this.#routes.get(symbol)?.held != null;
  }

  /** A record consumers already have (the topic's tail at start): ledger and watermark learn it. */
  restore(event: PriceEvent): void {
    const route = this.#routes.get(event.symbol);
    if (route === undefined) return;
    this.#o.ledger.restore(event);
    if (route.settled === null || event.startMs > route.settled) route.settled = event.startMs;
  }

  /**
   * A record that never reached Kafka (pushed out of a full buffer): the ledger forgets it
   * and the watermark steps back before its minute, so the replay starts there.
   */
  forget(symbol: string, minuteMs: number, revision: number): void {
    const route = this.#routes.get(symbol);
    if (route === undefined) return;
    this.#o.ledger.forget(symbol, minuteMs, revision);
    if (revision === 0 && route.settled !== null && route.settled >= minuteMs) route.settled = minuteMs - MINUTE_MS;
  }

  /** A live bar from the socket. */
  acceptLive(draft: PriceEventDraft, receivedAt: number): void {
    const route = this.#routes.get(draft.symbol);
    if (route === undefined) return;
    if (route.held !== null) {
      route.held.push({ draft, receivedAt, watchedFrom: this.#watchedFrom });
      this.#heldTotal += 1;
      const max = this.#o.maxHeldPerSymbol ?? 10_000;
      if (route.held.length > max) this.#heldTotal -= route.held.splice(0, route.held.length - max).length;
      if (this.#heldTotal > (this.#o.maxHeldTotal ?? Number.POSITIVE_INFINITY) && route.held.length > 1) {
        const oldest = route.held.shift()!;
        this.#heldTotal -= 1;
        this.#o.report?.({ kind: 'held_let_go', symbol: draft.symbol, minuteMs: oldest.draft.startMs });
      }
      return;
    }
    // The common case, the minute right after the watermark (or a revision), needs no proof.
    if (route.settled !== null && draft.startMs > route.settled + MINUTE_MS) {
      const unproven = firstUnprovenMinute(route.settled, draft.startMs, { socketFrom: this.#watchedFrom, rest: null });
      if (unproven !== null) {
        route.held = [{ draft, receivedAt, watchedFrom: this.#watchedFrom }];
        this.#heldTotal += 1;
        this.#o.onUnproven?.(draft.symbol, unproven);
        return;
      }
    }
    this.#advance(route, draft, 'live', receivedAt);
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
   * live bars go out merged in minute order; the minutes between them that REST settled, or
   * that the socket session of the bar after them watched, are filled. A live bar behind a
   * minute that neither proves stays held, with the bars after it, and `onUnproven` asks for
   * the next backfill, which starts at the watermark. Without a range (the backfill failed)
   * nothing unproven is waited for: a hole stays a hole, and only socket-proven minutes fill.
   */
  release(symbol: string, backfill: readonly PriceEventDraft[], range: BackfillRange | null): void {
    const route = this.#routes.get(symbol);
    if (route === undefined) return;
    const held = route.held ?? [];
    route.held = null;
    this.#heldTotal -= held.length;
    // Beyond MAX_BACKFILL_MINUTES: those minutes are given up (the runner said so in the log).
    if (range !== null && route.settled !== null && range.from > route.settled + MINUTE_MS) route.settled = range.from - MINUTE_MS;
    const liveMinutes = new Set(held.map((h) => h.draft.startMs));
    const last = this.#o.ledger.lastMinute(symbol);
    // A REST bar for a minute already behind the symbol's last record may only confirm or
    // correct a record consumers have; a first record there would break minute order.
    const usable = backfill.filter(
      (d) => !liveMinutes.has(d.startMs) && (last === null || d.startMs > last || this.#o.ledger.entry(symbol, d.startMs) !== undefined),
    );
    const merged: Candidate[] = [
      ...usable.map((draft) => ({ draft, source: 'backfill' as const, receivedAt: null, watchedFrom: null })),
      ...held.map((h) => ({ ...h, source: 'live' as const })),
    ];
    // Stable sort: a live correction stays behind the bar it corrects.
    merged.sort((a, b) => a.draft.startMs - b.draft.startMs);
    const rest = range === null ? null : { from: range.from, settledThrough: range.settledThrough };
    for (let i = 0; i < merged.length; i += 1) {
      const candidate = merged[i]!;
      const proof: GapProof = { socketFrom: candidate.watchedFrom, rest };
      const unproven = firstUnprovenMinute(route.settled, candidate.draft.startMs, proof);
      if (unproven !== null) {
        if (range !== null) {
          route.held = merged
            .slice(i)
            .filter((c): c is Candidate & { source: 'live' } => c.source === 'live')
            .map(({ draft, receivedAt, watchedFrom }) => ({ draft, receivedAt, watchedFrom }));
          this.#heldTotal += route.held.length;
          this.#o.onUnproven?.(symbol, unproven);
          return;
        }
        // Given up: skip to the minutes the socket can vouch for.
        const vouched = Math.min(candidate.draft.startMs, candidate.watchedFrom ?? candidate.draft.startMs);
        route.settled = Math.max(route.settled!, vouched - MINUTE_MS);
      }
      this.#advance(route, candidate.draft, candidate.source, candidate.receivedAt);
    }
    if (range !== null && route.settled !== null && range.settledThrough > route.settled && route.settled + MINUTE_MS >= range.from) {
      this.#fillRange(symbol, route, route.settled + MINUTE_MS, range.settledThrough);
    }
  }

  /**
   * Fills minutes that closed without a bar, once `graceMs` has passed since their end (in
   * feed time) and the socket has proven it delivered everything of that minute: it sent a
   * bar of a later minute (the vendor sends minutes in order), or answered a ping sent after
   * the grace ran out (TCP keeps order). Only minutes the current subscription watched
   * count; a minute lost to a dead or stalled socket is left to backfill rather than filled.
   * `nowMs` is the feed's present; null (not known) fills nothing.
   */
  fillDue(nowMs: number | null, graceMs: number, proof: SocketProof): void {
    const watchedFrom = this.#watchedFrom;
    if (this.#o.fillMode === 'off' || watchedFrom === null || nowMs === null) return;
    const lastByTime = Math.floor((nowMs - graceMs) / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    const lastByBars = proof.latestBarMinute === null ? Number.NEGATIVE_INFINITY : proof.latestBarMinute - MINUTE_MS;
    const lastByPong =
      proof.pingAnsweredAt === null ? Number.NEGATIVE_INFINITY : Math.floor((proof.pingAnsweredAt - graceMs) / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    const through = Math.min(lastByTime, Math.max(lastByBars, lastByPong));
    for (const [symbol, route] of this.#routes) {
      if (route.held !== null || route.settled === null) continue;
      const from = route.settled + MINUTE_MS;
      // A gap before the watched minutes is backfill's to close, not ours to fill over.
      if (from < watchedFrom) continue;
      if (through >= from) this.#fillRange(symbol, route, from, through);
    }
  }

  /** Publishes a bar after filling the (proven) gap before it, and moves the watermark. */
  #advance(route: SymbolRoute, draft: PriceEventDraft, source: BarSource, receivedAt: number | null): void {
    if (route.settled !== null && draft.startMs > route.settled + MINUTE_MS)
      this.#fillRange(draft.symbol, route, route.settled + MINUTE_MS, draft.startMs - MINUTE_MS);
    if (this.#admit(draft, source, receivedAt) && (route.settled === null || draft.startMs > route.settled)) route.settled = draft.startMs;
  }

  /** Passes one bar through the ledger; false when it was too old to judge (and dropped). */
  #admit(draft: PriceEventDraft, source: BarSource, receivedAt: number | null): boolean {
    const admission = this.#o.ledger.admit(draft, source);
    if (admission.verdict === 'duplicate') {
      this.#o.report?.({ kind: 'repeat', symbol: draft.symbol, minuteMs: draft.startMs, source, repeats: admission.of });
      return true;
    }
    if (admission.verdict === 'too_late') {
      this.#o.report?.({ kind: 'too_late', symbol: draft.symbol, minuteMs: draft.startMs, source });
      return false;
    }
    const { event } = admission;
    if (admission.outOfOrder) this.#o.report?.({ kind: 'out_of_order', symbol: event.symbol, tsET: event.tsET });
    if (event.revision > 0) this.#o.report?.({ kind: 'revised', symbol: event.symbol, minuteMs: event.startMs, revision: event.revision });
    this.#o.publish(event, receivedAt);
    return true;
  }

  /**
   * Publishes `filled` records for the fillable minutes of [from, through] (all proven
   * empty) and moves the watermark past them: a minute outside the fill mode is settled
   * without a record.
   */
  #fillRange(symbol: string, route: SymbolRoute, from: number, through: number): void {
    if (this.#o.fillMode !== 'off') {
      for (let minute = from; minute <= through; minute += MINUTE_MS) {
        if (!this.#fillable(minute)) continue;
        const close = this.#o.ledger.lastClose(symbol);
        const last = this.#o.ledger.lastMinute(symbol);
        // Nothing to repeat yet, or the minute is already settled.
        if (close === null || (last !== null && minute <= last)) continue;
        this.#admit(filledDraft(symbol, minute, close, this.#o.calendar), 'filled', null);
      }
    }
    if (route.settled === null || through > route.settled) route.settled = through;
  }

  #fillable(minute: number): boolean {
    if (this.#o.fillMode === 'regular') return this.#o.calendar.barIdOf(minute) !== null;
    const session = this.#o.calendar.marketSessionOf(minute);
    return session !== 'closed';
  }
}
