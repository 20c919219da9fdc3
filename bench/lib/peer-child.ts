/**
 * The benchmark's peer as its own process: `bench/peer/peer.py`, a minimal librdkafka
 * producer (Python confluent-kafka), in a virtual environment the benchmark makes for it
 * (`bench/peer/.venv`, from the pinned `bench/peer/requirements.txt`, rebuilt when that file
 * changes). Configured through its environment; stopped with SIGTERM, after which it
 * flushes and reports what librdkafka delivered.
 */

import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { followJsonLines } from '../../harness/json-lines.ts';
import { readProcStat, type ProcSample } from './proc.ts';

const PEER_DIR = fileURLToPath(new URL('../peer/', import.meta.url));
const VENV = `${PEER_DIR}.venv`;
const REQUIREMENTS = `${PEER_DIR}requirements.txt`;
const PYTHON = `${VENV}/bin/python`;
/** Hash of the requirements the environment was built from. */
const STAMP = `${VENV}/.requirements-sha256`;

/** Makes (or reuses) the peer's virtual environment; returns the versions it runs. */
export async function preparePeer(say: (line: string) => void): Promise<{ confluentKafka: string; librdkafka: string; python: string }> {
  const run = promisify(execFile);
  const wanted = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  if (!existsSync(STAMP) || readFileSync(STAMP, 'utf8').trim() !== wanted) {
    say('peer: building its virtual environment (python3 -m venv bench/peer/.venv; pip install -r bench/peer/requirements.txt)');
    await run('python3', ['-m', 'venv', '--clear', VENV]);
    await run(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS]);
    writeFileSync(STAMP, `${wanted}\n`);
  }
  const { stdout } = await run(
    PYTHON,
    [
      '-c',
      'import sys, confluent_kafka as c; print(c.version() if isinstance(c.version(), str) else c.version()[0], c.libversion()[0], sys.version.split()[0])',
    ],
    { encoding: 'utf8' },
  );
  const versions = stdout.trim().split(' ');
  return { confluentKafka: versions[0] ?? '?', librdkafka: versions[1] ?? '?', python: versions[2] ?? '?' };
}

export interface PeerSettings {
  wsUrl: string;
  apiKey: string;
  symbols: readonly string[];
  brokers: string[];
  topic: string;
}

export interface PeerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  delivered: number | null;
  failed: number | null;
}

export interface PeerChild {
  readonly pid: number;
  /** CPU seconds and RSS from /proc (null once the process is gone). */
  proc(): ProcSample | null;
  /** SIGTERM; the peer flushes, reports and exits (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<PeerExit>;
}

/** Starts the peer; resolves once it is subscribed to every symbol. */
export async function startPeer(settings: PeerSettings, startTimeoutMs = 30_000): Promise<PeerChild> {
  const child = spawn(PYTHON, [`${PEER_DIR}peer.py`], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      PEER_WS_URL: settings.wsUrl,
      PEER_API_KEY: settings.apiKey,
      PEER_SYMBOLS: settings.symbols.join(','),
      PEER_BOOTSTRAP: settings.brokers.join(','),
      PEER_TOPIC: settings.topic,
      PYTHONUNBUFFERED: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (text: string) => stderr.push(text));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  let exitedYet = false;
  void exited.then(() => (exitedYet = true));
  let onSubscribed: (() => void) | null = null;
  const lines = followJsonLines(child.stdout, (line) => {
    if (typeof line['subscribed'] === 'number') onSubscribed?.();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`peer not subscribed within ${startTimeoutMs} ms; stderr: ${stderr.join('').slice(-500)}`)),
      startTimeoutMs,
    );
    onSubscribed = () => {
      clearTimeout(timer);
      resolve();
    };
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`peer exited during start-up (code ${code}); stdout: ${JSON.stringify(lines.slice(-3))}; stderr: ${stderr.join('').slice(-500)}`));
    });
  });
  const pid = child.pid!;
  return {
    pid,
    proc: () => (exitedYet ? null : readProcStat(pid)),
    async stop(timeoutMs = 20_000) {
      if (!exitedYet) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      const report = lines.findLast((l) => typeof l['delivered'] === 'number');
      return {
        ...result,
        delivered: typeof report?.['delivered'] === 'number' ? report['delivered'] : null,
        failed: typeof report?.['failed'] === 'number' ? report['failed'] : null,
      };
    },
  };
}
