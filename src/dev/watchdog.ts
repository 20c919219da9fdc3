/**
 * Runs a long-lived child (the broker's JVM) so that it can never outlive this Node process.
 *
 * The child is started by a small `/bin/sh` wrapper in its own session (so terminal signals
 * such as Ctrl-C reach only Node, which decides when the broker stops). The wrapper
 *  - starts the command in the background and reports its pid on fd 3;
 *  - starts a watcher that blocks reading the wrapper's stdin, a pipe whose only writer is
 *    this Node process: when Node dies in any way (even SIGKILL) the pipe reaches EOF and the
 *    watcher sends SIGTERM to the command, then SIGKILL after 15 s;
 *  - waits for the command and exits with its status, so the wrapper's exit is the command's.
 * Belt and braces: a process 'exit' hook SIGKILLs the whole process group synchronously.
 */

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';

import { LineTail } from './kafka-artifacts.ts';

const WRAPPER = `
exec 4<&0 0</dev/null
"$@" 3>&- 4<&- &
j=$!
echo "$j" >&3
exec 3>&-
(
  cat <&4 >/dev/null 2>&1 &
  c=$!
  exec 4<&-
  trap 'kill "$c" 2>/dev/null; wait "$c"; exit 0' TERM
  wait "$c"
  kill -TERM "$j" 2>/dev/null || exit 0
  i=0
  while [ "$i" -lt 15 ] && kill -0 "$j" 2>/dev/null; do sleep 1; i=$((i + 1)); done
  kill -KILL "$j" 2>/dev/null
) >/dev/null 2>&1 &
w=$!
exec 4<&-
wait "$j"
s=$?
kill "$w" 2>/dev/null
wait "$w"
exit "$s"
`;

export interface ExitStatus {
  /** Exit code of the command (128 + n when it died of signal n, as a shell reports it). */
  code: number | null;
  /** Set only when the wrapper itself was killed by a signal. */
  signal: NodeJS.Signals | null;
}

export interface WatchedProcessOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Each line the command writes to stdout or stderr. */
  onLine?: (line: string) => void;
  /** How many output lines to keep for error messages; default 80. */
  tailLines?: number;
}

/** Processes started here that are still running; killed by the 'exit' hook. */
const live = new Set<WatchedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.killNow();
  });
}

/** A command running under the watchdog wrapper. */
export class WatchedProcess {
  readonly #child: ChildProcess;
  readonly #tail: LineTail;
  readonly #exited: Promise<ExitStatus>;
  readonly #pidReady: Promise<number>;
  #pid: number | undefined;
  #status: ExitStatus | undefined;

  constructor(command: string, args: readonly string[], opts: WatchedProcessOptions = {}) {
    if (process.platform === 'win32') throw new Error('the embedded Kafka watchdog needs a POSIX /bin/sh');
    this.#tail = new LineTail(opts.tailLines ?? 80);
    const child = spawn('/bin/sh', ['-c', WRAPPER, 'sentio-watchdog', command, ...args], {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true, // own session and process group: no terminal signals, one group to kill
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    this.#child = child;
    live.add(this);
    installExitHook();

    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8').on('data', (chunk: string) => {
        for (const line of this.#tail.push(chunk)) opts.onLine?.(line);
      });
    }
    // Never written to: its only job is to be open while this process lives.
    child.stdin?.on('error', () => {});

    this.#pidReady = new Promise<number>((resolve, reject) => {
      const fd3 = child.stdio[3] as Readable | null | undefined;
      let text = '';
      const fail = (why: string): void => reject(new Error(`watchdog did not report the pid of ${command}: ${why}`));
      if (!fd3) {
        fail('no fd 3');
        return;
      }
      fd3.setEncoding('utf8');
      fd3.on('data', (chunk: string) => {
        text += chunk;
        const m = /^(\d+)\n/.exec(text);
        if (m) {
          this.#pid = Number(m[1]);
          resolve(this.#pid);
        }
      });
      fd3.on('error', (err) => fail(err.message));
      fd3.on('close', () => fail('wrapper closed fd 3'));
    });
    this.#pidReady.catch(() => {});

    this.#exited = new Promise<ExitStatus>((resolve) => {
      let settled = false;
      const settle = (status: ExitStatus): void => {
        if (settled) return;
        settled = true;
        this.#status = status;
        live.delete(this);
        child.stdin?.destroy();
        resolve(status);
      };
      child.on('error', (err) => {
        this.#tail.push(`failed to start the watchdog wrapper: ${err.message}\n`);
        settle({ code: null, signal: null });
      });
      child.on('exit', (code, signal) => {
        // Normally the command is gone too. If the wrapper was killed on its own, finish the group.
        if (this.#pid !== undefined && isProcessAlive(this.#pid)) this.#killGroup('SIGKILL');
        child.stdin?.destroy();
        // Let the output drain ('close'), but do not wait on it for long.
        const timer = setTimeout(() => settle({ code, signal }), 1_000);
        timer.unref();
        child.once('close', () => {
          clearTimeout(timer);
          settle({ code, signal });
        });
      });
    });
  }

  /** Pid of the command (not of the wrapper); resolves once the wrapper reports it. */
  pid(): Promise<number> {
    return this.#pidReady;
  }

  /** Pid of the command if known and the command has not exited. */
  get commandPid(): number | undefined {
    return this.#status ? undefined : this.#pid;
  }

  /** Pid of the wrapper (also the process group id) while it runs. */
  get wrapperPid(): number | undefined {
    return this.#status ? undefined : this.#child.pid;
  }

  get hasExited(): boolean {
    return this.#status !== undefined;
  }

  /** Resolves when the command (and its wrapper) have exited. */
  get exited(): Promise<ExitStatus> {
    return this.#exited;
  }

  /** The last lines of the command's output. */
  outputTail(): string[] {
    return this.#tail.lines();
  }

  /** Sends a signal to the command only (for a graceful stop). */
  signal(sig: NodeJS.Signals): void {
    if (this.#status) return;
    if (this.#pid === undefined) {
      this.#killGroup(sig);
      return;
    }
    try {
      process.kill(this.#pid, sig);
    } catch {
      // already gone
    }
  }

  /** Waits for exit; false if still running after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<boolean> {
    if (this.#status) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([this.#exited.then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILLs the whole process group (wrapper, command, watcher) synchronously. */
  killNow(): void {
    if (this.#status) return;
    this.#killGroup('SIGKILL');
    if (this.#pid !== undefined) {
      try {
        process.kill(this.#pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }

  #killGroup(sig: NodeJS.Signals): void {
    const pgid = this.#child.pid;
    if (pgid === undefined) return;
    try {
      process.kill(-pgid, sig);
    } catch {
      // group already gone
    }
  }
}

/**
 * Whether a process exists and is not a zombie. (Containers whose init does not reap orphans
 * keep zombies around; `kill(pid, 0)` alone would call them alive.)
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPERM') return true;
    return false;
  }
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state !== 'Z' && state !== 'X';
    } catch {
      return false;
    }
  }
  return true;
}
