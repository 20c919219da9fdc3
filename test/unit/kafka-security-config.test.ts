import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ConfigError, loadConfig, secretValues } from '../../src/config/load-config.ts';
import { describeKafkaSecurityError, kafkaSecurity } from '../../src/kafka/kafka-client.ts';
import { createLogger, REDACTED } from '../../src/ops/logger.ts';
import { makeTestPki, type TestPki } from '../support/tls.ts';

const BOOTSTRAP = { KAFKA_BOOTSTRAP_SERVERS: 'broker-1.example:9096' };
const PASSWORD = 'pa ss-w0rd-3f9c'; // a space inside: taken as written

let pki: TestPki;
let dir: string;
before(async () => {
  pki = await makeTestPki();
  dir = mkdtempSync(join(tmpdir(), 'sg-kafka-sec-'));
});
after(() => pki.remove());

/** The problems loadConfig reports for `env`, as [setting, line] pairs. */
function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    for (const line of error.problems) assert.ok(!line.includes('\n'), `one line: ${line}`);
    return error.problems;
  }
  return [];
}

const names = (lines: string[]): string[] => lines.map((l) => l.split(':')[0]!).sort();

test('defaults: plaintext, no SASL, no Kafka secrets', () => {
  const { config, secrets } = loadConfig(BOOTSTRAP);
  assert.equal(config.kafkaTls, null);
  assert.equal(config.kafkaSasl, null);
  assert.equal(secrets.kafkaSaslPassword, null);
  assert.equal(secrets.kafkaTlsKey, null);
  assert.deepEqual(kafkaSecurity(config, secrets), { tls: null, sasl: null });
});

for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512']) {
  test(`SASL ${mechanism}: accepted in any case, the password kept in secrets and out of the config`, () => {
    const { config, secrets } = loadConfig({
      ...BOOTSTRAP,
      KAFKA_SASL_MECHANISM: mechanism.toUpperCase(),
      KAFKA_SASL_USERNAME: ' svc-sentio ',
      KAFKA_SASL_PASSWORD: PASSWORD,
    });
    assert.deepEqual(config.kafkaSasl, { mechanism, username: 'svc-sentio' });
    assert.equal(secrets.kafkaSaslPassword, PASSWORD);
    assert.ok(!JSON.stringify(config).includes(PASSWORD), 'the password is not in the config');
    assert.deepEqual(kafkaSecurity(config, secrets).sasl, { mechanism, username: 'svc-sentio', password: PASSWORD });
  });
}

test('KAFKA_SASL_MECHANISM must be one of the three, and the line never shows the password', () => {
  const lines = problems({ ...BOOTSTRAP, KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: PASSWORD });
  assert.deepEqual(lines, ['KAFKA_SASL_MECHANISM: must be one of plain, scram-sha-256, scram-sha-512, got "gssapi"']);
});

test('a mechanism needs a user name and a password; a user or password needs a mechanism', () => {
  assert.deepEqual(names(problems({ ...BOOTSTRAP, KAFKA_SASL_MECHANISM: 'scram-sha-512' })), ['KAFKA_SASL_PASSWORD', 'KAFKA_SASL_USERNAME']);
  assert.deepEqual(problems({ ...BOOTSTRAP, KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: PASSWORD }), [
    'KAFKA_SASL_MECHANISM: must be set (plain, scram-sha-256, scram-sha-512) when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is',
  ]);
});

test('the password can come from a file: a trailing newline is dropped, the variable wins over the file', () => {
  const file = join(dir, 'password');
  writeFileSync(file, `${PASSWORD}\n`);
  const env = { ...BOOTSTRAP, KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: file };
  const { config, secrets } = loadConfig(env);
  assert.equal(secrets.kafkaSaslPassword, PASSWORD);
  assert.ok(!JSON.stringify(config).includes(PASSWORD));
  assert.equal(loadConfig({ ...env, KAFKA_SASL_PASSWORD: 'from-the-variable' }).secrets.kafkaSaslPassword, 'from-the-variable');
});

test('an unreadable or empty password file is one line naming KAFKA_SASL_PASSWORD_FILE', () => {
  const env = { ...BOOTSTRAP, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' };
  assert.deepEqual(problems({ ...env, KAFKA_SASL_PASSWORD_FILE: join(dir, 'missing') }), [
    `KAFKA_SASL_PASSWORD_FILE: cannot read ${join(dir, 'missing')} (ENOENT)`,
  ]);
  assert.deepEqual(problems({ ...env, KAFKA_SASL_PASSWORD_FILE: dir }), [`KAFKA_SASL_PASSWORD_FILE: cannot read ${dir} (EISDIR)`]);
  const empty = join(dir, 'empty');
  writeFileSync(empty, '\n');
  assert.deepEqual(problems({ ...env, KAFKA_SASL_PASSWORD_FILE: empty }), [`KAFKA_SASL_PASSWORD_FILE: file ${empty} is empty`]);
});

test('TLS: the CA and client certificate are read at start; the key goes to secrets only', () => {
  const { config, secrets } = loadConfig({
    ...BOOTSTRAP,
    KAFKA_SSL: 'TRUE',
    KAFKA_SSL_CA_FILE: pki.caCert,
    KAFKA_SSL_CERT_FILE: pki.clientCert,
    KAFKA_SSL_KEY_FILE: pki.clientKey,
  });
  const key = readFileSync(pki.clientKey, 'utf8');
  assert.deepEqual(config.kafkaTls, {
    ca: readFileSync(pki.caCert, 'utf8'),
    caFile: pki.caCert,
    cert: readFileSync(pki.clientCert, 'utf8'),
    certFile: pki.clientCert,
    keyFile: pki.clientKey,
    rejectUnauthorized: true,
  });
  assert.equal(secrets.kafkaTlsKey, key);
  assert.ok(!JSON.stringify(config).includes('PRIVATE KEY'), 'no key in the config');
  assert.deepEqual(kafkaSecurity(config, secrets).tls, { ca: config.kafkaTls.ca, cert: config.kafkaTls.cert, key, rejectUnauthorized: true });
});

test('TLS without a CA file trusts the public CAs; KAFKA_SSL_REJECT_UNAUTHORIZED=false is understood', () => {
  const { config } = loadConfig({ ...BOOTSTRAP, KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' });
  assert.deepEqual(config.kafkaTls, { ca: null, caFile: null, cert: null, certFile: null, keyFile: null, rejectUnauthorized: false });
  assert.deepEqual(problems({ ...BOOTSTRAP, KAFKA_SSL: 'yes', KAFKA_SSL_REJECT_UNAUTHORIZED: 'no' }), [
    'KAFKA_SSL: must be true or false, got "yes"',
    'KAFKA_SSL_REJECT_UNAUTHORIZED: must be true or false, got "no"',
  ]);
});

test('client certificate and key: both or neither', () => {
  assert.deepEqual(problems({ ...BOOTSTRAP, KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: pki.clientCert }), [
    'KAFKA_SSL_KEY_FILE: must be set with KAFKA_SSL_CERT_FILE (a client certificate needs its private key)',
  ]);
  assert.deepEqual(problems({ ...BOOTSTRAP, KAFKA_SSL: 'true', KAFKA_SSL_KEY_FILE: pki.clientKey }), [
    'KAFKA_SSL_CERT_FILE: must be set with KAFKA_SSL_KEY_FILE (a private key needs its client certificate)',
  ]);
});

test('TLS files without KAFKA_SSL=true are reported rather than ignored', () => {
  const lines = problems({
    ...BOOTSTRAP,
    KAFKA_SSL_CA_FILE: pki.caCert,
    KAFKA_SSL_CERT_FILE: pki.clientCert,
    KAFKA_SSL_KEY_FILE: pki.clientKey,
    KAFKA_SSL_REJECT_UNAUTHORIZED: 'false',
  });
  assert.deepEqual(names(lines), ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE', 'KAFKA_SSL_REJECT_UNAUTHORIZED']);
  for (const line of lines) assert.match(line, /is set but KAFKA_SSL is not true; set KAFKA_SSL=true to use TLS$/);
});

test('unreadable, non-PEM, mismatched and encrypted TLS files: one line each, naming the setting', () => {
  const ssl = { ...BOOTSTRAP, KAFKA_SSL: 'true' };
  assert.deepEqual(problems({ ...ssl, KAFKA_SSL_CA_FILE: join(dir, 'no-ca.pem') }), [`KAFKA_SSL_CA_FILE: cannot read ${join(dir, 'no-ca.pem')} (ENOENT)`]);
  const junk = join(dir, 'junk.pem');
  writeFileSync(junk, 'not a certificate\n');
  assert.deepEqual(problems({ ...ssl, KAFKA_SSL_CA_FILE: junk }), [`KAFKA_SSL_CA_FILE: ${junk} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`]);
  // The broker's key does not belong to the client's certificate.
  assert.deepEqual(problems({ ...ssl, KAFKA_SSL_CERT_FILE: pki.clientCert, KAFKA_SSL_KEY_FILE: pki.brokerKey }), [
    `KAFKA_SSL_KEY_FILE: the key in ${pki.brokerKey} does not belong to the certificate in KAFKA_SSL_CERT_FILE`,
  ]);
  assert.deepEqual(problems({ ...ssl, KAFKA_SSL_CERT_FILE: pki.clientCert, KAFKA_SSL_KEY_FILE: junk }), [
    `KAFKA_SSL_KEY_FILE: ${junk} holds no PEM private key`,
  ]);
  const encrypted = join(dir, 'encrypted.key');
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret-passphrase' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(encrypted, privateKey);
  assert.deepEqual(problems({ ...ssl, KAFKA_SSL_CERT_FILE: pki.clientCert, KAFKA_SSL_KEY_FILE: encrypted }), [
    `KAFKA_SSL_KEY_FILE: ${encrypted} holds an encrypted key; give the unencrypted PEM key`,
  ]);
});

test('security settings need KAFKA_BOOTSTRAP_SERVERS: the embedded broker is plaintext', () => {
  assert.deepEqual(names(problems({ KAFKA_SSL: 'true', KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: PASSWORD })), [
    'KAFKA_SASL_MECHANISM',
    'KAFKA_SSL',
  ]);
});

test('secretValues lists the password and TLS key, so the logger redacts them', async () => {
  const { secrets } = loadConfig({
    ...BOOTSTRAP,
    POLYGON_API_KEY: 'polygon-key-0123',
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: 'u',
    KAFKA_SASL_PASSWORD: PASSWORD,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CERT_FILE: pki.clientCert,
    KAFKA_SSL_KEY_FILE: pki.clientKey,
  });
  assert.deepEqual(secretValues(secrets), ['polygon-key-0123', PASSWORD, readFileSync(pki.clientKey, 'utf8')]);
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')));
  const log = createLogger({ level: 'info', secrets: secretValues(secrets), destination: stream });
  log.error({ err: new Error(`login failed with ${PASSWORD}`), sasl: { password: PASSWORD } }, `password ${PASSWORD}`);
  log.flush();
  await new Promise((resolve) => setImmediate(resolve));
  const text = chunks.join('');
  assert.ok(!text.includes(PASSWORD));
  assert.equal(text.split(REDACTED).length - 1 >= 3, true);
});

test('describeKafkaSecurityError: SASL and TLS failures get one line naming the settings; others null', () => {
  const config = loadConfig({
    ...BOOTSTRAP,
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: pki.caCert,
    KAFKA_SASL_MECHANISM: 'scram-sha-512',
    KAFKA_SASL_USERNAME: 'svc',
    KAFKA_SASL_PASSWORD: PASSWORD,
  }).config;
  const kafkaError = (name: string, message: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(message), { name, ...extra });
  // kafkajs wraps the SASL failure when a retrier bails out.
  const sasl = kafkaError('KafkaJSNonRetriableError', 'SASL SCRAM SHA512 authentication failed: bad', {
    cause: kafkaError('KafkaJSSASLAuthenticationError', 'SASL SCRAM SHA512 authentication failed: bad'),
  });
  assert.equal(
    describeKafkaSecurityError(sasl, config),
    'Kafka rejected the SASL credentials for user "svc" with scram-sha-512 (KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD): SASL SCRAM SHA512 authentication failed: bad',
  );
  assert.match(
    describeKafkaSecurityError(kafkaError('KafkaJSSASLAuthenticationError', 'SASL SCRAM-SHA-512 mechanism is not supported by the server'), config)!,
    /^Kafka does not offer SASL mechanism scram-sha-512 on this listener \(KAFKA_SASL_MECHANISM, KAFKA_BOOTSTRAP_SERVERS\)/,
  );
  // TLS: a connection error with Node's code, inside kafkajs's retries-exceeded error.
  const tls = (code: string, message: string): Error =>
    kafkaError('KafkaJSNumberOfRetriesExceeded', message, { cause: kafkaError('KafkaJSConnectionError', message, { code, broker: 'b:9093' }) });
  assert.equal(
    describeKafkaSecurityError(tls('UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'Connection error: unable to verify the first certificate'), config),
    `the TLS certificate of the Kafka broker at b:9093 was not accepted (KAFKA_SSL_CA_FILE=${pki.caCert}; KAFKA_SSL_REJECT_UNAUTHORIZED): Connection error: unable to verify the first certificate [UNABLE_TO_VERIFY_LEAF_SIGNATURE]`,
  );
  assert.match(
    describeKafkaSecurityError(tls('ERR_TLS_CERT_ALTNAME_INVALID', "Connection error: Hostname/IP does not match certificate's altnames"), config)!,
    /^the TLS certificate of the Kafka broker at b:9093 was not accepted/,
  );
  assert.equal(
    describeKafkaSecurityError(
      tls(
        'ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE',
        'Connection error: 40E7:error:0A000412:SSL routines:ssl3_read_bytes:ssl/tls alert bad certificate:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 42',
      ),
      config,
    ),
    'the Kafka broker at b:9093 did not accept our TLS client certificate (KAFKA_SSL_CERT_FILE / KAFKA_SSL_KEY_FILE unset): Connection error: ssl/tls alert bad certificate [ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE]',
  );
  assert.match(
    describeKafkaSecurityError(tls('ERR_SSL_WRONG_VERSION_NUMBER', 'Connection error: wrong version number'), config)!,
    /does not speak TLS on that port \(KAFKA_SSL, KAFKA_BOOTSTRAP_SERVERS\)/,
  );
  assert.equal(describeKafkaSecurityError(tls('ECONNREFUSED', 'Connection error: connect ECONNREFUSED'), config), null);
  assert.equal(describeKafkaSecurityError(new Error('something else'), config), null);
  assert.equal(describeKafkaSecurityError('not an error', config), null);
});
