import { MINUTE_MS, minuteStart } from '../contracts/time-format.ts';

/**
 * The settled watermark of a symbol is the newest minute up to which every minute is either
 * in Kafka or proven empty. Revision-0 records go out in minute order, so nothing may be
 * published past a minute that is neither: a later bar waits until that minute is proven,
 * backfilled, or knowingly given up. A backfill always starts right after the watermark.
 * These are the pure rules; the router keeps one watermark per symbol.
 */

/** What proves that a minute without a bar had none at the vendor. */
export interface GapProof {
  /**
   * The socket session that delivered the bar after the gap watched every minute from here
   * on (it saw a later bar, and the vendor sends minutes in order); null: no socket proof.
   */
  socketFrom: number | null;
  /** REST was asked from `from` and had settled everything up to `settledThrough`. */
  rest: { from: number; settledThrough: number } | null;
}

export function isProvenEmpty(minute: number, proof: GapProof): boolean {
  if (proof.socketFrom !== null && minute >= proof.socketFrom) return true;
  return proof.rest !== null && minute >= proof.rest.from && minute <= proof.rest.settledThrough;
}

/**
 * The first minute after the watermark and before `minute` that nothing proves empty, or
 * null when every minute of that gap is proven (or there is no gap, or no watermark yet).
 */
export function firstUnprovenMinute(watermark: number | null, minute: number, proof: GapProof): number | null {
  if (watermark === null) return null;
  for (let m = watermark + MINUTE_MS; m < minute; m += MINUTE_MS) if (!isProvenEmpty(m, proof)) return m;
  return null;
}

/** The last minute that has closed at feed instant `presentMs`. */
export function lastClosedMinute(presentMs: number): number {
  return minuteStart(presentMs) - MINUTE_MS;
}

export interface BackfillPlanInput {
  /** The symbol's settled watermark; null when nothing is known of it. */
  watermark: number | null;
  /** Start of the symbol's newest record; null when it has none. */
  newestBar: number | null;
  /** The feed's present (or, before any bar, where it is expected to be). */
  presentMs: number;
  maxBackfillMinutes: number;
  /** Minutes the vendor may still correct a bar in: they are read again. */
  correctionWindowMinutes: number;
}

export interface BackfillPlan {
  /** First minute to ask REST for. */
  from: number;
  /** Last minute to ask for: the last one closed in feed time. */
  through: number;
  /** Minutes after the watermark that lie beyond MAX_BACKFILL_MINUTES: given up, not asked for. */
  lost: { from: number; through: number } | null;
}

/**
 * Where a backfill reads: from the watermark + 1, never from the newest minute seen, so a
 * hole cannot be skipped because later bars went out first; reaching back over the
 * correction window measured from the symbol's newest bar (corrections follow the bars, not
 * our clock); no further back than MAX_BACKFILL_MINUTES before the feed's present.
 */
export function planBackfill(input: BackfillPlanInput): BackfillPlan {
  const through = lastClosedMinute(input.presentMs);
  const floor = minuteStart(input.presentMs) - input.maxBackfillMinutes * MINUTE_MS;
  const wanted = input.watermark === null ? floor : input.watermark + MINUTE_MS;
  const recheck = (input.newestBar ?? through) - (input.correctionWindowMinutes - 1) * MINUTE_MS;
  const from = Math.max(Math.min(wanted, recheck), floor);
  const lost = input.watermark !== null && wanted < floor ? { from: wanted, through: floor - MINUTE_MS } : null;
  return { from, through, lost };
}

/**
 * Up to which minute REST's answer is final, so that a minute it has no bar for had none:
 * the minutes that closed a grace before the feed's present (null: time proves nothing),
 * and every minute before the newest bar REST returned (it has moved past them).
 */
export function restSettledThrough(presentMs: number | null, graceMs: number, newestRestBar: number | null): number {
  const byTime = presentMs === null ? Number.NEGATIVE_INFINITY : lastClosedMinute(presentMs - graceMs);
  const byBars = newestRestBar === null ? Number.NEGATIVE_INFINITY : newestRestBar - MINUTE_MS;
  return Math.max(byTime, byBars);
}

/** The first minute of [from, through] that REST neither returned nor settled; null when there is none. */
export function firstUnsettledMinute(
  from: number,
  through: number,
  settledThrough: number,
  returned: ReadonlySet<number> | ReadonlyMap<number, unknown>,
): number | null {
  for (let m = Math.max(from, settledThrough + MINUTE_MS); m <= through; m += MINUTE_MS) if (!returned.has(m)) return m;
  return null;
}
