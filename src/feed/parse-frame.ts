/**
 * Polygon stocks WebSocket frames -> typed events. Pure and total: it never throws, judges
 * each element of a frame on its own (a bad element is rejected, its neighbours kept), and
 * never quotes more than ~200 characters of input in a reject's detail.
 */

import type { AggregateEvent, StatusEvent } from '../contracts/polygon-wire.ts';

/** Why a frame or an element of it was dropped: a closed set, usable as a metric label. */
export type RejectReason = 'not_json' | 'not_array' | 'not_object' | 'missing_field' | 'bad_field' | 'bad_symbol' | 'bad_range' | 'oversized';

export const REJECT_REASONS: readonly RejectReason[] = [
  'not_json',
  'not_array',
  'not_object',
  'missing_field',
  'bad_field',
  'bad_symbol',
  'bad_range',
  'oversized',
];

export interface FrameReject {
  reason: RejectReason;
  /** Human-readable, at most DETAIL_MAX_CHARS characters. */
  detail: string;
}

type OptionalAggregateField = 'vw' | 'av' | 'op' | 'a' | 'z';

/**
 * An aggregate as parsed: the fields the vendor always sends are present and checked; the
 * optional numeric ones are present only when the vendor sent a number (null counts as absent).
 */
export type ParsedAggregate = Omit<AggregateEvent, OptionalAggregateField> & Partial<Pick<AggregateEvent, OptionalAggregateField>>;

export type ParsedEvent =
  | { kind: 'status'; event: StatusEvent }
  | { kind: 'minute'; event: ParsedAggregate }
  | { kind: 'second'; event: ParsedAggregate }
  /** An `ev` this parser does not know: count and log it, it is not an error. */
  | { kind: 'unknown'; ev: string };

export interface ParsedFrame {
  events: ParsedEvent[];
  rejects: FrameReject[];
}

export interface ParseFrameOptions {
  /** Frames larger than this many bytes (UTF-8) are rejected unparsed. Default 4 MiB. */
  maxBytes?: number;
}

/** What a `ws` message can be (`RawData`), plus plain strings. */
export type FrameData = string | Uint8Array | ArrayBuffer | readonly Uint8Array[];

export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
export const DETAIL_MAX_CHARS = 200;
const SNIPPET_CHARS = 60;
const UNKNOWN_EV_CHARS = 64;

/** Ticker charset: letters, digits, '.', '-' (BRK.A, BRK-B, BACpB), 1 to 12 characters. */
export const TICKER_RE = /^[A-Z0-9.-]{1,12}$/i;

const REQUIRED_NUMBERS = ['o', 'h', 'l', 'c', 'v', 's', 'e'] as const;
const EARLIEST_BAR_MS = Date.UTC(1990, 0, 1);
const LATEST_BAR_MS = Date.UTC(2200, 0, 1);
const MAX_BAR_SPAN_MS = 24 * 60 * 60 * 1000;
const OPTIONAL_NUMBERS: readonly OptionalAggregateField[] = ['vw', 'av', 'op', 'a', 'z'];

const utf8 = new TextDecoder('utf-8', { fatal: true });

function clip(text: string, max: number = DETAIL_MAX_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** A short, safe rendering of any JSON value. */
function snippet(value: unknown): string {
  try {
    if (typeof value === 'string') return JSON.stringify(value.slice(0, SNIPPET_CHARS));
    const text = JSON.stringify(value);
    return clip(text === undefined ? String(value) : text, SNIPPET_CHARS);
  } catch {
    return typeof value;
  }
}

function reject(reason: RejectReason, detail: string): FrameReject {
  return { reason, detail: clip(detail) };
}

function byteLengthOf(data: FrameData): number {
  if (typeof data === 'string') return -1; // measured lazily, see below
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (data instanceof Uint8Array) return data.byteLength;
  let n = 0;
  for (const chunk of data) n += chunk.byteLength;
  return n;
}

function utf8Length(text: string, max: number): number {
  // A UTF-16 code unit takes 1 to 3 UTF-8 bytes: skip the exact count when the bound decides.
  if (text.length > max) return text.length;
  if (text.length * 3 <= max) return text.length;
  return Buffer.byteLength(text, 'utf8');
}

function decode(data: Exclude<FrameData, string>): string {
  if (data instanceof ArrayBuffer || data instanceof Uint8Array) return utf8.decode(data);
  return utf8.decode(Buffer.concat(data));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Parse one server frame. Never throws. */
export function parseFrame(data: FrameData, options: ParseFrameOptions = {}): ParsedFrame {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const events: ParsedEvent[] = [];
  const rejects: FrameReject[] = [];

  let text: string;
  try {
    const size = typeof data === 'string' ? utf8Length(data, maxBytes) : byteLengthOf(data);
    if (size > maxBytes) {
      rejects.push(reject('oversized', `frame of ${size}+ bytes exceeds the limit of ${maxBytes}`));
      return { events, rejects };
    }
    text = typeof data === 'string' ? data : decode(data);
  } catch (err) {
    rejects.push(reject('not_json', `frame is not valid UTF-8 text (${errorText(err)})`));
    return { events, rejects };
  }

  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    rejects.push(reject('not_json', `${errorText(err)}; frame starts ${snippet(text)}`));
    return { events, rejects };
  }
  if (!Array.isArray(root)) {
    rejects.push(reject('not_array', `frame is ${describe(root)}, not an array: ${snippet(root)}`));
    return { events, rejects };
  }

  for (let i = 0; i < root.length; i++) {
    try {
      const judged = judgeElement(root[i], i);
      if ('reason' in judged) rejects.push(judged);
      else events.push(judged);
    } catch (err) {
      rejects.push(reject('bad_field', `element ${i}: unexpected ${errorText(err)}`));
    }
  }
  return { events, rejects };
}

function errorText(err: unknown): string {
  return clip(err instanceof Error ? err.message : String(err), 100);
}

function judgeElement(el: unknown, i: number): ParsedEvent | FrameReject {
  if (!isRecord(el)) return reject('not_object', `element ${i} is ${describe(el)}: ${snippet(el)}`);
  const ev = el['ev'];
  if (ev === undefined) return reject('missing_field', `element ${i} has no "ev": ${snippet(el)}`);
  if (typeof ev !== 'string') return reject('bad_field', `element ${i}: "ev" is ${describe(ev)}: ${snippet(ev)}`);
  switch (ev) {
    case 'status':
      return judgeStatus(el, i);
    case 'AM':
    case 'A':
      return judgeAggregate(el, ev, i);
    default:
      return { kind: 'unknown', ev: clip(ev, UNKNOWN_EV_CHARS) };
  }
}

function judgeStatus(el: Record<string, unknown>, i: number): ParsedEvent | FrameReject {
  const status = el['status'];
  if (status === undefined) return reject('missing_field', `element ${i} (status) has no "status"`);
  if (typeof status !== 'string') {
    return reject('bad_field', `element ${i} (status): "status" is ${describe(status)}: ${snippet(status)}`);
  }
  const event: StatusEvent = { ev: 'status', status };
  // A control message must not be lost over its free-text part: a non-string message is dropped.
  const message = el['message'];
  if (typeof message === 'string') event.message = message;
  return { kind: 'status', event };
}

function judgeAggregate(el: Record<string, unknown>, ev: 'AM' | 'A', i: number): ParsedEvent | FrameReject {
  const sym = el['sym'];
  if (sym === undefined) return reject('missing_field', `element ${i} (${ev}) has no "sym"`);
  if (typeof sym !== 'string' || !TICKER_RE.test(sym)) {
    return reject('bad_symbol', `element ${i} (${ev}): "sym" is ${describe(sym)} ${snippet(sym)}`);
  }
  const where = `element ${i} (${ev} ${sym})`;

  const num: Record<string, number> = {};
  for (const key of REQUIRED_NUMBERS) {
    const value = el[key];
    if (value === undefined) return reject('missing_field', `${where} has no "${key}"`);
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return reject('bad_field', `${where}: "${key}" is ${describe(value)} ${snippet(value)}, not a finite number`);
    }
    num[key] = value;
  }
  const o = num['o']!;
  const h = num['h']!;
  const l = num['l']!;
  const c = num['c']!;
  const v = num['v']!;
  const s = num['s']!;
  const e = num['e']!;
  if (!Number.isSafeInteger(s)) return reject('bad_field', `${where}: "s" is not an integer: ${s}`);
  if (!Number.isSafeInteger(e)) return reject('bad_field', `${where}: "e" is not an integer: ${e}`);

  const event: ParsedAggregate = { ev, sym, o, h, l, c, v, s, e };
  for (const key of OPTIONAL_NUMBERS) {
    const value = el[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return reject('bad_field', `${where}: "${key}" is ${describe(value)} ${snippet(value)}, not a finite number`);
    }
    event[key] = value;
  }
  const otc = el['otc'];
  if (otc !== undefined && otc !== null) {
    if (typeof otc !== 'boolean') return reject('bad_field', `${where}: "otc" is ${describe(otc)} ${snippet(otc)}, not a boolean`);
    event.otc = otc;
  }

  // Bars outside 1990-2200 cannot be market data and some cannot even be dated (year > 9999).
  if (s < EARLIEST_BAR_MS || s > LATEST_BAR_MS) return reject('bad_range', `${where}: start ${s} is not a plausible market time`);
  if (e <= s) return reject('bad_range', `${where}: end ${e} is not after start ${s}`);
  if (e - s > MAX_BAR_SPAN_MS) return reject('bad_range', `${where}: bar spans ${e - s} ms, more than a day`);
  if (v < 0) return reject('bad_range', `${where}: volume ${v} is negative`);
  if (!(o > 0 && h > 0 && l > 0 && c > 0)) {
    return reject('bad_range', `${where}: prices must be positive (o ${o}, h ${h}, l ${l}, c ${c})`);
  }
  if (l > h) return reject('bad_range', `${where}: low ${l} is above high ${h}`);

  return { kind: ev === 'AM' ? 'minute' : 'second', event };
}
