/**
 * Helpers for the deploy tests (test/*\/deploy-*.test.ts): the repository's deploy files, the
 * tools that check them (installed by scripts/install-deploy-tools.sh), a Dockerfile reader,
 * .dockerignore matching, metric names in PromQL, and a real Prometheus server.
 */

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { eventually } from '../../harness/poll.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
export const repoPath = (...parts: string[]): string => join(REPO, ...parts);
export const readRepoFile = (path: string): string => readFileSync(repoPath(path), 'utf8');
/** A YAML file of the repository; `<<` merge keys are resolved (Compose files use them). */
export const readRepoYaml = <T = unknown>(path: string): T => parseYaml(readRepoFile(path), { merge: true }) as T;

const INSTALL_HINT = 'run scripts/install-deploy-tools.sh (.ci/run does)';

// --- processes -----------------------------------------------------------------------------

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws for a non-zero exit (the caller asserts). */
export function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { cwd: options.cwd ?? REPO, env: options.env ?? process.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof (error as NodeJS.ErrnoException).code === 'string') {
          reject(new Error(`cannot run ${file}: ${error.message}`));
          return;
        }
        const code = error ? ((error as { code?: number | null }).code ?? null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Fails unless the command exited 0, showing its output. */
export function assertRan(result: RunResult, what: string): string {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * A tool the deploy tests need. `.tools/bin` first (scripts/install-deploy-tools.sh puts the
 * pinned versions there), then PATH. Missing is a failure with the fix, never a skip.
 */
export function tool(name: 'kustomize' | 'compose-config' | 'promtool' | 'prometheus'): string {
  const pinned = repoPath('.tools', 'bin', name);
  if (existsSync(pinned)) return pinned;
  const found = onPath(name);
  if (found) return found;
  throw new Error(`${name} is not installed: ${INSTALL_HINT}`);
}

/** kustomize, version 5 (the pinned one, or a v5 on PATH). */
export async function kustomize(): Promise<string> {
  const path = tool('kustomize');
  const version = assertRan(await run(path, ['version']), 'kustomize version').trim();
  if (!/^v?5\./.test(version)) throw new Error(`kustomize ${version} at ${path}; the deploy tests need v5: ${INSTALL_HINT}`);
  return path;
}

/** Kubernetes objects of `kustomize build <dir>`. */
export async function kustomizeBuild(dir: string): Promise<K8sObject[]> {
  const out = assertRan(await run(await kustomize(), ['build', dir]), `kustomize build ${dir}`);
  return parseAllDocuments(out)
    .map((d) => d.toJS() as K8sObject)
    .filter((o) => o !== null);
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** A free loopback TCP port (closed again before return). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

// --- Dockerfile ----------------------------------------------------------------------------

export interface Instruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
  /** Leading `--flag=value` options (COPY --from, RUN --mount, HEALTHCHECK --interval, ...). */
  flags: Record<string, string>;
  /** The arguments after the flags. */
  rest: string;
}

export interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Stages of a Dockerfile in order; global ARGs before the first FROM are ignored. */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (current === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    if (current !== '' && line.trimStart().startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += line.slice(0, -1) + ' ';
      continue;
    }
    logical.push((current + line).trim());
    current = '';
  }
  if (current.trim() !== '') logical.push(current.trim());

  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/s.exec(line)!;
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.replace(/\s+/g, ' ').trim();
    const flags: Record<string, string> = {};
    let rest = args;
    for (;;) {
      const flag = /^--([a-z-]+)(?:=(\S+))?\s*/.exec(rest);
      if (!flag) break;
      flags[flag[1]!] = flag[2] ?? 'true';
      rest = rest.slice(flag[0].length);
    }
    const instruction: Instruction = { keyword, args, flags, rest };
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new Error(`cannot read FROM ${rest}`);
      stages.push({ name: from[2] ?? String(stages.length), from: from[1]!, instructions: [] });
      continue;
    }
    if (stages.length === 0) continue;
    stages.at(-1)!.instructions.push(instruction);
  }
  return stages;
}

/** An exec-form (JSON array) argument list; fails on shell form. */
export function execForm(instruction: Instruction | undefined, what: string): string[] {
  if (!instruction) throw new Error(`the Dockerfile has no ${what}`);
  const text = instruction.keyword === 'HEALTHCHECK' ? instruction.rest.replace(/^CMD\s+/, '') : instruction.rest;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${what} is not in exec form (a JSON array): ${text}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`${what} is not a JSON array of strings`);
  return parsed;
}

/** ENV of a stage as a map (`ENV A=1 B=2` and the legacy `ENV A 1` form). */
export function stageEnv(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.keyword === 'ENV')) {
    if (!i.rest.includes('=')) {
      const [name, ...value] = i.rest.split(' ');
      env[name!] = value.join(' ');
      continue;
    }
    for (const m of i.rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S+)/g)) env[m[1]!] = m[3] ?? m[2]!;
  }
  return env;
}

/** LABELs of a stage, `${ARG}` references resolved against the stage's ARG defaults. */
export function stageLabels(stage: Stage): Record<string, string> {
  const args: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.keyword === 'ARG')) {
    const [name, value] = i.rest.split('=');
    args[name!] = value ?? '';
  }
  const labels: Record<string, string> = {};
  for (const i of stage.instructions.filter((x) => x.keyword === 'LABEL')) {
    for (const m of i.rest.matchAll(/([a-z0-9.-]+)=("([^"]*)"|\S+)/g)) {
      labels[m[1]!] = (m[3] ?? m[2]!).replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => args[(a ?? b)!] ?? '');
    }
  }
  return labels;
}

// --- .dockerignore -------------------------------------------------------------------------

/** Whether the build context sends `path` (repository-relative) to the builder. */
export function dockerContextIncludes(dockerignore: string, path: string): boolean {
  const rules = dockerignore
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => ({ exclude: !l.startsWith('!'), pattern: l.replace(/^!/, '').replace(/^\/+|\/+$/g, '') }));
  const segments = path.replace(/^\.\/|\/$/g, '').split('/');
  let included = true;
  for (const rule of rules) {
    const re = globToRegExp(rule.pattern);
    // A pattern matches the path or any directory above it (Docker's rule).
    for (let n = 1; n <= segments.length; n += 1) {
      if (re.test(segments.slice(0, n).join('/'))) {
        included = !rule.exclude;
        break;
      }
    }
  }
  return included;
}

function globToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      out += '.*';
      i += 1;
      if (pattern[i + 1] === '/') i += 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

// --- metrics and PromQL ----------------------------------------------------------------------

/** Every `sentio_gateway_*` name a PromQL expression mentions. */
export function gatewayMetricNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\bsentio_gateway_[a-zA-Z0-9_]+/g)].map((m) => m[0]))];
}

/** Metric families of a /metrics text: name -> type, from its `# TYPE` lines. */
export function metricFamilies(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/**
 * The family a series name belongs to: itself, or for a histogram's `_bucket`, `_sum` and
 * `_count` series (a summary's `_sum` and `_count`) the base name. Undefined when unknown.
 */
export function familyOf(name: string, families: Map<string, string>): string | undefined {
  if (families.has(name)) return name;
  const suffix = /_(bucket|sum|count)$/.exec(name);
  if (!suffix) return undefined;
  const base = name.slice(0, -suffix[0].length);
  const type = families.get(base);
  if (type === 'histogram') return base;
  if (type === 'summary' && suffix[1] !== 'bucket') return base;
  return undefined;
}

export interface RuleFile {
  groups: {
    name: string;
    interval?: string;
    rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
  }[];
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query?: unknown; definition?: string; datasource?: unknown }[] };
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { expr: string; legendFormat?: string; refId: string; datasource?: { type: string; uid: string } }[];
  panels?: Panel[];
}

/** Every panel of a dashboard, rows' nested panels included. */
export function allPanels(dashboard: Dashboard): Panel[] {
  return dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** A dashboard query with Grafana's variables replaced, so Prometheus can run it. */
export function expandGrafanaVariables(expr: string, values: { job: string; instance: string; rateInterval: string }): string {
  return expr.replaceAll('$__rate_interval', values.rateInterval).replaceAll('$job', values.job).replaceAll('$instance', values.instance);
}

// --- a real Prometheus -------------------------------------------------------------------------

export interface PrometheusServer {
  url: string;
  dir: string;
  process: ChildProcess;
  output: string[];
  /** An instant query; resolves with the result vector (throws on a query error). */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  get<T>(path: string): Promise<T>;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts Debian's `prometheus` with `config` (YAML text) on a free loopback port, in a temp dir. */
export async function startPrometheus(config: string): Promise<PrometheusServer> {
  const binary = tool('prometheus');
  const dir = mkdtempSync(join(tmpdir(), 'sg-prometheus-'));
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    binary,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`);
    return body.data;
  };
  const server: PrometheusServer = {
    url,
    dir,
    process: child,
    output,
    get,
    async query(expr) {
      const data = await get<{ resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      return data.result;
    },
    async stop() {
      if (exitCode === undefined) child.kill('SIGTERM');
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
  try {
    await eventually(
      'Prometheus /-/ready',
      async () => {
        if (exitCode !== undefined) throw new Error(`prometheus exited ${exitCode}: ${output.join('')}`);
        const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
        return response.status === 200 ? true : undefined;
      },
      20_000,
    );
  } catch (error) {
    if (exitCode === undefined) child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${output.join('')}`, { cause: error });
  }
  return server;
}

// --- secrets -----------------------------------------------------------------------------------

/**
 * Every file the deploy work ships (Dockerfile, Compose files, deploy/, the install script),
 * as git would add them: ignored files (a local key for the live overlay) are not shipped.
 */
export async function shippedDeployFiles(): Promise<string[]> {
  const listed = assertRan(
    await run('git', [
      'ls-files',
      '--cached',
      '--others',
      '--exclude-standard',
      '--',
      'Dockerfile',
      '.dockerignore',
      'docker-compose.polygon.yml',
      'docker-compose.sim.yml',
      'deploy',
      'scripts/install-deploy-tools.sh',
    ]),
    'git ls-files',
  );
  return listed.split('\n').filter((f) => f !== '' && existsSync(repoPath(f)));
}

export interface SecretFinding {
  file: string;
  line: number;
  why: string;
  text: string;
}

/** Values that look random but are not credentials, with the reason. */
const NOT_SECRETS: { pattern: RegExp; why: string }[] = [
  { pattern: /^\s*CLUSTER_ID: [A-Za-z0-9_-]{22}$/, why: 'the KRaft cluster id of the Compose broker (a base64 UUID, not a credential)' },
  { pattern: /^(KUSTOMIZE_SUM=|GO_FALLBACK_SHA256=)/, why: 'pinned checksums in the install script' },
  { pattern: /\bh1:[A-Za-z0-9+/]{43}=/, why: 'Go module checksums' },
];

/**
 * Lines that hold a credential: an API key or token assigned a literal, a password other than
 * Grafana's documented first-login `admin`, private keys, or a long random-looking token.
 */
export function findSecrets(file: string, text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    const add = (why: string): void => {
      findings.push({ file, line: index + 1, why, text: line.trim().slice(0, 120) });
    };
    if (NOT_SECRETS.some((n) => n.pattern.test(line))) return;
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(line)) add('a private key');
    const assignment = /([A-Za-z0-9_.-]*(?:API_KEY|APIKEY|TOKEN|SECRET_KEY|PASSWORD|PASSWD)[A-Za-z0-9_]*)["']?\s*[:=]\s*(.*)$/i.exec(line);
    if (assignment && !/_FILE$/i.test(assignment[1]!)) {
      const name = assignment[1]!;
      const value = assignment[2]!
        .replace(/\s+#.*$/, '')
        .trim()
        .replace(/^["']|["']$/g, '');
      const grafanaAdmin = /^GF_SECURITY_ADMIN_PASSWORD$/i.test(name);
      const interpolation = /^\$\{[A-Za-z0-9_]+(?::?-([^}]*)|:?\?[^}]*)?\}$/.exec(value);
      const prose = /^\s*(#|\/\/)/.test(line) && /\s/.test(value);
      if (prose || value === '' || /^(\.\.\.|<[^>]*>|true|false|null|\d+)$/i.test(value) || /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
        // a sentence in a comment, a placeholder, a flag or a shell variable
      } else if (value.startsWith('${')) {
        const fallback = interpolation?.[1];
        if (!interpolation) add(`${name} has an unreadable interpolation`);
        else if (fallback !== undefined && fallback !== '' && !(grafanaAdmin && fallback === 'admin')) add(`${name} defaults to a literal`);
      } else if (!(grafanaAdmin && value === 'admin')) {
        add(`${name} is assigned a literal`);
      }
    }
    // Polygon keys are 32 letters and digits; any long mixed-case alphanumeric run looks like one.
    for (const token of line.match(/[A-Za-z0-9_]{20,}/g) ?? []) {
      if (/[A-Z]/.test(token) && /[a-z]/.test(token) && /[0-9]/.test(token)) add('a random-looking token');
    }
  });
  return findings;
}
