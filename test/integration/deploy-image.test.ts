/**
 * The image without Docker: the runtime stage's file layout is rebuilt in a temp dir (package.json
 * from the context, node_modules from the deps stage's own RUN, dist/ from `npm run build`), and
 * the ENTRYPOINT + CMD run there with the image's ENV and Compose's environment, under tini as
 * PID 1 of a fresh PID namespace, as in a container. The broker carries the Compose broker's
 * settings. What this cannot show: the non-root user and the read-only root filesystem.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { createInterface } from 'node:readline';
import { sentioTopicSpecs } from '../../src/kafka/topic-specs.ts';
import { kafkaClient, useKafka } from '../support/kafka.ts';
import { assertRan, execForm, freePort, parseDockerfile, readRepoFile, readRepoYaml, repoPath, run, stageEnv, tool, type Stage } from '../support/deploy.ts';
import { eventually } from '../../harness/poll.ts';

const stages = parseDockerfile(readRepoFile('Dockerfile'));
const runtime = stages.at(-1)!;
const entrypoint = execForm(
  runtime.instructions.find((i) => i.keyword === 'ENTRYPOINT'),
  'ENTRYPOINT',
);
const cmd = execForm(
  runtime.instructions.find((i) => i.keyword === 'CMD'),
  'CMD',
);
const healthcheck = execForm(
  runtime.instructions.find((i) => i.keyword === 'HEALTHCHECK'),
  'HEALTHCHECK',
);
const workdir = (stage: Stage): string => stage.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.rest ?? '/';

/** Compose's broker settings as the apache/kafka image turns them into server.properties. */
function composeBrokerProperties(): Record<string, string> {
  const env = readRepoYaml<{ services: { kafka: { environment: Record<string, string | number> } } }>('docker-compose.sim.yml').services.kafka.environment;
  // Listeners, identity and storage belong to the container; the embedded broker sets its own.
  const containerOnly = new Set([
    'node.id',
    'process.roles',
    'listeners',
    'advertised.listeners',
    'listener.security.protocol.map',
    'controller.listener.names',
    'controller.quorum.voters',
    'inter.broker.listener.name',
    'log.dirs',
  ]);
  const properties: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('KAFKA_')) continue;
    const property = name.slice('KAFKA_'.length).toLowerCase().replaceAll('___', '-').replaceAll('__', '\u0000').replaceAll('_', '.').replaceAll('\u0000', '_');
    if (!containerOnly.has(property)) properties[property] = String(value);
  }
  return properties;
}

/** PID 1 of a new PID namespace, like a container's init (root, or an unprivileged user namespace). */
const PID_NAMESPACE = ['unshare', '--pid', '--fork', '--kill-child', ...(process.getuid?.() === 0 ? [] : ['--user', '--map-root-user'])];

interface Container {
  /** The `unshare` process; its exit status is the container's. */
  process: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  /** Host pid of the container's PID 1 (what `docker stop` signals). */
  init(): Promise<number>;
}

function startContainer(argv: string[], cwd: string, env: Record<string, string>): Container {
  const child = spawn(PID_NAMESPACE[0]!, [...PID_NAMESPACE.slice(1), ...argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(`stderr: ${l}`));
  const exited = once(child, 'exit').then(([code, signal]) => (code as number | null) ?? (signal ? -1 : null));
  return {
    process: child,
    lines,
    exited,
    init: () =>
      eventually(
        "the namespace's PID 1, running the entrypoint",
        () => {
          const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
          if (children === '') return undefined;
          const pid = Number(children.split(' ')[0]);
          // unshare forks, then execs: until the exec the child still shows unshare's command line.
          const program = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
          return program === argv[0] ? pid : undefined;
        },
        5_000,
        20,
      ),
  };
}

/** Whether dist/ is missing or older than a source file (npm ci's prepare builds it; edits since do not). */
function distIsStale(): boolean {
  if (!existsSync(repoPath('dist/main.js'))) return true;
  const built = statSync(repoPath('dist/main.js')).mtimeMs;
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  return newest(repoPath('src')) > built;
}

/** Line `field` of /proc/<pid>/status, e.g. NSpid. */
const procStatus = (pid: number, field: string): string => new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';

describe("the image's entrypoint, outside Docker", () => {
  let app = '';
  let base: Record<string, string> = {};
  let composeEnv: { topics: Record<string, string>; gateway: Record<string, string>; topicsCommand: string[] } | undefined;
  const containers: Container[] = [];
  after(() => {
    for (const c of containers) if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    if (app) rmSync(join(app, '..'), { recursive: true, force: true });
  });
  const kafka = useKafka({ serverProperties: composeBrokerProperties() });

  before(async () => {
    assert.equal(workdir(runtime), '/app', 'WORKDIR /app is mapped to a temp dir');
    const root = mkdtempSync(join(tmpdir(), 'sg-image-'));
    app = join(root, 'app');
    mkdirSync(app);

    // deps stage: its COPYs from the context, then its RUN (the --mount flags are BuildKit's cache).
    const deps = stages.find((s) => s.name === 'deps')!;
    const depsDir = join(root, 'deps');
    mkdirSync(depsDir);
    for (const i of deps.instructions) {
      if (i.keyword === 'COPY') for (const src of i.rest.split(' ').slice(0, -1)) cpSync(repoPath(src), join(depsDir, src));
      if (i.keyword === 'RUN')
        assertRan(
          await run('sh', ['-c', i.rest], { cwd: depsDir, env: { ...process.env, npm_config_prefer_offline: 'true' }, timeoutMs: 120_000 }),
          `deps: RUN ${i.rest}`,
        );
    }
    // build stage: `npm run build` output, i.e. the repository's dist/ (npm ci's prepare builds it).
    if (distIsStale()) assertRan(await run('npm', ['run', 'build'], { timeoutMs: 120_000 }), 'npm run build');
    const stageDirs: Record<string, string> = { deps: depsDir, build: repoPath() };

    for (const i of runtime.instructions.filter((x) => x.keyword === 'COPY')) {
      const parts = i.rest.split(' ');
      const dest = join(app, parts.at(-1)!);
      for (const src of parts.slice(0, -1)) {
        const from = i.flags['from'];
        if (!from) {
          cpSync(repoPath(src), join(dest, src));
          continue;
        }
        const stageDir = stageDirs[from];
        assert.ok(stageDir, `COPY --from=${from} is emulated`);
        const source = join(stageDir, posix.relative(workdir(stages.find((s) => s.name === from)!), src));
        if (from === 'deps') renameSync(source, dest);
        else cpSync(source, dest, { recursive: true });
      }
    }
    // The container's environment: the image's ENV over a bare PATH/HOME, nothing of this shell.
    base = { PATH: process.env['PATH'] ?? '', HOME: root, ...stageEnv(runtime) };

    const project = JSON.parse(
      assertRan(await run(tool('compose-config'), ['-f', repoPath('docker-compose.sim.yml')], { env: { PATH: process.env['PATH'] ?? '' } }), 'compose-config'),
    ) as { services: Record<string, { environment: Record<string, string>; command: string[] }> };
    composeEnv = {
      topics: project.services['topics']!.environment,
      gateway: project.services['gateway']!.environment,
      topicsCommand: project.services['topics']!.command,
    };
  });

  test('the staged image holds production dependencies only', () => {
    assert.ok(existsSync(join(app, 'dist/main.js')));
    assert.ok(existsSync(join(app, 'node_modules/kafkajs')));
    for (const dev of ['typescript', 'yaml', '@types/node']) assert.ok(!existsSync(join(app, 'node_modules', dev)), `no ${dev}`);
    assert.ok(!existsSync(join(app, 'src')), 'no TypeScript sources');
  });

  test('the Compose topics job (`sentio-gateway topics`) creates every sentio topic and exits 0', async () => {
    assert.ok(composeEnv);
    assert.deepEqual(composeEnv.topicsCommand, ['topics']);
    const env: Record<string, string> = { ...base, ...composeEnv.topics, KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers };
    const container = startContainer([...entrypoint, ...composeEnv.topicsCommand], app, env);
    containers.push(container);
    assert.equal(await container.exited, 0, container.lines.join('\n'));
    const admin = kafkaClient(kafka.bootstrapServers).admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const expected = sentioTopicSpecs({ prefix: env['TOPIC_PREFIX']!, tradesRetentionDays: Number(env['TRADES_RETENTION_DAYS']) }).map((s) => s.topic);
      assert.ok(
        expected.every((t) => t.startsWith('sentio.')),
        "Compose's TOPIC_PREFIX default",
      );
      assert.ok(expected.length >= 5);
      for (const topic of expected) assert.ok(existing.has(topic), `${topic} exists`);
    } finally {
      await admin.disconnect();
    }
  });

  test('ENTRYPOINT + CMD start the gateway under tini as PID 1: healthy, ready, and exit 0 on SIGTERM', async () => {
    assert.ok(composeEnv);
    const port = await freePort();
    const env: Record<string, string> = { ...base, ...composeEnv.gateway, KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers, HTTP_PORT: String(port) };
    assert.equal(env['POLYGON_API_KEY'], undefined, 'the simulated variant: no key');
    const container = startContainer([...entrypoint, ...cmd], app, env);
    containers.push(container);
    const init = await container.init();
    assert.match(procStatus(init, 'NSpid'), /\s1$/, 'PID 1 in its namespace');
    assert.match(readFileSync(`/proc/${init}/cmdline`, 'utf8').split('\0')[0]!, /tini$/);

    const url = `http://127.0.0.1:${port}`;
    await eventually('/healthz 200', async () => ((await fetch(`${url}/healthz`)).status === 200 ? true : undefined), 60_000, 100);
    const check = await run(healthcheck[0]!, healthcheck.slice(1), { cwd: app, env });
    assert.equal(check.code, 0, `HEALTHCHECK passes: ${check.stderr}`);
    await eventually(
      '/readyz 200 (subscribed to the simulator, Kafka writable)',
      async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined),
      30_000,
      100,
    );
    await eventually(
      'bars in Kafka',
      async () => (/^sentio_gateway_bars_published_total\{[^}]*\} [1-9]/m.test(await (await fetch(`${url}/metrics`)).text()) ? true : undefined),
      30_000,
      100,
    );

    process.kill(init, 'SIGTERM'); // what `docker stop` does
    assert.equal(await container.exited, 0, container.lines.slice(-10).join('\n'));
    const logs = container.lines.map((l) => {
      try {
        return JSON.parse(l) as { msg?: string };
      } catch {
        return { msg: l };
      }
    });
    assert.ok(
      logs.some((l) => l.msg === 'signal received'),
      'node got the signal through tini',
    );
    assert.equal(logs.at(-1)?.msg, 'gateway stopped');
    const after = await run(healthcheck[0]!, healthcheck.slice(1), { cwd: app, env });
    assert.equal(after.code, 1, 'the HEALTHCHECK fails once nothing answers');
  });

  test('SIGTERM during start-up, before the gateway handles signals, still stops the container at once', async () => {
    // Kafka and the vendor's REST both accept connections and never answer: start-up hangs in
    // whichever it reaches first, before the gateway has installed its signal handlers.
    const connections: Socket[] = [];
    const stall = createServer((socket) => connections.push(socket));
    stall.listen(0, '127.0.0.1');
    await once(stall, 'listening');
    const address = stall.address();
    const stallAt = `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      const env = {
        ...base,
        ...composeEnv!.gateway,
        POLYGON_API_KEY: 'startup-test-key',
        ENV: 'LIVE',
        POLYGON_REST_URL: `http://${stallAt}`,
        POLYGON_WS_URL: `ws://${stallAt}/stocks`,
        KAFKA_BOOTSTRAP_SERVERS: stallAt,
        HTTP_PORT: String(await freePort()),
      };
      const container = startContainer([...entrypoint, ...cmd], app, env);
      containers.push(container);
      const init = await container.init();
      await eventually('the gateway inside its start-up', () => (connections.length > 0 ? true : undefined), 20_000, 20);
      const signalledAt = Date.now();
      process.kill(init, 'SIGTERM');
      const code = await container.exited;
      const tookMs = Date.now() - signalledAt;
      // Node as PID 1 would ignore this SIGTERM (no handler yet, and PID 1 has no default action).
      assert.equal(code, 128 + 15, `tini reports node ended by SIGTERM: ${container.lines.slice(-5).join('\n')}`);
      assert.ok(tookMs < 2_000, `stopped ${tookMs} ms after SIGTERM`);
      assert.ok(!container.lines.some((l) => l.includes('gateway started')));
    } finally {
      for (const socket of connections) socket.destroy();
      stall.close();
    }
  });
});
