/**
 * One timer that drives everything the simulator does at market instants: plan steps,
 * release of held bars, minute closes, second bars.
 *
 * Each source says when it next has work (a market instant) and does it when asked. On each
 * wake the agenda runs every item that is due, earliest market instant first and, on equal
 * instants, lower `priority` first. Because order follows market time and not timer luck,
 * a late or coalesced timer gives the same sequence of actions as a punctual one; that is
 * what makes fault plans reproducible.
 */

import type { SimClock } from './clock.ts';

export interface AgendaSource {
  readonly name: string;
  /** Lower runs first when two items are due at the same market instant. */
  readonly priority: number;
  /** Market instant of the next item, or Infinity when there is none. */
  nextAt(): number;
  /** Do the item scheduled at `at`; afterwards nextAt() must have moved on. */
  run(at: number): void;
}

export interface Agenda {
  /** Re-arm the timer after a source gained earlier work. */
  poke(): void;
  /** Stop for good; clears the timer. */
  close(): void;
}

/** Items handled per wake before yielding to I/O (a long catch-up continues on the next wake). */
const MAX_ITEMS_PER_WAKE = 5_000;

export function createAgenda(clock: SimClock, sources: readonly AgendaSource[], onError: (source: string, err: unknown) => void): Agenda {
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const earliest = (): { source: AgendaSource; at: number } | undefined => {
    let best: { source: AgendaSource; at: number } | undefined;
    for (const source of sources) {
      const at = source.nextAt();
      if (!Number.isFinite(at)) continue;
      if (!best || at < best.at || (at === best.at && source.priority < best.source.priority)) {
        best = { source, at };
      }
    }
    return best;
  };

  const arm = (): void => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = undefined;
    const next = earliest();
    if (!next) return;
    timer = setTimeout(wake, clock.wallDelayUntil(next.at));
  };

  const wake = (): void => {
    timer = undefined;
    if (closed) return;
    const now = clock.now();
    for (let i = 0; i < MAX_ITEMS_PER_WAKE; i++) {
      const next = earliest();
      if (!next || next.at > now) break;
      try {
        next.source.run(next.at);
      } catch (err) {
        onError(next.source.name, err);
      }
      if (closed) return;
    }
    arm();
  };

  arm();
  return {
    poke: arm,
    close(): void {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
