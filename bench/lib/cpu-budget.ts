/**
 * What a throughput target leaves the gateway of the machine's CPU.
 *
 * In the firehose the load server (the bench process) and the broker work for every event
 * too, on the same cores as the gateway. At a rate R events/s the gateway may therefore
 * spend at most `cores / R` minus their share per event, however its work is spread over
 * threads. When that allowance is below what the gateway needs only to read and parse the
 * events (the A-event ingest, nothing published), no gateway design reaches the target on
 * this machine. ProducerPerformance has no such load: it makes its records in-process.
 */

/** The shares of the other processes, measured at the gateway's best sustained step. */
export interface BudgetStep {
  effectivePerSec: number;
  brokerCpuPct: number;
  benchCpuPct: number;
}

export interface BudgetTarget {
  name: string;
  eventsPerSec: number;
}

export interface TargetBudget {
  name: string;
  eventsPerSec: number;
  /** CPU µs per event left to the gateway at that rate, all its threads together. */
  gatewayUsAllowed: number;
  /** The gateway's measured cost fits the allowance. */
  fits: boolean;
  /** The allowance is below the cost of parsing alone: out of reach for any design. */
  belowIngestFloor: boolean;
}

export interface CpuBudget {
  cores: number;
  /** Broker and load server CPU µs per event, at the best sustained step. */
  othersUsPerEvent: number;
  gatewayUsPerEvent: number;
  ingestUsPerEvent: number;
  targets: TargetBudget[];
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** µs of CPU per event for a process busy `pct` % of one core at `perSec` events/s. */
const usPerEvent = (pct: number, perSec: number): number => ((pct / 100) * 1e6) / perSec;

export function cpuBudget(o: {
  cores: number;
  step: BudgetStep;
  /** Gateway CPU s per million AM events at that step (= µs per event). */
  gatewayUsPerEvent: number;
  /** Gateway CPU s per million A events, ingest only. */
  ingestUsPerEvent: number;
  targets: BudgetTarget[];
}): CpuBudget {
  const others = usPerEvent(o.step.brokerCpuPct + o.step.benchCpuPct, o.step.effectivePerSec);
  return {
    cores: o.cores,
    othersUsPerEvent: round2(others),
    gatewayUsPerEvent: o.gatewayUsPerEvent,
    ingestUsPerEvent: o.ingestUsPerEvent,
    targets: o.targets.map((t) => {
      const allowed = (o.cores * 1e6) / t.eventsPerSec - others;
      return {
        name: t.name,
        eventsPerSec: Math.round(t.eventsPerSec),
        gatewayUsAllowed: round2(allowed),
        fits: allowed >= o.gatewayUsPerEvent,
        belowIngestFloor: allowed < o.ingestUsPerEvent,
      };
    }),
  };
}
