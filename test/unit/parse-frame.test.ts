import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { DEFAULT_MAX_FRAME_BYTES, DETAIL_MAX_CHARS, REJECT_REASONS, parseFrame } from '../../src/feed/parse-frame.ts';
import type { ParsedFrame, RejectReason } from '../../src/feed/parse-frame.ts';

const AM = {
  ev: 'AM',
  sym: 'TQQQ',
  v: 182341,
  av: 1204556,
  op: 101.22,
  vw: 101.3187,
  o: 101.25,
  c: 101.4,
  h: 101.48,
  l: 101.11,
  a: 101.2719,
  z: 97,
  s: 1762180200000,
  e: 1762180260000,
};

const frame = (...elements: unknown[]): string => JSON.stringify(elements);

function onlyReject(result: ParsedFrame): { reason: RejectReason; detail: string } {
  assert.equal(result.events.length, 0, `expected no events, got ${JSON.stringify(result.events)}`);
  assert.equal(result.rejects.length, 1, `expected one reject, got ${JSON.stringify(result.rejects)}`);
  const r = result.rejects[0]!;
  assert.ok(r.detail.length > 0 && r.detail.length <= DETAIL_MAX_CHARS, `detail length ${r.detail.length}`);
  return r;
}

/** The reason an AM element with `patch` applied is rejected for. */
function rejectReasonOf(patch: Record<string, unknown>, remove: string[] = []): RejectReason {
  const el: Record<string, unknown> = { ...AM, ...patch };
  for (const key of remove) delete el[key];
  return onlyReject(parseFrame(frame(el))).reason;
}

describe('parseFrame: well-formed frames', () => {
  it('parses the handshake status events', () => {
    const { events, rejects } = parseFrame('[{"ev":"status","status":"connected","message":"Connected Successfully"}]');
    assert.deepEqual(rejects, []);
    assert.deepEqual(events, [{ kind: 'status', event: { ev: 'status', status: 'connected', message: 'Connected Successfully' } }]);
    const auth = parseFrame('[{"ev":"status","status":"auth_failed","message":"authentication failed"}]');
    assert.deepEqual(auth.events, [{ kind: 'status', event: { ev: 'status', status: 'auth_failed', message: 'authentication failed' } }]);
  });

  it('keeps unknown status values and drops a non-string message but not the status', () => {
    const { events, rejects } = parseFrame(frame({ ev: 'status', status: 'brand_new_state', message: 42 }));
    assert.deepEqual(rejects, []);
    assert.deepEqual(events, [{ kind: 'status', event: { ev: 'status', status: 'brand_new_state' } }]);
  });

  it('parses an AM event as a minute with every field', () => {
    const { events, rejects } = parseFrame(frame(AM));
    assert.deepEqual(rejects, []);
    assert.deepEqual(events, [{ kind: 'minute', event: AM }]);
  });

  it('classifies A events as second', () => {
    const second = { ...AM, ev: 'A', s: 1762180200000, e: 1762180201000 };
    const { events, rejects } = parseFrame(frame(second));
    assert.deepEqual(rejects, []);
    assert.deepEqual(events, [{ kind: 'second', event: second }]);
  });

  it('accepts an AM without the optional fields, or with them null, and keeps otc', () => {
    const { vw: _a, av: _b, op: _c, a: _d, z: _e, ...bare } = AM;
    const r1 = parseFrame(frame(bare, { ...AM, vw: null, a: null, otc: true }));
    assert.deepEqual(r1.rejects, []);
    assert.deepEqual(r1.events[0], { kind: 'minute', event: bare });
    const { vw: _f, a: _g, ...rest } = AM;
    assert.deepEqual(r1.events[1], { kind: 'minute', event: { ...rest, otc: true } });
  });

  it('reports unknown ev values as unknown, not as errors', () => {
    const { events, rejects } = parseFrame(frame({ ev: 'T', sym: 'TQQQ', p: 1 }, { ev: 'LULD' }, { ev: 'x'.repeat(500) }));
    assert.deepEqual(rejects, []);
    assert.equal(events.length, 3);
    assert.deepEqual(events[0], { kind: 'unknown', ev: 'T' });
    assert.deepEqual(events[1], { kind: 'unknown', ev: 'LULD' });
    const third = events[2]!;
    assert.equal(third.kind, 'unknown');
    assert.ok(third.kind === 'unknown' && third.ev.length <= 64);
  });

  it('copies only known fields', () => {
    const text = `[${JSON.stringify({ ...AM, extra: 'x' }).slice(0, -1)},"__proto__":{"polluted":true}}]`;
    const { events, rejects } = parseFrame(text);
    assert.deepEqual(rejects, []);
    assert.equal(events.length, 1);
    const ev = events[0]!;
    assert.ok(ev.kind === 'minute');
    assert.deepEqual(Object.keys(ev.event).sort(), Object.keys(AM).sort());
    assert.equal(Object.getPrototypeOf(ev.event), Object.prototype);
    assert.equal((ev.event as unknown as Record<string, unknown>)['polluted'], undefined);
  });

  it('accepts Buffer, ArrayBuffer and Buffer[] input', () => {
    const text = frame(AM, { ev: 'status', status: 'success', message: 'subscribed to: AM.TQQQ' });
    const buf = Buffer.from(text);
    const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const parts = [buf.subarray(0, 10), buf.subarray(10)];
    for (const input of [buf, ab, parts]) {
      const { events, rejects } = parseFrame(input);
      assert.deepEqual(rejects, []);
      assert.equal(events.length, 2);
      assert.equal(events[0]!.kind, 'minute');
      assert.equal(events[1]!.kind, 'status');
    }
  });

  it('returns nothing for an empty array', () => {
    assert.deepEqual(parseFrame('[]'), { events: [], rejects: [] });
  });
});

describe('parseFrame: whole-frame rejects', () => {
  it('rejects text that is not JSON, quoting at most 200 characters', () => {
    assert.equal(onlyReject(parseFrame('hello')).reason, 'not_json');
    assert.equal(onlyReject(parseFrame('')).reason, 'not_json');
    assert.equal(onlyReject(parseFrame('[{"ev":"AM",')).reason, 'not_json');
    const long = onlyReject(parseFrame(`not json ${'z'.repeat(10_000)}`));
    assert.equal(long.reason, 'not_json');
    assert.ok(long.detail.length <= DETAIL_MAX_CHARS);
  });

  it('rejects bytes that are not UTF-8 as not_json', () => {
    assert.equal(onlyReject(parseFrame(Buffer.from([0x5b, 0xff, 0xfe, 0x5d]))).reason, 'not_json');
  });

  it('rejects JSON that is not an array', () => {
    for (const text of ['{"ev":"status","status":"connected"}', '42', 'null', '"AM"', 'true']) {
      assert.equal(onlyReject(parseFrame(text)).reason, 'not_array', text);
    }
  });

  it('rejects an oversized frame without parsing it', () => {
    const small = { maxBytes: 100 };
    assert.equal(onlyReject(parseFrame('x'.repeat(101), small)).reason, 'oversized'); // would be not_json
    assert.equal(onlyReject(parseFrame(Buffer.alloc(101, 0x20), small)).reason, 'oversized');
    assert.equal(onlyReject(parseFrame([Buffer.alloc(60, 0x20), Buffer.alloc(41, 0x20)], small)).reason, 'oversized');
    // 40 three-byte characters: 40 UTF-16 units but 120 bytes.
    assert.equal(onlyReject(parseFrame(`["${'€'.repeat(40)}"]`, small)).reason, 'oversized');
    // At the limit exactly: parsed.
    const atLimit = `[${' '.repeat(98)}]`;
    assert.deepEqual(parseFrame(atLimit, small), { events: [], rejects: [] });
  });

  it('defaults to a 4 MiB limit', () => {
    assert.equal(DEFAULT_MAX_FRAME_BYTES, 4 * 1024 * 1024);
    const big = `[${' '.repeat(DEFAULT_MAX_FRAME_BYTES)}]`;
    assert.equal(onlyReject(parseFrame(big)).reason, 'oversized');
    const fits = `[${' '.repeat(DEFAULT_MAX_FRAME_BYTES - 2)}]`;
    assert.deepEqual(parseFrame(fits), { events: [], rejects: [] });
  });
});

describe('parseFrame: element rejects', () => {
  it('rejects elements that are not objects', () => {
    const { events, rejects } = parseFrame(frame(null, 1, 'AM', [AM], true));
    assert.deepEqual(events, []);
    assert.deepEqual(
      rejects.map((r) => r.reason),
      ['not_object', 'not_object', 'not_object', 'not_object', 'not_object'],
    );
  });

  it('rejects an element without ev, or with a non-string ev', () => {
    assert.equal(rejectReasonOf({}, ['ev']), 'missing_field');
    assert.equal(rejectReasonOf({ ev: 7 }), 'bad_field');
    assert.equal(rejectReasonOf({ ev: null }), 'bad_field');
  });

  it('rejects a status event without a string status', () => {
    assert.equal(onlyReject(parseFrame(frame({ ev: 'status', message: 'hi' }))).reason, 'missing_field');
    assert.equal(onlyReject(parseFrame(frame({ ev: 'status', status: 1 }))).reason, 'bad_field');
  });

  it('rejects each missing required field', () => {
    for (const key of ['o', 'h', 'l', 'c', 'v', 's', 'e']) {
      assert.equal(rejectReasonOf({}, [key]), 'missing_field', key);
    }
    assert.equal(rejectReasonOf({}, ['sym']), 'missing_field');
  });

  it('rejects non-numeric required fields: numeric strings, null, booleans, objects', () => {
    for (const key of ['o', 'h', 'l', 'c', 'v', 's', 'e']) {
      for (const bad of ['1.2', null, true, false, {}, [1]]) {
        assert.equal(rejectReasonOf({ [key]: bad }), 'bad_field', `${key}=${JSON.stringify(bad)}`);
      }
    }
  });

  it('rejects non-numeric optional fields when present', () => {
    for (const key of ['vw', 'av', 'op', 'a', 'z']) {
      assert.equal(rejectReasonOf({ [key]: '101.3' }), 'bad_field', key);
      assert.equal(rejectReasonOf({ [key]: false }), 'bad_field', key);
    }
    assert.equal(rejectReasonOf({ otc: 'yes' }), 'bad_field');
  });

  it('rejects non-integer s or e', () => {
    assert.equal(rejectReasonOf({ s: 1762180200000.5 }), 'bad_field');
    assert.equal(rejectReasonOf({ e: 1762180260000.25 }), 'bad_field');
    assert.equal(rejectReasonOf({ s: 1e300, e: 2e300 }), 'bad_field');
  });

  it('rejects bad symbols', () => {
    for (const sym of ['', 'TQ QQ', 'ABCDEFGHIJKLM', 'TQ_QQ', 'AM.TQQQ;', 42, null, '<script>']) {
      assert.equal(rejectReasonOf({ sym }), 'bad_symbol', String(sym));
    }
    assert.deepEqual(parseFrame(frame({ ...AM, sym: 'BRK.B' })).rejects, []);
    assert.deepEqual(parseFrame(frame({ ...AM, sym: 'BRK-A' })).rejects, []);
  });

  it('rejects impossible ranges', () => {
    assert.equal(rejectReasonOf({ e: AM.s }), 'bad_range'); // e == s
    assert.equal(rejectReasonOf({ e: AM.s - 60_000 }), 'bad_range'); // e < s
    assert.equal(rejectReasonOf({ v: -1 }), 'bad_range');
    assert.equal(rejectReasonOf({ l: 102, h: 101 }), 'bad_range');
    assert.equal(rejectReasonOf({ o: 0 }), 'bad_range');
    assert.equal(rejectReasonOf({ l: -5 }), 'bad_range');
    assert.equal(rejectReasonOf({ s: -60_000, e: 0 }), 'bad_range');
    // Legal edge values.
    assert.deepEqual(parseFrame(frame({ ...AM, v: 0 })).rejects, []);
    assert.deepEqual(parseFrame(frame({ ...AM, l: 101, h: 101 })).rejects, []);
  });

  it('keeps the good elements of a mixed frame, in order', () => {
    const sqqq = { ...AM, sym: 'SQQQ', o: 17.1, h: 17.2, l: 17.0, c: 17.15 };
    const { events, rejects } = parseFrame(
      frame(
        AM,
        { ...AM, sym: 'TNA', c: '1.2' },
        null,
        { ev: 'status', status: 'success', message: 'subscribed to: AM.SQQQ' },
        { ...AM, sym: 'TZA', e: AM.s },
        { ev: 'XQ' },
        sqqq,
      ),
    );
    assert.deepEqual(
      events.map((e) => e.kind),
      ['minute', 'status', 'unknown', 'minute'],
    );
    assert.deepEqual(events[0], { kind: 'minute', event: AM });
    assert.deepEqual(events[3], { kind: 'minute', event: sqqq });
    assert.deepEqual(
      rejects.map((r) => r.reason),
      ['bad_field', 'not_object', 'bad_range'],
    );
    assert.match(rejects[0]!.detail, /TNA/);
    assert.match(rejects[0]!.detail, /"c"/);
    assert.match(rejects[2]!.detail, /TZA/);
  });

  it('keeps every detail short, even for huge bad values', () => {
    const huge = 'x'.repeat(100_000);
    const { rejects } = parseFrame(frame({ ...AM, o: huge }, { ...AM, sym: huge }, { ev: 'status', status: { huge } }, [huge]));
    assert.equal(rejects.length, 4);
    for (const r of rejects) assert.ok(r.detail.length <= DETAIL_MAX_CHARS, `${r.reason}: ${r.detail.length}`);
  });

  it('never throws on hostile input', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const inputs: unknown[] = [deep, '[1e999]', '[{"ev":"AM","o":1e999}]', '\u0000', '[{"ev":"AM","sym":"A","__proto__":null}]'];
    for (const input of inputs) {
      const result = parseFrame(input as string);
      assert.ok(Array.isArray(result.events) && Array.isArray(result.rejects));
      assert.ok(result.events.length + result.rejects.length >= 1);
    }
  });

  it('exposes every reason for metric labels', () => {
    assert.deepEqual([...REJECT_REASONS].sort(), ['bad_field', 'bad_range', 'bad_symbol', 'missing_field', 'not_array', 'not_json', 'not_object', 'oversized']);
  });
});
