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
  /**
   * RSS split: anonymous memory (heap, buffers, stacks: the process's own) and file-backed
   * pages (mostly the node binary's code, shared and reclaimable by the kernel).
   */
  rssAnonMb: number;
  rssFileMb: number;
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
    return {
      at: performance.now(),
      cpuSec: (utime + stime) / TICKS_PER_SECOND,
      rssMb: kb('VmRSS') / 1024,
      peakRssMb: kb('VmHWM') / 1024,
      rssAnonMb: kb('RssAnon') / 1024,
      rssFileMb: kb('RssFile') / 1024,
    };
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

export interface CpuShares {
  wallSec: number;
  /** CPU used over the interval, in % of one core. */
  gatewayPct: number;
  brokerPct: number;
  benchPct: number;
  /** Everything else on the machine (other people's processes): busy minus the three above. */
  othersPct: number;
  /** CPU seconds of the gateway over the interval. */
  gatewaySec: number;
  brokerSec: number;
}

/**
 * Who used the CPU between `start()` and `stop()`: the gateway, the broker, this bench
 * process, and everyone else (from the machine's total in /proc/stat).
 */
export function cpuMeter(gatewayPid: () => number | null, brokerCpuSec: () => number): { stop(): CpuShares } {
  const gw = (): number => {
    const pid = gatewayPid();
    return pid === null ? 0 : (readProcStat(pid)?.cpuSec ?? 0);
  };
  const t0 = performance.now();
  const m0 = readMachineCpu();
  const g0 = gw();
  const b0 = brokerCpuSec();
  const c0 = process.cpuUsage();
  return {
    stop() {
      const wallSec = Math.max(1e-6, (performance.now() - t0) / 1000);
      const m1 = readMachineCpu();
      const gatewaySec = gw() - g0;
      const brokerSec = brokerCpuSec() - b0;
      const c = process.cpuUsage(c0);
      const benchSec = (c.user + c.system) / 1e6;
      const othersSec = Math.max(0, m1.busySec - m0.busySec - gatewaySec - brokerSec - benchSec);
      const pct = (sec: number): number => Math.round((sec / wallSec) * 100);
      return { wallSec, gatewayPct: pct(gatewaySec), brokerPct: pct(brokerSec), benchPct: pct(benchSec), othersPct: pct(othersSec), gatewaySec, brokerSec };
    },
  };
}
