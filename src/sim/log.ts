/**
 * The logger the simulator writes to. Either the subset of pino's API it uses (a pino logger
 * can be passed as is), or a function that receives each entry as one JSON line. Nothing the
 * simulator logs contains the API key.
 */
export interface SimLogger {
  debug(fields: object, msg?: string): void;
  info(fields: object, msg?: string): void;
  warn(fields: object, msg?: string): void;
}

/** Accepted wherever the simulator takes a logger. */
export type SimLogSink = SimLogger | ((line: string) => void);

export const silentLogger: SimLogger = {
  debug() {},
  info() {},
  warn() {},
};

/** A SimLogger for either form; undefined gives the silent logger. */
export function toSimLogger(sink: SimLogSink | undefined): SimLogger {
  if (sink === undefined) return silentLogger;
  if (typeof sink !== 'function') return sink;
  const line =
    (level: string) =>
    (fields: object, msg?: string): void =>
      sink(JSON.stringify({ level, time: Date.now(), component: 'sim', ...(msg ? { msg } : {}), ...fields }));
  return { debug: line('debug'), info: line('info'), warn: line('warn') };
}
