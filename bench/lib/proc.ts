/** Process and machine figures from Linux's /proc. */

import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second (USER_HZ); 100 on every Linux the project runs on. */
const TICKS_PER_SECOND = 100;

export interface ProcSample {
  /** performance.now() when read. */
  at: number;
  /** User + system CPU seconds since the process started. */
  cpuSec: number;
  /** Resident set size now, MiB. */
  rssMb: number;
  /** Peak resident set size since start (VmHWM), MiB. */
  peakRssMb: number;
}

export function readProcStat(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces: split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { at: performance.now(), cpuSec: (utime + stime) / TICKS_PER_SECOND, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** Busy and total CPU seconds of the whole machine (all cores), from /proc/stat. */
export function readMachineCpu(): { busySec: number; totalSec: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busySec: (total - idle) / TICKS_PER_SECOND, totalSec: total / TICKS_PER_SECOND };
}

/** CPU seconds of a process and all its descendants still alive (e.g. the broker's JVM under its watchdog). */
export function treeCpuSec(rootPid: number): number {
  let total = 0;
  for (const pid of descendants(rootPid)) total += readProcStat(pid)?.cpuSec ?? 0;
  return total;
}

function descendants(rootPid: number): number[] {
  const out = [rootPid];
  for (let i = 0; i < out.length; i++) {
    try {
      const children = readFileSync(`/proc/${out[i]}/task/${out[i]}/children`, 'utf8').trim();
      if (children !== '') out.push(...children.split(/\s+/).map(Number));
    } catch {
      // gone
    }
  }
  return out;
}
