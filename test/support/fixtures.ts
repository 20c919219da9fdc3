import { PassThrough } from 'node:stream';
import type { BarSource, PriceEvent } from '../../src/contracts/price-event.ts';
import { formatTsET, MINUTE_MS } from '../../src/contracts/time-format.ts';
import { createLogger, type Logger } from '../../src/ops/logger.ts';

/** A price event of `symbol` for the minute starting at `startMs`, every price 1, as a test's stand-in. */
export function priceEventAt(symbol: string, startMs: number, source: BarSource = 'live', revision = 0): PriceEvent {
  return {
    symbol,
    tsET: formatTsET(startMs),
    open: 1,
    high: 1,
    low: 1,
    close: 1,
    volume: 1,
    vwap: null,
    startMs,
    endMs: startMs + MINUTE_MS,
    barId: null,
    source,
    revision,
  };
}

/** The production logger writing into memory: `lines` holds each line parsed. */
export function capturedLog(level = 'info'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { log: createLogger({ level, secrets: [], destination: stream }), lines };
}
