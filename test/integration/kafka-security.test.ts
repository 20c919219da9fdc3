/**
 * Secure Kafka: the gateway writes through SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), mutual
 * TLS and SASL over TLS to one real broker, and a refused password or certificate stops it
 * with one line that names the settings and never the password.
 *
 * One embedded broker with four listeners: PLAINTEXT (the broker's own, and how the test
 * reads records back), SASL (SASL_PLAINTEXT, one user per mechanism, so a success proves the
 * mechanism), MTLS (SSL, client certificate required) and SASL_SSL (SCRAM over TLS, as
 * managed clusters offer it). The certificates are made with openssl for this run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { normalizeAggregate } from '../../src/bars/normalize.ts';
import { DEFAULT_SYMBOLS } from '../../src/contracts/polygon-wire.ts';
import { leadershipTopic, topicNames } from '../../src/contracts/topics.ts';
import { priceMessage } from '../../src/kafka/price-record.ts';
import { startEmbeddedKafka, type EmbeddedKafka } from '../../src/dev/embedded-kafka.ts';
import { describeKafkaSecurityError } from '../../src/kafka/kafka-client.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createSimClock, simMinuteBar, startSimulator } from '../../src/sim/index.ts';
import { spawnGateway } from '../support/child-gateway.ts';
import { startTestGateway, uniquePrefix } from '../support/gateway.ts';
import { kafkaClient, waitForRecords } from '../support/kafka.ts';
import { makeTestPki, type TestPki } from '../support/tls.ts';

/** One user per mechanism: each can log in only with its own. */
const USERS = {
  plain: { username: 'plain-user', password: `plain-pw-${randomUUID()}`, mechanisms: ['PLAIN' as const] },
  'scram-sha-256': { username: 'scram256-user', password: `scram256-pw-${randomUUID()}`, mechanisms: ['SCRAM-SHA-256' as const] },
  'scram-sha-512': { username: 'scram512-user', password: `scram512-pw-${randomUUID()}`, mechanisms: ['SCRAM-SHA-512' as const] },
};

let pki: TestPki;
let broker: EmbeddedKafka;

before(async () => {
  pki = await makeTestPki();
  broker = await startEmbeddedKafka({
    log: process.env['TEST_KAFKA_LOG'] ? (line: string) => process.stderr.write(`${line}\n`) : undefined,
    listeners: [
      { name: 'SASL', protocol: 'SASL_PLAINTEXT', saslMechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] },
      { name: 'MTLS', protocol: 'SSL', tls: { keystore: pki.brokerKeystore, truststore: pki.caCert, clientAuth: 'required' } },
      { name: 'SASL_TLS', protocol: 'SASL_SSL', saslMechanisms: ['SCRAM-SHA-512'], tls: { keystore: pki.brokerKeystore } },
    ],
    saslUsers: Object.values(USERS),
  });
});

after(async () => {
  await broker?.dispose();
  await pki?.remove();
});

/** Runs the real gateway (simulated feed) with `security` settings until a minute of all 12 symbols is in Kafka. */
async function publishThrough(t: { after(fn: () => unknown): void }, name: string, security: Record<string, string>): Promise<string[]> {
  const key = `key-${randomUUID()}`;
  const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T15:00:00Z'), msPerMinute: 200 });
  const sim = await startSimulator({ apiKey: key, clock });
  t.after(() => sim.close());
  const prefix = uniquePrefix(name);
  const runId = randomUUID();
  const gw = await startTestGateway(
    { POLYGON_API_KEY: key, POLYGON_WS_URL: sim.wsUrl, POLYGON_REST_URL: sim.restUrl, TOPIC_PREFIX: prefix, RUN_ID: runId, LOG_LEVEL: 'trace', ...security },
    { clock },
  );
  t.after(() => gw.stop());
  // Read back over PLAINTEXT: what the gateway wrote through the secure listener is in the topic.
  const records = await waitForRecords(
    broker.bootstrapServers,
    topicNames(prefix).prices,
    (rs) => new Set(rs.map((r) => r.key)).size === DEFAULT_SYMBOLS.length,
    20_000,
  );
  assert.ok(
    records.every((r) => r.headers['runId'] === runId),
    'every record comes from this gateway',
  );
  await gw.stop();
  assert.ok(
    gw.logs.some((l) => l.includes('gateway started')),
    'the gateway started',
  );
  return gw.logs;
}

for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
  test(`SASL ${mechanism}: the gateway publishes through the SASL_PLAINTEXT listener, and the password is in no log line`, async (t) => {
    const user = USERS[mechanism];
    const security: Record<string, string> = {
      KAFKA_BOOTSTRAP_SERVERS: broker.listeners['SASL']!,
      KAFKA_SASL_MECHANISM: mechanism,
      KAFKA_SASL_USERNAME: user.username,
    };
    if (mechanism === 'scram-sha-512') {
      // The password from a mounted file, as in Kubernetes.
      const file = join(pki.dir, 'sasl-password');
      await writeFile(file, `${user.password}\n`);
      security['KAFKA_SASL_PASSWORD_FILE'] = file;
    } else {
      security['KAFKA_SASL_PASSWORD'] = user.password;
    }
    const logs = await publishThrough(t, `sasl-${mechanism}`, security);
    assert.ok(logs.length > 10, 'the gateway logged (at trace level)');
    assert.ok(!logs.join('\n').includes(user.password), 'the password appears in no log line');
  });
}

test('mutual TLS: the gateway publishes through the SSL listener with its client certificate', async (t) => {
  await publishThrough(t, 'mtls', {
    KAFKA_BOOTSTRAP_SERVERS: broker.listeners['MTLS']!,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: pki.caCert,
    KAFKA_SSL_CERT_FILE: pki.clientCert,
    KAFKA_SSL_KEY_FILE: pki.clientKey,
  });
});

/** Settings for the SASL_TLS listener with the SCRAM-SHA-512 user, as a managed cluster would take them. */
function scramOverTls(): Record<string, string> {
  const user = USERS['scram-sha-512'];
  return {
    KAFKA_BOOTSTRAP_SERVERS: broker.listeners['SASL_TLS']!,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: pki.caCert,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: user.username,
    KAFKA_SASL_PASSWORD: user.password,
  };
}

test('SASL over TLS (SCRAM-SHA-512 on SASL_SSL, as managed clusters offer it): the gateway publishes', async (t) => {
  const user = USERS['scram-sha-512'];
  const logs = await publishThrough(t, 'sasl-ssl', scramOverTls());
  assert.ok(!logs.join('\n').includes(user.password));
});

test('`topics` (SCRAM over TLS) and `tail` (mutual TLS) take the same settings', async (t) => {
  const prefix = uniquePrefix('cli');
  const user = USERS['scram-sha-512'];
  const topics = spawnGateway(['topics'], { TOPIC_PREFIX: prefix, ...scramOverTls() });
  assert.equal((await topics.exited).code, 0, topics.stderr.join('\n'));
  // The five sentio topics and the HA coordination topic.
  assert.equal(topics.lines.filter((l) => l.msg === 'created').length, Object.keys(topicNames(prefix)).length + [leadershipTopic(prefix)].length);
  assert.ok(!JSON.stringify(topics.lines).includes(user.password));

  const producer = kafkaClient(broker.bootstrapServers).producer();
  await producer.connect();
  const event = { ...normalizeAggregate(simMinuteBar('TQQQ', Date.parse('2026-03-10T13:30:00Z'))!), source: 'live' as const, revision: 0 };
  await producer.send({ topic: topicNames(prefix).prices, messages: [priceMessage(event, { strategy: 'SIGOR', env: 'MOCK', runId: randomUUID() })] });
  await producer.disconnect();

  const tail = spawnGateway(['tail'], {
    TOPIC_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    KAFKA_BOOTSTRAP_SERVERS: broker.listeners['MTLS']!,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: pki.caCert,
    KAFKA_SSL_CERT_FILE: pki.clientCert,
    KAFKA_SSL_KEY_FILE: pki.clientKey,
  });
  t.after(() => tail.child.kill('SIGKILL'));
  await tail.waitForLine((l) => typeof l.raw === 'string' && l.raw.startsWith('TQQQ') && l.raw.includes(event.tsET), 30_000);
  tail.child.kill('SIGTERM');
  assert.equal((await tail.exited).code, 0, tail.stderr.join('\n'));
});

/** Runs `sentio-gateway run` as a child and returns how it ended; it must end on its own within 20 s. */
async function runUntilExit(env: Record<string, string>): Promise<{ code: number | null; stderr: string[]; stdout: string; seconds: number }> {
  const started = performance.now();
  const child = spawnGateway(['run'], { HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', TOPIC_PREFIX: uniquePrefix('refused'), ...env });
  const timer = setTimeout(() => child.child.kill('SIGKILL'), 20_000);
  const { code } = await child.exited;
  clearTimeout(timer);
  return { code, stderr: child.stderr, stdout: child.lines.map((l) => JSON.stringify(l)).join('\n'), seconds: (performance.now() - started) / 1000 };
}

test('a wrong SCRAM password stops `run` with one line naming the settings, without the password', async (t) => {
  const wrong = `WRONG-${randomUUID()}`;
  const result = await runUntilExit({
    KAFKA_BOOTSTRAP_SERVERS: broker.listeners['SASL']!,
    KAFKA_SASL_MECHANISM: 'scram-sha-256',
    KAFKA_SASL_USERNAME: USERS['scram-sha-256'].username,
    KAFKA_SASL_PASSWORD: wrong,
  });
  t.diagnostic(`exit ${result.code} after ${result.seconds.toFixed(1)} s: ${result.stderr.join(' | ')}`);
  assert.equal(result.code, 2, `exit code; stderr: ${result.stderr.join(' | ')}`);
  assert.equal(result.stderr.length, 1, `one stderr line: ${result.stderr.join(' | ')}`);
  assert.match(
    result.stderr[0]!,
    /^sentio-gateway: Kafka rejected the SASL credentials for user "scram256-user" with scram-sha-256 \(KAFKA_SASL_USERNAME \/ KAFKA_SASL_PASSWORD\): SASL SCRAM SHA256 authentication failed: .*invalid credentials/,
  );
  assert.ok(!result.stderr[0]!.includes(wrong), 'the line does not hold the password');
  assert.ok(!result.stdout.includes(wrong), 'no log line holds the password');
  assert.ok(result.seconds < 20, `stopped within 20 s (took ${result.seconds.toFixed(1)} s)`);
});

test('a broker certificate from an untrusted CA stops `run` with one line naming KAFKA_SSL_CA_FILE', async () => {
  const result = await runUntilExit({
    KAFKA_BOOTSTRAP_SERVERS: broker.listeners['MTLS']!,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: pki.otherCaCert,
    KAFKA_SSL_CERT_FILE: pki.clientCert,
    KAFKA_SSL_KEY_FILE: pki.clientKey,
  });
  assert.equal(result.code, 2, `exit code; stderr: ${result.stderr.join(' | ')}`);
  assert.equal(result.stderr.length, 1, `one stderr line: ${result.stderr.join(' | ')}`);
  assert.match(
    result.stderr[0]!,
    /^sentio-gateway: the TLS certificate of the Kafka broker at 127\.0\.0\.1:\d+ was not accepted \(KAFKA_SSL_CA_FILE=.*other-ca\.pem; KAFKA_SSL_REJECT_UNAUTHORIZED\): .*\[SELF_SIGNED_CERT_IN_CHAIN\]$/,
  );
  assert.ok(result.seconds < 20, `stopped within 20 s (took ${result.seconds.toFixed(1)} s)`);
});

test('without a client certificate the mTLS listener refuses the gateway, and the error names the certificate settings', async (t) => {
  const key = `key-${randomUUID()}`;
  const sim = await startSimulator({ apiKey: key, clock: createSimClock({ startMarketMs: Date.parse('2026-03-10T15:00:00Z'), msPerMinute: 200 }) });
  t.after(() => sim.close());
  const env = {
    POLYGON_API_KEY: key,
    POLYGON_WS_URL: sim.wsUrl,
    POLYGON_REST_URL: sim.restUrl,
    TOPIC_PREFIX: uniquePrefix('nocert'),
    KAFKA_BOOTSTRAP_SERVERS: broker.listeners['MTLS']!,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: pki.caCert,
  };
  const error = await startTestGateway(env).then(
    async (gw) => {
      await gw.stop();
      return assert.fail('the gateway started without a client certificate');
    },
    (e: unknown) => e,
  );
  const line = describeKafkaSecurityError(error, loadConfig(env).config);
  assert.match(
    line ?? String(error),
    /^the Kafka broker at 127\.0\.0\.1:\d+ did not accept our TLS client certificate \(KAFKA_SSL_CERT_FILE \/ KAFKA_SSL_KEY_FILE unset\): .*\[ERR_SSL_/,
  );
});
