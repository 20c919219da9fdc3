/**
 * Fault injection. Every fault is deterministic and appended to `faultLog`, so a test can
 * work out exactly what a client must have received and what must end up downstream.
 *
 * Connection faults act on the connections open at that moment:
 * - `dropConnections()`: terminate every client socket abruptly (no close frame).
 * - `stall(ms)`: sockets stay open, but for `ms` wall milliseconds the server sends nothing
 *   and answers no pings. Bars due meanwhile are LOST for those connections, as with the real
 *   vendor (nothing is replayed to a connection that fell behind; REST still has them).
 *   Client messages sent during a stall are handled when it ends.
 * - `sendMalformed(text)`: one raw frame with exactly `text` to every authenticated client.
 * - `disconnect(message?)`: what Polygon does when another client takes the account's slot:
 *   every authenticated client gets `[{"ev":"status","status":"disconnect","message":...}]`,
 *   then its socket is closed (code 1008). A stalled client misses the status (as it misses
 *   everything) but is closed all the same. Unauthenticated connections are left alone.
 * - `restLatency(wallMs)`: from now on every REST aggregates answer is computed when asked
 *   and sent `wallMs` wall milliseconds later, as from a slow vendor (0 ends it). A backfill
 *   then stays in flight long enough for the socket to drop again meanwhile.
 * - `sendRaw(frames)`: raw frames, in order, to every authenticated client, for fuzzing. A
 *   string goes out as a text frame exactly as given; a Uint8Array as a binary frame exactly
 *   as given (so bytes that are not UTF-8 reach the client: a text frame must be valid UTF-8,
 *   or the client's WebSocket library closes the socket with 1007). Each frame is one
 *   WebSocket message, never merged with or split by the simulator's own frames, which may go
 *   out between two `sendRaw` calls but never inside one. The whole batch is ONE fault-log
 *   entry (`frames`, `bytes`; the frames themselves are not kept), so ten thousand fuzz
 *   frames cost no memory here. The simulator does not look inside raw frames: they change no
 *   ledger, no bar state and no statistic but `framesSent` (and `maxBufferedBytes`). Pace
 *   large batches with `Simulator.bufferedBytes()`: a client more than `slowConsumerBytes`
 *   behind is cut off (1011) like any other slow reader.
 *
 * Bar faults act on one (symbol, minute):
 * - `repeatBar`: re-send the identical `AM` (latest values sent, corrections included).
 * - `correctBar`: send the next correction (`simCorrectedBar(original, n)`); REST returns the
 *   corrected values from then on.
 * - `delayBar(symbol, minute, ms)`: hold the bar until `ms` market ms after it was due; it then
 *   goes out alone, possibly after later minutes. REST is not delayed (it is built from trades).
 * - `skipMinute(symbol | '*', minute)`: the bar is never sent and REST has no bar either.
 *
 * A repeat or correction of a bar that has not been published yet waits (outcome `queued`) and
 * runs right after its first publication; a later log entry with `deferredFrom` records that.
 * Skipping or delaying a bar that is already out, or acting on an empty or skipped minute, is
 * `ineffective`, logged, and changes nothing.
 *
 * `plan(steps)` schedules faults on the market clock: a step runs when the market reaches the
 * END of `atMinuteMs` (plus `offsetMarketMs`, default 0), which with the default bar delay is
 * a couple of market seconds before that minute's bars go out. Steps and bars are ordered by
 * market time alone, so a plan gives the same outcome however late the timers fire.
 */

import type { AggregateEvent } from '../contracts/polygon-wire.ts';
import { MINUTE_MS } from '../contracts/time-format.ts';
import type { AgendaSource } from './agenda.ts';
import { simCorrectedBar } from './bars.ts';
import type { SimClock } from './clock.ts';
import { ALL_SYMBOLS } from './ledger.ts';
import type { BarLedger } from './ledger.ts';
import { DISCONNECT_MESSAGE } from './messages.ts';
import type { SentBarKind } from './stats.ts';

export type FaultKind =
  'dropConnections' | 'stall' | 'sendMalformed' | 'sendRaw' | 'disconnect' | 'restLatency' | 'repeatBar' | 'correctBar' | 'delayBar' | 'skipMinute';

/**
 * - `applied`: took effect now;
 * - `queued`: waits for the bar's first publication (repeat, correction);
 * - `released`: a held bar went out (logged by the simulator, not called by tests);
 * - `ineffective`: nothing to act on, or too late; nothing changed.
 */
export type FaultOutcome = 'applied' | 'queued' | 'released' | 'ineffective';

export interface FaultLogEntry {
  /** 1, 2, ... in the order faults took effect. */
  seq: number;
  kind: FaultKind;
  outcome: FaultOutcome;
  /** True when run from a plan. */
  planned: boolean;
  /** Market instant: the scheduled one for planned steps, the clock's reading otherwise. */
  marketMs: number;
  wallMs: number;
  symbol?: string;
  minuteMs?: number;
  durationWallMs?: number;
  delayMarketMs?: number;
  /** `sendMalformed`: the frame; `disconnect`: the status message. */
  text?: string;
  /** `sendRaw`: frames in the batch, and their total size in bytes (UTF-8 for text). */
  frames?: number;
  bytes?: number;
  /** For corrections: which one (1, 2, ...). */
  correction?: number;
  /** Connections affected (dropped, stalled, disconnected, or that received the frame(s)). */
  connIds: number[];
  /** For work that waited for publication: the entry that asked for it. */
  deferredFrom?: number;
  note?: string;
}

interface PlanAt {
  /** The step runs when the market reaches the end of this minute... */
  atMinuteMs: number;
  /** ...plus this many market ms (default 0). */
  offsetMarketMs?: number;
}

export type PlanStep = PlanAt &
  (
    | { kind: 'dropConnections' }
    | { kind: 'stall'; durationWallMs: number }
    | { kind: 'sendMalformed'; text: string }
    /** `message` defaults to DISCONNECT_MESSAGE. */
    | { kind: 'disconnect'; message?: string }
    /** REST answers from then on take `wallMs` (0: answer at once). */
    | { kind: 'restLatency'; wallMs: number }
    /** `minuteMs` defaults to `atMinuteMs`. */
    | { kind: 'repeatBar' | 'correctBar' | 'skipMinute'; symbol: string; minuteMs?: number }
    | { kind: 'delayBar'; symbol: string; minuteMs?: number; marketMs: number }
  );

export interface SimFaults {
  dropConnections(): FaultLogEntry;
  stall(durationWallMs: number): FaultLogEntry;
  sendMalformed(text: string): FaultLogEntry;
  /** Raw frames to every authenticated client, in order; text frames for strings, binary for bytes. */
  sendRaw(frames: RawFrame | readonly RawFrame[]): FaultLogEntry;
  /** Status `disconnect` to every authenticated client, then close (1008); `message` defaults to DISCONNECT_MESSAGE. */
  disconnect(message?: string): FaultLogEntry;
  /** REST aggregates answers from now on are sent `wallMs` after they were asked for; 0 ends it. */
  restLatency(wallMs: number): FaultLogEntry;
  repeatBar(symbol: string, minuteMs: number): FaultLogEntry;
  correctBar(symbol: string, minuteMs: number): FaultLogEntry;
  delayBar(symbol: string, minuteMs: number, marketMs: number): FaultLogEntry;
  skipMinute(symbol: string, minuteMs: number): FaultLogEntry;
  /** Schedule steps; returns the market instant each will run at, in the order given. */
  plan(steps: readonly PlanStep[]): number[];
  /** Steps not run yet, in the order they will run. */
  pendingPlan(): readonly PlanStep[];
  readonly faultLog: readonly FaultLogEntry[];
  /**
   * The values a downstream consumer must end up with for (symbol, minute): the original bar
   * after every correction already sent, queued or planned; null when the minute is empty or
   * skipped (already, or by a plan step that will run before the bar is due).
   */
  expectedFinalBar(symbol: string, minuteMs: number): AggregateEvent | null;
}

/** A frame for `sendRaw`: a string is sent as a text frame, bytes as a binary frame. */
export type RawFrame = string | Uint8Array;

export interface FaultHost {
  readonly clock: SimClock;
  readonly ledger: BarLedger;
  dropConnections(): number[];
  stallConnections(durationWallMs: number): number[];
  sendRaw(frames: readonly RawFrame[]): number[];
  disconnectConnections(message: string): number[];
  /** REST aggregates answers are held this long (wall ms) from now on. */
  setRestLatency(wallMs: number): void;
  sendBar(bar: AggregateEvent, kind: SentBarKind, revision: number): number[];
  /** The agenda must look again (a hold or plan step was added). */
  poke(): void;
  emit(entry: FaultLogEntry): void;
}

export interface FaultController extends SimFaults {
  readonly planSource: AgendaSource;
  /** Run repeats/corrections that waited for (symbol, minute) to be published. */
  runQueued(symbol: string, minuteMs: number): void;
  /** Log that a held bar was released. */
  logRelease(symbol: string, minuteMs: number, connIds: number[]): void;
}

interface Scheduled {
  at: number;
  order: number;
  step: PlanStep;
}

export function createFaults(host: FaultHost): FaultController {
  const { clock, ledger } = host;
  const faultLog: FaultLogEntry[] = [];
  let pending: Scheduled[] = [];
  let order = 0;

  type Context = { planned: boolean; marketMs: number; deferredFrom?: number };
  const direct = (): Context => ({ planned: false, marketMs: clock.now() });

  const log = (ctx: Context, kind: FaultKind, outcome: FaultOutcome, fields: Partial<FaultLogEntry> = {}): FaultLogEntry => {
    const entry: FaultLogEntry = {
      seq: faultLog.length + 1,
      kind,
      outcome,
      planned: ctx.planned,
      marketMs: ctx.marketMs,
      wallMs: Date.now(),
      connIds: [],
      ...fields,
    };
    if (ctx.deferredFrom !== undefined) entry.deferredFrom = ctx.deferredFrom;
    faultLog.push(entry);
    host.emit(entry);
    return entry;
  };

  // --- bar faults --------------------------------------------------------------------

  const repeat = (ctx: Context, symbol: string, minuteMs: number): FaultLogEntry => {
    const state = ledger.state(symbol, minuteMs);
    if (state === 'published') {
      const bar = ledger.current(symbol, minuteMs);
      if (bar) {
        const connIds = host.sendBar(bar, 'repeat', ledger.corrections(symbol, minuteMs));
        return log(ctx, 'repeatBar', 'applied', { symbol, minuteMs, connIds });
      }
    }
    if (state === 'pending' || state === 'held') {
      const entry = log(ctx, 'repeatBar', 'queued', { symbol, minuteMs, note: `bar is ${state}` });
      ledger.queue(symbol, minuteMs, { kind: 'repeat', seq: entry.seq });
      return entry;
    }
    return log(ctx, 'repeatBar', 'ineffective', { symbol, minuteMs, note: `bar is ${state}` });
  };

  const correct = (ctx: Context, symbol: string, minuteMs: number): FaultLogEntry => {
    const state = ledger.state(symbol, minuteMs);
    const original = ledger.original(symbol, minuteMs);
    if (state === 'published' && original) {
      const n = ledger.addCorrection(symbol, minuteMs);
      const connIds = host.sendBar(simCorrectedBar(original, n), 'correction', n);
      return log(ctx, 'correctBar', 'applied', { symbol, minuteMs, correction: n, connIds });
    }
    if (state === 'pending' || state === 'held') {
      const entry = log(ctx, 'correctBar', 'queued', { symbol, minuteMs, note: `bar is ${state}` });
      ledger.queue(symbol, minuteMs, { kind: 'correct', seq: entry.seq });
      return entry;
    }
    return log(ctx, 'correctBar', 'ineffective', { symbol, minuteMs, note: `bar is ${state}` });
  };

  const delay = (ctx: Context, symbol: string, minuteMs: number, marketMs: number): FaultLogEntry => {
    const state = ledger.state(symbol, minuteMs);
    const ok = ledger.hold(symbol, minuteMs, ledger.dueAt(minuteMs) + marketMs);
    if (ok) host.poke();
    return log(ctx, 'delayBar', ok ? 'applied' : 'ineffective', {
      symbol,
      minuteMs,
      delayMarketMs: marketMs,
      ...(ok ? {} : { note: `bar is ${state}` }),
    });
  };

  const skipBar = (ctx: Context, symbol: string, minuteMs: number): FaultLogEntry => {
    const note = symbol === ALL_SYMBOLS ? 'minute already emitted' : `bar is ${ledger.state(symbol, minuteMs)}`;
    const ok = ledger.markSkipped(symbol, minuteMs);
    return log(ctx, 'skipMinute', ok ? 'applied' : 'ineffective', { symbol, minuteMs, ...(ok ? {} : { note }) });
  };

  // --- connection faults -------------------------------------------------------------

  const drop = (ctx: Context): FaultLogEntry => log(ctx, 'dropConnections', 'applied', { connIds: host.dropConnections() });

  const stall = (ctx: Context, durationWallMs: number): FaultLogEntry =>
    log(ctx, 'stall', 'applied', { durationWallMs, connIds: host.stallConnections(durationWallMs) });

  const malformed = (ctx: Context, text: string): FaultLogEntry => log(ctx, 'sendMalformed', 'applied', { text, connIds: host.sendRaw([text]) });

  const raw = (ctx: Context, frames: readonly RawFrame[]): FaultLogEntry => {
    const bytes = frames.reduce((n, f) => n + (typeof f === 'string' ? Buffer.byteLength(f, 'utf8') : f.byteLength), 0);
    return log(ctx, 'sendRaw', 'applied', { frames: frames.length, bytes, connIds: host.sendRaw(frames) });
  };

  const disconnect = (ctx: Context, message: string): FaultLogEntry =>
    log(ctx, 'disconnect', 'applied', { text: message, connIds: host.disconnectConnections(message) });

  const restLatency = (ctx: Context, wallMs: number): FaultLogEntry => {
    host.setRestLatency(wallMs);
    return log(ctx, 'restLatency', 'applied', { durationWallMs: wallMs });
  };

  // --- plan --------------------------------------------------------------------------

  const runStep = (step: PlanStep, at: number): void => {
    const ctx: Context = { planned: true, marketMs: at };
    switch (step.kind) {
      case 'dropConnections':
        drop(ctx);
        return;
      case 'stall':
        stall(ctx, step.durationWallMs);
        return;
      case 'sendMalformed':
        malformed(ctx, step.text);
        return;
      case 'disconnect':
        disconnect(ctx, step.message ?? DISCONNECT_MESSAGE);
        return;
      case 'restLatency':
        restLatency(ctx, step.wallMs);
        return;
      case 'repeatBar':
        repeat(ctx, step.symbol, step.minuteMs ?? step.atMinuteMs);
        return;
      case 'correctBar':
        correct(ctx, step.symbol, step.minuteMs ?? step.atMinuteMs);
        return;
      case 'skipMinute':
        skipBar(ctx, step.symbol, step.minuteMs ?? step.atMinuteMs);
        return;
      case 'delayBar':
        delay(ctx, step.symbol, step.minuteMs ?? step.atMinuteMs, step.marketMs);
        return;
    }
  };

  const stepAt = (step: PlanStep): number => step.atMinuteMs + MINUTE_MS + (step.offsetMarketMs ?? 0);

  const planSource: AgendaSource = {
    name: 'plan',
    priority: 0,
    nextAt: () => pending[0]?.at ?? Number.POSITIVE_INFINITY,
    run() {
      const next = pending.shift();
      if (next) runStep(next.step, next.at);
    },
  };

  // --- projection --------------------------------------------------------------------

  const expectedFinalBar = (symbol: string, minuteMs: number): AggregateEvent | null => {
    checkMinute(minuteMs);
    const original = ledger.original(symbol, minuteMs);
    if (!original) return null;
    const state = ledger.state(symbol, minuteMs);
    if (state === 'skipped') return null;
    let corrections = ledger.corrections(symbol, minuteMs) + ledger.queuedActions(symbol, minuteMs).filter((a) => a.kind === 'correct').length;
    const due = ledger.dueAt(minuteMs);
    const minuteOut = minuteMs <= ledger.lastEmittedMinute();
    // Market instant of the bar's first publication, as far as is known now.
    let publishAt: number;
    if (state === 'published') publishAt = Number.NEGATIVE_INFINITY;
    else if (state === 'held') publishAt = ledger.heldUntil(symbol, minuteMs) ?? due;
    else publishAt = Math.max(due, ledger.heldUntil(symbol, minuteMs) ?? due);

    for (const { step, at } of pending) {
      if (
        step.kind === 'dropConnections' ||
        step.kind === 'stall' ||
        step.kind === 'sendMalformed' ||
        step.kind === 'disconnect' ||
        step.kind === 'restLatency'
      )
        continue;
      if ((step.minuteMs ?? step.atMinuteMs) !== minuteMs) continue;
      if (step.kind === 'skipMinute' && step.symbol === ALL_SYMBOLS) {
        // Suppresses every symbol, but only before the minute's emission has run.
        if (!minuteOut && at <= due) return null;
        continue;
      }
      if (step.symbol !== symbol) continue;
      if (step.kind === 'skipMinute') {
        if (at <= publishAt) return null;
      } else if (step.kind === 'delayBar') {
        if (at <= publishAt) publishAt = Math.max(at, due, due + step.marketMs);
      } else if (step.kind === 'correctBar') {
        corrections += 1;
      }
    }
    return corrections > 0 ? simCorrectedBar(original, corrections) : original;
  };

  return {
    dropConnections: () => drop(direct()),
    stall(durationWallMs) {
      if (!Number.isFinite(durationWallMs) || durationWallMs < 0) throw new RangeError('stall duration must be >= 0');
      return stall(direct(), durationWallMs);
    },
    sendMalformed: (text) => malformed(direct(), text),
    sendRaw(frames) {
      const list: readonly RawFrame[] = typeof frames === 'string' || frames instanceof Uint8Array ? [frames] : frames;
      for (const f of list) {
        if (typeof f !== 'string' && !(f instanceof Uint8Array)) throw new TypeError('sendRaw takes strings or Uint8Arrays');
      }
      return raw(direct(), list);
    },
    disconnect(message = DISCONNECT_MESSAGE) {
      if (typeof message !== 'string') throw new TypeError('disconnect message must be a string');
      return disconnect(direct(), message);
    },
    restLatency(wallMs) {
      checkLatency(wallMs);
      return restLatency(direct(), wallMs);
    },
    repeatBar: (symbol, minuteMs) => repeat(direct(), checkSymbol(symbol), checkMinute(minuteMs)),
    correctBar: (symbol, minuteMs) => correct(direct(), checkSymbol(symbol), checkMinute(minuteMs)),
    delayBar(symbol, minuteMs, marketMs) {
      if (!Number.isFinite(marketMs) || marketMs < 0) throw new RangeError('delay must be >= 0 market ms');
      return delay(direct(), checkSymbol(symbol), checkMinute(minuteMs), marketMs);
    },
    skipMinute: (symbol, minuteMs) => skipBar(direct(), checkSymbol(symbol, true), checkMinute(minuteMs)),
    plan(steps) {
      for (const step of steps) checkStep(step);
      const ats = steps.map((step) => {
        const at = stepAt(step);
        pending.push({ at, order: order++, step });
        return at;
      });
      pending = pending.sort((a, b) => a.at - b.at || a.order - b.order);
      host.poke();
      return ats;
    },
    pendingPlan: () => pending.map((p) => p.step),
    faultLog,
    expectedFinalBar,
    planSource,
    runQueued(symbol, minuteMs) {
      for (const action of ledger.takeQueued(symbol, minuteMs)) {
        const ctx: Context = { planned: false, marketMs: clock.now(), deferredFrom: action.seq };
        if (action.kind === 'repeat') repeat(ctx, symbol, minuteMs);
        else correct(ctx, symbol, minuteMs);
      }
    },
    logRelease(symbol, minuteMs, connIds) {
      log({ planned: false, marketMs: clock.now() }, 'delayBar', 'released', { symbol, minuteMs, connIds });
    },
  };
}

function checkSymbol(symbol: string, allowAll = false): string {
  if (typeof symbol !== 'string' || symbol.length === 0 || /[\s,]/.test(symbol)) {
    throw new TypeError(`invalid symbol: ${JSON.stringify(symbol)}`);
  }
  if (symbol === ALL_SYMBOLS && !allowAll) throw new TypeError(`'*' is only accepted by skipMinute`);
  return symbol;
}

function checkMinute(minuteMs: number): number {
  if (!Number.isFinite(minuteMs) || minuteMs % MINUTE_MS !== 0) {
    throw new RangeError(`minute must be an epoch ms at a minute boundary, got ${minuteMs}`);
  }
  return minuteMs;
}

function checkLatency(wallMs: number): void {
  if (!Number.isFinite(wallMs) || wallMs < 0) throw new RangeError('REST latency must be >= 0 wall ms');
}

function checkStep(step: PlanStep): void {
  checkMinute(step.atMinuteMs);
  if (step.offsetMarketMs !== undefined && (!Number.isFinite(step.offsetMarketMs) || step.offsetMarketMs < 0)) {
    throw new RangeError('offsetMarketMs must be >= 0');
  }
  switch (step.kind) {
    case 'dropConnections':
      return;
    case 'stall':
      if (!Number.isFinite(step.durationWallMs) || step.durationWallMs < 0) throw new RangeError('stall duration must be >= 0');
      return;
    case 'sendMalformed':
      if (typeof step.text !== 'string') throw new TypeError('sendMalformed needs text');
      return;
    case 'disconnect':
      if (step.message !== undefined && typeof step.message !== 'string') throw new TypeError('disconnect message must be a string');
      return;
    case 'restLatency':
      checkLatency(step.wallMs);
      return;
    case 'delayBar':
      if (!Number.isFinite(step.marketMs) || step.marketMs < 0) throw new RangeError('delay must be >= 0 market ms');
      checkSymbol(step.symbol);
      if (step.minuteMs !== undefined) checkMinute(step.minuteMs);
      return;
    case 'repeatBar':
    case 'correctBar':
    case 'skipMinute':
      checkSymbol(step.symbol, step.kind === 'skipMinute');
      if (step.minuteMs !== undefined) checkMinute(step.minuteMs);
      return;
    default:
      throw new TypeError(`unknown plan step kind: ${String((step as { kind: unknown }).kind)}`);
  }
}
