import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import { SETTINGS } from '../../src/config/settings.ts';
import { KAFKA_VERSION } from '../../src/dev/kafka-artifacts.ts';
import { readRepoYaml, repoPath, run, tool } from '../support/deploy.ts';

/** A Compose service, as written (yaml) or as resolved by the Compose loader (compose-config). */
interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | null;
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string; retries?: number };
  profiles?: string[];
  ports?: (string | { target: number; published: string; host_ip?: string })[];
  volumes?: (string | { type: string; source: string; target: string; read_only?: boolean })[];
  restart?: string;
  read_only?: boolean;
  stop_grace_period?: string;
  networks?: Record<string, { aliases?: string[] } | null>;
}
interface ComposeFile {
  name: string;
  services: Record<string, Service>;
  volumes?: Record<string, { name?: string } | null>;
}

const POLYGON = 'docker-compose.polygon.yml';
const SIM = 'docker-compose.sim.yml';
const written = readRepoYaml<ComposeFile>(POLYGON);
const SETTING_NAMES = new Set<string>(SETTINGS.map((s) => s.name));

/** Runs Docker Compose's own loader (compose-go) on the files with exactly `env`. */
async function composeConfig(files: string[], env: Record<string, string>, profiles: string[] = []) {
  const args = [...profiles.flatMap((p) => ['-profile', p]), ...files.flatMap((f) => ['-f', repoPath(f)])];
  const result = await run(tool('compose-config'), args, { env: { PATH: process.env['PATH'] ?? '', ...env } });
  return { ...result, project: result.code === 0 ? (JSON.parse(result.stdout) as ComposeFile) : undefined };
}
async function loaded(files: string[], env: Record<string, string>, profiles: string[] = []): Promise<ComposeFile> {
  const result = await composeConfig(files, env, profiles);
  assert.equal(result.code, 0, `compose loads ${files.join(' ')}: ${result.stderr}`);
  return result.project!;
}

test('Kafka: the official apache/kafka image at the tested version, single-node KRaft, with a healthcheck', () => {
  const kafka = written.services['kafka']!;
  assert.equal(kafka.image, `apache/kafka:${KAFKA_VERSION}`, 'the broker version the tests run (src/dev/kafka-artifacts.ts)');
  assert.match(KAFKA_VERSION, /^4\./);
  const env = kafka.environment!;
  assert.deepEqual(String(env['KAFKA_PROCESS_ROLES']).split(',').sort(), ['broker', 'controller']);
  assert.equal(String(env['KAFKA_CONTROLLER_QUORUM_VOTERS']), `${env['KAFKA_NODE_ID']}@kafka:9093`, 'the only voter is this node');
  assert.match(String(env['KAFKA_LISTENERS']), /CONTROLLER:\/\/:9093/);
  assert.match(String(env['KAFKA_LISTENER_SECURITY_PROTOCOL_MAP']), /CONTROLLER:PLAINTEXT/);
  assert.match(String(env['KAFKA_ADVERTISED_LISTENERS']), /PLAINTEXT:\/\/kafka:9092/);
  assert.match(String(env['CLUSTER_ID']), /^[A-Za-z0-9_-]{22}$/, 'a base64 UUID, as kafka-storage random-uuid makes');
  assert.equal(String(env['KAFKA_AUTO_CREATE_TOPICS_ENABLE']), 'false', 'topics are made on purpose');
  for (const name of ['KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR', 'KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR', 'KAFKA_TRANSACTION_STATE_LOG_MIN_ISR']) {
    assert.equal(String(env[name]), '1', `${name} fits one broker`);
  }
  const check = kafka.healthcheck!.test.join(' ');
  assert.match(check, /kafka-broker-api-versions\.sh --bootstrap-server localhost:9092/);
  assert.ok(kafka.healthcheck!.interval && kafka.healthcheck!.retries, 'interval and retries');
});

test('topics is a one-shot of our image (`sentio-gateway topics`) once the broker is healthy', () => {
  const { topics, gateway } = written.services;
  assert.deepEqual(topics!.command, ['topics']);
  assert.equal(topics!.image, gateway!.image, 'the same image as the gateway');
  assert.equal(topics!.restart, 'no', 'runs once');
  assert.deepEqual(topics!.depends_on, { kafka: { condition: 'service_healthy' } });
  assert.equal(topics!.environment!['KAFKA_BOOTSTRAP_SERVERS'], 'kafka:9092');
});

test('the gateway needs the key, waits for a healthy broker and the finished topics job, and publishes 8080', () => {
  const gateway = written.services['gateway']!;
  assert.deepEqual(gateway.command, ['run']);
  assert.match(String(gateway.environment!['POLYGON_API_KEY']), /^\$\{POLYGON_API_KEY:\?[^}]+\}$/, 'the :? guard');
  assert.deepEqual(gateway.depends_on, { kafka: { condition: 'service_healthy' }, topics: { condition: 'service_completed_successfully' } });
  assert.ok(gateway.ports!.includes('8080:8080'));
  assert.equal(gateway.environment!['KAFKA_BOOTSTRAP_SERVERS'], 'kafka:9092');
  assert.ok(gateway.read_only, 'read-only root filesystem');
  // SIGTERM drains within SHUTDOWN_TIMEOUT_MS (default 10 s): Compose must wait longer before SIGKILL.
  const grace = Number(/^(\d+)s$/.exec(gateway.stop_grace_period ?? '')?.[1]);
  assert.ok(grace * 1000 > Number(SETTINGS.find((s) => s.name === 'SHUTDOWN_TIMEOUT_MS')!.default), `stop_grace_period ${gateway.stop_grace_period}`);
});

test('every variable given to our image is a setting the gateway knows', () => {
  for (const file of [POLYGON, SIM]) {
    const services = readRepoYaml<ComposeFile>(file).services;
    const ours = Object.keys(services).filter((n) => n === 'topics' || n.startsWith('gateway'));
    for (const name of ours) {
      const unknown = Object.keys(services[name]!.environment ?? {}).filter((k) => !SETTING_NAMES.has(k));
      assert.deepEqual(unknown, [], `${file} ${name}`);
    }
  }
});

test('the monitoring profile adds Prometheus (our scrape config and alert rules) and Grafana (provisioned)', () => {
  const { prometheus, grafana } = written.services;
  for (const [name, service] of Object.entries(written.services)) {
    if (name === 'prometheus' || name === 'grafana') assert.deepEqual(service.profiles, ['monitoring'], name);
    else if (name === 'gateway-standby') assert.deepEqual(service.profiles, ['ha'], name);
    else assert.equal(service.profiles, undefined, `${name} runs without a profile`);
  }
  const mounts = (s: Service) => new Map((s.volumes as string[]).map((v) => v.split(':')).map(([src, dst]) => [dst!, src!]));
  const promMounts = mounts(prometheus!);
  assert.equal(promMounts.get('/etc/prometheus/prometheus.yml'), './deploy/prometheus/prometheus.yml');
  const config = readRepoYaml<{
    rule_files: string[];
    scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; type: string; port: number }[] }[];
  }>('deploy/prometheus/prometheus.yml');
  for (const rules of config.rule_files) {
    // Relative rule files resolve against the config file's directory.
    const inContainer = posix.join('/etc/prometheus', rules);
    assert.equal(promMounts.get(inContainer), `./deploy/prometheus/${rules}`, `${rules} is mounted next to the config`);
  }
  assert.ok(prometheus!.command!.includes('--config.file=/etc/prometheus/prometheus.yml'));
  assert.deepEqual(
    config.scrape_configs.map((c) => [c.job_name, c.dns_sd_configs[0]!.names, c.dns_sd_configs[0]!.type, c.dns_sd_configs[0]!.port]),
    [['sentio-gateway', ['gateways'], 'A', 8080]],
    'scrapes every gateway under the network alias, on its port',
  );
  for (const file of [POLYGON, SIM]) {
    const services = readRepoYaml<ComposeFile>(file).services;
    for (const name of Object.keys(services).filter((n) => n.startsWith('gateway')))
      assert.deepEqual(services[name]!.networks, { default: { aliases: ['gateways'] } }, `${file} ${name} answers to the alias Prometheus resolves`);
  }

  const grafanaMounts = mounts(grafana!);
  assert.equal(grafanaMounts.get('/etc/grafana/provisioning'), './deploy/grafana/provisioning');
  const provider = readRepoYaml<{ providers: { options: { path: string } }[] }>('deploy/grafana/provisioning/dashboards/sentio.yml').providers[0]!;
  assert.equal(grafanaMounts.get(provider.options.path), './deploy/grafana/dashboards', 'the dashboard provider reads the mounted dashboards');
  const datasource = readRepoYaml<{ datasources: { url: string }[] }>('deploy/grafana/provisioning/datasources/prometheus.yml').datasources[0]!;
  const listen = prometheus!
    .command!.find((a) => a.startsWith('--web.listen-address='))!
    .split(':')
    .at(-1);
  assert.equal(datasource.url, `http://prometheus:${listen}`, 'Grafana reaches the prometheus service');
  for (const [, src] of [...promMounts, ...grafanaMounts]) if (src.startsWith('./')) assert.ok(existsSync(join(repoPath(), src)), `${src} exists`);
  // Grafana's documented first-login password, overridable, never another literal.
  assert.equal(grafana!.environment!['GF_SECURITY_ADMIN_PASSWORD'], '${GRAFANA_ADMIN_PASSWORD:-admin}');
});

test('Compose itself refuses the Polygon file without POLYGON_API_KEY, with a message saying what to do', async () => {
  const result = await composeConfig([POLYGON], {});
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /POLYGON_API_KEY/);
  assert.match(result.stderr, /export POLYGON_API_KEY=/);
  assert.match(result.stderr, /docker-compose\.sim\.yml/, 'names the simulated variant');
  const empty = await composeConfig([POLYGON], { POLYGON_API_KEY: '' });
  assert.notEqual(empty.code, 0, 'an empty key is refused too');
});

test('Compose loads the Polygon file with a key: three services, monitoring on request, settings the gateway accepts', async () => {
  const key = 'compose-test-key';
  const plain = await loaded([POLYGON], { POLYGON_API_KEY: key });
  assert.deepEqual(Object.keys(plain.services).sort(), ['gateway', 'kafka', 'topics']);
  const monitoring = await loaded([POLYGON], { POLYGON_API_KEY: key }, ['monitoring']);
  assert.deepEqual(Object.keys(monitoring.services).sort(), ['gateway', 'grafana', 'kafka', 'prometheus', 'topics']);
  // Profile ha: a second gateway, the same but for its host port, in one active/standby group.
  const ha = await loaded([POLYGON], { POLYGON_API_KEY: key }, ['ha']);
  assert.deepEqual(Object.keys(ha.services).sort(), ['gateway', 'gateway-standby', 'kafka', 'topics']);
  const { ports: leaderPorts, ...leader } = ha.services['gateway']!;
  const { ports: standbyPorts, profiles: _profiles, ...standby } = ha.services['gateway-standby']!;
  assert.deepEqual(standby, leader, 'the standby is the same gateway');
  assert.deepEqual(
    [...(leaderPorts ?? []), ...(standbyPorts ?? [])].map((p) => (typeof p === 'object' ? p.published : p)),
    ['8080', '8081'],
  );
  for (const name of ['gateway', 'gateway-standby']) {
    const { config: haConfig } = loadConfig(ha.services[name]!.environment as Record<string, string>);
    assert.equal(haConfig.ha.mode, 'kafka', `${name}: HA_MODE=kafka`);
    assert.equal(haConfig.ha.groupId, 'sentio.gateway', `${name}: one group`);
  }
  const gateway = plain.services['gateway']!;
  assert.equal(gateway.environment!['POLYGON_API_KEY'], key);
  assert.equal(gateway.depends_on!['topics']!.condition, 'service_completed_successfully');
  assert.equal(gateway.depends_on!['kafka']!.condition, 'service_healthy');
  assert.equal(monitoring.services['grafana']!.environment!['GF_SECURITY_ADMIN_PASSWORD'], 'admin');
  const { config } = loadConfig(gateway.environment as Record<string, string>);
  assert.equal(config.simulated, false);
  assert.equal(config.env, 'LIVE');
  assert.deepEqual(config.kafkaBootstrapServers, ['kafka:9092']);
  assert.equal(config.symbols.length, 12, 'an empty SYMBOLS means the default 12');
  assert.equal(config.polygonWsUrl, 'wss://socket.polygon.io/stocks');
  const published = gateway.ports!.find((p) => typeof p === 'object' && p.published === '8080');
  assert.ok(published && typeof published === 'object' && published.target === config.httpPort, 'publishes the port the gateway serves');
});

test('the simulated variant needs no key, runs the simulator, and is otherwise the same stack in its own project', async () => {
  const sim = await loaded([SIM], {}, ['monitoring']);
  const live = await loaded([POLYGON], { POLYGON_API_KEY: 'compose-test-key' }, ['monitoring']);
  const gatewayEnv = sim.services['gateway']!.environment as Record<string, string>;
  assert.equal(gatewayEnv['POLYGON_API_KEY'], undefined);
  const { config } = loadConfig(gatewayEnv);
  assert.equal(config.simulated, true, 'no key: the built-in simulator');
  assert.equal(config.env, 'MOCK');
  for (const name of Object.keys(live.services).filter((n) => n !== 'gateway')) {
    assert.deepEqual(sim.services[name], live.services[name], `${name} is the same in both files`);
  }
  const { environment: _simEnv, ...simGateway } = sim.services['gateway']!;
  const { environment: _liveEnv, ...liveGateway } = live.services['gateway']!;
  assert.deepEqual(simGateway, liveGateway, 'the gateway differs only in its environment');
  assert.notEqual(sim.name, live.name);
  assert.notEqual(sim.volumes!['kafka-data']!.name, live.volumes!['kafka-data']!.name, 'MOCK bars never land in the live broker volume');
});

test('the replay file: the same broker and topics, the gateway replaying the mounted folder of results once, as the old sidecar did', async () => {
  const REPLAY = 'docker-compose.replay.yml';
  const replay = await loaded([REPLAY], {});
  const sim = await loaded([SIM], {});
  assert.deepEqual(Object.keys(replay.services).sort(), ['gateway', 'kafka', 'topics']);
  for (const name of ['kafka', 'topics']) assert.deepEqual(replay.services[name], sim.services[name], `${name} is the same as in the simulated file`);
  const gateway = replay.services['gateway']!;
  assert.deepEqual(gateway.command, ['replay']);
  assert.equal(gateway.restart, 'no', 'a replay ends by itself');
  const mount = gateway.volumes!.find((v) => typeof v === 'object' && v.target === '/results');
  assert.ok(mount && typeof mount === 'object' && mount.read_only === true);
  assert.ok(
    existsSync(join(repoPath(), mount.source, 'results.json')) && existsSync(join(repoPath(), mount.source, 'trades.jsonl')),
    'the default folder is the sample day',
  );
  const env = gateway.environment as Record<string, string>;
  assert.deepEqual(
    Object.keys(env).filter((n) => !SETTING_NAMES.has(n)),
    [],
    'only settings the gateway knows',
  );
  const { config } = loadConfig(env);
  assert.equal(config.replay.resultsPath, posix.join('/results', 'results.json'));
  assert.equal(config.replay.tradesPath, posix.join('/results', 'trades.jsonl'));
  assert.equal(config.replay.minuteMs, 60, "the old sidecar's pace");
  assert.equal(config.replay.env, 'MOCK');
  const custom = await loaded([REPLAY], { REPLAY_DIR: '/srv/engine/out' });
  assert.ok(
    custom.services['gateway']!.volumes!.some((v) => typeof v === 'object' && v.source === '/srv/engine/out' && v.target === '/results'),
    'REPLAY_DIR picks another folder',
  );
  assert.notEqual(replay.name, sim.name);
});
