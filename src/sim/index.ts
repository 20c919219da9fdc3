/** What tests, the benchmark and the gateway's root use of the Polygon-protocol simulator. */

export { createSimClock } from './clock.ts';
export { isSimMinuteEmpty, simCorrectedBar, simMinuteBar, simRestAggregate, simSecondBar } from './bars.ts';
export { startSimulator } from './server.ts';
export type { Simulator, SimulatorOptions } from './server.ts';
export type { FaultLogEntry, RawFrame } from './faults.ts';
export type { SentBar } from './stats.ts';
export { CLOSE_POLICY, DISCONNECT_MESSAGE } from './messages.ts';
export { runSimulator } from './command.ts';
