/**
 * A single-node Apache Kafka broker (KRaft, broker + controller in one JVM) for local runs and
 * integration tests. The jars come from Maven (see kafka-artifacts.ts); the JVM runs under a
 * watchdog (see watchdog.ts) so it dies with this Node process, however that ends.
 *
 *   const kafka = await startEmbeddedKafka();
 *   // ... use kafka.bootstrapServers ...
 *   await kafka.dispose();
 *
 * Tests of secure clients add listeners beside the PLAINTEXT one (which the broker itself
 * and the readiness probe keep using):
 *
 *   const kafka = await startEmbeddedKafka({
 *     listeners: [
 *       { name: 'SASL', protocol: 'SASL_PLAINTEXT', saslMechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] },
 *       { name: 'MTLS', protocol: 'SSL', tls: { keystore: 'broker.pem', truststore: 'ca.pem', clientAuth: 'required' } },
 *     ],
 *     saslUsers: [{ username: 'alice', password: 'alice-secret' }],
 *   });
 *   kafka.listeners.SASL; // '127.0.0.1:<port>'
 */

import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { execFile } from 'node:child_process';

import kafkajs from '../kafka/kafkajs.ts';

import { resolveKafkaClasspath } from './kafka-artifacts.ts';
import type { KafkaArtifacts, ResolveKafkaOptions } from './kafka-artifacts.ts';
import { WatchedProcess } from './watchdog.ts';

const { Kafka, logLevel } = kafkajs;

const HOST = '127.0.0.1';
const NODE_ID = 1;

export type EmbeddedSaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/** A listener beside PLAINTEXT, on a free loopback port of its own. */
export interface EmbeddedListener {
  /** Kafka listener name: upper-case letters, digits and '_' (not PLAINTEXT or CONTROLLER). */
  name: string;
  protocol: 'SASL_PLAINTEXT' | 'SSL' | 'SASL_SSL';
  /** SASL_* listeners: the mechanisms offered. Default: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. */
  saslMechanisms?: EmbeddedSaslMechanism[];
  /** SSL and SASL_SSL listeners: the broker's TLS material, as PEM files. */
  tls?: {
    /** PEM file holding the broker's unencrypted PKCS#8 private key and its certificate chain. */
    keystore: string;
    /** PEM file of the CA(s) client certificates must chain to; needed unless clientAuth is 'none'. */
    truststore?: string;
    /** Kafka's ssl.client.auth; default 'none'. 'required' is mutual TLS. */
    clientAuth?: 'required' | 'requested' | 'none';
  };
}

/** A SASL user of every SASL listener: PLAIN users live in the listeners' JAAS config, SCRAM users are written when storage is formatted. */
export interface EmbeddedSaslUser {
  username: string;
  password: string;
  /** Default: all three. */
  mechanisms?: EmbeddedSaslMechanism[];
}

export interface EmbeddedKafkaOptions {
  /** Data directory (created if absent, kept on dispose). Default: a fresh temp dir, removed on dispose. */
  dataDir?: string;
  /** Broker (PLAINTEXT) port. Default: a free loopback port. The controller always gets a free port. */
  port?: number;
  /** Every line the broker prints, plus a few `[embedded-kafka]` lifecycle lines. Default: silent. */
  log?: (line: string) => void;
  /** Extra or overriding `server.properties` entries. */
  serverProperties?: Record<string, string>;
  /** Listeners beside PLAINTEXT (SASL, TLS); see `EmbeddedKafka.listeners` for their addresses. */
  listeners?: EmbeddedListener[];
  /**
   * SASL users. SCRAM credentials are stored when the data dir is first formatted, so on a
   * reused data dir the users of its first start stay in effect.
   */
  saslUsers?: EmbeddedSaslUser[];
  /** Extra arguments for `kafka-storage format` (first start of a data dir only). */
  formatArgs?: string[];
  /** Extra JVM options, after the defaults (so `-Xmx1g` wins over the default `-Xmx512m`). */
  jvmArgs?: string[];
  /** Bound on startup until the broker answers metadata requests; default 60 s. */
  readyTimeoutMs?: number;
  /** Bound on a graceful stop before SIGKILL; default 15 s. */
  stopTimeoutMs?: number;
  /** Passed to resolveKafkaClasspath (version, env, PATH lookup). */
  artifacts?: ResolveKafkaOptions;
}

export interface EmbeddedKafka {
  /** `127.0.0.1:<port>`; stays the same across stop() and start(). */
  readonly bootstrapServers: string;
  readonly port: number;
  /** `127.0.0.1:<port>` of every listener by name: PLAINTEXT and the ones in options.listeners. */
  readonly listeners: Readonly<Record<string, string>>;
  readonly version: string;
  readonly dataDir: string;
  /** Pid of the broker's JVM while it runs. */
  readonly pid: number | undefined;
  /** Pid of the watchdog wrapper (and process group) while it runs. */
  readonly watchdogPid: number | undefined;
  readonly running: boolean;
  /** Starts the broker again after stop() or kill(): same port, same data. No-op while running. */
  start(): Promise<void>;
  /** Graceful stop: SIGTERM, wait for exit, SIGKILL after stopTimeoutMs. No-op when stopped. */
  stop(): Promise<void>;
  /** SIGKILL the JVM (a crash, for tests) and wait until it is gone. */
  kill(): Promise<void>;
  /** stop(), then remove the data dir if it was a temp dir made by startEmbeddedKafka. Idempotent. */
  dispose(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The broker did not come up (exited, or did not answer in time). */
export class EmbeddedKafkaStartError extends Error {
  override name = 'EmbeddedKafkaStartError';
  /** The last lines the broker printed. */
  readonly output: string[];
  constructor(message: string, output: string[], options?: { cause?: unknown }) {
    super(message, options);
    this.output = output;
  }
}

/** Resolves the jars if needed, formats storage if needed, starts the broker, waits until it serves. */
export async function startEmbeddedKafka(opts: EmbeddedKafkaOptions = {}): Promise<EmbeddedKafka> {
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port > 0 && opts.port < 65536)) {
    throw new RangeError(`embedded Kafka: port must be an integer in 1..65535, got ${opts.port}`);
  }
  validateListeners(opts);
  const artifacts = await resolveKafkaClasspath({ log: opts.log, ...opts.artifacts });
  let dataDir: string;
  let ownsDataDir: boolean;
  if (opts.dataDir !== undefined) {
    dataDir = resolvePath(opts.dataDir);
    await mkdir(dataDir, { recursive: true });
    ownsDataDir = false;
  } else {
    dataDir = await mkdtemp(join(tmpdir(), 'sentio-kafka-'));
    ownsDataDir = true;
  }

  const maxAttempts = opts.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const [port, controllerPort, ...listenerPorts] = (await freePorts(opts.port, 2 + (opts.listeners?.length ?? 0))) as [number, number, ...number[]];
    const broker = new Broker(artifacts, dataDir, ownsDataDir, port, controllerPort, listenerPorts, opts);
    try {
      await broker.start();
      return broker;
    } catch (err) {
      // A port picked by binding port 0 can be taken before the JVM binds it: pick again.
      const portRace = err instanceof EmbeddedKafkaStartError && err.output.some((l) => /Address already in use/.test(l));
      if (portRace && attempt < maxAttempts) {
        opts.log?.(`[embedded-kafka] port taken before the broker could bind it; retrying with new ports`);
        await broker.stop().catch(() => {});
        continue;
      }
      await broker.dispose().catch(() => {});
      throw err;
    }
  }
}

class Broker implements EmbeddedKafka {
  readonly bootstrapServers: string;
  readonly port: number;
  readonly listeners: Readonly<Record<string, string>>;
  readonly version: string;
  readonly dataDir: string;
  readonly #artifacts: KafkaArtifacts;
  readonly #ownsDataDir: boolean;
  readonly #controllerPort: number;
  readonly #opts: EmbeddedKafkaOptions;
  #proc: WatchedProcess | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #disposed = false;
  /** True while we are deliberately stopping the JVM (its exit is expected). */
  #stopping = false;

  constructor(
    artifacts: KafkaArtifacts,
    dataDir: string,
    ownsDataDir: boolean,
    port: number,
    controllerPort: number,
    listenerPorts: number[],
    opts: EmbeddedKafkaOptions,
  ) {
    this.#artifacts = artifacts;
    this.version = artifacts.version;
    this.dataDir = dataDir;
    this.#ownsDataDir = ownsDataDir;
    this.port = port;
    this.#controllerPort = controllerPort;
    this.bootstrapServers = `${HOST}:${port}`;
    const listeners: Record<string, string> = { PLAINTEXT: this.bootstrapServers };
    (opts.listeners ?? []).forEach((l, i) => (listeners[l.name] = `${HOST}:${listenerPorts[i]}`));
    this.listeners = Object.freeze(listeners);
    this.#opts = opts;
  }

  get pid(): number | undefined {
    return this.#proc?.commandPid;
  }

  get watchdogPid(): number | undefined {
    return this.#proc?.wrapperPid;
  }

  get running(): boolean {
    return this.#proc !== undefined && !this.#proc.hasExited;
  }

  start(): Promise<void> {
    return this.#serial(() => this.#start());
  }

  stop(): Promise<void> {
    return this.#serial(() => this.#stop('SIGTERM'));
  }

  kill(): Promise<void> {
    return this.#serial(() => this.#stop('SIGKILL'));
  }

  dispose(): Promise<void> {
    return this.#serial(async () => {
      await this.#stop('SIGTERM');
      if (!this.#disposed && this.#ownsDataDir) {
        await rm(this.dataDir, { recursive: true, force: true, maxRetries: 3 });
      }
      this.#disposed = true;
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(op, op);
    this.#queue = next.catch(() => {});
    return next;
  }

  #log(line: string): void {
    this.#opts.log?.(`[embedded-kafka] ${line}`);
  }

  get #propertiesPath(): string {
    return join(this.dataDir, 'server.properties');
  }

  get #logDir(): string {
    return join(this.dataDir, 'logs');
  }

  async #start(): Promise<void> {
    if (this.#disposed) throw new Error('embedded Kafka was disposed; start a new one');
    if (this.running) return;
    const began = Date.now();
    await mkdir(this.#logDir, { recursive: true });
    await writeFile(this.#propertiesPath, formatProperties(this.#serverProperties()));
    if (!(await exists(join(this.#logDir, 'meta.properties')))) await this.#format();

    const { java, classpath } = this.#artifacts;
    const args = [
      '-Xmx512m',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-Dorg.slf4j.simpleLogger.showDateTime=true',
      '-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS',
      ...(this.#opts.jvmArgs ?? []),
      '-cp',
      classpath,
      'kafka.Kafka',
      this.#propertiesPath,
    ];
    const proc = new WatchedProcess(java, args, {
      cwd: this.dataDir,
      env: this.#opts.artifacts?.env ?? process.env,
      onLine: (line) => this.#opts.log?.(line),
    });
    this.#proc = proc;
    void proc.exited.then((status) => {
      if (this.#proc === proc && !this.#stopping) {
        this.#log(`broker exited unexpectedly (exit ${status.code ?? status.signal}); last output:\n${proc.outputTail().slice(-20).join('\n')}`);
      }
    });

    const deadline = began + (this.#opts.readyTimeoutMs ?? 60_000);
    try {
      await proc.pid();
      await this.#waitReady(proc, deadline);
    } catch (err) {
      this.#stopping = true;
      try {
        proc.killNow();
        await proc.exited;
      } finally {
        this.#stopping = false;
      }
      throw err;
    }
    this.#log(
      `Kafka ${this.version} ready at ${this.bootstrapServers} in ${((Date.now() - began) / 1000).toFixed(1)} s (pid ${proc.commandPid}, data ${this.dataDir})`,
    );
  }

  async #stop(sig: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const proc = this.#proc;
    if (!proc || proc.hasExited) return;
    this.#stopping = true;
    try {
      const timeoutMs = this.#opts.stopTimeoutMs ?? 15_000;
      proc.signal(sig);
      if (await proc.waitExit(sig === 'SIGKILL' ? 10_000 : timeoutMs)) return;
      this.#log(`broker did not exit ${Math.round(timeoutMs / 1000)} s after ${sig}; killing it`);
      proc.killNow();
      if (!(await proc.waitExit(10_000))) {
        throw new Error(`embedded Kafka (pid ${proc.commandPid}) did not exit after SIGKILL`);
      }
    } finally {
      this.#stopping = false;
    }
  }

  #serverProperties(): Record<string, string> {
    const extra = this.#opts.listeners ?? [];
    return {
      'process.roles': 'broker,controller',
      'node.id': String(NODE_ID),
      'controller.quorum.voters': `${NODE_ID}@${HOST}:${this.#controllerPort}`,
      listeners: [
        `PLAINTEXT://${HOST}:${this.port}`,
        `CONTROLLER://${HOST}:${this.#controllerPort}`,
        ...extra.map((l) => `${l.name}://${this.listeners[l.name]}`),
      ].join(','),
      'advertised.listeners': [`PLAINTEXT://${HOST}:${this.port}`, ...extra.map((l) => `${l.name}://${this.listeners[l.name]}`)].join(','),
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT', ...extra.map((l) => `${l.name}:${l.protocol}`)].join(','),
      'inter.broker.listener.name': 'PLAINTEXT',
      'log.dirs': this.#logDir,
      'num.partitions': '1',
      'offsets.topic.replication.factor': '1',
      // One partition instead of 50: the first consumer group gets its coordinator sooner.
      'offsets.topic.num.partitions': '1',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'share.coordinator.state.topic.replication.factor': '1',
      'share.coordinator.state.topic.min.isr': '1',
      'group.initial.rebalance.delay.ms': '0',
      // Topics exist because someone provisioned them: a typo must fail, not create a topic.
      'auto.create.topics.enable': 'false',
      // After a crash (kill()) the restarted broker cannot register until the old registration's
      // session expires (default 9 s): keep that short. Heartbeats stay inside one JVM.
      'broker.session.timeout.ms': '4000',
      'broker.heartbeat.interval.ms': '500',
      ...listenerProperties(extra, this.#opts.saslUsers ?? []),
      ...this.#opts.serverProperties,
    };
  }

  async #format(): Promise<void> {
    const { java, classpath } = this.#artifacts;
    const args = [
      // A short-lived JVM: C1 only and the serial GC start faster.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp',
      classpath,
      'kafka.tools.StorageTool',
      'format',
      '-t',
      newClusterId(),
      '-c',
      this.#propertiesPath,
      ...scramFormatArgs(this.#opts.saslUsers ?? []),
      ...(this.#opts.formatArgs ?? []),
    ];
    await new Promise<void>((resolve, reject) => {
      execFile(java, args, { cwd: this.dataDir, timeout: 60_000, env: this.#opts.artifacts?.env ?? process.env }, (err, stdout, stderr) => {
        if (!err) {
          resolve();
          return;
        }
        const output = `${stdout}\n${stderr}`.trim().split('\n').slice(-30);
        reject(
          new EmbeddedKafkaStartError(
            `embedded Kafka ${this.version}: formatting ${this.#logDir} failed (${err.message.split('\n')[0]}); last output:\n${output.join('\n')}`,
            output,
            { cause: err },
          ),
        );
      });
    });
  }

  async #waitReady(proc: WatchedProcess, deadline: number): Promise<void> {
    const kafka = new Kafka({
      clientId: 'sentio-embedded-kafka-probe',
      brokers: [this.bootstrapServers],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      requestTimeout: 5_000,
      retry: { retries: 0 },
    });
    const exited = proc.exited.then((status) => {
      const output = proc.outputTail();
      const inUse = output.some((l) => /Address already in use/.test(l));
      const why = inUse
        ? `port ${this.port} or controller port ${this.#controllerPort}${Object.entries(this.listeners)
            .filter(([n]) => n !== 'PLAINTEXT')
            .map(([n, a]) => ` or ${n} port ${a.split(':')[1]}`)
            .join('')} on ${HOST} is already in use`
        : `exit ${status.code ?? status.signal}`;
      throw new EmbeddedKafkaStartError(`embedded Kafka ${this.version} exited during startup (${why}); last output:\n${output.slice(-30).join('\n')}`, output);
    });
    exited.catch(() => {});
    let lastError: unknown;
    while (Date.now() < deadline) {
      const admin = kafka.admin({ retry: { retries: 0 } });
      try {
        await Promise.race([admin.connect(), exited]);
        const cluster = await Promise.race([admin.describeCluster(), exited]);
        if (cluster.brokers.length === 0) {
          lastError = new Error('metadata lists no brokers yet');
        } else {
          // Also wait for the group coordinator (this creates and loads __consumer_offsets), so
          // the first consumer group does not meet COORDINATOR_NOT_AVAILABLE or LOAD_IN_PROGRESS.
          await Promise.race([admin.describeGroups(['sentio-embedded-kafka-probe']), exited]);
          return;
        }
      } catch (err) {
        if (err instanceof EmbeddedKafkaStartError) throw err;
        lastError = err;
      } finally {
        await admin.disconnect().catch(() => {});
      }
      await Promise.race([delay(200), exited]);
    }
    const output = proc.outputTail();
    const why = lastError instanceof Error ? lastError.message : String(lastError);
    throw new EmbeddedKafkaStartError(
      `embedded Kafka ${this.version} did not answer metadata requests at ${this.bootstrapServers} within ${Math.round((this.#opts.readyTimeoutMs ?? 60_000) / 1000)} s (last error: ${why}); last output:\n${output.slice(-30).join('\n')}`,
      output,
    );
  }
}

/** `count` free loopback ports, distinct (all held open together while picking). `fixed` is used as the first. */
async function freePorts(fixed: number | undefined, count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, (_, i) => i > 0 || fixed === undefined).map(
      (pick) =>
        new Promise<Server | undefined>((resolve, reject) => {
          if (!pick) {
            resolve(undefined);
            return;
          }
          const server = createServer();
          server.unref();
          server.once('error', reject);
          server.listen(0, HOST, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s?.address();
    return typeof address === 'object' && address ? address.port : (fixed as number);
  });
  await Promise.all(servers.map((s) => (s ? new Promise<void>((r) => s.close(() => r())) : Promise.resolve())));
  return ports;
}

const ALL_SASL_MECHANISMS: readonly EmbeddedSaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** Throws a RangeError naming the first listener or user the broker could not take. */
function validateListeners(opts: EmbeddedKafkaOptions): void {
  const names = new Set<string>(['PLAINTEXT', 'CONTROLLER']);
  for (const l of opts.listeners ?? []) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(l.name) || names.has(l.name)) {
      throw new RangeError(
        `embedded Kafka: listener name ${JSON.stringify(l.name)} must be upper-case letters, digits and '_', and unique (PLAINTEXT and CONTROLLER are taken)`,
      );
    }
    names.add(l.name);
    const tls = l.protocol === 'SSL' || l.protocol === 'SASL_SSL';
    if (tls && l.tls === undefined) throw new RangeError(`embedded Kafka: listener ${l.name} (${l.protocol}) needs tls.keystore`);
    if (tls && (l.tls?.clientAuth ?? 'none') !== 'none' && l.tls?.truststore === undefined) {
      throw new RangeError(`embedded Kafka: listener ${l.name} checks client certificates, so it needs tls.truststore`);
    }
  }
  for (const u of opts.saslUsers ?? []) {
    // Both end up quoted inside JAAS and SCRAM format arguments; keep them plain.
    if (!/^[A-Za-z0-9_.@+-]+$/.test(u.username))
      throw new RangeError(`embedded Kafka: SASL user name ${JSON.stringify(u.username)} may hold only letters, digits and _ . @ + -`);
    if (u.password === '' || /["\\\s,\][=]/.test(u.password))
      throw new RangeError(
        `embedded Kafka: the password of SASL user ${u.username} must be non-empty, without quotes, backslashes, spaces, commas, brackets or '='`,
      );
  }
}

/** `listener.name.<l>.*` entries: mechanisms and JAAS for SASL listeners, PEM stores for TLS ones. */
function listenerProperties(listeners: readonly EmbeddedListener[], users: readonly EmbeddedSaslUser[]): Record<string, string> {
  const props: Record<string, string> = {};
  for (const l of listeners) {
    const prefix = `listener.name.${l.name.toLowerCase()}`;
    if (l.protocol === 'SASL_PLAINTEXT' || l.protocol === 'SASL_SSL') {
      const mechanisms = l.saslMechanisms ?? ALL_SASL_MECHANISMS;
      props[`${prefix}.sasl.enabled.mechanisms`] = mechanisms.join(',');
      for (const mechanism of mechanisms) {
        if (mechanism === 'PLAIN') {
          const plainUsers = users.filter((u) => (u.mechanisms ?? ALL_SASL_MECHANISMS).includes('PLAIN')).map((u) => ` user_${u.username}="${u.password}"`);
          props[`${prefix}.plain.sasl.jaas.config`] = `org.apache.kafka.common.security.plain.PlainLoginModule required${plainUsers.join('')};`;
        } else {
          // SCRAM users are in the cluster metadata (see scramFormatArgs); the module only has to be named.
          props[`${prefix}.${mechanism.toLowerCase()}.sasl.jaas.config`] = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
        }
      }
    }
    if (l.tls !== undefined) {
      props[`${prefix}.ssl.keystore.type`] = 'PEM';
      props[`${prefix}.ssl.keystore.location`] = resolvePath(l.tls.keystore);
      if (l.tls.truststore !== undefined) {
        props[`${prefix}.ssl.truststore.type`] = 'PEM';
        props[`${prefix}.ssl.truststore.location`] = resolvePath(l.tls.truststore);
      }
      props[`${prefix}.ssl.client.auth`] = l.tls.clientAuth ?? 'none';
    }
  }
  return props;
}

/** `--add-scram` arguments of `kafka-storage format`: SCRAM users exist from the first start. */
function scramFormatArgs(users: readonly EmbeddedSaslUser[]): string[] {
  return users.flatMap((u) =>
    (u.mechanisms ?? ALL_SASL_MECHANISMS).filter((m) => m !== 'PLAIN').flatMap((m) => ['--add-scram', `${m}=[name=${u.username},password=${u.password}]`]),
  );
}

/** A Kafka cluster id: 16 random bytes, base64url without padding (22 characters). */
function newClusterId(): string {
  for (;;) {
    const bytes = randomBytes(16);
    const id = bytes.toString('base64url');
    // Kafka avoids ids starting with '-' (they look like options) and the reserved all-zero id.
    if (!id.startsWith('-') && bytes.some((b) => b !== 0)) return id;
  }
}

function formatProperties(props: Record<string, string>): string {
  const escape = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  const lines = Object.entries(props).map(([k, v]) => `${escape(k).replace(/([=: ])/g, '\\$1')}=${escape(v)}`);
  return `# Generated by sentio-gateway embedded Kafka; rewritten on every start.\n${lines.join('\n')}\n`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
