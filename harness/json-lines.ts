import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';

export type LogLine = Record<string, unknown>;

/**
 * Reads a child's JSON log lines as they come: each is parsed (a line that is not JSON is
 * kept as `{ raw }`), appended to the returned array and handed to `onLine`.
 */
export function followJsonLines(stream: Readable, onLine?: (line: LogLine) => void): LogLine[] {
  const lines: LogLine[] = [];
  createInterface({ input: stream }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { raw: text };
    }
    lines.push(line);
    onLine?.(line);
  });
  return lines;
}
