import kafkajs from './kafkajs.ts';
import type { Kafka as KafkaClient, KafkaConfig, LogEntry, SASLOptions } from 'kafkajs';
import type { GatewayConfig, GatewaySecrets, KafkaSaslMechanism } from '../config/config.ts';
import type { Logger } from '../ops/logger.ts';

const { Kafka, logLevel } = kafkajs;

/** How to reach the brokers securely: TLS and SASL, as kafkajs takes them. */
export interface KafkaSecurity {
  /** null: plaintext. */
  tls: {
    /** PEM CA(s); null: Node's built-in public CAs. */
    ca: string | null;
    /** PEM client certificate and key (mutual TLS); both null or both set. */
    cert: string | null;
    key: string | null;
    rejectUnauthorized: boolean;
  } | null;
  /** null: no SASL. */
  sasl: { mechanism: KafkaSaslMechanism; username: string; password: string } | null;
}

export const PLAINTEXT: KafkaSecurity = { tls: null, sasl: null };

/** The security settings of a loaded configuration, joined with their secrets. */
export function kafkaSecurity(
  config: Pick<GatewayConfig, 'kafkaTls' | 'kafkaSasl'>,
  secrets: Pick<GatewaySecrets, 'kafkaSaslPassword' | 'kafkaTlsKey'>,
): KafkaSecurity {
  const { kafkaTls: tls, kafkaSasl: sasl } = config;
  return {
    tls: tls === null ? null : { ca: tls.ca, cert: tls.cert, key: tls.cert === null ? null : secrets.kafkaTlsKey, rejectUnauthorized: tls.rejectUnauthorized },
    sasl:
      sasl === null || secrets.kafkaSaslPassword === null ? null : { mechanism: sasl.mechanism, username: sasl.username, password: secrets.kafkaSaslPassword },
  };
}

export interface KafkaClientSettings {
  brokers: string[];
  clientId: string;
  log: Logger;
  /** Default: plaintext, no SASL. */
  security?: KafkaSecurity;
}

/**
 * kafkajs warnings that describe a choice we made on purpose:
 * - the idempotent producer's retries are bounded so a send fails during an outage and the
 *   sink can report Kafka unwritable; the sink then re-sends the very same batch, so the
 *   broker sees the same producer sequence numbers and deduplicates (the guarantee the
 *   warning says could be lost is kept one level up);
 * - the v2 partitioner change does not concern a new topic.
 */
const EXPECTED_WARNINGS = ['Limiting retries for the idempotent producer', 'KafkaJS v2.0.0 switched default partitioner'];

/**
 * A kafkajs client whose own logging goes through our structured logger. kafkajs reports
 * transient broker states (a coordinator still loading, a leader moving) at ERROR level;
 * our sink retries those and reports real failures itself, so they are demoted to warn.
 */
export function createKafkaClient(settings: KafkaClientSettings): KafkaClient {
  const log = settings.log.child({ component: 'kafkajs' });
  const { tls, sasl } = settings.security ?? PLAINTEXT;
  if (tls !== null && !tls.rejectUnauthorized) log.warn('KAFKA_SSL_REJECT_UNAUTHORIZED=false: the broker certificate is not verified (use for tests only)');
  if (sasl?.mechanism === 'plain' && tls === null) log.warn('KAFKA_SASL_MECHANISM=plain without KAFKA_SSL=true sends the password unencrypted');
  const config: KafkaConfig = {
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { initialRetryTime: 100, retries: 3, maxRetryTime: 2000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...rest } = entry.log;
      const fields = { namespace: entry.namespace, ...rest };
      if (entry.level <= logLevel.WARN && !EXPECTED_WARNINGS.some((w) => message.startsWith(w))) log.warn(fields, message);
      else log.debug(fields, message);
    },
  };
  if (tls !== null) {
    config.ssl = {
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.ca !== null ? { ca: tls.ca } : {}),
      ...(tls.cert !== null && tls.key !== null ? { cert: tls.cert, key: tls.key } : {}),
    };
  }
  if (sasl !== null) config.sasl = { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as SASLOptions;
  return new Kafka(config);
}

/** Node's certificate verification codes: the broker's certificate was not accepted by us. */
const CERT_VERIFY_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * TLS alerts a broker sends when it does not accept our client certificate (or its absence).
 * Node names them after OpenSSL's reason: ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE (OpenSSL 3),
 * ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE, ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED, ...
 */
const CLIENT_CERT_ALERTS =
  /^ERR_SSL_.*ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|CERTIFICATE_UNKNOWN|UNSUPPORTED_CERTIFICATE|UNKNOWN_CA|ACCESS_DENIED|DECRYPT_ERROR)$/;

/** Alerts of a port that does not speak TLS at all. */
const NOT_TLS = /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|RECORD_LAYER_FAILURE|HTTP_REQUEST|UNKNOWN_PROTOCOL)$/;

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  type?: unknown;
  broker?: unknown;
  cause?: unknown;
}

/** The error and its causes (kafkajs wraps the original in retry errors), outermost first. */
function causeChain(error: unknown): ErrorLike[] {
  const chain: ErrorLike[] = [];
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && !chain.includes(current) && chain.length < 10) {
    chain.push(current);
    current = (current as ErrorLike).cause;
  }
  return chain;
}

function oneLine(text: unknown): string {
  const s = typeof text === 'string' ? text : text instanceof Error ? text.message : text === null || text === undefined ? '' : JSON.stringify(text);
  return s.replace(/\s+/g, ' ').trim();
}

/**
 * OpenSSL's error strings carry a thread id, a code and a source path
 * ("40…:error:0A000412:SSL routines:ssl3_read_bytes:ssl/tls alert bad certificate:../deps/…:918:SSL alert number 42"):
 * keep the reason ("ssl/tls alert bad certificate").
 */
function tlsMessage(text: unknown): string {
  return oneLine(text).replace(/[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]+):\S+:\d+:?.*$/, '$1');
}

/**
 * One line for an error that says Kafka refused our SASL credentials or that TLS between us
 * and the broker failed, naming the settings to check; null for any other error. kafkajs
 * reports SASL failures as `KafkaJSSASLAuthenticationError` (not retried) and TLS failures as
 * `KafkaJSConnectionError` whose `code` is Node's TLS error code (retried, then wrapped in
 * `KafkaJSNumberOfRetriesExceeded` with the connection error as its cause). The line holds
 * kafkajs's message, which never contains the password; callers still redact it.
 */
export function describeKafkaSecurityError(error: unknown, config: Pick<GatewayConfig, 'kafkaTls' | 'kafkaSasl'>): string | null {
  const chain = causeChain(error);
  const sasl = chain.find(
    (e) =>
      e.name === 'KafkaJSSASLAuthenticationError' ||
      e.type === 'UNSUPPORTED_SASL_MECHANISM' ||
      e.type === 'SASL_AUTHENTICATION_FAILED' ||
      e.type === 'ILLEGAL_SASL_STATE',
  );
  if (sasl !== undefined) {
    const message = oneLine(sasl.message);
    const mechanism = config.kafkaSasl?.mechanism ?? '(unset)';
    if (sasl.type === 'UNSUPPORTED_SASL_MECHANISM' || /mechanism is not supported/i.test(message)) {
      return `Kafka does not offer SASL mechanism ${mechanism} on this listener (KAFKA_SASL_MECHANISM, KAFKA_BOOTSTRAP_SERVERS): ${message}`;
    }
    const user = config.kafkaSasl === null ? 'no user (KAFKA_SASL_MECHANISM is unset)' : `user ${JSON.stringify(config.kafkaSasl.username)}`;
    return `Kafka rejected the SASL credentials for ${user} with ${mechanism} (KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD): ${message}`;
  }
  const tlsFailure = chain.find((e) => typeof e.code === 'string' && (CERT_VERIFY_CODES.has(e.code) || /^ERR_(SSL|TLS)_/.test(e.code)));
  if (tlsFailure !== undefined) {
    const code = tlsFailure.code as string;
    const broker = typeof tlsFailure.broker === 'string' ? ` at ${tlsFailure.broker}` : '';
    const detail = `${tlsMessage(tlsFailure.message)} [${code}]`;
    if (CERT_VERIFY_CODES.has(code)) {
      const ca = config.kafkaTls?.caFile ? `KAFKA_SSL_CA_FILE=${config.kafkaTls.caFile}` : "KAFKA_SSL_CA_FILE unset: Node's public CAs";
      return `the TLS certificate of the Kafka broker${broker} was not accepted (${ca}; KAFKA_SSL_REJECT_UNAUTHORIZED): ${detail}`;
    }
    if (CLIENT_CERT_ALERTS.test(code)) {
      const files = config.kafkaTls?.certFile
        ? `KAFKA_SSL_CERT_FILE=${config.kafkaTls.certFile} / KAFKA_SSL_KEY_FILE`
        : 'KAFKA_SSL_CERT_FILE / KAFKA_SSL_KEY_FILE unset';
      return `the Kafka broker${broker} did not accept our TLS client certificate (${files}): ${detail}`;
    }
    if (NOT_TLS.test(code)) {
      return `the Kafka broker${broker} does not speak TLS on that port (KAFKA_SSL, KAFKA_BOOTSTRAP_SERVERS): ${detail}`;
    }
    return `TLS with the Kafka broker${broker} failed (KAFKA_SSL, KAFKA_SSL_CA_FILE, KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE): ${detail}`;
  }
  return null;
}
