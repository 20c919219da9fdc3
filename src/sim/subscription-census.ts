import { MINUTE_MS } from '../contracts/time-format.ts';

/** How many connections were subscribed at once during one market minute (at most). */
export interface MinuteCensus {
  minuteMs: number;
  connections: number;
}

/** A stretch during which more than one connection was subscribed. */
export interface Overlap {
  /** Market instant it began. */
  fromMarketMs: number;
  /** Wall ms it lasted (still open: until now). */
  wallMs: number;
  /** Most connections subscribed at once during it. */
  connections: number;
}

interface Change {
  marketMs: number;
  wallMs: number;
  connections: number;
}

/**
 * Counts, per market minute, how many connections were subscribed at once, and each stretch
 * with more than one: an account has one slot, so a test can prove two gateways never both
 * held it for longer than a takeover's overlap. Fed every change of the count.
 */
export class SubscriptionCensus {
  readonly #changes: Change[] = [{ marketMs: Number.NEGATIVE_INFINITY, wallMs: 0, connections: 0 }];

  /** The count is now `connections` (from market instant `marketMs`, wall `wallMs`). */
  record(connections: number, marketMs: number, wallMs: number): void {
    const last = this.#changes.at(-1)!;
    if (last.connections === connections) return;
    this.#changes.push({ marketMs, wallMs, connections });
  }

  /** Per minute of [fromMinuteMs, toMinuteMs], the most connections subscribed at once. */
  perMinute(fromMinuteMs: number, toMinuteMs: number): MinuteCensus[] {
    const out: MinuteCensus[] = [];
    let i = 0;
    for (let minute = fromMinuteMs; minute <= toMinuteMs; minute += MINUTE_MS) {
      // The count in force as the minute began, then every change within it.
      while (i + 1 < this.#changes.length && this.#changes[i + 1]!.marketMs <= minute) i++;
      let most = this.#changes[i]!.connections;
      for (let j = i + 1; j < this.#changes.length && this.#changes[j]!.marketMs < minute + MINUTE_MS; j++)
        most = Math.max(most, this.#changes[j]!.connections);
      out.push({ minuteMs: minute, connections: most });
    }
    return out;
  }

  /** Every stretch with more than one connection subscribed, oldest first. */
  overlaps(nowWallMs: number): Overlap[] {
    const out: Overlap[] = [];
    let open: { from: Change; most: number } | null = null;
    for (const c of this.#changes) {
      if (c.connections > 1) {
        if (open === null) open = { from: c, most: c.connections };
        else open.most = Math.max(open.most, c.connections);
      } else if (open !== null) {
        out.push({ fromMarketMs: open.from.marketMs, wallMs: c.wallMs - open.from.wallMs, connections: open.most });
        open = null;
      }
    }
    if (open !== null) out.push({ fromMarketMs: open.from.marketMs, wallMs: nowWallMs - open.from.wallMs, connections: open.most });
    return out;
  }
}
