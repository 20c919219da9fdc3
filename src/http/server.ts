import Fastify, { LogController } from 'fastify';
import type { Registry } from 'prom-client';
import type { Logger } from '../ops/logger.ts';
import type { Readiness } from '../ops/health.ts';

export interface HttpServerOptions {
  log: Logger;
  registry: Registry;
  /** Current readiness, with any extra detail worth showing an operator. */
  readiness(): Readiness & { detail?: Record<string, unknown> };
  /** Called before each scrape, so gauges derived from the state (readiness) are current. */
  beforeScrape?(): void;
}

/**
 * `/healthz` (the process is alive and its event loop turns), `/readyz` (200 only while
 * Kafka is writable and the feed is subscribed and fresh; otherwise 503 naming the failing
 * part) and `/metrics` (Prometheus text).
 */
export function createHttpServer(options: HttpServerOptions) {
  // Scrapes and probes arrive every few seconds: logging each would drown the useful lines.
  const app = Fastify({ loggerInstance: options.log.child({ component: 'http' }), logController: new LogController({ disableRequestLogging: true }) });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const readiness = options.readiness();
    const body = readiness.ready ? { status: 'ready', ...readiness.detail } : { status: 'not_ready', failing: readiness.failing, ...readiness.detail };
    return reply.code(readiness.ready ? 200 : 503).send(body);
  });

  app.get('/metrics', async (_request, reply) => {
    options.beforeScrape?.();
    const text = await options.registry.metrics();
    return reply.type(options.registry.contentType).send(text);
  });

  return app;
}
