/**
 * The deploy artefacts against a running gateway (simulator + real broker): the probe paths
 * of the Kubernetes manifests, the metric names of the dashboard and the alert rules, and a
 * real Prometheus scraping it with our scrape config and rules.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { stringify } from 'yaml';
import { createSimClock, startSimulator, type Simulator } from '../../src/sim/index.ts';
import { eventually, startTestGateway, uniquePrefix, type TestGateway } from '../support/gateway.ts';
import { useKafka } from '../support/kafka.ts';
import {
  allPanels,
  execForm,
  expandGrafanaVariables,
  familyOf,
  gatewayMetricNames,
  kustomizeBuild,
  metricFamilies,
  parseDockerfile,
  readRepoFile,
  readRepoYaml,
  repoPath,
  startPrometheus,
  type Dashboard,
  type K8sObject,
  type RuleFile,
} from '../support/deploy.ts';

// Hooks inside a describe run one after the other (top-level ones do not wait for each other).
describe('the deploy artefacts against a running gateway', () => {
  let sim: Simulator | undefined;
  let gw: TestGateway | undefined;
  // Registered before useKafka's hooks: the gateway stops (and flushes) before the broker goes.
  after(async () => {
    await gw?.stop();
    await sim?.close();
  });
  const kafka = useKafka();

  const gateway = (): TestGateway => {
    assert.ok(gw, 'the gateway started');
    return gw;
  };

  before(async () => {
    const key = `deploy-${randomUUID()}`;
    const clock = createSimClock({ startMarketMs: Date.parse('2026-03-10T15:00:00Z'), msPerMinute: 200 });
    sim = await startSimulator({ apiKey: key, clock });
    gw = await startTestGateway(
      {
        POLYGON_API_KEY: key,
        POLYGON_WS_URL: sim.wsUrl,
        POLYGON_REST_URL: sim.restUrl,
        KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
        TOPIC_PREFIX: uniquePrefix('deploy'),
        HEARTBEAT_INTERVAL_MS: '300',
        LOG_LEVEL: 'info',
      },
      { clock },
    );
    // Bars, heartbeats and latencies observed: every labelled series exists before the tests look.
    await eventually(
      'bars and heartbeats in /metrics',
      async () => {
        const text = await (await fetch(`${gw!.gateway.httpUrl}/metrics`)).text();
        return /^sentio_gateway_bars_published_total\{[^}]*\} [1-9]/m.test(text) && /^sentio_gateway_heartbeats_total\{[^}]*\} [1-9]/m.test(text)
          ? true
          : undefined;
      },
      30_000,
    );
  });

  const dashboard = JSON.parse(readRepoFile('deploy/grafana/dashboards/sentio-gateway.json')) as Dashboard;
  const dashboardQueries = allPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
  const rules = readRepoYaml<RuleFile>('deploy/prometheus/alerts.yml').groups.flatMap((g) => g.rules);

  interface Probe {
    httpGet: { path: string };
  }
  type Deployment = K8sObject & { spec: { template: { spec: { containers: { startupProbe: Probe; livenessProbe: Probe; readinessProbe: Probe }[] } } } };
  type ServiceMonitor = K8sObject & { spec: { endpoints: { path: string }[] } };

  test('every probe and scrape path in the manifests, the image and Compose is one the gateway serves', async () => {
    const objects = await kustomizeBuild(repoPath('deploy/kubernetes/base'));
    const container = (objects.find((o) => o.kind === 'Deployment') as Deployment).spec.template.spec.containers[0]!;
    const monitor = objects.find((o) => o.kind === 'ServiceMonitor') as ServiceMonitor;
    const healthcheck = execForm(
      parseDockerfile(readRepoFile('Dockerfile'))
        .at(-1)!
        .instructions.find((i) => i.keyword === 'HEALTHCHECK'),
      'HEALTHCHECK',
    ).join(' ');
    const prometheus = readRepoYaml<{ scrape_configs: { metrics_path: string }[] }>('deploy/prometheus/prometheus.yml');
    const paths: [string, string, number[]][] = [
      ['startupProbe', container.startupProbe.httpGet.path, [200]],
      ['livenessProbe', container.livenessProbe.httpGet.path, [200]],
      ['readinessProbe', container.readinessProbe.httpGet.path, [200, 503]],
      ['ServiceMonitor', monitor.spec.endpoints[0]!.path, [200]],
      ['Dockerfile HEALTHCHECK', /\/[a-z]+z\b/.exec(healthcheck)![0], [200]],
      ['prometheus.yml', prometheus.scrape_configs[0]!.metrics_path, [200]],
    ];
    for (const [where, path, allowed] of paths) {
      const response = await fetch(`${gateway().gateway.httpUrl}${path}`);
      assert.ok(allowed.includes(response.status), `${where} ${path}: HTTP ${response.status}`);
      await response.arrayBuffer();
    }
    const ready = await fetch(`${gateway().gateway.httpUrl}${container.readinessProbe.httpGet.path}`);
    assert.match(((await ready.json()) as { status: string }).status, /^(ready|not_ready)$/, 'the readiness body says which');
    // The check can fail: a path the gateway does not serve is a 404.
    assert.equal((await fetch(`${gateway().gateway.httpUrl}/ready`)).status, 404);
  });

  test('every metric the dashboard and the alert rules name exists in a live /metrics scrape', async () => {
    const families = metricFamilies(await (await fetch(`${gateway().gateway.httpUrl}/metrics`)).text());
    assert.equal(
      familyOf('sentio_gateway_publish_latency_seconds_bucket', families),
      'sentio_gateway_publish_latency_seconds',
      'histogram series resolve to their family',
    );
    assert.equal(familyOf('sentio_gateway_no_such_metric', families), undefined);
    const used = [
      ...dashboardQueries.map((q) => ({ where: `dashboard "${q.panel}"`, expr: q.expr })),
      ...dashboard.templating.list.flatMap((v) => (v.definition ? [{ where: `dashboard variable ${v.name}`, expr: v.definition }] : [])),
      ...rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr })),
    ];
    const missing: string[] = [];
    const checked = new Set<string>();
    for (const { where, expr } of used) {
      for (const name of gatewayMetricNames(expr)) {
        checked.add(name);
        if (!familyOf(name, families)) missing.push(`${name} (${where})`);
      }
    }
    assert.deepEqual(missing, []);
    assert.ok(checked.size >= 20, `${checked.size} metric names checked`);
    for (const name of [
      'sentio_gateway_process_resident_memory_bytes',
      'sentio_gateway_nodejs_eventloop_lag_p99_seconds',
      'sentio_gateway_publish_latency_seconds_bucket',
    ]) {
      assert.ok(checked.has(name), `${name} is used`);
    }
  });

  test('a real Prometheus scrapes the gateway with our scrape config, evaluates our rules, and answers every dashboard query', async (t) => {
    const http = new URL(gateway().gateway.httpUrl);
    const config = readRepoYaml<{
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: { job_name: string; static_configs?: { targets: string[] }[]; dns_sd_configs?: unknown[] }[];
    }>('deploy/prometheus/prometheus.yml');
    // The Compose config, pointed at this gateway, at test speed.
    config.global = { ...config.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
    config.rule_files = config.rule_files.map((f) => repoPath('deploy/prometheus', f));
    // Compose resolves the gateways by their network alias; here the one gateway is on loopback.
    delete config.scrape_configs[0]!.dns_sd_configs;
    config.scrape_configs[0]!.static_configs = [{ targets: [http.host] }];
    const prometheus = await startPrometheus(stringify(config));
    let stopped = false;
    t.after(async () => {
      if (!stopped) await prometheus.stop();
    });
    const job = config.scrape_configs[0]!.job_name;

    await eventually('up == 1', async () => ((await prometheus.query(`up{job="${job}"}`))[0]?.value[1] === '1' ? true : undefined), 20_000, 250);
    const bars = await eventually(
      'bars in Prometheus',
      async () => {
        const value = Number((await prometheus.query(`sum(sentio_gateway_bars_published_total{job="${job}"})`))[0]?.value[1] ?? 0);
        return value > 0 ? value : undefined;
      },
      20_000,
      250,
    );
    assert.ok(bars > 0);

    // The rules load and evaluate without error on real series.
    const groups = await eventually(
      'every rule evaluated',
      async () => {
        const data = await prometheus.get<{ groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[] }>('/api/v1/rules');
        return data.groups.every((g) => g.rules.every((r) => r.health !== 'unknown')) && data.groups.length > 0 ? data.groups : undefined;
      },
      20_000,
      250,
    );
    assert.deepEqual(groups.map((g) => g.name).sort(), ['sentio-gateway', 'sentio-market-calendar']);
    const unhealthy = groups.flatMap((g) => g.rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`));
    assert.deepEqual(unhealthy, []);
    assert.equal(groups.flatMap((g) => g.rules).length, rules.length);
    // A healthy gateway meets no alert's condition (and nothing fires: `for` aside, the conditions are false).
    for (const alert of rules.filter((r) => r.alert)) {
      assert.deepEqual(await prometheus.query(alert.expr), [], `${alert.alert} is quiet for a healthy gateway`);
    }
    const alerts = await prometheus.get<{ alerts: { labels: { alertname: string }; state: string }[] }>('/api/v1/alerts');
    assert.deepEqual(
      alerts.alerts.filter((a) => a.state === 'firing'),
      [],
    );

    // Wait until a rate window holds two scrapes of every counter, then run every dashboard query.
    await eventually(
      'rates',
      async () => ((await prometheus.query(`rate(sentio_gateway_frames_received_total{job="${job}"}[1m])`)).length > 0 ? true : undefined),
      20_000,
      250,
    );
    const instance = (await prometheus.query(`sentio_gateway_build_info{job="${job}"}`))[0]!.metric['instance']!;
    assert.equal(instance, http.host, 'the job and instance variables find the gateway');
    // Series that only exist once the event happened (a reconnect, a drop, a Kafka error).
    const eventDriven = /sentio_gateway_(reconnects_total|events_dropped_total|kafka_errors_total)\b/;
    const empty: string[] = [];
    for (const { panel, expr } of dashboardQueries) {
      const result = await prometheus.query(expandGrafanaVariables(expr, { job, instance: '.+', rateInterval: '1m' }));
      if (result.length === 0 && !eventDriven.test(expr)) empty.push(`${panel}: ${expr}`);
    }
    assert.deepEqual(empty, [], 'every panel fed by steady series shows data');

    stopped = true;
    assert.equal(await prometheus.stop(), 0, 'Prometheus stops cleanly on SIGTERM');
  });
});
