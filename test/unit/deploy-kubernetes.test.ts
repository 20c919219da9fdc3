import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { loadConfig } from '../../src/config/load-config.ts';
import { SETTINGS } from '../../src/config/settings.ts';
import { assertRan, execForm, kustomize, kustomizeBuild, parseDockerfile, readRepoFile, repoPath, run, type K8sObject } from '../support/deploy.ts';

interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports: { name: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  securityContext: { runAsNonRoot?: boolean; runAsUser?: number; runAsGroup?: number; fsGroup?: number };
  volumes: { name: string; secret?: { secretName: string; defaultMode?: number; items?: { key: string; path: string }[] }; emptyDir?: object }[];
  terminationGracePeriodSeconds: number;
  affinity?: {
    podAntiAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }[] };
  };
}
type PodDisruptionBudget = K8sObject & { spec: { maxUnavailable?: number; minAvailable?: number; selector: { matchLabels: Record<string, string> } } };
type Deployment = K8sObject & {
  spec: {
    replicas: number;
    strategy: { type: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
};
type Service = K8sObject & {
  spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[]; publishNotReadyAddresses?: boolean };
};
type ServiceMonitor = K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string }[] } };
type ConfigMap = K8sObject & { data: Record<string, string> };
type Secret = K8sObject & { data?: Record<string, string> };

const BASE = repoPath('deploy/kubernetes/base');
const objects = await kustomizeBuild(BASE);
const one = <T extends K8sObject>(kind: string, list: K8sObject[] = objects): T => {
  const found = list.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0] as T;
};
const deployment = one<Deployment>('Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers[0]!;
const configMap = one<ConfigMap>('ConfigMap');
const runtime = parseDockerfile(readRepoFile('Dockerfile')).at(-1)!;
const pkg = JSON.parse(readRepoFile('package.json')) as { version: string };

test('kustomize (v5) builds the base: namespace, settings, Deployment, PodDisruptionBudget, Service, ServiceMonitor', async () => {
  assert.match(assertRan(await run(await kustomize(), ['version']), 'kustomize version'), /^v5\./);
  assert.deepEqual(objects.map((o) => o.kind).sort(), ['ConfigMap', 'Deployment', 'Namespace', 'PodDisruptionBudget', 'Service', 'ServiceMonitor']);
  assert.equal(one('Namespace').metadata.name, 'sentio');
  for (const o of objects.filter((x) => x.kind !== 'Namespace')) assert.equal(o.metadata.namespace, 'sentio', `${o.kind} ${o.metadata.name}`);
  assert.match(configMap.metadata.name, /^sentio-gateway-settings-[a-z0-9]{10}$/, 'the ConfigMap name carries a content hash');
  assert.deepEqual(container.envFrom, [{ configMapRef: { name: configMap.metadata.name } }], 'the Deployment follows the hashed name');
});

test('two replicas in one active/standby group, on different nodes, replaced one at a time, at most one disrupted', () => {
  assert.equal(deployment.spec.replicas, 2);
  // Polygon allows one connection per account: the replicas must elect one holder.
  const { config } = loadConfig({ ...configMap.data, POLYGON_API_KEY: 'k8s-test-key' });
  assert.equal(config.ha.mode, 'kafka', 'HA_MODE=kafka in the ConfigMap');
  assert.ok(pod.terminationGracePeriodSeconds * 1000 > config.shutdownTimeoutMs + 1_000, 'a stopped leader drains and leaves the group before SIGKILL');
  // One at a time, never a third pod: works with the required anti-affinity on two nodes.
  assert.equal(deployment.spec.strategy.type, 'RollingUpdate');
  assert.deepEqual(deployment.spec.strategy.rollingUpdate, { maxSurge: 0, maxUnavailable: 1 });
  const podLabels = deployment.spec.template.metadata.labels;
  const spread = pod.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
  assert.equal(spread.length, 1, 'a required anti-affinity');
  assert.equal(spread[0]!.topologyKey, 'kubernetes.io/hostname', 'across nodes');
  for (const [k, v] of Object.entries(spread[0]!.labelSelector.matchLabels))
    assert.equal(podLabels[k], v, `the anti-affinity selects the gateway's own pods (${k})`);
  const budget = one<PodDisruptionBudget>('PodDisruptionBudget');
  assert.equal(budget.spec.maxUnavailable ?? deployment.spec.replicas - budget.spec.minAvailable!, 1, 'a drain takes one gateway at a time');
  for (const [k, v] of Object.entries(budget.spec.selector.matchLabels)) assert.equal(podLabels[k], v, `the budget selects the gateway's pods (${k})`);
  assert.deepEqual(
    pod.containers.map((c) => c.name),
    ['gateway'],
  );
  assert.equal(container.image, `sentio-gateway:${pkg.version}`);
  assert.deepEqual(
    container.args,
    execForm(
      runtime.instructions.find((i) => i.keyword === 'CMD'),
      'CMD',
    ),
    "the image's own command",
  );
});

test('the key is a Secret mounted read-only as a file, and POLYGON_API_KEY_FILE points into it', () => {
  const volume = pod.volumes.find((v) => v.secret);
  assert.ok(volume, 'a secret volume');
  assert.equal(volume.secret!.secretName, 'sentio-gateway-polygon');
  const item = volume.secret!.items!.find((i) => i.key === 'polygon-api-key');
  assert.ok(item, 'the polygon-api-key entry');
  const mount = container.volumeMounts.find((m) => m.name === volume.name);
  assert.ok(mount?.readOnly, 'mounted read-only');
  const env = new Map((container.env ?? []).map((e) => [e.name, e.value]));
  assert.equal(env.get('POLYGON_API_KEY_FILE'), posix.join(mount.mountPath, item.path));
  assert.ok(!env.has('POLYGON_API_KEY') && !('POLYGON_API_KEY' in configMap.data), 'the key itself is in no variable');
  // The files of a secret volume belong to root:fsGroup; the gateway's group must read them.
  assert.equal(volume.secret!.defaultMode! & 0o040, 0o040, 'group-readable');
  assert.equal(volume.secret!.defaultMode! & 0o007, 0, 'not world-readable');
  assert.equal(pod.securityContext.fsGroup, pod.securityContext.runAsGroup);
});

test('non-root, read-only root filesystem with an emptyDir for /tmp, no privileges, bounded resources', () => {
  const uid = runtime.instructions
    .filter((i) => i.keyword === 'USER')
    .at(-1)!
    .rest.split(':')[0];
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(String(pod.securityContext.runAsUser), uid, "the image's user");
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.equal(container.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(container.securityContext.capabilities?.drop, ['ALL']);
  const tmp = container.volumeMounts.find((m) => m.mountPath === '/tmp');
  assert.ok(tmp && pod.volumes.find((v) => v.name === tmp.name)?.emptyDir, '/tmp is an emptyDir');
  assert.ok(container.resources.requests?.['cpu'] && container.resources.requests['memory'], 'requests');
  assert.ok(container.resources.limits?.['memory'], 'a memory limit');
});

test('probes: startup and liveness on /healthz, readiness on /readyz, on the port the gateway listens on', () => {
  assert.equal(container.startupProbe?.httpGet.path, '/healthz');
  assert.equal(container.livenessProbe?.httpGet.path, '/healthz');
  assert.equal(container.readinessProbe?.httpGet.path, '/readyz');
  for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
    const port = container.ports.find((p) => p.name === probe.httpGet.port);
    assert.ok(port, `probe port ${probe.httpGet.port} is a named container port`);
    assert.equal(String(port.containerPort), configMap.data['HTTP_PORT'], 'the gateway serves HTTP there');
  }
  // The HTTP server starts after Kafka and the price topic's tail (bounded at 60 s): startup must outlast that.
  const startup = container.startupProbe as unknown as { periodSeconds: number; failureThreshold: number };
  assert.ok(startup.periodSeconds * startup.failureThreshold >= 90, 'the startup probe allows at least 90 s');
});

test('Service and ServiceMonitor find the pod, keep it while not ready, and scrape /metrics', () => {
  const service = one<Service>('Service');
  const monitor = one<ServiceMonitor>('ServiceMonitor');
  const podLabels = deployment.spec.template.metadata.labels;
  for (const [k, v] of Object.entries(deployment.spec.selector.matchLabels)) assert.equal(podLabels[k], v, 'the Deployment selects its pods');
  for (const [k, v] of Object.entries(service.spec.selector)) assert.equal(podLabels[k], v, `the Service selects the pod (${k})`);
  assert.equal(service.spec.publishNotReadyAddresses, true, 'scraped while /readyz is 503');
  const port = service.spec.ports.find((p) => p.name === 'http')!;
  assert.ok(
    container.ports.some((p) => p.name === port.targetPort),
    'the Service targets the named container port',
  );
  for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels))
    assert.equal(service.metadata.labels?.[k], v, `the ServiceMonitor selects the Service (${k})`);
  assert.deepEqual(
    monitor.spec.endpoints.map((e) => [e.port, e.path]),
    [['http', '/metrics']],
  );
  assert.equal(service.metadata.name, 'sentio-gateway', 'the job label of the scraped series, as in alerts.yml');
});

test('the ConfigMap holds only known, non-secret settings that the gateway accepts with a mounted key', () => {
  const known = new Map(SETTINGS.map((s) => [s.name, s]));
  for (const name of Object.keys(configMap.data)) {
    assert.ok(known.has(name as never), `${name} is a setting`);
    assert.ok(!(known.get(name as never) as { secret?: boolean }).secret, `${name} is not secret`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'sg-k8s-key-'));
  try {
    writeFileSync(join(dir, 'polygon-api-key'), 'k8s-test-key\n');
    const { config, secrets } = loadConfig({ ...configMap.data, POLYGON_API_KEY_FILE: join(dir, 'polygon-api-key') });
    assert.equal(secrets.polygonApiKey, 'k8s-test-key');
    assert.equal(config.simulated, false);
    assert.equal(config.env, 'LIVE');
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > config.shutdownTimeoutMs, 'the drain finishes before SIGKILL');
    // A missing secret file must stop start-up, never fall back to the simulator.
    assert.throws(() => loadConfig({ ...configMap.data, POLYGON_API_KEY_FILE: join(dir, 'absent') }), /POLYGON_API_KEY_FILE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('overlays/live generates the Secret from a local file, rolls the pod with its hash, and fails without it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-k8s-'));
  try {
    cpSync(repoPath('deploy/kubernetes'), join(dir, 'kubernetes'), { recursive: true, filter: (src) => !src.endsWith('/polygon-api-key') });
    const overlay = join(dir, 'kubernetes/overlays/live');
    const missing = await run(await kustomize(), ['build', overlay]);
    assert.notEqual(missing.code, 0, 'no key file, no manifests');
    assert.match(missing.stderr, /polygon-api-key/);

    writeFileSync(join(overlay, 'polygon-api-key'), 'overlay-test-key');
    const built = await kustomizeBuild(overlay);
    const secret = one<Secret>('Secret', built);
    assert.match(secret.metadata.name, /^sentio-gateway-polygon-[a-z0-9]{10}$/);
    assert.equal(secret.metadata.namespace, 'sentio');
    assert.equal(Buffer.from(secret.data!['polygon-api-key']!, 'base64').toString(), 'overlay-test-key');
    const liveDeployment = one<Deployment>('Deployment', built);
    assert.equal(liveDeployment.spec.template.spec.volumes.find((v) => v.secret)!.secret!.secretName, secret.metadata.name);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ignored = await run('git', ['check-ignore', '-q', 'deploy/kubernetes/overlays/live/polygon-api-key']);
  assert.equal(ignored.code, 0, 'git ignores the key file');
});
