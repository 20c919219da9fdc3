/** Small statistics helpers. */

/** Nearest-rank percentile (p in 0..100) of unsorted values; null when empty. */
export function percentile(values: ArrayLike<number>, p: number): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function summary(values: ArrayLike<number>): {
  n: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
} {
  let sum = 0;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    if (values[i]! > max) max = values[i]!;
  }
  return {
    n: values.length,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    p99: percentile(values, 99),
    max: values.length === 0 ? null : max,
    mean: values.length === 0 ? null : sum / values.length,
  };
}

/** Rounds for display and JSON (null passes through). */
export function r(value: number | null | undefined, places = 1): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const f = 10 ** places;
  return Math.round(value * f) / f;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
