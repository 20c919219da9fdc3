import { performance } from 'node:perf_hooks';
import pRetry from 'p-retry';
import WebSocket from 'ws';
import type { ClientAction, StatusEvent } from '../contracts/polygon-wire.ts';
import type { Logger } from '../ops/logger.ts';
import type { GatewayMetrics } from '../ops/metrics.ts';
import { throttle } from '../ops/throttle.ts';
import { reconnectDelayMs, type BackoffPolicy, type DisconnectReason } from './backoff.ts';
import { parseFrame, type ParsedFrame } from './parse-frame.ts';
import { sessionEvents, type FeedState, type SessionEvent } from './session-events.ts';

export type { FeedState } from './session-events.ts';

/** Who reads the session: frames, pongs and state changes, synchronously, in order. */
export interface SessionListener {
  /** Every parsed frame, in arrival order. Must not block. */
  frame(frame: ParsedFrame, receivedAt: number): void;
  /**
   * The server answered a ping sent at `sentAt` (market time). TCP keeps order, so every
   * frame it sent before answering has been handed to `frame` already.
   */
  pong?(sentAt: number): void;
  stateChanged?(state: FeedState, reason: DisconnectReason | null): void;
}

export interface PolygonSessionOptions {
  url: string;
  apiKey: string;
  /** Channels to subscribe, e.g. `AM.TQQQ`. */
  channels: string[];
  pingIntervalMs: number;
  /** An open socket with no frame and no pong for this long is dead. */
  stallTimeoutMs: number;
  /** Bound on connect + auth + subscribe. */
  handshakeTimeoutMs?: number;
  backoff: BackoffPolicy;
  random?: () => number;
  log: Logger;
  /** Where the state and reconnect counts go; absent, only log lines report them. */
  metrics?: GatewayMetrics;
  listener: SessionListener;
  /** Market time, stamped on pings so a pong tells when the server was last known to be current. */
  now?(): number;
  /**
   * A takeover (HA_MODE=kafka): until this performance.now(), `max_connections` (the
   * previous leader still holds the vendor's one slot) is retried within a second, jittered,
   * instead of after MAX_CONNECTIONS_RETRY_MS.
   */
  takeoverUntil?: number;
}

/** During a takeover, the vendor slot is retried this soon (jittered between the two). */
const TAKEOVER_RETRY_MIN_MS = 200;
const TAKEOVER_RETRY_MAX_MS = 1_000;

/** Why a connection attempt or a session ended; carries the vendor's reason. */
export class FeedDisconnect extends Error {
  readonly reason: DisconnectReason;
  constructor(reason: DisconnectReason, detail: string) {
    super(`feed ${reason}: ${detail}`);
    this.name = 'FeedDisconnect';
    this.reason = reason;
  }
}

/** Status values that end the session, and the reason they are recorded under. A Map, not an object: `constructor` is a status too. */
const STATUS_REASONS = new Map<string, DisconnectReason>([
  ['auth_failed', 'auth_failed'],
  ['auth_timeout', 'auth_timeout'],
  ['max_connections', 'max_connections'],
  ['disconnect', 'disconnect'],
]);

/**
 * One WebSocket session to Polygon's stocks cluster, kept alive forever: connect, wait for
 * `connected`, authenticate, subscribe, then hand every frame to `onFrame`. Pings on an
 * interval and treats silence (no frame, no pong) as death. Each reconnect goes through
 * p-retry with a delay chosen by `reconnectDelayMs` for the reason the last one ended.
 */
export class PolygonSession {
  readonly #o: PolygonSessionOptions;
  #state: FeedState = 'idle';
  #reason: DisconnectReason | null = null;
  #socket: WebSocket | null = null;
  #stop = new AbortController();
  #loop: Promise<void> | null = null;
  #delayTimer: { timer: NodeJS.Timeout; resolve: () => void } | null = null;

  readonly #report: (event: SessionEvent) => void;

  constructor(options: PolygonSessionOptions) {
    this.#o = options;
    this.#report = sessionEvents(options.metrics, options.log);
  }

  get state(): FeedState {
    return this.#state;
  }

  /** Why the feed is not subscribed, when it is not. */
  get reason(): DisconnectReason | null {
    return this.#reason;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Unsubscribes, closes the socket and ends the reconnect loop. */
  async stop(): Promise<void> {
    this.#stop.abort();
    if (this.#delayTimer) {
      clearTimeout(this.#delayTimer.timer);
      this.#delayTimer.resolve();
    }
    const socket = this.#socket;
    if (socket && socket.readyState === WebSocket.OPEN) {
      if (this.#state === 'subscribed') this.#send(socket, { action: 'unsubscribe', params: this.#o.channels.join(',') });
      socket.close(1000, 'shutdown');
    } else {
      socket?.terminate();
    }
    await this.#loop;
    this.#setState('stopped', null);
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      let session: { ended: Promise<DisconnectReason> };
      try {
        session = await pRetry(() => this.#attempt(), {
          retries: Number.POSITIVE_INFINITY,
          // The wait is ours (reason-dependent, full jitter): p-retry's own delay stays minimal.
          minTimeout: 1,
          maxTimeout: 1,
          factor: 1,
          signal: this.#stop.signal,
          onFailedAttempt: async ({ error, attemptNumber }) => {
            const reason = error instanceof FeedDisconnect ? error.reason : 'error';
            await this.#waitBeforeRetry(reason, attemptNumber, error.message);
          },
        });
      } catch {
        return; // stopped
      }
      const ended = await session.ended;
      if (this.#stop.signal.aborted) return;
      // A healthy session ended: the first retry waits per the reason, then backoff starts over.
      await this.#waitBeforeRetry(ended, 1, 'session ended');
    }
  }

  async #waitBeforeRetry(reason: DisconnectReason, attempt: number, detail: string): Promise<void> {
    if (this.#stop.signal.aborted) return;
    const takeover =
      (reason === 'max_connections' || reason === 'disconnect') && this.#o.takeoverUntil !== undefined && performance.now() < this.#o.takeoverUntil;
    const delayMs = takeover
      ? Math.round(TAKEOVER_RETRY_MIN_MS + (this.#o.random ?? Math.random)() * (TAKEOVER_RETRY_MAX_MS - TAKEOVER_RETRY_MIN_MS))
      : reconnectDelayMs(reason, attempt, this.#o.backoff, this.#o.random);
    this.#setState('backoff', reason);
    this.#report({ kind: 'reconnect', reason, attempt, delayMs, detail, takeover });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#delayTimer = null;
        resolve();
      }, delayMs);
      this.#delayTimer = { timer, resolve };
    });
  }

  /**
   * One connection attempt. Resolves, once subscribed, with a promise of the reason the
   * session later ends (wrapped: a promise resolved with a promise would wait for it);
   * rejects with a FeedDisconnect if it never gets that far.
   */
  #attempt(): Promise<{ ended: Promise<DisconnectReason> }> {
    if (this.#stop.signal.aborted) return Promise.reject(new FeedDisconnect('closed', 'stopped'));
    this.#setState('connecting', this.#reason);
    return new Promise((resolveAttempt, rejectAttempt) => {
      const socket = new WebSocket(this.#o.url, { handshakeTimeout: this.#o.handshakeTimeoutMs ?? 10_000, perMessageDeflate: false });
      this.#socket = socket;
      let subscribed = false;
      let endReason: DisconnectReason | null = null;
      let endDetail = '';
      let lastHeard = performance.now();
      let resolveSession!: (reason: DisconnectReason) => void;
      const sessionEnded = new Promise<DisconnectReason>((resolve) => (resolveSession = resolve));
      const acked = new Set<string>();

      const end = (reason: DisconnectReason, detail: string, terminate = false): void => {
        if (endReason === null) {
          endReason = reason;
          endDetail = detail;
        }
        if (terminate) socket.terminate();
        else if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      };

      const handshakeTimer = setTimeout(
        () => end('handshake_timeout', 'no subscription within the handshake bound', true),
        this.#o.handshakeTimeoutMs ?? 10_000,
      );
      const pingTimer = setInterval(() => {
        if (performance.now() - lastHeard > this.#o.stallTimeoutMs) {
          end('stall', `nothing heard for ${Math.round(performance.now() - lastHeard)} ms`, true);
          return;
        }
        if (socket.readyState === WebSocket.OPEN) socket.ping(String(this.#o.now?.() ?? Date.now()));
      }, this.#o.pingIntervalMs);

      socket.on('open', () => {
        lastHeard = performance.now();
        this.#setState('authenticating', this.#reason);
      });
      socket.on('pong', (data: Buffer) => {
        lastHeard = performance.now();
        const sentAt = Number(data.toString('utf8'));
        if (Number.isFinite(sentAt)) this.#o.listener.pong?.(sentAt);
      });
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        const receivedAt = performance.now();
        lastHeard = receivedAt;
        const frame = parseFrame(isBinary ? data : data.toString('utf8'));
        for (const parsed of frame.events) {
          if (parsed.kind === 'status')
            this.#onStatus(socket, parsed.event, acked, end, () => {
              if (subscribed) return;
              subscribed = true;
              clearTimeout(handshakeTimer);
              this.#setState('subscribed', null);
              resolveAttempt({ ended: sessionEnded });
            });
        }
        this.#o.listener.frame(frame, receivedAt);
      });
      socket.on('error', (error) => {
        end('error', error.message, true);
      });
      socket.on('close', (code, why) => {
        clearTimeout(handshakeTimer);
        clearInterval(pingTimer);
        if (this.#socket === socket) this.#socket = null;
        const reason = endReason ?? 'closed';
        const detail = endReason ? endDetail : `closed by server (code ${code}${why.length ? `, ${why.toString('utf8').slice(0, 120)}` : ''})`;
        if (subscribed) resolveSession(reason);
        else rejectAttempt(new FeedDisconnect(reason, detail));
      });
    });
  }

  #onStatus(
    socket: WebSocket,
    status: StatusEvent,
    acked: Set<string>,
    end: (reason: DisconnectReason, detail: string) => void,
    onSubscribed: () => void,
  ): void {
    const message = status.message ?? '';
    const handshaking = this.#state === 'connecting' || this.#state === 'authenticating';
    switch (status.status) {
      case 'connected':
        // Only the first one opens the handshake; a stray one later must not re-authenticate.
        if (handshaking) this.#send(socket, { action: 'auth', params: this.#o.apiKey });
        else this.#o.log.warn({ status: status.status, state: this.#state }, 'unexpected handshake status ignored');
        return;
      case 'auth_success':
        if (handshaking) {
          this.#setState('subscribing', this.#reason);
          this.#send(socket, { action: 'subscribe', params: this.#o.channels.join(',') });
        } else {
          this.#o.log.warn({ status: status.status, state: this.#state }, 'unexpected handshake status ignored');
        }
        return;
      case 'success': {
        const match = /^subscribed to:\s*(.+)$/i.exec(message);
        if (match) {
          for (const channel of match[1]!.split(',')) acked.add(channel.trim());
          // Subscribed as soon as the vendor acknowledges; data for acked channels flows at once.
          onSubscribed();
        }
        return;
      }
      default: {
        const reason = STATUS_REASONS.get(status.status);
        if (reason !== undefined) {
          end(reason, message || status.status);
        } else {
          this.#logStatus(status.status, message);
        }
      }
    }
  }

  /** Other statuses are worth a line, but a flood of them is not worth a flood of lines. */
  #logStatus = throttle(1000, (status: string, message: string) =>
    this.#o.log.info({ status: status.slice(0, 64), message: message.slice(0, 200) }, 'feed status'),
  );

  #send(socket: WebSocket, action: ClientAction): void {
    socket.send(JSON.stringify(action));
  }

  #setState(state: FeedState, reason: DisconnectReason | null): void {
    if (state === this.#state && reason === this.#reason) return;
    this.#state = state;
    this.#reason = state === 'subscribed' ? null : reason;
    this.#report({ kind: 'state', state, reason: this.#reason, symbols: this.#o.channels.length });
    this.#o.listener.stateChanged?.(state, this.#reason);
  }
}
