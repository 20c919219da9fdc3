/**
 * The gateway under test, as its own process, started the way the image starts it
 * (`node <the ENTRYPOINT's flags> dist/main.js run`, read from the Dockerfile) and
 * configured through the environment exactly as an operator would. Running the compiled
 * JavaScript matters: Node's TypeScript stripping alone adds about 17 MB of RSS, which the
 * shipped image never pays. Gives its /metrics, its CPU time and RSS
 * (from /proc), and stops it with SIGTERM the way a supervisor does.
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { childEnv } from '../../harness/child-env.ts';
import { followJsonLines } from '../../harness/json-lines.ts';
import { connectInspector, type Inspector } from './inspector.ts';
import { parseMetrics, type MetricsSnapshot } from './prom.ts';
import { readProcStat, type ProcSample } from './proc.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const GATEWAY_MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
/** The node flags of the Dockerfile's ENTRYPOINT (exec form: `[..., "node", <flags>, "dist/main.js"]`), read from it so the two cannot drift. */
export const IMAGE_NODE_ARGS: string[] = (() => {
  const dockerfile = readFileSync(fileURLToPath(new URL('../../Dockerfile', import.meta.url)), 'utf8');
  const entrypoint = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile);
  const argv = entrypoint ? (JSON.parse(entrypoint[1]!) as string[]) : [];
  const node = argv.indexOf('node');
  const main = argv.indexOf('dist/main.js');
  if (node < 0 || main < node) throw new Error(`the Dockerfile's ENTRYPOINT does not run node ... dist/main.js: ${entrypoint?.[1] ?? 'none found'}`);
  return argv.slice(node + 1, main);
})();

/** Compiles src/ to dist/ (the image's build step) so the child runs the code of this checkout. */
export function buildGateway(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

export interface GatewayChildOptions {
  /** Settings (environment) of the gateway. */
  env: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Bound on start-up (until "gateway started" is logged). */
  startTimeoutMs?: number;
  /** Open the inspector on a loopback port so `collectGarbage()` can force a full GC. */
  inspect?: boolean;
}

export interface GatewayChild {
  readonly pid: number;
  readonly httpUrl: string;
  /** Log lines (JSON objects; non-JSON kept as { raw }). */
  readonly lines: Record<string, unknown>[];
  readonly stderr: string[];
  /** /metrics, parsed. */
  metrics(): Promise<MetricsSnapshot>;
  /** CPU seconds and RSS from /proc (null once the process is gone). */
  proc(): ProcSample | null;
  /** SIGTERM, then wait for the exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /**
   * Forces a full garbage collection (needs `inspect`), then reports the JS heap in use.
   * null without an inspector.
   */
  collectGarbage(): Promise<{ heapUsedMb: number; heapTotalMb: number | null; externalMb: number | null; arrayBuffersMb: number | null } | null>;
  /** Warnings and errors the gateway logged. */
  problems(): Record<string, unknown>[];
}

export async function startGatewayChild(options: GatewayChildOptions): Promise<GatewayChild> {
  const nodeArgs = [...IMAGE_NODE_ARGS, ...(options.nodeArgs ?? []), ...(options.inspect ? ['--inspect=127.0.0.1:0'] : [])];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, GATEWAY_MAIN, 'run'], {
    cwd: REPO_ROOT,
    env: childEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  let exitedYet = false;
  void exited.then(() => (exitedYet = true));
  let onStarted: ((url: string) => void) | null = null;
  const lines = followJsonLines(child.stdout!, (line) => {
    if (line['msg'] === 'gateway started' && typeof line['http'] === 'string') onStarted?.(line['http']);
  });
  let inspectorUrl: string | null = null;
  createInterface({ input: child.stderr! }).on('line', (text) => {
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(text);
    if (m) inspectorUrl = m[1]!;
    else if (!/^For help, see: https:\/\/nodejs.org\/en\/docs\/inspector/.test(text) && text !== 'Debugger attached.') stderr.push(text);
  });
  let inspector: Inspector | null = null;

  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const httpUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`gateway did not start within ${timeoutMs} ms; stderr: ${stderr.slice(-5).join(' | ')}; last lines: ${JSON.stringify(lines.slice(-3))}`),
        ),
      timeoutMs,
    );
    onStarted = (url) => {
      clearTimeout(timer);
      resolve(url.replace('0.0.0.0', '127.0.0.1'));
    };
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `gateway exited during start-up (code ${code}, signal ${signal}); stderr: ${stderr.slice(-10).join(' | ')}; last lines: ${JSON.stringify(lines.slice(-3))}`,
        ),
      );
    });
  });
  const pid = child.pid!;

  return {
    pid,
    httpUrl,
    lines,
    stderr,
    async metrics() {
      const response = await fetch(`${httpUrl}/metrics`);
      if (!response.ok) throw new Error(`gateway /metrics answered HTTP ${response.status}`);
      return parseMetrics(await response.text());
    },
    proc() {
      return exitedYet ? null : readProcStat(pid);
    },
    async collectGarbage() {
      if (inspectorUrl === null || exitedYet) return null;
      inspector ??= await connectInspector(inspectorUrl);
      await inspector.call('HeapProfiler.collectGarbage');
      const usage = await inspector.call<{ usedSize: number }>('Runtime.getHeapUsage');
      // Where the RSS beyond the live heap sits: V8's committed heap, or memory outside it.
      const evaluated = await inspector.call<{ result: { value?: string } }>('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())' });
      const node = JSON.parse(evaluated.result.value ?? '{}') as Partial<Record<'heapTotal' | 'external' | 'arrayBuffers', number>>;
      const mb = (bytes: number | undefined): number | null => (bytes === undefined ? null : bytes / 2 ** 20);
      return { heapUsedMb: usage.usedSize / 2 ** 20, heapTotalMb: mb(node.heapTotal), externalMb: mb(node.external), arrayBuffersMb: mb(node.arrayBuffers) };
    },
    async stop(stopTimeoutMs = 20_000) {
      inspector?.close();
      inspector = null;
      const began = performance.now();
      if (!exitedYet) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return { ...result, ms: performance.now() - began };
    },
    problems() {
      return lines.filter((l) => l['level'] === 'warn' || l['level'] === 'error' || l['level'] === 'fatal');
    },
  };
}
