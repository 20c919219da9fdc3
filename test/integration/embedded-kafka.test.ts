import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import kafkajs from '../../src/kafka/kafkajs.ts';

import { startEmbeddedKafka } from '../../src/dev/embedded-kafka.ts';
import type { EmbeddedKafka } from '../../src/dev/embedded-kafka.ts';
import { EmbeddedKafkaUnavailableError, KAFKA_VERSION, findOnPath, resolveKafkaClasspath } from '../../src/dev/kafka-artifacts.ts';
import { isProcessAlive } from '../../src/dev/watchdog.ts';
import { createTopic, kafkaClient, readTopic, uniqueTopic, useKafka, waitForRecords } from '../support/kafka.ts';

const { CompressionTypes } = kafkajs;

const CHILD = fileURLToPath(new URL('../support/embedded-kafka-child.ts', import.meta.url));

describe('resolveKafkaClasspath', () => {
  let emptyDir: string;
  before(async () => {
    emptyDir = await mkdtemp(join(tmpdir(), 'sentio-nopath-'));
  });
  after(async () => {
    await rm(emptyDir, { recursive: true, force: true });
  });

  it('fails with one line naming java when java is not on PATH', async () => {
    const err = await resolveKafkaClasspath({ env: { PATH: emptyDir, SENTIO_CACHE_DIR: emptyDir } }).then(
      () => assert.fail('resolved without java'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof EmbeddedKafkaUnavailableError, String(err));
    assert.equal(err.reason, 'java-missing');
    assert.doesNotMatch(err.message, /\n/);
    assert.match(err.message, /^embedded Kafka needs Java 17\+ and Maven on PATH \(java and mvn not found\)/);
    assert.match(err.message, /set KAFKA_BOOTSTRAP_SERVERS to use an existing broker$/);
  });

  it('names Maven alone when only Maven is missing (injected PATH lookup)', async () => {
    const java = findOnPath('java');
    assert.ok(java, 'this test needs java on PATH');
    const err = await resolveKafkaClasspath({
      env: { ...process.env, SENTIO_CACHE_DIR: emptyDir },
      findExecutable: (name) => (name === 'java' ? java : undefined),
    }).then(
      () => assert.fail('resolved without mvn'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof EmbeddedKafkaUnavailableError, String(err));
    assert.equal(err.reason, 'maven-missing');
    assert.doesNotMatch(err.message, /\n/);
    assert.match(err.message, /\(mvn not found\)/);
  });

  it('rejects a SENTIO_KAFKA_VERSION that is not a 4.x release, in one line', async () => {
    const err = await resolveKafkaClasspath({ env: { ...process.env, SENTIO_KAFKA_VERSION: '3.9.1' } }).then(
      () => assert.fail('accepted 3.9.1'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof EmbeddedKafkaUnavailableError, String(err));
    assert.equal(err.reason, 'bad-version');
    assert.doesNotMatch(err.message, /\n/);
  });

  it('reports a Maven failure in one line, with Maven output in details', async () => {
    const java = findOnPath('java');
    assert.ok(java, 'this test needs java on PATH');
    const mvn = await fakeMaven(
      emptyDir,
      'echo "[INFO] Scanning for projects..."\n' +
        'echo "[ERROR] Failed to execute goal on project embedded-kafka: Could not resolve dependencies for project x:y:pom:1: The following artifacts could not be resolved: org.apache.kafka:kafka_2.13:jar:4.0.999" >&2\n' +
        'echo "[ERROR] -> [Help 1]" >&2\n' +
        'exit 1',
    );
    const err = await resolveKafkaClasspath({
      version: '4.0.999',
      env: { ...process.env, SENTIO_CACHE_DIR: emptyDir },
      findExecutable: (name) => (name === 'java' ? java : mvn),
    }).then(
      () => assert.fail('resolved although Maven failed'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof EmbeddedKafkaUnavailableError, String(err));
    assert.equal(err.reason, 'maven-failed');
    assert.doesNotMatch(err.message, /\n/);
    assert.match(
      err.message,
      /^embedded Kafka 4\.0\.999: Maven could not resolve the broker jars \(exit 1\): The following artifacts could not be resolved: org\.apache\.kafka:kafka_2\.13:jar:4\.0\.999; see error\.details/,
    );
    assert.ok(err.details?.includes('[INFO] Scanning for projects...'), 'details hold the tail of Maven output');
    assert.ok(err.details?.includes('[ERROR] -> [Help 1]'));
  });

  it('runs Maven once, then reuses the cached classpath while every jar exists', async () => {
    const java = findOnPath('java');
    assert.ok(java, 'this test needs java on PATH');
    const jar = join(emptyDir, 'fake.jar');
    await writeFile(jar, 'not really a jar');
    const calls = join(emptyDir, 'mvn-calls');
    // Writes the classpath where -Dmdep.outputFile= says, and counts its runs.
    const mvn = await fakeMaven(
      emptyDir,
      `echo run >> '${calls}'\n` +
        'for a in "$@"; do case "$a" in -Dmdep.outputFile=*) out="${a#-Dmdep.outputFile=}";; esac; done\n' +
        `printf '%s' '${jar}' > "$out"`,
    );
    const opts = {
      version: '4.0.998',
      env: { ...process.env, SENTIO_CACHE_DIR: emptyDir },
      findExecutable: (name: string) => (name === 'java' ? java : mvn),
    };
    const first = await resolveKafkaClasspath(opts);
    assert.deepEqual({ version: first.version, classpath: first.classpath }, { version: '4.0.998', classpath: jar });
    assert.ok(first.javaMajor >= 17);
    assert.equal(first.java, java);
    assert.match(await readFile(join(emptyDir, 'kafka-4.0.998', 'pom.xml'), 'utf8'), /<artifactId>kafka_2\.13<\/artifactId>\s*<version>4\.0\.998<\/version>/);
    assert.equal(await readFile(join(emptyDir, 'kafka-4.0.998', 'classpath.txt'), 'utf8'), jar);
    const [second, third] = await Promise.all([resolveKafkaClasspath(opts), resolveKafkaClasspath(opts)]);
    assert.equal(second.classpath, jar);
    assert.equal(third.classpath, jar);
    assert.equal((await readFile(calls, 'utf8')).trim().split('\n').length, 1, 'Maven ran once');

    await rm(jar);
    await writeFile(jar, 'back again');
    await rm(join(emptyDir, 'kafka-4.0.998', 'classpath.txt'));
    await resolveKafkaClasspath(opts);
    assert.equal((await readFile(calls, 'utf8')).trim().split('\n').length, 2, 'a missing cache runs Maven again');
    await rm(jar);
    await assert.rejects(resolveKafkaClasspath(opts), { reason: 'maven-failed' }, 'the fake Maven lists a jar that is gone');
    assert.equal((await readFile(calls, 'utf8')).trim().split('\n').length, 3, 'a missing jar runs Maven again');
  });
});

/** An executable `mvn` shell script in `dir` with the given body. */
async function fakeMaven(dir: string, body: string): Promise<string> {
  const path = join(dir, `mvn-${randomUUID().slice(0, 8)}`);
  await writeFile(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}

describe('embedded Kafka broker: lifecycle', () => {
  let dataDir: string;
  let broker: EmbeddedKafka | undefined;
  let topic: string;
  const jvmPids: number[] = [];

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sentio-kafka-test-'));
  });
  after(async () => {
    await broker?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts on a loopback port and answers metadata', async () => {
    const started = Date.now();
    broker = await startEmbeddedKafka({ dataDir });
    const seconds = (Date.now() - started) / 1000;
    assert.match(broker.bootstrapServers, /^127\.0\.0\.1:\d+$/);
    assert.equal(broker.bootstrapServers, `127.0.0.1:${broker.port}`);
    assert.equal(broker.version, process.env['SENTIO_KAFKA_VERSION'] ?? KAFKA_VERSION);
    assert.equal(broker.dataDir, dataDir);
    assert.ok(broker.running);
    assert.ok(broker.pid !== undefined && isProcessAlive(broker.pid));
    jvmPids.push(broker.pid);
    assert.ok(existsSync(join(dataDir, 'logs', 'meta.properties')), 'storage formatted');
    const admin = kafkaClient(broker.bootstrapServers).admin();
    await admin.connect();
    const cluster = await admin.describeCluster();
    await admin.disconnect();
    assert.equal(cluster.brokers.length, 1);
    process.stderr.write(`# embedded Kafka ${broker.version} started in ${seconds.toFixed(1)} s\n`);
  });

  it('produces and reads back records with keys and headers', async () => {
    const b = broker!;
    topic = uniqueTopic('embedded');
    await createTopic(b.bootstrapServers, topic, { partitions: 2 });
    const producer = kafkaClient(b.bootstrapServers).producer({ idempotent: true, allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({
      topic,
      compression: CompressionTypes.None,
      messages: [
        { partition: 0, key: 'AAPL', value: '{"n":1}', headers: { env: 'MOCK', version: 'v1' } },
        { partition: 0, key: 'AAPL', value: '{"n":2}', headers: { env: 'MOCK', version: 'v1' } },
        { partition: 1, key: 'MSFT', value: '{"n":3}', headers: { env: 'MOCK', runId: 'r-1' } },
      ],
    });
    await producer.disconnect();

    const records = await readTopic(b.bootstrapServers, topic, { timeoutMs: 30_000 });
    assert.deepEqual(
      records.map((r) => [r.partition, r.offset, r.key, r.value, r.headers]),
      [
        [0, 0, 'AAPL', '{"n":1}', { env: 'MOCK', version: 'v1' }],
        [0, 1, 'AAPL', '{"n":2}', { env: 'MOCK', version: 'v1' }],
        [1, 0, 'MSFT', '{"n":3}', { env: 'MOCK', runId: 'r-1' }],
      ],
    );
    for (const r of records) {
      assert.equal(r.tombstone, false);
      assert.ok(Math.abs(r.timestamp - Date.now()) < 120_000, `timestamp ${r.timestamp} is recent`);
    }

    const seen = await waitForRecords(b.bootstrapServers, topic, (rs) => rs.length >= 3, 30_000);
    assert.deepEqual(seen, records);
  });

  it('readTopic with expectedCount waits for records produced later; waitForRecords times out clearly', async () => {
    const b = broker!;
    const late = uniqueTopic('late');
    const reading = readTopic(b.bootstrapServers, late, { expectedCount: 2, timeoutMs: 30_000 });
    await createTopic(b.bootstrapServers, late);
    const producer = kafkaClient(b.bootstrapServers).producer({ idempotent: true, allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({
      topic: late,
      messages: [
        { key: 'a', value: '1' },
        { key: 'b', value: null },
      ],
    });
    await producer.disconnect();
    const records = await reading;
    assert.deepEqual(
      records.map((r) => [r.key, r.value, r.tombstone]),
      [
        ['a', '1', false],
        ['b', '', true],
      ],
    );

    await assert.rejects(
      waitForRecords(b.bootstrapServers, late, (rs) => rs.length > 2, 3_000),
      /waitForRecords\(late\.[0-9a-f]+\): timed out after 3000 ms; read 2 records/,
    );
  });

  it('stop() ends the JVM; start() brings the broker back on the same port with its data', async () => {
    const b = broker!;
    const before = b.pid!;
    await b.stop();
    assert.equal(b.running, false);
    assert.equal(b.pid, undefined);
    assert.equal(isProcessAlive(before), false, `JVM ${before} still alive after stop()`);
    assert.equal(await portAccepts(b.port), false, 'nothing listens on the port after stop()');

    const address = b.bootstrapServers;
    await b.start();
    assert.equal(b.bootstrapServers, address);
    assert.ok(b.pid !== undefined && b.pid !== before);
    jvmPids.push(b.pid);
    const records = await readTopic(b.bootstrapServers, topic, { timeoutMs: 30_000 });
    assert.deepEqual(
      records.map((r) => r.value),
      ['{"n":1}', '{"n":2}', '{"n":3}'],
    );
  });

  it('kill() crashes the JVM; start() recovers the data', async () => {
    const b = broker!;
    const crashed = b.pid!;
    await b.kill();
    assert.equal(isProcessAlive(crashed), false, `JVM ${crashed} still alive after kill()`);
    await b.start();
    jvmPids.push(b.pid!);
    const producer = kafkaClient(b.bootstrapServers).producer({ idempotent: true, allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic, messages: [{ partition: 1, key: 'MSFT', value: '{"n":4}' }] });
    await producer.disconnect();
    const records = await readTopic(b.bootstrapServers, topic, { expectedCount: 4, timeoutMs: 30_000 });
    assert.deepEqual(
      records.map((r) => r.value),
      ['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}'],
    );
  });

  it('dispose() leaves no JVM or watchdog behind and keeps a caller-given data dir', async () => {
    const b = broker!;
    const wrapper = b.watchdogPid!;
    await b.dispose();
    await b.dispose(); // idempotent
    for (const pid of [...jvmPids, wrapper]) assert.equal(isProcessAlive(pid), false, `process ${pid} still alive`);
    assert.ok(existsSync(join(dataDir, 'logs', 'meta.properties')), 'data dir kept');
    await assert.rejects(b.start(), /disposed/);
  });

  it('a new broker on the same data dir (new ports) sees the old records', async () => {
    const clusterId = /cluster\.id=(\S+)/.exec(await readFile(join(dataDir, 'logs', 'meta.properties'), 'utf8'))?.[1];
    broker = await startEmbeddedKafka({ dataDir });
    const records = await readTopic(broker.bootstrapServers, topic, { timeoutMs: 30_000 });
    assert.equal(records.length, 4);
    const admin = kafkaClient(broker.bootstrapServers).admin();
    await admin.connect();
    const cluster = await admin.describeCluster();
    await admin.disconnect();
    assert.equal(cluster.clusterId, clusterId, 'storage was not reformatted');
    const pid = broker.pid!;
    await broker.dispose();
    broker = undefined;
    assert.equal(isProcessAlive(pid), false);
  });
});

describe('embedded Kafka broker: no orphan JVMs', () => {
  it('the JVM dies when the Node process that started it is SIGKILLed', async () => {
    const child = spawn(process.execPath, [CHILD, 'hold'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const info = await firstJsonLine(child, 120_000);
    try {
      assert.ok(isProcessAlive(info.pid), 'JVM runs while its Node process lives');
      child.kill('SIGKILL');
      await waitUntil(() => !isProcessAlive(info.pid), 30_000, `JVM ${info.pid} outlived its SIGKILLed Node process`);
      await waitUntil(() => !isProcessAlive(info.watchdogPid), 10_000, `watchdog ${info.watchdogPid} outlived the JVM`);
    } finally {
      child.kill('SIGKILL');
      await rm(info.dataDir, { recursive: true, force: true });
    }
  });

  it('the JVM dies when the Node process exits without dispose()', async () => {
    const child = spawn(process.execPath, [CHILD, 'exit'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = exitOf(child);
    const info = await firstJsonLine(child, 120_000);
    try {
      assert.equal(await exited, 0);
      // The 'exit' hook SIGKILLs the process group synchronously: no grace period to wait out.
      await waitUntil(() => !isProcessAlive(info.pid), 5_000, `JVM ${info.pid} outlived process.exit()`);
      await waitUntil(() => !isProcessAlive(info.watchdogPid), 5_000, `watchdog ${info.watchdogPid} outlived process.exit()`);
    } finally {
      await rm(info.dataDir, { recursive: true, force: true });
    }
  });

  it('after dispose() the Node process exits on its own and the temp data dir is gone', async () => {
    const child = spawn(process.execPath, [CHILD, 'dispose'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = exitOf(child);
    const info = await firstJsonLine(child, 120_000);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise<'still running'>((resolve) => {
        timer = setTimeout(() => resolve('still running'), 30_000);
      }),
    ]);
    clearTimeout(timer);
    if (code === 'still running') child.kill('SIGKILL');
    assert.equal(code, 0, 'the child exits by itself once the broker is disposed');
    assert.equal(isProcessAlive(info.pid), false);
    assert.equal(isProcessAlive(info.watchdogPid), false);
    assert.equal(existsSync(info.dataDir), false, 'temp data dir removed');
  });
});

describe('useKafka()', () => {
  const kafka = useKafka();

  it('provides a broker for the suite', async () => {
    const topic = uniqueTopic('fixture');
    await createTopic(kafka.bootstrapServers, topic);
    const producer = kafkaClient(kafka.bootstrapServers).producer({ idempotent: true, allowAutoTopicCreation: false });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k', value: 'v', headers: { h: 'x' } }] });
    await producer.disconnect();
    const records = await readTopic(kafka.bootstrapServers, topic, { expectedCount: 1, timeoutMs: 30_000 });
    assert.deepEqual(
      records.map((r) => [r.key, r.value, r.headers]),
      [['k', 'v', { h: 'x' }]],
    );
    const missing = `${topic}.missing`;
    await assert.rejects(readTopic(kafka.bootstrapServers, missing, { timeoutMs: 5_000 }), {
      message: `readTopic(${missing}): topic does not exist`,
    });
    if (!process.env['TEST_KAFKA_BOOTSTRAP']) assert.ok(kafka.embedded?.running);
  });
});

interface ChildInfo {
  pid: number;
  watchdogPid: number;
  dataDir: string;
  bootstrapServers: string;
}

function firstJsonLine(child: ReturnType<typeof spawn>, timeoutMs: number): Promise<ChildInfo> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child printed no broker info within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const newline = text.indexOf('\n');
      if (newline >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(text.slice(0, newline)) as ChildInfo);
      }
    });
    // 'close' (not 'exit'): stdout is fully read by then.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code ?? signal}) before printing broker info`));
    });
  });
}

function exitOf(child: ReturnType<typeof spawn>): Promise<number | NodeJS.Signals | null> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
}

async function waitUntil(condition: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${message} (waited ${timeoutMs} ms)`);
    await delay(100);
  }
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
