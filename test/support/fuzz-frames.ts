/**
 * A deterministic generator of hostile Polygon frames for the fuzz test, with the exact
 * account of what the gateway must make of each one.
 *
 * Same seed, same options: same frames, byte for byte, so a failure reproduces
 * (`FUZZ_SEED=<n> node --test test/integration/fuzz.test.ts`).
 *
 * Every frame comes with its expectation, worked out by construction from the rules of
 * `src/feed/parse-frame.ts` (never by running the parser):
 * - a frame that is not UTF-8, not JSON or too big counts ONE drop (`not_json`, `oversized`);
 *   JSON that is not an array counts one `not_array`; `[]` counts nothing;
 * - in an array, each element is judged alone: one drop per bad element, with the reason the
 *   parser gives the first fault it meets (each bad element carries exactly one fault);
 * - an element with an unknown `ev` is no drop: it counts as received type `unknown`;
 * - well-formed `status` (an unknown, harmless `fuzz_*` value), `A` and unsubscribed-symbol `AM`
 *   events are counted as received (and the last as dropped `unsubscribed_symbol`);
 * - the valid `AM` bars of the target symbol (for successive minutes, in minute order) must
 *   each reach Kafka once, as revision 0, with exactly their values.
 *
 * Some frames are self-checked with the platform's JSON.parse (never the gateway's code): a
 * frame that must be `not_json` is proved unparseable, a `not_array` one proved a non-array.
 */

import type { RejectReason } from '../../src/feed/parse-frame.ts';
import { seededRandom } from '../../harness/random.ts';

const MINUTE_MS = 60_000;

/** What one frame (or a whole run) must do to the gateway's counters and topic. */
export interface FuzzExpectation {
  /** `events_dropped_total{reason}` for the malformed reasons. */
  rejects: Record<RejectReason, number>;
  /** `events_received_total{type="unknown"}`. */
  unknown: number;
  /** Well-formed status events (`events_received_total{type="status"}`). */
  status: number;
  /** `AM` events the parser accepts (`events_received_total{type="AM"}`). */
  am: number;
  /** Well-formed `A` events (`events_received_total{type="A"}`). */
  a: number;
  /** Accepted `AM` events of symbols the gateway does not subscribe (`unsubscribed_symbol`). */
  unsubscribed: number;
}

/** A valid bar of the target symbol and the record it must become. */
export interface ValidBar {
  minuteMs: number;
  expected: { symbol: string; open: number; high: number; low: number; close: number; volume: number; vwap: number | null; startMs: number; endMs: number };
}

export interface FuzzFrame {
  /** Frame number, from 0. */
  index: number;
  kind: FrameKind;
  /** Text frame (string) or binary frame (bytes). */
  data: string | Uint8Array;
  bytes: number;
  expect: FuzzExpectation;
  valid: ValidBar[];
}

export type FrameKind =
  | 'not_json'
  | 'truncated'
  | 'not_array'
  | 'binary_garbage'
  | 'empty_array'
  | 'bad_elements'
  | 'binary_json'
  | 'deep_nesting'
  | 'big_string'
  | 'mixed'
  | 'oversized_padded'
  | 'oversized_multibyte'
  | 'oversized_binary'
  | 'oversized_many_bars'
  | 'at_limit_mixed';

export interface FuzzOptions {
  seed: number;
  /** Symbols the gateway subscribes (upper case). */
  subscribed: readonly string[];
  /** Subscribed symbol the simulator never sends: the valid bars are for it. */
  target: string;
  /** Minute of the first valid target bar; the next ones follow minute by minute. */
  firstValidMinuteMs: number;
  /** How many valid target bars there are to give out. */
  validBars: number;
  /** Minutes (start, count) the bad bars' timestamps are drawn from. */
  badMinutes: { fromMs: number; count: number };
  /** Minutes of target bars hidden inside oversized frames: must never reach Kafka. */
  hiddenMinutes: { fromMs: number; count: number };
  /** The parser's limit (`DEFAULT_MAX_FRAME_BYTES`). */
  maxFrameBytes: number;
  /** Every this many frames, one big frame (oversized, or exactly at the limit). */
  bigEvery: number;
}

export const REASONS: readonly RejectReason[] = ['not_json', 'not_array', 'not_object', 'missing_field', 'bad_field', 'bad_symbol', 'bad_range', 'oversized'];

export function emptyExpectation(): FuzzExpectation {
  return {
    rejects: { not_json: 0, not_array: 0, not_object: 0, missing_field: 0, bad_field: 0, bad_symbol: 0, bad_range: 0, oversized: 0 },
    unknown: 0,
    status: 0,
    am: 0,
    a: 0,
    unsubscribed: 0,
  };
}

export function addExpectation(into: FuzzExpectation, add: FuzzExpectation): void {
  for (const r of REASONS) into.rejects[r] += add.rejects[r];
  into.unknown += add.unknown;
  into.status += add.status;
  into.am += add.am;
  into.a += add.a;
  into.unsubscribed += add.unsubscribed;
}

/** Malformed drops plus unknown events: the "bad events" total of a run. */
export function badEvents(e: FuzzExpectation): number {
  return REASONS.reduce((n, r) => n + e.rejects[r], 0) + e.unknown;
}

// --- building blocks ------------------------------------------------------------------

/** An object as ordered [key, raw JSON text] pairs, so values JSON.stringify cannot write (1e999) can be sent. */
type Pairs = [string, string][];

function objectText(pairs: Pairs): string {
  return `{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

function setPair(pairs: Pairs, key: string, value: string): Pairs {
  const out = pairs.filter(([k]) => k !== key);
  out.push([key, value]);
  return out;
}

function withoutPair(pairs: Pairs, key: string): Pairs {
  return pairs.filter(([k]) => k !== key);
}

interface Element {
  text: string;
  count: (e: FuzzExpectation) => void;
}

const reject =
  (reason: RejectReason) =>
  (e: FuzzExpectation): void => {
    e.rejects[reason] += 1;
  };

/** Unsubscribed tickers the parser accepts (letters, digits, '.', '-', up to 12, any case). */
const UNSUBSCRIBED = ['AAPL', 'MSFT', 'BRK.A', 'BRK-B', 'X', 'SPY', 'QQQ', 'nvda', 'brk.b', 'Tsla', 'A1B2C3D4E5F6', 'ZZZY'];

/** Strings that are not tickers: bad characters, empty, too long, not ASCII, control characters. */
const BAD_SYMBOLS = [
  '',
  ' ',
  'TQQQ ',
  ' TQQQ',
  'TQ QQ',
  'TQQQ!',
  'tq$q',
  'zz z',
  'zzzz?',
  'ÄBC',
  'ＴＱＱＱ',
  'TQQQ\n',
  '\u0000',
  'AM.TQQQ,',
  '<script>',
  'ZZZZ\u200b',
  'ZZZZZZZZZZZZZ',
  'ABCDEFGHIJKLM',
  'Z/Z',
  'Z_Z',
  'Z+Z',
  'Z:Z',
  '😀',
  'T\tQ',
  'DROP TABLE',
  'Z\\Z',
  'Z"Z',
];
const NON_STRINGS = ['123', '0', 'null', 'true', 'false', '[]', '{}', '["TQQQ"]', '{"s":"TQQQ"}', '1e999'];
/** Values no required numeric field may have: not numbers, or not finite. */
const NOT_FINITE_NUMBERS = [
  '"12.5"',
  '"NaN"',
  '"Infinity"',
  '"-Infinity"',
  'null',
  'true',
  'false',
  '{}',
  '[]',
  '[1]',
  '1e999',
  '-1e999',
  '"1e3"',
  '""',
  '"0x10"',
  '{"$numberDouble":"1"}',
];
/** Values an optional numeric field (vw, av, op, a, z) may not have (null would be fine: it means absent). */
const BAD_OPTIONALS = ['"1.5"', 'true', 'false', '{}', '[]', '1e999', '-1e999', '"NaN"', '"null"'];
const BAD_OTC = ['"true"', '1', '0', '"false"', '[]', '{}', '"yes"'];
const UNKNOWN_EVS = [
  'T',
  'Q',
  'XT',
  'XQ',
  'LULD',
  'NOI',
  'FMV',
  'am',
  'Am',
  'a',
  'AM ',
  ' AM',
  'AMM',
  '',
  'STATUS',
  'status ',
  'AM.TQQQ',
  'toString',
  'constructor',
  '__proto__',
  '\u0000',
  '😀',
  'Ä',
];
const NOT_OBJECTS = ['0', '-1', '1e999', '"AM"', '""', 'null', 'true', 'false', '[]', '[[]]', '[1,"a"]', '[{"ev":"AM"}]', '"{\\"ev\\":\\"AM\\"}"'];

export function createFuzzer(opts: FuzzOptions): { next(): FuzzFrame; readonly validLeft: number } {
  const rnd = seededRandom(opts.seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const chance = (p: number): boolean => rnd() < p;
  const subscribed = new Set(opts.subscribed.map((s) => s.toUpperCase()));
  for (const s of UNSUBSCRIBED) if (subscribed.has(s.toUpperCase())) throw new Error(`fuzz: ${s} must not be subscribed`);
  if (!subscribed.has(opts.target)) throw new Error('fuzz: the target symbol must be subscribed');
  const symbolsForBadBars = [...opts.subscribed, opts.target, opts.target.toLowerCase(), ...UNSUBSCRIBED];

  let index = 0;
  let nextValid = 0;
  let bigTurn = 0;

  const price = (): number => Math.round((1 + rnd() * 500) * 10_000) / 10_000;

  /** Fields of a well-formed aggregate for `sym` at `minuteMs`. */
  const aggregatePairs = (ev: 'AM' | 'A', sym: string, minuteMs: number): Pairs => {
    const o = price();
    const c = price();
    const h = Math.max(o, c) + Math.round(rnd() * 1000) / 10_000;
    const l = Math.max(0.0001, Math.min(o, c) - Math.round(rnd() * 1000) / 10_000);
    const s = ev === 'AM' ? minuteMs : minuteMs + int(0, 59) * 1000;
    const e = ev === 'AM' ? s + MINUTE_MS : s + 1000;
    return [
      ['ev', JSON.stringify(ev)],
      ['sym', JSON.stringify(sym)],
      ['v', String(int(0, 2_000_000))],
      ['av', String(int(0, 90_000_000))],
      ['op', String(price())],
      ['vw', String(price())],
      ['o', String(o)],
      ['c', String(c)],
      ['h', String(h)],
      ['l', String(l)],
      ['a', String(price())],
      ['z', String(int(1, 500))],
      ['s', String(s)],
      ['e', String(e)],
    ];
  };

  const badMinute = (): number => opts.badMinutes.fromMs + int(0, opts.badMinutes.count - 1) * MINUTE_MS;

  /** One aggregate with exactly one fault, and the reason the parser gives it. */
  const badAggregate = (): Element => {
    const ev = chance(0.85) ? 'AM' : 'A';
    const base = aggregatePairs(ev, pick(symbolsForBadBars), badMinute());
    const get = (k: string): number => Number(base.find(([key]) => key === k)![1]);
    const s = get('s');
    const h = get('h');
    const mutations: (() => [Pairs, RejectReason])[] = [
      () => [withoutPair(base, 'sym'), 'missing_field'],
      () => [setPair(base, 'sym', pick(NON_STRINGS)), 'bad_symbol'],
      () => [setPair(base, 'sym', JSON.stringify(pick(BAD_SYMBOLS))), 'bad_symbol'],
      // Too long, from characters a ticker may have.
      () => [setPair(base, 'sym', JSON.stringify('Z'.repeat(int(13, 300)))), 'bad_symbol'],
      () => [withoutPair(base, pick(['o', 'h', 'l', 'c', 'v', 's', 'e'])), 'missing_field'],
      () => [setPair(base, pick(['o', 'h', 'l', 'c', 'v', 's', 'e']), pick(NOT_FINITE_NUMBERS)), 'bad_field'],
      // Not an integer, or beyond 2^53.
      () => [setPair(base, 's', String(s + 0.5)), 'bad_field'],
      () => [setPair(base, 'e', pick([String(s + MINUTE_MS + 0.25), '1e300', '9007199254740993'])), 'bad_field'],
      () => [setPair(base, 's', pick(['9007199254740993', '1e20', '-1e300'])), 'bad_field'],
      () => [setPair(base, pick(['vw', 'av', 'op', 'a', 'z']), pick(BAD_OPTIONALS)), 'bad_field'],
      () => [setPair(base, 'otc', pick(BAD_OTC)), 'bad_field'],
      () => [setPair(base, 'v', pick(['-1', '-0.5', '-1e9', '-2000000'])), 'bad_range'],
      () => [setPair(base, 'e', pick([String(s), String(s - 1), String(s - MINUTE_MS)])), 'bad_range'],
      () => [setPair(setPair(base, 's', pick(['-60000', '-1'])), 'e', '0'), 'bad_range'],
      () => [setPair(base, pick(['o', 'h', 'l', 'c']), pick(['0', '-1', '-0.01', '-1e300'])), 'bad_range'],
      () => [setPair(base, 'l', String(h + 1)), 'bad_range'],
    ];
    const [pairs, reason] = pick(mutations)();
    // Shuffle the keys now and then: the parser must not depend on their order.
    if (chance(0.2)) pairs.sort(() => rnd() - 0.5);
    return { text: objectText(pairs), count: reject(reason) };
  };

  const randomText = (n: number, alphabet: string): string => {
    const chars: string[] = [];
    for (let i = 0; i < Math.min(n, 4096); i++) chars.push(alphabet[Math.floor(rnd() * alphabet.length)]!);
    const block = chars.join('');
    // Long junk repeats a random block: as hostile to the parser, and cheap to make.
    return n <= block.length ? block : block.repeat(Math.floor(n / block.length)) + block.slice(0, n % block.length);
  };

  const nested = (depth: number, open: string, close: string, core: string): string => open.repeat(depth) + core + close.repeat(depth);

  /** Any element that is not a valid bar of a subscribed symbol. */
  const junkElement = (): Element => {
    const r = rnd();
    if (r < 0.5) return badAggregate();
    if (r < 0.58) return { text: pick(NOT_OBJECTS), count: reject('not_object') };
    if (r < 0.6) return { text: nested(int(2, 60), '[', ']', ''), count: reject('not_object') };
    if (r < 0.65) {
      const pairs: Pairs = pick<Pairs>([
        [],
        [
          ['sym', '"TQQQ"'],
          ['o', '1'],
        ],
        [['EV', '"AM"']],
        [['ev ', '"AM"']],
        [['__proto__', '{"ev":"AM","sym":"ZZZZ"}']],
        [
          ['Ev', '"status"'],
          ['status', '"connected"'],
        ],
      ]);
      return { text: objectText(pairs), count: reject('missing_field') };
    }
    if (r < 0.7) {
      const value = chance(0.8) ? pick(['1', 'null', 'true', '{}', '[]', '["AM"]', '{"AM":1}']) : nested(int(2, 200), '{"x":', '}', '1');
      return {
        text: objectText([
          ['ev', value],
          ['sym', '"ZZZZ"'],
        ]),
        count: reject('bad_field'),
      };
    }
    if (r < 0.8) {
      const ev = chance(0.9) ? pick(UNKNOWN_EVS) : randomText(int(65, 400), 'abcXYZ019 .-_');
      return {
        text: objectText([
          ['ev', JSON.stringify(ev)],
          ['sym', '"ZZZZ"'],
          ['p', String(price())],
        ]),
        count: (e) => void (e.unknown += 1),
      };
    }
    if (r < 0.84)
      return {
        text: objectText([
          ['ev', '"status"'],
          ['message', '"no status"'],
        ]),
        count: reject('missing_field'),
      };
    if (r < 0.88)
      return {
        text: objectText([
          ['ev', '"status"'],
          ['status', pick(['1', 'null', 'true', '{}', '["connected"]'])],
        ]),
        count: reject('bad_field'),
      };
    if (r < 0.9) {
      // Well formed but unknown: the gateway logs it and carries on.
      const message = pick(['"hello"', '1', 'null', '{"a":1}', JSON.stringify(randomText(int(0, 300), 'abc '))]);
      return {
        text: objectText([
          ['ev', '"status"'],
          ['status', JSON.stringify(`fuzz_${randomText(int(1, 12), 'abcdefghij_')}`)],
          ['message', message],
        ]),
        count: (e) => void (e.status += 1),
      };
    }
    if (r < 0.94) {
      // A well-formed second bar: counted, never published.
      return { text: objectText(aggregatePairs('A', pick(symbolsForBadBars), badMinute())), count: (e) => void (e.a += 1) };
    }
    if (r < 0.97) {
      // A well-formed minute bar of a symbol nobody subscribed.
      return {
        text: objectText(aggregatePairs('AM', pick(UNSUBSCRIBED), badMinute())),
        count: (e) => {
          e.am += 1;
          e.unsubscribed += 1;
        },
      };
    }
    if (r < 0.985)
      return {
        text: objectText([
          ['ev', '"AM"'],
          ['sym', nested(int(2, 100), '[', ']', '"ZZZZ"')],
        ]),
        count: reject('bad_symbol'),
      };
    return {
      text: objectText([
        ['ev', '"AM"'],
        ['sym', '"ZZZZ"'],
        ['o', nested(int(2, 100), '{"v":', '}', '1')],
      ]),
      count: reject('bad_field'),
    };
  };

  /** The next valid bar of the target symbol, or null when they are all given out. */
  const validBar = (): { text: string; bar: ValidBar } | null => {
    if (nextValid >= opts.validBars) return null;
    const minuteMs = opts.firstValidMinuteMs + nextValid * MINUTE_MS;
    nextValid += 1;
    let pairs = aggregatePairs('AM', opts.target, minuteMs);
    const get = (k: string): number => Number(pairs.find(([key]) => key === k)![1]);
    let vwap: number | null = get('vw');
    const shape = rnd();
    if (shape < 0.15) {
      // Only the fields the parser requires.
      pairs = pairs.filter(([k]) => ['ev', 'sym', 'o', 'h', 'l', 'c', 'v', 's', 'e'].includes(k));
      vwap = null;
    } else if (shape < 0.25) {
      pairs = setPair(setPair(pairs, 'vw', 'null'), 'otc', pick(['null', 'false', 'true']));
      vwap = null;
    } else if (shape < 0.35) {
      pairs = [...pairs, ['x', '[1,{"y":null}]'], ['T', '"extra"'], ['n', '42']];
    } else if (shape < 0.4) {
      pairs = setPair(pairs, 'v', '0');
    } else if (shape < 0.45) {
      // Extreme but valid values.
      pairs = setPair(setPair(setPair(setPair(setPair(pairs, 'o', '0.0001'), 'l', '0.0001'), 'h', '1e15'), 'c', '123456.789'), 'v', '1e12');
    }
    if (chance(0.2)) pairs.sort(() => rnd() - 0.5);
    const s = get('s');
    return {
      text: objectText(pairs),
      bar: {
        minuteMs,
        expected: { symbol: opts.target, open: get('o'), high: get('h'), low: get('l'), close: get('c'), volume: get('v'), vwap, startMs: s, endMs: get('e') },
      },
    };
  };

  const arrayOf = (elements: string[], pad = false): string => (pad ? `[ ${elements.join(' ,\n ')} ]` : `[${elements.join(',')}]`);

  /** Bad elements, plus (for `mixed`) one valid target bar at a random place. */
  const elementsFrame = (n: number, withValid: boolean): { text: string; expect: FuzzExpectation; valid: ValidBar[] } => {
    const expect = emptyExpectation();
    const texts: string[] = [];
    for (let i = 0; i < n; i++) {
      const el = junkElement();
      el.count(expect);
      texts.push(el.text);
    }
    const valid: ValidBar[] = [];
    if (withValid) {
      const v = validBar();
      if (v) {
        texts.splice(int(0, texts.length), 0, v.text);
        expect.am += 1;
        valid.push(v.bar);
      }
    }
    return { text: arrayOf(texts, chance(0.1)), expect, valid };
  };

  const one = (reason: RejectReason): FuzzExpectation => {
    const e = emptyExpectation();
    e.rejects[reason] = 1;
    return e;
  };

  const mustNotParse = (text: string): string => {
    try {
      JSON.parse(text);
    } catch {
      return text;
    }
    throw new Error(`fuzz generator: ${JSON.stringify(text.slice(0, 80))} was meant not to be JSON`);
  };

  const notJsonText = (): string => {
    const r = rnd();
    if (r < 0.45) {
      return pick([
        '',
        ' ',
        '\n',
        'x',
        'undefined',
        'NaN',
        'Infinity',
        '-Infinity',
        '[NaN]',
        '[Infinity]',
        '[undefined]',
        "['AM']",
        '[0x10]',
        '[01]',
        '[.5]',
        '[+1]',
        '[1e]',
        '["\\x41"]',
        '["unterminated',
        '[]x',
        '[] []',
        '{}{}',
        '[1,]',
        '[,1]',
        '{"a":1,}',
        '{ev:"AM"}',
        '[{"ev":"AM",}]',
        '\uFEFF[]',
        'null null',
        '[]]',
        '[[]',
        '[/* c */]',
        '// c\n[]',
        '[{"ev":"AM","sym":"TQQQ","o":1,"o":}]',
        '"\\u12"',
        '"\\q"',
        '[tru]',
        '[nul]',
        'True',
        '<html></html>',
        'HTTP/1.1 200 OK',
        '\u0000',
        '[1 2]',
        '{"a" 1}',
        '["a\nb"]',
      ]);
    }
    const start = pick(['x', '<', '}', ']', ':', ',', "'", '#', '@', '\\', 'ä', '😀', '\u0007']);
    return start + randomText(int(0, 800), 'abc{}[]":,0123456789 .-+eE\\/ntfu\u00e9\u20ac');
  };

  /** Text that JSON.parse reads as something other than an array. */
  const notArrayText = (): string => {
    const am = objectText(aggregatePairs('AM', opts.target, opts.hiddenMinutes.fromMs));
    return pick([
      am, // a valid bar of the target, not wrapped in an array: must not be published
      '{"ev":"status","status":"connected","message":"Connected Successfully"}',
      '{}',
      '0',
      '-1.5',
      '1e999',
      '"[]"',
      '"AM"',
      'true',
      'false',
      'null',
      '  {"a":[1,2,3]}  ',
      JSON.stringify({ data: [{ ev: 'AM' }] }),
      `"${'x'.repeat(int(1, 2000))}"`,
    ]);
  };

  /** Random bytes that are not UTF-8 (a 0xFF byte never is), sent as a binary frame. */
  const binaryGarbage = (): Uint8Array => {
    const n = int(1, 3000);
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = int(0, 255);
    const at = int(0, n - 1);
    bytes[at] = pick([0xff, 0xfe, 0xc0, 0xc1, 0xf5, 0xf8]);
    if (chance(0.3)) {
      // Valid JSON up to the bad byte.
      const head = new TextEncoder().encode('[{"ev":"AM","sym":"');
      if (head.length < n) bytes.set(head.subarray(0, Math.min(head.length, at)), 0);
    }
    return bytes;
  };

  /** Bars of the target for minutes that must never be published (they sit in oversized frames). */
  const hiddenBars = (count: number): string[] => {
    const out: string[] = [];
    for (let i = 0; i < count; i++)
      out.push(objectText(aggregatePairs('AM', opts.target, opts.hiddenMinutes.fromMs + (i % opts.hiddenMinutes.count) * MINUTE_MS)));
    return out;
  };

  const big = (): { kind: FrameKind; data: string | Uint8Array; expect: FuzzExpectation; valid: ValidBar[] } => {
    const max = opts.maxFrameBytes;
    const turn = bigTurn++ % 5;
    if (turn === 0) {
      // Valid JSON with hidden bars, one byte over the limit and more.
      const head = `[${hiddenBars(3).join(',')}`;
      const text = `${head}${' '.repeat(max + 1 + int(0, 4096) - head.length - 1)}]`;
      return { kind: 'oversized_padded', data: text, expect: one('oversized'), valid: [] };
    }
    if (turn === 1) {
      // Fewer characters than the limit, more UTF-8 bytes (3 per '€').
      const chars = Math.ceil((max + 1) / 3) + int(0, 1000);
      return { kind: 'oversized_multibyte', data: `["${'€'.repeat(chars)}"]`, expect: one('oversized'), valid: [] };
    }
    if (turn === 2) {
      const n = max + 1 + int(0, 100_000);
      const bytes = new Uint8Array(n).fill(0x20);
      bytes[0] = 0x5b; // '['
      bytes[n - 1] = 0x5d; // ']'
      return { kind: 'oversized_binary', data: bytes, expect: one('oversized'), valid: [] };
    }
    if (turn === 3) {
      const bars: string[] = [];
      const unit = hiddenBars(opts.hiddenMinutes.count);
      // '[' + bars joined by ',' + ']', all ASCII: grow past the limit.
      for (let size = 1; size <= max; size += unit[bars.length % unit.length]!.length + 1) bars.push(unit[bars.length % unit.length]!);
      const text = `[${bars.join(',')}]`;
      if (text.length <= max) throw new Error('fuzz generator: many-bars frame is not oversized');
      return { kind: 'oversized_many_bars', data: text, expect: one('oversized'), valid: [] };
    }
    // Exactly at the limit, which is allowed: bad elements and a valid bar, parsed as usual.
    const frame = elementsFrame(int(5, 30), true);
    const body = frame.text.slice(1);
    const pad = max - Buffer.byteLength(frame.text, 'utf8');
    const text = `[${' '.repeat(pad)}${body}`;
    if (Buffer.byteLength(text, 'utf8') !== max) throw new Error('fuzz generator: at-limit frame has the wrong size');
    return { kind: 'at_limit_mixed', data: chance(0.5) ? text : new TextEncoder().encode(text), expect: frame.expect, valid: frame.valid };
  };

  const next = (): FuzzFrame => {
    const i = index++;
    let kind: FrameKind;
    let data: string | Uint8Array;
    let expect = emptyExpectation();
    let valid: ValidBar[] = [];
    if (i % opts.bigEvery === opts.bigEvery - 1) {
      ({ kind, data, expect, valid } = big());
    } else {
      const r = rnd();
      if (r < 0.07) {
        kind = 'not_json';
        data = mustNotParse(notJsonText());
        expect = one('not_json');
      } else if (r < 0.14) {
        kind = 'truncated';
        const whole = elementsFrame(int(1, 6), false).text;
        data = mustNotParse(whole.slice(0, int(0, whole.length - 1)));
        expect = one('not_json');
      } else if (r < 0.19) {
        kind = 'not_array';
        data = notArrayText();
        if (Array.isArray(JSON.parse(data))) throw new Error('fuzz generator: not_array frame is an array');
        expect = one('not_array');
      } else if (r < 0.24) {
        kind = 'binary_garbage';
        data = binaryGarbage();
        expect = one('not_json');
      } else if (r < 0.25) {
        kind = 'empty_array';
        data = pick(['[]', '[ ]', ' [\n] ']);
      } else if (r < 0.27) {
        kind = 'deep_nesting';
        const depth = chance(0.9) ? int(100, 5_000) : int(20_000, 100_000);
        // The root is an array whose one element is an array: one not_object.
        data = nested(depth, '[', ']', '');
        expect = one('not_object');
      } else if (r < 0.28) {
        kind = 'big_string';
        data = `[${JSON.stringify(randomText(int(10_000, 300_000), 'AMZ{}[]",: '))}]`;
        expect = one('not_object');
      } else if (r < 0.33) {
        kind = 'binary_json';
        const frame = elementsFrame(int(1, 12), chance(0.3));
        data = new TextEncoder().encode(frame.text);
        expect = frame.expect;
        valid = frame.valid;
      } else if (r < 0.37 && nextValid < opts.validBars) {
        kind = 'mixed';
        const frame = elementsFrame(int(1, 15), true);
        data = frame.text;
        expect = frame.expect;
        valid = frame.valid;
      } else {
        kind = 'bad_elements';
        const frame = elementsFrame(int(1, 12), false);
        data = frame.text;
        expect = frame.expect;
      }
    }
    const bytes = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength;
    return { index: i, kind, data, bytes, expect, valid };
  };

  return {
    next,
    get validLeft() {
      return opts.validBars - nextValid;
    },
  };
}
