import { restClient } from '@polygon.io/client-js';
import pRetry, { AbortError } from 'p-retry';
import type { RestAggregate } from '../contracts/polygon-wire.ts';
import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';

/** A REST failure described without anything from the request (its URL carries the key). */
export class RestError extends Error {
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  constructor(message: string, status: number | null, retryAfterMs: number | null = null) {
    super(message);
    this.name = 'RestError';
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

export interface MinuteAggregatesClientOptions {
  restUrl: string;
  apiKey: string;
  /** Attempts per request before giving up (rate limits and 5xx are retried). */
  retries?: number;
  minRetryMs?: number;
  maxRetryMs?: number;
  signal?: AbortSignal;
  /** Each failed attempt is counted (backfill_errors_total) and logged here, when given. */
  metrics?: GatewayMetrics;
  log?: Logger;
  onRetry?(error: RestError, attempt: number): void;
}

export interface MinuteAggregatesClient {
  /** Minute bars of `symbol` starting in [fromMs, toMs], ascending, unadjusted (as the socket sends them). */
  fetch(symbol: string, fromMs: number, toMs: number): Promise<RestAggregate[]>;
}

interface AggregatesResponse {
  results?: unknown;
  status?: string;
}

/**
 * Polygon's REST minute aggregates through `@polygon.io/client-js`, for backfill. Rate
 * limits (429, honouring Retry-After) and server errors are retried with backoff; a 4xx
 * other than 429 is final. Errors never carry the request URL, which holds the key.
 */
export function createMinuteAggregatesClient(options: MinuteAggregatesClientOptions): MinuteAggregatesClient {
  const rest = restClient(options.apiKey, options.restUrl);
  return {
    async fetch(symbol, fromMs, toMs) {
      return pRetry(
        async () => {
          let body: AggregatesResponse;
          try {
            body = await rest.getStocksAggregates(symbol, 1, 'minute' as never, String(fromMs), String(toMs), false, 'asc' as never, 50_000);
          } catch (error) {
            const failure = describe(error, symbol);
            if (failure.status !== null && failure.status !== 429 && failure.status < 500) throw new AbortError(failure);
            throw failure;
          }
          // An empty range comes back without `results`.
          if (body.results === undefined) return [];
          if (!Array.isArray(body.results)) throw new AbortError(new RestError(`aggregates for ${symbol}: malformed response`, null));
          return body.results.filter(isRestAggregate).filter((a) => a.t >= fromMs && a.t <= toMs);
        },
        {
          retries: options.retries ?? 5,
          minTimeout: options.minRetryMs ?? 500,
          maxTimeout: options.maxRetryMs ?? 10_000,
          randomize: true,
          signal: options.signal,
          onFailedAttempt: async ({ error, attemptNumber }) => {
            const failure = error instanceof RestError ? error : new RestError(`aggregates for ${symbol}: ${error.name}`, null);
            options.metrics?.backfillErrors.inc();
            options.log?.warn({ error: failure.message, attempt: attemptNumber }, 'REST backfill request failed; retrying');
            options.onRetry?.(failure, attemptNumber);
            // A rate limit says when to come back: wait that long on top of the backoff.
            if (failure.retryAfterMs !== null) await new Promise((resolve) => setTimeout(resolve, failure.retryAfterMs!));
          },
        },
      );
    },
  };
}

function describe(error: unknown, symbol: string): RestError {
  const response = (error as { response?: { status?: number; headers?: Record<string, string> } }).response;
  const status = typeof response?.status === 'number' ? response.status : null;
  const retryAfter = Number(response?.headers?.['retry-after']);
  const retryAfterMs = status === 429 && Number.isFinite(retryAfter) ? Math.min(retryAfter, 60) * 1000 : null;
  const code = (error as { code?: string }).code;
  return new RestError(`aggregates for ${symbol} failed: ${status !== null ? `HTTP ${status}` : (code ?? 'network error')}`, status, retryAfterMs);
}

function isRestAggregate(value: unknown): value is RestAggregate {
  const a = value as Record<string, unknown>;
  return typeof a === 'object' && a !== null && [a.t, a.o, a.h, a.l, a.c, a.v].every((n) => typeof n === 'number' && Number.isFinite(n));
}
