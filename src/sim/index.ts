/** Public API of the Polygon-protocol simulator. */

export { createSimClock } from './clock.ts';
export type { SimClock, SimClockOptions } from './clock.ts';
export {
  hash32,
  isSimMinuteEmpty,
  simCorrectedBar,
  simMinuteBar,
  simRestAggregate,
  simSecondBar,
} from './bars.ts';
export type { SimBarOptions } from './bars.ts';
export { startSimulator, WS_PATH } from './server.ts';
export type { Simulator, SimulatorOptions, WaitForOptions } from './server.ts';
export type { FaultKind, FaultLogEntry, FaultOutcome, PlanStep, RawFrame, SimFaults } from './faults.ts';
export { ALL_SYMBOLS } from './ledger.ts';
export type { BarState } from './ledger.ts';
export { barKey } from './stats.ts';
export type { AuthAttempt, AuthResult, SentBar, SentBarKind, SimStats } from './stats.ts';
export type { SimEventPayloads, SimEvents } from './events.ts';
export { CLOSE_POLICY, CLOSE_SLOW_CONSUMER, DISCONNECT_MESSAGE, MAX_CONNECTIONS_MESSAGE } from './session.ts';
export { marketStatusNow, marketStatusUpcoming, simSessionAt } from './market-status.ts';
export type { SimSession } from './market-status.ts';
export { silentLogger, toSimLogger } from './log.ts';
export type { SimLogger, SimLogSink } from './log.ts';
export { runSimulator } from './command.ts';
export type { RunSimulatorOptions } from './command.ts';
