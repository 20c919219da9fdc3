import type { PortfolioMinute, PositionState, TradeExecuted } from '../contracts/engine-events.ts';
import type { Heartbeat } from '../contracts/heartbeat.ts';
import type { PriceEvent } from '../contracts/price-event.ts';
import type { TopicNames } from '../contracts/topics.ts';
import type { GatewayRecord, RecordMeta } from './gateway-records.ts';
import { engineMessage, heartbeatMessage, priceMessage, type RunIdentity } from './price-record.ts';
import type { RecordSink } from './record-sink.ts';

/** The records of one replayed minute, in publishing order. */
export interface MinuteRecords {
  prices: readonly PriceEvent[];
  trades: readonly TradeExecuted[];
  positions: readonly PositionState[];
  portfolio: PortfolioMinute | null;
  heartbeat: Heartbeat;
}

export interface MinutePublisherOptions {
  sink: RecordSink<RecordMeta>;
  topics: TopicNames;
  run: RunIdentity;
  portfolioId: string;
  /** Bound on each stage's acknowledgement. */
  flushTimeoutMs: number;
}

/** Kafka did not acknowledge a stage in time: the replay stops rather than run ahead of it. */
export class StageTimeoutError extends Error {
  override name = 'StageTimeoutError';
}

/**
 * Writes a minute stage by stage: its prices, then its trades, then its positions, then the
 * portfolio, then the heartbeat, each acknowledged before the next goes out, so a consumer
 * that sees the portfolio (or the heartbeat) of a minute has everything of it.
 */
export class MinutePublisher {
  readonly #o: MinutePublisherOptions;

  constructor(options: MinutePublisherOptions) {
    this.#o = options;
  }

  async publish(minute: MinuteRecords): Promise<void> {
    const { topics, run } = this.#o;
    await this.#stage(
      minute.prices.map((event) => ({ topic: topics.prices, message: priceMessage(event, run), meta: { kind: 'bar', event, receivedAt: null } })),
    );
    await this.#stage(minute.trades.map((t) => this.#engine(topics.trades, t.symbol, t)));
    await this.#stage(minute.positions.map((p) => this.#engine(topics.positions, p.symbol, p)));
    await this.#stage(minute.portfolio === null ? [] : [this.#engine(topics.portfolio, this.#o.portfolioId, minute.portfolio)]);
    await this.heartbeat(minute.heartbeat);
  }

  /** A heartbeat, in line with the data (a replay's heartbeat closes its minute). */
  async heartbeat(beat: Heartbeat): Promise<void> {
    await this.#stage([{ topic: this.#o.topics.heartbeat, message: heartbeatMessage(beat), meta: { kind: 'heartbeat', status: beat.status } }]);
  }

  #engine(topic: string, key: string, value: { tsET: string }): GatewayRecord {
    return { topic, message: engineMessage(key, value, this.#o.run), meta: { kind: 'engine' } };
  }

  async #stage(records: GatewayRecord[]): Promise<void> {
    if (records.length === 0) return;
    const abort = new AbortController();
    await this.#o.sink.waitForRoom(records.length, abort.signal);
    for (const record of records) this.#o.sink.enqueue(record);
    if (!(await this.#o.sink.flush(this.#o.flushTimeoutMs)))
      throw new StageTimeoutError(`Kafka did not acknowledge ${records.length} records of ${records[0]!.topic} within ${this.#o.flushTimeoutMs} ms`);
  }
}
