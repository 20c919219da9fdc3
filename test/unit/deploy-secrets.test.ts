import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findSecrets, readRepoFile, shippedDeployFiles } from '../support/deploy.ts';

test('the scanner catches keys, tokens and passwords (checked on planted ones)', () => {
  const planted = [
    'POLYGON_API_KEY: Zk3pQ9xLm2Vt8RwYc4Hn6Bj1Ds5Fa7Ge', // a Polygon-shaped key
    'POLYGON_API_KEY=plain-but-literal',
    '# POLYGON_API_KEY=commented-out-but-real',
    '  GF_SECURITY_ADMIN_PASSWORD: hunter2',
    '  GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_ADMIN_PASSWORD:-s3cret}',
    'db_password = "correct horse"',
    '-----BEGIN OPENSSH PRIVATE KEY-----',
    '  polygon-api-key: QWxhZGRpbjpPcGVuU2VzYW1lMTIzNDU2Nzg5MA==',
  ];
  for (const line of planted) assert.ok(findSecrets('planted', line).length > 0, `caught: ${line}`);
  const fine = [
    'POLYGON_API_KEY: ${POLYGON_API_KEY:?export your Polygon API key first}',
    '  GF_SECURITY_ADMIN_PASSWORD: ${GRAFANA_ADMIN_PASSWORD:-admin}',
    '  GF_SECURITY_ADMIN_PASSWORD: admin',
    '- name: POLYGON_API_KEY_FILE',
    '  value: /var/run/secrets/sentio/polygon-api-key',
    'expr: histogram_quantile(0.99, sum by (le) (rate(sentio_gateway_publish_latency_seconds_bucket[5m])))',
    '      CLUSTER_ID: UEr6eYEJRvW-B_2kWhUDBQ',
  ];
  for (const line of fine) assert.deepEqual(findSecrets('fine', line), [], `not a secret: ${line}`);
});

test("no shipped deploy file holds a key, a token, or a password other than Grafana's first-login admin", async () => {
  const files = await shippedDeployFiles();
  for (const expected of [
    'Dockerfile',
    '.dockerignore',
    'docker-compose.polygon.yml',
    'docker-compose.sim.yml',
    'deploy/prometheus/alerts.yml',
    'deploy/grafana/dashboards/sentio-gateway.json',
    'deploy/kubernetes/base/deployment.yaml',
    'scripts/install-deploy-tools.sh',
  ]) {
    assert.ok(files.includes(expected), `${expected} is scanned`);
  }
  const findings = files.flatMap((file) => findSecrets(file, readRepoFile(file)));
  assert.deepEqual(findings, []);
  // The only password anywhere is Grafana's documented first-login one.
  const passwords = files.flatMap((file) => [...readRepoFile(file).matchAll(/PASSWORD\s*[:=]\s*(\S+)/g)].map((m) => `${file}: ${m[1]}`));
  assert.deepEqual(
    passwords.map((p) => p.replace(/^[^:]+: /, '')),
    ['${GRAFANA_ADMIN_PASSWORD:-admin}', '${GRAFANA_ADMIN_PASSWORD:-admin}'],
    passwords.join('\n'),
  );
});
