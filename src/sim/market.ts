/**
 * The simulator's outbound market data: which aggregates go to which connection, and when.
 *
 * - Minute bars (`AM`): when the market reaches a minute's end plus the bar delay (the feed's
 *   delay, if any, plus `barDelayMarketMs`), every
 *   authenticated connection gets the bars of the symbols it subscribes to, in symbol order,
 *   `eventsPerFrame` events per frame. Empty, skipped and held bars are left out; a held bar
 *   goes out alone when released. Queued repeats and corrections run right after a bar is
 *   first published.
 * - Second bars (`A`): at the end of each market second, for `A.` subscriptions, batched the
 *   same way. After a long event-loop stall at most the last minute of seconds is sent.
 *
 * Channel `AM.*` / `A.*` means every symbol of the universe (or the default 12 when no
 * universe is set). Symbols outside the universe are acknowledged but never get data, as a
 * vendor does for a ticker that does not trade.
 */

import type { EventEmitter } from 'node:events';
import { DEFAULT_SYMBOLS } from '../contracts/polygon-wire.ts';
import type { AggregateEvent } from '../contracts/polygon-wire.ts';
import { MINUTE_MS } from '../contracts/time-format.ts';
import type { AgendaSource } from './agenda.ts';
import { simSecondBar } from './bars.ts';
import type { SimClock } from './clock.ts';
import type { BarLedger } from './ledger.ts';
import type { Session } from './session.ts';
import { recordSentBar } from './stats.ts';
import type { SimEvents } from './events.ts';
import type { SentBarKind, SimStats } from './stats.ts';

const SECOND_MS = 1000;
/** Second bars older than this (market ms) are not sent after a stall of the event loop. */
const SECOND_BACKLOG_MS = 60_000;

export interface MarketHost {
  readonly clock: SimClock;
  readonly ledger: BarLedger;
  readonly stats: SimStats;
  readonly events: EventEmitter<SimEvents>;
  readonly eventsPerFrame: number;
  /** Second bars run this much behind the market clock too (a delayed feed). */
  readonly feedDelayMarketMs: number;
  /** Symbols that have data; undefined = every symbol. */
  readonly universe: ReadonlySet<string> | undefined;
  sessions(): Iterable<Session>;
  /** Run repeats/corrections that waited for this bar's first publication. */
  runQueued(symbol: string, minuteMs: number): void;
  /** A held bar went out (to `connIds`). */
  released(symbol: string, minuteMs: number, connIds: number[]): void;
}

export interface Market {
  readonly minuteSource: AgendaSource;
  readonly releaseSource: AgendaSource;
  readonly secondSource: AgendaSource;
  /** The minute whose bars go out next. */
  nextMinute(): number;
  /** Send one bar to every connection subscribed to it; returns their ids. */
  sendBar(bar: AggregateEvent, kind: SentBarKind, revision: number): number[];
  /** Call after subscriptions change: starts or stops the second-bar clock. */
  subscriptionsChanged(): void;
}

export function createMarket(host: MarketHost, firstMinuteMs: number): Market {
  const { clock, ledger, stats, events } = host;
  let nextMinute = firstMinuteMs;
  let nextSecond = Number.POSITIVE_INFINITY;

  const allowed = (symbol: string): boolean => host.universe === undefined || host.universe.has(symbol);

  /** Sorted symbols a session receives for a channel prefix (`AM` or `A`). */
  const symbolsOf = (session: Session, prefix: 'AM' | 'A'): string[] => {
    const out = new Set<string>();
    const lead = `${prefix}.`;
    for (const channel of session.channels) {
      if (!channel.startsWith(lead)) continue;
      const symbol = channel.slice(lead.length);
      if (symbol === '*') {
        for (const s of host.universe ?? DEFAULT_SYMBOLS) out.add(s);
      } else if (allowed(symbol)) {
        out.add(symbol);
      }
    }
    return [...out].sort();
  };

  const receivers = function* (): Generator<Session> {
    for (const session of host.sessions()) if (session.authenticated && session.open) yield session;
  };

  const record = (session: Session, bar: AggregateEvent, kind: SentBarKind, revision: number): void => {
    const sent = {
      connId: session.id,
      symbol: bar.sym,
      minuteMs: bar.s,
      kind,
      revision,
      bar,
      wallMs: Date.now(),
      marketMs: clock.now(),
    };
    recordSentBar(stats, sent);
    events.emit('bar', sent);
  };

  /** Send events in frames of `eventsPerFrame`; returns the events that went out. */
  const sendBatched = (session: Session, list: readonly AggregateEvent[]): AggregateEvent[] => {
    const sent: AggregateEvent[] = [];
    for (let i = 0; i < list.length; i += host.eventsPerFrame) {
      const chunk = list.slice(i, i + host.eventsPerFrame);
      if (session.sendFrame(chunk)) sent.push(...chunk);
    }
    return sent;
  };

  const emitMinute = (minuteMs: number): void => {
    const barCache = new Map<string, AggregateEvent | null>();
    const barOf = (symbol: string): AggregateEvent | null => {
      let bar = barCache.get(symbol);
      if (bar === undefined) {
        const state = ledger.state(symbol, minuteMs);
        const held = ledger.heldUntil(symbol, minuteMs) !== undefined;
        bar = state === 'pending' && !held ? ledger.original(symbol, minuteMs) : null;
        barCache.set(symbol, bar);
      }
      return bar;
    };
    for (const session of receivers()) {
      const list: AggregateEvent[] = [];
      for (const symbol of symbolsOf(session, 'AM')) {
        const bar = barOf(symbol);
        if (bar) list.push(bar);
      }
      for (const bar of sendBatched(session, list)) record(session, bar, 'bar', 0);
    }
    ledger.markEmitted(minuteMs);
    for (const symbol of ledger.symbolsWithFate(minuteMs)) {
      if (ledger.state(symbol, minuteMs) === 'published') host.runQueued(symbol, minuteMs);
    }
    events.emit('minute', { minuteMs, marketMs: clock.now() });
  };

  const sendBar = (bar: AggregateEvent, kind: SentBarKind, revision: number): number[] => {
    const ids: number[] = [];
    for (const session of receivers()) {
      if (!symbolsOf(session, 'AM').includes(bar.sym)) continue;
      if (session.sendFrame([bar])) {
        record(session, bar, kind, revision);
        ids.push(session.id);
      }
    }
    return ids;
  };

  const anySecondSubscribers = (): boolean => {
    for (const session of receivers()) {
      for (const channel of session.channels) if (channel.startsWith('A.')) return true;
    }
    return false;
  };

  const emitSecond = (secondMs: number): void => {
    for (const session of receivers()) {
      const list: AggregateEvent[] = [];
      for (const symbol of symbolsOf(session, 'A')) {
        const bar = simSecondBar(symbol, secondMs, { emptyRate: ledger.emptyRate });
        if (bar) list.push(bar);
      }
      stats.secondBarsSent += sendBatched(session, list).length;
    }
  };

  return {
    minuteSource: {
      name: 'minute',
      priority: 2,
      nextAt: () => ledger.dueAt(nextMinute),
      run() {
        const minuteMs = nextMinute;
        nextMinute += MINUTE_MS;
        emitMinute(minuteMs);
      },
    },
    releaseSource: {
      name: 'release',
      priority: 1,
      nextAt: () => ledger.nextRelease()?.at ?? Number.POSITIVE_INFINITY,
      run() {
        const next = ledger.nextRelease();
        if (!next) return;
        ledger.markReleased(next.symbol, next.minuteMs);
        const bar = ledger.current(next.symbol, next.minuteMs);
        if (bar) {
          const connIds = sendBar(bar, 'delayed', ledger.corrections(next.symbol, next.minuteMs));
          host.released(next.symbol, next.minuteMs, connIds);
          host.runQueued(next.symbol, next.minuteMs);
        }
      },
    },
    secondSource: {
      name: 'second',
      priority: 3,
      nextAt: () => (Number.isFinite(nextSecond) ? nextSecond + SECOND_MS + host.feedDelayMarketMs : Number.POSITIVE_INFINITY),
      run() {
        const secondMs = nextSecond;
        nextSecond += SECOND_MS;
        const floor = Math.floor((clock.now() - host.feedDelayMarketMs - SECOND_BACKLOG_MS) / SECOND_MS) * SECOND_MS;
        if (nextSecond < floor) nextSecond = floor;
        emitSecond(secondMs);
      },
    },
    nextMinute: () => nextMinute,
    sendBar,
    subscriptionsChanged() {
      const active = anySecondSubscribers();
      if (active && !Number.isFinite(nextSecond)) {
        nextSecond = Math.floor((clock.now() - host.feedDelayMarketMs) / SECOND_MS) * SECOND_MS;
      } else if (!active) {
        nextSecond = Number.POSITIVE_INFINITY;
      }
    },
  };
}
