/**
 * Wraps a log call so a flood (a malformed-frame storm, a broker outage) yields at most one
 * line per interval; the metrics, not the logs, carry the counts.
 */
export function throttle<A extends unknown[]>(intervalMs: number, fn: (...args: A) => void): (...args: A) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (...args: A) => {
    const now = performance.now();
    if (now - last < intervalMs) return;
    last = now;
    fn(...args);
  };
}
