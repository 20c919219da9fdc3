import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuBudget } from '../../bench/lib/cpu-budget.ts';

// A step at 50,000 events/s where broker and load server together keep half a core busy:
// 0.5 core / 50,000 events = 10 µs of their CPU per event.
const step = { effectivePerSec: 50_000, brokerCpuPct: 20, benchCpuPct: 30 };
const othersUs = (0.5 * 1e6) / 50_000;

test('a target leaves the gateway the cores per event minus what broker and load server spend', () => {
  const b = cpuBudget({
    cores: 2,
    step,
    gatewayUsPerEvent: 8,
    ingestUsPerEvent: 3,
    targets: [{ name: 'slow', eventsPerSec: 80_000 }],
  });
  assert.equal(b.othersUsPerEvent, othersUs);
  const allowed = (2 * 1e6) / 80_000 - othersUs; // 25 - 10 = 15 µs
  assert.deepEqual(b.targets, [{ name: 'slow', eventsPerSec: 80_000, gatewayUsAllowed: allowed, fits: true, belowIngestFloor: false }]);
});

test('a target whose allowance is under the parse-only cost is out of reach for any design', () => {
  const b = cpuBudget({
    cores: 2,
    step,
    gatewayUsPerEvent: 8,
    ingestUsPerEvent: 3,
    targets: [
      { name: 'tight', eventsPerSec: 125_000 }, // 16 - 10 = 6 µs: under 8, over 3
      { name: 'impossible', eventsPerSec: 160_000 }, // 12.5 - 10 = 2.5 µs: under 3
    ],
  });
  const [tight, impossible] = b.targets;
  assert.equal(tight?.gatewayUsAllowed, (2 * 1e6) / 125_000 - othersUs);
  assert.equal(tight?.fits, false);
  assert.equal(tight?.belowIngestFloor, false);
  assert.equal(impossible?.gatewayUsAllowed, (2 * 1e6) / 160_000 - othersUs);
  assert.equal(impossible?.fits, false);
  assert.equal(impossible?.belowIngestFloor, true);
});
