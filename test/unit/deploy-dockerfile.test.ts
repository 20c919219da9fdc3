import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dockerContextIncludes, execForm, parseDockerfile, readRepoFile, stageEnv, stageLabels, type Stage } from '../support/deploy.ts';

const stages = parseDockerfile(readRepoFile('Dockerfile'));
const dockerignore = readRepoFile('.dockerignore');
const pkg = JSON.parse(readRepoFile('package.json')) as { version: string };

function stage(name: string): Stage {
  const found = stages.find((s) => s.name === name);
  assert.ok(found, `the Dockerfile has a stage "${name}" (stages: ${stages.map((s) => s.name).join(', ')})`);
  return found;
}
const runtime = stages.at(-1)!;
const runs = (s: Stage): string[] => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.rest);
const copies = (s: Stage) => s.instructions.filter((i) => i.keyword === 'COPY');

test('the parser reads continuation lines, flags and stages (checked on a known text)', () => {
  const parsed = parseDockerfile(
    'ARG X=1\nFROM a:1 AS one\n# c\nRUN --mount=type=cache,target=/x \\\n    echo hi \\\n  # inner comment\n    there\nFROM b\nCOPY --from=one /a ./b\n',
  );
  assert.deepEqual(
    parsed.map((s) => [s.name, s.from]),
    [
      ['one', 'a:1'],
      ['1', 'b'],
    ],
  );
  assert.deepEqual(parsed[0]!.instructions[0]!.flags, { mount: 'type=cache,target=/x' });
  assert.equal(parsed[0]!.instructions[0]!.rest, 'echo hi there');
  assert.equal(parsed[1]!.instructions[0]!.flags['from'], 'one');
});

test('multi-stage: production dependencies, a TypeScript build, and a node:24-slim runtime', () => {
  assert.ok(stages.length >= 3, 'at least three stages');
  for (const s of stages) assert.equal(s.from, 'node:24-slim', `stage ${s.name} starts from node:24-slim (Node 24 LTS)`);
  assert.equal(runtime.name, 'runtime');
  const deps = stage('deps');
  assert.ok(
    runs(deps).some((r) => /^npm ci\b/.test(r) && r.includes('--omit=dev')),
    'deps runs npm ci --omit=dev',
  );
  const build = stage('build');
  assert.ok(
    runs(build).some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev')),
    'build installs the dev dependencies (tsc)',
  );
  assert.ok(runs(build).includes('npm run build'), 'build runs npm run build');
});

test('the runtime holds compiled JavaScript and production dependencies only', () => {
  const sources = copies(runtime).map((c) => ({ from: c.flags['from'] ?? 'context', args: c.rest.split(' ') }));
  assert.deepEqual(sources, [
    { from: 'context', args: ['package.json', './'] },
    { from: 'deps', args: ['/app/node_modules', './node_modules'] },
    { from: 'build', args: ['/app/dist', './dist'] },
  ]);
  assert.ok(!runs(runtime).some((r) => /\bnpm\b|\btsc\b|typescript/.test(r)), 'no npm or TypeScript at run time');
  assert.equal(runtime.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.rest, '/app');
  // package.json stays: "type": "module" makes dist/*.js ES modules, and the version comes from it.
  assert.equal((JSON.parse(readRepoFile('package.json')) as { type: string }).type, 'module');
});

test('non-root user, port 8080, node-only HEALTHCHECK on /healthz, exec-form entrypoint with tini', () => {
  const user = runtime.instructions.filter((i) => i.keyword === 'USER').at(-1)?.rest;
  assert.match(user ?? '', /^\d+(:\d+)?$/, 'USER is numeric, so Kubernetes runAsNonRoot can verify it');
  assert.notEqual(Number(user!.split(':')[0]), 0, 'USER is not root');
  assert.deepEqual(
    runtime.instructions.filter((i) => i.keyword === 'EXPOSE').map((i) => i.rest),
    ['8080'],
  );
  assert.equal(stageEnv(runtime)['HTTP_PORT'], '8080');

  const healthcheck = runtime.instructions.find((i) => i.keyword === 'HEALTHCHECK');
  const check = execForm(healthcheck, 'HEALTHCHECK');
  assert.equal(check[0], 'node', 'the healthcheck runs node itself (the image has no curl)');
  assert.match(check.join(' '), /\/healthz/);
  for (const flag of ['interval', 'timeout', 'start-period', 'retries']) assert.ok(healthcheck!.flags[flag], `HEALTHCHECK --${flag}`);

  const entrypoint = execForm(
    runtime.instructions.find((i) => i.keyword === 'ENTRYPOINT'),
    'ENTRYPOINT',
  );
  assert.deepEqual(entrypoint.slice(0, 3), ['/usr/bin/tini', '--', 'node'], 'tini as PID 1 execs node');
  assert.equal(entrypoint.at(-1), 'dist/main.js');
  assert.deepEqual(
    execForm(
      runtime.instructions.find((i) => i.keyword === 'CMD'),
      'CMD',
    ),
    ['run'],
  );
  assert.ok(
    runs(runtime).some((r) => /apt-get install .*\btini\b/.test(r)),
    'tini is installed in the runtime',
  );
});

test('OCI labels, with the version of package.json', () => {
  const labels = stageLabels(runtime);
  for (const key of ['title', 'description', 'version', 'revision', 'created', 'base.name']) {
    assert.ok(labels[`org.opencontainers.image.${key}`], `label org.opencontainers.image.${key}`);
  }
  assert.equal(labels['org.opencontainers.image.title'], 'sentio-gateway');
  assert.equal(labels['org.opencontainers.image.version'], pkg.version);
  assert.equal(labels['org.opencontainers.image.base.name'], 'docker.io/library/node:24-slim');
});

test('.dockerignore sends exactly what the stages copy from the context', () => {
  const fromContext = stages.flatMap((s) =>
    copies(s)
      .filter((c) => !c.flags['from'])
      .flatMap((c) => c.rest.split(' ').slice(0, -1)),
  );
  assert.ok(fromContext.includes('src'));
  for (const path of fromContext) assert.ok(dockerContextIncludes(dockerignore, path), `${path} is in the build context`);
  for (const path of ['src/main.ts', 'src/sim/index.ts']) assert.ok(dockerContextIncludes(dockerignore, path), `${path} is in the build context`);
  for (const path of [
    'node_modules',
    'node_modules/kafkajs/index.js',
    'dist/main.js',
    '.git/config',
    'test/unit/config.test.ts',
    '.env',
    '.tools/bin/kustomize',
    'deploy/kubernetes/overlays/live/polygon-api-key',
    'README.md',
    'src/.env',
  ]) {
    assert.ok(!dockerContextIncludes(dockerignore, path), `${path} stays out of the build context`);
  }
});

test('the .dockerignore matcher follows Docker: last match wins, parents match, ! re-includes', () => {
  const rules = '*\n!src\nsrc/secret.txt\n**/*.log\n';
  assert.equal(dockerContextIncludes(rules, 'src/a.ts'), true);
  assert.equal(dockerContextIncludes(rules, 'src/secret.txt'), false);
  assert.equal(dockerContextIncludes(rules, 'src/deep/x.log'), false);
  assert.equal(dockerContextIncludes(rules, 'other/a.ts'), false);
  assert.equal(dockerContextIncludes('', 'anything'), true);
});
