/**
 * `sentio-gateway sim`: run the simulator on its own until SIGTERM or SIGINT.
 *
 * On start it logs ONE JSON line with the URLs to point a client at (`msg` "simulator
 * listening", `wsUrl`, `restUrl`, `msPerMinute`, `startMarket`, `auth`); the API key is never
 * printed. Without `apiKey` any non-empty key is accepted. On a signal (or when `signal`
 * aborts) it terminates clients, closes the server and resolves with exit code 0.
 */

import { toSimLogger } from './log.ts';
import type { SimLogSink } from './log.ts';
import { startSimulator } from './server.ts';
import type { SimulatorOptions } from './server.ts';

export interface RunSimulatorOptions extends Omit<SimulatorOptions, 'clock' | 'log'> {
  /** Default: one JSON line per entry on stdout. */
  log?: SimLogSink;
  /** Stops the simulator when aborted (besides SIGTERM/SIGINT). */
  signal?: AbortSignal;
}

/** Runs until SIGTERM/SIGINT (or `signal`), then closes cleanly; resolves with exit code 0. */
export async function runSimulator(opts: RunSimulatorOptions): Promise<number> {
  const { signal, log: sink, ...simOpts } = opts;
  const log = toSimLogger(sink ?? ((line: string) => process.stdout.write(`${line}\n`)));
  const sim = await startSimulator({ ...simOpts, log: silentUnlessDebug(log) });
  log.info(
    {
      wsUrl: sim.wsUrl,
      restUrl: sim.restUrl,
      msPerMinute: sim.clock.msPerMinute,
      startMarket: new Date(sim.clock.startMarketMs).toISOString(),
      auth: sim.keyRequired ? 'configured key' : 'any non-empty key',
    },
    'simulator listening',
  );

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
  });
  await sim.close();
  log.info({}, 'simulator stopped');
  return 0;
}

/**
 * The standalone command's own start line is the one line that matters; the simulator's
 * routine entries (connections, auth, faults) still go to the same sink.
 */
function silentUnlessDebug(log: ReturnType<typeof toSimLogger>): ReturnType<typeof toSimLogger> {
  return { debug() {}, info: (fields, msg) => log.info(fields, msg), warn: (fields, msg) => log.warn(fields, msg) };
}
