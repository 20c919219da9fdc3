import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export const REDACTED = '[REDACTED]';

export interface LoggerSettings {
  level: string;
  /** Values that must never reach a log line, however they got into one (an error message, a URL). */
  secrets: readonly string[];
  /** Where lines go; stdout by default. Tests pass a stream to read what was logged. */
  destination?: NodeJS.WritableStream;
}

/**
 * Structured JSON lines. Redaction works on the finished line rather than on known field
 * paths, so a key that leaks through a library's error text or a request URL is still caught.
 */
export function createLogger(settings: LoggerSettings): Logger {
  const secrets = settings.secrets.filter((s) => s.length > 0);
  const options: LoggerOptions = {
    level: settings.level,
    base: { service: 'sentio-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      streamWrite: (line) => redact(line, secrets),
    },
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}

/** Replaces every occurrence of each secret (also in JSON-escaped form). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    out = out.split(secret).join(REDACTED);
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) out = out.split(escaped).join(REDACTED);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) out = out.split(encoded).join(REDACTED);
  }
  return out;
}
