/**
 * The simulator against a real `ws` client over a real socket, with a fast clock
 * (one market minute = 200 wall ms) so that each scenario takes a second or two.
 */

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { AggregateEvent, StatusEvent } from '../../src/contracts/polygon-wire.ts';
import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';
import { MINUTE_MS, minuteStart } from '../../src/contracts/time-format.ts';
import {
  CLOSE_POLICY,
  DISCONNECT_MESSAGE,
  runSimulator,
  simCorrectedBar,
  simMinuteBar,
  simRestAggregate,
  simSecondBar,
  startSimulator,
} from '../../src/sim/index.ts';
import type { SentBar, Simulator, SimulatorOptions } from '../../src/sim/index.ts';
import { eventually } from '../support/gateway.ts';

const KEY = 'test-key-0123456789';
const MS_PER_MINUTE = 200;
const START = Date.UTC(2025, 5, 10, 14, 30, 0); // 10:30 New York, a Tuesday

type Event = AggregateEvent | StatusEvent;

interface Frame {
  text: string;
  events: Event[] | null;
}

/** A real WebSocket client that records every frame and lets a test await a condition. */
class TestClient {
  readonly ws: WebSocket;
  readonly frames: Frame[] = [];
  pongs = 0;
  closeInfo: { code: number; reason: string } | undefined;
  private readonly wake = new Set<() => void>();

  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data: Buffer) => {
      const text = data.toString('utf8');
      let events: Event[] | null = null;
      try {
        const parsed: unknown = JSON.parse(text);
        if (Array.isArray(parsed)) events = parsed as Event[];
      } catch {
        events = null;
      }
      this.frames.push({ text, events });
      this.notify();
    });
    this.ws.on('pong', () => {
      this.pongs++;
      this.notify();
    });
    this.ws.on('close', (code, reason) => {
      this.closeInfo = { code, reason: reason.toString() };
      this.notify();
    });
    this.ws.on('error', () => this.notify());
  }

  static async connect(url: string): Promise<TestClient> {
    const client = new TestClient(url);
    await client.until(() => client.events().find((e) => e.ev === 'status' && e.status === 'connected'), 'connected');
    return client;
  }

  /** Connect, authenticate and subscribe; resolves once every channel is acknowledged. */
  static async ready(sim: Simulator, channels: string[] = []): Promise<TestClient> {
    const client = await TestClient.connect(sim.wsUrl);
    client.send({ action: 'auth', params: KEY });
    await client.until(() => client.status('auth_success'), 'auth_success');
    if (channels.length > 0) {
      client.send({ action: 'subscribe', params: channels.join(',') });
      await client.until(() => channels.every((c) => client.statusMessages().includes(`subscribed to: ${c}`)) || undefined, 'subscription acks');
    }
    return client;
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  events(): Event[] {
    return this.frames.flatMap((f) => f.events ?? []);
  }

  status(status: string): StatusEvent | undefined {
    return this.events().find((e): e is StatusEvent => e.ev === 'status' && e.status === status);
  }

  statusMessages(): string[] {
    return this.events()
      .filter((e): e is StatusEvent => e.ev === 'status')
      .map((e) => e.message ?? '');
  }

  bars(ev: 'AM' | 'A' = 'AM'): AggregateEvent[] {
    return this.events().filter((e): e is AggregateEvent => e.ev === ev);
  }

  /** Resolves with the first truthy value of `find`, re-checked on every frame, pong and close. */
  until<T>(find: () => T | undefined | false, what: string, timeoutMs = 5_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const found = find();
        if (found === undefined || found === false) return false;
        cleanup();
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `timed out waiting for ${what}; last frames: ${this.frames
              .slice(-3)
              .map((f) => f.text)
              .join(' | ')}`,
          ),
        );
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.wake.delete(onWake);
      };
      const onWake = (): void => {
        check();
      };
      this.wake.add(onWake);
      check();
    });
  }

  closed(): Promise<{ code: number; reason: string }> {
    return this.until(() => this.closeInfo, 'close');
  }

  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
  }

  private notify(): void {
    for (const fn of [...this.wake]) fn();
  }
}

const sims: Simulator[] = [];
const clients: TestClient[] = [];

async function sim(opts: Partial<SimulatorOptions> = {}): Promise<Simulator> {
  const s = await startSimulator({ apiKey: KEY, startMarketMs: START, msPerMinute: MS_PER_MINUTE, ...opts });
  sims.push(s);
  return s;
}

async function ready(s: Simulator, channels: string[] = []): Promise<TestClient> {
  const c = await TestClient.ready(s, channels);
  clients.push(c);
  return c;
}

async function connect(s: Simulator): Promise<TestClient> {
  const c = await TestClient.connect(s.wsUrl);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sims.splice(0)) await s.close();
});

/** The next minute whose bars are not out yet, `ahead` minutes on. */
function upcoming(s: Simulator, ahead = 1): number {
  return s.lastEmittedMinute() + ahead * MINUTE_MS;
}

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown>, text };
}

describe('simulator: handshake and control protocol', () => {
  it('greets, refuses actions before auth, tolerates garbage, authenticates and acknowledges per channel', async () => {
    const s = await sim();
    const c = await connect(s);
    assert.equal(c.frames[0]?.text, '[{"ev":"status","status":"connected","message":"Connected Successfully"}]');

    c.send({ action: 'subscribe', params: 'AM.TQQQ' });
    await c.until(() => c.statusMessages().includes('not authorized'), 'not authorized');
    c.send('this is {not json');
    await c.until(() => c.statusMessages().includes('invalid message'), 'invalid message');
    assert.equal(c.ws.readyState, WebSocket.OPEN);

    c.send({ action: 'auth', params: KEY });
    const ok = await c.until(() => c.status('auth_success'), 'auth_success');
    assert.equal(ok.message, 'authenticated');

    const before = c.frames.length;
    c.send({ action: 'subscribe', params: 'AM.TQQQ, A.SQQQ' });
    await c.until(() => c.frames.length >= before + 2, 'two acks');
    assert.deepEqual(
      c.frames.slice(before, before + 2).map((f) => f.events),
      [[{ ev: 'status', status: 'success', message: 'subscribed to: AM.TQQQ' }], [{ ev: 'status', status: 'success', message: 'subscribed to: A.SQQQ' }]],
    );
    c.send({ action: 'unsubscribe', params: 'A.SQQQ' });
    await c.until(() => c.statusMessages().includes('unsubscribed to: A.SQQQ'), 'unsubscribe ack');
    assert.deepEqual(s.subscriptions(), ['AM.TQQQ']);

    assert.equal(s.stats.authAttempts.length, 1);
    const attempt = s.stats.authAttempts[0]!;
    assert.equal(attempt.result, 'success');
    assert.ok(attempt.wallMs > 0 && attempt.monoMs > 0 && attempt.marketMs >= START);
    assert.equal(s.stats.badClientMessages, 1);
  });

  it('answers a wrong key with auth_failed and closes the socket', async () => {
    const s = await sim();
    const c = await connect(s);
    c.send({ action: 'auth', params: 'wrong-key' });
    const closed = await c.closed();
    assert.equal(closed.code, CLOSE_POLICY);
    assert.deepEqual(c.frames.at(-1)?.events, [{ ev: 'status', status: 'auth_failed', message: 'authentication failed' }]);
    assert.equal(s.stats.authAttempts[0]?.result, 'failed');
  });

  it('refuses a second authenticated connection with max_connections, and frees the slot on close', async () => {
    const s = await sim();
    const first = await ready(s);
    const second = await connect(s);
    second.send({ action: 'auth', params: KEY });
    const closed = await second.closed();
    assert.equal(closed.code, CLOSE_POLICY);
    assert.equal(second.status('max_connections')?.status, 'max_connections');
    assert.equal(first.ws.readyState, WebSocket.OPEN);

    const gone = s.waitFor('close', (e) => e.connId === 1);
    first.ws.close();
    await gone;
    const third = await ready(s);
    assert.ok(third.status('auth_success'));
    assert.deepEqual(
      s.stats.authAttempts.map((a) => a.result),
      ['success', 'max_connections', 'success'],
    );
  });

  it('sends auth_timeout and closes when no auth arrives in time', async () => {
    const s = await sim({ authTimeoutMs: 100 });
    const c = await connect(s);
    const closed = await c.closed();
    assert.equal(closed.code, CLOSE_POLICY);
    assert.equal(c.status('auth_timeout')?.status, 'auth_timeout');
    assert.equal(s.stats.authAttempts.length, 0);
  });

  it('rejects pending waitFor calls when it closes', async () => {
    const s = await startSimulator({ apiKey: KEY, startMarketMs: START, msPerMinute: MS_PER_MINUTE });
    const pending = s.waitFor('auth');
    await s.close();
    await assert.rejects(pending, /closed/);
    await assert.rejects(s.waitFor('auth'), /closed/);
    await s.close(); // idempotent
  });

  it('answers pings itself', async () => {
    const s = await sim();
    const c = await ready(s);
    c.ws.ping();
    await c.until(() => c.pongs === 1, 'pong');
    assert.equal(s.stats.pongsSent, 1);
  });
});

describe('simulator: bars on the socket', () => {
  it('sends AM bars of subscribed symbols only, batched, in symbol order, with the deterministic values', async () => {
    const s = await sim({ eventsPerFrame: 4 });
    const subscribed = DEFAULT_SYMBOLS.slice(0, 10);
    const c = await ready(
      s,
      subscribed.map((x) => `AM.${x}`),
    );
    const minute = upcoming(s);
    const last = [...subscribed].sort().at(-1)!;
    await c.until(() => c.bars().some((b) => b.s === minute && b.sym === last), 'bars of the minute');

    const frames = c.frames.filter((f) => f.events?.some((e) => e.ev === 'AM' && e.s === minute));
    assert.deepEqual(
      frames.map((f) => f.events!.length),
      [4, 4, 2],
    );
    const got = frames.flatMap((f) => f.events!) as AggregateEvent[];
    assert.deepEqual(
      got.map((b) => b.sym),
      [...subscribed].sort(),
    );
    for (const bar of got) assert.deepEqual(bar, simMinuteBar(bar.sym, minute));

    const symbols = new Set(c.bars().map((b) => b.sym));
    for (const other of DEFAULT_SYMBOLS.slice(10)) assert.ok(!symbols.has(other), `${other} not subscribed`);
    // Sent no earlier than the minute's end plus the bar delay, by the simulated clock.
    for (const sent of s.stats.sentBars.filter((b) => b.minuteMs === minute)) {
      assert.ok(sent.marketMs >= minute + MINUTE_MS + s.barDelayMarketMs);
      assert.equal(sent.kind, 'bar');
    }
    assert.equal(s.stats.barsSent.get(`TQQQ@${minute}`), 1);
  });

  it('sends every minute in order and `AM.*` covers the universe', async () => {
    const s = await sim({ symbolsUniverse: ['TQQQ', 'SQQQ'] });
    const c = await ready(s, ['AM.*', 'AM.NOTRADED']);
    const from = upcoming(s);
    await c.until(() => c.bars().some((b) => b.s === from + 2 * MINUTE_MS && b.sym === 'TQQQ'), 'three minutes');
    const seen = c.bars().filter((b) => b.s >= from);
    assert.deepEqual(
      seen.map((b) => `${b.sym}@${(b.s - from) / MINUTE_MS}`),
      ['SQQQ@0', 'TQQQ@0', 'SQQQ@1', 'TQQQ@1', 'SQQQ@2', 'TQQQ@2'],
    );
  });

  it('sends A bars every market second for A subscriptions', async () => {
    const s = await sim();
    const c = await ready(s, ['A.TQQQ']);
    await c.until(() => c.bars('A').length >= 5, 'five second bars');
    const bars = c.bars('A').slice(0, 5);
    for (let i = 0; i < bars.length; i++) {
      const bar = bars[i]!;
      assert.equal(bar.sym, 'TQQQ');
      assert.deepEqual(bar, simSecondBar('TQQQ', bar.s));
      if (i > 0) assert.equal(bar.s - bars[i - 1]!.s, 1000);
    }
    assert.equal(c.bars('AM').length, 0);
  });
});

describe('simulator: faults', () => {
  it('dropConnections terminates sockets abruptly; a client can reconnect', async () => {
    const s = await sim();
    const c = await ready(s, ['AM.TQQQ']);
    const gone = s.waitFor('close');
    const entry = s.faults.dropConnections();
    assert.deepEqual(entry.connIds, [1]);
    assert.equal((await c.closed()).code, 1006);
    await gone;
    const again = await ready(s, ['AM.TQQQ']);
    const minute = upcoming(s);
    await again.until(() => again.bars().find((b) => b.s === minute), 'bar after reconnect');
    assert.equal(s.faults.faultLog[0]?.kind, 'dropConnections');
  });

  it('stall keeps the socket open but sends nothing and answers no ping; bars due meanwhile are lost', async () => {
    const s = await sim();
    const c = await ready(s, ['AM.TQQQ']);
    const firstBar = await c.until(() => c.bars()[0], 'a first bar');

    const lostMinutes: number[] = [];
    const framesDuring: string[] = [];
    const onMinute = (e: { minuteMs: number }): void => {
      lostMinutes.push(e.minuteMs);
    };
    const onFrame = (e: { text: string }): void => {
      framesDuring.push(e.text);
    };
    const pingSeen = s.waitFor('ping');
    const ended = s.waitFor('stallEnd');
    s.faults.stall(5 * MS_PER_MINUTE);
    s.events.on('minute', onMinute);
    s.events.on('frame', onFrame);
    c.ws.ping();
    assert.equal((await pingSeen).answered, false);
    c.send({ action: 'subscribe', params: 'AM.SQQQ' }); // handled when the stall ends
    await ended;
    s.events.off('minute', onMinute);
    s.events.off('frame', onFrame);

    assert.ok(lostMinutes.length >= 3, `minutes during the stall: ${lostMinutes.length}`);
    // The only frame is the acknowledgement of the held subscribe, sent as the stall ended.
    assert.deepEqual(framesDuring, ['[{"ev":"status","status":"success","message":"subscribed to: AM.SQQQ"}]']);
    assert.ok(s.stats.framesLostToStall >= lostMinutes.length);
    assert.equal(c.pongs, 0);
    assert.equal(c.ws.readyState, WebSocket.OPEN);

    // Answers again: the held subscribe is acknowledged, pings are answered, bars resume.
    await c.until(() => c.statusMessages().includes('subscribed to: AM.SQQQ'), 'held subscribe handled');
    c.ws.ping();
    await c.until(() => c.pongs === 1, 'pong after the stall');
    const next = upcoming(s);
    await c.until(() => c.bars().find((b) => b.s === next && b.sym === 'TQQQ'), 'bar after the stall');
    const received = new Set(c.bars().map((b) => b.s));
    for (const m of lostMinutes) assert.ok(!received.has(m), `minute ${m} was lost for this connection`);
    assert.ok(received.has(firstBar.s));
  });

  it('sendMalformed delivers the raw text and the connection carries on', async () => {
    const s = await sim();
    const c = await ready(s, ['AM.TQQQ']);
    const entry = s.faults.sendMalformed('[{"ev":"AM","sym":');
    assert.deepEqual(entry.connIds, [1]);
    await c.until(() => c.frames.find((f) => f.text === '[{"ev":"AM","sym":'), 'malformed frame');
    const next = upcoming(s);
    await c.until(() => c.bars().find((b) => b.s === next), 'bar after the malformed frame');
  });

  it('sendRaw sends text and binary frames exactly as given, in order, as one fault-log entry', async () => {
    const s = await sim();
    const c = await ready(s, ['AM.TQQQ']);
    const received: { data: Buffer; isBinary: boolean }[] = [];
    c.ws.on('message', (data: Buffer, isBinary: boolean) => received.push({ data: Buffer.from(data), isBinary }));
    const seen: { text: string; binary: boolean }[] = [];
    const onFrame = (e: { text: string; events: readonly object[] | null; binary?: true }): void => {
      if (e.events === null) seen.push({ text: e.text, binary: e.binary === true });
    };
    s.events.on('frame', onFrame);
    const framesBefore = s.stats.framesSent;
    const notUtf8 = new Uint8Array([0xff, 0x00, 0x80, 0x5b]);
    const frames = ['not json', notUtf8, '[{"ev":"AM","sym":"TQQQ"}]', '', '["\u00e9"]'];
    const entry = s.faults.sendRaw(frames);
    s.events.off('frame', onFrame);
    assert.equal(entry.kind, 'sendRaw');
    assert.equal(entry.outcome, 'applied');
    assert.deepEqual(entry.connIds, [1]);
    assert.equal(entry.frames, 5);
    assert.equal(entry.bytes, 8 + 4 + 26 + 0 + 6, 'UTF-8 bytes');
    assert.equal(entry.text, undefined, 'the frames are not kept in the fault log');
    assert.equal(s.stats.framesSent, framesBefore + 5);
    assert.deepEqual(
      seen.map((f) => f.binary),
      [false, true, false, false, false],
    );

    await c.until(() => received.length >= 5 || undefined, 'the raw frames');
    assert.deepEqual(
      received.slice(0, 5).map((r) => r.isBinary),
      [false, true, false, false, false],
    );
    assert.deepEqual(received[1]!.data, Buffer.from(notUtf8), 'binary bytes arrive untouched');
    assert.deepEqual(
      received
        .filter((r) => !r.isBinary)
        .slice(0, 4)
        .map((r) => r.data.toString('utf8')),
      ['not json', '[{"ev":"AM","sym":"TQQQ"}]', '', '["\u00e9"]'],
    );
    // A single frame works too, and the connection carries on.
    assert.equal(s.faults.sendRaw('x').frames, 1);
    assert.ok(s.bufferedBytes() >= 0);
    assert.ok(s.stats.maxBufferedBytes >= 0);
    const next = upcoming(s);
    await c.until(() => c.bars().find((b) => b.s === next), 'bar after the raw frames');
    assert.equal(s.stats.slowConsumersCut, 0);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- a number on purpose: sendRaw must refuse it at run time
    assert.throws(() => s.faults.sendRaw([42 as unknown as string]), TypeError);
  });

  it('disconnect sends status disconnect to authenticated clients, closes them with 1008 and frees the slot', async () => {
    const s = await sim();
    const c = await ready(s, ['AM.TQQQ']);
    const waiting = await connect(s); // connected, not authenticated: left alone
    const closed = s.waitFor('close', (e) => e.connId === 1);
    const entry = s.faults.disconnect();
    assert.equal(entry.kind, 'disconnect');
    assert.equal(entry.outcome, 'applied');
    assert.deepEqual(entry.connIds, [1]);
    assert.equal(entry.text, DISCONNECT_MESSAGE);
    assert.equal((await c.closed()).code, CLOSE_POLICY);
    assert.equal((await closed).code, CLOSE_POLICY);
    assert.equal(c.frames.at(-1)?.text, JSON.stringify([{ ev: 'status', status: 'disconnect', message: DISCONNECT_MESSAGE }]));
    assert.equal(waiting.ws.readyState, WebSocket.OPEN);
    // The slot is free: the waiting client authenticates (no max_connections).
    waiting.send({ action: 'auth', params: KEY });
    await waiting.until(() => waiting.status('auth_success'), 'auth_success after the disconnect');
    assert.equal(s.faults.disconnect('').connIds.length, 1, 'an empty message is sent as given');
    assert.equal((await waiting.closed()).code, CLOSE_POLICY);
    assert.deepEqual(waiting.status('disconnect'), { ev: 'status', status: 'disconnect', message: '' });
  });

  it('disconnect runs from a plan at a minute close, with the message given', async () => {
    const s = await sim();
    const c = await ready(s, ['AM.TQQQ']);
    const at = upcoming(s, 2);
    assert.deepEqual(s.faults.plan([{ atMinuteMs: at, kind: 'disconnect', message: 'slot taken' }]), [at + MINUTE_MS]);
    // A connection fault: the bars themselves are unchanged (a client that reconnects gets them from REST).
    assert.deepEqual(s.faults.expectedFinalBar('TQQQ', at), simMinuteBar('TQQQ', at));
    assert.throws(() => s.faults.plan([{ atMinuteMs: at, kind: 'disconnect', message: 7 as unknown as string }]), TypeError);
    assert.equal((await c.closed()).code, CLOSE_POLICY);
    assert.deepEqual(c.status('disconnect'), { ev: 'status', status: 'disconnect', message: 'slot taken' });
    const entry = s.faults.faultLog.find((e) => e.kind === 'disconnect');
    assert.deepEqual(
      { planned: entry?.planned, marketMs: entry?.marketMs, connIds: entry?.connIds, text: entry?.text },
      { planned: true, marketMs: at + MINUTE_MS, connIds: [1], text: 'slot taken' },
    );
    // The bars of `at` were due 2 market seconds after the disconnect: never sent to this client.
    assert.ok(!c.bars().some((b) => b.s >= at), 'nothing after the disconnect');
  });

  it('repeatBar re-sends the identical bar; correctBar sends changed values that REST then returns', async () => {
    const s = await sim();
    const c = await ready(s, ['AM.TQQQ']);
    const first = await c.until(() => c.bars()[0], 'a bar');
    const minute = first.s;

    assert.equal(s.faults.repeatBar('TQQQ', minute).outcome, 'applied');
    await c.until(() => c.bars().filter((b) => b.s === minute).length === 2, 'repeat');
    const [orig, repeated] = c.bars().filter((b) => b.s === minute);
    assert.deepEqual(repeated, orig);

    const fix = s.faults.correctBar('TQQQ', minute);
    assert.equal(fix.outcome, 'applied');
    assert.equal(fix.correction, 1);
    await c.until(() => c.bars().filter((b) => b.s === minute).length === 3, 'correction');
    const corrected = c.bars().filter((b) => b.s === minute)[2]!;
    assert.deepEqual(corrected, simCorrectedBar(simMinuteBar('TQQQ', minute)!, 1));
    assert.notDeepEqual(corrected, orig);
    assert.deepEqual(s.faults.expectedFinalBar('TQQQ', minute), corrected);

    const { body } = await getJson(`${s.restUrl}/v2/aggs/ticker/TQQQ/range/1/minute/${minute}/${minute}?apiKey=${KEY}`);
    assert.deepEqual(body['results'], [simRestAggregate(corrected)]);

    // A repeat now re-sends the latest values, the correction.
    s.faults.repeatBar('TQQQ', minute);
    await c.until(() => c.bars().filter((b) => b.s === minute).length === 4, 'repeat of the correction');
    assert.deepEqual(c.bars().filter((b) => b.s === minute)[3], corrected);
    assert.deepEqual(
      s.stats.sentBars.filter((b) => b.minuteMs === minute).map((b) => `${b.kind}:${b.revision}`),
      ['bar:0', 'repeat:0', 'correction:1', 'repeat:1'],
    );
  });

  it('delayBar holds a bar until later minutes have gone out', async () => {
    const s = await sim();
    const c = await ready(s, ['AM.TQQQ', 'AM.SQQQ']);
    const minute = upcoming(s, 2);
    assert.equal(s.faults.delayBar('TQQQ', minute, 2 * MINUTE_MS).outcome, 'applied');
    await c.until(() => c.bars().find((b) => b.s === minute && b.sym === 'TQQQ'), 'delayed bar');
    const order = c.bars().map((b) => `${b.sym}@${b.s}`);
    const at = order.indexOf(`TQQQ@${minute}`);
    assert.ok(order.indexOf(`SQQQ@${minute}`) < at, 'SQQQ of the same minute on time');
    assert.ok(order.indexOf(`TQQQ@${minute + MINUTE_MS}`) < at, 'later minute first');
    assert.deepEqual(c.bars()[at], simMinuteBar('TQQQ', minute));
    assert.ok(s.faults.faultLog.some((e) => e.kind === 'delayBar' && e.outcome === 'released'));
    const sent = s.stats.sentBars.find((b) => b.minuteMs === minute && b.symbol === 'TQQQ')!;
    assert.equal(sent.kind, 'delayed');
    assert.ok(sent.marketMs >= s.dueAt(minute) + 2 * MINUTE_MS);
  });

  it('skipMinute never sends the bar and REST has no bar for it', async () => {
    const s = await sim();
    const c = await ready(s, ['AM.TQQQ', 'AM.SQQQ']);
    const minute = upcoming(s, 2);
    assert.equal(s.faults.skipMinute('TQQQ', minute).outcome, 'applied');
    await c.until(() => c.bars().find((b) => b.s === minute + MINUTE_MS && b.sym === 'TQQQ'), 'the minute after');
    assert.ok(!c.bars().some((b) => b.s === minute && b.sym === 'TQQQ'));
    assert.ok(c.bars().some((b) => b.s === minute && b.sym === 'SQQQ'));
    assert.equal(s.faults.expectedFinalBar('TQQQ', minute), null);

    const url = `${s.restUrl}/v2/aggs/ticker/TQQQ/range/1/minute/${minute - MINUTE_MS}/${minute + MINUTE_MS}?apiKey=${KEY}`;
    const { body } = await getJson(url);
    assert.deepEqual(
      (body['results'] as { t: number }[]).map((r) => r.t),
      [minute - MINUTE_MS, minute + MINUTE_MS],
    );
    // Too late once the bar is out.
    assert.equal(s.faults.skipMinute('TQQQ', minute + MINUTE_MS).outcome, 'ineffective');
  });

  it('runs a plan at minute closes in market-time order; expectedFinalBar predicts the outcome', async () => {
    const s = await sim();
    const c = await ready(s, ['AM.TQQQ', 'AM.SQQQ']);
    const base = upcoming(s, 2);
    const m = (i: number): number => base + i * MINUTE_MS;
    const ats = s.faults.plan([
      { atMinuteMs: m(0), kind: 'skipMinute', symbol: 'TQQQ' },
      { atMinuteMs: m(0), kind: 'correctBar', symbol: 'TQQQ', minuteMs: m(1) }, // before its bar: queued
      { atMinuteMs: m(1), kind: 'repeatBar', symbol: 'SQQQ', minuteMs: m(0) },
      { atMinuteMs: m(1), kind: 'delayBar', symbol: 'SQQQ', marketMs: 90_000 },
      { atMinuteMs: m(2), kind: 'sendMalformed', text: 'not json' },
      { atMinuteMs: m(3), kind: 'skipMinute', symbol: 'SQQQ', minuteMs: m(2) }, // too late
    ]);
    assert.deepEqual(ats, [m(1), m(1), m(2), m(2), m(3), m(4)]);

    const expected = new Map<string, AggregateEvent | null>();
    for (const sym of ['TQQQ', 'SQQQ']) {
      for (let i = 0; i < 4; i++) expected.set(`${sym}@${m(i)}`, s.faults.expectedFinalBar(sym, m(i)));
    }
    assert.equal(expected.get(`TQQQ@${m(0)}`), null);
    assert.deepEqual(expected.get(`TQQQ@${m(1)}`), simCorrectedBar(simMinuteBar('TQQQ', m(1))!, 1));
    assert.deepEqual(expected.get(`SQQQ@${m(2)}`), simMinuteBar('SQQQ', m(2)));

    await s.waitForMinute(m(4));
    await c.until(() => c.bars().find((b) => b.s === m(4) && b.sym === 'TQQQ'), 'bars of the last minute');

    // Last values received per (symbol, minute) are the predicted final bars.
    const last = new Map<string, AggregateEvent>();
    for (const bar of c.bars()) last.set(`${bar.sym}@${bar.s}`, bar);
    for (const [key, bar] of expected) assert.deepEqual(last.get(key) ?? null, bar, key);

    const seq = c
      .bars()
      .filter((b) => b.s >= m(0) && b.s <= m(3))
      .map((b) => `${b.sym}@${(b.s - base) / MINUTE_MS}`);
    assert.deepEqual(seq.slice(0, 6), ['SQQQ@0', 'SQQQ@0', 'TQQQ@1', 'TQQQ@1', 'SQQQ@2', 'TQQQ@2']);
    assert.ok(seq.indexOf('SQQQ@1') > seq.indexOf('TQQQ@2'), 'delayed SQQQ@1 after minute 2');
    assert.ok(c.frames.some((f) => f.text === 'not json'));

    const log = s.faults.faultLog.map((e) => `${e.kind}:${e.outcome}${e.deferredFrom ? `<${e.deferredFrom}` : ''}`);
    assert.deepEqual(log, [
      'skipMinute:applied',
      'correctBar:queued',
      'repeatBar:applied',
      'delayBar:applied',
      'correctBar:applied<2',
      'sendMalformed:applied',
      'delayBar:released',
      'skipMinute:ineffective',
    ]);
    const planned = s.faults.faultLog.filter((e) => e.planned);
    assert.deepEqual(
      planned.map((e) => e.marketMs),
      [m(1), m(1), m(2), m(2), m(3), m(4)],
    );
    assert.equal(s.faults.pendingPlan().length, 0);
  });
});

describe('simulator: REST', () => {
  it('requires the key and never echoes it', async () => {
    const s = await sim();
    const path = `${s.restUrl}/v2/aggs/ticker/TQQQ/range/1/minute/2025-06-09/2025-06-09`;
    const missing = await getJson(path);
    assert.equal(missing.status, 401);
    assert.equal(missing.body['status'], 'ERROR');
    assert.equal(missing.body['error'], 'API Key was not provided');

    const wrong = await getJson(`${path}?apiKey=sneaky-wrong-key`);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body['error'], 'Unknown API Key');
    assert.ok(!wrong.text.includes('sneaky-wrong-key'));

    const bearer = await getJson(`${path}?limit=1`, { headers: { authorization: `Bearer ${KEY}` } });
    assert.equal(bearer.status, 200);
    assert.ok(!bearer.text.includes(KEY));
  });

  it('returns closed minutes only, with the bar values, in Polygon shape', async () => {
    const s = await sim();
    const before = s.clock.now();
    const { status, body } = await getJson(
      `${s.restUrl}/v2/aggs/ticker/SOXL/range/1/minute/${START - 30 * MINUTE_MS}/${START + 60 * MINUTE_MS}?adjusted=true&apiKey=${KEY}`,
    );
    const after = s.clock.now();
    assert.equal(status, 200);
    assert.equal(body['ticker'], 'SOXL');
    assert.equal(body['status'], 'OK');
    assert.equal(body['adjusted'], true);
    assert.equal(typeof body['request_id'], 'string');
    const results = body['results'] as { t: number }[];
    assert.equal(body['resultsCount'], results.length);
    assert.equal(body['queryCount'], results.length);
    assert.equal(results[0]?.t, START - 30 * MINUTE_MS);
    const lastT = results.at(-1)!.t;
    assert.ok(lastT >= minuteStart(before) - MINUTE_MS && lastT <= minuteStart(after) - MINUTE_MS, 'closed minutes only');
    results.forEach((r, i) => {
      assert.equal(r.t, START - 30 * MINUTE_MS + i * MINUTE_MS);
      assert.deepEqual(r, simRestAggregate(simMinuteBar('SOXL', r.t)!));
    });
  });

  it('serves history by date, sorts, limits with next_url, and omits results when there are none', async () => {
    const s = await sim();
    const day = await getJson(`${s.restUrl}/v2/aggs/ticker/FAS/range/1/minute/2025-06-09/2025-06-09?limit=50000&apiKey=${KEY}`);
    assert.equal(day.body['resultsCount'], 1440);

    const desc = await getJson(`${s.restUrl}/v2/aggs/ticker/FAS/range/1/minute/2025-06-09/2025-06-09?sort=desc&limit=3&apiKey=${KEY}`);
    const ts = (desc.body['results'] as { t: number }[]).map((r) => r.t);
    const endOfDay = Date.UTC(2025, 5, 9, 23, 59);
    assert.deepEqual(ts, [endOfDay, endOfDay - MINUTE_MS, endOfDay - 2 * MINUTE_MS]);
    assert.equal(typeof desc.body['next_url'], 'string');
    assert.ok(!(desc.body['next_url'] as string).includes(KEY));
    const next = await getJson(`${desc.body['next_url'] as string}&apiKey=${KEY}`);
    assert.equal((next.body['results'] as { t: number }[])[0]?.t, endOfDay - 3 * MINUTE_MS);

    const future = await getJson(`${s.restUrl}/v2/aggs/ticker/FAS/range/1/minute/2030-01-01/2030-01-02?apiKey=${KEY}`);
    assert.equal(future.status, 200);
    assert.equal(future.body['resultsCount'], 0);
    assert.ok(!('results' in future.body));

    const bad = await getJson(`${s.restUrl}/v2/aggs/ticker/FAS/range/1/minute/yesterday/2030-01-02?apiKey=${KEY}`);
    assert.equal(bad.status, 400);
  });

  it('answers market status now and upcoming', async () => {
    const s = await sim();
    const now = await getJson(`${s.restUrl}/v1/marketstatus/now?apiKey=${KEY}`);
    assert.equal(now.status, 200);
    assert.equal(now.body['market'], 'open'); // 10:30 New York on a Tuesday
    assert.match(now.body['serverTime'] as string, /^2025-06-10T10:3\d:\d\d-04:00$/);
    assert.deepEqual(Object.keys(now.body['exchanges'] as object).sort(), ['nasdaq', 'nyse', 'otc']);

    const res = await fetch(`${s.restUrl}/v1/marketstatus/upcoming?apiKey=${KEY}`);
    const upcoming = (await res.json()) as { date: string; status: string; exchange: string }[];
    assert.ok(upcoming.length > 0);
    assert.equal(upcoming[0]?.date, '2025-06-19');
    assert.ok(upcoming.some((h) => h.status === 'early-close'));
  });
});

describe('simulator: a delayed feed and a slow REST', () => {
  const DELAY = 15 * MINUTE_MS;

  it('a delayed feed sends each bar 15 market minutes late, and REST has a minute only as late', async () => {
    const s = await sim({ feedDelayMarketMs: DELAY });
    assert.equal(s.feedDelayMarketMs, DELAY);
    const sent: SentBar[] = [];
    s.events.on('bar', (bar) => sent.push(bar));
    const c = await ready(s, ['AM.TQQQ']);
    await c.until(() => c.bars().length >= 3 || undefined, 'three delayed bars');
    assert.deepEqual(
      c.bars().slice(0, 3),
      sent.slice(0, 3).map((b) => b.bar),
    );
    for (const { bar, marketMs } of sent) {
      // Sent at the minute's end + 15 minutes + the usual 2 s (timers may fire a little late).
      assert.ok(marketMs - bar.e >= DELAY + s.barDelayMarketMs, `${new Date(bar.s).toISOString()} sent ${marketMs - bar.e} ms after its end`);
      assert.ok(marketMs - bar.e < DELAY + s.barDelayMarketMs + MINUTE_MS);
      assert.deepEqual(bar, simMinuteBar('TQQQ', bar.s));
    }
    const before = s.clock.now();
    const { body } = await getJson(`${s.restUrl}/v2/aggs/ticker/TQQQ/range/1/minute/${START - 60 * MINUTE_MS}/${START + 60 * MINUTE_MS}?apiKey=${KEY}`);
    const after = s.clock.now();
    const lastT = (body['results'] as { t: number }[]).at(-1)!.t;
    assert.ok(lastT >= minuteStart(before - DELAY) - MINUTE_MS && lastT <= minuteStart(after - DELAY) - MINUTE_MS, 'REST lags as the socket does');
  });

  it('restLatency holds REST answers (computed when asked) for the given wall time, and 0 ends it', async () => {
    const s = await sim();
    const entry = s.faults.restLatency(300);
    assert.deepEqual([entry.kind, entry.outcome, entry.durationWallMs], ['restLatency', 'applied', 300]);
    const path = `${s.restUrl}/v2/aggs/ticker/SOXL/range/1/minute/${START - 10 * MINUTE_MS}/${START + 60 * MINUTE_MS}?apiKey=${KEY}`;
    const asked = s.clock.now();
    const startedAt = performance.now();
    const slow = getJson(path);
    await eventually('the request to be held', () => (s.restRequestsInFlight() === 1 ? true : undefined), 5_000, 5);
    const { body } = await slow;
    assert.ok(performance.now() - startedAt >= 300);
    assert.equal(s.restRequestsInFlight(), 0);
    // The answer is what REST had when asked, though the market moved on meanwhile (300 wall
    // ms are 1.5 market minutes here).
    const lastT = (body['results'] as { t: number }[]).at(-1)!.t;
    assert.ok(lastT >= minuteStart(asked) - MINUTE_MS);
    assert.ok(lastT < minuteStart(s.clock.now()) - MINUTE_MS, 'REST has newer minutes by the time the answer arrives');
    s.faults.restLatency(0);
    const quick = performance.now();
    await getJson(path);
    assert.ok(performance.now() - quick < 300);
  });
});

describe('simulator: slow consumer', () => {
  it('cuts off a client that stops reading with close code 1011', async () => {
    const s = await sim({ msPerMinute: 20, slowConsumerBytes: 64 * 1024 });
    const c = await ready(
      s,
      DEFAULT_SYMBOLS.map((x) => `A.${x}`),
    );
    // Stop reading at the TCP level: the kernel buffers fill, then the server's own queue.
    (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const cut = await s.waitFor('close', (e) => e.connId === 1, { timeoutMs: 20_000 });
    assert.ok(cut.code === 1011 || cut.code === 1006, `close code ${cut.code}`);
    assert.equal(s.stats.slowConsumersCut, 1);
  });
});

describe('simulator: the account slot', () => {
  it('terminates a client that stops answering its pings (a frozen process), freeing the slot for the next', async () => {
    const s = await sim({ keepAliveMs: 100 });
    // A client whose process is frozen: its socket is open, nothing answers the server's pings.
    const frozen = new WebSocket(s.wsUrl, { autoPong: false });
    frozen.on('open', () => frozen.send(JSON.stringify({ action: 'auth', params: KEY })));
    const closed = s.waitFor('close', (e) => e.connId === 1, { timeoutMs: 5_000 });
    await s.waitFor('auth', (e) => e.connId === 1, { timeoutMs: 5_000 });
    await closed;
    assert.equal(s.stats.unresponsiveClientsDropped, 1);
    // A live client answers (ws does by default) and keeps its slot across many intervals.
    const live = await ready(s, ['AM.SPY']);
    const minute = upcoming(s, 3);
    await s.waitForMinute(minute);
    assert.equal(live.closeInfo, undefined);
    assert.equal(s.stats.unresponsiveClientsDropped, 1);
    frozen.terminate();
  });

  it('counts, per minute, how many connections were subscribed at once, and each overlap', async () => {
    const s = await sim({ maxConnections: 2 });
    const first = await ready(s, ['AM.SPY']);
    const aloneMinute = minuteStart(s.clock.now());
    // Two minutes' bars out: the clock has left the minute the first one subscribed in.
    await s.waitForMinute(upcoming(s, 2));
    const second = await ready(s, ['AM.QQQ']);
    const overlapMinute = minuteStart(s.clock.now());
    second.close();
    await s.waitFor('close', (e) => e.connId === 2);
    await s.waitForMinute(upcoming(s, 1));
    const counts = new Map(s.subscribedAtOnce().map((m) => [m.minuteMs, m.connections]));
    assert.equal(counts.get(aloneMinute), 1);
    assert.equal(counts.get(overlapMinute), 2);
    assert.equal(counts.get(minuteStart(s.clock.now())), 1);
    const overlaps = s.subscriptionOverlaps();
    assert.equal(overlaps.length, 1);
    assert.equal(overlaps[0]!.connections, 2);
    assert.ok(overlaps[0]!.wallMs >= 0);
    first.close();
  });
});

describe('runSimulator (the sim command)', () => {
  it('logs one JSON line with the URLs, accepts any key without apiKey, and stops on abort', async () => {
    const lines: string[] = [];
    let announce: (line: string) => void = () => {};
    const announced = new Promise<string>((resolve) => {
      announce = resolve;
    });
    const stop = new AbortController();
    const done = runSimulator({
      port: 0,
      msPerMinute: MS_PER_MINUTE,
      startMarketMs: START,
      signal: stop.signal,
      log: (line) => {
        lines.push(line);
        if (line.includes('simulator listening')) announce(line);
      },
    });
    const start = JSON.parse(await announced) as Record<string, unknown>;
    assert.match(start['wsUrl'] as string, /^ws:\/\/127\.0\.0\.1:\d+\/stocks$/);
    assert.match(start['restUrl'] as string, /^http:\/\/127\.0\.0\.1:\d+$/);
    const c = await TestClient.connect(start['wsUrl'] as string);
    clients.push(c);
    c.send({ action: 'auth', params: 'anything' });
    await c.until(() => c.status('auth_success'), 'auth with any key');
    stop.abort();
    assert.equal(await done, 0);
    await c.closed();
    assert.equal(lines.filter((l) => l.includes('simulator listening')).length, 1);
  });
});
