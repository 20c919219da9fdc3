/** Just enough of the Prometheus text format to read counters, gauges and histograms back. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricsSnapshot {
  samples: Sample[];
  /** Sum of every series of `name` whose labels include `match`. */
  sum(name: string, match?: Record<string, string>): number;
  /** Cumulative bucket counts of histogram `name` (series `name_bucket`), ascending by `le`. */
  histogram(name: string): Histogram;
}

export interface Histogram {
  /** Upper bounds (seconds), the last is +Inf. */
  le: number[];
  /** Cumulative counts per bound. */
  counts: number[];
  sum: number;
  count: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): MetricsSnapshot {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
    const raw = m[3]!;
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    samples.push({ name: m[1]!, labels, value });
  }
  const matches = (s: Sample, match: Record<string, string> | undefined): boolean =>
    match === undefined || Object.entries(match).every(([k, v]) => s.labels[k] === v);
  return {
    samples,
    sum(name, match) {
      let total = 0;
      for (const s of samples) if (s.name === name && matches(s, match)) total += s.value;
      return total;
    },
    histogram(name) {
      const buckets = samples
        .filter((s) => s.name === `${name}_bucket`)
        .map((s) => ({ le: s.labels['le'] === '+Inf' ? Infinity : Number(s.labels['le']), count: s.value }))
        .sort((a, b) => a.le - b.le);
      return {
        le: buckets.map((b) => b.le),
        counts: buckets.map((b) => b.count),
        sum: this.sum(`${name}_sum`),
        count: this.sum(`${name}_count`),
      };
    },
  };
}

/** What a histogram gained between two snapshots. */
export function histogramDelta(before: Histogram, after: Histogram): Histogram {
  return {
    le: after.le,
    counts: after.counts.map((c, i) => c - (before.counts[i] ?? 0)),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/**
 * Quantile `q` (0..1) of a cumulative histogram, interpolating linearly inside the bucket
 * as Prometheus's histogram_quantile does. Null when empty. Resolution is the bucket width.
 */
export function histogramQuantile(h: Histogram, q: number): number | null {
  const total = h.counts[h.counts.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < h.le.length; i++) {
    const count = h.counts[i]!;
    if (count >= rank) {
      const upper = h.le[i]!;
      const lower = i === 0 ? 0 : h.le[i - 1]!;
      const below = i === 0 ? 0 : h.counts[i - 1]!;
      if (upper === Infinity) return lower;
      const inBucket = count - below;
      return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
    }
  }
  return null;
}
