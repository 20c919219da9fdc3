/**
 * Every environment setting the gateway reads: name, default and meaning, in one table.
 * The loader validates against it and the README's configuration table mirrors it
 * (a test keeps the two in step).
 */

export interface SettingSpec {
  name: string;
  /** Default as the user would write it; null when unset means something (see description). */
  default: string | null;
  description: string;
  /** A secret's value never appears in an error, log line or metric. */
  secret?: boolean;
}

export const SETTINGS = [
  { name: 'POLYGON_API_KEY', default: null, secret: true, description: 'Vendor API key. Unset: run the built-in simulator (ENV=MOCK).' },
  {
    name: 'POLYGON_API_KEY_FILE',
    default: null,
    description: 'File holding the key (a mounted secret); trailing whitespace is ignored. Used when POLYGON_API_KEY is unset.',
  },
  {
    name: 'POLYGON_WS_URL',
    default: 'wss://socket.polygon.io/stocks',
    description: 'WebSocket endpoint (ws:// or wss://); wss://delayed.polygon.io/stocks for the 15-minute delayed feed.',
  },
  {
    name: 'POLYGON_FEED_DELAY_MS',
    default: null,
    description:
      "How far the feed runs behind real time (ms): fills, backfill waits, staleness and marketSession follow the feed's clock. Unset: 900000 when the host of POLYGON_WS_URL starts with `delayed.`, SIM_FEED_DELAY_MS with the built-in simulator, else 0.",
  },
  { name: 'POLYGON_REST_URL', default: 'https://api.polygon.io', description: 'REST base URL (backfill, market status).' },
  { name: 'SYMBOLS', default: 'TQQQ,SQQQ,TNA,TZA,UVXY,SVIX,SOXS,SOXL,SPXL,SPXS,FAS,FAZ', description: 'Comma-separated tickers to subscribe (AM.<ticker>).' },
  {
    name: 'KAFKA_BOOTSTRAP_SERVERS',
    default: null,
    description: 'Comma-separated host:port list. Unset: start the embedded local broker (needs Java 17+ and Maven).',
  },
  {
    name: 'EMBEDDED_KAFKA_PORT',
    default: '9092',
    description: 'Port of the embedded broker (0 picks a free one); `tail` and the console consumer find it on localhost.',
  },
  { name: 'KAFKA_CLIENT_ID', default: 'sentio-gateway', description: 'Kafka client id.' },
  {
    name: 'KAFKA_SSL',
    default: 'false',
    description: 'Connect to KAFKA_BOOTSTRAP_SERVERS over TLS (true|false). Managed clusters (SASL_SSL, SSL listeners) need true.',
  },
  {
    name: 'KAFKA_SSL_CA_FILE',
    default: null,
    description: "PEM file of the CA certificate(s) that signed the brokers' certificates. Unset: Node's built-in public CAs. Needs KAFKA_SSL=true.",
  },
  {
    name: 'KAFKA_SSL_CERT_FILE',
    default: null,
    description: "PEM client certificate for mutual TLS (the broker's ssl.client.auth=required). Set together with KAFKA_SSL_KEY_FILE.",
  },
  {
    name: 'KAFKA_SSL_KEY_FILE',
    default: null,
    description: 'PEM private key (unencrypted) of KAFKA_SSL_CERT_FILE, e.g. a mounted secret. Set together with KAFKA_SSL_CERT_FILE.',
  },
  {
    name: 'KAFKA_SSL_REJECT_UNAUTHORIZED',
    default: 'true',
    description: "Verify the broker's certificate and host name (true|false); false is for tests only and is logged as a warning.",
  },
  { name: 'KAFKA_SASL_MECHANISM', default: null, description: 'plain | scram-sha-256 | scram-sha-512. Unset: no SASL authentication.' },
  { name: 'KAFKA_SASL_USERNAME', default: null, description: 'SASL user name; required with KAFKA_SASL_MECHANISM.' },
  {
    name: 'KAFKA_SASL_PASSWORD',
    default: null,
    secret: true,
    description: 'SASL password; required with KAFKA_SASL_MECHANISM (or KAFKA_SASL_PASSWORD_FILE). Never logged.',
  },
  {
    name: 'KAFKA_SASL_PASSWORD_FILE',
    default: null,
    description: 'File holding the SASL password (a mounted secret); a trailing newline is ignored. Used when KAFKA_SASL_PASSWORD is unset.',
  },
  { name: 'TOPIC_PREFIX', default: 'sentio.', description: 'Prefix of every topic name.' },
  { name: 'PROVISION_TOPICS', default: 'true', description: "Create the gateway's own topics at start when missing (true|false)." },
  { name: 'TOPIC_PARTITIONS', default: '1', description: 'Partitions of topics the gateway creates (records of one symbol always share a partition).' },
  { name: 'TOPIC_REPLICATION_FACTOR', default: '-1', description: 'Replication factor of topics the gateway creates; -1 uses the broker default.' },
  { name: 'TRADES_RETENTION_DAYS', default: '7', description: 'Retention of trades.executed.v1 when `topics` creates it (7 to 30).' },
  { name: 'RUN_ID', default: null, description: 'Identifies this run in headers and heartbeats. Unset: a random UUID.' },
  { name: 'STRATEGY', default: 'SIGOR', description: 'Value of the strategy header and heartbeat field.' },
  { name: 'ENV', default: null, description: 'LIVE or MOCK. Unset: LIVE with a key, MOCK without.' },
  { name: 'HTTP_HOST', default: '0.0.0.0', description: 'Address the HTTP server binds.' },
  { name: 'HTTP_PORT', default: '8080', description: 'Port of /healthz, /readyz and /metrics (0 picks a free port).' },
  { name: 'HEARTBEAT_INTERVAL_MS', default: '15000', description: 'Heartbeat period.' },
  { name: 'FILL_EMPTY_MINUTES', default: 'regular', description: 'regular | off | all: which minutes without a bar get a filled record.' },
  { name: 'FILL_GRACE_MS', default: '20000', description: 'How long after a minute ends to wait for its bar before filling it (market time).' },
  { name: 'PING_INTERVAL_MS', default: '5000', description: 'WebSocket ping period.' },
  { name: 'STALL_TIMEOUT_MS', default: '15000', description: 'An open socket with no frame and no pong for this long is treated as dead.' },
  { name: 'RECONNECT_MIN_MS', default: '500', description: 'First reconnect delay cap (full jitter below it).' },
  { name: 'RECONNECT_MAX_MS', default: '30000', description: 'Largest reconnect delay cap.' },
  { name: 'AUTH_RETRY_MS', default: '300000', description: 'Delay before trying again after auth_failed: a rejected key never causes a reconnect storm.' },
  {
    name: 'MAX_CONNECTIONS_RETRY_MS',
    default: '60000',
    description: 'Delay before trying again after max_connections or disconnect (another client holds the slot).',
  },
  {
    name: 'FEED_STALE_MS',
    default: '180000',
    description: 'During the regular session, no bar for this long (market time) makes the feed stale and /readyz 503.',
  },
  { name: 'MAX_BUFFERED_BARS', default: '100000', description: 'Bars held while Kafka is not writable; beyond it the oldest are dropped and counted.' },
  {
    name: 'MAX_BUFFERED_BYTES',
    default: '25165824',
    description:
      'Bytes of bars (keys, values, headers and the per-record bookkeeping the gateway holds) held while Kafka is not writable; beyond it the oldest are dropped and counted, like MAX_BUFFERED_BARS. Bounds memory under any overload.',
  },
  {
    name: 'MINUTE_LINGER_MS',
    default: '5',
    description:
      "Longest wait for the rest of a minute's live bars before sending those already in; a minute whose every subscribed symbol is in goes out at once. 0 sends every frame's bars as they come.",
  },
  { name: 'MAX_BACKFILL_MINUTES', default: '120', description: 'Longest gap the gateway backfills from REST.' },
  { name: 'SHUTDOWN_TIMEOUT_MS', default: '10000', description: 'Bound on flushing Kafka at SIGTERM before exiting anyway.' },
  {
    name: 'MARKET_CLOCK',
    default: 'wall',
    description:
      'wall, or simulator: follow the clock of an external simulator (`sentio-gateway sim`) found at POLYGON_REST_URL. The in-process simulator is always followed.',
  },
  {
    name: 'REPLAY_SPEED_MS',
    default: null,
    description: "Wall milliseconds per market minute (60000 is real time): the simulator's clock (unset: 1000) and the pace of `replay` (unset: 60).",
  },
  { name: 'SIM_START', default: null, description: 'Simulator: market instant its clock starts at (ISO 8601). Unset: now.' },
  {
    name: 'SIM_FEED_DELAY_MS',
    default: '0',
    description: "Simulator: market ms each bar (and REST) runs behind its minute's end, as the vendor's delayed feed does (900000).",
  },
  { name: 'SIM_PORT', default: '0', description: 'Simulator: port of `sentio-gateway sim` and of the in-process simulator (0 picks a free one).' },
  { name: 'RESULTS_PATH', default: null, description: "replay: the engine's results.json. Unset, and no REPLAY_DATE: the sample day in config/replay/." },
  {
    name: 'TRADES_PATH',
    default: null,
    description: "replay: the engine's trades.jsonl. Unset: trades.jsonl beside RESULTS_PATH; when there is none, the trades array of results.json.",
  },
  {
    name: 'REPLAY_DATE',
    default: null,
    description:
      'replay, without RESULTS_PATH: the day (YYYY-MM-DD) whose regular-session minute aggregates of SYMBOLS are replayed from REST (the vendor with a key, the built-in simulator without): prices and heartbeats only.',
  },
  { name: 'PORTFOLIO_ID', default: 'default', description: 'replay: the key of the portfolio.minute.v1 records.' },
  {
    name: 'HA_MODE',
    default: 'off',
    description:
      'off, or kafka: active/standby. Gateways of one HA_GROUP_ID elect a leader through Kafka; only the leader holds the vendor socket, and its writes are transactional (consumers read with isolation.level=read_committed).',
  },
  {
    name: 'HA_GROUP_ID',
    default: null,
    description: 'HA_MODE=kafka: the consumer group (and transactional id) of the gateways that share one vendor connection. Unset: ${TOPIC_PREFIX}gateway.',
  },
  {
    name: 'HA_SESSION_TIMEOUT_MS',
    default: '10000',
    description: 'HA_MODE=kafka: how long a leader that died (no clean leave) keeps the role before a standby takes it (6000 to 300000).',
  },
  { name: 'LOG_LEVEL', default: 'info', description: 'trace | debug | info | warn | error | fatal | silent.' },
] as const satisfies readonly SettingSpec[];

export type SettingName = (typeof SETTINGS)[number]['name'];
