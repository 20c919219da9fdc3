import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { childEnv } from '../../harness/child-env.ts';
import { followJsonLines } from '../../harness/json-lines.ts';
import { createInterface } from 'node:readline';

export const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface ChildGateway {
  child: ChildProcess;
  /** stdout lines parsed as JSON (the gateway's logs); non-JSON lines are kept as { raw }. */
  lines: Record<string, unknown>[];
  stderr: string[];
  /** Resolves with the first log line satisfying `predicate` (already seen or future). */
  waitForLine(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs `sentio-gateway <command>` as a child process, the way the README runs it. */
export function spawnGateway(args: string[], env: Record<string, string>, options: { path?: string } = {}): ChildGateway {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: childEnv(env, options.path !== undefined ? { PATH: options.path } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  const waiters: { predicate: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
  const lines = followJsonLines(child.stdout, (line) => {
    for (const w of [...waiters]) {
      if (w.predicate(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  createInterface({ input: child.stderr }).on('line', (text) => stderr.push(text));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return {
    child,
    lines,
    stderr,
    exited,
    waitForLine(predicate, timeoutMs = 60_000) {
      const seen = lines.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`no matching log line within ${timeoutMs} ms; last lines: ${JSON.stringify(lines.slice(-5))} stderr: ${stderr.slice(-5).join(' | ')}`),
            ),
          timeoutMs,
        );
        const waiter = {
          predicate,
          resolve: (l: Record<string, unknown>) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        waiters.push(waiter);
        void exited.then(() => {
          if (waiters.includes(waiter)) {
            clearTimeout(timer);
            reject(new Error(`gateway exited before the expected log line; stderr: ${stderr.join(' | ')}; last lines: ${JSON.stringify(lines.slice(-5))}`));
          }
        });
      });
    },
  };
}

/**
 * Settings of a child gateway on an external simulator (following its clock) and a broker,
 * in MOCK mode, with a free HTTP port, fast reconnects and info logs; `extra` adds or overrides.
 */
export function simulatedGatewayEnv(
  feed: { apiKey: string; wsUrl: string; restUrl: string },
  bootstrap: string,
  prefix: string,
  extra: Record<string, string>,
): Record<string, string> {
  return {
    POLYGON_API_KEY: feed.apiKey,
    POLYGON_WS_URL: feed.wsUrl,
    POLYGON_REST_URL: feed.restUrl,
    MARKET_CLOCK: 'simulator',
    KAFKA_BOOTSTRAP_SERVERS: bootstrap,
    TOPIC_PREFIX: prefix,
    ENV: 'MOCK',
    HTTP_PORT: '0',
    RECONNECT_MIN_MS: '50',
    RECONNECT_MAX_MS: '400',
    LOG_LEVEL: 'info',
    ...extra,
  };
}
