/**
 * One client connection, speaking Polygon's control protocol:
 *
 * - on connect: `[{"ev":"status","status":"connected","message":"Connected Successfully"}]`;
 * - `{"action":"auth","params":KEY}` -> `auth_success` ("authenticated"), or `auth_failed`
 *   ("authentication failed") and the socket is closed; an accepted key beyond the account's
 *   connection limit gets `max_connections` and is closed;
 * - no auth within `authTimeoutMs` -> `auth_timeout`, then closed;
 * - `subscribe` / `unsubscribe` with comma-separated channels, acknowledged one frame per
 *   channel: "subscribed to: AM.X" / "unsubscribed to: AM.X" (Polygon's wording);
 * - subscribe/unsubscribe before auth -> status `error` "not authorized" (socket stays open);
 *   text that is not a JSON action -> status `error` "invalid message" (socket stays open).
 *
 * - `disconnect(message)` (a fault): status `disconnect`, as Polygon sends when another client
 *   takes the account's slot, then the socket is closed.
 *
 * Refusals and disconnects close with code 1008 (policy violation). Pings are answered here, not by `ws`
 * (the server runs with autoPong off), so that a stalled connection stops answering them.
 *
 * A stalled connection stays open but sends nothing: frames due meanwhile are lost for it
 * (what the vendor does: nothing is replayed to a connection that fell behind), pings go
 * unanswered, and client messages wait and are handled when the stall ends.
 *
 * A client that reads too slowly (more than `slowConsumerBytes` waiting in the socket) is cut
 * off with code 1011, as the vendor does, and terminated if the close does not complete.
 *
 * The server pings every `keepAliveMs`; a client that has not answered one by the next (a
 * frozen process: its socket stays open, nothing reads it) is terminated, which frees the
 * account's slot, as servers that keep connections alive do.
 */

import type { EventEmitter } from 'node:events';
import type { WebSocket, RawData } from 'ws';
import type { StatusEvent } from '../contracts/polygon-wire.ts';
import type { SimClock } from './clock.ts';
import type { SimLogger } from './log.ts';
import type { SimEvents } from './events.ts';
import { CLOSE_POLICY, CLOSE_SLOW_CONSUMER, MAX_CONNECTIONS_MESSAGE } from './messages.ts';
import type { AuthResult, SimStats } from './stats.ts';

/** Wall ms a slow consumer gets to complete the close before its socket is destroyed. */
const SLOW_CLOSE_GRACE_MS = 2_000;

export interface SessionHost {
  readonly clock: SimClock;
  readonly stats: SimStats;
  readonly events: EventEmitter<SimEvents>;
  readonly log: SimLogger;
  readonly authTimeoutMs: number;
  readonly maxConnections: number;
  readonly slowConsumerBytes: number;
  /** Wall ms between the server's pings; 0: none. */
  readonly keepAliveMs: number;
  checkKey(candidate: string): boolean;
  /** Authenticated connections other than `session`. */
  authenticatedOthers(session: Session): number;
  subscriptionsChanged(): void;
  closed(session: Session): void;
}

export class Session {
  readonly id: number;
  readonly channels = new Set<string>();
  authenticated = false;
  private readonly ws: WebSocket;
  private readonly host: SessionHost;
  private stalledUntilMono = 0;
  private readonly heldMessages: string[] = [];
  private authTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private slowTimer: NodeJS.Timeout | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  private closing = false;
  private disposed = false;

  constructor(id: number, ws: WebSocket, host: SessionHost) {
    this.id = id;
    this.ws = ws;
    this.host = host;
    host.stats.connectionsOpened += 1;
    host.stats.connectionsOpen += 1;
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('ping', (data) => this.onPing(data));
    ws.on('pong', () => (this.awaitingPong = false));
    ws.on('error', (err) => host.log.debug({ connId: id, err: err.message }, 'sim: socket error'));
    ws.on('close', (code, reason) => this.onClose(code, reason.toString()));
    host.events.emit('connection', { connId: id });
    this.sendStatus('connected', 'Connected Successfully');
    this.armAuthTimer(host.authTimeoutMs);
    if (host.keepAliveMs > 0) this.keepAliveTimer = setInterval(() => this.keepAlive(), host.keepAliveMs);
  }

  /** Until the stall timer has fired and the held messages are handled (not merely until the
   * instant passes), so nothing can slip out ahead of them. */
  get stalled(): boolean {
    return this.stallTimer !== undefined;
  }

  get open(): boolean {
    return !this.disposed && !this.closing;
  }

  /** Send one frame of events; false when it was not sent (stalled or closing). */
  sendFrame(events: readonly object[]): boolean {
    return this.write(JSON.stringify(events), events);
  }

  /**
   * Send a frame exactly as given, for fault injection: a string as a text frame, bytes as a
   * binary frame. False when it was not sent (stalled or closing).
   */
  sendRaw(data: string | Uint8Array): boolean {
    return this.write(data, null);
  }

  /** Bytes queued in this connection's socket, not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Status `disconnect` (lost if stalled), then close with 1008; false if already closing. */
  disconnect(message: string): boolean {
    if (!this.open) return false;
    this.host.log.info({ connId: this.id }, 'sim: disconnect');
    this.refuse('disconnect', message, 'disconnect');
    return true;
  }

  /** Stop sending and answering for `durationWallMs`, keeping the socket open. */
  stall(durationWallMs: number): void {
    const until = performance.now() + durationWallMs;
    if (until <= this.stalledUntilMono) return;
    this.stalledUntilMono = until;
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => this.endStall(), durationWallMs);
  }

  /** Abrupt loss of the connection: no close frame. */
  terminate(): void {
    this.ws.terminate();
  }

  /** Clear every timer; used when the simulator shuts down. */
  dispose(): void {
    this.disposed = true;
    for (const t of [this.authTimer, this.stallTimer, this.slowTimer, this.keepAliveTimer]) if (t) clearTimeout(t);
    this.authTimer = this.stallTimer = this.slowTimer = this.keepAliveTimer = undefined;
  }

  // -------------------------------------------------------------------------------------

  private write(data: string | Uint8Array, events: readonly object[] | null): boolean {
    if (!this.open || this.ws.readyState !== this.ws.OPEN) return false;
    if (this.stalled) {
      this.host.stats.framesLostToStall += 1;
      return false;
    }
    const binary = typeof data !== 'string';
    // `ws` sends a string as a text frame and bytes as a binary frame.
    this.ws.send(data, { binary });
    const { stats, events: emitter } = this.host;
    stats.framesSent += 1;
    stats.eventsSent += events?.length ?? 0;
    if (emitter.listenerCount('frame') > 0) {
      emitter.emit(
        'frame',
        binary
          ? { connId: this.id, text: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'), events, binary: true }
          : { connId: this.id, text: data, events },
      );
    }
    const buffered = this.ws.bufferedAmount;
    if (buffered > stats.maxBufferedBytes) stats.maxBufferedBytes = buffered;
    if (buffered > this.host.slowConsumerBytes) this.cutSlowConsumer();
    return true;
  }

  private sendStatus(status: StatusEvent['status'], message: string): void {
    const event: StatusEvent = { ev: 'status', status, message };
    this.sendFrame([event]);
  }

  private refuse(status: StatusEvent['status'], message: string, reason: string): void {
    this.sendStatus(status, message);
    this.closing = true;
    this.ws.close(CLOSE_POLICY, reason);
  }

  private cutSlowConsumer(): void {
    this.host.stats.slowConsumersCut += 1;
    this.host.log.warn({ connId: this.id, buffered: this.ws.bufferedAmount }, 'sim: cutting off slow consumer');
    this.closing = true;
    this.ws.close(CLOSE_SLOW_CONSUMER, 'slow consumer');
    this.slowTimer = setTimeout(() => this.ws.terminate(), SLOW_CLOSE_GRACE_MS);
  }

  private armAuthTimer(delayMs: number): void {
    this.authTimer = setTimeout(() => {
      this.authTimer = undefined;
      if (this.authenticated || !this.open) return;
      if (this.stalled) {
        this.armAuthTimer(Math.max(1, this.stalledUntilMono - performance.now()));
        return;
      }
      this.host.log.info({ connId: this.id }, 'sim: auth timeout');
      this.refuse('auth_timeout', 'no authentication message received in time', 'auth timeout');
    }, delayMs);
  }

  private endStall(): void {
    this.stallTimer = undefined;
    this.stalledUntilMono = 0;
    // Messages are handled in arrival order; a handler may not stall again, but if it did,
    // the rest keep waiting.
    while (this.heldMessages.length > 0 && this.open && !this.stalled) this.handle(this.heldMessages.shift()!);
    this.host.events.emit('stallEnd', { connId: this.id });
  }

  private keepAlive(): void {
    // A stalled server sends nothing, its pings included.
    if (!this.open || this.stalled || this.ws.readyState !== this.ws.OPEN) return;
    if (this.awaitingPong) {
      this.host.stats.unresponsiveClientsDropped += 1;
      this.host.log.warn({ connId: this.id }, 'sim: client stopped answering pings; terminating it');
      this.ws.terminate();
      return;
    }
    this.awaitingPong = true;
    this.ws.ping();
  }

  private onPing(data: Buffer): void {
    this.host.stats.pingsReceived += 1;
    const answered = this.open && !this.stalled && this.ws.readyState === this.ws.OPEN;
    if (answered) {
      this.ws.pong(data);
      this.host.stats.pongsSent += 1;
    }
    this.host.events.emit('ping', { connId: this.id, answered });
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : data instanceof ArrayBuffer
        ? Buffer.from(new Uint8Array(data)).toString('utf8')
        : data.toString('utf8');
    if (isBinary) this.host.log.debug({ connId: this.id }, 'sim: binary message treated as text');
    if (this.stalled) {
      this.heldMessages.push(text);
      return;
    }
    this.handle(text);
  }

  private handle(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      msg = undefined;
    }
    if (!isAction(msg)) {
      this.host.stats.badClientMessages += 1;
      this.host.log.debug({ connId: this.id, bytes: text.length }, 'sim: invalid client message');
      this.sendStatus('error', 'invalid message');
      return;
    }
    switch (msg.action) {
      case 'auth':
        this.auth(msg.params);
        return;
      case 'subscribe':
      case 'unsubscribe':
        if (!this.authenticated) {
          this.sendStatus('error', 'not authorized');
          return;
        }
        this.changeSubscriptions(msg.action, msg.params);
        return;
      default:
        this.host.stats.badClientMessages += 1;
        this.sendStatus('error', `unknown action: ${String(msg.action).slice(0, 40)}`);
    }
  }

  private auth(key: string): void {
    if (this.authTimer) clearTimeout(this.authTimer);
    this.authTimer = undefined;
    let result: AuthResult;
    if (!this.host.checkKey(key)) {
      result = 'failed';
    } else if (!this.authenticated && this.host.authenticatedOthers(this) >= this.host.maxConnections) {
      result = 'max_connections';
    } else {
      result = 'success';
    }
    const marketMs = this.host.clock.now();
    const attempt = { connId: this.id, result, wallMs: Date.now(), monoMs: performance.now(), marketMs };
    this.host.stats.authAttempts.push(attempt);
    this.host.log.info({ connId: this.id, result }, 'sim: auth');
    if (result === 'success') {
      this.authenticated = true;
      this.host.stats.subscriptions.set(this.id, this.channels);
      this.sendStatus('auth_success', 'authenticated');
    } else if (result === 'failed') {
      this.authenticated = false;
      this.host.stats.subscriptions.delete(this.id);
      this.refuse('auth_failed', 'authentication failed', 'authentication failed');
    } else {
      this.refuse('max_connections', MAX_CONNECTIONS_MESSAGE, 'max connections');
    }
    this.host.events.emit('auth', attempt);
  }

  private changeSubscriptions(action: 'subscribe' | 'unsubscribe', params: string): void {
    const channels = params
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c.length > 0);
    const done: string[] = [];
    for (const channel of channels) {
      if (!/^[A-Za-z]+\.[^\s.][^\s]*$/.test(channel)) {
        this.sendStatus('error', `invalid channel: ${channel.slice(0, 40)}`);
        continue;
      }
      if (action === 'subscribe') this.channels.add(channel);
      else this.channels.delete(channel);
      done.push(channel);
      this.sendStatus('success', `${action}d to: ${channel}`);
    }
    this.host.subscriptionsChanged();
    this.host.events.emit(action === 'subscribe' ? 'subscribed' : 'unsubscribed', { connId: this.id, channels: done });
  }

  private onClose(code: number, reason: string): void {
    const wasDisposed = this.disposed;
    this.dispose();
    this.closing = true;
    this.heldMessages.length = 0;
    this.host.stats.connectionsOpen -= 1;
    this.host.stats.subscriptions.delete(this.id);
    this.host.closed(this);
    if (!wasDisposed) this.host.log.info({ connId: this.id, code }, 'sim: connection closed');
    this.host.events.emit('close', { connId: this.id, code, reason });
  }
}

function isAction(msg: unknown): msg is { action: string; params: string } {
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return false;
  const m = msg as Record<string, unknown>;
  return typeof m['action'] === 'string' && typeof m['params'] === 'string';
}
