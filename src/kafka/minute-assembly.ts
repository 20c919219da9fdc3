import type { GatewayRecord } from './gateway-records.ts';

/**
 * Whether the newest minute's live bars are all in: what the sink's linger waits for. The
 * vendor sends a minute's bars as several frames, often in separate socket reads a few ms
 * apart; sent as they come, the second frame went out as a second produce request (one
 * request is in flight at a time), and a consumer that had just fetched the first one
 * received the second ~9 ms later at the median. Sending the minute once every subscribed
 * symbol's first bar for it is queued, or when the linger runs out, makes it one request.
 * Pure: the sink tells it what joins the queue.
 */
export class MinuteAssembly {
  readonly #symbolCount: number;
  #minute = Number.NEGATIVE_INFINITY;
  /**
   * First live bars of the newest minute queued. Counted, not collected in a set of symbols
   * (at 12,000 symbols that set was 3% of the firehose profile): the ledger gives a (symbol,
   * minute) revision 0 once. Only a bar an overflow took back can come again, and counting
   * it twice can only end a linger early, which costs nothing but the wait.
   */
  #arrived = 0;
  /** True while the newest record queued is a live bar that more of its minute should follow. */
  #waiting = false;

  constructor(symbolCount: number) {
    this.#symbolCount = symbolCount;
  }

  /** A record joined the sink's queue. */
  joined(record: GatewayRecord): void {
    const { meta } = record;
    if (meta.kind !== 'bar' || meta.event.source !== 'live' || meta.event.revision !== 0) {
      // Nothing else comes in minute-sized groups: it need not wait.
      this.#waiting = false;
      return;
    }
    const { startMs } = meta.event;
    if (startMs > this.#minute) {
      this.#minute = startMs;
      this.#arrived = 0;
    }
    if (startMs === this.#minute) this.#arrived += 1;
    this.#waiting = this.#arrived < this.#symbolCount;
  }

  /** Nothing more to wait for: every subscribed symbol's bar of the newest minute is in (or the newest record is no live bar). */
  get complete(): boolean {
    return !this.#waiting;
  }
}
