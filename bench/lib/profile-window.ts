/** Time windows on the clock V8's CPU profiles use (CLOCK_MONOTONIC, microseconds). */

export interface Window {
  name: string;
  startUs: number;
  endUs: number;
}

/** Now on the monotonic clock shared by every process of the machine, in microseconds. */
export function monoUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** performance.now() (ms, this process) converted to monotonic microseconds. */
export function perfToMonoUs(perfMs: number): number {
  return monoUs() - (performance.now() - perfMs) * 1000;
}
